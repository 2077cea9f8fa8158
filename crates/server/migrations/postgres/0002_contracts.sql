-- Contracts, their transition history, and the notification outbox (issue 4). In lockstep
-- with migrations/sqlite/0002_contracts.sql; `seq` stands in for SQLite's rowid (insertion
-- order, the tie-break of "newest first").
CREATE TABLE contracts (
    contract_id         TEXT PRIMARY KEY NOT NULL,
    seq                 BIGINT GENERATED ALWAYS AS IDENTITY,
    mchid               TEXT NOT NULL,
    sub_mchid           TEXT NOT NULL,          -- '' in Common mode
    appid               TEXT,
    sp_appid            TEXT,
    sub_appid           TEXT,
    plan_id             BIGINT NOT NULL,
    out_contract_code   TEXT NOT NULL,
    user_display_name   TEXT,
    openid              TEXT,
    success_notify_url  TEXT NOT NULL,
    state               TEXT NOT NULL,
    channel             TEXT NOT NULL,
    session_token       TEXT NOT NULL UNIQUE,
    session_expires_at  BIGINT NOT NULL,
    return_url          TEXT,
    return_appid        TEXT,
    user_client_ip      TEXT,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL,
    signed_time         BIGINT,
    expired_time        BIGINT,
    terminated_time     BIGINT,
    termination_mode    TEXT,
    termination_note    TEXT,
    -- What caused the latest change; the triggers below copy it into the history.
    last_event          TEXT NOT NULL,
    UNIQUE (mchid, sub_mchid, plan_id, out_contract_code)
);

-- The protocol allows one signed contract per user and plan.
CREATE UNIQUE INDEX contracts_one_signed_per_user ON contracts (plan_id, openid) WHERE state = 'SIGNED';

CREATE TABLE contract_transitions (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    contract_id  TEXT NOT NULL REFERENCES contracts(contract_id) ON DELETE CASCADE,
    event        TEXT NOT NULL,
    from_state   TEXT,
    to_state     TEXT NOT NULL,
    at           BIGINT NOT NULL
);
CREATE INDEX contract_transitions_by_contract ON contract_transitions (contract_id, id);

-- Every change of a contract lands in its history in the same statement, whoever writes it.
CREATE FUNCTION contracts_history() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO contract_transitions (contract_id, event, from_state, to_state, at)
        VALUES (NEW.contract_id, NEW.last_event, NULL, NEW.state, NEW.updated_at);
    ELSE
        INSERT INTO contract_transitions (contract_id, event, from_state, to_state, at)
        VALUES (NEW.contract_id, NEW.last_event, OLD.state, NEW.state, NEW.updated_at);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER contracts_history AFTER INSERT OR UPDATE ON contracts
    FOR EACH ROW EXECUTE FUNCTION contracts_history();

-- Written in the same transaction as the state change it announces; delivered by the
-- notification worker.
CREATE TABLE notification_outbox (
    id           TEXT PRIMARY KEY NOT NULL,
    contract_id  TEXT NOT NULL REFERENCES contracts(contract_id) ON DELETE CASCADE,
    event_type   TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);
