//! Follows news feeds: the HTTP client ([`client`]), robots.txt ([`robots`]) and the poll
//! ([`follower`]) that feeds the ordinary ingest pipeline. Everything that needs no network
//! (feed and OPML parsing, the schedule, the store's feed tables) is in the `storyline`
//! library's `follow` module and store.

pub mod client;
pub mod follower;
pub mod robots;

pub use client::{ClientConfig, FetchError, Fetcher, SharedHostSlots};
pub use follower::StoreHostSlots;
pub use follower::{Failure, FeedOutcome, Follower, PollReport, Which};
