//! The disclosure firewall: the only code that builds what leaves the vault.
//!
//! Three layers hold the line, so that a bug in one is caught by the next:
//! 1. **Types.** Every output is a type only this module constructs: [`IceNotice`],
//!    [`ClientCopy`], [`PartnerReferral`], [`ClientView`]. `IceNotice` has exactly the fields of
//!    the ICE floor (`docs/law.md#ice-floor`) and no way to carry anything else.
//! 2. **Keys.** An output is built from a [`CategoryReader`] holding only the category keys its
//!    audience may receive. The ICE path gets the floor keys and nothing else, so even a bug in
//!    it cannot decrypt a mental-health note: it never holds that key.
//! 3. **Policy.** The [`Policy`] decides each cell, and can only narrow the code's
//!    [`ceiling`]: above all, nothing beyond the floor can ever be granted to ICE.
//!
//! Some facts gate an output without being part of it: protected relief (VAWA/T/U) or a
//! VAWA-grantee client gets no ICE notice at all; a confidential address is never sent to ICE.
//! The gate reads those facts with their own keys and reduces them to booleans, record ids and
//! move-in dates before the output's reader is made. When an address is withheld the notice says the client reports it
//! directly, in the same words whatever the reason, so the notice never reveals that an
//! address is a shelter.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Serialize;
use zeroize::Zeroizing;

use crate::category::Category;
use crate::error::{Error, Result};
use crate::identifier::{AlienNumber, Date};
use crate::keys::ClientKey;
use crate::policy::{Audience, AudienceClass, Policy, PolicyHash, Treatment};
use crate::record::{
    AddressOfRecordSection, AlienNumberSection, CheckInSection, ClientId, ConsentRecord, Filings, HearingSection,
    Modality, PostalAddress, RecordId, RecordKind,
};
use crate::seal::{Algorithm, SealingKey};

/// The ICE floor: the most any policy may give ICE (`docs/law.md#ice-floor`).
/// Everything not listed is denied to ICE, whatever a policy file says.
pub const ICE_FLOOR: [(Category, Treatment); 6] = [
    (Category::IdentifierAlienNumber, Treatment::Reveal),
    (Category::IdentifierNameDhs, Treatment::Reveal),
    (Category::ObligationReportingNext, Treatment::Reveal),
    (Category::ObligationCourtNext, Treatment::Reveal),
    (Category::ObligationAddressOfRecord, Treatment::Consent),
    (Category::ObligationAddressFiling, Treatment::Consent),
];

/// The categories that gate an ICE notice without appearing in it (of `contact.address`, only
/// each address's move-in date and a digest of the place are kept).
const ICE_GATE: [Category; 4] = [
    Category::LegalReliefProtected,
    Category::RegimeVawaGrantee,
    Category::SafetyLocationConfidential,
    Category::ContactAddress,
];

/// The most the code allows `category` to disclose to `audience`: a policy can only narrow it.
///
/// * `ice`: the floor ([`ICE_FLOOR`]), nothing more.
/// * `board`, `funder`: aggregates (the program site may be named).
/// * `evaluator`: pseudonymized microdata at most.
/// * `partner`: only under consent (the program site may be named).
/// * Free text (`note.case`) and psychotherapy notes never leave for an external audience.
/// * `caseworker`, `supervisor`, `client`: anything.
pub fn ceiling(audience: AudienceClass, category: Category) -> Treatment {
    use AudienceClass as A;
    use Category as C;
    let free_text = matches!(category, C::NoteCase | C::HealthMentalPsychotherapyNote);
    match audience {
        A::Caseworker | A::Supervisor | A::Client => Treatment::Reveal,
        A::Ice => ICE_FLOOR.iter().find(|(c, _)| *c == category).map_or(Treatment::Deny, |(_, t)| *t),
        _ if free_text => Treatment::Deny,
        _ if category == C::ProgramSite => Treatment::Reveal,
        A::Partner => Treatment::Consent,
        A::Evaluator => Treatment::Pseudonymize,
        A::Board | A::Funder => Treatment::Aggregate,
    }
}

