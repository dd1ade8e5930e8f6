//! The disclosure log: an append-only, hash-chained record of every output, consent change,
//! key rotation, policy change and erasure.
//!
//! Each entry holds a sequence number, a time, the event, the audience class, the client's random
//! internal id (never a name or A-number), the hash of the policy in force, the BLAKE3 digest of
//! the exact output bytes, a sealed *detail* (which categories, which partner), and the previous
//! entry's hash. Its own hash is BLAKE3 (in derive-key mode, context
//! `"caseward v1 disclosure log entry"`) over a length-prefixed encoding of all of that, so:
//!
//! * **Verification needs no key.** A reviewer, or `caseward audit verify`, recomputes the chain
//!   from the file alone and reports the first entry that does not fit.
//! * **Edits, deletions and reorders break the chain.** Truncating the tail does not, by itself:
//!   a *witness* (a head, `cwlog1:<seq>:<hash>`, carried by every report bundle) catches it, and so
//!   does the vault itself, which keeps the head sealed under its own key.
//! * **Details are sealed under the client's key** (category `system.audit`), so an erased
//!   client's log entries keep only the fact that something happened: which categories went
//!   where is shredded with the client, while the chain stays verifiable.
//!
//! Entries are appended inside the transaction that produces the output: no entry, no output.

use std::fmt;
use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::policy::PolicyHash;
use crate::record::ClientId;

const CTX_ENTRY: &str = "caseward v1 disclosure log entry";

/// The previous-hash of the first entry.
pub const GENESIS: [u8; 32] = [0u8; 32];

/// What a log entry records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// An output left the firewall for an audience.
    Disclosure,
    /// A consent was recorded.
    ConsentGranted,
    /// A consent was revoked.
    ConsentRevoked,
    /// The key-encryption key was rotated.
    KeyRotation,
    /// A client was crypto-shredded.
    Erasure,
    /// A different disclosure policy was installed.
    PolicyChange,
    /// A reviewer decided whether two client records are the same person.
    MatchDecision,
    /// A pseudonym key was generated or imported.
    PseudonymKey,
    /// A lottery pool was committed, or drawn.
    Lottery,
}

impl Event {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Disclosure => "disclosure",
            Self::ConsentGranted => "consent_granted",
            Self::ConsentRevoked => "consent_revoked",
            Self::KeyRotation => "key_rotation",
            Self::Erasure => "erasure",
            Self::PolicyChange => "policy_change",
            Self::MatchDecision => "match_decision",
            Self::PseudonymKey => "pseudonym_key",
            Self::Lottery => "lottery",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [
            Self::Disclosure,
            Self::ConsentGranted,
            Self::ConsentRevoked,
            Self::KeyRotation,
            Self::Erasure,
            Self::PolicyChange,
            Self::MatchDecision,
            Self::PseudonymKey,
            Self::Lottery,
        ]
        .into_iter()
        .find(|e| e.as_str() == s)
    }
}

/// The newest entry of a log: its sequence number and hash. Its text form,
/// `cwlog1:<seq>:<64 hex digits>`, is what a report carries and `audit verify --witness` takes.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct LogHead {
    /// The entry's sequence number (1 for the first).
    pub seq: u64,
    /// The entry's hash.
    pub hash: [u8; 32],
}

impl fmt::Display for LogHead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cwlog1:{}:{}", self.seq, blake3::Hash::from(self.hash).to_hex())
    }
}

impl fmt::Debug for LogHead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LogHead({self})")
    }
}

impl std::str::FromStr for LogHead {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let bad = || Error::input("a log head is cwlog1:<sequence number>:<64 hex digits>");
        let mut parts = s.trim().split(':');
        let (Some("cwlog1"), Some(seq), Some(hex), None) = (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        let seq: u64 = seq.parse().map_err(|_| bad())?;
        let hash = blake3::Hash::from_hex(hex).map_err(|_| bad())?;
        Ok(Self { seq, hash: *hash.as_bytes() })
    }
}

