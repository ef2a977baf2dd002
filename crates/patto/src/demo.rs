//! `patto demo`: loads demonstration data into an empty database through the engine, as a
//! coordinator would enter it. Every person has an `example.org` address (RFC 2606), so
//! demo mail can never reach a real municipality. The pact is signed with demo keys kept
//! in `demo-keys/` inside the data directory, clearly marked as such.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use chrono::{NaiveDate, Utc};
use patto_core::ids::{DocumentId, NetworkId, OrganisationId, PersonId};
use patto_core::records::{Document, Organisation, Review, ReviewSchedule, SignatoryEntry};
use patto_core::reporting::{DEFAULT_MODEL, DEFAULT_MODEL_FILE};
use patto_core::status::{CommitmentStatus, ReportStatus, SignatureRequestStatus};
use patto_core::{DocumentKind, Language, OrganisationCategory, Role};
use patto_engine::{
    Actor, CommitmentChange, Engine, FireRequest, NewCommitment, NewDocument, NewOrganisation,
    ReviewFiring, StatusReportInput,
};
use patto_sign::SigningKey;

use crate::config::GlobalOptions;
use crate::messages::{DemoPart, Message};

/// The 28 Comuni of the coalition, with their ISTAT codes (see `data/README.md`).
pub(crate) const COMUNI_CSV: &str = include_str!("../data/comuni-madonie-termini.csv");

/// A Comune as listed in the reference data.
pub struct Comune {
    pub name: String,
    pub istat_code: String,
}

/// Parses the reference CSV; its fields never contain commas or quotes.
pub fn comuni() -> anyhow::Result<Vec<Comune>> {
    let mut lines = COMUNI_CSV.lines();
    let header = lines.next().context("the Comuni file is empty")?;
    if !header.starts_with("name,istat_code,") {
        bail!("the Comuni file has an unexpected header: {header}");
    }
    lines
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let mut fields = line.split(',');
            match (fields.next(), fields.next()) {
                (Some(name), Some(code)) => Ok(Comune {
                    name: name.to_owned(),
                    istat_code: code.to_owned(),
                }),
                _ => bail!("malformed line in the Comuni file: {line}"),
            }
        })
        .collect()
}

/// A slug from a place name: "Cefalù" -> "cefalu", "Petralia Soprana" -> "petralia-soprana".
pub fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        let plain = match c {
            'à' | 'á' | 'â' => 'a',
            'è' | 'é' | 'ê' => 'e',
            'ì' | 'í' | 'î' => 'i',
            'ò' | 'ó' | 'ô' => 'o',
            'ù' | 'ú' | 'û' => 'u',
            other => other,
        };
        if plain.is_ascii_alphanumeric() {
            slug.push(plain);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').to_owned()
}

/// The partners of the pact besides the Comuni and the coalition.
const PARTNERS: [(&str, &str, OrganisationCategory); 9] = [
    (
        "regione-siciliana",
        "Regione Siciliana",
        OrganisationCategory::Region,
    ),
    (
        "prefettura-palermo",
        "Prefettura di Palermo",
        OrganisationCategory::Prefecture,
    ),
    (
        "procura-termini-imerese",
        "Procura della Repubblica di Termini Imerese",
        OrganisationCategory::Magistracy,
    ),
    (
        "questura-palermo",
        "Questura di Palermo",
        OrganisationCategory::Police,
    ),
    (
        "carabinieri-palermo",
        "Comando provinciale Carabinieri di Palermo",
        OrganisationCategory::Police,
    ),
    (
        "associazione-legalita-madonie",
        "Associazione Legalità Madonie (demo)",
        OrganisationCategory::Association,
    ),
    (
        "consorzio-imprese-madonie",
        "Consorzio Imprese Madonie (demo)",
        OrganisationCategory::Business,
    ),
    (
        "artigiani-madonie",
        "Associazione Artigiani Madonie (demo)",
        OrganisationCategory::TradeAssociation,
    ),
    (
        "diocesi-cefalu",
        "Diocesi di Cefalù",
        OrganisationCategory::ReligiousBody,
    ),
];

const PACT_SLUG: &str = "patto-sicurezza-legalita";

const PACT_TEXT: &str = "PATTO LOCALE PER LA SICUREZZA E LA LEGALITÀ
Città a Rete Madonie-Termini

Art. 1 — Finalità
Le parti definiscono una strategia comune per la sicurezza e la legalità nei 28 Comuni della
coalizione, mettendo in relazione i problemi rilevati dalla Diagnosi con gli interventi da realizzare.