// ---------------------------------------------------------------------------------------------
// Readers

/// A sealed record as stored: what a [`CategoryReader`] opens.
#[derive(Clone)]
pub struct SealedRecord {
    pub(crate) id: RecordId,
    pub(crate) kind: RecordKind,
    pub(crate) body: Vec<u8>,
}

impl SealedRecord {
    /// The record's id.
    pub fn id(&self) -> RecordId {
        self.id
    }

    /// The record's kind (stored in plaintext).
    pub fn kind(&self) -> RecordKind {
        self.kind
    }
}

impl fmt::Debug for SealedRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SealedRecord({}, {})", self.id, self.kind.as_str())
    }
}

/// Holds one client's keys for a fixed set of categories, and nothing else: not the client key,
/// not any other category's key. Only the firewall makes one.
pub struct CategoryReader {
    client: ClientId,
    vault_id: [u8; 16],
    keys: Vec<(Category, SealingKey)>,
}

impl fmt::Debug for CategoryReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CategoryReader")
            .field("client", &self.client)
            .field("categories", &self.categories())
            .finish_non_exhaustive()
    }
}

impl CategoryReader {
    pub(crate) fn new(
        client: ClientId,
        vault_id: [u8; 16],
        key: &ClientKey,
        alg: Algorithm,
        categories: impl IntoIterator<Item = Category>,
    ) -> Result<Self> {
        let mut keys = Vec::new();
        for c in categories {
            if !keys.iter().any(|(k, _)| *k == c) {
                keys.push((c, key.category_key(c, alg)?));
            }
        }
        Ok(Self { client, vault_id, keys })
    }

    /// The categories this reader can open.
    pub fn categories(&self) -> Vec<Category> {
        self.keys.iter().map(|(c, _)| *c).collect()
    }

    /// The client this reader reads.
    pub fn client(&self) -> ClientId {
        self.client
    }

    /// Opens the section of `category` in `record`, if the record has one. A category this reader
    /// holds no key for is [`crate::ErrorKind::Denied`]: the reader cannot open it, and says so.
    pub fn open(&self, record: &SealedRecord, category: Category) -> Result<Option<Zeroizing<Vec<u8>>>> {
        let key = self
            .keys
            .iter()
            .find(|(c, _)| *c == category)
            .map(|(_, k)| k)
            .ok_or_else(|| Error::denied(format!("this reader holds no key for {category}")))?;
        for sealed in crate::sealed_record::split_sections(&record.body, record.id.0)? {
            let header = crate::seal::Header::parse(sealed).map_err(|e| Error::integrity("record", record.id, e))?;
            if &header.commitment == key.commitment() {
                let row = record.id.0.to_be_bytes();
                let aad = crate::sealed_record::section_aad(&self.vault_id, &self.client, &row, category);
                return key.open(&aad, sealed).map(Some).map_err(|e| Error::integrity("record", record.id, e));
            }
        }
        Ok(None)
    }

    /// Every section of `record` this reader can open, as (category, plaintext JSON).
    pub fn open_all(&self, record: &SealedRecord) -> Result<Vec<(Category, Zeroizing<Vec<u8>>)>> {
        let mut out = Vec::new();
        for (c, _) in &self.keys {
            if let Some(p) = self.open(record, *c)? {
                out.push((*c, p));
            }
        }
        Ok(out)
    }

    fn parse<T: serde::de::DeserializeOwned>(&self, record: &SealedRecord, category: Category) -> Result<Option<T>> {
        self.open(record, category)?
            .map(|p| {
                serde_json::from_slice(&p)
                    .map_err(|_| Error::corrupt("record", record.id, "a section does not hold the expected fields"))
            })
            .transpose()
    }
}

// ---------------------------------------------------------------------------------------------
// Gate

