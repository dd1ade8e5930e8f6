"""What a provider records in a day, through the Python binding, and what comes back: a family's
intake linked as a household, a move and its filings, check-ins marked, a hearing's outcome,
randomization and an exit; then the staff read-back, a typed view, and the board report's
site-level inputs."""

import json
import os
import subprocess

import pytest

import caseward
from caseward import CasewardError

PASS = "python provider day passphrase"
SITE = "site-houston"


@pytest.fixture
def vault(tmp_path):
    v = caseward.Vault.create(str(tmp_path / "provider.cwv"), PASS)
    yield v
    try:
        v.close()
    except CasewardError:
        pass


def mother():
    return caseward.Intake(
        a_number="A# 201-555-012",
        name=caseward.Name(
            verbatim_dhs="GARCIA LOPEZ, MARIA JOSE", verbatim_self="María José García López",
            given=["María", "José"], surnames=["García", "López"], preferred="Majo", aliases=["MARIA GARCIA"],
        ),
        birth_date=caseward.BirthDate(
            year=1990, month=7, day=10, precision=caseward.DatePrecision.DAY, provenance=caseward.DateProvenance.DOCUMENT
        ),
        nationality=["Honduras"], languages=["es", "en"], interpreter_needed=True, sex_gender="female",
        phones=["+1 713 555 0101"], emails=["majo@example.org"], site=SITE, enrolled_on="2026-08-03",
        release_basis=caseward.ReleaseBasis.PAROLE, caseworker="cw-7",
        referral_source=caseward.ReferralSource.BOARD_SELECTION, ethnicity="Lenca",
        ice_subject_id="ICE-SUBJ-4410", tax_id="900-70-1234",
        foreign_documents=[caseward.ForeignDocument(kind="passport", number="HN-E1234567", country="HN")],
    )


def son():
    return caseward.Intake(
        a_number="A201555013",
        name=caseward.Name(verbatim_dhs="GARCIA, JOSUE DAVID", given=["Josué", "David"], surnames=["García"]),
        birth_date=caseward.BirthDate(
            year=2015, month=3, day=None, precision=caseward.DatePrecision.MONTH,
            provenance=caseward.DateProvenance.SELF_REPORT,
        ),
        languages=["es"], site=SITE, enrolled_on="2026-08-03",
    )


def by_kind(records, kind):
    return [r for r in records if isinstance(r.value, getattr(caseward.RecordValue, kind))]


def kind_of(record):
    return next(k for k in dir(caseward.RecordValue) if k.isupper() and isinstance(record.value, getattr(caseward.RecordValue, k)))


def only(records, kind):
    found = by_kind(records, kind)
    assert len(found) == 1, [r.value for r in records]
    return found[0]


