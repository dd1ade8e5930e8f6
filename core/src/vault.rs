//! The vault: one SQLite file of sealed client records, and the API an app embeds.
//!
//! Every public write is one `BEGIN IMMEDIATE` transaction: it either happens whole or not at
//! all, and a write that fails leaves every earlier record as it was. A [`Vault`] is `Send` and
//! `Sync`; calls from several threads are serialized on one connection.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use rusqlite::{params, OptionalExtension, Transaction, TransactionBehavior};
use subtle::ConstantTimeEq;

use crate::audit::{self, Event, LogEntry, LogHead, LogProblem, LogStatus, NewEntry};
use crate::category::Category;
use crate::error::{Error, Result};
use crate::firewall::{self, CategoryReader, ClientCopy, ClientView, Gate, IceNotice, PartnerReferral, SealedRecord};
use crate::identifier::{AlienNumber, Date};
use crate::keys::{
    self, BlindIndexKey, ClientKey, EnvelopeKind, KdfParams, NewEnvelope, Passphrase, RawKey, RecoveryIdentity,
    RecoveryRecipient, RootKey, Unlock,
};
use crate::policy::{Audience, PartnerId, Policy, PolicyHash};
use crate::record::{
    ClientId, ClientRecord, ConsentRecord, Identity, Intake, Record, RecordId, RecordKind, SectionReader,
    SectionWriter, StoredRecord,
};
use crate::seal::{Aad, Algorithm, Header, NonceSource, SealError, SealingKey};
use crate::store;

mod reports;

pub use reports::{DuplicateCandidate, MatchDecision, MatchReason};

const CANARY: &[u8] = b"caseward vault canary v1";
/// The layout version of a record body; bound into every section's AAD.
const BODY_VERSION: u8 = 1;
const NO_CLIENT: [u8; 16] = [0u8; 16];
/// The layout of vault-level sealed values (canary, wrapped client keys, metadata, log details),
/// bound into their AAD. It is not the SQLite schema version: adding a table must not make every
/// existing value fail to open.
const VALUE_LAYOUT: u32 = 1;
/// The record layout: 2 gives the DHS form of a name its own section (and key), so the ICE
/// reader can open it without opening the rest of the name. Vaults at layout 1 are upgraded
/// when first unlocked.
const LAYOUT: u8 = 2;

/// The client's consent to send their address of record to ICE, given for one notice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddressConsent {
    /// No consent: the notice says the client reports their address directly.
    Withheld,
    /// The client consented, for this notice, to the address of record and its filings.
    GivenForThisNotice,
}

/// Options chosen when a vault is created.
#[derive(Clone, Copy, Debug, Default)]
pub struct VaultOptions {
    /// The AEAD for every sealed value.
    pub algorithm: Algorithm,
    /// The scrypt work factor for the passphrase envelope.
    pub kdf: KdfParams,
}

/// A key envelope as listed for an administrator: never its contents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvelopeInfo {
    /// How it opens.
    pub kind: EnvelopeKind,
    /// The public recipient (`age1...`) for X25519 kinds.
    pub recipient: Option<String>,
    /// The scrypt work factor, for a passphrase.
    pub log_n: Option<u8>,
}

/// What an erasure did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use = "check residue_cleared: if false, copies of the erased data may remain until clear_residue succeeds"]
pub struct Erasure {
    /// How many records were deleted with the client key.
    pub records_deleted: usize,
    /// Whether the file was rebuilt and the WAL truncated, so no copy of the erased data remains
    /// in free space. `false` when another connection was reading or the disk was full: call
    /// [`Vault::clear_residue`] until it succeeds.
    pub residue_cleared: bool,
}

/// An encrypted client-record vault. See the crate documentation for an example.
pub struct Vault {
    inner: Mutex<Option<Inner>>,
}

impl fmt::Debug for Vault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Vault { .. }")
    }
}

struct Inner {
    conn: rusqlite::Connection,
    crypto: Crypto,
    path: PathBuf,
    policy: Policy,
}

/// The unlocked key material and what is derived from it.
struct Crypto {
    root: RootKey,
    vault_id: [u8; 16],
    alg: Algorithm,
    kek_version: u32,
    kek: SealingKey,
    blind: BlindIndexKey,
    meta_key: SealingKey,
    nonces: NonceSource,
}

impl Vault {
    /// Creates a vault at `path` that opens with `passphrase`, with the default options.
    pub fn create(path: impl AsRef<Path>, passphrase: &Passphrase) -> Result<Self> {
        Self::create_with(path, Unlock::Passphrase(passphrase), VaultOptions::default())
    }

    /// Creates a vault that opens with `passphrase`, with the given options.
    pub fn create_with_options(path: impl AsRef<Path>, passphrase: &Passphrase, options: VaultOptions) -> Result<Self> {
        Self::create_with(path, Unlock::Passphrase(passphrase), options)
    }

    /// Creates a vault that opens with a raw key from the app's platform keystore.
    pub fn create_with_key(path: impl AsRef<Path>, key: &RawKey) -> Result<Self> {
        Self::create_with(path, Unlock::Keystore(key), VaultOptions::default())
    }

    /// Creates a vault that opens with a raw key, with the given options.
    pub fn create_with_key_and_options(path: impl AsRef<Path>, key: &RawKey, options: VaultOptions) -> Result<Self> {
        Self::create_with(path, Unlock::Keystore(key), options)
    }

    fn create_with(path: impl AsRef<Path>, unlock: Unlock<'_>, options: VaultOptions) -> Result<Self> {
        let path = path.as_ref();
        let root = RootKey::generate()?;
        let envelope = match unlock {
            Unlock::Passphrase(p) => keys::wrap_for_passphrase(&root, p, options.kdf)?,
            Unlock::Keystore(k) => keys::wrap_for_keystore(&root, k)?,
            Unlock::Recovery(r) => keys::wrap_for_recipient(&root, &r.recipient())?,
        };
        let mut vault_id = [0u8; 16];
        vault_id.copy_from_slice(ClientId::random()?.as_bytes());
        let conn = store::create(path)?;
        let result = (|| {
            let crypto = Crypto::new(root, vault_id, options.algorithm, 0)?;
            let tx = conn.unchecked_transaction()?;
            let canary = crypto
                .root
                .canary_key(crypto.alg)?
                .seal(&mut NonceSource::new(), &canary_aad(&vault_id), CANARY)
                .map_err(|e| Error::integrity("meta", "canary", e))?;
            let meta: [(&str, Vec<u8>); 5] = [
                ("vault_id", vault_id.to_vec()),
                ("algorithm", crypto.alg.name().as_bytes().to_vec()),
                ("kek_version", 0u32.to_be_bytes().to_vec()),
                ("canary", canary),
                ("layout", vec![LAYOUT]),
            ];
            for (name, value) in meta {
                tx.execute("INSERT INTO meta (name, value) VALUES (?1, ?2)", params![name, value])?;
            }
            insert_envelope(&tx, &envelope)?;
            write_sealed_head(&tx, &crypto, None)?;
            tx.commit()?;
            Ok(crypto)
        })();
        match result {
            Ok(crypto) => Ok(Self::from_parts(conn, crypto, path, Policy::default_policy()?)),
            Err(e) => {
                // Only a file we created a moment ago, holding no client data, is removed.
                drop(conn);
                for suffix in ["", "-wal", "-shm"] {
                    let mut p = path.as_os_str().to_owned();
                    p.push(suffix);
                    let _ = std::fs::remove_file(PathBuf::from(p));
                }
                Err(e)
            }
        }
    }

    /// Opens a vault with its passphrase.
    ///
    /// A wrong passphrase is [`crate::ErrorKind::WrongKey`], reported before any record is read.
    pub fn open(path: impl AsRef<Path>, passphrase: &Passphrase) -> Result<Self> {
        Self::open_with(path.as_ref(), Unlock::Passphrase(passphrase))
    }

    /// Opens a vault with a raw 32-byte key from the app's platform keystore.
    pub fn open_with_key(path: impl AsRef<Path>, key: &RawKey) -> Result<Self> {
        Self::open_with(path.as_ref(), Unlock::Keystore(key))
    }

    /// Opens a vault with a recovery identity (an age X25519 identity added with
    /// [`Vault::add_recovery_recipient`]).
    pub fn open_with_identity(path: impl AsRef<Path>, identity: &RecoveryIdentity) -> Result<Self> {
        Self::open_with(path.as_ref(), Unlock::Recovery(identity))
    }