/// What the gate learned about a client: booleans, record ids and move dates only.
#[derive(Clone, Debug, Default)]
pub(crate) struct Gate {
    pub(crate) protected_relief: bool,
    pub(crate) vawa_grantee: bool,
    /// Address records marked confidential (shelter, DV, safe house).
    pub(crate) confidential: BTreeSet<RecordId>,
    /// Each address record's move-in date, so the notice follows the facts' own dates and never
    /// the order they were typed in. A record whose date cannot be read is absent.
    pub(crate) moved_on: BTreeMap<RecordId, Date>,
    /// A digest of each confidential address, so the same shelter entered again without the
    /// flag is still recognised. In memory only, for one notice.
    pub(crate) confidential_places: BTreeSet<[u8; 32]>,
}

/// The move-in date and the address of an address history section.
#[derive(serde::Deserialize)]
struct Place {
    moved_on: Date,
    address: PostalAddress,
}

/// A digest of an address that ignores case, spacing and punctuation, so "1 Shelter Row" and
/// "1 shelter row." compare equal.
fn place_digest(a: &PostalAddress) -> [u8; 32] {
    let mut h = blake3::Hasher::new_derive_key("caseward v1 gate address comparison");
    for part in a.lines.iter().chain([&a.city, &a.state, &a.zip]) {
        let folded: String = part.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect();
        h.update(folded.as_bytes());
        h.update(&[0]);
    }
    *h.finalize().as_bytes()
}

impl Gate {
    pub(crate) fn read(reader: &CategoryReader, rows: &[SealedRecord]) -> Result<Self> {
        let mut g = Self::default();
        for row in rows {
            match row.kind {
                RecordKind::Legal => {
                    g.protected_relief |= reader.open(row, Category::LegalReliefProtected)?.is_some();
                }
                RecordKind::Enrollment => {
                    g.vawa_grantee |= reader.parse::<bool>(row, Category::RegimeVawaGrantee)?.unwrap_or(false);
                }
                RecordKind::Address => {
                    let confidential =
                        reader.parse::<bool>(row, Category::SafetyLocationConfidential)?.unwrap_or(false);
                    if confidential {
                        g.confidential.insert(row.id);
                    }
                    if let Some(p) = reader.parse::<Place>(row, Category::ContactAddress)? {
                        g.moved_on.insert(row.id, p.moved_on);
                        if confidential {
                            g.confidential_places.insert(place_digest(&p.address));
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(g)
    }

    pub(crate) fn categories() -> [Category; 4] {
        ICE_GATE
    }

    /// Whether the address record `id`, holding `address` reported to ICE on `reported_on`, may
    /// be named to ICE on `today`. It may not when:
    /// - it is confidential, or the same place is recorded as confidential anywhere;
    /// - its move-in date is unknown, later than the day it was reported, or after today (a
    ///   mistyped date must not outrank a real shelter move);
    /// - any confidential address was moved into on or after it (a later move to a shelter
    ///   must not be answered with the address the client left).
    ///
    /// All by the facts' dates, so a shelter entered before the history it follows still counts.
    fn address_may_go_to_ice(&self, id: RecordId, address: &PostalAddress, reported_on: Date, today: Date) -> bool {
        let Some(&moved) = self.moved_on.get(&id) else { return false };
        !self.confidential.contains(&id)
            && !self.confidential_places.contains(&place_digest(address))
            && moved <= reported_on
            && moved <= today
            && self.confidential.iter().all(|c| self.moved_on.get(c).is_some_and(|since| *since < moved))
    }
}

/// The categories an active consent names for `recipient` on `today`.
pub(crate) fn consented(
    reader: &CategoryReader,
    rows: &[SealedRecord],
    recipient: &str,
    today: Date,
) -> Result<BTreeSet<Category>> {
    let mut out = BTreeSet::new();
    for row in rows.iter().filter(|r| r.kind == RecordKind::Consent) {
        if let Some(c) = reader.parse::<ConsentRecord>(row, Category::Consent)? {
            if c.recipient == recipient && consent_active(&c, today) {
                out.extend(c.categories.iter().copied());
            }
        }
    }
    Ok(out)
}

/// A consent is active from the day it was signed through its expiry date, unless revoked. A
/// revocation takes effect at once, whatever date it carries.
pub fn consent_active(c: &ConsentRecord, today: Date) -> bool {
    c.revoked_on.is_none() && c.signed_on <= today && today <= c.expires_on
}

// ---------------------------------------------------------------------------------------------
// The ICE notice

/// The next ICE check-in, as ICE set it.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct IceCheckIn {
    /// Date.
    pub date: Date,
    /// Time, if set.
    pub time: Option<String>,
    /// ICE office.
    pub office: String,
    /// In person, app or phone.
    pub modality: Modality,
}

/// The next court hearing.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct IceCourtDate {
    /// Date.
    pub date: Date,
    /// Time, if set.
    pub time: Option<String>,
    /// Immigration court.
    pub court: String,
}

/// The address part of an ICE notice.
#[derive(Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum IceAddress {
    /// The address of record as the client reported it to ICE, with the filings that prove it.
    OnRecord {
        /// The address.
        address: PostalAddress,
        /// When the client reported it to ICE.
        reported_on: Date,
        /// AR-11, EOIR-33 and ICE-portal confirmations, when the policy and consent allow.
        filings: Option<Filings>,
    },
    /// No address is disclosed. The same words whatever the reason (no consent, a confidential
    /// location, a site rule, none on file), so the notice never tells which.
    ClientReportsDirectly,
}

/// What may go to ICE about a client: exactly the ICE floor (`docs/law.md#ice-floor`), and no
/// way to hold more.
/// Built only by [`crate::Vault::ice_notice`], which logs it in the same transaction.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct IceNotice {
    a_number: AlienNumber,
    name: String,
    next_check_in: Option<IceCheckIn>,
    address: IceAddress,
    next_court_date: Option<IceCourtDate>,
    as_of: Date,
    #[serde(skip)]
    bytes: Vec<u8>,
}

redacted_debug!(IceCheckIn, IceCourtDate, IceAddress, ViewRecord);

impl fmt::Debug for IceNotice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IceNotice { [redacted] }")
    }
}