impl Serialize for LogHead {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for LogHead {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

/// One log entry as stored. Holds no personal data: the detail is sealed.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct LogEntry {
    /// Sequence number, from 1.
    pub seq: u64,
    /// Unix time in seconds.
    pub at: i64,
    /// What happened.
    pub event: Event,
    /// The audience class (`ice`, `partner`, ...), or empty when there is none.
    pub audience: String,
    /// The client concerned, if any.
    pub client: Option<ClientId>,
    /// The policy in force.
    pub policy: PolicyHash,
    /// BLAKE3 of the exact output bytes (zeros when nothing was output).
    pub output: [u8; 32],
    /// The sealed detail.
    pub detail: Vec<u8>,
    /// The previous entry's hash.
    pub prev: [u8; 32],
    /// This entry's hash.
    pub hash: [u8; 32],
}

impl LogEntry {
    /// Recomputes this entry's hash from its fields.
    pub fn compute_hash(&self) -> [u8; 32] {
        let mut h = blake3::Hasher::new_derive_key(CTX_ENTRY);
        h.update(&self.seq.to_be_bytes());
        h.update(&self.at.to_be_bytes());
        for field in [self.event.as_str().as_bytes(), self.audience.as_bytes()] {
            h.update(&(field.len() as u64).to_be_bytes()).update(field);
        }
        match &self.client {
            Some(c) => h.update(&[16]).update(c.as_bytes()),
            None => h.update(&[0]),
        };
        h.update(&self.policy.0).update(&self.output);
        h.update(&(self.detail.len() as u64).to_be_bytes()).update(&self.detail);
        h.update(&self.prev);
        *h.finalize().as_bytes()
    }

    /// The entry as one JSON object (bytes as hex), for `caseward audit export`.
    pub fn to_json(&self) -> serde_json::Value {
        let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
        serde_json::json!({
            "seq": self.seq,
            "at": self.at,
            "event": self.event.as_str(),
            "audience": self.audience,
            "client": self.client.map(|c| c.to_string()),
            "policy": self.policy.to_string(),
            "output": hex(&self.output),
            "detail_sealed": hex(&self.detail),
            "prev": hex(&self.prev),
            "hash": hex(&self.hash),
        })
    }
}

/// Why a log failed verification.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum LogProblem {
    /// The entry's stored hash is not the hash of its fields: it was edited.
    EditedEntry,
    /// The entry's previous-hash is not the previous entry's hash: an entry before it was
    /// edited, deleted or moved.
    BrokenLink,
    /// Sequence numbers skip or repeat: entries were deleted or reordered.
    SequenceGap,
    /// A column holds a value of the wrong shape.
    Malformed,
    /// The witnessed entry is gone: the log was truncated after the witness was taken.
    WitnessMissing,
    /// The witnessed entry exists but differs: the log was rewritten after the witness.
    WitnessMismatch,
    /// The vault's sealed head says the log is longer, or different: it was truncated.
    HeadMismatch,
}

impl fmt::Display for LogProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::EditedEntry => "the entry was edited (its hash does not match its contents)",
            Self::BrokenLink => "the chain is broken (an earlier entry was edited, deleted or moved)",
            Self::SequenceGap => "sequence numbers skip or repeat (entries deleted or reordered)",
            Self::Malformed => "a column holds a value of the wrong shape",
            Self::WitnessMissing => "the witnessed entry is missing: the log was truncated",
            Self::WitnessMismatch => "the witnessed entry differs: the log was rewritten",
            Self::HeadMismatch => "the vault's sealed log head does not match the last entry: the log was truncated",
        })
    }
}

