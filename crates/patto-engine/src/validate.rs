//! Checks on user input shared by the services.

use crate::EngineError;

/// Slugs are the human-readable keys in URLs and commands: lower-case letters, digits and
/// single hyphens.
pub(crate) fn slug(what: &str, value: &str) -> Result<(), EngineError> {
    let well_formed = !value.is_empty()
        && value.len() <= 80
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !value.starts_with('-')
        && !value.ends_with('-')
        && !value.contains("--");
    if well_formed {
        Ok(())
    } else {
        Err(EngineError::Validation(format!(
            "the {what} slug '{value}' is not valid: use 1 to 80 lower-case letters, digits and single hyphens, e.g. 'patto-sicurezza-legalita'"
        )))
    }
}

/// One line of text shown to people (a name, a title, a reason): not empty, and without
/// control characters or bidirectional overrides, which could forge lines or reorder what
/// a terminal or a page shows.
pub(crate) fn display_line(what: &str, value: &str) -> Result<(), EngineError> {
    non_empty(what, value)?;
    refuse_unsafe(what, patto_core::text::first_unsafe_in_line(value))
}

/// Text of several lines shown to people (a comment, a commitment): like
/// [`display_line`], but line breaks and tabs are allowed.
pub(crate) fn display_lines(what: &str, value: &str) -> Result<(), EngineError> {
    non_empty(what, value)?;
    refuse_unsafe(what, patto_core::text::first_unsafe_in_lines(value))
}

fn non_empty(what: &str, value: &str) -> Result<(), EngineError> {
    if value.trim().is_empty() {
        Err(EngineError::Validation(format!(
            "the {what} is empty: give a {what}"
        )))
    } else {
        Ok(())
    }
}

fn refuse_unsafe(what: &str, found: Option<char>) -> Result<(), EngineError> {
    match found {
        None => Ok(()),
        Some(c) => Err(EngineError::Validation(format!(
            "the {what} contains the invisible control character {}, which is not allowed in text shown to people: retype it without line breaks, tabs, escape codes or direction marks",
            patto_core::text::code_point(c)
        ))),
    }
}

pub(crate) fn email(value: &str) -> Result<(), EngineError> {
    let well_formed = match value.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !value.contains(char::is_whitespace)
                && patto_core::text::first_unsafe_in_line(value).is_none()
                && !domain.contains('@')
        }
        None => false,
    };
    if well_formed {
        Ok(())
    } else {
        Err(EngineError::Validation(format!(
            "'{value}' is not an e-mail address: write it as name@example.org"
        )))
    }
}

/// ISTAT municipality codes are six digits and must stay strings: leading zeros matter.
pub(crate) fn istat_code(value: &str) -> Result<(), EngineError> {
    if value.len() == 6 && value.chars().all(|c| c.is_ascii_digit()) {
        Ok(())
    } else {
        Err(EngineError::Validation(format!(
            "the ISTAT code '{value}' is not valid: it has exactly six digits, e.g. '082027' for Cefalù"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert!(slug("document", "patto-sicurezza-legalita").is_ok());
        assert!(slug("document", "p2").is_ok());
        for bad in ["", "Patto", "a--b", "-a", "a-", "a b", "à"] {
            assert!(slug("document", bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn displayed_text() {
        assert!(display_line("name", "Anna Rossi-D'Alì").is_ok());
        assert!(display_lines("comment", "Riga uno.\r\nRiga due.\n\t- punto").is_ok());
        for bad in ["", " ", "a\nb", "a\u{1b}[0m", "a\u{202e}b", "a\u{2028}b"] {
            assert!(display_line("name", bad).is_err(), "{bad:?} accepted");
        }
        for bad in ["\n", "a\rb", "a\u{1b}b", "a\u{2067}b"] {
            assert!(display_lines("comment", bad).is_err(), "{bad:?} accepted");
        }
        let message = display_line("name", "a\u{1b}").unwrap_err().to_string();
        assert!(message.contains("U+001B"), "{message}");
    }

    #[test]
    fn emails() {
        assert!(email("sindaco@cefalu.example.org").is_ok());
        for bad in [
            "",
            "a",
            "a@b",
            "@b.org",
            "a b@c.org",
            "a@.org",
            "a@b@c.org",
            "a\u{1b}@b.org",
            "a@b\u{202e}.org",
        ] {
            assert!(email(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn istat_codes() {
        assert!(istat_code("082027").is_ok());
        for bad in ["82027", "0820270", "08202a"] {
            assert!(istat_code(bad).is_err(), "{bad:?} accepted");
        }
    }
}