Art. 2 — Rete integrata
È costituita la Rete integrata sovracomunale, composta da istituzioni, magistratura, forze
dell'ordine, associazioni, realtà economiche ed enti religiosi.

Art. 3 — Protocolli operativi
Il Patto è attuato mediante protocolli operativi tematici, redatti da gruppi di lavoro e
sottoscritti dai soggetti interessati.

Art. 4 — Verifiche
Le parti si incontrano ogni sei mesi per verificare lo stato di attuazione degli impegni.
";

impl ProtocolPlan {
    fn all() -> [ProtocolPlan; 3] {
        [
            ProtocolPlan {
                slug: "protocollo-appalti-pubblici",
                title: "Protocollo operativo sulla legalità negli appalti pubblici",
                group_slug: "gdl-appalti-pubblici",
                group_name: "Gruppo di lavoro appalti pubblici",
                text: "Protocollo operativo — appalti pubblici\n\nArt. 1 — Le stazioni appaltanti dei Comuni aderenti pubblicano gli affidamenti e applicano le clausole antimafia.\n",
                in_force: true,
                commitments: &[
                    CommitmentPlan {
                        owner: "prefettura-palermo",
                        description: "Estendere i controlli antimafia agli affidamenti sotto soglia",
                        due: Some((2027, 6, 30)),
                        indicator: "affidamenti controllati",
                        target: "100%",
                        progress: Some(Progress {
                            reported: ReportStatus::InProgress,
                            note: "Controlli estesi agli affidamenti sotto soglia in 9 Comuni su 28 (dato dimostrativo).",
                            value: "32%",
                            status: CommitmentStatus::InProgress,
                        }),
                    },
                    CommitmentPlan {
                        owner: "termini-imerese",
                        description: "Pubblicare tutti gli affidamenti nella sezione Amministrazione trasparente",
                        due: Some((2027, 3, 31)),
                        indicator: "affidamenti pubblicati",
                        target: "100%",
                        progress: Some(Progress {
                            reported: ReportStatus::Done,
                            note: "Tutti gli affidamenti dell'anno sono pubblicati (dato dimostrativo).",
                            value: "100%",
                            status: CommitmentStatus::Done,
                        }),
                    },
                ],
            },
            ProtocolPlan {
                slug: "protocollo-beni-confiscati",
                title: "Protocollo operativo sul riuso sociale dei beni confiscati",
                group_slug: "gdl-beni-confiscati",
                group_name: "Gruppo di lavoro beni confiscati",
                text: "Protocollo operativo — beni confiscati\n\nArt. 1 — I Comuni censiscono i beni confiscati del territorio e ne programmano il riuso sociale con le associazioni.\n",
                in_force: true,
                commitments: &[
                    CommitmentPlan {
                        owner: "associazione-legalita-madonie",
                        description: "Censire i beni confiscati e pubblicarne l'elenco",
                        due: Some((2027, 9, 30)),
                        indicator: "beni censiti",
                        target: "tutti i beni del territorio",
                        progress: Some(Progress {
                            reported: ReportStatus::InProgress,
                            note: "Censiti 14 beni in 6 Comuni; l'elenco è in verifica (dato dimostrativo).",
                            value: "14 beni",
                            status: CommitmentStatus::InProgress,
                        }),
                    },
                    CommitmentPlan {
                        owner: "cefalu",
                        description: "Assegnare almeno un bene confiscato a un progetto sociale",
                        due: Some((2027, 12, 31)),
                        indicator: "beni assegnati",
                        target: "1",
                        progress: Some(Progress {
                            reported: ReportStatus::NotStarted,
                            note: "L'avviso per l'assegnazione è in preparazione (dato dimostrativo).",
                            value: "0",
                            status: CommitmentStatus::Open,
                        }),
                    },
                ],
            },
            ProtocolPlan {
                slug: "protocollo-videosorveglianza",
                title: "Protocollo operativo sulla videosorveglianza integrata",
                group_slug: "gdl-videosorveglianza",
                group_name: "Gruppo di lavoro videosorveglianza",
                text: "Protocollo operativo — videosorveglianza integrata\n\nArt. 1 — I Comuni aderenti collegano i propri impianti di videosorveglianza alle sale operative delle forze di polizia.\n",
                in_force: false,
                commitments: &[
                    CommitmentPlan {
                        owner: "questura-palermo",
                        description: "Collegare le telecamere comunali alla sala operativa della Questura",
                        due: Some((2027, 12, 31)),
                        indicator: "Comuni collegati",
                        target: "28",
                        progress: None,
                    },
                    CommitmentPlan {
                        owner: "gangi",
                        description: "Installare telecamere agli ingressi del centro abitato",
                        due: Some((2027, 10, 31)),
                        indicator: "varchi coperti",
                        target: "4",
                        progress: None,
                    },
                ],
            },
        ]
    }
}

