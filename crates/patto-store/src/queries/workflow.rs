//! Workflow definitions and instances, the event log, and the effects of transitions:
//! outbox messages, recorded effects and review schedules.

use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{
    Alias, CommonTableExpression, Expr, ExprTrait, InsertStatement, IntoIden, LockBehavior,
    LockType, Query, SelectStatement, SubQueryStatement, UpdateStatement, WithClause, WithQuery,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityName,
    EntityTrait, FromQueryResult, IdenStatic, Iterable, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait, Statement,
};

use patto_core::ids::*;
use patto_core::records::*;
use patto_core::status::OutboxStatus;

use super::*;
use crate::batch::sqlite_statements_together;
use crate::entities::*;
use crate::{Backend, Store, StoreError, Tx};

/// An event to append to an instance's chain.
pub struct NewEvent<'a> {
    /// The instance.
    pub instance_id: InstanceId,
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

/// A message to put in the outbox.
pub struct NewOutboxMessage<'a> {
    /// Its stable Message-ID.
    pub message_id: &'a str,
    /// The instance whose change causes it.
    pub instance_id: Option<InstanceId>,
    /// The event that causes it.
    pub event_seq: Option<i64>,
    /// The recipient.
    pub person_id: PersonId,
    /// The recipient's address.
    pub recipient: &'a str,
    /// The language to write in.
    pub language: &'a str,
    /// The template's name.
    pub template: &'a str,
    /// The template's parameters, as JSON.
    pub payload: &'a str,
}

/// Column prefixes of a row that holds a document and its instance side by side.
const DOCUMENT_PREFIX: &str = "document_";
const INSTANCE_PREFIX: &str = "instance_";

/// Pending outbox rows, to be sent from now on.
fn outbox_models<'a>(
    messages: &'a [NewOutboxMessage<'a>],
) -> impl Iterator<Item = outbox_message::ActiveModel> + 'a {
    let created_at = now();
    messages.iter().map(move |new| outbox_message::ActiveModel {
        message_id: Set(new.message_id.to_owned()),
        instance_id: Set(new.instance_id.map(InstanceId::get)),
        event_seq: Set(new.event_seq),
        person_id: Set(new.person_id.get()),
        recipient: Set(new.recipient.to_owned()),
        language: Set(new.language.to_owned()),
        template: Set(new.template.to_owned()),
        payload: Set(new.payload.to_owned()),
        status: Set(OutboxStatus::Pending.as_str().to_owned()),
        attempts: Set(0),
        next_attempt_at: Set(created_at),
        last_error: Set(None),
        created_at: Set(created_at),
        sent_at: Set(None),
        ..Default::default()
    })
}

impl Tx {
    // --- workflow definitions and instances ---

    /// The registered definition with this name and version.
    pub async fn workflow_definition(
        &self,
        name: &str,
        version: i32,
    ) -> Result<Option<WorkflowDefinition>, StoreError> {
        workflow_definition::Entity::find()
            .filter(workflow_definition::Column::Name.eq(name))
            .filter(workflow_definition::Column::Version.eq(version))
            .one(&self.inner)
            .await?
            .map(record)
            .transpose()
    }

    /// Registers a definition's source.
    pub async fn insert_workflow_definition(
        &self,
        name: &str,
        version: i32,
        source: &str,
        sha256: &str,
    ) -> Result<WorkflowDefinition, StoreError> {
        let model = workflow_definition::ActiveModel {
            name: Set(name.to_owned()),
            version: Set(version),
            source: Set(source.to_owned()),
            sha256: Set(sha256.to_owned()),
            registered_at: Set(now()),
            ..Default::default()
        };
        record(model.insert(&self.inner).await?)
    }

    /// Starts a document's workflow instance in its initial state.
    pub async fn insert_instance(
        &self,
        document_id: DocumentId,
        definition_name: &str,
        definition_version: i32,
        state: &str,
        genesis_hash: &str,
    ) -> Result<WorkflowInstance, StoreError> {
        let model = workflow_instance::ActiveModel {
            document_id: Set(document_id.get()),
            definition_name: Set(definition_name.to_owned()),
            definition_version: Set(definition_version),
            state: Set(state.to_owned()),
            version: Set(1),
            event_count: Set(0),
            head_hash: Set(genesis_hash.to_owned()),
            created_at: Set(now()),
            updated_at: Set(now()),
            ..Default::default()
        };
        record(model.insert(&self.inner).await?)
    }

