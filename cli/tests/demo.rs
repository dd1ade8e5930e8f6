//! The README's first command works and shows what it promises.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test fails loudly on purpose"
)]

use std::process::Command;

#[test]
fn demo_runs_and_shows_each_step() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_caseward"))
        .args(["demo", "--clients", "120", "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    for needle in [
        "enrolled 120 clients",
        "names found: 0 of 120   A-numbers found: 0 of 120",
        "refused: invalid a_number: it has 10 digits",
        "under KEK version 1",
        "-- caseworker: the whole record",
        "-- legal partner legal-aid-1: only what the consent names",
        "-- ICE: the reporting and address floor",
        "even with consent: address = \"client_reports_directly\"",
        "ICE notice for a client with protected relief (VAWA/T/U): denied",
        "-- side by side",
        "-- deadlines the move triggers",
        "opened as the board would: signature verified against the registry",
        "checked against the head the board received: intact",
        "file rebuilt and WAL truncated: true",
        "lookup of its A-number now -> None",
        "wrong passphrase -> wrong key",
        "recovery identity -> opened",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
    ice_section_holds_no_sensitive_value(&text);
    // The vault stays in --dir, and a second demo there refuses to overwrite it.
    assert!(dir.path().join("provider.cwv").exists());
    let again = Command::new(env!("CARGO_BIN_EXE_caseward")).args(["demo", "--dir"]).arg(dir.path()).output().unwrap();
    assert_eq!(again.status.code(), Some(2));
}

#[test]
fn init_takes_the_passphrase_from_a_file_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let pass = dir.path().join("pass");
    std::fs::write(&pass, "a long enough passphrase\n").unwrap();
    let vault = dir.path().join("v.cwv");
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_caseward"))
            .args(["init", "--kdf-log-n", "15", "--passphrase-file"])
            .arg(&pass)
            .arg(&vault)
            .output()
            .unwrap()
    };
    let first = run();
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let vault_api = caseward::Vault::open(&vault, &caseward::Passphrase::new("a long enough passphrase")).unwrap();
    assert_eq!(vault_api.envelopes().unwrap()[0].log_n, Some(15));
    vault_api.close().unwrap();
    let second = run();
    assert_eq!(second.status.code(), Some(2));
    let err = String::from_utf8(second.stderr).unwrap();
    assert!(err.starts_with("caseward: ") && err.contains("already exists"), "{err}");
}

/// Every value the caseworker section shows for a category outside the ICE floor (and not also
/// shown under a floor category) is absent from the ICE section.
fn ice_section_holds_no_sensitive_value(text: &str) {
    const FLOOR: [&str; 6] = [
        "identifier.alien_number",
        "identifier.name.dhs",
        "obligation.reporting.next",
        "obligation.court.next",
        "obligation.address.of_record",
        "obligation.address.filing",
    ];
    let section = |start: &str| -> String {
        let from = text.find(start).unwrap_or_else(|| panic!("no section {start}"));
        let rest = &text[from + start.len()..];
        rest[..rest.find("\n-- ").unwrap_or(rest.len())].to_owned()
    };
    let caseworker = section("-- caseworker");
    let ice = section("-- ICE:");
    let strings = |line: &str| -> Vec<String> {
        // JSON string values (not keys), five characters or more, not dates.
        let mut out = Vec::new();
        let mut rest = line;
        while let Some(start) = rest.find('"') {
            let after = &rest[start + 1..];
            let Some(end) = after.find('"') else { break };
            let value = &after[..end];
            let next = after[end + 1..].trim_start();
            if !next.starts_with(':')
                && value.chars().count() >= 5
                && !value.chars().all(|c| c.is_ascii_digit() || c == '-')
            {
                out.push(value.to_owned());
            }
            rest = &after[end + 1..];
        }
        out
    };
    let (mut floor_values, mut sensitive) = (std::collections::BTreeSet::new(), std::collections::BTreeSet::new());
    for line in caseworker.lines().filter_map(|l| l.trim().strip_prefix('[')) {
        let Some((category, value)) = line.split_once("] ") else { continue };
        let values = strings(value);
        if FLOOR.contains(&category) {
            floor_values.extend(values);
        } else {
            sensitive.extend(values);
        }
    }
    // A value the floor also carries (a given name inside the DHS name) is not a leak.
    let canaries: Vec<&String> =
        sensitive.iter().filter(|v| !floor_values.iter().any(|f: &String| f.contains(v.as_str()))).collect();
    assert!(canaries.len() > 10, "the caseworker section shows sensitive values: {canaries:?}");
    for c in canaries {
        assert!(!ice.contains(c.as_str()), "the ICE section shows {c:?}:\n{ice}");
    }
}
