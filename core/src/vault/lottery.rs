//! The vault's side of the enrollment lottery ([`crate::lottery`]): it replaces the pool's
//! members by one-time tokens, signs and logs the commitment before any seed exists, refuses a
//! second draw, records each member's arm on their enrollment in the draw's own transaction,
//! and refuses any other write that would change an arm a lottery decided.
//!
//! Every lottery is kept in one sealed `meta` value (JSON), authenticated by the vault state like
//! the release ledger: deleting it, or putting back a copy from before a draw, is an `Integrity`
//! error, never a second chance to draw.

use serde::{Deserialize, Serialize};

use super::log::{self, Detail, Entry, Subject};
use super::reports::{get_meta_sealed, load_signing_key, now, put_meta_sealed};
use super::{aad, update_enrollment_in, Crypto, Vault};
use crate::audit::Event;
use crate::category::Category as C;
use crate::error::{Error, Result};
use crate::identifier::Date;
use crate::lottery::{self, Commitment, Draw, LotteryProblem, Pool, LOTTERY_FORMAT};
use crate::policy::{Audience, Treatment};
use crate::record::{Arm, ClientId, Randomization};

const META_LOTTERIES: &str = aad::LOTTERIES;
const LOTTERIES_FORMAT: &str = "caseward-lotteries/1";

#[derive(Serialize, Deserialize)]
struct Lotteries {
    format: String,
    lotteries: Vec<Stored>,
}

#[derive(Serialize, Deserialize)]
struct Stored {
    lottery: String,
    /// The signed commitment, as published.
    commitment: String,
    /// Each member, in the order given.
    members: Vec<Member>,
    /// The signed draw, once made.
    draw: Option<String>,
}

impl Stored {
    /// The committed pool, rebuilt from the members' tokens.
    fn pool(&self) -> Result<Pool> {
        Pool::new(self.members.iter().map(|m| m.token.clone()).collect())
            .map_err(|_| Error::corrupt("meta", META_LOTTERIES, "a stored pool repeats a member"))
    }
}

#[derive(Serialize, Deserialize)]
struct Member {
    /// The client id (hex); empty once the client is erased.
    client: String,
    /// The published token.
    token: String,
    /// The vault's blind index of the A-number (hex): the same person in two pools, even as
    /// two clients, is found by it. Empty once the client is erased.
    person: String,
}

impl Lotteries {
    fn load(conn: &rusqlite::Connection, crypto: &Crypto) -> Result<Self> {
        let Some(plain) = get_meta_sealed(conn, crypto, META_LOTTERIES)? else {
            return Ok(Self { format: LOTTERIES_FORMAT.into(), lotteries: Vec::new() });
        };
        let out: Self = serde_json::from_slice(&plain)
            .map_err(|_| Error::corrupt("meta", META_LOTTERIES, "the lottery register is not valid JSON"))?;
        if out.format != LOTTERIES_FORMAT {
            return Err(Error::corrupt("meta", META_LOTTERIES, "unknown lottery-register format"));
        }
        Ok(out)
    }

    fn store(&self, tx: &rusqlite::Transaction<'_>, crypto: &mut Crypto) -> Result<()> {
        let plain = zeroize::Zeroizing::new(
            serde_json::to_vec(self).map_err(|_| Error::internal("the lottery register could not be serialized"))?,
        );
        put_meta_sealed(tx, crypto, META_LOTTERIES, &plain)
    }

    fn find(&self, lottery: &str) -> Option<&Stored> {
        self.lotteries.iter().find(|l| l.lottery == lottery)
    }

    /// Whether `selection` is a lottery of this vault.
    fn holds(&self, selection: &str) -> bool {
        self.lotteries.iter().any(|l| l.lottery == selection)
    }
}

/// Refuses a write that would change an arm a lottery of this vault decided, or claim a
/// lottery's id for an arm it did not draw. Only [`Vault::lottery_draw`] records those.
/// A member of a pool not drawn yet cannot be randomized by hand either: that would block the
/// draw once its result is known to anyone holding the public files.
pub(super) fn guard_randomization(
    conn: &rusqlite::Connection,
    crypto: &Crypto,
    client: Option<ClientId>,
    old: Option<&Randomization>,
    new: Option<&Randomization>,
) -> Result<()> {
    if old == new || crypto.state.meta_get(conn, META_LOTTERIES)?.is_none() {
        return Ok(());
    }
    let register = Lotteries::load(conn, crypto)?;
    for r in [old, new].into_iter().flatten() {
        if register.holds(&r.selection_id) {
            return Err(problem(LotteryProblem::ArmOfADraw(r.selection_id.clone())));
        }
    }
    if let Some(id) = client.map(|c| c.to_string()) {
        if let Some(l) = register.lotteries.iter().find(|l| l.members.iter().any(|m| m.client == id)) {
            return Err(problem(LotteryProblem::ArmOfADraw(l.lottery.clone())));
        }
    }
    Ok(())
}

