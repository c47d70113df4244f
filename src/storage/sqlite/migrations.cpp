// The embedded store's schema, one numbered migration per change. Never edit a
// released migration: add a new one.

#include "storage/sqlite/sqlite_store.hpp"

namespace sai::storage {

std::span<const Migration> sqlite_migrations() {
    static const std::vector<Migration> kMigrations = {
        {1, "instance settings",
         R"sql(
CREATE TABLE settings (
    key        TEXT PRIMARY KEY NOT NULL,
    value      TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;
INSERT INTO settings (key, value, updated_at)
VALUES ('instance_id', lower(hex(randomblob(16))), strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
)sql"},
        {2, "users, tokens, api keys, audit log",
         R"sql(
CREATE TABLE users (
    id                 TEXT PRIMARY KEY NOT NULL,
    username           TEXT NOT NULL UNIQUE COLLATE NOCASE,
    role               TEXT NOT NULL CHECK (role IN ('viewer', 'analyst', 'admin')),
    password_hash      TEXT NOT NULL,
    disabled           INTEGER NOT NULL DEFAULT 0,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    last_login         TEXT,
    token_generation INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    family_id  TEXT NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    issued_at  INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used       INTEGER NOT NULL DEFAULT 0,
    revoked    INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);
CREATE INDEX refresh_tokens_expiry ON refresh_tokens (expires_at);

CREATE TABLE revoked_tokens (
    jti        TEXT PRIMARY KEY NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY NOT NULL,
    name         TEXT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('viewer', 'analyst', 'admin')),
    prefix       TEXT NOT NULL,
    key_hash     TEXT NOT NULL UNIQUE,
    created_by   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    expires_at   TEXT,
    revoked      INTEGER NOT NULL DEFAULT 0,
    last_used_at TEXT
) STRICT;

CREATE TABLE audit_log (
    seq        INTEGER PRIMARY KEY NOT NULL,
    ts         TEXT NOT NULL,
    actor      TEXT NOT NULL,
    role       TEXT NOT NULL,
    client_ip  TEXT NOT NULL,
    request_id TEXT NOT NULL,
    action     TEXT NOT NULL,
    target     TEXT NOT NULL,
    outcome    TEXT NOT NULL,
    detail     TEXT NOT NULL,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL
) STRICT;
CREATE INDEX audit_log_ts ON audit_log (ts);
CREATE INDEX audit_log_actor ON audit_log (actor, seq);
CREATE INDEX audit_log_action ON audit_log (action, seq);
)sql"},
        {3, "events with full-text search",
         R"sql(
CREATE TABLE events (
    id            TEXT PRIMARY KEY NOT NULL,
    ts            INTEGER NOT NULL,
    ingested      INTEGER NOT NULL,
    category      TEXT,
    outcome       TEXT,
    severity      INTEGER,
    host          TEXT,
    user_name     TEXT,
    src_key       BLOB,
    dst_key       BLOB,
    anomaly       REAL,
    threat_class  TEXT,
    message       TEXT NOT NULL,
    doc           TEXT NOT NULL
);
CREATE INDEX events_ts ON events (ts, id);
CREATE INDEX events_host ON events (host, ts) WHERE host IS NOT NULL;
CREATE INDEX events_user ON events (user_name, ts) WHERE user_name IS NOT NULL;
-- Address keys: the 16-byte IPv6 form (IPv4 mapped), so CIDR blocks are ranges.
CREATE INDEX events_src ON events (src_key) WHERE src_key IS NOT NULL;
CREATE INDEX events_dst ON events (dst_key) WHERE dst_key IS NOT NULL;
-- No indexes on category, outcome or severity: few distinct values, so walking the
-- time index and testing them is as fast, and each index cost ~10 % of ingest speed.

-- Inserts reach the full-text index once per batch (see SqliteEventStore): a
-- per-row trigger made ingest five times slower. Deletes keep a trigger.
CREATE VIRTUAL TABLE events_fts USING fts5 (message, content = 'events', content_rowid = 'rowid');
CREATE TRIGGER events_fts_delete AFTER DELETE ON events BEGIN
    INSERT INTO events_fts (events_fts, rowid, message) VALUES ('delete', old.rowid, old.message);
END;

CREATE TABLE event_counts (
    category TEXT PRIMARY KEY NOT NULL,
    count    INTEGER NOT NULL
) STRICT;
)sql"},
        {4, "alerts, history, suppressions, blocklist, verdict labels",
         R"sql(
CREATE TABLE alerts (
    id             TEXT PRIMARY KEY NOT NULL,
    fingerprint    TEXT NOT NULL,
    rule_id        TEXT NOT NULL,
    title          TEXT NOT NULL,
    description    TEXT NOT NULL,
    source         TEXT NOT NULL,
    severity       INTEGER NOT NULL,
    risk           REAL NOT NULL,
    status         TEXT NOT NULL,
    assignee       TEXT,
    tactics        TEXT NOT NULL,  -- JSON arrays and objects
    techniques     TEXT NOT NULL,
    tags           TEXT NOT NULL,
    entities       TEXT NOT NULL,
    event_ids      TEXT NOT NULL,
    details        TEXT NOT NULL,
    first_seen     INTEGER NOT NULL,
    last_seen      INTEGER NOT NULL,
    count          INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    verdict_reason TEXT
) STRICT;
CREATE INDEX alerts_last_seen ON alerts (last_seen, id);
CREATE INDEX alerts_fingerprint ON alerts (fingerprint, last_seen);
CREATE INDEX alerts_status ON alerts (status, last_seen);

CREATE TABLE alert_history (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id   TEXT NOT NULL,
    at         INTEGER NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    from_value TEXT,
    to_value   TEXT,
    comment    TEXT
) STRICT;
CREATE INDEX alert_history_alert ON alert_history (alert_id, seq);

CREATE TABLE suppressions (
    id         TEXT PRIMARY KEY NOT NULL,
    scope      TEXT NOT NULL,
    value      TEXT NOT NULL,
    entity     TEXT NOT NULL,
    reason     TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    hits       INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE blocklist (
    ip         TEXT PRIMARY KEY NOT NULL,
    reason     TEXT NOT NULL,
    alert_id   TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;

CREATE TABLE alert_labels (
    event_id TEXT NOT NULL,
    alert_id TEXT NOT NULL,
    label    TEXT NOT NULL,
    verdict  TEXT NOT NULL,
    at       INTEGER NOT NULL,
    PRIMARY KEY (event_id, alert_id)
) STRICT;
CREATE INDEX alert_labels_at ON alert_labels (at);
)sql"},
        {5, "log templates mined by the parser",
         R"sql(
CREATE TABLE log_templates (
    id         TEXT PRIMARY KEY NOT NULL,
    format     TEXT NOT NULL,
    text       TEXT NOT NULL,
    count      INTEGER NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL
) STRICT;
)sql"},
        {6, "reports",
         R"sql(
CREATE TABLE reports (
    id          TEXT PRIMARY KEY NOT NULL,
    type        TEXT NOT NULL,
    format      TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('queued', 'running', 'ready', 'failed')),
    error       TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    finished_at INTEGER NOT NULL,
    from_ms     INTEGER NOT NULL,
    to_ms       INTEGER NOT NULL,
    filters     TEXT NOT NULL,
    size_bytes  INTEGER NOT NULL
) STRICT;
CREATE INDEX reports_created ON reports (created_at, id);
CREATE INDEX reports_status ON reports (status) WHERE status IN ('queued', 'running');
)sql"},
        {7, "ml",
         R"sql(
CREATE TABLE ml_models (
    id             TEXT PRIMARY KEY NOT NULL,
    type           TEXT NOT NULL,
    version        INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    window_from    INTEGER NOT NULL,
    window_to      INTEGER NOT NULL,
    rows           INTEGER NOT NULL,
    params         TEXT NOT NULL,
    schema_name    TEXT NOT NULL,
    schema_version INTEGER NOT NULL,
    metrics        TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('active', 'candidate', 'retired')),
    training_id    TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX ml_models_version ON ml_models (type, version);
CREATE TABLE ml_training_jobs (
    id          TEXT PRIMARY KEY NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    created_at  INTEGER NOT NULL,
    finished_at INTEGER NOT NULL,
    job         TEXT NOT NULL
) STRICT;
)sql"},
        {8, "assets and entity graph snapshots",
         R"sql(
CREATE TABLE assets (
    id              TEXT PRIMARY KEY NOT NULL,
    name            TEXT NOT NULL UNIQUE COLLATE NOCASE,
    ips             TEXT NOT NULL,  -- JSON arrays
    hostnames       TEXT NOT NULL,
    type            TEXT NOT NULL,
    criticality     INTEGER NOT NULL CHECK (criticality BETWEEN 1 AND 5),
    internet_facing INTEGER NOT NULL,
    owner           TEXT NOT NULL,
    tags            TEXT NOT NULL,
    discovered      INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
) STRICT;

CREATE TABLE graph_snapshots (
    id         INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),  -- only the latest is kept
    created_at INTEGER NOT NULL,
    data       BLOB NOT NULL
) STRICT;
)sql"},
        {9, "address indexes carry the time",
         R"sql(
-- A CIDR block's newest events come from the address index alone: the k-th
-- newest time in the block is found without reading the table (SqliteEventStore).
DROP INDEX events_src;
DROP INDEX events_dst;
CREATE INDEX events_src ON events (src_key, ts) WHERE src_key IS NOT NULL;
CREATE INDEX events_dst ON events (dst_key, ts) WHERE dst_key IS NOT NULL;
)sql"},
        {10, "full-text index without per-row sizes, merged eight segments at a time",
         R"sql(
-- columnsize = 0: no per-row size table beside the index (one B-tree insert fewer
-- per event); only ranking functions read it, and searches here go by rowid.
-- Rebuilt from the stored messages (a minute or two on ten million events).
DROP TRIGGER events_fts_delete;
DROP TABLE events_fts;
CREATE VIRTUAL TABLE events_fts USING fts5 (message, content = 'events', content_rowid = 'rowid', columnsize = 0);
INSERT INTO events_fts (events_fts) VALUES ('rebuild');
-- Each batch writes a segment; merging eight of a level at a time instead of four
-- rewrites each entry fewer times (searches read a few more segments).
INSERT INTO events_fts (events_fts, rank) VALUES ('automerge', 8);
CREATE TRIGGER events_fts_delete AFTER DELETE ON events BEGIN
    INSERT INTO events_fts (events_fts, rowid, message) VALUES ('delete', old.rowid, old.message);
END;
)sql"},
    };
    return kMigrations;
}

}  // namespace sai::storage
