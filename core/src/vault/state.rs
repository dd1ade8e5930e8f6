//! The authenticated vault state (format 2): what lets the vault tell a file that someone edited
//! without the key from one it wrote itself.
//!
//! Sealed values stop an attacker from *reading* or *forging* a value, but not from deleting a
//! row, relabelling it, moving it, or putting back an older genuine copy of it. Each of those
//! once changed what the firewall disclosed (a deleted protected-relief record let an ICE notice
//! out). So every piece of state that a decision rests on is authenticated as a whole, and every
//! reader checks it before it decides anything:
//!
//! * **Clients.** Each client has a MAC over its `client` row and every one of its records
//!   (id, kind, month and body). It is a keyed multiset hash (MSet-Add-Hash, Clarke et al. 2003):
//!   the sum, modulo 2^256, of a keyed BLAKE3 of each row under the vault's state key. A record
//!   deleted, relabelled, moved to another client, added, or replaced by an older version changes
//!   the sum, and a write updates it by what it changed alone, so adding a record costs the same
//!   for a client with ten records as for one with ten thousand.
//! * **Buckets.** Clients are spread over 16,384 buckets by the first 14 bits of their random id;
//!   a bucket's digest covers the (client id, MAC) pairs in it. Blind-index lookup rows are
//!   bucketed the same way by their digest, so a lookup row swapped, added or deleted is caught,
//!   and so is a whole client deleted with its rows.
//! * **Chunks and root.** Bucket digests are stored 256 to a chunk row; the root holds the MAC of
//!   each chunk, a digest of every `meta` value, the privacy ledger and the duplicate decisions,
//!   and the disclosure log's head. The root is sealed under the vault metadata key, and a write
//!   counter makes every root distinct.
//!
//! Reading one client checks its own MAC, its bucket, its chunk and the root: a few dozen rows,
//! whatever the vault's size. A full scan checks every bucket. Within one write transaction,
//! everything is checked before it is first changed, and [`State::flush`] recomputes what changed
//! just before the commit, so a write never folds an attacker's edit into a fresh MAC.
//!
//! What this cannot catch: the whole file rolled back to an older genuine copy (root and rows
//! together). Only a witness kept outside the file, such as a log head carried by a report,
//! detects that.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use rusqlite::{params, Connection, OptionalExtension};
use subtle::ConstantTimeEq;

use crate::audit::LogHead;
use crate::error::{Error, Result};
use crate::keys::Secret32;
use crate::record::ClientId;
use crate::seal::{Aad, NonceSource, SealingKey};

/// Buckets per set: the first 14 bits of a client id or a lookup digest choose the bucket.
/// A read checks one whole bucket, so buckets stay small: about 6 clients each at 100,000
/// clients. With 4,096 buckets, reading 25-row buckets was a quarter of a lookup's time there
/// (BENCHMARKS.md, "Format 2").
const BUCKET_BITS: u32 = 14;
const BUCKETS: usize = 1 << BUCKET_BITS;
/// Bucket digests per chunk row (8 KiB), so the root keeps 64 chunk MACs per set.
const CHUNK: usize = 256;
const CHUNKS: usize = BUCKETS / CHUNK;
const DIGEST: usize = 32;
/// The nonce of a stored client MAC.
const NONCE: usize = 16;
/// Version 1 (4,096 buckets of 64 to a chunk) was only ever written by development builds.
const ROOT_VERSION: u8 = 2;
/// What a client whose MAC does not match is told; the vault then looks for the row to blame.
pub(crate) const CLIENT_CHANGED: &str = "the client's records were added, removed, moved or changed";
/// The meta row that holds the sealed root. It is not itself in the root's meta digests.
pub(crate) const ROOT_NAME: &str = "state";
/// The meta row that holds the digest of the key envelopes (see `State::envelopes_digest`).
pub(crate) const ENVELOPES: &str = "envelopes";
/// The meta row that holds the next record id (u64 BE).
pub(crate) const NEXT_RECORD: &str = "next_record";

/// A chunk row as checked: the digest the root gave for it, and its bytes.
type CheckedChunk = ([u8; DIGEST], Vec<u8>);

/// A bucket's rows: (key, value), in key order.
type Entries = Vec<(Vec<u8>, Vec<u8>)>;

/// The two authenticated sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Set {
    /// `client_state`: (client id, client MAC).
    Clients,
    /// `lookup`: (blind-index digest, client id).
    Lookups,
}

impl Set {
    fn id(self) -> u8 {
        match self {
            Self::Clients => 0,
            Self::Lookups => 1,
        }
    }

    fn chunk_row(self, chunk: usize) -> usize {
        usize::from(self.id()) * CHUNKS + chunk
    }

    fn table(self) -> &'static str {
        match self {
            Self::Clients => "client_state",
            Self::Lookups => "lookup",
        }
    }
}

fn bucket_of(key: &[u8]) -> usize {
    let hi = key.first().copied().unwrap_or(0);
    let lo = key.get(1).copied().unwrap_or(0);
    usize::from(u16::from_be_bytes([hi, lo]) >> (16 - BUCKET_BITS))
}

/// The key range of a bucket, as SQLite compares blobs (memcmp, shorter prefix first).
fn bucket_range(bucket: usize) -> (Vec<u8>, Option<Vec<u8>>) {
    let prefix = |b: usize| -> Vec<u8> {
        let v = u16::try_from(b << (16 - BUCKET_BITS)).unwrap_or(u16::MAX);
        v.to_be_bytes().to_vec()
    };
    let hi = (bucket + 1 < BUCKETS).then(|| prefix(bucket + 1));
    (prefix(bucket), hi)
}

/// The decoded root.
#[derive(Clone)]
struct Root {
    generation: u64,
    log: Option<LogHead>,
    ledger: [u8; DIGEST],
    decisions: [u8; DIGEST],
    meta: BTreeMap<String, [u8; DIGEST]>,
    chunks: Vec<[u8; DIGEST]>,
}

