//! Every vault-level AAD in one place: where each sealed value of the vault (not of a record)
//! is bound to live. A value copied to another place fails to open.

use crate::category::Category;
use crate::record::ClientId;
use crate::seal::Aad;

/// The client field of values that belong to no client.
pub(crate) const NO_CLIENT: [u8; 16] = [0u8; 16];
/// The layout of vault-level sealed values (canary, wrapped client keys, metadata, log details),
/// bound into their AAD. It is not the SQLite schema version: adding a table must not make every
/// existing value fail to open.
const VALUE_LAYOUT: u32 = 1;

/// The `meta` values sealed under the vault's metadata key (with [`meta`] as their AAD). The
/// others (vault id, algorithm, key version, canary, layout, provider id, budget) are stored
/// plain and authenticated by the state. A root-key rotation re-seals exactly these.
pub(crate) const SEALED_META: [&str; 7] =
    ["policy", "signing_key", "pseudonym_key", RETIRED_ROOTS, RELEASE_LEDGER, LOTTERIES, EXTRACT_LEDGER];

/// Every evaluator extract the vault has released (`vault::extracts`): its signed dictionary.
pub(crate) const EXTRACT_LEDGER: &str = "extract_ledger";

/// Every lottery the vault has committed and drawn (`vault::lottery`).
pub(crate) const LOTTERIES: &str = "lotteries";

/// Every board report the vault has signed (`vault::reports`), resealed by a root rotation like
/// the rest.
pub(crate) const RELEASE_LEDGER: &str = "release_ledger";

/// The root keys a rotation retired, sealed under the current metadata key: they open log details
/// and confirm log digests written before the rotation. Holding them gives nothing the current
/// root does not (the current root opens this value).
pub(crate) const RETIRED_ROOTS: &str = "retired_roots";

/// A sealed `meta` value, by its name.
pub(crate) fn meta<'a>(vault_id: &'a [u8; 16], name: &'a str) -> Aad<'a> {
    Aad {
        vault: vault_id,
        table: "meta",
        row: name.as_bytes(),
        client: &NO_CLIENT,
        category: name,
        schema: VALUE_LAYOUT,
    }
}

/// The sealed detail of a log entry, by its sequence number and client.
pub(crate) fn log_detail<'a>(vault_id: &'a [u8; 16], client: &'a [u8; 16], seq: &'a [u8; 8]) -> Aad<'a> {
    Aad {
        vault: vault_id,
        table: "disclosure_log",
        row: seq,
        client,
        category: Category::SystemAudit.as_str(),
        schema: VALUE_LAYOUT,
    }
}

/// The canary that proves an unlock.
pub(crate) fn canary(vault_id: &[u8; 16]) -> Aad<'_> {
    Aad { vault: vault_id, table: "meta", row: b"canary", client: &NO_CLIENT, category: "canary", schema: VALUE_LAYOUT }
}

/// A client key wrapped under the key-encryption key.
pub(crate) fn client_key<'a>(vault_id: &'a [u8; 16], client: &'a ClientId) -> Aad<'a> {
    Aad {
        vault: vault_id,
        table: "client",
        row: client.as_bytes(),
        client: client.as_bytes(),
        category: "client_key",
        schema: VALUE_LAYOUT,
    }
}
