-- Meetings the admin created. A meeting without `starts_at` is instant (open
-- at any time); with it, it is scheduled, once or weekly.
CREATE TABLE meetings (
    code             TEXT PRIMARY KEY NOT NULL,        -- like kqz-rmtp-wfa
    title            TEXT NOT NULL,
    -- Plaintext on purpose: the host reads it out in the invitation
    -- (docs/decisions.md, "Meeting passcodes are stored in plaintext").
    passcode         TEXT,
    lobby            INTEGER NOT NULL CHECK (lobby IN (0, 1)),
    host_key         TEXT NOT NULL,
    public           INTEGER NOT NULL CHECK (public IN (0, 1)),
    created_by       TEXT NOT NULL,
    created_at       INTEGER NOT NULL,                 -- unix seconds
    updated_at       INTEGER NOT NULL,                 -- unix seconds
    starts_at        INTEGER,                          -- unix seconds; NULL = instant
    duration_minutes INTEGER CHECK (duration_minutes BETWEEN 1 AND 1440),
    weekly           INTEGER NOT NULL CHECK (weekly IN (0, 1)),
    CHECK ((starts_at IS NULL) = (duration_minutes IS NULL)),
    CHECK (starts_at IS NOT NULL OR weekly = 0)
) STRICT;

CREATE INDEX meetings_by_start ON meetings (starts_at);
