//! What story reads are answered from in memory: decoded reports by story and revision,
//! the encoded answers (JSON, and gzip once a client asks for it) by story, revision and
//! page, and a gate per key so that concurrent readers of something not yet in memory wait
//! for the one reader making it instead of each making it again.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::io::Write;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use axum::body::Bytes;
use storyline::core::StoryId;
use storyline::read::KeptReport;

/// Story reports kept decoded in memory: a page not yet encoded costs the rows of the page
/// and their encoding, not the report's decoding.
const REPORT_CACHE: usize = 32;

/// Bytes of encoded JSON kept (the gzip copies made on demand add less than as much again).
const BODY_BYTES: usize = 64 << 20;

/// A page bigger than this share of the budget is sent but not kept: one huge page asked
/// once would otherwise push out every page being read.
const BODY_SHARE: usize = 8;

/// A poisoned lock still guards consistent data here: every update is a single call.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Decoded story reports by (story, revision), the most recently used last.
#[derive(Default)]
pub(crate) struct ReportCache {
    entries: VecDeque<((StoryId, u64), Arc<KeptReport>)>,
}

impl ReportCache {
    pub(crate) fn get(&mut self, key: (StoryId, u64)) -> Option<Arc<KeptReport>> {
        let at = self.entries.iter().position(|(k, _)| *k == key)?;
        let entry = self.entries.remove(at)?;
        let report = Arc::clone(&entry.1);
        self.entries.push_back(entry);
        Some(report)
    }

    /// The story's report kept in memory, whatever its revision.
    pub(crate) fn latest(&self, story: StoryId) -> Option<Arc<KeptReport>> {
        self.entries
            .iter()
            .find(|(k, _)| k.0 == story)
            .map(|(_, r)| Arc::clone(r))
    }

    pub(crate) fn put(&mut self, key: (StoryId, u64), report: Arc<KeptReport>) {
        // Older revisions of the story are of no more use.
        self.entries.retain(|(k, _)| k.0 != key.0);
        if self.entries.len() >= REPORT_CACHE {
            self.entries.pop_front();
        }
        self.entries.push_back((key, report));
    }
}

/// Story revisions as last read, on a connection of their own, and the store's
/// `data_version` then: while it stays the same nothing was committed since, and a story
/// read needs no trip to the blocking pool to learn whether the story changed.
pub(crate) struct RevisionMemo {
    store: storyline::store::Store,
    version: Option<u64>,
    known: HashMap<StoryId, (u64, Option<u64>)>,
}

/// Stories whose revisions are remembered between two commits, at most.
const REVISIONS_KEPT: usize = 10_000;

impl RevisionMemo {
    pub(crate) fn new(store: storyline::store::Store) -> RevisionMemo {
        RevisionMemo {
            store,
            version: None,
            known: HashMap::new(),
        }
    }

    /// The story's revision and its stored report's, if known current; and the version to
    /// remember a fresh read of them under.
    ///
    /// On the async thread: `PRAGMA data_version` reads a counter SQLite keeps in shared
    /// memory and waits for no lock.
    pub(crate) fn get(&mut self, id: StoryId) -> (Option<(u64, Option<u64>)>, Option<u64>) {
        let version = self.store.data_version().ok().flatten();
        if version.is_none() || version != self.version {
            self.known.clear();
            self.version = version;
        }
        (version.and(self.known.get(&id).copied()), version)
    }

    /// Remembers revisions read after `get` gave `version`: a commit in between changed
    /// the version, so they are not taken for current past it.
    pub(crate) fn put(&mut self, id: StoryId, revisions: (u64, Option<u64>), version: Option<u64>) {
        if version.is_none() || version != self.version {
            return;
        }
        if self.known.len() >= REVISIONS_KEPT {
            self.known.clear();
        }
        self.known.insert(id, revisions);
    }
}

/// One page of a story as sent.
pub(crate) struct Encoded {
    pub(crate) json: Bytes,
    gzip: OnceLock<Bytes>,
}

