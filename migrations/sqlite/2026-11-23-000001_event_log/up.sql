-- The event log: the source of truth. Append-only; every other table is a projection of it.
CREATE TABLE events (
    seq BIGINT PRIMARY KEY NOT NULL,           -- the association's global order, from 1
    stream TEXT NOT NULL,                      -- 'association' or the meeting's UUID
    stream_index BIGINT NOT NULL,              -- position in the stream's log, from 0
    at TIMESTAMP NOT NULL,                     -- UTC
    kind TEXT NOT NULL,                        -- the event's tag, e.g. 'ballot_cast'
    body TEXT NOT NULL,                        -- the event as JSON
    UNIQUE (stream, stream_index)
);

CREATE TRIGGER events_are_append_only_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'the event log is append-only');
END;

CREATE TRIGGER events_are_append_only_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'the event log is append-only');
END;

-- One row whose update serialises appends: the writer that updates it holds the lock until
-- it commits, so two commands never fork or reorder the log.
CREATE TABLE log_head (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    last_seq BIGINT NOT NULL
);
INSERT INTO log_head (id, last_seq) VALUES (1, 0);
