//! Following feeds: the parts that need no network. Reading a fetched feed into items
//! ([`items`]), subscription lists ([`opml`]), when to poll next ([`schedule`]), and the
//! clock the schedule reads ([`Clock`]), injectable so tests never wait.
//!
//! The HTTP client and the poll loop live in the `storyline-follow` crate: this library
//! does no network I/O. What is followed and seen lives in the store (`Store::add_feed`,
//! `Store::seen_item`, …), so a restart resumes where the last run stopped.

pub mod items;
pub mod opml;
pub mod schedule;

use std::sync::Mutex;

use chrono::{DateTime, Utc};

pub use items::{parse_feed, FeedDoc, FeedItem};
pub use schedule::{next_after_failure, next_after_success, MAX_BACKOFF_SECS};

/// A feed that could not be read or a list that could not be written.
#[derive(Debug, thiserror::Error)]
pub enum FollowError {
    /// The bytes are not an RSS, Atom or JSON feed; the message says where the parser stopped.
    #[error("{url}: not a valid RSS/Atom/JSON feed: {reason}")]
    BadFeed { url: String, reason: String },
    #[error("{what}: not a valid OPML subscription list: {reason}")]
    BadOpml { what: String, reason: String },
}

/// Where the follower reads the time: the system clock in use, a [`ManualClock`] in tests.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that moves only when told to, so a test can jump past a back-off of hours.
#[derive(Debug)]
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> ManualClock {
        ManualClock(Mutex::new(start))
    }

    pub fn advance(&self, by: chrono::Duration) {
        let mut t = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *t += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}