    /// The instance with this id.
    pub async fn instance(&self, id: InstanceId) -> Result<Option<WorkflowInstance>, StoreError> {
        workflow_instance::Entity::find_by_id(id.get())
            .one(&self.inner)
            .await?
            .map(record)
            .transpose()
    }

    /// The instance of a document, with its row locked until the transaction ends
    /// (PostgreSQL); on SQLite the write transaction already holds the database lock.
    pub async fn instance_of_document_for_update(
        &self,
        document_id: DocumentId,
    ) -> Result<Option<WorkflowInstance>, StoreError> {
        let mut query = workflow_instance::Entity::find()
            .filter(workflow_instance::Column::DocumentId.eq(document_id.get()));
        if self.backend == Backend::Postgres {
            query = query.lock_exclusive();
        }
        query.one(&self.inner).await?.map(record).transpose()
    }

    /// The instance of a document.
    pub async fn instance_of_document(
        &self,
        document_id: DocumentId,
    ) -> Result<Option<WorkflowInstance>, StoreError> {
        workflow_instance::Entity::find()
            .filter(workflow_instance::Column::DocumentId.eq(document_id.get()))
            .one(&self.inner)
            .await?
            .map(record)
            .transpose()
    }

    /// Every instance id, in order.
    pub async fn instance_ids(&self) -> Result<Vec<InstanceId>, StoreError> {
        Ok(workflow_instance::Entity::find()
            .select_only()
            .column(workflow_instance::Column::Id)
            .order_by_asc(workflow_instance::Column::Id)
            .into_tuple::<i64>()
            .all(&self.inner)
            .await?
            .into_iter()
            .map(InstanceId::new)
            .collect())
    }

