//! Pause points: named places in the engine where a test can hold a transaction still
//! and let another one run, so that a race is played in a chosen order instead of being
//! left to the scheduler. Without the `test-support` feature (which only the test crate
//! enables) a pause point does nothing.

use crate::Engine;

/// A place where the engine can be held still by a test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PausePoint {
    /// A key's approval or revocation is written, not yet committed.
    KeyChangeWritten,
    /// A signature submission is about to take the key registry's lock, before its
    /// transaction starts.
    SignatureTakingKeyLock,
}

/// What a test runs when the engine reaches a pause point: the engine waits for the
/// returned future before going on.
#[cfg(feature = "test-support")]
pub type PauseHook = std::sync::Arc<
    dyn Fn(PausePoint) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync,
>;

impl Engine {
    /// Installs the hook run at every pause point, replacing any earlier one.
    #[cfg(feature = "test-support")]
    pub fn set_pause_hook(&self, hook: PauseHook) {
        if let Ok(mut slot) = self.pause_hook.write() {
            *slot = Some(hook);
        }
    }

    /// Waits for the test's hook, if one is installed, at `point`.
    pub(crate) async fn pause(&self, point: PausePoint) {
        #[cfg(feature = "test-support")]
        {
            let hook = self.pause_hook.read().ok().and_then(|slot| slot.clone());
            if let Some(hook) = hook {
                hook(point).await;
            }
        }
        #[cfg(not(feature = "test-support"))]
        let _ = point;
    }
}
