-- Domestic APIv2 contracts (issue 7): which API made a contract, and what its v2 signing
-- request fixed; which retry schedule and wire form each notification follows. In lockstep
-- with migrations/sqlite/0005_v2_contracts.sql.
ALTER TABLE contracts ADD COLUMN api TEXT NOT NULL DEFAULT 'V3';
ALTER TABLE contracts ADD COLUMN request_serial BIGINT;
ALTER TABLE contracts ADD COLUMN sign_type TEXT;

ALTER TABLE notification_outbox ADD COLUMN api TEXT NOT NULL DEFAULT 'V3';
