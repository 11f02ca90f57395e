//! The auditor's command line on a real export: `stembus audit verify` (a file or standard
//! input, the text and the JSON report, a pinned service key, a tampered copy, a missing file)
//! and `stembus audit export` from the service's own SQLite database and key file.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command as Process, Stdio};

use stembus::clock::Clock;
use stembus::core::{AgendaItemId, Choice, Command, Outcome, PollId};
use stembus::ledger::export::Line;

use crate::support::*;

/// The meeting of 10 June 2026 held: both members vote for the motion with ballots signed by
/// their (scenario) keys, the chair closes the poll, signs the declaration and closes the
/// meeting at 19:30.
fn held_meeting(server: &Server) {
    server.convened_meeting();
    server.open_poll();
    server.at("2026-06-10T19:10:00+02:00");
    let signed = |command: Command| {
        let shown = format!("{command:?}");
        server
            .service
            .execute_scenario(coop(), command, server.clock.now())
            .unwrap_or_else(|e| panic!("refused: {e}\ncommand: {shown}"));
    };
    for i in 1..=2 {
        signed(Command::CastBallot {
            meeting: meeting(),
            item: AgendaItemId::named(ITEM),
            member: member(i),
            person: rep(i),
            choice: Choice::For,
            signed: None,
        });
    }
    server.at("2026-06-10T19:20:00+02:00");
    server.execute(Command::ClosePoll {
        meeting: meeting(),
        poll: PollId::named(POLL),
        by: chair(),
        counts: None,
    });
    signed(Command::DeclareResult {
        meeting: meeting(),
        poll: PollId::named(POLL),
        by: chair(),
        outcome: Outcome::Adopted,
        signed: None,
    });
    server.at("2026-06-10T19:30:00+02:00");
    server.execute(Command::CloseMeeting { meeting: meeting(), by: chair() });
}

/// The meeting's export as the service writes it, in the voter's directory as `export.jsonl`.
fn exported(server: &Server) -> PathBuf {
    let mut out = Vec::new();
    server.service.export(coop(), meeting(), server.clock.now(), &mut out).unwrap_or_else(|e| panic!("{e}"));
    let path = server.path("export.jsonl");
    std::fs::write(&path, out).unwrap_or_else(|e| panic!("{e}"));
    path
}

/// Runs `stembus ARGS` in the voter's directory with `env` set (and the service's settings
/// otherwise unset), writing `stdin` to its standard input.
fn run(server: &Server, args: &[&str], env: &[(&str, &Path)], stdin: Option<&[u8]>) -> Run {
    let mut process = Process::new(env!("CARGO_BIN_EXE_stembus"));
    process.args(args).current_dir(&server.home);
    for name in ["DATABASE_URL", "STEMBUS_KEY_FILE", "STEMBUS_TOKEN"] {
        process.env_remove(name);
    }
    for (name, value) in env {
        process.env(name, value);
    }
    process.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
    let mut child = process
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run stembus: {e}"));
    if let (Some(bytes), Some(mut input)) = (stdin, child.stdin.take()) {
        input.write_all(bytes).unwrap_or_else(|e| panic!("{e}"));
    }
    Run::from(child.wait_with_output().unwrap_or_else(|e| panic!("{e}")))
}

fn verify(server: &Server, args: &[&str]) -> Run {
    let mut all = vec!["audit", "verify"];
    all.extend_from_slice(args);
    run(server, &all, &[], None)
}

fn service_key(server: &Server) -> String {
    server.service.public_key().to_hex()
}

const POLL_LINE: &str = "counted: 2 for, 0 against, 0 abstain: adopted; declared adopted; agrees";

