//! The feed of committed events: every event appended to an instance's chain is told to
//! this server's followers once its transaction has committed, never before, so that a
//! follower never sees a change that was rolled back.
//!
//! On SQLite one server owns the database file, so the feed is an in-process broadcast
//! that [`crate::Tx::commit`] fills after the COMMIT succeeded. On PostgreSQL several
//! servers share the database: the committing transaction sends `NOTIFY` with the ids of
//! its events (PostgreSQL delivers it only at commit, and drops it on rollback), and every
//! server that has followers keeps one `LISTEN` connection whose notifications feed its
//! broadcast, its own commits included. The payload is the event's id, never its
//! content: the listener reads the event back from the database.
//!
//! The broadcast has a bounded buffer: a follower that falls behind loses the oldest
//! items and is told so ([`Followed::Missed`]), as it is when the `LISTEN` connection
//! drops. Memory therefore does not grow with a slow follower; what it missed is in the
//! database, where each instance's chain numbers its events without gaps.

use std::sync::{Arc, Weak};
use std::time::Duration;

use patto_core::records::Event;
use sea_orm::sqlx::postgres::PgListener;
use sea_orm::{DatabaseConnection, EntityTrait};
use tokio::sync::{OnceCell, broadcast};

use crate::StoreError;
use crate::entities::event;

/// The PostgreSQL channel the events' ids are notified on.
pub(crate) const CHANNEL: &str = "patto_events";

/// How many items the broadcast keeps for its slowest follower before that follower
/// starts missing some.
pub const FEED_CAPACITY: usize = 256;

/// The longest pause between two attempts to reconnect the `LISTEN` connection.
const MAX_RECONNECT_PAUSE: Duration = Duration::from_secs(30);

/// What the broadcast carries.
#[derive(Clone, Debug)]
enum FeedItem {
    /// An event whose transaction committed.
    Committed(Arc<Event>),
    /// Events may have been committed without being told (the `LISTEN` connection was
    /// lost).
    Gap,
}

/// What a follower gets next.
#[derive(Clone, Debug)]
pub enum Followed {
    /// An event whose transaction committed, on this server or (PostgreSQL) another.
    Event(Arc<Event>),
    /// Some events may have been committed without being told to this follower: it fell
    /// more than [`FEED_CAPACITY`] items behind, or the `LISTEN` connection to PostgreSQL
    /// dropped. What was missed is in the database.
    Missed,
    /// The feed has ended: the store is gone.
    Closed,
}

/// One follower of the feed, from the moment it was created on.
#[derive(Debug)]
pub struct EventFollower(broadcast::Receiver<FeedItem>);

impl EventFollower {
    /// Waits for the next committed event, or for news that some were missed.
    pub async fn next(&mut self) -> Followed {
        match self.0.recv().await {
            Ok(FeedItem::Committed(event)) => Followed::Event(event),
            Ok(FeedItem::Gap) | Err(broadcast::error::RecvError::Lagged(_)) => Followed::Missed,
            Err(broadcast::error::RecvError::Closed) => Followed::Closed,
        }
    }
}

/// The feed shared by every clone of a [`crate::Store`] and by its transactions.
#[derive(Clone, Debug)]
pub(crate) struct EventFeed(Arc<Shared>);

#[derive(Debug)]
struct Shared {
    sender: broadcast::Sender<FeedItem>,
    /// Set once the `LISTEN` connection of a PostgreSQL store is listening.
    listening: OnceCell<()>,
}

impl EventFeed {
    pub(crate) fn new() -> EventFeed {
        let (sender, _) = broadcast::channel(FEED_CAPACITY);
        EventFeed(Arc::new(Shared {
            sender,
            listening: OnceCell::new(),
        }))
    }

    /// Tells the followers of this process about events that have just committed.
    pub(crate) fn publish(&self, events: Vec<Event>) {
        for event in events {
            // Without followers there is nobody to tell: that is not an error.
            let _ = self.0.sender.send(FeedItem::Committed(Arc::new(event)));
        }
    }

