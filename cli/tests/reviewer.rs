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
    // Every cell the rule widens, one line each, then the count.
    assert_eq!(err.lines().count(), 4, "{err}");
    assert!(err.lines().all(|l| l.starts_with("caseward: ")), "{err}");
    assert!(err.contains(
        "ice-beyond-floor.toml:10: rule \"ice-attendance\": grants reveal of obligation.reporting.attendance"
    ));
    assert!(err.ends_with("3 problem(s); the policy is not valid\n"), "{err}");

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
    let first = text(&verify).lines().next().unwrap().to_owned();
    let head = first.split("head ").nth(1).unwrap().trim().to_owned();
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
        vec!["report", "budget"],
        vec!["key", "list"],
        vec!["key", "add-recovery"],
        vec!["key", "remove-recovery"],
        vec!["key", "remove-keystore"],
        vec!["key", "recover"],
        vec!["key", "rotate"],
        vec!["completions"],
        vec!["man"],
    ] {
        let mut args = sub.clone();
        args.push("--help");
        let help = run(&args);
        assert_eq!(help.status.code(), Some(0), "{sub:?}");
        assert!(text(&help).contains("Example: caseward"), "{sub:?} --help has no example");
    }
    // A man page per subcommand, under the name `man` looks for, each with its example.
    let dir = tempfile::tempdir().unwrap();
    let pages = run(&["man", "--dir", dir.path().to_str().unwrap()]);
    assert_eq!(pages.status.code(), Some(0), "{}", text(&pages));
    for sub in [
        "demo",
        "init",
        "import",
        "ice-notice",
        "keygen",
        "provider",
        "policy-check",
        "policy-explain",
        "audit-verify",
        "audit-export",
        "report-build",
        "report-open",
        "report-merge",
        "key-list",
        "key-add-recovery",
        "key-remove-recovery",
        "key-remove-keystore",
        "key-recover",
        "key-rotate",
        "report-budget",
        "policy-install",
        "pseudonym-key",
        "lottery-commit",
        "lottery-draw",
        "lottery-verify",
        "lottery-files",
        "extract-build",
        "extract-open",
        "completions",
        "man",
    ] {
        let name = format!("caseward-{sub}");
        let page = std::fs::read_to_string(dir.path().join(format!("{name}.1")))
            .unwrap_or_else(|e| panic!("no man page {name}.1: {e}"));
        assert!(page.contains(&format!(".TH {name} 1")), "{name}.1 has no title");
        assert!(page.contains("Example: caseward"), "{name}.1 has no example");
    }
    assert!(dir.path().join("caseward.1").exists());
}

#[test]
fn audit_verify_says_which_check_ran_and_the_keyed_one_catches_a_cut_tail() {
    let dir = tempfile::tempdir().unwrap();
    let (vault, a_number) = vault_with_clients(dir.path());
    for _ in 0..3 {
        assert_eq!(run(&["ice-notice", &vault, &a_number]).status.code(), Some(0));
    }
    let keyless = run(&["audit", "verify", &vault]);
    assert_eq!(keyless.status.code(), Some(0));
    assert!(text(&keyless).contains("check: keyless"), "{}", text(&keyless));
    let keyed = run(&["audit", "verify", &vault, "--keyed", "--json"]);
    assert_eq!(keyed.status.code(), Some(0), "{}", String::from_utf8_lossy(&keyed.stderr));
    let status: serde_json::Value = serde_json::from_slice(&keyed.stdout).unwrap();
    assert_eq!((status["status"].as_str(), status["check"].as_str()), (Some("intact"), Some("keyed")));

    // Cut the newest entry, as someone with the file and no key can.
    rusqlite::Connection::open(&vault)
        .unwrap()
        .execute("DELETE FROM disclosure_log WHERE seq = (SELECT MAX(seq) FROM disclosure_log)", [])
        .unwrap();
    let keyless = run(&["audit", "verify", &vault]);
    assert_eq!(keyless.status.code(), Some(0), "without a key or a witness, a cut tail cannot be seen");
    assert!(text(&keyless).contains("a cut tail is caught only with --witness or --keyed"));
    let keyed = run(&["audit", "verify", &vault, "--keyed"]);
    assert_eq!(keyed.status.code(), Some(1), "{}{}", text(&keyed), String::from_utf8_lossy(&keyed.stderr));
    assert!(text(&keyed).contains("BROKEN") && text(&keyed).contains("check: keyed"), "{}", text(&keyed));
}

#[test]
fn policy_explain_for_one_audience_shows_the_code_ceiling_beside_each_cell() {
    let md = run(&["policy", "explain", "policies/default.toml", "--audience", "ice"]);
    assert_eq!(md.status.code(), Some(0), "{}", String::from_utf8_lossy(&md.stderr));
    let page = text(&md);
    assert!(page.starts_with("Audience `ice`"), "{page}");
    assert!(page.contains("| `health.mental` | deny | default deny | deny |"), "{page}");
    assert!(page.contains("| `obligation.address.of_record` | consent | ice-address-with-consent"), "{page}");
    assert!(!page.contains("| caseworker |"), "only the ice column and its rules: {page}");
    let json = run(&["policy", "explain", "policies/default.toml", "--audience", "partner:casa", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["audience"], "partner:casa");
    let note = v["rows"].as_array().unwrap().iter().find(|r| r["category"] == "note.case").unwrap();
    assert_eq!(note["ceiling"], "deny");
    assert_eq!(
        run(&["policy", "explain", "policies/default.toml", "--audience", "partner:ice"]).status.code(),
        Some(2)
    );
}

#[test]
fn policy_check_json_lists_every_problem_on_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("broken.toml");
    std::fs::write(
        &file,
        "format = 1\nkind = \"base\"\nname = \"b\"\n\
         [[rule]]\nid = \"a\"\naudience = \"ice\"\ntreatment = \"reveal\"\ncategories = [\"health.mental\"]\nwhy = \"x\"\n\
         [[rule]]\nid = \"b\"\naudience = \"partner:ice\"\ntreatment = \"consent\"\ncategories = [\"contact.phone\"]\nwhy = \"x\"\n",
    )
    .unwrap();
    let out = run(&["policy", "check", file.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["valid"], false);
    let problems = v["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems.iter().any(|p| p["rule"] == "a" && p["line"] == 8), "{problems:?}");
    assert!(problems.iter().any(|p| p["rule"] == "b" && p["message"].as_str().unwrap().contains("enforcement")));
}
