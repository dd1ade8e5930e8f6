//! A vault written by caseward 0.1 (schema 1, sealed format 1) is checked in; every later
//! version must open it with each of its keys and read back exactly the records it holds.
//!
//! Regenerate only when starting a new fixture for a new version (never overwrite an old one):
//! `CW_WRITE_FIXTURE=1 cargo test -p caseward-tests --test compat`.

use std::path::{Path, PathBuf};

use caseward::{ClientRecord, KdfParams, Passphrase, RawKey, RecoveryIdentity, Vault, VaultOptions};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures");
/// Test-only secrets; this fixture holds synthetic people only.
const RAW_KEY: [u8; 32] = [0x11; 32];
const PASSPHRASE: &str = "fixture passphrase for caseward v0.1";

fn fixture(name: &str) -> PathBuf {
    Path::new(DIR).join(name)
}

fn write_fixture() {
    let path = fixture("vault-v0.1.cwv");
    let _ = std::fs::remove_file(&path);
    let options = VaultOptions { kdf: KdfParams::new(15).unwrap(), ..Default::default() };
    let vault = Vault::create_with_options(&path, &Passphrase::new(PASSPHRASE), options).unwrap();
    vault.add_keystore_key(&RawKey::from_bytes(&RAW_KEY).unwrap()).unwrap();
    let recovery = RecoveryIdentity::generate();
    vault.add_recovery_recipient(&recovery.recipient()).unwrap();
    std::fs::write(fixture("vault-v0.1.recovery.txt"), recovery.to_secret_string().as_bytes()).unwrap();
    let mut synth = caseward::synth::Synth::new(2026);
    let mut intakes: Vec<_> = (0..6).map(|_| synth.intake()).collect();
    intakes.extend(synth.family(3));
    intakes[0].records.extend(synth.sensitive_records());
    vault.enroll_many(&intakes).unwrap();
    vault.rotate_keys().unwrap();
    let records: Vec<ClientRecord> =
        vault.list_clients().unwrap().into_iter().map(|c| vault.client_record(c).unwrap()).collect();
    std::fs::write(fixture("vault-v0.1.json"), serde_json::to_string_pretty(&records).unwrap() + "\n").unwrap();
    vault.checkpoint().unwrap();
    vault.close().unwrap();
}

#[test]
fn the_v0_1_fixture_opens_with_every_key() {
    if std::env::var_os("CW_WRITE_FIXTURE").is_some() {
        write_fixture();
    }
    let expected: Vec<ClientRecord> =
        serde_json::from_str(&std::fs::read_to_string(fixture("vault-v0.1.json")).unwrap()).unwrap();
    assert_eq!(expected.len(), 9);
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("v.cwv");
    std::fs::copy(fixture("vault-v0.1.cwv"), &copy).unwrap();
    let recovery =
        RecoveryIdentity::parse(&std::fs::read_to_string(fixture("vault-v0.1.recovery.txt")).unwrap()).unwrap();

    let vaults = [
        Vault::open_with_key(&copy, &RawKey::from_bytes(&RAW_KEY).unwrap()).unwrap(),
        Vault::open(&copy, &Passphrase::new(PASSPHRASE)).unwrap(),
        Vault::open_with_identity(&copy, &recovery).unwrap(),
    ];
    for vault in &vaults {
        assert_eq!(vault.kek_version().unwrap(), 1);
        for want in &expected {
            assert_eq!(&vault.client_record(want.id).unwrap(), want);
            let a = want.identity().unwrap().a_number.as_str();
            assert_eq!(vault.find_by_a_number(a).unwrap(), Some(want.id));
        }
    }
}

/// The downgrade attack: someone who kept the 0.1 file puts its format-1 canary back into the
/// upgraded vault, deletes the state and edits a row (here: a client's legal record, which
/// gates ICE notices). Were the upgrade to run again, it would rebuild the state from the edited
/// rows. The client keys were moved to the format-2 key-encryption key at the upgrade, so the
/// second upgrade cannot open them and refuses.
#[test]
fn a_format1_canary_put_back_into_an_upgraded_vault_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.cwv");
    std::fs::copy(fixture("vault-v0.1.cwv"), &path).unwrap();
    let key = RawKey::from_bytes(&RAW_KEY).unwrap();
    let before = {
        let c = rusqlite::Connection::open(fixture("vault-v0.1.cwv")).unwrap();
        c.query_row("SELECT value FROM meta WHERE name = 'canary'", [], |r| r.get::<_, Vec<u8>>(0)).unwrap()
    };
    let v = Vault::open_with_key(&path, &key).unwrap();
    let clients = v.list_clients().unwrap();
    v.checkpoint().unwrap();
    v.close().unwrap();
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.pragma_update(None, "foreign_keys", false).unwrap();
        c.execute("UPDATE meta SET value = ?1 WHERE name = 'canary'", [&before]).unwrap();
        c.execute("DELETE FROM meta WHERE name IN ('state', 'layout')", []).unwrap();
        c.execute("DELETE FROM client_state", []).unwrap();
        c.execute("DELETE FROM state_chunk", []).unwrap();
        c.execute("DELETE FROM record WHERE kind = 'legal' AND client_id = ?1", [clients[0].as_bytes()]).unwrap();
    }
    let err = Vault::open_with_key(&path, &key).unwrap_err();
    assert_eq!(err.kind(), caseward::ErrorKind::Integrity, "{err}");
    assert!(err.to_string().contains("upgraded before"), "{err}");
}