    /// Takes the instance for a state change if it is still at `expected_version`, and
    /// moves it to the next version. `false` means someone else changed it first (or it
    /// does not exist). The conditional UPDATE is what makes two concurrent firings
    /// exclusive on both backends: the loser's WHERE no longer matches.
    pub async fn claim_instance(
        &self,
        id: InstanceId,
        expected_version: i64,
    ) -> Result<bool, StoreError> {
        let result = workflow_instance::Entity::update_many()
            .col_expr(
                workflow_instance::Column::Version,
                Expr::col(workflow_instance::Column::Version).add(1),
            )
            .col_expr(workflow_instance::Column::UpdatedAt, Expr::value(now()))
            .filter(workflow_instance::Column::Id.eq(id.get()))
            .filter(workflow_instance::Column::Version.eq(expected_version))
            .exec(&self.inner)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// Claims the instance of a document like [`Tx::claim_instance`] and returns the
    /// document with the instance as the claim left it; `None` when the instance is no
    /// longer at `expected_version` or there is no such document or instance. It is one
    /// statement, one round trip: on PostgreSQL the claim's `UPDATE ... RETURNING` is a
    /// common table expression of the document's SELECT; SQLite has no UPDATE in a
    /// common table expression, but its RETURNING clause may hold subqueries, one per
    /// column of the document.
    pub async fn claim_document_instance(
        &self,
        document_id: DocumentId,
        expected_version: i64,
    ) -> Result<Option<(Document, WorkflowInstance)>, StoreError> {
        let backend = self.inner.get_database_backend();
        let statement = match self.backend {
            Backend::Sqlite => {
                let instances = workflow_instance::Entity.table_name();
                let documents = document::Entity.table_name();
                let returned = workflow_instance::Column::iter()
                    .map(|column| {
                        let column = column.as_str();
                        format!(r#""{column}" AS "{INSTANCE_PREFIX}{column}""#)
                    })
                    .chain(document::Column::iter().map(|column| {
                        let column = column.as_str();
                        format!(
                            r#"(SELECT "{column}" FROM "{documents}" WHERE "{documents}"."id" = "{instances}"."document_id") AS "{DOCUMENT_PREFIX}{column}""#
                        )
                    }))
                    .collect::<Vec<_>>()
                    .join(", ");
                Statement::from_sql_and_values(
                    backend,
                    format!(
                        r#"UPDATE "{instances}" SET "version" = "version" + 1, "updated_at" = ? WHERE "document_id" = ? AND "version" = ? RETURNING {returned}"#
                    ),
                    [
                        now().into(),
                        document_id.get().into(),
                        expected_version.into(),
                    ],
                )
            }
            Backend::Postgres => {
                let mut claim = Query::update();
                claim
                    .table(workflow_instance::Entity)
                    .value(
                        workflow_instance::Column::Version,
                        Expr::col(workflow_instance::Column::Version).add(1),
                    )
                    .value(workflow_instance::Column::UpdatedAt, now())
                    .and_where(workflow_instance::Column::DocumentId.eq(document_id.get()))
                    .and_where(workflow_instance::Column::Version.eq(expected_version))
                    .returning_all();
                let claimed = Alias::new("claimed");
                let mut with = WithClause::new();
                with.cte(common_table(claimed.clone(), claim));
                let mut statement = WithQuery::new();
                statement
                    .with_clause(with)
                    .query(document_joined_to_instance(claimed));
                backend.build(&statement)
            }
        };
        let Some(row) = self.inner.query_one_raw(statement).await? else {
            return Ok(None);
        };
        Ok(Some((
            record(document::Model::from_query_result(&row, DOCUMENT_PREFIX)?)?,
            record(workflow_instance::Model::from_query_result(
                &row,
                INSTANCE_PREFIX,
            )?)?,
        )))
    }

    // --- the event log ---

    /// Appends an event and moves the instance's chain head to it, with the outbox rows
    /// the event causes, and moves the instance to `state` when one is given. Events are
    /// never updated or deleted: there is no query here that would. On PostgreSQL it is
    /// one statement (the instance UPDATE and the outbox INSERT as common table
    /// expressions of the event INSERT), one round trip.
    pub async fn append_event(
        &self,
        new: NewEvent<'_>,
        state: Option<&str>,
        outbox: &[NewOutboxMessage<'_>],
    ) -> Result<Event, StoreError> {
        let event = self.insert_event(new, state, outbox).await?;
        // Told to the followers of the event feed once (and only if) this commits.
        self.appended(&event);
        Ok(event)
    }

    async fn insert_event(
        &self,
        new: NewEvent<'_>,
        state: Option<&str>,
        outbox: &[NewOutboxMessage<'_>],
    ) -> Result<Event, StoreError> {
        let mut head = Query::update();
        head.table(workflow_instance::Entity)
            .value(workflow_instance::Column::EventCount, new.seq)
            .value(workflow_instance::Column::HeadHash, new.hash)
            .value(workflow_instance::Column::UpdatedAt, now())
            .and_where(workflow_instance::Column::Id.eq(new.instance_id.get()));
        if let Some(state) = state {
            head.value(workflow_instance::Column::State, state);
        }
        let model = event::ActiveModel {
            instance_id: Set(new.instance_id.get()),
            seq: Set(new.seq),
            prev_hash: Set(new.prev_hash.to_owned()),
            hash: Set(new.hash.to_owned()),
            kind: Set(new.kind.to_owned()),
            actor_id: Set(new.actor_id.map(PersonId::get)),
            payload: Set(new.payload.to_owned()),
            recorded_at: Set(new.recorded_at),
            ..Default::default()
        };
        match self.backend {
            Backend::Sqlite => {
                let inserted = model.insert(&self.inner).await?;
                self.inner.execute(&head).await?;
                self.insert_outbox_messages(outbox).await?;
                record(inserted)
            }
            Backend::Postgres => {
                let mut insert = event::Entity::insert(model).into_query();
                insert.returning_all();
                let mut with = WithClause::new();
                with.cte(
                    CommonTableExpression::new()
                        .query(head)
                        .table_name("moved_head")
                        .to_owned(),
                );
                if !outbox.is_empty() {
                    with.cte(
                        CommonTableExpression::new()
                            .query(
                                outbox_message::Entity::insert_many(outbox_models(outbox))
                                    .into_query(),
                            )
                            .table_name("queued_messages")
                            .to_owned(),
                    );
                }
                let statement = self.inner.get_database_backend().build(&insert.with(with));
                let inserted = event::Entity::find()
                    .from_raw_sql(statement)
                    .one(&self.inner)
                    .await?
                    .ok_or_else(|| {
                        StoreError::Corrupt("an appended event was not returned".into())
                    })?;
                record(inserted)
            }
        }
    }

    /// The events of an instance in the order they are stored (by sequence number).
    pub async fn events(&self, instance_id: InstanceId) -> Result<Vec<Event>, StoreError> {
        records(
            event::Entity::find()
                .filter(event::Column::InstanceId.eq(instance_id.get()))
                .order_by_asc(event::Column::Seq)
                .order_by_asc(event::Column::Id)
                .all(&self.inner)
                .await?,
        )
    }

    // --- effects: outbox, recorded effects, review schedules, signing rounds ---

    /// Puts messages in the outbox, pending, all in one statement.
    pub async fn insert_outbox_messages(
        &self,
        messages: &[NewOutboxMessage<'_>],
    ) -> Result<(), StoreError> {
        if messages.is_empty() {
            return Ok(());
        }
        outbox_message::Entity::insert_many(outbox_models(messages))
            .exec_without_returning(&self.inner)
            .await?;
        Ok(())
    }

    /// Outbox rows, newest last; only those of one instance when given.
    pub async fn outbox(
        &self,
        instance_id: Option<InstanceId>,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        let mut query = outbox_message::Entity::find().order_by_asc(outbox_message::Column::Id);
        if let Some(instance_id) = instance_id {
            query = query.filter(outbox_message::Column::InstanceId.eq(instance_id.get()));
        }
        records(query.all(&self.inner).await?)
    }

    /// Records an effect of a transition.
    pub async fn insert_effect(
        &self,
        instance_id: InstanceId,
        event_seq: i64,
        kind: &str,
        params: &str,
    ) -> Result<RecordedEffect, StoreError> {
        let model = effect::ActiveModel {
            instance_id: Set(instance_id.get()),
            event_seq: Set(event_seq),
            kind: Set(kind.to_owned()),
            params: Set(params.to_owned()),
            created_at: Set(now()),
            ..Default::default()
        };
        record(model.insert(&self.inner).await?)
    }

    /// The recorded effects of an instance, oldest first.
    pub async fn effects(
        &self,
        instance_id: InstanceId,
    ) -> Result<Vec<RecordedEffect>, StoreError> {
        records(
            effect::Entity::find()
                .filter(effect::Column::InstanceId.eq(instance_id.get()))
                .order_by_asc(effect::Column::Id)
                .all(&self.inner)
                .await?,
        )
    }

    /// Starts a review schedule for an instance.
    pub async fn insert_review_schedule(
        &self,
        instance_id: InstanceId,
        cron: &str,
        time_zone: &str,
        transition: Option<&str>,
    ) -> Result<ReviewSchedule, StoreError> {
        let model = review_schedule::ActiveModel {
            instance_id: Set(instance_id.get()),
            cron: Set(cron.to_owned()),
            time_zone: Set(time_zone.to_owned()),
            active: Set(true),
            created_at: Set(now()),
            stopped_at: Set(None),
            transition: Set(transition.map(str::to_owned)),
            next_fire_at: Set(None),
            lease_until: Set(None),
            ..Default::default()
        };
        record(model.insert(&self.inner).await?)
    }

    /// Stops every active review schedule of the instance; returns how many were stopped.
    pub async fn stop_review_schedules(&self, instance_id: InstanceId) -> Result<u64, StoreError> {
        let result = review_schedule::Entity::update_many()
            .col_expr(review_schedule::Column::Active, Expr::value(false))
            .col_expr(review_schedule::Column::StoppedAt, Expr::value(now()))
            .filter(review_schedule::Column::InstanceId.eq(instance_id.get()))
            .filter(review_schedule::Column::Active.eq(true))
            .exec(&self.inner)
            .await?;
        Ok(result.rows_affected)
    }

    /// The review schedules of an instance, oldest first.
    pub async fn review_schedules(
        &self,
        instance_id: InstanceId,
    ) -> Result<Vec<ReviewSchedule>, StoreError> {
        records(
            review_schedule::Entity::find()
                .filter(review_schedule::Column::InstanceId.eq(instance_id.get()))
                .order_by_asc(review_schedule::Column::Id)
                .all(&self.inner)
                .await?,
        )
    }
}

/// Messages to everyone in any of `sets`, all with the same template and parameters.
pub struct NotifyPeople<'a> {
    /// Who receives the message.
    pub sets: &'a [PeopleSet<'a>],
    /// The template's name.
    pub template: &'a str,
    /// The template's parameters, as JSON.
    pub payload: &'a str,
}

/// A transition whose checks its write makes (see [`Store::write_conditional_transition`]):
/// the event to append (with the instance it moves, the head it follows and its hash),
/// what the write checks before writing, and the messages it queues.
pub struct ConditionalTransition<'a> {
    /// The event; its `seq - 1` and `prev_hash` are the count and head the caller read.
    pub event: NewEvent<'a>,
    /// The instance version the caller read; the statement moves it on by one.
    pub seen_version: i64,
    /// The state the instance moves to.
    pub to_state: &'a str,
    /// The person firing, who must be in one of `holds_any_of` when the statement runs.
    pub person_id: PersonId,
    /// The people sets of the roles that may fire the transition.
    pub holds_any_of: &'a [PeopleSet<'a>],
    /// The document whose versions `needs_version` asks about.
    pub document_id: DocumentId,
    /// Whether the document must have a version (the `has_version` guard).
    pub needs_version: bool,
    /// The messages the transition queues, one per person of each set.
    pub notify: &'a [NotifyPeople<'a>],
}

