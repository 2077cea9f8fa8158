-- Merchants and everything provisioned with them (issue 3). In lockstep with
-- migrations/sqlite/0001_merchants.sql: same tables and columns; times are Unix seconds
-- (BIGINT), flags BOOLEAN.
CREATE TABLE merchants (
    mchid       TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL,
    apiv3_key   TEXT,
    v2_key      TEXT,
    origin      TEXT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE merchant_api_credentials (
    mchid            TEXT NOT NULL REFERENCES merchants(mchid) ON DELETE CASCADE,
    serial           TEXT NOT NULL,
    public_key_pem   TEXT NOT NULL,
    certificate_pem  TEXT,
    PRIMARY KEY (mchid, serial)
);

CREATE TABLE platform_keys (
    mchid            TEXT NOT NULL REFERENCES merchants(mchid) ON DELETE CASCADE,
    serial           TEXT NOT NULL,
    private_key_pem  TEXT NOT NULL,
    certificate_pem  TEXT NOT NULL,
    public_key_id    TEXT,
    generated        BOOLEAN NOT NULL,
    PRIMARY KEY (mchid, serial)
);

CREATE TABLE merchant_appids (
    mchid  TEXT NOT NULL REFERENCES merchants(mchid) ON DELETE CASCADE,
    appid  TEXT NOT NULL,
    PRIMARY KEY (mchid, appid)
);

CREATE TABLE sub_merchants (
    sp_mchid   TEXT NOT NULL REFERENCES merchants(mchid) ON DELETE CASCADE,
    sub_mchid  TEXT NOT NULL,
    PRIMARY KEY (sp_mchid, sub_mchid)
);

CREATE TABLE sub_merchant_appids (
    sp_mchid   TEXT NOT NULL,
    sub_mchid  TEXT NOT NULL,
    appid      TEXT NOT NULL,
    PRIMARY KEY (sp_mchid, sub_mchid, appid),
    FOREIGN KEY (sp_mchid, sub_mchid) REFERENCES sub_merchants(sp_mchid, sub_mchid) ON DELETE CASCADE
);

CREATE TABLE plans (
    plan_id                 BIGINT PRIMARY KEY NOT NULL,
    mchid                   TEXT NOT NULL REFERENCES merchants(mchid) ON DELETE CASCADE,
    name                    TEXT NOT NULL,
    termination_notify_url  TEXT,
    contract_validity_days  BIGINT NOT NULL
);

CREATE TABLE plan_sub_merchants (
    plan_id    BIGINT NOT NULL REFERENCES plans(plan_id) ON DELETE CASCADE,
    sub_mchid  TEXT NOT NULL,
    PRIMARY KEY (plan_id, sub_mchid)
);
