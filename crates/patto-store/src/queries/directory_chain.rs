//! The directory's evidence and the questions permissions ask about it: instance
//! operators, the directory chain (a hash-chained log of every change to organisations,
//! people, memberships, networks, working groups and operators), the rows of the directory
//! in the one form the chain records them in, and who shares an organisation or a network
//! with whom.

use chrono::{DateTime, SecondsFormat, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query, SelectStatement};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde_json::{Value, json};

use patto_core::ids::*;
use patto_core::records::DirectoryEvent;

use super::*;
use crate::entities::*;
use crate::{Backend, StoreError, Tx};

/// The name of the directory chain in `chain_heads`.
const DIRECTORY_CHAIN: &str = "directory";

/// An entry to append to the key registry's chain or the directory's: both have this
/// shape.
pub struct NewChainEntry<'a> {
    /// Its sequence number (the head's count plus one).
    pub seq: i64,
    /// The head hash it follows.
    pub prev_hash: &'a str,
    /// Its own hash.
    pub hash: &'a str,
    /// What happened.
    pub kind: &'a str,
    /// Who acted; `None` for the system.
    pub actor_id: Option<PersonId>,
    /// The canonical JSON payload.
    pub payload: &'a str,
    /// When it was recorded, as hashed.
    pub recorded_at: DateTime<Utc>,
}

/// The tables of the directory, whose every change is recorded in the directory chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DirectoryTable {
    /// `organisations`.
    Organisations,
    /// `people`.
    People,
    /// `memberships`.
    Memberships,
    /// `networks`.
    Networks,
    /// `network_members`.
    NetworkMembers,
    /// `working_groups`.
    WorkingGroups,
    /// `working_group_members`.
    WorkingGroupMembers,
    /// `operators`.
    Operators,
}

impl DirectoryTable {
    /// Every directory table.
    pub const ALL: [DirectoryTable; 8] = [
        DirectoryTable::Organisations,
        DirectoryTable::People,
        DirectoryTable::Memberships,
        DirectoryTable::Networks,
        DirectoryTable::NetworkMembers,
        DirectoryTable::WorkingGroups,
        DirectoryTable::WorkingGroupMembers,
        DirectoryTable::Operators,
    ];

    /// The table's name, as recorded in the chain.
    pub fn as_str(self) -> &'static str {
        match self {
            DirectoryTable::Organisations => "organisations",
            DirectoryTable::People => "people",
            DirectoryTable::Memberships => "memberships",
            DirectoryTable::Networks => "networks",
            DirectoryTable::NetworkMembers => "network_members",
            DirectoryTable::WorkingGroups => "working_groups",
            DirectoryTable::WorkingGroupMembers => "working_group_members",
            DirectoryTable::Operators => "operators",
        }
    }

    /// The table named `name`, if it is a directory table.
    pub fn from_name(name: &str) -> Option<DirectoryTable> {
        DirectoryTable::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

/// The id of a row of one of the directory tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DirectoryRowId {
    /// A row of `organisations`.
    Organisation(OrganisationId),
    /// A row of `people`.
    Person(PersonId),
    /// A row of `memberships`.
    Membership(MembershipId),
    /// A row of `networks`.
    Network(NetworkId),
    /// A row of `network_members`.
    NetworkMember(NetworkMemberId),
    /// A row of `working_groups`.
    WorkingGroup(WorkingGroupId),
    /// A row of `working_group_members`.
    WorkingGroupMember(WorkingGroupMemberId),
    /// A row of `operators`.
    Operator(OperatorId),
}

/// One row of a directory table, every column included, in the form the directory chain
/// records it: the chain's entries and the replay's comparison both use this form, so a
/// row matches its entry exactly when nothing changed it behind the engine's back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirectoryRow {
    /// The table it is a row of.
    pub table: DirectoryTable,
    /// Its id in that table.
    pub id: i64,
    /// Every column, by name; times in RFC 3339 with microseconds.
    pub row: Value,
}

/// Times at the precision both backends keep.
fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn organisation_row(m: organisation::Model) -> DirectoryRow {
    DirectoryRow {
        table: DirectoryTable::Organisations,
        id: m.id,
        row: json!({ "id": m.id, "slug": m.slug, "name": m.name, "category": m.category,
                     "istat_code": m.istat_code, "created_at": time(m.created_at) }),
    }
}

fn person_row(m: person::Model) -> DirectoryRow {
    DirectoryRow {
        table: DirectoryTable::People,
        id: m.id,
        row: json!({ "id": m.id, "email": m.email, "name": m.name, "language": m.language,
                     "created_at": time(m.created_at) }),
    }
}

