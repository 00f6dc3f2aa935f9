-- Schema step 13 → 14 (also run on a fresh store): what a restored clusterer needs to go on
-- exactly as the live one would (cluster::Snapshot). Rows written before have none and
-- are restored as before: the norm computed again (0), merges checked on the next article
-- (0), the index terms chosen again (NULL), terms counted in no sweep since (0).
ALTER TABLE events ADD COLUMN centroid_norm REAL NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN merge_checked_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE stories ADD COLUMN centroid_norm REAL NOT NULL DEFAULT 0;
ALTER TABLE stories ADD COLUMN merge_checked_at INTEGER NOT NULL DEFAULT 0;
-- term ids, u32 little-endian, in the order the story was indexed under them
ALTER TABLE stories ADD COLUMN index_terms BLOB;
-- the sweep interval (cluster::Vocab::forget_idle) a term was last counted in; a pending
-- row's, the interval of its increments
ALTER TABLE vocab ADD COLUMN seen INTEGER NOT NULL DEFAULT 0;
ALTER TABLE vocab_pending ADD COLUMN sweep INTEGER NOT NULL DEFAULT 0;
