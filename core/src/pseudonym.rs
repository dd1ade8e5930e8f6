//! Pseudonyms and duplicate candidates.
//!
//! A pseudonym is `keyed_hash(P_domain_epoch, canonical A-number)`: BLAKE3 in keyed mode under
//! a key derived from the consortium's pseudonym key P, the domain (`board`, `linkage`) and the
//! epoch (a program phase). Two domains or two epochs give unlinkable pseudonyms. The input is
//! only ever the canonical A-number: an unkeyed hash would fall to enumeration (about 10^9
//! values), and names are never hashed at all (`docs/program.md#names`,
//! `docs/program.md#pseudonyms`).
//!
//! P is a secret of the providers: anyone holding it can test a guessed A-number. It is kept
//! sealed in the vault, imported from the consortium's age file or generated, and never leaves
//! in a report.
//!
//! Matching ([`NameTokens`], [`birth_dates_agree`]) serves duplicate review inside a provider: it
//! proposes candidates and never merges; a reviewer's decision is recorded by the vault.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::error::{Error, Result};
use crate::identifier::{AlienNumber, BirthDate, DatePrecision, DateProvenance};
use crate::keys::Secret32;

const PSEUDONYM_CONTEXT: &str = "caseward v1 pseudonym domain key";

/// What a pseudonym is for. Each domain has its own key, so its pseudonyms join only with
/// pseudonyms of the same domain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Domain {
    /// Unduplicated counts across providers (the board's honest broker).
    Board,
    /// Linkage with administrative outcomes for the evaluation.
    Linkage,
    /// The randomized evaluation: lottery pools and evaluator extracts.
    Evaluation,
}

impl Domain {
    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Board => "board",
            Self::Linkage => "linkage",
            Self::Evaluation => "evaluation",
        }
    }
}

impl FromStr for Domain {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "board" => Ok(Self::Board),
            "linkage" => Ok(Self::Linkage),
            "evaluation" => Ok(Self::Evaluation),
            _ => Err(Error::input(format!(
                "unknown pseudonym domain {}: use board, linkage or evaluation",
                crate::error::echo(s)
            ))),
        }
    }
}

/// A program phase; pseudonyms of different epochs cannot be joined.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Epoch(String);

impl Epoch {
    /// 1 to 32 characters of `a-z`, `0-9` and `-` (for example `2026` or `phase-1`).
    pub fn new(text: &str) -> Result<Self> {
        let ok = (1..=32).contains(&text.len())
            && text.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(Self(text.to_owned()))
        } else {
            Err(Error::input("an epoch is 1 to 32 characters of a-z, 0-9 and '-'"))
        }
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The consortium's pseudonym key P. Cannot be printed; zeroized on drop.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct PseudonymKey(Secret32);

impl fmt::Debug for PseudonymKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PseudonymKey([redacted])")
    }
}

impl PseudonymKey {
    /// A fresh random key (for a consortium's first provider, or a test).
    pub fn generate() -> Result<Self> {
        Ok(Self(Secret32::random()?))
    }

    /// The key from the consortium's distribution file once decrypted: 64 hexadecimal digits,
    /// surrounding whitespace allowed.
    pub fn from_hex(text: &str) -> Result<Self> {
        let text = text.trim();
        let bad = || Error::input("a pseudonym key file holds 64 hexadecimal digits");
        if text.len() != 64 {
            return Err(bad());
        }
        let mut bytes = zeroize::Zeroizing::new([0u8; 32]);
        for (i, slot) in bytes.iter_mut().enumerate() {
            let pair = text.get(2 * i..2 * i + 2).ok_or_else(bad)?;
            *slot = u8::from_str_radix(pair, 16).map_err(|_| bad())?;
        }
        Secret32::from_slice(bytes.as_slice()).map(Self).ok_or_else(bad)
    }

    /// The key as 64 hexadecimal digits, for the consortium's age-encrypted distribution file.
    pub fn to_hex(&self) -> zeroize::Zeroizing<String> {
        let mut out = zeroize::Zeroizing::new(String::with_capacity(64));
        for b in self.0.expose() {
            out.push_str(&format!("{b:02x}"));
        }
        out
    }

    pub(crate) fn from_secret(secret: Secret32) -> Self {
        Self(secret)
    }

    pub(crate) fn expose(&self) -> &[u8; 32] {
        self.0.expose()
    }

    /// The pseudonymizer for one domain and epoch.
    pub fn pseudonymizer(&self, domain: Domain, epoch: &Epoch) -> Pseudonymizer {
        let mut material = zeroize::Zeroizing::new(Vec::with_capacity(32 + 16 + epoch.0.len()));
        material.extend_from_slice(self.0.expose());
        material.extend_from_slice(domain.as_str().as_bytes());
        material.push(0);
        material.extend_from_slice(epoch.0.as_bytes());
        Pseudonymizer {
            key: Secret32::from_array(blake3::derive_key(PSEUDONYM_CONTEXT, &material)),
            domain,
            epoch: epoch.clone(),
        }
    }
}

