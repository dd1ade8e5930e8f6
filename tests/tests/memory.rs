//! Memory hygiene (issue #7): after vaults opened by a raw key, a passphrase and a recovery
//! identity are used and closed, the process's own memory holds no copy of the raw key, the
//! passphrase or the vault's root key. A control secret left in memory on purpose must be found,
//! so the scan is known to see. See SECURITY.md, "Memory hygiene".
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

use std::process::Command;

#[test]
fn no_key_or_passphrase_bytes_remain_after_close() {
    let out = Command::new(env!("CARGO_BIN_EXE_memory_probe")).output().expect("the probe runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["control"].as_u64().unwrap() >= 1, "the scan must find the control secret: {v}");
    assert_eq!(v["raw_key"], 0, "{v}");
    assert_eq!(v["passphrase"], 0, "{v}");
    assert_eq!(v["root_key"], 0, "{v}");
}
