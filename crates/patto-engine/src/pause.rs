//! Pause points for race tests. A service calls [`Engine::pause`] at a named point between
//! two steps; a test that armed that point with [`Engine::pause_at`] learns when the
//! service got there, does what it wants to race with, and lets the service go on. That
//! puts two transactions in a chosen order without sleeping and hoping.
//!
//! Only the `test-support` feature, which only the test crate enables, arms points: in
//! every other build [`Engine::pause`] does nothing.

#[cfg(feature = "test-support")]
use std::sync::Arc;

use crate::Engine;

/// An armed pause point: the service stops there once, until the test resumes it.
#[cfg(feature = "test-support")]
#[derive(Debug)]
pub struct PausePoint {
    reached: tokio::sync::Semaphore,
    resume: tokio::sync::Semaphore,
}

#[cfg(feature = "test-support")]
impl PausePoint {
    fn new() -> PausePoint {
        PausePoint {
            reached: tokio::sync::Semaphore::new(0),
            resume: tokio::sync::Semaphore::new(0),
        }
    }

    /// Waits until the service is paused at this point.
    pub async fn reached(&self) {
        if let Ok(permit) = self.reached.acquire().await {
            permit.forget();
        }
    }

    /// Lets the paused service go on.
    pub fn resume(&self) {
        self.resume.add_permits(1);
    }
}

/// The points armed on an engine.
#[cfg(feature = "test-support")]
pub(crate) type PausePoints =
    std::sync::Mutex<std::collections::HashMap<&'static str, Arc<PausePoint>>>;

impl Engine {
    /// Arms the pause point `name`: the next service to reach it waits there until the
    /// returned point is resumed.
    #[cfg(feature = "test-support")]
    pub fn pause_at(&self, name: &'static str) -> Arc<PausePoint> {
        let point = Arc::new(PausePoint::new());
        if let Ok(mut points) = self.pauses.lock() {
            points.insert(name, point.clone());
        }
        point
    }

    /// Stops at the pause point `name` if a test armed it (once), else goes straight on.
    #[cfg(feature = "test-support")]
    pub(crate) async fn pause(&self, name: &'static str) {
        let armed = self
            .pauses
            .lock()
            .ok()
            .and_then(|mut points| points.remove(name));
        if let Some(point) = armed {
            point.reached.add_permits(1);
            if let Ok(permit) = point.resume.acquire().await {
                permit.forget();
            }
        }
    }

    /// Without the `test-support` feature no point is ever armed.
    #[cfg(not(feature = "test-support"))]
    pub(crate) async fn pause(&self, _name: &'static str) {}
}
