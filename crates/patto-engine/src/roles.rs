//! Every permission decision of the engine, and the one definition of each role. The
//! table of who may do what is `docs/permissions.md`; the `permissions` test of the
//! `tests` crate checks every row of it on both backends.
//!
//! - **operator**: a person made an instance operator from the command line (`patto
//!   operator add`). Manages organisations, people, networks and working groups, and the
//!   memberships of every organisation. Not a document role: the operator runs the
//!   instance, the organisations decide about their documents.
//! - **admin**: an `admin` membership, always of one organisation. An admin manages that
//!   organisation's memberships and its people's details, never another organisation's;
//!   on a document, the admin role is held by the admins of the owning organisation.
//! - **coordinator**: a `coordinator` of the organisation that owns the document.
//! - **member**: a member of the document's working group.
//! - **signatory**: a person on the document's signatory list.
//! - **partner**: a person with a membership in an organisation that shares a network
//!   with the document's owning organisation.
//! - **scheduler**: the review scheduler (crate `patto-scheduler`), firing a document's
//!   review checkpoints; a definition lists it among the roles of the transition a
//!   checkpoint fires (`open_review`). No person holds it, and nobody is notified as it.
//! - **region** and **decision_body**: a coordinator of an organisation of category
//!   `region` (the Regione Siciliana) or `decision_body` (the coalition's decision body)
//!   that shares a network with the document's owning organisation: the bodies that
//!   validate the reporting model act through these roles.
//! - **the public**: anyone else, [`Actor::Public`] when not logged in. The engine
//!   changes nothing on their behalf; they read what is published (see [`Reader`]).
//! - **survey editor** (not a document role): a coordinator or admin of an organisation
//!   enters its baseline survey values; a coordinator of a coalition enters them for
//!   every organisation sharing a network with the coalition.
//!
//! [`Actor::System`] is the engine's own automatic work (and the bootstrap of the
//! directory from the command line): it passes the directory's and documents' checks and
//! holds the admin role on every document, but it never registers, approves or revokes a
//! key, and never signs or declines: those are always a person's acts.

use std::collections::BTreeSet;

use patto_core::ids::{OrganisationId, PersonId};
use patto_core::records::{Document, Organisation};
use patto_core::{OrganisationCategory, Role};
use patto_store::{PeopleSet, Tx};

use crate::{Actor, EngineError};

/// Who may write a document's content, resolve its comments and edit its lists; also who
/// saves a diagnosis's content (while it is in drafting) and records the diagnosis items
/// a pact or protocol in drafting cites (`diagnoses.rs` checks the state).
pub(crate) const EDITORS: [Role; 3] = [Role::Admin, Role::Coordinator, Role::Member];
/// Who may comment: anyone with a role on the document.
pub(crate) const COMMENTERS: [Role; 5] = [
    Role::Admin,
    Role::Coordinator,
    Role::Member,
    Role::Signatory,
    Role::Partner,
];

/// Which of `candidates` `actor` holds on `document`. Only the candidates are looked up:
/// a transition needs to know about its own roles only.
pub(crate) async fn roles_on(
    tx: &Tx,
    actor: Actor,
    document: &Document,
    candidates: &[Role],
) -> Result<Vec<Role>, EngineError> {
    let person_id = match actor {
        Actor::System => return Ok(vec![Role::Admin]),
        Actor::Public => return Ok(Vec::new()),
        Actor::Person(id) => id,
    };
    let owner = document.owner_organisation_id;
    let mut roles = Vec::new();
    for role in candidates {
        // Each question is asked about this person only: groups and networks may be large.
        let holds = match role {
            Role::Admin | Role::Coordinator => {
                tx.has_membership(person_id, owner, role.as_str()).await?
            }
            Role::Member => match document.working_group_id {
                Some(group) => tx
                    .working_group_member_id(group, person_id)
                    .await?
                    .is_some(),
                None => false,
            },
            Role::Signatory => tx
                .signatories(document.id)
                .await?
                .iter()
                .any(|s| s.person_id == person_id),
            Role::Partner => tx.shares_network_with(person_id, owner).await?,
            // Only the review scheduler acts in this role, never a person.
            Role::Scheduler => false,
            Role::Region => speaks_for(tx, person_id, owner, OrganisationCategory::Region).await?,
            Role::DecisionBody => {
                speaks_for(tx, person_id, owner, OrganisationCategory::DecisionBody).await?
            }
        };
        if holds {
            roles.push(*role);
        }
    }
    Ok(roles)
}

