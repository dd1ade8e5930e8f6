//! The `Vault` object and its methods: each converts its arguments, forwards to the core's
//! vault, and converts the result.

use std::sync::Arc;

use caseward as cw;

use crate::convert::client;
use crate::date::IsoDate;
use crate::deadlines::Deadlines;
use crate::enums::ExitReason;
use crate::error::Result;
use crate::extract::ExtractFiles;
use crate::keys::{raw_key, KeyEnvelope};
use crate::log::LogStatus;
use crate::lottery::LotteryFiles;
use crate::notice::IceNotice;
use crate::records::input::{
    intake, Address, CheckIn, Consent, Departure, Health, Hearing, Household, Intake, Legal, Randomization, Referral,
    Screening, Service,
};
use crate::records::stored::StoredRecord;
use crate::report::ReportInputs;
use crate::view::ClientView;

/// An open vault. Safe to share between threads; calls are serialized inside. Call `close()`
/// when done (in Kotlin, or use `.use {}`): later calls fail with `InvalidInput`.
#[derive(Debug, uniffi::Object)]
pub struct Vault {
    inner: cw::Vault,
}

impl Vault {
    fn wrap(inner: cw::Vault) -> Arc<Self> {
        Arc::new(Self { inner })
    }
}

#[uniffi::export]
impl Vault {
    /// Creates a vault protected by a passphrase (scrypt 2^16). Never overwrites a file.
    #[uniffi::constructor]
    pub fn create(path: String, passphrase: String) -> Result<Arc<Self>> {
        Ok(Self::wrap(cw::Vault::create(path, &cw::Passphrase::new(passphrase))?))
    }

    /// Creates a vault opened by a raw 32-byte key from the platform keystore.
    #[uniffi::constructor]
    pub fn create_with_key(path: String, key: Vec<u8>) -> Result<Arc<Self>> {
        Ok(Self::wrap(cw::Vault::create_with_key(path, &raw_key(key)?)?))
    }

    /// Opens a vault with its passphrase. A wrong one is `WrongKey`, before any data is read.
    #[uniffi::constructor]
    pub fn open(path: String, passphrase: String) -> Result<Arc<Self>> {
        Ok(Self::wrap(cw::Vault::open(path, &cw::Passphrase::new(passphrase))?))
    }

    /// Opens a vault with a raw 32-byte key.
    #[uniffi::constructor]
    pub fn open_with_key(path: String, key: Vec<u8>) -> Result<Arc<Self>> {
        Ok(Self::wrap(cw::Vault::open_with_key(path, &raw_key(key)?)?))
    }

    /// Opens a vault with a recovery identity (`AGE-SECRET-KEY-1...`, or an age identity
    /// file's contents): the way back in after the passphrase or the keystore key is lost.
    #[uniffi::constructor]
    pub fn open_with_recovery(path: String, identity: String) -> Result<Arc<Self>> {
        let identity = cw::RecoveryIdentity::parse(&zeroize::Zeroizing::new(identity))?;
        Ok(Self::wrap(cw::Vault::open_with_identity(path, &identity)?))
    }

    /// Adds a recovery recipient (`age1...`): its identity can then open the vault.
    pub fn add_recovery_recipient(&self, recipient: String) -> Result<()> {
        Ok(self.inner.add_recovery_recipient(&cw::RecoveryRecipient::parse(&recipient)?)?)
    }

    /// Removes a recovery recipient. The last way to open a vault cannot be removed.
    pub fn remove_recovery_recipient(&self, recipient: String) -> Result<()> {
        Ok(self.inner.remove_recovery_recipient(&cw::RecoveryRecipient::parse(&recipient)?)?)
    }

    /// Adds a passphrase (scrypt 2^16; at least 12 characters) to a vault that has none.
    pub fn add_passphrase(&self, passphrase: String) -> Result<()> {
        Ok(self.inner.add_passphrase(&cw::Passphrase::new(passphrase), cw::KdfParams::default())?)
    }

