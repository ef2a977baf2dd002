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
//! - **the public**: anyone else, [`Actor::Public`] when not logged in. The engine
//!   changes nothing on their behalf; they read what is published (see [`Reader`]).
//!
//! [`Actor::System`] is the engine's own automatic work and, for now, the command line:
//! it passes every check and holds the admin role on every document.

use std::collections::BTreeSet;

use patto_core::Role;
use patto_core::ids::{OrganisationId, PersonId};
use patto_core::records::Document;
use patto_store::{PeopleSet, Tx};

use crate::{Actor, EngineError};

/// Who may write a document's content, resolve its comments and edit its lists.
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
        };
        if holds {
            roles.push(*role);
        }
    }
    Ok(roles)
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
/// rights is done from the command line only.
pub(crate) fn require_system(actor: Actor, action: &str) -> Result<(), EngineError> {
    match actor {
        Actor::System => Ok(()),
        Actor::Person(_) | Actor::Public => Err(EngineError::Forbidden(format!(
            "only the command line can {action}: run `patto operator add` on the server"
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
/// the people's.
pub(crate) fn require_key_submitter(actor: Actor, holder: PersonId) -> Result<(), EngineError> {
    match actor {
        Actor::System => Ok(()),
        Actor::Person(submitter) if submitter == holder => Ok(()),
        Actor::Person(_) | Actor::Public => Err(EngineError::Forbidden(
            "only the key holder can register their key: they run `patto keygen` and register the .pub file"
                .to_owned(),
        )),
    }
}

/// Fails with FORBIDDEN unless `actor` may approve (or revoke) `holder`'s keys: a
/// coordinator or admin of one of the holder's organisations, other than the holder.
pub(crate) async fn require_key_authority(
    tx: &Tx,
    actor: Actor,
    holder: PersonId,
    action: &str,
) -> Result<(), EngineError> {
    let approver = match actor {
        Actor::System => return Ok(()),
        Actor::Public => return Err(log_in_first(action)),
        Actor::Person(id) => id,
    };
    if approver == holder {
        return Err(EngineError::Forbidden(format!(
            "you cannot {action} your own key: ask a coordinator of your organisation"
        )));
    }
    let roles = [Role::Coordinator.as_str(), Role::Admin.as_str()];
    if tx.holds_role_over(approver, holder, &roles).await? {
        Ok(())
    } else {
        Err(EngineError::Forbidden(format!(
            "only a coordinator or admin of the key holder's organisation can {action} this key"
        )))
    }
}

/// Whether `actor` may revoke `holder`'s key: the holder always may, to stop a lost key
/// at once; otherwise as for approving.
pub(crate) async fn require_key_revoker(
    tx: &Tx,
    actor: Actor,
    holder: PersonId,
) -> Result<(), EngineError> {
    if actor == Actor::Person(holder) {
        return Ok(());
    }
    require_key_authority(tx, actor, holder, "revoke").await
}

/// Whether `actor` may answer (sign or decline) a signature request addressed to
/// `addressee`: only the addressee, or the system relaying what they signed.
pub(crate) fn may_answer_request(actor: Actor, addressee: PersonId) -> bool {
    match actor {
        Actor::System => true,
        Actor::Public => false,
        Actor::Person(person) => person == addressee,
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