    /// A follower of the in-process broadcast.
    pub(crate) fn follow(&self) -> EventFollower {
        EventFollower(self.0.sender.subscribe())
    }

    /// A follower of every server's events on PostgreSQL: the first call connects and
    /// listens, and returns only once PostgreSQL has confirmed the `LISTEN`, so that
    /// whatever commits after it returns is told to the follower.
    pub(crate) async fn follow_postgres(
        &self,
        url: &str,
        db: &DatabaseConnection,
    ) -> Result<EventFollower, StoreError> {
        self.0
            .listening
            .get_or_try_init(|| async {
                let mut listener = PgListener::connect(url).await.map_err(StoreError::Listen)?;
                listener.listen(CHANNEL).await.map_err(StoreError::Listen)?;
                tokio::spawn(relay(listener, db.clone(), Arc::downgrade(&self.0)));
                Ok::<(), StoreError>(())
            })
            .await?;
        Ok(self.follow())
    }
}

/// The `NOTIFY` that tells every listening server about these events, sent inside the
/// transaction that appended them: PostgreSQL delivers it at commit, and never if the
/// transaction rolls back. Ids are integers, written into the statement as such.
pub(crate) fn notify_statement(events: &[Event]) -> String {
    let notifications: Vec<String> = events
        .iter()
        .map(|event| format!("pg_notify('{CHANNEL}', '{}')", event.id.get()))
        .collect();
    format!("SELECT {}", notifications.join(", "))
}

/// Relays PostgreSQL's notifications into the broadcast until the store is dropped. A
/// dropped connection is reconnected (and listens again) on the next receive; events
/// committed meanwhile are not notified to anyone, which is logged and told to the
/// followers.
async fn relay(mut listener: PgListener, db: DatabaseConnection, feed: Weak<Shared>) {
    let mut failures: u32 = 0;
    loop {
        match listener.try_recv().await {
            Ok(Some(notification)) => {
                failures = 0;
                let Some(feed) = feed.upgrade() else {
                    return;
                };
                let item = match notification.payload().parse::<i64>() {
                    Ok(id) => match load(&db, id).await {
                        Ok(Some(event)) => FeedItem::Committed(Arc::new(event)),
                        Ok(None) => {
                            tracing::warn!(
                                event_id = id,
                                "a notified event is not in the database; its followers may have missed it"
                            );
                            FeedItem::Gap
                        }
                        Err(error) => {
                            tracing::warn!(
                                event_id = id,
                                error = %error,
                                "cannot read a notified event; its followers may have missed it"
                            );
                            FeedItem::Gap
                        }
                    },
                    Err(_) => {
                        tracing::warn!(
                            payload = notification.payload(),
                            "ignoring a notification on {CHANNEL} that is not an event id"
                        );
                        continue;
                    }
                };
                let _ = feed.sender.send(item);
            }
            Ok(None) => {
                let Some(feed) = feed.upgrade() else {
                    return;
                };
                tracing::warn!(
                    "the LISTEN connection to PostgreSQL was lost; events committed until it is back may have been missed by this server's subscribers, who are told to catch up from the database"
                );
                let _ = feed.sender.send(FeedItem::Gap);
            }
            Err(error) => {
                if feed.strong_count() == 0 {
                    return;
                }
                failures = failures.saturating_add(1);
                let pause = Duration::from_millis(250)
                    .saturating_mul(2u32.saturating_pow(failures.min(8)))
                    .min(MAX_RECONNECT_PAUSE);
                tracing::warn!(
                    error = %error,
                    retry_in_ms = pause.as_millis() as u64,
                    "cannot reconnect the LISTEN connection to PostgreSQL; events committed meanwhile may have been missed"
                );
                tokio::time::sleep(pause).await;
            }
        }
    }
}

async fn load(db: &DatabaseConnection, id: i64) -> Result<Option<Event>, StoreError> {
    match event::Entity::find_by_id(id).one(db).await? {
        Some(model) => Ok(Some(Event::try_from(model)?)),
        None => Ok(None),
    }
}