/// Computes pseudonyms for one domain and epoch. Holds only the derived key, never P.
pub struct Pseudonymizer {
    key: Secret32,
    domain: Domain,
    epoch: Epoch,
}

impl fmt::Debug for Pseudonymizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pseudonymizer")
            .field("domain", &self.domain)
            .field("epoch", &self.epoch)
            .finish_non_exhaustive()
    }
}

impl Pseudonymizer {
    /// The pseudonym of a canonical A-number (parse it with [`AlienNumber::parse`] first, so
    /// garbage is refused and never silently pseudonymized).
    pub fn pseudonym(&self, a_number: &AlienNumber) -> Pseudonym {
        let hash = blake3::keyed_hash(self.key.expose(), a_number.as_str().as_bytes());
        let mut digest = [0u8; 16];
        digest.copy_from_slice(hash.as_bytes().get(..16).unwrap_or(&[0u8; 16]));
        Pseudonym { domain: self.domain, epoch: self.epoch.clone(), digest }
    }
}

/// A pseudonym: `cwp1:<domain>:<epoch>:<32 hex digits>` (128 bits: collisions among a few
/// million clients are negligible, and the text stays short in a spreadsheet).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Pseudonym {
    domain: Domain,
    epoch: Epoch,
    digest: [u8; 16],
}

impl fmt::Display for Pseudonym {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Built in one buffer: pseudonyms are made by the million in linkage extracts.
        let mut text = String::with_capacity(48 + self.epoch.0.len());
        text.push_str("cwp1:");
        text.push_str(self.domain.as_str());
        text.push(':');
        text.push_str(&self.epoch.0);
        text.push(':');
        for b in self.digest {
            text.extend([b >> 4, b & 0x0f].map(|n| char::from_digit(u32::from(n), 16).unwrap_or('0')));
        }
        f.write_str(&text)
    }
}

impl fmt::Debug for Pseudonym {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pseudonym({self})")
    }
}

// ---------------------------------------------------------------------------------------------
// Names

/// Particles are kept but optional: "de la Cruz" and "Cruz" may be the same surname.
const PARTICLES: &[&str] =
    &["de", "del", "la", "las", "los", "y", "e", "da", "do", "dos", "das", "van", "von", "bin", "ibn", "al", "el"];

/// DHS placeholders for an unknown name part: missing, never a name token.
const PLACEHOLDERS: &[&str] = &["fnu", "lnu", "unknown", "nfn", "nln"];

/// A name reduced to tokens for matching: NFKD, marks dropped, lower-cased, split on spaces,
/// hyphens and punctuation. Order is ignored, so "María José García López" and
/// "GARCIA LOPEZ, Maria Jose" agree. There is no Soundex: it is English-centric.
///
/// ```
/// use caseward::pseudonym::NameTokens;
/// let a = NameTokens::new("María José García López");
/// let b = NameTokens::new("GARCIA LOPEZ, Maria Jose");
/// assert_eq!(a, b);
/// assert!(a.agrees_with(&NameTokens::new("Maria Garcia")));     // paternal surname only
/// assert!(!a.agrees_with(&NameTokens::new("Mario Gonzalez")));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct NameTokens {
    core: BTreeSet<String>,
    particles: BTreeSet<String>,
}

impl fmt::Debug for NameTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NameTokens([redacted])")
    }
}

impl NameTokens {
    /// Tokenizes one written form of a name.
    pub fn new(text: &str) -> Self {
        let folded: String = text
            .nfkd()
            .filter(|c| !is_combining_mark(*c))
            .flat_map(char::to_lowercase)
            .map(|c| if c.is_alphanumeric() { c } else { ' ' })
            .collect();
        let mut core = BTreeSet::new();
        let mut particles = BTreeSet::new();
        for token in folded.split_whitespace() {
            if PLACEHOLDERS.contains(&token) {
                continue;
            }
            if PARTICLES.contains(&token) {
                particles.insert(token.to_owned());
            } else {
                core.insert(token.to_owned());
            }
        }
        Self { core, particles }
    }

    /// The tokens that carry the name (particles and placeholders left out).
    pub fn tokens(&self) -> impl Iterator<Item = &str> {
        self.core.iter().map(String::as_str)
    }

    /// Whether no usable token is left (a placeholder-only name).
    pub fn is_empty(&self) -> bool {
        self.core.is_empty()
    }