impl Store {
    /// A document and its workflow instance, read outside any transaction and without a
    /// lock, in one statement: what a transition written in one statement starts from.
    pub async fn document_with_instance(
        &self,
        document_id: DocumentId,
    ) -> Result<Option<(Document, WorkflowInstance)>, StoreError> {
        // The text depends only on the backend, so it is written once per backend rather
        // than at every firing (19 aliased columns: the profile showed it).
        static TEXT: [OnceLock<String>; 2] = [OnceLock::new(), OnceLock::new()];
        let slot = match self.backend {
            Backend::Postgres => 0,
            Backend::Sqlite => 1,
        };
        let backend = self.db.get_database_backend();
        let sql = TEXT[slot].get_or_init(|| backend.build(&document_with_instance_query()).sql);
        let statement =
            Statement::from_sql_and_values(backend, sql.as_str(), [document_id.get().into()]);
        let Some(row) = self.query_one_unpinged(statement).await? else {
            return Ok(None);
        };
        Ok(Some((
            record(document::Model::from_query_result(&row, DOCUMENT_PREFIX)?)?,
            record(workflow_instance::Model::from_query_result(
                &row,
                INSTANCE_PREFIX,
            )?)?,
        )))
    }

    /// Writes a transition whose checks the write itself makes, against the data
    /// committed when it runs: the instance's UPDATE (new state, next version, new head)
    /// moves it only if it is still at the version, count and head the caller read, the
    /// caller still holds one of the roles and the guard still holds; the event and the
    /// messages are written only if the UPDATE moved it, and the messages go to the
    /// people in their sets at that moment. `None` means a condition did not hold and
    /// nothing was written; the caller finds out why by trying again in a transaction of
    /// its own. It returns once the change is durable.
    ///
    /// On PostgreSQL it is one statement (the INSERTs select from the UPDATE's
    /// RETURNING), run in a batch with the statements of other transitions fired at the
    /// same moment and committed with them (see `batch`); an instance that another
    /// transaction holds is skipped rather than waited for, so that it never holds up the
    /// batch. On SQLite it is three statements, the UPDATE first, sent with the rest of
    /// its batch in one call that begins and commits the batch's transaction under the
    /// writer lock (see `batch`).
    pub async fn write_conditional_transition(
        &self,
        transition: ConditionalTransition<'_>,
    ) -> Result<Option<Event>, StoreError> {
        let statement = match self.backend {
            Backend::Postgres => postgres_transition_statement(&transition)?,
            Backend::Sqlite => sqlite_transition_statements(&transition)?,
        };
        self.batches
            .write(transition.event.instance_id, statement)
            .await?
            .map(record)
            .transpose()
    }
}

