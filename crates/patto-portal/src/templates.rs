//! The page templates, built into the binary. They are parsed when first used, so that
//! a broken template fails its page (and the tests that render every page type), never
//! the server's start. Values are escaped as HTML; an undefined value is an error.

use std::fmt::Write as _;

use minijinja::{AutoEscape, Environment, Output, State, UndefinedBehavior, Value};

use crate::Portal;
use crate::error::PortalError;

/// (name, source) of every template.
const TEMPLATES: &[(&str, &str)] = &[
    ("layout.html", include_str!("../templates/layout.html")),
    ("macros.html", include_str!("../templates/macros.html")),
    ("home.html", include_str!("../templates/home.html")),
    ("comuni.html", include_str!("../templates/comuni.html")),
    ("comune.html", include_str!("../templates/comune.html")),
    (
        "pact_index.html",
        include_str!("../templates/pact_index.html"),
    ),
    ("document.html", include_str!("../templates/document.html")),
    (
        "diagnosis.html",
        include_str!("../templates/diagnosis.html"),
    ),
    (
        "open_data.html",
        include_str!("../templates/open_data.html"),
    ),
    ("text.html", include_str!("../templates/text.html")),
    (
        "consultation_form.html",
        include_str!("../templates/consultation_form.html"),
    ),
    (
        "consultation_message.html",
        include_str!("../templates/consultation_message.html"),
    ),
    (
        "consultation_results.html",
        include_str!("../templates/consultation_results.html"),
    ),
    ("failure.html", include_str!("../templates/failure.html")),
    (
        "report_list.html",
        include_str!("../templates/report_list.html"),
    ),
    ("reports.html", include_str!("../templates/reports.html")),
    ("report.html", include_str!("../templates/report.html")),
];

/// The template environment: built-in sources, HTML escaping, strict undefined values.
pub fn environment() -> Environment<'static> {
    let mut environment = Environment::new();
    environment.set_undefined_behavior(UndefinedBehavior::Strict);
    // Long texts keep their paragraphs apart with blank lines.
    environment.add_filter("paragraphs", |text: String| -> Vec<String> {
        text.split("\n\n").map(str::to_owned).collect()
    });
    environment.set_formatter(escape_html);
    environment.set_loader(|name| {
        Ok(TEMPLATES
            .iter()
            .find(|(known, _)| *known == name)
            .map(|(_, source)| (*source).to_owned()))
    });
    environment
}

/// Writes a value into HTML: text is escaped (`&`, `<`, `>`, `"`, `'`), but unlike
/// minijinja's default `/` is left alone, so that addresses read as written.
fn escape_html(out: &mut Output, state: &State, value: &Value) -> Result<(), minijinja::Error> {
    match (state.auto_escape(), value.as_str()) {
        (AutoEscape::Html, Some(text)) if !value.is_safe() => {
            for c in text.chars() {
                let written = match c {
                    '&' => out.write_str("&amp;"),
                    '<' => out.write_str("&lt;"),
                    '>' => out.write_str("&gt;"),
                    '"' => out.write_str("&quot;"),
                    '\'' => out.write_str("&#x27;"),
                    other => out.write_char(other),
                };
                written.map_err(minijinja::Error::from)?;
            }
            Ok(())
        }
        _ => minijinja::escape_formatter(out, state, value),
    }
}

impl Portal {
    /// Renders a template with a context.
    pub(crate) fn render_template(
        &self,
        name: &str,
        context: &serde_json::Value,
    ) -> Result<String, PortalError> {
        let failed = |source| PortalError::Template {
            name: name.to_owned(),
            source,
        };
        self.templates
            .get_template(name)
            .and_then(|template| template.render(Value::from_serialize(context)))
            .map_err(failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_but_addresses_keep_their_slashes() {
        let mut environment = environment();
        environment
            .add_template("probe.html", "<a href=\"{{ href }}\">{{ text }}</a>")
            .unwrap();
        let html = environment
            .get_template("probe.html")
            .unwrap()
            .render(minijinja::context! { href => "/comuni/x?a=1&b=\"2\"", text => "<b>'x'</b>" })
            .unwrap();
        assert_eq!(
            html,
            "<a href=\"/comuni/x?a=1&amp;b=&quot;2&quot;\">&lt;b&gt;&#x27;x&#x27;&lt;/b&gt;</a>"
        );
    }

    #[test]
    fn every_template_parses() {
        let environment = environment();
        for (name, _) in TEMPLATES {
            if let Err(error) = environment.get_template(name) {
                panic!("{name}: {error:#}");
            }
        }
    }
}