impl Root {
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(128 + self.meta.len() * 48 + self.chunks.len() * DIGEST);
        out.push(ROOT_VERSION);
        out.extend_from_slice(&self.generation.to_be_bytes());
        let (seq, hash) = self.log.map_or((0, [0; 32]), |h| (h.seq, h.hash));
        out.extend_from_slice(&seq.to_be_bytes());
        out.extend_from_slice(&hash);
        out.extend_from_slice(&self.ledger);
        out.extend_from_slice(&self.decisions);
        out.extend_from_slice(&u16::try_from(self.meta.len()).unwrap_or(u16::MAX).to_be_bytes());
        for (name, digest) in &self.meta {
            out.push(u8::try_from(name.len()).unwrap_or(u8::MAX));
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(digest);
        }
        for c in &self.chunks {
            out.extend_from_slice(c);
        }
        out
    }

    fn decode(bytes: &[u8]) -> Option<Self> {
        let mut r = Reader(bytes);
        if r.byte()? != ROOT_VERSION {
            return None;
        }
        let generation = u64::from_be_bytes(r.array()?);
        let seq = u64::from_be_bytes(r.array()?);
        let hash: [u8; 32] = r.array()?;
        let log = (seq > 0).then_some(LogHead { seq, hash });
        let ledger = r.array()?;
        let decisions = r.array()?;
        let n = u16::from_be_bytes(r.array()?);
        let mut meta = BTreeMap::new();
        for _ in 0..n {
            let len = usize::from(r.byte()?);
            let name = std::str::from_utf8(r.take(len)?).ok()?.to_owned();
            meta.insert(name, r.array()?);
        }
        let mut chunks = Vec::with_capacity(2 * CHUNKS);
        for _ in 0..2 * CHUNKS {
            chunks.push(r.array()?);
        }
        r.0.is_empty().then_some(Self { generation, log, ledger, decisions, meta, chunks })
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, tail) = self.0.split_at_checked(n)?;
        self.0 = tail;
        Some(head)
    }
    fn byte(&mut self) -> Option<u8> {
        self.take(1)?.first().copied()
    }
    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }
}

/// What one operation has checked and changed.
#[derive(Default)]
struct Session {
    root: Option<Root>,
    /// Chunk bodies checked against the root (and changed by `flush`), by chunk row.
    chunks: HashMap<usize, Vec<[u8; DIGEST]>>,
    checked_buckets: HashSet<(Set, usize)>,
    checked_clients: HashSet<ClientId>,
    dirty_buckets: BTreeSet<(Set, usize)>,
    /// Clients this operation changes: their MAC as the changes leave it (`None`: erased).
    dirty_clients: BTreeMap<ClientId, Option<[u8; DIGEST]>>,
    /// Clients whose MAC is computed from their rows at `flush` (the format-2 upgrade only).
    rebuild_clients: BTreeSet<ClientId>,
    ledger_checked: bool,
    decisions_checked: bool,
    ledger_dirty: bool,
    decisions_dirty: bool,
    root_dirty: bool,
    /// Each bucket's entries as first read and checked in this session: `flush` computes a
    /// changed bucket's digest from these plus the changes the operation made, never from the
    /// rows read back, so a write SQLite failed to keep (a damaged page) is caught next time.
    bucket_base: HashMap<(Set, usize), Entries>,
    /// Lookup rows this operation writes (`Some(client id)`) or deletes (`None`), by digest.
    lookup_changes: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    /// The next record id, once this operation has read it (written back by `flush`).
    next_record: Option<i64>,
    next_record_dirty: bool,
    /// The rows of the client last checked, as read for its MAC (see `State::checked_rows`).
    rows: Option<ClientRows>,
}

/// A client's rows as one MAC check read and matched them: its wrapped key, and every record
/// as (id, kind, sealed body), in id order.
pub(crate) struct ClientRows {
    pub(crate) client: ClientId,
    pub(crate) kek_version: u32,
    pub(crate) wrapped_key: Vec<u8>,
    pub(crate) records: Vec<(i64, String, Vec<u8>)>,
}

/// The vault's authenticated state: its key, and what the current operation has checked.
///
/// One is kept per open vault; [`State::begin`] starts each operation from the root on disk, so
/// a write by another process (or an attacker) since the last operation is always seen.
pub(crate) struct State {
    key: Secret32,
    session: RefCell<Session>,
    /// The last root this handle opened or sealed, with its sealed bytes. A root read back
    /// byte-identical is the same authentic root, so it is not opened and decoded again.
    root_cache: RefCell<Option<(Vec<u8>, Root)>>,
    /// Chunk rows already checked, by row: the digest they were checked against and their
    /// bytes. A chunk read back byte-identical, against the same digest in the root, needs no
    /// hashing again; any other chunk is checked in full. At most 128 rows of 8 KiB.
    chunk_cache: RefCell<HashMap<usize, CheckedChunk>>,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("State { .. }")
    }
}

fn corrupt(table: &'static str, row: impl std::fmt::Display, problem: &'static str) -> Error {
    Error::corrupt(table, row, problem)
}

fn meta_root_aad(vault_id: &[u8; 16]) -> Aad<'_> {
    super::aad::meta(vault_id, ROOT_NAME)
}

impl State {
    pub(crate) fn new(key: Secret32) -> Self {
        Self {
            key,
            session: RefCell::new(Session::default()),
            root_cache: RefCell::new(None),
            chunk_cache: RefCell::new(HashMap::new()),
        }
    }

    fn hasher(&self, domain: &str) -> blake3::Hasher {
        let mut h = blake3::Hasher::new_keyed(self.key.expose());
        h.update(&(domain.len() as u64).to_be_bytes()).update(domain.as_bytes());
        h
    }

    fn meta_digest(&self, name: &str, value: &[u8]) -> [u8; DIGEST] {
        let mut h = self.hasher("meta");
        h.update(&(name.len() as u64).to_be_bytes()).update(name.as_bytes());
        h.update(&(value.len() as u64).to_be_bytes()).update(value);
        *h.finalize().as_bytes()
    }

    fn chunk_digest(&self, row: usize, body: &[[u8; DIGEST]]) -> [u8; DIGEST] {
        let mut h = self.hasher("chunk");
        h.update(&(row as u64).to_be_bytes());
        for d in body {
            h.update(d);
        }
        *h.finalize().as_bytes()
    }

    fn bucket_digest(&self, set: Set, bucket: usize, entries: &[(Vec<u8>, Vec<u8>)]) -> [u8; DIGEST] {
        if entries.is_empty() {
            return [0; DIGEST];
        }
        let mut h = self.hasher("bucket");
        h.update(&[set.id()]).update(&(bucket as u64).to_be_bytes());
        for (k, v) in entries {
            h.update(&(k.len() as u64).to_be_bytes()).update(k);
            h.update(&(v.len() as u64).to_be_bytes()).update(v);
        }
        *h.finalize().as_bytes()
    }

    /// The MAC term of a client row.
    pub(crate) fn client_term(&self, client: ClientId, kek_version: u32, wrapped: &[u8], month: &str) -> [u8; DIGEST] {
        let mut h = self.hasher("client");
        h.update(client.as_bytes()).update(&kek_version.to_be_bytes());
        h.update(&(wrapped.len() as u64).to_be_bytes()).update(wrapped);
        h.update(&(month.len() as u64).to_be_bytes()).update(month.as_bytes());
        *h.finalize().as_bytes()
    }

