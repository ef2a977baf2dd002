//! Who holds which workflow role on a document. The same rules answer both questions the
//! engine asks: may this actor fire this transition, and whom does a `notify` reach.
//!
//! - admin: a person with an `admin` membership in any organisation (and the system actor);
//! - coordinator: a `coordinator` of the organisation that owns the document;
//! - member: a member of the document's working group;
//! - signatory: a person on the document's signatory list;
//! - partner: a person with any membership in an organisation of a partner network.

use std::collections::BTreeSet;

use patto_core::Role;
use patto_core::ids::PersonId;
use patto_core::records::Document;
use patto_store::Tx;

use crate::{Actor, EngineError};

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
        Actor::Person(id) => id,
    };
    let mut roles = Vec::new();
    for role in candidates {
        let holds = match role {
            // The network may be large: ask about this person only.
            Role::Partner => tx.person_in_network(person_id).await?,
            Role::Admin | Role::Coordinator | Role::Member | Role::Signatory => {
                holders(tx, *role, document).await?.contains(&person_id)
            }
        };
        if holds {
            roles.push(*role);
        }
    }
    Ok(roles)
}

/// Every person holding `role` on `document`.
pub(crate) async fn holders(
    tx: &Tx,
    role: Role,
    document: &Document,
) -> Result<BTreeSet<PersonId>, EngineError> {
    let people = match role {
        Role::Admin => tx.people_with_role(Role::Admin.as_str(), None).await?,
        Role::Coordinator => {
            tx.people_with_role(
                Role::Coordinator.as_str(),
                Some(document.owner_organisation_id),
            )
            .await?
        }
        Role::Member => match document.working_group_id {
            Some(group) => tx.working_group_members(group).await?,
            None => Vec::new(),
        },
        Role::Signatory => tx
            .signatories(document.id)
            .await?
            .into_iter()
            .map(|s| s.person_id)
            .collect(),
        Role::Partner => tx.network_people().await?,
    };
    Ok(people.into_iter().collect())
}

/// Fails with FORBIDDEN unless `actor` holds one of `allowed` on `document`.
pub(crate) async fn require(
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

/// Fails with FORBIDDEN unless `actor` is an administrator.
pub(crate) async fn require_admin(tx: &Tx, actor: Actor, action: &str) -> Result<(), EngineError> {
    let person_id = match actor {
        Actor::System => return Ok(()),
        Actor::Person(id) => id,
    };
    let admins = tx.people_with_role(Role::Admin.as_str(), None).await?;
    if admins.contains(&person_id) {
        Ok(())
    } else {
        Err(EngineError::Forbidden(format!(
            "only an administrator can {action}; ask one to do it or to grant you the admin role"
        )))
    }
}

pub(crate) fn list(roles: &[Role]) -> String {
    roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(" or ")
}
