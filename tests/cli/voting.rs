//! keygen → sign-in → enrol → vote (advance, and in the open poll) → receipt check, and the
//! refusals a voter meets on the way.

use serde_json::Value;
use stembus::core::{KeyBytes, PollId};

use crate::support::*;

/// The key file `voter.key` made by `stembus keygen` in the voter's directory; its public key.
fn keygen(server: &Server) -> String {
    let run = server.stembus(&["keygen", "--out", "voter.key"], None).success();
    run.stdout.trim().to_owned()
}

/// The voter's key made, signed in and enrolled, at noon on the meeting day; returns the token.
fn enrolled(server: &Server) -> String {
    server.convened_meeting();
    server.at("2026-06-10T12:00:00+02:00");
    keygen(server);
    let token = server.token();
    server
        .stembus(
            &["enrol", "--server", &server.url, "--association", ASSOCIATION, "--key", "voter.key"],
            Some(&token),
        )
        .success();
    token
}

fn vote(server: &Server, token: &str, choice: &str, extra: &[&str]) -> Run {
    let mut args = vec![
        "vote",
        "--server",
        &server.url,
        "--association",
        ASSOCIATION,
        "--meeting",
        MEETING,
        "--item",
        ITEM,
        "--member",
        "m1",
        "--choice",
        choice,
        "--key",
        "voter.key",
    ];
    args.extend_from_slice(extra);
    server.stembus(&args, Some(token))
}

fn check(server: &Server, token: &str, receipt: &std::path::Path) -> Run {
    let file = receipt.display().to_string();
    server.stembus(&["receipt", "check", "--server", &server.url, &file], Some(token))
}

fn last_sequence(server: &Server) -> u64 {
    json(&server.path("voter.key"))["last_sequence"].as_u64().unwrap_or_else(|| panic!("no last_sequence"))
}

#[test]
fn keygen_writes_a_private_key_file_and_never_overwrites_it() {
    let server = Server::start();
    let public = keygen(&server);
    assert_eq!(public.len(), 64, "{public}");
    assert!(KeyBytes::from_hex(&public).is_some(), "{public}");
    let file = json(&server.path("voter.key"));
    assert_eq!(file["format"], "stembus-key");
    assert_eq!(file["version"], 1);
    assert_eq!(file["public_key"], public.as_str());
    assert_eq!(file["secret_key"].as_str().map(str::len), Some(64));
    assert_eq!(file["last_sequence"], 0);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(server.path("voter.key")).map(|m| m.permissions().mode()).unwrap_or(0);
        assert_eq!(mode & 0o777, 0o600);
    }
    let before = std::fs::read(server.path("voter.key")).unwrap_or_default();
    let again = server.stembus(&["keygen", "--out", "voter.key"], None).failure();
    assert!(again.stderr.contains("never overwritten"), "{}", again.stderr);
    assert_eq!(std::fs::read(server.path("voter.key")).unwrap_or_default(), before);
    // Two keys are never the same.
    let other = server.stembus(&["keygen", "--out", "other.key"], None).success();
    assert_ne!(other.stdout.trim(), public);
}