    fn open_with(path: &Path, unlock: Unlock<'_>) -> Result<Self> {
        let conn = store::open(path)?;
        let (age_file, log_n): (Vec<u8>, Option<u8>) = {
            let found = match &unlock {
                Unlock::Passphrase(_) => conn
                    .query_row("SELECT age_file, log_n FROM key_envelope WHERE kind = 'passphrase'", [], |r| {
                        Ok((r.get(0)?, r.get(1)?))
                    })
                    .optional()?,
                Unlock::Keystore(k) => conn
                    .query_row(
                        "SELECT age_file, log_n FROM key_envelope WHERE kind = 'keystore' AND recipient = ?1",
                        [keys::keystore_recipient(k)?],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()?,
                Unlock::Recovery(id) => conn
                    .query_row(
                        "SELECT age_file, log_n FROM key_envelope WHERE kind = 'recovery' AND recipient = ?1",
                        [keys::recovery_recipient(id)],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()?,
            };
            found.ok_or(Error::WrongKey("no key envelope in this vault matches that key"))?
        };
        let max_log_n = log_n.unwrap_or(KdfParams::MAX_LOG_N).min(KdfParams::MAX_LOG_N);
        let root = keys::unwrap_root(&age_file, &unlock, max_log_n)?;

        let meta = |name: &str| -> Result<Vec<u8>> {
            conn.query_row("SELECT value FROM meta WHERE name = ?1", [name], |r| r.get(0))
                .optional()?
                .ok_or_else(|| Error::corrupt("meta", name.to_owned(), "a required entry is missing"))
        };
        let vault_id: [u8; 16] =
            meta("vault_id")?.try_into().map_err(|_| Error::corrupt("meta", "vault_id", "not 16 bytes"))?;
        let alg = std::str::from_utf8(&meta("algorithm")?)
            .ok()
            .and_then(Algorithm::from_name)
            .ok_or_else(|| Error::corrupt("meta", "algorithm", "unknown algorithm"))?;
        let kek_version = u32::from_be_bytes(
            meta("kek_version")?.try_into().map_err(|_| Error::corrupt("meta", "kek_version", "not 4 bytes"))?,
        );
        // The canary proves the unwrapped root belongs to this vault (an envelope copied in from
        // another vault opens with its own key, but not this canary) before any data is read.
        let canary = meta("canary")?;
        let opened = root
            .canary_key(alg)?
            .open(&canary_aad(&vault_id), &canary)
            .map_err(|_| Error::WrongKey("the key opens an envelope, but not this vault's canary"))?;
        if !bool::from(opened.as_slice().ct_eq(CANARY)) {
            return Err(Error::WrongKey("the key opens an envelope, but not this vault's canary"));
        }
        let mut crypto = Crypto::new(root, vault_id, alg, kek_version)?;
        upgrade_layout(&conn, &mut crypto)?;
        let policy = load_policy(&conn, &crypto)?;
        Ok(Self::from_parts(conn, crypto, path, policy))
    }

    fn from_parts(conn: rusqlite::Connection, crypto: Crypto, path: &Path, policy: Policy) -> Self {
        Self { inner: Mutex::new(Some(Inner { conn, crypto, path: path.to_owned(), policy })) }
    }

    fn lock(&self) -> MutexGuard<'_, Option<Inner>> {
        // A panic while the lock was held cannot leave a transaction half-applied (SQLite rolls
        // back an open transaction), so a poisoned lock is safe to take over.
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> Result<T>) -> Result<T> {
        let mut guard = self.lock();
        let inner = guard.as_mut().ok_or_else(|| Error::input("the vault is closed"))?;
        f(inner)
    }

    fn write<T>(&self, f: impl FnOnce(&Transaction<'_>, &mut Crypto) -> Result<T>) -> Result<T> {
        self.with(|inner| {
            let tx = inner.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let out = f(&tx, &mut inner.crypto)?;
            tx.commit()?;
            Ok(out)
        })
    }

    fn write_p<T>(&self, f: impl FnOnce(&Transaction<'_>, &mut Crypto, &mut Policy) -> Result<T>) -> Result<T> {
        self.with(|inner| {
            let tx = inner.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let out = f(&tx, &mut inner.crypto, &mut inner.policy)?;
            tx.commit()?;
            Ok(out)
        })
    }

    /// Closes the vault: the connection is closed and the keys are zeroized. Any call after this
    /// returns an error.
    pub fn close(&self) -> Result<()> {
        let mut guard = self.lock();
        if let Some(inner) = guard.take() {
            inner.conn.close().map_err(|(_, e)| Error::from(e))?;
        }
        Ok(())
    }

    /// The vault file's path.
    pub fn path(&self) -> Result<PathBuf> {
        self.with(|inner| Ok(inner.path.clone()))
    }

    /// Sets how long a write waits for another process's write to finish before it fails with
    /// [`StorageProblem::Busy`](crate::StorageProblem::Busy) (10 s by default). Raise it for a
    /// process that shares the vault with a long bulk import, which holds the write lock for its
    /// whole transaction.
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let key = caseward::RawKey::from_bytes(&[7u8; 32])?;
    /// let vault = caseward::Vault::create_with_key(dir.path().join("v.cwv"), &key)?;
    /// vault.set_busy_timeout(std::time::Duration::from_secs(60))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_busy_timeout(&self, timeout: std::time::Duration) -> Result<()> {
        self.with(|inner| store::set_busy_timeout(&mut inner.conn, timeout))
    }

    /// The current key-encryption-key version (0 at creation, +1 per [`Vault::rotate_keys`]).
    pub fn kek_version(&self) -> Result<u32> {
        self.with(|inner| Ok(inner.crypto.kek_version))
    }

    // -----------------------------------------------------------------------------------------
    // Clients and records

    /// Enrolls a new client, in one transaction. Refuses an A-number already enrolled.
    pub fn enroll(&self, intake: &Intake) -> Result<ClientId> {
        self.write_p(|tx, crypto, policy| enroll_in(tx, crypto, policy.hash(), intake))
    }

    /// Enrolls many clients in one transaction: all or none.
    pub fn enroll_many<I>(&self, intakes: I) -> Result<Vec<ClientId>>
    where
        I: IntoIterator,
        I::Item: std::borrow::Borrow<Intake>,
    {
        self.write_p(|tx, crypto, policy| {
            let hash = policy.hash();
            intakes.into_iter().map(|i| enroll_in(tx, crypto, hash, std::borrow::Borrow::borrow(&i))).collect()
        })
    }

    /// Adds a record to a client. Identity, enrollment and legal status are one per client:
    /// update those with [`Vault::update_record`].
    pub fn add_record(&self, client: ClientId, record: &Record) -> Result<RecordId> {
        if record.kind() == RecordKind::Consent {
            return Err(Error::input("record consents with grant_consent, so that they are logged"));
        }
        self.write(|tx, crypto| {
            let ck = load_client_key(tx, crypto, client)?;
            let kind = record.kind();
            if kind.is_singular() {
                let exists: Option<i64> = tx
                    .query_row(
                        "SELECT id FROM record WHERE client_id = ?1 AND kind = ?2",
                        params![client.as_bytes(), kind.as_str()],
                        |r| r.get(0),
                    )
                    .optional()?;
                if exists.is_some() {
                    return Err(Error::input(format!(
                        "client {client} already has a {} record; update it instead",
                        kind.as_str()
                    )));
                }
            }
            insert_record(tx, crypto, &mut ClientKeys::new(client, ck, crypto.alg), record)
        })
    }

    /// Replaces a record with a new version of the same kind, in one transaction.
    pub fn update_record(&self, client: ClientId, id: RecordId, record: &Record) -> Result<()> {
        self.write(|tx, crypto| {
            let kind: Option<String> = tx
                .query_row(
                    "SELECT kind FROM record WHERE id = ?1 AND client_id = ?2",
                    params![id.0, client.as_bytes()],
                    |r| r.get(0),
                )
                .optional()?;
            let kind = kind.ok_or_else(|| Error::not_found(format!("record {id} of client {client}")))?;
            if kind == RecordKind::Consent.as_str() {
                return Err(Error::input("a consent is changed only by revoke_consent, so that it is logged"));
            }
            if kind != record.kind().as_str() {
                return Err(Error::input(format!(
                    "record {id} is a {kind} record; it cannot become a {}",
                    record.kind().as_str()
                )));
            }
            let ck = load_client_key(tx, crypto, client)?;
            let mut keys = ClientKeys::new(client, ck, crypto.alg);
            if let Record::Identity(identity) = record {
                tx.execute("DELETE FROM lookup WHERE client_id = ?1", [client.as_bytes()])?;
                insert_lookup(tx, crypto, client, &identity.a_number)?;
            }
            let body = seal_record(crypto, &mut keys, id.0, record)?;
            tx.execute("UPDATE record SET body = ?1 WHERE id = ?2", params![body, id.0])?;
            Ok(())
        })
    }

    /// Every record of a client, decrypted, as the caseworker sees it.
    pub fn client_record(&self, client: ClientId) -> Result<ClientRecord> {
        self.with(|inner| {
            let ck = load_client_key(&inner.conn, &inner.crypto, client)?;
            let mut keys = ClientKeys::new(client, ck, inner.crypto.alg);
            let mut stmt =
                inner.conn.prepare_cached("SELECT id, kind, body FROM record WHERE client_id = ?1 ORDER BY id")?;
            let mut rows = stmt.query([client.as_bytes()])?;
            let mut records = Vec::new();
            while let Some(row) = rows.next()? {
                let id: i64 = row.get(0)?;
                let kind = parse_kind(&row.get::<_, String>(1)?, id)?;
                let body: Vec<u8> = row.get(2)?;
                records.push(StoredRecord {
                    id: RecordId(id),
                    record: open_record(&inner.crypto, &mut keys, id, kind, body)?,
                });
            }
            Ok(ClientRecord { id: client, records })
        })
    }

    /// The client's identity record alone.
    pub fn identity(&self, client: ClientId) -> Result<Identity> {
        self.with(|inner| {
            // Two indexed queries measured faster here than one join (BENCHMARKS.md).
            let ck = load_client_key(&inner.conn, &inner.crypto, client)?;
            let mut keys = ClientKeys::new(client, ck, inner.crypto.alg);
            let (id, body): (i64, Vec<u8>) = inner
                .conn
                .prepare_cached("SELECT id, body FROM record WHERE client_id = ?1 AND kind = 'identity'")?
                .query_row([client.as_bytes()], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?
                .ok_or_else(|| Error::not_found(format!("identity of client {client}")))?;
            match open_record(&inner.crypto, &mut keys, id, RecordKind::Identity, body)? {
                Record::Identity(i) => Ok(i),
                _ => Err(Error::corrupt("record", id, "not an identity record")),
            }
        })
    }

    /// Every client id, in id order.
    pub fn list_clients(&self) -> Result<Vec<ClientId>> {
        self.with(|inner| {
            let mut stmt = inner.conn.prepare_cached("SELECT id FROM client ORDER BY id")?;
            let ids = stmt
                .query_map([], |r| r.get::<_, Vec<u8>>(0))?
                .map(|b| {
                    let b = b?;
                    ClientId::from_slice(&b).ok_or_else(|| Error::corrupt("client", "-", "a client id is not 16 bytes"))
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(ids)
        })
    }

    /// The ids and kinds of a client's records, without decrypting anything.
    pub fn list_records(&self, client: ClientId) -> Result<Vec<(RecordId, RecordKind)>> {
        self.with(|inner| {
            ensure_client(&inner.conn, client)?;
            let mut stmt = inner.conn.prepare_cached("SELECT id, kind FROM record WHERE client_id = ?1 ORDER BY id")?;
            let rows = stmt.query_map([client.as_bytes()], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?;
            rows.map(|row| {
                let (id, kind) = row?;
                Ok((RecordId(id), parse_kind(&kind, id)?))
            })
            .collect()
        })
    }

    /// Finds a client by A-number, in any written form, through the blind index: nothing is
    /// decrypted. An invalid A-number is an error, not a miss.
    pub fn find_by_a_number(&self, a_number: &str) -> Result<Option<ClientId>> {
        let a = AlienNumber::parse(a_number)?;
        self.with(|inner| {
            let digest = inner.crypto.blind.digest(a.as_str());
            let found: Option<Vec<u8>> = inner
                .conn
                .prepare_cached("SELECT client_id FROM lookup WHERE digest = ?1")?
                .query_row([&digest[..]], |r| r.get(0))
                .optional()?;
            found
                .map(|b| {
                    ClientId::from_slice(&b).ok_or_else(|| Error::corrupt("lookup", "-", "a client id is not 16 bytes"))
                })
                .transpose()
        })
    }

    /// Decrypts every record of every client, in client order, calling `f` for each. Streams:
    /// memory does not grow with the vault.
    pub fn scan(&self, mut f: impl FnMut(ClientId, StoredRecord) -> Result<()>) -> Result<usize> {
        self.with(|inner| {
            let mut stmt = inner.conn.prepare(
                "SELECT r.client_id, r.id, r.kind, r.body, c.kek_version, c.wrapped_key
                 FROM record r JOIN client c ON c.id = r.client_id ORDER BY r.client_id, r.id",
            )?;
            let mut rows = stmt.query([])?;
            let mut current: Option<ClientKeys> = None;
            let mut count = 0usize;
            while let Some(row) = rows.next()? {
                let cid_bytes: Vec<u8> = row.get(0)?;
                let client = ClientId::from_slice(&cid_bytes)
                    .ok_or_else(|| Error::corrupt("record", "-", "a client id is not 16 bytes"))?;
                let id: i64 = row.get(1)?;
                let kind = parse_kind(&row.get::<_, String>(2)?, id)?;
                let body: Vec<u8> = row.get(3)?;
                if current.as_ref().is_none_or(|k| k.client != client) {
                    let ck = unwrap_client_key(&inner.crypto, client, row.get(4)?, &row.get::<_, Vec<u8>>(5)?)?;
                    current = Some(ClientKeys::new(client, ck, inner.crypto.alg));
                }
                let keys = current.as_mut().ok_or_else(|| Error::corrupt("client", client, "client key missing"))?;
                let record = open_record(&inner.crypto, keys, id, kind, body)?;
                f(client, StoredRecord { id: RecordId(id), record })?;
                count += 1;
            }
            Ok(count)
        })
    }

    // -----------------------------------------------------------------------------------------
    // Keys

    /// Rotates the key-encryption key: every client key is rewrapped under a new KEK version in
    /// one transaction. Records are not re-encrypted (their keys do not change), so this is
    /// fast; the blind index is derived from the root and keeps working.
    pub fn rotate_keys(&self) -> Result<u32> {
        self.write_p(|tx, crypto, policy| {
            let next = crypto.kek_version.checked_add(1).ok_or_else(|| Error::input("the key version is exhausted"))?;
            let new_kek = crypto.root.kek(next, crypto.alg)?;
            let rows: Vec<(Vec<u8>, u32, Vec<u8>)> = tx
                .prepare("SELECT id, kek_version, wrapped_key FROM client")?
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<rusqlite::Result<_>>()?;
            let mut update = tx.prepare("UPDATE client SET kek_version = ?1, wrapped_key = ?2 WHERE id = ?3")?;
            for (id, version, wrapped) in rows {
                let client = ClientId::from_slice(&id)
                    .ok_or_else(|| Error::corrupt("client", "-", "a client id is not 16 bytes"))?;
                let ck = unwrap_client_key(crypto, client, version, &wrapped)?;
                let rewrapped = new_kek
                    .seal(&mut crypto.nonces, &client_key_aad(&crypto.vault_id, &client), ck.expose())
                    .map_err(|e| Error::integrity("client", client, e))?;
                update.execute(params![next, rewrapped, &id])?;
            }
            tx.execute("UPDATE meta SET value = ?1 WHERE name = 'kek_version'", [next.to_be_bytes().to_vec()])?;
            crypto.kek = new_kek;
            crypto.kek_version = next;
            let detail = serde_json::json!({ "kek_version": next });
            log(tx, crypto, policy.hash(), Event::KeyRotation, "", None, None, [0; 32], &detail)?;
            Ok(next)
        })
        .inspect_err(|_| {
            // The transaction rolled back: the in-memory KEK must match the file again.
            let _ = self.with(|inner| {
                let v = current_kek_version(&inner.conn)?;
                inner.crypto.kek = inner.crypto.root.kek(v, inner.crypto.alg)?;
                inner.crypto.kek_version = v;
                Ok(())
            });
        })
    }

    /// Replaces the passphrase. `old` must open the current passphrase envelope.
    pub fn change_passphrase(&self, old: &Passphrase, new: &Passphrase, kdf: KdfParams) -> Result<()> {
        self.write(|tx, crypto| {
            let (age_file, log_n): (Vec<u8>, Option<u8>) = tx
                .query_row("SELECT age_file, log_n FROM key_envelope WHERE kind = 'passphrase'", [], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()?
                .ok_or_else(|| Error::not_found("this vault has no passphrase"))?;
            let root = keys::unwrap_root(&age_file, &Unlock::Passphrase(old), log_n.unwrap_or(KdfParams::MAX_LOG_N))?;
            if !bool::from(root.expose().ct_eq(crypto.root.expose())) {
                return Err(Error::WrongKey("the old passphrase does not open this vault"));
            }
            let envelope = keys::wrap_for_passphrase(&crypto.root, new, kdf)?;
            tx.execute("DELETE FROM key_envelope WHERE kind = 'passphrase'", [])?;
            insert_envelope(tx, &envelope)
        })
    }

    /// Adds a passphrase envelope to a vault that has none (for example one created with a
    /// keystore key).
    pub fn add_passphrase(&self, passphrase: &Passphrase, kdf: KdfParams) -> Result<()> {
        self.write(|tx, crypto| {
            let envelope = keys::wrap_for_passphrase(&crypto.root, passphrase, kdf)?;
            insert_envelope(tx, &envelope)
        })
    }

    /// Adds an age X25519 recovery recipient: its identity can then open the vault.
    pub fn add_recovery_recipient(&self, recipient: &RecoveryRecipient) -> Result<()> {
        self.write(|tx, crypto| insert_envelope(tx, &keys::wrap_for_recipient(&crypto.root, recipient)?))
    }

    /// Removes a recovery recipient. The last envelope of a vault cannot be removed.
    pub fn remove_recovery_recipient(&self, recipient: &RecoveryRecipient) -> Result<()> {
        self.remove_envelope(EnvelopeKind::Recovery, &recipient.to_string())
    }

    /// Adds a raw keystore key that can open the vault.
    pub fn add_keystore_key(&self, key: &RawKey) -> Result<()> {
        self.write(|tx, crypto| insert_envelope(tx, &keys::wrap_for_keystore(&crypto.root, key)?))
    }

    /// Removes a keystore key. The last envelope of a vault cannot be removed.
    pub fn remove_keystore_key(&self, key: &RawKey) -> Result<()> {
        self.remove_envelope(EnvelopeKind::Keystore, &keys::keystore_recipient(key)?)
    }

    fn remove_envelope(&self, kind: EnvelopeKind, recipient: &str) -> Result<()> {
        self.write(|tx, _| {
            let total: i64 = tx.query_row("SELECT count(*) FROM key_envelope", [], |r| r.get(0))?;
            if total <= 1 {
                return Err(Error::input("the last key envelope cannot be removed: the vault would never open again"));
            }
            let n = tx.execute(
                "DELETE FROM key_envelope WHERE kind = ?1 AND recipient = ?2",
                params![kind.as_str(), recipient],
            )?;
            if n == 0 {
                return Err(Error::not_found("no such key envelope"));
            }
            Ok(())
        })
    }

    /// The key envelopes that open this vault.
    pub fn envelopes(&self) -> Result<Vec<EnvelopeInfo>> {
        self.with(|inner| {
            let mut stmt = inner.conn.prepare("SELECT kind, recipient, log_n FROM key_envelope ORDER BY id")?;
            let rows = stmt.query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?, r.get::<_, Option<u8>>(2)?))
            })?;
            rows.map(|row| {
                let (kind, recipient, log_n) = row?;
                let kind =
                    EnvelopeKind::parse(&kind).ok_or_else(|| Error::corrupt("key_envelope", "-", "unknown kind"))?;
                Ok(EnvelopeInfo { kind, recipient, log_n })
            })
            .collect()
        })
    }

    // -----------------------------------------------------------------------------------------
    // Disclosure (the firewall's outputs; each is logged in the transaction that builds it)

    /// The hash of the disclosure policy in force (the shipped default until another is
    /// installed).
    pub fn policy_hash(&self) -> Result<PolicyHash> {
        self.with(|inner| Ok(inner.policy.hash()))
    }

    /// Installs a validated policy (with its overlays): it governs every disclosure from now on.
    /// The change is logged with the old and the new hash.
    pub fn install_policy(&self, policy: &Policy) -> Result<()> {
        self.write_p(|tx, crypto, current| {
            let stored = serde_json::to_vec(&policy.sources())
                .map_err(|_| Error::input("the policy could not be serialized"))?;
            let sealed = crypto
                .meta_key
                .seal(&mut crypto.nonces, &meta_aad(&crypto.vault_id, "policy"), &stored)
                .map_err(|e| Error::integrity("meta", "policy", e))?;
            tx.execute("INSERT OR REPLACE INTO meta (name, value) VALUES ('policy', ?1)", [sealed])?;
            let detail = serde_json::json!({ "from": current.hash().to_string(), "to": policy.hash().to_string() });
            log(tx, crypto, policy.hash(), Event::PolicyChange, "", None, None, [0; 32], &detail)?;
            *current = policy.clone();
            Ok(())
        })
    }

    /// What may go to ICE about a client: the floor of DESIGN 7 and nothing else, built from a
    /// reader that holds only the floor keys, and logged in the same transaction.
    ///
    /// The address of record (with its filing confirmations) is included only with the
    /// client's consent for this notice, and never for a confidential location; otherwise the
    /// notice says the client reports their address directly. A client with protected relief
    /// (VAWA/T/U) or served under a VAWA-grantee program gets no notice: `Denied`, with a
    /// message that does not say why.
    pub fn ice_notice(&self, client: ClientId, consent: AddressConsent) -> Result<IceNotice> {
        self.ice_notice_on(client, consent, Date::today())
    }

    /// [`Vault::ice_notice`] as of a given day (the "next" check-in and hearing are on or
    /// after it).
    pub fn ice_notice_on(&self, client: ClientId, consent: AddressConsent, today: Date) -> Result<IceNotice> {
        self.write_p(|tx, crypto, policy| {
            let ck = load_client_key(tx, crypto, client)?;
            let rows = sealed_rows(tx, client)?;
            let gate = {
                let reader = CategoryReader::new(client, crypto.vault_id, &ck, crypto.alg, Gate::categories())?;
                Gate::read(&reader, &rows)?
            };
            let allow = firewall::ice_allowance(policy, &gate, consent == AddressConsent::GivenForThisNotice)?;
            // From here on, only the floor keys this notice may use exist.
            let reader = CategoryReader::new(client, crypto.vault_id, &ck, crypto.alg, allow.categories())?;
            drop(ck);
            let (notice, disclosed) = firewall::build_ice_notice(&reader, &rows, allow, &gate.confidential, today)?;
            let output = *blake3::hash(notice.to_json()).as_bytes();
            let detail = serde_json::json!({ "audience": "ice", "categories": disclosed });
            log_for_client(tx, crypto, policy.hash(), "ice", client, output, &detail)?;
            Ok(notice)
        })
    }

    /// The client's own obligations: every duty their latest move triggers (EOIR-33, ICE
    /// portal, AR-11, and 48 hours under an order of supervision), the earliest not yet met, and
    /// the next check-in and hearing. For reminders to the client; nothing leaves the vault.
    pub fn deadlines(&self, client: ClientId) -> Result<crate::Deadlines> {
        self.deadlines_on(client, Date::today())
    }

    /// [`Vault::deadlines`] as of a given day.
    pub fn deadlines_on(&self, client: ClientId, today: Date) -> Result<crate::Deadlines> {
        let record = self.client_record(client)?;
        let mut latest: Option<&crate::AddressEpisode> = None;
        let (mut check_ins, mut hearings) = (Vec::new(), Vec::new());
        for r in &record.records {
            match &r.record {
                Record::Address(a) if latest.is_none_or(|l| a.moved_on >= l.moved_on) => latest = Some(a),
                Record::CheckIn(c) => check_ins.push(c),
                Record::Hearing(h) => hearings.push(h),
                _ => {}
            }
        }
        let osup = record.enrollment().and_then(|e| e.release_basis) == Some(crate::ReleaseBasis::Osup);
        Ok(crate::deadline::deadlines(latest.map(|a| (a.moved_on, &a.filings)), osup, &check_ins, &hearings, today))
    }

    /// A reader holding exactly the keys an ICE notice may use (the floor), for reviewers and
    /// tests: it cannot open any other category, and says so.
    pub fn ice_reader(&self, client: ClientId) -> Result<CategoryReader> {
        self.with(|inner| {
            let ck = load_client_key(&inner.conn, &inner.crypto, client)?;
            CategoryReader::new(
                client,
                inner.crypto.vault_id,
                &ck,
                inner.crypto.alg,
                firewall::ICE_FLOOR.map(|(c, _)| c),
            )
        })
    }

    /// A client's records as stored (sealed), for a [`CategoryReader`].
    pub fn sealed_records(&self, client: ClientId) -> Result<Vec<SealedRecord>> {
        self.with(|inner| {
            ensure_client(&inner.conn, client)?;
            sealed_rows(&inner.conn, client)
        })
    }

    /// A client's record as `audience` may see it under the policy in force, logged. Board,
    /// funder and evaluator receive reports, and ICE an [`IceNotice`]; for them this is `Denied`.
    pub fn client_view(&self, client: ClientId, audience: &Audience) -> Result<ClientView> {
        self.client_view_on(client, audience, Date::today())
    }

    /// [`Vault::client_view`] with consents judged as of `today`.
    pub fn client_view_on(&self, client: ClientId, audience: &Audience, today: Date) -> Result<ClientView> {
        self.write_p(|tx, crypto, policy| view_in(tx, crypto, policy, client, audience, today))
    }

    /// The client's own copy of their record (right of access), logged.
    pub fn client_copy(&self, client: ClientId) -> Result<ClientCopy> {
        self.client_view(client, &Audience::Client).map(ClientCopy)
    }

    /// What `partner` may receive: only the categories that an active consent of the client
    /// names for that partner. `Denied` when no active consent names the partner.
    pub fn partner_referral(&self, client: ClientId, partner: &PartnerId) -> Result<PartnerReferral> {
        self.partner_referral_on(client, partner, Date::today())
    }

    /// [`Vault::partner_referral`] with consents judged as of `today`.
    pub fn partner_referral_on(&self, client: ClientId, partner: &PartnerId, today: Date) -> Result<PartnerReferral> {
        let audience = Audience::Partner(partner.clone());
        self.write_p(|tx, crypto, policy| {
            let ck = load_client_key(tx, crypto, client)?;
            let rows = sealed_rows(tx, client)?;
            let reader = CategoryReader::new(client, crypto.vault_id, &ck, crypto.alg, [Category::Consent])?;
            if firewall::consented(&reader, &rows, &audience.to_string(), today)?.is_empty() {
                return Err(Error::denied(format!("no active consent names {audience}")));
            }
            view_in(tx, crypto, policy, client, &audience, today).map(PartnerReferral)
        })
    }

    /// Records a consent (recipient `partner:<id>`, categories, start and expiry) and logs it.
    pub fn grant_consent(&self, client: ClientId, consent: &ConsentRecord) -> Result<RecordId> {
        let recipient: Audience = consent.recipient.parse()?;
        if !matches!(recipient, Audience::Partner(_)) {
            return Err(Error::input(
                "a stored consent names a partner (partner:<id>); ICE address consent is given per notice",
            ));
        }
        if consent.categories.is_empty() {
            return Err(Error::input("a consent names at least one category"));
        }
        if consent.expires_on < consent.signed_on {
            return Err(Error::input("a consent cannot expire before it is signed"));
        }
        self.write_p(|tx, crypto, policy| {
            let ck = load_client_key(tx, crypto, client)?;
            let mut keys = ClientKeys::new(client, ck, crypto.alg);
            let id = insert_record(tx, crypto, &mut keys, &Record::Consent(consent.clone()))?;
            let detail = serde_json::json!({
                "recipient": consent.recipient, "categories": consent.categories, "record": id,
                "signed_on": consent.signed_on, "expires_on": consent.expires_on,
            });
            log_with_key(tx, crypto, policy.hash(), Event::ConsentGranted, "", client, &keys.key, [0; 32], &detail)?;
            Ok(id)
        })
    }

    /// Revokes a consent at once: the next disclosure no longer sees it. Logged.
    pub fn revoke_consent(&self, client: ClientId, consent: RecordId) -> Result<()> {
        self.write_p(|tx, crypto, policy| {
            let ck = load_client_key(tx, crypto, client)?;
            let mut keys = ClientKeys::new(client, ck, crypto.alg);
            let body: Vec<u8> = tx
                .query_row(
                    "SELECT body FROM record WHERE id = ?1 AND client_id = ?2 AND kind = 'consent'",
                    params![consent.0, client.as_bytes()],
                    |r| r.get(0),
                )
                .optional()?
                .ok_or_else(|| Error::not_found(format!("consent {consent} of client {client}")))?;
            let Record::Consent(mut c) = open_record(crypto, &mut keys, consent.0, RecordKind::Consent, body)? else {
                return Err(Error::corrupt("record", consent, "not a consent record"));
            };
            if c.revoked_on.is_some() {
                return Err(Error::input(format!("consent {consent} is already revoked")));
            }
            c.revoked_on = Some(Date::today());
            let sealed = seal_record(crypto, &mut keys, consent.0, &Record::Consent(c.clone()))?;
            tx.execute("UPDATE record SET body = ?1 WHERE id = ?2", params![sealed, consent.0])?;
            let detail = serde_json::json!({ "recipient": c.recipient, "record": consent });
            log_with_key(tx, crypto, policy.hash(), Event::ConsentRevoked, "", client, &keys.key, [0; 32], &detail)
        })
    }

    /// Verifies the disclosure log: the hash chain, the witness if one is given, and the head
    /// this vault keeps sealed under its own key (which catches a truncated tail even without
    /// a witness).
    pub fn verify_log(&self, witness: Option<&LogHead>) -> Result<LogStatus> {
        self.with(|inner| {
            let status = audit::verify(&inner.conn, witness)?;
            let LogStatus::Intact { head, .. } = &status else { return Ok(status) };
            let sealed = read_sealed_head(&inner.conn, &inner.crypto)?;
            if sealed != *head {
                let seq = sealed.map_or(0, |h| h.seq);
                return Ok(LogStatus::Broken { seq, problem: LogProblem::HeadMismatch });
            }
            Ok(status)
        })
    }

    /// The newest log entry: the witness a report carries.
    pub fn log_head(&self) -> Result<Option<LogHead>> {
        self.with(|inner| audit::head(&inner.conn))
    }

    /// Every log entry with its detail opened where the key still exists (an erased client's
    /// details are gone with its key: `None`).
    pub fn read_log(&self) -> Result<Vec<(LogEntry, Option<serde_json::Value>)>> {
        self.with(|inner| {
            let mut out = Vec::new();
            for e in audit::entries(&inner.conn)? {
                let e = e.map_err(|seq| {
                    Error::corrupt("disclosure_log", seq, "a column holds a value of the wrong shape")
                })?;
                let detail = open_detail(&inner.conn, &inner.crypto, &e)?;
                out.push((e, detail));
            }
            Ok(out)
        })
    }

    // -----------------------------------------------------------------------------------------
    // Erasure

    /// Crypto-shreds a client.
    ///
    /// 1. One transaction deletes the wrapped client key, every record and the blind-index entry
    ///    (`secure_delete` zeroes the live copies).
    /// 2. `VACUUM` rebuilds the file. This step is not optional: SQLite's b-tree balancing leaves
    ///    stale copies of moved cells in the free space of live pages, and index interior pages
    ///    keep copies of keys, so after step 1 a copy of the wrapped client key could survive
    ///    and, with the vault key, bring the client back. The rebuild writes only live rows.
    /// 3. The WAL is checkpointed and truncated, so no page image of the old file remains in it.
    ///
    /// If step 2 or 3 cannot run (another connection is reading, the disk is full), the client
    /// is still deleted and [`Erasure::residue_cleared`] is `false`: call
    /// [`Vault::clear_residue`] until it succeeds.
    pub fn erase_client(&self, client: ClientId) -> Result<Erasure> {
        let records_deleted = self.write_p(|tx, crypto, policy| {
            let n: i64 =
                tx.query_row("SELECT count(*) FROM record WHERE client_id = ?1", [client.as_bytes()], |r| r.get(0))?;
            let deleted = tx.execute("DELETE FROM client WHERE id = ?1", [client.as_bytes()])?;
            if deleted == 0 {
                return Err(Error::not_found(format!("client {client}")));
            }
            // The log keeps only the fact: the detail is sealed under the vault key and says
            // nothing about the client.
            let detail = serde_json::json!({ "records_deleted": n });
            log(tx, crypto, policy.hash(), Event::Erasure, "", Some(client), None, [0; 32], &detail)?;
            Ok(usize::try_from(n).unwrap_or(0))
        })?;
        let residue_cleared = self.clear_residue().is_ok();
        Ok(Erasure { records_deleted, residue_cleared })
    }

    /// Rebuilds the vault file (`VACUUM`) and truncates the WAL, so that no copy of deleted or
    /// superseded data remains in free space. Its cost grows with the vault's size.
    pub fn clear_residue(&self) -> Result<()> {
        self.with(|inner| {
            inner.conn.execute_batch("VACUUM")?;
            store::checkpoint_truncate(&inner.conn)
        })
    }

    /// Checkpoints the WAL into the database file and truncates it.
    pub fn checkpoint(&self) -> Result<()> {
        self.with(|inner| store::checkpoint_truncate(&inner.conn))
    }
}

impl Crypto {
    fn new(root: RootKey, vault_id: [u8; 16], alg: Algorithm, kek_version: u32) -> Result<Self> {
        Ok(Self {
            kek: root.kek(kek_version, alg)?,
            blind: root.blind_index_key(),
            meta_key: root.meta_key(alg)?,
            root,
            vault_id,
            alg,
            kek_version,
            nonces: NonceSource::new(),
        })
    }
}

fn current_kek_version(conn: &rusqlite::Connection) -> Result<u32> {
    let v: Vec<u8> = conn.query_row("SELECT value FROM meta WHERE name = 'kek_version'", [], |r| r.get(0))?;
    Ok(u32::from_be_bytes(v.try_into().map_err(|_| Error::corrupt("meta", "kek_version", "not 4 bytes"))?))
}

fn canary_aad(vault_id: &[u8; 16]) -> Aad<'_> {
    Aad { vault: vault_id, table: "meta", row: b"canary", client: &NO_CLIENT, category: "canary", schema: VALUE_LAYOUT }
}

fn client_key_aad<'a>(vault_id: &'a [u8; 16], client: &'a ClientId) -> Aad<'a> {
    Aad {
        vault: vault_id,
        table: "client",
        row: client.as_bytes(),
        client: client.as_bytes(),
        category: "client_key",
        schema: VALUE_LAYOUT,
    }
}

fn insert_envelope(tx: &Transaction<'_>, e: &NewEnvelope) -> Result<()> {
    let result = tx.execute(
        "INSERT INTO key_envelope (kind, recipient, log_n, age_file, created) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![e.kind.as_str(), e.recipient, e.log_n, e.age_file, Date::today().month_label()],
    );
    match result {
        Err(rusqlite::Error::SqliteFailure(f, _)) if f.code == rusqlite::ErrorCode::ConstraintViolation => {
            Err(Error::input(match e.kind {
                EnvelopeKind::Passphrase => "this vault already has a passphrase; change it instead",
                _ => "that key already opens this vault",
            }))
        }
        other => other.map(|_| ()).map_err(Error::from),
    }
}

fn parse_kind(kind: &str, id: i64) -> Result<RecordKind> {
    RecordKind::parse(kind).ok_or_else(|| Error::corrupt("record", id, "unknown record kind"))
}

fn ensure_client(conn: &rusqlite::Connection, client: ClientId) -> Result<()> {
    let found: Option<i64> = conn
        .prepare_cached("SELECT 1 FROM client WHERE id = ?1")?
        .query_row([client.as_bytes()], |r| r.get(0))
        .optional()?;
    found.map(|_| ()).ok_or_else(|| Error::not_found(format!("client {client}")))
}

fn load_client_key(conn: &rusqlite::Connection, crypto: &Crypto, client: ClientId) -> Result<ClientKey> {
    let (version, wrapped): (u32, Vec<u8>) = conn
        .prepare_cached("SELECT kek_version, wrapped_key FROM client WHERE id = ?1")?
        .query_row([client.as_bytes()], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
        .ok_or_else(|| Error::not_found(format!("client {client}")))?;
    unwrap_client_key(crypto, client, version, &wrapped)
}

fn unwrap_client_key(crypto: &Crypto, client: ClientId, version: u32, wrapped: &[u8]) -> Result<ClientKey> {
    let opened = if version == crypto.kek_version {
        crypto.kek.open(&client_key_aad(&crypto.vault_id, &client), wrapped)
    } else {
        // Only a rotation interrupted by a crash could leave an older version here, and
        // rotation is one transaction; still, an older KEK is derivable, so read it.
        crypto.root.kek(version, crypto.alg)?.open(&client_key_aad(&crypto.vault_id, &client), wrapped)
    };
    let bytes = opened.map_err(|e| Error::integrity("client", client, e))?;
    ClientKey::from_bytes(&bytes).ok_or_else(|| Error::corrupt("client", client, "the client key is not 32 bytes"))
}

fn enroll_in(tx: &Transaction<'_>, crypto: &mut Crypto, policy: PolicyHash, intake: &Intake) -> Result<ClientId> {
    let digest = crypto.blind.digest(intake.identity.a_number.as_str());
    let existing: Option<Vec<u8>> = tx
        .prepare_cached("SELECT client_id FROM lookup WHERE digest = ?1")?
        .query_row([&digest[..]], |r| r.get(0))
        .optional()?;
    if let Some(existing) = existing {
        let id = ClientId::from_slice(&existing).map(|c| c.to_string()).unwrap_or_default();
        return Err(Error::input(format!("a client with this A-number is already enrolled (client {id})")));
    }
    let client = ClientId::random()?;
    let ck = ClientKey::generate()?;
    let wrapped = crypto
        .kek
        .seal(&mut crypto.nonces, &client_key_aad(&crypto.vault_id, &client), ck.expose())
        .map_err(|e| Error::integrity("client", client, e))?;
    tx.prepare_cached("INSERT INTO client (id, kek_version, wrapped_key, created_month) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![
            client.as_bytes(),
            crypto.kek_version,
            wrapped,
            intake.enrollment.enrolled_on.month_label()
        ])?;
    tx.prepare_cached("INSERT INTO lookup (digest, client_id) VALUES (?1, ?2)")?
        .execute(params![&digest[..], client.as_bytes()])?;
    let mut keys = ClientKeys::new(client, ck, crypto.alg);
    insert_record(tx, crypto, &mut keys, &Record::Identity(intake.identity.clone()))?;
    insert_record(tx, crypto, &mut keys, &Record::Enrollment(intake.enrollment.clone()))?;
    let legal = intake.records.iter().filter(|r| r.kind() == RecordKind::Legal).count();
    if legal > 1 {
        return Err(Error::input("an intake may carry at most one legal record"));
    }
    for record in &intake.records {
        if record.kind().is_singular() && record.kind() != RecordKind::Legal {
            return Err(Error::input(format!(
                "an intake carries its {} in its own field, not in records",
                record.kind().as_str()
            )));
        }
        let id = insert_record(tx, crypto, &mut keys, record)?;
        if let Record::Consent(c) = record {
            // Consents given at intake are consent changes too: logged like grant_consent's.
            let detail = serde_json::json!({
                "recipient": c.recipient, "categories": c.categories, "record": id,
                "signed_on": c.signed_on, "expires_on": c.expires_on,
            });
            log_with_key(tx, crypto, policy, Event::ConsentGranted, "", client, &keys.key, [0; 32], &detail)?;
        }
    }
    Ok(client)
}

fn insert_lookup(tx: &Transaction<'_>, crypto: &Crypto, client: ClientId, a: &AlienNumber) -> Result<()> {
    let digest = crypto.blind.digest(a.as_str());
    let n = tx
        .prepare_cached("INSERT OR IGNORE INTO lookup (digest, client_id) SELECT ?1, ?2 WHERE NOT EXISTS (SELECT 1 FROM lookup WHERE digest = ?1)")?
        .execute(params![&digest[..], client.as_bytes()])?;
    if n == 0 {
        return Err(Error::input("another client is enrolled with this A-number"));
    }
    Ok(())
}

fn insert_record(
    tx: &Transaction<'_>,
    crypto: &mut Crypto,
    keys: &mut ClientKeys,
    record: &Record,
) -> Result<RecordId> {
    let id: i64 = tx.prepare_cached("SELECT coalesce(max(id), 0) + 1 FROM record")?.query_row([], |r| r.get(0))?;
    let body = seal_record(crypto, keys, id, record)?;
    tx.prepare_cached("INSERT INTO record (id, client_id, kind, created_month, body) VALUES (?1, ?2, ?3, ?4, ?5)")?
        .execute(params![id, keys.client.as_bytes(), record.kind().as_str(), Date::today().month_label(), body])?;
    Ok(RecordId(id))
}

/// A client's category keys, derived on first use.
pub(crate) struct ClientKeys {
    pub(crate) client: ClientId,
    key: ClientKey,
    alg: Algorithm,
    cache: Vec<(Category, SealingKey)>,
}

impl ClientKeys {
    pub(crate) fn new(client: ClientId, key: ClientKey, alg: Algorithm) -> Self {
        Self { client, key, alg, cache: Vec::with_capacity(16) }
    }

    pub(crate) fn key(&mut self, category: Category) -> Result<&SealingKey> {
        let pos = match self.cache.iter().position(|(c, _)| *c == category) {
            Some(p) => p,
            None => {
                self.cache.push((category, self.key.category_key(category, self.alg)?));
                self.cache.len() - 1
            }
        };
        self.cache.get(pos).map(|(_, k)| k).ok_or_else(|| Error::input("category key cache"))
    }
}

pub(crate) fn section_aad<'a>(
    vault_id: &'a [u8; 16],
    client: &'a ClientId,
    row: &'a [u8; 8],
    category: Category,
) -> Aad<'a> {
    Aad {
        vault: vault_id,
        table: "record",
        row,
        client: client.as_bytes(),
        category: category.as_str(),
        schema: u32::from(BODY_VERSION),
    }
}