/// A commitment of a demo protocol; the owner is an organisation slug.
struct CommitmentPlan {
    owner: &'static str,
    description: &'static str,
    due: Option<(i32, u32, u32)>,
    indicator: &'static str,
    target: &'static str,
    /// What its owner reports at the protocol's first review, and where it then stands.
    progress: Option<Progress>,
}

/// A commitment's status report at a review, and the status the coordinator then gives it.
struct Progress {
    reported: ReportStatus,
    note: &'static str,
    value: &'static str,
    status: CommitmentStatus,
}

struct ProtocolPlan {
    slug: &'static str,
    title: &'static str,
    group_slug: &'static str,
    group_name: &'static str,
    text: &'static str,
    /// Whether the demo takes it into force (signed by the coalition and the owners of
    /// its commitments, then reviewed once); otherwise it stays in drafting.
    in_force: bool,
    commitments: &'static [CommitmentPlan],
}

/// The pact's signatories, by organisation slug, in signing order; each signs through
/// the organisation's referent.
const PACT_SIGNATORIES: [&str; 5] = [
    "citta-a-rete-madonie-termini",
    "regione-siciliana",
    "prefettura-palermo",
    "cefalu",
    "termini-imerese",
];

/// Who is who in the demo directory, as loaded.
struct Directory {
    coalition: Organisation,
    organisations: Vec<Organisation>,
    coordinator: PersonId,
    /// Each organisation's referent, by organisation slug.
    referents: HashMap<String, PersonId>,
}

impl Directory {
    fn referent(&self, slug: &str) -> anyhow::Result<PersonId> {
        self.referents
            .get(slug)
            .copied()
            .with_context(|| format!("no demo referent for {slug}"))
    }

    fn organisation_id(&self, slug: &str) -> anyhow::Result<OrganisationId> {
        self.organisations
            .iter()
            .find(|o| o.slug == slug)
            .map(|o| o.id)
            .with_context(|| format!("no demo organisation {slug}"))
    }

    /// The coalition's coordinator, who drafts and moves every demo document.
    fn coordinating(&self) -> Actor {
        Actor::Person(self.coordinator)
    }
}

/// Loads the demo data into an empty database, reporting each part as it is loaded; a
/// database with data in it is refused, so that nothing real is mixed with the demo.
pub async fn load(global: &GlobalOptions) -> anyhow::Result<ExitCode> {
    let language = global.language;
    let target = global.database().describe();
    let engine = global.engine().await?;
    if !engine.is_empty().await? {
        let organisations = engine.organisations().await?.len();
        eprintln!(
            "{}",
            Message::DemoRefused {
                organisations,
                target
            }
            .text(language)
        );
        return Ok(ExitCode::FAILURE);
    }
    let report = |part, count| println!("{}", Message::DemoProgress { part, count }.text(language));

    let (coalition, organisations) = create_organisations(&engine).await?;
    report(DemoPart::Organisations, organisations.len());
    let directory = create_people(&engine, coalition, organisations).await?;
    report(DemoPart::People, directory.referents.len() + 3);
    let network = create_network(&engine, &directory.organisations).await?;
    report(DemoPart::Network, directory.organisations.len());
    // The coalition's coordinator loads the model, as they would through the API.
    engine
        .load_reporting_model(directory.coordinating(), DEFAULT_MODEL, DEFAULT_MODEL_FILE)
        .await?;
    let (_, model) = engine.reporting_model(None).await?;
    report(DemoPart::ReportingModel, model.indicators.len());
    // The coalition's Diagnosi: drafted, put to consultation with a questionnaire that
    // partners and citizens answer, commented, then approved, before the pact cites it.
    let cast = diagnosis_cast(&directory)?;
    let diagnosis = crate::demo_diagnosis::draft(&engine, &cast).await?;
    let consultation =
        crate::demo_consultation::run(&engine, directory.coordinating(), diagnosis.document_id)
            .await?;
    crate::demo_diagnosis::comment(&engine, &cast, diagnosis.document_id).await?;
    crate::demo_diagnosis::approve(&engine, &cast, diagnosis.document_id).await?;
    report(DemoPart::Diagnosis, diagnosis.problems);
    report(DemoPart::ConsultationAnswers, consultation.answers);
    let pact = share_pact(&engine, &directory, diagnosis.document_id).await?;
    let protocols = draft_protocols(&engine, &directory, &pact).await?;
    report(DemoPart::Documents, 1 + protocols.len());
    let keys_dir = global.data_dir.join(DEMO_KEYS_DIR);
    let mut signers = sign_pact(&engine, &directory, &pact, &keys_dir).await?;
    let in_force = protocols_into_force(&engine, &directory, &mut signers, &protocols).await?;
    report(DemoPart::ProtocolsInForce, in_force);
    let reviews = hold_first_reviews(&engine, &directory, &mut signers, &pact, &protocols).await?;
    report(DemoPart::Reviews, reviews);
    let reporting = crate::demo_reports::load(
        &engine,
        &model,
        &directory.coalition,
        &directory.organisations,
        directory.coordinator,
        network,
    )
    .await?;
    report(DemoPart::SurveyValues, reporting.values);
    report(DemoPart::SocialReports, reporting.reports);

    println!(
        "{}",
        Message::DemoKeys {
            dir: keys_dir.display().to_string()
        }
        .text(language)
    );
    println!("{}", Message::DemoDone { target }.text(language));
    Ok(ExitCode::SUCCESS)
}

