-- Projections of the event log, written in the same transaction as the events they reflect.
-- Ids are UUID text; times UTC timestamps; enums fixed text codes that are never reused.

CREATE TABLE members (
    association_id TEXT NOT NULL REFERENCES associations (id),
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,              -- gemeente | waterschap | provincie | staat | other_public_body
    email TEXT,
    language TEXT NOT NULL,          -- nl | en
    suspended BOOLEAN NOT NULL,
    PRIMARY KEY (association_id, id)
);

CREATE TABLE persons (
    association_id TEXT NOT NULL REFERENCES associations (id),
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    email TEXT,
    profession TEXT,                 -- notary | lawyer
    PRIMARY KEY (association_id, id)
);

CREATE TABLE representatives (
    association_id TEXT NOT NULL REFERENCES associations (id),
    person_id TEXT NOT NULL,
    member_id TEXT NOT NULL,
    capacity TEXT NOT NULL,          -- portfolio_holder | official
    PRIMARY KEY (association_id, person_id, member_id)
);

CREATE TABLE meetings (
    association_id TEXT NOT NULL REFERENCES associations (id),
    id TEXT NOT NULL,
    title TEXT NOT NULL,
    starts_at TIMESTAMP NOT NULL,
    place TEXT NOT NULL,
    phase TEXT NOT NULL,             -- draft | convened | open | closed
    follow_up_of TEXT,
    convened_at TIMESTAMP,
    advance_voting_opens TIMESTAMP,
    electronic_participation TEXT,
    opened_at TIMESTAMP,
    closed_at TIMESTAMP,
    chair_id TEXT,
    PRIMARY KEY (association_id, id)
);

CREATE TABLE agenda_items (
    association_id TEXT NOT NULL REFERENCES associations (id),
    meeting_id TEXT NOT NULL,
    id TEXT NOT NULL,
    position INTEGER NOT NULL,
    title TEXT NOT NULL,
    motion TEXT,
    decision_kind TEXT,              -- ordinary | two_thirds | statute_amendment | dissolution | regulations | entrenched
    carried_from TEXT,
    PRIMARY KEY (association_id, meeting_id, id)
);

CREATE TABLE proxies (
    association_id TEXT NOT NULL REFERENCES associations (id),
    meeting_id TEXT NOT NULL,
    id TEXT NOT NULL,
    grantor_id TEXT NOT NULL,
    holder_kind TEXT NOT NULL,       -- member | connected_person | supervisory_board_chair | notary | lawyer
    holder_id TEXT NOT NULL,
    form TEXT NOT NULL,              -- paper | electronic
    instructions TEXT NOT NULL,      -- JSON: item id -> for | against | abstain | free
    received_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP,
    PRIMARY KEY (association_id, meeting_id, id)
);

CREATE TABLE attendance (
    association_id TEXT NOT NULL REFERENCES associations (id),
    meeting_id TEXT NOT NULL,
    member_id TEXT NOT NULL,
    stretch INTEGER NOT NULL,        -- 0, 1, ... for each check-in of the member
    person_id TEXT NOT NULL,
    proxy_id TEXT,                   -- set when the person attends by proxy
    mode TEXT NOT NULL,              -- in_person | electronic
    arrived_at TIMESTAMP NOT NULL,
    left_at TIMESTAMP,
    PRIMARY KEY (association_id, meeting_id, member_id, stretch)
);

CREATE TABLE polls (
    association_id TEXT NOT NULL REFERENCES associations (id),
    meeting_id TEXT NOT NULL,
    id TEXT NOT NULL,
    item_id TEXT NOT NULL,
    method TEXT NOT NULL,            -- electronic | voice | written
    opened_at TIMESTAMP NOT NULL,
    closed_at TIMESTAMP,
    revote_of TEXT,
    voided_by TEXT,
    declared_outcome TEXT,           -- adopted | rejected | no_quorum
    declared_at TIMESTAMP,
    challenged_at TIMESTAMP,
    PRIMARY KEY (association_id, meeting_id, id)
);

-- The ballot that stands for each member: per poll, or in the advance ballot box of an item.
CREATE TABLE ballots (
    association_id TEXT NOT NULL REFERENCES associations (id),
    meeting_id TEXT NOT NULL,
    item_id TEXT NOT NULL,
    ballot_box TEXT NOT NULL,        -- the poll's id, or 'advance'
    member_id TEXT NOT NULL,
    person_id TEXT NOT NULL,
    choice TEXT NOT NULL,            -- for | against | abstain
    via TEXT NOT NULL,               -- own | proxy | advance
    proxy_id TEXT,
    cast_at TIMESTAMP NOT NULL,
    PRIMARY KEY (association_id, meeting_id, item_id, ballot_box, member_id)
);

CREATE TABLE results (
    association_id TEXT NOT NULL REFERENCES associations (id),
    meeting_id TEXT NOT NULL,
    poll_id TEXT NOT NULL,
    item_id TEXT NOT NULL,
    outcome TEXT NOT NULL,           -- adopted | rejected | no_quorum
    votes_for BIGINT NOT NULL,
    votes_against BIGINT NOT NULL,
    abstentions BIGINT NOT NULL,
    votes_cast BIGINT NOT NULL,
    members_in_office BIGINT NOT NULL,
    present_or_represented BIGINT NOT NULL,
    quorum_needed BIGINT NOT NULL,
    quorum_met BOOLEAN NOT NULL,
    majority_needed BIGINT NOT NULL,
    decided_by_rule TEXT NOT NULL,
    decided_by_article TEXT NOT NULL,
    explanation TEXT NOT NULL,
    taken_at TIMESTAMP NOT NULL,
    body TEXT NOT NULL,              -- the whole result as JSON
    PRIMARY KEY (association_id, meeting_id, poll_id)
);

CREATE TABLE members_requests (
    association_id TEXT NOT NULL REFERENCES associations (id),
    id TEXT NOT NULL,
    requested_at TIMESTAMP NOT NULL,
    members TEXT NOT NULL,           -- JSON array of member ids
    subjects TEXT NOT NULL,          -- JSON array
    board_deadline TEXT NOT NULL,    -- YYYY-MM-DD, Europe/Amsterdam
    PRIMARY KEY (association_id, id)
);

CREATE TABLE resolutions (
    association_id TEXT NOT NULL REFERENCES associations (id),
    id TEXT NOT NULL,
    text TEXT NOT NULL,
    decision_kind TEXT NOT NULL,
    proposed_at TIMESTAMP NOT NULL,
    closes_at TIMESTAMP NOT NULL,
    outcome TEXT,
    explanation TEXT,
    PRIMARY KEY (association_id, id)
);

CREATE TABLE resolution_votes (
    association_id TEXT NOT NULL REFERENCES associations (id),
    resolution_id TEXT NOT NULL,
    member_id TEXT NOT NULL,
    person_id TEXT NOT NULL,
    choice TEXT NOT NULL,
    cast_at TIMESTAMP NOT NULL,
    PRIMARY KEY (association_id, resolution_id, member_id)
);

-- Who chairs the supervisory board, and the deputy.
CREATE TABLE supervisory_board (
    association_id TEXT NOT NULL REFERENCES associations (id),
    role TEXT NOT NULL,              -- chair | deputy
    person_id TEXT NOT NULL,
    PRIMARY KEY (association_id, role)
);
