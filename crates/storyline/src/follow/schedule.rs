//! When to poll a feed next. A feed that publishes often is polled often, a quiet one
//! rarely (within bounds, with jitter so that feeds added together drift apart); a failing
//! one backs off exponentially, up to a day, and a server's `Retry-After` is obeyed.

use chrono::{DateTime, Duration, Utc};

use super::items::hash_hex;

/// The first interval of a new feed.
pub const DEFAULT_INTERVAL_SECS: i64 = 30 * 60;
/// No feed is polled more often than this, however busy.
pub const MIN_INTERVAL_SECS: i64 = 10 * 60;
/// Nor less often than this, however quiet.
pub const MAX_INTERVAL_SECS: i64 = 6 * 3600;
/// The first wait after a failure; it doubles with each failure in a row.
pub const FIRST_BACKOFF_SECS: i64 = 5 * 60;
/// The longest wait after failures, and the longest `Retry-After` obeyed.
pub const MAX_BACKOFF_SECS: i64 = 24 * 3600;

/// After a good poll: the feed's next interval (halved when it brought new items, half as
/// long again when it brought none, bounded) and when to poll next (that interval ±10%).
pub fn next_after_success(
    url: &str,
    now: DateTime<Utc>,
    interval_secs: Option<i64>,
    had_new_items: bool,
) -> (DateTime<Utc>, i64) {
    let prev = interval_secs.unwrap_or(DEFAULT_INTERVAL_SECS);
    let interval = if had_new_items {
        prev / 2
    } else {
        prev * 3 / 2
    };
    let interval = interval.clamp(MIN_INTERVAL_SECS, MAX_INTERVAL_SECS);
    (
        now + Duration::seconds(jittered(url, now, interval)),
        interval,
    )
}

/// After the `failures`-th failure in a row: 5 min, 10, 20, … up to a day, or the server's
/// `Retry-After` when it asks for longer (up to a day too).
pub fn next_after_failure(
    url: &str,
    now: DateTime<Utc>,
    failures: u32,
    retry_after_secs: Option<i64>,
) -> DateTime<Utc> {
    let exp = failures.saturating_sub(1).min(20);
    let backoff = (FIRST_BACKOFF_SECS << exp).min(MAX_BACKOFF_SECS);
    let backoff = jittered(url, now, backoff).min(MAX_BACKOFF_SECS);
    let wait = retry_after_secs.map_or(backoff, |r| backoff.max(r.clamp(0, MAX_BACKOFF_SECS)));
    now + Duration::seconds(wait)
}

/// `secs` moved by up to ±10%, the same for the same feed and time (no random source, so
/// tests are reproducible).
fn jittered(url: &str, now: DateTime<Utc>, secs: i64) -> i64 {
    let h = u64::from_str_radix(&hash_hex(&[url, &now.timestamp().to_string()]), 16).unwrap_or(0);
    let spread = secs / 10;
    if spread == 0 {
        return secs;
    }
    secs - spread + (h % (2 * spread as u64 + 1)) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> DateTime<Utc> {
        "2026-01-01T00:00:00Z".parse().unwrap()
    }

    #[test]
    fn backoff_doubles_and_stops_at_a_day() {
        let waits: Vec<i64> = (1..=12)
            .map(|n| (next_after_failure("u", t0(), n, None) - t0()).num_seconds())
            .collect();
        assert!((270..=330).contains(&waits[0]), "{waits:?}");
        assert!((540..=660).contains(&waits[1]), "{waits:?}");
        assert!(waits.windows(2).all(|w| w[1] >= w[0]), "{waits:?}");
        assert_eq!(*waits.last().unwrap(), MAX_BACKOFF_SECS);
        assert_eq!(
            (next_after_failure("u", t0(), 60, None) - t0()).num_seconds(),
            MAX_BACKOFF_SECS
        );
    }

    #[test]
    fn retry_after_is_obeyed_when_longer_and_capped_at_a_day() {
        let wait = |r| (next_after_failure("u", t0(), 1, Some(r)) - t0()).num_seconds();
        assert_eq!(wait(7200), 7200);
        assert!(wait(1) < 400);
        assert_eq!(wait(10 * 86_400), MAX_BACKOFF_SECS);
    }

    #[test]
    fn busy_feeds_speed_up_quiet_ones_slow_down_within_bounds() {
        let mut interval = None;
        for _ in 0..20 {
            interval = Some(next_after_success("u", t0(), interval, true).1);
        }
        assert_eq!(interval, Some(MIN_INTERVAL_SECS));
        for _ in 0..20 {
            interval = Some(next_after_success("u", t0(), interval, false).1);
        }
        assert_eq!(interval, Some(MAX_INTERVAL_SECS));
        let (next, i) = next_after_success("u", t0(), None, false);
        let wait = (next - t0()).num_seconds();
        assert!(wait >= i - i / 10 && wait <= i + i / 10, "{wait} vs {i}");
    }
}