#[test]
fn a_voter_enrols_votes_in_advance_and_in_the_poll_and_checks_the_receipts() {
    let server = Server::start();
    server.convened_meeting();
    server.at("2026-06-10T12:00:00+02:00");
    let public = keygen(&server);

    // Signing in: the code from the e-mail, typed at the prompt; the token on standard output.
    let signed_in = server.sign_in(VOTER).success();
    assert!(signed_in.stderr.contains("Code: "), "{}", signed_in.stderr);
    assert!(signed_in.stderr.contains(&rep(1).to_string()), "{}", signed_in.stderr);
    let token = signed_in.stdout.trim().to_owned();
    assert!(!token.is_empty() && !token.contains(char::is_whitespace), "{token:?}");

    // Without a token, or before the key is enrolled, nothing is cast.
    let no_session = vote(&server, "", "for", &[]).failure();
    assert!(no_session.stderr.contains("not signed in"), "{}", no_session.stderr);
    let not_enrolled = vote(&server, &token, "for", &[]).failure();
    assert!(not_enrolled.stderr.contains("not enrolled"), "{}", not_enrolled.stderr);

    // Enrolment, signed by the key itself, with a verified receipt in the association's log.
    let enrol =
        ["enrol", "--server", server.url.as_str(), "--association", ASSOCIATION, "--key", "voter.key"];
    let enrolled = server.stembus(&enrol, Some(&token)).success();
    assert!(enrolled.stdout.contains(&format!("enrolled key {public}")), "{}", enrolled.stdout);
    assert!(
        enrolled.stdout.contains("of the association's log, included in the head of size"),
        "{}",
        enrolled.stdout
    );
    let current = server
        .service
        .read(coop(), |s| s.keys.current_of(rep(1)).map(|r| r.key.to_hex()))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(current.as_deref(), Some(public.as_str()));
    let enrolment_sequence = last_sequence(&server);
    assert!(
        enrolment_sequence > 1_700_000_000_000_000,
        "the sequence starts at the time: {enrolment_sequence}"
    );
    let again = server.stembus(&enrol, Some(&token)).success();
    assert!(again.stdout.contains("already the enrolled key"), "{}", again.stdout);

    // An advance ballot: the meeting is convened, so the statement binds no poll.
    let advance = vote(&server, &token, "for", &[]).success();
    assert!(
        advance.stdout.starts_with(&format!(
            "ballot cast for member {} on \"Contribution 2027\": for, as an advance ballot",
            member(1)
        )),
        "{}",
        advance.stdout
    );
    assert!(advance.stdout.contains("verified with the service key"), "{}", advance.stdout);
    let first = receipt_in(&server.home);
    let name = first.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    assert_eq!(name, format!("receipt-{}-{}.json", meeting(), first_index(&first)));
    assert!(advance.stdout.contains(&format!("receipt: ./{name}")), "{}", advance.stdout);
    let r1 = json(&first);
    assert_eq!(r1["format"], "stembus-ballot-receipt");
    assert_eq!(r1["association"], coop().to_string());
    assert_eq!(r1["meeting"], meeting().to_string());
    assert_eq!(r1["member"], member(1).to_string());
    assert_eq!(r1["person"], rep(1).to_string());
    assert_eq!(r1["poll"], Value::Null);
    assert_eq!(r1["via"], "advance");
    assert_eq!(r1["choice"], "for");
    assert_eq!(r1["signature"]["key"], public.as_str());
    let first_sequence = r1["signature"]["sequence"].as_u64().unwrap_or(0);
    assert!(first_sequence > enrolment_sequence);
    assert_eq!(last_sequence(&server), first_sequence, "the key file keeps the sequence used");
    let first_size = r1["tree_head"]["size"].as_u64().unwrap_or(0);
    assert_eq!(r1["leaf_index"].as_u64(), Some(first_size - 1));
    assert!(!r1["inclusion_proof"].as_array().is_none_or(Vec::is_empty));
    assert_eq!(r1["service_key"], stembus::keys::public_hex(&service_key(&server)));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&first).map(|m| m.permissions().mode()).unwrap_or(0);
        assert_eq!(mode & 0o777, 0o600);
    }

    // In session: the ballot binds the open poll, and its receipt goes where it is told.
    server.open_poll();
    let in_poll = vote(&server, &token, "against", &["--receipts", "poll-receipts"]).success();
    let poll = PollId::named(POLL).to_string();
    assert!(in_poll.stdout.contains(&format!(": against, in poll {poll}")), "{}", in_poll.stdout);
    let second = receipt_in(&server.path("poll-receipts"));
    let r2 = json(&second);
    assert_eq!(r2["poll"], poll.as_str());
    assert_eq!(r2["via"], "own");
    assert_eq!(r2["choice"], "against");
    let second_sequence = r2["signature"]["sequence"].as_u64().unwrap_or(0);
    assert!(second_sequence > first_sequence, "{second_sequence} after {first_sequence}");
    assert_eq!(last_sequence(&server), second_sequence);
    let recorded = server
        .service
        .read(coop(), |s| {
            s.meetings
                .get(&meeting())
                .and_then(|m| m.polls.get(&PollId::named(POLL)))
                .and_then(|p| p.ballots.get(&member(1)))
                .map(|b| (b.choice, b.signed.map(|s| s.sequence)))
        })
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(recorded, Some((stembus::core::Choice::Against, Some(second_sequence))));

    // A key file whose sequence went back (a copy on another device) still signs above the
    // service's last: the service's number counts too.
    let mut file = json(&server.path("voter.key"));
    file["last_sequence"] = Value::from(1);
    write_json(&server.path("voter.key"), &file);
    let renewed = vote(&server, &token, "abstain", &["--receipts", "third"]).success();
    assert!(renewed.stdout.contains(": abstain, in poll"), "{}", renewed.stdout);
    assert!(last_sequence(&server) > second_sequence);

    // The first receipt, checked against the log as it is now: grown, and consistent with it.
    let size = server.head_size();
    assert!(size > first_size);
    let checked = check(&server, &token, &first).success();
    assert!(
        checked
            .stdout
            .starts_with(&format!("included in the head of size {size} signed at 2026-06-10T17:05:00")),
        "{}",
        checked.stdout
    );
    assert!(
        checked.stdout.contains(&format!("extends the one in the receipt (size {first_size}")),
        "{}",
        checked.stdout
    );
    assert!(!checked.stdout.contains("closed"), "{}", checked.stdout);

    // Once the meeting is closed, the check is against its final head.
    server.close();
    let final_size = server.head_size();
    let checked = check(&server, &token, &second).success();
    assert!(
        checked
            .stdout
            .starts_with(&format!("included in the head of size {final_size} signed at 2026-06-10T17:30:00")),
        "{}",
        checked.stdout
    );
    assert!(checked.stdout.contains("the meeting is closed: this is its final head"), "{}", checked.stdout);

    // After the meeting there is nothing left to vote on.
    let closed = vote(&server, &token, "for", &[]).failure();
    assert!(closed.stderr.contains("is closed"), "{}", closed.stderr);
}

