//! The feed of committed events: every event appended to an instance's chain is told to
//! this server's followers once its transaction has committed, never before, so that a
//! follower never sees a change that was rolled back.
//!
//! On SQLite one server owns the database file, so the feed is an in-process broadcast
//! that the committing code fills after the COMMIT succeeded. On PostgreSQL several
//! servers share the database: once a transaction has committed, its events' ids are
//! handed to this server's announcer, which sends them with `NOTIFY` on a connection of
//! its own, and every server that has followers keeps one `LISTEN` connection whose
//! notifications feed its broadcast, its own commits included. The payload is the
//! event's id, never its content: the listener reads the event back from the database.
//!
//! The `NOTIFY` is sent after the COMMIT, not inside the transaction, because PostgreSQL
//! serialises every transaction that notifies on one cluster-wide lock held until its
//! commit record is on disk: notifying transactions cannot share a WAL flush, and
//! measured at 4 clients this cost a quarter of the transitions' throughput. The
//! announcer's own transactions commit without waiting for the disk
//! (`synchronous_commit = off`): they write no data, and a notification is worth nothing
//! after a crash of PostgreSQL, which drops every `LISTEN` connection anyway. While one
//! announcement is in flight the next ids gather, and go together in the next one. The
//! price: a server that stops between a COMMIT and its announcement leaves the other
//! servers' followers unaware of those events until the instance's next event, which
//! they catch up from (each instance's chain numbers its events without gaps);
//! [`crate::Store::close`] sends what is pending first.
//!
//! The broadcast has a bounded buffer: a follower that falls behind loses the oldest
//! items and is told so ([`Followed::Missed`]), as it is when the `LISTEN` connection
//! drops or an announcement cannot be sent. Memory therefore does not grow with a slow
//! follower; what it missed is in the database, where each instance's chain numbers its
//! events without gaps.

use std::sync::{Arc, Weak};
use std::time::Duration;

use patto_core::records::Event;
use sea_orm::sqlx::postgres::{PgConnectOptions, PgConnection, PgListener};
use sea_orm::sqlx::{self, ConnectOptions, Connection};
use sea_orm::{DatabaseConnection, EntityTrait};
use tokio::sync::{OnceCell, broadcast, mpsc, oneshot};

use crate::StoreError;
use crate::entities::event;

/// The PostgreSQL channel the events' ids are notified on.
pub(crate) const CHANNEL: &str = "patto_events";

/// How many items the broadcast keeps for its slowest follower before that follower
/// starts missing some.
pub const FEED_CAPACITY: usize = 256;

/// How long one try to announce committed events may take, connecting included: a
/// database that does not answer must not keep [`crate::Store::close`] waiting for long.
const ANNOUNCE_TIMEOUT: Duration = Duration::from_secs(10);

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
    /// On PostgreSQL, the queue of the task that announces committed events to every
    /// listening server; `None` on SQLite, where the broadcast is told directly.
    announcer: Option<mpsc::UnboundedSender<Announcement>>,
}

/// What the announcer is asked to do.
#[derive(Debug)]
enum Announcement {
    /// Notify the listening servers of these committed events.
    Events(Vec<i64>),
    /// Answer once every announcement asked before has been sent (or given up).
    Flush(oneshot::Sender<()>),
}

impl EventFeed {
    /// The feed of an SQLite store: the events committed in this process are told to its
    /// followers directly.
    pub(crate) fn in_process() -> EventFeed {
        EventFeed::with_announcer(None)
    }

    /// The feed of a PostgreSQL store: committed events are announced with `NOTIFY` by a
    /// task of its own, on a connection opened with `options`; the task stops once every
    /// clone of the feed is dropped.
    pub(crate) fn announced(options: PgConnectOptions) -> EventFeed {
        let (announcer, announcements) = mpsc::unbounded_channel();
        let feed = EventFeed::with_announcer(Some(announcer));
        tokio::spawn(announce(options, announcements, feed.0.sender.clone()));
        feed
    }

    fn with_announcer(announcer: Option<mpsc::UnboundedSender<Announcement>>) -> EventFeed {
        let (sender, _) = broadcast::channel(FEED_CAPACITY);
        EventFeed(Arc::new(Shared {
            sender,
            listening: OnceCell::new(),
            announcer,
        }))
    }

