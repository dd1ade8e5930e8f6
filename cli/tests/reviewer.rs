//! What a security reviewer runs: `policy check`, `policy explain`, `audit verify`,
//! `audit export` and `ice-notice`, with their exit codes (0 ok, 1 a finding, 2 bad input).

#![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "a test fails loudly on purpose")]

use std::path::Path;
use std::process::{Command, Output};

use caseward::{Passphrase, Record, Vault};

const PASS: &str = "reviewer test passphrase";

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_caseward"))
        .args(args)
        .env("CASEWARD_PASSPHRASE", PASS)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn policy_check_and_explain() {
    let ok = run(&["policy", "check", "policies/default.toml", "--overlay", "policies/overlays/no-ice-address.toml"]);
    assert_eq!(ok.status.code(), Some(0));
    assert!(text(&ok).starts_with("ok: blake3:"));
    let bad = run(&["policy", "check", "tests/policies/bad/ice-beyond-floor.toml"]);
    assert_eq!(bad.status.code(), Some(2));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.contains("ice-beyond-floor.toml:10: rule \"ice-attendance\""), "{err}");

    let explain = run(&["policy", "explain", "policies/default.toml", "--json"]);
    assert_eq!(explain.status.code(), Some(0));
    let m: serde_json::Value = serde_json::from_slice(&explain.stdout).unwrap();
    let ice = m["columns"].as_array().unwrap().iter().position(|c| c == "ice").unwrap();
    let row = m["rows"].as_array().unwrap().iter().find(|r| r["category"] == "health.mental").unwrap();
    assert_eq!(row["cells"][ice]["treatment"], "deny");
    let row = m["rows"].as_array().unwrap().iter().find(|r| r["category"] == "obligation.address.of_record").unwrap();
    assert_eq!(row["cells"][ice]["treatment"], "consent");
    assert_eq!(row["cells"][ice]["provenance"]["id"], "ice-address-with-consent");
    let table = run(&["policy", "explain", "policies/default.toml"]);
    assert!(text(&table).contains("| `health.mental` |"));
}

fn vault_with_clients(dir: &Path) -> (String, String) {
    let path = dir.join("v.cwv");
    let options = caseward::VaultOptions { kdf: caseward::KdfParams::new(15).unwrap(), ..Default::default() };
    let vault = Vault::create_with_options(&path, &Passphrase::new(PASS), options).unwrap();
    let mut synth = caseward::synth::Synth::new(9);
    let mut intake = synth.intake();
    intake.records.retain(|r| !matches!(r, Record::Legal(_)));
    let a = intake.identity.a_number.as_str().to_owned();
    vault.enroll(&intake).unwrap();
    vault.close().unwrap();
    (path.to_str().unwrap().to_owned(), a)
}

#[test]
fn ice_notice_then_audit_verify_and_export() {
    let dir = tempfile::tempdir().unwrap();
    let (vault, a_number) = vault_with_clients(dir.path());
    let notice = run(&["ice-notice", &vault, &a_number]);
    assert_eq!(notice.status.code(), Some(0), "{}", String::from_utf8_lossy(&notice.stderr));
    let n: serde_json::Value = serde_json::from_slice(&notice.stdout).unwrap();
    assert_eq!(n["a_number"], a_number);
    assert_eq!(n["address"]["status"], "client_reports_directly");
    let keys: Vec<&String> = n.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["a_number", "address", "as_of", "name", "next_check_in", "next_court_date"]);

    let verify = run(&["audit", "verify", &vault]);
    assert_eq!(verify.status.code(), Some(0));
    let head = text(&verify).split("head ").nth(1).unwrap().trim().to_owned();
    let export = run(&["audit", "export", &vault]);
    let lines: Vec<serde_json::Value> = text(&export).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.last().unwrap()["audience"], "ice");

    rusqlite::Connection::open(&vault)
        .unwrap()
        .execute("UPDATE disclosure_log SET audience = 'funder' WHERE seq = ?1", [lines.len() as i64])
        .unwrap();
    let broken = run(&["audit", "verify", &vault, "--witness", &head, "--json"]);
    assert_eq!(broken.status.code(), Some(1));
    let status: serde_json::Value = serde_json::from_slice(&broken.stdout).unwrap();
    assert_eq!(status["status"], "broken");
    assert_eq!(run(&["audit", "verify", &vault, "--witness", "nonsense"]).status.code(), Some(2));
    assert_eq!(run(&["ice-notice", &vault, "A-000-000-000"]).status.code(), Some(2));
}

#[test]
fn completions_and_man_page_come_from_the_command_definitions() {
    let bash = run(&["completions", "bash"]);
    assert_eq!(bash.status.code(), Some(0));
    let script = text(&bash);
    assert!(script.contains("_caseward()") && script.contains("import") && script.contains("report"), "{script}");
    let man = run(&["man"]);
    assert_eq!(man.status.code(), Some(0));
    let page = text(&man);
    assert!(page.contains(".TH caseward 1") && page.contains("ice\\-notice"), "{page}");
    // Every subcommand's help carries an example.
    for sub in [
        vec!["demo"],
        vec!["init"],
        vec!["import"],
        vec!["ice-notice"],
        vec!["keygen"],
        vec!["provider"],
        vec!["policy", "check"],
        vec!["policy", "explain"],
        vec!["audit", "verify"],
        vec!["audit", "export"],
        vec!["report", "build"],
        vec!["report", "open"],
        vec!["report", "merge"],
        vec!["completions"],
        vec!["man"],
    ] {
        let mut args = sub.clone();
        args.push("--help");
        let help = run(&args);
        assert_eq!(help.status.code(), Some(0), "{sub:?}");
        assert!(text(&help).contains("Example: caseward"), "{sub:?} --help has no example");
    }
}
