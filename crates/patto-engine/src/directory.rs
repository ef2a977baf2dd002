//! Organisations, people, memberships, the partner network and working groups.

use patto_core::ids::{NetworkId, OrganisationId, PersonId, WorkingGroupId};
use patto_core::records::{Network, Organisation, Person, WorkingGroup};
use patto_core::{Language, OrganisationCategory, Role};
use patto_store::{DirectoryRow, DirectoryRowId, Tx};

use crate::directory_chain::{record_removal, record_row};
use crate::roles::{require_admin_of, require_operator, require_person_authority, require_system};
use crate::{Actor, Engine, EngineError, validate};

/// An organisation to register.
#[derive(Clone, Debug)]
pub struct NewOrganisation {
    /// Unique short name, used in URLs and commands.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// What kind of body it is.
    pub category: OrganisationCategory,
    /// Six-digit ISTAT code; required for municipalities and only for them.
    pub istat_code: Option<String>,
}

/// Changes to an organisation; `None` leaves a field as it is. The slug never changes:
/// it is how people and links find the organisation.
#[derive(Clone, Debug, Default)]
pub struct OrganisationChange {
    /// A new display name.
    pub name: Option<String>,
    /// A new category.
    pub category: Option<OrganisationCategory>,
    /// `Some(None)` removes the code (when the organisation stops being a municipality).
    pub istat_code: Option<Option<String>>,
}

/// Changes to a person; `None` leaves a field as it is. The e-mail address is their
/// identity and does not change here.
#[derive(Clone, Debug, Default)]
pub struct PersonChange {
    /// A new name.
    pub name: Option<String>,
    /// A new language for the interface and e-mails.
    pub language: Option<Language>,
}

/// Roles a membership can carry. Signatories come from signatory lists, members of working
/// groups from the groups and partners from the network, so they are not membership roles.
const MEMBERSHIP_ROLES: [Role; 3] = [Role::Admin, Role::Coordinator, Role::Member];

impl Engine {
    /// Registers an organisation; only an instance operator may.
    pub async fn create_organisation(
        &self,
        actor: Actor,
        new: NewOrganisation,
    ) -> Result<Organisation, EngineError> {
        validate::slug("organisation", &new.slug)?;
        validate::display_line("organisation name", &new.name)?;
        check_istat_code(&new.name, new.category, new.istat_code.as_deref())?;
        let tx = self.store().begin().await?;
        require_operator(&tx, actor, "register organisations").await?;
        let organisation = tx
            .insert_organisation(patto_store::NewOrganisation {
                slug: &new.slug,
                name: &new.name,
                category: new.category.as_str(),
                istat_code: new.istat_code.as_deref(),
            })
            .await
            .map_err(|e| duplicate_as_conflict(e, "organisation", &new.slug))?;
        record_row(
            &tx,
            actor,
            "organisation_created",
            DirectoryRowId::Organisation(organisation.id),
        )
        .await?;
        tx.commit().await?;
        Ok(organisation)
    }

    /// Registers a person; only an instance operator may.
    pub async fn create_person(
        &self,
        actor: Actor,
        email: &str,
        name: &str,
        language: Language,
    ) -> Result<Person, EngineError> {
        let email = email.trim().to_lowercase();
        validate::email(&email)?;
        validate::display_line("name", name)?;
        let tx = self.store().begin().await?;
        require_operator(&tx, actor, "register people").await?;
        let person = tx
            .insert_person(&email, name.trim(), language.as_str())
            .await
            .map_err(|e| duplicate_as_conflict(e, "person with e-mail", &email))?;
        record_row(
            &tx,
            actor,
            "person_created",
            DirectoryRowId::Person(person.id),
        )
        .await?;
        tx.commit().await?;
        Ok(person)
    }

