//! The evaluation through the command line. The lottery as a provider's administrator runs it
//! and an advocate checks it: install the evaluation policy and the pseudonym key, commit a
//! pool from a file of A-numbers, draw once with a beacon value, verify with `caseward lottery
//! verify` and with the Python verifier written from `docs/lottery.md` alone, and see every
//! misuse refused. Then the evaluator's extract: built, opened, and refused when altered.

#![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "a test fails loudly on purpose")]

mod common;
use std::path::Path;
use std::process::Command;

use caseward::{Passphrase, Vault};
use common::{err, out, provider, run, PASS};

/// The default policy with the evaluator's pseudonym rule (what a data-use agreement adds).
fn write_evaluation_policy(d: &Path) {
    let default =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies/default.toml")).unwrap();
    let rule = "\n[[rule]]\nid = \"evaluator-pseudonyms\"\naudience = \"evaluator\"\ntreatment = \"pseudonymize\"\n\
                categories = [\"identifier.alien_number\"]\nwhy = \"The evaluation's lottery pools.\"\n";
    std::fs::write(d.join("evaluation.toml"), format!("{default}{rule}")).unwrap();
}

/// The A-numbers of the vault's clients who may join a pool: not randomized at intake, not
/// VAWA, no protected relief.
fn eligible(d: &Path, file: &str) -> Vec<String> {
    let v = Vault::open(d.join(file), &Passphrase::new(PASS)).unwrap();
    let mut out = Vec::new();
    for c in v.list_clients().unwrap() {
        let r = v.client_record(c).unwrap();
        let e = r.enrollment().unwrap();
        let relief =
            r.records.iter().any(|s| matches!(&s.record, caseward::Record::Legal(l) if l.protected_relief.is_some()));
        if e.randomization.is_none() && !e.vawa_grantee && !relief {
            out.push(r.identity().unwrap().a_number.as_str().to_owned());
        }
    }
    v.close().unwrap();
    out
}

fn python_verify(d: &Path, pool: &str) -> std::process::Output {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/python/verify_lottery.py");
    Command::new("python3")
        .arg(script)
        .args(["lottery/commitment.json", pool, "lottery/draw.json", "--print-selection"])
        .current_dir(d)
        .output()
        .unwrap()
}