    /// Removes the passphrase, so only keystore keys and recovery identities open the vault.
    pub fn remove_passphrase(&self) -> Result<()> {
        Ok(self.inner.remove_passphrase()?)
    }

    /// Adds a raw 32-byte keystore key that can open the vault.
    pub fn add_keystore_key(&self, key: Vec<u8>) -> Result<()> {
        Ok(self.inner.add_keystore_key(&raw_key(key)?)?)
    }

    /// Removes a keystore key. The last way to open a vault cannot be removed.
    pub fn remove_keystore_key(&self, key: Vec<u8>) -> Result<()> {
        Ok(self.inner.remove_keystore_key(&raw_key(key)?)?)
    }

    /// Removes a lost keystore key by the recipient `envelopes()` lists for it (its bytes are
    /// gone with the phone). The last way to open a vault cannot be removed.
    pub fn remove_keystore_recipient(&self, recipient: String) -> Result<()> {
        Ok(self.inner.remove_keystore_recipient(&recipient)?)
    }

    /// The key envelopes that open this vault.
    pub fn envelopes(&self) -> Result<Vec<KeyEnvelope>> {
        Ok(self
            .inner
            .envelopes()?
            .into_iter()
            .map(|e| KeyEnvelope { kind: e.kind.to_string(), recipient: e.recipient })
            .collect())
    }

    /// Enrolls a client; returns the client id.
    pub fn enroll(&self, intake: Intake) -> Result<String> {
        Ok(self.inner.enroll(&self::intake(&intake)?)?.to_string())
    }

    /// The client with this A-number (any written form), if any. Nothing is decrypted.
    pub fn find_by_a_number(&self, a_number: String) -> Result<Option<String>> {
        Ok(self.inner.find_by_a_number(&a_number)?.map(|c| c.to_string()))
    }

    /// Every client id.
    pub fn list_clients(&self) -> Result<Vec<String>> {
        Ok(self.inner.list_clients()?.into_iter().map(|c| c.to_string()).collect())
    }

    /// Records an address episode; returns the record id.
    pub fn record_address(&self, client_id: String, address: Address) -> Result<i64> {
        self.add(&client_id, &cw::Record::Address(address.try_into()?))
    }

    /// Records an ICE check-in.
    pub fn record_check_in(&self, client_id: String, check_in: CheckIn) -> Result<i64> {
        self.add(&client_id, &cw::Record::CheckIn(check_in.into()))
    }

    /// Records a court hearing.
    pub fn record_hearing(&self, client_id: String, hearing: Hearing) -> Result<i64> {
        self.add(&client_id, &cw::Record::Hearing(hearing.into()))
    }

    /// Records a service.
    pub fn record_service(&self, client_id: String, service: Service) -> Result<i64> {
        self.add(&client_id, &cw::Record::Service(service.into()))
    }

    /// Records a screening.
    pub fn record_screening(&self, client_id: String, screening: Screening) -> Result<i64> {
        self.add(&client_id, &cw::Record::Screening(screening.into()))
    }

    /// Records a referral.
    pub fn record_referral(&self, client_id: String, referral: Referral) -> Result<i64> {
        self.add(&client_id, &cw::Record::Referral(referral.into()))
    }

    /// Records the client's immigration case (protected relief blocks every ICE notice).
    pub fn record_legal(&self, client_id: String, legal: Legal) -> Result<i64> {
        self.add(&client_id, &cw::Record::Legal(legal.try_into()?))
    }

    /// Records a health record.
    pub fn record_health(&self, client_id: String, health: Health) -> Result<i64> {
        self.add(&client_id, &cw::Record::Health(health.into()))
    }

    /// Records a departure plan.
    pub fn record_departure(&self, client_id: String, departure: Departure) -> Result<i64> {
        self.add(&client_id, &cw::Record::Departure(departure.into()))
    }

