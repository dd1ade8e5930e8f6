//! The one-time upgrade of a vault written before format 2 (0.1): identities re-sealed to
//! record layout 2, the format-1 log head checked, the authenticated state built, the canary
//! re-sealed as v2, in one transaction.

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use subtle::ConstantTimeEq;

use std::collections::HashMap;

use super::{aad, state, Crypto, CANARY_V2, LAYOUT};
use crate::audit::{self, LogHead};
use crate::error::{Error, Result};
use crate::keys::ClientKey;
use crate::record::{ClientId, RecordKind};
use crate::sealed_record::{open_record, seal_record, ClientKeys};

/// Brings a vault from before format 2 to the current layout, in one transaction: identity
/// records of layout 1 are re-sealed so the DHS form of the name gets its own section, the
/// sealed log head of format 1 is checked against the log, the authenticated state is built from
/// the rows, and the canary is re-sealed to say format 2. Runs only for a file whose canary says
/// it predates format 2, so deleting a format-2 vault's state cannot make it rebuild.
pub(super) fn upgrade_layout(conn: &Connection, crypto: &mut Crypto) -> Result<()> {
    let tx = rusqlite::Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
    // Under the write lock, look again: another process may have upgraded it meanwhile.
    let canary: Vec<u8> = tx.query_row("SELECT value FROM meta WHERE name = 'canary'", [], |r| r.get(0))?;
    let opened = crypto
        .root
        .canary_key(crypto.alg)?
        .open(&aad::canary(&crypto.vault_id), &canary)
        .map_err(|e| Error::integrity("meta", "canary", e))?;
    if bool::from(opened.as_slice().ct_eq(CANARY_V2)) {
        return Ok(());
    }
    let layout: u8 = tx
        .query_row("SELECT value FROM meta WHERE name = 'layout'", [], |r| r.get::<_, Vec<u8>>(0))
        .optional()?
        .and_then(|v| v.first().copied())
        .unwrap_or(1);
    // Every client key moves to the format-2 key-encryption key. A file that was upgraded
    // before and had its format-1 canary put back fails here, since its client keys no longer
    // open under the format-1 KEK: the state is never rebuilt from rows format 2 vouched for.
    let clients: Vec<(Vec<u8>, u32, Vec<u8>)> = tx
        .prepare("SELECT id, kek_version, wrapped_key FROM client")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut client_keys: HashMap<ClientId, ClientKey> = HashMap::with_capacity(clients.len());
    for (id, version, wrapped) in clients {
        let client =
            ClientId::from_slice(&id).ok_or_else(|| Error::corrupt("client", "-", "a client id is not 16 bytes"))?;
        let aad = aad::client_key(&crypto.vault_id, &client);
        let bytes = crypto.root.kek_format1(version, crypto.alg)?.open(&aad, &wrapped).map_err(|_| {
            Error::corrupt(
                "client",
                client,
                "the client key does not open under the format-1 key: the file was upgraded before and its format marker put back",
            )
        })?;
        let ck = ClientKey::from_bytes(&bytes)
            .ok_or_else(|| Error::corrupt("client", client, "the client key is not 32 bytes"))?;
        let rewrapped = crypto
            .root
            .kek(version, crypto.alg)?
            .seal(&mut crypto.nonces, &aad, ck.expose())
            .map_err(|e| Error::integrity("client", client, e))?;
        tx.execute("UPDATE client SET wrapped_key = ?1 WHERE id = ?2", params![rewrapped, &id])?;
        client_keys.insert(client, ck);
    }
    if layout < 2 {
        let rows: Vec<(i64, Vec<u8>, Vec<u8>)> = tx
            .prepare("SELECT id, client_id, body FROM record WHERE kind = 'identity'")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?;
        for (id, cid, body) in rows {
            let client = ClientId::from_slice(&cid)
                .ok_or_else(|| Error::corrupt("record", id, "a client id is not 16 bytes"))?;
            let ck = client_keys
                .remove(&client)
                .ok_or_else(|| Error::corrupt("record", id, "an identity record of a client that does not exist"))?;
            let mut keys = ClientKeys::new(client, ck, crypto.alg);
            let record = open_record(&crypto.vault_id, &mut keys, id, RecordKind::Identity, body)?;
            let sealed = seal_record(&crypto.vault_id, &mut crypto.nonces, &mut keys, id, &record)?;
            tx.execute("UPDATE record SET body = ?1 WHERE id = ?2", params![sealed, id])?;
        }
    }
    // Format 1 kept the log head sealed on its own (from schema 2 on); it must match the log.
    let head = audit::head(&tx)?;
    let sealed_head: Option<Vec<u8>> =
        tx.query_row("SELECT value FROM meta WHERE name = 'log_head'", [], |r| r.get(0)).optional()?;
    if let Some(sealed) = sealed_head {
        let plain = crypto
            .meta_key
            .open(&aad::meta(&crypto.vault_id, "log_head"), &sealed)
            .map_err(|e| Error::integrity("meta", "log_head", e))?;
        let seq = plain.get(..8).and_then(|b| b.try_into().ok()).map(u64::from_be_bytes);
        let hash: Option<[u8; 32]> = plain.get(8..40).and_then(|b| b.try_into().ok());
        let recorded = match (seq, hash) {
            (Some(0), _) => None,
            (Some(seq), Some(hash)) => Some(LogHead { seq, hash }),
            _ => return Err(Error::corrupt("meta", "log_head", "the sealed log head has the wrong length")),
        };
        if recorded != head {
            return Err(Error::corrupt("meta", "log_head", "the log does not end at the sealed head"));
        }
        tx.execute("DELETE FROM meta WHERE name = 'log_head'", [])?;
    }
    let canary = crypto
        .root
        .canary_key(crypto.alg)?
        .seal(&mut crypto.nonces, &aad::canary(&crypto.vault_id), CANARY_V2)
        .map_err(|e| Error::integrity("meta", "canary", e))?;
    tx.execute("INSERT OR REPLACE INTO meta (name, value) VALUES ('canary', ?1)", [canary])?;
    tx.execute("INSERT OR REPLACE INTO meta (name, value) VALUES ('layout', ?1)", [vec![LAYOUT]])?;
    let next: i64 = tx.query_row("SELECT coalesce(max(id), 0) + 1 FROM record", [], |r| r.get(0))?;
    tx.execute(
        "INSERT OR REPLACE INTO meta (name, value) VALUES (?1, ?2)",
        params![state::NEXT_RECORD, next.to_be_bytes()],
    )?;
    let digest = crypto.state.envelopes_digest(&tx)?;
    tx.execute("INSERT OR REPLACE INTO meta (name, value) VALUES (?1, ?2)", params![state::ENVELOPES, digest])?;
    crypto.state.rebuild(&tx, head)?;
    let flushed = crypto.flush(&tx);
    crypto.state.end();
    flushed?;
    tx.commit()?;
    Ok(())
}
