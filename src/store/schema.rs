//! The tables, as both migration folders create them. Written by hand to match
//! `migrations/*/`; the migration test checks that both backends agree with it.

diesel::table! {
    events (association_id, seq) {
        association_id -> Text,
        seq -> BigInt,
        stream -> Text,
        stream_index -> BigInt,
        at -> Timestamp,
        kind -> Text,
        body -> Text,
    }
}

diesel::table! {
    log_head (association_id) {
        association_id -> Text,
        last_seq -> BigInt,
    }
}

diesel::table! {
    members (association_id, id) {
        association_id -> Text,
        id -> Text,
        name -> Text,
        kind -> Text,
        email -> Nullable<Text>,
        language -> Text,
        suspended -> Bool,
    }
}

diesel::table! {
    persons (association_id, id) {
        association_id -> Text,
        id -> Text,
        name -> Text,
        email -> Nullable<Text>,
        profession -> Nullable<Text>,
    }
}

diesel::table! {
    representatives (association_id, person_id, member_id) {
        association_id -> Text,
        person_id -> Text,
        member_id -> Text,
        capacity -> Text,
    }
}

diesel::table! {
    meetings (association_id, id) {
        association_id -> Text,
        id -> Text,
        title -> Text,
        starts_at -> Timestamp,
        place -> Text,
        phase -> Text,
        follow_up_of -> Nullable<Text>,
        convened_at -> Nullable<Timestamp>,
        advance_voting_opens -> Nullable<Timestamp>,
        electronic_participation -> Nullable<Text>,
        opened_at -> Nullable<Timestamp>,
        closed_at -> Nullable<Timestamp>,
        chair_id -> Nullable<Text>,
    }
}

diesel::table! {
    agenda_items (association_id, meeting_id, id) {
        association_id -> Text,
        meeting_id -> Text,
        id -> Text,
        position -> Integer,
        title -> Text,
        motion -> Nullable<Text>,
        decision_kind -> Nullable<Text>,
        carried_from -> Nullable<Text>,
    }
}

diesel::table! {
    proxies (association_id, meeting_id, id) {
        association_id -> Text,
        meeting_id -> Text,
        id -> Text,
        grantor_id -> Text,
        holder_kind -> Text,
        holder_id -> Text,
        form -> Text,
        instructions -> Text,
        received_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    attendance (association_id, meeting_id, member_id, stretch) {
        association_id -> Text,
        meeting_id -> Text,
        member_id -> Text,
        stretch -> Integer,
        person_id -> Text,
        proxy_id -> Nullable<Text>,
        mode -> Text,
        arrived_at -> Timestamp,
        left_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    polls (association_id, meeting_id, id) {
        association_id -> Text,
        meeting_id -> Text,
        id -> Text,
        item_id -> Text,
        method -> Text,
        opened_at -> Timestamp,
        closed_at -> Nullable<Timestamp>,
        revote_of -> Nullable<Text>,
        voided_by -> Nullable<Text>,
        declared_outcome -> Nullable<Text>,
        declared_at -> Nullable<Timestamp>,
        challenged_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    ballots (association_id, meeting_id, item_id, ballot_box, member_id) {
        association_id -> Text,
        meeting_id -> Text,
        item_id -> Text,
        ballot_box -> Text,
        member_id -> Text,
        person_id -> Text,
        choice -> Text,
        via -> Text,
        proxy_id -> Nullable<Text>,
        cast_at -> Timestamp,
    }
}

diesel::table! {
    results (association_id, meeting_id, poll_id) {
        association_id -> Text,
        meeting_id -> Text,
        poll_id -> Text,
        item_id -> Text,
        outcome -> Text,
        votes_for -> BigInt,
        votes_against -> BigInt,
        abstentions -> BigInt,
        votes_cast -> BigInt,
        members_in_office -> BigInt,
        present_or_represented -> BigInt,
        quorum_needed -> BigInt,
        quorum_met -> Bool,
        majority_needed -> BigInt,
        decided_by_rule -> Text,
        decided_by_article -> Text,
        explanation -> Text,
        taken_at -> Timestamp,
        body -> Text,
    }
}

diesel::table! {
    members_requests (association_id, id) {
        association_id -> Text,
        id -> Text,
        requested_at -> Timestamp,
        members -> Text,
        subjects -> Text,
        board_deadline -> Text,
    }
}

diesel::table! {
    resolutions (association_id, id) {
        association_id -> Text,
        id -> Text,
        text -> Text,
        decision_kind -> Text,
        proposed_at -> Timestamp,
        closes_at -> Timestamp,
        outcome -> Nullable<Text>,
        explanation -> Nullable<Text>,
    }
}

diesel::table! {
    resolution_votes (association_id, resolution_id, member_id) {
        association_id -> Text,
        resolution_id -> Text,
        member_id -> Text,
        person_id -> Text,
        choice -> Text,
        cast_at -> Timestamp,
    }
}

diesel::table! {
    supervisory_board (association_id, role) {
        association_id -> Text,
        role -> Text,
        person_id -> Text,
    }
}

diesel::table! {
    associations (id) {
        id -> Text,
        name -> Text,
        profile -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    role_grants (association_id, person_id, role) {
        association_id -> Text,
        person_id -> Text,
        role -> Text,
        granted_at -> Timestamp,
    }
}

diesel::table! {
    sign_in_codes (code_hash) {
        code_hash -> Text,
        association_id -> Text,
        person_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    sessions (token_hash) {
        token_hash -> Text,
        association_id -> Text,
        person_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        ended_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    tree_heads (association_id, stream, size) {
        association_id -> Text,
        stream -> Text,
        size -> BigInt,
        root -> Text,
        signed_at -> Timestamp,
        signature -> Text,
    }
}

diesel::table! {
    notices (id) {
        id -> Text,
        association_id -> Text,
        seq -> BigInt,
        kind -> Text,
        recipient -> Text,
        language -> Text,
        member_id -> Nullable<Text>,
        person_id -> Nullable<Text>,
        meeting_id -> Nullable<Text>,
        notice -> Text,
        created_at -> Timestamp,
        send_after -> Nullable<Timestamp>,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        last_error -> Nullable<Text>,
        message_id -> Nullable<Text>,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    notice_attempts (notice_id, attempt) {
        notice_id -> Text,
        attempt -> Integer,
        at -> Timestamp,
        result -> Text,
        message_id -> Nullable<Text>,
        error -> Nullable<Text>,
    }
}

diesel::joinable!(notice_attempts -> notices (notice_id));

diesel::allow_tables_to_appear_in_same_query!(
    tree_heads,
    associations,
    role_grants,
    sign_in_codes,
    sessions,
    events,
    log_head,
    members,
    persons,
    representatives,
    meetings,
    agenda_items,
    proxies,
    attendance,
    polls,
    ballots,
    results,
    members_requests,
    resolutions,
    resolution_votes,
    supervisory_board,
    notices,
    notice_attempts,
);