/// The SQLite form of [`Store::write_conditional_transition`]: SQLite has no
/// data-modifying common table expressions, so the UPDATE and the INSERTs are three
/// statements, sent to the database together in one call (see `batch`). The INSERTs write
/// only if the instance's head is now this event's hash, which only this UPDATE can have
/// set: when the UPDATE moved nothing, nothing is written and no row comes back.
fn sqlite_transition_statements(
    transition: &ConditionalTransition<'_>,
) -> Result<Statement, StoreError> {
    let new = &transition.event;
    let written_at = now();
    let moved_by_this = || {
        Expr::exists(
            Query::select()
                .expr(Expr::val(1))
                .from(workflow_instance::Entity)
                .and_where(workflow_instance::Column::Id.eq(new.instance_id.get()))
                .and_where(workflow_instance::Column::EventCount.eq(new.seq))
                .and_where(workflow_instance::Column::HeadHash.eq(new.hash))
                .to_owned(),
        )
    };
    let update = moving_update(transition, written_at, Backend::Sqlite);
    let mut statements = vec![sea_orm::DbBackend::Sqlite.build(&update)];
    for message in transition.notify {
        if message.sets.is_empty() {
            continue;
        }
        let queue = queue_messages(
            message,
            new,
            written_at,
            Expr::val(new.instance_id.get()),
            None,
            Backend::Sqlite,
            Some(moved_by_this()),
        )?;
        statements.push(sea_orm::DbBackend::Sqlite.build(&queue));
    }
    let append = append_event(
        new,
        Expr::val(new.instance_id.get()),
        None,
        Some(moved_by_this()),
    )?;
    statements.push(sea_orm::DbBackend::Sqlite.build(&append));
    Ok(sqlite_statements_together(&statements))
}

