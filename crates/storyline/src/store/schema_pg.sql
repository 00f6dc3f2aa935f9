-- storyline store on PostgreSQL, schema version 1 (`PG_SCHEMA_VERSION` in pg/mod.rs; later
-- steps go in `PG_MIGRATIONS` there). The same tables as schema.sql and feeds.sql: times are
-- RFC 3339 text (byte order is time order, as on SQLite, whatever the database's locale),
-- every integer is BIGINT (the client sends i64), binary columns are BYTEA, and search is a
-- `tsvector` column with a GIN index instead of FTS5.
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS stories (
    id          BIGINT PRIMARY KEY,
    first_time  TEXT COLLATE "C",
    last_time   TEXT COLLATE "C",
    n_articles  BIGINT NOT NULL,
    n_events    BIGINT NOT NULL,
    centroid    BYTEA NOT NULL,
    last_seq    BIGINT NOT NULL,
    live        BIGINT NOT NULL DEFAULT 1,
    norm_sum    DOUBLE PRECISION NOT NULL DEFAULT 0
);

CREATE TABLE IF NOT EXISTS events (
    id          BIGINT PRIMARY KEY,
    story_id    BIGINT NOT NULL REFERENCES stories(id) DEFERRABLE INITIALLY DEFERRED,
    first_time  TEXT COLLATE "C",
    last_time   TEXT COLLATE "C",
    n_articles  BIGINT NOT NULL,
    centroid    BYTEA NOT NULL,
    entities    TEXT NOT NULL,
    last_seq    BIGINT NOT NULL,
    live        BIGINT NOT NULL DEFAULT 1,
    signals     TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS events_story ON events(story_id);
CREATE INDEX IF NOT EXISTS events_live ON events(live) WHERE live = 1;

CREATE TABLE IF NOT EXISTS articles (
    id            BIGINT PRIMARY KEY,
    ext_id        TEXT NOT NULL UNIQUE,
    title         TEXT,
    source        TEXT,
    url           TEXT,
    published     TEXT COLLATE "C",
    lang          TEXT,
    text          TEXT NOT NULL,
    origin        TEXT NOT NULL,
    fingerprint   BIGINT NOT NULL,
    minhash       BYTEA,
    duplicate_of  BIGINT REFERENCES articles(id) DEFERRABLE INITIALLY DEFERRED,
    event_id      BIGINT NOT NULL REFERENCES events(id) DEFERRABLE INITIALLY DEFERRED,
    seq           BIGINT NOT NULL,
    -- The title's and text's words (weights A and B: titles weigh more in the ranking),
    -- split by storyline as queries are (runs of letters and digits, lower-cased), not by
    -- PostgreSQL's parser, which keeps "police/fire" or "u.s" whole and depends on the
    -- database's locale; the 'simple' configuration then takes them as they are.
    search        TSVECTOR NOT NULL
);
-- A story's order from the index alone (SQLite's articles_event_order).
CREATE INDEX IF NOT EXISTS articles_event ON articles(event_id, published, seq, duplicate_of);
CREATE INDEX IF NOT EXISTS articles_published ON articles(published);
CREATE INDEX IF NOT EXISTS articles_seq ON articles(seq);
CREATE INDEX IF NOT EXISTS articles_search ON articles USING GIN (search);

CREATE TABLE IF NOT EXISTS annotations (
    article_id  BIGINT PRIMARY KEY REFERENCES articles(id) DEFERRABLE INITIALLY DEFERRED,
    sentences   BYTEA NOT NULL,
    mentions    BYTEA NOT NULL
);

CREATE TABLE IF NOT EXISTS story_reports (
    story_id         BIGINT PRIMARY KEY,
    revision         BIGINT NOT NULL,
    report_revision  BIGINT,
    headline         TEXT,
    report           TEXT,
    -- The story's source list at report_revision (encode_sources): row ids, events, copies.
    sources          BYTEA
);

CREATE TABLE IF NOT EXISTS vocab (
    id    BIGINT PRIMARY KEY,
    term  TEXT NOT NULL,
    df    BIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS vocab_pending (
    id          BIGSERIAL PRIMARY KEY,
    increments  BYTEA NOT NULL
);

CREATE TABLE IF NOT EXISTS feeds (
    url            TEXT PRIMARY KEY,
    title          TEXT,
    site           TEXT,
    etag           TEXT,
    last_modified  TEXT,
    added          TEXT COLLATE "C" NOT NULL,
    next_check     TEXT COLLATE "C",
    interval_secs  BIGINT,
    last_fetch     TEXT COLLATE "C",
    last_new_item  TEXT COLLATE "C",
    failures       BIGINT NOT NULL DEFAULT 0,
    last_error     TEXT
);

CREATE TABLE IF NOT EXISTS feed_items (
    seen_order    BIGSERIAL,
    article_id    TEXT PRIMARY KEY,
    feed_url      TEXT NOT NULL,
    guid          TEXT,
    link          TEXT,
    url           TEXT,
    content_hash  TEXT NOT NULL,
    version       BIGINT NOT NULL,
    update_of     TEXT,
    seen          TEXT COLLATE "C" NOT NULL
);
CREATE INDEX IF NOT EXISTS feed_items_guid ON feed_items(guid);
CREATE INDEX IF NOT EXISTS feed_items_link ON feed_items(link);
CREATE INDEX IF NOT EXISTS feed_items_url ON feed_items(url);
