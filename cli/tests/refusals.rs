//! Every way `report open` and `report merge` refuse bundles exits 1 with a one-line reason; a
//! merge takes one bundle per provider and period unless told to replace the older; a report
//! for a month that has not ended is not built; and the lines `caseward provider` prints make a
//! registry file as they stand.

#![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "a test fails loudly on purpose")]

use std::path::Path;

mod common;
use common::{assert_refused, board_identity, build, craft_bundle, decrypt, err, out, provider, public_key, run};

/// A board key, two providers, a registry of both, and their September bundles.
fn board(d: &Path) -> (String, String, String) {
    let keygen = run(d, &["keygen", "-o", "board.key"]);
    let recipient = out(&keygen).trim().to_owned();
    let ny = provider(d, "ny.cwv", "irc-new-york", 5, 300);
    let hou = provider(d, "hou.cwv", "bakerripley-houston", 6, 200);
    std::fs::write(d.join("registry.toml"), format!("[providers]\n{ny}\n{hou}\n")).unwrap();
    build(d, "ny.cwv", "2026-09", &recipient, "ny.age");
    build(d, "hou.cwv", "2026-09", &recipient, "hou.age");
    (recipient, ny, hou)
}

#[test]
fn every_refused_bundle_exits_1_with_a_one_line_reason() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (recipient, ny, hou) = board(d);
    std::fs::write(d.join("only-ny.toml"), format!("[providers]\n{ny}\n")).unwrap();
    // The registry holds Houston's key under New York's id.
    let hou_key = hou.split_once(" = ").unwrap().1;
    std::fs::write(d.join("swapped.toml"), format!("irc-new-york = {hou_key}\n{hou}\n")).unwrap();
    assert_eq!(run(d, &["keygen", "-o", "stranger.key"]).status.code(), Some(0));

    let mut bytes = std::fs::read(d.join("ny.age")).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x40;
    std::fs::write(d.join("flipped.age"), &bytes).unwrap();
    // Altered after signing, and passed off under New York's registered key.
    let mut report =
        decrypt(&std::fs::read(d.join("ny.age")).unwrap(), &board_identity(&d.join("board.key")))["report"].clone();
    report["omitted"].as_array_mut().unwrap().push("an edit after signing".into());
    let ny_key = ny.split_once(" = ").unwrap().1.trim_matches('"');
    std::fs::write(d.join("altered.age"), craft_bundle(&report, &common::signing_key(), Some(ny_key), &recipient))
        .unwrap();
    std::fs::copy(d.join("ny.age"), d.join("copy.age")).unwrap();
    build(d, "hou.cwv", "2026-08", &recipient, "hou-aug.age");
    // A second bundle of a released period is a revision (asking again without one sends the
    // same bundle, which a merge refuses as given twice).
    common::revise(d, "ny.cwv", "2026-09", &recipient, "ny-again.age", "a late exit");

    // (bundle, registry, identity, reason): refused by `open` and by `merge` alike.
    let single = [
        ("flipped.age", "registry.toml", "board.key", "flipped.age: report bundle refused: not a readable age file"),
        (
            "altered.age",
            "registry.toml",
            "board.key",
            "altered.age: report bundle refused: the signature does not verify",
        ),
        ("hou.age", "only-ny.toml", "board.key", "provider \"bakerripley-houston\" is not in the registry"),
        ("ny.age", "swapped.toml", "board.key", "not the registered key of provider \"irc-new-york\""),
        ("ny.age", "registry.toml", "stranger.key", "ny.age: report bundle refused: this identity is not a recipient"),
    ];
    for (file, registry, identity, reason) in single {
        let open = run(d, &["report", "open", file, "-i", identity, "--providers", registry, "--csv", "never"]);
        assert_refused(&open, reason);
        assert!(out(&open).is_empty(), "nothing printed from a refused bundle: {}", out(&open));
        let other = if file == "hou.age" { "ny.age" } else { "hou.age" };
        let merge = run(d, &["report", "merge", file, other, "-i", identity, "--providers", registry, "--json"]);
        assert_refused(&merge, reason);
        assert!(out(&merge).is_empty(), "{}", out(&merge));
    }
    assert!(!d.join("never").exists());

    // Merge only: one file twice (the 160 for 80), a copy, another period, a provider's
    // second bundle. Each names both files.
    let merges: [(&[&str], &str); 5] = [
        (&["ny.age", "ny.age"], "ny.age and ny.age are the same bundle given twice"),
        (&["ny.age", "hou.age", "copy.age"], "ny.age and copy.age are the same bundle given twice"),
        (&["ny.age", "hou-aug.age"], "ny.age is for 2026-09 but hou-aug.age is for 2026-08"),
        (
            &["ny.age", "hou.age", "ny-again.age"],
            "ny.age (\"irc-new-york\") and ny-again.age (\"irc-new-york\") are from the same provider (same provider id and signing key) for 2026-09",
        ),
        (&["ny.age", "ny.age", "--replace-older"], "ny.age and ny.age are the same bundle given twice"),
    ];
    for (files, reason) in merges {
        let mut args = vec!["report", "merge"];
        args.extend_from_slice(files);
        args.extend(["-i", "board.key", "--providers", "registry.toml"]);
        assert_refused(&run(d, &args), reason);
    }

    // Not refusals but bad input: exit 2, as everywhere.
    let missing = run(d, &["report", "merge", "ny.age", "nowhere.age", "-i", "board.key"]);
    assert_eq!(missing.status.code(), Some(2), "{}", err(&missing));
    std::fs::write(d.join("broken.toml"), "[providers\n").unwrap();
    let broken = run(d, &["report", "open", "ny.age", "-i", "board.key", "--providers", "broken.toml"]);
    assert_eq!(broken.status.code(), Some(2), "{}", err(&broken));
}

