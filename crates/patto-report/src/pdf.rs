//! The PDF of a whole social report: A4 pages, DejaVu Sans embedded (it covers every
//! Italian accented letter and the euro sign), every section's narrative, indicator
//! figures and goals as text, so that the PDF can be searched and read aloud.

use std::io::Cursor;

use patto_core::social_report::{IndicatorTable, SocialReport};
use printpdf::{IndirectFontRef, Mm, PdfDocument, PdfDocumentReference, PdfLayerReference};

use crate::ReportError;
use crate::labels::{self, format_value, unit_label};

/// DejaVu Sans (free licence, `fonts/LICENSE-DejaVu.txt`).
const FONT: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");

const PAGE_WIDTH: f32 = 210.0;
const PAGE_HEIGHT: f32 = 297.0;
const MARGIN: f32 = 20.0;
/// Characters per line of body text at 10 pt within the margins: DejaVu Sans averages
/// about 0.55 em a character, and a margin of error keeps long words inside the page.
const BODY_CHARACTERS: usize = 84;

struct Writer {
    document: PdfDocumentReference,
    font: IndirectFontRef,
    layer: PdfLayerReference,
    y: f32,
    pages: usize,
}

impl Writer {
    fn new_page(&mut self) {
        self.pages += 1;
        let (page, layer) = self.document.add_page(
            Mm(PAGE_WIDTH),
            Mm(PAGE_HEIGHT),
            format!("Pagina {}", self.pages),
        );
        self.layer = self.document.get_page(page).get_layer(layer);
        self.y = PAGE_HEIGHT - MARGIN;
    }

    /// Writes one line at `size` points, starting a new page when this one is full.
    fn line(&mut self, text: &str, size: f32, indent: f32) {
        let height = size * 0.3528 * 1.45;
        if self.y - height < MARGIN {
            self.new_page();
        }
        self.y -= height;
        self.layer
            .use_text(text, size, Mm(MARGIN + indent), Mm(self.y), &self.font);
    }

    /// Writes a paragraph wrapped at spaces.
    fn paragraph(&mut self, text: &str, size: f32, indent: f32) {
        let width = (BODY_CHARACTERS as f32 * 10.0 / size) as usize;
        for line in wrap(text, width.saturating_sub(indent as usize / 2)) {
            self.line(&line, size, indent);
        }
    }

    fn gap(&mut self, mm: f32) {
        self.y -= mm;
    }
}

/// The PDF of a report: its title, then for each section its name, narrative, indicator
/// figures (every value and every median, with the unit, the trend and the source) and
/// goals. Markdown is shown as plain text (markers removed).
pub fn report_pdf(report: &SocialReport) -> Result<Vec<u8>, ReportError> {
    let (document, page, layer) =
        PdfDocument::new(&report.title, Mm(PAGE_WIDTH), Mm(PAGE_HEIGHT), "Pagina 1");
    let font = document
        .add_external_font(Cursor::new(FONT))
        .map_err(|error| ReportError::Pdf(error.to_string()))?;
    let layer = document.get_page(page).get_layer(layer);
    let mut writer = Writer {
        document,
        font,
        layer,
        y: PAGE_HEIGHT - MARGIN,
        pages: 1,
    };
    writer.paragraph(&report.title, 18.0, 0.0);
    writer.line(
        &format!("{} {}", labels::MODEL_VERSION, report.model_version),
        9.0,
        0.0,
    );
    for section in &report.sections {
        writer.gap(6.0);
        writer.paragraph(&section.name.it, 15.0, 0.0);
        writer.gap(2.0);
        writer.line(labels::NARRATIVE, 12.0, 0.0);
        if section.narrative.trim().is_empty() {
            writer.paragraph(labels::NOT_DRAFTED, 10.0, 0.0);
        }
        for paragraph in plain_paragraphs(&section.narrative) {
            writer.paragraph(&paragraph, 10.0, 0.0);
        }
        writer.gap(2.0);
        writer.line(labels::INDICATORS, 12.0, 0.0);
        for table in &section.indicators {
            indicator(&mut writer, table, &report.subject.name);
        }
        writer.gap(2.0);
        writer.line(labels::GOALS, 12.0, 0.0);
        if section.goals.trim().is_empty() {
            writer.paragraph(labels::NOT_DRAFTED, 10.0, 0.0);
        }
        for paragraph in plain_paragraphs(&section.goals) {
            writer.paragraph(&paragraph, 10.0, 0.0);
        }
    }
    writer
        .document
        .save_to_bytes()
        .map_err(|error| ReportError::Pdf(error.to_string()))
}