#[test]
fn audit_verify_prints_the_report_of_a_real_export_and_exits_0() {
    let server = Server::start();
    held_meeting(&server);
    let file = exported(&server);
    let file = file.to_str().unwrap_or_default();

    let text = verify(&server, &[file]).success();
    assert!(text.stdout.contains(&format!("Stembus audit of meeting {}", meeting())), "{}", text.stdout);
    assert!(
        text.stdout.contains(&format!(
            "Service key: {} (taken from the export: compare it with the published key)",
            service_key(&server)
        )),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains(&format!(
            "ALV juni 2026 — Contribution 2027 (electronic, poll {})",
            PollId::named(POLL)
        )),
        "{}",
        text.stdout
    );
    assert!(text.stdout.contains(POLL_LINE), "{}", text.stdout);
    assert!(text.stdout.contains("\nVERIFIED: "), "{}", text.stdout);
    assert!(text.stderr.is_empty(), "{}", text.stderr);

    let strict = verify(&server, &["--strict", file]).success();
    assert!(strict.stdout.contains("\nVERIFIED: "), "{}", strict.stdout);

    let json = verify(&server, &[file, "--json"]).success();
    let report: serde_json::Value =
        serde_json::from_str(&json.stdout).unwrap_or_else(|e| panic!("{e}: {}", json.stdout));
    assert_eq!(report["verified"], true, "{report}");
    assert_eq!(report["failure"], serde_json::Value::Null);
    assert_eq!(report["service_key"], service_key(&server).as_str());
    assert_eq!(report["service_key_pinned"], false);
    assert_eq!(report["polls"].as_array().map(Vec::len), Some(1), "{report}");
    assert_eq!(report["polls"][0]["counted"]["for"], 2);
    assert_eq!(report["polls"][0]["counted"]["outcome"], "adopted");
    assert_eq!(report["polls"][0]["declared"], "adopted");
    assert_eq!(report["polls"][0]["agrees"], true);
    assert!(report["signatures"].as_u64().is_some_and(|n| n >= 3), "two ballots and a declaration: {report}");

    // From standard input.
    let bytes = std::fs::read(file).unwrap_or_else(|e| panic!("{e}"));
    let piped = run(&server, &["audit", "verify", "-"], &[], Some(&bytes)).success();
    assert!(piped.stdout.contains(POLL_LINE) && piped.stdout.contains("\nVERIFIED: "), "{}", piped.stdout);
    let piped_json = run(&server, &["audit", "verify", "--json", "-"], &[], Some(&bytes)).success();
    assert!(piped_json.stdout.contains("\"verified\": true"), "{}", piped_json.stdout);
}

#[test]
fn audit_verify_with_the_service_key_accepts_the_services_and_refuses_another() {
    let server = Server::start();
    held_meeting(&server);
    let file = exported(&server);
    let file = file.to_str().unwrap_or_default();
    let key = service_key(&server);

    let pinned = verify(&server, &[file, "--service-key", &key]).success();
    assert!(pinned.stdout.contains(&format!("Service key: {key} (as given)")), "{}", pinned.stdout);
    assert!(pinned.stdout.contains("\nVERIFIED: "), "{}", pinned.stdout);
    verify(&server, &[file, "--service-key", &key.to_uppercase()]).success();

    let other = stembus::ledger::author::key_bytes(&stembus::ledger::author::scenario_key(rep(1))).to_hex();
    let refused = verify(&server, &[file, "--service-key", &other]).failure();
    assert!(
        refused.stderr.starts_with(&format!(
            "stembus: the export does not verify: line 1: the export's service key {key} is not the service key you gave ({other})"
        )),
        "{}",
        refused.stderr
    );
    assert!(refused.stdout.contains("FAILED at line 1: "), "{}", refused.stdout);
    assert!(!refused.stdout.contains("VERIFIED"), "{}", refused.stdout);
    let json = verify(&server, &[file, "--json", "--service-key", &other]).failure();
    let report: serde_json::Value =
        serde_json::from_str(&json.stdout).unwrap_or_else(|e| panic!("{e}: {}", json.stdout));
    assert_eq!(report["verified"], false);
    assert_eq!(
        (report["failure"]["line"].as_u64(), report["failure"]["check"].as_str()),
        (Some(1), Some("header"))
    );
}