/// Seals each section of a record under its category key and frames them:
/// `version u8 | count u16 BE | (length u32 BE | sealed value)*`.
fn seal_record(crypto: &mut Crypto, keys: &mut ClientKeys, id: i64, record: &Record) -> Result<Vec<u8>> {
    let row = id.to_be_bytes();
    let client = keys.client;
    let mut body = Vec::with_capacity(1024);
    body.push(BODY_VERSION);
    body.extend_from_slice(&[0, 0]);
    let mut count: u16 = 0;
    let mut aad_buf = Vec::with_capacity(160);
    let Crypto { vault_id, nonces, .. } = crypto;
    let mut sink = |category: Category, plaintext: &[u8]| -> Result<()> {
        let key = keys.key(category)?;
        let aad = section_aad(vault_id, &client, &row, category);
        let len_at = body.len();
        body.extend_from_slice(&[0; 4]);
        key.seal_append(nonces, &aad, plaintext, &mut aad_buf, &mut body)
            .map_err(|e| Error::integrity("record", id, e))?;
        let len = u32::try_from(body.len() - len_at - 4).map_err(|_| Error::input("a section is too large"))?;
        if let Some(slot) = body.get_mut(len_at..len_at + 4) {
            slot.copy_from_slice(&len.to_be_bytes());
        }
        count = count.checked_add(1).ok_or_else(|| Error::input("too many sections"))?;
        Ok(())
    };
    record.write_sections(&mut SectionWriter::new(&mut sink))?;
    if let Some(slot) = body.get_mut(1..3) {
        slot.copy_from_slice(&count.to_be_bytes());
    }
    Ok(body)
}

