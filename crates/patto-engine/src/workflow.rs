//! Firing transitions: roles, guards against facts read in the same transaction, the new
//! state, the chained event, the effects, and the automatic transitions that follow.

use std::sync::Arc;
use std::time::Instant;

use patto_core::Role;
use patto_core::ids::PersonId;
use patto_core::ids::{DocumentId, InstanceId};
use patto_core::records::{
    Document, OutboxMessage, Person, RecordedEffect, ReviewSchedule, SignatureRequest,
    SigningRound, WorkflowInstance,
};
use patto_core::status::SigningRoundStatus;
use patto_core::workflow::{
    ChildState, CommitmentTally, Definition, Effect, Facts, FireError, Guard, SigningTally, Step,
    fire, next_automatic,
};
use patto_store::{ConditionalTransition, NewEvent, NewOutboxMessage, NotifyPeople, PeopleSet, Tx};
use serde_json::json;

use crate::audit::NextLink;
use crate::reviews::scheduler_transition;
use crate::roles::{holders, list, roles_on};
use crate::{Actor, Engine, EngineError, audit};

/// A request to fire a transition by hand.
#[derive(Clone, Debug)]
pub struct FireRequest {
    /// The document whose workflow moves.
    pub document_id: DocumentId,
    /// The transition to fire.
    pub transition: String,
    /// The instance version the caller saw; a newer one means someone changed it since.
    pub expected_version: i64,
}

/// One transition that fired.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepTaken {
    /// The transition that fired.
    pub transition: String,
    /// The state it left.
    pub from: String,
    /// The state it entered.
    pub to: String,
    /// Whether the engine fired it on its own.
    pub automatic: bool,
}

/// What firing did: the transitions taken (the requested one, then automatic ones) and
/// where the instance is now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FireOutcome {
    /// The document's workflow instance.
    pub instance_id: InstanceId,
    /// The state it ended in.
    pub state: String,
    /// Its version afterwards, for the next change.
    pub version: i64,
    /// Every transition taken, the requested one first.
    pub steps: Vec<StepTaken>,
}

/// A guard of automatic transitions can only turn true through a change; no shipped
/// chain is longer than a few steps, and validation forbids cycles, so this bound only
/// stops a bug from looping forever.
const MAX_AUTOMATIC_STEPS: usize = 32;

impl Engine {
    /// Fires a transition by hand, atomically with everything it causes.
    ///
    /// A transition whose checks and effects the write itself can make (see
    /// [`Engine::fire_with_conditional_write`]) is written that way, after one unlocked
    /// read; every other transition, and every firing that write refused (so that the
    /// caller learns exactly why), goes through one transaction.
    pub async fn fire(
        &self,
        actor: Actor,
        request: FireRequest,
    ) -> Result<FireOutcome, EngineError> {
        let started = Instant::now();
        if let Actor::Person(person_id) = actor
            && let Some(outcome) = self
                .fire_with_conditional_write(person_id, &request, started)
                .await?
        {
            return Ok(outcome);
        }
        self.fire_in_transaction(actor, request, started).await
    }

    /// Fires a transition in one transaction: the claim of the instance, the role and
    /// guard checks on facts read after it, the event, the effects and the automatic
    /// transitions that follow.
    async fn fire_in_transaction(
        &self,
        actor: Actor,
        request: FireRequest,
        started: Instant,
    ) -> Result<FireOutcome, EngineError> {
        let tx = self.store().begin().await?;
        let (document, instance, steps) = self.fire_within(&tx, actor, &request).await?;
        tx.commit().await?;
        log_committed_steps(document.id, instance.id, &steps, started);
        Ok(FireOutcome {
            instance_id: instance.id,
            state: instance.state,
            version: instance.version,
            steps,
        })
    }