/// Whether the person is a coordinator of an organisation of `body` in a network with
/// `owner`: a body role speaks for that organisation.
async fn speaks_for(
    tx: &Tx,
    person_id: PersonId,
    owner: OrganisationId,
    body: OrganisationCategory,
) -> Result<bool, EngineError> {
    Ok(tx
        .holds_role_near(person_id, owner, body.as_str(), Role::Coordinator.as_str())
        .await?)
}

/// The people holding `role` on `document` — whom a `notify` effect reaches — as a set
/// the store can read; `None` when nobody can hold it (a document without a working
/// group has no members).
pub(crate) fn holders(role: Role, document: &Document) -> Option<PeopleSet<'static>> {
    let owner = document.owner_organisation_id;
    match role {
        Role::Admin | Role::Coordinator => Some(PeopleSet::WithMembership {
            role: role.as_str(),
            organisation_id: owner,
        }),
        Role::Member => document.working_group_id.map(PeopleSet::WorkingGroup),
        Role::Signatory => Some(PeopleSet::Signatories(document.id)),
        Role::Partner => Some(PeopleSet::NetworkPartnersOf(owner)),
        // The review scheduler is no person.
        Role::Scheduler => None,
        Role::Region => Some(PeopleSet::WithMembershipNear {
            role: Role::Coordinator.as_str(),
            category: OrganisationCategory::Region.as_str(),
            organisation_id: owner,
        }),
        Role::DecisionBody => Some(PeopleSet::WithMembershipNear {
            role: Role::Coordinator.as_str(),
            category: OrganisationCategory::DecisionBody.as_str(),
            organisation_id: owner,
        }),
    }
}

/// Fails with FORBIDDEN unless `actor` holds one of `allowed` on `document`.
pub(crate) async fn require_on_document(
    tx: &Tx,
    actor: Actor,
    document: &Document,
    allowed: &[Role],
    action: &str,
) -> Result<(), EngineError> {
    if !roles_on(tx, actor, document, allowed).await?.is_empty() {
        return Ok(());
    }
    Err(EngineError::Forbidden(format!(
        "you cannot {action} on '{}': this needs the role {}, which you do not hold; ask a coordinator of the owning organisation",
        document.slug,
        list(allowed),
    )))
}

/// Whether the actor is the system or an instance operator.
async fn is_operator(tx: &Tx, actor: Actor) -> Result<bool, EngineError> {
    Ok(match actor {
        Actor::System => true,
        Actor::Public => false,
        Actor::Person(id) => tx.is_operator(id).await?,
    })
}

/// Fails with FORBIDDEN unless `actor` is an instance operator.
pub(crate) async fn require_operator(
    tx: &Tx,
    actor: Actor,
    action: &str,
) -> Result<(), EngineError> {
    if is_operator(tx, actor).await? {
        return Ok(());
    }
    Err(EngineError::Forbidden(format!(
        "only an instance operator can {action}; ask the operator of this Patto instance"
    )))
}

/// Fails with FORBIDDEN unless `actor` is the system itself: granting instance-wide
/// rights and minting tokens are done from the command line only. `command` is the one
/// to run on the server.
pub(crate) fn require_system(actor: Actor, action: &str, command: &str) -> Result<(), EngineError> {
    match actor {
        Actor::System => Ok(()),
        Actor::Person(_) | Actor::Public => Err(EngineError::Forbidden(format!(
            "only the command line can {action}: run `{command}` on the server"
        ))),
    }
}

/// Fails with FORBIDDEN unless `actor` is an operator or an admin of that organisation.
pub(crate) async fn require_admin_of(
    tx: &Tx,
    actor: Actor,
    organisation_id: OrganisationId,
    action: &str,
) -> Result<(), EngineError> {
    if is_operator(tx, actor).await? {
        return Ok(());
    }
    if let Actor::Person(id) = actor
        && tx
            .has_membership(id, organisation_id, Role::Admin.as_str())
            .await?
    {
        return Ok(());
    }
    Err(EngineError::Forbidden(format!(
        "only an admin of organisation {organisation_id} (or the instance operator) can {action}; ask one of its admins"
    )))
}