/// The coalition, the 28 Comuni and the partners; the coalition comes first in the list
/// too.
async fn create_organisations(
    engine: &Engine,
) -> anyhow::Result<(Organisation, Vec<Organisation>)> {
    let coalition = organisation(
        engine,
        "citta-a-rete-madonie-termini",
        "Città a Rete Madonie-Termini",
        OrganisationCategory::Coalition,
        None,
    )
    .await?;
    let mut organisations = vec![coalition.clone()];
    for comune in comuni()? {
        let slug = slugify(&comune.name);
        organisations.push(
            organisation(
                engine,
                &slug,
                &format!("Comune di {}", comune.name),
                OrganisationCategory::Municipality,
                Some(comune.istat_code),
            )
            .await?,
        );
    }
    for (slug, name, category) in PARTNERS {
        organisations.push(organisation(engine, slug, name, category, None).await?);
    }
    Ok((coalition, organisations))
}

/// An admin of the coalition, two coalition coordinators and one referent per organisation; the
/// business consortium's referent reads English.
async fn create_people(
    engine: &Engine,
    coalition: Organisation,
    organisations: Vec<Organisation>,
) -> anyhow::Result<Directory> {
    let system = Actor::System;
    let admin = engine
        .create_person(
            system,
            "admin@example.org",
            "Amministrazione Patto",
            Language::It,
        )
        .await?;
    engine
        .add_membership(system, admin.id, coalition.id, Role::Admin)
        .await?;
    let coordinator = engine
        .create_person(
            system,
            "coordinamento@example.org",
            "Giulia Ferrante",
            Language::It,
        )
        .await?;
    let deputy = engine
        .create_person(
            system,
            "vice.coordinamento@example.org",
            "Salvatore Lo Bue",
            Language::It,
        )
        .await?;
    for person in [&coordinator, &deputy] {
        engine
            .add_membership(system, person.id, coalition.id, Role::Coordinator)
            .await?;
    }
    let mut referents = HashMap::new();
    for organisation in &organisations {
        let language = if organisation.slug == "consorzio-imprese-madonie" {
            Language::En
        } else {
            Language::It
        };
        let person = engine
            .create_person(
                system,
                &referent_email(&organisation.slug),
                &format!("Referente {}", organisation.name),
                language,
            )
            .await?;
        engine
            .add_membership(system, person.id, organisation.id, Role::Member)
            .await?;
        referents.insert(organisation.slug.clone(), person.id);
    }
    Ok(Directory {
        coalition,
        organisations,
        coordinator: coordinator.id,
        referents,
    })
}

/// The partner network, with every demo organisation in it.
async fn create_network(
    engine: &Engine,
    organisations: &[Organisation],
) -> anyhow::Result<NetworkId> {
    let system = Actor::System;
    let network = engine
        .create_network(
            system,
            "rete-integrata-madonie-termini",
            "Rete integrata sovracomunale Madonie-Termini",
        )
        .await?;
    for organisation in organisations {
        engine
            .add_network_member(system, network.id, organisation.id)
            .await?;
    }
    Ok(network.id)
}