    /// Links the client to a family case (household id, the lead's A-number for a member who
    /// is not the lead, size, minors, relationship); returns the record id.
    pub fn record_household(&self, client_id: String, household: Household) -> Result<i64> {
        self.add(&client_id, &cw::Record::Household(household.try_into()?))
    }

    /// Records the client's exit from the program in their enrollment (replacing an earlier
    /// exit).
    pub fn record_exit(&self, client_id: String, date: IsoDate, reason: ExitReason) -> Result<()> {
        let exit = cw::Exit { date: date.into(), reason: reason.into() };
        self.update_enrollment(&client_id, |e| e.exit = Some(exit))
    }

    /// Records the client's randomized-evaluation selection in their enrollment.
    pub fn record_randomization(&self, client_id: String, randomization: Randomization) -> Result<()> {
        let randomization = randomization.into();
        self.update_enrollment(&client_id, |e| e.randomization = Some(randomization))
    }

    /// Replaces a check-in (to mark it attended or missed). `InvalidInput` when `record_id` is
    /// another kind of record.
    pub fn update_check_in(&self, client_id: String, record_id: i64, check_in: CheckIn) -> Result<()> {
        self.update(&client_id, record_id, &cw::Record::CheckIn(check_in.into()))
    }

    /// Replaces an address episode (a filing made, a move-out date). `InvalidInput` when
    /// `record_id` is another kind of record.
    pub fn update_address(&self, client_id: String, record_id: i64, address: Address) -> Result<()> {
        self.update(&client_id, record_id, &cw::Record::Address(address.try_into()?))
    }

    /// Replaces a hearing (its outcome). `InvalidInput` when `record_id` is another kind of
    /// record.
    pub fn update_hearing(&self, client_id: String, record_id: i64, hearing: Hearing) -> Result<()> {
        self.update(&client_id, record_id, &cw::Record::Hearing(hearing.into()))
    }

    /// Every record of the client, decrypted, oldest first, as the caseworker sees it (staff
    /// only: an app must not show this to anyone else). Not logged, like the core's.
    pub fn client_record(&self, client_id: String) -> Result<Vec<StoredRecord>> {
        Ok(self
            .inner
            .client_record(client(&client_id)?)?
            .records
            .iter()
            .map(|r| StoredRecord { id: r.id.0, value: (&r.record).into() })
            .collect())
    }

    /// Adds a case note, dated today.
    pub fn add_note(&self, client_id: String, author: String, text: String) -> Result<i64> {
        let record = cw::Record::Note(cw::CaseNote { author, date: cw::Date::today(), text, psychotherapy: false });
        self.add(&client_id, &record)
    }

    /// Records a consent to share categories with a partner; logged. Returns its record id.
    pub fn grant_consent(&self, client_id: String, consent: Consent) -> Result<i64> {
        let record: cw::ConsentRecord = consent.try_into()?;
        Ok(self.inner.grant_consent(client(&client_id)?, &record)?.0)
    }

    /// Revokes a consent at once; logged.
    pub fn revoke_consent(&self, client_id: String, consent_id: i64) -> Result<()> {
        Ok(self.inner.revoke_consent(client(&client_id)?, cw::RecordId(consent_id))?)
    }

    /// The client's record as an audience may see it (`caseworker`, `supervisor`, `client`,
    /// `partner:<id>`, ...); logged. `Denied` for ICE, the board, funders and evaluators.
    pub fn client_view(&self, client_id: String, audience: String) -> Result<Arc<ClientView>> {
        let audience: cw::Audience = audience.parse()?;
        // Today, as the core's `client_view` takes it, so the view can say which day it is of.
        let today = cw::Date::today();
        let view = self.inner.client_view_on(client(&client_id)?, &audience, today)?;
        Ok(Arc::new(ClientView::new(&view, today)))
    }

    /// The client's own obligations and deadlines.
    pub fn deadlines(&self, client_id: String) -> Result<Deadlines> {
        Ok((&self.inner.deadlines(client(&client_id)?)?).into())
    }

