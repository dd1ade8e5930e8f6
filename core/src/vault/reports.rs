//! The vault's side of board reports and pseudonyms: the provider's signing key, the
//! consortium's pseudonym key, the privacy-budget ledger, and duplicate review.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

use rusqlite::{params, Transaction};

use super::log::{self, Detail, Entry, Subject};
use super::{aad, ensure_client, Crypto, Vault};
use crate::audit::Event;
use crate::category::Category as C;
use crate::error::{Error, Overspend, Result};
use crate::identifier::{AlienNumber, BirthDate};
use crate::keys::{RecoveryIdentity, RecoveryRecipient, Secret32};
use crate::policy::AudienceClass;
use crate::pseudonym::{birth_dates_agree, DateAgreement, Domain, Epoch, NameTokens, Pseudonym, PseudonymKey};
use crate::record::{ClientId, ClientRecord, StoredRecord};
use crate::report::bundle::{canonical_json, encrypt_document, sign_report, verify_document, SigningKey};
use crate::report::indicator::Builder;
use crate::report::noise::{Mechanism, SystemBits};
use crate::report::{history, History, Method, Period, Report, ReportOptions, Revision, REPORT_FORMAT};

const META_PROVIDER: &str = "provider_id";
const META_SIGNING: &str = "signing_key";
const META_PSEUDONYM: &str = "pseudonym_key";
const META_BUDGET: &str = "privacy_budget";
const META_RELEASES: &str = aad::RELEASE_LEDGER;
const RELEASES_FORMAT: &str = "caseward-release-ledger/1";

/// Every report this vault has signed, oldest first, revisions included: what the board holds.
/// Kept sealed in the vault's metadata, so the state's digest covers it: a file-writing
/// attacker who deletes or replays an entry gets an integrity error, not a refreeze.
#[derive(Default, serde::Serialize, serde::Deserialize)]
struct Releases {
    format: String,
    releases: Vec<Release>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Release {
    period: Period,
    /// 0 for the first release of the period, then each revision's number.
    revision: u32,
    /// The signed document, exactly as first sent.
    document: String,
}

impl Releases {
    fn load(conn: &rusqlite::Connection, crypto: &Crypto) -> Result<Self> {
        let Some(plain) = get_meta_sealed(conn, crypto, META_RELEASES)? else {
            return Ok(Self { format: RELEASES_FORMAT.into(), releases: Vec::new() });
        };
        let out: Self = serde_json::from_slice(&plain)
            .map_err(|_| Error::corrupt("meta", META_RELEASES, "the release ledger is not valid JSON"))?;
        if out.format != RELEASES_FORMAT {
            return Err(Error::corrupt("meta", META_RELEASES, "unknown release-ledger format"));
        }
        Ok(out)
    }

    fn store(&self, tx: &Transaction<'_>, crypto: &mut Crypto) -> Result<()> {
        let plain = zeroize::Zeroizing::new(
            serde_json::to_vec(self).map_err(|_| Error::internal("the release ledger could not be serialized"))?,
        );
        put_meta_sealed(tx, crypto, META_RELEASES, &plain)
    }

    /// The newest release of `period`.
    fn latest(&self, period: Period) -> Option<&Release> {
        self.releases.iter().rev().find(|r| r.period == period)
    }

    /// The reports the board holds, oldest first (the ledger's signatures are the vault's own).
    fn reports(&self) -> Result<Vec<Report>> {
        self.releases.iter().map(Release::report).collect()
    }
}

impl Release {
    /// The signed report, read back.
    fn report(&self) -> Result<Report> {
        verify_document(self.document.as_bytes(), None)
            .map(|signed| signed.report)
            .map_err(|_| Error::corrupt("meta", META_RELEASES, "a stored release does not verify"))
    }
}

/// The zCDP budget per report period unless the provider sets another: rho = 1, in millionths.
pub const DEFAULT_BUDGET_MICROS: u64 = 1_000_000;

const META_YEAR_BUDGET: &str = "privacy_budget_year";
/// The default zCDP budget of a calendar year, across all its report periods: rho = 2, in
/// millionths. Without a yearly cap, monthly budgets compose without end: averaging 48 monthly
/// releases of one count shrinks its noise sevenfold.
pub const DEFAULT_YEAR_BUDGET_MICROS: u64 = 2_000_000;

/// Why two client records were proposed as one person.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatchReason {
    /// The same canonical A-number. `names_agree` is false when the names conflict, which
    /// suggests a mistyped A-number rather than a duplicate.
    SameANumber {
        /// Whether the names agree too.
        names_agree: bool,
    },
    /// Names agree as token sets and birth dates are compatible at their common precision.
    NameAndBirthDate {
        /// How the birth dates compare.
        dates: DateAgreement,
    },
}

/// A pair of records a person should review. Never merged automatically.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DuplicateCandidate {
    /// One client (the smaller id).
    pub a: ClientId,
    /// The other.
    pub b: ClientId,
    /// Why they were proposed.
    pub reason: MatchReason,
}