/// Who takes part in the demo diagnosis: the coalition's coordinator drafts it, the
/// prefecture's referent comments, three partners' referents approve it.
fn diagnosis_cast(directory: &Directory) -> anyhow::Result<crate::demo_diagnosis::Cast> {
    Ok(crate::demo_diagnosis::Cast {
        coalition: directory.coalition.id,
        coordinator: directory.coordinator,
        commenter: directory.referent("prefettura-palermo")?,
        signatories: crate::demo_diagnosis::DIAGNOSIS_SIGNATORIES
            .iter()
            .map(|slug| {
                Ok((
                    (*slug).to_owned(),
                    directory.organisation_id(slug)?,
                    directory.referent(slug)?,
                ))
            })
            .collect::<anyhow::Result<_>>()?,
    })
}

/// The pact with its text and signatories, citing the items of the approved diagnosis
/// it responds to, shared for comments: one comment resolved, one still open.
async fn share_pact(
    engine: &Engine,
    directory: &Directory,
    diagnosis: DocumentId,
) -> anyhow::Result<Document> {
    let coordinating = directory.coordinating();
    let pact = engine
        .create_document(
            coordinating,
            NewDocument {
                kind: DocumentKind::Pact,
                slug: PACT_SLUG.to_owned(),
                title: "Patto locale per la sicurezza e la legalità".to_owned(),
                parent_id: None,
                owner_organisation_id: directory.coalition.id,
                working_group_id: None,
            },
        )
        .await?;
    engine
        .add_version(coordinating, pact.id, PACT_TEXT.as_bytes().to_vec())
        .await?;
    let signatories: Vec<SignatoryEntry> = PACT_SIGNATORIES
        .iter()
        .map(|slug| {
            Ok(SignatoryEntry {
                organisation: directory.organisation_id(slug)?,
                person: directory.referent(slug)?,
            })
        })
        .collect::<anyhow::Result<_>>()?;
    engine
        .set_signatories(coordinating, pact.id, &signatories)
        .await?;
    crate::demo_diagnosis::cite(engine, directory.coordinator, pact.id, diagnosis).await?;
    fire(engine, coordinating, pact.id, "share").await?;
    let resolved = engine
        .add_comment(
            Actor::Person(directory.referent("prefettura-palermo")?),
            pact.id,
            None,
            "All'art. 2 citare anche la Procura della Repubblica di Termini Imerese.",
        )
        .await?;
    engine.resolve_comment(coordinating, resolved.id).await?;
    engine
        .add_comment(
            Actor::Person(directory.referent("gangi")?),
            pact.id,
            None,
            "Chiediamo che le verifiche semestrali si tengano a turno nei Comuni delle alte Madonie.",
        )
        .await?;
    Ok(pact)
}

/// The protocols under the pact, each drafted by its working group with its
/// commitments; returns each with its plan.
async fn draft_protocols(
    engine: &Engine,
    directory: &Directory,
    pact: &Document,
) -> anyhow::Result<Vec<(Document, ProtocolPlan)>> {
    let system = Actor::System;
    let coordinating = directory.coordinating();
    let mut drafted = Vec::new();
    for plan in ProtocolPlan::all() {
        let group = engine
            .create_working_group(system, plan.group_slug, plan.group_name)
            .await?;
        let mut members = vec![directory.coordinator];
        for commitment in plan.commitments {
            members.push(directory.referent(commitment.owner)?);
        }
        members.dedup();
        for member in &members {
            engine
                .add_working_group_member(system, group.id, *member)
                .await?;
        }
        let protocol = engine
            .create_document(
                coordinating,
                NewDocument {
                    kind: DocumentKind::Protocol,
                    slug: plan.slug.to_owned(),
                    title: plan.title.to_owned(),
                    parent_id: Some(pact.id),
                    owner_organisation_id: directory.coalition.id,
                    working_group_id: Some(group.id),
                },
            )
            .await?;
        engine
            .add_version(coordinating, protocol.id, plan.text.as_bytes().to_vec())
            .await?;
        for commitment in plan.commitments {
            let due_date = match commitment.due {
                Some((year, month, day)) => Some(
                    NaiveDate::from_ymd_opt(year, month, day)
                        .with_context(|| format!("bad demo date {year}-{month}-{day}"))?,
                ),
                None => None,
            };
            engine
                .add_commitment(
                    coordinating,
                    protocol.id,
                    NewCommitment {
                        owner_organisation_id: Some(directory.organisation_id(commitment.owner)?),
                        description: commitment.description.to_owned(),
                        due_date,
                        indicator: Some(commitment.indicator.to_owned()),
                        target: Some(commitment.target.to_owned()),
                    },
                )
                .await?;
        }
        drafted.push((protocol, plan));
    }
    Ok(drafted)
}