/// Fails with FORBIDDEN unless `actor` may create a document for `owner`: a coordinator
/// or an admin of that organisation.
pub(crate) async fn require_document_creator(
    tx: &Tx,
    actor: Actor,
    owner: OrganisationId,
) -> Result<(), EngineError> {
    let person_id = match actor {
        Actor::System => return Ok(()),
        Actor::Public => return Err(log_in_first("create documents")),
        Actor::Person(id) => id,
    };
    for role in [Role::Coordinator, Role::Admin] {
        if tx.has_membership(person_id, owner, role.as_str()).await? {
            return Ok(());
        }
    }
    Err(EngineError::Forbidden(format!(
        "only a coordinator or admin of organisation {owner} can create documents for it; ask one of them"
    )))
}

/// Fails with FORBIDDEN unless `actor` may load a version of the reporting model: the
/// command line, an instance operator, or a coordinator of a coalition (the coalition
/// designs the model; its validation is the `reporting-model` workflow's business).
pub(crate) async fn require_model_loader(tx: &Tx, actor: Actor) -> Result<(), EngineError> {
    if is_operator(tx, actor).await? {
        return Ok(());
    }
    if let Actor::Person(id) = actor
        && tx.coordinates_a_coalition(id).await?
    {
        return Ok(());
    }
    Err(EngineError::Forbidden(
        "only a coordinator of the coalition (or the instance operator) can load a reporting model; ask one of them".to_owned(),
    ))
}

/// Fails with FORBIDDEN unless `actor` may enter survey values for `organisation`: its
/// own coordinators and admins, or a coordinator of a coalition that shares a network
/// with it (the coalition surveys all its Comuni). An instance operator may too: they
/// load, with `patto survey import` on the server, the files that offices send in, and
/// each value records that operator as the one who entered it.
pub(crate) async fn require_survey_editor(
    tx: &Tx,
    actor: Actor,
    organisation: &Organisation,
    slug: &str,
) -> Result<(), EngineError> {
    if is_operator(tx, actor).await? {
        return Ok(());
    }
    let person_id = match actor {
        Actor::System => return Ok(()),
        Actor::Public => return Err(log_in_first("enter survey values")),
        Actor::Person(id) => id,
    };
    for role in [Role::Coordinator, Role::Admin] {
        if tx
            .has_membership(person_id, organisation.id, role.as_str())
            .await?
        {
            return Ok(());
        }
    }
    if tx
        .holds_role_near(
            person_id,
            organisation.id,
            OrganisationCategory::Coalition.as_str(),
            Role::Coordinator.as_str(),
        )
        .await?
    {
        return Ok(());
    }
    Err(EngineError::Forbidden(format!(
        "you cannot enter survey values for '{slug}': only its coordinators and admins, a coordinator of its coalition, or an instance operator can; nothing was imported"
    )))
}

/// Fails with FORBIDDEN unless `actor` may change `person`'s details: the person
/// themself, an operator, or an admin of one of the person's organisations.
pub(crate) async fn require_person_authority(
    tx: &Tx,
    actor: Actor,
    person: PersonId,
    action: &str,
) -> Result<(), EngineError> {
    if actor == Actor::Person(person) || is_operator(tx, actor).await? {
        return Ok(());
    }
    if let Actor::Person(id) = actor
        && tx
            .holds_role_over(id, person, &[Role::Admin.as_str()])
            .await?
    {
        return Ok(());
    }
    Err(EngineError::Forbidden(format!(
        "only the person themself or an admin of one of their organisations can {action}"
    )))
}

/// Fails with FORBIDDEN unless `actor` may register a key for `holder`: only the holder.
/// An admin manages who belongs to their organisation, so an admin who could also
/// register keys for others could add anyone to it, register a key in their name and
/// approve it; keeping registration to the holder means two people always take part in
/// binding a key. The operator does not either: the directory is theirs, the keys are
/// the people's. The system acts for nobody.
pub(crate) fn require_key_submitter(actor: Actor, holder: PersonId) -> Result<(), EngineError> {
    match actor {
        Actor::Person(submitter) if submitter == holder => Ok(()),
        Actor::System | Actor::Person(_) | Actor::Public => Err(EngineError::Forbidden(
            "only the key holder can register their key, through their own session: they run `patto keys request` and submit the file it writes"
                .to_owned(),
        )),
    }
}