/// A reviewer's decision about a candidate pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatchDecision {
    /// The same person (the records are linked; nothing is deleted).
    Same,
    /// Different people: never proposed again.
    Distinct,
}

impl MatchDecision {
    fn as_str(self) -> &'static str {
        match self {
            Self::Same => "same",
            Self::Distinct => "distinct",
        }
    }
}

pub(super) fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

pub(super) fn get_meta_sealed(
    conn: &rusqlite::Connection,
    crypto: &Crypto,
    name: &'static str,
) -> Result<Option<zeroize::Zeroizing<Vec<u8>>>> {
    crypto
        .state
        .meta_get(conn, name)?
        .map(|s| {
            crypto.meta_key.open(&aad::meta(&crypto.vault_id, name), &s).map_err(|e| Error::integrity("meta", name, e))
        })
        .transpose()
}

pub(super) fn put_meta_sealed(
    tx: &Transaction<'_>,
    crypto: &mut Crypto,
    name: &'static str,
    plain: &[u8],
) -> Result<()> {
    let sealed = crypto
        .meta_key
        .seal(&mut crypto.nonces, &aad::meta(&crypto.vault_id, name), plain)
        .map_err(|e| Error::integrity("meta", name, e))?;
    crypto.state.meta_put(tx, name, &sealed)
}

pub(super) fn load_signing_key(tx: &Transaction<'_>, crypto: &mut Crypto) -> Result<SigningKey> {
    if let Some(doc) = get_meta_sealed(tx, crypto, META_SIGNING)? {
        return SigningKey::from_pkcs8(&doc);
    }
    let doc = SigningKey::generate_pkcs8()?;
    put_meta_sealed(tx, crypto, META_SIGNING, &doc)?;
    SigningKey::from_pkcs8(&doc)
}

pub(super) fn load_pseudonym_key(conn: &rusqlite::Connection, crypto: &Crypto) -> Result<PseudonymKey> {
    let bytes = get_meta_sealed(conn, crypto, META_PSEUDONYM)?
        .ok_or_else(|| Error::not_found("pseudonym key: import the consortium's key or generate one"))?;
    let secret =
        Secret32::from_slice(&bytes).ok_or_else(|| Error::corrupt("meta", META_PSEUDONYM, "not a 32-byte key"))?;
    Ok(PseudonymKey::from_secret(secret))
}

/// What noisy reports have spent of a period's budget, from the ledger as the state records it.
fn spent(conn: &rusqlite::Connection, crypto: &Crypto, period: Period) -> Result<u64> {
    ledger_sum(conn, crypto, "period = ?1", period.to_string())
}

/// What noisy reports have spent of the calendar year of `period`, over all its periods.
fn spent_in_year(conn: &rusqlite::Connection, crypto: &Crypto, period: Period) -> Result<u64> {
    ledger_sum(conn, crypto, "substr(period, 1, 5) = ?1", format!("{:04}-", period.year()))
}

fn ledger_sum(conn: &rusqlite::Connection, crypto: &Crypto, filter: &str, key: String) -> Result<u64> {
    crypto.state.check_ledger(conn)?;
    let sql = format!("SELECT COALESCE(SUM(rho_micros), 0) FROM privacy_ledger WHERE {filter}");
    let total: i64 = conn.query_row(&sql, [key], |r| r.get(0))?;
    Ok(u64::try_from(total).unwrap_or(0))
}

fn budget(conn: &rusqlite::Connection, crypto: &Crypto) -> Result<u64> {
    stored_budget(conn, crypto, META_BUDGET, DEFAULT_BUDGET_MICROS)
}

fn year_budget(conn: &rusqlite::Connection, crypto: &Crypto) -> Result<u64> {
    stored_budget(conn, crypto, META_YEAR_BUDGET, DEFAULT_YEAR_BUDGET_MICROS)
}

fn stored_budget(conn: &rusqlite::Connection, crypto: &Crypto, name: &'static str, default: u64) -> Result<u64> {
    let v = crypto.state.meta_get(conn, name)?;
    Ok(v.and_then(|b| <[u8; 8]>::try_from(b.as_slice()).ok()).map_or(default, u64::from_be_bytes))
}

/// What a noisy report costs, in the unit the user chose and in the ledger's rho.
fn cost_text(mechanism: Mechanism, tables: u64) -> String {
    match mechanism {
        Mechanism::Laplace { epsilon_num, epsilon_den } => format!(
            "{tables} tables at laplace epsilon {epsilon_num}/{epsilon_den} each; pure epsilon-DP counts as rho = \
             epsilon^2/2 = {} per table",
            rho_text(mechanism.rho_micros())
        ),
        Mechanism::Gaussian { rho_num, rho_den } => {
            format!("{tables} tables at gaussian rho {rho_num}/{rho_den} each")
        }
    }
}

fn rho_text(micros: u64) -> String {
    format!("{}.{:06}", micros / 1_000_000, micros % 1_000_000)
}

impl Vault {
    // -----------------------------------------------------------------------------------------
    // Provider identity

