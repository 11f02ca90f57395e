-- The associations whose meetings this service runs, each with its own statutes (rules profile).
CREATE TABLE associations (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    profile TEXT NOT NULL,                     -- the rules profile, TOML
    created_at TIMESTAMP NOT NULL
);

-- The event log: the source of truth. Append-only; every other table is a projection of it.
CREATE TABLE events (
    association_id TEXT NOT NULL REFERENCES associations (id),
    seq BIGINT NOT NULL,                       -- the association's order, from 1
    stream TEXT NOT NULL,                      -- 'association' or the meeting's UUID
    stream_index BIGINT NOT NULL,              -- position in the stream's log, from 0
    at TIMESTAMP NOT NULL,                     -- UTC
    kind TEXT NOT NULL,                        -- the event's tag, e.g. 'ballot_cast'
    body TEXT NOT NULL,                        -- the event as JSON
    PRIMARY KEY (association_id, seq),
    UNIQUE (association_id, stream, stream_index)
);

CREATE FUNCTION events_are_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the event log is append-only';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER events_are_append_only BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_are_append_only();

-- One row per association whose update serialises its appends: the writer that updates it holds the row lock until
-- it commits, so two commands never fork or reorder the log, even from two service instances.
CREATE TABLE log_head (
    association_id TEXT PRIMARY KEY NOT NULL REFERENCES associations (id),
    last_seq BIGINT NOT NULL
);