    /// The work of [`Engine::fire_in_transaction`] inside a transaction the caller
    /// commits, so that a service can fire a transition together with its own change
    /// (opening a consultation records its period with the transition that opens it).
    pub(crate) async fn fire_within(
        &self,
        tx: &Tx,
        actor: Actor,
        request: &FireRequest,
    ) -> Result<(Document, WorkflowInstance, Vec<StepTaken>), EngineError> {
        // The claim comes first and returns the instance as it left it, with its
        // document: on PostgreSQL one statement instead of two reads, a conditional
        // UPDATE and a locking read.
        let Some((document, mut instance)) = tx
            .claim_document_instance(request.document_id, request.expected_version)
            .await?
        else {
            return Err(refused_claim(tx, request).await);
        };
        let definition = self.definition_of(tx, &instance).await?;
        let requested = definition.transition(&request.transition);
        let candidates = requested.map_or(&[][..], |t| t.roles.as_slice());
        // Firing needs one of the transition's roles: the first one held is enough.
        let mut roles = Vec::new();
        for candidate in candidates {
            roles = roles_on(tx, actor, &document, std::slice::from_ref(candidate)).await?;
            if !roles.is_empty() {
                break;
            }
        }
        let guards = requested.map_or(&[][..], |t| t.guards.as_slice());
        let facts = self.facts(tx, &document, &instance, guards).await?;
        let step = fire(
            &definition,
            &instance.state,
            &request.transition,
            &roles,
            &facts,
        )
        .map_err(|error| fire_error(error, &document, &request.transition))?;
        let mut steps = vec![
            self.take_step(
                tx,
                &document,
                &mut instance,
                &definition,
                actor,
                step,
                false,
            )
            .await?,
        ];
        steps.extend(self.settle(tx, &document, &mut instance).await?);
        Ok((document, instance, steps))
    }