/// The coordinators and admins of an organisation: who approves its people's keys.
async fn key_authorities(
    tx: &Tx,
    organisation_id: OrganisationId,
) -> Result<BTreeSet<PersonId>, EngineError> {
    let sets = [Role::Coordinator, Role::Admin].map(|role| PeopleSet::WithMembership {
        role: role.as_str(),
        organisation_id,
    });
    Ok(tx
        .people_in(&sets)
        .await?
        .into_iter()
        .map(|p| p.id)
        .collect())
}

/// How an approval of a key counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KeyApprover {
    /// A coordinator or admin of the key's organisation, other than the holder: their
    /// approval alone binds the key.
    Authority,
    /// An operator, where the holder is the organisation's only coordinator or admin:
    /// two different operators must approve, each naming the designating act.
    Operator,
}

/// How `actor` may approve `holder`'s key for `organisation_id`, or FORBIDDEN: a
/// coordinator or admin of that organisation other than the holder; where the holder is
/// its only coordinator or admin, an operator (one of two). Never the holder, never the
/// system, never anyone from another organisation.
pub(crate) async fn key_approver(
    tx: &Tx,
    actor: Actor,
    holder: PersonId,
    organisation_id: OrganisationId,
) -> Result<KeyApprover, EngineError> {
    let approver = match actor {
        Actor::System => {
            return Err(EngineError::Forbidden(
                "the system never approves a key: a coordinator or admin of the key's organisation approves it through their own session".to_owned(),
            ));
        }
        Actor::Public => return Err(log_in_first("approve a key")),
        Actor::Person(id) => id,
    };
    if approver == holder {
        return Err(EngineError::Forbidden(
            "you cannot approve your own key: ask a coordinator or admin of the organisation it signs for".to_owned(),
        ));
    }
    let authorities = key_authorities(tx, organisation_id).await?;
    if authorities.contains(&approver) {
        return Ok(KeyApprover::Authority);
    }
    let holder_is_the_only_authority = authorities.len() == 1 && authorities.contains(&holder);
    if holder_is_the_only_authority && tx.is_operator(approver).await? {
        return Ok(KeyApprover::Operator);
    }
    Err(EngineError::Forbidden(format!(
        "only a coordinator or admin of organisation {organisation_id}, the organisation this key signs for, can approve it{}",
        if holder_is_the_only_authority {
            " (the holder being its only one, two instance operators approve instead, each naming the act that designated the holder)"
        } else {
            ""
        }
    )))
}

/// Fails with FORBIDDEN unless `actor` may revoke `holder`'s key for `organisation_id`:
/// the holder, to stop a lost key at once; a coordinator or admin of that organisation;
/// or an instance operator, who runs the instance and may have to stop a key in an
/// emergency (revoking binds nothing to anyone). Never the system.
pub(crate) async fn require_key_revoker(
    tx: &Tx,
    actor: Actor,
    holder: PersonId,
    organisation_id: Option<OrganisationId>,
) -> Result<(), EngineError> {
    let revoker = match actor {
        Actor::System => {
            return Err(EngineError::Forbidden(
                "the system never revokes a key: the holder, a coordinator or admin of its organisation, or an operator does".to_owned(),
            ));
        }
        Actor::Public => return Err(log_in_first("revoke a key")),
        Actor::Person(id) => id,
    };
    if revoker == holder || tx.is_operator(revoker).await? {
        return Ok(());
    }
    if let Some(organisation_id) = organisation_id
        && key_authorities(tx, organisation_id)
            .await?
            .contains(&revoker)
    {
        return Ok(());
    }
    Err(EngineError::Forbidden(
        "only the holder, a coordinator or admin of the key's organisation, or an instance operator can revoke this key".to_owned(),
    ))
}

/// Whether `actor` may submit a signature on a request addressed to `addressee`: the
/// addressee, or an instance operator relaying what they signed (the signature itself
/// shows whose key made it). Never the system.
pub(crate) async fn may_submit_for(
    tx: &Tx,
    actor: Actor,
    addressee: PersonId,
) -> Result<bool, EngineError> {
    Ok(match actor {
        Actor::System | Actor::Public => false,
        Actor::Person(person) => person == addressee || tx.is_operator(person).await?,
    })
}