    /// What may go to ICE: the floor and nothing more; logged. `address_consent`: the client
    /// consented, for this notice, to sending the address of record. Its `to_json()` is the
    /// logged output.
    pub fn ice_notice(&self, client_id: String, address_consent: bool) -> Result<Arc<IceNotice>> {
        let consent =
            if address_consent { cw::AddressConsent::GivenForThisNotice } else { cw::AddressConsent::Withheld };
        Ok(Arc::new(IceNotice::new(&self.inner.ice_notice(client(&client_id)?, consent)?)))
    }

    /// The client's own copy of their record (right of access), as a `ClientView` for the
    /// audience `client`; logged. Its `to_json()` is the logged output.
    pub fn client_copy(&self, client_id: String) -> Result<Arc<ClientView>> {
        // The core's `client_copy` is the client's own view as of today; built here with today
        // named, so the view can say which day it is of (as `client_view`).
        let today = cw::Date::today();
        let view = self.inner.client_view_on(client(&client_id)?, &cw::Audience::Client, today)?;
        Ok(Arc::new(ClientView::new(&view, today)))
    }

    /// What a partner may receive under the client's active consent, as a `ClientView` for the
    /// audience `partner:<id>`; logged. `Denied` when no active consent names the partner. Its
    /// `to_json()` is the logged output.
    pub fn partner_referral(&self, client_id: String, partner: String) -> Result<Arc<ClientView>> {
        let partner = cw::PartnerId::new(&partner)?;
        let today = cw::Date::today();
        let referral = self.inner.partner_referral_on(client(&client_id)?, &partner, today)?;
        Ok(Arc::new(ClientView::new(referral.view(), today)))
    }

    /// Sets the provider id the board knows this vault by.
    pub fn set_provider_id(&self, provider_id: String) -> Result<()> {
        Ok(self.inner.set_provider_id(&provider_id)?)
    }

    /// The provider's report-signing public key, for the board's registry.
    pub fn signing_public_key(&self) -> Result<String> {
        Ok(self.inner.signing_public_key()?)
    }

    /// The board report for a month (`YYYY-MM`), signed and encrypted to the board's age
    /// recipients: an age file's bytes. Logged. `method`: `None` for suppression (k = 11), or
    /// `laplace:EPSILON` / `gaussian:RHO` per table, charged to the period's privacy budget
    /// (`Budget` when it would overspend). `inputs`: the site-level figures that are not in
    /// the records (capacity, declined offers, expenditure); under noise, the sites they name
    /// are the rows of site tables, and every other site's clients count in one `other sites`
    /// row.
    // `default(x)` (the type's default) shows `= None` in Python's signature; `default(x = None)`
    // showed a sentinel object. Two attributes: uniffi 0.31 parses a bare name only last in a list.
    #[uniffi::method(default(method), default(inputs))]
    pub fn board_report(
        &self,
        period: String,
        recipients: Vec<String>,
        method: Option<String>,
        inputs: Option<ReportInputs>,
    ) -> Result<Vec<u8>> {
        let period: cw::Period = period.parse()?;
        let recipients =
            recipients.iter().map(|r| cw::RecoveryRecipient::parse(r)).collect::<std::result::Result<Vec<_>, _>>()?;
        let method = match method.as_deref() {
            None | Some("suppress") => cw::Method::default(),
            Some(m) => cw::Method::Noise { mechanism: cw::report::Mechanism::parse(m)? },
        };
        let inputs = inputs.unwrap_or_default();
        let options = cw::ReportOptions {
            method,
            capacity: inputs.capacity.into_iter().collect(),
            declined_offers: inputs.declined_offers.into_iter().collect(),
            expenditure_usd: inputs.expenditure_usd.into_iter().collect(),
            revise: inputs.revise,
        };
        Ok(self.inner.board_report(period, &options, &recipients)?)
    }

