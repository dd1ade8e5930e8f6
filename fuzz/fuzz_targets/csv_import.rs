//! The CSV importer of `caseward import`: any file is parsed into intakes or refused with
//! row-numbered problems that never quote a cell.
#![no_main]

#[path = "../../cli/src/import.rs"]
#[allow(dead_code)]
mod import;
#[path = "../../cli/src/secret.rs"]
#[allow(dead_code)]
mod secret;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Err(problems) = import::parse(text) {
        for p in problems {
            // A problem names a row and a column; its reason is one of our fixed texts.
            assert!(p.row >= 1);
            assert!(!p.reason.is_empty());
        }
    }
});
