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

pub(crate) fn non_empty(what: &str, value: &str) -> Result<(), EngineError> {
    if value.trim().is_empty() {
        Err(EngineError::Validation(format!(
            "the {what} is empty: give a {what}"
        )))
    } else {
        Ok(())
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
    fn emails() {
        assert!(email("sindaco@cefalu.example.org").is_ok());
        for bad in ["", "a", "a@b", "@b.org", "a b@c.org", "a@.org", "a@b@c.org"] {
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