    /// Fires a transition with a conditional write, when it can be: the caller is a
    /// person, the transition is taken by hand from the instance's state, its only guard
    /// is `has_version` (or none), its only effects are notifications, the definition
    /// opens no signing rounds, and no automatic transition leaves the state it enters.
    /// One unlocked read gives the document and the instance; the step and the event's
    /// hash are computed here, outside any lock; then the write moves the instance only if
    /// it is still at the version and head read, the caller still holds one of the
    /// transition's roles and the document still has a version, and appends the event
    /// and queues the messages with it (on PostgreSQL one statement, on SQLite three in
    /// a write transaction: [`patto_store::Store::write_conditional_transition`]). The
    /// time spent holding the instance (or SQLite's one writer) is then only that of
    /// the writing statements. `None` sends the caller to the
    /// transactional path: for a transition that does not fit, and whenever a check
    /// fails, so that the transaction reports the CONFLICT, FORBIDDEN or GUARD_FAILED
    /// exactly as it always has (or succeeds, if the facts changed meanwhile).
    async fn fire_with_conditional_write(
        &self,
        person_id: PersonId,
        request: &FireRequest,
        started: Instant,
    ) -> Result<Option<FireOutcome>, EngineError> {
        let Some((document, instance)) = self
            .store()
            .document_with_instance(request.document_id)
            .await?
        else {
            return Ok(None);
        };
        if instance.version != request.expected_version {
            return Ok(None);
        }
        let Some(definition) = self.cached_definition(&instance) else {
            return Ok(None);
        };
        let Some(transition) = definition.transition(&request.transition) else {
            return Ok(None);
        };
        let needs_version = transition.guards.contains(&Guard::HasVersion);
        if !transition.guards.iter().all(|g| *g == Guard::HasVersion)
            || opens_signing_rounds(&definition)
        {
            return Ok(None);
        }
        let holds_any_of: Vec<PeopleSet> = transition
            .roles
            .iter()
            .filter_map(|role| holders(*role, &document))
            .collect();
        // The facts the statement itself checks before it writes: with them, `fire`
        // decides everything else (the transition, the state, the effects) as usual.
        let assumed = Facts {
            version_count: u32::from(needs_version),
            ..Facts::default()
        };
        let Ok(step) = fire(
            &definition,
            &instance.state,
            &request.transition,
            &transition.roles,
            &assumed,
        ) else {
            return Ok(None);
        };
        let only_notifications = step
            .effects
            .iter()
            .all(|effect| matches!(effect, Effect::Notify { .. }));
        let settles_at_once = !definition
            .transitions
            .iter()
            .any(|t| t.automatic && t.from.contains(&step.to));
        if holds_any_of.is_empty() || !only_notifications || !settles_at_once {
            return Ok(None);
        }
        let mut messages = Vec::new();
        for effect in &step.effects {
            if let Effect::Notify { roles, template } = effect {
                let sets: Vec<PeopleSet> = roles
                    .iter()
                    .filter_map(|role| holders(*role, &document))
                    .collect();
                let payload = notification_payload(&document, &step, roles).to_string();
                messages.push((sets, template.as_str(), payload));
            }
        }
        let notify: Vec<NotifyPeople> = messages
            .iter()
            .map(|(sets, template, payload)| NotifyPeople {
                sets,
                template,
                payload,
            })
            .collect();
        let actor = Actor::Person(person_id);
        let next = NextLink::after(
            instance.id,
            instance.event_count,
            &instance.head_hash,
            TRANSITION_EVENT,
            actor,
            &transition_event_payload(&step, false),
        )?;
        let written = self
            .store()
            .write_conditional_transition(ConditionalTransition {
                event: NewEvent {
                    instance_id: instance.id,
                    seq: next.seq,
                    prev_hash: &instance.head_hash,
                    hash: &next.hash,
                    kind: TRANSITION_EVENT,
                    actor_id: Some(person_id),
                    payload: &next.payload,
                    recorded_at: next.recorded_at,
                },
                seen_version: instance.version,
                to_state: &step.to,
                person_id,
                holds_any_of: &holds_any_of,
                document_id: document.id,
                needs_version,
                notify: &notify,
            })
            .await?;
        if written.is_none() {
            return Ok(None);
        }
        let steps = vec![StepTaken {
            transition: step.transition,
            from: step.from,
            to: step.to,
            automatic: false,
        }];
        log_committed_steps(document.id, instance.id, &steps, started);
        Ok(Some(FireOutcome {
            instance_id: instance.id,
            state: steps[0].to.clone(),
            version: instance.version + 1,
            steps,
        }))
    }

    /// Settles (see [`Engine::settle`]), commits, and then logs the transitions taken.
    pub(crate) async fn settle_and_commit(
        &self,
        tx: Tx,
        document: &Document,
        instance: &mut WorkflowInstance,
    ) -> Result<Vec<StepTaken>, EngineError> {
        let started = Instant::now();
        let steps = self.settle(&tx, document, instance).await?;
        tx.commit().await?;
        log_committed_steps(document.id, instance.id, &steps, started);
        Ok(steps)
    }

