//! Root-key rotation: a new root key, every old key envelope retired.
//!
//! Everything keyed by the root is re-keyed in one transaction: client keys are rewrapped under
//! a key-encryption key of the new root, the blind index is recomputed from each client's sealed
//! identity, the sealed metadata and the canary are sealed again, and the authenticated state is
//! rebuilt under the new state key. Recovery and keystore envelopes are re-made from the public
//! recipients they are stored under; a passphrase envelope needs its passphrase, so the caller
//! gives the one to keep (the same or a new one).
//!
//! Why: an old envelope row put back into the file, or kept in an old backup, opens the old root
//! only. The old root no longer opens the canary, the state, the metadata or any client key
//! wrapped after the rotation, so the old passphrase opens nothing in the current file.
//!
//! The state is rebuilt from the rows on disk, which would launder a tampered row into the new
//! state; so every row is first checked against the current state, in the same transaction.

use std::collections::BTreeSet;

use rusqlite::{params, OptionalExtension, Transaction, TransactionBehavior};
use zeroize::Zeroizing;

use super::log::{self, checked_log_head, Detail, Entry, Subject};
use super::state::{ENVELOPES, ROOT_NAME};
use super::{aad, load_client_key, refresh_policy, Crypto, Inner, Vault, CANARY_V2};
use crate::audit::Event;
use crate::error::{Error, Result};
use crate::keys::{self, ClientKey, EnvelopeKind, KdfParams, NewEnvelope, Passphrase, RootKey, Unlock};
use crate::policy::PolicyHash;
use crate::record::{ClientId, Identity, Record, RecordKind};
use crate::sealed_record::{open_record, ClientKeys};

/// The passphrase a rotation keeps: the envelope it replaces is retired with the old root.
pub(super) type KeptPassphrase<'a> = Option<(&'a Passphrase, KdfParams)>;

impl Vault {
    /// Rotates the root key and retires every key envelope that opened the old one.
    ///
    /// Recovery recipients and keystore keys keep working: their envelopes are re-made for the
    /// new root from their public recipients. A vault that opens with a passphrase needs one
    /// given here (the same or a new one); its old envelope is retired like the others. Client
    /// keys, records, the log and the report signing key are kept; the key version goes up by one.
    ///
    /// What it does not do: records are not re-encrypted, so someone who held the old root and
    /// keeps an old copy of the file can still read what clients enrolled before the rotation
    /// have on record, then and later (see SECURITY.md, "Root-key rotation").
    pub fn rotate_root_key(&self, passphrase: Option<&Passphrase>, kdf: KdfParams) -> Result<()> {
        self.rotate_with(passphrase.map(|p| (p, kdf)), None)
    }

    /// Replaces the passphrase, and rotates the root key so the old passphrase envelope, if put
    /// back from a copy of the file, opens nothing. `old` must open the current passphrase
    /// envelope.
    pub fn change_passphrase(&self, old: &Passphrase, new: &Passphrase, kdf: KdfParams) -> Result<()> {
        self.rotate_with(Some((new, kdf)), Some(old))
    }

    fn rotate_with(&self, keep: KeptPassphrase<'_>, old: Option<&Passphrase>) -> Result<()> {
        self.with(|inner| {
            let Inner { conn, crypto, policy, policy_digest, .. } = inner;
            let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
            crypto.begin(&tx)?;
            let fresh = (|| {
                refresh_policy(&tx, crypto, policy, policy_digest)?;
                if let Some(old) = old {
                    check_old_passphrase(&tx, crypto, old)?;
                }
                rekey(&tx, crypto, policy.hash(), keep)
            })();
            crypto.state.end();
            let fresh = fresh?;
            tx.commit()?;
            *crypto = fresh;
            Ok(())
        })
    }
}