/// Settles the pact's comments, freezes its text and has every signatory sign it with a
/// demo key written to `keys_dir`, the last signature putting it in force. Returns the
/// signers, whose keys sign the protocols next.
async fn sign_pact(
    engine: &Engine,
    directory: &Directory,
    pact: &Document,
    keys_dir: &Path,
) -> anyhow::Result<DemoSigners> {
    let coordinating = directory.coordinating();
    for comment in engine.comments(pact.id, None).await? {
        if comment.resolved_at.is_none() {
            engine.resolve_comment(coordinating, comment.id).await?;
        }
    }
    prepare_demo_keys_dir(keys_dir)?;
    let mut signers = DemoSigners {
        dir: keys_dir.to_path_buf(),
        keys: HashMap::new(),
        coordinators: HashMap::new(),
    };
    for slug in PACT_SIGNATORIES {
        signers.enrol(engine, directory, slug).await?;
    }
    fire(engine, coordinating, pact.id, "freeze").await?;
    signers.sign_pending(engine, pact.id).await?;
    Ok(signers)
}

/// The demo signatories' keys, held in memory while the demo signs with them (each is
/// also written to the demo-keys directory), and the demo coordinators made so far, by
/// organisation slug.
struct DemoSigners {
    dir: PathBuf,
    keys: HashMap<PersonId, SigningKey>,
    coordinators: HashMap<String, Actor>,
}

impl DemoSigners {
    /// Gives the referent of `slug` a demo key, written to the keys directory and
    /// registered with proof of possession, then approved by a coordinator of the
    /// organisation: the same paths a real holder and coordinator take. A referent who
    /// has a key already keeps it.
    async fn enrol(
        &mut self,
        engine: &Engine,
        directory: &Directory,
        slug: &str,
    ) -> anyhow::Result<()> {
        let person = directory.referent(slug)?;
        if self.keys.contains_key(&person) {
            return Ok(());
        }
        let key = patto_sign::generate_key();
        let secret = self.dir.join(format!("{slug}.pem"));
        crate::files::write_private(
            &secret,
            patto_sign::secret_key_to_pem(&key)?.as_bytes(),
            crate::files::Existing::Keep,
        )?;
        let public = patto_sign::public_key_to_pem(&key.verifying_key())?;
        crate::files::write_public(
            &self.dir.join(format!("{slug}.pem.pub")),
            public.as_bytes(),
            crate::files::Existing::Keep,
        )?;
        let registration = crate::signing::registration_request(&key, &referent_email(slug), slug);
        let registered = engine
            .register_key(Actor::Person(person), registration.as_bytes())
            .await?;
        let approver = self.coordinator_of(engine, directory, slug).await?;
        engine.approve_key(approver, registered.id, None).await?;
        self.keys.insert(person, key);
        Ok(())
    }

    /// A coordinator of the organisation: the coalition's coordinator for the coalition,
    /// otherwise a demo coordinator registered for it the first time one is needed.
    async fn coordinator_of(
        &mut self,
        engine: &Engine,
        directory: &Directory,
        slug: &str,
    ) -> anyhow::Result<Actor> {
        if slug == directory.coalition.slug {
            return Ok(directory.coordinating());
        }
        if let Some(actor) = self.coordinators.get(slug) {
            return Ok(*actor);
        }
        let organisation = directory.organisation_id(slug)?;
        let coordinator = engine
            .create_person(
                Actor::System,
                &format!("coordinamento.{slug}@example.org"),
                &format!("Coordinamento {slug}"),
                Language::It,
            )
            .await?;
        engine
            .add_membership(
                Actor::System,
                coordinator.id,
                organisation,
                Role::Coordinator,
            )
            .await?;
        let actor = Actor::Person(coordinator.id);
        self.coordinators.insert(slug.to_owned(), actor);
        Ok(actor)
    }

