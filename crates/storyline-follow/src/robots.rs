//! robots.txt, obeyed for article pages (not for a feed the user subscribed to), read once
//! per site per poll.

use std::collections::HashMap;
use std::sync::Arc;

use texting_robots::Robot;
use tokio::sync::{Mutex, OnceCell};

use crate::client::{FetchError, Fetched, Fetcher, ROBOTS_LIMIT};

/// What a site's robots.txt says to us.
enum Rules {
    /// No robots.txt (4xx): everything is allowed.
    AllowAll,
    Parsed(Robot),
    /// It could not be read (a 5xx, a time-out): nothing is fetched from the site for now,
    /// as crawlers do, so a struggling site is left alone.
    Unavailable(String),
}

/// robots.txt rules by site. A site's file is fetched once, however many of its pages
/// ask at the same time (the others wait for that one answer).
#[derive(Default)]
pub struct RobotsCache {
    sites: Mutex<HashMap<String, Arc<OnceCell<Rules>>>>,
}

impl RobotsCache {
    /// `Ok` when `url` may be fetched, else why not.
    pub async fn check(&self, fetcher: &Fetcher, url: &str) -> Result<(), String> {
        let robots_url = texting_robots::get_robots_url(url)
            .map_err(|e| format!("cannot find robots.txt for {url}: {e}"))?;
        let cell = self
            .sites
            .lock()
            .await
            .entry(robots_url.clone())
            .or_default()
            .clone();
        let rules = cell.get_or_init(|| fetch_rules(fetcher, &robots_url)).await;
        match rules {
            Rules::AllowAll => Ok(()),
            Rules::Parsed(robot) if robot.allowed(url) => Ok(()),
            Rules::Parsed(_) => Err(format!("{robots_url} disallows it")),
            Rules::Unavailable(why) => Err(format!("{robots_url} unavailable: {why}")),
        }
    }
}

async fn fetch_rules(fetcher: &Fetcher, robots_url: &str) -> Rules {
    let agent = fetcher
        .config()
        .user_agent
        .split('/')
        .next()
        .unwrap_or("storyline")
        .to_string();
    match fetcher.get(robots_url, None, ROBOTS_LIMIT).await {
        Ok(Fetched::Body(body)) => match Robot::new(&agent, &body.bytes) {
            Ok(robot) => Rules::Parsed(robot),
            // An unreadable file forbids nothing (Google's reading).
            Err(_) => Rules::AllowAll,
        },
        Ok(Fetched::NotModified) => Rules::AllowAll,
        Err(FetchError::Status { status, .. }) if (400..500).contains(&status) => Rules::AllowAll,
        Err(e) => Rules::Unavailable(e.to_string()),
    }
}