    /// Sets the provider's id as it appears in the board's registry (`a-z`, `0-9`, `-`, 1 to 64
    /// characters). Reports carry it.
    pub fn set_provider_id(&self, id: &str) -> Result<()> {
        let ok = (1..=64).contains(&id.len())
            && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !ok {
            return Err(Error::input("a provider id is 1 to 64 characters of a-z, 0-9 and '-'"));
        }
        self.write(|tx, crypto| crypto.state.meta_put(tx, META_PROVIDER, id.as_bytes()))
    }

    /// The provider's id, which every signed output names; an error says how to set it.
    pub(super) fn required_provider_id(&self) -> Result<String> {
        self.provider_id()?
            .ok_or_else(|| Error::input("set the provider id first (Vault::set_provider_id or caseward provider)"))
    }

    /// The provider's id, if set.
    pub fn provider_id(&self) -> Result<Option<String>> {
        self.read(|conn, crypto| {
            let v = crypto.state.meta_get(conn, META_PROVIDER)?;
            v.map(|b| String::from_utf8(b).map_err(|_| Error::corrupt("meta", META_PROVIDER, "not text"))).transpose()
        })
    }

    /// The provider's report-signing public key, `ed25519:<hex>`, for the board's registry. The
    /// key pair is generated on first use and kept sealed in the vault.
    pub fn signing_public_key(&self) -> Result<String> {
        self.write(|tx, crypto| Ok(load_signing_key(tx, crypto)?.public_key()))
    }

    // -----------------------------------------------------------------------------------------
    // Pseudonyms

    /// Generates a pseudonym key for a consortium's first provider. Refused if the vault already
    /// holds one: replacing it would silently change every pseudonym.
    pub fn generate_pseudonym_key(&self) -> Result<()> {
        let key = PseudonymKey::generate()?;
        self.install_pseudonym_key(&key, "generated")
    }

    /// Imports the consortium's pseudonym key from its age-encrypted distribution file (64 hex
    /// digits inside), decrypted with this provider's age identity.
    pub fn import_pseudonym_key(&self, age_file: &[u8], identity: &RecoveryIdentity) -> Result<()> {
        let decryptor = age::Decryptor::new_buffered(age_file)
            .map_err(|_| Error::input("the pseudonym key file is not an age file"))?;
        let mut reader = decryptor
            .decrypt(std::iter::once(identity.inner() as &dyn age::Identity))
            .map_err(|_| Error::WrongKey("this identity does not open the pseudonym key file"))?;
        let mut text = zeroize::Zeroizing::new(String::new());
        reader
            .by_ref()
            .take(1024)
            .read_to_string(&mut text)
            .map_err(|_| Error::input("the pseudonym key file does not hold text"))?;
        let key = PseudonymKey::from_hex(&text)?;
        self.install_pseudonym_key(&key, "imported")
    }

    fn install_pseudonym_key(&self, key: &PseudonymKey, how: &str) -> Result<()> {
        self.write_p(|tx, crypto, policy| {
            if crypto.state.meta_get(tx, META_PSEUDONYM)?.is_some() {
                return Err(Error::input(
                    "the vault already holds a pseudonym key; replacing it would change every pseudonym",
                ));
            }
            put_meta_sealed(tx, crypto, META_PSEUDONYM, key.expose())?;
            let entry = Entry {
                event: Event::PseudonymKey,
                audience: None,
                subject: Subject::Vault,
                output: [0; 32],
                detail: Detail::PseudonymKey { how },
            };
            log::append(tx, crypto, policy.hash(), entry)
        })
    }

    /// The pseudonym of an A-number in a domain and epoch. Refused (`Denied`) when the number
    /// belongs to a client served under a VAWA-grantee program: their records are never
    /// pseudonymized, not even hashed (34 U.S.C. 12291(b)(2)).
    pub fn pseudonym(&self, domain: Domain, epoch: &Epoch, a_number: &str) -> Result<Pseudonym> {
        let canonical = AlienNumber::parse(a_number)?;
        for client in self.find_all_by_a_number(&canonical)? {
            if self.client_is_vawa(client)? {
                return Err(Error::denied("this record is never pseudonymized"));
            }
        }
        self.read(|conn, crypto| {
            Ok(load_pseudonym_key(conn, crypto)?.pseudonymizer(domain, epoch).pseudonym(&canonical))
        })
    }

    /// Pseudonyms of every client that may have one (VAWA-grantee clients are left out), for a
    /// linkage extract. The client ids stay inside the provider.
    pub fn pseudonyms(&self, domain: Domain, epoch: &Epoch) -> Result<Vec<(ClientId, Pseudonym)>> {
        let p = self.read(|conn, crypto| Ok(load_pseudonym_key(conn, crypto)?.pseudonymizer(domain, epoch)))?;
        let mut out = Vec::new();
        let reads = [C::IdentifierAlienNumber, C::ProgramSite, C::ProgramEnrollment, C::RegimeVawaGrantee];
        for_each_client(self, &reads, |c| {
            let vawa = c.enrollment().is_some_and(|e| e.vawa_grantee);
            if let (false, Some(id)) = (vawa, c.identity()) {
                out.push((c.id, p.pseudonym(&id.a_number)));
            }
            Ok(())
        })?;
        Ok(out)
    }