fn first_index(receipt: &std::path::Path) -> u64 {
    json(receipt)["leaf_index"].as_u64().unwrap_or_else(|| panic!("no leaf index"))
}

fn service_key(server: &Server) -> ed25519_dalek::VerifyingKey {
    let key = stembus::keys::load_or_create(&server.path("../service.key")).unwrap_or_else(|e| panic!("{e}"));
    key.verifying_key()
}

#[test]
fn a_tampered_receipt_fails_the_check_and_says_what_was_changed() {
    let server = Server::start();
    let token = enrolled(&server);
    vote(&server, &token, "for", &[]).success();
    let receipt = receipt_in(&server.home);
    let original = json(&receipt);
    check(&server, &token, &receipt).success();

    // A byte of the inclusion proof.
    let mut changed = original.clone();
    let hash = changed["inclusion_proof"][0].as_str().unwrap_or_default().to_owned();
    changed["inclusion_proof"][0] = Value::from(flip(&hash, 10));
    let proof_file = server.path("proof-changed.json");
    write_json(&proof_file, &changed);
    let failed = check(&server, &token, &proof_file).failure();
    assert!(failed.stdout.is_empty(), "{}", failed.stdout);
    assert!(
        failed.stderr.contains("the receipt does not hold together: the inclusion proof does not lead from the leaf hash of entry"),
        "{}",
        failed.stderr
    );
    assert!(
        failed.stderr.contains("a hash of the receipt's inclusion proof was changed"),
        "{}",
        failed.stderr
    );

    // A byte of the leaf hash.
    let mut changed = original.clone();
    let leaf = changed["leaf_hash"].as_str().unwrap_or_default().to_owned();
    changed["leaf_hash"] = Value::from(flip(&leaf, 0));
    let leaf_file = server.path("leaf-changed.json");
    write_json(&leaf_file, &changed);
    let failed = check(&server, &token, &leaf_file).failure();
    assert!(failed.stderr.contains("the receipt's leaf hash was changed"), "{}", failed.stderr);
    assert!(failed.stderr.contains(&format!("the receipt says {}", flip(&leaf, 0))), "{}", failed.stderr);

    // The root of the signed head: the service's signature no longer covers it.
    let mut changed = original.clone();
    let root = changed["tree_head"]["root"].as_str().unwrap_or_default().to_owned();
    changed["tree_head"]["root"] = Value::from(flip(&root, 5));
    let head_file = server.path("head-changed.json");
    write_json(&head_file, &changed);
    let failed = check(&server, &token, &head_file).failure();
    assert!(failed.stderr.contains("does not verify with the service key"), "{}", failed.stderr);

    // The choice: the signed ballot statement says otherwise.
    let mut changed = original.clone();
    changed["choice"] = Value::from("against");
    let choice_file = server.path("choice-changed.json");
    write_json(&choice_file, &changed);
    let failed = check(&server, &token, &choice_file).failure();
    assert!(failed.stderr.contains("does not say what the receipt says"), "{}", failed.stderr);
}