/// Forgets an erased client in every pool, in the erasure's transaction: the token stays (the
/// published pool fixed it, and no key to test it exists), the link to the client goes.
pub(super) fn forget_client(tx: &rusqlite::Transaction<'_>, crypto: &mut Crypto, client: ClientId) -> Result<()> {
    if crypto.state.meta_get(tx, META_LOTTERIES)?.is_none() {
        return Ok(());
    }
    let mut register = Lotteries::load(tx, crypto)?;
    let id = client.to_string();
    let mut changed = false;
    for member in register.lotteries.iter_mut().flat_map(|l| l.members.iter_mut()) {
        if member.client == id {
            member.client.clear();
            member.person.clear();
            changed = true;
        }
    }
    if changed {
        register.store(tx, crypto)?;
    }
    Ok(())
}

/// The public files of a lottery: what a provider publishes for anyone to verify.
#[derive(Clone, PartialEq, Eq)]
pub struct LotteryFiles {
    /// The signed commitment (JSON).
    pub commitment: Vec<u8>,
    /// The pool file: sorted tokens, one per line.
    pub pool: Vec<u8>,
    /// The signed draw (JSON), once drawn.
    pub draw: Option<Vec<u8>>,
}

impl std::fmt::Debug for LotteryFiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LotteryFiles").field("drawn", &self.draw.is_some()).finish_non_exhaustive()
    }
}

fn problem(p: LotteryProblem) -> Error {
    Error::Lottery(p)
}

