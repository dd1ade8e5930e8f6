//! The enrollment lottery: a pool committed before its seed exists, a draw anyone can re-run,
//! and no second draw.
//!
//! An evaluation is only as good as its randomization, so advocates and the board must be able
//! to check that nobody hand-picked who got in. The vault ([`crate::Vault::lottery_commit`])
//! replaces each member by a **token** and publishes two files:
//!
//! * the **pool file**: the pool's tokens, sorted, one per line, each ending in `\n`. A token is
//!   `cwl1:` and 32 hex digits of keyed BLAKE3 over the A-number, under a random key made for
//!   this lottery and dropped at once: nobody, the provider and the consortium included, can
//!   test a guessed A-number against a published pool, and two pools share no token;
//! * the **commitment**: a signed JSON document naming the lottery, the slots, the seed's source
//!   and the SHA-256 of the pool file, logged before the seed is known.
//!
//! The draw ([`crate::Vault::lottery_draw`]) takes the value the seed source names and selects
//! deterministically:
//!
//! ```text
//! key      = SHA-256("caseward-lottery/1 draw" 0x00 lottery 0x00 pool_sha256 0x00 slots 0x00 SEED)
//! score(t) = HMAC-SHA256(key, t)                      for each token t of the pool file
//! selected = the `slots` tokens with the smallest scores (bytewise), ties by token
//! ```
//!
//! (`SEED` is the seed with ASCII letters in upper case, so that a hex beacon value typed in
//! either case gives one draw and its spellings cannot be tried one by one; `pool_sha256` as 64
//! lowercase hex digits and `slots` in decimal.) Every subset of `slots` members is equally
//! likely as long as HMAC-SHA256 behaves as a random function and the seed was unknown when the
//! pool was fixed. [`verify`] re-runs it from the three public files; `docs/lottery.md` states
//! the algorithm so that a verifier can be written without this code (the tests hold one in
//! Python).

use std::fmt;

use ring::{digest, hmac};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::report::bundle::{hex, parse_public_key, SigningKey};

/// The format tag of both lottery documents.
pub const LOTTERY_FORMAT: &str = "caseward-lottery/1";

/// The format tag of a signed lottery document.
pub const SIGNED_FORMAT: &str = "caseward-lottery-signed/1";

/// Domain separation: a lottery signature is never a signature over a report, or the reverse.
const SIGNING_CONTEXT: &[u8] = b"caseward-lottery/1\0";

/// The prefix of the draw key's input.
const DRAW_CONTEXT: &[u8] = b"caseward-lottery/1 draw";

/// The longest seed accepted, in bytes (a beacon value is 128 hex digits).
pub const MAX_SEED: usize = 512;