impl IceNotice {
    /// The canonical A-number.
    pub fn a_number(&self) -> &AlienNumber {
        &self.a_number
    }
    /// The name exactly as on ICE paperwork.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The next check-in, if one is scheduled.
    pub fn next_check_in(&self) -> Option<&IceCheckIn> {
        self.next_check_in.as_ref()
    }
    /// The address of record, or the statement that the client reports it directly.
    pub fn address(&self) -> &IceAddress {
        &self.address
    }
    /// The next court date, if the policy allows it and one is scheduled.
    pub fn next_court_date(&self) -> Option<&IceCourtDate> {
        self.next_court_date.as_ref()
    }
    /// The date the notice was made.
    pub fn as_of(&self) -> Date {
        self.as_of
    }
    /// The exact bytes that were logged (JSON): send these.
    pub fn to_json(&self) -> &[u8] {
        &self.bytes
    }
}

/// What the policy and the client's consent allow into one ICE notice.
#[derive(Clone, Copy, Debug)]
pub(crate) struct IceAllowance {
    pub(crate) check_in: bool,
    pub(crate) court: bool,
    pub(crate) address: bool,
    pub(crate) filings: bool,
}

impl IceAllowance {
    /// The keys the ICE reader gets: the floor categories this notice may carry.
    pub(crate) fn categories(&self) -> Vec<Category> {
        let mut c = vec![Category::IdentifierAlienNumber, Category::IdentifierNameDhs];
        if self.check_in {
            c.push(Category::ObligationReportingNext);
        }
        if self.court {
            c.push(Category::ObligationCourtNext);
        }
        if self.address {
            c.push(Category::ObligationAddressOfRecord);
        }
        if self.filings {
            c.push(Category::ObligationAddressFiling);
        }
        c
    }
}