/// The read of [`Store::document_with_instance`], with `$1` (or `?`) for the document's
/// id, its only parameter.
fn document_with_instance_query() -> SelectStatement {
    let mut select = document_joined_to_instance(workflow_instance::Entity);
    select.and_where(Expr::col((document::Entity, document::Column::Id)).eq(0_i64));
    select
}

/// Every column of a document and of its instance, read from `instances` (the table, or
/// a common table expression returning its rows), named with [`DOCUMENT_PREFIX`] and
/// [`INSTANCE_PREFIX`] so that both models can be read from one row.
fn document_joined_to_instance(instances: impl IntoIden) -> SelectStatement {
    let instances = instances.into_iden();
    let mut select = Query::select();
    for column in document::Column::iter() {
        select.expr_as(
            Expr::col((document::Entity, column)),
            Alias::new(format!("{DOCUMENT_PREFIX}{}", column.as_str())),
        );
    }
    for column in workflow_instance::Column::iter() {
        select.expr_as(
            Expr::col((instances.clone(), column)),
            Alias::new(format!("{INSTANCE_PREFIX}{}", column.as_str())),
        );
    }
    select.from(document::Entity).inner_join(
        instances.clone(),
        Expr::col((instances, workflow_instance::Column::DocumentId))
            .equals((document::Entity, document::Column::Id)),
    );
    select
}

/// The columns a new event is written with.
const EVENT_COLUMNS: [event::Column; 8] = [
    event::Column::InstanceId,
    event::Column::Seq,
    event::Column::PrevHash,
    event::Column::Hash,
    event::Column::Kind,
    event::Column::ActorId,
    event::Column::Payload,
    event::Column::RecordedAt,
];

/// A Message-ID of the shape of the engine's `mail::new_message_id` (`<uuid@host>`),
/// made in SQL because the recipients are only known as the statement runs.
fn message_id_sql(backend: Backend) -> String {
    let uuid = match backend {
        Backend::Postgres => "gen_random_uuid()::text",
        Backend::Sqlite => SQLITE_UUID_V4,
    };
    format!("'<' || {uuid} || '@{MESSAGE_ID_HOST}>'")
}