    /// The MAC term of one record row of `client`.
    pub(crate) fn record_term(&self, client: ClientId, id: i64, kind: &str, month: &str, body: &[u8]) -> [u8; DIGEST] {
        let mut h = self.hasher("record");
        h.update(client.as_bytes()).update(&id.to_be_bytes());
        for part in [kind.as_bytes(), month.as_bytes(), body] {
            h.update(&(part.len() as u64).to_be_bytes()).update(part);
        }
        *h.finalize().as_bytes()
    }

    /// The pad that hides a client's sum where it is stored: MSet-Add-Hash publishes
    /// `H_K(0, r) + sum` with a fresh nonce `r`, never the bare sum. Stored bare, two copies of
    /// the file would give the exact term of each row added between them, and enough known terms
    /// make a subset-sum forgery a lattice problem; padded, stored values say nothing about terms.
    fn mask(&self, client: ClientId, nonce: &[u8]) -> [u8; DIGEST] {
        let mut h = self.hasher("mask");
        h.update(client.as_bytes()).update(nonce);
        *h.finalize().as_bytes()
    }

    /// A client's sum as stored: a fresh 16-byte nonce, then the sum plus the nonce's pad.
    fn store_mac(&self, client: ClientId, sum: &[u8; DIGEST]) -> Result<Vec<u8>> {
        use ring::rand::SecureRandom;
        let mut nonce = [0u8; NONCE];
        ring::rand::SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| Error::internal("the system random source failed"))?;
        let mut padded = self.mask(client, &nonce);
        add(&mut padded, sum);
        Ok([&nonce[..], &padded[..]].concat())
    }

    /// A client's sum from its stored form.
    fn stored_sum(&self, client: ClientId, stored: &[u8]) -> Result<[u8; DIGEST]> {
        if stored.len() != NONCE + DIGEST {
            return Err(corrupt("client_state", client, "a client MAC has the wrong length"));
        }
        let (nonce, padded) = stored.split_at(NONCE);
        let mut sum: [u8; DIGEST] =
            padded.try_into().map_err(|_| corrupt("client_state", client, "a client MAC has the wrong length"))?;
        sub(&mut sum, &self.mask(client, nonce));
        Ok(sum)
    }

    fn empty_root(&self) -> Root {
        let zeros = vec![[0u8; DIGEST]; CHUNK];
        Root {
            generation: 0,
            log: None,
            ledger: *self.hasher("ledger").finalize().as_bytes(),
            decisions: *self.hasher("decisions").finalize().as_bytes(),
            meta: BTreeMap::new(),
            chunks: (0..2 * CHUNKS).map(|row| self.chunk_digest(row, &zeros)).collect(),
        }
    }

    // -----------------------------------------------------------------------------------------
    // Sessions

    /// Starts an operation: reads and opens the root. A missing or altered root is `Integrity`.
    pub(crate) fn begin(&self, conn: &Connection, meta_key: &SealingKey, vault_id: &[u8; 16]) -> Result<()> {
        let sealed: Vec<u8> = conn
            .prepare_cached("SELECT value FROM meta WHERE name = ?1")?
            .query_row([ROOT_NAME], |r| r.get(0))
            .optional()?
            .ok_or_else(|| corrupt("meta", ROOT_NAME, "the authenticated vault state is missing"))?;
        let cached = self.root_cache.borrow().as_ref().filter(|(bytes, _)| *bytes == sealed).map(|(_, r)| r.clone());
        let root = match cached {
            Some(root) => root,
            None => {
                let plain = meta_key
                    .open(&meta_root_aad(vault_id), &sealed)
                    .map_err(|e| Error::integrity("meta", ROOT_NAME, e))?;
                let root = Root::decode(&plain)
                    .ok_or_else(|| corrupt("meta", ROOT_NAME, "the vault state has the wrong layout"))?;
                *self.root_cache.borrow_mut() = Some((sealed, root.clone()));
                root
            }
        };
        *self.session.borrow_mut() = Session { root: Some(root), ..Session::default() };
        Ok(())
    }

    /// Starts a session on a vault that has no state yet (creation, or the format-2 upgrade):
    /// everything is rebuilt from the rows by `rebuild`, or built up by the writes that follow.
    pub(crate) fn begin_empty(&self) {
        *self.session.borrow_mut() = Session { root: Some(self.empty_root()), ..Session::default() };
    }

    /// Ends a session without writing (a read, or a write that failed and rolled back).
    pub(crate) fn end(&self) {
        *self.session.borrow_mut() = Session::default();
    }

    fn with_root<T>(&self, f: impl FnOnce(&mut Root) -> T) -> Result<T> {
        let mut s = self.session.borrow_mut();
        let root = s.root.as_mut().ok_or_else(|| Error::internal("no vault operation is in progress"))?;
        Ok(f(root))
    }

    // -----------------------------------------------------------------------------------------
    // Chunks and buckets

    fn chunk(&self, conn: &Connection, row: usize) -> Result<Vec<[u8; DIGEST]>> {
        if let Some(c) = self.session.borrow().chunks.get(&row) {
            return Ok(c.clone());
        }
        let id = i64::try_from(row).unwrap_or(i64::MAX);
        let stored: Option<Vec<u8>> = conn
            .prepare_cached("SELECT body FROM state_chunk WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?;
        let stored = stored.unwrap_or_else(|| vec![0; CHUNK * DIGEST]);
        if stored.len() != CHUNK * DIGEST {
            return Err(corrupt("state_chunk", row, "a chunk has the wrong length"));
        }
        let body: Vec<[u8; DIGEST]> =
            stored.chunks_exact(DIGEST).map(|d| d.try_into().unwrap_or([0; DIGEST])).collect();
        let want = self.with_root(|r| r.chunks.get(row).copied())?.unwrap_or([0xff; DIGEST]);
        let seen = self.chunk_cache.borrow().get(&row).is_some_and(|(d, bytes)| *d == want && *bytes == stored);
        if !seen {
            if !bool::from(self.chunk_digest(row, &body).ct_eq(&want)) {
                return Err(corrupt("state_chunk", row, "the chunk does not match the vault state"));
            }
            self.chunk_cache.borrow_mut().insert(row, (want, stored));
        }
        self.session.borrow_mut().chunks.insert(row, body.clone());
        Ok(body)
    }

    fn bucket_entries(conn: &Connection, set: Set, bucket: usize) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let (lo, hi) = bucket_range(bucket);
        let sql = match (set, hi.is_some()) {
            (Set::Clients, true) => {
                "SELECT client_id, mac FROM client_state WHERE client_id >= ?1 AND client_id < ?2 ORDER BY client_id"
            }
            (Set::Clients, false) => "SELECT client_id, mac FROM client_state WHERE client_id >= ?1 ORDER BY client_id",
            (Set::Lookups, true) => {
                "SELECT digest, client_id FROM lookup WHERE digest >= ?1 AND digest < ?2 ORDER BY digest, client_id"
            }
            (Set::Lookups, false) => {
                "SELECT digest, client_id FROM lookup WHERE digest >= ?1 ORDER BY digest, client_id"
            }
        };
        let mut stmt = conn.prepare_cached(sql)?;
        let map = |r: &rusqlite::Row<'_>| Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Vec<u8>>(1)?));
        let rows = match hi {
            Some(hi) => stmt.query_map(params![lo, hi], map)?.collect::<rusqlite::Result<Vec<_>>>()?,
            None => stmt.query_map(params![lo], map)?.collect::<rusqlite::Result<Vec<_>>>()?,
        };
        Ok(rows)
    }

    /// Reads a bucket and checks it against its chunk (once per session); returns its entries.
    fn bucket(&self, conn: &Connection, set: Set, bucket: usize) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let entries = Self::bucket_entries(conn, set, bucket)?;
        self.check_bucket(conn, set, bucket, entries)
    }

    /// Checks a bucket's entries, as just read, against its chunk (once per session).
    fn check_bucket(&self, conn: &Connection, set: Set, bucket: usize, entries: Entries) -> Result<Entries> {
        let key = (set, bucket);
        {
            let s = self.session.borrow();
            if s.checked_buckets.contains(&key) || s.dirty_buckets.contains(&key) {
                return Ok(entries);
            }
        }
        let row = set.chunk_row(bucket / CHUNK);
        if !self.session.borrow().chunks.contains_key(&row) {
            self.chunk(conn, row)?;
        }
        let want = self.session.borrow().chunks.get(&row).and_then(|c| c.get(bucket % CHUNK).copied());
        let want = want.unwrap_or([0xff; DIGEST]);
        if !bool::from(self.bucket_digest(set, bucket, &entries).ct_eq(&want)) {
            return Err(corrupt(set.table(), format!("bucket {bucket}"), "rows were added, removed or changed"));
        }
        let mut s = self.session.borrow_mut();
        s.checked_buckets.insert(key);
        s.bucket_base.insert(key, entries.clone());
        Ok(entries)
    }

    // -----------------------------------------------------------------------------------------
    // Clients

    /// Computes a client's MAC from its rows as stored, and returns the rows it read; `None` if
    /// the client row is absent.
    fn compute_client_mac(&self, conn: &Connection, client: ClientId) -> Result<Option<([u8; DIGEST], ClientRows)>> {
        let row: Option<(u32, Vec<u8>, String)> = conn
            .prepare_cached("SELECT kek_version, wrapped_key, created_month FROM client WHERE id = ?1")?
            .query_row([client.as_bytes()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        let Some((version, wrapped, month)) = row else { return Ok(None) };
        let mut mac = self.client_term(client, version, &wrapped, &month);
        // No ORDER BY: the sum is order-free, and with the (client, kind) index an ORDER BY id
        // made SQLite re-prepare the statement on every bind (BENCHMARKS.md, "Format 2").
        let mut stmt = conn.prepare_cached("SELECT id, kind, created_month, body FROM record WHERE client_id = ?1")?;
        let mut rows = stmt.query([client.as_bytes()])?;
        let mut records = Vec::new();
        while let Some(r) = rows.next()? {
            let (id, kind): (i64, String) = (r.get(0)?, r.get(1)?);
            let body = r.get_ref(3)?.as_blob().map_err(|_| corrupt("record", id, "a body is not a blob"))?;
            add(&mut mac, &self.record_term(client, id, &kind, &r.get::<_, String>(2)?, body));
            records.push((id, kind, body.to_vec()));
        }
        records.sort_by_key(|(id, _, _)| *id);
        Ok(Some((mac, ClientRows { client, kek_version: version, wrapped_key: wrapped, records })))
    }

    /// The rows the last successful [`State::check_client`] of `client` read and matched, if
    /// nothing has changed that client since: readers use these instead of reading the rows a
    /// second time, which also means they decrypt exactly the rows the MAC covered.
    pub(crate) fn checked_rows(&self, client: ClientId) -> Option<std::cell::Ref<'_, ClientRows>> {
        let s = self.session.borrow();
        std::cell::Ref::filter_map(s, |s| s.rows.as_ref().filter(|r| r.client == client)).ok()
    }

    /// [`State::checked_rows`], moved out: the next reader of the client reads its rows again.
    pub(crate) fn take_checked_rows(&self, client: ClientId) -> Option<ClientRows> {
        let mut s = self.session.borrow_mut();
        if s.rows.as_ref().is_some_and(|r| r.client == client) {
            s.rows.take()
        } else {
            None
        }
    }

    /// Checks one client against the state: its bucket, and its MAC over its client row and
    /// every record. Returns whether the client exists. A client that the state lists but whose
    /// row is gone, or whose row exists but the state does not list, is `Integrity`.
    pub(crate) fn check_client(&self, conn: &Connection, client: ClientId) -> Result<bool> {
        {
            let s = self.session.borrow();
            if let Some(mac) = s.dirty_clients.get(&client) {
                return Ok(mac.is_some());
            }
            if s.checked_clients.contains(&client) {
                return Ok(true);
            }
        }
        let entries = self.bucket(conn, Set::Clients, bucket_of(client.as_bytes()))?;
        let listed = entries
            .iter()
            .find(|(k, _)| k.as_slice() == client.as_bytes())
            .map(|(_, v)| self.stored_sum(client, v))
            .transpose()?;
        let computed = self.compute_client_mac(conn, client)?;
        match (listed, computed) {
            (None, None) => Ok(false),
            (Some(_), None) => Err(corrupt("client", client, "the client's row is missing")),
            (None, Some(_)) => Err(corrupt("client", client, "the client is not in the vault state")),
            (Some(want), Some((got, rows))) => {
                if !bool::from(got.ct_eq(&want)) {
                    return Err(corrupt("client", client, CLIENT_CHANGED));
                }
                let mut s = self.session.borrow_mut();
                s.checked_clients.insert(client);
                s.rows = Some(rows);
                Ok(true)
            }
        }
    }

    /// The MAC the state lists for a client (its bucket checked), for a write to change.
    fn listed_mac(&self, conn: &Connection, client: ClientId) -> Result<Option<[u8; DIGEST]>> {
        if let Some(mac) = self.session.borrow().dirty_clients.get(&client) {
            return Ok(*mac);
        }
        let entries = self.bucket(conn, Set::Clients, bucket_of(client.as_bytes()))?;
        entries
            .into_iter()
            .find(|(k, _)| k.as_slice() == client.as_bytes())
            .map(|(_, v)| self.stored_sum(client, &v))
            .transpose()
    }

    /// Whether the state lists this client (its bucket checked).
    pub(crate) fn is_listed(&self, conn: &Connection, client: ClientId) -> Result<bool> {
        Ok(self.listed_mac(conn, client)?.is_some())
    }

    /// Changes a client's MAC by `f`, starting from the MAC the state lists (checked with its
    /// bucket), never from the rows on disk: a write folds in only what it changed itself, so an
    /// attacker's edit to another row stays visible to the next read.
    fn change_client(&self, conn: &Connection, client: ClientId, f: impl FnOnce(&mut [u8; DIGEST])) -> Result<()> {
        let mut mac = self.listed_mac(conn, client)?.unwrap_or([0; DIGEST]);
        f(&mut mac);
        let mut s = self.session.borrow_mut();
        s.rows = None;
        s.dirty_clients.insert(client, Some(mac));
        s.dirty_buckets.insert((Set::Clients, bucket_of(client.as_bytes())));
        Ok(())
    }

    /// A client row was written: `old` is its row before (`None` for a new client).
    pub(crate) fn client_row_changed(
        &self,
        conn: &Connection,
        client: ClientId,
        old: Option<(u32, &[u8], &str)>,
        new: (u32, &[u8], &str),
    ) -> Result<()> {
        if old.is_none() && self.listed_mac(conn, client)?.is_some() {
            return Err(corrupt("client", client, "a new client's id is already in the vault state"));
        }
        let old = old.map(|(v, w, m)| self.client_term(client, v, w, m));
        let new = self.client_term(client, new.0, new.1, new.2);
        self.change_client(conn, client, |mac| {
            if let Some(old) = old {
                sub(mac, &old);
            }
            add(mac, &new);
        })
    }

    /// A record row was inserted (`old_body` is `None`) or its body replaced. `row` is the
    /// record's id, kind and month, which a replacement never changes.
    pub(crate) fn record_changed(
        &self,
        conn: &Connection,
        client: ClientId,
        row: (i64, &str, &str),
        old_body: Option<&[u8]>,
        new_body: &[u8],
    ) -> Result<()> {
        let (id, kind, month) = row;
        let old = old_body.map(|b| self.record_term(client, id, kind, month, b));
        let new = self.record_term(client, id, kind, month, new_body);
        self.change_client(conn, client, |mac| {
            if let Some(old) = old {
                sub(mac, &old);
            }
            add(mac, &new);
        })
    }

    /// A client is being erased: its entry leaves its bucket. Only the bucket is checked, so a
    /// client whose records were damaged can still be erased.
    pub(crate) fn client_erased(&self, conn: &Connection, client: ClientId) -> Result<()> {
        self.bucket(conn, Set::Clients, bucket_of(client.as_bytes()))?;
        let mut s = self.session.borrow_mut();
        s.rows = None;
        s.dirty_clients.insert(client, None);
        s.dirty_buckets.insert((Set::Clients, bucket_of(client.as_bytes())));
        Ok(())
    }

    /// Every client the state lists, with every bucket checked: for full scans and listings.
    pub(crate) fn all_clients(&self, conn: &Connection) -> Result<BTreeMap<ClientId, [u8; DIGEST]>> {
        // One pass over the whole table in key order, cut into buckets here: 16,384 range
        // queries cost more than the rows they read.
        let mut out = BTreeMap::new();
        let mut take = |bucket: usize, entries: Entries| -> Result<()> {
            for (k, v) in self.check_bucket(conn, Set::Clients, bucket, entries)? {
                let id = ClientId::from_slice(&k)
                    .ok_or_else(|| corrupt("client_state", "-", "a client id is not 16 bytes"))?;
                out.insert(id, self.stored_sum(id, &v)?);
            }
            Ok(())
        };
        let (mut bucket, mut entries) = (0usize, Entries::new());
        let mut stmt = conn.prepare_cached("SELECT client_id, mac FROM client_state ORDER BY client_id")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let (k, v): (Vec<u8>, Vec<u8>) = (r.get(0)?, r.get(1)?);
            // Every bucket before this row's is complete, the empty ones included.
            while bucket < bucket_of(&k) {
                take(bucket, std::mem::take(&mut entries))?;
                bucket += 1;
            }
            entries.push((k, v));
        }
        while bucket < BUCKETS {
            take(bucket, std::mem::take(&mut entries))?;
            bucket += 1;
        }
        let stored: i64 = conn.query_row("SELECT count(*) FROM client", [], |r| r.get(0))?;
        if usize::try_from(stored).ok() != Some(out.len()) {
            return Err(corrupt("client", "-", "the client table does not match the vault state"));
        }
        Ok(out)
    }

    /// Records that a full scan checked this client's MAC itself.
    pub(crate) fn mark_checked(&self, client: ClientId) {
        self.session.borrow_mut().checked_clients.insert(client);
    }

    // -----------------------------------------------------------------------------------------
    // Lookups

    /// The clients a blind-index digest points to, with its bucket checked: a lookup row that
    /// was swapped, added or deleted is `Integrity`, never a wrong answer or a silent miss.
    pub(crate) fn lookup(&self, conn: &Connection, digest: &[u8; 32]) -> Result<Vec<ClientId>> {
        self.bucket(conn, Set::Lookups, bucket_of(digest))?
            .into_iter()
            .filter(|(k, _)| k.as_slice() == digest.as_slice())
            .map(|(_, v)| ClientId::from_slice(&v).ok_or_else(|| corrupt("lookup", "-", "a client id is not 16 bytes")))
            .collect()
    }

    /// Marks a lookup digest's bucket as about to change, after checking it.
    /// Checks a lookup row's bucket before the caller writes (`Some(client)`) or deletes
    /// (`None`) the row for `digest`, and records the change for `flush`.
    pub(crate) fn touch_lookup(&self, conn: &Connection, digest: &[u8], now: Option<ClientId>) -> Result<()> {
        let bucket = bucket_of(digest);
        self.bucket(conn, Set::Lookups, bucket)?;
        let mut s = self.session.borrow_mut();
        s.dirty_buckets.insert((Set::Lookups, bucket));
        s.lookup_changes.insert(digest.to_vec(), now.map(|c| c.as_bytes().to_vec()));
        Ok(())
    }

    /// A changed bucket's entries as this operation leaves them: the checked entries with its
    /// changes applied, or, for a bucket never checked (the state being rebuilt), the rows.
    fn bucket_after(
        &self,
        conn: &Connection,
        set: Set,
        bucket: usize,
        clients: &BTreeMap<ClientId, Option<Vec<u8>>>,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let s = self.session.borrow();
        let Some(base) = s.bucket_base.get(&(set, bucket)) else {
            drop(s);
            return Self::bucket_entries(conn, set, bucket);
        };
        let mut entries: BTreeMap<Vec<u8>, Vec<u8>> = base.iter().cloned().collect();
        let changes: Vec<(Vec<u8>, Option<Vec<u8>>)> = match set {
            Set::Clients => clients
                .iter()
                .filter(|(c, _)| bucket_of(c.as_bytes()) == bucket)
                .map(|(c, v)| (c.as_bytes().to_vec(), v.clone()))
                .collect(),
            Set::Lookups => s
                .lookup_changes
                .iter()
                .filter(|(d, _)| bucket_of(d) == bucket)
                .map(|(d, v)| (d.clone(), v.clone()))
                .collect(),
        };
        for (k, v) in changes {
            match v {
                Some(v) => entries.insert(k, v),
                None => entries.remove(&k),
            };
        }
        Ok(entries.into_iter().collect())
    }

    // -----------------------------------------------------------------------------------------
    // Meta, ledger, decisions, log head

    /// A `meta` value, checked against the state. A value that is missing where the state has
    /// one, present where it has none, or different, is `Integrity`: missing state is never
    /// replaced by a default.
    pub(crate) fn meta_get(&self, conn: &Connection, name: &'static str) -> Result<Option<Vec<u8>>> {
        let value: Option<Vec<u8>> = conn
            .prepare_cached("SELECT value FROM meta WHERE name = ?1")?
            .query_row([name], |r| r.get(0))
            .optional()?;
        let want = self.with_root(|r| r.meta.get(name).copied())?;
        match (&value, want) {
            (None, None) => Ok(None),
            (Some(_), None) => Err(corrupt("meta", name, "an entry the vault state does not list")),
            (None, Some(_)) => Err(corrupt("meta", name, "a required entry is missing")),
            (Some(v), Some(want)) => {
                if !bool::from(self.meta_digest(name, v).ct_eq(&want)) {
                    return Err(corrupt("meta", name, "the entry was changed"));
                }
                Ok(value)
            }
        }
    }

    /// The keyed digest of every key envelope row (id, kind, recipient, work factor, age file).
    /// The envelopes are read before the key exists, so they cannot be checked at unlock; they
    /// are checked before anything trusts them afterwards, above all before a root-key rotation
    /// re-makes one for each stored recipient: an attacker's recipient added to the table must
    /// never receive the new root.
    pub(crate) fn envelopes_digest(&self, conn: &Connection) -> Result<[u8; DIGEST]> {
        let mut h = self.hasher("envelopes");
        let mut stmt =
            conn.prepare_cached("SELECT id, kind, recipient, log_n, age_file FROM key_envelope ORDER BY id")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let id: i64 = r.get(0)?;
            let kind: String = r.get(1)?;
            let recipient: Option<String> = r.get(2)?;
            let log_n: Option<i64> = r.get(3)?;
            let age_file: Vec<u8> = r.get(4)?;
            h.update(&id.to_be_bytes());
            for part in [kind.as_bytes(), recipient.as_deref().unwrap_or("").as_bytes(), &age_file] {
                h.update(&(part.len() as u64).to_be_bytes()).update(part);
            }
            h.update(&[u8::from(recipient.is_some())]).update(&log_n.unwrap_or(-1).to_be_bytes());
        }
        Ok(*h.finalize().as_bytes())
    }

    /// Checks the key envelopes against the digest the state records.
    pub(crate) fn check_envelopes(&self, conn: &Connection) -> Result<()> {
        let want =
            self.meta_get(conn, ENVELOPES)?.ok_or_else(|| corrupt("meta", ENVELOPES, "a required entry is missing"))?;
        if !bool::from(self.envelopes_digest(conn)?.as_slice().ct_eq(&want)) {
            return Err(corrupt("key_envelope", "-", "envelopes were added, removed or changed"));
        }
        Ok(())
    }

    /// Records the key envelopes as they now are, after a write changed them.
    pub(crate) fn envelopes_changed(&self, conn: &Connection) -> Result<()> {
        let digest = self.envelopes_digest(conn)?;
        self.meta_put(conn, ENVELOPES, &digest)
    }

    /// The id for a new record, from the counter the state records: never `max(id) + 1` from
    /// the rows, which an attacker who deletes the newest record would move back (and which
    /// would hand an erased client's ids to the next record).
    pub(crate) fn next_record_id(&self, conn: &Connection) -> Result<i64> {
        let cached = self.session.borrow().next_record;
        let id = match cached {
            Some(id) => id,
            None => {
                let stored = self
                    .meta_get(conn, NEXT_RECORD)?
                    .ok_or_else(|| corrupt("meta", NEXT_RECORD, "a required entry is missing"))?;
                let bytes: [u8; 8] = stored.try_into().map_err(|_| corrupt("meta", NEXT_RECORD, "not 8 bytes"))?;
                i64::from_be_bytes(bytes)
            }
        };
        let next = id.checked_add(1).ok_or_else(|| corrupt("meta", NEXT_RECORD, "the record ids are exhausted"))?;
        let mut s = self.session.borrow_mut();
        s.next_record = Some(next);
        s.next_record_dirty = true;
        Ok(id)
    }

    /// Writes a `meta` value and records it in the state.
    pub(crate) fn meta_put(&self, conn: &Connection, name: &'static str, value: &[u8]) -> Result<()> {
        conn.prepare_cached("INSERT OR REPLACE INTO meta (name, value) VALUES (?1, ?2)")?
            .execute(params![name, value])?;
        let digest = self.meta_digest(name, value);
        self.with_root(|r| r.meta.insert(name.to_owned(), digest))?;
        self.session.borrow_mut().root_dirty = true;
        Ok(())
    }

    /// Checks that the `meta` table holds exactly the values the state lists (at open).
    pub(crate) fn check_all_meta(&self, conn: &Connection) -> Result<()> {
        let mut stmt = conn.prepare("SELECT name, value FROM meta WHERE name <> ?1 ORDER BY name")?;
        let rows: Vec<(String, Vec<u8>)> =
            stmt.query_map([ROOT_NAME], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
        let want = self.with_root(|r| r.meta.clone())?;
        if rows.len() != want.len() {
            return Err(corrupt("meta", "-", "entries were added or removed"));
        }
        for (name, value) in rows {
            let ok = want.get(&name).is_some_and(|w| bool::from(self.meta_digest(&name, &value).ct_eq(w)));
            if !ok {
                return Err(corrupt("meta", "-", "an entry was changed, added or removed"));
            }
        }
        Ok(())
    }

    /// The digest of a meta value as the state records it (to notice another process's change).
    pub(crate) fn meta_recorded(&self, name: &str) -> Result<Option<[u8; DIGEST]>> {
        self.with_root(|r| r.meta.get(name).copied())
    }

    fn ledger_digest(&self, conn: &Connection) -> Result<[u8; DIGEST]> {
        let mut h = self.hasher("ledger");
        let mut stmt = conn.prepare_cached("SELECT id, period, rho_micros, at FROM privacy_ledger ORDER BY id")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let period: String = r.get(1)?;
            h.update(&r.get::<_, i64>(0)?.to_be_bytes());
            h.update(&(period.len() as u64).to_be_bytes()).update(period.as_bytes());
            h.update(&r.get::<_, i64>(2)?.to_be_bytes()).update(&r.get::<_, i64>(3)?.to_be_bytes());
        }
        Ok(*h.finalize().as_bytes())
    }

    fn decisions_digest(&self, conn: &Connection) -> Result<[u8; DIGEST]> {
        let mut h = self.hasher("decisions");
        let mut stmt = conn.prepare_cached("SELECT a, b, decision, at FROM match_decision ORDER BY a, b")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            for i in 0..3 {
                let v = r.get_ref(i)?;
                let bytes = v.as_bytes().map_err(|_| corrupt("match_decision", "-", "a column has the wrong type"))?;
                h.update(&(bytes.len() as u64).to_be_bytes()).update(bytes);
            }
            h.update(&r.get::<_, i64>(3)?.to_be_bytes());
        }
        Ok(*h.finalize().as_bytes())
    }

    /// Checks the privacy-budget ledger: a deleted or edited row is `Integrity`, so spent budget
    /// can never be spent again.
    pub(crate) fn check_ledger(&self, conn: &Connection) -> Result<()> {
        if self.session.borrow().ledger_checked || self.session.borrow().ledger_dirty {
            return Ok(());
        }
        let got = self.ledger_digest(conn)?;
        if !bool::from(got.ct_eq(&self.with_root(|r| r.ledger)?)) {
            return Err(corrupt("privacy_ledger", "-", "rows were added, removed or changed"));
        }
        self.session.borrow_mut().ledger_checked = true;
        Ok(())
    }

    /// Marks the ledger as about to change, after checking it.
    pub(crate) fn touch_ledger(&self, conn: &Connection) -> Result<()> {
        self.check_ledger(conn)?;
        self.session.borrow_mut().ledger_dirty = true;
        Ok(())
    }

    /// Checks the duplicate-review decisions.
    pub(crate) fn check_decisions(&self, conn: &Connection) -> Result<()> {
        if self.session.borrow().decisions_checked || self.session.borrow().decisions_dirty {
            return Ok(());
        }
        let got = self.decisions_digest(conn)?;
        if !bool::from(got.ct_eq(&self.with_root(|r| r.decisions)?)) {
            return Err(corrupt("match_decision", "-", "rows were added, removed or changed"));
        }
        self.session.borrow_mut().decisions_checked = true;
        Ok(())
    }

    /// Marks the decisions as about to change, after checking them.
    pub(crate) fn touch_decisions(&self, conn: &Connection) -> Result<()> {
        self.check_decisions(conn)?;
        self.session.borrow_mut().decisions_dirty = true;
        Ok(())
    }

    /// The disclosure log's head as the state records it.
    pub(crate) fn log_head(&self) -> Result<Option<LogHead>> {
        self.with_root(|r| r.log)
    }

    /// Records a new log head.
    pub(crate) fn set_log_head(&self, head: LogHead) -> Result<()> {
        self.with_root(|r| r.log = Some(head))?;
        self.session.borrow_mut().root_dirty = true;
        Ok(())
    }

    // -----------------------------------------------------------------------------------------
    // Writing

    /// Recomputes everything this session changed (client MACs, buckets, chunks, the ledger and
    /// decision digests) and writes the sealed root, inside the caller's transaction.
    pub(crate) fn flush(
        &self,
        conn: &Connection,
        meta_key: &SealingKey,
        nonces: &mut NonceSource,
        vault_id: &[u8; 16],
    ) -> Result<()> {
        let counter = {
            let s = self.session.borrow();
            s.next_record.filter(|_| s.next_record_dirty)
        };
        if let Some(next) = counter {
            self.meta_put(conn, NEXT_RECORD, &next.to_be_bytes())?;
            self.session.borrow_mut().next_record_dirty = false;
        }
        let (clients, buckets, ledger, decisions, root_dirty) = {
            let s = self.session.borrow();
            (s.dirty_clients.clone(), s.dirty_buckets.clone(), s.ledger_dirty, s.decisions_dirty, s.root_dirty)
        };
        if clients.is_empty()
            && self.session.borrow().rebuild_clients.is_empty()
            && buckets.is_empty()
            && !ledger
            && !decisions
            && !root_dirty
        {
            return Ok(());
        }
        let rebuild = std::mem::take(&mut self.session.borrow_mut().rebuild_clients);
        let mut macs: Vec<(ClientId, Option<[u8; DIGEST]>)> = clients.into_iter().collect();
        for client in rebuild {
            macs.push((client, self.compute_client_mac(conn, client)?.map(|(mac, _)| mac)));
        }
        let mut written: BTreeMap<ClientId, Option<Vec<u8>>> = BTreeMap::new();
        for (client, mac) in macs {
            match mac {
                Some(mac) => {
                    let stored = self.store_mac(client, &mac)?;
                    conn.prepare_cached("INSERT OR REPLACE INTO client_state (client_id, mac) VALUES (?1, ?2)")?
                        .execute(params![client.as_bytes(), &stored])?;
                    written.insert(client, Some(stored));
                }
                None => {
                    conn.prepare_cached("DELETE FROM client_state WHERE client_id = ?1")?
                        .execute([client.as_bytes()])?;
                    written.insert(client, None);
                }
            }
        }
        let mut changed_rows = BTreeSet::new();
        for (set, bucket) in buckets {
            let row = set.chunk_row(bucket / CHUNK);
            let mut chunk = self.chunk(conn, row)?;
            let digest = self.bucket_digest(set, bucket, &self.bucket_after(conn, set, bucket, &written)?);
            if let Some(slot) = chunk.get_mut(bucket % CHUNK) {
                *slot = digest;
            }
            self.session.borrow_mut().chunks.insert(row, chunk);
            changed_rows.insert(row);
        }
        for row in changed_rows {
            let chunk = self.chunk(conn, row)?;
            let bytes: Vec<u8> = chunk.iter().flatten().copied().collect();
            conn.prepare_cached("INSERT OR REPLACE INTO state_chunk (id, body) VALUES (?1, ?2)")?
                .execute(params![i64::try_from(row).unwrap_or(i64::MAX), bytes])?;
            let digest = self.chunk_digest(row, &chunk);
            self.with_root(|r| {
                if let Some(slot) = r.chunks.get_mut(row) {
                    *slot = digest;
                }
            })?;
        }
        if ledger {
            let d = self.ledger_digest(conn)?;
            self.with_root(|r| r.ledger = d)?;
        }
        if decisions {
            let d = self.decisions_digest(conn)?;
            self.with_root(|r| r.decisions = d)?;
        }
        let plain = zeroize::Zeroizing::new(self.with_root(|r| {
            r.generation = r.generation.wrapping_add(1);
            r.encode()
        })?);
        let sealed = meta_key
            .seal(nonces, &meta_root_aad(vault_id), &plain)
            .map_err(|e| Error::integrity("meta", ROOT_NAME, e))?;
        conn.prepare_cached("INSERT OR REPLACE INTO meta (name, value) VALUES (?1, ?2)")?
            .execute(params![ROOT_NAME, &sealed])?;
        // The root just sealed is authentic by construction; if the commit fails, the bytes on
        // disk differ and the cache is simply not used.
        let root = self.with_root(|r| r.clone())?;
        *self.root_cache.borrow_mut() = Some((sealed, root));
        let mut s = self.session.borrow_mut();
        s.dirty_clients.clear();
        s.dirty_buckets.clear();
        s.ledger_dirty = false;
        s.decisions_dirty = false;
        s.root_dirty = false;
        Ok(())
    }

    /// Builds the state from the rows as they are, for a vault that has none yet (the format-2
    /// upgrade). Only ever run on a file whose canary says it predates format 2; see
    /// `upgrade_layout`. The caller flushes.
    pub(crate) fn rebuild(&self, conn: &Connection, log: Option<LogHead>) -> Result<()> {
        self.begin_empty();
        let mut stmt = conn.prepare("SELECT name, value FROM meta WHERE name <> ?1")?;
        let rows: Vec<(String, Vec<u8>)> =
            stmt.query_map([ROOT_NAME], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
        let digests: Vec<(String, [u8; DIGEST])> =
            rows.iter().map(|(n, v)| (n.clone(), self.meta_digest(n, v))).collect();
        self.with_root(|r| {
            r.meta.extend(digests);
            r.log = log;
        })?;
        let ids: Vec<Vec<u8>> =
            conn.prepare("SELECT id FROM client")?.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        let digests: Vec<Vec<u8>> =
            conn.prepare("SELECT digest FROM lookup")?.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        let mut s = self.session.borrow_mut();
        for id in ids {
            let client =
                ClientId::from_slice(&id).ok_or_else(|| corrupt("client", "-", "a client id is not 16 bytes"))?;
            s.rebuild_clients.insert(client);
            s.dirty_buckets.insert((Set::Clients, bucket_of(&id)));
        }
        for d in digests {
            s.dirty_buckets.insert((Set::Lookups, bucket_of(&d)));
        }
        // Every chunk starts empty and checked: nothing is stored yet.
        let zeros = vec![[0u8; DIGEST]; CHUNK];
        for row in 0..2 * CHUNKS {
            s.chunks.insert(row, zeros.clone());
        }
        s.ledger_dirty = true;
        s.decisions_dirty = true;
        s.root_dirty = true;
        Ok(())
    }
}