/// Decides what an ICE notice may carry for this client, from the policy, the gate and the
/// per-disclosure consent. `Denied` when no notice may be made at all.
pub(crate) fn ice_allowance(policy: &Policy, gate: &Gate, address_consent: bool) -> Result<IceAllowance> {
    let t = |c| policy.treatment(&Audience::Ice, c).min(ceiling(AudienceClass::Ice, c));
    if t(Category::IdentifierAlienNumber) < Treatment::Reveal || t(Category::IdentifierNameDhs) < Treatment::Reveal {
        return Err(Error::denied("the policy in force allows no ICE notices"));
    }
    if gate.protected_relief || gate.vawa_grantee {
        // One message for every client-specific reason, so the refusal reveals none of them.
        return Err(Error::denied("no ICE notice may be produced for this client"));
    }
    let allowed = |c| match t(c) {
        Treatment::Reveal => true,
        Treatment::Consent => address_consent,
        _ => false,
    };
    let address = allowed(Category::ObligationAddressOfRecord);
    Ok(IceAllowance {
        check_in: allowed(Category::ObligationReportingNext),
        court: allowed(Category::ObligationCourtNext),
        address,
        filings: address && allowed(Category::ObligationAddressFiling),
    })
}

/// Builds the notice from the ICE reader alone. The reader holds the floor keys the allowance
/// names; `confidential` (from the gate) lists address records never to be sent.
pub(crate) fn build_ice_notice(
    reader: &CategoryReader,
    rows: &[SealedRecord],
    allow: IceAllowance,
    gate: &Gate,
    today: Date,
) -> Result<(IceNotice, Vec<Category>)> {
    let mut a_number = None;
    let mut name = None;
    let mut check_ins: Vec<CheckInSection> = Vec::new();
    let mut hearings: Vec<HearingSection> = Vec::new();
    let mut of_record: Vec<(RecordId, AddressOfRecordSection)> = Vec::new();
    for row in rows {
        match row.kind {
            RecordKind::Identity => {
                let a: Option<AlienNumberSection> = reader.parse(row, Category::IdentifierAlienNumber)?;
                a_number = a.map(|a| a.canonical);
                name = reader.parse::<String>(row, Category::IdentifierNameDhs)?;
            }
            RecordKind::CheckIn if allow.check_in => {
                check_ins.extend(reader.parse::<CheckInSection>(row, Category::ObligationReportingNext)?);
            }
            RecordKind::Hearing if allow.court => {
                hearings.extend(reader.parse::<HearingSection>(row, Category::ObligationCourtNext)?);
            }
            RecordKind::Address if allow.address => {
                of_record.extend(
                    reader
                        .parse::<AddressOfRecordSection>(row, Category::ObligationAddressOfRecord)?
                        .map(|a| (row.id, a)),
                );
            }
            _ => {}
        }
    }
    let a_number = a_number.ok_or_else(|| Error::not_found("the client's A-number"))?;
    let name =
        name.filter(|n| !n.is_empty()).ok_or_else(|| Error::not_found("the client's name as on DHS paperwork"))?;
    let mut disclosed = vec![Category::IdentifierAlienNumber, Category::IdentifierNameDhs];
    // "Next" is the earliest on or after today; ties are broken on every field, so two records
    // for one day give the same answer whatever order they were entered in.
    let next_check_in = check_ins
        .into_iter()
        .filter(|c| c.date >= today)
        .min_by(|a, b| (a.date, &a.time, &a.office, a.modality).cmp(&(b.date, &b.time, &b.office, b.modality)))
        .map(|c| IceCheckIn { date: c.date, time: c.time, office: c.office, modality: c.modality });
    if next_check_in.is_some() {
        disclosed.push(Category::ObligationReportingNext);
    }
    let next_court_date = hearings
        .into_iter()
        .filter(|h| h.date >= today)
        .min_by(|a, b| (a.date, &a.time, &a.court).cmp(&(b.date, &b.time, &b.court)))
        .map(|h| IceCourtDate { date: h.date, time: h.time, court: h.court });
    if next_court_date.is_some() {
        disclosed.push(Category::ObligationCourtNext);
    }
    let address = match address_of_record(of_record, gate, today) {
        Some((ids, a)) => {
            disclosed.push(Category::ObligationAddressOfRecord);
            // Duplicates of the address of record give their filings only if they agree.
            let mut filings = None;
            if allow.filings {
                let mut seen = Vec::new();
                for r in rows.iter().filter(|r| ids.contains(&r.id)) {
                    seen.push(reader.parse::<Filings>(r, Category::ObligationAddressFiling)?);
                }
                if seen.windows(2).all(|w| w.first() == w.last()) {
                    filings = seen.into_iter().next().flatten();
                }
            }
            if filings.is_some() {
                disclosed.push(Category::ObligationAddressFiling);
            }
            IceAddress::OnRecord { address: a.address, reported_on: a.reported_on, filings }
        }
        None => IceAddress::ClientReportsDirectly,
    };
    let mut notice =
        IceNotice { a_number, name, next_check_in, address, next_court_date, as_of: today, bytes: Vec::new() };
    notice.bytes = serde_json::to_vec(&notice).map_err(|_| Error::input("the notice could not be serialized"))?;
    Ok((notice, disclosed))
}

