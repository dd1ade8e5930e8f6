//! The vault: one SQLite file of sealed client records, and the API an app embeds.
//!
//! Every public write is one `BEGIN IMMEDIATE` transaction: it either happens whole or not at
//! all, and a write that fails leaves every earlier record as it was. A [`Vault`] is `Send` and
//! `Sync`; calls from several threads are serialized on one connection.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};
use subtle::ConstantTimeEq;

use crate::audit::{self, Event, LogEntry, LogHead, LogProblem, LogStatus};
use crate::category::Category;
use crate::error::{Error, Result};
use crate::firewall::{self, CategoryReader, ClientCopy, ClientView, Gate, IceNotice, PartnerReferral, SealedRecord};
use crate::identifier::{AlienNumber, Date};
use crate::keys::{
    self, BlindIndexKey, ClientKey, EnvelopeKind, KdfParams, NewEnvelope, Passphrase, RawKey, RecoveryIdentity,
    RecoveryRecipient, RootKey, Secret32, Unlock,
};
use crate::policy::{Audience, AudienceClass, PartnerId, Policy, PolicyHash};
use crate::record::{
    ClientId, ClientRecord, ConsentRecord, Identity, Intake, Record, RecordId, RecordKind, StoredRecord,
};
use crate::seal::{Algorithm, NonceSource, SealingKey};
use crate::sealed_record::{open_partial, open_record, seal_record, ClientKeys};
use crate::store;

mod aad;
mod extracts;
mod log;
mod lottery;
mod rekey;
mod reports;
mod state;
mod upgrade;

pub use extracts::ExtractFiles;
use log::{checked_log_head, Detail, Entry, Subject};
pub use lottery::LotteryFiles;
pub use reports::{DuplicateCandidate, MatchDecision, MatchReason};
use state::State;

/// The canary of a vault before format 2 (no authenticated state).
const CANARY_V1: &[u8] = b"caseward vault canary v1";
/// The canary of a format-2 vault. A file whose canary says format 2 is never "upgraded" again:
/// deleting its state cannot make caseward rebuild the state from tampered rows.
const CANARY_V2: &[u8] = b"caseward vault canary v2";
/// The record layout: 2 gives the DHS form of a name its own section (and key); 3 adds the
/// authenticated vault state (`state`). Older vaults are upgraded when first unlocked.
const LAYOUT: u8 = 3;

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
    /// The digest of the stored policy `policy` was loaded from (`None`: the shipped default).
    policy_digest: Option<[u8; 32]>,
}