/// Opens every section of a record with the client's keys and rebuilds it. The body is
/// decrypted in place, then zeroized.
fn open_record(crypto: &Crypto, keys: &mut ClientKeys, id: i64, kind: RecordKind, body: Vec<u8>) -> Result<Record> {
    let mut body = zeroize::Zeroizing::new(body);
    let bad = |problem| Error::corrupt("record", id, problem);
    let row = id.to_be_bytes();
    let client = keys.client;
    let candidates = Record::possible_categories(kind);
    let mut aad_buf = Vec::with_capacity(160);
    let mut reader = SectionReader { sections: std::collections::BTreeMap::new(), record: RecordId(id) };
    // Decrypt each section in place: walk the body once, splitting off one section at a time,
    // so each plaintext borrows its own disjoint part of the buffer.
    let ranges = section_ranges(&body, id)?;
    let mut rest: &mut [u8] = &mut body[..];
    let mut consumed = 0usize;
    for range in ranges {
        let skip = range.start.checked_sub(consumed).ok_or_else(|| bad("overlapping sections"))?;
        let (_, tail) =
            std::mem::take(&mut rest).split_at_mut_checked(skip).ok_or_else(|| bad("truncated record body"))?;
        let (sealed, tail) = tail.split_at_mut_checked(range.len()).ok_or_else(|| bad("truncated record body"))?;
        rest = tail;
        consumed = range.end;
        let header = Header::parse(sealed).map_err(|e| Error::integrity("record", id, e))?;
        // Commitments are public, so finding the section's key needs no constant-time compare;
        // open_in_place checks the commitment again, in constant time, before decrypting.
        let mut matched = None;
        for &category in candidates {
            if keys.key(category)?.commitment() == &header.commitment {
                matched = Some(category);
                break;
            }
        }
        // No key of this client opens it: made under another key, or its commitment altered.
        let category = matched.ok_or_else(|| Error::integrity("record", id, SealError::Commitment))?;
        let aad = section_aad(&crypto.vault_id, &client, &row, category);
        let plaintext = keys
            .key(category)?
            .open_in_place(&aad, sealed, &mut aad_buf)
            .map_err(|e| Error::integrity("record", id, e))?;
        if reader.sections.insert(category, plaintext).is_some() {
            return Err(bad("a category appears twice in one record"));
        }
    }
    Record::read_sections(kind, &reader)
}

