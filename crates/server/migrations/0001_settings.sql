-- Key/value settings the server keeps across restarts (instance identity,
-- first start, later: admin password hash, installed licence, ...).
CREATE TABLE settings (
    key        TEXT PRIMARY KEY NOT NULL,
    value      TEXT NOT NULL,
    updated_at INTEGER NOT NULL  -- unix seconds
) STRICT;