/// Why a lottery step or a verification was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LotteryProblem {
    /// A commitment with nobody in its pool.
    #[error("the pool is empty: a lottery needs at least two people")]
    EmptyPool,
    /// One person twice in a pool: by client id, or two clients with one A-number.
    #[error("client {first} and client {second} are the same person (one A-number): a person enters a pool once")]
    DuplicatePerson {
        /// A client id (random, internal).
        first: String,
        /// The other (the same id when one client was listed twice).
        second: String,
    },
    /// The number of slots leaves nothing to draw.
    #[error("{slots} slots for a pool of {pool}: the slots must be at least 1 and fewer than the pool")]
    Slots {
        /// Slots asked for.
        slots: u32,
        /// Pool size.
        pool: usize,
    },
    /// A lottery id that is not `a-z`, `0-9` and `-`, 1 to 64 characters.
    #[error("a lottery id is 1 to 64 characters of a-z, 0-9 and '-'")]
    BadId,
    /// A lottery of that id was committed already.
    #[error("lottery {0} was committed already: a new pool needs a new id")]
    Exists(String),
    /// A draw, or a seed, for a lottery never committed.
    #[error("lottery {0} has no commitment: commit the pool first, then fix the seed")]
    NotCommitted(String),
    /// A second draw of one pool.
    #[error("lottery {0} was drawn already: a pool is drawn once, and late additions go into a new pool")]
    AlreadyDrawn(String),
    /// A pool member already randomized, by this vault's lotteries or on its enrollment.
    #[error("client {client} was randomized already ({selection}): a person is drawn once")]
    AlreadyRandomized {
        /// The client id.
        client: String,
        /// The earlier selection's id.
        selection: String,
    },
    /// A write that would change an arm a lottery decided, or give a lottery's id to an arm it
    /// did not draw.
    #[error("lottery {0} decides this arm: only its draw records it, and nothing changes it afterwards")]
    ArmOfADraw(String),
    /// A seed source that is empty, too long, or not printable ASCII.
    #[error("name the seed's source before the draw: 1 to 200 printable ASCII characters, such as the beacon and the pulse it will publish after the commitment")]
    BadSeedSource,
    /// A seed that is empty, too long, or not printable ASCII.
    #[error("a seed is 1 to {MAX_SEED} printable ASCII characters (a beacon value as printed)")]
    BadSeed,
    /// The pool file does not hash to the commitment's digest: changed after the commitment.
    #[error("the pool file does not match the commitment (SHA-256 {found}, committed {committed})")]
    PoolChanged {
        /// The digest of the file given.
        found: String,
        /// The digest the commitment signs.
        committed: String,
    },
    /// The pool file is not sorted, unique tokens, one per line.
    #[error("the pool file is malformed: {0}")]
    PoolMalformed(String),
    /// The draw's selection is not what its seed selects.
    #[error("the draw's selection is not what the seed selects: {missing} expected member(s) missing, {extra} listed that the seed does not select")]
    SelectionDiffers {
        /// Members the seed selects that the draw does not list.
        missing: usize,
        /// Members the draw lists that the seed does not select.
        extra: usize,
    },
    /// The commitment and the draw name different lotteries, pools, slots or signers.
    #[error("the draw does not belong to this commitment: {0}")]
    Mismatch(&'static str),
    /// A document that does not parse as a signed lottery document.
    #[error("not a signed caseward lottery document: {0}")]
    Malformed(&'static str),
    /// A signature that does not verify.
    #[error("the signature does not verify: the document was altered or signed by another key")]
    BadSignature,
    /// Signed by a key other than the one the verifier expected.
    #[error("signed by {found}, not by the expected key")]
    WrongSigner {
        /// The key that signed.
        found: String,
    },
}

impl LotteryProblem {
    /// Whether the problem is a document that fails its checks (rather than a refused request).
    pub fn is_integrity(&self) -> bool {
        matches!(
            self,
            Self::PoolChanged { .. }
                | Self::PoolMalformed(_)
                | Self::SelectionDiffers { .. }
                | Self::Mismatch(_)
                | Self::Malformed(_)
                | Self::BadSignature
                | Self::WrongSigner { .. }
        )
    }
}

fn problem(p: LotteryProblem) -> Error {
    Error::Lottery(p)
}

/// Checks a lottery id: `a-z`, `0-9` and `-`, 1 to 64 characters.
pub fn check_id(id: &str) -> Result<()> {
    let ok =
        (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(problem(LotteryProblem::BadId))
    }
}

/// Whether `line` is a token: `cwl1:` and 32 lowercase hex digits.
fn is_token(line: &str) -> bool {
    line.strip_prefix("cwl1:")
        .is_some_and(|h| h.len() == 32 && h.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
}

/// The token of a canonical A-number under a lottery's one-time key.
pub(crate) fn token(key: &[u8; 32], a_number: &str) -> String {
    let hash = blake3::keyed_hash(key, a_number.as_bytes());
    format!("cwl1:{}", hex(hash.as_bytes().get(..16).unwrap_or_default()))
}

/// Checks a seed source: 1 to 200 printable ASCII characters or spaces, not only spaces.
pub fn check_seed_source(source: &str) -> Result<()> {
    let ok = (1..=200).contains(&source.len())
        && source.bytes().all(|b| (0x20..=0x7e).contains(&b))
        && !source.trim().is_empty();
    if ok {
        Ok(())
    } else {
        Err(problem(LotteryProblem::BadSeedSource))
    }
}

/// Checks a seed: 1 to [`MAX_SEED`] printable ASCII characters, as typed.
pub fn check_seed(seed: &str) -> Result<()> {
    let ok = (1..=MAX_SEED).contains(&seed.len()) && seed.bytes().all(|b| (0x21..=0x7e).contains(&b));
    if ok {
        Ok(())
    } else {
        Err(problem(LotteryProblem::BadSeed))
    }
}

/// What a provider commits to before the draw.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Commitment {
    /// Always [`LOTTERY_FORMAT`].
    pub format: String,
    /// Always `commitment`.
    pub stage: String,
    /// The provider's id, as in the board's registry.
    pub provider: String,
    /// The lottery's id.
    pub lottery: String,
    /// How many of the pool the draw selects.
    pub slots: u32,
    /// Where the seed will come from, named before it exists: a beacon and the pulse it will
    /// publish after this commitment ("NIST beacon v2, chain 2, first pulse after
    /// 2026-12-08T12:00Z"). Naming it here stops an operator from picking among later pulses.
    pub seed_source: String,
    /// How many people the pool holds.
    pub pool_size: u64,
    /// The SHA-256 of the pool file, 64 lowercase hex digits.
    pub pool_sha256: String,
    /// When the commitment was made, in seconds since 1970 (UTC): a seed published before
    /// this could have been known to whoever chose the pool.
    pub committed_at: i64,
}

/// The result of a draw.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Draw {
    /// Always [`LOTTERY_FORMAT`].
    pub format: String,
    /// Always `draw`.
    pub stage: String,
    /// The provider's id.
    pub provider: String,
    /// The lottery's id.
    pub lottery: String,
    /// The committed pool's SHA-256.
    pub pool_sha256: String,
    /// The committed number of slots.
    pub slots: u32,
    /// The seed, as typed (the draw reads its ASCII letters in upper case).
    pub seed: String,
    /// When the draw was made, in seconds since 1970 (UTC).
    pub drawn_at: i64,
    /// The selected tokens, sorted.
    pub selected: Vec<String>,
}

