//! Opening a vault from mutated file bytes, and verifying its disclosure log without a key:
//! every outcome is a typed error or a working vault; nothing panics, nothing hangs.
#![no_main]
use caseward::{RawKey, Vault};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(dir) = tempfile::tempdir() else { return };
    let path = dir.path().join("v.cwv");
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let _ = caseward::audit::verify_file(&path, None);
    if let Ok(key) = RawKey::from_bytes(&[9u8; 32]) {
        if let Ok(v) = Vault::open_with_key(&path, &key) {
            if let Ok(clients) = v.list_clients() {
                for c in clients.into_iter().take(4) {
                    let _ = v.client_record(c);
                }
            }
            let _ = v.verify_log(None);
            let _ = v.close();
        }
    }
});
