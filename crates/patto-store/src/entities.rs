//! SeaORM entities, one module per table. They are private to this crate, so the compiler
//! keeps them here: other crates see the plain records of [`patto_core::records`], into
//! which `convert.rs` turns every row.

macro_rules! no_relations {
    () => {
        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    };
}

pub(crate) mod organisation {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "organisations")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub slug: String,
        pub name: String,
        pub category: String,
        pub istat_code: Option<String>,
        pub created_at: DateTimeUtc,
    }
    no_relations!();
}

pub(crate) mod person {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "people")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub email: String,
        pub name: String,
        pub language: String,
        pub created_at: DateTimeUtc,
    }
    no_relations!();
}

pub(crate) mod membership {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "memberships")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub person_id: i64,
        pub organisation_id: i64,
        pub role: String,
        pub created_at: DateTimeUtc,
    }
    no_relations!();
}

pub(crate) mod network {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "networks")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub slug: String,
        pub name: String,
        pub created_at: DateTimeUtc,
    }
    no_relations!();
}

pub(crate) mod network_member {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "network_members")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub network_id: i64,
        pub organisation_id: i64,
        pub joined_at: DateTimeUtc,
    }
    no_relations!();
}

pub(crate) mod working_group {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "working_groups")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub slug: String,
        pub name: String,
        pub created_at: DateTimeUtc,
    }
    no_relations!();
}

pub(crate) mod working_group_member {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "working_group_members")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub working_group_id: i64,
        pub person_id: i64,
        pub joined_at: DateTimeUtc,
    }
    no_relations!();
}

pub(crate) mod document {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "documents")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub kind: String,
        pub slug: String,
        pub title: String,
        pub parent_id: Option<i64>,
        pub owner_organisation_id: i64,
        pub working_group_id: Option<i64>,
        pub published_version: Option<i32>,
        pub created_at: DateTimeUtc,
    }
    no_relations!();
}

pub(crate) mod document_version {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "document_versions")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub document_id: i64,
        pub number: i32,
        pub content: Vec<u8>,
        pub content_sha256: String,
        pub author_id: i64,
        pub created_at: DateTimeUtc,
    }
    no_relations!();
}

pub(crate) mod comment {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "comments")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub version_id: i64,
        pub author_id: i64,
        pub body: String,
        pub resolved_by: Option<i64>,
        pub resolved_at: Option<DateTimeUtc>,
        pub created_at: DateTimeUtc,
    }
    no_relations!();
}

pub(crate) mod signatory {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "signatories")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub document_id: i64,
        pub organisation_id: i64,
        pub person_id: i64,
        pub position: i32,
    }
    no_relations!();
}

pub(crate) mod commitment {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "commitments")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub document_id: i64,
        pub owner_organisation_id: Option<i64>,
        pub description: String,
        pub due_date: Option<Date>,
        pub indicator: Option<String>,
        pub target: Option<String>,
        pub status: String,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }
    no_relations!();
}

pub(crate) mod workflow_definition {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "workflow_definitions")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub name: String,
        pub version: i32,
        pub source: String,
        pub sha256: String,
        pub registered_at: DateTimeUtc,
    }
    no_relations!();
}

pub(crate) mod workflow_instance {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "workflow_instances")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub document_id: i64,
        pub definition_name: String,
        pub definition_version: i32,
        pub state: String,
        pub version: i64,
        pub event_count: i64,
        pub head_hash: String,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }
    no_relations!();
}

pub(crate) mod event {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "events")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub instance_id: i64,
        pub seq: i64,
        pub prev_hash: String,
        pub hash: String,
        pub kind: String,
        pub actor_id: Option<i64>,
        pub payload: String,
        pub recorded_at: DateTimeUtc,
    }
    no_relations!();
}