    /// Has every signatory still asked to sign the document sign the statement the
    /// server shows them, with their own demo key.
    async fn sign_pending(&self, engine: &Engine, document: DocumentId) -> anyhow::Result<()> {
        for view in engine.signature_requests(document).await? {
            if view.request.status != SignatureRequestStatus::Pending {
                continue;
            }
            let statement = engine.statement_for(view.request.id).await?;
            let key = self
                .keys
                .get(&view.request.person_id)
                .with_context(|| format!("no demo key for request {}", view.request.id))?;
            let signature = patto_sign::sign(key, statement.as_bytes());
            engine
                .submit_signature(
                    Actor::Person(view.request.person_id),
                    view.request.id,
                    Some(statement.as_bytes()),
                    &signature,
                )
                .await?;
        }
        Ok(())
    }
}

/// Takes the protocols planned in force through their workflow once the pact is in force:
/// shared, frozen and signed by the coalition and by the organisation owning each
/// commitment, each referent with their own demo key, the last signature putting the
/// protocol into implementation. Returns how many entered into force.
async fn protocols_into_force(
    engine: &Engine,
    directory: &Directory,
    signers: &mut DemoSigners,
    protocols: &[(Document, ProtocolPlan)],
) -> anyhow::Result<usize> {
    let coordinating = directory.coordinating();
    let mut in_force = 0;
    for (protocol, plan) in protocols.iter().filter(|(_, plan)| plan.in_force) {
        let mut slugs = vec![directory.coalition.slug.as_str()];
        for commitment in plan.commitments {
            if !slugs.contains(&commitment.owner) {
                slugs.push(commitment.owner);
            }
        }
        let mut signatories = Vec::new();
        for slug in slugs {
            signers.enrol(engine, directory, slug).await?;
            signatories.push(SignatoryEntry {
                organisation: directory.organisation_id(slug)?,
                person: directory.referent(slug)?,
            });
        }
        engine
            .set_signatories(coordinating, protocol.id, &signatories)
            .await?;
        fire(engine, coordinating, protocol.id, "share").await?;
        fire(engine, coordinating, protocol.id, "freeze").await?;
        signers.sign_pending(engine, protocol.id).await?;
        let state = engine.instance_of(protocol.id).await?.state;
        if state != "implementation" {
            bail!(
                "the demo protocol {} is in state {state} after every signature",
                plan.slug
            );
        }
        in_force += 1;
    }
    Ok(in_force)
}

/// Holds the first review of the pact and of each protocol in force, with the outcome a
/// coordinator records: the owner of every commitment reports where it stands, the
/// coordinator sets each commitment's status accordingly and closes the review, the
/// document going back to being in force. Returns how many reviews were held.
async fn hold_first_reviews(
    engine: &Engine,
    directory: &Directory,
    signers: &mut DemoSigners,
    pact: &Document,
    protocols: &[(Document, ProtocolPlan)],
) -> anyhow::Result<usize> {
    let coordinating = directory.coordinating();
    let review = open_first_review(engine, pact.id).await?;
    engine
        .close_review(
            coordinating,
            review.id,
            PACT_REVIEW_MINUTES,
            Some("conclude_review"),
        )
        .await?;
    let mut held = 1;
    for (protocol, plan) in protocols.iter().filter(|(_, plan)| plan.in_force) {
        let review = open_first_review(engine, protocol.id).await?;
        let commitments = engine
            .readable_commitments(coordinating, protocol.id)
            .await?;
        for report in engine.status_reports(review.id).await? {
            let commitment = commitments
                .iter()
                .find(|c| c.id == report.commitment_id)
                .with_context(|| format!("no commitment {}", report.commitment_id))?;
            let Some((owner, progress)) = plan
                .commitments
                .iter()
                .find(|c| c.description == commitment.description)
                .and_then(|c| Some((c.owner, c.progress.as_ref()?)))
            else {
                continue;
            };
            let reporter = signers.coordinator_of(engine, directory, owner).await?;
            engine
                .submit_status_report(
                    reporter,
                    report.id,
                    StatusReportInput {
                        status: progress.reported,
                        note: Some(progress.note.to_owned()),
                        evidence_url: None,
                        indicator_value: Some(progress.value.to_owned()),
                    },
                )
                .await?;
            engine
                .update_commitment(
                    coordinating,
                    commitment.id,
                    CommitmentChange {
                        owner_organisation_id: None,
                        due_date: None,
                        status: Some(progress.status),
                    },
                )
                .await?;
        }
        engine
            .close_review(
                coordinating,
                review.id,
                PROTOCOL_REVIEW_MINUTES,
                Some("conclude_review"),
            )
            .await?;
        held += 1;
    }
    Ok(held)
}

const PACT_REVIEW_MINUTES: &str = "Prima verifica del Patto (dimostrativa): le parti prendono atto dell'entrata in vigore dei protocolli sugli appalti pubblici e sui beni confiscati.";

