//! The sealed-record format: how one record's sections are sealed, framed and opened.
//!
//! ```text
//! body = version u8 (1) | count u16 BE | (length u32 BE | sealed value)*
//! ```
//!
//! Each section holds one category of the record, sealed (see [`crate::seal`]) under that
//! category's key for the client, with an AAD naming the vault, the client, the row and the
//! category. This module sits below both the vault and the firewall: the vault writes and reads
//! whole records with every key of the client, and the firewall's `CategoryReader` opens single
//! sections with the few keys it holds. Neither imports the other for it.

use crate::category::Category;
use crate::error::{Error, Result};
use crate::keys::ClientKey;
use crate::record::{ClientId, Record, RecordId, RecordKind, SectionReader, SectionWriter};
use crate::seal::{Aad, Algorithm, Header, NonceSource, SealError, SealingKey};

/// The layout version of a record body; bound into every section's AAD.
pub(crate) const BODY_VERSION: u8 = 1;

/// A client's category keys, derived on first use.
pub(crate) struct ClientKeys {
    pub(crate) client: ClientId,
    pub(crate) key: ClientKey,
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
pub(crate) fn seal_record(
    vault_id: &[u8; 16],
    nonces: &mut NonceSource,
    keys: &mut ClientKeys,
    id: i64,
    record: &Record,
) -> Result<Vec<u8>> {
    let row = id.to_be_bytes();
    let client = keys.client;
    let mut body = Vec::with_capacity(1024);
    body.push(BODY_VERSION);
    body.extend_from_slice(&[0, 0]);
    let mut count: u16 = 0;
    let mut aad_buf = Vec::with_capacity(160);
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
pub(crate) fn open_record(
    vault_id: &[u8; 16],
    keys: &mut ClientKeys,
    id: i64,
    kind: RecordKind,
    body: Vec<u8>,
) -> Result<Record> {
    open_record_with(vault_id, keys, id, kind, body, None)?
        .ok_or_else(|| Error::corrupt("record", id, "a required section is missing"))
}

/// Opens only the sections of `categories`: the keys of every other category are never derived,
/// so what was not declared cannot be read. The record is rebuilt from what was opened (see
/// [`Record::read_partial`]); `None` when what was opened cannot make a record of this kind.
/// A section no key opens is skipped here: the client's MAC, checked by the caller's scan,
/// covers every byte of the row.
pub(crate) fn open_partial(
    vault_id: &[u8; 16],
    keys: &mut ClientKeys,
    id: i64,
    kind: RecordKind,
    body: Vec<u8>,
    categories: &[Category],
) -> Result<Option<Record>> {
    open_record_with(vault_id, keys, id, kind, body, Some(categories))
}

fn open_record_with(
    vault_id: &[u8; 16],
    keys: &mut ClientKeys,
    id: i64,
    kind: RecordKind,
    body: Vec<u8>,
    only: Option<&[Category]>,
) -> Result<Option<Record>> {
    let mut body = zeroize::Zeroizing::new(body);
    let bad = |problem| Error::corrupt("record", id, problem);
    let row = id.to_be_bytes();
    let client = keys.client;
    let candidates: Vec<Category> = Record::possible_categories(kind)
        .iter()
        .copied()
        .filter(|c| only.is_none_or(|allowed| allowed.contains(c)))
        .collect();
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
        for &category in &candidates {
            if keys.key(category)?.commitment() == &header.commitment {
                matched = Some(category);
                break;
            }
        }
        // No key of this client opens it: made under another key, or its commitment altered
        // (or, for a partial read, a category the reader does not hold).
        let category = match (matched, only) {
            (Some(c), _) => c,
            (None, Some(_)) => continue,
            (None, None) => return Err(Error::integrity("record", id, SealError::Commitment)),
        };
        let aad = section_aad(vault_id, &client, &row, category);
        let plaintext = keys
            .key(category)?
            .open_in_place(&aad, sealed, &mut aad_buf)
            .map_err(|e| Error::integrity("record", id, e))?;
        if reader.sections.insert(category, plaintext).is_some() {
            return Err(bad("a category appears twice in one record"));
        }
    }
    match only {
        None => Record::read_sections(kind, &reader).map(Some),
        Some(_) => Record::read_partial(kind, reader),
    }
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
