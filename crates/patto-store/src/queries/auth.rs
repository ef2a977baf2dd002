//! Bearer tokens and one-time login codes. Neither a token nor a code is ever stored:
//! only their hashes are, and the engine compares them.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use patto_core::ids::*;
use patto_core::records::*;
use patto_core::status::TokenKind;

use super::*;
use crate::entities::*;
use crate::{Backend, StoreError, Tx};

impl Tx {
    // --- bearer tokens ---

    /// Stores a new token by its hash.
    pub async fn insert_auth_token(
        &self,
        person_id: PersonId,
        token_sha256: &str,
        kind: TokenKind,
        expires_at: DateTime<Utc>,
    ) -> Result<AuthToken, StoreError> {
        let model = auth_token::ActiveModel {
            token_sha256: Set(token_sha256.to_owned()),
            person_id: Set(person_id.get()),
            kind: Set(kind.as_str().to_owned()),
            created_at: Set(now()),
            expires_at: Set(expires_at),
            revoked_at: Set(None),
            ..Default::default()
        };
        record(model.insert(&self.inner).await?)
    }

    /// The token whose hash this is, revoked or expired ones included.
    pub async fn auth_token_by_hash(
        &self,
        token_sha256: &str,
    ) -> Result<Option<AuthToken>, StoreError> {
        auth_token::Entity::find()
            .filter(auth_token::Column::TokenSha256.eq(token_sha256))
            .one(&self.inner)
            .await?
            .map(record)
            .transpose()
    }

    /// Revokes a token; `false` when it was already revoked.
    pub async fn revoke_auth_token(&self, id: AuthTokenId) -> Result<bool, StoreError> {
        let result = auth_token::Entity::update_many()
            .col_expr(auth_token::Column::RevokedAt, Expr::value(now()))
            .filter(auth_token::Column::Id.eq(id.get()))
            .filter(auth_token::Column::RevokedAt.is_null())
            .exec(&self.inner)
            .await?;
        Ok(result.rows_affected == 1)
    }

    // --- login codes ---

    /// Stores a new login code by its salted hash.
    pub async fn insert_login_code(
        &self,
        person_id: PersonId,
        salt: &str,
        code_sha256: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<LoginCode, StoreError> {
        let model = login_code::ActiveModel {
            person_id: Set(person_id.get()),
            salt: Set(salt.to_owned()),
            code_sha256: Set(code_sha256.to_owned()),
            failed_attempts: Set(0),
            created_at: Set(now()),
            expires_at: Set(expires_at),
            closed_at: Set(None),
            ..Default::default()
        };
        record(model.insert(&self.inner).await?)
    }

    /// A person's login codes that are neither closed nor expired at `at`, newest first,
    /// locked for this transaction on PostgreSQL (SQLite has one writer at a time), so
    /// that concurrent tries of one code are counted one after the other and none is
    /// compared once the code is locked.
    pub async fn open_login_codes_for_update(
        &self,
        person_id: PersonId,
        at: DateTime<Utc>,
    ) -> Result<Vec<LoginCode>, StoreError> {
        let mut query = login_code::Entity::find()
            .filter(login_code::Column::PersonId.eq(person_id.get()))
            .filter(login_code::Column::ClosedAt.is_null())
            .filter(login_code::Column::ExpiresAt.gt(at))
            .order_by_desc(login_code::Column::Id);
        if self.backend == Backend::Postgres {
            query = query.lock_exclusive();
        }
        records(query.all(&self.inner).await?)
    }

    /// Closes every open login code of a person (a newer one replaces them).
    pub async fn close_login_codes_of(&self, person_id: PersonId) -> Result<u64, StoreError> {
        let result = login_code::Entity::update_many()
            .col_expr(login_code::Column::ClosedAt, Expr::value(now()))
            .filter(login_code::Column::PersonId.eq(person_id.get()))
            .filter(login_code::Column::ClosedAt.is_null())
            .exec(&self.inner)
            .await?;
        Ok(result.rows_affected)
    }

    /// Closes one login code (used, or locked); `false` when it was already closed, which
    /// makes a code single-use even when two logins race.
    pub async fn close_login_code(&self, id: LoginCodeId) -> Result<bool, StoreError> {
        let result = login_code::Entity::update_many()
            .col_expr(login_code::Column::ClosedAt, Expr::value(now()))
            .filter(login_code::Column::Id.eq(id.get()))
            .filter(login_code::Column::ClosedAt.is_null())
            .exec(&self.inner)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// Counts one wrong code against a login code, closing it when `lock` says so.
    pub async fn count_failed_login(&self, id: LoginCodeId, lock: bool) -> Result<(), StoreError> {
        let mut update = login_code::Entity::update_many().col_expr(
            login_code::Column::FailedAttempts,
            Expr::col(login_code::Column::FailedAttempts).add(1),
        );
        if lock {
            update = update.col_expr(login_code::Column::ClosedAt, Expr::value(now()));
        }
        update
            .filter(login_code::Column::Id.eq(id.get()))
            .exec(&self.inner)
            .await?;
        Ok(())
    }
}