    /// Tells the followers about events whose transaction has just committed: on SQLite
    /// this process's followers, at once; on PostgreSQL every listening server's, through
    /// the announcer.
    pub(crate) fn committed(&self, events: Vec<Event>) {
        match &self.0.announcer {
            Some(_) => self.announce(events.iter().map(|event| event.id.get())),
            None => {
                for event in events {
                    // Without followers there is nobody to tell: that is not an error.
                    let _ = self.0.sender.send(FeedItem::Committed(Arc::new(event)));
                }
            }
        }
    }

    /// Hands the ids of committed events to the announcer (PostgreSQL).
    pub(crate) fn announce(&self, ids: impl IntoIterator<Item = i64>) {
        let ids: Vec<i64> = ids.into_iter().collect();
        if ids.is_empty() {
            return;
        }
        if let Some(announcer) = &self.0.announcer
            && announcer.send(Announcement::Events(ids)).is_err()
        {
            // Only a panic stops the task while the feed lives.
            tracing::warn!(
                "the task announcing committed events has stopped; other servers' followers may miss them"
            );
        }
    }

    /// Returns once every event committed so far has been announced (or its
    /// announcement given up), so that a server that stops does not keep its last
    /// events from the other servers' followers.
    pub(crate) async fn flush(&self) {
        let Some(announcer) = &self.0.announcer else {
            return;
        };
        let (done, flushed) = oneshot::channel();
        if announcer.send(Announcement::Flush(done)).is_ok() {
            let _ = flushed.await;
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

/// Notifies every listening server of committed events, as they are handed over, until
/// every clone of the feed is dropped: everything waiting goes in one statement.
async fn announce(
    options: PgConnectOptions,
    mut announcements: mpsc::UnboundedReceiver<Announcement>,
    local: broadcast::Sender<FeedItem>,
) {
    // The announcer's commits need not wait for the disk (see the module's comment).
    let options = options.options([("synchronous_commit", "off")]);
    let mut connection: Option<PgConnection> = None;
    while let Some(first) = announcements.recv().await {
        let mut ids = Vec::new();
        let mut flushes = Vec::new();
        let mut next = Some(first);
        while let Some(announcement) = next {
            match announcement {
                Announcement::Events(more) => ids.extend(more),
                Announcement::Flush(done) => flushes.push(done),
            }
            next = announcements.try_recv().ok();
        }
        if !ids.is_empty() {
            connection = notify(&options, connection, &ids, &local).await;
        }
        for done in flushes {
            let _ = done.send(());
        }
    }
    if let Some(connection) = connection {
        let _ = connection.close().await;
    }
}

/// Sends one announcement, on `connection` or, should that fail (it may have been
/// closed while idle), once more on a new one, each try bounded by [`ANNOUNCE_TIMEOUT`];
/// returns the connection to use next. An announcement that cannot be sent is logged,
/// and this server's followers are told they may have missed events.
async fn notify(
    options: &PgConnectOptions,
    mut connection: Option<PgConnection>,
    ids: &[i64],
    local: &broadcast::Sender<FeedItem>,
) -> Option<PgConnection> {
    let mut last_error = String::new();
    for _ in 0..2 {
        let attempt = tokio::time::timeout(ANNOUNCE_TIMEOUT, async {
            let mut open = match connection.take() {
                Some(open) => open,
                None => options.connect().await?,
            };
            sqlx::query("SELECT pg_notify($1, id::text) FROM unnest($2::bigint[]) AS id")
                .bind(CHANNEL)
                .bind(ids)
                .execute(&mut open)
                .await?;
            Ok::<PgConnection, sqlx::Error>(open)
        })
        .await;
        // A connection that failed, or did not answer in time, is dropped, which closes
        // it; the next try opens a new one.
        match attempt {
            Ok(Ok(open)) => return Some(open),
            Ok(Err(error)) => last_error = error.to_string(),
            Err(_) => {
                last_error = format!("no answer within {} s", ANNOUNCE_TIMEOUT.as_secs());
            }
        }
    }
    tracing::warn!(
        error = %last_error,
        events = ids.len(),
        "cannot announce committed events to the listening servers; their followers may have missed them"
    );
    let _ = local.send(FeedItem::Gap);
    None
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
