//! Authentication: who is acting, proven by a bearer token.
//!
//! Tokens are 256 random bits, shown once and stored only as their SHA-256, with an
//! expiry and a revocation time. People get a session token by e-mail login: a one-time
//! code, valid for [`LOGIN_CODE_VALIDITY_MINUTES`], stored only as a salted hash, mailed
//! through the outbox in the same transaction that creates it. Instance operators get
//! tokens for scripts from the command line ([`Engine::issue_operator_token`]).
//!
//! The code itself has to reach the mail somehow: it travels in the outbox row's
//! `secret` column, which the mail worker renders into the message and which is cleared
//! as soon as the row is sent, dropped or given up on. No record type but
//! [`patto_core::records::OutgoingMail`] (returned only to the worker's claim) carries
//! it, so no listing, API or command can show a code.

mod client;
mod ratelimit;

use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use patto_core::ids::AuthTokenId;
use patto_core::records::{LoginCode, Person};
use patto_core::status::TokenKind;
use patto_store::NewOutboxMessage;
use subtle::ConstantTimeEq;

use crate::mail::{LOGIN_CODE_TEMPLATE, new_message_id};
use crate::{Actor, Engine, EngineError};

pub use client::{TrustedProxies, TrustedProxiesError, client_address};
pub(crate) use ratelimit::{LoginLimiter, Window};
pub use ratelimit::{LoginLimits, RateLimit};

/// How long a login code works.
pub const LOGIN_CODE_VALIDITY_MINUTES: i64 = 15;
/// How many wrong codes lock a login code.
pub const LOGIN_CODE_MAX_WRONG_TRIES: i32 = 5;
/// How long a session from an e-mail login lasts.
pub const SESSION_VALIDITY_DAYS: i64 = 30;
/// The longest an operator's token may last.
pub const MAX_TOKEN_VALIDITY_DAYS: u32 = 3650;

/// Every token starts with this, so that a leaked one is recognisable (secret scanners,
/// logs) and a value that is not a token is refused without a database look-up.
const TOKEN_PREFIX: &str = "patto_";
/// 256 random bits.
const TOKEN_BYTES: usize = 32;
/// Digits of a login code: one in a hundred million per guess, five guesses per code.
const LOGIN_CODE_DIGITS: u32 = 8;

/// The one answer to every failed login, so that it reveals nothing: not whether the
/// address exists, nor whether the code was wrong, used, expired or locked.
const LOGIN_REFUSED: &str = "the e-mail address or the code is not valid (codes work once, for 15 minutes, and stop after 5 wrong tries): ask for a new code";

/// An authenticated session: the person a valid token belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    /// The person.
    pub person: Person,
    /// Whether the person is an instance operator.
    pub operator: bool,
    /// The token's id (not the token), to revoke it.
    pub token_id: AuthTokenId,
    /// What the token was issued for.
    pub kind: TokenKind,
    /// When the token stops working.
    pub expires_at: DateTime<Utc>,
}

impl Session {
    /// The engine's actor for this session: always the person, never the system.
    pub fn actor(&self) -> Actor {
        Actor::Person(self.person.id)
    }
}

