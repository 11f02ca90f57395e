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

CREATE FUNCTION events_are_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the event log is append-only';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER events_are_append_only BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_are_append_only();

-- One row whose update serialises appends: the writer that updates it holds the row lock until
-- it commits, so two commands never fork or reorder the log, even from two service instances.
CREATE TABLE log_head (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    last_seq BIGINT NOT NULL
);
INSERT INTO log_head (id, last_seq) VALUES (1, 0);
