-- The tree heads the service signed: one per stream (a meeting's log, or the association's own
-- stream) and size, written in the same transaction as the events that made that size.
CREATE TABLE tree_heads (
    association_id TEXT NOT NULL REFERENCES associations (id),
    stream TEXT NOT NULL,            -- 'association' or the meeting's UUID
    size BIGINT NOT NULL,
    root TEXT NOT NULL,              -- hex of the RFC 6962 root hash
    signed_at TIMESTAMP NOT NULL,    -- the head's timestamp (UTC, microseconds)
    signature TEXT NOT NULL,         -- hex of the service's Ed25519 signature
    PRIMARY KEY (association_id, stream, size)
);