fn check_old_passphrase(tx: &Transaction<'_>, crypto: &Crypto, old: &Passphrase) -> Result<()> {
    let (age_file, log_n): (Vec<u8>, Option<u8>) = tx
        .query_row("SELECT age_file, log_n FROM key_envelope WHERE kind = 'passphrase'", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?
        .ok_or_else(|| Error::not_found("this vault has no passphrase"))?;
    let root = keys::unwrap_root(&age_file, &Unlock::Passphrase(old), log_n.unwrap_or(KdfParams::MAX_LOG_N))?;
    if !bool::from(subtle::ConstantTimeEq::ct_eq(&root.expose()[..], &crypto.root.expose()[..])) {
        return Err(Error::WrongKey("the old passphrase does not open this vault"));
    }
    Ok(())
}

/// One client as the rotation carries it over: its key and the A-number its lookup row holds.
struct Carried {
    client: ClientId,
    key: ClientKey,
    a_number: String,
}

/// Re-keys the vault under a new root, in `tx`, and returns the new key material. `old` has the
/// state open; the new state is flushed and closed here.
fn rekey(tx: &Transaction<'_>, old: &mut Crypto, policy: PolicyHash, keep: KeptPassphrase<'_>) -> Result<Crypto> {
    // 1. Check every row against the current state before any of it is trusted.
    let head = checked_log_head(tx, old)?;
    old.state.check_all_meta(tx)?;
    old.state.check_ledger(tx)?;
    old.state.check_decisions(tx)?;
    // Above all the envelopes: each stored recipient receives the new root.
    old.state.check_envelopes(tx)?;
    let listed = old.state.all_clients(tx)?;
    let on_disk: BTreeSet<ClientId> = tx
        .prepare("SELECT id FROM client")?
        .query_map([], |r| r.get::<_, Vec<u8>>(0))?
        .map(|id| {
            ClientId::from_slice(&id?).ok_or_else(|| Error::corrupt("client", "-", "a client id is not 16 bytes"))
        })
        .collect::<Result<_>>()?;
    if let Some(extra) = on_disk.iter().find(|c| !listed.contains_key(c)) {
        return Err(Error::corrupt("client", *extra, "the client is not in the vault state"));
    }
    let mut carried = Vec::with_capacity(listed.len());
    for &client in listed.keys() {
        // A full check of the client's rows (its MAC), then its identity for the new blind index.
        let key = load_client_key(tx, old, client)?;
        let (id, body): (i64, Vec<u8>) = tx
            .query_row(
                "SELECT id, body FROM record WHERE client_id = ?1 AND kind = 'identity'",
                [client.as_bytes()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?
            .ok_or_else(|| Error::corrupt("record", client, "the client has no identity record"))?;
        let mut keys = ClientKeys::new(client, key, old.alg);
        let Record::Identity(Identity { a_number, .. }) =
            open_record(&old.vault_id, &mut keys, id, RecordKind::Identity, body)?
        else {
            return Err(Error::corrupt("record", id, "an identity row holds another kind of record"));
        };
        carried.push(Carried { client, key: keys.key, a_number: a_number.as_str().to_owned() });
    }
    let envelopes: Vec<(String, Option<String>)> = tx
        .prepare("SELECT kind, recipient FROM key_envelope ORDER BY id")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let had_passphrase = envelopes.iter().any(|(k, _)| k == EnvelopeKind::Passphrase.as_str());
    if had_passphrase && keep.is_none() {
        return Err(Error::input(
            "this vault opens with a passphrase: give the passphrase to keep (the same or a new one), \
             since its old envelope is retired with the old root key",
        ));
    }

    // 2. The new root, and the old one kept (sealed under the new root) for old log entries.
    let next = old.kek_version.checked_add(1).ok_or_else(|| Error::input("the key version is exhausted"))?;
    let mut fresh = Crypto::new(RootKey::generate()?, old.vault_id, old.alg, next)?;
    let mut retired = Zeroizing::new(Vec::new());
    if let Some(sealed) = old.state.meta_get(tx, aad::RETIRED_ROOTS)? {
        retired.extend_from_slice(&open_meta(old, aad::RETIRED_ROOTS, &sealed)?);
    }
    retired.extend_from_slice(old.root.expose());

    // 3. Rewrite every row the root keys, under the new keys.
    let mut update = tx.prepare("UPDATE client SET kek_version = ?1, wrapped_key = ?2 WHERE id = ?3")?;
    tx.execute("DELETE FROM lookup", [])?;
    let mut lookup = tx.prepare("INSERT INTO lookup (digest, client_id) VALUES (?1, ?2)")?;
    for c in &carried {
        let wrapped = fresh
            .kek
            .seal(&mut fresh.nonces, &aad::client_key(&fresh.vault_id, &c.client), c.key.expose())
            .map_err(|e| Error::integrity("client", c.client, e))?;
        update.execute(params![next, wrapped, c.client.as_bytes()])?;
        lookup.execute(params![&fresh.blind.digest(&c.a_number)[..], c.client.as_bytes()])?;
    }
    for name in aad::SEALED_META {
        let value = if name == aad::RETIRED_ROOTS {
            Some(retired.clone())
        } else {
            old.state.meta_get(tx, name)?.map(|sealed| open_meta(old, name, &sealed)).transpose()?
        };
        if let Some(plain) = value {
            let sealed = fresh
                .meta_key
                .seal(&mut fresh.nonces, &aad::meta(&fresh.vault_id, name), &plain)
                .map_err(|e| Error::integrity("meta", name, e))?;
            tx.execute("INSERT OR REPLACE INTO meta (name, value) VALUES (?1, ?2)", params![name, sealed])?;
        }
    }
    let canary = fresh
        .root
        .canary_key(fresh.alg)?
        .seal(&mut fresh.nonces, &aad::canary(&fresh.vault_id), CANARY_V2)
        .map_err(|e| Error::integrity("meta", "canary", e))?;
    tx.execute("INSERT OR REPLACE INTO meta (name, value) VALUES ('canary', ?1)", [canary])?;
    tx.execute("INSERT OR REPLACE INTO meta (name, value) VALUES ('kek_version', ?1)", [next.to_be_bytes()])?;
    // In the order they were added: the kept passphrase takes the old one's place.
    let mut made: Vec<NewEnvelope> = Vec::with_capacity(envelopes.len() + 1);
    let mut keep = keep;
    for (kind, recipient) in &envelopes {
        let kind = EnvelopeKind::parse(kind).ok_or_else(|| Error::corrupt("key_envelope", "-", "unknown kind"))?;
        match (kind, recipient) {
            (EnvelopeKind::Passphrase, _) => {
                if let Some((passphrase, kdf)) = keep.take() {
                    made.push(keys::wrap_for_passphrase(&fresh.root, passphrase, kdf)?);
                }
            }
            (_, Some(r)) => made.push(keys::rewrap_for_stored(&fresh.root, kind, r)?),
            (_, None) => return Err(Error::corrupt("key_envelope", "-", "an X25519 envelope has no recipient")),
        }
    }
    if let Some((passphrase, kdf)) = keep {
        made.push(keys::wrap_for_passphrase(&fresh.root, passphrase, kdf)?);
    }
    if made.is_empty() {
        return Err(Error::input("the vault would have no key envelope: add a passphrase or a key first"));
    }
    tx.execute("DELETE FROM key_envelope", [])?;
    for e in &made {
        super::insert_envelope(tx, e)?;
    }
    let digest = fresh.state.envelopes_digest(tx)?;
    tx.execute("INSERT OR REPLACE INTO meta (name, value) VALUES (?1, ?2)", params![ENVELOPES, digest])?;

    // 4. The state, rebuilt from the rows checked above and sealed under the new root.
    tx.execute("DELETE FROM client_state", [])?;
    tx.execute("DELETE FROM state_chunk", [])?;
    tx.execute("DELETE FROM meta WHERE name = ?1", [ROOT_NAME])?;
    let rebuilt = (|| {
        fresh.state.rebuild(tx, head)?;
        let entry = Entry {
            event: Event::KeyRotation,
            audience: None,
            subject: Subject::Vault,
            output: [0; 32],
            detail: Detail::RootRotation { root_key: "rotated", kek_version: next, envelopes: made.len() },
        };
        log::append(tx, &mut fresh, policy, entry)?;
        fresh.flush(tx)
    })();
    fresh.state.end();
    rebuilt?;
    Ok(fresh)
}

fn open_meta(crypto: &Crypto, name: &str, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    crypto
        .meta_key
        .open(&aad::meta(&crypto.vault_id, name), sealed)
        .map_err(|e| Error::integrity("meta", name.to_owned(), e))
}

/// The root keys earlier rotations retired, newest last.
pub(super) fn retired_roots(conn: &rusqlite::Connection, crypto: &Crypto) -> Result<Vec<RootKey>> {
    let Some(sealed) = crypto.state.meta_get(conn, aad::RETIRED_ROOTS)? else { return Ok(Vec::new()) };
    let plain = open_meta(crypto, aad::RETIRED_ROOTS, &sealed)?;
    if plain.len() % 32 != 0 {
        return Err(Error::corrupt("meta", aad::RETIRED_ROOTS, "not a list of 32-byte keys"));
    }
    plain
        .chunks(32)
        .map(|k| RootKey::from_bytes(k).ok_or_else(|| Error::corrupt("meta", aad::RETIRED_ROOTS, "a retired key")))
        .collect()
}