def test_a_family_day_round_trips_through_the_staff_read_back(vault):
    lead = vault.enroll(mother())
    child = vault.enroll(son())

    # The family: one household id; the son's link names his mother's A-number (any written form).
    lead_link = caseward.Household(household_id="hh-0042", size=3, minors=1, relationship=caseward.Relationship.LEAD)
    child_link = caseward.Household(
        household_id="hh-0042", lead_a_number="A# 201-555-012", size=3, minors=1, relationship=caseward.Relationship.CHILD
    )
    lead_link_id = vault.record_household(lead, lead_link)
    child_link_id = vault.record_household(child, child_link)
    assert lead_link_id != child_link_id

    # The shelter they left (confidential, with its move-out date), then a move reported to ICE;
    # the new address's filings are still open the day it is recorded.
    shelter = caseward.Address(
        lines=["12 Airline Dr"], city="Houston", state="TX", zip="77022", moved_on="2026-08-03", until="2026-09-09",
        confidential=True,
    )
    shelter_id = vault.record_address(lead, shelter)
    move = caseward.Address(
        lines=["88 Bellaire Blvd", "Apt 12"], city="Houston", state="TX", zip="77036", moved_on="2026-09-10",
        reported_to_ice_on="2026-09-11",
    )
    move_id = vault.record_address(lead, move)
    duties = {d.duty: d for d in vault.deadlines(lead).duties}
    assert duties["ar11"].met_on is None and duties["eoir33"].met_on is None

    # The AR-11 and EOIR-33 are filed, then the ICE portal: marked on the same record.
    move.ar11_filed_on, move.ar11_confirmation = "2026-09-15", "AR11-EAC2690012345"
    move.eoir33_filed_on = "2026-09-12"
    vault.update_address(lead, move_id, move)
    move.ice_portal_filed_on = "2026-09-16"
    vault.update_address(lead, move_id, move)
    duties = {d.duty: d for d in vault.deadlines(lead).duties}
    assert duties["ar11"].met_on == "2026-09-15"
    assert duties["eoir33"].met_on == "2026-09-12"
    assert duties["ice_portal"].met_on == "2026-09-16"

    # Two check-ins: one attended, one missed.
    first = caseward.CheckIn(date="2026-09-20", time="09:30", office="Houston ERO", modality=caseward.Modality.IN_PERSON)
    second = caseward.CheckIn(date="2026-10-20", office="Houston ERO", modality=caseward.Modality.APP)
    first_id = vault.record_check_in(lead, first)
    second_id = vault.record_check_in(lead, second)
    first.attendance = caseward.Attendance.ATTENDED
    second.attendance = caseward.Attendance.MISSED
    vault.update_check_in(lead, first_id, first)
    vault.update_check_in(lead, second_id, second)

    # A master calendar hearing, then its outcome.
    hearing = caseward.Hearing(
        date="2026-10-01", time="13:00", court="Houston Immigration Court", kind=caseward.HearingKind.MASTER_CALENDAR
    )
    hearing_id = vault.record_hearing(lead, hearing)
    hearing.outcome = caseward.HearingOutcome.CONTINUED_FOR_RESPONDENT
    vault.update_hearing(lead, hearing_id, hearing)

    # Randomization, then the son's exit; the mother's randomization must survive her own exit.
    randomization = caseward.Randomization(
        selection_id="sel-0017", stratum="houston-family", arm=caseward.Arm.TREATMENT, selected_on="2026-07-30"
    )
    vault.record_randomization(lead, randomization)
    vault.record_exit(child, "2026-11-30", caseward.ExitReason.MOVED_AWAY)
    vault.record_exit(lead, "2026-12-01", caseward.ExitReason.RELIEF_GRANTED)

    # A legal record and a departure plan with the fields the binding gained.
    legal = caseward.Legal(
        court="Houston", represented=True, represented_since="2026-08-20", relief_sought=["asylum"],
        protected_relief=caseward.ProtectedReliefKind.U_VISA, protected_relief_stage="prima facie",
    )
    vault.record_legal(lead, legal)
    departure = caseward.Departure(country="HN", window="2027-Q2", travel_documents="passport valid")
    vault.record_departure(child, departure)

    # Read everything back: every field as entered.
    records = vault.client_record(lead)
    assert all(isinstance(r.id, int) for r in records)
    identity = only(records, "IDENTITY").value.identity
    m = mother()
    assert identity.a_number == "A201555012"
    assert identity.a_number_as_entered == "A# 201-555-012"
    assert identity.name == m.name
    assert identity.birth_date == m.birth_date
    assert (identity.nationality, identity.languages, identity.interpreter_needed) == (["Honduras"], ["es", "en"], True)
    assert (identity.sex_gender, identity.ethnicity) == ("female", "Lenca")
    assert (identity.ice_subject_id, identity.tax_id) == ("ICE-SUBJ-4410", "900-70-1234")
    assert identity.foreign_documents == m.foreign_documents
    assert (identity.phones, identity.emails) == (m.phones, m.emails)

    enrollment = only(records, "ENROLLMENT").value.enrollment
    assert (enrollment.site, enrollment.enrolled_on, enrollment.caseworker) == (SITE, "2026-08-03", "cw-7")
    assert enrollment.referral_source == caseward.ReferralSource.BOARD_SELECTION
    assert enrollment.release_basis == caseward.ReleaseBasis.PAROLE
    assert enrollment.randomization == randomization
    assert enrollment.exit == caseward.Exit(date="2026-12-01", reason=caseward.ExitReason.RELIEF_GRANTED)
    assert enrollment.vawa_grantee is False

    household = only(records, "HOUSEHOLD")
    assert household.id == lead_link_id and household.value.household == lead_link

    addresses = {r.id: r.value.address for r in by_kind(records, "ADDRESS")}
    # Every field, the move-out date, the filings and their confirmation among them.
    assert addresses == {shelter_id: shelter, move_id: move}
    assert addresses[shelter_id].until == "2026-09-09" and addresses[shelter_id].confidential
    assert addresses[move_id].ar11_confirmation == "AR11-EAC2690012345"

    check_ins = {r.id: r.value.check_in for r in by_kind(records, "CHECK_IN")}
    assert check_ins == {first_id: first, second_id: second}
    assert check_ins[first_id].attendance == caseward.Attendance.ATTENDED
    assert check_ins[second_id].attendance == caseward.Attendance.MISSED

    stored_hearing = only(records, "HEARING")
    assert stored_hearing.id == hearing_id and stored_hearing.value.hearing == hearing
    assert only(records, "LEGAL").value.legal == legal

    # The son: his link carries his mother's canonical A-number; his exit, his departure plan.
    child_records = vault.client_record(child)
    link = only(child_records, "HOUSEHOLD").value.household
    assert link.lead_a_number == "A201555012"
    assert (link.household_id, link.size, link.minors, link.relationship) == ("hh-0042", 3, 1, caseward.Relationship.CHILD)
    child_enrollment = only(child_records, "ENROLLMENT").value.enrollment
    assert child_enrollment.exit == caseward.Exit(date="2026-11-30", reason=caseward.ExitReason.MOVED_AWAY)
    assert child_enrollment.randomization is None
    assert only(child_records, "DEPARTURE").value.departure == departure
    assert only(child_records, "IDENTITY").value.identity.birth_date == son().birth_date

    # Notes and consents come back typed too, a revoked consent with its date.
    vault.add_note(lead, "cw-7", "Filed the EOIR-33 with her.")
    consent_id = vault.grant_consent(
        lead,
        caseward.Consent(recipient="partner:casa-houston", categories=["referral.housing"], purpose="housing",
                         signed_on="2026-08-07", expires_on="2099-08-07"),
    )
    vault.revoke_consent(lead, consent_id)
    records = vault.client_record(lead)
    note = only(records, "NOTE").value.note
    assert (note.author, note.text, note.psychotherapy) == ("cw-7", "Filed the EOIR-33 with her.", False)
    consent = only(records, "CONSENT")
    assert consent.id == consent_id
    assert consent.value.consent.categories == ["referral.housing"]
    assert consent.value.consent.revoked_on is not None