/// Adds two 256-bit numbers (little-endian), wrapping.
pub(crate) fn add(acc: &mut [u8; DIGEST], term: &[u8; DIGEST]) {
    let mut carry = 0u16;
    for (a, t) in acc.iter_mut().zip(term) {
        let v = u16::from(*a) + u16::from(*t) + carry;
        *a = (v & 0xff) as u8;
        carry = v >> 8;
    }
}

/// Subtracts `term` from a 256-bit number (little-endian), wrapping.
fn sub(acc: &mut [u8; DIGEST], term: &[u8; DIGEST]) {
    let mut borrow = 0i16;
    for (a, t) in acc.iter_mut().zip(term) {
        let v = i16::from(*a) - i16::from(*t) - borrow;
        borrow = i16::from(v < 0);
        *a = (v + 256 * borrow) as u8;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_cover_the_key_space_in_order() {
        assert_eq!(bucket_of(&[0, 0]), 0);
        assert_eq!(bucket_of(&[0xff, 0xff]), BUCKETS - 1);
        // 14 bits: 0x1234 >> 2.
        assert_eq!(bucket_of(&[0x12, 0x34, 0x56]), 0x48d);
        let (lo, hi) = bucket_range(0x48d);
        assert_eq!(lo, vec![0x12, 0x34]);
        assert_eq!(hi, Some(vec![0x12, 0x38]));
        assert_eq!(bucket_range(BUCKETS - 1).1, None);
        // A 16-byte id in the bucket sorts inside the range, as SQLite compares blobs.
        let id = [0x12u8, 0x37, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        assert!(lo.as_slice() <= &id[..] && &id[..] < hi.as_deref().unwrap_or(&[0xff; 17]));
    }

    #[test]
    fn multiset_sums_add_and_remove_in_any_order() {
        let (x, y, z) = ([0xffu8; 32], [1u8; 32], [0x80u8; 32]);
        let mut a = [0u8; 32];
        add(&mut a, &x);
        add(&mut a, &y);
        add(&mut a, &z);
        let mut b = [0u8; 32];
        add(&mut b, &z);
        add(&mut b, &x);
        add(&mut b, &y);
        assert_eq!(a, b);
        sub(&mut a, &y);
        let mut c = [0u8; 32];
        add(&mut c, &x);
        add(&mut c, &z);
        assert_eq!(a, c);
        sub(&mut a, &x);
        sub(&mut a, &z);
        assert_eq!(a, [0u8; 32]);
    }

    #[test]
    fn root_round_trips_and_refuses_trailing_bytes() {
        let st = State::new(Secret32::from_array([3; 32]));
        let mut root = st.empty_root();
        root.generation = 7;
        root.log = Some(LogHead { seq: 4, hash: [9; 32] });
        root.meta.insert("policy".into(), [5; 32]);
        let bytes = root.encode();
        let back = Root::decode(&bytes).unwrap_or_else(|| st.empty_root());
        assert_eq!(back.generation, 7);
        assert_eq!(back.log, root.log);
        assert_eq!(back.meta, root.meta);
        assert_eq!(back.chunks, root.chunks);
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(Root::decode(&longer).is_none());
        assert!(Root::decode(&bytes[..bytes.len() - 1]).is_none());
    }
}
