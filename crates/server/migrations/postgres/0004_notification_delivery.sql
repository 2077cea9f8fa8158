-- Notification delivery (issue 6): the outbox becomes a queue with a schedule, a lease and a
-- delivery log. In lockstep with migrations/sqlite/0004_notification_delivery.sql.

ALTER TABLE notification_outbox ADD COLUMN mchid TEXT NOT NULL DEFAULT '';
-- PENDING (to be sent), DELIVERED (acknowledged), GAVE_UP (every attempt failed).
ALTER TABLE notification_outbox ADD COLUMN status TEXT NOT NULL DEFAULT 'PENDING';
ALTER TABLE notification_outbox ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0;
-- The envelope, fixed before the first attempt so every retry sends the same bytes.
ALTER TABLE notification_outbox ADD COLUMN body TEXT;
-- The retry schedule runs on the merchant's clock: offsets count from schedule_base_ms
-- (merchant time of the event); due_virtual_ms is the next attempt in merchant time and
-- due_real_ms the same instant in real time (NULL while the merchant's clock is frozen short
-- of it or its deliveries are paused), recomputed whenever the merchant's clock changes.
ALTER TABLE notification_outbox ADD COLUMN schedule_base_ms BIGINT NOT NULL DEFAULT 0;
ALTER TABLE notification_outbox ADD COLUMN due_virtual_ms BIGINT;
ALTER TABLE notification_outbox ADD COLUMN due_real_ms BIGINT;
-- A resend asked for while an attempt was in flight: the attempt's result must not bury it.
ALTER TABLE notification_outbox ADD COLUMN resend_due_virtual_ms BIGINT;
-- A worker's claim: nobody else sends this notification before lease_until_ms.
ALTER TABLE notification_outbox ADD COLUMN lease_owner TEXT;
ALTER TABLE notification_outbox ADD COLUMN lease_until_ms BIGINT;

CREATE INDEX notification_outbox_due ON notification_outbox (due_real_ms) WHERE status = 'PENDING';
CREATE INDEX notification_outbox_by_merchant ON notification_outbox (mchid, created_at);

-- Every delivery attempt, as the merchant's receiver saw it (or did not).
CREATE TABLE notification_attempts (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    notification_id  TEXT NOT NULL REFERENCES notification_outbox(id) ON DELETE CASCADE,
    number           BIGINT NOT NULL,
    at_ms            BIGINT NOT NULL,      -- real time the request was sent
    virtual_at_ms    BIGINT NOT NULL,      -- the merchant's time then
    url              TEXT NOT NULL,
    http_status      BIGINT,
    latency_ms       BIGINT NOT NULL,
    outcome          TEXT NOT NULL,        -- DELIVERED | FAILED | DROPPED
    error            TEXT,
    response_head    TEXT
);
CREATE INDEX notification_attempts_by_notification ON notification_attempts (notification_id, number);

ALTER TABLE merchants ADD COLUMN notifications_paused BOOLEAN NOT NULL DEFAULT FALSE;
