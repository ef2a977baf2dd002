//! Organisations, people, memberships, the partner network and working groups.

use sea_orm::sea_query::{Expr, ExprTrait, Query, SelectStatement};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder,
};

use patto_core::ids::*;
use patto_core::records::*;

use super::*;
use crate::entities::*;
use crate::{StoreError, Tx};

/// A set of people, named by how they relate to an organisation, a working group or a
/// document. The engine says which set each role is; the store reads any number of
/// them in one statement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeopleSet<'a> {
    /// People with a membership of this role in the organisation.
    WithMembership {
        /// The membership's role.
        role: &'a str,
        /// The organisation.
        organisation_id: OrganisationId,
    },
    /// The members of a working group.
    WorkingGroup(WorkingGroupId),
    /// The people on a document's signatory list.
    Signatories(DocumentId),
    /// People with a membership in an organisation that shares a network with this one.
    NetworkPartnersOf(OrganisationId),
    /// People with a membership of this role in an organisation of this category that
    /// shares a network with this organisation (a body that speaks for a category, such
    /// as the region or the decision body).
    WithMembershipNear {
        /// The membership's role.
        role: &'a str,
        /// The category code name of the organisations whose members count.
        category: &'a str,
        /// The organisation they must share a network with.
        organisation_id: OrganisationId,
    },
}

/// An organisation to insert.
pub struct NewOrganisation<'a> {
    /// Unique short name.
    pub slug: &'a str,
    /// Display name.
    pub name: &'a str,
    /// Category code name.
    pub category: &'a str,
    /// ISTAT code of a Comune.
    pub istat_code: Option<&'a str>,
}

impl Tx {
    // --- organisations, people, memberships ---

    /// Inserts an organisation.
    pub async fn insert_organisation(
        &self,
        new: NewOrganisation<'_>,
    ) -> Result<Organisation, StoreError> {
        let model = organisation::ActiveModel {
            slug: Set(new.slug.to_owned()),
            name: Set(new.name.to_owned()),
            category: Set(new.category.to_owned()),
            istat_code: Set(new.istat_code.map(str::to_owned)),
            created_at: Set(now()),
            ..Default::default()
        };
        record(model.insert(&self.inner).await?)
    }

    /// Saves an organisation's changed name, category and ISTAT code.
    pub async fn update_organisation(&self, changed: &Organisation) -> Result<(), StoreError> {
        organisation::Entity::update_many()
            .col_expr(
                organisation::Column::Name,
                Expr::value(changed.name.clone()),
            )
            .col_expr(
                organisation::Column::Category,
                Expr::value(changed.category.clone()),
            )
            .col_expr(
                organisation::Column::IstatCode,
                Expr::value(changed.istat_code.clone()),
            )
            .filter(organisation::Column::Id.eq(changed.id.get()))
            .exec(&self.inner)
            .await?;
        Ok(())
    }

    /// The organisation with this id.
    pub async fn organisation(
        &self,
        id: OrganisationId,
    ) -> Result<Option<Organisation>, StoreError> {
        organisation::Entity::find_by_id(id.get())
            .one(&self.inner)
            .await?
            .map(record)
            .transpose()
    }

    /// The organisation with this slug.
    pub async fn organisation_by_slug(
        &self,
        slug: &str,
    ) -> Result<Option<Organisation>, StoreError> {
        organisation::Entity::find()
            .filter(organisation::Column::Slug.eq(slug))
            .one(&self.inner)
            .await?
            .map(record)
            .transpose()
    }

    /// Every organisation, by name.
    pub async fn organisations(&self) -> Result<Vec<Organisation>, StoreError> {
        records(
            organisation::Entity::find()
                .order_by_asc(organisation::Column::Name)
                .all(&self.inner)
                .await?,
        )
    }

    /// How many organisations there are.
    pub async fn organisation_count(&self) -> Result<u64, StoreError> {
        Ok(organisation::Entity::find().count(&self.inner).await?)
    }