/// Where each sealed section lies in a record body: `version u8 | count u16 | (len u32 | sealed)*`.
/// The one parser of the framing; a body with trailing or missing bytes is refused here.
fn section_ranges(body: &[u8], id: i64) -> Result<Vec<std::ops::Range<usize>>> {
    let bad = |problem| Error::corrupt("record", id, problem);
    let (&version, _) = body.split_first().ok_or_else(|| bad("empty record body"))?;
    if version != BODY_VERSION {
        return Err(bad("unknown record body version"));
    }
    let count = body.get(1..3).ok_or_else(|| bad("truncated record body"))?;
    let count = u16::from_be_bytes([count.first().copied().unwrap_or(0), count.get(1).copied().unwrap_or(0)]);
    let mut out = Vec::with_capacity(usize::from(count));
    let mut at = 3usize;
    for _ in 0..count {
        let len: [u8; 4] =
            body.get(at..at + 4).and_then(|b| b.try_into().ok()).ok_or_else(|| bad("truncated record body"))?;
        let len = usize::try_from(u32::from_be_bytes(len)).map_err(|_| bad("section too long"))?;
        let start = at + 4;
        let end = start.checked_add(len).filter(|&e| e <= body.len()).ok_or_else(|| bad("truncated record body"))?;
        out.push(start..end);
        at = end;
    }
    if at != body.len() {
        return Err(bad("trailing bytes after the last section"));
    }
    Ok(out)
}

