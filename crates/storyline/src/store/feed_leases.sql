-- Feed leases (schema step 15 → 16; a fresh store runs it too). A follower claims the due
-- feeds it will poll, so followers sharing the store never poll a feed twice in one period.
-- A claim is a lease: the feed of a holder that died (kill -9) is claimed again once
-- `lease_until` (milliseconds since 1970) has passed. Recording the poll frees it.
ALTER TABLE feeds ADD COLUMN lease_holder TEXT;
ALTER TABLE feeds ADD COLUMN lease_until INTEGER;
