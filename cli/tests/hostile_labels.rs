//! Labels a provider controls (its id, site, table and column labels, notes, capacity sites)
//! reach the board's CSV files, terminal, JSON and HTML neutralised: no spreadsheet formula, no
//! live escape sequence, no markup, no file outside the CSV folder.

#![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "a test fails loudly on purpose")]

use std::path::Path;

use caseward::synth::Synth;
use caseward::{Passphrase, Vault};

mod common;
use common::{board_identity, build, craft_bundle, decrypt, err, out, provider, public_key, run, signing_key, PASS};

const FORMULA: &str = r#"=HYPERLINK("http://x","y")"#;
const CLEAR: &str = "\u{1b}[2J";

/// Every CSV field under `dir`, with its file.
fn csv_fields(dir: &Path) -> Vec<(String, String)> {
    let mut fields = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_path(&path).unwrap();
        for record in reader.records() {
            for f in record.unwrap().iter() {
                fields.push((path.display().to_string(), f.to_owned()));
            }
        }
    }
    fields
}

/// What must hold of every output the board's tools wrote from a hostile bundle.
fn assert_neutral(d: &Path, stdout: &str, csv_dir: &Path, html: &Path, label: &str) {
    assert!(!stdout.contains('\u{1b}'), "a live escape on the terminal");
    let fields = csv_fields(csv_dir);
    assert!(fields.len() > 100, "{} fields", fields.len());
    for (file, f) in &fields {
        assert!(!f.starts_with(['=', '+', '@', '\t', '\r']), "{file}: formula {f:?}");
        // A noisy value may be negative; it is quoted like any other field starting with '-'.
        assert!(!f.starts_with('-'), "{file}: {f:?}");
        assert!(!f.chars().any(char::is_control), "{file}: control character in {f:?}");
    }
    let page = std::fs::read_to_string(html).unwrap();
    assert!(!page.contains('\u{1b}'), "a raw escape in the page");
    assert!(!page.contains("\"http://x\""), "an unescaped quote in the page");
    if label == FORMULA {
        assert!(fields.iter().any(|(_, f)| f == &format!("'{FORMULA}")), "the label, quoted");
        assert!(fields.iter().any(|(_, f)| f.starts_with(&format!("'{FORMULA} / "))), "a merged row label, quoted");
        assert!(page.contains("=HYPERLINK(&quot;http://x&quot;,&quot;y&quot;)"), "escaped in the page");
    } else {
        assert!(stdout.contains("\\x1b[2J"), "shown as a visible escape");
        assert!(fields.iter().any(|(_, f)| f == "\\x1b[2J"), "the label, visible");
        assert!(page.contains("\\x1b[2J"), "visible in the page");
    }
    assert!(!d.join("escaped").exists() && !d.parent().unwrap().join("escaped").exists(), "no file outside the folder");
}