    /// Inserts a person.
    pub async fn insert_person(
        &self,
        email: &str,
        name: &str,
        language: &str,
    ) -> Result<Person, StoreError> {
        let model = person::ActiveModel {
            email: Set(email.to_owned()),
            name: Set(name.to_owned()),
            language: Set(language.to_owned()),
            created_at: Set(now()),
            ..Default::default()
        };
        record(model.insert(&self.inner).await?)
    }

    /// Saves a person's changed name and language.
    pub async fn update_person(&self, changed: &Person) -> Result<(), StoreError> {
        person::Entity::update_many()
            .col_expr(person::Column::Name, Expr::value(changed.name.clone()))
            .col_expr(
                person::Column::Language,
                Expr::value(changed.language.clone()),
            )
            .filter(person::Column::Id.eq(changed.id.get()))
            .exec(&self.inner)
            .await?;
        Ok(())
    }

    /// The person with this id.
    pub async fn person(&self, id: PersonId) -> Result<Option<Person>, StoreError> {
        person::Entity::find_by_id(id.get())
            .one(&self.inner)
            .await?
            .map(record)
            .transpose()
    }

    /// The person with this e-mail address.
    pub async fn person_by_email(&self, email: &str) -> Result<Option<Person>, StoreError> {
        person::Entity::find()
            .filter(person::Column::Email.eq(email))
            .one(&self.inner)
            .await?
            .map(record)
            .transpose()
    }

    /// Gives a person a role in an organisation.
    pub async fn insert_membership(
        &self,
        person_id: PersonId,
        organisation_id: OrganisationId,
        role: &str,
    ) -> Result<Membership, StoreError> {
        let model = membership::ActiveModel {
            person_id: Set(person_id.get()),
            organisation_id: Set(organisation_id.get()),
            role: Set(role.to_owned()),
            created_at: Set(now()),
            ..Default::default()
        };
        record(model.insert(&self.inner).await?)
    }