const PROTOCOL_REVIEW_MINUTES: &str = "Prima verifica del protocollo (dimostrativa): i responsabili hanno riferito sullo stato di ciascun impegno; l'attuazione prosegue.";

/// Opens the first review checkpoint of a document in force, as the review worker of
/// `patto serve` would, but now rather than at the first instant of its schedule (months
/// away), so that the demo shows a review held: the schedule's first instant is set to
/// now, the review fires for it, and the schedule moves on to its next instant by its
/// cron expression.
async fn open_first_review(engine: &Engine, document: DocumentId) -> anyhow::Result<Review> {
    let instance = engine.instance_of(document).await?;
    let running = |schedules: Vec<ReviewSchedule>| {
        schedules
            .into_iter()
            .find(|schedule| schedule.active)
            .with_context(|| format!("the demo document {document} has no review schedule"))
    };
    let schedule = running(engine.review_schedules(instance.id).await?)?;
    engine
        .set_first_review_instant(schedule.id, Utc::now())
        .await?;
    // Read back: the instant as stored, which the review's claim must match exactly.
    let schedule = running(engine.review_schedules(instance.id).await?)?;
    let first = schedule
        .next_fire_at
        .with_context(|| format!("the review schedule {} has no instant", schedule.id))?;
    let next = patto_scheduler::Schedule::parse(&schedule.cron, &schedule.time_zone)?
        .next_after(first)
        .with_context(|| format!("the review schedule {} never fires", schedule.id))?;
    engine
        .fire_review(ReviewFiring {
            schedule_id: schedule.id,
            claimed_at: Some(first),
            scheduled_for: first,
            skipped: 0,
            next_fire_at: next,
            fired_at: first,
        })
        .await?
        .with_context(|| format!("the first review of demo document {document} did not open"))
}

/// The e-mail address of an organisation's demo referent.
fn referent_email(slug: &str) -> String {
    format!("referente.{slug}@example.org")
}

/// Where the demo signatories' keys go, inside the data directory.
pub const DEMO_KEYS_DIR: &str = "demo-keys";

const DEMO_KEYS_README: &str = "CHIAVI DIMOSTRATIVE — DEMO KEYS

Queste chiavi sono state create da `patto demo` per i firmatari fittizi dei dati
dimostrativi. Non usarle mai per firme reali: chiunque abbia questa cartella può firmare
al loro posto.

These keys were made by `patto demo` for the fictitious signatories of the demo data.
Never use them for real signatures: anyone with this folder can sign in their name.
";

/// Starts the demo-keys directory afresh: the database is empty, so any keys left there
/// belong to demo data that no longer exists.
fn prepare_demo_keys_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        std::fs::remove_dir_all(dir)
            .with_context(|| format!("cannot clear the old demo keys in {}", dir.display()))?;
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    crate::files::write_public(
        &dir.join("README.txt"),
        DEMO_KEYS_README.as_bytes(),
        crate::files::Existing::Keep,
    )
}

async fn organisation(
    engine: &Engine,
    slug: &str,
    name: &str,
    category: OrganisationCategory,
    istat_code: Option<String>,
) -> anyhow::Result<Organisation> {
    Ok(engine
        .create_organisation(
            Actor::System,
            NewOrganisation {
                slug: slug.to_owned(),
                name: name.to_owned(),
                category,
                istat_code,
            },
        )
        .await?)
}

pub(crate) async fn fire(
    engine: &Engine,
    actor: Actor,
    document_id: DocumentId,
    transition: &str,
) -> anyhow::Result<()> {
    let instance = engine.instance_of(document_id).await?;
    engine
        .fire(
            actor,
            FireRequest {
                document_id,
                transition: transition.to_owned(),
                expected_version: instance.version,
            },
        )
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_data_lists_28_comuni_with_six_digit_codes() {
        let comuni = comuni().unwrap();
        assert_eq!(comuni.len(), 28);
        assert!(comuni.iter().all(|c| c.istat_code.len() == 6));
        let cefalu = comuni.iter().find(|c| c.name == "Cefalù").unwrap();
        assert_eq!(cefalu.istat_code, "082027");
    }

    #[test]
    fn slugs_drop_accents_and_spaces() {
        assert_eq!(slugify("Cefalù"), "cefalu");
        assert_eq!(
            slugify("Campofelice di Roccella"),
            "campofelice-di-roccella"
        );
        assert_eq!(slugify("Petralia Sottana"), "petralia-sottana");
    }
}
