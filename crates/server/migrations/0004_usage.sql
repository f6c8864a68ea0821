-- One row per minute in which the server ran: the most lines in use at
-- once, the licensed lines, and joins refused for lack of a line. An
-- office sizes its licence from these.
CREATE TABLE usage_minutes (
    minute   INTEGER PRIMARY KEY NOT NULL,  -- unix seconds / 60
    peak     INTEGER NOT NULL,
    licensed INTEGER NOT NULL,
    refused  INTEGER NOT NULL
) STRICT;