/// `stembus resolution-vote` casts a signed vote on a resolution outside a meeting (Art. 8.12)
/// for the member the voter represents and checks its receipt; a vote for a member the voter
/// does not represent, or on a concluded resolution, casts nothing.
#[test]
fn a_voter_votes_on_a_resolution_outside_a_meeting_and_checks_the_receipt_art_8_12() {
    let server = Server::start();
    let token = enrolled(&server);
    let resolution = stembus::core::ResolutionId::named("r1");
    server.execute(stembus::core::Command::ProposeResolution {
        resolution,
        text: "De contributie voor 2027 blijft gelijk.".into(),
        kind: stembus::core::DecisionKind::Ordinary,
        closes_at: t("2026-06-20T17:00:00+02:00"),
        board_informed: true,
        supervisory_board_informed: true,
    });
    let before = last_sequence(&server);
    let vote = |token: &str, member: &str, choice: &str| {
        server.stembus(
            &[
                "resolution-vote",
                "--server",
                &server.url,
                "--association",
                ASSOCIATION,
                "--resolution",
                "r1",
                "--member",
                member,
                "--choice",
                choice,
                "--key",
                "voter.key",
            ],
            Some(token),
        )
    };
    let cast = vote(&token, "m1", "against").success();
    assert!(
        cast.stdout.contains("vote cast for member")
            && cast.stdout.contains("De contributie voor 2027 blijft gelijk."),
        "{}",
        cast.stdout
    );
    assert!(
        cast.stdout.contains("of the association's log, included in the head of size"),
        "{}",
        cast.stdout
    );
    let after = last_sequence(&server);
    assert!(after > before, "the key file remembers the sequence used: {before} then {after}");
    let recorded = server
        .service
        .read(coop(), move |s| {
            s.resolutions.get(&resolution).and_then(|r| r.votes.get(&member(1)).map(|b| (b.choice, b.signed)))
        })
        .unwrap_or_else(|e| panic!("{e}"));
    let (choice, signed) = recorded.unwrap_or_else(|| panic!("no vote recorded for m1"));
    assert_eq!(choice, stembus::core::Choice::Against);
    assert_eq!(signed.map(|s| s.sequence), Some(after));

    // The receipt is stored beside the key file, and `receipt check` proves it against the
    // association's log as it stands.
    let stored = receipt_in(&server.path(""));
    let name = stored.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    assert!(name.starts_with("receipt-resolution-") && cast.stdout.contains(&name), "{}", cast.stdout);
    let receipt = json(&stored);
    assert_eq!(receipt["format"], "stembus-resolution-vote-receipt");
    assert_eq!(receipt["resolution"], resolution.to_string());
    assert_eq!(receipt["choice"], "against");
    let checked = check(&server, &token, &stored).success();
    assert!(checked.stdout.contains("included in the head of size"), "{}", checked.stdout);
    assert!(
        checked.stdout.contains(&format!("the vote on resolution {resolution} for member")),
        "{}",
        checked.stdout
    );
    // A receipt whose choice was changed no longer holds together.
    let mut changed = receipt.clone();
    changed["choice"] = serde_json::json!("for");
    let forged = server.path("forged.json");
    write_json(&forged, &changed);
    let refused = check(&server, &token, &forged).failure();
    assert!(refused.stderr.contains("does not say what the receipt says"), "{}", refused.stderr);
    std::fs::remove_file(&forged).unwrap_or_else(|e| panic!("{e}"));

    // The voter does not represent m2: the core refuses, naming the rule and article.
    let refused = vote(&token, "m2", "for").failure();
    assert!(
        refused.stderr.contains("does not represent") && refused.stderr.contains("Art."),
        "{}",
        refused.stderr
    );
    let m2 = server
        .service
        .read(coop(), move |s| {
            s.resolutions.get(&resolution).is_some_and(|r| r.votes.contains_key(&member(2)))
        })
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!m2, "a refused vote was recorded");

    // Once concluded, the command says so before signing anything.
    server.at("2026-06-21T09:00:00+02:00");
    server.execute(stembus::core::Command::ConcludeResolution { resolution });
    let sequence = last_sequence(&server);
    let token = server.token();
    let concluded = vote(&token, "m1", "for").failure();
    assert!(concluded.stderr.contains("is concluded"), "{}", concluded.stderr);
    assert_eq!(last_sequence(&server), sequence, "nothing was signed");
    // The log has grown since the receipt's head: the check proves the later head extends it.
    let later = check(&server, &token, &stored).success();
    assert!(later.stdout.contains("the head extends the one in the receipt"), "{}", later.stdout);
    let size_now = |text: &str| {
        text.split("included in the head of size ")
            .nth(1)
            .and_then(|t| t.split(' ').next())
            .map(str::to_owned)
    };
    assert_ne!(
        size_now(&later.stdout),
        size_now(&checked.stdout),
        "the association's log grew: {}",
        later.stdout
    );
}