/// A newly issued token. The token itself exists only here: the database keeps its hash.
#[derive(Clone, PartialEq, Eq)]
pub struct IssuedToken {
    /// The bearer token, to give to its holder once.
    pub token: String,
    /// Whose it is.
    pub person: Person,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for IssuedToken {
    /// Everything but the token, so that a log line never shows it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedToken")
            .field("person", &self.person.email)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// Issues a token for scripts to an instance operator. Only the command line on the
    /// server ([`Actor::System`]) may, since a token proves who the holder is, and it
    /// mints tokens for operators only: everyone else logs in by e-mail.
    pub async fn issue_operator_token(
        &self,
        actor: Actor,
        email: &str,
        valid_for_days: u32,
    ) -> Result<IssuedToken, EngineError> {
        crate::roles::require_system(actor, "mint tokens", "patto token create")?;
        if valid_for_days == 0 || valid_for_days > MAX_TOKEN_VALIDITY_DAYS {
            return Err(EngineError::Validation(format!(
                "a token must last between 1 and {MAX_TOKEN_VALIDITY_DAYS} days, not {valid_for_days}"
            )));
        }
        let email = normalise_email(email);
        let tx = self.store().begin().await?;
        let person = tx
            .person_by_email(&email)
            .await?
            .ok_or_else(|| EngineError::not_found("person with e-mail", &email))?;
        if !tx.is_operator(person.id).await? {
            return Err(EngineError::Forbidden(format!(
                "{email} is not an instance operator, and the command line mints tokens for operators only; other people log in by e-mail (or make them an operator with `patto operator add`)"
            )));
        }
        let expires_at = Utc::now() + Duration::days(i64::from(valid_for_days));
        let token = new_token();
        tx.insert_auth_token(person.id, &token_hash(&token), TokenKind::Api, expires_at)
            .await?;
        tx.commit().await?;
        Ok(IssuedToken {
            token,
            person,
            expires_at,
        })
    }

    /// The session a bearer token proves. An unknown, malformed, expired or revoked
    /// token is `UNAUTHENTICATED`.
    pub async fn authenticate(&self, token: &str) -> Result<Session, EngineError> {
        if !looks_like_token(token) {
            return Err(unauthenticated_token());
        }
        let tx = self.store().read().await?;
        let stored = tx
            .auth_token_by_hash(&token_hash(token))
            .await?
            .ok_or_else(unauthenticated_token)?;
        if stored.revoked_at.is_some() {
            return Err(EngineError::Unauthenticated(
                "this token was revoked (logged out): log in again".to_owned(),
            ));
        }
        if stored.expires_at <= Utc::now() {
            return Err(EngineError::Unauthenticated(
                "this token has expired: log in again".to_owned(),
            ));
        }
        let person = tx.person(stored.person_id).await?.ok_or_else(|| {
            EngineError::Store(patto_store::StoreError::Corrupt(format!(
                "token {} belongs to missing person {}",
                stored.id, stored.person_id
            )))
        })?;
        let operator = tx.is_operator(person.id).await?;
        Ok(Session {
            person,
            operator,
            token_id: stored.id,
            kind: stored.kind,
            expires_at: stored.expires_at,
        })
    }

    /// Asks for a login code by e-mail. If the address belongs to someone, a new code
    /// replaces any earlier one and its mail is queued in the same transaction; either
    /// way the answer is the same, and takes at least the same time
    /// ([`LoginLimits::request_answer_floor`]), so that nobody learns which addresses
    /// exist (a value that is not an e-mail address at all is `VALIDATION`). Requests
    /// for one address and from one client address are rate-limited (`RATE_LIMITED`).
    pub async fn request_login(&self, email: &str, client: IpAddr) -> Result<(), EngineError> {
        let answer_at = tokio::time::Instant::now() + self.login_limiter().request_answer_floor;
        let outcome = self.queue_login_code(email, client).await;
        if outcome.is_ok() {
            tokio::time::sleep_until(answer_at).await;
        }
        outcome
    }

    /// The work of [`Engine::request_login`], which takes as long whatever it finds.
    async fn queue_login_code(&self, email: &str, client: IpAddr) -> Result<(), EngineError> {
        let email = normalise_email(email);
        // No address that fails this can be registered, so refusing it reveals nothing.
        crate::validate::email(&email)?;
        self.login_limiter().admit_request(&email, client)?;
        let tx = self.store().begin().await?;
        let Some(person) = tx.person_by_email(&email).await? else {
            return Ok(());
        };
        tx.close_login_codes_of(person.id).await?;
        tx.drop_pending_outbox_of(person.id, LOGIN_CODE_TEMPLATE)
            .await?;
        let code = new_login_code();
        let salt = hex::encode(random_bytes::<16>());
        let expires_at = Utc::now() + Duration::minutes(LOGIN_CODE_VALIDITY_MINUTES);
        tx.insert_login_code(person.id, &salt, &code_hash(&salt, &code), expires_at)
            .await?;
        let payload = serde_json::json!({
            "name": person.name,
            "valid_minutes": LOGIN_CODE_VALIDITY_MINUTES,
        })
        .to_string();
        tx.insert_expiring_outbox_message(
            NewOutboxMessage {
                message_id: &new_message_id(),
                instance_id: None,
                event_seq: None,
                person_id: person.id,
                recipient: &person.email,
                language: &person.language,
                template: LOGIN_CODE_TEMPLATE,
                payload: &payload,
            },
            &code,
            expires_at,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Exchanges a mailed login code for a session token. The code is compared in
    /// constant time, works once, and is locked after [`LOGIN_CODE_MAX_WRONG_TRIES`]
    /// wrong tries; every refusal is the same `UNAUTHENTICATED` answer. Attempts from one
    /// client address are rate-limited (`RATE_LIMITED`).
    pub async fn login(
        &self,
        email: &str,
        code: &str,
        client: IpAddr,
    ) -> Result<IssuedToken, EngineError> {
        let email = normalise_email(email);
        self.login_limiter().admit_attempt(client)?;
        let tx = self.store().begin().await?;
        let Some(person) = tx.person_by_email(&email).await? else {
            return Err(EngineError::Unauthenticated(LOGIN_REFUSED.to_owned()));
        };
        // A new request closes older codes, so there is at most one open code.
        let open = tx
            .open_login_codes_for_update(person.id, Utc::now())
            .await?;
        let Some(login_code) = open.first() else {
            return Err(EngineError::Unauthenticated(LOGIN_REFUSED.to_owned()));
        };
        if !code_matches(login_code, code.trim()) {
            let lock = login_code.failed_attempts + 1 >= LOGIN_CODE_MAX_WRONG_TRIES;
            tx.count_failed_login(login_code.id, lock).await?;
            // The wrong try must count even though the login fails.
            tx.commit().await?;
            return Err(EngineError::Unauthenticated(LOGIN_REFUSED.to_owned()));
        }
        if !tx.close_login_code(login_code.id).await? {
            return Err(EngineError::Unauthenticated(LOGIN_REFUSED.to_owned()));
        }
        let expires_at = Utc::now() + Duration::days(SESSION_VALIDITY_DAYS);
        let token = new_token();
        tx.insert_auth_token(
            person.id,
            &token_hash(&token),
            TokenKind::Session,
            expires_at,
        )
        .await?;
        tx.commit().await?;
        Ok(IssuedToken {
            token,
            person,
            expires_at,
        })
    }

    /// Revokes the token (logging out). A token that does not authenticate any more is
    /// `UNAUTHENTICATED`.
    pub async fn logout(&self, token: &str) -> Result<(), EngineError> {
        let session = self.authenticate(token).await?;
        let tx = self.store().begin().await?;
        if !tx.revoke_auth_token(session.token_id).await? {
            return Err(EngineError::Unauthenticated(
                "this token was already revoked".to_owned(),
            ));
        }
        tx.commit().await?;
        Ok(())
    }
}

fn normalise_email(email: &str) -> String {
    email.trim().to_lowercase()
}

fn unauthenticated_token() -> EngineError {
    EngineError::Unauthenticated(
        "this token is not valid: log in again, or ask an operator for a new one".to_owned(),
    )
}

pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    rand::fill(&mut bytes);
    bytes
}

fn new_token() -> String {
    use base64::Engine as _;
    let random =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<TOKEN_BYTES>());
    format!("{TOKEN_PREFIX}{random}")
}

/// Whether a value has the shape of a token, checked before any database look-up.
fn looks_like_token(value: &str) -> bool {
    value.strip_prefix(TOKEN_PREFIX).is_some_and(|random| {
        random.len() == 43
            && random
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

fn token_hash(token: &str) -> String {
    patto_sign::content_hash(token.as_bytes())
}

fn new_login_code() -> String {
    let limit = 10u32.pow(LOGIN_CODE_DIGITS);
    let digits = LOGIN_CODE_DIGITS as usize;
    format!("{:0digits$}", rand::random_range(0..limit))
}

fn code_hash(salt: &str, code: &str) -> String {
    patto_sign::content_hash(format!("patto-login-code\n{salt}\n{code}").as_bytes())
}

/// Compares the hashes in constant time, so that the time taken says nothing about how
/// much of a guess was right.
fn code_matches(stored: &LoginCode, candidate: &str) -> bool {
    let candidate = code_hash(&stored.salt, candidate);
    bool::from(candidate.as_bytes().ct_eq(stored.code_sha256.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_carry_256_random_bits_and_are_recognised_by_shape() {
        let token = new_token();
        assert!(looks_like_token(&token), "{token}");
        assert_ne!(token, new_token());
        assert!(!looks_like_token("patto_short"));
        assert!(!looks_like_token(&token.replace("patto_", "other_")));
        assert!(!looks_like_token(&format!("{token}x")));
        assert_eq!(token_hash(&token).len(), 64);
    }

    #[test]
    fn login_codes_have_eight_digits_and_hash_with_their_salt() {
        let code = new_login_code();
        assert_eq!(code.len(), 8);
        assert!(code.bytes().all(|b| b.is_ascii_digit()));
        assert_ne!(code_hash("a", &code), code_hash("b", &code));
        let stored = LoginCode {
            id: patto_core::ids::LoginCodeId::new(1),
            person_id: patto_core::ids::PersonId::new(1),
            salt: "s".to_owned(),
            code_sha256: code_hash("s", "01234567"),
            failed_attempts: 0,
            created_at: Utc::now(),
            expires_at: Utc::now(),
            closed_at: None,
        };
        assert!(code_matches(&stored, "01234567"));
        assert!(!code_matches(&stored, "01234568"));
        assert!(!code_matches(&stored, ""));
    }
}
