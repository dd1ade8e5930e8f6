//! Signed JSON documents (lottery commitments and draws, extract dictionaries): a document, its
//! Ed25519 signature over a context string and the document's canonical JSON, and the signer's
//! public key. The context keeps a signature over one kind of document from passing as another.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::report::bundle::{canonical_json, hex, parse_public_key, unhex, SigningKey};

#[derive(Serialize, Deserialize)]
struct Signed {
    format: String,
    document: serde_json::Value,
    signature: Signature,
}

#[derive(Serialize, Deserialize)]
struct Signature {
    algorithm: String,
    public_key: String,
    value: String,
}

/// The same structure, read strictly: a repeated or unknown field anywhere is refused (the
/// loose reading above, which the canonical form needs, would keep the last of two `slots`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Strict<T> {
    #[allow(dead_code, reason = "checked by the loose reading")]
    format: String,
    document: T,
    #[allow(dead_code, reason = "checked by the loose reading")]
    signature: StrictSignature,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code, reason = "its fields are checked by the loose reading")]
struct StrictSignature {
    algorithm: String,
    public_key: String,
    value: String,
}

/// Why a signed document was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Problem {
    /// Not the structure, format or algorithm expected.
    Malformed(&'static str),
    /// The signature does not verify.
    BadSignature,
}

/// The signed JSON of `document` under `format`, signed over `context` and its canonical JSON.
pub(crate) fn sign<T: Serialize>(context: &[u8], format: &str, document: &T, key: &SigningKey) -> Result<Vec<u8>> {
    let value = serde_json::to_value(document).map_err(|_| Error::internal("a document could not be serialized"))?;
    let mut message = context.to_vec();
    message.extend_from_slice(&canonical_json(&value));
    let signed = Signed {
        format: format.into(),
        document: value,
        signature: Signature {
            algorithm: "ed25519".into(),
            public_key: key.public_key(),
            value: hex(&key.sign(&message)),
        },
    };
    let mut out =
        serde_json::to_vec_pretty(&signed).map_err(|_| Error::internal("a document could not be serialized"))?;
    out.push(b'\n');
    Ok(out)
}

/// The document inside signed JSON of `format`, and its signer (`ed25519:<hex>`).
pub(crate) fn open<T: for<'de> Deserialize<'de>>(
    context: &[u8],
    format: &str,
    bytes: &[u8],
) -> std::result::Result<(T, String), Problem> {
    let strict: Strict<T> = serde_json::from_slice(bytes)
        .map_err(|_| Problem::Malformed("not the signed JSON structure, or a field repeated or unknown"))?;
    let signed: Signed =
        serde_json::from_slice(bytes).map_err(|_| Problem::Malformed("not the signed JSON structure"))?;
    if signed.format != format || signed.signature.algorithm != "ed25519" {
        return Err(Problem::Malformed("unknown format or signature algorithm"));
    }
    let key = parse_public_key(&signed.signature.public_key).map_err(|_| Problem::Malformed("bad public key"))?;
    let sig = unhex(&signed.signature.value).ok_or(Problem::Malformed("bad signature encoding"))?;
    let mut message = context.to_vec();
    message.extend_from_slice(&canonical_json(&signed.document));
    ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, &key)
        .verify(&message, &sig)
        .map_err(|_| Problem::BadSignature)?;
    Ok((strict.document, format!("ed25519:{}", hex(&key))))
}
