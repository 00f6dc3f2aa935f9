-- Followed feeds and the items they brought (schema step 9 → 10; a fresh store runs it too).
-- Rows of `feed_items` outlive their feed: removing a feed keeps what it brought in, and an
-- item met again in another feed is still known.
CREATE TABLE IF NOT EXISTS feeds (
    url            TEXT PRIMARY KEY,
    title          TEXT,
    site           TEXT,
    -- HTTP validators of the last good fetch, sent back as If-None-Match / If-Modified-Since.
    etag           TEXT,
    last_modified  TEXT,
    added          TEXT NOT NULL,
    next_check     TEXT,
    interval_secs  INTEGER,
    last_fetch     TEXT,
    last_new_item  TEXT,
    failures       INTEGER NOT NULL DEFAULT 0,
    last_error     TEXT
);

-- One row per stored version of an item. `article_id` is the stored article's id; an
-- updated report is a new version (`version` + 1) naming the article it updates.
CREATE TABLE IF NOT EXISTS feed_items (
    article_id    TEXT PRIMARY KEY,
    feed_url      TEXT NOT NULL,
    guid          TEXT,
    link          TEXT,
    url           TEXT,
    content_hash  TEXT NOT NULL,
    version       INTEGER NOT NULL,
    update_of     TEXT,
    seen          TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS feed_items_guid ON feed_items(guid);
CREATE INDEX IF NOT EXISTS feed_items_link ON feed_items(link);
CREATE INDEX IF NOT EXISTS feed_items_url ON feed_items(url);
