//! Sealed values: the versioned, key-committing AEAD format every stored secret uses.
//!
//! ```text
//! "CW" | format u8 = 1 | algorithm u8 | key version u32 BE | commitment [32] | nonce [12] | ciphertext | tag [16]
//! ```
//!
//! * **Algorithm**: AES-256-GCM (1, the default: AES-NI makes it 2-3x faster than the
//!   alternative on the machines we measured) or ChaCha20-Poly1305 (2, for CPUs without AES
//!   instructions). Both from `ring`.
//! * **Nonces** are 96 random bits from `ring::rand::SystemRandom`, fetched in blocks. Every key
//!   seals few values (one key per client per category), far below the 2^32 random-nonce bound.
//! * **AAD** binds the value to where it lives: the vault id, table, row id, client id, category
//!   and schema version, plus the header itself. A value copied to another row, client, category
//!   or vault fails to open with [`SealError::Tag`].
//! * **Commitment**: AES-GCM and ChaCha20-Poly1305 are not key-committing (one ciphertext can be
//!   made to open under two chosen keys). Each key is derived as 64 bytes of BLAKE3 output
//!   (`derive_key` in XOF mode): the first 32 are the AEAD key, the last 32 the commitment. Two
//!   keys with one commitment would be a BLAKE3 collision, and the commitment reveals nothing of
//!   the AEAD key. It is checked, in constant time, before the AEAD is run, so a value made under
//!   any other key is refused ([`SealError::Commitment`]). This is the AWS Encryption SDK's
//!   remedy (a commitment derived with the data key) in BLAKE3 form. Because
//!   the commitment depends on the key alone, it doubles as the key's identifier: a reader finds
//!   the sections of a record it can open by commitment, and cannot even tell which category
//!   the other sections belong to.

use std::fmt;

use ring::aead;
use ring::rand::{SecureRandom, SystemRandom};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// The two magic bytes that start every sealed value.
pub const MAGIC: [u8; 2] = *b"CW";
/// The sealed-value format version this crate writes.
pub const FORMAT_VERSION: u8 = 1;
const COMMITMENT_LEN: usize = 32;
const NONCE_LEN: usize = aead::NONCE_LEN;
const TAG_LEN: usize = 16;
const HEADER_LEN: usize = 2 + 1 + 1 + 4 + COMMITMENT_LEN + NONCE_LEN;
/// Bytes a sealed value adds to its plaintext.
pub const OVERHEAD: usize = HEADER_LEN + TAG_LEN;

const CTX_SEALING_KEYS: &str = "caseward v1 sealing keys from secret";
const AAD_LABEL: &[u8] = b"caseward v1 aad";

/// The AEAD algorithm of a sealed value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Algorithm {
    /// AES-256-GCM (the default).
    #[default]
    Aes256Gcm,
    /// ChaCha20-Poly1305.
    ChaCha20Poly1305,
}

impl Algorithm {
    fn id(self) -> u8 {
        match self {
            Self::Aes256Gcm => 1,
            Self::ChaCha20Poly1305 => 2,
        }
    }

    fn from_id(id: u8) -> Option<Self> {
        match id {
            1 => Some(Self::Aes256Gcm),
            2 => Some(Self::ChaCha20Poly1305),
            _ => None,
        }
    }

    fn ring(self) -> &'static aead::Algorithm {
        match self {
            Self::Aes256Gcm => &aead::AES_256_GCM,
            Self::ChaCha20Poly1305 => &aead::CHACHA20_POLY1305,
        }
    }

    /// The stable name used in vault metadata.
    pub fn name(self) -> &'static str {
        match self {
            Self::Aes256Gcm => "aes-256-gcm",
            Self::ChaCha20Poly1305 => "chacha20-poly1305",
        }
    }

    /// Parses a name written by [`Algorithm::name`].
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "aes-256-gcm" => Some(Self::Aes256Gcm),
            "chacha20-poly1305" => Some(Self::ChaCha20Poly1305),
            _ => None,
        }
    }
}

