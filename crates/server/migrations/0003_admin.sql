-- The admin account, its sessions and a record of login attempts.
CREATE TABLE admins (
    username      TEXT PRIMARY KEY NOT NULL,
    password_hash TEXT NOT NULL,                       -- argon2id PHC string
    created_at    INTEGER NOT NULL,                    -- unix seconds
    updated_at    INTEGER NOT NULL
) STRICT;

-- A login makes two sessions sharing `login_id`: a bearer one whose token is
-- in the answer's body, and a cookie one whose token only travels in the
-- HttpOnly cookie. Logging out ends both.
CREATE TABLE admin_sessions (
    id         TEXT PRIMARY KEY NOT NULL,              -- SHA-256 of the token, hex
    login_id   TEXT NOT NULL,
    username   TEXT NOT NULL REFERENCES admins (username) ON DELETE CASCADE,
    kind       TEXT NOT NULL CHECK (kind IN ('cookie', 'bearer')),
    csrf       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;

CREATE INDEX admin_sessions_by_login ON admin_sessions (login_id);

-- For the administrator's eyes (who tried, from where, when); the rate limit
-- itself is kept in memory.
CREATE TABLE admin_login_attempts (
    id        INTEGER PRIMARY KEY,
    address   TEXT NOT NULL,
    at        INTEGER NOT NULL,                        -- unix seconds
    succeeded INTEGER NOT NULL CHECK (succeeded IN (0, 1))
) STRICT;

CREATE INDEX admin_login_attempts_by_time ON admin_login_attempts (at);
