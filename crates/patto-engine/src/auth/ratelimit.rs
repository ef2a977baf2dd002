//! Rate limits on e-mail login, kept in memory: per process is enough, since each limit
//! only has to make guessing and mail-bombing slow, and the login codes themselves lock
//! after a few wrong tries wherever they are tried.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::EngineError;

/// At most `max` events in any `window`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    /// How many events are allowed...
    pub max: u32,
    /// ...in any window this long.
    pub window: Duration,
}

/// The limits on e-mail login.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoginLimits {
    /// Code requests for one e-mail address.
    pub requests_per_address: RateLimit,
    /// Code requests from one client address.
    pub requests_per_client: RateLimit,
    /// Login attempts (codes tried) from one client address.
    pub attempts_per_client: RateLimit,
    /// The least time a code request takes to answer, so that a registered address
    /// (whose request writes a code and a mail) cannot be told from an unknown one by
    /// how long the answer takes.
    pub request_answer_floor: Duration,
}

impl Default for LoginLimits {
    fn default() -> Self {
        let quarter_hour = Duration::from_secs(15 * 60);
        LoginLimits {
            requests_per_address: RateLimit {
                max: 5,
                window: quarter_hour,
            },
            requests_per_client: RateLimit {
                max: 30,
                window: quarter_hour,
            },
            attempts_per_client: RateLimit {
                max: 30,
                window: quarter_hour,
            },
            request_answer_floor: Duration::from_millis(250),
        }
    }
}

/// The login limits with their counters.
#[derive(Debug)]
pub(crate) struct LoginLimiter {
    pub(crate) request_answer_floor: Duration,
    per_address: Window,
    per_client: Window,
    attempts_per_client: Window,
}

impl LoginLimiter {
    pub(crate) fn new(limits: LoginLimits) -> Self {
        LoginLimiter {
            request_answer_floor: limits.request_answer_floor,
            per_address: Window::new(limits.requests_per_address),
            per_client: Window::new(limits.requests_per_client),
            attempts_per_client: Window::new(limits.attempts_per_client),
        }
    }

    /// Admits a code request for `email` from `client`, or refuses it with
    /// `RATE_LIMITED`. A refused request is not counted.
    pub(crate) fn admit_request(&self, email: &str, client: IpAddr) -> Result<(), EngineError> {
        let now = Instant::now();
        let client = client.to_canonical().to_string();
        if !self.per_address.has_room(email, now) || !self.per_client.has_room(&client, now) {
            return Err(EngineError::RateLimited(
                "too many login requests for this address or from this network: wait a few minutes and try again".to_owned(),
            ));
        }
        self.per_address.record(email, now);
        self.per_client.record(&client, now);
        Ok(())
    }

    /// Admits a login attempt from `client`, or refuses it with `RATE_LIMITED`.
    pub(crate) fn admit_attempt(&self, client: IpAddr) -> Result<(), EngineError> {
        let now = Instant::now();
        let client = client.to_canonical().to_string();
        if !self.attempts_per_client.has_room(&client, now) {
            return Err(EngineError::RateLimited(
                "too many login attempts from this network: wait a few minutes and try again"
                    .to_owned(),
            ));
        }
        self.attempts_per_client.record(&client, now);
        Ok(())
    }
}

/// A sliding window of event times per key. The login limits are made of them, and so
/// is the limit on anonymous answers to a consultation per client address.
#[derive(Debug)]
pub(crate) struct Window {
    limit: RateLimit,
    events: Mutex<HashMap<String, VecDeque<Instant>>>,
}

/// Above this many keys, keys whose events have all left the window are forgotten, so
/// that a flood of distinct addresses cannot grow the map without bound.
const KEYS_BEFORE_SWEEP: usize = 10_000;

impl Window {
    pub(crate) fn new(limit: RateLimit) -> Self {
        Window {
            limit,
            events: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn has_room(&self, key: &str, now: Instant) -> bool {
        let mut events = self
            .events
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let Some(times) = events.get_mut(key) else {
            return self.limit.max > 0;
        };
        forget_older(times, now, self.limit.window);
        times.len() < self.limit.max as usize
    }

    pub(crate) fn record(&self, key: &str, now: Instant) {
        let mut events = self
            .events
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if events.len() >= KEYS_BEFORE_SWEEP {
            let window = self.limit.window;
            events.retain(|_, times| {
                forget_older(times, now, window);
                !times.is_empty()
            });
        }
        events.entry(key.to_owned()).or_default().push_back(now);
    }
}

fn forget_older(times: &mut VecDeque<Instant>, now: Instant, window: Duration) {
    while times
        .front()
        .is_some_and(|first| now.duration_since(*first) >= window)
    {
        times.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(max: u32) -> LoginLimits {
        let limit = RateLimit {
            max,
            window: Duration::from_secs(3600),
        };
        LoginLimits {
            requests_per_address: limit,
            requests_per_client: RateLimit {
                max: max * 2,
                ..limit
            },
            attempts_per_client: limit,
            request_answer_floor: Duration::ZERO,
        }
    }

    #[test]
    fn requests_beyond_the_limit_for_one_address_are_refused_and_others_pass() {
        let limiter = LoginLimiter::new(limits(2));
        let client: IpAddr = "192.0.2.1".parse().unwrap();
        assert!(limiter.admit_request("a@example.org", client).is_ok());
        assert!(limiter.admit_request("a@example.org", client).is_ok());
        let refused = limiter.admit_request("a@example.org", client).unwrap_err();
        assert_eq!(refused.code(), crate::ErrorCode::RateLimited);
        assert!(limiter.admit_request("b@example.org", client).is_ok());
    }

    #[test]
    fn one_client_is_limited_across_addresses_and_ipv4_mapped_addresses_count_as_one() {
        let limiter = LoginLimiter::new(limits(2));
        let client: IpAddr = "192.0.2.1".parse().unwrap();
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        for (n, email) in ["a@x.org", "b@x.org", "c@x.org"].iter().enumerate() {
            assert!(limiter.admit_request(email, client).is_ok(), "request {n}");
        }
        assert!(limiter.admit_request("d@x.org", mapped).is_ok());
        assert!(limiter.admit_request("e@x.org", mapped).is_err());
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        assert!(limiter.admit_request("e@x.org", other).is_ok());
    }

    #[test]
    fn events_that_left_the_window_no_longer_count() {
        let window = Window::new(RateLimit {
            max: 1,
            window: Duration::from_secs(60),
        });
        let start = Instant::now();
        window.record("k", start);
        assert!(!window.has_room("k", start + Duration::from_secs(59)));
        assert!(window.has_room("k", start + Duration::from_secs(60)));
    }
}