    /// Fires every automatic transition whose guards hold, one after another, inside the
    /// caller's transaction.
    pub(crate) async fn settle(
        &self,
        tx: &Tx,
        document: &Document,
        instance: &mut WorkflowInstance,
    ) -> Result<Vec<StepTaken>, EngineError> {
        let definition = self.definition_of(tx, instance).await?;
        let mut taken = Vec::new();
        for _ in 0..MAX_AUTOMATIC_STEPS {
            // Only the guards of automatic transitions leaving this state matter; most
            // states have none, and then there is nothing to read.
            let automatic: Vec<_> = definition
                .transitions
                .iter()
                .filter(|t| t.automatic && t.from.contains(&instance.state))
                .collect();
            if automatic.is_empty() {
                return Ok(taken);
            }
            let guards: Vec<Guard> = automatic
                .iter()
                .flat_map(|t| t.guards.iter().cloned())
                .collect();
            let facts = self.facts(tx, document, instance, &guards).await?;
            let Some(step) = next_automatic(&definition, &instance.state, &facts) else {
                return Ok(taken);
            };
            // An automatic change is a change of state like any other: it moves the version
            // on, so that callers who saw the old state get a CONFLICT. The transaction
            // holds the instance, so a failed claim means someone changed it regardless;
            // going on would take a step on a state that is no longer current.
            if !tx.claim_instance(instance.id, instance.version).await? {
                return Err(EngineError::Conflict(format!(
                    "'{}' changed while its automatic transitions were being taken; reload it and try again",
                    document.slug
                )));
            }
            instance.version += 1;
            taken.push(
                self.take_step(
                    tx,
                    document,
                    instance,
                    &definition,
                    Actor::System,
                    step,
                    true,
                )
                .await?,
            );
        }
        Err(EngineError::Internal(format!(
            "automatic transitions of '{}' did not settle after {MAX_AUTOMATIC_STEPS} steps; check the workflow definition {}",
            document.slug, definition.name
        )))
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn take_step(
        &self,
        tx: &Tx,
        document: &Document,
        instance: &mut WorkflowInstance,
        definition: &Definition,
        actor: Actor,
        step: Step,
        automatic: bool,
    ) -> Result<StepTaken, EngineError> {
        // Notifications are read first so that they are written with the event: the
        // caller claimed the instance, which already moved its version on, and one write
        // then moves its state, appends the event and fills the outbox.
        let mut notifications = Vec::new();
        for effect in &step.effects {
            if let Effect::Notify { roles, template } = effect {
                let payload = notification_payload(document, &step, roles);
                notifications
                    .extend(notifications_for(tx, document, roles, template, &payload).await?);
            }
        }
        let event = audit::append_moving(
            tx,
            instance,
            Some(&step.to),
            &notifications,
            TRANSITION_EVENT,
            actor,
            &transition_event_payload(&step, automatic),
        )
        .await?;
        // A round ends when the document leaves the state it was opened in: completed
        // when its signatures are what moved the document on, cancelled otherwise. Only
        // an `open_signing` effect of the instance's own definition opens rounds, so a
        // workflow without one has none to close.
        if opens_signing_rounds(definition) {
            let decided_by_signatures = definition.transition(&step.transition).is_some_and(|t| {
                t.guards
                    .iter()
                    .any(|g| matches!(g, Guard::AllSigned | Guard::Quorum { .. }))
            });
            tx.close_signing_rounds(
                instance.id,
                if decided_by_signatures {
                    SigningRoundStatus::Completed
                } else {
                    SigningRoundStatus::Cancelled
                },
            )
            .await?;
        }
        for effect in &step.effects {
            self.apply_effect(tx, document, instance, definition, event.seq, effect)
                .await?;
        }
        Ok(StepTaken {
            transition: step.transition,
            from: step.from,
            to: step.to,
            automatic,
        })
    }

    async fn apply_effect(
        &self,
        tx: &Tx,
        document: &Document,
        instance: &WorkflowInstance,
        definition: &Definition,
        event_seq: i64,
        effect: &Effect,
    ) -> Result<(), EngineError> {
        match effect {
            // Already in the outbox, written with the event.
            Effect::Notify { .. } => return Ok(()),
            Effect::OpenSigning { intent, order } => {
                let version = tx.latest_version(document.id).await?.ok_or_else(|| {
                    EngineError::Validation(format!(
                        "'{}' has no version to sign; add one before opening the signing round",
                        document.slug
                    ))
                })?;
                let signatories = tx.signatories(document.id).await?;
                if signatories.is_empty() {
                    return Err(EngineError::Validation(format!(
                        "'{}' has no signatory list; set the signatories before opening the signing round",
                        document.slug
                    )));
                }
                tx.open_signing_round(
                    instance.id,
                    document.id,
                    version.number,
                    intent.as_str(),
                    order.as_str(),
                    &signatories,
                )
                .await?;
            }
            Effect::StartReviews { cron, time_zone } => {
                // A document has one review schedule: starting one replaces the last.
                tx.stop_review_schedules(instance.id).await?;
                tx.insert_review_schedule(
                    instance.id,
                    cron,
                    time_zone,
                    scheduler_transition(definition),
                )
                .await?;
            }
            Effect::StopReviews => {
                tx.stop_review_schedules(instance.id).await?;
            }
            Effect::Publish => {
                let version = tx.latest_version(document.id).await?.ok_or_else(|| {
                    EngineError::Validation(format!(
                        "'{}' has no version to publish; add one first",
                        document.slug
                    ))
                })?;
                tx.set_published_version(document.id, Some(version.number))
                    .await?;
            }
        }
        tx.insert_effect(
            instance.id,
            event_seq,
            effect.kind(),
            &effect.params().to_string(),
        )
        .await?;
        Ok(())
    }

    /// Writes one outbox row per person holding any of `roles` on the document, in the
    /// caller's transaction, each with a Message-ID of its own that stays stable across
    /// delivery attempts.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn enqueue_notifications(
        &self,
        tx: &Tx,
        document: &Document,
        instance: &WorkflowInstance,
        event_seq: i64,
        roles: &[Role],
        template: &str,
        payload: serde_json::Value,
    ) -> Result<(), EngineError> {
        let notifications = notifications_for(tx, document, roles, template, &payload).await?;
        let messages: Vec<NewOutboxMessage> = notifications
            .iter()
            .map(|n| n.outbox_message(instance.id, event_seq))
            .collect();
        tx.insert_outbox_messages(&messages).await?;
        Ok(())
    }

