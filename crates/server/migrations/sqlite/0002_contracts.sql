-- Contracts, their transition history, and the notification outbox (issue 4).
CREATE TABLE contracts (
    contract_id         TEXT PRIMARY KEY NOT NULL,
    mchid               TEXT NOT NULL,
    sub_mchid           TEXT NOT NULL,          -- '' in Common mode
    appid               TEXT,
    sp_appid            TEXT,
    sub_appid           TEXT,
    plan_id             INTEGER NOT NULL,
    out_contract_code   TEXT NOT NULL,
    user_display_name   TEXT,
    openid              TEXT,
    success_notify_url  TEXT NOT NULL,
    state               TEXT NOT NULL,
    channel             TEXT NOT NULL,
    session_token       TEXT NOT NULL UNIQUE,
    session_expires_at  INTEGER NOT NULL,
    return_url          TEXT,
    return_appid        TEXT,
    user_client_ip      TEXT,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    signed_time         INTEGER,
    expired_time        INTEGER,
    terminated_time     INTEGER,
    termination_mode    TEXT,
    termination_note    TEXT,
    -- What caused the latest change; the triggers below copy it into the history.
    last_event          TEXT NOT NULL,
    UNIQUE (mchid, sub_mchid, plan_id, out_contract_code)
);

-- The protocol allows one signed contract per user and plan.
CREATE UNIQUE INDEX contracts_one_signed_per_user ON contracts (plan_id, openid) WHERE state = 'SIGNED';

CREATE TABLE contract_transitions (
    id           INTEGER PRIMARY KEY,
    contract_id  TEXT NOT NULL REFERENCES contracts(contract_id) ON DELETE CASCADE,
    event        TEXT NOT NULL,
    from_state   TEXT,
    to_state     TEXT NOT NULL,
    at           INTEGER NOT NULL
);
CREATE INDEX contract_transitions_by_contract ON contract_transitions (contract_id, id);

-- Every change of a contract lands in its history in the same statement, whoever writes it.
CREATE TRIGGER contracts_history_on_insert AFTER INSERT ON contracts BEGIN
    INSERT INTO contract_transitions (contract_id, event, from_state, to_state, at)
    VALUES (NEW.contract_id, NEW.last_event, NULL, NEW.state, NEW.updated_at);
END;

CREATE TRIGGER contracts_history_on_update AFTER UPDATE ON contracts BEGIN
    INSERT INTO contract_transitions (contract_id, event, from_state, to_state, at)
    VALUES (NEW.contract_id, NEW.last_event, OLD.state, NEW.state, NEW.updated_at);
END;

-- Written in the same transaction as the state change it announces; delivered by the
-- notification worker.
CREATE TABLE notification_outbox (
    id           TEXT PRIMARY KEY NOT NULL,
    contract_id  TEXT NOT NULL REFERENCES contracts(contract_id) ON DELETE CASCADE,
    event_type   TEXT NOT NULL,
    created_at   INTEGER NOT NULL
);