#[test]
fn replacing_keeps_a_providers_newer_bundle_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (recipient, _, _) = board(d);
    let o = common::revise(d, "ny.cwv", "2026-09", &recipient, "ny-newer.age", "services entered late");
    assert!(out(&o).contains("2026-09: revision 1 of the release"), "{}", out(&o));
    let again = run(d, &["report", "build", "ny.cwv", "--period", "2026-09", "--to", &recipient, "-o", "ny-same.age"]);
    assert!(out(&again).contains("the same signed report is written again"), "{}", out(&again));
    assert_eq!(
        decrypt(&std::fs::read(d.join("ny-same.age")).unwrap(), &board_identity(&d.join("board.key"))),
        decrypt(&std::fs::read(d.join("ny-newer.age")).unwrap(), &board_identity(&d.join("board.key"))),
        "a released period is written again exactly as last signed"
    );
    let opened = run(d, &["report", "open", "ny-newer.age", "-i", "board.key", "--providers", "registry.toml"]);
    assert!(out(&opened).contains("REVISION 1 of 2026-09: services entered late"), "{}", out(&opened));
    let merge = |files: &[&str], extra: &[&str]| {
        let mut args = vec!["report", "merge"];
        args.extend_from_slice(files);
        args.extend(["-i", "board.key", "--providers", "registry.toml"]);
        args.extend_from_slice(extra);
        let o = run(d, &args);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", err(&o));
        o
    };
    let alone: serde_json::Value =
        serde_json::from_slice(&merge(&["ny-newer.age", "hou.age"], &["--json"]).stdout).unwrap();
    for order in [["ny.age", "hou.age", "ny-newer.age"], ["ny-newer.age", "hou.age", "ny.age"]] {
        let text = out(&merge(&order, &["--replace-older"]));
        assert!(text.contains("merged 2 providers"), "{text}");
        let line = text.lines().find(|l| l.starts_with("replaced: ")).unwrap();
        assert!(
            line.starts_with("replaced: ny.age (log entry ")
                && line.contains(") replaced by ny-newer.age (log entry ")
                && line.ends_with("), the newer bundle of \"irc-new-york\""),
            "{line}"
        );
        let json: serde_json::Value =
            serde_json::from_slice(&merge(&order, &["--replace-older", "--json"]).stdout).unwrap();
        assert_eq!(json["replaced"][0]["older"], "ny.age");
        assert_eq!(json["replaced"][0]["newer"], "ny-newer.age");
        assert!(json["replaced"][0]["newer_log_seq"].as_u64() > json["replaced"][0]["older_log_seq"].as_u64());
        assert_eq!(json["tables"], alone["tables"], "the older bundle adds nothing");
    }
}

#[test]
fn a_month_that_has_not_ended_is_not_reported() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let recipient = out(&run(d, &["keygen", "-o", "board.key"])).trim().to_owned();
    provider(d, "ny.cwv", "irc-new-york", 5, 50);
    let today = caseward::Date::today();
    let next_year = format!("{:04}-{:02}", today.year() + 1, today.month());
    for period in [today.month_label(), next_year] {
        let o = run(d, &["report", "build", "ny.cwv", "--period", &period, "--to", &recipient, "-o", "x.age"]);
        assert_eq!(o.status.code(), Some(2), "{period}: {}", err(&o));
        assert!(err(&o).contains(&format!("the report period {period} has not ended yet")), "{}", err(&o));
        assert!(!d.join("x.age").exists());
    }
    let last_month = today.add_days(-i64::from(today.day())).month_label();
    build(d, "ny.cwv", &last_month, &recipient, "x.age");
}

#[test]
fn the_provider_lines_make_a_registry_file_as_they_stand() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    board(d);
    // What `caseward provider VAULT >> registry.toml` leaves in a new file, header or not.
    let printed: String = ["ny.cwv", "hou.cwv"]
        .iter()
        .map(|v| {
            let o = run(d, &["provider", v]);
            assert_eq!(o.status.code(), Some(0), "{}", err(&o));
            out(&o)
        })
        .collect();
    std::fs::write(d.join("fresh.toml"), &printed).unwrap();
    std::fs::write(d.join("headed.toml"), format!("[providers]\n{printed}")).unwrap();
    for registry in ["fresh.toml", "headed.toml"] {
        let o = run(d, &["report", "merge", "ny.age", "hou.age", "-i", "board.key", "--providers", registry]);
        assert_eq!(o.status.code(), Some(0), "{registry}: {}", err(&o));
        assert!(out(&o).contains("signature verified: irc-new-york"), "{}", out(&o));
        assert!(out(&o).contains("signature verified: bakerripley-houston"), "{}", out(&o));
    }
    // The key in the line is the one that signs.
    let stranger = common::signing_key();
    assert!(!printed.contains(&public_key(&stranger)));
}