/// A pool of tokens as published: sorted, unique, one per line.
#[derive(Clone, PartialEq, Eq)]
pub struct Pool {
    members: Vec<String>,
}

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool").field("size", &self.members.len()).finish_non_exhaustive()
    }
}

impl Pool {
    /// A pool from tokens in any order; a repeated token (one person twice) is refused.
    pub fn new(mut members: Vec<String>) -> Result<Self> {
        members.sort_unstable();
        if members.windows(2).any(|w| w.first() == w.get(1)) {
            return Err(problem(LotteryProblem::PoolMalformed("a member repeats".into())));
        }
        Ok(Self { members })
    }

    /// Parses a published pool file: tokens (`cwl1:` and 32 lowercase hex digits) sorted
    /// strictly ascending, each line ending in a single `\n`, nothing else.
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        let bad = |what: String| problem(LotteryProblem::PoolMalformed(what));
        let text = std::str::from_utf8(bytes).map_err(|_| bad("not UTF-8".into()))?;
        let Some(body) = text.strip_suffix('\n') else {
            return Err(bad("empty, or the last line does not end in a line feed".into()));
        };
        let mut members: Vec<String> = Vec::new();
        for (n, line) in body.split('\n').enumerate() {
            if !is_token(line) {
                return Err(bad(format!("line {} is not a token (cwl1: and 32 lowercase hex digits)", n + 1)));
            }
            if members.last().is_some_and(|last| last.as_str() >= line) {
                return Err(bad(format!("line {} is out of order or repeated", n + 1)));
            }
            members.push(line.to_owned());
        }
        Ok(Self { members })
    }

    /// The pool file's bytes.
    pub fn to_file(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.members.len() * 64);
        for m in &self.members {
            out.extend_from_slice(m.as_bytes());
            out.push(b'\n');
        }
        out
    }

    /// The SHA-256 of the pool file, in lowercase hex.
    pub fn sha256(&self) -> String {
        hex(digest::digest(&digest::SHA256, &self.to_file()).as_ref())
    }

    /// The members, sorted.
    pub fn members(&self) -> &[String] {
        &self.members
    }

    /// How many people the pool holds.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Whether the pool is empty.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }
}