/// The result of verifying a log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum LogStatus {
    /// Every entry fits the chain (and the witness, if one was given).
    Intact {
        /// How many entries.
        entries: u64,
        /// The newest entry, if any.
        head: Option<LogHead>,
    },
    /// The first entry that does not fit.
    Broken {
        /// Its sequence number (or, for a missing entry, the one expected).
        seq: u64,
        /// What is wrong.
        problem: LogProblem,
    },
}

impl LogStatus {
    /// Whether the log verified.
    pub fn is_intact(&self) -> bool {
        matches!(self, Self::Intact { .. })
    }
}

impl fmt::Display for LogStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Intact { entries, head: Some(h) } => write!(f, "intact: {entries} entries, head {h}"),
            Self::Intact { .. } => f.write_str("intact: no entries yet"),
            Self::Broken { seq, problem } => write!(f, "BROKEN at entry {seq}: {problem}"),
        }
    }
}

/// What a new entry says; `append` adds the chain fields.
pub(crate) struct NewEntry<'a> {
    pub(crate) event: Event,
    pub(crate) audience: &'a str,
    pub(crate) client: Option<ClientId>,
    pub(crate) policy: PolicyHash,
    pub(crate) output: [u8; 32],
}

/// The current head, if the log has entries.
pub(crate) fn head(conn: &Connection) -> Result<Option<LogHead>> {
    let row: Option<(i64, Vec<u8>)> = conn
        .prepare_cached("SELECT seq, hash FROM disclosure_log ORDER BY seq DESC LIMIT 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    row.map(|(seq, hash)| {
        Ok(LogHead {
            seq: u64::try_from(seq).map_err(|_| Error::corrupt("disclosure_log", seq, "negative sequence number"))?,
            hash: hash.try_into().map_err(|_| Error::corrupt("disclosure_log", seq, "a hash is not 32 bytes"))?,
        })
    })
    .transpose()
}

/// Appends an entry inside the caller's transaction. `seal_detail` receives the new sequence
/// number (bound into the detail's AAD) and returns the sealed detail.
pub(crate) fn append(
    conn: &Connection,
    entry: NewEntry<'_>,
    seal_detail: impl FnOnce(u64) -> Result<Vec<u8>>,
) -> Result<LogHead> {
    let (seq, prev) = match head(conn)? {
        Some(h) => (h.seq.checked_add(1).ok_or_else(|| Error::input("the log is full"))?, h.hash),
        None => (1, GENESIS),
    };
    let at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let mut e = LogEntry {
        seq,
        at,
        event: entry.event,
        audience: entry.audience.to_owned(),
        client: entry.client,
        policy: entry.policy,
        output: entry.output,
        detail: seal_detail(seq)?,
        prev,
        hash: [0; 32],
    };
    e.hash = e.compute_hash();
    let seq_i = i64::try_from(seq).map_err(|_| Error::input("the log is full"))?;
    conn.prepare_cached(
        "INSERT INTO disclosure_log (seq, at, event, audience, client_id, policy, output, detail, prev, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        seq_i,
        e.at,
        e.event.as_str(),
        e.audience,
        e.client.as_ref().map(|c| c.as_bytes().to_vec()),
        &e.policy.0[..],
        &e.output[..],
        e.detail,
        &e.prev[..],
        &e.hash[..],
    ])?;
    Ok(LogHead { seq, hash: e.hash })
}

/// Reads every entry, oldest first. A row whose columns have the wrong shape is returned as
/// `Err((seq, Malformed))` in place.
pub(crate) fn entries(conn: &Connection) -> Result<Vec<std::result::Result<LogEntry, u64>>> {
    entries_where(conn, "", None)
}