/// Why a sealed value did not open. None of these carry any part of the value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// Too short to be a sealed value, or the magic bytes are wrong.
    #[error("not a sealed value (bad length or magic)")]
    Malformed,
    /// A format version this crate does not read.
    #[error("unsupported sealed-value format version {0}")]
    UnsupportedVersion(u8),
    /// An algorithm id this crate does not know.
    #[error("unknown algorithm id {0}")]
    UnknownAlgorithm(u8),
    /// The value was sealed with another algorithm than the key's.
    #[error("sealed with another algorithm than the key's")]
    AlgorithmMismatch,
    /// The value names another key version than the key offered.
    #[error("sealed under key version {found}, not {expected}")]
    KeyVersion {
        /// The version in the header.
        found: u32,
        /// The version of the key offered.
        expected: u32,
    },
    /// The key commitment does not match: the value was made under another key, or the
    /// commitment bytes were altered.
    #[error("key commitment mismatch (another key, or altered)")]
    Commitment,
    /// Authentication failed: the value was altered, or moved from another row, client,
    /// category or vault.
    #[error("authentication failed (altered, or moved from another row)")]
    Tag,
    /// The AEAD implementation refused the key (cannot happen with 32-byte keys).
    #[error("the AEAD implementation refused the key")]
    KeyRejected,
    /// The operating system's random source failed.
    #[error("the system random source failed")]
    Random,
}

/// A source of random nonces that asks `SystemRandom` for many at a time.
///
/// A fresh `getrandom` call per value costs more than sealing a small value; nonces are not
/// secret, so fetching 4 KiB at once is safe and removes that cost.
pub struct NonceSource {
    rng: SystemRandom,
    buf: Box<[u8; 4096]>,
    pos: usize,
}

impl fmt::Debug for NonceSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NonceSource")
    }
}

impl Default for NonceSource {
    fn default() -> Self {
        Self::new()
    }
}

impl NonceSource {
    /// A new, empty source.
    pub fn new() -> Self {
        Self { rng: SystemRandom::new(), buf: Box::new([0u8; 4096]), pos: 4096 }
    }

    fn next(&mut self) -> Result<[u8; NONCE_LEN], SealError> {
        if self.pos + NONCE_LEN > self.buf.len() {
            self.rng.fill(&mut self.buf[..]).map_err(|_| SealError::Random)?;
            self.pos = 0;
        }
        let mut n = [0u8; NONCE_LEN];
        let end = self.pos + NONCE_LEN;
        n.copy_from_slice(self.buf.get(self.pos..end).ok_or(SealError::Random)?);
        self.pos = end;
        Ok(n)
    }
}

/// Where a sealed value lives; bound into its AAD.
#[derive(Clone, Copy, Debug)]
pub struct Aad<'a> {
    /// The vault's random 16-byte id.
    pub vault: &'a [u8; 16],
    /// The table name.
    pub table: &'a str,
    /// The row id bytes.
    pub row: &'a [u8],
    /// The client id (all zeros for vault-level values).
    pub client: &'a [u8; 16],
    /// The category label, or a fixed purpose name for key material.
    pub category: &'a str,
    /// The schema version the value was written under.
    pub schema: u32,
}

impl Aad<'_> {
    fn encode(&self, header: &[u8], out: &mut Vec<u8>) {
        out.clear();
        out.extend_from_slice(AAD_LABEL);
        out.extend_from_slice(header);
        out.extend_from_slice(self.vault);
        for part in [self.table.as_bytes(), self.row, self.category.as_bytes()] {
            // Length-prefixed, so no two different tuples encode alike.
            out.extend_from_slice(&(part.len() as u32).to_be_bytes());
            out.extend_from_slice(part);
        }
        out.extend_from_slice(self.client);
        out.extend_from_slice(&self.schema.to_be_bytes());
    }
}

/// An AEAD key with its commitment, ready to seal and open.
///
/// Built from 32 bytes of secret key material: an AEAD key and a commitment key are derived from
/// it with `blake3::derive_key`, so the material itself is never used by two primitives.
pub struct SealingKey {
    // The AES key schedule is built on first use: a reader matching sections by commitment
    // derives many keys it never uses.
    key: Zeroizing<[u8; 32]>,
    aead: std::sync::OnceLock<aead::LessSafeKey>,
    commitment: [u8; COMMITMENT_LEN],
    algorithm: Algorithm,
    key_version: u32,
}

impl fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealingKey")
            .field("algorithm", &self.algorithm)
            .field("key_version", &self.key_version)
            .finish_non_exhaustive()
    }
}

impl SealingKey {
    /// Derives a sealing key from 32 bytes of secret material.
    pub fn derive(secret: &[u8; 32], algorithm: Algorithm, key_version: u32) -> Result<Self, SealError> {
        let mut okm = Zeroizing::new([0u8; 64]);
        blake3::Hasher::new_derive_key(CTX_SEALING_KEYS).update(secret).finalize_xof().fill(&mut okm[..]);
        Self::from_okm(&okm, algorithm, key_version)
    }

