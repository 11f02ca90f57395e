-- E-mail to members and persons (Art. 8.3): every notice an event causes, queued in the
-- transaction that logs the event, and every attempt to send it. Not events of the statutes,
-- so not in the log; the service updates a notice as its worker sends it, and only appends
-- attempts: together they prove when a convocation went out.
CREATE TABLE notices (
    id TEXT PRIMARY KEY NOT NULL,              -- UUID v5 of association, seq and position
    association_id TEXT NOT NULL REFERENCES associations (id),
    seq BIGINT NOT NULL,                       -- the logged event that caused it
    kind TEXT NOT NULL,                        -- convocation | proxy_granted | proxy_revoked | ballot_receipt | outcome | advance_voting_reminder | members_request
    recipient TEXT NOT NULL,                   -- the registered address it goes to
    language TEXT NOT NULL,                    -- nl | en
    member_id TEXT,                            -- the member it is for or about
    person_id TEXT,                            -- the person it is for or about
    meeting_id TEXT,
    notice TEXT NOT NULL,                      -- the notice as JSON, with its template's context
    created_at TIMESTAMP NOT NULL,             -- the moment of the command that caused it
    send_after TIMESTAMP,                      -- not before (a reminder); NULL: at once
    status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed', 'cancelled')),
    attempts INTEGER NOT NULL,                 -- attempts made so far
    next_attempt_at TIMESTAMP NOT NULL,        -- when the worker may take it; while it sends, the end of its lease
    last_error TEXT,                           -- why the last attempt failed, or why it was cancelled
    message_id TEXT,                           -- the Message-ID header, once an attempt was made
    sent_at TIMESTAMP,                         -- when the transport accepted it
    FOREIGN KEY (association_id, seq) REFERENCES events (association_id, seq)
);

-- The worker's question: what is pending and due, oldest first.
CREATE INDEX notices_due ON notices (next_attempt_at) WHERE status = 'pending';
-- The secretariat's: the notices of a meeting, of a kind.
CREATE INDEX notices_by_meeting ON notices (association_id, meeting_id, kind);
CREATE INDEX notices_by_association ON notices (association_id, seq);

CREATE FUNCTION notices_are_never_deleted() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'notices are never deleted';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER notices_are_never_deleted BEFORE DELETE ON notices
    FOR EACH ROW EXECUTE FUNCTION notices_are_never_deleted();

-- Every attempt to send a notice, as the transport answered it.
CREATE TABLE notice_attempts (
    notice_id TEXT NOT NULL REFERENCES notices (id),
    attempt INTEGER NOT NULL,                  -- 1, 2, ...
    at TIMESTAMP NOT NULL,
    result TEXT NOT NULL CHECK (result IN ('sent', 'temporary_failure', 'permanent_failure')),
    message_id TEXT,                           -- the Message-ID header sent
    error TEXT,                                -- the transport's reason, for a failure
    PRIMARY KEY (notice_id, attempt)
);

CREATE FUNCTION notice_attempts_are_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the attempts to send a notice are append-only';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER notice_attempts_are_append_only BEFORE UPDATE OR DELETE ON notice_attempts
    FOR EACH ROW EXECUTE FUNCTION notice_attempts_are_append_only();