fn entries_where(conn: &Connection, filter: &str, seq: Option<i64>) -> Result<Vec<std::result::Result<LogEntry, u64>>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT seq, at, event, audience, client_id, policy, output, detail, prev, hash
         FROM disclosure_log {filter} ORDER BY seq"
    ))?;
    let params: Vec<i64> = seq.into_iter().collect();
    let rows = stmt.query_map(rusqlite::params_from_iter(params), |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, Option<Vec<u8>>>(4)?,
            r.get::<_, Vec<u8>>(5)?,
            r.get::<_, Vec<u8>>(6)?,
            r.get::<_, Vec<u8>>(7)?,
            r.get::<_, Vec<u8>>(8)?,
            r.get::<_, Vec<u8>>(9)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (seq, at, event, audience, client, policy, output, detail, prev, hash) = row?;
        let seq_u = u64::try_from(seq).unwrap_or(0);
        let parsed = (|| {
            Some(LogEntry {
                seq: u64::try_from(seq).ok()?,
                at,
                event: Event::parse(&event)?,
                audience,
                client: match client {
                    Some(c) => Some(ClientId::from_slice(&c)?),
                    None => None,
                },
                policy: PolicyHash(policy.try_into().ok()?),
                output: output.try_into().ok()?,
                detail,
                prev: prev.try_into().ok()?,
                hash: hash.try_into().ok()?,
            })
        })();
        out.push(parsed.ok_or(seq_u));
    }
    Ok(out)
}

/// One entry by its sequence number.
pub(crate) fn entry(conn: &Connection, seq: u64) -> Result<Option<LogEntry>> {
    let seq_i = i64::try_from(seq).map_err(|_| Error::input("no such log entry"))?;
    let all = entries_where(conn, "WHERE seq = ?1", Some(seq_i))?;
    all.into_iter()
        .next()
        .map(|e| e.map_err(|seq| Error::corrupt("disclosure_log", seq, "a column holds a value of the wrong shape")))
        .transpose()
}

/// Verifies the chain, and the witness if one is given. Needs no key.
pub fn verify(conn: &Connection, witness: Option<&LogHead>) -> Result<LogStatus> {
    let mut prev = GENESIS;
    let mut expected = 1u64;
    let mut witness_seen = false;
    for entry in entries(conn)? {
        let e = match entry {
            Ok(e) => e,
            Err(seq) => return Ok(LogStatus::Broken { seq, problem: LogProblem::Malformed }),
        };
        if e.seq != expected {
            return Ok(LogStatus::Broken { seq: expected, problem: LogProblem::SequenceGap });
        }
        if e.compute_hash() != e.hash {
            return Ok(LogStatus::Broken { seq: e.seq, problem: LogProblem::EditedEntry });
        }
        if e.prev != prev {
            return Ok(LogStatus::Broken { seq: e.seq, problem: LogProblem::BrokenLink });
        }
        if let Some(w) = witness {
            if w.seq == e.seq {
                if w.hash != e.hash {
                    return Ok(LogStatus::Broken { seq: e.seq, problem: LogProblem::WitnessMismatch });
                }
                witness_seen = true;
            }
        }
        prev = e.hash;
        expected += 1;
    }
    let entries = expected - 1;
    if let Some(w) = witness {
        if !witness_seen && w.seq > 0 {
            return Ok(LogStatus::Broken { seq: w.seq, problem: LogProblem::WitnessMissing });
        }
    }
    Ok(LogStatus::Intact { entries, head: (entries > 0).then_some(LogHead { seq: entries, hash: prev }) })
}

/// Verifies the log of a vault file without any key: what `caseward audit verify` runs.
pub fn verify_file(path: impl AsRef<Path>, witness: Option<&LogHead>) -> Result<LogStatus> {
    let conn = crate::store::open_read_only(path.as_ref())?;
    verify(&conn, witness)
}

/// Every entry of a vault file's log, without any key, for `caseward audit export`.
pub fn read_file(path: impl AsRef<Path>) -> Result<Vec<LogEntry>> {
    let conn = crate::store::open_read_only(path.as_ref())?;
    entries(&conn)?
        .into_iter()
        .map(|e| e.map_err(|seq| Error::corrupt("disclosure_log", seq, "a column holds a value of the wrong shape")))
        .collect()
}