/// A version 4 UUID on SQLite, which has no UUID function: random bytes, with the
/// version nibble 4 and the variant nibble one of 8, 9, a and b.
const SQLITE_UUID_V4: &str = "lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) \
     || '-4' || substr(lower(hex(randomblob(2))), 2) \
     || '-' || substr('89ab', 1 + (random() & 3), 1) || substr(lower(hex(randomblob(2))), 2) \
     || '-' || lower(hex(randomblob(6)))";

/// The UPDATE that moves the instance (on PostgreSQL returning its id) only if every
/// check of a [`ConditionalTransition`] holds.
fn moving_update(
    transition: &ConditionalTransition<'_>,
    written_at: DateTime<Utc>,
    backend: Backend,
) -> UpdateStatement {
    let new = &transition.event;
    let mut update = Query::update();
    update
        .table(workflow_instance::Entity)
        .value(
            workflow_instance::Column::Version,
            Expr::col(workflow_instance::Column::Version).add(1),
        )
        .value(workflow_instance::Column::State, transition.to_state)
        .value(workflow_instance::Column::EventCount, new.seq)
        .value(workflow_instance::Column::HeadHash, new.hash)
        .value(workflow_instance::Column::UpdatedAt, written_at)
        .and_where(workflow_instance::Column::Id.eq(new.instance_id.get()))
        .and_where(workflow_instance::Column::Version.eq(transition.seen_version))
        .and_where(workflow_instance::Column::EventCount.eq(new.seq - 1))
        .and_where(workflow_instance::Column::HeadHash.eq(new.prev_hash))
        .cond_where(Tx::in_any_set(
            Expr::val(transition.person_id.get()),
            transition.holds_any_of,
        ));
    if backend == Backend::Postgres {
        // The INSERTs of the same statement select from these rows (see
        // `postgres_transition_statement`).
        update.returning_col(workflow_instance::Column::Id);
        // The statement runs in a batch with others (see `batch`): waiting here for a
        // row another transaction holds would hold up the whole batch, so a held
        // instance is skipped, and the caller queues for it on the transactional path.
        // SQLite needs no such thing: its one writer holds the whole database.
        update.and_where(
            workflow_instance::Column::Id.in_subquery(
                Query::select()
                    .column(workflow_instance::Column::Id)
                    .from(workflow_instance::Entity)
                    .and_where(workflow_instance::Column::Id.eq(new.instance_id.get()))
                    .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
                    .to_owned(),
            ),
        );
    }
    if transition.needs_version {
        update.and_where(Expr::exists(
            Query::select()
                .expr(Expr::val(1))
                .from(document_version::Entity)
                .and_where(
                    Expr::col(document_version::Column::DocumentId)
                        .eq(transition.document_id.get()),
                )
                .to_owned(),
        ));
    }
    update
}

/// The INSERT that queues one message for every person in `message`'s sets, read as it
/// runs. `instance` is the instance's id as an expression; `moved` names the UPDATE's
/// rows to select from when the INSERT is part of the same statement (PostgreSQL), so
/// that it writes nothing when the UPDATE moved nothing.
fn queue_messages(
    message: &NotifyPeople<'_>,
    new: &NewEvent<'_>,
    written_at: DateTime<Utc>,
    instance: Expr,
    moved: Option<&Alias>,
    backend: Backend,
    only_if: Option<Expr>,
) -> Result<InsertStatement, StoreError> {
    let mut recipients = Query::select();
    recipients
        .expr(Expr::cust(message_id_sql(backend)))
        .expr(instance)
        .expr(Expr::val(new.seq))
        .expr(Expr::col((person::Entity, person::Column::Id)))
        .expr(Expr::col((person::Entity, person::Column::Email)))
        .expr(Expr::col((person::Entity, person::Column::Language)))
        .expr(Expr::val(message.template))
        .expr(Expr::val(message.payload))
        .expr(Expr::val(OutboxStatus::Pending.as_str()))
        .expr(Expr::val(0))
        .expr(Expr::val(written_at))
        .expr(Expr::val(written_at));
    if let Some(moved) = moved {
        recipients.from(moved.clone());
    }
    recipients.from(person::Entity).cond_where(Tx::in_any_set(
        Expr::col((person::Entity, person::Column::Id)),
        message.sets,
    ));
    if let Some(condition) = only_if {
        recipients.and_where(condition);
    }
    let mut queue = Query::insert();
    queue
        .into_table(outbox_message::Entity)
        .columns([
            outbox_message::Column::MessageId,
            outbox_message::Column::InstanceId,
            outbox_message::Column::EventSeq,
            outbox_message::Column::PersonId,
            outbox_message::Column::Recipient,
            outbox_message::Column::Language,
            outbox_message::Column::Template,
            outbox_message::Column::Payload,
            outbox_message::Column::Status,
            outbox_message::Column::Attempts,
            outbox_message::Column::NextAttemptAt,
            outbox_message::Column::CreatedAt,
        ])
        .select_from(recipients)
        .map_err(|error| StoreError::Database(DbErr::Custom(format!("outbox query: {error}"))))?;
    Ok(queue)
}