/// Reloads the policy if another process installed one since it was loaded. The stored policy
/// is checked against the state, so a deleted or replaced policy row is `Integrity`, never a
/// silent fall-back to the default.
fn refresh_policy(
    conn: &Connection,
    crypto: &Crypto,
    policy: &mut Policy,
    policy_digest: &mut Option<[u8; 32]>,
) -> Result<()> {
    if crypto.state.meta_recorded("policy")? != *policy_digest {
        let (loaded, digest) = load_policy(conn, crypto)?;
        *policy = loaded;
        *policy_digest = digest;
    }
    Ok(())
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
    /// Keys the digests of outputs that concern no client (board reports) in the log.
    output_key: Secret32,
    nonces: NonceSource,
    /// The authenticated vault state, and what the current operation has checked.
    state: State,
    /// A policy digest a write installed, taken up by `Inner` once the write commits.
    pending_policy: Option<Option<[u8; 32]>>,
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
            let mut crypto = Crypto::new(root, vault_id, options.algorithm, 0)?;
            let tx = conn.unchecked_transaction()?;
            let canary = crypto
                .root
                .canary_key(crypto.alg)?
                .seal(&mut crypto.nonces, &aad::canary(&vault_id), CANARY_V2)
                .map_err(|e| Error::integrity("meta", "canary", e))?;
            crypto.state.begin_empty();
            let meta: [(&'static str, Vec<u8>); 6] = [
                ("vault_id", vault_id.to_vec()),
                ("algorithm", crypto.alg.name().as_bytes().to_vec()),
                ("kek_version", 0u32.to_be_bytes().to_vec()),
                ("canary", canary),
                ("layout", vec![LAYOUT]),
                (state::NEXT_RECORD, 1i64.to_be_bytes().to_vec()),
            ];
            for (name, value) in meta {
                crypto.state.meta_put(&tx, name, &value)?;
            }
            insert_envelope(&tx, &envelope)?;
            crypto.state.envelopes_changed(&tx)?;
            crypto.flush(&tx)?;
            tx.commit()?;
            crypto.state.end();
            Ok(crypto)
        })();
        match result {
            Ok(crypto) => Ok(Self::from_parts(conn, crypto, path, Policy::default_policy()?, None)),
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

        // These four are read before the state can be opened (its key derives from them); the
        // state then checks them like every other meta value.
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
            .open(&aad::canary(&vault_id), &canary)
            .map_err(|_| Error::WrongKey("the key opens an envelope, but not this vault's canary"))?;
        let format2 = if bool::from(opened.as_slice().ct_eq(CANARY_V2)) {
            true
        } else if bool::from(opened.as_slice().ct_eq(CANARY_V1)) {
            false
        } else {
            return Err(Error::WrongKey("the key opens an envelope, but not this vault's canary"));
        };
        let mut crypto = Crypto::new(root, vault_id, alg, kek_version)?;
        if !format2 {
            upgrade::upgrade_layout(&conn, &mut crypto)?;
        }
        let (policy, policy_digest) = {
            let tx = rusqlite::Transaction::new_unchecked(&conn, TransactionBehavior::Deferred)?;
            // Not the log: a vault whose log was cut still opens, so `verify_log` can say so.
            crypto.open_state(&tx)?;
            let checked = (|| {
                crypto.state.check_all_meta(&tx)?;
                crypto.state.check_envelopes(&tx)?;
                if crypto.state.meta_get(&tx, "layout")?.as_deref() != Some(&[LAYOUT][..]) {
                    return Err(Error::corrupt("meta", "layout", "a format-2 vault with another layout"));
                }
                load_policy(&tx, &crypto)
            })();
            crypto.state.end();
            checked?
        };
        Ok(Self::from_parts(conn, crypto, path, policy, policy_digest))
    }

    fn from_parts(
        conn: rusqlite::Connection,
        crypto: Crypto,
        path: &Path,
        policy: Policy,
        policy_digest: Option<[u8; 32]>,
    ) -> Self {
        Self { inner: Mutex::new(Some(Inner { conn, crypto, path: path.to_owned(), policy, policy_digest })) }
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

    /// A read: one snapshot (a deferred transaction), with the authenticated state opened first,
    /// so every row read is checked against the same root.
    fn read<T>(&self, f: impl FnOnce(&Connection, &Crypto) -> Result<T>) -> Result<T> {
        self.read_p(|conn, crypto, _| f(conn, crypto))
    }

    /// A read that needs the policy in force.
    fn read_p<T>(&self, f: impl FnOnce(&Connection, &Crypto, &Policy) -> Result<T>) -> Result<T> {
        self.read_checked(true, f)
    }

    fn read_checked<T>(
        &self,
        check_log: bool,
        f: impl FnOnce(&Connection, &Crypto, &Policy) -> Result<T>,
    ) -> Result<T> {
        self.with(|inner| {
            let Inner { conn, crypto, policy, policy_digest, .. } = inner;
            let tx = Transaction::new_unchecked(conn, TransactionBehavior::Deferred)?;
            if check_log {
                crypto.begin(&tx)?;
            } else {
                crypto.open_state(&tx)?;
            }
            let out = refresh_policy(&tx, crypto, policy, policy_digest).and_then(|()| f(&tx, crypto, policy));
            crypto.state.end();
            out
        })
    }

    fn write<T>(&self, f: impl FnOnce(&Transaction<'_>, &mut Crypto) -> Result<T>) -> Result<T> {
        self.write_p(|tx, crypto, _| f(tx, crypto))
    }

    /// A write: one `BEGIN IMMEDIATE` transaction. The state is opened first; what the write
    /// changed is folded into it just before the commit.
    fn write_p<T>(&self, f: impl FnOnce(&Transaction<'_>, &mut Crypto, &mut Policy) -> Result<T>) -> Result<T> {
        self.with(|inner| {
            let Inner { conn, crypto, policy, policy_digest, .. } = inner;
            let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
            crypto.begin(&tx)?;
            let out: Result<T> = (|| {
                refresh_policy(&tx, crypto, policy, policy_digest)?;
                let out = f(&tx, crypto, policy)?;
                crypto.flush(&tx)?;
                Ok(out)
            })();
            crypto.state.end();
            let committed = out.and_then(|out| {
                tx.commit()?;
                Ok(out)
            });
            match crypto.pending_policy.take() {
                Some(d) if committed.is_ok() => *policy_digest = d,
                // The install rolled back: a digest no state records forces a reload next time.
                Some(_) => *policy_digest = Some([0; 32]),
                None => {}
            }
            committed
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
            let ck = load_client_key(tx, crypto, client)?;
            let old: Option<(String, String, Vec<u8>)> = tx
                .query_row(
                    "SELECT kind, created_month, body FROM record WHERE id = ?1 AND client_id = ?2",
                    params![id.0, client.as_bytes()],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            let (kind, month, old_body) = old.ok_or_else(|| {
                missing(tx, crypto, client, Error::not_found(format!("record {id} of client {client}")))
            })?;
            if kind == RecordKind::Consent.as_str() {
                return Err(Error::input("a consent is changed only by revoke_consent, so that it is logged"));
            }
            if kind != record.kind().as_str() {
                return Err(Error::input(format!(
                    "record {id} is a {kind} record; it cannot become a {}",
                    record.kind().as_str()
                )));
            }
            let mut keys = ClientKeys::new(client, ck, crypto.alg);
            if let Record::Identity(identity) = record {
                delete_lookups(tx, crypto, client)?;
                insert_lookup(tx, crypto, client, &identity.a_number)?;
            }
            if let Record::Enrollment(new) = record {
                if let Record::Enrollment(old) =
                    open_record(&crypto.vault_id, &mut keys, id.0, RecordKind::Enrollment, old_body.clone())?
                {
                    lottery::guard_randomization(
                        tx,
                        crypto,
                        Some(client),
                        old.randomization.as_ref(),
                        new.randomization.as_ref(),
                    )?;
                }
            }
            rewrite_record(tx, crypto, &mut keys, (id.0, &kind, &month), &old_body, record)
        })
    }

    /// Changes a client's enrollment in one transaction: read it, apply `change`, write it back.
    /// For what an enrollment gains after intake (its exit, its randomization): a read in one
    /// call and a write in another could lose a change another writer made in between.
    pub fn update_enrollment(&self, client: ClientId, change: impl FnOnce(&mut crate::Enrollment)) -> Result<()> {
        self.write(|tx, crypto| {
            update_enrollment_in(tx, crypto, client, true, |e| {
                change(e);
                Ok(())
            })
        })
    }

    /// Every record of a client, decrypted, as the caseworker sees it.
    pub fn client_record(&self, client: ClientId) -> Result<ClientRecord> {
        self.read(|conn, crypto| {
            let ck = load_client_key(conn, crypto, client)?;
            let mut keys = ClientKeys::new(client, ck, crypto.alg);
            let records = client_rows(conn, crypto, client)?
                .into_iter()
                .map(|(id, kind, body)| {
                    let kind = parse_kind(&kind, id)?;
                    Ok(StoredRecord {
                        id: RecordId(id),
                        record: open_record(&crypto.vault_id, &mut keys, id, kind, body)?,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(ClientRecord { id: client, records })
        })
    }

    /// The client's identity record alone.
    pub fn identity(&self, client: ClientId) -> Result<Identity> {
        self.read(|conn, crypto| {
            let ck = load_client_key(conn, crypto, client)?;
            let mut keys = ClientKeys::new(client, ck, crypto.alg);
            let (id, body) = client_rows(conn, crypto, client)?
                .into_iter()
                .find(|(_, kind, _)| kind == RecordKind::Identity.as_str())
                .map(|(id, _, body)| (id, body))
                // The client matched its MAC, and every client has an identity: rows that
                // hold none were read through a damaged index.
                .ok_or_else(|| Error::corrupt("record", client, "the client's identity record is missing"))?;
            match open_record(&crypto.vault_id, &mut keys, id, RecordKind::Identity, body)? {
                Record::Identity(i) => Ok(i),
                _ => Err(Error::corrupt("record", id, "not an identity record")),
            }
        })
    }

    /// Every client id, in id order.
    pub fn list_clients(&self) -> Result<Vec<ClientId>> {
        // Every bucket is checked, and the client table must hold exactly the clients listed.
        self.read(|conn, crypto| Ok(crypto.state.all_clients(conn)?.into_keys().collect()))
    }

    /// The ids and kinds of a client's records, without decrypting anything.
    pub fn list_records(&self, client: ClientId) -> Result<Vec<(RecordId, RecordKind)>> {
        self.read(|conn, crypto| {
            ensure_client(conn, crypto, client)?;
            let mut stmt = conn.prepare_cached("SELECT id, kind FROM record WHERE client_id = ?1")?;
            let rows = stmt.query_map([client.as_bytes()], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?;
            let mut out = rows
                .map(|row| {
                    let (id, kind) = row?;
                    Ok((RecordId(id), parse_kind(&kind, id)?))
                })
                .collect::<Result<Vec<_>>>()?;
            out.sort_by_key(|(id, _)| id.0);
            Ok(out)
        })
    }

    /// Finds a client by A-number, in any written form, through the blind index: nothing is
    /// decrypted. An invalid A-number is an error, not a miss.
    pub fn find_by_a_number(&self, a_number: &str) -> Result<Option<ClientId>> {
        let a = AlienNumber::parse(a_number)?;
        self.read(|conn, crypto| {
            // The lookup row is checked with its bucket: a swapped, added or deleted row is
            // `Integrity`, not another person's id or a silent miss.
            let found = crypto.state.lookup(conn, &crypto.blind.digest(a.as_str()))?;
            match found.as_slice() {
                [] => Ok(None),
                [one] => Ok(Some(*one)),
                _ => Err(Error::corrupt("lookup", "-", "one A-number points to several clients")),
            }
        })
    }

    /// Decrypts every record of every client, in client order, calling `f` for each. Streams:
    /// memory does not grow with the vault.
    pub fn scan(&self, f: impl FnMut(ClientId, StoredRecord) -> Result<()>) -> Result<usize> {
        self.scan_with(None, f)
    }

    /// [`Vault::scan`] holding only the keys of `categories`: each record is rebuilt from those
    /// sections alone ([`Record::read_partial`]), so code fed by it cannot read anything else.
    /// The board report reads through this, with the categories its tables declare.
    pub(crate) fn scan_declared(
        &self,
        categories: &[Category],
        f: impl FnMut(ClientId, StoredRecord) -> Result<()>,
    ) -> Result<usize> {
        self.scan_with(Some(categories), f)
    }

    fn scan_with(
        &self,
        only: Option<&[Category]>,
        mut f: impl FnMut(ClientId, StoredRecord) -> Result<()>,
    ) -> Result<usize> {
        self.read(|conn, crypto| {
            // Every bucket first: the clients the state lists, with their MACs. Each client's
            // MAC is then recomputed from the rows as they stream past, and checked at the end
            // of the client, before the caller's next client begins; a client the state lists
            // but the scan never met (all its records deleted) is caught at the end.
            let mut expected = crypto.state.all_clients(conn)?;
            let mut stmt = conn.prepare(
                "SELECT r.client_id, r.id, r.kind, r.body, c.kek_version, c.wrapped_key, r.created_month,
                        c.created_month
                 FROM record r JOIN client c ON c.id = r.client_id ORDER BY r.client_id, r.id",
            )?;
            let mut rows = stmt.query([])?;
            let mut current: Option<(ClientKeys, [u8; 32], Vec<StoredRecord>)> = None;
            let mut count = 0usize;
            let mut finish = |done: Option<(ClientKeys, [u8; 32], Vec<StoredRecord>)>,
                              f: &mut dyn FnMut(ClientId, StoredRecord) -> Result<()>|
             -> Result<()> {
                let Some((keys, mac, records)) = done else { return Ok(()) };
                let want = expected
                    .remove(&keys.client)
                    .ok_or_else(|| Error::corrupt("client", keys.client, "the client is not in the vault state"))?;
                if !bool::from(mac.ct_eq(&want)) {
                    return Err(Error::corrupt("client", keys.client, state::CLIENT_CHANGED));
                }
                crypto.state.mark_checked(keys.client);
                for r in records {
                    f(keys.client, r)?;
                }
                Ok(())
            };
            while let Some(row) = rows.next()? {
                let cid_bytes: Vec<u8> = row.get(0)?;
                let client = ClientId::from_slice(&cid_bytes)
                    .ok_or_else(|| Error::corrupt("record", "-", "a client id is not 16 bytes"))?;
                let id: i64 = row.get(1)?;
                let kind_text: String = row.get(2)?;
                let kind = parse_kind(&kind_text, id)?;
                let body: Vec<u8> = row.get(3)?;
                if current.as_ref().is_none_or(|(k, _, _)| k.client != client) {
                    finish(current.take(), &mut f)?;
                    let wrapped: Vec<u8> = row.get(5)?;
                    let version: u32 = row.get(4)?;
                    let month: String = row.get(7)?;
                    let ck = unwrap_client_key(crypto, client, version, &wrapped)?;
                    let mac = crypto.state.client_term(client, version, &wrapped, &month);
                    current = Some((ClientKeys::new(client, ck, crypto.alg), mac, Vec::new()));
                }
                let (keys, mac, records) =
                    current.as_mut().ok_or_else(|| Error::corrupt("client", client, "client key missing"))?;
                let term = crypto.state.record_term(client, id, &kind_text, &row.get::<_, String>(6)?, &body);
                state::add(mac, &term);
                let record = match only {
                    None => Some(open_record(&crypto.vault_id, keys, id, kind, body)?),
                    Some(categories) => open_partial(&crypto.vault_id, keys, id, kind, body, categories)?,
                };
                if let Some(record) = record {
                    records.push(StoredRecord { id: RecordId(id), record });
                    count += 1;
                }
            }
            finish(current.take(), &mut f)?;
            if let Some((client, _)) = expected.into_iter().next() {
                return Err(Error::corrupt("client", client, "the client's records are missing"));
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
            let rows: Vec<(Vec<u8>, u32, Vec<u8>, String)> = tx
                .prepare("SELECT id, kek_version, wrapped_key, created_month FROM client")?
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                .collect::<rusqlite::Result<_>>()?;
            let mut update = tx.prepare("UPDATE client SET kek_version = ?1, wrapped_key = ?2 WHERE id = ?3")?;
            let listed = crypto.state.all_clients(tx)?;
            for (id, version, wrapped, month) in rows {
                let client = ClientId::from_slice(&id)
                    .ok_or_else(|| Error::corrupt("client", "-", "a client id is not 16 bytes"))?;
                if !listed.contains_key(&client) {
                    return Err(Error::corrupt("client", client, "the client is not in the vault state"));
                }
                let ck = unwrap_client_key(crypto, client, version, &wrapped)?;
                let rewrapped = new_kek
                    .seal(&mut crypto.nonces, &aad::client_key(&crypto.vault_id, &client), ck.expose())
                    .map_err(|e| Error::integrity("client", client, e))?;
                update.execute(params![next, rewrapped, &id])?;
                crypto.state.client_row_changed(
                    tx,
                    client,
                    Some((version, &wrapped, &month)),
                    (next, &rewrapped, &month),
                )?;
            }
            crypto.state.meta_put(tx, "kek_version", &next.to_be_bytes())?;
            crypto.kek = new_kek;
            crypto.kek_version = next;
            let entry = Entry {
                event: Event::KeyRotation,
                audience: None,
                subject: Subject::Vault,
                output: [0; 32],
                detail: Detail::KeyRotation { kek_version: next },
            };
            log::append(tx, crypto, policy.hash(), entry)?;
            Ok(next)
        })
        // If the transaction rolled back, the next operation's `begin` reads the version on
        // disk again and derives the KEK that matches it.
    }

    /// Adds a passphrase envelope to a vault that has none (for example one created with a
    /// keystore key).
    pub fn add_passphrase(&self, passphrase: &Passphrase, kdf: KdfParams) -> Result<()> {
        self.write(|tx, crypto| {
            crypto.state.check_envelopes(tx)?;
            let envelope = keys::wrap_for_passphrase(&crypto.root, passphrase, kdf)?;
            insert_envelope(tx, &envelope)?;
            crypto.state.envelopes_changed(tx)
        })
    }

    /// Adds an age X25519 recovery recipient: its identity can then open the vault.
    pub fn add_recovery_recipient(&self, recipient: &RecoveryRecipient) -> Result<()> {
        self.write(|tx, crypto| {
            crypto.state.check_envelopes(tx)?;
            insert_envelope(tx, &keys::wrap_for_recipient(&crypto.root, recipient)?)?;
            crypto.state.envelopes_changed(tx)
        })
    }

    /// Removes the passphrase envelope (for a vault that should open only with a keystore key
    /// or a recovery identity). The last envelope of a vault cannot be removed.
    pub fn remove_passphrase(&self) -> Result<()> {
        self.remove_envelope(EnvelopeKind::Passphrase, None)
    }

    /// Removes a recovery recipient. The last envelope of a vault cannot be removed.
    pub fn remove_recovery_recipient(&self, recipient: &RecoveryRecipient) -> Result<()> {
        self.remove_envelope(EnvelopeKind::Recovery, Some(&recipient.to_string()))
    }

    /// Adds a raw keystore key that can open the vault.
    pub fn add_keystore_key(&self, key: &RawKey) -> Result<()> {
        self.write(|tx, crypto| {
            crypto.state.check_envelopes(tx)?;
            insert_envelope(tx, &keys::wrap_for_keystore(&crypto.root, key)?)?;
            crypto.state.envelopes_changed(tx)
        })
    }

    /// Removes a keystore key. The last envelope of a vault cannot be removed.
    pub fn remove_keystore_key(&self, key: &RawKey) -> Result<()> {
        self.remove_envelope(EnvelopeKind::Keystore, Some(&keys::keystore_recipient(key)?))
    }

    /// Removes a keystore key that is gone, by the public recipient `envelopes` lists for it
    /// (`age1...`). A key lost with a phone cannot be given as bytes, yet its envelope would
    /// still open any copy of the vault for whoever holds that phone's keystore. The last
    /// envelope of a vault cannot be removed.
    ///
    /// Then call [`Vault::rotate_root_key`] (in that order: a rotation re-makes every keystore
    /// envelope it finds). The lost phone holds its own copy of the vault, which its key still
    /// opens, and with it the old root key; only a new root key keeps later copies from it.
    pub fn remove_keystore_recipient(&self, recipient: &str) -> Result<()> {
        // The same parse as a recovery recipient: a typed error for text that is not one.
        let recipient = RecoveryRecipient::parse(recipient)?.to_string();
        self.remove_envelope(EnvelopeKind::Keystore, Some(&recipient))
    }

    /// Removes every envelope of `kind` for `recipient` (none for a passphrase), refusing when
    /// that would leave the vault with no way to open.
    fn remove_envelope(&self, kind: EnvelopeKind, recipient: Option<&str>) -> Result<()> {
        self.write(|tx, crypto| {
            crypto.state.check_envelopes(tx)?;
            let last = || Error::input("the last key envelope cannot be removed: the vault would never open again");
            let total: i64 = tx.query_row("SELECT count(*) FROM key_envelope", [], |r| r.get(0))?;
            if total <= 1 {
                return Err(last());
            }
            let matching: i64 = tx.query_row(
                "SELECT count(*) FROM key_envelope WHERE kind = ?1 AND recipient IS ?2",
                params![kind.as_str(), recipient],
                |r| r.get(0),
            )?;
            if matching == 0 {
                return Err(Error::not_found("no such key envelope"));
            }
            if total <= matching {
                return Err(last());
            }
            tx.execute(
                "DELETE FROM key_envelope WHERE kind = ?1 AND recipient IS ?2",
                params![kind.as_str(), recipient],
            )?;
            crypto.state.envelopes_changed(tx)
        })
    }

    /// The key envelopes that open this vault.
    pub fn envelopes(&self) -> Result<Vec<EnvelopeInfo>> {
        self.read(|conn, crypto| {
            crypto.state.check_envelopes(conn)?;
            let mut stmt = conn.prepare("SELECT kind, recipient, log_n FROM key_envelope ORDER BY id")?;
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
        self.read_p(|_, _, policy| Ok(policy.hash()))
    }

    /// Installs a validated policy (with its overlays): it governs every disclosure from now on.
    /// The change is logged with the old and the new hash.
    pub fn install_policy(&self, policy: &Policy) -> Result<()> {
        self.write_p(|tx, crypto, current| {
            let stored = serde_json::to_vec(&policy.sources())
                .map_err(|_| Error::internal("the policy could not be serialized"))?;
            let sealed = crypto
                .meta_key
                .seal(&mut crypto.nonces, &aad::meta(&crypto.vault_id, "policy"), &stored)
                .map_err(|e| Error::integrity("meta", "policy", e))?;
            crypto.state.meta_put(tx, "policy", &sealed)?;
            crypto.pending_policy = Some(crypto.state.meta_recorded("policy")?);
            let detail = Detail::PolicyChange { from: current.hash().to_string(), to: policy.hash().to_string() };
            let entry =
                Entry { event: Event::PolicyChange, audience: None, subject: Subject::Vault, output: [0; 32], detail };
            log::append(tx, crypto, policy.hash(), entry)?;
            *current = policy.clone();
            Ok(())
        })
    }

    /// What may go to ICE about a client: the ICE floor (`docs/law.md#ice-floor`) and nothing
    /// else, built from a reader that holds only the floor keys, and logged in the same
    /// transaction.
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
            let rows = sealed_rows(tx, crypto, client)?;
            let digest_key = ck.output_digest_key();
            let gate = {
                let reader = CategoryReader::new(client, crypto.vault_id, &ck, crypto.alg, Gate::categories())?;
                Gate::read(&reader, &rows)?
            };
            let allow = firewall::ice_allowance(policy, &gate, consent == AddressConsent::GivenForThisNotice)?;
            // From here on, only the floor keys this notice may use exist.
            let reader = CategoryReader::new(client, crypto.vault_id, &ck, crypto.alg, allow.categories())?;
            drop(ck);
            let (notice, disclosed) = firewall::build_ice_notice(&reader, &rows, allow, &gate, today)?;
            let output = crypto.output_digest(Some(&digest_key), notice.to_json());
            let ck = load_client_key(tx, crypto, client)?;
            let entry = Entry {
                event: Event::Disclosure,
                audience: Some(AudienceClass::Ice),
                subject: Subject::Client(client, &ck),
                output,
                detail: Detail::disclosure(&Audience::Ice, disclosed),
            };
            log::append(tx, crypto, policy.hash(), entry)?;
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
        // The latest move by its own date, never by entry order. Two moves on one day: the one
        // with fewer filings recorded wins, so a reminder is never dropped because of a duplicate;
        // then the address itself decides, so the answer does not depend on entry order.
        let order = |a: &crate::AddressEpisode| {
            let f = &a.filings;
            let met =
                usize::from(f.ar11.is_some()) + usize::from(f.eoir33.is_some()) + usize::from(f.ice_portal.is_some());
            (a.moved_on, std::cmp::Reverse(met), serde_json::to_string(a).unwrap_or_default())
        };
        let mut latest: Option<&crate::AddressEpisode> = None;
        let (mut check_ins, mut hearings) = (Vec::new(), Vec::new());
        for r in &record.records {
            match &r.record {
                Record::Address(a) if latest.is_none_or(|l| order(a) > order(l)) => latest = Some(a),
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
        self.read(|conn, crypto| {
            let ck = load_client_key(conn, crypto, client)?;
            CategoryReader::new(client, crypto.vault_id, &ck, crypto.alg, firewall::ICE_FLOOR.map(|(c, _)| c))
        })
    }

    /// A client's records as stored (sealed), for a [`CategoryReader`].
    pub fn sealed_records(&self, client: ClientId) -> Result<Vec<SealedRecord>> {
        self.read(|conn, crypto| {
            ensure_client(conn, crypto, client)?;
            sealed_rows(conn, crypto, client)
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
        self.write_p(|tx, crypto, policy| view_in(tx, crypto, policy, client, &audience, today).map(PartnerReferral))
    }

    /// Records a consent (recipient `partner:<id>`, categories, start and expiry) and logs it.
    pub fn grant_consent(&self, client: ClientId, consent: &ConsentRecord) -> Result<RecordId> {
        check_consent(consent)?;
        self.write_p(|tx, crypto, policy| {
            let ck = load_client_key(tx, crypto, client)?;
            let mut keys = ClientKeys::new(client, ck, crypto.alg);
            let id = insert_record(tx, crypto, &mut keys, &Record::Consent(consent.clone()))?;
            let entry = Entry {
                event: Event::ConsentGranted,
                audience: None,
                subject: Subject::Client(client, &keys.key),
                output: [0; 32],
                detail: Detail::granted(consent, id),
            };
            log::append(tx, crypto, policy.hash(), entry)?;
            Ok(id)
        })
    }

    /// Revokes a consent at once: the next disclosure no longer sees it. Logged.
    pub fn revoke_consent(&self, client: ClientId, consent: RecordId) -> Result<()> {
        self.write_p(|tx, crypto, policy| {
            let ck = load_client_key(tx, crypto, client)?;
            let mut keys = ClientKeys::new(client, ck, crypto.alg);
            let (month, body): (String, Vec<u8>) = tx
                .query_row(
                    "SELECT created_month, body FROM record WHERE id = ?1 AND client_id = ?2 AND kind = 'consent'",
                    params![consent.0, client.as_bytes()],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?
                .ok_or_else(|| {
                    missing(tx, crypto, client, Error::not_found(format!("consent {consent} of client {client}")))
                })?;
            let old_body = body.clone();
            let Record::Consent(mut c) =
                open_record(&crypto.vault_id, &mut keys, consent.0, RecordKind::Consent, body)?
            else {
                return Err(Error::corrupt("record", consent, "not a consent record"));
            };
            if c.revoked_on.is_some() {
                return Err(Error::input(format!("consent {consent} is already revoked")));
            }
            c.revoked_on = Some(Date::today());
            rewrite_record(
                tx,
                crypto,
                &mut keys,
                (consent.0, "consent", &month),
                &old_body,
                &Record::Consent(c.clone()),
            )?;
            let entry = Entry {
                event: Event::ConsentRevoked,
                audience: None,
                subject: Subject::Client(client, &keys.key),
                output: [0; 32],
                detail: Detail::ConsentRevoked { recipient: &c.recipient, record: consent },
            };
            log::append(tx, crypto, policy.hash(), entry)
        })
    }

    /// Verifies the disclosure log: the hash chain, the witness if one is given, and the head
    /// this vault keeps sealed under its own key (which catches a truncated tail even without
    /// a witness).
    pub fn verify_log(&self, witness: Option<&LogHead>) -> Result<LogStatus> {
        self.read_checked(false, |conn, crypto, _| {
            let status = audit::verify(conn, witness)?;
            let LogStatus::Intact { head, .. } = &status else { return Ok(status) };
            let sealed = crypto.state.log_head()?;
            if sealed != *head {
                let seq = sealed.map_or(0, |h| h.seq);
                return Ok(LogStatus::Broken { seq, problem: LogProblem::HeadMismatch });
            }
            Ok(status)
        })
    }

    /// The newest log entry: the witness a report carries.
    pub fn log_head(&self) -> Result<Option<LogHead>> {
        self.read(checked_log_head)
    }

    /// Every log entry with its detail opened where the key still exists (an erased client's
    /// details are gone with its key: `None`).
    pub fn read_log(&self) -> Result<Vec<(LogEntry, Option<serde_json::Value>)>> {
        self.read(|conn, crypto| {
            // The whole chain, not only its head: an edited or deleted entry is an error here.
            if let LogStatus::Broken { seq, .. } = audit::verify(conn, None)? {
                return Err(Error::corrupt("disclosure_log", seq, "the log's hash chain is broken"));
            }
            let mut out = Vec::new();
            for e in audit::entries(conn)? {
                let e = e.map_err(|seq| {
                    Error::corrupt("disclosure_log", seq, "a column holds a value of the wrong shape")
                })?;
                let detail = log::open_detail(conn, crypto, &e)?;
                out.push((e, detail));
            }
            Ok(out)
        })
    }

    /// Whether `output` is exactly the output log entry `seq` recorded. The log keeps a keyed
    /// digest (under a key derived from the client's key, or the vault's for outputs about no
    /// client), so only the vault can confirm an output, and once the client is erased nobody
    /// can: this is then `NotFound`. Entries written before format 2 kept a plain BLAKE3 digest;
    /// those are compared as such.
    pub fn confirm_output(&self, seq: u64, output: &[u8]) -> Result<bool> {
        self.read(|conn, crypto| {
            // The whole chain, up to the head the state records: an entry whose digest was
            // edited must be an error, not a "no".
            let head = checked_log_head(conn, crypto)?;
            if let LogStatus::Broken { seq: at, .. } = audit::verify(conn, None)? {
                return Err(Error::corrupt("disclosure_log", at, "the log's hash chain is broken"));
            }
            let entry = audit::entry(conn, seq)?.ok_or_else(|| match head {
                Some(h) if seq >= 1 && seq <= h.seq => {
                    Error::corrupt("disclosure_log", seq, "an entry inside the chain is missing")
                }
                _ => Error::not_found(format!("log entry {seq}")),
            })?;
            if entry.output == [0; 32] {
                return Ok(false);
            }
            let keyed = match entry.client {
                Some(client) => {
                    let ck = load_client_key(conn, crypto, client)?;
                    crypto.output_digest(Some(&ck.output_digest_key()), output)
                }
                None => crypto.output_digest(None, output),
            };
            let plain = *blake3::hash(output).as_bytes();
            if bool::from(entry.output.ct_eq(&keyed)) || bool::from(entry.output.ct_eq(&plain)) {
                return Ok(true);
            }
            // An output about no client, logged before a root-key rotation.
            if entry.client.is_none() {
                for root in rekey::retired_roots(conn, crypto)? {
                    let digest = blake3::keyed_hash(root.output_digest_key().expose(), output);
                    if bool::from(entry.output.ct_eq(digest.as_bytes())) {
                        return Ok(true);
                    }
                }
            }
            Ok(false)
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
            if !crypto.state.is_listed(tx, client)? {
                // A client row the state does not list was put there by hand (or never existed).
                let present: bool = tx
                    .prepare_cached("SELECT 1 FROM client WHERE id = ?1")?
                    .query_row([client.as_bytes()], |_| Ok(true))
                    .optional()?
                    .unwrap_or(false);
                return Err(if present {
                    Error::corrupt("client", client, "the client is not in the vault state")
                } else {
                    Error::not_found(format!("client {client}"))
                });
            }
            crypto.state.client_erased(tx, client)?;
            // The foreign key deletes the client's duplicate decisions with it.
            crypto.state.touch_decisions(tx)?;
            delete_lookups(tx, crypto, client)?;
            lottery::forget_client(tx, crypto, client)?;
            let n: i64 =
                tx.query_row("SELECT count(*) FROM record WHERE client_id = ?1", [client.as_bytes()], |r| r.get(0))?;
            let deleted = tx.execute("DELETE FROM client WHERE id = ?1", [client.as_bytes()])?;
            if deleted == 0 {
                return Err(Error::corrupt("client", client, "the client's row is missing"));
            }
            // The log keeps only the fact: the detail is sealed under the vault key and says
            // nothing about the client.
            let entry = Entry {
                event: Event::Erasure,
                audience: None,
                subject: Subject::Erased(client),
                output: [0; 32],
                detail: Detail::Erasure { records_deleted: n },
            };
            log::append(tx, crypto, policy.hash(), entry)?;
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
            output_key: root.output_digest_key(),
            state: State::new(root.state_key()),
            pending_policy: None,
            root,
            vault_id,
            alg,
            kek_version,
            nonces: NonceSource::new(),
        })
    }

    /// Opens the state for one operation, and follows a key rotation another process made.
    fn begin(&mut self, conn: &Connection) -> Result<()> {
        self.open_state(conn)?;
        // The log must end where the state says: a state rolled back on its own (the meta table
        // replayed from an older copy) is caught here, before any value it vouches for is used.
        checked_log_head(conn, self)?;
        Ok(())
    }

    /// Opens the state without checking the log against it: for opening the vault and for
    /// `verify_log`, which report a log that does not end at the head as their answer.
    fn open_state(&mut self, conn: &Connection) -> Result<()> {
        if let Err(e) = self.state.begin(conn, &self.meta_key, &self.vault_id) {
            // Another handle may have rotated the root key: then this handle's key no longer
            // opens the canary either, and the answer is to open the vault again.
            let canary: Option<Vec<u8>> =
                conn.query_row("SELECT value FROM meta WHERE name = 'canary'", [], |r| r.get(0)).optional()?;
            let opens = canary.is_some_and(|c| {
                self.root.canary_key(self.alg).is_ok_and(|k| k.open(&aad::canary(&self.vault_id), &c).is_ok())
            });
            if !opens {
                return Err(Error::WrongKey("the vault's root key was rotated since it was opened: open it again"));
            }
            return Err(e);
        }
        let stored = self
            .state
            .meta_get(conn, "kek_version")?
            .ok_or_else(|| Error::corrupt("meta", "kek_version", "a required entry is missing"))?;
        let version =
            u32::from_be_bytes(stored.try_into().map_err(|_| Error::corrupt("meta", "kek_version", "not 4 bytes"))?);
        if version != self.kek_version {
            self.kek = self.root.kek(version, self.alg)?;
            self.kek_version = version;
        }
        Ok(())
    }

    /// Folds what this operation changed into the state, in the caller's transaction.
    fn flush(&mut self, conn: &Connection) -> Result<()> {
        let Self { state, meta_key, nonces, vault_id, .. } = self;
        state.flush(conn, meta_key, nonces, vault_id)
    }

    /// The keyed digest a log entry keeps of an output about `client` (or about no client): it
    /// confirms an output only to a holder of that key, so once a client is erased nobody can
    /// confirm a guessed notice against the log.
    fn output_digest(&self, client_key: Option<&Secret32>, bytes: &[u8]) -> [u8; 32] {
        *blake3::keyed_hash(client_key.unwrap_or(&self.output_key).expose(), bytes).as_bytes()
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

/// Checks a client against the authenticated state: `NotFound` only when the state agrees that
/// there is no such client.
fn ensure_client(conn: &Connection, crypto: &Crypto, client: ClientId) -> Result<()> {
    if crypto.state.check_client(conn, client)? {
        Ok(())
    } else {
        Err(Error::not_found(format!("client {client}")))
    }
}

/// A row the caller named is not there. If the client's rows still match its MAC it never was
/// (`not_found`); otherwise it was deleted or moved, and the answer is `Integrity`.
fn missing(conn: &Connection, crypto: &Crypto, client: ClientId, not_found: Error) -> Error {
    match load_client_key(conn, crypto, client) {
        Ok(_) => not_found,
        Err(e) => e,
    }
}

/// After a client failed its MAC: the first row that fails on its own (a wrapped key or a
/// record that does not open), so the error names it. `None` when every row opens: a row was
/// deleted, relabelled, or replaced by an older genuine copy, which only the MAC can see.
fn blame_a_row(conn: &Connection, crypto: &Crypto, client: ClientId) -> Option<Error> {
    let (version, wrapped): (u32, Vec<u8>) = conn
        .query_row("SELECT kek_version, wrapped_key FROM client WHERE id = ?1", [client.as_bytes()], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .ok()?;
    let ck = match unwrap_client_key(crypto, client, version, &wrapped) {
        Ok(ck) => ck,
        Err(e) => return Some(e),
    };
    let mut keys = ClientKeys::new(client, ck, crypto.alg);
    let mut stmt = conn.prepare(CLIENT_ROWS).ok()?;
    let mut rows: Vec<(i64, String, Vec<u8>)> = stmt
        .query_map([client.as_bytes()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .ok()?
        .collect::<rusqlite::Result<_>>()
        .ok()?;
    rows.sort_by_key(|(id, _, _)| *id);
    rows.into_iter().find_map(|(id, kind, body)| {
        let kind = match parse_kind(&kind, id) {
            Ok(k) => k,
            Err(e) => return Some(e),
        };
        open_record(&crypto.vault_id, &mut keys, id, kind, body).err()
    })
}

/// Reads a client's enrollment, applies `change` (which may refuse), and writes it back, in the
/// caller's transaction.
///
/// With `guard`, a change to an arm a lottery decided is refused: only the draw (which passes
/// `false`) records those.
fn update_enrollment_in(
    tx: &Transaction<'_>,
    crypto: &mut Crypto,
    client: ClientId,
    guard: bool,
    change: impl FnOnce(&mut crate::Enrollment) -> Result<()>,
) -> Result<()> {
    let ck = load_client_key(tx, crypto, client)?;
    let mut keys = ClientKeys::new(client, ck, crypto.alg);
    let (id, month, old_body): (i64, String, Vec<u8>) = tx
        .query_row(
            "SELECT id, created_month, body FROM record WHERE client_id = ?1 AND kind = 'enrollment'",
            [client.as_bytes()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?
        .ok_or_else(|| Error::not_found(format!("the enrollment of client {client}")))?;
    let Record::Enrollment(mut enrollment) =
        open_record(&crypto.vault_id, &mut keys, id, RecordKind::Enrollment, old_body.clone())?
    else {
        return Err(Error::corrupt("record", id, "not an enrollment record"));
    };
    let before = enrollment.randomization.clone();
    change(&mut enrollment)?;
    if guard {
        lottery::guard_randomization(tx, crypto, Some(client), before.as_ref(), enrollment.randomization.as_ref())?;
    }
    rewrite_record(tx, crypto, &mut keys, (id, "enrollment", &month), &old_body, &Record::Enrollment(enrollment))
}

/// The client's key, after the client (its row and every record) is checked against the
/// authenticated state. Every path to a client's data starts here, so no reader (the
/// firewall's gate included) decides anything on rows that were deleted, moved or replaced.
fn load_client_key(conn: &Connection, crypto: &Crypto, client: ClientId) -> Result<ClientKey> {
    match ensure_client(conn, crypto, client) {
        Err(Error::Corrupt { problem, .. }) if problem == state::CLIENT_CHANGED => {
            return Err(blame_a_row(conn, crypto, client)
                .unwrap_or_else(|| Error::corrupt("client", client, state::CLIENT_CHANGED)));
        }
        other => other?,
    }
    if let Some(rows) = crypto.state.checked_rows(client) {
        return unwrap_client_key(crypto, client, rows.kek_version, &rows.wrapped_key);
    }
    let (version, wrapped): (u32, Vec<u8>) = conn
        .prepare_cached("SELECT kek_version, wrapped_key FROM client WHERE id = ?1")?
        .query_row([client.as_bytes()], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
        .ok_or_else(|| Error::not_found(format!("client {client}")))?;
    unwrap_client_key(crypto, client, version, &wrapped)
}

fn unwrap_client_key(crypto: &Crypto, client: ClientId, version: u32, wrapped: &[u8]) -> Result<ClientKey> {
    let opened = if version == crypto.kek_version {
        crypto.kek.open(&aad::client_key(&crypto.vault_id, &client), wrapped)
    } else {
        // Only a rotation interrupted by a crash could leave an older version here, and
        // rotation is one transaction; still, an older KEK is derivable, so read it.
        crypto.root.kek(version, crypto.alg)?.open(&aad::client_key(&crypto.vault_id, &client), wrapped)
    };
    let bytes = opened.map_err(|e| Error::integrity("client", client, e))?;
    ClientKey::from_bytes(&bytes).ok_or_else(|| Error::corrupt("client", client, "the client key is not 32 bytes"))
}

fn enroll_in(tx: &Transaction<'_>, crypto: &mut Crypto, policy: PolicyHash, intake: &Intake) -> Result<ClientId> {
    lottery::guard_randomization(tx, crypto, None, None, intake.enrollment.randomization.as_ref())?;
    let digest = crypto.blind.digest(intake.identity.a_number.as_str());
    if let Some(existing) = crypto.state.lookup(tx, &digest)?.first() {
        return Err(Error::input(format!("a client with this A-number is already enrolled (client {existing})")));
    }
    let client = ClientId::random()?;
    let ck = ClientKey::generate()?;
    let wrapped = crypto
        .kek
        .seal(&mut crypto.nonces, &aad::client_key(&crypto.vault_id, &client), ck.expose())
        .map_err(|e| Error::integrity("client", client, e))?;
    let month = intake.enrollment.enrolled_on.month_label();
    tx.prepare_cached("INSERT INTO client (id, kek_version, wrapped_key, created_month) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![client.as_bytes(), crypto.kek_version, wrapped, month])?;
    crypto.state.client_row_changed(tx, client, None, (crypto.kek_version, &wrapped, &month))?;
    crypto.state.touch_lookup(tx, &digest, Some(client))?;
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
        if let Record::Consent(c) = record {
            check_consent(c)?;
        }
        let id = insert_record(tx, crypto, &mut keys, record)?;
        if let Record::Consent(c) = record {
            // Consents given at intake are consent changes too: logged like grant_consent's.
            let entry = Entry {
                event: Event::ConsentGranted,
                audience: None,
                subject: Subject::Client(client, &keys.key),
                output: [0; 32],
                detail: Detail::granted(c, id),
            };
            log::append(tx, crypto, policy, entry)?;
        }
    }
    Ok(client)
}

/// Deletes a client's blind-index rows, with their buckets checked first and marked changed.
fn delete_lookups(tx: &Transaction<'_>, crypto: &Crypto, client: ClientId) -> Result<()> {
    let digests: Vec<Vec<u8>> = tx
        .prepare_cached("SELECT digest FROM lookup WHERE client_id = ?1")?
        .query_map([client.as_bytes()], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for d in &digests {
        crypto.state.touch_lookup(tx, d, None)?;
    }
    tx.execute("DELETE FROM lookup WHERE client_id = ?1", [client.as_bytes()])?;
    Ok(())
}

fn insert_lookup(tx: &Transaction<'_>, crypto: &Crypto, client: ClientId, a: &AlienNumber) -> Result<()> {
    let digest = crypto.blind.digest(a.as_str());
    crypto.state.touch_lookup(tx, &digest, Some(client))?;
    let n = tx
        .prepare_cached("INSERT OR IGNORE INTO lookup (digest, client_id) SELECT ?1, ?2 WHERE NOT EXISTS (SELECT 1 FROM lookup WHERE digest = ?1)")?
        .execute(params![&digest[..], client.as_bytes()])?;
    if n == 0 {
        return Err(Error::input("another client is enrolled with this A-number"));
    }
    Ok(())
}

/// Replaces a record's body with `record` sealed afresh, and folds the change into the
/// client's MAC: `row` is the record's id, kind and month (never changed), `old_body` its body
/// as read and checked in this transaction.
fn rewrite_record(
    tx: &Transaction<'_>,
    crypto: &mut Crypto,
    keys: &mut ClientKeys,
    row: (i64, &str, &str),
    old_body: &[u8],
    record: &Record,
) -> Result<()> {
    let body = seal_record(&crypto.vault_id, &mut crypto.nonces, keys, row.0, record)?;
    tx.execute("UPDATE record SET body = ?1 WHERE id = ?2", params![body, row.0])?;
    crypto.state.record_changed(tx, keys.client, row, Some(old_body), &body)
}

fn insert_record(
    tx: &Transaction<'_>,
    crypto: &mut Crypto,
    keys: &mut ClientKeys,
    record: &Record,
) -> Result<RecordId> {
    let id = crypto.state.next_record_id(tx)?;
    let body = seal_record(&crypto.vault_id, &mut crypto.nonces, keys, id, record)?;
    let month = Date::today().month_label();
    let kind = record.kind().as_str();
    let inserted = tx
        .prepare_cached("INSERT INTO record (id, client_id, kind, created_month, body) VALUES (?1, ?2, ?3, ?4, ?5)")?
        .execute(params![id, keys.client.as_bytes(), kind, month, body]);
    match inserted {
        // The id is the state's next one: a row that already holds it was put there by hand.
        Err(rusqlite::Error::SqliteFailure(f, _)) if f.code == rusqlite::ErrorCode::ConstraintViolation => {
            return Err(Error::corrupt(
                "record",
                id,
                "a row holds the next record id, which the vault state never gave out",
            ));
        }
        other => other?,
    };
    crypto.state.record_changed(tx, keys.client, (id, kind, &month), None, &body)?;
    Ok(RecordId(id))
}

/// What a consent must be before it is stored, by `grant_consent` or at intake: for a partner
/// (never an enforcement agency), naming at least one category, not expiring before it starts.
fn check_consent(consent: &ConsentRecord) -> Result<()> {
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
    Ok(())
}

/// A client's record rows, in the (client, kind) index's order: callers sort by id. An
/// `ORDER BY id` here made SQLite re-prepare the statement on every bind, which cost more than
/// the rest of the query (BENCHMARKS.md, "Format 2").
const CLIENT_ROWS: &str = "SELECT id, kind, body FROM record WHERE client_id = ?1";

/// A client's record rows as (id, kind, sealed body), in id order: the rows its MAC check just
/// read when there was one in this operation (see `State::checked_rows`), else read now.
fn client_rows(conn: &Connection, crypto: &Crypto, client: ClientId) -> Result<Vec<(i64, String, Vec<u8>)>> {
    if let Some(rows) = crypto.state.take_checked_rows(client) {
        return Ok(rows.records);
    }
    let mut stmt = conn.prepare_cached(CLIENT_ROWS)?;
    let rows = stmt.query_map([client.as_bytes()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    let mut out = rows.collect::<rusqlite::Result<Vec<(i64, String, Vec<u8>)>>>()?;
    out.sort_by_key(|(id, _, _)| *id);
    Ok(out)
}

fn sealed_rows(conn: &Connection, crypto: &Crypto, client: ClientId) -> Result<Vec<SealedRecord>> {
    client_rows(conn, crypto, client)?
        .into_iter()
        .map(|(id, kind, body)| Ok(SealedRecord { id: RecordId(id), kind: parse_kind(&kind, id)?, body }))
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
    let rows = sealed_rows(tx, crypto, client)?;
    let consents = {
        let reader = CategoryReader::new(client, crypto.vault_id, &ck, crypto.alg, [Category::Consent])?;
        firewall::consented(&reader, &rows, &audience.to_string(), today)?
    };
    let categories = firewall::view_categories(policy, audience, &consents)?;
    let reader = CategoryReader::new(client, crypto.vault_id, &ck, crypto.alg, categories)?;
    let view = firewall::build_view(&reader, &rows, audience, policy.hash(), today)?;
    let output = crypto.output_digest(Some(&ck.output_digest_key()), view.to_json());
    let entry = Entry {
        event: Event::Disclosure,
        audience: Some(audience.class()),
        subject: Subject::Client(client, &ck),
        output,
        detail: Detail::disclosure(audience, view.categories()),
    };
    log::append(tx, crypto, policy.hash(), entry)?;
    Ok(view)
}

/// The installed policy (checked against the state), or the shipped default when the state
/// records none; with the digest the state records for it.
fn load_policy(conn: &Connection, crypto: &Crypto) -> Result<(Policy, Option<[u8; 32]>)> {
    let Some(sealed) = crypto.state.meta_get(conn, "policy")? else { return Ok((Policy::default_policy()?, None)) };
    let plain = crypto
        .meta_key
        .open(&aad::meta(&crypto.vault_id, "policy"), &sealed)
        .map_err(|e| Error::integrity("meta", "policy", e))?;
    let sources =
        serde_json::from_slice(&plain).map_err(|_| Error::corrupt("meta", "policy", "not a stored policy"))?;
    Ok((Policy::from_sources(&sources)?, crypto.state.meta_recorded("policy")?))
}
