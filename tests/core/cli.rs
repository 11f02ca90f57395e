//! The `stembus` command as a newcomer runs it.

use std::process::Command;

fn stembus(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_stembus"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap_or_else(|e| panic!("cannot run stembus: {e}"));
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn replay_prints_every_poll_with_the_rule_that_decided_it_and_the_minutes() {
    let (ok, stdout, stderr) = stembus(&["replay", "scenarios/alv-2022-12-07.toml"]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("decided by R7 (Art. 20.1): at least two thirds of votes cast"), "{stdout}");
    assert!(stdout.contains("refused, as expected: R2 (Art. 8.5)"), "{stdout}");
    assert!(stdout.contains("| Gemeente Westvoorne | Proxy to Johan Dijkstra (chair) |"), "{stdout}");
}

#[test]
fn replay_as_json_prints_one_event_per_line() {
    let (ok, stdout, stderr) = stembus(&["replay", "--json", "scenarios/alv-2022-12-07.toml"]);
    assert!(ok, "{stderr}");
    let events: Vec<serde_json::Value> =
        stdout.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect();
    assert!(events.iter().any(|e| e["event"] == "poll_closed" && e["result"]["outcome"] == "adopted"));
    assert!(events.iter().all(|e| e["at"].is_string()));
}

#[test]
fn an_invalid_profile_is_refused_with_the_reason() {
    let dir = std::env::temp_dir().join(format!("stembus-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let path = dir.join("profile.toml");
    let broken =
        stembus::core::RulesProfile::dimpact_2023_toml().replace("cap_per_holder = 2", "cap_per_holder = -1");
    std::fs::write(&path, broken).unwrap_or_else(|e| panic!("{e}"));
    let (ok, _, stderr) = stembus(&["profile", "--check", path.to_str().unwrap_or_default()]);
    assert!(!ok);
    assert!(stderr.contains("cap_per_holder"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_built_in_profile_prints_and_checks() {
    let (ok, stdout, _) = stembus(&["profile"]);
    assert!(ok);
    assert!(stdout.contains("notice_days = 10"));
}

#[test]
fn a_scenario_step_that_breaks_a_rule_stops_the_replay_with_the_rule() {
    let dir = std::env::temp_dir().join(format!("stembus-cli-s-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let path = dir.join("s.toml");
    std::fs::write(
        &path,
        r#"step = [
  { at = "2026-01-05T09:00:00+01:00", command = "register_member", member = "a", name = "Gemeente A", kind = "gemeente" },
  { command = "suspend_member", member = "a" },
  { command = "suspend_member", member = "a" },
]"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let (ok, _, stderr) = stembus(&["replay", path.to_str().unwrap_or_default()]);
    assert!(!ok);
    assert!(stderr.contains("step 3 was refused: R1 (Art. 6.9, 8.8)"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}