    /// Installs a disclosure policy (TOML text) with site overlays that may only tighten it;
    /// returns its hash. A malformed or widening policy is `Policy`, naming line and rule.
    pub fn install_policy(&self, policy_toml: String, overlays: Vec<String>) -> Result<String> {
        let named: Vec<(String, &str)> =
            overlays.iter().enumerate().map(|(i, o)| (format!("overlay-{}.toml", i + 1), o.as_str())).collect();
        let refs: Vec<(&str, &str)> = named.iter().map(|(n, o)| (*o, n.as_str())).collect();
        let policy = cw::Policy::with_overlays_text(&policy_toml, "policy.toml", &refs)?;
        self.inner.install_policy(&policy)?;
        Ok(policy.hash().to_string())
    }

    /// The hash of the policy in force (`blake3:<hex>`).
    pub fn policy_hash(&self) -> Result<String> {
        Ok(self.inner.policy_hash()?.to_string())
    }

    /// Erases a client (crypto-shredding). Returns whether no residue remains in the file.
    pub fn erase_client(&self, client_id: String) -> Result<bool> {
        Ok(self.inner.erase_client(client(&client_id)?)?.residue_cleared)
    }

    /// Rotates the key-encryption key; returns the new version.
    pub fn rotate_keys(&self) -> Result<u32> {
        Ok(self.inner.rotate_keys()?)
    }

    /// Rotates the root key: every old key envelope is retired, so an old passphrase or an
    /// envelope put back from a copy of the file opens nothing. Recovery recipients and keystore
    /// keys carry over; `passphrase` is the one to keep (the same or a new one), required when
    /// the vault opens with a passphrase. After this, other open handles must open again.
    pub fn rotate_root_key(&self, passphrase: Option<String>) -> Result<()> {
        let kept = passphrase.map(cw::Passphrase::new);
        Ok(self.inner.rotate_root_key(kept.as_ref(), cw::KdfParams::default())?)
    }

    /// Changes the passphrase (scrypt 2^16), rotating the root key so the old passphrase's
    /// envelope, if put back from a copy of the file, opens nothing.
    pub fn change_passphrase(&self, old: String, new: String) -> Result<()> {
        Ok(self.inner.change_passphrase(
            &cw::Passphrase::new(old),
            &cw::Passphrase::new(new),
            cw::KdfParams::default(),
        )?)
    }

    /// Whether `output` is exactly the output log entry `seq` recorded (the `to_json()` bytes
    /// of a notice, view, copy or referral). The log keeps a keyed digest, so only the vault can
    /// confirm an output, and nobody can once the client is erased (`NotFound`).
    pub fn confirm_output(&self, seq: u64, output: Vec<u8>) -> Result<bool> {
        Ok(self.inner.confirm_output(seq, &output)?)
    }

    /// Verifies the disclosure log's hash chain and the vault's sealed head.
    pub fn verify_log(&self) -> Result<LogStatus> {
        Ok(match self.inner.verify_log(None)? {
            cw::LogStatus::Intact { entries, head } => {
                LogStatus { intact: true, entries, head: head.map(|h| h.to_string()), problem: None }
            }
            cw::LogStatus::Broken { seq, problem } => {
                LogStatus { intact: false, entries: seq, head: None, problem: Some(format!("entry {seq}: {problem}")) }
            }
        })
    }

    /// Generates the consortium pseudonym key (first provider only; never replaced).
    pub fn generate_pseudonym_key(&self) -> Result<()> {
        Ok(self.inner.generate_pseudonym_key()?)
    }

    /// Imports the consortium pseudonym key from its age file, with this provider's identity.
    pub fn import_pseudonym_key(&self, age_file: Vec<u8>, identity: String) -> Result<()> {
        let identity = cw::RecoveryIdentity::parse(&zeroize::Zeroizing::new(identity))?;
        Ok(self.inner.import_pseudonym_key(&age_file, &identity)?)
    }