/// Splits a record body into its sealed sections.
pub(crate) fn split_sections(body: &[u8], id: i64) -> Result<Vec<&[u8]>> {
    section_ranges(body, id)?
        .into_iter()
        .map(|r| body.get(r).ok_or_else(|| Error::corrupt("record", id, "truncated record body")))
        .collect()
}

fn sealed_rows(conn: &rusqlite::Connection, client: ClientId) -> Result<Vec<SealedRecord>> {
    let mut stmt = conn.prepare_cached("SELECT id, kind, body FROM record WHERE client_id = ?1 ORDER BY id")?;
    let rows = stmt.query_map([client.as_bytes()], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get(2)?)))?;
    rows.map(|row| {
        let (id, kind, body) = row?;
        Ok(SealedRecord { id: RecordId(id), kind: parse_kind(&kind, id)?, body })
    })
    .collect()
}

fn view_in(
    tx: &Transaction<'_>,
    crypto: &mut Crypto,
    policy: &Policy,
    client: ClientId,
    audience: &Audience,
    today: Date,
) -> Result<ClientView> {
    let ck = load_client_key(tx, crypto, client)?;
    let rows = sealed_rows(tx, client)?;
    let consents = {
        let reader = CategoryReader::new(client, crypto.vault_id, &ck, crypto.alg, [Category::Consent])?;
        firewall::consented(&reader, &rows, &audience.to_string(), today)?
    };
    let categories = firewall::view_categories(policy, audience, &consents)?;
    let reader = CategoryReader::new(client, crypto.vault_id, &ck, crypto.alg, categories)?;
    let view = firewall::build_view(&reader, &rows, audience, policy.hash(), today)?;
    let output = *blake3::hash(view.to_json()).as_bytes();
    let detail = serde_json::json!({ "audience": audience.to_string(), "categories": view.categories() });
    log_with_key(
        tx,
        crypto,
        policy.hash(),
        Event::Disclosure,
        audience.class().as_str(),
        client,
        &ck,
        output,
        &detail,
    )?;
    Ok(view)
}