    /// Builds a key from 64 bytes already derived for this purpose: the first half is the AEAD
    /// key, the second the commitment.
    pub(crate) fn from_okm(okm: &[u8; 64], algorithm: Algorithm, key_version: u32) -> Result<Self, SealError> {
        let mut key = Zeroizing::new([0u8; 32]);
        let mut commitment = [0u8; COMMITMENT_LEN];
        let (k, c) = okm.split_at(32);
        key.copy_from_slice(k);
        commitment.copy_from_slice(c);
        Ok(Self { key, aead: std::sync::OnceLock::new(), commitment, algorithm, key_version })
    }

    fn aead(&self) -> Result<&aead::LessSafeKey, SealError> {
        if let Some(k) = self.aead.get() {
            return Ok(k);
        }
        // Both algorithms take 32-byte keys, so ring never rejects this one.
        let unbound =
            aead::UnboundKey::new(self.algorithm.ring(), &self.key[..]).map_err(|_| SealError::KeyRejected)?;
        Ok(self.aead.get_or_init(|| aead::LessSafeKey::new(unbound)))
    }

    /// The key's commitment: public, stable, and unique to this key.
    pub fn commitment(&self) -> &[u8; COMMITMENT_LEN] {
        &self.commitment
    }

    /// The key version written into sealed headers.
    pub fn key_version(&self) -> u32 {
        self.key_version
    }

    /// Seals `plaintext` for the place `aad` describes.
    pub fn seal(&self, nonces: &mut NonceSource, aad: &Aad<'_>, plaintext: &[u8]) -> Result<Vec<u8>, SealError> {
        let mut out = Vec::with_capacity(plaintext.len() + OVERHEAD);
        self.seal_append(nonces, aad, plaintext, &mut Vec::with_capacity(128), &mut out)?;
        Ok(out)
    }

    /// As [`SealingKey::seal`], appending the sealed value to `out` and reusing a scratch
    /// buffer for the AAD: sealing a record's sections straight into its body copies nothing.
    pub(crate) fn seal_append(
        &self,
        nonces: &mut NonceSource,
        aad: &Aad<'_>,
        plaintext: &[u8],
        aad_buf: &mut Vec<u8>,
        out: &mut Vec<u8>,
    ) -> Result<(), SealError> {
        let nonce = nonces.next()?;
        let start = out.len();
        out.reserve(plaintext.len() + OVERHEAD);
        out.extend_from_slice(&MAGIC);
        out.push(FORMAT_VERSION);
        out.push(self.algorithm.id());
        out.extend_from_slice(&self.key_version.to_be_bytes());
        out.extend_from_slice(&self.commitment);
        out.extend_from_slice(&nonce);
        aad.encode(out.get(start..).ok_or(SealError::Malformed)?, aad_buf);
        out.extend_from_slice(plaintext);
        let body = out.get_mut(start + HEADER_LEN..).ok_or(SealError::Malformed)?;
        let tag = self
            .aead()?
            .seal_in_place_separate_tag(
                aead::Nonce::assume_unique_for_key(nonce),
                aead::Aad::from(aad_buf.as_slice()),
                body,
            )
            .map_err(|_| SealError::Random)?;
        out.extend_from_slice(tag.as_ref());
        Ok(())
    }

    /// Opens a sealed value. The commitment is checked before any decryption.
    pub fn open(&self, aad: &Aad<'_>, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, SealError> {
        let mut buf = Zeroizing::new(sealed.to_vec());
        let len = self.open_in_place(aad, &mut buf[..], &mut Vec::with_capacity(128))?.len();
        buf.copy_within(HEADER_LEN..HEADER_LEN + len, 0);
        buf.truncate(len);
        Ok(buf)
    }

