-- storyline store: the tables of schema version 12 with feeds.sql; a fresh store runs both, then hosts.sql (13) and resume.sql (14), and `MIGRATIONS` in migrations.rs upgrades old ones. Only the `store` module writes SQL.
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS stories (
    id          INTEGER PRIMARY KEY,
    first_time  TEXT,
    last_time   TEXT,
    n_articles  INTEGER NOT NULL,
    n_events    INTEGER NOT NULL,
    centroid    BLOB NOT NULL,
    last_seq    INTEGER NOT NULL,
    live        INTEGER NOT NULL DEFAULT 1,
    norm_sum    REAL NOT NULL DEFAULT 0
);

CREATE TABLE IF NOT EXISTS events (
    id          INTEGER PRIMARY KEY,
    story_id    INTEGER NOT NULL REFERENCES stories(id),
    first_time  TEXT,
    last_time   TEXT,
    n_articles  INTEGER NOT NULL,
    centroid    BLOB NOT NULL,
    entities    TEXT NOT NULL,
    last_seq    INTEGER NOT NULL,
    live        INTEGER NOT NULL DEFAULT 1,
    -- JSON: years mentioned and summed embedding (cluster::EventSignals)
    signals     TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS events_story ON events(story_id);
CREATE INDEX IF NOT EXISTS events_live ON events(live) WHERE live = 1;
CREATE INDEX IF NOT EXISTS events_keys ON events(id, story_id);

CREATE TABLE IF NOT EXISTS articles (
    id            INTEGER PRIMARY KEY,
    ext_id        TEXT NOT NULL UNIQUE,
    title         TEXT,
    source        TEXT,
    url           TEXT,
    published     TEXT,
    lang          TEXT,
    text          TEXT NOT NULL,
    origin        TEXT NOT NULL,
    fingerprint   INTEGER NOT NULL,
    minhash       BLOB,
    duplicate_of  INTEGER REFERENCES articles(id),
    event_id      INTEGER NOT NULL REFERENCES events(id),
    seq           INTEGER NOT NULL
);
-- A story's articles in date order, read from this index alone (`store/sources.rs`): the
-- rows hold the text, which a row walk to `event_id` or `seq` passes.
CREATE INDEX IF NOT EXISTS articles_event_order
    ON articles(event_id, published, seq, duplicate_of);
CREATE INDEX IF NOT EXISTS articles_published ON articles(published);
-- Search reads these instead of the wide rows: match → event → story, and its filters.
CREATE INDEX IF NOT EXISTS articles_keys ON articles(id, event_id, published, source);

-- An article's sentence spans, entity mentions and clauses, one blob each (layout in
-- store/annotations.rs): a row per sentence and per mention, 110 an article, made their
-- inserts about 30% of the writer's CPU. `clauses` is NULL for an article stored before
-- schema 15: a report makes its clauses from the text.
CREATE TABLE IF NOT EXISTS annotations (
    article_id  INTEGER PRIMARY KEY REFERENCES articles(id),
    sentences   BLOB NOT NULL,
    mentions    BLOB NOT NULL,
    clauses     BLOB
);

-- Per story: its revision (the clusterer sequence of the batch that last changed it, set by
-- `commit_batch`) and the last report computed for it, with the revision it was computed at.
-- A read is a lookup when the two agree; a report is replaced whole, never in parts.
-- `sources`: the story's articles in date order at that revision (row id, event, number of
-- the original of a copy; store/sources.rs), so a page of the source list is a lookup.
CREATE TABLE IF NOT EXISTS story_reports (
    story_id         INTEGER PRIMARY KEY,
    revision         INTEGER NOT NULL,
    report_revision  INTEGER,
    headline         TEXT,
    report           TEXT,
    sources          BLOB
);

-- Term ids are handed out densely by the clusterer, which finds terms by hash in memory:
-- the store only maps id → text, so new terms append and no index on the text is kept.
CREATE TABLE IF NOT EXISTS vocab (
    id    INTEGER PRIMARY KEY,
    term  TEXT NOT NULL,
    df    INTEGER NOT NULL
);

-- Document-frequency increments not yet added to `vocab.df`: one row per batch, a blob of
-- (term id u32, increment u32) pairs. A batch touches tens of thousands of terms spread over
-- the whole vocabulary, so updating `vocab` every batch rewrote most of its pages each time;
-- `Store::commit_batch` folds these rows into `vocab` every `VOCAB_FOLD_BATCHES` batches.
-- df = vocab.df + the increments here.
CREATE TABLE IF NOT EXISTS vocab_pending (
    id          INTEGER PRIMARY KEY,
    increments  BLOB NOT NULL
);

-- Filled by `Store::commit_batch`, one INSERT … SELECT per batch, not by a trigger: FTS5
-- flushes its pending terms to a new segment at every statement savepoint, so a row trigger
-- made one segment per article and merging them cost more than the inserts.
CREATE VIRTUAL TABLE IF NOT EXISTS articles_fts USING fts5(
    title, text, content='articles', content_rowid='id'
);
-- Room for a whole batch's pending terms (the default 1 MB flushed 2-3 segments per batch).
INSERT INTO articles_fts(articles_fts, rank) VALUES ('hashsize', 8388608);
-- Merge segments 16 at a time, not 4 (`automerge`): each batch writes a segment and every
-- merge rewrites what it merges, so wider merges rewrite each posting about half as often.
-- A query reads a few more segments for it (see README, search latency).
INSERT INTO articles_fts(articles_fts, rank) VALUES ('automerge', 16);