    /// Changes an organisation's name, category or ISTAT code; only an instance operator
    /// may.
    pub async fn edit_organisation(
        &self,
        actor: Actor,
        id: OrganisationId,
        change: OrganisationChange,
    ) -> Result<Organisation, EngineError> {
        let tx = self.store().begin().await?;
        require_operator(&tx, actor, "change organisations").await?;
        let mut organisation = tx
            .organisation(id)
            .await?
            .ok_or_else(|| EngineError::not_found("organisation", id))?;
        if let Some(name) = change.name {
            validate::display_line("organisation name", &name)?;
            organisation.name = name.trim().to_owned();
        }
        let category = match change.category {
            Some(category) => category,
            None => organisation.category.parse().map_err(|_| {
                EngineError::Validation(format!(
                    "organisation {} has an unknown category; give its category",
                    organisation.slug
                ))
            })?,
        };
        organisation.category = category.as_str().to_owned();
        if let Some(code) = change.istat_code {
            organisation.istat_code = code;
        }
        check_istat_code(
            &organisation.name,
            category,
            organisation.istat_code.as_deref(),
        )?;
        tx.update_organisation(&organisation).await.map_err(|e| {
            duplicate_as_conflict(
                e,
                "an organisation with ISTAT code",
                organisation.istat_code.as_deref().unwrap_or_default(),
            )
        })?;
        record_row(
            &tx,
            actor,
            "organisation_changed",
            DirectoryRowId::Organisation(organisation.id),
        )
        .await?;
        tx.commit().await?;
        Ok(organisation)
    }

    /// Changes a person's name or language: the person themself, an admin of one of their
    /// organisations or an operator may.
    pub async fn edit_person(
        &self,
        actor: Actor,
        id: PersonId,
        change: PersonChange,
    ) -> Result<Person, EngineError> {
        let tx = self.store().begin().await?;
        require_person_authority(&tx, actor, id, "change this person's details").await?;
        let mut person = tx
            .person(id)
            .await?
            .ok_or_else(|| EngineError::not_found("person", id))?;
        if let Some(name) = change.name {
            validate::display_line("name", &name)?;
            person.name = name.trim().to_owned();
        }
        if let Some(language) = change.language {
            person.language = language.as_str().to_owned();
        }
        tx.update_person(&person).await?;
        record_row(
            &tx,
            actor,
            "person_changed",
            DirectoryRowId::Person(person.id),
        )
        .await?;
        tx.commit().await?;
        Ok(person)
    }

