//! The vault's side of the disclosure log: what each event records, under which key its detail
//! is sealed, and the check that the log ends where the authenticated state says.
//!
//! `audit` owns the chain (hashing, verification without a key). This module owns what the
//! vault writes into it: a typed [`Detail`] per kind of event (its JSON is the stored form, so
//! the field names are a format), and the rule that decides the sealing key. That rule is used
//! by the writer and the reader alike, so the two cannot drift apart.

use rusqlite::{Connection, Transaction};
use serde::Serialize;

use super::{aad, load_client_key, rekey, Crypto};
use crate::audit::{self, Event, LogEntry, LogHead, NewEntry};
use crate::category::Category;
use crate::error::{Error, Result};
use crate::identifier::Date;
use crate::keys::ClientKey;
use crate::policy::{Audience, AudienceClass, PolicyHash};
use crate::record::{ClientId, ConsentRecord, RecordId};

/// What a log entry's sealed detail says. Untagged: each variant writes the JSON object the log
/// has always held for its event, which `Vault::read_log` returns.
#[derive(Serialize)]
#[serde(untagged)]
pub(super) enum Detail<'a> {
    /// `rotate_keys`.
    KeyRotation { kek_version: u32 },
    /// `rotate_root_key`.
    RootRotation { root_key: &'static str, kek_version: u32, envelopes: usize },
    /// `install_policy`: the policy before and after.
    PolicyChange { from: String, to: String },
    /// An output about one client: which categories it carried.
    Disclosure { audience: String, categories: Vec<Category> },
    /// A board report.
    BoardReport { audience: &'static str, period: String, tables: usize, rho_micros: u64 },
    /// A consent recorded (at intake or later).
    ConsentGranted {
        recipient: &'a str,
        categories: &'a [Category],
        record: RecordId,
        signed_on: Date,
        expires_on: Date,
    },
    /// A consent revoked.
    ConsentRevoked { recipient: &'a str, record: RecordId },
    /// An erasure: only how many records went, never what they were.
    Erasure { records_deleted: i64 },
    /// A pseudonym key generated or imported.
    PseudonymKey { how: &'a str },
    /// A duplicate-review decision, by random client ids.
    MatchDecision { a: String, b: String, decision: &'static str },
    /// An evaluator extract: its evaluation, size and protection.
    Extract { evaluation: &'a str, records: u64, suppressed: u64, k: u32 },
    /// A lottery step: the pool's digest and size, and at the draw its seed and the arms
    /// recorded (clients erased since the commitment have none).
    Lottery {
        lottery: &'a str,
        stage: &'static str,
        pool_sha256: &'a str,
        pool: usize,
        slots: u32,
        seed: Option<&'a str>,
        recorded: usize,
    },
}

impl<'a> Detail<'a> {
    /// A consent as recorded.
    pub(super) fn granted(consent: &'a ConsentRecord, record: RecordId) -> Self {
        Self::ConsentGranted {
            recipient: &consent.recipient,
            categories: &consent.categories,
            record,
            signed_on: consent.signed_on,
            expires_on: consent.expires_on,
        }
    }

    /// The categories an output about a client carried.
    pub(super) fn disclosure(audience: &Audience, categories: impl IntoIterator<Item = Category>) -> Self {
        Self::Disclosure { audience: audience.to_string(), categories: categories.into_iter().collect() }
    }
}

/// Whom an entry concerns, and so which key seals its detail.
pub(super) enum Subject<'a> {
    /// The vault as a whole: the metadata key.
    Vault,
    /// A client, with the client's key: the client's own audit key, so erasing the client
    /// shreds the detail.
    Client(ClientId, &'a ClientKey),
    /// A client being erased: the metadata key, since the detail must outlive the client key.
    Erased(ClientId),
}

/// One entry to append.
pub(super) struct Entry<'a> {
    pub event: Event,
    /// The audience class an output went to, named in the clear (the chain hashes it; reading
    /// it needs no key); `None` for an event with no output.
    pub audience: Option<AudienceClass>,
    pub subject: Subject<'a>,
    /// The keyed digest of the output, or zeros for an event with no output.
    pub output: [u8; 32],
    pub detail: Detail<'a>,
}

/// Whether an entry about a client has its detail sealed under the client's key. The events
/// that must outlive the client key, or that concern the vault, use the metadata key.
fn sealed_under_client(event: Event) -> bool {
    !matches!(event, Event::Erasure | Event::KeyRotation | Event::PolicyChange)
}

/// Appends an entry in the caller's transaction and moves the state's log head with it.
pub(super) fn append(tx: &Transaction<'_>, crypto: &mut Crypto, policy: PolicyHash, entry: Entry<'_>) -> Result<()> {
    let Entry { event, audience, subject, output, detail } = entry;
    let plain = zeroize::Zeroizing::new(
        serde_json::to_vec(&detail).map_err(|_| Error::internal("a log detail could not be serialized"))?,
    );
    let (client, client_key) = match subject {
        Subject::Vault => (None, None),
        Subject::Client(c, k) if sealed_under_client(event) => {
            (Some(c), Some(k.category_key(Category::SystemAudit, crypto.alg)?))
        }
        Subject::Client(c, _) | Subject::Erased(c) => (Some(c), None),
    };
    // The chain must end where the state says it does: appending to a truncated or rewritten
    // log would otherwise make the cut look like history.
    checked_log_head(tx, crypto)?;
    let Crypto { vault_id, nonces, meta_key, state, .. } = crypto;
    let key = client_key.as_ref().unwrap_or(meta_key);
    let cid = client.map_or(aad::NO_CLIENT, |c| *c.as_bytes());
    let audience = audience.map_or("", AudienceClass::as_str);
    let head = audit::append(tx, NewEntry { event, audience, client, policy, output }, |seq| {
        let seq = seq.to_be_bytes();
        key.seal(nonces, &aad::log_detail(vault_id, &cid, &seq), &plain)
            .map_err(|e| Error::integrity("disclosure_log", "new", e))
    })?;
    state.set_log_head(head)
}

/// The log's head, checked against the head the state records.
pub(super) fn checked_log_head(conn: &Connection, crypto: &Crypto) -> Result<Option<LogHead>> {
    let head = audit::head(conn)?;
    if head != crypto.state.log_head()? {
        return Err(Error::corrupt(
            "disclosure_log",
            head.map_or(0, |h| h.seq),
            "the log does not end at the head the vault state records",
        ));
    }
    Ok(head)
}

/// Opens an entry's detail: `None` when it was sealed under a client key that erasure shredded.
pub(super) fn open_detail(conn: &Connection, crypto: &Crypto, e: &LogEntry) -> Result<Option<serde_json::Value>> {
    let seq = e.seq.to_be_bytes();
    let cid = e.client.map_or(aad::NO_CLIENT, |c| *c.as_bytes());
    let aad = aad::log_detail(&crypto.vault_id, &cid, &seq);
    let opened = match e.client {
        Some(client) if sealed_under_client(e.event) => match load_client_key(conn, crypto, client) {
            Ok(ck) => ck
                .category_key(Category::SystemAudit, crypto.alg)?
                .open(&aad, &e.detail)
                .map_err(|err| Error::integrity("disclosure_log", e.seq, err))?,
            Err(err) if err.kind() == crate::ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(err),
        },
        _ => match crypto.meta_key.open(&aad, &e.detail) {
            Ok(plain) => plain,
            // Written before a root-key rotation: sealed under a retired root's metadata key.
            Err(err) => {
                let mut found = None;
                for root in rekey::retired_roots(conn, crypto)? {
                    if let Ok(plain) = root.meta_key(crypto.alg)?.open(&aad, &e.detail) {
                        found = Some(plain);
                        break;
                    }
                }
                found.ok_or_else(|| Error::integrity("disclosure_log", e.seq, err))?
            }
        },
    };
    serde_json::from_slice(&opened)
        .map(Some)
        .map_err(|_| Error::corrupt("disclosure_log", e.seq, "a detail is not JSON"))
}
