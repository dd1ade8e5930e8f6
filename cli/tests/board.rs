//! What board staff and a provider's administrator run: `keygen`, `provider`, `report build`,
//! `report open` (with --providers and --csv) and `report merge`, with their exit codes.

#![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "a test fails loudly on purpose")]

mod common;
use common::{err, out, provider, run};

#[test]
fn a_board_receives_verifies_prints_and_merges_reports() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let keygen = run(d, &["keygen", "-o", "board.key"]);
    assert_eq!(keygen.status.code(), Some(0), "{}", err(&keygen));
    let recipient = out(&keygen).trim().to_owned();
    assert!(recipient.starts_with("age1"), "{recipient}");
    assert_eq!(run(d, &["keygen", "-o", "board.key"]).status.code(), Some(2), "never overwrites an identity");

    let ny = provider(d, "ny.cwv", "irc-new-york", 5, 500);
    let hou = provider(d, "hou.cwv", "bakerripley-houston", 6, 300);
    std::fs::write(d.join("registry.toml"), format!("[providers]\n{ny}\n{hou}\n")).unwrap();
    std::fs::write(d.join("only-ny.toml"), format!("[providers]\n{ny}\n")).unwrap();

    for (vault, file) in [("ny.cwv", "ny.age"), ("hou.cwv", "hou.age")] {
        let b = run(
            d,
            &[
                "report",
                "build",
                vault,
                "--period",
                "2026-09",
                "--to",
                &recipient,
                "-o",
                file,
                "--capacity",
                "site-nyc=300",
            ],
        );
        assert_eq!(b.status.code(), Some(0), "{}", err(&b));
        assert!(out(&b).contains("log head cwlog1:"), "{}", out(&b));
    }

    let open = run(d, &["report", "open", "ny.age", "-i", "board.key", "--providers", "registry.toml", "--csv", "csv"]);
    assert_eq!(open.status.code(), Some(0), "{}", err(&open));
    let text = out(&open);
    assert!(text.contains("signature verified: irc-new-york"), "{text}");
    assert!(text.contains("[11a] Court hearings"), "{text}");
    assert!(text.contains("capacity site-nyc: 300"), "{text}");
    let csv = std::fs::read_to_string(d.join("csv/01a_2026-09.csv")).unwrap();
    assert!(csv.starts_with("site,active"), "{csv}");
    assert!(std::fs::read_dir(d.join("csv")).unwrap().count() > 15);
    // The same cells in one long file with numeric columns, for R and pandas: every cell of every
    // table once, exact cells as value = low = high, withheld ones with no number at all.
    let cells = std::fs::read_to_string(d.join("csv/cells.csv")).unwrap();
    let mut lines = cells.lines();
    assert_eq!(lines.next(), Some("table,covers,geography,unit,row,column,status,value,low,high,confidence,title"));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let active = rows.iter().find(|r| r[0] == "01a" && r[4] == "Total" && r[5] == "active").expect("01a total");
    assert_eq!(active[6], "exact", "{active:?}");
    let n: u64 = active[7].parse().unwrap();
    assert_eq!((active[8].parse::<u64>().unwrap(), active[9].parse::<u64>().unwrap()), (n, n));
    assert!(csv.contains(&format!(",{n}")), "the wide file shows the same count: {csv}");
    for r in rows.iter().filter(|r| r[6] == "suppressed") {
        assert_eq!(r[7..10], ["", "", ""], "{r:?}");
    }
    assert!(rows.iter().any(|r| r[6] == "suppressed"), "the fixture has withheld cells");
    for r in rows.iter().filter(|r| r[6] == "exact") {
        r[7].parse::<u64>().unwrap_or_else(|_| panic!("not a number: {r:?}"));
    }

    // The same as JSON for scripts.
    let json = run(d, &["report", "open", "ny.age", "-i", "board.key", "--providers", "registry.toml", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["report"]["provider"], "irc-new-york");
    assert_eq!(v["signature"]["checked_against_registry"], true);
    assert!(v["report"]["tables"].as_array().unwrap().len() > 15);

    // Without a registry the signer is not checked, and the output says so.
    let unchecked = run(d, &["report", "open", "ny.age", "-i", "board.key"]);
    assert!(out(&unchecked).contains("NOT checked against a registry"), "{}", out(&unchecked));

    // A signer missing from the registry, a flipped byte, a stranger's identity: refused, exit 1,
    // one line (every refusal path is in refusals.rs).
    let missing = run(d, &["report", "open", "hou.age", "-i", "board.key", "--providers", "only-ny.toml"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(err(&missing).contains("\"bakerripley-houston\" is not in the registry"), "{}", err(&missing));
    let mut bytes = std::fs::read(d.join("ny.age")).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x40;
    std::fs::write(d.join("flipped.age"), &bytes).unwrap();
    let flipped = run(d, &["report", "open", "flipped.age", "-i", "board.key", "--providers", "registry.toml"]);
    assert_eq!(flipped.status.code(), Some(1));
    assert_eq!(err(&flipped).lines().count(), 1, "{}", err(&flipped));
    assert!(err(&flipped).contains("flipped.age: report bundle refused"), "{}", err(&flipped));
    assert_eq!(run(d, &["keygen", "-o", "stranger.key"]).status.code(), Some(0));
    let stranger = run(d, &["report", "open", "ny.age", "-i", "stranger.key"]);
    assert_eq!(stranger.status.code(), Some(1));
    assert!(err(&stranger).contains("not a recipient"), "{}", err(&stranger));

    // Merge: national totals, suppressed contributions shown as ranges.
    let merged = run(
        d,
        &[
            "report",
            "merge",
            "ny.age",
            "hou.age",
            "-i",
            "board.key",
            "--providers",
            "registry.toml",
            "--csv",
            "national",
        ],
    );
    assert_eq!(merged.status.code(), Some(0), "{}", err(&merged));
    let text = out(&merged);
    assert!(text.contains("merged 2 providers: irc-new-york, bakerripley-houston"), "{text}");
    assert!(text.contains("irc-new-york / site-"), "{text}");
    assert!(d.join("national/09_2026-Q3.csv").exists());
    // A merged total a provider withheld part of is a range with a numeric low end, never a value.
    let national = std::fs::read_to_string(d.join("national/cells.csv")).unwrap();
    let bounds: Vec<Vec<&str>> =
        national.lines().map(|l| l.split(',').collect::<Vec<_>>()).filter(|r| r[6] == "bound").collect();
    assert!(!bounds.is_empty(), "{national}");
    for r in &bounds {
        assert_eq!(r[7], "", "{r:?}");
        r[8].parse::<u64>().unwrap();
        assert!(r[9].is_empty() || r[9].parse::<u64>().unwrap() > r[8].parse::<u64>().unwrap(), "{r:?}");
    }
    let merged_json =
        run(d, &["report", "merge", "ny.age", "hou.age", "-i", "board.key", "--providers", "registry.toml", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&merged_json.stdout).unwrap();
    assert_eq!(v["providers"].as_array().unwrap().len(), 2);
    // No merged total is a number where a provider withheld the cell.
    for t in v["tables"].as_array().unwrap() {
        for cell in t["cells"].as_array().unwrap().last().unwrap().as_array().unwrap() {
            assert!(cell.get("suppressed").is_none() && cell != "suppressed", "{cell}");
        }
    }
}