fn indicator(writer: &mut Writer, table: &IndicatorTable, subject: &str) {
    let unit = unit_label(table.unit);
    writer.gap(1.5);
    writer.paragraph(
        &format!("{} {} ({unit})", table.code, table.name.it),
        10.5,
        2.0,
    );
    writer.paragraph(
        &format!(
            "{}: {}; {}",
            labels::TREND,
            table.trend.label_it(),
            labels::polarity_label(table.polarity)
        ),
        9.0,
        6.0,
    );
    if table.values.is_empty() && table.coalition_median.is_empty() {
        writer.line(labels::NO_DATA, 9.0, 6.0);
    }
    for value in &table.values {
        writer.line(
            &format!(
                "{} {}: {} {unit}",
                subject,
                value.year,
                format_value(&value.value)
            ),
            9.0,
            6.0,
        );
    }
    for median in &table.coalition_median {
        writer.line(
            &format!(
                "{} {} ({} Comuni): {} {unit}",
                labels::MEDIAN,
                median.year,
                median.comuni,
                format_value(&median.median)
            ),
            9.0,
            6.0,
        );
    }
    writer.paragraph(&format!("{}: {}", labels::SOURCE, table.source), 8.0, 6.0);
}

/// Markdown as plain paragraphs: heading marks, emphasis and list bullets removed, one
/// paragraph per non-empty line.
fn plain_paragraphs(markdown: &str) -> Vec<String> {
    markdown
        .lines()
        .map(|line| {
            let line = line.trim();
            let line = line.trim_start_matches('#').trim_start();
            let line = line
                .strip_prefix("- ")
                .or_else(|| line.strip_prefix("* "))
                .map_or_else(|| line.to_owned(), |item| format!("• {item}"));
            line.replace("**", "").replace("__", "").replace('`', "")
        })
        .filter(|line| !line.is_empty())
        .collect()
}

/// Splits text into lines of at most `width` characters at spaces; a longer word gets a
/// line of its own, cut at `width`.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(10);
    let mut lines = Vec::new();
    let mut current = String::new();
    for word in text.split_whitespace() {
        let mut word: Vec<char> = word.chars().collect();
        while word.len() > width {
            if !current.is_empty() {
                lines.push(std::mem::take(&mut current));
            }
            lines.push(word.drain(..width).collect());
        }
        let word: String = word.into_iter().collect();
        let needed =
            current.chars().count() + usize::from(!current.is_empty()) + word.chars().count();
        if needed > width && !current.is_empty() {
            lines.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(&word);
    }
    if !current.is_empty() {
        lines.push(current);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_wraps_at_spaces_and_cuts_only_overlong_words() {
        assert_eq!(
            wrap("uno due tre quattro cinque", 10),
            ["uno due", "tre", "quattro", "cinque"]
        );
        assert_eq!(wrap(&"x".repeat(25), 10).len(), 3);
        assert!(wrap("", 10).is_empty());
    }

    #[test]
    fn markdown_markers_are_removed() {
        assert_eq!(
            plain_paragraphs("# Titolo\n\n**grassetto** e `codice`\n- voce"),
            ["Titolo", "grassetto e codice", "• voce"]
        );
    }
}
