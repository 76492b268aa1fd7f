-- 007: API allowances shared live by a platform's mapped shards, and what each API said about its limits.
-- Operational tables (like etl_run): they record how a night spent its calls, they are not indicators.

-- One row per run and platform: the night's allowance (PANTAU_<PLATFORM>_BUDGET), claimed by shards in leases.
CREATE TABLE etl_rate_budget (
    run_id        VARCHAR NOT NULL,
    platform      VARCHAR NOT NULL,
    budget_units  BIGINT NOT NULL,                 -- calls (X, Graph, TikTok) or quota units (YouTube) the run may spend
    spent_units   BIGINT NOT NULL DEFAULT 0,       -- claimed by shards; what a shard leased and did not use is handed back
    reads_cap     BIGINT,                          -- posts the run may still read under a monthly read cap; NULL = no cap
    posts_read    BIGINT NOT NULL DEFAULT 0,       -- claimed against reads_cap, handed back like units
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (run_id, platform)
);

-- The latest word of each API (per Airflow connection: Instagram and Facebook share meta_graph) on a limit scope:
-- an X endpoint's 15-minute window, Meta's app usage, YouTube's daily quota, or '*' for refused credentials.
CREATE TABLE etl_rate_limit (
    connection       VARCHAR NOT NULL,
    scope            VARCHAR NOT NULL,
    calls_remaining  BIGINT,                       -- as the API reported it; NULL when it does not say
    usage_percent    INTEGER,                      -- Meta's highest usage counter, in percent
    blocked_until    TIMESTAMP,                    -- UTC; no shard calls this scope before then
    status           VARCHAR,                      -- deferred (a limit) or token_expired (credentials refused)
    message          VARCHAR,
    credential       VARCHAR,                      -- for token_expired: a 12-hex SHA-256 fingerprint of the refused
                                                   -- secret (never the secret), so a renewed one is tried at once
    observed_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (connection, scope)
);