/// The draw: the `slots` members of `pool` that `seed` selects, sorted (the module's algorithm).
pub fn select(lottery: &str, pool: &Pool, slots: u32, seed: &str) -> Vec<String> {
    let mut input = DRAW_CONTEXT.to_vec();
    for part in [lottery, &pool.sha256(), &slots.to_string(), &seed.to_ascii_uppercase()] {
        input.push(0);
        input.extend_from_slice(part.as_bytes());
    }
    let key = hmac::Key::new(hmac::HMAC_SHA256, digest::digest(&digest::SHA256, &input).as_ref());
    let mut scored: Vec<(hmac::Tag, &String)> =
        pool.members.iter().map(|p| (hmac::sign(&key, p.as_bytes()), p)).collect();
    scored.sort_unstable_by(|a, b| a.0.as_ref().cmp(b.0.as_ref()).then_with(|| a.1.cmp(b.1)));
    let mut out: Vec<String> =
        scored.into_iter().take(usize::try_from(slots).unwrap_or(usize::MAX)).map(|(_, p)| p.clone()).collect();
    out.sort_unstable();
    out
}

/// Signs a lottery document: the JSON a provider publishes.
pub(crate) fn sign<T: Serialize>(document: &T, key: &SigningKey) -> Result<Vec<u8>> {
    crate::signed::sign(SIGNING_CONTEXT, SIGNED_FORMAT, document, key)
}

/// Opens a signed lottery document: its content and its signer (`ed25519:<hex>`).
pub fn open<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<(T, String)> {
    crate::signed::open(SIGNING_CONTEXT, SIGNED_FORMAT, bytes).map_err(|e| match e {
        crate::signed::Problem::Malformed(what) => problem(LotteryProblem::Malformed(what)),
        crate::signed::Problem::BadSignature => problem(LotteryProblem::BadSignature),
    })
}

/// What a verification established.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    /// The commitment.
    pub commitment: Commitment,
    /// The draw.
    pub draw: Draw,
    /// The key that signed both (`ed25519:<hex>`).
    pub signer: String,
}

