//! The vault's side of the enrollment lottery ([`crate::lottery`]): it pseudonymizes the pool,
//! signs and logs the commitment before any seed exists, refuses a second draw, and records each
//! member's arm on their enrollment in the draw's own transaction.
//!
//! Every lottery is kept in one sealed `meta` value (JSON), authenticated by the vault state like
//! the release ledger: deleting it, or putting back a copy from before a draw, is an `Integrity`
//! error, never a second chance to draw.

use serde::{Deserialize, Serialize};

use super::log::{self, Detail, Entry, Subject};
use super::reports::{get_meta_sealed, load_pseudonym_key, load_signing_key, now, put_meta_sealed};
use super::{aad, update_enrollment_in, Crypto, Vault};
use crate::audit::Event;
use crate::category::Category as C;
use crate::error::{Error, Result};
use crate::identifier::Date;
use crate::lottery::{self, Commitment, Draw, LotteryProblem, Pool, LOTTERY_FORMAT};
use crate::policy::{Audience, Treatment};
use crate::pseudonym::{Domain, Epoch};
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
    /// Each member's client id (hex) and pseudonym, in pool order.
    members: Vec<(String, String)>,
    /// The signed draw, once made.
    draw: Option<String>,
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
}

/// Forgets an erased client in every pool, in the erasure's transaction: the pseudonym stays
/// (the published pool fixed it), the link to the client goes.
pub(super) fn forget_client(tx: &rusqlite::Transaction<'_>, crypto: &mut Crypto, client: ClientId) -> Result<()> {
    if crypto.state.meta_get(tx, META_LOTTERIES)?.is_none() {
        return Ok(());
    }
    let mut register = Lotteries::load(tx, crypto)?;
    let id = client.to_string();
    let mut changed = false;
    for member in register.lotteries.iter_mut().flat_map(|l| l.members.iter_mut()) {
        if member.0 == id {
            member.0 = String::new();
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
    /// The pool file: sorted pseudonyms, one per line.
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
    /// any seed exists, naming where the seed will come from (`seed_source`): pseudonymizes them in the `evaluation` domain and `epoch`, signs the
    /// commitment (the SHA-256 of the sorted pool file, the slots, the time) and logs it, in one
    /// transaction. Returns the public files.
    ///
    /// Refused, with nothing recorded: an empty pool; a missing seed source; a client listed twice, or two clients
    /// with one A-number; slots not between 1 and the pool's size less one; an id already used;
    /// a client randomized before; a policy that does not let the evaluator have pseudonyms;
    /// and a client whose records the policy keeps from the evaluator: every client served under
    /// a VAWA-grantee program (never pseudonymized) and, unless the policy lets the evaluator
    /// count protected relief, every client with protected relief. The refusal does not say
    /// which of the two applies.
    pub fn lottery_commit(
        &self,
        lottery: &str,
        epoch: &Epoch,
        pool: &[ClientId],
        slots: u32,
        seed_source: &str,
    ) -> Result<LotteryFiles> {
        lottery::check_id(lottery)?;
        lottery::check_seed_source(seed_source)?;
        if pool.is_empty() {
            return Err(problem(LotteryProblem::EmptyPool));
        }
        let provider = self
            .provider_id()?
            .ok_or_else(|| Error::input("set the provider id first (Vault::set_provider_id or caseward provider)"))?;
        let policy = self.read_p(|_, _, policy| Ok(policy.clone()))?;
        if policy.treatment(&Audience::Evaluator, C::IdentifierAlienNumber) < Treatment::Pseudonymize {
            return Err(Error::denied(
                "the policy does not let the evaluator have pseudonyms: a lottery needs a rule granting \
                 `evaluator` `pseudonymize` on identifier.alien_number",
            ));
        }
        let relief_allowed = policy.treatment(&Audience::Evaluator, C::LegalReliefProtected) >= Treatment::Aggregate;
        let pseudonymizer =
            self.read(|conn, crypto| Ok(load_pseudonym_key(conn, crypto)?.pseudonymizer(Domain::Evaluation, epoch)))?;
        let mut members: Vec<(String, String)> = Vec::with_capacity(pool.len());
        let mut by_pseudonym: std::collections::BTreeMap<String, ClientId> = std::collections::BTreeMap::new();
        for &client in pool {
            let record = self.client_record(client)?;
            let (Some(identity), Some(enrollment)) = (record.identity(), record.enrollment()) else {
                return Err(Error::input(format!("client {client} has no identity or enrollment to draw")));
            };
            let relief = record.records.iter().any(|r| match &r.record {
                crate::Record::Legal(l) => l.protected_relief.is_some(),
                _ => false,
            });
            if enrollment.vawa_grantee || (relief && !relief_allowed) {
                return Err(Error::denied(format!(
                    "client {client}: the policy keeps this client's records from the evaluator, so the client \
                     cannot join a lottery pool; offer the place outside the evaluation"
                )));
            }
            if let Some(r) = &enrollment.randomization {
                return Err(problem(LotteryProblem::AlreadyRandomized {
                    client: client.to_string(),
                    selection: r.selection_id.clone(),
                }));
            }
            let pseudonym = pseudonymizer.pseudonym(&identity.a_number).to_string();
            if let Some(first) = by_pseudonym.insert(pseudonym.clone(), client) {
                return Err(problem(LotteryProblem::DuplicatePerson {
                    first: first.to_string(),
                    second: client.to_string(),
                }));
            }
            members.push((client.to_string(), pseudonym));
        }
        let sorted = Pool::new(members.iter().map(|(_, p)| p.clone()).collect())?;
        if slots == 0 || usize::try_from(slots).map_or(true, |s| s >= sorted.len()) {
            return Err(problem(LotteryProblem::Slots { slots, pool: sorted.len() }));
        }
        self.write_p(|tx, crypto, policy| {
            let mut register = Lotteries::load(tx, crypto)?;
            if register.find(lottery).is_some() {
                return Err(problem(LotteryProblem::Exists(lottery.to_owned())));
            }
            // Checked again inside the transaction: a member randomized by another lottery of
            // this vault since the reads above would otherwise be drawn twice.
            for other in &register.lotteries {
                if let Some((client, _)) = other.members.iter().find(|(c, _)| members.iter().any(|(m, _)| m == c)) {
                    return Err(problem(LotteryProblem::AlreadyRandomized {
                        client: client.clone(),
                        selection: other.lottery.clone(),
                    }));
                }
            }
            let commitment = Commitment {
                format: LOTTERY_FORMAT.into(),
                stage: "commitment".into(),
                provider: provider.clone(),
                lottery: lottery.to_owned(),
                epoch: epoch.as_str().to_owned(),
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
            let pool = Pool::new(stored.members.iter().map(|(_, p)| p.clone()).collect())
                .map_err(|_| Error::corrupt("meta", META_LOTTERIES, "a stored pool repeats a member"))?;
            if pool.sha256() != commitment.pool_sha256 {
                return Err(Error::corrupt("meta", META_LOTTERIES, "a stored pool does not match its commitment"));
            }
            let selected = lottery::select(lottery, &pool, commitment.slots, seed);
            let today = Date::today();
            let mut recorded = 0;
            for (client, pseudonym) in &stored.members {
                if client.is_empty() {
                    // Erased since the commitment: nothing left to record.
                    continue;
                }
                let client: ClientId = client.parse()?;
                let arm = if selected.binary_search(pseudonym).is_ok() { Arm::Treatment } else { Arm::Control };
                let outcome = update_enrollment_in(tx, crypto, client, |e| {
                    if let Some(r) = &e.randomization {
                        return Err(problem(LotteryProblem::AlreadyRandomized {
                            client: client.to_string(),
                            selection: r.selection_id.clone(),
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
            let pool = Pool::new(stored.members.iter().map(|(_, p)| p.clone()).collect())
                .map_err(|_| Error::corrupt("meta", META_LOTTERIES, "a stored pool repeats a member"))?;
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
