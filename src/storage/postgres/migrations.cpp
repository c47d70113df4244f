// The PostgreSQL schema, one numbered migration per change. Never edit a
// released migration: add a new one. The same tables as the SQLite schema
// (src/storage/sqlite/migrations.cpp) with PostgreSQL types: identifiers and
// timestamps that are compared or sorted as text use COLLATE "C", so ordering
// is bytewise as in SQLite, whatever the database's locale.

#include "storage/postgres/pg_store.hpp"

namespace sai::storage {

std::span<const Migration> postgres_migrations() {
    static const std::vector<Migration> kMigrations = {
        {1, "instance settings",
         R"sql(
CREATE TABLE settings (
    key        text COLLATE "C" PRIMARY KEY,
    value      text NOT NULL,
    updated_at text NOT NULL
);
INSERT INTO settings (key, value, updated_at)
VALUES ('instance_id', replace(gen_random_uuid()::text, '-', ''),
        to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'));
)sql"},
        {2, "users, tokens, api keys, audit log",
         R"sql(
CREATE TABLE users (
    id               text COLLATE "C" PRIMARY KEY,
    username         text NOT NULL,
    role             text NOT NULL CHECK (role IN ('viewer', 'analyst', 'admin')),
    password_hash    text NOT NULL,
    disabled         boolean NOT NULL DEFAULT false,
    created_at       text NOT NULL,
    updated_at       text NOT NULL,
    last_login       text,
    token_generation bigint NOT NULL DEFAULT 0
);
-- Usernames compare case-insensitively (SQLite: COLLATE NOCASE).
CREATE UNIQUE INDEX users_username ON users (lower(username));

CREATE TABLE refresh_tokens (
    token_hash text COLLATE "C" PRIMARY KEY,
    family_id  text NOT NULL,
    user_id    text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    issued_at  bigint NOT NULL,
    expires_at bigint NOT NULL,
    used       boolean NOT NULL DEFAULT false,
    revoked    boolean NOT NULL DEFAULT false
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);
CREATE INDEX refresh_tokens_expiry ON refresh_tokens (expires_at);

CREATE TABLE revoked_tokens (
    jti        text COLLATE "C" PRIMARY KEY,
    expires_at bigint NOT NULL
);

CREATE TABLE api_keys (
    id           text COLLATE "C" PRIMARY KEY,
    name         text NOT NULL,
    role         text NOT NULL CHECK (role IN ('viewer', 'analyst', 'admin')),
    prefix       text NOT NULL,
    key_hash     text NOT NULL UNIQUE,
    created_by   text NOT NULL,
    created_at   text NOT NULL,
    expires_at   text,
    revoked      boolean NOT NULL DEFAULT false,
    last_used_at text
);

CREATE TABLE audit_log (
    seq        bigint PRIMARY KEY,
    ts         text COLLATE "C" NOT NULL,
    actor      text NOT NULL,
    role       text NOT NULL,
    client_ip  text NOT NULL,
    request_id text NOT NULL,
    action     text NOT NULL,
    target     text NOT NULL,
    outcome    text NOT NULL,
    detail     text NOT NULL,
    prev_hash  text NOT NULL,
    hash       text NOT NULL
);
CREATE INDEX audit_log_ts ON audit_log (ts);
CREATE INDEX audit_log_actor ON audit_log (actor, seq);
CREATE INDEX audit_log_action ON audit_log (action, seq);
)sql"},
        {3, "events, partitioned by day, with full-text search",
         R"sql(
-- One partition per UTC day of @timestamp (ts, Unix ms), created on demand by
-- the inserting node (events_YYYYMMDD); retention drops whole partitions.
CREATE TABLE events (
    id           text COLLATE "C" NOT NULL,
    ts           bigint NOT NULL,
    ingested     bigint NOT NULL,
    category     text,
    outcome      text,
    severity     bigint,
    host         text,
    user_name    text,
    src_key      bytea,
    dst_key      bytea,
    anomaly      double precision,
    threat_class text,
    message      text NOT NULL,
    doc          text NOT NULL,
    search       tsvector GENERATED ALWAYS AS (to_tsvector('simple', message)) STORED
) PARTITION BY RANGE (ts);
-- (ts, id) also serves lookups by id: event_ids gives the timestamp first.
CREATE INDEX events_ts ON events (ts, id);
CREATE INDEX events_host ON events (host, ts) WHERE host IS NOT NULL;
CREATE INDEX events_user ON events (user_name, ts) WHERE user_name IS NOT NULL;
-- Address keys: the 16-byte IPv6 form (IPv4 mapped), so CIDR blocks are ranges.
CREATE INDEX events_src ON events (src_key) WHERE src_key IS NOT NULL;
CREATE INDEX events_dst ON events (dst_key) WHERE dst_key IS NOT NULL;
CREATE INDEX events_search ON events USING gin (search);

-- A unique constraint on a partitioned table must include the partition key, so
-- idempotency by id lives here: a batch inserts only the ids this table accepts.
CREATE TABLE event_ids (
    id text COLLATE "C" PRIMARY KEY,
    ts bigint NOT NULL
);
CREATE INDEX event_ids_ts ON event_ids (ts);

-- The day partitions that exist, with their bounds, for retention.
CREATE TABLE event_partitions (
    name    text COLLATE "C" PRIMARY KEY,
    day     bigint NOT NULL UNIQUE,  -- days since 1970-01-01
    from_ms bigint NOT NULL,
    to_ms   bigint NOT NULL
);

CREATE TABLE event_counts (
    category text COLLATE "C" PRIMARY KEY,
    count    bigint NOT NULL
);
)sql"},
        {4, "alerts, history, suppressions, blocklist, verdict labels",
         R"sql(
CREATE TABLE alerts (
    id             text COLLATE "C" PRIMARY KEY,
    fingerprint    text NOT NULL,
    rule_id        text NOT NULL,
    title          text NOT NULL,
    description    text NOT NULL,
    source         text NOT NULL,
    severity       integer NOT NULL,
    risk           double precision NOT NULL,
    status         text COLLATE "C" NOT NULL,
    assignee       text,
    tactics        jsonb NOT NULL,
    techniques     jsonb NOT NULL,
    tags           jsonb NOT NULL,
    entities       jsonb NOT NULL,
    event_ids      text NOT NULL,  -- JSON, kept as written
    details        text NOT NULL,
    first_seen     bigint NOT NULL,
    last_seen      bigint NOT NULL,
    count          bigint NOT NULL,
    created_at     bigint NOT NULL,
    updated_at     bigint NOT NULL,
    verdict_reason text
);
CREATE INDEX alerts_last_seen ON alerts (last_seen, id);
CREATE INDEX alerts_fingerprint ON alerts (fingerprint, last_seen);
CREATE INDEX alerts_status ON alerts (status, last_seen);

CREATE TABLE alert_history (
    seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alert_id   text NOT NULL,
    at         bigint NOT NULL,
    actor      text NOT NULL,
    action     text NOT NULL,
    from_value text,
    to_value   text,
    comment    text
);
CREATE INDEX alert_history_alert ON alert_history (alert_id, seq);

CREATE TABLE suppressions (
    id         text COLLATE "C" PRIMARY KEY,
    scope      text NOT NULL,
    value      text NOT NULL,
    entity     text NOT NULL,
    reason     text NOT NULL,
    expires_at bigint NOT NULL,
    created_by text NOT NULL,
    created_at bigint NOT NULL,
    hits       bigint NOT NULL DEFAULT 0
);

CREATE TABLE blocklist (
    ip         text COLLATE "C" PRIMARY KEY,
    reason     text NOT NULL,
    alert_id   text NOT NULL,
    created_by text NOT NULL,
    created_at bigint NOT NULL,
    expires_at bigint NOT NULL
);

CREATE TABLE alert_labels (
    event_id text COLLATE "C" NOT NULL,
    alert_id text COLLATE "C" NOT NULL,
    label    text NOT NULL,
    verdict  text NOT NULL,
    at       bigint NOT NULL,
    PRIMARY KEY (event_id, alert_id)
);
CREATE INDEX alert_labels_at ON alert_labels (at);
)sql"},
        {5, "log templates mined by the parser",
         R"sql(
CREATE TABLE log_templates (
    id         text COLLATE "C" PRIMARY KEY,
    format     text NOT NULL,
    text       text NOT NULL,
    count      bigint NOT NULL,
    first_seen bigint NOT NULL,
    last_seen  bigint NOT NULL
);
)sql"},
        {6, "reports",
         R"sql(
CREATE TABLE reports (
    id          text COLLATE "C" PRIMARY KEY,
    type        text NOT NULL,
    format      text NOT NULL,
    status      text NOT NULL CHECK (status IN ('queued', 'running', 'ready', 'failed')),
    error       text NOT NULL,
    created_by  text NOT NULL,
    created_at  bigint NOT NULL,
    finished_at bigint NOT NULL,
    from_ms     bigint NOT NULL,
    to_ms       bigint NOT NULL,
    filters     text NOT NULL,
    size_bytes  bigint NOT NULL
);
CREATE INDEX reports_created ON reports (created_at, id);
CREATE INDEX reports_status ON reports (status) WHERE status IN ('queued', 'running');
)sql"},
        {7, "ml",
         R"sql(
CREATE TABLE ml_models (
    id             text COLLATE "C" PRIMARY KEY,
    type           text COLLATE "C" NOT NULL,
    version        bigint NOT NULL,
    created_at     bigint NOT NULL,
    window_from    bigint NOT NULL,
    window_to      bigint NOT NULL,
    rows           bigint NOT NULL,
    params         text NOT NULL,
    schema_name    text NOT NULL,
    schema_version bigint NOT NULL,
    metrics        text NOT NULL,
    status         text NOT NULL CHECK (status IN ('active', 'candidate', 'retired')),
    training_id    text NOT NULL
);
CREATE UNIQUE INDEX ml_models_version ON ml_models (type, version);
CREATE TABLE ml_training_jobs (
    id          text COLLATE "C" PRIMARY KEY,
    state       text NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    created_at  bigint NOT NULL,
    finished_at bigint NOT NULL,
    job         text NOT NULL
);
)sql"},
        {8, "assets and entity graph snapshots",
         R"sql(
CREATE TABLE assets (
    id              text COLLATE "C" PRIMARY KEY,
    name            text COLLATE "C" NOT NULL,
    ips             text NOT NULL,  -- JSON arrays
    hostnames       text NOT NULL,
    type            text NOT NULL,
    criticality     integer NOT NULL CHECK (criticality BETWEEN 1 AND 5),
    internet_facing boolean NOT NULL,
    owner           text NOT NULL,
    tags            jsonb NOT NULL,
    discovered      boolean NOT NULL,
    created_at      bigint NOT NULL,
    updated_at      bigint NOT NULL
);
CREATE UNIQUE INDEX assets_name ON assets (lower(name));

CREATE TABLE graph_snapshots (
    id         integer PRIMARY KEY CHECK (id = 1),  -- only the latest is kept
    created_at bigint NOT NULL,
    data       bytea NOT NULL
);
)sql"},
    };
    return kMigrations;
}

}  // namespace sai::storage