    /// The facts `guards` need, read inside the caller's transaction. Facts no guard
    /// looks at are left at their defaults rather than read.
    pub(crate) async fn facts(
        &self,
        tx: &Tx,
        document: &Document,
        instance: &WorkflowInstance,
        guards: &[Guard],
    ) -> Result<Facts, EngineError> {
        let needs = |wanted: fn(&Guard) -> bool| guards.iter().any(wanted);
        let mut facts = Facts {
            version_count: 0,
            unresolved_comments: 0,
            signing: None,
            commitments: CommitmentTally {
                total: 0,
                unassigned: 0,
            },
            parent_state: None,
            child_states: Vec::new(),
            owner_category: None,
            signatory_categories: Vec::new(),
        };
        if needs(|g| matches!(g, Guard::HasVersion | Guard::CommentsResolved))
            && let Some((version_id, number)) = tx.latest_version_number(document.id).await?
        {
            // Versions are numbered from 1; anything else is a damaged row, and reading
            // it as "no version yet" would blame the caller.
            facts.version_count = u32::try_from(number)
                .ok()
                .filter(|number| *number >= 1)
                .ok_or_else(|| {
                    EngineError::Internal(format!(
                        "the latest version of '{}' is stored with the number {number}; versions are numbered from 1",
                        document.slug
                    ))
                })?;
            if needs(|g| matches!(g, Guard::CommentsResolved)) {
                facts.unresolved_comments =
                    saturate(tx.unresolved_comment_count(version_id).await?);
            }
        }
        if needs(|g| matches!(g, Guard::AllSigned | Guard::Quorum { .. }))
            && let Some(round) = tx.open_signing_round_of(instance.id).await?
        {
            let counts = tx.signature_counts(round.id).await?;
            facts.signing = Some(SigningTally {
                required: saturate(counts.required),
                signed: saturate(counts.signed),
            });
        }
        if needs(|g| matches!(g, Guard::CommitmentsAssigned)) {
            let counts = tx.commitment_counts(document.id).await?;
            facts.commitments = CommitmentTally {
                total: saturate(counts.total),
                unassigned: saturate(counts.unassigned),
            };
        }
        if needs(|g| matches!(g, Guard::ParentIn { .. }))
            && let Some(parent) = document.parent_id
        {
            facts.parent_state = tx.instance_of_document(parent).await?.map(|i| i.state);
        }
        if needs(|g| matches!(g, Guard::OwnerIn { .. })) {
            facts.owner_category = tx
                .organisation(document.owner_organisation_id)
                .await?
                .map(|owner| owner.category);
        }
        if needs(|g| matches!(g, Guard::SignatoriesInclude { .. })) {
            for signatory in tx.signatories(document.id).await? {
                if let Some(organisation) = tx.organisation(signatory.organisation_id).await? {
                    facts.signatory_categories.push(organisation.category);
                }
            }
        }
        if needs(|g| matches!(g, Guard::ChildrenIn { .. })) {
            for child in tx.child_documents(document.id).await? {
                if let Some(child_instance) = tx.instance_of_document(child.id).await? {
                    facts.child_states.push(ChildState {
                        slug: child.slug,
                        state: child_instance.state,
                    });
                }
            }
        }
        Ok(facts)
    }