#[test]
fn audit_verify_names_the_line_and_the_reason_of_a_tampered_entry_and_of_a_cut_off_export() {
    let server = Server::start();
    held_meeting(&server);
    let file = exported(&server);
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{e}"));

    // One byte of the body of the first ballot: a digit of the moment it was cast.
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let n = lines
        .iter()
        .position(|l| l.starts_with("{\"type\":\"entry\"") && l.contains("ballot_cast"))
        .unwrap_or_else(|| panic!("no ballot in {text}"));
    let Ok(Line::Entry(entry)) = serde_json::from_str::<Line>(&lines[n]) else {
        panic!("not an entry: {}", lines[n])
    };
    let at = lines[n].find("T17:10:00").unwrap_or_else(|| panic!("no moment in {}", lines[n])) + 7;
    assert!(lines[n][..at].contains("\"body\":"), "the moment inside the body: {}", lines[n]);
    lines[n].replace_range(at..=at, "1");
    let tampered = server.path("tampered.jsonl");
    std::fs::write(&tampered, lines.join("\n") + "\n").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(std::fs::metadata(&tampered).map(|m| m.len()).ok(), Some(text.len() as u64));

    let refused = verify(&server, &[tampered.to_str().unwrap_or_default()]).failure();
    let line = n + 1;
    assert!(
        refused.stderr.starts_with(&format!(
            "stembus: the export does not verify: line {line}: the leaf hash {} is not the hash of the entry's bytes",
            entry.leaf_hash
        )),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stdout.contains(&format!(
            "FAILED at line {line}, entry seq {} (ballot_cast #{} in stream {})",
            entry.seq,
            entry.index,
            meeting()
        )),
        "{}",
        refused.stdout
    );

    // Without its end line the export is cut off.
    let cut = server.path("cut.jsonl");
    let whole: Vec<&str> = text.lines().collect();
    std::fs::write(&cut, whole[..whole.len() - 1].join("\n") + "\n").unwrap_or_else(|e| panic!("{e}"));
    let refused = verify(&server, &[cut.to_str().unwrap_or_default()]).failure();
    assert!(
        refused.stderr.starts_with(&format!(
            "stembus: the export does not verify: line {}: the export ends after line {} without its end line: it is cut off",
            whole.len(),
            whole.len() - 1
        )),
        "{}",
        refused.stderr
    );
}

#[test]
fn audit_verify_of_a_missing_file_or_no_export_exits_1_with_a_clear_message() {
    let server = Server::start();
    let missing = server.path("missing.jsonl");
    let refused = verify(&server, &[missing.to_str().unwrap_or_default()]).failure();
    assert!(
        refused.stderr.starts_with(&format!("stembus: cannot read {}: ", missing.display())),
        "{}",
        refused.stderr
    );
    assert!(refused.stderr.contains("No such file"), "{}", refused.stderr);
    assert!(refused.stdout.is_empty(), "{}", refused.stdout);

    let empty = run(&server, &["audit", "verify", "-"], &[], Some(b"")).failure();
    assert!(
        empty
            .stderr
            .starts_with("stembus: the export does not verify: line 1: the export is empty: no header"),
        "{}",
        empty.stderr
    );
    let not_json = run(&server, &["audit", "verify", "-"], &[], Some(b"hello\n")).failure();
    assert!(
        not_json
            .stderr
            .starts_with("stembus: the export does not verify: line 1: line 1 is not a line of an export"),
        "{}",
        not_json.stderr
    );
}

