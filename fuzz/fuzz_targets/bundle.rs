//! The report-bundle parser and verifier (what `age -d` hands the board), and the registry.
#![no_main]
use caseward::report::bundle::verify_document;
use caseward::report::Registry;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    // Any byte string is refused or verifies; a verified one must have a valid signature, which
    // the fuzzer cannot forge, so only the seeds' own signatures may pass.
    let _ = verify_document(data, None);
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(reg) = Registry::from_toml(text) {
            let _ = verify_document(br#"{"format":"caseward-bundle/1"}"#, Some(&reg));
        }
    }
});