    /// The latest definition of a workflow, for new instances.
    pub(crate) fn current_definition(&self, name: &str) -> Result<&Definition, EngineError> {
        self.catalogue().get(name).ok_or_else(|| {
            EngineError::Internal(format!(
                "no workflow definition named '{name}' is loaded; add workflows/{name}.toml"
            ))
        })
    }

    /// Records a definition of the catalogue in the database so that instances started on
    /// it keep it after the file changes. Returns its version.
    pub(crate) async fn register_definition(
        &self,
        tx: &Tx,
        definition: &Definition,
    ) -> Result<i32, EngineError> {
        let name = definition.name.as_str();
        let source = self.catalogue().source(name).ok_or_else(|| {
            EngineError::Internal(format!(
                "the loaded catalogue holds no text for the workflow definition {name}, so it cannot be stored for the instances that will run on it"
            ))
        })?;
        let sha256 = patto_sign::content_hash(source.as_bytes());
        let version = i32::try_from(definition.version).map_err(|_| {
            EngineError::Internal(format!(
                "workflow {name} has a version too large to store; number its versions from 1 upwards"
            ))
        })?;
        match tx.workflow_definition(name, version).await? {
            Some(stored) if stored.sha256 == sha256 => Ok(version),
            Some(_) => Err(EngineError::Internal(format!(
                "workflows/{name}.toml changed but still says version {version}, which running instances already use; raise its version"
            ))),
            None => {
                tx.insert_workflow_definition(name, version, source, &sha256)
                    .await?;
                Ok(version)
            }
        }
    }

    /// The definition an instance runs on, when it has been read since the start.
    fn cached_definition(&self, instance: &WorkflowInstance) -> Option<Arc<Definition>> {
        self.definitions
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(&(
                instance.definition_name.clone(),
                instance.definition_version,
            ))
            .cloned()
    }

    /// The definition an instance runs on: the version it started with.
    pub(crate) async fn definition_of(
        &self,
        tx: &Tx,
        instance: &WorkflowInstance,
    ) -> Result<Arc<Definition>, EngineError> {
        if let Some(found) = self.cached_definition(instance) {
            return Ok(found);
        }
        let key = (
            instance.definition_name.clone(),
            instance.definition_version,
        );
        let stored = tx
            .workflow_definition(&instance.definition_name, instance.definition_version)
            .await?
            .ok_or_else(|| {
                EngineError::not_found(
                    "workflow definition",
                    format!(
                        "{}@{}",
                        instance.definition_name, instance.definition_version
                    ),
                )
            })?;
        let file = format!(
            "{}.toml (version {}, as stored)",
            stored.name, stored.version
        );
        let definition = Arc::new(Definition::parse(&stored.source, &file).map_err(
            |problems| EngineError::Definition {
                name: stored.name.clone(),
                problems,
            },
        )?);
        self.definitions
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(key, definition.clone());
        Ok(definition)
    }
}

/// A message to one person about an event, before it is in the outbox.
pub(crate) struct Notification {
    message_id: String,
    person: Person,
    template: String,
    payload: String,
}