    /// Opens a sealed value where it lies, returning the plaintext as a part of `sealed`. The
    /// caller owns the buffer and must zeroize it: it now holds plaintext.
    pub(crate) fn open_in_place<'b>(
        &self,
        aad: &Aad<'_>,
        sealed: &'b mut [u8],
        aad_buf: &mut Vec<u8>,
    ) -> Result<&'b [u8], SealError> {
        let header = Header::parse(sealed)?;
        if header.algorithm != self.algorithm {
            return Err(SealError::AlgorithmMismatch);
        }
        if header.key_version != self.key_version {
            return Err(SealError::KeyVersion { found: header.key_version, expected: self.key_version });
        }
        if !bool::from(header.commitment.ct_eq(&self.commitment)) {
            return Err(SealError::Commitment);
        }
        let (head, body) = sealed.split_at_mut(HEADER_LEN);
        aad.encode(head, aad_buf);
        let plaintext = self
            .aead()?
            .open_in_place(aead::Nonce::assume_unique_for_key(header.nonce), aead::Aad::from(aad_buf.as_slice()), body)
            .map_err(|_| SealError::Tag)?;
        Ok(plaintext)
    }
}

/// The parsed fixed-size header of a sealed value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// The algorithm.
    pub algorithm: Algorithm,
    /// The key version.
    pub key_version: u32,
    /// The key commitment.
    pub commitment: [u8; COMMITMENT_LEN],
    /// The nonce.
    pub nonce: [u8; NONCE_LEN],
}

impl Header {
    /// Parses and checks the header of a sealed value without opening it.
    pub fn parse(sealed: &[u8]) -> Result<Self, SealError> {
        if sealed.len() < OVERHEAD || sealed.get(..2) != Some(&MAGIC[..]) {
            return Err(SealError::Malformed);
        }
        let byte = |i: usize| sealed.get(i).copied().ok_or(SealError::Malformed);
        let version = byte(2)?;
        if version != FORMAT_VERSION {
            return Err(SealError::UnsupportedVersion(version));
        }
        let alg_id = byte(3)?;
        let algorithm = Algorithm::from_id(alg_id).ok_or(SealError::UnknownAlgorithm(alg_id))?;
        let field = |from: usize, to: usize| sealed.get(from..to).ok_or(SealError::Malformed);
        let mut kv = [0u8; 4];
        kv.copy_from_slice(field(4, 8)?);
        let mut commitment = [0u8; COMMITMENT_LEN];
        commitment.copy_from_slice(field(8, 8 + COMMITMENT_LEN)?);
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(field(8 + COMMITMENT_LEN, HEADER_LEN)?);
        Ok(Self { algorithm, key_version: u32::from_be_bytes(kv), commitment, nonce })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V: [u8; 16] = [7u8; 16];
    const C: [u8; 16] = [9u8; 16];

    fn aad<'a>(row: &'a [u8], category: &'a str) -> Aad<'a> {
        Aad { vault: &V, table: "record", row, client: &C, category, schema: 1 }
    }

    #[test]
    fn round_trip_both_algorithms() {
        for alg in [Algorithm::Aes256Gcm, Algorithm::ChaCha20Poly1305] {
            let k = SealingKey::derive(&[1u8; 32], alg, 3).unwrap();
            let mut n = NonceSource::new();
            let s = k.seal(&mut n, &aad(b"r1", "contact.phone"), b"hello").unwrap();
            assert_eq!(s.len(), 5 + OVERHEAD);
            assert_eq!(&k.open(&aad(b"r1", "contact.phone"), &s).unwrap()[..], b"hello");
        }
    }

    #[test]
    fn moved_value_fails() {
        let k = SealingKey::derive(&[1u8; 32], Algorithm::Aes256Gcm, 0).unwrap();
        let s = k.seal(&mut NonceSource::new(), &aad(b"r1", "contact.phone"), b"x").unwrap();
        assert_eq!(k.open(&aad(b"r2", "contact.phone"), &s), Err(SealError::Tag));
        assert_eq!(k.open(&aad(b"r1", "contact.email"), &s), Err(SealError::Tag));
    }

    #[test]
    fn other_key_fails_commitment() {
        let k1 = SealingKey::derive(&[1u8; 32], Algorithm::Aes256Gcm, 0).unwrap();
        let k2 = SealingKey::derive(&[2u8; 32], Algorithm::Aes256Gcm, 0).unwrap();
        let s = k1.seal(&mut NonceSource::new(), &aad(b"r", "c"), b"x").unwrap();
        assert_eq!(k2.open(&aad(b"r", "c"), &s), Err(SealError::Commitment));
    }

    #[test]
    fn debug_shows_no_key() {
        let k = SealingKey::derive(&[1u8; 32], Algorithm::Aes256Gcm, 0).unwrap();
        let d = format!("{k:?}");
        assert!(!d.contains("aead"), "{d}");
        assert!(d.contains("Aes256Gcm"));
    }
}