/// The address of record: the one most recently reported to ICE, by the facts' dates (the day
/// it was reported, then the day the client moved in). `None` (the client reports directly)
/// when the gate forbids it, or when two records tie on both dates with different addresses:
/// conflicting facts are not resolved by guessing which was typed last.
fn address_of_record(
    candidates: Vec<(RecordId, AddressOfRecordSection)>,
    gate: &Gate,
    today: Date,
) -> Option<(Vec<RecordId>, AddressOfRecordSection)> {
    let key = |(id, a): &(RecordId, AddressOfRecordSection)| (a.reported_on, gate.moved_on.get(id).copied());
    let best = candidates.iter().map(key).max()?;
    let mut top = candidates.into_iter().filter(|c| key(c) == best);
    let (first, address) = top.next()?;
    let mut ids = vec![first];
    for (id, other) in top {
        if other.address != address.address {
            return None;
        }
        ids.push(id);
    }
    ids.iter()
        .all(|id| gate.address_may_go_to_ice(*id, &address.address, address.reported_on, today))
        .then_some((ids, address))
}

// ---------------------------------------------------------------------------------------------
// Views

/// One record as an audience may see it: only the categories it may receive.
#[derive(Clone, PartialEq, Serialize)]
pub struct ViewRecord {
    /// The record's id.
    pub id: RecordId,
    /// Its kind.
    pub kind: RecordKind,
    /// Each visible category's value, as stored.
    pub sections: BTreeMap<Category, serde_json::Value>,
}

/// A client's record as one audience may see it. Records with nothing visible are left out, so
/// a view does not reveal that, say, a health record exists.
#[derive(Clone, PartialEq, Serialize)]
pub struct ClientView {
    client: ClientId,
    audience: String,
    policy: PolicyHash,
    as_of: Date,
    records: Vec<ViewRecord>,
    #[serde(skip)]
    bytes: Vec<u8>,
}

impl fmt::Debug for ClientView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClientView {{ client: {}, audience: {}, [redacted] }}", self.client, self.audience)
    }
}

impl ClientView {
    /// The client.
    pub fn client(&self) -> ClientId {
        self.client
    }
    /// Who it is for.
    pub fn audience(&self) -> &str {
        &self.audience
    }
    /// The policy it was built under.
    pub fn policy(&self) -> PolicyHash {
        self.policy
    }
    /// The visible records.
    pub fn records(&self) -> &[ViewRecord] {
        &self.records
    }
    /// Every category that appears in the view.
    pub fn categories(&self) -> BTreeSet<Category> {
        self.records.iter().flat_map(|r| r.sections.keys().copied()).collect()
    }
    /// The exact bytes that were logged (JSON).
    pub fn to_json(&self) -> &[u8] {
        &self.bytes
    }
}