pub(crate) mod outbox_message {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "outbox")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub message_id: String,
        pub instance_id: Option<i64>,
        pub event_seq: Option<i64>,
        pub person_id: i64,
        pub recipient: String,
        pub language: String,
        pub template: String,
        pub payload: String,
        pub status: String,
        pub attempts: i32,
        pub next_attempt_at: DateTimeUtc,
        pub last_error: Option<String>,
        pub created_at: DateTimeUtc,
        pub sent_at: Option<DateTimeUtc>,
        pub secret: Option<String>,
        pub expires_at: Option<DateTimeUtc>,
        pub claimed_until: Option<DateTimeUtc>,
    }
    no_relations!();
}

pub(crate) mod auth_token {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "auth_tokens")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub token_sha256: String,
        pub person_id: i64,
        pub kind: String,
        pub created_at: DateTimeUtc,
        pub expires_at: DateTimeUtc,
        pub revoked_at: Option<DateTimeUtc>,
    }
    no_relations!();
}

pub(crate) mod login_code {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "login_codes")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub person_id: i64,
        pub salt: String,
        pub code_sha256: String,
        pub failed_attempts: i32,
        pub created_at: DateTimeUtc,
        pub expires_at: DateTimeUtc,
        pub closed_at: Option<DateTimeUtc>,
    }
    no_relations!();
}

pub(crate) mod effect {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "effects")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub instance_id: i64,
        pub event_seq: i64,
        pub kind: String,
        pub params: String,
        pub created_at: DateTimeUtc,
    }
    no_relations!();
}

pub(crate) mod review_schedule {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "review_schedules")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub instance_id: i64,
        pub cron: String,
        pub time_zone: String,
        pub active: bool,
        pub created_at: DateTimeUtc,
        pub stopped_at: Option<DateTimeUtc>,
        pub transition: Option<String>,
        pub next_fire_at: Option<DateTimeUtc>,
        pub lease_until: Option<DateTimeUtc>,
    }
    no_relations!();
}

pub(crate) mod review {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "reviews")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub schedule_id: i64,
        pub instance_id: i64,
        pub scheduled_for: DateTimeUtc,
        pub fired_at: DateTimeUtc,
        pub skipped: i32,
        pub transition: Option<String>,
        pub status: String,
        pub minutes: Option<String>,
        pub outcome: Option<String>,
        pub closed_at: Option<DateTimeUtc>,
        pub closed_by: Option<i64>,
    }
    no_relations!();
}

pub(crate) mod status_report {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "status_reports")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub review_id: i64,
        pub commitment_id: i64,
        pub requested_at: DateTimeUtc,
        pub status: Option<String>,
        pub note: Option<String>,
        pub evidence_url: Option<String>,
        pub indicator_value: Option<String>,
        pub submitted_at: Option<DateTimeUtc>,
        pub submitted_by: Option<i64>,
    }
    no_relations!();
}

pub(crate) mod reminder {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "reminders")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub kind: String,
        pub subject_id: i64,
        pub step: i32,
        pub due_at: DateTimeUtc,
        pub fired_at: DateTimeUtc,
    }
    no_relations!();
}

pub(crate) mod signing_round {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "signing_rounds")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub instance_id: i64,
        pub document_id: i64,
        pub version_number: i32,
        pub intent: String,
        pub signing_order: String,
        pub status: String,
        pub opened_at: DateTimeUtc,
        pub closed_at: Option<DateTimeUtc>,
    }
    no_relations!();
}

pub(crate) mod signature_request {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "signature_requests")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub round_id: i64,
        pub organisation_id: i64,
        pub person_id: i64,
        pub position: i32,
        pub status: String,
        pub created_at: DateTimeUtc,
        pub decided_at: Option<DateTimeUtc>,
        pub statement: Option<String>,
        pub signature: Option<String>,
        pub key_id: Option<i64>,
        pub reason: Option<String>,
    }
    no_relations!();
}

