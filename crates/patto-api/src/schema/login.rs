//! E-mail login: ask for a code, exchange it for a session token, log out. The client's
//! address comes from the connection (or a trusted proxy), never from a field, since the
//! rate limits are counted by it.

use std::net::IpAddr;

use async_graphql::{Context, Object, SimpleObject};
use chrono::{DateTime, Utc};
use patto_engine::IssuedToken;

use super::request;
use super::types::Me;
use crate::auth::Connection;
use crate::error::{ApiError, ApiResult, engine};

/// The login mutations.
#[derive(Default)]
pub struct LoginMutation;

/// A session from an e-mail login.
#[derive(SimpleObject)]
pub struct LoginSession {
    /// The bearer token: send it as `Authorization: Bearer <token>`. It is shown only
    /// here, once; the server keeps only its hash.
    pub token: String,
    /// When the token stops working.
    pub expires_at: DateTime<Utc>,
    /// Who logged in.
    pub person: Me,
}

fn connection<'a>(ctx: &Context<'a>) -> ApiResult<&'a Connection> {
    ctx.data::<Connection>().map_err(|_| {
        ApiError::Internal("the request's connection information is missing".to_owned()).into()
    })
}

/// The client's address, which the login services count requests by.
pub(super) fn client(ctx: &Context<'_>) -> ApiResult<IpAddr> {
    connection(ctx)?.client.ok_or_else(|| {
        ApiError::Internal(
            "the server was started without the connections' addresses, which login needs for its rate limits".to_owned(),
        )
        .into()
    })
}

#[Object]
impl LoginMutation {
    /// Asks for a one-time login code by e-mail, valid for 15 minutes. The answer is
    /// `true` whether or not the address belongs to someone: only its owner learns, by
    /// the mail, that it does. Too many requests for one address or from one client are
    /// `RATE_LIMITED`.
    async fn request_login(&self, ctx: &Context<'_>, email: String) -> ApiResult<bool> {
        let cx = request(ctx)?;
        let client = client(ctx)?;
        engine(cx.engine.request_login(&email, client).await).map(|()| true)
    }

    /// Exchanges the mailed code for a session token. A code works once and stops after
    /// 5 wrong tries; every refusal is the same `UNAUTHENTICATED` answer.
    async fn login(
        &self,
        ctx: &Context<'_>,
        email: String,
        code: String,
    ) -> ApiResult<LoginSession> {
        let cx = request(ctx)?;
        let client = client(ctx)?;
        let IssuedToken {
            token,
            person,
            expires_at,
        } = engine(cx.engine.login(&email, &code, client).await)?;
        Ok(LoginSession {
            token,
            expires_at,
            person: Me::from(person),
        })
    }

    /// Revokes the caller's own token: from now on it is `UNAUTHENTICATED`.
    async fn logout(&self, ctx: &Context<'_>) -> ApiResult<bool> {
        let cx = request(ctx)?;
        let token = connection(ctx)?.bearer.as_deref().ok_or_else(|| {
            ApiError::Unauthenticated(
                "there is no session to end: logout needs the bearer token in the Authorization header".to_owned(),
            )
        })?;
        engine(cx.engine.logout(token).await).map(|()| true)
    }
}