/// The client's own copy of their record (right of access), as JSON.
#[derive(Clone, PartialEq)]
pub struct ClientCopy(pub(crate) ClientView);

/// What a partner receives: only the categories an active consent names for that partner.
#[derive(Clone, PartialEq)]
pub struct PartnerReferral(pub(crate) ClientView);

impl fmt::Debug for ClientCopy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClientCopy({:?})", self.0)
    }
}

impl fmt::Debug for PartnerReferral {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PartnerReferral({:?})", self.0)
    }
}

impl ClientCopy {
    /// The view.
    pub fn view(&self) -> &ClientView {
        &self.0
    }
    /// The JSON bytes that were logged.
    pub fn to_json(&self) -> &[u8] {
        self.0.to_json()
    }
}

impl PartnerReferral {
    /// The view.
    pub fn view(&self) -> &ClientView {
        &self.0
    }
    /// The JSON bytes that were logged.
    pub fn to_json(&self) -> &[u8] {
        self.0.to_json()
    }
}

/// The categories `audience` may see of this client: `reveal` cells, and `consent` cells that an
/// active consent names. `Denied` for audiences that never get client-level views, and for a
/// partner no active consent names: a partner sees a client only because the client said so,
/// whichever door the request comes through.
pub(crate) fn view_categories(
    policy: &Policy,
    audience: &Audience,
    consents: &BTreeSet<Category>,
) -> Result<Vec<Category>> {
    match audience.class() {
        AudienceClass::Ice => return Err(Error::denied("ICE receives only an ICE notice")),
        AudienceClass::Board | AudienceClass::Funder | AudienceClass::Evaluator => {
            return Err(Error::denied("this audience receives aggregate reports, not client records"))
        }
        AudienceClass::Partner if consents.is_empty() => {
            return Err(Error::denied(format!("no active consent names {audience}")))
        }
        _ => {}
    }
    Ok(Category::all()
        .filter(|&c| {
            let t = policy.treatment(audience, c).min(ceiling(audience.class(), c));
            t == Treatment::Reveal || (t == Treatment::Consent && consents.contains(&c))
        })
        .collect())
}

/// Removes from a section what identifies another person. A household link stores the lead's
/// A-number and a household id (which programs often set to the lead's case number); only
/// staff (caseworker, supervisor) see them. A partner the client consented to, and the client's
/// own copy, get the household's size and minors without another person's identifier.
fn project(audience: &Audience, category: Category, value: &mut serde_json::Value) {
    let staff = matches!(audience.class(), AudienceClass::Caseworker | AudienceClass::Supervisor);
    if category == Category::HouseholdComposition && !staff {
        if let Some(map) = value.as_object_mut() {
            map.remove("lead_a_number");
            map.remove("household_id");
        }
    }
}

/// Builds a view from a reader that holds exactly the visible categories.
pub(crate) fn build_view(
    reader: &CategoryReader,
    rows: &[SealedRecord],
    audience: &Audience,
    policy: PolicyHash,
    today: Date,
) -> Result<ClientView> {
    let mut records = Vec::new();
    for row in rows {
        let mut sections = BTreeMap::new();
        for (c, plain) in reader.open_all(row)? {
            let mut v: serde_json::Value = serde_json::from_slice(&plain)
                .map_err(|_| Error::corrupt("record", row.id, "a section is not JSON"))?;
            project(audience, c, &mut v);
            sections.insert(c, v);
        }
        if !sections.is_empty() {
            records.push(ViewRecord { id: row.id, kind: row.kind, sections });
        }
    }
    let mut view = ClientView {
        client: reader.client(),
        audience: audience.to_string(),
        policy,
        as_of: today,
        records,
        bytes: Vec::new(),
    };
    view.bytes = serde_json::to_vec(&view).map_err(|_| Error::input("the view could not be serialized"))?;
    Ok(view)
}
