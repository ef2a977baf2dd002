//! Which GraphQL field serves each public service of the engine. The `api` tests read
//! every `pub async fn` of the engine's source and fail when one is missing here, or
//! when a field named here is missing from the schema: a service cannot be added
//! without deciding how the API offers it.

/// How the API offers one engine service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exposure {
    /// Through this field of this type of the schema.
    Field {
        /// The GraphQL type (`Query`, `Mutation`, `Document`...).
        type_name: &'static str,
        /// The field's name.
        field: &'static str,
    },
    /// Not through the API, for the reason given.
    NotExposed(&'static str),
}

const fn field(type_name: &'static str, field: &'static str) -> Exposure {
    Exposure::Field { type_name, field }
}

/// Why the unrestricted reads stay off the API: they take no actor, so the API serves
/// the reading services that apply the visibility rules instead.
const UNRESTRICTED: Exposure = Exposure::NotExposed(
    "an unrestricted read for the command line; the API serves the actor-aware readable_* service instead",
);
/// Start-up and operations, run by the binary itself.
const OPERATIONS: Exposure =
    Exposure::NotExposed("start-up and operations of the server, run by the binary");

/// Every public service of the engine and how the API offers it.
pub const ENGINE_SERVICES: &[(&str, Exposure)] = &[
    // Start-up and operations.
    ("connect", OPERATIONS),
    ("migrate", OPERATIONS),
    ("applied_migrations", OPERATIONS),
    ("ping", OPERATIONS),
    ("close", OPERATIONS),
    ("is_empty", OPERATIONS),
    ("backup_into", OPERATIONS),
    // Directory.
    (
        "create_organisation",
        field("Mutation", "createOrganisation"),
    ),
    ("edit_organisation", field("Mutation", "editOrganisation")),
    ("create_person", field("Mutation", "createPerson")),
    ("edit_person", field("Mutation", "editPerson")),
    ("add_membership", field("Mutation", "addMembership")),
    ("remove_membership", field("Mutation", "removeMembership")),
    ("create_network", field("Mutation", "createNetwork")),
    ("add_network_member", field("Mutation", "addNetworkMember")),
    (
        "create_working_group",
        field("Mutation", "createWorkingGroup"),
    ),
    (
        "add_working_group_member",
        field("Mutation", "addWorkingGroupMember"),
    ),
    (
        "remove_working_group_member",
        field("Mutation", "removeWorkingGroupMember"),
    ),
    (
        "grant_operator",
        Exposure::NotExposed(
            "instance-wide rights are granted on the server only, with `patto operator add`",
        ),
    ),
    ("organisation_by_slug", field("Query", "organisation")),
    ("organisations", field("Query", "organisations")),
    ("organisations_by_ids", field("Document", "owner")),
    ("person", field("Query", "me")),
    ("people_by_ids", field("Signatory", "person")),
    (
        "person_by_email",
        Exposure::NotExposed(
            "finding people by address is for the command line; the API never lists addresses",
        ),
    ),
    (
        "directory_differences",
        Exposure::NotExposed("an audit of the directory chain, run by `patto audit verify`"),
    ),
    // Documents.
    ("create_document", field("Mutation", "createDocument")),
    ("retitle_document", field("Mutation", "retitleDocument")),
    ("add_version", field("Mutation", "addVersion")),
    ("add_comment", field("Mutation", "addComment")),
    ("resolve_comment", field("Mutation", "resolveComment")),
    ("set_signatories", field("Mutation", "setSignatories")),
    ("add_commitment", field("Mutation", "addCommitment")),
    ("update_commitment", field("Mutation", "updateCommitment")),
    ("document_by_slug", UNRESTRICTED),
    ("comments", UNRESTRICTED),
    ("instance_of", UNRESTRICTED),
    ("events", UNRESTRICTED),
    ("signature_requests", UNRESTRICTED),
    ("statement_for", UNRESTRICTED),
    ("open_signature_requests", UNRESTRICTED),
    ("export_evidence", UNRESTRICTED),
    ("readable_documents", field("Query", "documents")),
    ("readable_document", field("Query", "document")),
    ("readable_versions", field("Document", "versions")),
    ("readable_signatories", field("Document", "signatories")),
    ("readable_signatures", field("Document", "signatures")),
    ("readable_comments", field("Document", "comments")),
    ("readable_commitments", field("Document", "commitments")),
    ("readable_instance", field("Document", "instance")),
    ("readable_history", field("Document", "history")),
    // Subscriptions: following a document's events as they are committed.
    ("follow_events", field("Subscription", "instanceEvents")),
    (
        "document_to_follow",
        field("Subscription", "instanceEvents"),
    ),
    ("followed_events", field("Subscription", "instanceEvents")),
    (
        "readable_signature_requests",
        field("Document", "signatureRequests"),
    ),
    (
        "readable_signature_request",
        field("Query", "signatureRequest"),
    ),
    ("readable_statement", field("SignatureRequest", "statement")),
    ("readable_evidence", field("Query", "evidence")),
    (
        "available_transitions",
        field("Document", "availableTransitions"),
    ),
    // Workflow.
    ("fire", field("Mutation", "fireTransition")),
    (
        "outbox",
        Exposure::NotExposed(
            "an unrestricted read for the command line; the API serves list_outbox, for operators only",
        ),
    ),
    (
        "recorded_effects",
        Exposure::NotExposed("an operator's inspection of effects; the history shows each one"),
    ),
    ("review_schedules", UNRESTRICTED),
    // Keys and signatures.
    ("register_key", field("Mutation", "registerKey")),
    ("approve_key", field("Mutation", "approveKey")),
    ("revoke_key", field("Mutation", "revokeKey")),
    ("keys_of", field("Query", "keys")),
    ("submit_signature", field("Mutation", "submitSignature")),
    ("decline_signature", field("Mutation", "declineSignature")),
    ("is_operator", UNRESTRICTED),
    (
        "substitute_signatory",
        field("Mutation", "substituteSignatory"),
    ),
    // Authentication.
    (
        "authenticate",
        Exposure::NotExposed(
            "every request's bearer token goes through it (`EngineSessions`), not a field",
        ),
    ),
    ("request_login", field("Mutation", "requestLogin")),
    ("login", field("Mutation", "login")),
    ("logout", field("Mutation", "logout")),
    (
        "issue_operator_token",
        Exposure::NotExposed(
            "operators' tokens are minted on the server only, with `patto token create`",
        ),
    ),
    // Mail.
    (
        "claim_mail",
        Exposure::NotExposed("the mail worker's own service, run inside `patto serve`"),
    ),
    (
        "mark_mail_sent",
        Exposure::NotExposed("the mail worker's own service, run inside `patto serve`"),
    ),
    (
        "mark_mail_failed",
        Exposure::NotExposed("the mail worker's own service, run inside `patto serve`"),
    ),
    ("list_outbox", field("Query", "outbox")),
    ("requeue_mail", field("Mutation", "retryMail")),
    // Reporting model and baseline survey.
    (
        "load_reporting_model",
        field("Mutation", "loadReportingModel"),
    ),
    ("reporting_model", field("Query", "reportingModel")),
    (
        "reporting_model_versions",
        field("Query", "reportingModelVersions"),
    ),
    ("import_survey", field("Mutation", "importSurvey")),
    ("export_survey", field("Query", "surveyExport")),
    // Review checkpoints, status reports and reminders.
    (
        "claim_due_review_schedules",
        Exposure::NotExposed(
            "the review worker of `patto serve` (crate `patto-scheduler`) runs it on its own clock",
        ),
    ),
    (
        "fire_review",
        Exposure::NotExposed(
            "the review worker of `patto serve` (crate `patto-scheduler`) runs it on its own clock",
        ),
    ),
    (
        "send_due_reminders",
        Exposure::NotExposed(
            "the review worker of `patto serve` (crate `patto-scheduler`) runs it on its own clock",
        ),
    ),
    (
        "set_first_review_instant",
        Exposure::NotExposed(
            "the review worker of `patto serve` (crate `patto-scheduler`) runs it on its own clock",
        ),
    ),
    (
        "queue_mail_in_bulk",
        Exposure::NotExposed("load-test setup for `patto bench outbox`; only the system may"),
    ),
    (
        "add_due_review_schedules",
        Exposure::NotExposed("load-test setup for `patto bench schedules`; only the system may"),
    ),
    (
        "review_count",
        Exposure::NotExposed("a count for benchmarks and tests"),
    ),
    ("close_review", field("Mutation", "closeReview")),
    (
        "submit_status_report",
        field("Mutation", "submitStatusReport"),
    ),
    (
        "set_review_schedule",
        field("Mutation", "setReviewSchedule"),
    ),
    ("reviews", UNRESTRICTED),
    ("readable_reviews", field("Query", "reviews")),
    (
        "readable_review_schedules",
        field("Query", "reviewSchedules"),
    ),
    ("readable_review", field("Query", "review")),
    ("status_reports", UNRESTRICTED),
    // Audit chains.
    (
        "verify_chain",
        Exposure::NotExposed(
            "run by `patto audit verify`; evidence bundles let anyone verify offline",
        ),
    ),
    (
        "verify_key_chain",
        Exposure::NotExposed("run by `patto audit verify`"),
    ),
    (
        "verify_directory_chain",
        Exposure::NotExposed("run by `patto audit verify`"),
    ),
    (
        "verify_all_chains",
        Exposure::NotExposed("run by `patto audit verify --all`"),
    ),
    // Social reports.
    (
        "create_social_report",
        field("Mutation", "createSocialReport"),
    ),
    (
        "save_report_section",
        field("Mutation", "saveReportSection"),
    ),
    (
        "assemble_social_report",
        field("Mutation", "assembleSocialReport"),
    ),
    ("readable_social_report", field("Query", "socialReport")),
    ("readable_social_reports", field("Query", "socialReports")),
    (
        "readable_report_sections",
        field("SocialReport", "sections"),
    ),
    ("readable_report_version", field("SocialReport", "version")),
    // Diagnoses.
    ("create_diagnosis", field("Mutation", "createDiagnosis")),
    ("save_diagnosis", field("Mutation", "saveDiagnosis")),
    (
        "cite_diagnosis_items",
        field("Mutation", "citeDiagnosisItems"),
    ),
    ("readable_diagnosis", field("Query", "diagnosis")),
    ("readable_diagnoses", field("Query", "diagnoses")),
    ("readable_diagnosis_version", field("Diagnosis", "version")),
    (
        "readable_citations",
        field("Document", "diagnosisCitations"),
    ),
    // The consultation of a Diagnosi.
    ("save_questionnaire", field("Mutation", "saveQuestionnaire")),
    ("open_consultation", field("Mutation", "openConsultation")),
    ("close_consultation", field("Mutation", "closeConsultation")),
    ("send_partner_links", field("Mutation", "sendPartnerLinks")),
    ("answer_as_partner", field("Mutation", "answerConsultation")),
    (
        "answer_as_citizen",
        field("Mutation", "answerPublicConsultation"),
    ),
    ("consultation", field("Query", "consultation")),
    ("public_consultation", field("Query", "publicConsultation")),
    (
        "consultation_results",
        field("Query", "consultationResults"),
    ),
    (
        "closed_consultations",
        Exposure::NotExposed(
            "the portal's list of closed consultations; the API reads results by slug",
        ),
    ),
];
