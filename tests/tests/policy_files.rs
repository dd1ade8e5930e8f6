//! A reviewer's view of the policy validator: every kind of bad policy in `tests/policies/` is
//! rejected with an error naming the file, the line and the rule. Each file states the error it
//! expects on its first line (`# expect: ...`).

#![allow(clippy::unwrap_used, clippy::panic, reason = "tests")]

use std::path::{Path, PathBuf};

use caseward::{Error, ErrorKind, Policy};

fn files(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies").join(dir);
    let mut out: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    out.sort();
    out
}

fn expected(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines().next().and_then(|l| l.strip_prefix("# expect: ")).unwrap().to_owned()
}

fn check(path: &Path, result: caseward::Result<Policy>) {
    let err = result.expect_err(&format!("{} should be rejected", path.display()));
    assert_eq!(err.kind(), ErrorKind::Policy);
    let Error::Policy(p) = &err else { panic!("not a policy error") };
    assert_eq!(p.file, path.display().to_string(), "the error names the file");
    let text = err.to_string();
    assert!(
        text.contains(&expected(path)),
        "{}: got {text:?}, expected it to contain {:?}",
        path.display(),
        expected(path)
    );
}

#[test]
fn every_bad_base_policy_is_rejected_with_its_file_line_and_rule() {
    let bad = files("bad");
    assert!(bad.len() >= 12);
    for path in bad {
        check(&path, Policy::load(&path));
    }
}

#[test]
fn every_widening_overlay_is_rejected() {
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies/default.toml");
    for path in files("bad-overlays") {
        check(&path, Policy::load_with_overlays(&base, &[&path]));
    }
}

#[test]
fn the_shipped_policies_load_and_overlays_only_tighten() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies");
    let base = Policy::load(root.join("default.toml")).unwrap();
    assert_eq!(base.hash(), Policy::default_policy().unwrap().hash());
    for overlay in ["no-ice-address.toml", "no-ice-notices.toml"] {
        let p = Policy::load_with_overlays(root.join("default.toml"), &[root.join("overlays").join(overlay)]).unwrap();
        assert_ne!(p.hash(), base.hash());
        let (a, b) = (base.explain(), p.explain());
        for (ra, rb) in a.rows.iter().zip(&b.rows) {
            for (ca, cb) in ra.cells.iter().zip(&rb.cells) {
                assert!(cb.treatment <= ca.treatment, "{overlay} widened {}", ra.category);
            }
        }
    }
}

#[test]
fn security_md_shows_the_rules_the_code_enforces() {
    // SECURITY.md's "Disclosure rules" section is `caseward policy explain` of the shipped
    // policy. If this fails, regenerate it: `caseward policy explain policies/default.toml`.
    let security = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../SECURITY.md")).unwrap();
    let start = "<!-- policy explain: begin -->\n";
    let end = "<!-- policy explain: end -->";
    let from = security.find(start).unwrap() + start.len();
    let to = security.find(end).unwrap();
    let explained = Policy::default_policy().unwrap().explain().to_markdown();
    assert_eq!(&security[from..to], explained, "SECURITY.md's disclosure rules differ from the shipped policy");
}