#[test]
fn crafted_labels_come_out_neutralised_in_csv_terminal_json_and_html() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let recipient = out(&run(d, &["keygen", "-o", "board.key"])).trim().to_owned();
    let ny = provider(d, "ny.cwv", "irc-new-york", 5, 300);
    build(d, "ny.cwv", "2026-09", &recipient, "ny.age");
    let base =
        decrypt(&std::fs::read(d.join("ny.age")).unwrap(), &board_identity(&d.join("board.key")))["report"].clone();
    for (name, label) in [("formula", FORMULA), ("clear", CLEAR)] {
        // A provider with its own key puts the label everywhere it can.
        let key = signing_key();
        let mut report = base.clone();
        report["provider"] = label.into();
        report["omitted"] = serde_json::json!([label]);
        report["capacity"] = serde_json::json!({ label: 5 });
        report["policy"] = label.into();
        for t in report["tables"].as_array_mut().unwrap() {
            for field in ["title", "unit", "geography"] {
                t[field] = label.into();
            }
            if let Some(first) = t["rows"].as_array_mut().unwrap().first_mut() {
                *first = label.into();
            }
        }
        // A table id that would climb out of the CSV folder, and one column relabelled (that
        // table no longer merges, which the notes then say, with its id).
        report["tables"][0]["id"] = "../../escaped".into();
        report["tables"][1]["columns"][0] = label.into();
        let bundle = format!("{name}.age");
        std::fs::write(d.join(&bundle), craft_bundle(&report, &key, None, &recipient)).unwrap();
        let quoted = serde_json::to_string(label).unwrap(); // a TOML basic string, as JSON writes it
        std::fs::write(d.join("registry.toml"), format!("{ny}\n{quoted} = \"{}\"\n", public_key(&key))).unwrap();

        let (csv_dir, html) = (d.join(format!("csv-{name}")), d.join(format!("{name}.html")));
        let open = run(
            d,
            &[
                "report",
                "open",
                &bundle,
                "-i",
                "board.key",
                "--providers",
                "registry.toml",
                "--csv",
                csv_dir.to_str().unwrap(),
                "--html",
                html.to_str().unwrap(),
            ],
        );
        assert_eq!(open.status.code(), Some(0), "{}", err(&open));
        assert!(out(&open).contains("signature verified"), "{}", out(&open));
        let (merged_csv, merged_html) = (d.join(format!("merged-{name}")), d.join(format!("merged-{name}.html")));
        let merge = run(
            d,
            &[
                "report",
                "merge",
                "ny.age",
                &bundle,
                "-i",
                "board.key",
                "--providers",
                "registry.toml",
                "--csv",
                merged_csv.to_str().unwrap(),
                "--html",
                merged_html.to_str().unwrap(),
            ],
        );
        assert_eq!(merge.status.code(), Some(0), "{}", err(&merge));
        assert!(out(&merge).contains("not merged: "), "{}", out(&merge));
        // The open's CSV holds the bare label; the merge's holds "label / site" rows.
        let both_csv = d.join(format!("both-{name}"));
        std::fs::create_dir_all(&both_csv).unwrap();
        for (i, from) in [&csv_dir, &merged_csv].iter().enumerate() {
            for entry in std::fs::read_dir(from).unwrap() {
                let p = entry.unwrap().path();
                std::fs::copy(&p, both_csv.join(format!("{i}-{}", p.file_name().unwrap().to_str().unwrap()))).unwrap();
            }
        }
        assert!(std::fs::read_dir(&csv_dir).unwrap().any(|e| e.unwrap().file_name() == "______escaped_2026-09.csv"));
        let stdout = format!("{}{}", out(&open), out(&merge));
        assert_neutral(d, &stdout, &both_csv, &html, label);
        assert_neutral(d, &stdout, &both_csv, &merged_html, label);

        let json = run(d, &["report", "open", &bundle, "-i", "board.key", "--providers", "registry.toml", "--json"]);
        assert!(!out(&json).contains('\u{1b}') && !out(&json).contains('\u{9b}'));
        let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
        assert_eq!(v["report"]["provider"], label, "JSON keeps the text, escaped");

        // Refusal reasons quote provider text: still one line, no live escape.
        std::fs::write(d.join("only-ny.toml"), format!("{ny}\n")).unwrap();
        let refused = run(d, &["report", "open", &bundle, "-i", "board.key", "--providers", "only-ny.toml"]);
        assert_eq!(refused.status.code(), Some(1));
        assert_eq!(err(&refused).lines().count(), 1, "{}", err(&refused));
        assert!(!err(&refused).contains('\u{1b}'));
    }
}

#[test]
fn site_labels_from_a_real_vault_come_out_neutralised() {
    // A site is free text in the vault: the labels need no forged bundle to reach the board.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let recipient = out(&run(d, &["keygen", "-o", "board.key"])).trim().to_owned();
    let v = Vault::create(d.join("odd.cwv"), &Passphrase::new(PASS)).unwrap();
    let mut synth = Synth::new(9);
    let sites = [FORMULA, CLEAR, "site-plain"];
    let intakes: Vec<_> = (0..120)
        .map(|i| {
            let mut intake = synth.intake();
            intake.enrollment.site = sites[i % sites.len()].to_owned();
            intake
        })
        .collect();
    v.enroll_many(&intakes).unwrap();
    v.close().unwrap();
    let line = out(&run(d, &["provider", "odd.cwv", "--id", "odd-provider"]));
    std::fs::write(d.join("registry.toml"), line).unwrap();
    let capacity = format!("{FORMULA}=30");
    let b = run(
        d,
        &[
            "report",
            "build",
            "odd.cwv",
            "--period",
            "2026-09",
            "--to",
            &recipient,
            "-o",
            "odd.age",
            "--capacity",
            &capacity,
        ],
    );
    assert_eq!(b.status.code(), Some(0), "{}", err(&b));
    let open = run(
        d,
        &[
            "report",
            "open",
            "odd.age",
            "-i",
            "board.key",
            "--providers",
            "registry.toml",
            "--csv",
            "csv",
            "--html",
            "odd.html",
        ],
    );
    assert_eq!(open.status.code(), Some(0), "{}", err(&open));
    let text = out(&open);
    assert!(!text.contains('\u{1b}') && text.contains("\\x1b[2J"), "{text}");
    let fields = csv_fields(&d.join("csv"));
    assert!(fields.iter().any(|(_, f)| f == &format!("'{FORMULA}")));
    assert!(fields.iter().any(|(_, f)| f == "\\x1b[2J"));
    assert!(fields.iter().all(|(_, f)| !f.starts_with(['=', '+', '-', '@']) && !f.chars().any(char::is_control)));
    let page = std::fs::read_to_string(d.join("odd.html")).unwrap();
    assert!(!page.contains('\u{1b}') && page.contains("=HYPERLINK(&quot;http://x&quot;,&quot;y&quot;)"));
}