/// The INSERT that appends the event (returning it), written only if the transition's
/// UPDATE moved the instance: `instance` is the instance's id as an expression; `moved`
/// names the UPDATE's rows to select from when the INSERT is part of the same statement
/// (PostgreSQL), `only_if` the condition that it did otherwise (SQLite), as in
/// [`queue_messages`].
fn append_event(
    new: &NewEvent<'_>,
    instance: Expr,
    moved: Option<&Alias>,
    only_if: Option<Expr>,
) -> Result<InsertStatement, StoreError> {
    let mut appended = Query::select();
    appended
        .expr(instance)
        .expr(Expr::val(new.seq))
        .expr(Expr::val(new.prev_hash))
        .expr(Expr::val(new.hash))
        .expr(Expr::val(new.kind))
        .expr(Expr::val(new.actor_id.map(PersonId::get)))
        .expr(Expr::val(new.payload))
        .expr(Expr::val(new.recorded_at));
    if let Some(moved) = moved {
        appended.from(moved.clone());
    }
    if let Some(condition) = only_if {
        appended.and_where(condition);
    }
    let mut append = Query::insert();
    append
        .into_table(event::Entity)
        .columns(EVENT_COLUMNS)
        .select_from(appended)
        .map_err(|error| StoreError::Database(DbErr::Custom(format!("event query: {error}"))))?
        .returning_all();
    Ok(append)
}

/// The PostgreSQL form of [`Store::write_conditional_transition`], one statement:
///
/// ```sql
/// WITH moved AS (UPDATE workflow_instances ... RETURNING id),
///      queued_0 AS (INSERT INTO outbox ... SELECT ... FROM moved, people WHERE ...)
/// INSERT INTO events ... SELECT ... FROM moved RETURNING *
/// ```
///
/// Its event is announced to the listening servers once its batch has committed (see
/// `feed`).
fn postgres_transition_statement(
    transition: &ConditionalTransition<'_>,
) -> Result<Statement, StoreError> {
    let new = &transition.event;
    let written_at = now();
    let moved = Alias::new("moved");
    let mut with = WithClause::new();
    with.cte(common_table(
        moved.clone(),
        moving_update(transition, written_at, Backend::Postgres),
    ));
    for (index, message) in transition.notify.iter().enumerate() {
        if message.sets.is_empty() {
            continue;
        }
        let queue = queue_messages(
            message,
            new,
            written_at,
            Expr::col((moved.clone(), workflow_instance::Column::Id)),
            Some(&moved),
            Backend::Postgres,
            None,
        )?;
        with.cte(common_table(Alias::new(format!("queued_{index}")), queue));
    }
    let append = append_event(
        new,
        Expr::col((moved.clone(), workflow_instance::Column::Id)),
        Some(&moved),
        None,
    )?;
    // Assembled in place: sea-query's chaining forms (`to_owned`, `SelectStatement::with`)
    // copy the whole statement at each step, which cost as much as writing its text.
    let mut statement = WithQuery::new();
    statement.with_clause(with).query(append);
    Ok(sea_orm::DbBackend::Postgres.build(&statement))
}

/// The common table expression `name AS (query)`.
fn common_table(name: Alias, query: impl Into<SubQueryStatement>) -> CommonTableExpression {
    let mut table = CommonTableExpression::new();
    table.query(query).table_name(name);
    table
}
