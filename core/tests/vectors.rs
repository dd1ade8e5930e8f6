//! Checked-in sealed-value vectors: values sealed by this version must open, byte for byte, in
//! every later version, and the listed alterations must fail with the listed error.
//!
//! Regenerate (only when the format version changes): `CW_WRITE_VECTORS=1 cargo test -p caseward --test vectors`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test fails loudly on purpose"
)]

use caseward::seal::{Aad, Algorithm, NonceSource, SealError, SealingKey};
use serde_json::{json, Value};

const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/sealed.json");

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

fn alg(name: &str) -> Algorithm {
    Algorithm::from_name(name).unwrap()
}

fn write_vectors() {
    let cases = [
        ("aes-256-gcm", 0u32, "contact.phone", b"+1 713 555 0100".to_vec()),
        ("aes-256-gcm", 7, "obligation.reporting.next", br#"{"date":"2026-11-20","office":"Houston ERO"}"#.to_vec()),
        ("chacha20-poly1305", 0, "note.case", "Cliente llegó con su hija; próxima cita el martes.".as_bytes().to_vec()),
        ("chacha20-poly1305", 3, "client_key", vec![0xA5; 32]),
        ("aes-256-gcm", 1, "identifier.name", Vec::new()),
    ];
    let mut out = Vec::new();
    for (i, (alg_name, kv, category, plaintext)) in cases.into_iter().enumerate() {
        let secret = [i as u8 + 1; 32];
        let key = SealingKey::derive(&secret, alg(alg_name), kv).unwrap();
        let (vault, row, client) = ([0x10 + i as u8; 16], (i as i64 + 100).to_be_bytes(), [0x20 + i as u8; 16]);
        let aad = Aad { vault: &vault, table: "record", row: &row, client: &client, category, schema: 1 };
        let sealed = key.seal(&mut NonceSource::new(), &aad, &plaintext).unwrap();
        out.push(json!({
            "secret": hex(&secret), "algorithm": alg_name, "key_version": kv,
            "aad": {"vault": hex(&vault), "table": "record", "row": hex(&row), "client": hex(&client), "category": category, "schema": 1},
            "plaintext": hex(&plaintext), "sealed": hex(&sealed), "commitment": hex(key.commitment()),
        }));
    }
    std::fs::write(PATH, serde_json::to_string_pretty(&out).unwrap() + "\n").unwrap();
}

#[test]
fn checked_in_vectors_open() {
    if std::env::var_os("CW_WRITE_VECTORS").is_some() {
        write_vectors();
    }
    let vectors: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(PATH).unwrap()).unwrap();
    assert_eq!(vectors.len(), 5);
    for v in vectors {
        let s = |k: &str| v[k].as_str().unwrap().to_owned();
        let secret: [u8; 32] = unhex(&s("secret")).try_into().unwrap();
        let key = SealingKey::derive(&secret, alg(&s("algorithm")), v["key_version"].as_u64().unwrap() as u32).unwrap();
        assert_eq!(hex(key.commitment()), s("commitment"), "the key derivation changed");
        let a = &v["aad"];
        let field = |k: &str| unhex(a[k].as_str().unwrap());
        let (vault, row, client): ([u8; 16], Vec<u8>, [u8; 16]) =
            (field("vault").try_into().unwrap(), field("row"), field("client").try_into().unwrap());
        let category = a["category"].as_str().unwrap();
        let aad =
            Aad { vault: &vault, table: a["table"].as_str().unwrap(), row: &row, client: &client, category, schema: 1 };
        let sealed = unhex(&s("sealed"));
        assert_eq!(&key.open(&aad, &sealed).unwrap()[..], &unhex(&s("plaintext"))[..]);

        // The listed alterations, and the error each must give.
        let mut t = sealed.clone();
        t[2] = 9;
        assert_eq!(key.open(&aad, &t).unwrap_err(), SealError::UnsupportedVersion(9));
        let mut t = sealed.clone();
        t[3] = 7;
        assert_eq!(key.open(&aad, &t).unwrap_err(), SealError::UnknownAlgorithm(7));
        let mut t = sealed.clone();
        t[10] ^= 1; // inside the commitment
        assert_eq!(key.open(&aad, &t).unwrap_err(), SealError::Commitment);
        let mut t = sealed.clone();
        *t.last_mut().unwrap() ^= 1; // the tag
        assert_eq!(key.open(&aad, &t).unwrap_err(), SealError::Tag);
        assert_eq!(key.open(&aad, &sealed[..20]).unwrap_err(), SealError::Malformed);
        let moved = Aad { category: "health.mental", ..aad };
        assert_eq!(key.open(&moved, &sealed).unwrap_err(), SealError::Tag);
    }
}
