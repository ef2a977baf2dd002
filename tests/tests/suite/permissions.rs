//! The permission matrix: `docs/permissions.md` is read as the one table of who may do
//! what, and every action is run as every role against an object of the organisation,
//! document and working group the table names, on both backends. A row or a column the
//! test does not know, or an action or role the table leaves out, fails the test.

use patto_core::diagnosis::{DiagnosisDraft, ProblemDraft};
use patto_core::ids::{OrganisationId, PersonId, ReviewId, SignatureRequestId, WorkingGroupId};
use patto_core::records::{Document, SignatoryEntry};
use patto_core::reporting::{DEFAULT_MODEL, DEFAULT_MODEL_FILE, FIRST_YEAR};
use patto_core::social_report::SectionText;
use patto_core::status::{CommitmentStatus, ReportStatus};
use patto_core::{DocumentKind, Language, OrganisationCategory, Role};
use patto_engine::{
    Actor, CommitmentChange, Engine, EngineError, ErrorCode, NewCommitment, NewDiagnosis,
    NewDocument, NewOrganisation, NewSocialReport, PersonChange, StatusReportInput, SurveyFormat,
    SurveyImport,
};

use crate::engine::{Ctx, fire, shipped};
use crate::keys::registration;

const TABLE: &str = include_str!("../../../docs/permissions.md");

