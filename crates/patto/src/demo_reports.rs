//! The social-reporting part of `patto demo`: survey values for the coalition and its 28
//! Comuni over three years, and a published Bilancio Sociale for the coalition and for
//! three Comuni, made through the same engine services people use (import, create,
//! draft per area, assemble, submit, approve or adopt, publish).
//!
//! Every survey figure here is generated and labelled as demo data (its source and note
//! say so); the only real figure is each Comune's resident population, quoted in the
//! narrative with its source (ISTAT 2021, through the reference data in `data/`).

use anyhow::Context;
use patto_core::ids::{DocumentId, NetworkId, OrganisationId, PersonId};
use patto_core::records::Organisation;
use patto_core::reporting::{Model, Unit};
use patto_core::social_report::SectionText;
use patto_core::{Language, OrganisationCategory, Role};
use patto_engine::{Actor, Engine, NewSocialReport, SurveyFormat, SurveyImport};

use crate::demo::{COMUNI_CSV, fire, slugify};

/// The years of the demo survey; the reports cover the last one.
const YEARS: [i32; 3] = [2022, 2023, 2024];
/// The Comuni that publish a report in the demo, by slug.
const REPORTING_COMUNI: [&str; 3] = ["cefalu", "termini-imerese", "petralia-sottana"];
const DEMO_SOURCE: &str = "Dati dimostrativi generati da patto demo (non reali)";

/// What was loaded.
pub struct Loaded {
    /// Survey values imported.
    pub values: usize,
    /// Social reports published.
    pub reports: usize,
}

/// Loads the survey and publishes the reports. `coordinator` coordinates the coalition.
pub async fn load(
    engine: &Engine,
    model: &Model,
    coalition: &Organisation,
    organisations: &[Organisation],
    coordinator: PersonId,
    network: NetworkId,
) -> anyhow::Result<Loaded> {
    let coordinating = Actor::Person(coordinator);
    let mut surveyed: Vec<&Organisation> = vec![coalition];
    surveyed.extend(
        organisations
            .iter()
            .filter(|o| o.category == OrganisationCategory::Municipality.as_str()),
    );
    let csv = survey_csv(model, &surveyed);
    let summary = engine
        .import_survey(
            coordinating,
            SurveyImport {
                bytes: csv.into_bytes(),
                format: SurveyFormat::Csv,
                organisation: None,
            },
        )
        .await?;
    let decision_body = decision_body(engine, network).await?;

    let coalition_report = draft(
        engine,
        coordinating,
        coalition,
        &format!("la {}", coalition.name),
        model,
    )
    .await?;
    fire(engine, coordinating, coalition_report, "submit_for_review").await?;
    fire(engine, decision_body, coalition_report, "adopt").await?;
    fire(engine, coordinating, coalition_report, "publish").await?;
    let mut reports = 1;
    for slug in REPORTING_COMUNI {
        let comune = organisations
            .iter()
            .find(|o| o.slug == slug)
            .with_context(|| format!("no demo Comune {slug}"))?;
        let office = office_of(engine, comune).await?;
        let report = draft(engine, office, comune, &comune.name, model).await?;
        fire(engine, office, report, "submit_for_review").await?;
        fire(engine, office, report, "approve").await?;
        fire(engine, office, report, "publish").await?;
        reports += 1;
    }
    Ok(Loaded {
        values: summary.inserted + summary.replaced,
        reports,
    })
}

/// Creates the report of `organisation` for the last demo year, drafts every area and
/// assembles a version.
async fn draft(
    engine: &Engine,
    actor: Actor,
    organisation: &Organisation,
    who: &str,
    model: &Model,
) -> anyhow::Result<DocumentId> {
    let year = YEARS[YEARS.len() - 1];
    let document = engine
        .create_social_report(
            actor,
            NewSocialReport {
                organisation_id: organisation.id,
                year,
                working_group_id: None,
            },
        )
        .await?;
    let population = population_of(organisation)
        .map(|people| {
            format!(" Il territorio conta {people} residenti (ISTAT, popolazione residente 2021).")
        })
        .unwrap_or_default();
    for area in &model.areas {
        let text = SectionText {
            narrative: format!(
                "*Testo dimostrativo.*\n\nNel {year} {who} ha lavorato sull'ambito «{}» con gli uffici e i partner della rete.{population}\n\nGli indicatori qui sotto sono **dati dimostrativi** generati da `patto demo`.",
                area.name.it
            ),
            goals: format!(
                "- Migliorare gli indicatori dell'ambito «{}» nel {}\n- Pubblicare i dati aggiornati entro giugno",
                area.name.it,
                year + 1
            ),
        };
        engine
            .save_report_section(actor, document.id, &area.code, text)
            .await?;
    }
    engine.assemble_social_report(actor, document.id).await?;
    Ok(document.id)
}

