//! Subscriptions: the events of a document's workflow as they are committed, over
//! WebSocket (see `websocket.rs`). The feed of committed events only wakes a
//! subscription up; what the subscriber receives is read back through the engine, which
//! decides at every event whether they are involved in the document, so that a draft
//! shared later becomes visible and a subscriber who is no longer involved receives
//! nothing more. The session is checked again at every event too: a revoked or expired
//! token ends the stream.

use std::pin::Pin;
use std::sync::Arc;

use async_graphql::futures_util::Stream;
use async_graphql::{Context, Subscription};
use patto_core::ids::{DocumentId, InstanceId};
use patto_engine::{Actor, Engine, Followed};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::types::Event;
use crate::auth::Sessions;
use crate::error::{ApiError, ApiResult, Code, coded, engine};

/// How many subscriptions one WebSocket connection may keep open at once.
pub const MAX_SUBSCRIPTIONS_PER_CONNECTION: usize = 16;

/// Who is subscribing, as established when the WebSocket connection was initialised,
/// and the subscription slots of that connection.
pub(crate) struct Subscriber {
    pub engine: Arc<Engine>,
    pub sessions: Arc<dyn Sessions>,
    pub actor: Actor,
    /// The bearer token the actor was built from, checked again at every event.
    pub token: Option<String>,
    pub slots: Arc<Semaphore>,
}

impl Subscriber {
    pub(crate) fn new(
        engine: Arc<Engine>,
        sessions: Arc<dyn Sessions>,
        actor: Actor,
        token: Option<String>,
    ) -> Subscriber {
        Subscriber {
            engine,
            sessions,
            actor,
            token,
            slots: Arc::new(Semaphore::new(MAX_SUBSCRIPTIONS_PER_CONNECTION)),
        }
    }
}

type EventStream = Pin<Box<dyn Stream<Item = ApiResult<Event>> + Send>>;

/// The subscriptions of the lifecycle.
#[derive(Default)]
pub struct LifecycleSubscription;

#[Subscription]
impl LifecycleSubscription {
    /// The events of a document's workflow, oldest first: those recorded after
    /// sequence number `after` (0, the default, for the whole history), then each new
    /// one as it is committed, on this server or on another sharing the database. Each
    /// is sent only while the subscriber is involved in the document, as for `history`;
    /// none is sent twice, and none is skipped: a subscriber that falls behind catches
    /// up from the database in order. Needs a session (a bearer token in the
    /// `connection_init` payload, as `{"Authorization": "Bearer ..."}`); the stream ends
    /// with `UNAUTHENTICATED` when the session does.
    async fn instance_events(
        &self,
        ctx: &Context<'_>,
        document: String,
        #[graphql(default = 0)] after: i64,
    ) -> async_graphql::Result<EventStream> {
        let subscriber = ctx
            .data::<Subscriber>()
            .map_err(|_| ApiError::Internal("the subscriber is missing".to_owned()))?;
        if after < 0 {
            return Err(ApiError::Validation(format!(
                "after must be 0 or an event's seq, not {after}"
            ))
            .into());
        }
        let slot = subscriber.slots.clone().try_acquire_owned().map_err(|_| {
            coded(
                format!(
                    "a connection may keep at most {MAX_SUBSCRIPTIONS_PER_CONNECTION} subscriptions open; complete one before starting another, or open another connection"
                ),
                Code::RateLimited,
            )
        })?;
        let (document_id, instance_id) = engine(
            subscriber
                .engine
                .document_to_follow(subscriber.actor, &document)
                .await,
        )?;
        // Following starts before the history is read, so that an event committed
        // between the two is seen by one or the other (and sent once, by its seq).
        let follower = engine(subscriber.engine.follow_events().await)?;
        let following = Following {
            engine: subscriber.engine.clone(),
            sessions: subscriber.sessions.clone(),
            actor: subscriber.actor,
            token: subscriber.token.clone(),
            document_id,
            instance_id,
            _slot: slot,
        };
        Ok(Box::pin(following.stream(follower, after)))
    }
}

/// One subscription to one document's events.
struct Following {
    engine: Arc<Engine>,
    sessions: Arc<dyn Sessions>,
    actor: Actor,
    token: Option<String>,
    document_id: DocumentId,
    instance_id: InstanceId,
    /// Held for as long as the subscription is open.
    _slot: OwnedSemaphorePermit,
}

impl Following {
    fn stream(
        self,
        mut follower: patto_engine::EventFollower,
        after: i64,
    ) -> impl Stream<Item = ApiResult<Event>> + Send {
        async_stream::stream! {
            let mut last_seq = after;
            // The history recorded so far comes first.
            let mut catch_up = true;
            loop {
                if catch_up {
                    if let Err(error) = self.session_still_valid().await {
                        yield Err(error);
                        break;
                    }
                    match engine(
                        self.engine
                            .followed_events(self.actor, self.document_id, last_seq)
                            .await,
                    ) {
                        Ok(events) => {
                            for event in events {
                                last_seq = last_seq.max(event.seq);
                                yield Ok(Event::from(event));
                            }
                        }
                        Err(error) => {
                            yield Err(error);
                            break;
                        }
                    }
                }
                catch_up = match follower.next().await {
                    Followed::Event(event) => {
                        event.instance_id == self.instance_id && event.seq > last_seq
                    }
                    Followed::Missed => true,
                    Followed::Closed => break,
                };
            }
        }
    }

    /// Whether the subscriber's session still holds.
    async fn session_still_valid(&self) -> ApiResult<()> {
        let Some(token) = &self.token else {
            return Ok(());
        };
        match self.sessions.authenticate(token).await {
            Ok(person) if self.actor == Actor::Person(person) => Ok(()),
            Ok(_) => Err(ApiError::Unauthenticated(
                "this session now belongs to someone else; subscribe again".to_owned(),
            )
            .into()),
            Err(_) => Err(ApiError::Unauthenticated(
                "the session ended (the token was revoked or expired): this subscription is closed; log in again and subscribe with `after` set to the last seq you received"
                    .to_owned(),
            )
            .into()),
        }
    }
}