    fn client_is_vawa(&self, client: ClientId) -> Result<bool> {
        Ok(self.client_record(client)?.enrollment().is_some_and(|e| e.vawa_grantee))
    }

    fn find_all_by_a_number(&self, a: &AlienNumber) -> Result<Vec<ClientId>> {
        self.read(|conn, crypto| crypto.state.lookup(conn, &crypto.blind.digest(a.as_str())))
    }

    // -----------------------------------------------------------------------------------------
    // Duplicate review

    /// Pairs of clients that may be one person: the same A-number, or names that agree as token
    /// sets with compatible birth dates. Pairs already decided are left out. Nothing is merged.
    pub fn duplicate_candidates(&self) -> Result<Vec<DuplicateCandidate>> {
        struct Who {
            id: ClientId,
            a: AlienNumber,
            name: NameTokens,
            dob: Option<BirthDate>,
        }
        let mut people = Vec::new();
        let reads = [C::IdentifierAlienNumber, C::IdentifierName, C::IdentifierNameDhs, C::IdentifierDob];
        for_each_client(self, &reads, |c| {
            if let Some(i) = c.identity() {
                let text = [i.name.verbatim_dhs.as_str(), i.name.verbatim_self.as_deref().unwrap_or("")].join(" ");
                let parts: Vec<&str> =
                    i.name.given.iter().chain(i.name.surnames.iter().map(|s| &s.text)).map(String::as_str).collect();
                let name = if i.name.verbatim_dhs.is_empty() {
                    NameTokens::new(&parts.join(" "))
                } else {
                    NameTokens::new(&text)
                };
                people.push(Who { id: c.id, a: i.a_number.clone(), name, dob: i.dob });
            }
            Ok(())
        })?;
        let decided: BTreeSet<(ClientId, ClientId)> =
            self.match_decisions()?.into_iter().map(|(a, b, _)| (a, b)).collect();
        let mut found: BTreeMap<(ClientId, ClientId), MatchReason> = BTreeMap::new();
        let pair = |x: ClientId, y: ClientId| if x < y { (x, y) } else { (y, x) };
        // Same A-number.
        let mut by_a: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, p) in people.iter().enumerate() {
            by_a.entry(p.a.as_str()).or_default().push(i);
        }
        for group in by_a.values().filter(|g| g.len() > 1) {
            for (n, &i) in group.iter().enumerate() {
                for &j in group.iter().skip(n + 1) {
                    if let (Some(x), Some(y)) = (people.get(i), people.get(j)) {
                        found.insert(
                            pair(x.id, y.id),
                            MatchReason::SameANumber { names_agree: x.name.agrees_with(&y.name) },
                        );
                    }
                }
            }
        }
        // Names and birth dates, blocked on each name token.
        let mut blocks: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, p) in people.iter().enumerate() {
            for t in p.name.tokens() {
                blocks.entry(t).or_default().push(i);
            }
        }
        for block in blocks.values().filter(|b| b.len() > 1) {
            for (n, &i) in block.iter().enumerate() {
                for &j in block.iter().skip(n + 1) {
                    let (Some(x), Some(y)) = (people.get(i), people.get(j)) else { continue };
                    let key = pair(x.id, y.id);
                    if found.contains_key(&key) {
                        continue;
                    }
                    let (Some(dx), Some(dy)) = (x.dob, y.dob) else { continue };
                    let dates = birth_dates_agree(&dx, &dy);
                    if dates.allows_match() && x.name.agrees_with(&y.name) {
                        found.insert(key, MatchReason::NameAndBirthDate { dates });
                    }
                }
            }
        }
        Ok(found
            .into_iter()
            .filter(|(k, _)| !decided.contains(k))
            .map(|((a, b), reason)| DuplicateCandidate { a, b, reason })
            .collect())
    }

    /// Records a reviewer's decision about two clients, logged. A later decision replaces an
    /// earlier one. Records are never merged or deleted by this.
    pub fn decide_duplicate(&self, a: ClientId, b: ClientId, decision: MatchDecision) -> Result<()> {
        if a == b {
            return Err(Error::input("a decision needs two different clients"));
        }
        let (a, b) = if a < b { (a, b) } else { (b, a) };
        self.write_p(|tx, crypto, policy| {
            ensure_client(tx, crypto, a)?;
            ensure_client(tx, crypto, b)?;
            crypto.state.touch_decisions(tx)?;
            tx.execute(
                "INSERT OR REPLACE INTO match_decision (a, b, decision, at) VALUES (?1, ?2, ?3, ?4)",
                params![a.as_bytes().as_slice(), b.as_bytes().as_slice(), decision.as_str(), now()],
            )?;
            let detail = Detail::MatchDecision { a: a.to_string(), b: b.to_string(), decision: decision.as_str() };
            let entry =
                Entry { event: Event::MatchDecision, audience: None, subject: Subject::Vault, output: [0; 32], detail };
            log::append(tx, crypto, policy.hash(), entry)
        })
    }

    /// Every recorded decision.
    pub fn match_decisions(&self) -> Result<Vec<(ClientId, ClientId, MatchDecision)>> {
        self.read(|conn, crypto| {
            crypto.state.check_decisions(conn)?;
            let mut stmt = conn.prepare("SELECT a, b, decision FROM match_decision ORDER BY a, b")?;
            let rows =
                stmt.query_map([], |r| Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Vec<u8>>(1)?, r.get::<_, String>(2)?)))?;
            let mut out = Vec::new();
            for row in rows {
                let (a, b, d) = row?;
                let id = |v: &[u8]| {
                    ClientId::from_slice(v).ok_or_else(|| Error::corrupt("match_decision", "-", "bad client id"))
                };
                let d = match d.as_str() {
                    "same" => MatchDecision::Same,
                    "distinct" => MatchDecision::Distinct,
                    _ => return Err(Error::corrupt("match_decision", "-", "unknown decision")),
                };
                out.push((id(&a)?, id(&b)?, d));
            }
            Ok(out)
        })
    }

    // -----------------------------------------------------------------------------------------
    // Board reports

    /// Sets the zCDP privacy budget (rho, in millionths) each report period may spend on noisy
    /// reports. The default is rho = 1.
    pub fn set_privacy_budget(&self, rho_micros: u64) -> Result<()> {
        self.set_budget(META_BUDGET, rho_micros)
    }

    /// What noisy reports have spent of a period's budget, and the budget, in millionths of rho.
    pub fn privacy_budget(&self, period: Period) -> Result<(u64, u64)> {
        self.read(|conn, crypto| Ok((spent(conn, crypto, period)?, budget(conn, crypto)?)))
    }

    /// Sets the zCDP budget (rho, in millionths) of a calendar year, across all its report
    /// periods: every noisy report is charged to its period and to its year, and must fit
    /// both. The default is rho = 2.
    pub fn set_yearly_privacy_budget(&self, rho_micros: u64) -> Result<()> {
        self.set_budget(META_YEAR_BUDGET, rho_micros)
    }

    fn set_budget(&self, name: &'static str, rho_micros: u64) -> Result<()> {
        if rho_micros == 0 {
            return Err(Error::input("a privacy budget must be positive"));
        }
        self.write(|tx, crypto| crypto.state.meta_put(tx, name, &rho_micros.to_be_bytes()))
    }

    /// What noisy reports have spent in the calendar year of `period`, and the yearly budget, in
    /// millionths of rho.
    pub fn yearly_privacy_budget(&self, period: Period) -> Result<(u64, u64)> {
        self.read(|conn, crypto| Ok((spent_in_year(conn, crypto, period)?, year_budget(conn, crypto)?)))
    }

    /// Builds the board report for a month, signs it with the provider's key and encrypts it to
    /// the board's recipients: the bytes of an age file.
    ///
    /// The report is logged (audience `board`, the hash of the report without its log head) in
    /// the same transaction that charges a noisy report to the period's budget and records it
    /// in the release ledger; the bundle carries the log head after that entry. A noisy report
    /// that would overspend is refused with [`Error::Budget`] and nothing is recorded.
    ///
    /// A released period is frozen: asking for it again sends the signed report the board
    /// already holds, byte for byte, whatever the data say now (a record entered late changes
    /// nothing already sent). New numbers for it go out only as an explicit revision
    /// ([`ReportOptions::revise`], with its reason), which the report states.
    pub fn board_report(
        &self,
        period: Period,
        options: &ReportOptions,
        recipients: &[RecoveryRecipient],
    ) -> Result<Vec<u8>> {
        if recipients.is_empty() {
            return Err(Error::input("a report needs at least one board recipient"));
        }
        options.check()?;
        let provider = self.required_provider_id()?;
        let releases = self.read(Releases::load)?;
        let revision = match (&options.revise, releases.latest(period)) {
            (None, Some(_)) => return self.send_again(period, recipients),
            (Some(_), None) => {
                if self.released_before_ledger(period, &releases)? {
                    // The board holds that report, but the vault does not: a revision could not
                    // be checked against it.
                    return Err(Error::input(format!(
                        "{period} was sent before this vault kept its release ledger: a revision cannot be \
                         checked against that report, so none is made"
                    )));
                }
                return Err(Error::input(format!("{period} has not been released: there is nothing to revise")));
            }
            (Some(reason), Some(previous)) => {
                if reason.trim().is_empty() {
                    return Err(Error::input("a revision states its reason"));
                }
                Some(Revision { number: previous.revision.saturating_add(1), reason: reason.trim().to_owned() })
            }
            (None, None) => {
                if self.released_before_ledger(period, &releases)? {
                    return Err(Error::input(format!(
                        "{period} was sent before this vault kept its release ledger, so that report cannot \
                         be sent again; a new one for it is a revision (--revise REASON)"
                    )));
                }
                None
            }
        };
        let (this_period, earlier): (Vec<Report>, Vec<Report>) =
            releases.reports()?.into_iter().partition(|r| r.period == period);
        let ledger_len = releases.releases.len();
        let policy = self.read_p(|_, _, policy| Ok(policy.clone()))?;
        let mut builder = Builder::new(period, &policy, options.clone()).with_history(History::from_reports(&earlier));
        // The tables see only the categories they declare: the reader holds no other key.
        let reads = builder.reads();
        for_each_client(self, &reads, |c| {
            builder.add(&c);
            Ok(())
        })?;
        let table_count = builder.table_count() as u64;
        let rho = match options.method {
            Method::Noise { mechanism } => mechanism.rho_micros().saturating_mul(table_count),
            Method::Suppress { .. } => 0,
        };
        let (tables, omitted) = builder.finish(&mut SystemBits::new())?;
        let mut report = Report {
            format: REPORT_FORMAT.into(),
            provider,
            period,
            policy: policy.hash().to_string(),
            method: options.method,
            rho_micros: rho,
            log_head: None,
            capacity: options.capacity.clone(),
            tables,
            omitted,
            revision,
        };
        if let Method::Suppress { .. } = options.method {
            // The board keeps every earlier release of the period, not only the newest.
            let mut withheld = Vec::new();
            for original in &this_period {
                withheld.extend(history::withhold_small_changes(original, &mut report));
            }
            if !withheld.is_empty() {
                report.omitted.push(format!(
                    "{}: withheld in this revision, since a change of 1 to 10 from the release it revises \
                     would count the corrected persons (the board keeps the earlier tables)",
                    withheld.join(", ")
                ));
            }
        }
        let sent = self.write_p(|tx, crypto, policy| {
            // Checked again inside the transaction: two handles building one period at once
            // must not both release it.
            let mut releases = Releases::load(tx, crypto)?;
            let previous = releases.latest(period).map(|r| r.revision);
            let expected = report.revision.as_ref().map(|r| r.number.saturating_sub(1));
            // Any release committed meanwhile (of this period, or another the flows and the
            // fiscal year were built on) makes this one stale.
            if previous != expected || releases.releases.len() != ledger_len {
                return Ok(None);
            }
            if let (true, Method::Noise { mechanism }) = (rho > 0, options.method) {
                let scopes = [
                    (format!("period {period}"), spent(tx, crypto, period)?, budget(tx, crypto)?),
                    (format!("year {}", period.year()), spent_in_year(tx, crypto, period)?, year_budget(tx, crypto)?),
                ];
                for (scope, used, limit) in scopes {
                    if used.saturating_add(rho) > limit {
                        return Err(Error::Budget(Box::new(Overspend {
                            period: period.to_string(),
                            needed: rho_text(rho),
                            cost: cost_text(mechanism, table_count),
                            scope,
                            left: rho_text(limit.saturating_sub(used)),
                            limit: rho_text(limit),
                        })));
                    }
                }
                crypto.state.touch_ledger(tx)?;
                tx.execute(
                    "INSERT INTO privacy_ledger (period, rho_micros, at) VALUES (?1, ?2, ?3)",
                    params![period.to_string(), i64::try_from(rho).unwrap_or(i64::MAX), now()],
                )?;
            }
            log::append(tx, crypto, policy.hash(), report_entry(crypto, &report, rho)?)?;
            report.log_head = crypto.state.log_head()?.map(|h| h.to_string());
            let key = load_signing_key(tx, crypto)?;
            let document = sign_report(&report, &key)?;
            releases.releases.push(Release {
                period,
                revision: report.revision.as_ref().map_or(0, |r| r.number),
                document: String::from_utf8(document.clone())
                    .map_err(|_| Error::internal("a signed report is not UTF-8"))?,
            });
            releases.store(tx, crypto)?;
            // Encrypted before the transaction commits: a failure records nothing.
            encrypt_document(&document, recipients).map(Some)
        })?;
        // Another handle released a report meanwhile: retry, as for a busy vault.
        sent.ok_or(Error::Storage(crate::error::StorageProblem::Busy))
    }

    /// Whether the disclosure log records a board report for `period` from before the release
    /// ledger's first entry (a vault made before caseward kept the ledger).
    fn released_before_ledger(&self, period: Period, releases: &Releases) -> Result<bool> {
        let first = releases
            .releases
            .first()
            .and_then(|r| r.report().ok())
            .and_then(|r| r.log_head)
            .and_then(|h| h.parse::<crate::audit::LogHead>().ok())
            .map_or(u64::MAX, |h| h.seq);
        let wanted = period.to_string();
        self.read(|conn, crypto| {
            for e in crate::audit::entries(conn)? {
                let Ok(e) = e else { continue };
                if e.seq >= first || e.audience != "board" {
                    continue;
                }
                let detail = log::open_detail(conn, crypto, &e)?;
                // A board report's detail names its period at the top of its JSON object.
                if detail.is_some_and(|d| d.get("period").and_then(serde_json::Value::as_str) == Some(&wanted)) {
                    return Ok(true);
                }
            }
            Ok(false)
        })
    }

    /// Every report the board holds from this vault, every revision, oldest first (read from the
    /// release ledger): what a reader of the board's tables knows.
    pub(super) fn released_reports(&self) -> Result<Vec<Report>> {
        self.read(|conn, crypto| Releases::load(conn, crypto)?.reports())
    }

    /// The newest release of `period` in the release ledger: `None` if it was never released,
    /// `Some(0)` for the first release, `Some(n)` after n revisions.
    pub fn released_revision(&self, period: Period) -> Result<Option<u32>> {
        self.read(|conn, crypto| Ok(Releases::load(conn, crypto)?.latest(period).map(|r| r.revision)))
    }

    /// Sends a released period again: the newest signed report of it, encrypted to
    /// `recipients`, and logged as a disclosure of the same bytes.
    fn send_again(&self, period: Period, recipients: &[RecoveryRecipient]) -> Result<Vec<u8>> {
        self.write_p(|tx, crypto, policy| {
            let releases = Releases::load(tx, crypto)?;
            let release = releases.latest(period).ok_or_else(|| Error::internal("the release vanished"))?;
            let mut report = release.report()?;
            report.log_head = None;
            // The same bytes as first logged: nothing new is charged.
            log::append(tx, crypto, policy.hash(), report_entry(crypto, &report, 0)?)?;
            // Encrypted before the transaction commits: a failure logs nothing.
            encrypt_document(release.document.as_bytes(), recipients)
        })
    }
}