impl Vault {
    /// Commits a pool of eligible, interested clients to a lottery of `slots` places, before
    /// any seed exists, naming where the seed will come from (`seed_source`): replaces each
    /// member by a token under a one-time key (dropped at once, so nobody can test a guessed
    /// A-number against the published pool), signs the commitment (the SHA-256 of the sorted
    /// pool file, the slots, the seed source, the time) and logs it, in one transaction.
    /// Returns the public files.
    ///
    /// Refused, with nothing recorded: an empty pool; a missing seed source; a client listed
    /// twice, or two clients with one A-number; slots not between 1 and the pool's size less
    /// one; an id already used; a person randomized before (at intake, or in any pool of this
    /// vault, even as another client); a policy that does not let the evaluator have
    /// pseudonyms; and a client whose records the policy keeps from the evaluator: every client
    /// served under a VAWA-grantee program and, unless the policy lets the evaluator count
    /// protected relief, every client with protected relief. The refusal does not say which of
    /// the two applies.
    pub fn lottery_commit(
        &self,
        lottery: &str,
        pool: &[ClientId],
        slots: u32,
        seed_source: &str,
    ) -> Result<LotteryFiles> {
        lottery::check_id(lottery)?;
        lottery::check_seed_source(seed_source)?;
        if pool.is_empty() {
            return Err(problem(LotteryProblem::EmptyPool));
        }
        let provider = self.required_provider_id()?;
        // Who may join, read before the transaction (the policy is checked again inside it).
        let mut people = Vec::with_capacity(pool.len());
        for &client in pool {
            let record = self.client_record(client)?;
            let (Some(identity), Some(enrollment)) = (record.identity(), record.enrollment()) else {
                return Err(Error::input(format!("client {client} has no identity or enrollment to draw")));
            };
            let relief = record.records.iter().any(|r| match &r.record {
                crate::Record::Legal(l) => l.protected_relief.is_some(),
                _ => false,
            });
            if let Some(r) = &enrollment.randomization {
                return Err(problem(LotteryProblem::AlreadyRandomized {
                    client: client.to_string(),
                    selection: crate::error::echo(&r.selection_id),
                }));
            }
            people.push((client, identity.a_number.clone(), enrollment.vawa_grantee, relief));
        }
        self.write_p(|tx, crypto, policy| {
            if policy.treatment(&Audience::Evaluator, C::IdentifierAlienNumber) < Treatment::Pseudonymize {
                return Err(Error::denied(
                    "the policy does not let the evaluator have pseudonyms: a lottery needs a rule granting \
                     `evaluator` `pseudonymize` on identifier.alien_number",
                ));
            }
            let relief_allowed =
                policy.treatment(&Audience::Evaluator, C::LegalReliefProtected) >= Treatment::Aggregate;
            let mut register = Lotteries::load(tx, crypto)?;
            if register.find(lottery).is_some() {
                return Err(problem(LotteryProblem::Exists(lottery.to_owned())));
            }
            // A one-time key: the tokens are all the draw needs, and without the key nobody can
            // test a guessed A-number against the published pool.
            let mut key = zeroize::Zeroizing::new([0u8; 32]);
            ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), key.as_mut())
                .map_err(|_| Error::internal("the system random source failed"))?;
            let mut members: Vec<Member> = Vec::with_capacity(people.len());
            let mut seen: std::collections::BTreeMap<String, ClientId> = std::collections::BTreeMap::new();
            for (client, a_number, vawa, relief) in &people {
                if *vawa || (*relief && !relief_allowed) {
                    return Err(Error::denied(format!(
                        "client {client}: the policy keeps this client's records from the evaluator, so the client \
                         cannot join a lottery pool; offer the place outside the evaluation"
                    )));
                }
                let person = crate::report::bundle::hex(&crypto.blind.digest(a_number.as_str()));
                if let Some(first) = seen.insert(person.clone(), *client) {
                    return Err(problem(LotteryProblem::DuplicatePerson {
                        first: first.to_string(),
                        second: client.to_string(),
                    }));
                }
                if let Some(other) = register.lotteries.iter().find(|l| l.members.iter().any(|m| m.person == person)) {
                    return Err(problem(LotteryProblem::AlreadyRandomized {
                        client: client.to_string(),
                        selection: other.lottery.clone(),
                    }));
                }
                members.push(Member {
                    client: client.to_string(),
                    token: lottery::token(&key, a_number.as_str()),
                    person,
                });
            }
            drop(key);
            let sorted = Pool::new(members.iter().map(|m| m.token.clone()).collect())?;
            if slots == 0 || usize::try_from(slots).map_or(true, |s| s >= sorted.len()) {
                return Err(problem(LotteryProblem::Slots { slots, pool: sorted.len() }));
            }
            let commitment = Commitment {
                format: LOTTERY_FORMAT.into(),
                stage: "commitment".into(),
                provider: provider.clone(),
                lottery: lottery.to_owned(),
                slots,
                seed_source: seed_source.to_owned(),
                pool_size: sorted.len() as u64,
                pool_sha256: sorted.sha256(),
                committed_at: now(),
            };
            let key = load_signing_key(tx, crypto)?;
            let signed = lottery::sign(&commitment, &key)?;
            let text =
                String::from_utf8(signed.clone()).map_err(|_| Error::internal("a signed document is not text"))?;
            register.lotteries.push(Stored { lottery: lottery.to_owned(), commitment: text, members, draw: None });
            register.store(tx, crypto)?;
            let entry = Entry {
                event: Event::Lottery,
                audience: None,
                subject: Subject::Vault,
                output: crypto.output_digest(None, &signed),
                detail: Detail::Lottery {
                    lottery,
                    stage: "commit",
                    pool_sha256: &commitment.pool_sha256,
                    pool: sorted.len(),
                    slots,
                    seed: None,
                    recorded: 0,
                },
            };
            log::append(tx, crypto, policy.hash(), entry)?;
            Ok(LotteryFiles { commitment: signed, pool: sorted.to_file(), draw: None })
        })
    }

    /// Draws a committed lottery with `seed` (fixed after the commitment: a public beacon value
    /// as printed), records every member's arm on their enrollment (`evaluation.randomization`:
    /// the lottery's id as selection and stratum, `treatment` or `control`, today), signs and
    /// logs the result, in one transaction. Returns the signed draw.
    ///
    /// Refused, with nothing recorded: a lottery never committed, a second draw of one pool, a
    /// bad seed, and a member randomized since the commitment. A member erased since the
    /// commitment keeps their place in the draw (the pool is fixed) and gets no record.
    pub fn lottery_draw(&self, lottery: &str, seed: &str) -> Result<Vec<u8>> {
        lottery::check_id(lottery)?;
        lottery::check_seed(seed)?;
        self.write_p(|tx, crypto, policy| {
            let mut register = Lotteries::load(tx, crypto)?;
            let index = register
                .lotteries
                .iter()
                .position(|l| l.lottery == lottery)
                .ok_or_else(|| problem(LotteryProblem::NotCommitted(lottery.to_owned())))?;
            let stored = register.lotteries.get(index).ok_or_else(|| Error::internal("lottery index"))?;
            if stored.draw.is_some() {
                return Err(problem(LotteryProblem::AlreadyDrawn(lottery.to_owned())));
            }
            let (commitment, _): (Commitment, String) = lottery::open(stored.commitment.as_bytes())
                .map_err(|_| Error::corrupt("meta", META_LOTTERIES, "a stored commitment does not verify"))?;
            let pool = stored.pool()?;
            if pool.sha256() != commitment.pool_sha256 {
                return Err(Error::corrupt("meta", META_LOTTERIES, "a stored pool does not match its commitment"));
            }
            let selected = lottery::select(lottery, &pool, commitment.slots, seed);
            let today = Date::today();
            let mut recorded = 0;
            for member in &stored.members {
                if member.client.is_empty() {
                    // Erased since the commitment: nothing left to record.
                    continue;
                }
                let client: ClientId = member.client.parse()?;
                let arm = if selected.binary_search(&member.token).is_ok() { Arm::Treatment } else { Arm::Control };
                let outcome = update_enrollment_in(tx, crypto, client, false, |e| {
                    if let Some(r) = &e.randomization {
                        return Err(problem(LotteryProblem::AlreadyRandomized {
                            client: client.to_string(),
                            selection: crate::error::echo(&r.selection_id),
                        }));
                    }
                    e.randomization = Some(Randomization {
                        selection_id: lottery.to_owned(),
                        stratum: lottery.to_owned(),
                        arm,
                        selected_on: today,
                    });
                    Ok(())
                });
                outcome?;
                recorded += 1;
            }
            let draw = Draw {
                format: LOTTERY_FORMAT.into(),
                stage: "draw".into(),
                provider: commitment.provider.clone(),
                lottery: lottery.to_owned(),
                pool_sha256: commitment.pool_sha256.clone(),
                slots: commitment.slots,
                seed: seed.to_owned(),
                drawn_at: now().max(commitment.committed_at),
                selected,
            };
            let key = load_signing_key(tx, crypto)?;
            let signed = lottery::sign(&draw, &key)?;
            let text =
                String::from_utf8(signed.clone()).map_err(|_| Error::internal("a signed document is not text"))?;
            let pool_size = pool.len();
            if let Some(slot) = register.lotteries.get_mut(index) {
                slot.draw = Some(text);
            }
            register.store(tx, crypto)?;
            let entry = Entry {
                event: Event::Lottery,
                audience: None,
                subject: Subject::Vault,
                output: crypto.output_digest(None, &signed),
                detail: Detail::Lottery {
                    lottery,
                    stage: "draw",
                    pool_sha256: &draw.pool_sha256,
                    pool: pool_size,
                    slots: draw.slots,
                    seed: Some(seed),
                    recorded,
                },
            };
            log::append(tx, crypto, policy.hash(), entry)?;
            Ok(signed)
        })
    }

    /// The public files of a lottery, as committed and drawn (to publish them again).
    pub fn lottery_files(&self, lottery: &str) -> Result<LotteryFiles> {
        lottery::check_id(lottery)?;
        self.read(|conn, crypto| {
            let register = Lotteries::load(conn, crypto)?;
            let stored =
                register.find(lottery).ok_or_else(|| problem(LotteryProblem::NotCommitted(lottery.to_owned())))?;
            let pool = stored.pool()?;
            Ok(LotteryFiles {
                commitment: stored.commitment.clone().into_bytes(),
                pool: pool.to_file(),
                draw: stored.draw.clone().map(String::into_bytes),
            })
        })
    }

    /// The ids of every lottery committed in this vault, oldest first, with whether each was drawn.
    pub fn lotteries(&self) -> Result<Vec<(String, bool)>> {
        self.read(|conn, crypto| {
            Ok(Lotteries::load(conn, crypto)?.lotteries.iter().map(|l| (l.lottery.clone(), l.draw.is_some())).collect())
        })
    }
}