    /// The keyed pseudonym of an A-number in a domain (`board`, `linkage`) and epoch.
    /// `Denied` for a VAWA-grantee client.
    pub fn pseudonym(&self, domain: String, epoch: String, a_number: String) -> Result<String> {
        let domain: cw::Domain = domain.parse()?;
        let epoch = cw::Epoch::new(&epoch)?;
        Ok(self.inner.pseudonym(domain, &epoch, &a_number)?.to_string())
    }

    /// Commits a pool of clients (ids) to the enrollment lottery `lottery` with `slots` places,
    /// before any seed exists, naming where the seed will come from (`seed_source`, such as a
    /// beacon and the pulse it will publish after now): one-time tokens, and a signed and logged
    /// commitment (docs/lottery.md). Returns the public files to publish now.
    pub fn lottery_commit(
        &self,
        lottery: String,
        pool: Vec<String>,
        slots: u32,
        seed_source: String,
    ) -> Result<LotteryFiles> {
        let pool = pool.iter().map(|c| client(c)).collect::<Result<Vec<_>>>()?;
        Ok(self.inner.lottery_commit(&lottery, &pool, slots, &seed_source)?.into())
    }

    /// Draws a committed lottery once with `seed` (a beacon value published after the
    /// commitment) and records each member's arm. Returns the signed draw (JSON bytes). A
    /// second draw of the same pool is refused.
    pub fn lottery_draw(&self, lottery: String, seed: String) -> Result<Vec<u8>> {
        Ok(self.inner.lottery_draw(&lottery, &seed)?)
    }

    /// The evaluator's extract of an evaluation (its randomized participants): k-anonymous,
    /// pseudonymized Parquet and a signed data dictionary, both age-encrypted to `recipients`
    /// (`age1...`). Logged. `selections`: only these lotteries' participants (empty: all);
    /// `k`: 11 unless given. An evaluation is extracted once, and so is each person.
    #[uniffi::method(default(selections), default(k))]
    pub fn evaluator_extract(
        &self,
        evaluation: String,
        recipients: Vec<String>,
        selections: Vec<String>,
        k: Option<u32>,
    ) -> Result<ExtractFiles> {
        let recipients =
            recipients.iter().map(|r| cw::RecoveryRecipient::parse(r)).collect::<std::result::Result<Vec<_>, _>>()?;
        let mut options = cw::extract::ExtractOptions::new(&evaluation);
        options.selections = selections;
        if let Some(k) = k {
            options.k = k;
        }
        Ok(self.inner.evaluator_extract(&options, &recipients)?.into())
    }

    /// A lottery's public files, as committed and drawn.
    pub fn lottery_files(&self, lottery: String) -> Result<LotteryFiles> {
        Ok(self.inner.lottery_files(&lottery)?.into())
    }

    /// How long a write waits for another process's write before it fails with `Storage`
    /// ("locked by another writer"); 10 000 ms by default. Raise it when worker processes share
    /// a vault with a bulk import.
    pub fn set_busy_timeout_ms(&self, millis: u32) -> Result<()> {
        Ok(self.inner.set_busy_timeout(std::time::Duration::from_millis(millis.into()))?)
    }

    /// Closes the vault and zeroizes its keys. Later calls fail with `InvalidInput`.
    pub fn close(&self) -> Result<()> {
        Ok(self.inner.close()?)
    }
}

impl Vault {
    fn add(&self, client_id: &str, record: &cw::Record) -> Result<i64> {
        Ok(self.inner.add_record(client(client_id)?, record)?.0)
    }

    fn update(&self, client_id: &str, record_id: i64, record: &cw::Record) -> Result<()> {
        Ok(self.inner.update_record(client(client_id)?, cw::RecordId(record_id), record)?)
    }

    /// Changes the client's enrollment in one core transaction.
    fn update_enrollment(&self, client_id: &str, change: impl FnOnce(&mut cw::Enrollment)) -> Result<()> {
        Ok(self.inner.update_enrollment(client(client_id)?, change)?)
    }
}
