//! Rendering of a social report (`patto_core::social_report::SocialReport`) for the
//! public portal: SVG charts of each indicator (its trend over the years, and the
//! organisation against the coalition's median), each accessible (`<title>`, `<desc>`,
//! `role="img"`) and paired with an HTML table of the same figures; and a PDF of the
//! whole report with an embedded font that covers Italian (DejaVu Sans).
//!
//! Pure functions of a parsed report: this crate never knows the engine, the store, HTTP
//! or how a report was approved. The portal reads a published report through the
//! engine (`Engine::readable_report_version` as the public) and passes it here. The
//! charts are deterministic: the same report gives the same bytes.

mod chart;
mod labels;
mod pdf;

pub use chart::{ChartKind, chart_svg, figures_table_html};
pub use labels::{format_value, unit_label};
pub use pdf::report_pdf;

/// Why a chart or a PDF could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Drawing a chart failed.
    #[error("the chart could not be drawn: {0}")]
    Chart(String),
    /// Writing the PDF failed.
    #[error("the PDF could not be written: {0}")]
    Pdf(String),
}

/// Escapes text for HTML and XML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}