fn membership_row(m: membership::Model) -> DirectoryRow {
    DirectoryRow {
        table: DirectoryTable::Memberships,
        id: m.id,
        row: json!({ "id": m.id, "person_id": m.person_id, "organisation_id": m.organisation_id,
                     "role": m.role, "created_at": time(m.created_at) }),
    }
}

fn network_row(m: network::Model) -> DirectoryRow {
    DirectoryRow {
        table: DirectoryTable::Networks,
        id: m.id,
        row: json!({ "id": m.id, "slug": m.slug, "name": m.name, "created_at": time(m.created_at) }),
    }
}

fn network_member_row(m: network_member::Model) -> DirectoryRow {
    DirectoryRow {
        table: DirectoryTable::NetworkMembers,
        id: m.id,
        row: json!({ "id": m.id, "network_id": m.network_id, "organisation_id": m.organisation_id,
                     "joined_at": time(m.joined_at) }),
    }
}

fn working_group_row(m: working_group::Model) -> DirectoryRow {
    DirectoryRow {
        table: DirectoryTable::WorkingGroups,
        id: m.id,
        row: json!({ "id": m.id, "slug": m.slug, "name": m.name, "created_at": time(m.created_at) }),
    }
}

fn working_group_member_row(m: working_group_member::Model) -> DirectoryRow {
    DirectoryRow {
        table: DirectoryTable::WorkingGroupMembers,
        id: m.id,
        row: json!({ "id": m.id, "working_group_id": m.working_group_id, "person_id": m.person_id,
                     "joined_at": time(m.joined_at) }),
    }
}

fn operator_row(m: operator::Model) -> DirectoryRow {
    DirectoryRow {
        table: DirectoryTable::Operators,
        id: m.id,
        row: json!({ "id": m.id, "person_id": m.person_id, "granted_at": time(m.granted_at) }),
    }
}

impl Tx {
    // --- operators ---

    /// Makes a person an instance operator; returns the grant's id.
    pub async fn insert_operator(&self, person_id: PersonId) -> Result<OperatorId, StoreError> {
        let model = operator::ActiveModel {
            person_id: Set(person_id.get()),
            granted_at: Set(now()),
            ..Default::default()
        };
        Ok(OperatorId::new(model.insert(&self.inner).await?.id))
    }

    /// Whether the person is an instance operator.
    pub async fn is_operator(&self, person_id: PersonId) -> Result<bool, StoreError> {
        let count = operator::Entity::find()
            .filter(operator::Column::PersonId.eq(person_id.get()))
            .count(&self.inner)
            .await?;
        Ok(count > 0)
    }

    // --- the questions permissions ask ---

    /// Whether the person holds `role` in that organisation.
    pub async fn has_membership(
        &self,
        person_id: PersonId,
        organisation_id: OrganisationId,
        role: &str,
    ) -> Result<bool, StoreError> {
        Ok(self
            .membership_id(person_id, organisation_id, role)
            .await?
            .is_some())
    }

    /// Whether the person has any membership (whatever the role) in that organisation.
    pub async fn belongs_to(
        &self,
        person_id: PersonId,
        organisation_id: OrganisationId,
    ) -> Result<bool, StoreError> {
        let count = membership::Entity::find()
            .filter(membership::Column::PersonId.eq(person_id.get()))
            .filter(membership::Column::OrganisationId.eq(organisation_id.get()))
            .count(&self.inner)
            .await?;
        Ok(count > 0)
    }

    /// Whether `actor` holds one of `roles` in an organisation where `other` has any
    /// membership.
    pub async fn holds_role_over(
        &self,
        actor: PersonId,
        other: PersonId,
        roles: &[&str],
    ) -> Result<bool, StoreError> {
        let organisations_of_other = Query::select()
            .column(membership::Column::OrganisationId)
            .from(membership::Entity)
            .and_where(Expr::col(membership::Column::PersonId).eq(other.get()))
            .to_owned();
        let count = membership::Entity::find()
            .filter(membership::Column::PersonId.eq(actor.get()))
            .filter(membership::Column::Role.is_in(roles.iter().copied()))
            .filter(membership::Column::OrganisationId.in_subquery(organisations_of_other))
            .count(&self.inner)
            .await?;
        Ok(count > 0)
    }

    /// Organisations that share a network with this one (itself included when it is in a
    /// network), as a subquery.
    pub(crate) fn network_partners_of(organisation_id: OrganisationId) -> SelectStatement {
        let networks_of_owner = Query::select()
            .column(network_member::Column::NetworkId)
            .from(network_member::Entity)
            .and_where(Expr::col(network_member::Column::OrganisationId).eq(organisation_id.get()))
            .to_owned();
        Query::select()
            .column(network_member::Column::OrganisationId)
            .from(network_member::Entity)
            .and_where(Expr::col(network_member::Column::NetworkId).in_subquery(networks_of_owner))
            .to_owned()
    }