impl Encoded {
    pub(crate) fn new(json: Vec<u8>) -> Encoded {
        Encoded {
            json: Bytes::from(json),
            gzip: OnceLock::new(),
        }
    }

    /// The JSON gzipped, made on the first call: most readers of a page ask for the same.
    pub(crate) fn gzip(&self) -> Bytes {
        self.gzip
            .get_or_init(|| {
                let mut z = flate2::write::GzEncoder::new(
                    Vec::with_capacity(self.json.len() / 4),
                    flate2::Compression::fast(),
                );
                // Writing to a Vec cannot fail.
                let done = z.write_all(&self.json).and_then(|()| z.finish());
                Bytes::from(done.unwrap_or_default())
            })
            .clone()
    }
}

/// What a page of a story is kept under: one slot per page, holding the page of the newest
/// report it was encoded from, so that readers of a story whose newer report is being read
/// are sent the page as it was meanwhile instead of waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct PageKey {
    pub(crate) story: StoryId,
    pub(crate) offset: usize,
    pub(crate) limit: usize,
}

/// A page as kept: the report revision it was encoded from, the page, when last sent.
type KeptPage = (u64, Arc<Encoded>, u64);

/// Encoded pages, bounded in bytes, the least recently used dropped first.
#[derive(Default)]
pub(crate) struct BodyCache {
    entries: HashMap<PageKey, KeptPage>,
    bytes: usize,
    clock: u64,
}

impl BodyCache {
    /// The page and the report revision it was encoded from.
    pub(crate) fn get(&mut self, key: &PageKey) -> Option<(u64, Arc<Encoded>)> {
        self.clock += 1;
        let (revision, body, used) = self.entries.get_mut(key)?;
        *used = self.clock;
        Some((*revision, Arc::clone(body)))
    }

    /// Keeps the page unless one of a newer report is kept already.
    pub(crate) fn put(&mut self, key: PageKey, revision: u64, body: Arc<Encoded>) {
        let size = body.json.len();
        if size > BODY_BYTES / BODY_SHARE
            || self
                .entries
                .get(&key)
                .is_some_and(|(kept, _, _)| *kept > revision)
        {
            return;
        }
        self.clock += 1;
        if let Some((_, old, _)) = self.entries.insert(key, (revision, body, self.clock)) {
            self.bytes -= old.json.len();
        }
        self.bytes += size;
        while self.bytes > BODY_BYTES {
            // A scan: the cache holds a few hundred pages at most.
            let Some(oldest) = self
                .entries
                .iter()
                .min_by_key(|(_, (_, _, used))| *used)
                .map(|(k, _)| *k)
            else {
                break;
            };
            if let Some((_, gone, _)) = self.entries.remove(&oldest) {
                self.bytes -= gone.json.len();
            }
        }
    }
}

/// One async lock per key, made on demand and dropped when nobody holds or awaits it.
pub(crate) struct Gates<K> {
    map: Mutex<HashMap<K, Arc<tokio::sync::Mutex<()>>>>,
}

impl<K> Default for Gates<K> {
    fn default() -> Self {
        Gates {
            map: Mutex::new(HashMap::new()),
        }
    }
}

/// A key's gate, held (or being waited for); removed from the map when its last user is
/// done with it, whether it finished or was cancelled.
pub(crate) struct Held<K: Eq + Hash + Copy> {
    gates: Arc<Gates<K>>,
    key: K,
    gate: Arc<tokio::sync::Mutex<()>>,
    guard: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl<K: Eq + Hash + Copy> Drop for Held<K> {
    fn drop(&mut self) {
        self.guard.take();
        let mut map = lock(&self.gates.map);
        // The map's and this one: nobody else holds or awaits it. Clones are only taken
        // under the map's lock, held here.
        if Arc::strong_count(&self.gate) == 2 {
            map.remove(&self.key);
        }
    }
}

impl<K: Eq + Hash + Copy> Gates<K> {
    fn user(self: &Arc<Self>, key: K) -> Held<K> {
        let gate = Arc::clone(lock(&self.map).entry(key).or_default());
        Held {
            gates: Arc::clone(self),
            key,
            gate,
            guard: None,
        }
    }