impl Notification {
    /// The outbox row of this message, caused by event `event_seq` of the instance.
    pub(crate) fn outbox_message(
        &self,
        instance_id: InstanceId,
        event_seq: i64,
    ) -> NewOutboxMessage<'_> {
        NewOutboxMessage {
            message_id: &self.message_id,
            instance_id: Some(instance_id),
            event_seq: Some(event_seq),
            person_id: self.person.id,
            recipient: &self.person.email,
            language: &self.person.language,
            template: &self.template,
            payload: &self.payload,
        }
    }
}

/// One message per person holding any of `roles` on the document, each with a
/// Message-ID of its own that stays stable across delivery attempts.
async fn notifications_for(
    tx: &Tx,
    document: &Document,
    roles: &[Role],
    template: &str,
    payload: &serde_json::Value,
) -> Result<Vec<Notification>, EngineError> {
    let sets: Vec<_> = roles
        .iter()
        .filter_map(|role| holders(*role, document))
        .collect();
    let payload = payload.to_string();
    Ok(tx
        .people_in(&sets)
        .await?
        .into_iter()
        .map(|person| Notification {
            message_id: crate::mail::new_message_id(),
            person,
            template: template.to_owned(),
            payload: payload.clone(),
        })
        .collect())
}

/// Whether any transition or state of the definition opens a signing round.
fn opens_signing_rounds(definition: &Definition) -> bool {
    let opens = |effects: &[Effect]| {
        effects
            .iter()
            .any(|e| matches!(e, Effect::OpenSigning { .. }))
    };
    definition.transitions.iter().any(|t| opens(&t.effects))
        || definition.states.iter().any(|s| opens(&s.on_enter))
}

/// The kind of the events that record transitions.
pub(crate) const TRANSITION_EVENT: &str = "transition";

/// The payload of a transition's event, as hashed into the chain.
fn transition_event_payload(step: &Step, automatic: bool) -> serde_json::Value {
    let effects: Vec<_> = step
        .effects
        .iter()
        .map(|e| json!({ "effect": e.kind(), "params": e.params() }))
        .collect();
    json!({
        "transition": step.transition,
        "from": step.from,
        "to": step.to,
        "automatic": automatic,
        "effects": effects,
    })
}

/// The template parameters of a `notify` effect's messages.
fn notification_payload(document: &Document, step: &Step, roles: &[Role]) -> serde_json::Value {
    json!({
        "document": { "id": document.id, "slug": document.slug, "title": document.title, "kind": document.kind },
        "transition": step.transition,
        "from": step.from,
        "to": step.to,
        "roles": roles.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
    })
}

/// Why a claim found nothing to claim: the document or its instance does not exist, or
/// the instance moved on since the caller saw it. Read errors are reported as such.
async fn refused_claim(tx: &Tx, request: &FireRequest) -> EngineError {
    let document = match tx.document(request.document_id).await {
        Ok(Some(document)) => document,
        Ok(None) => return EngineError::not_found("document", request.document_id),
        Err(error) => return error.into(),
    };
    match tx.instance_of_document(document.id).await {
        Ok(Some(current)) => EngineError::Conflict(format!(
            "'{}' changed since you saw it (you saw version {}, it is now at version {}); reload it and decide again",
            document.slug, request.expected_version, current.version
        )),
        Ok(None) => EngineError::not_found("workflow instance of document", document.id),
        Err(error) => error.into(),
    }
}

/// Logs transitions at `info` once they are committed, never before: a transition that
/// was rolled back must not appear in the log as taken. `duration_ms` is the time from
/// `started` to the commit.
pub(crate) fn log_committed_steps(
    document_id: DocumentId,
    instance_id: InstanceId,
    steps: &[StepTaken],
    started: Instant,
) {
    let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    for step in steps {
        tracing::info!(
            document_id = document_id.get(),
            instance_id = instance_id.get(),
            transition = %step.transition,
            from = %step.from,
            to = %step.to,
            automatic = step.automatic,
            duration_ms,
            "transition"
        );
    }
}