/// Re-runs a draw from the three public files: the signed commitment, the pool file and the
/// signed draw. With `signer`, both documents must be signed by that key (the provider's, from
/// the board's registry). Refuses a pool that changed after the commitment, a draw of another
/// pool or lottery, a draw dated before its commitment, and a selection the seed does not make.
pub fn verify(commitment: &[u8], pool: &[u8], draw: &[u8], signer: Option<&str>) -> Result<Verified> {
    let (c, c_signer): (Commitment, String) = open(commitment)?;
    let (d, d_signer): (Draw, String) = open(draw)?;
    if c.format != LOTTERY_FORMAT || c.stage != "commitment" {
        return Err(problem(LotteryProblem::Malformed("the first document is not a commitment")));
    }
    if d.format != LOTTERY_FORMAT || d.stage != "draw" {
        return Err(problem(LotteryProblem::Malformed("the last document is not a draw")));
    }
    if let Some(want) = signer {
        let want = format!("ed25519:{}", hex(&parse_public_key(want)?));
        for found in [&c_signer, &d_signer] {
            if *found != want {
                return Err(problem(LotteryProblem::WrongSigner { found: found.clone() }));
            }
        }
    }
    let mismatch = |what| Err(problem(LotteryProblem::Mismatch(what)));
    if c_signer != d_signer {
        return mismatch("signed by different keys");
    }
    if c.provider != d.provider || c.lottery != d.lottery {
        return mismatch("another provider or lottery");
    }
    if c.pool_sha256 != d.pool_sha256 || c.slots != d.slots {
        return mismatch("another pool or number of slots");
    }
    if d.drawn_at < c.committed_at {
        return mismatch("drawn before the pool was committed");
    }
    // Every field as the vault would have written it: a document signed by some key but carrying
    // control characters or impossible counts is refused, not printed.
    let malformed = |what| Err(problem(LotteryProblem::Malformed(what)));
    if check_id(&c.lottery).is_err() || check_id(&c.provider).is_err() {
        return malformed("the lottery or provider id is not well formed");
    }
    if check_seed_source(&c.seed_source).is_err() || check_seed(&d.seed).is_err() {
        return malformed("the seed or its source is not well formed");
    }
    if c.slots == 0 || u64::from(c.slots) >= c.pool_size {
        return malformed("the slots are not between 1 and the pool's size less one");
    }
    let found = hex(digest::digest(&digest::SHA256, pool).as_ref());
    if found != c.pool_sha256 {
        return Err(problem(LotteryProblem::PoolChanged { found, committed: c.pool_sha256 }));
    }
    let parsed = Pool::parse(pool)?;
    if u64::try_from(parsed.len()).ok() != Some(c.pool_size) {
        return mismatch("the pool's size is not the committed size");
    }
    let expected = select(&c.lottery, &parsed, c.slots, &d.seed);
    if expected != d.selected {
        let missing = expected.iter().filter(|p| !d.selected.contains(p)).count();
        let extra = d.selected.iter().filter(|p| expected.binary_search(p).is_err()).count();
        if missing == 0 && extra == 0 {
            return mismatch("the selection is not listed sorted and once each");
        }
        return Err(problem(LotteryProblem::SelectionDiffers { missing, extra }));
    }
    Ok(Verified { commitment: c, draw: d, signer: c_signer })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use super::*;

    fn pool(n: usize) -> Pool {
        Pool::new((0..n).map(|i| format!("cwl1:{:032x}", i * 7919 + 13)).collect()).unwrap()
    }

    #[test]
    fn a_pool_file_round_trips_and_refuses_disorder_and_carriage_returns() {
        let p = pool(5);
        let file = p.to_file();
        assert_eq!(Pool::parse(&file).unwrap(), p);
        let text = std::str::from_utf8(&file).unwrap();
        let mut lines: Vec<&str> = text.lines().collect();
        lines.swap(0, 1);
        let swapped = format!("{}\n", lines.join("\n"));
        assert!(matches!(Pool::parse(swapped.as_bytes()), Err(Error::Lottery(LotteryProblem::PoolMalformed(_)))));
        assert!(Pool::parse(text.replace('\n', "\r\n").as_bytes()).is_err(), "CRLF");
        assert!(Pool::parse(text.trim_end().as_bytes()).is_err(), "no final line feed");
        assert!(Pool::parse(format!("{text}\n").as_bytes()).is_err(), "a blank line");
        assert!(Pool::parse(text.to_uppercase().as_bytes()).is_err(), "uppercase hex");
        assert!(Pool::new(vec!["a".into(), "a".into()]).is_err(), "a repeated member");
    }

    #[test]
    fn the_draw_depends_on_the_seed_not_on_its_letter_case() {
        let p = pool(40);
        let a = select("l1", &p, 10, "8f3a0c");
        assert_eq!(a.len(), 10);
        assert_eq!(a, select("l1", &p, 10, "8F3A0C"), "one draw per value, whatever its spelling");
        assert_eq!(a, select("l1", &p, 10, "8f3A0c"));
        assert_ne!(a, select("l1", &p, 10, "8f3a0d"));
        assert_ne!(a, select("l2", &p, 10, "8f3a0c"), "bound to the lottery id");
        assert!(a.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn ids_seeds_and_tokens_are_checked() {
        assert!(check_id("pilot-2026-nyc").is_ok());
        for bad in ["", "Pilot", "a b", &"x".repeat(65)] {
            assert!(check_id(bad).is_err(), "{bad:?}");
        }
        assert!(check_seed("8f3a").is_ok());
        for bad in ["", "with space", "é", &"x".repeat(MAX_SEED + 1)] {
            assert!(check_seed(bad).is_err(), "{bad:?}");
        }
        let t = token(&[7; 32], "A201555012");
        assert!(is_token(&t), "{t}");
        assert_ne!(t, token(&[8; 32], "A201555012"), "another lottery's key, another token");
    }
}
