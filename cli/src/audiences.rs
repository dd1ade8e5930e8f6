//! The demo's month of casework for one client, and what each audience sees of it, side by side.

use std::collections::BTreeSet;

use caseward::{
    AddressConsent, AddressEpisode, Audience, CaseNote, Category, CheckIn, ClientId, ConsentRecord, Date, Error,
    Filing, Filings, HealthKind, HealthRecord, Hearing, HearingKind, Intake, Modality, PartnerId, Policy,
    PostalAddress, Record, Referral, ReferralStatus, Screening, ScreeningKind, ServiceKind, Treatment, Vault,
};

const PARTNER: &str = "legal-aid-1";

fn short(v: &serde_json::Value) -> String {
    let text = v.to_string();
    if text.chars().count() > 90 {
        format!("{}…", text.chars().take(89).collect::<String>())
    } else {
        text
    }
}

/// Picks a client that is neither a VAWA-grantee nor has protected relief or a confidential
/// address, records a month of work, and prints each audience's output.
pub fn show(vault: &Vault, ids: &[ClientId], intakes: &[Intake]) -> Result<(), Error> {
    let today = Date::today();
    let plain = |i: &Intake| {
        !i.enrollment.vawa_grantee
            && !i.records.iter().any(|r| matches!(r, Record::Legal(_) | Record::Household(_)))
            && !i.records.iter().any(|r| matches!(r, Record::Address(a) if a.confidential))
    };
    let mut candidates = ids.iter().zip(intakes).filter(|(_, i)| plain(i)).map(|(id, _)| *id);
    let (Some(client), Some(sheltered)) = (candidates.next(), candidates.next()) else {
        return Err(Error::InvalidInput("the demo needs at least two ordinary clients: use more --clients".into()));
    };

    // A month of casework: a move (with one filing done), a check-in and a hearing ahead, a
    // mental-health screen and counselling, a legal referral, a consent for the legal partner,
    // a case note.
    let records = [
        Record::Address(AddressEpisode {
            address: PostalAddress {
                lines: vec!["4410 Westheimer Rd Apt 12".into()],
                city: "Houston".into(),
                state: "TX".into(),
                zip: "77027".into(),
            },
            moved_on: today.add_days(-2),
            until: None,
            confidential: false,
            reported_to_ice_on: Some(today.add_days(-1)),
            filings: Filings {
                eoir33: Some(Filing { filed_on: today.add_days(-1), confirmation: None }),
                ..Filings::default()
            },
        }),
        Record::CheckIn(CheckIn {
            date: today.add_days(20),
            time: Some("09:30".into()),
            office: "Houston ERO, 126 Northpoint Dr".into(),
            modality: Modality::InPerson,
            attendance: None,
        }),
        Record::Hearing(Hearing {
            date: today.add_days(45),
            time: Some("08:30".into()),
            court: "Houston Immigration Court (Greens Pkwy)".into(),
            kind: HearingKind::MasterCalendar,
            outcome: None,
        }),
        Record::Screening(Screening {
            kind: ScreeningKind::MentalHealth,
            date: today.add_days(-10),
            instrument: "RHS-15".into(),
            result: "distress above threshold".into(),
            positive: true,
            referred: true,
        }),
        Record::Health(HealthRecord {
            kind: HealthKind::Mental,
            date: today.add_days(-8),
            summary: "Nightmares since the journey; weekly counselling agreed.".into(),
        }),
        Record::Referral(Referral {
            kind: ServiceKind::LegalServices,
            partner: PARTNER.into(),
            date: today.add_days(-6),
            status: ReferralStatus::Accepted,
        }),
        Record::Note(CaseNote {
            author: "cw-4".into(),
            date: today.add_days(-5),
            text: "Worried about the check-in; walked through what to bring.".into(),
            psychotherapy: false,
        }),
    ];
    for r in &records {
        vault.add_record(client, r)?;
    }
    vault.grant_consent(
        client,
        &ConsentRecord {
            recipient: format!("partner:{PARTNER}"),
            categories: vec![
                Category::LegalCase,
                Category::ObligationCourtNext,
                Category::Referral(ServiceKind::LegalServices),
            ],
            purpose: "representation at the hearing".into(),
            signed_on: today.add_days(-6),
            expires_on: today.add_days(180),
            revoked_on: None,
        },
    )?;
    // Another client moves to a domestic-violence shelter: a confidential location.
    vault.add_record(
        sheltered,
        &Record::Address(AddressEpisode {
            address: PostalAddress {
                lines: vec!["(shelter)".into()],
                city: "Houston".into(),
                state: "TX".into(),
                zip: "77002".into(),
            },
            moved_on: today.add_days(-1),
            until: None,
            confidential: true,
            reported_to_ice_on: None,
            filings: Filings::default(),
        }),
    )?;

    println!("client {client}: a move two days ago, a check-in and a hearing ahead, a mental-health screen,");
    println!("counselling, a legal referral, a case note, and a consent for partner {PARTNER}.");

    println!("\n-- deadlines the move triggers (for the client's reminders; nothing leaves)");
    let d = vault.deadlines(client)?;
    for duty in &d.duties {
        let state = duty.met_on.map_or_else(|| "OPEN".to_owned(), |m| format!("filed {m}"));
        println!("  {:<62} due {}  {state}", duty.duty.describe(), duty.due);
    }

    let caseworker = vault.client_view(client, &Audience::Caseworker)?;
    println!("\n-- caseworker: the whole record ({} categories)", caseworker.categories().len());
    for rec in caseworker.records() {
        for (cat, value) in &rec.sections {
            println!("  [{cat}] {}", short(value));
        }
    }
    let copy = vault.client_copy(client)?;
    println!("\n-- the client's own copy: {} of those categories", copy.view().categories().len());
    let referral = vault.partner_referral(client, &PartnerId::new(PARTNER)?)?;
    println!("\n-- legal partner {PARTNER}: only what the consent names");
    for rec in referral.view().records() {
        for (cat, value) in &rec.sections {
            println!("  [{cat}] {}", short(value));
        }
    }

    let notice = vault.ice_notice(client, AddressConsent::GivenForThisNotice)?;
    let ice_categories: BTreeSet<String> = vault
        .read_log()?
        .last()
        .and_then(|(_, detail)| detail.as_ref())
        .and_then(|d| d.get("categories"))
        .and_then(|c| c.as_array())
        .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    println!(
        "\n-- ICE: the reporting and address floor, nothing else (address with the client's consent for this notice)"
    );
    let pretty: serde_json::Value =
        serde_json::from_slice(notice.to_json()).map_err(|_| Error::InvalidInput("json".into()))?;
    println!("{}", serde_json::to_string_pretty(&pretty).unwrap_or_default());
    let shelter = vault.ice_notice(sheltered, AddressConsent::GivenForThisNotice)?;
    let status = serde_json::from_slice::<serde_json::Value>(shelter.to_json())
        .ok()
        .and_then(|v| v.pointer("/address/status").and_then(|s| s.as_str().map(str::to_owned)))
        .unwrap_or_default();
    println!("ICE notice for a client now at a confidential shelter, even with consent: address = {status:?}");
    if let Some(protected) = ids.first() {
        match vault.ice_notice(*protected, AddressConsent::GivenForThisNotice) {
            Err(e) => println!("ICE notice for a client with protected relief (VAWA/T/U): {e}"),
            Ok(_) => println!("ICE notice for a client with protected relief: produced (this is a bug)"),
        }
    }

    println!("\n-- side by side: which categories of this client each audience receives");
    let policy = Policy::default_policy()?;
    let cols = ["caseworker", "client", PARTNER, "ICE", "board"];
    println!("  {:<34}{}", "category", cols.iter().map(|c| format!("{c:>12}")).collect::<String>());
    let client_cats = copy.view().categories();
    let partner_cats = referral.view().categories();
    for cat in caseworker.categories() {
        let board = match policy.treatment(&Audience::Board, cat) {
            t if t >= Treatment::Aggregate => "count",
            _ => "·",
        };
        let cells = [
            "value",
            if client_cats.contains(&cat) { "value" } else { "·" },
            if partner_cats.contains(&cat) { "value" } else { "·" },
            if ice_categories.contains(cat.as_str()) { "value" } else { "·" },
            board,
        ];
        println!("  {:<34}{}", cat.as_str(), cells.iter().map(|c| format!("{c:>12}")).collect::<String>());
    }
    println!("  (count: only inside disclosure-controlled tables; ·: never)");
    Ok(())
}
