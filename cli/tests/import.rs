//! `caseward import`: a spreadsheet with problems is refused whole, every problem named by row
//! and column; a good one of 10,000 rows goes in.

#![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "a test fails loudly on purpose")]

use std::fmt::Write as _;
use std::path::Path;

use caseward::synth::Synth;
use caseward::{Passphrase, Vault};

mod common;
use common::{run, PASS};

fn clients(dir: &Path) -> usize {
    let v = Vault::open(dir.join("v.cwv"), &Passphrase::new(PASS)).unwrap();
    let n = v.list_clients().unwrap().len();
    v.close().unwrap();
    n
}

#[test]
fn a_bad_file_is_refused_whole_with_every_problem_named() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    Vault::create(d.join("v.cwv"), &Passphrase::new(PASS)).unwrap().close().unwrap();
    // No `site` column; row 3 has a receipt number for an A-number; row 4 a 13th month.
    std::fs::write(
        d.join("bad.csv"),
        "a_number,name_dhs,enrolled_on\n\
         A-201-555-012,\"GARCIA LOPEZ, MARIA JOSE\",2026-10-01\n\
         IOE0912345678,\"TZUL, JUAN\",2026-10-01\n\
         A087-654-321,\"PIERRE LOUIS, JEAN\",2026-13-01\n",
    )
    .unwrap();
    let out = run(d, &["import", "v.cwv", "bad.csv"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("row 1, column site: required column missing"), "{err}");
    assert!(err.contains("row 3, column a_number: invalid a_number"), "{err}");
    assert!(err.contains("row 4, column enrolled_on: not a date"), "{err}");
    assert!(err.contains("nothing imported: 3 problem(s)"), "{err}");
    assert!(!err.contains("IOE0912345678") && !err.contains("TZUL"), "no cell content in errors: {err}");
    assert_eq!(clients(d), 0, "nothing stored");
    // The same as JSON for a script.
    let json = run(d, &["import", "v.cwv", "bad.csv", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["problems"].as_array().unwrap().len(), 3);

    // A good row next to one already in the vault: still nothing stored.
    std::fs::write(
        d.join("one.csv"),
        "a_number,name_dhs,site,enrolled_on\nA-201-555-012,\"GARCIA, M\",site-a,2026-10-01\n",
    )
    .unwrap();
    assert_eq!(run(d, &["import", "v.cwv", "one.csv"]).status.code(), Some(0));
    std::fs::write(
        d.join("again.csv"),
        "a_number,name_dhs,site,enrolled_on\nA-301-555-012,\"LOPEZ, A\",site-a,2026-10-01\n201555012,\"GARCIA, M\",site-a,2026-10-01\n",
    )
    .unwrap();
    let again = run(d, &["import", "v.cwv", "again.csv"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("row 3, column a_number: already enrolled"));
    assert_eq!(clients(d), 1);
}

#[test]
fn ten_thousand_good_rows_import() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    Vault::create(d.join("v.cwv"), &Passphrase::new(PASS)).unwrap().close().unwrap();
    let template =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/intake-template.csv")).unwrap();
    let header = template.lines().next().unwrap();
    let mut csv = format!("{header}\n");
    let mut synth = Synth::new(31);
    for _ in 0..10_000 {
        let i = synth.intake();
        let name = i.identity.name.verbatim_dhs.replace('"', "");
        let dob = i.identity.dob.map(|b| b.year.to_string()).unwrap_or_default();
        writeln!(
            csv,
            "{},\"{name}\",,,{dob},self_report,{},{},no,,,,{},{},,{},,,",
            i.identity.a_number_as_entered.replace(',', " "),
            i.identity.nationality.join(";"),
            i.identity.languages.join(";"),
            i.enrollment.site,
            i.enrollment.enrolled_on,
            if i.enrollment.vawa_grantee { "yes" } else { "no" },
        )
        .unwrap();
    }
    std::fs::write(d.join("good.csv"), csv).unwrap();
    let out = run(d, &["import", "v.cwv", "good.csv", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["imported"], 10_000);
    assert_eq!(clients(d), 10_000);
    // The template itself imports.
    std::fs::write(d.join("t.csv"), template).unwrap();
    assert_eq!(run(d, &["import", "v.cwv", "t.csv"]).status.code(), Some(0));
}