    /// Token-set similarity (Monge-Elkan over Jaro-Winkler), from the shorter name's side so a
    /// name written with the paternal surname only still matches the full one. 0.0 to 1.0.
    pub fn similarity(&self, other: &Self) -> f64 {
        let (short, long) = if self.core.len() <= other.core.len() { (self, other) } else { (other, self) };
        if short.core.is_empty() {
            return 0.0;
        }
        let total: f64 =
            short.core.iter().map(|a| long.core.iter().map(|b| strsim::jaro_winkler(a, b)).fold(0.0, f64::max)).sum();
        total / short.core.len() as f64
    }

    /// Whether two names plausibly belong to one person: a mononym must match a token exactly;
    /// otherwise at least two tokens of the shorter name, and a similarity of 0.92 or more.
    pub fn agrees_with(&self, other: &Self) -> bool {
        let short = self.core.len().min(other.core.len());
        match short {
            0 => false,
            1 => self.core.intersection(&other.core).next().is_some() && self.core.len() == other.core.len(),
            _ => self.similarity(other) >= 0.92,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Birth dates

/// How two birth dates compare at their coarsest common precision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DateAgreement {
    /// Equal at the common precision.
    Compatible,
    /// Day and month swapped (a common data-entry error); a weaker signal.
    Swapped,
    /// Within a year where either date is approximate or self-reported.
    Near,
    /// They cannot be the same person's.
    Conflict,
}

impl DateAgreement {
    /// Whether the dates allow the same person.
    pub fn allows_match(self) -> bool {
        !matches!(self, Self::Conflict)
    }
}

/// Compares two birth dates at their coarsest common precision; a suspect 1 January counts as
/// a year only, and approximate or self-reported years may differ by one.
///
/// ```
/// use caseward::{BirthDate, DatePrecision as P, DateProvenance as S};
/// use caseward::pseudonym::{birth_dates_agree, DateAgreement};
/// let jan1 = BirthDate::new(1990, Some(1), Some(1), P::Day, S::AssignedByAuthority).unwrap();
/// let real = BirthDate::new(1990, Some(7), Some(10), P::Day, S::Document).unwrap();
/// assert_eq!(birth_dates_agree(&jan1, &real), DateAgreement::Compatible);
/// let swapped = BirthDate::new(1990, Some(10), Some(7), P::Day, S::Document).unwrap();
/// assert_eq!(birth_dates_agree(&real, &swapped), DateAgreement::Swapped);
/// ```
pub fn birth_dates_agree(a: &BirthDate, b: &BirthDate) -> DateAgreement {
    let rank = |p: DatePrecision| match p {
        DatePrecision::Day => 0,
        DatePrecision::Month => 1,
        DatePrecision::Year => 2,
        DatePrecision::Approximate => 3,
    };
    let common = rank(a.effective_precision()).max(rank(b.effective_precision()));
    let loose = |d: &BirthDate| {
        matches!(d.provenance, DateProvenance::SelfReport) || d.effective_precision() == DatePrecision::Approximate
    };
    if a.year != b.year {
        let near = a.year.abs_diff(b.year) == 1 && (loose(a) || loose(b));
        return if near { DateAgreement::Near } else { DateAgreement::Conflict };
    }
    if common >= 2 {
        return DateAgreement::Compatible;
    }
    if a.month == b.month && (common == 1 || a.day == b.day) {
        return DateAgreement::Compatible;
    }
    if common == 0 && a.month.map(u16::from) == b.day.map(u16::from) && a.day.map(u16::from) == b.month.map(u16::from) {
        return DateAgreement::Swapped;
    }
    DateAgreement::Conflict
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_and_epochs_do_not_join() -> Result<()> {
        let p = PseudonymKey::generate()?;
        let a = AlienNumber::parse("A201555012")?;
        let e1 = Epoch::new("2026")?;
        let e2 = Epoch::new("2027")?;
        let board = p.pseudonymizer(Domain::Board, &e1).pseudonym(&a);
        assert_ne!(board, p.pseudonymizer(Domain::Linkage, &e1).pseudonym(&a));
        assert_ne!(board, p.pseudonymizer(Domain::Board, &e2).pseudonym(&a));
        assert_eq!(board, p.pseudonymizer(Domain::Board, &e1).pseudonym(&AlienNumber::parse("201-555-012")?));
        assert!(board.to_string().starts_with("cwp1:board:2026:"));
        Ok(())
    }

    #[test]
    fn hex_round_trip_and_redaction() -> Result<()> {
        let p = PseudonymKey::generate()?;
        let q = PseudonymKey::from_hex(&format!(" {}\n", p.to_hex().as_str()))?;
        assert_eq!(p.expose(), q.expose());
        assert_eq!(format!("{p:?}"), "PseudonymKey([redacted])");
        assert!(PseudonymKey::from_hex("zz").is_err());
        Ok(())
    }
}