def test_updates_refuse_another_kind_and_unknown_clients(vault):
    cid = vault.enroll(son())
    hearing = caseward.Hearing(date="2026-10-01", court="Houston Immigration Court", kind=caseward.HearingKind.INDIVIDUAL)
    hearing_id = vault.record_hearing(cid, hearing)
    check_in = caseward.CheckIn(
        date="2026-09-20", office="Houston ERO", modality=caseward.Modality.PHONE, attendance=caseward.Attendance.MISSED
    )
    # A hearing's id given to update_check_in: refused, and the hearing is unchanged.
    with pytest.raises(CasewardError.InvalidInput) as e:
        vault.update_check_in(cid, hearing_id, check_in)
    assert "hearing" in str(e.value) and "Houston" not in str(e.value)
    with pytest.raises(CasewardError.InvalidInput):
        vault.update_address(cid, hearing_id, caseward.Address(lines=["x"], city="c", state="TX", zip="1", moved_on="2026-09-01"))
    assert only(vault.client_record(cid), "HEARING").value.hearing == hearing
    # No such record, no such client.
    with pytest.raises(CasewardError.NotFound):
        vault.update_hearing(cid, hearing_id + 1000, hearing)
    unknown = "00" * 16
    with pytest.raises(CasewardError.NotFound):
        vault.record_exit(unknown, "2026-11-30", caseward.ExitReason.WITHDREW)
    with pytest.raises(CasewardError.NotFound):
        vault.record_randomization(
            unknown, caseward.Randomization(selection_id="s", stratum="t", arm=caseward.Arm.CONTROL, selected_on="2026-07-30")
        )
    with pytest.raises(CasewardError.NotFound):
        vault.client_record(unknown)
    # Bad values: an exit date, a lead's receipt number, a confirmation without its filing date.
    with pytest.raises(CasewardError.InvalidInput):
        vault.record_exit(cid, "30/11/2026", caseward.ExitReason.WITHDREW)
    with pytest.raises(CasewardError.InvalidInput) as e:
        vault.record_household(
            cid, caseward.Household(household_id="hh-1", lead_a_number="IOE0912345678", relationship=caseward.Relationship.CHILD)
        )
    assert "IOE0912345678" not in str(e.value)
    with pytest.raises(CasewardError.InvalidInput):
        vault.record_address(
            cid, caseward.Address(lines=["x"], city="c", state="TX", zip="1", moved_on="2026-09-01", ar11_confirmation="EAC1")
        )
    # Nothing of that was written.
    kinds = sorted(kind_of(r) for r in vault.client_record(cid))
    assert kinds == ["ENROLLMENT", "HEARING", "IDENTITY"]
    assert only(vault.client_record(cid), "ENROLLMENT").value.enrollment.exit is None