fn saturate(count: u64) -> u32 {
    u32::try_from(count).unwrap_or(u32::MAX)
}

pub(crate) fn fire_error(error: FireError, document: &Document, transition: &str) -> EngineError {
    match error {
        FireError::GuardFailed(failure) => EngineError::GuardFailed {
            transition: transition.to_owned(),
            failure,
        },
        FireError::Forbidden {
            transition,
            allowed,
        } => EngineError::Forbidden(format!(
            "you cannot fire '{transition}' on '{}': it needs the role {}",
            document.slug,
            list(&allowed)
        )),
        FireError::UnknownTransition { .. }
        | FireError::NotFromState { .. }
        | FireError::Automatic { .. } => {
            EngineError::Validation(format!("{error} (document '{}')", document.slug))
        }
        // The instance and its own definition disagree: the caller asked for nothing
        // wrong, the stored data or the definition is damaged.
        FireError::UnknownState { .. } => {
            EngineError::Internal(format!("{error} (document '{}')", document.slug))
        }
    }
}

/// What firing transitions left behind: outbox rows, recorded effects, review schedules
/// and signing rounds.
impl Engine {
    /// Outbox rows, oldest first; only those caused by one instance when given.
    pub async fn outbox(
        &self,
        instance_id: Option<InstanceId>,
    ) -> Result<Vec<OutboxMessage>, EngineError> {
        let tx = self.store().read().await?;
        let rows = tx.outbox(instance_id).await?;
        tx.commit().await?;
        Ok(rows)
    }

    /// Effects recorded for an instance (everything but `notify`, which goes to the
    /// outbox), oldest first.
    pub async fn recorded_effects(
        &self,
        instance_id: InstanceId,
    ) -> Result<Vec<RecordedEffect>, EngineError> {
        let tx = self.store().read().await?;
        let rows = tx.effects(instance_id).await?;
        tx.commit().await?;
        Ok(rows)
    }

    /// The review schedules of an instance, oldest first.
    pub async fn review_schedules(
        &self,
        instance_id: InstanceId,
    ) -> Result<Vec<ReviewSchedule>, EngineError> {
        let tx = self.store().read().await?;
        let rows = tx.review_schedules(instance_id).await?;
        tx.commit().await?;
        Ok(rows)
    }

    /// The requests of the signing round open on an instance, if one is.
    pub async fn open_signature_requests(
        &self,
        instance_id: InstanceId,
    ) -> Result<Option<(SigningRound, Vec<SignatureRequest>)>, EngineError> {
        let tx = self.store().read().await?;
        let result = match tx.open_signing_round_of(instance_id).await? {
            Some(round) => {
                let requests = tx.signature_requests(round.id).await?;
                Some((round, requests))
            }
            None => None,
        };
        tx.commit().await?;
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use patto_core::workflow::Catalogue;
    use patto_store::{DatabaseConfig, Store};

    use crate::{Engine, ErrorCode};

    /// A definition whose text the catalogue does not hold must not be stored with an
    /// empty text: its instances could never read their definition back.
    #[tokio::test]
    async fn a_definition_without_its_source_text_is_not_stored() {
        let dir = std::env::temp_dir().join(format!("patto-engine-{}", uuid::Uuid::new_v4()));
        let store = Store::connect(&DatabaseConfig::DataDir(dir.clone()))
            .await
            .unwrap();
        store.migrate().await.unwrap();
        let engine = Engine::new(store, Catalogue::default());
        let shipped = Catalogue::shipped().unwrap();
        let tx = engine.store().begin().await.unwrap();
        let registered = engine
            .register_definition(&tx, shipped.get("pact").unwrap())
            .await;
        let stored = tx.workflow_definition("pact", 1).await.unwrap();
        drop(tx);
        std::fs::remove_dir_all(&dir).ok();
        assert!(stored.is_none(), "stored {stored:?}");
        assert_eq!(registered.unwrap_err().code(), ErrorCode::Internal);
    }
}