/// The coalition's decision body (the assembly of mayors), in the partner network, with
/// a coordinator who adopts the coalition's report.
async fn decision_body(engine: &Engine, network: NetworkId) -> anyhow::Result<Actor> {
    let assembly = engine
        .create_organisation(
            Actor::System,
            patto_engine::NewOrganisation {
                slug: "assemblea-sindaci-madonie-termini".to_owned(),
                name: "Assemblea dei Sindaci della Città a Rete (demo)".to_owned(),
                category: OrganisationCategory::DecisionBody,
                istat_code: None,
            },
        )
        .await?;
    engine
        .add_network_member(Actor::System, network, assembly.id)
        .await?;
    let president = person(
        engine,
        "presidenza.assemblea@example.org",
        "Presidenza dell'Assemblea dei Sindaci",
        assembly.id,
    )
    .await?;
    Ok(Actor::Person(president))
}

/// The office of a Comune that drafts and approves its report: a coordinator of it.
async fn office_of(engine: &Engine, comune: &Organisation) -> anyhow::Result<Actor> {
    let office = person(
        engine,
        &format!("bilancio.{}@example.org", comune.slug),
        &format!("Ufficio bilancio sociale, {}", comune.name),
        comune.id,
    )
    .await?;
    Ok(Actor::Person(office))
}

async fn person(
    engine: &Engine,
    email: &str,
    name: &str,
    organisation: OrganisationId,
) -> anyhow::Result<PersonId> {
    let person = engine
        .create_person(Actor::System, email, name, Language::It)
        .await?;
    engine
        .add_membership(Actor::System, person.id, organisation, Role::Coordinator)
        .await?;
    Ok(person.id)
}

/// A Comune's resident population from the reference data, by its slug.
fn population_of(organisation: &Organisation) -> Option<u64> {
    COMUNI_CSV.lines().skip(1).find_map(|line| {
        let fields: Vec<&str> = line.split(',').collect();
        let name = fields.first()?;
        let wanted = organisation.name.strip_prefix("Comune di ")?;
        (*name == wanted && slugify(name) == organisation.slug)
            .then(|| fields.get(6)?.parse().ok())
            .flatten()
    })
}

/// The demo survey as the CSV an office would import: every indicator of the model for
/// every organisation and year, with plausible generated values.
fn survey_csv(model: &Model, organisations: &[&Organisation]) -> String {
    let mut csv = String::from("comune;indicatore;anno;valore;fonte;note\n");
    for organisation in organisations {
        for indicator in &model.indicators {
            for (step, year) in YEARS.iter().enumerate() {
                let value = demo_value(indicator.unit, &organisation.slug, &indicator.code, step);
                csv.push_str(&format!(
                    "{};{};{year};{value};{DEMO_SOURCE};dato dimostrativo\n",
                    organisation.slug, indicator.code
                ));
            }
        }
    }
    csv
}

/// A plausible value for a unit, the same on every run: a base drawn from a hash of the
/// organisation and the indicator, moving a little from one year to the next.
fn demo_value(unit: Unit, slug: &str, code: &str, step: usize) -> String {
    let seed = slug
        .bytes()
        .chain(code.bytes())
        .fold(2_166_136_261_u32, |hash, byte| {
            (hash ^ u32::from(byte)).wrapping_mul(16_777_619)
        });
    let share = f64::from(seed % 1000) / 1000.0;
    let drift = 1.0 + 0.04 * step as f64 * if seed % 2 == 0 { 1.0 } else { -1.0 };
    let (low, high, decimals) = match unit {
        Unit::Percent => (20.0, 75.0, 1),
        Unit::Count => (2.0, 120.0, 0),
        Unit::Euro => (50_000.0, 2_500_000.0, 2),
        Unit::EuroPerInhabitant => (40.0, 600.0, 2),
        Unit::KgPerInhabitant => (380.0, 560.0, 1),
        Unit::PerThousandInhabitants => (0.5, 12.0, 2),
        Unit::Kilowatt => (15.0, 450.0, 1),
        Unit::Days => (-5.0, 60.0, 0),
    };
    let value = (low + (high - low) * share) * drift;
    let value = match unit {
        Unit::Percent => value.min(100.0),
        _ => value,
    };
    format!("{value:.decimals$}").replace('.', ",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use patto_core::reporting::{DEFAULT_MODEL, DEFAULT_MODEL_FILE, Decimal};

    #[test]
    fn demo_values_pass_their_units_checks() {
        let model = Model::parse(DEFAULT_MODEL, DEFAULT_MODEL_FILE).unwrap();
        for indicator in &model.indicators {
            for slug in ["cefalu", "alimena", "citta-a-rete-madonie-termini"] {
                for step in 0..3 {
                    let text = demo_value(indicator.unit, slug, &indicator.code, step);
                    let value = Decimal::parse(&text).unwrap();
                    assert!(
                        indicator.unit.check(&value).is_ok(),
                        "{} {text}",
                        indicator.code
                    );
                }
            }
        }
    }
}