    /// The key's gate, once those before have let it go.
    pub(crate) async fn hold(self: &Arc<Self>, key: K) -> Held<K> {
        let mut held = self.user(key);
        held.guard = Some(Arc::clone(&held.gate).lock_owned().await);
        held
    }

    /// The key's gate if nobody holds it.
    pub(crate) fn try_hold(self: &Arc<Self>, key: K) -> Option<Held<K>> {
        let mut held = self.user(key);
        held.guard = Some(Arc::clone(&held.gate).try_lock_owned().ok()?);
        Some(held)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(story: i64, offset: usize) -> PageKey {
        PageKey {
            story: StoryId(story),
            offset,
            limit: 50,
        }
    }

    fn page(bytes: usize) -> Arc<Encoded> {
        Arc::new(Encoded::new(vec![b' '; bytes]))
    }

    #[test]
    fn pages_past_the_byte_bound_push_out_the_least_recently_used() {
        let size = BODY_BYTES / BODY_SHARE;
        let mut c = BodyCache::default();
        for k in 0..BODY_SHARE {
            c.put(key(1, k), 1, page(size));
        }
        assert!(c.get(&key(1, 0)).is_some());
        c.put(key(2, 0), 1, page(size));
        assert!(c.bytes <= BODY_BYTES);
        // Page 0 was just read; page 1 was the least recently used.
        assert!(c.get(&key(1, 0)).is_some());
        assert!(c.get(&key(1, 1)).is_none());
        assert!(c.get(&key(2, 0)).is_some());
        // Too big to keep at all.
        c.put(key(3, 0), 1, page(size + 1));
        assert!(c.get(&key(3, 0)).is_none());
    }

    #[test]
    fn a_slot_keeps_the_page_of_the_newest_report() {
        let mut c = BodyCache::default();
        c.put(key(1, 0), 5, page(10));
        c.put(key(1, 0), 4, page(20));
        assert_eq!(
            c.get(&key(1, 0)).map(|(r, p)| (r, p.json.len())),
            Some((5, 10))
        );
        c.put(key(1, 0), 6, page(30));
        assert_eq!(
            c.get(&key(1, 0)).map(|(r, p)| (r, p.json.len())),
            Some((6, 30))
        );
        assert_eq!(c.bytes, 30);
    }

    #[test]
    fn a_gzip_copy_decodes_to_the_json() {
        let e =
            Encoded::new(br#"{"a":"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"}"#.to_vec());
        let mut back = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&e.gzip()[..]), &mut back)
            .expect("gzip");
        assert_eq!(back, e.json);
    }

    #[tokio::test]
    async fn a_gate_is_held_by_one_at_a_time_and_dropped_after_its_last_user() {
        let gates: Arc<Gates<i64>> = Arc::new(Gates::default());
        let inside = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let most = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let tasks: Vec<_> = (0..4)
            .map(|_| {
                let (gates, inside, most) = (gates.clone(), inside.clone(), most.clone());
                tokio::spawn(async move {
                    let _held = gates.hold(7).await;
                    let now = inside.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                    most.fetch_max(now, std::sync::atomic::Ordering::SeqCst);
                    tokio::task::yield_now().await;
                    inside.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                })
            })
            .collect();
        for t in tasks {
            t.await.expect("task");
        }
        assert_eq!(most.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert!(lock(&gates.map).is_empty());
        let held = gates.try_hold(7).expect("free");
        assert!(gates.try_hold(7).is_none(), "held");
        assert!(gates.try_hold(8).is_some(), "another key");
        drop(held);
        assert!(lock(&gates.map).is_empty());
    }
}