pub(crate) mod signing_key {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "signing_keys")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub person_id: i64,
        pub organisation_id: Option<i64>,
        pub public_key: String,
        pub fingerprint: String,
        pub status: String,
        pub registered_at: DateTimeUtc,
        pub approved_by: Option<i64>,
        pub approved_at: Option<DateTimeUtc>,
        pub rotated_at: Option<DateTimeUtc>,
        pub replaced_by: Option<i64>,
        pub revoked_at: Option<DateTimeUtc>,
        pub revoke_reason: Option<String>,
        pub registration: Option<String>,
    }
    no_relations!();
}

pub(crate) mod key_approval {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "key_approvals")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub key_id: i64,
        pub approver_id: i64,
        pub act_reference: Option<String>,
        pub approved_at: DateTimeUtc,
    }
    no_relations!();
}

pub(crate) mod key_event {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "key_events")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub seq: i64,
        pub prev_hash: String,
        pub hash: String,
        pub kind: String,
        pub actor_id: Option<i64>,
        pub payload: String,
        pub recorded_at: DateTimeUtc,
    }
    no_relations!();
}

pub(crate) mod chain_head {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "chain_heads")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub name: String,
        pub event_count: i64,
        pub head_hash: String,
    }
    no_relations!();
}

pub(crate) mod operator {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "operators")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub person_id: i64,
        pub granted_at: DateTimeUtc,
    }
    no_relations!();
}

pub(crate) mod directory_event {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "directory_events")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub seq: i64,
        pub prev_hash: String,
        pub hash: String,
        pub kind: String,
        pub actor_id: Option<i64>,
        pub payload: String,
        pub recorded_at: DateTimeUtc,
    }
    no_relations!();
}

pub(crate) mod reporting_model {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "reporting_models")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub version: i32,
        pub source: String,
        pub sha256: String,
        pub loaded_by: Option<i64>,
        pub loaded_at: DateTimeUtc,
    }
    no_relations!();
}

pub(crate) mod survey_value {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "survey_values")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub organisation_id: i64,
        pub indicator_code: String,
        pub year: i32,
        pub value: String,
        pub source: String,
        pub note: String,
        pub model_version: i32,
        pub entered_by: Option<i64>,
        pub entered_at: DateTimeUtc,
    }
    no_relations!();
}

pub(crate) mod social_report {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "social_reports")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub document_id: i64,
        pub organisation_id: i64,
        pub year: i32,
        pub model_version: i32,
    }
    no_relations!();
}

pub(crate) mod social_report_section {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "social_report_sections")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub document_id: i64,
        pub area_code: String,
        pub narrative: String,
        pub goals: String,
        pub updated_by: i64,
        pub updated_at: DateTimeUtc,
    }
    no_relations!();
}

pub(crate) mod diagnosis {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "diagnoses")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub document_id: i64,
        pub organisation_id: i64,
        pub year: i32,
    }
    no_relations!();
}

pub(crate) mod diagnosis_citation {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "diagnosis_citations")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub document_id: i64,
        pub diagnosis_id: i64,
        pub diagnosis_version: i32,
        pub item_id: String,
        pub document_version: Option<i32>,
        pub cited_by: i64,
        pub cited_at: DateTimeUtc,
    }
    no_relations!();
}

pub(crate) mod consultation {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "consultations")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub document_id: i64,
        pub questionnaire: String,
        pub public_slug: String,
        pub opens_at: Option<DateTimeUtc>,
        pub closes_at: Option<DateTimeUtc>,
        pub opened_seq: Option<i64>,
        pub closed_at: Option<DateTimeUtc>,
        pub updated_by: Option<i64>,
        pub updated_at: DateTimeUtc,
    }
    no_relations!();
}

pub(crate) mod consultation_link {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "consultation_links")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub consultation_id: i64,
        pub organisation_id: i64,
        pub token_sha256: String,
        pub used: bool,
    }
    no_relations!();
}

pub(crate) mod consultation_answer {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "consultation_answers")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub consultation_id: i64,
        pub audience: String,
        pub answers: String,
    }
    no_relations!();
}