    /// Takes a role in an organisation away from a person; an operator or an admin of that
    /// organisation may. When it was their last membership there, their pending
    /// signature requests for it are cancelled and the coordinators told.
    pub async fn remove_membership(
        &self,
        actor: Actor,
        person_id: PersonId,
        organisation_id: OrganisationId,
        role: Role,
    ) -> Result<(), EngineError> {
        let tx = self.store().begin().await?;
        require_admin_of(&tx, actor, organisation_id, "remove its memberships").await?;
        let not_found = || {
            EngineError::not_found(
                "membership",
                format!(
                    "{} of person {person_id} in organisation {organisation_id}",
                    role.as_str()
                ),
            )
        };
        let id = tx
            .membership_id(person_id, organisation_id, role.as_str())
            .await?
            .ok_or_else(not_found)?;
        let removed = read_row(&tx, DirectoryRowId::Membership(id)).await?;
        if !tx
            .delete_membership(person_id, organisation_id, role.as_str())
            .await?
        {
            return Err(not_found());
        }
        record_removal(&tx, actor, "membership_removed", removed).await?;
        // Someone who no longer belongs to the organisation no longer signs for it.
        self.cancel_requests_of_departed(&tx, actor, person_id, organisation_id)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Gives a person a role in an organisation; an operator or an admin of that
    /// organisation may.
    pub async fn add_membership(
        &self,
        actor: Actor,
        person_id: PersonId,
        organisation_id: OrganisationId,
        role: Role,
    ) -> Result<(), EngineError> {
        if !MEMBERSHIP_ROLES.contains(&role) {
            return Err(EngineError::Validation(format!(
                "'{}' is not a membership role: use admin, coordinator or member (signatories come from a document's signatory list, partners from the network)",
                role.as_str()
            )));
        }
        let tx = self.store().begin().await?;
        require_admin_of(&tx, actor, organisation_id, "grant its memberships").await?;
        tx.person(person_id)
            .await?
            .ok_or_else(|| EngineError::not_found("person", person_id))?;
        tx.organisation(organisation_id)
            .await?
            .ok_or_else(|| EngineError::not_found("organisation", organisation_id))?;
        let membership = tx
            .insert_membership(person_id, organisation_id, role.as_str())
            .await
            .map_err(|e| duplicate_as_conflict(e, "membership", role.as_str()))?;
        record_row(
            &tx,
            actor,
            "membership_added",
            DirectoryRowId::Membership(membership.id),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Creates a partner network; only an instance operator may.
    pub async fn create_network(
        &self,
        actor: Actor,
        slug: &str,
        name: &str,
    ) -> Result<Network, EngineError> {
        validate::slug("network", slug)?;
        validate::display_line("network name", name)?;
        let tx = self.store().begin().await?;
        require_operator(&tx, actor, "create partner networks").await?;
        let network = tx
            .insert_network(slug, name)
            .await
            .map_err(|e| duplicate_as_conflict(e, "network", slug))?;
        record_row(
            &tx,
            actor,
            "network_created",
            DirectoryRowId::Network(network.id),
        )
        .await?;
        tx.commit().await?;
        Ok(network)
    }

    /// Adds an organisation to a partner network; only an instance operator may.
    pub async fn add_network_member(
        &self,
        actor: Actor,
        network_id: NetworkId,
        organisation_id: OrganisationId,
    ) -> Result<(), EngineError> {
        let tx = self.store().begin().await?;
        require_operator(&tx, actor, "change the partner network").await?;
        tx.organisation(organisation_id)
            .await?
            .ok_or_else(|| EngineError::not_found("organisation", organisation_id))?;
        tx.insert_network_member(network_id, organisation_id)
            .await
            .map_err(|e| match e {
                patto_store::StoreError::MissingReference(_) => {
                    EngineError::not_found("network", network_id)
                }
                other => duplicate_as_conflict(other, "network member", organisation_id),
            })?;
        let id = tx
            .network_member_id(network_id, organisation_id)
            .await?
            .ok_or_else(|| EngineError::not_found("network member", organisation_id))?;
        record_row(
            &tx,
            actor,
            "network_member_added",
            DirectoryRowId::NetworkMember(id),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Creates a working group; only an instance operator may.
    pub async fn create_working_group(
        &self,
        actor: Actor,
        slug: &str,
        name: &str,
    ) -> Result<WorkingGroup, EngineError> {
        validate::slug("working group", slug)?;
        validate::display_line("working group name", name)?;
        let tx = self.store().begin().await?;
        require_operator(&tx, actor, "create working groups").await?;
        let group = tx
            .insert_working_group(slug, name)
            .await
            .map_err(|e| duplicate_as_conflict(e, "working group", slug))?;
        record_row(
            &tx,
            actor,
            "working_group_created",
            DirectoryRowId::WorkingGroup(group.id),
        )
        .await?;
        tx.commit().await?;
        Ok(group)
    }

    /// Adds a person to a working group; only an instance operator may.
    pub async fn add_working_group_member(
        &self,
        actor: Actor,
        working_group_id: WorkingGroupId,
        person_id: PersonId,
    ) -> Result<(), EngineError> {
        let tx = self.store().begin().await?;
        require_operator(&tx, actor, "change working groups").await?;
        tx.working_group(working_group_id)
            .await?
            .ok_or_else(|| EngineError::not_found("working group", working_group_id))?;
        tx.person(person_id)
            .await?
            .ok_or_else(|| EngineError::not_found("person", person_id))?;
        tx.insert_working_group_member(working_group_id, person_id)
            .await
            .map_err(|e| duplicate_as_conflict(e, "working group member", person_id))?;
        let id = tx
            .working_group_member_id(working_group_id, person_id)
            .await?
            .ok_or_else(|| EngineError::not_found("working group member", person_id))?;
        record_row(
            &tx,
            actor,
            "working_group_member_added",
            DirectoryRowId::WorkingGroupMember(id),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Removes a person from a working group; only an instance operator may.
    pub async fn remove_working_group_member(
        &self,
        actor: Actor,
        working_group_id: WorkingGroupId,
        person_id: PersonId,
    ) -> Result<(), EngineError> {
        let tx = self.store().begin().await?;
        require_operator(&tx, actor, "change working groups").await?;
        let not_found = || {
            EngineError::not_found(
                "working group member",
                format!("person {person_id} in group {working_group_id}"),
            )
        };
        let id = tx
            .working_group_member_id(working_group_id, person_id)
            .await?
            .ok_or_else(not_found)?;
        let removed = read_row(&tx, DirectoryRowId::WorkingGroupMember(id)).await?;
        if !tx
            .delete_working_group_member(working_group_id, person_id)
            .await?
        {
            return Err(not_found());
        }
        record_removal(&tx, actor, "working_group_member_removed", removed).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Makes a person an instance operator. Only the command line may: operators are
    /// created on the server, never through the API.
    pub async fn grant_operator(
        &self,
        actor: Actor,
        person_id: PersonId,
    ) -> Result<(), EngineError> {
        require_system(
            actor,
            "make someone an instance operator",
            "patto operator add",
        )?;
        let tx = self.store().begin().await?;
        tx.person(person_id)
            .await?
            .ok_or_else(|| EngineError::not_found("person", person_id))?;
        let id = tx
            .insert_operator(person_id)
            .await
            .map_err(|e| duplicate_as_conflict(e, "operator", person_id))?;
        record_row(&tx, actor, "operator_granted", DirectoryRowId::Operator(id)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The organisation with this slug, or `NOT_FOUND`.
    pub async fn organisation_by_slug(&self, slug: &str) -> Result<Organisation, EngineError> {
        let tx = self.store().read().await?;
        let organisation = tx.organisation_by_slug(slug).await?;
        tx.commit().await?;
        organisation.ok_or_else(|| EngineError::not_found("organisation", slug))
    }

    /// Every organisation, by name.
    pub async fn organisations(&self) -> Result<Vec<Organisation>, EngineError> {
        let tx = self.store().read().await?;
        let organisations = tx.organisations().await?;
        tx.commit().await?;
        Ok(organisations)
    }

    /// The person with this e-mail address, or `NOT_FOUND`.
    pub async fn person_by_email(&self, email: &str) -> Result<Person, EngineError> {
        let email = email.trim().to_lowercase();
        let tx = self.store().read().await?;
        let person = tx.person_by_email(&email).await?;
        tx.commit().await?;
        person.ok_or_else(|| EngineError::not_found("person with e-mail", email))
    }

    /// Whether nothing has been registered yet (the demo loads only into such a database).
    pub async fn is_empty(&self) -> Result<bool, EngineError> {
        let tx = self.store().read().await?;
        let count = tx.organisation_count().await?;
        tx.commit().await?;
        Ok(count == 0)
    }
}

/// A directory row read in the caller's transaction, before it is removed.
async fn read_row(tx: &Tx, id: DirectoryRowId) -> Result<DirectoryRow, EngineError> {
    tx.directory_row(id)
        .await?
        .ok_or_else(|| EngineError::not_found("directory row", format!("{id:?}")))
}

/// Only municipalities carry an ISTAT code, and every municipality does.
fn check_istat_code(
    name: &str,
    category: OrganisationCategory,
    istat_code: Option<&str>,
) -> Result<(), EngineError> {
    match (category, istat_code) {
        (OrganisationCategory::Municipality, Some(code)) => validate::istat_code(code),
        (OrganisationCategory::Municipality, None) => Err(EngineError::Validation(format!(
            "the municipality '{name}' needs its six-digit ISTAT code"
        ))),
        (_, Some(_)) => Err(EngineError::Validation(format!(
            "only municipalities carry an ISTAT code; '{name}' is a {}: leave the code out",
            category.as_str()
        ))),
        (_, None) => Ok(()),
    }
}

/// Turns a unique-key violation into a CONFLICT that names what already exists.
pub(crate) fn duplicate_as_conflict(
    error: patto_store::StoreError,
    what: &str,
    key: impl std::fmt::Display,
) -> EngineError {
    match error {
        patto_store::StoreError::Duplicate(_) => {
            EngineError::Conflict(format!("{what} '{key}' already exists"))
        }
        other => EngineError::Store(other),
    }
}
