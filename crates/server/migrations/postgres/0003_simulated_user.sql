-- The simulated user's side and the test-control API (issue 5). In lockstep with
-- migrations/sqlite/0003_simulated_user.sql.

-- A merchant's virtual clock: virtual = anchor_virtual + (real - anchor_real) * speed.
-- All three NULL: the merchant lives on real time.
ALTER TABLE merchants ADD COLUMN clock_anchor_real_ms BIGINT;
ALTER TABLE merchants ADD COLUMN clock_anchor_virtual_ms BIGINT;
ALTER TABLE merchants ADD COLUMN clock_speed DOUBLE PRECISION;
-- SHA-256 (hex) of the merchant's control-API token, for throwaway merchants.
ALTER TABLE merchants ADD COLUMN control_token_sha256 TEXT;
CREATE UNIQUE INDEX merchants_by_control_token ON merchants (control_token_sha256)
    WHERE control_token_sha256 IS NOT NULL;

-- Links replaced by a newer pre-sign of the same code, so they answer "replaced", not "unknown".
CREATE TABLE retired_sessions (
    session_token  TEXT PRIMARY KEY NOT NULL,
    contract_id    TEXT NOT NULL REFERENCES contracts(contract_id) ON DELETE CASCADE,
    retired_at     BIGINT NOT NULL
);

CREATE FUNCTION contracts_retire_session() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO retired_sessions (session_token, contract_id, retired_at)
    VALUES (OLD.session_token, OLD.contract_id, NEW.updated_at);
    RETURN NULL;
END $$;

CREATE TRIGGER contracts_retire_session AFTER UPDATE OF session_token ON contracts
    FOR EACH ROW WHEN (OLD.session_token <> NEW.session_token)
    EXECUTE FUNCTION contracts_retire_session();

-- Injected faults: the next `remaining` calls of `endpoint` by `mchid` misbehave as `kind`.
CREATE TABLE faults (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    mchid       TEXT NOT NULL REFERENCES merchants(mchid) ON DELETE CASCADE,
    endpoint    TEXT NOT NULL,
    kind        TEXT NOT NULL,
    remaining   BIGINT NOT NULL,
    latency_ms  BIGINT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX faults_by_merchant ON faults (mchid, id);

CREATE INDEX contracts_by_merchant ON contracts (mchid, created_at);