    /// Whether the person has a membership in an organisation that shares a network with
    /// this one.
    pub async fn shares_network_with(
        &self,
        person_id: PersonId,
        organisation_id: OrganisationId,
    ) -> Result<bool, StoreError> {
        let count = membership::Entity::find()
            .filter(membership::Column::PersonId.eq(person_id.get()))
            .filter(
                membership::Column::OrganisationId
                    .in_subquery(Self::network_partners_of(organisation_id)),
            )
            .count(&self.inner)
            .await?;
        Ok(count > 0)
    }

    // --- directory rows by their natural keys ---

    /// The membership giving the person this role in the organisation, if any.
    pub async fn membership_id(
        &self,
        person_id: PersonId,
        organisation_id: OrganisationId,
        role: &str,
    ) -> Result<Option<MembershipId>, StoreError> {
        let id = membership::Entity::find()
            .select_only()
            .column(membership::Column::Id)
            .filter(membership::Column::PersonId.eq(person_id.get()))
            .filter(membership::Column::OrganisationId.eq(organisation_id.get()))
            .filter(membership::Column::Role.eq(role))
            .into_tuple::<i64>()
            // At most one row (a unique index): read without `.one()` and its `LIMIT ?`,
            // which makes SQLite re-prepare the statement at every execution.
            .all(&self.inner)
            .await?
            .into_iter()
            .next();
        Ok(id.map(MembershipId::new))
    }

    /// The organisation's place in the network, if it has one.
    pub async fn network_member_id(
        &self,
        network_id: NetworkId,
        organisation_id: OrganisationId,
    ) -> Result<Option<NetworkMemberId>, StoreError> {
        let id = network_member::Entity::find()
            .select_only()
            .column(network_member::Column::Id)
            .filter(network_member::Column::NetworkId.eq(network_id.get()))
            .filter(network_member::Column::OrganisationId.eq(organisation_id.get()))
            .into_tuple::<i64>()
            .one(&self.inner)
            .await?;
        Ok(id.map(NetworkMemberId::new))
    }

    /// The person's place in the working group, if they have one.
    pub async fn working_group_member_id(
        &self,
        working_group_id: WorkingGroupId,
        person_id: PersonId,
    ) -> Result<Option<WorkingGroupMemberId>, StoreError> {
        let id = working_group_member::Entity::find()
            .select_only()
            .column(working_group_member::Column::Id)
            .filter(working_group_member::Column::WorkingGroupId.eq(working_group_id.get()))
            .filter(working_group_member::Column::PersonId.eq(person_id.get()))
            .into_tuple::<i64>()
            // At most one row (a unique index): see `membership_id`.
            .all(&self.inner)
            .await?
            .into_iter()
            .next();
        Ok(id.map(WorkingGroupMemberId::new))
    }

    // --- directory rows as the chain records them ---

    /// One directory row, as the chain records it.
    pub async fn directory_row(
        &self,
        id: DirectoryRowId,
    ) -> Result<Option<DirectoryRow>, StoreError> {
        let db = &self.inner;
        Ok(match id {
            DirectoryRowId::Organisation(id) => organisation::Entity::find_by_id(id.get())
                .one(db)
                .await?
                .map(organisation_row),
            DirectoryRowId::Person(id) => person::Entity::find_by_id(id.get())
                .one(db)
                .await?
                .map(person_row),
            DirectoryRowId::Membership(id) => membership::Entity::find_by_id(id.get())
                .one(db)
                .await?
                .map(membership_row),
            DirectoryRowId::Network(id) => network::Entity::find_by_id(id.get())
                .one(db)
                .await?
                .map(network_row),
            DirectoryRowId::NetworkMember(id) => network_member::Entity::find_by_id(id.get())
                .one(db)
                .await?
                .map(network_member_row),
            DirectoryRowId::WorkingGroup(id) => working_group::Entity::find_by_id(id.get())
                .one(db)
                .await?
                .map(working_group_row),
            DirectoryRowId::WorkingGroupMember(id) => {
                working_group_member::Entity::find_by_id(id.get())
                    .one(db)
                    .await?
                    .map(working_group_member_row)
            }
            DirectoryRowId::Operator(id) => operator::Entity::find_by_id(id.get())
                .one(db)
                .await?
                .map(operator_row),
        })
    }

