//! Markdown written by the Comuni's offices (a report's narrative and goals), rendered
//! to HTML that can be put in a page as it is. The text comes from people outside the
//! portal, so nothing in it may become markup of its own: raw HTML is shown as text,
//! links leave the page only as text (the portal links to no other host, and a
//! `javascript:` address is never an address), images become their description, and
//! headings are moved under the heading of the part of the page they appear in.

use pulldown_cmark::{CowStr, Event, HeadingLevel, LinkType, Options, Parser, Tag, TagEnd};

/// Markdown as safe HTML whose headings come below a heading of level `under` (2 for
/// text under an `<h2>`): the first heading level of the text becomes `under + 1`, and
/// no heading is ever more than one level deeper than the one before it, so that the
/// page's outline has no gaps whatever levels the author used.
pub fn to_html(markdown: &str, under: u8) -> String {
    let mut events = Vec::new();
    // For each link being written: `None` when it is kept as a link, or the text to
    // write after its words (its address, for addresses of other hosts) when it is not.
    let mut links: Vec<Option<String>> = Vec::new();
    let mut previous = under;
    let mut heading = HeadingLevel::H1;
    for event in Parser::new_ext(markdown, Options::empty()) {
        match event {
            Event::Html(text) | Event::InlineHtml(text) => events.push(Event::Text(text)),
            Event::Start(Tag::HtmlBlock) => events.push(Event::Start(Tag::Paragraph)),
            Event::End(TagEnd::HtmlBlock) => events.push(Event::End(TagEnd::Paragraph)),
            Event::Start(Tag::Heading { level, .. }) => {
                let wanted = under.saturating_add(level as u8);
                let level = wanted.min(previous.saturating_add(1)).clamp(1, 6);
                previous = level;
                heading = HeadingLevel::try_from(usize::from(level)).unwrap_or(HeadingLevel::H6);
                events.push(Event::Start(Tag::Heading {
                    level: heading,
                    id: None,
                    classes: Vec::new(),
                    attrs: Vec::new(),
                }));
            }
            Event::End(TagEnd::Heading(_)) => events.push(Event::End(TagEnd::Heading(heading))),
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }) => match Destination::of(&dest_url) {
                Destination::ThisSite => {
                    links.push(None);
                    events.push(Event::Start(Tag::Link {
                        link_type,
                        dest_url,
                        title,
                        id,
                    }));
                }
                Destination::OtherHost if link_type != LinkType::Autolink => {
                    links.push(Some(format!(" ({dest_url})")));
                }
                Destination::OtherHost | Destination::Refused => links.push(Some(String::new())),
            },
            Event::End(TagEnd::Link) => match links.pop() {
                Some(None) => events.push(Event::End(TagEnd::Link)),
                Some(Some(after)) if !after.is_empty() => {
                    events.push(Event::Text(CowStr::from(after)));
                }
                Some(Some(_)) | None => {}
            },
            // An image would be fetched from wherever it points: its description stays.
            Event::Start(Tag::Image { .. }) | Event::End(TagEnd::Image) => {}
            other => events.push(other),
        }
    }
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, events.into_iter());
    html
}

/// Where a link in a report's text points.
enum Destination {
    /// A page of this site, by its path.
    ThisSite,
    /// Another host, by an address a reader can copy (`http`, `https`, `mailto`).
    OtherHost,
    /// Anything else (`javascript:`, `data:`, relative paths): not shown at all.
    Refused,
}

impl Destination {
    fn of(address: &str) -> Destination {
        let lower = address.trim().to_ascii_lowercase();
        if address.starts_with('/') && !address.starts_with("//") && !address.contains('\\') {
            Destination::ThisSite
        } else if ["https://", "http://", "mailto:"]
            .iter()
            .any(|scheme| lower.starts_with(scheme))
        {
            Destination::OtherHost
        } else {
            Destination::Refused
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_becomes_html() {
        let html = to_html("Un *testo* con **forza**.\n\n- uno\n- due", 3);
        assert!(html.contains("<em>testo</em>"));
        assert!(html.contains("<strong>forza</strong>"));
        assert!(html.contains("<li>uno</li>"));
    }

    #[test]
    fn raw_html_is_shown_as_text() {
        let html = to_html(
            "<script>alert(1)</script>\n\nTesto <img src=x onerror=alert(2)> e <b>grassetto</b>",
            3,
        );
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("<b>"), "{html}");
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{html}"
        );
        assert!(
            html.contains("&lt;img src=x onerror=alert(2)&gt;"),
            "{html}"
        );
    }

    #[test]
    fn only_links_to_this_site_stay_links() {
        let html = to_html(
            "[uno](javascript:alert(1)) [due](JavaScript:alert(2)) [tre](data:text/html,x) \
             [quattro](https://www.istat.it/) [cinque](/comuni/cefalu) [sei](//evil.example.org) \
             <javascript:alert(3)> ![foto](https://evil.example.org/x.png)",
            3,
        );
        // An autolink's words may stay as words; no address runs script.
        assert!(
            !html.to_ascii_lowercase().contains("href=\"javascript"),
            "{html}"
        );
        assert!(!html.contains("javascript:alert(1)"), "{html}");
        assert!(!html.contains("data:"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("href=\"//"), "{html}");
        assert!(!html.contains("href=\"https"), "{html}");
        assert_eq!(html.matches("<a ").count(), 1, "{html}");
        assert!(
            html.contains("<a href=\"/comuni/cefalu\">cinque</a>"),
            "{html}"
        );
        assert!(html.contains("quattro (https://www.istat.it/)"), "{html}");
        assert!(html.contains("uno") && html.contains("foto"), "{html}");
    }

    #[test]
    fn headings_go_under_the_page_heading_without_gaps() {
        let html = to_html("### Terzo\n\n# Primo\n\n###### Sesto", 3);
        assert!(html.contains("<h4>Terzo</h4>"), "{html}");
        assert!(html.contains("<h4>Primo</h4>"), "{html}");
        assert!(html.contains("<h5>Sesto</h5>"), "{html}");
        let html = to_html("# Uno\n\n## Due", 5);
        assert!(
            html.contains("<h6>Uno</h6>") && html.contains("<h6>Due</h6>"),
            "{html}"
        );
    }
}
