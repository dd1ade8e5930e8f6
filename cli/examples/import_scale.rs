//! Issue #6's import speed goal: `caseward import` of N CSV rows against the library's bulk
//! intake of the same clients (`Vault::enroll_many`, one transaction), alternating in one run.
//!
//! `cargo run --release -p caseward-cli --example import_scale -- 100000 DIR`

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, reason = "a benchmark tool")]

use std::fmt::Write as _;
use std::time::Instant;

use caseward::synth::Synth;
use caseward::{RawKey, Vault};

#[path = "../src/import.rs"]
#[allow(dead_code, reason = "only parse is used here")]
mod import;
#[path = "../src/secret.rs"]
#[allow(dead_code, reason = "import.rs names it")]
mod secret;

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().map_or(100_000, |s| s.parse().unwrap());
    let dir = args.next().map_or_else(std::env::temp_dir, std::path::PathBuf::from);
    let mut synth = Synth::new(1);
    let intakes: Vec<_> = (0..n).map(|_| synth.intake()).collect();
    let mut csv = String::from(
        "a_number,name_dhs,birth_date,birth_date_source,nationality,languages,site,enrolled_on,vawa_grantee\n",
    );
    for i in &intakes {
        let dob = i.identity.dob.map(|b| b.year.to_string()).unwrap_or_default();
        writeln!(
            csv,
            "{},\"{}\",{dob},self_report,{},{},{},{},{}",
            i.identity.a_number_as_entered.replace(',', " "),
            i.identity.name.verbatim_dhs.replace('"', ""),
            i.identity.nationality.join(";"),
            i.identity.languages.join(";"),
            i.enrollment.site,
            i.enrollment.enrolled_on,
            if i.enrollment.vawa_grantee { "yes" } else { "no" },
        )
        .unwrap();
    }
    let csv_path = dir.join("import-scale.csv");
    std::fs::write(&csv_path, &csv).unwrap();
    // The library baseline enrolls the same identities and enrollments the CSV carries.
    let bare: Vec<_> = import::parse(&csv).unwrap();
    let key = RawKey::from_bytes(&[3u8; 32]).unwrap();
    let (mut lib, mut cli) = (Vec::new(), Vec::new());
    for round in 0..2 {
        let path = dir.join(format!("lib-{round}.cwv"));
        let _ = std::fs::remove_file(&path);
        let v = Vault::create_with_key(&path, &key).unwrap();
        let t = Instant::now();
        v.enroll_many(&bare).unwrap();
        lib.push(t.elapsed().as_secs_f64());
        v.close().unwrap();

        let path = dir.join(format!("cli-{round}.cwv"));
        let _ = std::fs::remove_file(&path);
        let v = Vault::create_with_key(&path, &key).unwrap();
        let t = Instant::now();
        let text = std::fs::read_to_string(&csv_path).unwrap();
        let parsed = import::parse(&text).unwrap();
        // As `caseward import` does: one transaction; rows are looked up only if it is refused.
        v.enroll_many(&parsed).unwrap();
        cli.push(t.elapsed().as_secs_f64());
        v.close().unwrap();
    }
    let best = |x: &[f64]| x.iter().copied().fold(f64::INFINITY, f64::min);
    println!(
        "{{\"rows\":{n},\"library_s\":{lib:?},\"import_s\":{cli:?},\"library_rows_per_s\":{:.0},\"import_rows_per_s\":{:.0},\"ratio\":{:.3}}}",
        n as f64 / best(&lib),
        n as f64 / best(&cli),
        best(&lib) / best(&cli)
    );
}