/// The log entry of a board report: its digest taken without its log head (which the entry
/// itself decides), and the rho it spent.
fn report_entry(crypto: &Crypto, report: &Report, rho_micros: u64) -> Result<Entry<'static>> {
    let value = serde_json::to_value(report).map_err(|_| Error::internal("the report could not be serialized"))?;
    Ok(Entry {
        event: Event::Disclosure,
        audience: Some(AudienceClass::Board),
        subject: Subject::Vault,
        output: crypto.output_digest(None, &canonical_json(&value)),
        detail: Detail::BoardReport {
            audience: "board",
            period: report.period.to_string(),
            tables: report.tables.len(),
            rho_micros,
        },
    })
}

/// Streams every client's records, opened for `categories` only, one client at a time.
pub(super) fn for_each_client(
    vault: &Vault,
    categories: &[C],
    mut f: impl FnMut(ClientRecord) -> Result<()>,
) -> Result<()> {
    let mut current: Option<ClientRecord> = None;
    vault.scan_declared(categories, |client, record: StoredRecord| {
        match current.as_mut() {
            Some(c) if c.id == client => c.records.push(record),
            _ => {
                if let Some(done) = current.replace(ClientRecord { id: client, records: vec![record] }) {
                    f(done)?;
                }
            }
        }
        Ok(())
    })?;
    if let Some(done) = current {
        f(done)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use super::*;
    use crate::report::indicator::table_ids;
    use crate::report::noise::RandomBits;

    /// A fixed stream of "random" words, so two builds of one table can be compared.
    struct Fixed(u64);

    impl RandomBits for Fixed {
        fn next_u64(&mut self) -> Result<u64> {
            self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            Ok(self.0)
        }
    }

    /// A vault made before caseward kept the release ledger has board reports in its log only.
    /// Such a period is not rebuilt from today's data as if it were new: building it again is
    /// refused, and so is a suppressed revision, which would have nothing to compare with.
    #[test]
    fn a_period_sent_before_the_ledger_is_not_sent_again_as_new() {
        let dir = tempfile::tempdir().unwrap();
        let vault =
            Vault::create_with_key(dir.path().join("v.cwv"), &crate::RawKey::from_bytes(&[9; 32]).unwrap()).unwrap();
        vault.set_provider_id("old-provider").unwrap();
        let mut synth = crate::synth::Synth::new(3);
        let intakes: Vec<_> = (0..30).map(|_| synth.intake()).collect();
        vault.enroll_many(&intakes).unwrap();
        // What an older caseward logged for the report it sent, with no ledger entry.
        vault
            .write_p(|tx, crypto, policy| {
                let entry = Entry {
                    event: Event::Disclosure,
                    audience: Some(AudienceClass::Board),
                    subject: Subject::Vault,
                    output: [7; 32],
                    detail: Detail::BoardReport {
                        audience: "board",
                        period: "2026-06".into(),
                        tables: 21,
                        rho_micros: 0,
                    },
                };
                log::append(tx, crypto, policy.hash(), entry)
            })
            .unwrap();
        let board = RecoveryIdentity::generate();
        let june: Period = "2026-06".parse().unwrap();
        let err = vault.board_report(june, &ReportOptions::default(), &[board.recipient()]).unwrap_err();
        assert!(err.to_string().contains("before this vault kept its release ledger"), "{err}");
        let revise = ReportOptions { revise: Some("late records".into()), ..ReportOptions::default() };
        let err = vault.board_report(june, &revise, &[board.recipient()]).unwrap_err();
        assert!(err.to_string().contains("before this vault kept its release ledger"), "{err}");
        assert_eq!(vault.released_revision(june).unwrap(), None, "nothing recorded");
        // Another month is released as usual, and June stays refused once the ledger exists.
        vault.board_report("2026-07".parse().unwrap(), &ReportOptions::default(), &[board.recipient()]).unwrap();
        assert!(vault.board_report(june, &ReportOptions::default(), &[board.recipient()]).is_err());
    }

    /// Each table built from a reader holding only the keys it declares equals the same table
    /// built with every key: no table reads a category it does not declare (so a policy that
    /// keeps a category from the board keeps it out of every table, by keys).
    #[test]
    fn every_table_reads_only_what_it_declares() {
        let dir = tempfile::tempdir().unwrap();
        let vault =
            Vault::create_with_key(dir.path().join("v.cwv"), &crate::keys::RawKey::from_bytes(&[7; 32]).unwrap())
                .unwrap();
        let mut synth = crate::synth::Synth::new(11);
        let mut intakes: Vec<_> = (0..150).map(|_| synth.intake()).collect();
        for size in [2, 3, 4] {
            intakes.extend(synth.family(size));
        }
        for intake in &mut intakes {
            intake.records.extend(synth.sensitive_records());
        }
        // Records every table's branches turn on, for a quarter of the clients: a move after
        // enrollment with some filings, release on an order of supervision, a departure with
        // reintegration support, an accepted mental-health referral after a positive screen.
        let d = |s: &str| crate::Date::parse(s).unwrap();
        for (i, intake) in intakes.iter_mut().enumerate().filter(|(i, _)| i % 4 == 0) {
            use crate::category::ServiceKind;
            use crate::record::*;
            let enrolled = intake.enrollment.enrolled_on;
            intake.enrollment.release_basis = Some(if i % 8 == 0 { ReleaseBasis::Osup } else { ReleaseBasis::Parole });
            if i % 3 == 0 {
                intake.enrollment.exit = Some(Exit { date: d("2026-09-20"), reason: ExitReason::Departed });
            }
            intake.records.extend([
                Record::Address(AddressEpisode {
                    address: PostalAddress::default(),
                    moved_on: enrolled.add_days(20),
                    until: None,
                    confidential: false,
                    reported_to_ice_on: None,
                    filings: Filings {
                        ice_portal: Some(Filing { filed_on: enrolled.add_days(21), confirmation: None }),
                        eoir33: Some(Filing { filed_on: enrolled.add_days(22), confirmation: None }),
                        ar11: Some(Filing { filed_on: enrolled.add_days(23), confirmation: None }),
                    },
                }),
                Record::Departure(DeparturePlan {
                    country: "x".into(),
                    window: None,
                    travel_documents: None,
                    partner: None,
                }),
                Record::Service(ServiceEvent {
                    date: enrolled.add_days(5),
                    kind: ServiceKind::Reintegration,
                    minutes: None,
                }),
                Record::Screening(Screening {
                    kind: ScreeningKind::MentalHealth,
                    date: enrolled.add_days(2),
                    instrument: "x".into(),
                    result: "x".into(),
                    positive: true,
                    referred: true,
                }),
                Record::Referral(Referral {
                    kind: ServiceKind::MentalHealth,
                    partner: "p".into(),
                    date: enrolled.add_days(3),
                    status: ReferralStatus::Accepted,
                }),
            ]);
        }
        vault.enroll_many(intakes.iter()).unwrap();
        let policy = crate::Policy::default_policy().unwrap();
        let everything: Vec<C> = C::all().collect();
        let mut options = ReportOptions::default();
        options.declined_offers.insert("x".into(), 3);
        options.expenditure_usd.insert("x".into(), 1000);
        let mut checked = 0;
        for period in ["2025-12", "2026-03", "2026-06", "2026-09", "2026-10", "2026-12"] {
            let period: Period = period.parse().unwrap();
            for id in table_ids() {
                let build = |reads: Option<Vec<C>>| {
                    let mut b = Builder::new(period, &policy, options.clone()).only(id);
                    let reads = reads.unwrap_or_else(|| b.reads());
                    for_each_client(&vault, &reads, |c| {
                        b.add(&c);
                        Ok(())
                    })
                    .unwrap();
                    let count = b.table_count();
                    let raw = b.raw_cells();
                    let (tables, _) = b.finish(&mut Fixed(5)).unwrap();
                    (count, format!("{raw}\n{}", serde_json::to_string(&tables).unwrap()))
                };
                let (count, declared) = build(None);
                if count == 0 {
                    continue;
                }
                let (_, full) = build(Some(everything.clone()));
                assert_eq!(declared, full, "table {id} of {period} reads a category it does not declare");
                checked += 1;
            }
        }
        assert!(checked > 30, "{checked} tables checked");
    }
}