#[test]
fn audit_export_writes_from_the_services_database_an_export_that_verifies() {
    let server = Server::start();
    held_meeting(&server);
    let (database, key_file) = (server.database(), server.key_file());
    let env = [("DATABASE_URL", database.as_path()), ("STEMBUS_KEY_FILE", key_file.as_path())];
    let key = service_key(&server);

    // By readable key and by id, to a file while the service runs.
    let out = server.path("from-the-database.jsonl");
    let out_arg = out.to_str().unwrap_or_default().to_owned();
    let written = run(
        &server,
        &["audit", "export", "--association", ASSOCIATION, "--meeting", MEETING, "--out", &out_arg],
        &env,
        None,
    )
    .success();
    let text = std::fs::read_to_string(&out).unwrap_or_else(|e| panic!("{e}"));
    let entries = text.lines().filter(|l| l.starts_with("{\"type\":\"entry\"")).count();
    assert!(entries > 10, "{text}");
    assert_eq!(written.stderr.trim(), format!("exported {entries} entries"));
    assert!(written.stdout.is_empty(), "{}", written.stdout);

    let verified = verify(&server, &[&out_arg, "--service-key", &key]).success();
    assert!(
        verified.stdout.contains(POLL_LINE) && verified.stdout.contains("\nVERIFIED: "),
        "{}",
        verified.stdout
    );

    // The same log as the service exports itself; only the moment of export differs.
    let own = std::fs::read_to_string(exported(&server)).unwrap_or_else(|e| panic!("{e}"));
    let after_header = |t: &str| t.lines().skip(1).map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(after_header(&text), after_header(&own));
    let Some(Ok(Line::Header(header))) = text.lines().next().map(serde_json::from_str::<Line>) else {
        panic!("no header in {text}")
    };
    assert_eq!(
        (header.association, header.meeting, header.service_key.as_str()),
        (coop(), meeting(), key.as_str())
    );

    // To standard output, naming the association and the meeting by id.
    let (association_id, meeting_id) = (coop().to_string(), meeting().to_string());
    let printed = run(
        &server,
        &["audit", "export", "--association", &association_id, "--meeting", &meeting_id],
        &env,
        None,
    )
    .success();
    assert_eq!(after_header(&printed.stdout), after_header(&own));
    let piped =
        run(&server, &["audit", "verify", "-", "--service-key", &key], &[], Some(printed.stdout.as_bytes()))
            .success();
    assert!(piped.stdout.contains("\nVERIFIED: "), "{}", piped.stdout);

    // A meeting the association does not hold.
    let unknown = run(
        &server,
        &[
            "audit",
            "export",
            "--association",
            ASSOCIATION,
            "--meeting",
            "no-such-meeting",
            "--out",
            "none.jsonl",
        ],
        &env,
        None,
    )
    .failure();
    assert!(unknown.stderr.contains("there is no meeting"), "{}", unknown.stderr);
    assert!(!server.path("none.jsonl").exists(), "no cut-off export is left behind");
}

#[test]
fn audit_export_refuses_without_the_services_own_database_and_key_and_makes_neither() {
    let server = Server::start();
    held_meeting(&server);
    let (database, key_file) = (server.database(), server.key_file());
    let export = |env: &[(&str, &Path)]| {
        run(
            &server,
            &["audit", "export", "--association", ASSOCIATION, "--meeting", MEETING, "--out", "out.jsonl"],
            env,
            None,
        )
        .failure()
    };

    // No database there: none is made.
    let nowhere = server.path("nowhere.sqlite");
    let refused = export(&[("DATABASE_URL", nowhere.as_path()), ("STEMBUS_KEY_FILE", key_file.as_path())]);
    assert!(
        refused.stderr.starts_with(&format!("stembus: there is no database {}", nowhere.display())),
        "{}",
        refused.stderr
    );
    assert!(!nowhere.exists());

    // No key file there: no new key is made, which would sign a header the log's heads contradict.
    let missing = server.path("missing.key");
    let refused = export(&[("DATABASE_URL", database.as_path()), ("STEMBUS_KEY_FILE", missing.as_path())]);
    assert!(
        refused.stderr.starts_with(&format!("stembus: there is no service key file {}", missing.display())),
        "{}",
        refused.stderr
    );
    assert!(!missing.exists(), "no key file is made");

    // Another key than the one that signed the log.
    let other = server.path("other.key");
    std::fs::write(&other, [7u8; 32]).unwrap_or_else(|e| panic!("{e}"));
    let refused = export(&[("DATABASE_URL", database.as_path()), ("STEMBUS_KEY_FILE", other.as_path())]);
    assert!(
        refused.stderr.starts_with(&format!(
            "stembus: the key in {} did not sign this database's log: it is not the service's key file",
            other.display()
        )),
        "{}",
        refused.stderr
    );
    assert!(!server.path("out.jsonl").exists(), "nothing is written");
}