/// Declares a closed list of names with the text the table uses for each.
macro_rules! names {
    ($name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        enum $name {
            $($variant),+
        }

        impl $name {
            const ALL: &'static [$name] = &[$($name::$variant),+];

            fn parse(text: &str) -> Option<$name> {
                match text {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

names!(Who {
    Operator => "operator",
    Admin => "admin",
    OtherAdmin => "other admin",
    Coordinator => "coordinator",
    OtherCoordinator => "other coordinator",
    Member => "member",
    OtherMember => "other member",
    Signatory => "signatory",
    Partner => "partner",
    NonPartner => "non-partner",
    Holder => "holder",
    Public => "public",
});

names!(Action {
    CreateOrganisation => "create_organisation",
    EditOrganisation => "edit_organisation",
    CreatePerson => "create_person",
    EditPerson => "edit_person",
    AddMembership => "add_membership",
    RemoveMembership => "remove_membership",
    CreateNetwork => "create_network",
    AddNetworkMember => "add_network_member",
    CreateWorkingGroup => "create_working_group",
    AddWorkingGroupMember => "add_working_group_member",
    RemoveWorkingGroupMember => "remove_working_group_member",
    GrantOperator => "grant_operator",
    IssueOperatorToken => "issue_operator_token",
    ListOutbox => "list_outbox",
    RequeueMail => "requeue_mail",
    CreateDocument => "create_document",
    RetitleDocument => "retitle_document",
    AddVersion => "add_version",
    AddComment => "add_comment",
    ResolveComment => "resolve_comment",
    SetSignatories => "set_signatories",
    AddCommitment => "add_commitment",
    UpdateCommitment => "update_commitment",
    FireShare => "fire share",
    FireWithdraw => "fire withdraw",
    RegisterKey => "register_key",
    ApproveKey => "approve_key",
    RevokeKey => "revoke_key",
    SubmitSignature => "submit_signature",
    DeclineSignature => "decline_signature",
    SubmitStatusReport => "submit_status_report",
    CloseReview => "close_review",
    CreateSocialReport => "create_social_report",
    SaveReportSection => "save_report_section",
    AssembleSocialReport => "assemble_social_report",
    CreateDiagnosis => "create_diagnosis",
    SaveDiagnosis => "save_diagnosis",
    CiteDiagnosisItems => "cite_diagnosis_items",
    ReadDiagnosisDraft => "readable_diagnosis_version",
    ReadDiagnosisConsulted => "readable_diagnosis_version in consultation",
    SetReviewSchedule => "set_review_schedule",
    ReadDocument => "readable_document",
    ReadComments => "readable_comments",
    ReadHistory => "readable_history",
    ReadSignatureRequests => "readable_signature_requests",
    ReadCommentsShared => "readable_comments after share",
    ReadReviews => "readable_reviews",
    ReadReview => "readable_review",
    SubstituteSignatory => "substitute_signatory",
    LoadReportingModel => "load_reporting_model",
    ImportSurvey => "import_survey",
    SaveQuestionnaire => "save_questionnaire",
    OpenConsultation => "open_consultation",
    CloseConsultation => "close_consultation",
    SendPartnerLinks => "send_partner_links",
});

/// One cell of the table: may `who` do `action`?
struct Case {
    action: Action,
    who: Who,
    allowed: bool,
}

/// Reads the table of `docs/permissions.md`. Panics, naming the problem, when a row or a
/// column is unknown, missing or repeated.
fn cases() -> Vec<Case> {
    let mut lines = TABLE
        .lines()
        .skip_while(|line| !line.starts_with("| action | object |"));
    let cells = |line: &str| -> Vec<String> {
        line.trim()
            .trim_matches('|')
            .split('|')
            .map(|cell| cell.trim().trim_matches('`').to_owned())
            .collect()
    };
    let header = cells(
        lines
            .next()
            .expect("docs/permissions.md has no action table"),
    );
    let columns: Vec<Who> = header[2..]
        .iter()
        .map(|name| Who::parse(name).unwrap_or_else(|| panic!("unknown column '{name}'")))
        .collect();
    for who in Who::ALL {
        assert_eq!(
            columns.iter().filter(|c| *c == who).count(),
            1,
            "the table needs exactly one column for {who:?}"
        );
    }
    let mut cases = Vec::new();
    let mut rows = Vec::new();
    for line in lines.skip(1).take_while(|line| line.starts_with('|')) {
        let row = cells(line);
        let action =
            Action::parse(&row[0]).unwrap_or_else(|| panic!("unknown action '{}'", row[0]));
        assert_eq!(row.len(), columns.len() + 2, "row {} is incomplete", row[0]);
        rows.push(action);
        for (who, cell) in columns.iter().zip(&row[2..]) {
            let allowed = match cell.as_str() {
                "yes" => true,
                "no" => false,
                other => panic!("cell '{other}' of {action:?} is neither yes nor no"),
            };
            cases.push(Case {
                action,
                who: *who,
                allowed,
            });
        }
    }
    for action in Action::ALL {
        assert_eq!(
            rows.iter().filter(|a| *a == action).count(),
            1,
            "the table needs exactly one row for {action:?}"
        );
    }
    cases
}

/// The people and objects the table names.
struct Objects {
    people: Vec<(Who, PersonId)>,
    owner: OrganisationId,
    signing_organisation: OrganisationId,
    group: WorkingGroupId,
    holder: PersonId,
    /// The signatory's approved key.
    signatory_key: patto_sign::SigningKey,
    /// The year of the next social report of O: one report per organisation and year,
    /// so each case takes a year of its own.
    next_report_year: std::sync::atomic::AtomicI32,
    /// The year of the next diagnosis of O created by a case: one per territory and year.
    next_diagnosis_year: std::sync::atomic::AtomicI32,
    /// A diagnosis of O in drafting, drafted by G, with a version: the cases save new
    /// versions of it and read it.
    drafting_diagnosis: Document,
    /// A diagnosis of O, drafted by G, put to consultation.
    consulted_diagnosis: Document,
    /// An approved diagnosis of O, whose problem `problema-1` pacts cite.
    approved_diagnosis: Document,
}

impl Objects {
    fn actor(&self, who: Who) -> Actor {
        let (_, id) = self.people.iter().find(|(w, _)| *w == who).unwrap();
        Actor::Person(*id)
    }

    fn person(&self, who: Who) -> PersonId {
        match self.actor(who) {
            Actor::Person(id) => id,
            Actor::System | Actor::Public => unreachable!(),
        }
    }
}

const SYSTEM: Actor = Actor::System;

/// Only whether an action was allowed matters here, not what it returned.
fn ignore<T>(_: T) {}

async fn organisation(engine: &Engine, slug: &str) -> OrganisationId {
    // O is a Comune, since only Comuni and the coalition write social reports; the
    // others are associations. A Comune carries its ISTAT code (Cefalù's, a real one).
    let (category, istat_code) = match slug {
        "owner" => (
            OrganisationCategory::Municipality,
            Some("082027".to_owned()),
        ),
        _ => (OrganisationCategory::Association, None),
    };
    engine
        .create_organisation(
            SYSTEM,
            NewOrganisation {
                slug: slug.into(),
                name: format!("Organisation {slug}"),
                category,
                istat_code,
            },
        )
        .await
        .unwrap()
        .id
}

async fn person(engine: &Engine, name: &str) -> PersonId {
    engine
        .create_person(SYSTEM, &format!("{name}@example.org"), name, Language::It)
        .await
        .unwrap()
        .id
}

async fn objects(engine: &Engine) -> Objects {
    let owner = organisation(engine, "owner").await;
    let other = organisation(engine, "other").await;
    let partner_organisation = organisation(engine, "partner").await;
    let far = organisation(engine, "far").await;
    let signing_organisation = organisation(engine, "signing").await;
    let near = engine.create_network(SYSTEM, "n1", "N1").await.unwrap();
    let distant = engine.create_network(SYSTEM, "n2", "N2").await.unwrap();
    for (network, organisation) in [
        (near.id, owner),
        (near.id, partner_organisation),
        (distant.id, far),
    ] {
        engine
            .add_network_member(SYSTEM, network, organisation)
            .await
            .unwrap();
    }
    let group = engine
        .create_working_group(SYSTEM, "g", "G")
        .await
        .unwrap()
        .id;
    let other_group = engine
        .create_working_group(SYSTEM, "g2", "G2")
        .await
        .unwrap()
        .id;
    let mut people = Vec::new();
    for who in Who::ALL {
        let id = person(engine, &format!("{who:?}").to_lowercase()).await;
        let membership = match who {
            Who::Admin => Some((owner, Role::Admin)),
            Who::OtherAdmin => Some((other, Role::Admin)),
            Who::Coordinator => Some((owner, Role::Coordinator)),
            Who::OtherCoordinator => Some((other, Role::Coordinator)),
            Who::Signatory => Some((signing_organisation, Role::Member)),
            Who::Partner => Some((partner_organisation, Role::Member)),
            Who::NonPartner => Some((far, Role::Member)),
            Who::Holder => Some((owner, Role::Member)),
            Who::Operator | Who::Member | Who::OtherMember | Who::Public => None,
        };
        if let Some((organisation, role)) = membership {
            engine
                .add_membership(SYSTEM, id, organisation, role)
                .await
                .unwrap();
        }
        match who {
            Who::Member => engine.add_working_group_member(SYSTEM, group, id).await,
            Who::OtherMember => {
                engine
                    .add_working_group_member(SYSTEM, other_group, id)
                    .await
            }
            Who::Operator => engine.grant_operator(SYSTEM, id).await,
            _ => Ok(()),
        }
        .unwrap();
        people.push((*who, id));
    }
    let holder = people.iter().find(|(w, _)| *w == Who::Holder).unwrap().1;
    let signatory = people.iter().find(|(w, _)| *w == Who::Signatory).unwrap().1;
    let signatory_key = patto_sign::generate_key();
    let registered = engine
        .register_key(
            Actor::Person(signatory),
            &registration(&signatory_key, "signatory@example.org", "signing"),
        )
        .await
        .unwrap();
    // The signatory's key is approved by a coordinator of the organisation it signs for.
    let approver = person(engine, "signing-approver").await;
    engine
        .add_membership(SYSTEM, approver, signing_organisation, Role::Coordinator)
        .await
        .unwrap();
    engine
        .approve_key(Actor::Person(approver), registered.id, None)
        .await
        .unwrap();
    engine
        .load_reporting_model(SYSTEM, DEFAULT_MODEL, DEFAULT_MODEL_FILE)
        .await
        .unwrap();
    let coordinator = Actor::Person(
        people
            .iter()
            .find(|(w, _)| *w == Who::Coordinator)
            .unwrap()
            .1,
    );
    let diagnosis_of = |year: i32| async move {
        let d = engine
            .create_diagnosis(
                SYSTEM,
                NewDiagnosis {
                    organisation_id: owner,
                    year,
                    working_group_id: Some(group),
                },
            )
            .await
            .unwrap();
        engine
            .save_diagnosis(coordinator, d.id, diagnosis_draft())
            .await
            .unwrap();
        d
    };
    // The fixed diagnoses take the last years, the cases' fresh ones the first.
    let last = chrono::Datelike::year(&chrono::Utc::now()) + 1;
    let drafting_diagnosis = diagnosis_of(last).await;
    let consulted_diagnosis = diagnosis_of(last - 1).await;
    fire(
        engine,
        coordinator,
        &consulted_diagnosis,
        "open_consultation",
    )
    .await
    .unwrap();
    let approved_diagnosis = diagnosis_of(last - 2).await;
    engine
        .set_signatories(
            SYSTEM,
            approved_diagnosis.id,
            &[SignatoryEntry {
                organisation: signing_organisation,
                person: signatory,
            }],
        )
        .await
        .unwrap();
    for transition in ["open_consultation", "submit_for_approval"] {
        fire(engine, coordinator, &approved_diagnosis, transition)
            .await
            .unwrap();
    }
    let request = engine
        .signature_requests(approved_diagnosis.id)
        .await
        .unwrap()[0]
        .request
        .id;
    let statement = engine.statement_for(request).await.unwrap();
    let signature = patto_sign::sign(&signatory_key, statement.as_bytes());
    engine
        .submit_signature(
            Actor::Person(signatory),
            request,
            Some(statement.as_bytes()),
            &signature,
        )
        .await
        .unwrap();
    assert_eq!(
        engine
            .instance_of(approved_diagnosis.id)
            .await
            .unwrap()
            .state,
        "approved"
    );
    Objects {
        people,
        owner,
        signing_organisation,
        group,
        holder,
        signatory_key,
        next_report_year: std::sync::atomic::AtomicI32::new(FIRST_YEAR),
        next_diagnosis_year: std::sync::atomic::AtomicI32::new(FIRST_YEAR),
        drafting_diagnosis,
        consulted_diagnosis,
        approved_diagnosis,
    }
}

/// A diagnosis of O, drafted by G, for a year no diagnosis of O covers yet.
fn new_diagnosis(o: &Objects) -> NewDiagnosis {
    let year = o
        .next_diagnosis_year
        .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    NewDiagnosis {
        organisation_id: o.owner,
        year,
        working_group_id: Some(o.group),
    }
}

/// The content of the diagnoses the matrix saves: one problem, `problema-1`.
fn diagnosis_draft() -> DiagnosisDraft {
    DiagnosisDraft {
        problems: vec![ProblemDraft {
            title: "Furti in abitazione".into(),
            frequency: "frequent".into(),
            source: "Denunce".into(),
            seriousness: 4,
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// The next year no social report of O covers yet. The years a report may cover are
/// few (from `FIRST_YEAR` to next year): the report rows of the table use one each.
fn fresh_report_year(o: &Objects) -> i32 {
    let year = o
        .next_report_year
        .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    assert!(
        year <= chrono::Datelike::year(&chrono::Utc::now()) + 1,
        "the matrix ran out of years for O's social reports ({year})"
    );
    year
}

/// A fresh social report of O, drafted by G, for a year of its own.
async fn social_report(engine: &Engine, o: &Objects) -> Document {
    engine
        .create_social_report(SYSTEM, new_social_report(o))
        .await
        .unwrap()
}

/// A social report of O, drafted by G, for a year no report of O covers yet.
fn new_social_report(o: &Objects) -> NewSocialReport {
    NewSocialReport {
        organisation_id: o.owner,
        year: fresh_report_year(o),
        working_group_id: Some(o.group),
    }
}

/// The text of a section of the reports the matrix drafts.
fn section_text() -> SectionText {
    SectionText {
        narrative: "La raccolta differenziata è cresciuta.".into(),
        goals: "Raggiungere il 65%.".into(),
    }
}

/// The area of the shipped reporting model whose section the matrix drafts.
const AREA: &str = "ambiente";

/// A fresh diagnosis of the owner with a first version; with its questionnaire saved
/// by O's coordinator when `questionnaire`, and its consultation opened too when `open`.
async fn diagnosis(
    engine: &Engine,
    o: &Objects,
    n: usize,
    questionnaire: bool,
    open: bool,
) -> Document {
    let document = engine
        .create_document(
            SYSTEM,
            NewDocument {
                kind: DocumentKind::Diagnosis,
                slug: format!("diagnosis-{n}"),
                title: format!("Diagnosis {n}"),
                parent_id: None,
                owner_organisation_id: o.owner,
                working_group_id: Some(o.group),
            },
        )
        .await
        .unwrap();
    let coordinator = o.actor(Who::Coordinator);
    engine
        .add_version(coordinator, document.id, b"v1".to_vec())
        .await
        .unwrap();
    if questionnaire {
        engine
            .save_questionnaire(
                coordinator,
                document.id,
                crate::consultation::questionnaire(),
            )
            .await
            .unwrap();
    }
    if open {
        let now = chrono::Utc::now();
        engine
            .open_consultation(
                coordinator,
                document.id,
                now,
                now + chrono::Duration::days(1),
            )
            .await
            .unwrap();
    }
    document
}

/// A fresh pact of the owner, worked on by G, with a first version and the signatory on
/// its list.
async fn document(engine: &Engine, o: &Objects, n: usize) -> Document {
    let document = engine
        .create_document(
            SYSTEM,
            NewDocument {
                kind: DocumentKind::Pact,
                slug: format!("pact-{n}"),
                title: format!("Pact {n}"),
                parent_id: None,
                owner_organisation_id: o.owner,
                working_group_id: Some(o.group),
            },
        )
        .await
        .unwrap();
    engine
        .add_version(o.actor(Who::Coordinator), document.id, b"v1".to_vec())
        .await
        .unwrap();
    engine
        .set_signatories(
            SYSTEM,
            document.id,
            &[SignatoryEntry {
                organisation: o.signing_organisation,
                person: o.person(Who::Signatory),
            }],
        )
        .await
        .unwrap();
    document
}

/// A registration of a new key by H for O, made now.
fn holder_registration() -> Vec<u8> {
    registration(&patto_sign::generate_key(), "holder@example.org", "owner")
}

/// Revokes H's key waiting for approval, if any: H has at most one per organisation, and
/// each case starts afresh.
async fn settle_pending_keys(engine: &Engine, o: &Objects) {
    for key in engine.keys_of(o.holder).await.unwrap() {
        if key.status == patto_core::status::SigningKeyStatus::Pending {
            engine
                .revoke_key(Actor::Person(o.holder), key.id, "superseded")
                .await
                .unwrap();
        }
    }
}

/// A new pending key of H for O, registered by H.
async fn pending_key(engine: &Engine, o: &Objects) -> patto_core::records::SigningKey {
    settle_pending_keys(engine, o).await;
    engine
        .register_key(Actor::Person(o.holder), &holder_registration())
        .await
        .unwrap()
}

/// The signatory's request on a fresh document in signing.
async fn signature_request(engine: &Engine, o: &Objects, n: usize) -> SignatureRequestId {
    let d = document(engine, o, n).await;
    let coordinator = o.actor(Who::Coordinator);
    fire(engine, coordinator, &d, "share").await.unwrap();
    fire(engine, coordinator, &d, "freeze").await.unwrap();
    let requests = engine.signature_requests(d.id).await.unwrap();
    requests.first().unwrap().request.id
}

/// A fresh document brought into force by its one signature: its reviews are running.
async fn in_force(engine: &Engine, o: &Objects, n: usize) -> Document {
    let d = document(engine, o, n).await;
    in_force_from(engine, o, d).await
}

/// `d` brought into force by its one signature.
async fn in_force_from(engine: &Engine, o: &Objects, d: Document) -> Document {
    let coordinator = o.actor(Who::Coordinator);
    fire(engine, coordinator, &d, "share").await.unwrap();
    fire(engine, coordinator, &d, "freeze").await.unwrap();
    let request = engine.signature_requests(d.id).await.unwrap()[0].request.id;
    let statement = engine.statement_for(request).await.unwrap();
    let signature = patto_sign::sign(&o.signatory_key, statement.as_bytes());
    engine
        .submit_signature(
            o.actor(Who::Signatory),
            request,
            Some(statement.as_bytes()),
            &signature,
        )
        .await
        .unwrap();
    d
}

/// A review opened by the scheduler on a fresh document brought into force, with one
/// commitment owned by O whose status report it asks for.
async fn open_review(engine: &std::sync::Arc<Engine>, o: &Objects, n: usize) -> ReviewId {
    let d = document(engine, o, n).await;
    engine
        .add_commitment(
            SYSTEM,
            d.id,
            NewCommitment {
                owner_organisation_id: Some(o.owner),
                description: "Publish the tenders".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let d = in_force_from(engine, o, d).await;
    // A year on, the schedule's first instant has come: one tick opens the review.
    let clock = std::sync::Arc::new(patto_scheduler::ManualClock::new(
        chrono::Utc::now() + chrono::Duration::days(366),
    ));
    patto_scheduler::Worker::new(engine.clone(), clock, Default::default())
        .tick()
        .await
        .unwrap();
    let instance = engine.instance_of(d.id).await.unwrap().id;
    engine.reviews(instance).await.unwrap()[0].id
}

/// Prepares a fresh object for case `n` as the system, then tries the action as `actor`.
async fn attempt(
    engine: &std::sync::Arc<Engine>,
    o: &Objects,
    action: Action,
    actor: Actor,
    n: usize,
) -> Result<(), EngineError> {
    match action {
        Action::CreateOrganisation => engine
            .create_organisation(
                actor,
                NewOrganisation {
                    slug: format!("new-{n}"),
                    name: format!("New {n}"),
                    category: OrganisationCategory::Other,
                    istat_code: None,
                },
            )
            .await
            .map(ignore),
        Action::EditOrganisation => engine
            .edit_organisation(
                actor,
                o.owner,
                patto_engine::OrganisationChange {
                    name: Some(format!("Owner {n}")),
                    ..Default::default()
                },
            )
            .await
            .map(ignore),
        Action::CreatePerson => engine
            .create_person(actor, &format!("new-{n}@example.org"), "New", Language::It)
            .await
            .map(ignore),
        Action::EditPerson => engine
            .edit_person(
                actor,
                o.holder,
                PersonChange {
                    name: Some(format!("Holder {n}")),
                    ..Default::default()
                },
            )
            .await
            .map(ignore),
        Action::AddMembership => {
            let newcomer = person(engine, &format!("joining-{n}")).await;
            engine
                .add_membership(actor, newcomer, o.owner, Role::Member)
                .await
        }
        Action::RemoveMembership => {
            let leaving = person(engine, &format!("leaving-{n}")).await;
            engine
                .add_membership(SYSTEM, leaving, o.owner, Role::Member)
                .await
                .unwrap();
            engine
                .remove_membership(actor, leaving, o.owner, Role::Member)
                .await
        }
        Action::CreateNetwork => engine
            .create_network(actor, &format!("net-{n}"), "Net")
            .await
            .map(ignore),
        Action::AddNetworkMember => {
            let network = engine
                .create_network(SYSTEM, &format!("net-{n}"), "Net")
                .await
                .unwrap();
            engine.add_network_member(actor, network.id, o.owner).await
        }
        Action::CreateWorkingGroup => engine
            .create_working_group(actor, &format!("group-{n}"), "Group")
            .await
            .map(ignore),
        Action::AddWorkingGroupMember => {
            let newcomer = person(engine, &format!("joining-{n}")).await;
            engine
                .add_working_group_member(actor, o.group, newcomer)
                .await
        }
        Action::RemoveWorkingGroupMember => {
            let leaving = person(engine, &format!("leaving-{n}")).await;
            engine
                .add_working_group_member(SYSTEM, o.group, leaving)
                .await
                .unwrap();
            engine
                .remove_working_group_member(actor, o.group, leaving)
                .await
        }
        Action::GrantOperator => {
            let candidate = person(engine, &format!("candidate-{n}")).await;
            engine.grant_operator(actor, candidate).await
        }
        Action::IssueOperatorToken => {
            let name = format!("scripted-{n}");
            let operator = person(engine, &name).await;
            engine.grant_operator(SYSTEM, operator).await.unwrap();
            engine
                .issue_operator_token(actor, &format!("{name}@example.org"), 30)
                .await
                .map(ignore)
        }
        Action::ListOutbox => engine.list_outbox(actor, None).await.map(ignore),
        Action::RequeueMail => engine
            .requeue_mail(actor, patto_engine::Requeue::AllFailed)
            .await
            .map(ignore),
        Action::CreateDocument => engine
            .create_document(
                actor,
                NewDocument {
                    kind: DocumentKind::Pact,
                    slug: format!("created-{n}"),
                    title: "Created".into(),
                    parent_id: None,
                    owner_organisation_id: o.owner,
                    working_group_id: Some(o.group),
                },
            )
            .await
            .map(ignore),
        Action::RetitleDocument => {
            let d = document(engine, o, n).await;
            engine
                .retitle_document(actor, d.id, "Retitled")
                .await
                .map(ignore)
        }
        Action::AddVersion => {
            let d = document(engine, o, n).await;
            engine
                .add_version(actor, d.id, b"v2".to_vec())
                .await
                .map(ignore)
        }
        Action::AddComment => {
            let d = document(engine, o, n).await;
            engine
                .add_comment(actor, d.id, None, "A remark")
                .await
                .map(ignore)
        }
        Action::ResolveComment => {
            let d = document(engine, o, n).await;
            let comment = engine
                .add_comment(o.actor(Who::Coordinator), d.id, None, "A remark")
                .await
                .unwrap();
            engine.resolve_comment(actor, comment.id).await
        }
        Action::SetSignatories => {
            let d = document(engine, o, n).await;
            engine.set_signatories(actor, d.id, &[]).await
        }
        Action::AddCommitment => {
            let d = document(engine, o, n).await;
            engine
                .add_commitment(
                    actor,
                    d.id,
                    NewCommitment {
                        description: "Publish the tenders".into(),
                        ..Default::default()
                    },
                )
                .await
                .map(ignore)
        }
        Action::UpdateCommitment => {
            let d = document(engine, o, n).await;
            let commitment = engine
                .add_commitment(
                    SYSTEM,
                    d.id,
                    NewCommitment {
                        description: "Publish the tenders".into(),
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
            engine
                .update_commitment(
                    actor,
                    commitment.id,
                    CommitmentChange {
                        status: Some(CommitmentStatus::InProgress),
                        ..Default::default()
                    },
                )
                .await
                .map(ignore)
        }
        Action::FireShare => {
            let d = document(engine, o, n).await;
            fire(engine, actor, &d, "share").await.map(ignore)
        }
        Action::FireWithdraw => {
            let d = document(engine, o, n).await;
            fire(engine, actor, &d, "withdraw").await.map(ignore)
        }
        Action::RegisterKey => {
            settle_pending_keys(engine, o).await;
            engine
                .register_key(actor, &holder_registration())
                .await
                .map(ignore)
        }
        Action::ApproveKey => {
            let key = pending_key(engine, o).await;
            engine.approve_key(actor, key.id, None).await.map(ignore)
        }
        Action::RevokeKey => {
            let key = pending_key(engine, o).await;
            engine.revoke_key(actor, key.id, "lost").await.map(ignore)
        }
        Action::SubmitSignature => {
            let request = signature_request(engine, o, n).await;
            let statement = engine.statement_for(request).await.unwrap();
            let signature = patto_sign::sign(&o.signatory_key, statement.as_bytes());
            engine
                .submit_signature(actor, request, Some(statement.as_bytes()), &signature)
                .await
                .map(ignore)
        }
        Action::SubstituteSignatory => {
            // The signatory leaves S, which cancels their request; a member of S is
            // named in their place. The signatory rejoins S for the cases after this one.
            let request = signature_request(engine, o, n).await;
            let signatory = o.person(Who::Signatory);
            engine
                .remove_membership(SYSTEM, signatory, o.signing_organisation, Role::Member)
                .await
                .unwrap();
            let substitute = person(engine, &format!("substitute-{n}")).await;
            engine
                .add_membership(SYSTEM, substitute, o.signing_organisation, Role::Member)
                .await
                .unwrap();
            let outcome = engine
                .substitute_signatory(actor, request, substitute)
                .await
                .map(ignore);
            engine
                .add_membership(SYSTEM, signatory, o.signing_organisation, Role::Member)
                .await
                .unwrap();
            outcome
        }
        Action::DeclineSignature => {
            let request = signature_request(engine, o, n).await;
            engine
                .decline_signature(actor, request, "not ready")
                .await
                .map(ignore)
        }
        Action::SubmitStatusReport => {
            let review = open_review(engine, o, n).await;
            let report = engine.status_reports(review).await.unwrap()[0].id;
            engine
                .submit_status_report(
                    actor,
                    report,
                    StatusReportInput {
                        status: ReportStatus::InProgress,
                        note: Some("Under way".into()),
                        evidence_url: None,
                        indicator_value: None,
                    },
                )
                .await
                .map(ignore)
        }
        Action::SetReviewSchedule => {
            let d = in_force(engine, o, n).await;
            engine
                .set_review_schedule(actor, d.id, "0 10 * * 1", None)
                .await
                .map(ignore)
        }
        Action::CloseReview => {
            let review = open_review(engine, o, n).await;
            engine
                .close_review(actor, review, "Minutes", None)
                .await
                .map(ignore)
        }
        Action::CreateSocialReport => engine
            .create_social_report(actor, new_social_report(o))
            .await
            .map(ignore),
        Action::SaveReportSection => {
            let report = social_report(engine, o).await;
            engine
                .save_report_section(actor, report.id, AREA, section_text())
                .await
                .map(ignore)
        }
        Action::AssembleSocialReport => {
            let report = social_report(engine, o).await;
            engine
                .assemble_social_report(actor, report.id)
                .await
                .map(ignore)
        }
        Action::CreateDiagnosis => engine
            .create_diagnosis(actor, new_diagnosis(o))
            .await
            .map(ignore),
        Action::SaveDiagnosis => engine
            .save_diagnosis(actor, o.drafting_diagnosis.id, diagnosis_draft())
            .await
            .map(ignore),
        Action::CiteDiagnosisItems => {
            let d = document(engine, o, n).await;
            engine
                .cite_diagnosis_items(
                    actor,
                    d.id,
                    o.approved_diagnosis.id,
                    &["problema-1".to_owned()],
                )
                .await
                .map(ignore)
        }
        Action::ReadDiagnosisDraft => engine
            .readable_diagnosis_version(actor, &o.drafting_diagnosis.slug, None)
            .await
            .map(ignore),
        Action::ReadDiagnosisConsulted => engine
            .readable_diagnosis_version(actor, &o.consulted_diagnosis.slug, None)
            .await
            .map(ignore),
        Action::SaveQuestionnaire => {
            let d = diagnosis(engine, o, n, false, false).await;
            engine
                .save_questionnaire(actor, d.id, crate::consultation::questionnaire())
                .await
                .map(ignore)
        }
        Action::OpenConsultation => {
            let d = diagnosis(engine, o, n, true, false).await;
            let now = chrono::Utc::now();
            engine
                .open_consultation(actor, d.id, now, now + chrono::Duration::days(1))
                .await
                .map(ignore)
        }
        Action::CloseConsultation => {
            let d = diagnosis(engine, o, n, true, true).await;
            engine.close_consultation(actor, d.id).await.map(ignore)
        }
        Action::SendPartnerLinks => {
            let d = diagnosis(engine, o, n, true, true).await;
            engine.send_partner_links(actor, d.id).await.map(ignore)
        }
        Action::ReadDocument => {
            let d = document(engine, o, n).await;
            engine.readable_document(actor, &d.slug).await.map(ignore)
        }
        Action::ReadComments => {
            let d = document(engine, o, n).await;
            engine
                .readable_comments(actor, d.id, None)
                .await
                .map(ignore)
        }
        Action::ReadHistory => {
            let d = document(engine, o, n).await;
            engine.readable_history(actor, d.id).await.map(ignore)
        }
        Action::ReadSignatureRequests => {
            let d = document(engine, o, n).await;
            engine
                .readable_signature_requests(actor, d.id)
                .await
                .map(ignore)
        }
        Action::ReadCommentsShared => {
            let d = document(engine, o, n).await;
            fire(engine, o.actor(Who::Coordinator), &d, "share")
                .await
                .unwrap();
            // Sent back to drafting, it stays shared: partners stay involved.
            fire(engine, o.actor(Who::Coordinator), &d, "revise")
                .await
                .unwrap();
            engine
                .readable_comments(actor, d.id, None)
                .await
                .map(ignore)
        }
        Action::ReadReviews => {
            let d = document(engine, o, n).await;
            engine.readable_reviews(actor, &d.slug).await?;
            engine
                .readable_review_schedules(actor, &d.slug)
                .await
                .map(ignore)
        }
        Action::ReadReview => {
            let review = open_review(engine, o, n).await;
            engine.readable_review(actor, review).await.map(ignore)
        }
        Action::LoadReportingModel => {
            // A new version per case: cases run in order, so each is above the last.
            let source = DEFAULT_MODEL.replacen("version = 1", &format!("version = {}", n + 2), 1);
            engine
                .load_reporting_model(actor, &source, "model.toml")
                .await
                .map(ignore)
        }
        Action::ImportSurvey => engine
            .import_survey(
                actor,
                SurveyImport {
                    bytes: format!("indicatore;anno;valore\nAMB01;2024;{}\n", n % 100).into_bytes(),
                    format: SurveyFormat::Csv,
                    organisation: Some("owner".into()),
                },
            )
            .await
            .map(ignore),
    }
}

async fn permission_matrix(ctx: &Ctx) {
    let engine = &ctx.engine;
    let o = objects(engine).await;
    let mut wrong = Vec::new();
    for (n, case) in cases().iter().enumerate() {
        let outcome = attempt(engine, &o, case.action, o.actor(case.who), n).await;
        let as_table_says = match (&outcome, case.allowed) {
            (Ok(()), true) => true,
            (Err(error), false) => error.code() == ErrorCode::Forbidden,
            (Ok(()), false) | (Err(_), true) => false,
        };
        if !as_table_says {
            wrong.push(format!(
                "{:?} as {:?}: the table says {}, the engine answered {:?}",
                case.action,
                case.who,
                if case.allowed { "yes" } else { "no" },
                outcome.map_err(|e| format!("{}: {e}", e.code().as_str()))
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} cells of docs/permissions.md do not hold:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    // Every change above went through the directory chain: it verifies, and the
    // directory it describes is the database's.
    assert!(
        engine
            .verify_directory_chain()
            .await
            .unwrap()
            .problem
            .is_none()
    );
    assert_eq!(engine.directory_differences().await.unwrap(), Vec::new());
}

engine_cases!(super::shipped() => permission_matrix, permission_matrix_through_the_api);

/// The rows whose mutations reached the API with the reviews, the reporting model, the
/// survey, the outbox and the social reports, as each is asked over HTTP: prepares a fresh object for case
/// `n` as the system, then sends the operation with `token`. `None` for the other rows,
/// which the API lifecycle tests exercise.
async fn attempt_through_the_api(
    engine: &std::sync::Arc<Engine>,
    o: &Objects,
    action: Action,
    address: std::net::SocketAddr,
    token: &str,
    n: usize,
) -> Option<serde_json::Value> {
    use serde_json::json;
    let (query, variables) = match action {
        Action::SubmitStatusReport => {
            let review = open_review(engine, o, n).await;
            let report = engine.status_reports(review).await.unwrap()[0].id;
            (
                "mutation($id: ID!) { submitStatusReport(report: $id, status: \"in_progress\", note: \"Under way\") { id } }",
                json!({ "id": report.get().to_string() }),
            )
        }
        Action::CloseReview => {
            let review = open_review(engine, o, n).await;
            (
                "mutation($id: ID!) { closeReview(review: $id, minutes: \"Minutes\") { id } }",
                json!({ "id": review.get().to_string() }),
            )
        }
        Action::SetReviewSchedule => {
            let d = in_force(engine, o, n).await;
            (
                "mutation($id: ID!) { setReviewSchedule(document: $id, cron: \"0 10 * * 1\") { id } }",
                json!({ "id": d.id.get().to_string() }),
            )
        }
        Action::SubstituteSignatory => {
            let request = signature_request(engine, o, n).await;
            let signatory = o.person(Who::Signatory);
            engine
                .remove_membership(SYSTEM, signatory, o.signing_organisation, Role::Member)
                .await
                .unwrap();
            let substitute = person(engine, &format!("substitute-{n}")).await;
            engine
                .add_membership(SYSTEM, substitute, o.signing_organisation, Role::Member)
                .await
                .unwrap();
            let answer = crate::api::graphql(
                address,
                Some(token),
                "mutation($request: ID!, $substitute: ID!) { substituteSignatory(request: $request, substitute: $substitute) { id } }",
                json!({
                    "request": request.get().to_string(),
                    "substitute": substitute.get().to_string(),
                }),
            )
            .await;
            engine
                .add_membership(SYSTEM, signatory, o.signing_organisation, Role::Member)
                .await
                .unwrap();
            return Some(answer);
        }
        Action::LoadReportingModel => {
            // A new version per case: cases run in order, so each is above the last.
            let source = DEFAULT_MODEL.replacen("version = 1", &format!("version = {}", n + 2), 1);
            (
                "mutation($source: String!) { loadReportingModel(source: $source) { version } }",
                json!({ "source": source }),
            )
        }
        Action::ImportSurvey => (
            "mutation($content: String!) { importSurvey(format: CSV, content: $content, organisation: \"owner\") { inserted replaced } }",
            json!({ "content": format!("indicatore;anno;valore\nAMB01;2024;{}\n", n % 100) }),
        ),
        Action::CreateSocialReport => {
            let new = new_social_report(o);
            (
                "mutation($o: ID!, $y: Int!, $g: ID) { createSocialReport(organisation: $o, year: $y, workingGroup: $g) { id } }",
                json!({
                    "o": new.organisation_id.get().to_string(),
                    "y": new.year,
                    "g": new.working_group_id.map(|g| g.get().to_string()),
                }),
            )
        }
        Action::SaveReportSection => {
            let report = social_report(engine, o).await;
            let text = section_text();
            (
                "mutation($r: ID!, $a: String!, $n: String!, $g: String!) { saveReportSection(report: $r, area: $a, narrative: $n, goals: $g) { area } }",
                json!({
                    "r": report.id.get().to_string(),
                    "a": AREA,
                    "n": text.narrative,
                    "g": text.goals,
                }),
            )
        }
        Action::AssembleSocialReport => {
            let report = social_report(engine, o).await;
            (
                "mutation($r: ID!) { assembleSocialReport(report: $r) { number } }",
                json!({ "r": report.id.get().to_string() }),
            )
        }
        Action::CreateDiagnosis => {
            let new = new_diagnosis(o);
            (
                "mutation($o: ID!, $y: Int!, $g: ID) { createDiagnosis(organisation: $o, year: $y, workingGroup: $g) { id } }",
                json!({
                    "o": new.organisation_id.get().to_string(),
                    "y": new.year,
                    "g": new.working_group_id.map(|g| g.get().to_string()),
                }),
            )
        }
        Action::SaveDiagnosis => (
            "mutation($d: ID!) { saveDiagnosis(diagnosis: $d, content: { problems: [{ title: \"Furti\", frequency: \"frequent\", source: \"Denunce\", seriousness: 4 }] }) { number } }",
            json!({ "d": o.drafting_diagnosis.id.get().to_string() }),
        ),
        Action::CiteDiagnosisItems => {
            let d = document(engine, o, n).await;
            (
                "mutation($d: ID!, $g: ID!) { citeDiagnosisItems(document: $d, diagnosis: $g, items: [\"problema-1\"]) { itemId } }",
                json!({
                    "d": d.id.get().to_string(),
                    "g": o.approved_diagnosis.id.get().to_string(),
                }),
            )
        }
        Action::ListOutbox => ("{ outbox { edges { node { id } } } }", json!({})),
        Action::RequeueMail => ("mutation { retryAllFailedMail }", json!({})),
        _ => return None,
    };
    Some(crate::api::graphql(address, Some(token), query, variables).await)
}

/// The same table, for the rows whose mutations came with the reviews, the reporting
/// model, the survey, the outbox and the social reports, asked over real HTTP with each person's bearer
/// token: the API adds no right and loses no refusal on the way to the engine.
async fn permission_matrix_through_the_api(ctx: &Ctx) {
    let engine = &ctx.engine;
    let o = objects(engine).await;
    let sessions = std::sync::Arc::new(patto_tests::TestSessions::default());
    let tokens: Vec<(Who, String)> = o
        .people
        .iter()
        .map(|(who, id)| (*who, sessions.issue(*id)))
        .collect();
    let address =
        crate::api::serve(engine.clone(), sessions, patto_api::ApiConfig::default()).await;
    let mut wrong = Vec::new();
    let mut asked = 0;
    for (n, case) in cases().iter().enumerate() {
        let token = &tokens.iter().find(|(who, _)| *who == case.who).unwrap().1;
        let Some(answer) =
            attempt_through_the_api(engine, &o, case.action, address, token, n).await
        else {
            continue;
        };
        asked += 1;
        let code = answer["errors"][0]["extensions"]["code"].as_str();
        let as_table_says = match (code, case.allowed) {
            (None, true) => true,
            (Some(code), false) => code == "FORBIDDEN",
            (None, false) | (Some(_), true) => false,
        };
        if !as_table_says {
            wrong.push(format!(
                "{:?} as {:?}: the table says {}, the API answered {answer}",
                case.action,
                case.who,
                if case.allowed { "yes" } else { "no" },
            ));
        }
    }
    assert_eq!(
        asked,
        14 * Who::ALL.len(),
        "every new mutation as every role"
    );
    assert!(
        wrong.is_empty(),
        "{} cells of docs/permissions.md do not hold through the API:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

/// Mutations open to anyone, which the table therefore has no row for: they are how a
/// session starts and ends.
const OPEN_TO_ANYONE: [&str; 5] = [
    "request_login",
    "login",
    "logout",
    "answer_as_partner",
    "answer_as_citizen",
];

/// Every GraphQL mutation calls one engine service (`crates/patto-api/src/coverage.rs`);
/// each of those services has a row of the table, so that the matrix above runs it as
/// every role against an object of another organisation. A mutation added without its
/// row fails here.
#[test]
fn every_mutation_has_a_row_in_the_permission_table() {
    let rows: Vec<String> = TABLE
        .lines()
        .skip_while(|line| !line.starts_with("| action | object |"))
        .skip(2)
        .take_while(|line| line.starts_with('|'))
        .filter_map(|line| line.split('|').nth(1))
        .map(|cell| cell.trim().trim_matches('`').to_owned())
        .collect();
    let missing: Vec<&str> = patto_api::ENGINE_SERVICES
        .iter()
        .filter(|(_, exposure)| {
            matches!(
                exposure,
                patto_api::Exposure::Field {
                    type_name: "Mutation",
                    ..
                }
            )
        })
        .map(|(service, _)| *service)
        .filter(|service| !OPEN_TO_ANYONE.contains(service))
        .filter(|service| {
            !rows
                .iter()
                .any(|row| row == service || row.starts_with(&format!("{service} ")))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "services behind mutations with no row in docs/permissions.md: {missing:?}"
    );
}
