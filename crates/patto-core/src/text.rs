//! Text shown to people: which characters it may not carry, and how to show the ones that
//! reach a terminal or a page anyway. Control characters (a newline, a carriage return,
//! terminal escape sequences) let a name forge extra lines or repaint the screen, and
//! bidirectional overrides make text read in an order other than the one stored, so a
//! name or a title could pass for something it is not.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Unicode's explicit bidirectional formatting characters: the embeddings and overrides
/// (U+202A to U+202E), the isolates (U+2066 to U+2069) and the marks (U+200E, U+200F,
/// U+061C). The line and paragraph separators (U+2028, U+2029) break lines in many
/// renderers, so they are refused with them.
fn is_bidi_or_separator(c: char) -> bool {
    matches!(
        c,
        '\u{202A}'..='\u{202E}'
            | '\u{2066}'..='\u{2069}'
            | '\u{200E}'
            | '\u{200F}'
            | '\u{061C}'
            | '\u{2028}'
            | '\u{2029}'
    )
}

/// Whether a character must never appear in one line of displayed text: the C0 and C1
/// control characters, DEL, the bidirectional controls and the Unicode line separators.
pub fn is_unsafe_in_line(c: char) -> bool {
    c.is_control() || is_bidi_or_separator(c)
}

/// The first character of `text` that one line of displayed text may not carry.
pub fn first_unsafe_in_line(text: &str) -> Option<char> {
    text.chars().find(|&c| is_unsafe_in_line(c))
}

/// The first character that text of several lines (a comment) may not carry: the same
/// as for one line, except the line feed, the tab and a carriage return that ends a line
/// (as browsers send text areas).
pub fn first_unsafe_in_lines(text: &str) -> Option<char> {
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let allowed = c == '\n' || c == '\t' || (c == '\r' && chars.peek() == Some(&'\n'));
        if !allowed && is_unsafe_in_line(c) {
            return Some(c);
        }
    }
    None
}

/// How a character is named in messages: `U+001B`.
pub fn code_point(c: char) -> String {
    format!("U+{:04X}", u32::from(c))
}

/// The text with every character unsafe in one line written as a Rust-style escape
/// (`\u{1b}`), and backslashes doubled so an escape cannot be faked: what is printed is
/// then one line that reads in stored order, whatever the text holds.
pub fn escape_line(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c == '\\' || is_unsafe_in_line(c)) {
        return Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c == '\\' {
            escaped.push_str("\\\\");
        } else if is_unsafe_in_line(c) {
            // Writing to a String cannot fail.
            let _ = write!(escaped, "\\u{{{:x}}}", u32::from(c));
        } else {
            escaped.push(c);
        }
    }
    Cow::Owned(escaped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_bidi_and_separators_are_unsafe_in_a_line() {
        for c in [
            '\n', '\r', '\t', '\u{0}', '\u{1b}', '\u{7f}', '\u{85}', '\u{9b}', '\u{202e}',
            '\u{202a}', '\u{2066}', '\u{2069}', '\u{200f}', '\u{61c}', '\u{2028}',
        ] {
            assert!(is_unsafe_in_line(c), "{c:?}");
        }
        for c in ['a', 'à', 'ù', '€', '—', '«', ' ', '\'', '"', 'Ω', '中'] {
            assert!(!is_unsafe_in_line(c), "{c:?}");
        }
        assert_eq!(first_unsafe_in_line("Comune di Cefalù"), None);
        assert_eq!(first_unsafe_in_line("A\u{1b}[2K"), Some('\u{1b}'));
    }

    #[test]
    fn several_lines_allow_line_feeds_tabs_and_crlf_only() {
        assert_eq!(first_unsafe_in_lines("uno\r\ndue\n\ttre"), None);
        assert_eq!(first_unsafe_in_lines("uno\rdue"), Some('\r'));
        assert_eq!(first_unsafe_in_lines("uno\r"), Some('\r'));
        assert_eq!(first_unsafe_in_lines("x\u{202d}y"), Some('\u{202d}'));
        assert_eq!(first_unsafe_in_lines("x\u{1b}]8;;"), Some('\u{1b}'));
    }

    #[test]
    fn escaping_keeps_one_line_in_stored_order_and_cannot_be_faked() {
        assert!(matches!(escape_line("Città di Cefalù"), Cow::Borrowed(_)));
        assert_eq!(
            escape_line("a\n- b\u{1b}[0m \u{202e}c"),
            "a\\u{a}- b\\u{1b}[0m \\u{202e}c"
        );
        // A literal backslash sequence stays distinguishable from an escape.
        assert_eq!(escape_line("a\\u{a}b"), "a\\\\u{a}b");
        assert_eq!(code_point('\u{1b}'), "U+001B");
    }
}