    /// Removes a membership; `false` when there was none.
    pub async fn delete_membership(
        &self,
        person_id: PersonId,
        organisation_id: OrganisationId,
        role: &str,
    ) -> Result<bool, StoreError> {
        let result = membership::Entity::delete_many()
            .filter(membership::Column::PersonId.eq(person_id.get()))
            .filter(membership::Column::OrganisationId.eq(organisation_id.get()))
            .filter(membership::Column::Role.eq(role))
            .exec(&self.inner)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// Every membership of a person.
    pub async fn memberships_of(&self, person_id: PersonId) -> Result<Vec<Membership>, StoreError> {
        records(
            membership::Entity::find()
                .filter(membership::Column::PersonId.eq(person_id.get()))
                .all(&self.inner)
                .await?,
        )
    }

    // --- the partner network ---

    /// Inserts a partner network.
    pub async fn insert_network(&self, slug: &str, name: &str) -> Result<Network, StoreError> {
        let model = network::ActiveModel {
            slug: Set(slug.to_owned()),
            name: Set(name.to_owned()),
            created_at: Set(now()),
            ..Default::default()
        };
        record(model.insert(&self.inner).await?)
    }

    /// The network with this slug.
    pub async fn network_by_slug(&self, slug: &str) -> Result<Option<Network>, StoreError> {
        network::Entity::find()
            .filter(network::Column::Slug.eq(slug))
            .one(&self.inner)
            .await?
            .map(record)
            .transpose()
    }

    /// Adds an organisation to a network.
    pub async fn insert_network_member(
        &self,
        network_id: NetworkId,
        organisation_id: OrganisationId,
    ) -> Result<(), StoreError> {
        let model = network_member::ActiveModel {
            network_id: Set(network_id.get()),
            organisation_id: Set(organisation_id.get()),
            joined_at: Set(now()),
            ..Default::default()
        };
        model.insert(&self.inner).await?;
        Ok(())
    }

    // --- working groups ---

    /// Inserts a working group.
    pub async fn insert_working_group(
        &self,
        slug: &str,
        name: &str,
    ) -> Result<WorkingGroup, StoreError> {
        let model = working_group::ActiveModel {
            slug: Set(slug.to_owned()),
            name: Set(name.to_owned()),
            created_at: Set(now()),
            ..Default::default()
        };
        record(model.insert(&self.inner).await?)
    }

    /// The working group with this id.
    pub async fn working_group(
        &self,
        id: WorkingGroupId,
    ) -> Result<Option<WorkingGroup>, StoreError> {
        working_group::Entity::find_by_id(id.get())
            .one(&self.inner)
            .await?
            .map(record)
            .transpose()
    }

    /// Adds a person to a working group.
    pub async fn insert_working_group_member(
        &self,
        working_group_id: WorkingGroupId,
        person_id: PersonId,
    ) -> Result<(), StoreError> {
        let model = working_group_member::ActiveModel {
            working_group_id: Set(working_group_id.get()),
            person_id: Set(person_id.get()),
            joined_at: Set(now()),
            ..Default::default()
        };
        model.insert(&self.inner).await?;
        Ok(())
    }

    /// Removes a person from a working group; `false` when they were not in it.
    pub async fn delete_working_group_member(
        &self,
        working_group_id: WorkingGroupId,
        person_id: PersonId,
    ) -> Result<bool, StoreError> {
        let result = working_group_member::Entity::delete_many()
            .filter(working_group_member::Column::WorkingGroupId.eq(working_group_id.get()))
            .filter(working_group_member::Column::PersonId.eq(person_id.get()))
            .exec(&self.inner)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// The people in any of `sets`, each once, by id, in one statement.
    pub async fn people_in(&self, sets: &[PeopleSet<'_>]) -> Result<Vec<Person>, StoreError> {
        if sets.is_empty() {
            return Ok(Vec::new());
        }
        records(
            person::Entity::find()
                .filter(Self::in_any_set(Expr::col(person::Column::Id), sets))
                .order_by_asc(person::Column::Id)
                .all(&self.inner)
                .await?,
        )
    }

    /// The condition that the person id in `column` is in any of `sets` (false when
    /// there are none): how a notification finds its recipients and how a transition
    /// written in one statement checks that its caller still holds a role.
    pub(crate) fn in_any_set(column: Expr, sets: &[PeopleSet<'_>]) -> Condition {
        sets.iter().fold(Condition::any(), |any, set| {
            any.add(column.clone().in_subquery(Self::person_ids(set)))
        })
    }

    /// The ids of the people in a set, as a subquery.
    fn person_ids(set: &PeopleSet<'_>) -> SelectStatement {
        match *set {
            PeopleSet::WithMembership {
                role,
                organisation_id,
            } => Query::select()
                .column(membership::Column::PersonId)
                .from(membership::Entity)
                .and_where(Expr::col(membership::Column::Role).eq(role))
                .and_where(Expr::col(membership::Column::OrganisationId).eq(organisation_id.get()))
                .to_owned(),
            PeopleSet::WorkingGroup(group) => Query::select()
                .column(working_group_member::Column::PersonId)
                .from(working_group_member::Entity)
                .and_where(Expr::col(working_group_member::Column::WorkingGroupId).eq(group.get()))
                .to_owned(),
            PeopleSet::Signatories(document) => Query::select()
                .column(signatory::Column::PersonId)
                .from(signatory::Entity)
                .and_where(Expr::col(signatory::Column::DocumentId).eq(document.get()))
                .to_owned(),
            PeopleSet::NetworkPartnersOf(organisation_id) => Query::select()
                .column(membership::Column::PersonId)
                .from(membership::Entity)
                .and_where(
                    Expr::col(membership::Column::OrganisationId)
                        .in_subquery(Self::network_partners_of(organisation_id)),
                )
                .to_owned(),
            PeopleSet::WithMembershipNear {
                role,
                category,
                organisation_id,
            } => Query::select()
                .column(membership::Column::PersonId)
                .from(membership::Entity)
                .and_where(Expr::col(membership::Column::Role).eq(role))
                .and_where(
                    Expr::col(membership::Column::OrganisationId)
                        .in_subquery(Self::of_category(category)),
                )
                .and_where(
                    Expr::col(membership::Column::OrganisationId)
                        .in_subquery(Self::network_partners_of(organisation_id)),
                )
                .to_owned(),
        }
    }
}
