//! The iCalendar (RFC 5545) event attached to mail that announces a review date: one
//! `VEVENT` published (`METHOD:PUBLISH`) with its start in UTC, so that no `VTIMEZONE`
//! is needed and every calendar shows it at the right local time. Lines end with CRLF
//! and are folded at 75 octets, never inside a UTF-8 character; text values are
//! escaped. The UID names the review, not the message, so that the mail of every
//! recipient and every repeated delivery update the same event.

use chrono::{DateTime, Utc};

/// The longest content line, in octets, before it is folded (RFC 5545, 3.1).
const LINE_OCTETS: usize = 75;

/// What the event says.
pub(crate) struct Event<'a> {
    /// Stable for the review: `review-ID@HOST`.
    pub(crate) uid: &'a str,
    /// When the review is scheduled.
    pub(crate) start: DateTime<Utc>,
    /// When this copy of the event was made.
    pub(crate) stamp: DateTime<Utc>,
    /// The event's title, in the recipient's language.
    pub(crate) summary: &'a str,
    /// The document's page.
    pub(crate) url: &'a str,
}

impl Event<'_> {
    /// The `VCALENDAR` text, ready to attach as `text/calendar; method=PUBLISH`.
    pub(crate) fn to_ics(&self) -> String {
        let utc = |at: DateTime<Utc>| at.format("%Y%m%dT%H%M%SZ").to_string();
        let lines = [
            "BEGIN:VCALENDAR".to_owned(),
            "VERSION:2.0".to_owned(),
            "PRODID:-//Patto//Patto//IT".to_owned(),
            "CALSCALE:GREGORIAN".to_owned(),
            "METHOD:PUBLISH".to_owned(),
            "BEGIN:VEVENT".to_owned(),
            format!("UID:{}", escape(self.uid)),
            format!("DTSTAMP:{}", utc(self.stamp)),
            format!("DTSTART:{}", utc(self.start)),
            // A review is announced for a moment, not a meeting of known length: an hour
            // marks it in the calendar.
            format!("DTEND:{}", utc(self.start + chrono::Duration::hours(1))),
            format!("SUMMARY:{}", escape(self.summary)),
            format!("URL:{}", self.url),
            "END:VEVENT".to_owned(),
            "END:VCALENDAR".to_owned(),
        ];
        lines.iter().map(|line| fold(line)).collect()
    }
}

/// A TEXT value with backslashes, semicolons, commas and line breaks escaped
/// (RFC 5545, 3.3.11).
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => escaped.push_str("\\\\"),
            ';' => escaped.push_str("\\;"),
            ',' => escaped.push_str("\\,"),
            '\n' => escaped.push_str("\\n"),
            '\r' => {}
            other => escaped.push(other),
        }
    }
    escaped
}

/// One content line with its CRLF, folded so that no physical line passes 75 octets:
/// each continuation starts with a space, which counts towards its 75.
fn fold(line: &str) -> String {
    let mut folded = String::with_capacity(line.len() + 8);
    let mut octets = 0;
    for c in line.chars() {
        if octets + c.len_utf8() > LINE_OCTETS {
            folded.push_str("\r\n ");
            octets = 1;
        }
        folded.push(c);
        octets += c.len_utf8();
    }
    folded.push_str("\r\n");
    folded
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unfold(text: &str) -> String {
        text.replace("\r\n ", "")
    }

    #[test]
    fn long_lines_fold_at_75_octets_without_splitting_a_character() {
        let summary = format!(
            "Verifica: «{}»",
            "Patto per la sicurezza è legalità ".repeat(5)
        );
        let event = Event {
            uid: "review-7@patto.example.org",
            start: "2026-07-01T07:00:00Z".parse().unwrap(),
            stamp: "2026-06-30T10:00:00Z".parse().unwrap(),
            summary: &summary,
            url: "https://patto.example.org/documents/patto-2026",
        };
        let ics = event.to_ics();
        assert!(ics.ends_with("END:VCALENDAR\r\n"));
        for line in ics.split("\r\n") {
            assert!(line.len() <= 75, "{} octets: {line:?}", line.len());
        }
        // Every line break is a CRLF, and unfolding gives back the whole value.
        assert!(!ics.replace("\r\n", "").contains('\n'));
        assert!(unfold(&ics).contains(&format!("SUMMARY:{summary}\r\n")));
        assert!(ics.contains("DTSTART:20260701T070000Z\r\n"), "{ics}");
        assert!(ics.contains("DTEND:20260701T080000Z\r\n"), "{ics}");
    }

    #[test]
    fn text_values_are_escaped() {
        assert_eq!(escape("a,b;c\\d\ne"), "a\\,b\\;c\\\\d\\ne");
    }
}
