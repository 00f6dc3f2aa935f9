-- Turns at a host (schema step 12 → 13; a fresh store runs it too). A follower takes one of
-- a host's few slots before each request and frees it after, so every follower sharing the
-- store obeys one per-host limit. A slot is a lease: one whose holder died (kill -9) is free
-- again once `until` (milliseconds since 1970) has passed.
CREATE TABLE IF NOT EXISTS host_slots (
    host    TEXT NOT NULL,
    slot    INTEGER NOT NULL,
    holder  TEXT,
    until   INTEGER,
    PRIMARY KEY (host, slot)
);
