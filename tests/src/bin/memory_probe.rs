//! Child process for the memory-hygiene test: uses vaults with a raw key, a passphrase and a
//! recovery identity, closes them, then searches its own memory (every readable mapping, through
//! /proc/self/mem) for the raw key, the passphrase and the vault's root key. Prints one JSON
//! line of counts.
//!
//! The needles are never held in clear: each is stored XORed with a random mask, and compared
//! byte by byte. The root key is learnt only from the stock `age` tool decrypting the recovery
//! envelope in another process, read into a fixed buffer and masked at once.

use std::io::{Read, Seek, SeekFrom, Write};
use std::process::{Command, Stdio};

use caseward::{Passphrase, RawKey, RecoveryIdentity, Vault};
use zeroize::Zeroize;

fn masked(secret: &[u8], mask: &[u8]) -> Vec<u8> {
    secret.iter().zip(mask.iter().cycle()).map(|(s, m)| s ^ m).collect()
}

/// Occurrences of the masked needle in the process's readable memory.
fn count(masked_needle: &[u8], mask: &[u8]) -> usize {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
    let mut mem = match std::fs::File::open("/proc/self/mem") {
        Ok(f) => f,
        Err(_) => return usize::MAX,
    };
    let mut found = 0;
    let mut buf = vec![0u8; 1 << 20];
    for line in maps.lines() {
        let mut parts = line.split_whitespace();
        let (Some(range), Some(perms)) = (parts.next(), parts.next()) else { continue };
        let name = parts.nth(3).unwrap_or("");
        if !perms.starts_with('r') || name.starts_with("[v") {
            continue;
        }
        let Some((a, b)) = range.split_once('-') else { continue };
        let (Ok(start), Ok(end)) = (u64::from_str_radix(a, 16), u64::from_str_radix(b, 16)) else { continue };
        let mut at = start;
        while at < end {
            let len = ((end - at) as usize).min(buf.len());
            if mem.seek(SeekFrom::Start(at)).is_err() {
                break;
            }
            let Ok(n) = mem.read(&mut buf[..len]) else { break };
            if n == 0 {
                break;
            }
            for w in buf[..n].windows(masked_needle.len()) {
                if w.iter().zip(masked_needle).zip(mask.iter().cycle()).all(|((x, m), k)| x ^ k == *m) {
                    found += 1;
                }
            }
            // Overlap so a needle across a chunk boundary is not missed.
            at += (n.saturating_sub(masked_needle.len()).max(1)) as u64;
        }
    }
    found
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let mut mask = [0u8; 32];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut mask).map_err(|_| "rng")?;

    // 1. A vault opened by a raw key, with a recovery recipient; enroll, read, disclose, rotate.
    let raw = RawKey::generate()?;
    let raw_masked = masked(raw.expose_bytes(), &mask);
    let recovery = RecoveryIdentity::generate();
    let id_file = dir.path().join("recovery.key");
    {
        let mut secret = recovery.to_secret_string();
        std::fs::write(&id_file, secret.as_bytes())?;
        secret.zeroize();
    }
    let path = dir.path().join("k.cwv");
    {
        let v = Vault::create_with_key(&path, &raw)?;
        v.add_recovery_recipient(&recovery.recipient())?;
        let mut synth = caseward::synth::Synth::new(12);
        let ids = v.enroll_many((0..50).map(|_| synth.intake()).collect::<Vec<_>>())?;
        for c in &ids {
            let _ = v.client_record(*c)?;
            let _ = v.ice_notice(*c, caseward::AddressConsent::GivenForThisNotice);
        }
        v.rotate_keys()?;
        v.close()?;
        let v = Vault::open_with_key(&path, &raw)?;
        for c in v.list_clients()? {
            let _ = v.client_record(c)?;
        }
        v.close()?;
    }
    drop(raw);
    drop(recovery);

    // 2. A vault with a passphrase.
    // Made at run time (a literal would sit in the executable's read-only data).
    let mut pass_bytes = [0u8; 24];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut pass_bytes).map_err(|_| "rng")?;
    let mut pass_text: String = pass_bytes.iter().map(|b| char::from(b'a' + b % 26)).collect();
    pass_bytes.zeroize();
    let pass_masked = masked(pass_text.as_bytes(), &mask);
    {
        let p = Passphrase::new(std::mem::take(&mut pass_text));
        let opts = caseward::VaultOptions { kdf: caseward::KdfParams::new(15)?, ..Default::default() };
        let pp = dir.path().join("p.cwv");
        Vault::create_with_options(&pp, &p, opts)?.close()?;
        Vault::open(&pp, &p)?.close()?;
    }

    // 3. The root key, from the recovery envelope, through the stock age tool.
    let envelope: Vec<u8> = rusqlite::Connection::open(&path)?.query_row(
        "SELECT age_file FROM key_envelope WHERE kind = 'recovery'",
        [],
        |r| r.get(0),
    )?;
    let env_file = dir.path().join("envelope.age");
    std::fs::write(&env_file, &envelope)?;
    let mut child =
        Command::new("age").arg("-d").arg("-i").arg(&id_file).arg(&env_file).stdout(Stdio::piped()).spawn()?;
    let mut root = [0u8; 64];
    let mut n = 0;
    if let Some(out) = child.stdout.as_mut() {
        while n < root.len() {
            match out.read(&mut root[n..])? {
                0 => break,
                k => n += k,
            }
        }
    }
    child.wait()?;
    if n != 32 {
        return Err(format!("age returned {n} bytes for the root key").into());
    }
    let root_masked = masked(&root[..32], &mask);
    root.zeroize();
    std::fs::remove_file(&id_file)?;

    // A control: 32 random bytes deliberately left in memory, which the scan must find, so a
    // zero above means "not there", not "the scanner is blind".
    let mut control = vec![0u8; 32];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut control).map_err(|_| "rng")?;
    let control_masked = masked(&control, &mask);
    let counts = (count(&raw_masked, &mask), count(&pass_masked, &mask), count(&root_masked, &mask));
    let control_found = count(&control_masked, &mask);
    std::hint::black_box(&control);
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{{\"raw_key\":{},\"passphrase\":{},\"root_key\":{},\"control\":{control_found}}}",
        counts.0, counts.1, counts.2
    )?;
    Ok(())
}