#[test]
fn a_lottery_is_committed_drawn_once_and_verified_by_anyone() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let line = provider(d, "ny.cwv", "irc-new-york", 31, 60);
    std::fs::write(d.join("registry.toml"), format!("[providers]\n{line}\n")).unwrap();
    let people = eligible(d, "ny.cwv");
    assert!(people.len() >= 20, "{} eligible", people.len());
    std::fs::write(d.join("eligible.txt"), format!("# eligible and interested, 2026-Q1\n{}\n", people.join("\n")))
        .unwrap();

    let commit = [
        "lottery",
        "commit",
        "ny.cwv",
        "--id",
        "nyc-2026-q1",
        "--slots",
        "10",
        "--seed-from",
        "NIST beacon v2 chain 2, first pulse after the commitment",
    ];
    let commit_args: Vec<&str> = commit.iter().copied().chain(["--pool", "eligible.txt", "-o", "lottery"]).collect();
    // Without the evaluator's rule there is no lottery.
    let o = run(d, &commit_args);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("evaluator"), "{}", err(&o));
    write_evaluation_policy(d);
    let o = run(d, &["policy", "install", "ny.cwv", "evaluation.toml"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(out(&o).starts_with("installed: blake3:"), "{}", out(&o));
    // The consortium's pseudonym key (for board pseudonyms and extracts) is set the same way.
    let o = run(d, &["pseudonym-key", "ny.cwv", "--generate"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let o = run(d, &["pseudonym-key", "ny.cwv", "--generate"]);
    assert_eq!(o.status.code(), Some(2), "never replaced: {}", out(&o));
    assert!(!d.join("lottery/commitment.json").exists(), "refusals wrote nothing");

    // A seed given before the commitment has nothing to draw.
    let o = run(d, &["lottery", "draw", "ny.cwv", "--id", "nyc-2026-q1", "--seed", "early", "-o", "lottery"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("has no commitment"), "{}", err(&o));

    let o = run(d, &commit_args);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(out(&o).contains(&format!("{} in the pool, 10 slots", people.len())), "{}", out(&o));
    let pool = std::fs::read_to_string(d.join("lottery/pool.txt")).unwrap();
    assert!(people.iter().all(|a| !pool.contains(a.as_str())), "no A-number in the pool file");
    // Committing again is refused, and leaves the published files alone.
    let o = run(d, &commit_args);
    assert_eq!(o.status.code(), Some(2));

    // A bad output folder is found before anything is drawn.
    std::fs::write(d.join("not-a-folder"), "x").unwrap();
    let o = run(d, &["lottery", "draw", "ny.cwv", "--id", "nyc-2026-q1", "--seed", "AB", "-o", "not-a-folder"]);
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
    assert!(err(&o).contains("output folder"), "{}", err(&o));
    let beacon = "4F1C0D7A92B3E65810CDA4F7B2E9318C5D60A7F42B91E3C8D7A5F0B6E2C49A13";
    let o = run(d, &["lottery", "draw", "ny.cwv", "--id", "nyc-2026-q1", "--seed", beacon, "-o", "lottery"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(out(&o).contains("10 selected"), "{}", out(&o));
    // No re-draws.
    let o = run(d, &["lottery", "draw", "ny.cwv", "--id", "nyc-2026-q1", "--seed", "better", "-o", "again"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("drawn already"), "{}", err(&o));

    // Anyone verifies: caseward, against the board's registry ...
    let verify = ["lottery", "verify", "lottery/commitment.json", "lottery/pool.txt", "lottery/draw.json"];
    let o = run(d, &[&verify[..], &["--providers", "registry.toml"]].concat());
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(out(&o).starts_with("verified: lottery nyc-2026-q1, 10 of "), "{}", out(&o));
    assert!(
        out(&o).contains("NIST beacon v2 chain 2, first pulse after the commitment"),
        "the seed's source, to check"
    );
    // ... and a separate verifier in Python, written from docs/lottery.md alone, selects the
    // same set.
    let py = python_verify(d, "lottery/pool.txt");
    assert_eq!(py.status.code(), Some(0), "{}", err(&py));
    let draw: serde_json::Value = serde_json::from_slice(&std::fs::read(d.join("lottery/draw.json")).unwrap()).unwrap();
    let selected: Vec<&str> =
        draw["document"]["selected"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
    let py_out = out(&py);
    let recomputed: Vec<&str> = py_out.lines().skip(1).map(str::trim).filter(|l| !l.is_empty()).collect();
    assert_eq!(recomputed, selected);

    // A pool changed after the commitment fails both verifiers, with exit 1.
    let changed = pool.replacen(pool.lines().next().unwrap(), "cwl1:00000000000000000000000000000000", 1);
    std::fs::write(d.join("changed.txt"), changed).unwrap();
    let o = run(d, &["lottery", "verify", "lottery/commitment.json", "changed.txt", "lottery/draw.json"]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert!(err(&o).contains("does not match the commitment"), "{}", err(&o));
    assert_eq!(python_verify(d, "changed.txt").status.code(), Some(1));
    // A registry that holds another key for the provider refuses the documents.
    let other = provider(d, "other.cwv", "irc-new-york", 32, 1);
    std::fs::write(d.join("forged-registry.toml"), format!("[providers]\n{other}\n")).unwrap();
    let o = run(d, &[&verify[..], &["--providers", "forged-registry.toml"]].concat());
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));

    // The evaluator's extract of the drawn participants.
    let microdata = "\n[[rule]]\nid = \"evaluator-microdata\"\naudience = \"evaluator\"\ntreatment = \"pseudonymize\"\n\
                     categories = [\"evaluation.randomization\", \"obligation.court.next\", \"legal.case\", \"program.exit\", \
                     \"program.enrollment\"]\nwhy = \"The evaluation's outcomes.\"\n";
    let policy = std::fs::read_to_string(d.join("evaluation.toml")).unwrap();
    std::fs::write(d.join("evaluation.toml"), format!("{policy}{microdata}")).unwrap();
    assert_eq!(run(d, &["policy", "install", "ny.cwv", "evaluation.toml"]).status.code(), Some(0));
    let evaluator = out(&run(d, &["keygen", "-o", "evaluator.key"])).trim().to_owned();
    let build = ["extract", "build", "ny.cwv", "--evaluation", "cmpp-2027", "--to", &evaluator, "-o", "ex"];
    let o = run(d, &build);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(out(&o).contains("every class") && out(&o).contains("(k = 11)"), "{}", out(&o));
    assert!(out(&o).contains("left out: services_*"), "the policy's omissions are listed: {}", out(&o));
    let o = run(d, &build);
    assert_eq!(o.status.code(), Some(2), "a second extract of one evaluation");
    let o = run(d, &["extract", "open", "ex", "-i", "evaluator.key", "--providers", "registry.toml", "-o", "opened"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(out(&o).starts_with("signature verified: irc-new-york (registered key)"), "{}", out(&o));
    let parquet = std::fs::read(d.join("opened/extract.parquet")).unwrap();
    assert!(parquet.starts_with(b"PAR1") && parquet.ends_with(b"PAR1"), "a Parquet file");
    assert!(people.iter().all(|a| !String::from_utf8_lossy(&parquet).contains(a.as_str())), "no A-number");
    // The dictionary beside another Parquet file is refused with exit 1.
    let dict = std::fs::read(d.join("ex/dictionary.json.age")).unwrap();
    std::fs::create_dir_all(d.join("mixed")).unwrap();
    std::fs::write(d.join("mixed/dictionary.json.age"), &dict).unwrap();
    // The same people under another id are refused: each person is extracted once.
    let o = run(d, &["extract", "build", "ny.cwv", "--evaluation", "cmpp-2028", "--to", &evaluator, "-o", "other"]);
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
    assert!(err(&o).contains("extracted once"), "{}", err(&o));
    // Another Parquet file, encrypted to the evaluator as a provider would.
    let mut altered = parquet.clone();
    altered[8] ^= 1;
    let recipient: age::x25519::Recipient = evaluator.parse().unwrap();
    let encryptor = age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient)).unwrap();
    let mut sealed = Vec::new();
    let mut w = encryptor.wrap_output(&mut sealed).unwrap();
    std::io::Write::write_all(&mut w, &altered).unwrap();
    w.finish().unwrap();
    std::fs::write(d.join("mixed/extract.parquet.age"), sealed).unwrap();
    let o = run(d, &["extract", "open", "mixed", "-i", "evaluator.key", "-o", "mixed-out"]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert!(err(&o).contains("not the one the dictionary signs"), "{}", err(&o));
    // The board's identity is not the evaluator's.
    assert_eq!(run(d, &["keygen", "-o", "board.key"]).status.code(), Some(0));
    let o = run(d, &["extract", "open", "ex", "-i", "board.key", "-o", "nope"]);
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
    assert!(err(&o).contains("not a recipient"), "{}", err(&o));

    // The files can be written again from the vault, byte for byte.
    let o = run(d, &["lottery", "files", "ny.cwv", "--id", "nyc-2026-q1", "-o", "copy"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    for f in ["commitment.json", "pool.txt", "draw.json"] {
        assert_eq!(
            std::fs::read(d.join("copy").join(f)).unwrap(),
            std::fs::read(d.join("lottery").join(f)).unwrap(),
            "{f}"
        );
    }
}

#[test]
fn a_bad_pool_file_is_refused_by_line_without_echoing_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    provider(d, "ny.cwv", "irc-new-york", 33, 5);
    let commit = |pool: &str| {
        run(
            d,
            &[
                "lottery",
                "commit",
                "ny.cwv",
                "--id",
                "l1",
                "--slots",
                "1",
                "--seed-from",
                "b",
                "--pool",
                pool,
                "-o",
                "l",
            ],
        )
    };
    std::fs::write(d.join("bad.txt"), "# pool\nA-12345678X\n").unwrap();
    let o = commit("bad.txt");
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("bad.txt line 2: not a valid A-number"), "{}", err(&o));
    assert!(!err(&o).contains("12345678X"), "the input is not echoed: {}", err(&o));
    std::fs::write(d.join("unknown.txt"), "A123456789\n").unwrap();
    let o = commit("unknown.txt");
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("line 1: no client of this vault has that A-number"), "{}", err(&o));
}