def test_a_typed_view_whose_bytes_the_log_confirms(vault):
    lead = vault.enroll(mother())
    child = vault.enroll(son())
    vault.record_household(
        child,
        caseward.Household(household_id="hh-0042", lead_a_number="A201555012", size=3, minors=1,
                           relationship=caseward.Relationship.CHILD),
    )
    vault.record_health(child, caseward.Health(kind=caseward.HealthKind.MENTAL, date="2026-08-04", summary="PTSD screen"))
    view = vault.client_view(child, "caseworker")
    assert view.client_id() == child and view.audience() == "caseworker"
    assert len(view.as_of()) == 10 and view.as_of()[4] == "-"
    records = {r.kind: r for r in view.records()}
    assert {"identity", "enrollment", "household"} <= set(records)
    composition = json.loads(records["household"].sections["household.composition"])
    assert composition == {"household_id": "hh-0042", "lead_a_number": "A201555012", "size": 3, "minors": 1}
    assert json.loads(records["household"].sections["household.relationship"]) == "child"
    assert json.loads(records["identity"].sections["identifier.name.dhs"]) == "GARCIA, JOSUE DAVID"

    # to_json() is exactly what the log recorded, and the typed records are the same content.
    logged = view.to_json()
    seq = int(vault.verify_log().head.split(":")[1])
    assert vault.confirm_output(seq, logged)
    assert not vault.confirm_output(seq, logged.replace(b"hh-0042", b"hh-0043"))
    doc = json.loads(logged)
    assert doc["as_of"] == view.as_of() and doc["audience"] == "caseworker"
    from_json = {r["id"]: {c: v for c, v in r["sections"].items()} for r in doc["records"]}
    typed = {r.id: {c: json.loads(v) for c, v in r.sections.items()} for r in view.records()}
    assert typed == from_json

    # Printing the view shows ids, never client data.
    for text in (repr(view), str(view)):
        assert child in text and "GARCIA" not in text and "A201555012" not in text and "hh-0042" not in text

    # The client's own view: the household without another person's identifiers.
    own = {r.kind: r for r in vault.client_view(child, "client").records()}
    assert json.loads(own["household"].sections["household.composition"]) == {"size": 3, "minors": 1}
    # ICE and the board never get a client view.
    for audience in ("ice", "board"):
        with pytest.raises(CasewardError.Denied):
            vault.client_view(child, audience)
    assert lead


def open_report(bundle, board, tmp_path):
    key = tmp_path / "board.key"
    key.write_text(board.expose_identity() + "\n")
    os.chmod(key, 0o600)
    sealed = tmp_path / "report.age"
    sealed.write_bytes(bundle)
    # The stock age tool, as a board member would (.ci/run installs Debian's age).
    out = subprocess.run(["age", "-d", "-i", str(key), str(sealed)], capture_output=True, check=True).stdout
    return json.loads(out)["report"]


def test_board_report_carries_the_site_inputs(vault, tmp_path):
    # Enough clients at the site that table 06 is published rather than withheld.
    for i in range(14):
        vault.enroll(caseward.Intake(a_number=f"A3{i:08d}", name=caseward.Name(verbatim_dhs=f"CLIENT, N{i}"), site=SITE,
                                     enrolled_on="2026-08-03"))
    vault.set_provider_id("bakerripley-houston")
    board = caseward.RecoveryKey.generate()

    bare = open_report(vault.board_report("2026-09", [board.recipient()]), board, tmp_path)
    assert bare["capacity"] == {}
    assert any(o.startswith("02:") for o in bare["omitted"]) and any(o.startswith("06:") for o in bare["omitted"])
    assert "06" not in {t["id"] for t in bare["tables"]}

    inputs = caseward.ReportInputs(
        capacity={SITE: 40}, declined_offers={SITE: 3}, expenditure_usd={SITE: 125_000}
    )
    report = open_report(vault.board_report("2026-09", [board.recipient()], None, inputs), board, tmp_path)
    assert report["provider"] == "bakerripley-houston"
    assert report["capacity"] == {SITE: 40}
    assert not any(o.startswith(("02:", "06:")) for o in report["omitted"]), report["omitted"]
    tables = {t["id"]: t for t in report["tables"]}
    assert "02" in tables
    fy = tables["06"]
    assert fy["covers"] == "FY2026" and fy["rows"] == [SITE] and not fy["withheld"]
    column = fy["columns"].index("expenditure (USD)")
    assert fy["cells"][0][column] == {"count": 125_000}
    # Only inputs for the site: an empty record is the same as none.
    empty = open_report(vault.board_report("2026-09", [board.recipient()], None, caseward.ReportInputs()), board, tmp_path)
    assert empty["capacity"] == {} and "06" not in {t["id"] for t in empty["tables"]}
