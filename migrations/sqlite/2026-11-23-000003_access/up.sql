-- Access: who may act, beyond what the register says. Not events of the statutes, so not in
-- the log; secrets are kept only as their SHA-256.

-- The secretariat and the auditors of an association (the chair and the voters follow from
-- the register and the meeting).
CREATE TABLE role_grants (
    association_id TEXT NOT NULL REFERENCES associations (id),
    person_id TEXT NOT NULL,
    role TEXT NOT NULL,              -- secretariat | auditor
    granted_at TIMESTAMP NOT NULL,
    PRIMARY KEY (association_id, person_id, role)
);

-- One-time sign-in codes, sent by e-mail to the person's registered address.
CREATE TABLE sign_in_codes (
    code_hash TEXT PRIMARY KEY NOT NULL,
    association_id TEXT NOT NULL REFERENCES associations (id),
    person_id TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);

-- Sessions, by the SHA-256 of their bearer token.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY NOT NULL,
    association_id TEXT NOT NULL REFERENCES associations (id),
    person_id TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    ended_at TIMESTAMP
);