/// Whether `actor` may decline a request addressed to `addressee`: only the addressee,
/// through their own session. A decline carries no signature, so nobody can relay it.
pub(crate) fn may_decline_for(actor: Actor, addressee: PersonId) -> bool {
    actor == Actor::Person(addressee)
}

/// Who may follow a document's events as they are committed (the API's subscriptions):
/// a logged-in person. Which events they then receive is decided event by event, as for
/// the event history: only while they are involved in the document (see [`Reader`]).
/// The public never sees an event history, so it is refused at once instead of being
/// given a stream that would stay silent.
pub(crate) fn require_follower(actor: Actor) -> Result<(), EngineError> {
    match actor {
        Actor::Person(_) | Actor::System => Ok(()),
        Actor::Public => Err(EngineError::Unauthenticated(
            "log in to follow a document's events: they are shown only to those involved in it"
                .to_owned(),
        )),
    }
}

/// The FORBIDDEN error for someone not logged in who tries to change something.
fn log_in_first(action: &str) -> EngineError {
    EngineError::Forbidden(format!("log in to {action}: the public changes nothing"))
}

pub(crate) fn list(roles: &[Role]) -> String {
    roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(" or ")
}

/// How much of a document a reader may see.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Everything: drafts, comments, the event history, the signature requests.
    Involved,
    /// The published version, the signatories and the evidence; nothing else.
    Published,
    /// Nothing: the reader is not involved and the document is not published.
    Hidden,
}

/// What a reader is involved in, loaded once with a constant number of queries, so that
/// the visibility of a whole page of documents is decided without a query per document.
///
/// Involved in a document are the admins and coordinators of the owning organisation,
/// the members of its working group, its signatories and, once the document has left
/// its initial state (the pact's `share`), the partners of the owning organisation.
/// Operators run the instance, not its documents: they read what the public reads.
pub(crate) struct Reader {
    admin_or_coordinator_of: BTreeSet<OrganisationId>,
    groups: BTreeSet<patto_core::ids::WorkingGroupId>,
    signatory_of: BTreeSet<patto_core::ids::DocumentId>,
    partner_of: BTreeSet<OrganisationId>,
    everything: bool,
}

impl Reader {
    /// What `actor` is involved in.
    pub(crate) async fn load(tx: &Tx, actor: Actor) -> Result<Reader, EngineError> {
        let mut reader = Reader {
            admin_or_coordinator_of: BTreeSet::new(),
            groups: BTreeSet::new(),
            signatory_of: BTreeSet::new(),
            partner_of: BTreeSet::new(),
            everything: false,
        };
        let person_id = match actor {
            Actor::System => {
                reader.everything = true;
                return Ok(reader);
            }
            Actor::Public => return Ok(reader),
            Actor::Person(id) => id,
        };
        for membership in tx.memberships_of(person_id).await? {
            if membership.role == Role::Admin.as_str()
                || membership.role == Role::Coordinator.as_str()
            {
                reader
                    .admin_or_coordinator_of
                    .insert(membership.organisation_id);
            }
        }
        reader.groups = tx.working_groups_of(person_id).await?.into_iter().collect();
        reader.signatory_of = tx
            .documents_signed_by(person_id)
            .await?
            .into_iter()
            .collect();
        reader.partner_of = tx
            .partner_organisations_of(person_id)
            .await?
            .into_iter()
            .collect();
        Ok(reader)
    }

    /// How much of `document` this reader may see; `moved` says whether its workflow has
    /// ever left its initial state, which is when its partners become involved.
    pub(crate) fn access(&self, document: &Document, moved: bool) -> Access {
        let owner = document.owner_organisation_id;
        let involved = self.everything
            || self.admin_or_coordinator_of.contains(&owner)
            || document
                .working_group_id
                .is_some_and(|group| self.groups.contains(&group))
            || self.signatory_of.contains(&document.id)
            || (moved && self.partner_of.contains(&owner));
        if involved {
            Access::Involved
        } else if document.published_version.is_some() {
            Access::Published
        } else {
            Access::Hidden
        }
    }
}

/// The FORBIDDEN error for reading what only those involved in a document may read.
pub(crate) fn not_involved(document: &Document, what: &str) -> EngineError {
    EngineError::Forbidden(format!(
        "the {what} of '{}' are visible only to those involved in it (its coordinators, admins, working group, signatories and, once shared, its partners); ask a coordinator of the owning organisation",
        document.slug
    ))
}