fn meta_aad<'a>(vault_id: &'a [u8; 16], name: &'a str) -> Aad<'a> {
    Aad {
        vault: vault_id,
        table: "meta",
        row: name.as_bytes(),
        client: &NO_CLIENT,
        category: name,
        schema: VALUE_LAYOUT,
    }
}

fn log_detail_aad<'a>(vault_id: &'a [u8; 16], client: &'a [u8; 16], seq: &'a [u8; 8]) -> Aad<'a> {
    Aad {
        vault: vault_id,
        table: "disclosure_log",
        row: seq,
        client,
        category: Category::SystemAudit.as_str(),
        schema: VALUE_LAYOUT,
    }
}

/// Appends a log entry whose detail is sealed under the vault's metadata key, and updates the
/// sealed head, in the caller's transaction.
#[allow(clippy::too_many_arguments, reason = "one call site per event kind; a struct would only rename them")]
fn log(
    tx: &Transaction<'_>,
    crypto: &mut Crypto,
    policy: PolicyHash,
    event: Event,
    audience: &str,
    client: Option<ClientId>,
    key: Option<&SealingKey>,
    output: [u8; 32],
    detail: &serde_json::Value,
) -> Result<()> {
    let plain = zeroize::Zeroizing::new(serde_json::to_vec(detail).map_err(|_| Error::input("log detail"))?);
    let Crypto { vault_id, nonces, meta_key, .. } = crypto;
    let key = key.unwrap_or(meta_key);
    let cid = client.map_or(NO_CLIENT, |c| *c.as_bytes());
    let head = audit::append(tx, NewEntry { event, audience, client, policy, output }, |seq| {
        let seq = seq.to_be_bytes();
        key.seal(nonces, &log_detail_aad(vault_id, &cid, &seq), &plain)
            .map_err(|e| Error::integrity("disclosure_log", "new", e))
    })?;
    write_sealed_head(tx, crypto, Some(head))
}

