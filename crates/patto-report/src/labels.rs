//! Every text this crate writes for readers, in Italian (the portal's language).

use patto_core::reporting::{Decimal, Polarity, Unit};

/// The unit as a reader expects it after a number.
pub fn unit_label(unit: Unit) -> &'static str {
    match unit {
        Unit::Percent => "%",
        Unit::Count => "n.",
        Unit::Euro => "€",
        Unit::EuroPerInhabitant => "€ per abitante",
        Unit::KgPerInhabitant => "kg per abitante",
        Unit::PerThousandInhabitants => "per 1.000 abitanti",
        Unit::Kilowatt => "kW",
        Unit::Days => "giorni",
    }
}

/// A value as Italian readers write it: a decimal comma.
pub fn format_value(value: &Decimal) -> String {
    value.as_str().replace('.', ",")
}

/// How the polarity reads.
pub(crate) fn polarity_label(polarity: Polarity) -> &'static str {
    match polarity {
        Polarity::HigherIsBetter => "valori più alti sono migliori",
        Polarity::LowerIsBetter => "valori più bassi sono migliori",
    }
}

pub(crate) const YEAR: &str = "Anno";
pub(crate) const VALUE: &str = "Valore";
pub(crate) const MEDIAN: &str = "Mediana dei Comuni";
pub(crate) const NO_DATA: &str = "nessun dato";
pub(crate) const TREND: &str = "Andamento";
pub(crate) const NARRATIVE: &str = "Rendiconto";
pub(crate) const GOALS: &str = "Obiettivi per l'anno successivo";
pub(crate) const INDICATORS: &str = "Indicatori";
pub(crate) const SOURCE: &str = "Fonte";
pub(crate) const MODEL_VERSION: &str = "Modello di rendicontazione, versione";
pub(crate) const NOT_DRAFTED: &str = "Sezione non ancora redatta.";
