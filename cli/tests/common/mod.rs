//! What the command-line tests share: running `caseward` in a folder with the vault passphrase
//! in its environment, reading its output, and setting up a provider vault with a signing key.
#![allow(dead_code, reason = "each test file uses a part")]
#![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "a test fails loudly on purpose")]

use std::path::Path;
use std::process::{Command, Output};

use caseward::synth::Synth;
use caseward::{Passphrase, Vault};

/// The passphrase of every vault the tests make; `run` hands it over in `CASEWARD_PASSPHRASE`.
pub const PASS: &str = "cli test passphrase";

/// Runs `caseward ARGS` in `dir`.
pub fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_caseward"))
        .args(args)
        .env("CASEWARD_PASSPHRASE", PASS)
        .current_dir(dir)
        .output()
        .unwrap()
}

/// Its standard output.
pub fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Its standard error.
pub fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A provider vault `file` in `dir` with `clients` synthetic clients from `seed`, given the
/// provider id `id` by `caseward provider`; returns the registry line the command prints.
pub fn provider(dir: &Path, file: &str, id: &str, seed: u64, clients: u32) -> String {
    let v = Vault::create(dir.join(file), &Passphrase::new(PASS)).unwrap();
    let mut synth = Synth::new(seed);
    let intakes: Vec<_> = (0..clients).map(|_| synth.intake()).collect();
    v.enroll_many(&intakes).unwrap();
    v.close().unwrap();
    let o = run(dir, &["provider", file, "--id", id]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let line = out(&o).lines().find(|l| l.starts_with(id)).unwrap().to_owned();
    assert!(line.contains("= \"ed25519:"), "{line}");
    line
}

/// The board's age identity, read from the file `caseward keygen` wrote.
pub fn board_identity(file: &Path) -> age::x25519::Identity {
    let text = std::fs::read_to_string(file).unwrap();
    let line = text.lines().find(|l| l.starts_with("AGE-SECRET-KEY-")).unwrap();
    line.parse().unwrap()
}

/// The signed document inside a bundle (what `age -d` prints).
pub fn decrypt(bundle: &[u8], identity: &age::x25519::Identity) -> serde_json::Value {
    use std::io::Read;
    let decryptor = age::Decryptor::new_buffered(bundle).unwrap();
    let mut reader = decryptor.decrypt(std::iter::once(identity as &dyn age::Identity)).unwrap();
    let mut plain = Vec::new();
    reader.read_to_end(&mut plain).unwrap();
    serde_json::from_slice(&plain).unwrap()
}

/// A new Ed25519 key a crafted bundle is signed with.
pub fn signing_key() -> ring::signature::Ed25519KeyPair {
    let doc = ring::signature::Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new()).unwrap();
    ring::signature::Ed25519KeyPair::from_pkcs8(doc.as_ref()).unwrap()
}

/// A key's registry form, `ed25519:<hex>`.
pub fn public_key(key: &ring::signature::Ed25519KeyPair) -> String {
    use ring::signature::KeyPair;
    let hex: String = key.public_key().as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("ed25519:{hex}")
}

/// A bundle of `report` (a report's JSON) signed by `signer`, claiming `claimed` as its public
/// key (the signer's own unless told otherwise), encrypted to the board's `recipient`: what a
/// provider holding that key could send.
pub fn craft_bundle(
    report: &serde_json::Value,
    signer: &ring::signature::Ed25519KeyPair,
    claimed: Option<&str>,
    recipient: &str,
) -> Vec<u8> {
    use std::io::Write;
    let mut message = b"caseward-report/1\0".to_vec();
    message.extend_from_slice(&caseward::report::bundle::canonical_json(report));
    let signature: String = signer.sign(&message).as_ref().iter().map(|b| format!("{b:02x}")).collect();
    let doc = serde_json::json!({
        "format": "caseward-bundle/1",
        "report": report,
        "signature": {
            "algorithm": "ed25519",
            "public_key": claimed.map_or_else(|| public_key(signer), str::to_owned),
            "value": signature,
        },
    });
    let recipient: age::x25519::Recipient = recipient.parse().unwrap();
    let encryptor = age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient)).unwrap();
    let mut out = Vec::new();
    let mut w = encryptor.wrap_output(&mut out).unwrap();
    w.write_all(&serde_json::to_vec(&doc).unwrap()).unwrap();
    w.finish().unwrap();
    out
}

/// Builds a report for `period` from `vault` into `file`, encrypted to `recipient`.
pub fn build(dir: &Path, vault: &str, period: &str, recipient: &str, file: &str) {
    let o = run(dir, &["report", "build", vault, "--period", period, "--to", recipient, "-o", file]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
}

/// `caseward report build --revise REASON`: new numbers for a released period.
pub fn revise(dir: &Path, vault: &str, period: &str, recipient: &str, file: &str, reason: &str) -> Output {
    let o =
        run(dir, &["report", "build", vault, "--period", period, "--to", recipient, "-o", file, "--revise", reason]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    o
}

/// A refusal: exit status 1 and exactly one line on standard error, which contains `reason`.
pub fn assert_refused(o: &Output, reason: &str) {
    let e = err(o);
    assert_eq!(o.status.code(), Some(1), "exit status; stderr: {e}");
    assert_eq!(e.lines().count(), 1, "one line: {e}");
    assert!(e.contains(reason), "{reason:?} not in: {e}");
}
