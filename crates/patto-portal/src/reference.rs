//! The reference data about the 28 Comuni that the directory does not hold: province and
//! resident population, from the same file the demo loads the Comuni from (see
//! `crates/patto/data/README.md` for its source).

use std::collections::BTreeMap;

/// The reference file, built in.
const COMUNI_CSV: &str = include_str!("../../patto/data/comuni-madonie-termini.csv");

/// What the reference data says of one Comune.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ComuneFacts {
    /// Its province.
    pub province: String,
    /// Resident population in 2021 (ISTAT).
    pub population: u64,
}

/// The facts of every Comune of the reference file, by ISTAT code. A line that cannot be
/// read is left out and logged: the pages then show the Comune without a population.
pub fn comuni_by_istat_code() -> BTreeMap<String, ComuneFacts> {
    let mut reader = csv::Reader::from_reader(COMUNI_CSV.as_bytes());
    let mut facts = BTreeMap::new();
    for (line, record) in reader.records().enumerate() {
        let parsed = record.ok().and_then(|record| {
            let code = record.get(1)?.to_owned();
            let province = record.get(2)?.to_owned();
            let population = record.get(6)?.parse().ok()?;
            Some((
                code,
                ComuneFacts {
                    province,
                    population,
                },
            ))
        });
        match parsed {
            Some((code, comune)) => {
                facts.insert(code, comune);
            }
            None => tracing::warn!(
                line = line + 2,
                "unreadable line in the Comuni reference data"
            ),
        }
    }
    facts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_comune_has_its_population() {
        let facts = comuni_by_istat_code();
        assert_eq!(facts.len(), 28);
        let cefalu = &facts["082027"];
        assert_eq!(cefalu.province, "Palermo");
        assert!(cefalu.population > 10_000);
    }
}
