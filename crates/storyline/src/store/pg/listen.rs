//! Batches committed by any process, as PostgreSQL tells of them: each batch's transaction
//! sends a notice on [`CHANNEL`] (`pg_notify`, delivered only when it commits, see
//! `writes.rs`), and a connection of its own that `LISTEN`s hears it at once, so a reader
//! on another machine need not ask the store every second whether anything is new.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use postgres::fallible_iterator::FallibleIterator;
use postgres::{Client, NoTls};

use super::{close_off_thread, without_password};
use crate::error::{Error, Result};

/// The channel every batch's commit is told on; its payload is the batch's sequence number.
pub(super) const CHANNEL: &str = "storyline_batches";

/// How long a lost connection is given to say so when asked.
const ALIVE_CHECK: Duration = Duration::from_secs(5);

/// One connection that listens on [`CHANNEL`]. Blocking: use it on a thread of its own
/// (the sync client runs its own runtime, which may not start inside another).
pub(crate) struct PgListener {
    /// Never `None` but while the listener is dropped.
    client: Option<Client>,
    shown: PathBuf,
}

impl PgListener {
    pub fn open(url: &Path) -> Result<PgListener> {
        let shown = PathBuf::from(without_password(url.to_str().unwrap_or_default()));
        let e = |source: postgres::Error| Error::Store {
            path: shown.clone(),
            source: Box::new(source),
        };
        let mut client = Client::connect(url.to_str().unwrap_or_default(), NoTls).map_err(e)?;
        client
            .batch_execute(&format!("LISTEN {CHANNEL}"))
            .map_err(e)?;
        Ok(PgListener {
            client: Some(client),
            shown,
        })
    }

    fn e(&self, source: postgres::Error) -> Error {
        Error::Store {
            path: self.shown.clone(),
            source: Box::new(source),
        }
    }

    /// Waits up to `timeout` for a commit; the newest sequence number told since the last
    /// call, or `None` when nothing was. An error means the connection is lost.
    pub fn wait(&mut self, timeout: Duration) -> Result<Option<u64>> {
        let Some(client) = self.client.as_mut() else {
            return Ok(None);
        };
        let started = Instant::now();
        match heard(client, timeout) {
            Ok(Some(seq)) => Ok(Some(seq)),
            // Nothing, and sooner than the time-out: the client answers so when the server
            // has gone. Whether it is still there costs one empty query.
            Ok(None) if started.elapsed() < timeout => match client.is_valid(ALIVE_CHECK) {
                Ok(()) => Ok(None),
                Err(e) => Err(self.e(e)),
            },
            Ok(None) => Ok(None),
            Err(e) => Err(self.e(e)),
        }
    }
}

/// The newest sequence number among the notices that come within `timeout` of each other.
fn heard(
    client: &mut Client,
    timeout: Duration,
) -> std::result::Result<Option<u64>, postgres::Error> {
    let mut notes = client.notifications();
    let Some(first) = notes.timeout_iter(timeout).next()? else {
        return Ok(None);
    };
    // A payload that is no number still tells of a commit.
    let seq = |n: &postgres::Notification| n.payload().parse::<u64>().unwrap_or(0);
    let mut newest = seq(&first);
    // Those that came with it, without waiting for more.
    let mut pending = notes.iter();
    while let Some(note) = pending.next()? {
        newest = newest.max(seq(&note));
    }
    Ok(Some(newest))
}

impl Drop for PgListener {
    /// Closing the client runs its runtime: on a thread of its own, as `PgStore` does.
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            close_off_thread(client);
        }
    }
}