    /// Every row of every directory table, as the chain records them.
    pub async fn directory_rows(&self) -> Result<Vec<DirectoryRow>, StoreError> {
        let db = &self.inner;
        let mut rows = Vec::new();
        for table in DirectoryTable::ALL {
            match table {
                DirectoryTable::Organisations => rows.extend(
                    organisation::Entity::find()
                        .all(db)
                        .await?
                        .into_iter()
                        .map(organisation_row),
                ),
                DirectoryTable::People => rows.extend(
                    person::Entity::find()
                        .all(db)
                        .await?
                        .into_iter()
                        .map(person_row),
                ),
                DirectoryTable::Memberships => rows.extend(
                    membership::Entity::find()
                        .all(db)
                        .await?
                        .into_iter()
                        .map(membership_row),
                ),
                DirectoryTable::Networks => rows.extend(
                    network::Entity::find()
                        .all(db)
                        .await?
                        .into_iter()
                        .map(network_row),
                ),
                DirectoryTable::NetworkMembers => rows.extend(
                    network_member::Entity::find()
                        .all(db)
                        .await?
                        .into_iter()
                        .map(network_member_row),
                ),
                DirectoryTable::WorkingGroups => rows.extend(
                    working_group::Entity::find()
                        .all(db)
                        .await?
                        .into_iter()
                        .map(working_group_row),
                ),
                DirectoryTable::WorkingGroupMembers => rows.extend(
                    working_group_member::Entity::find()
                        .all(db)
                        .await?
                        .into_iter()
                        .map(working_group_member_row),
                ),
                DirectoryTable::Operators => rows.extend(
                    operator::Entity::find()
                        .all(db)
                        .await?
                        .into_iter()
                        .map(operator_row),
                ),
            }
        }
        Ok(rows)
    }

    // --- the directory chain ---

    /// The directory chain's head (event count, hash); locked for this transaction on
    /// PostgreSQL, so that appends are serialised.
    pub async fn directory_chain_head_for_update(&self) -> Result<(i64, String), StoreError> {
        self.chain_head(DIRECTORY_CHAIN, true).await
    }

    /// The directory chain's recorded head.
    pub async fn directory_chain_head(&self) -> Result<(i64, String), StoreError> {
        self.chain_head(DIRECTORY_CHAIN, false).await
    }

    /// Appends to the directory chain and moves its head. Never updated or deleted.
    pub async fn append_directory_event(
        &self,
        new: NewChainEntry<'_>,
    ) -> Result<DirectoryEvent, StoreError> {
        let model = directory_event::ActiveModel {
            seq: Set(new.seq),
            prev_hash: Set(new.prev_hash.to_owned()),
            hash: Set(new.hash.to_owned()),
            kind: Set(new.kind.to_owned()),
            actor_id: Set(new.actor_id.map(PersonId::get)),
            payload: Set(new.payload.to_owned()),
            recorded_at: Set(new.recorded_at),
            ..Default::default()
        };
        let inserted = model.insert(&self.inner).await?;
        self.move_chain_head(DIRECTORY_CHAIN, &new).await?;
        record(inserted)
    }

    /// The directory chain, in order.
    pub async fn directory_events(&self) -> Result<Vec<DirectoryEvent>, StoreError> {
        records(
            directory_event::Entity::find()
                .order_by_asc(directory_event::Column::Seq)
                .order_by_asc(directory_event::Column::Id)
                .all(&self.inner)
                .await?,
        )
    }

    /// A chain's head (event count, hash) from `chain_heads`; locked for this transaction
    /// on PostgreSQL when it is about to move (SQLite has one writer at a time anyway).
    pub(crate) async fn chain_head(
        &self,
        name: &str,
        for_update: bool,
    ) -> Result<(i64, String), StoreError> {
        let mut query = chain_head::Entity::find_by_id(name.to_owned());
        if for_update && self.backend == Backend::Postgres {
            query = query.lock_exclusive();
        }
        let head = query.one(&self.inner).await?.ok_or_else(|| {
            StoreError::Corrupt(format!(
                "the head of the {name} chain is missing; run the migrations"
            ))
        })?;
        Ok((head.event_count, head.head_hash))
    }

    /// Moves a chain's head onto the entry just appended.
    pub(crate) async fn move_chain_head(
        &self,
        name: &str,
        appended: &NewChainEntry<'_>,
    ) -> Result<(), StoreError> {
        chain_head::Entity::update_many()
            .col_expr(chain_head::Column::EventCount, Expr::value(appended.seq))
            .col_expr(chain_head::Column::HeadHash, Expr::value(appended.hash))
            .filter(chain_head::Column::Name.eq(name))
            .exec(&self.inner)
            .await?;
        Ok(())
    }
}