#[allow(clippy::too_many_arguments, reason = "see log")]
fn log_with_key(
    tx: &Transaction<'_>,
    crypto: &mut Crypto,
    policy: PolicyHash,
    event: Event,
    audience: &str,
    client: ClientId,
    ck: &ClientKey,
    output: [u8; 32],
    detail: &serde_json::Value,
) -> Result<()> {
    // The detail is sealed under the client's own audit key: erasing the client shreds it.
    let key = ck.category_key(Category::SystemAudit, crypto.alg)?;
    log(tx, crypto, policy, event, audience, Some(client), Some(&key), output, detail)
}

fn log_for_client(
    tx: &Transaction<'_>,
    crypto: &mut Crypto,
    policy: PolicyHash,
    audience: &str,
    client: ClientId,
    output: [u8; 32],
    detail: &serde_json::Value,
) -> Result<()> {
    let ck = load_client_key(tx, crypto, client)?;
    log_with_key(tx, crypto, policy, Event::Disclosure, audience, client, &ck, output, detail)
}

fn write_sealed_head(tx: &Transaction<'_>, crypto: &Crypto, head: Option<LogHead>) -> Result<()> {
    let mut plain = [0u8; 40];
    if let Some(h) = head {
        plain[..8].copy_from_slice(&h.seq.to_be_bytes());
        plain[8..].copy_from_slice(&h.hash);
    }
    let sealed = crypto
        .meta_key
        .seal(&mut NonceSource::new(), &meta_aad(&crypto.vault_id, "log_head"), &plain)
        .map_err(|e| Error::integrity("meta", "log_head", e))?;
    tx.execute("INSERT OR REPLACE INTO meta (name, value) VALUES ('log_head', ?1)", [sealed])?;
    Ok(())
}

fn read_sealed_head(conn: &rusqlite::Connection, crypto: &Crypto) -> Result<Option<LogHead>> {
    let sealed: Vec<u8> = conn
        .query_row("SELECT value FROM meta WHERE name = 'log_head'", [], |r| r.get(0))
        .optional()?
        .ok_or_else(|| Error::corrupt("meta", "log_head", "the sealed log head is missing"))?;
    let plain = crypto
        .meta_key
        .open(&meta_aad(&crypto.vault_id, "log_head"), &sealed)
        .map_err(|e| Error::integrity("meta", "log_head", e))?;
    let seq = plain.get(..8).and_then(|b| b.try_into().ok()).map(u64::from_be_bytes);
    let hash: Option<[u8; 32]> = plain.get(8..40).and_then(|b| b.try_into().ok());
    match (seq, hash) {
        (Some(0), _) => Ok(None),
        (Some(seq), Some(hash)) => Ok(Some(LogHead { seq, hash })),
        _ => Err(Error::corrupt("meta", "log_head", "the sealed log head has the wrong length")),
    }
}

fn open_detail(conn: &rusqlite::Connection, crypto: &Crypto, e: &LogEntry) -> Result<Option<serde_json::Value>> {
    let seq = e.seq.to_be_bytes();
    let cid = e.client.map_or(NO_CLIENT, |c| *c.as_bytes());
    let aad = log_detail_aad(&crypto.vault_id, &cid, &seq);
    let opened = match (e.client, e.event) {
        (Some(client), ev) if ev != Event::Erasure && ev != Event::KeyRotation && ev != Event::PolicyChange => {
            match load_client_key(conn, crypto, client) {
                Ok(ck) => Some(ck.category_key(Category::SystemAudit, crypto.alg)?.open(&aad, &e.detail)),
                Err(err) if err.kind() == crate::ErrorKind::NotFound => None,
                Err(err) => return Err(err),
            }
        }
        _ => Some(crypto.meta_key.open(&aad, &e.detail)),
    };
    opened
        .map(|r| {
            let plain = r.map_err(|err| Error::integrity("disclosure_log", e.seq, err))?;
            serde_json::from_slice(&plain).map_err(|_| Error::corrupt("disclosure_log", e.seq, "a detail is not JSON"))
        })
        .transpose()
}

/// Brings an unlocked vault to the current record layout and metadata, in one transaction:
/// identity records of layout 1 are re-sealed so the DHS form of the name gets its own section,
/// and a vault from before the disclosure log gets its sealed (empty) log head.
fn upgrade_layout(conn: &rusqlite::Connection, crypto: &mut Crypto) -> Result<()> {
    // The layout byte (1 when absent, before it was recorded).
    let layout = |c: &rusqlite::Connection| -> Result<u8> {
        let v: Option<Vec<u8>> =
            c.query_row("SELECT value FROM meta WHERE name = 'layout'", [], |r| r.get(0)).optional()?;
        Ok(v.and_then(|v| v.first().copied()).unwrap_or(1))
    };
    // Checked first without the write lock, so an up-to-date vault opens without taking it.
    if layout(conn)? >= LAYOUT {
        return Ok(());
    }
    // Under the write lock, look again: another process may have upgraded it meanwhile.
    let tx = rusqlite::Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
    if layout(&tx)? >= LAYOUT {
        return Ok(());
    }
    let rows: Vec<(i64, Vec<u8>, Vec<u8>)> = tx
        .prepare("SELECT id, client_id, body FROM record WHERE kind = 'identity'")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (id, cid, body) in rows {
        let client =
            ClientId::from_slice(&cid).ok_or_else(|| Error::corrupt("record", id, "a client id is not 16 bytes"))?;
        let ck = load_client_key(&tx, crypto, client)?;
        let mut keys = ClientKeys::new(client, ck, crypto.alg);
        let record = open_record(crypto, &mut keys, id, RecordKind::Identity, body)?;
        let sealed = seal_record(crypto, &mut keys, id, &record)?;
        tx.execute("UPDATE record SET body = ?1 WHERE id = ?2", params![sealed, id])?;
    }
    let has_head: Option<i64> =
        tx.query_row("SELECT 1 FROM meta WHERE name = 'log_head'", [], |r| r.get(0)).optional()?;
    if has_head.is_none() {
        write_sealed_head(&tx, crypto, None)?;
    }
    tx.execute("INSERT OR REPLACE INTO meta (name, value) VALUES ('layout', ?1)", [vec![LAYOUT]])?;
    tx.commit()?;
    Ok(())
}

fn load_policy(conn: &rusqlite::Connection, crypto: &Crypto) -> Result<Policy> {
    let sealed: Option<Vec<u8>> =
        conn.query_row("SELECT value FROM meta WHERE name = 'policy'", [], |r| r.get(0)).optional()?;
    let Some(sealed) = sealed else { return Policy::default_policy() };
    let plain = crypto
        .meta_key
        .open(&meta_aad(&crypto.vault_id, "policy"), &sealed)
        .map_err(|e| Error::integrity("meta", "policy", e))?;
    let sources =
        serde_json::from_slice(&plain).map_err(|_| Error::corrupt("meta", "policy", "not a stored policy"))?;
    Policy::from_sources(&sources)
}
