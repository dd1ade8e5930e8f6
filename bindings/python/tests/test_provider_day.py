"""What a provider records in a day, through the Python binding, and what comes back: a family's
intake linked as a household, a move and its filings, check-ins marked, a hearing's outcome,
randomization and an exit; then the staff read-back, a typed view, and the board report's
site-level inputs. Dates are ``datetime.date`` both ways. Type-checked with ``mypy --strict``."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import typing
import datetime
from datetime import date

import pytest

import caseward
from caseward import CasewardError


def error_kind(name: str) -> type[CasewardError]:
    """``CasewardError.<name>``, typed. The generated module attaches each kind to the class at
    run time (``_UniffiTempCasewardError.InvalidInput = InvalidInput  # type: ignore``), so a
    type checker does not see ``CasewardError.InvalidInput``; this file looks each up once."""
    kind = getattr(CasewardError, name)
    assert isinstance(kind, type) and issubclass(kind, CasewardError) and kind.__name__ == name
    return kind


InvalidInput, NotFound, Denied = error_kind("InvalidInput"), error_kind("NotFound"), error_kind("Denied")

PASS = "python provider day passphrase"
SITE = "site-houston"


@pytest.fixture
def vault(tmp_path: pathlib.Path) -> typing.Iterator[caseward.Vault]:
    v = caseward.Vault.create(str(tmp_path / "provider.cwv"), PASS)
    yield v
    try:
        v.close()
    except CasewardError:
        pass


def mother() -> caseward.Intake:
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
        phones=["+1 713 555 0101"], emails=["majo@example.org"], site=SITE, enrolled_on=date(2026, 8, 3),
        release_basis=caseward.ReleaseBasis.PAROLE, caseworker="cw-7",
        referral_source=caseward.ReferralSource.BOARD_SELECTION, ethnicity="Lenca",
        ice_subject_id="ICE-SUBJ-4410", tax_id="900-70-1234",
        foreign_documents=[caseward.ForeignDocument(kind="passport", number="HN-E1234567", country="HN")],
    )


def son() -> caseward.Intake:
    return caseward.Intake(
        a_number="A201555013",
        name=caseward.Name(verbatim_dhs="GARCIA, JOSUE DAVID", given=["Josué", "David"], surnames=["García"]),
        birth_date=caseward.BirthDate(
            year=2015, month=3, day=None, precision=caseward.DatePrecision.MONTH,
            provenance=caseward.DateProvenance.SELF_REPORT,
        ),
        languages=["es"], site=SITE, enrolled_on=date(2026, 8, 3),
    )


K = typing.TypeVar("K")


def by_kind(records: list[caseward.StoredRecord], kind: type[K]) -> dict[int, K]:
    """The records of one kind (a ``RecordValue`` variant class), by id."""
    return {r.id: r.value for r in records if isinstance(r.value, kind)}


def kind_of(record: caseward.StoredRecord) -> str:
    return next(
        k for k in dir(caseward.RecordValue) if k.isupper() and isinstance(record.value, getattr(caseward.RecordValue, k))
    )


def only(records: list[caseward.StoredRecord], kind: type[K]) -> tuple[int, K]:
    """The one record of a kind, with its id."""
    found = by_kind(records, kind)
    assert len(found) == 1, [kind_of(r) for r in records]
    return next(iter(found.items()))


def test_a_family_day_round_trips_through_the_staff_read_back(vault: caseward.Vault) -> None:
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
        lines=["12 Airline Dr"], city="Houston", state="TX", zip="77022", moved_on=date(2026, 8, 3), until=date(2026, 9, 9),
        confidential=True,
    )
    shelter_id = vault.record_address(lead, shelter)
    move = caseward.Address(
        lines=["88 Bellaire Blvd", "Apt 12"], city="Houston", state="TX", zip="77036", moved_on=date(2026, 9, 10),
        reported_to_ice_on=date(2026, 9, 11),
    )
    move_id = vault.record_address(lead, move)
    duties = {d.duty: d for d in vault.deadlines(lead).duties}
    assert duties["ar11"].met_on is None and duties["eoir33"].met_on is None

    # The AR-11 and EOIR-33 are filed, then the ICE portal: marked on the same record.
    move.ar11_filed_on, move.ar11_confirmation = date(2026, 9, 15), "AR11-EAC2690012345"
    move.eoir33_filed_on = date(2026, 9, 12)
    vault.update_address(lead, move_id, move)
    move.ice_portal_filed_on = date(2026, 9, 16)
    vault.update_address(lead, move_id, move)
    deadlines = vault.deadlines(lead)
    duties = {d.duty: d for d in deadlines.duties}
    assert duties["ar11"].met_on == date(2026, 9, 15)
    assert duties["eoir33"].met_on == date(2026, 9, 12)
    assert duties["ice_portal"].met_on == date(2026, 9, 16)
    assert deadlines.moved_on == date(2026, 9, 10)
    assert all(type(d.due) is date for d in deadlines.duties)

    # Two check-ins: one attended, one missed.
    first = caseward.CheckIn(date=date(2026, 9, 20), time="09:30", office="Houston ERO", modality=caseward.Modality.IN_PERSON)
    second = caseward.CheckIn(date=date(2026, 10, 20), office="Houston ERO", modality=caseward.Modality.APP)
    first_id = vault.record_check_in(lead, first)
    second_id = vault.record_check_in(lead, second)
    first.attendance = caseward.Attendance.ATTENDED
    second.attendance = caseward.Attendance.MISSED
    vault.update_check_in(lead, first_id, first)
    vault.update_check_in(lead, second_id, second)

    # A master calendar hearing, then its outcome.
    hearing = caseward.Hearing(
        date=date(2026, 10, 1), time="13:00", court="Houston Immigration Court", kind=caseward.HearingKind.MASTER_CALENDAR
    )
    hearing_id = vault.record_hearing(lead, hearing)
    hearing.outcome = caseward.HearingOutcome.CONTINUED_FOR_RESPONDENT
    vault.update_hearing(lead, hearing_id, hearing)

    # Randomization, then the son's exit; the mother's randomization must survive her own exit.
    randomization = caseward.Randomization(
        selection_id="sel-0017", stratum="houston-family", arm=caseward.Arm.TREATMENT, selected_on=date(2026, 7, 30)
    )
    vault.record_randomization(lead, randomization)
    vault.record_exit(child, date(2026, 11, 30), caseward.ExitReason.MOVED_AWAY)
    vault.record_exit(lead, date(2026, 12, 1), caseward.ExitReason.RELIEF_GRANTED)

    # A legal record and a departure plan with the fields the binding gained.
    legal = caseward.Legal(
        court="Houston", represented=True, represented_since=date(2026, 8, 20), relief_sought=["asylum"],
        protected_relief=caseward.ProtectedReliefKind.U_VISA, protected_relief_stage="prima facie",
    )
    vault.record_legal(lead, legal)
    departure = caseward.Departure(country="HN", window="2027-Q2", travel_documents="passport valid")
    vault.record_departure(child, departure)

    # Read everything back: every field as entered.
    records = vault.client_record(lead)
    assert all(isinstance(r.id, int) for r in records)
    identity = only(records, caseward.RecordValue.IDENTITY)[1].identity
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

    enrollment = only(records, caseward.RecordValue.ENROLLMENT)[1].enrollment
    assert (enrollment.site, enrollment.enrolled_on, enrollment.caseworker) == (SITE, date(2026, 8, 3), "cw-7")
    assert type(enrollment.enrolled_on) is date
    assert enrollment.referral_source == caseward.ReferralSource.BOARD_SELECTION
    assert enrollment.release_basis == caseward.ReleaseBasis.PAROLE
    assert enrollment.randomization == randomization
    assert enrollment.exit == caseward.Exit(date=date(2026, 12, 1), reason=caseward.ExitReason.RELIEF_GRANTED)
    assert enrollment.vawa_grantee is False

    household_id, household = only(records, caseward.RecordValue.HOUSEHOLD)
    assert household_id == lead_link_id and household.household == lead_link

    addresses = {i: r.address for i, r in by_kind(records, caseward.RecordValue.ADDRESS).items()}
    # Every field, the move-out date, the filings and their confirmation among them.
    assert addresses == {shelter_id: shelter, move_id: move}
    assert addresses[shelter_id].until == date(2026, 9, 9) and addresses[shelter_id].confidential
    assert addresses[move_id].ar11_confirmation == "AR11-EAC2690012345"

    check_ins = {i: r.check_in for i, r in by_kind(records, caseward.RecordValue.CHECK_IN).items()}
    assert check_ins == {first_id: first, second_id: second}
    assert check_ins[first_id].attendance == caseward.Attendance.ATTENDED
    assert check_ins[second_id].attendance == caseward.Attendance.MISSED

    stored_hearing_id, stored_hearing = only(records, caseward.RecordValue.HEARING)
    assert stored_hearing_id == hearing_id and stored_hearing.hearing == hearing
    assert only(records, caseward.RecordValue.LEGAL)[1].legal == legal

    # The son: his link carries his mother's canonical A-number; his exit, his departure plan.
    child_records = vault.client_record(child)
    link = only(child_records, caseward.RecordValue.HOUSEHOLD)[1].household
    assert link.lead_a_number == "A201555012"
    assert (link.household_id, link.size, link.minors, link.relationship) == ("hh-0042", 3, 1, caseward.Relationship.CHILD)
    child_enrollment = only(child_records, caseward.RecordValue.ENROLLMENT)[1].enrollment
    assert child_enrollment.exit == caseward.Exit(date=date(2026, 11, 30), reason=caseward.ExitReason.MOVED_AWAY)
    assert child_enrollment.randomization is None
    assert only(child_records, caseward.RecordValue.DEPARTURE)[1].departure == departure
    assert only(child_records, caseward.RecordValue.IDENTITY)[1].identity.birth_date == son().birth_date

    # Notes and consents come back typed too, a revoked consent with its date.
    vault.add_note(lead, "cw-7", "Filed the EOIR-33 with her.")
    consent_id = vault.grant_consent(
        lead,
        caseward.Consent(recipient="partner:casa-houston", categories=["referral.housing"], purpose="housing",
                         signed_on=date(2026, 8, 7), expires_on=date(2099, 8, 7)),
    )
    vault.revoke_consent(lead, consent_id)
    records = vault.client_record(lead)
    note = only(records, caseward.RecordValue.NOTE)[1].note
    assert (note.author, note.text, note.psychotherapy) == ("cw-7", "Filed the EOIR-33 with her.", False)
    assert type(note.date) is date
    stored_consent_id, consent = only(records, caseward.RecordValue.CONSENT)
    assert stored_consent_id == consent_id
    assert consent.consent.categories == ["referral.housing"]
    assert (consent.consent.signed_on, consent.consent.expires_on) == (date(2026, 8, 7), date(2099, 8, 7))
    assert type(consent.consent.revoked_on) is date


def test_updates_refuse_another_kind_and_unknown_clients(vault: caseward.Vault) -> None:
    cid = vault.enroll(son())
    hearing = caseward.Hearing(date=date(2026, 10, 1), court="Houston Immigration Court", kind=caseward.HearingKind.INDIVIDUAL)
    hearing_id = vault.record_hearing(cid, hearing)
    check_in = caseward.CheckIn(
        date=date(2026, 9, 20), office="Houston ERO", modality=caseward.Modality.PHONE, attendance=caseward.Attendance.MISSED
    )
    # A hearing's id given to update_check_in: refused, and the hearing is unchanged.
    with pytest.raises(InvalidInput) as e:
        vault.update_check_in(cid, hearing_id, check_in)
    assert "hearing" in str(e.value) and "Houston" not in str(e.value)
    with pytest.raises(InvalidInput):
        vault.update_address(
            cid, hearing_id, caseward.Address(lines=["x"], city="c", state="TX", zip="1", moved_on=date(2026, 9, 1))
        )
    assert only(vault.client_record(cid), caseward.RecordValue.HEARING)[1].hearing == hearing
    # No such record, no such client.
    with pytest.raises(NotFound):
        vault.update_hearing(cid, hearing_id + 1000, hearing)
    unknown = "00" * 16
    with pytest.raises(NotFound):
        vault.record_exit(unknown, date(2026, 11, 30), caseward.ExitReason.WITHDREW)
    with pytest.raises(NotFound):
        vault.record_randomization(
            unknown,
            caseward.Randomization(selection_id="s", stratum="t", arm=caseward.Arm.CONTROL, selected_on=date(2026, 7, 30)),
        )
    with pytest.raises(NotFound):
        vault.client_record(unknown)
    # Bad values: a date as text (even a well-formed one), a lead's receipt number, a
    # confirmation without its filing date.
    with pytest.raises(TypeError):
        vault.record_exit(cid, "2026-11-30", caseward.ExitReason.WITHDREW)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput) as e:
        vault.record_household(
            cid, caseward.Household(household_id="hh-1", lead_a_number="IOE0912345678", relationship=caseward.Relationship.CHILD)
        )
    assert "IOE0912345678" not in str(e.value)
    with pytest.raises(InvalidInput):
        vault.record_address(
            cid,
            caseward.Address(
                lines=["x"], city="c", state="TX", zip="1", moved_on=date(2026, 9, 1), ar11_confirmation="EAC1"
            ),
        )
    # Nothing of that was written.
    kinds = sorted(kind_of(r) for r in vault.client_record(cid))
    assert kinds == ["ENROLLMENT", "HEARING", "IDENTITY"]
    assert only(vault.client_record(cid), caseward.RecordValue.ENROLLMENT)[1].enrollment.exit is None


def test_a_typed_view_whose_bytes_the_log_confirms(vault: caseward.Vault) -> None:
    lead = vault.enroll(mother())
    child = vault.enroll(son())
    vault.record_household(
        child,
        caseward.Household(household_id="hh-0042", lead_a_number="A201555012", size=3, minors=1,
                           relationship=caseward.Relationship.CHILD),
    )
    vault.record_health(child, caseward.Health(kind=caseward.HealthKind.MENTAL, date=date(2026, 8, 4), summary="PTSD screen"))
    view = vault.client_view(child, "caseworker")
    assert view.client_id() == child and view.audience() == "caseworker"
    assert type(view.as_of()) is date
    records = {r.kind: r for r in view.records()}
    assert {"identity", "enrollment", "household"} <= set(records)
    composition = json.loads(records["household"].sections["household.composition"])
    assert composition == {"household_id": "hh-0042", "lead_a_number": "A201555012", "size": 3, "minors": 1}
    assert json.loads(records["household"].sections["household.relationship"]) == "child"
    assert json.loads(records["identity"].sections["identifier.name.dhs"]) == "GARCIA, JOSUE DAVID"

    # to_json() is exactly what the log recorded, and the typed records are the same content.
    logged = view.to_json()
    seq = head_seq(vault)
    assert vault.confirm_output(seq, logged)
    assert not vault.confirm_output(seq, logged.replace(b"hh-0042", b"hh-0043"))
    doc = json.loads(logged)
    assert doc["as_of"] == view.as_of().isoformat() and doc["audience"] == "caseworker"
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
        with pytest.raises(Denied):
            vault.client_view(child, audience)
    assert lead


def test_dates_are_python_dates_both_ways(vault: caseward.Vault) -> None:
    cid = vault.enroll(son())
    # The ends of the range and a leap day round-trip through a record and its read-back.
    days = [date(1, 1, 1), date(2028, 2, 29), date(9999, 12, 31)]
    ids = [vault.record_service(cid, caseward.Service(date=d, kind=caseward.ServiceKind.FOOD)) for d in days]
    services = by_kind(vault.client_record(cid), caseward.RecordValue.SERVICE)
    assert [services[i].service.date for i in ids] == days
    assert all(type(services[i].service.date) is date for i in ids)

    # Text from a spreadsheet goes through the core's parser: a date, or its InvalidInput.
    assert caseward.parse_date("2026-08-03") == date(2026, 8, 3)
    for bad in ("2026-13-01", "2026-02-30", "03/08/2026", "0000-01-01", ""):
        with pytest.raises(InvalidInput) as e:
            caseward.parse_date(bad)
        assert str(e.value) == "invalid date: it is not a valid YYYY-MM-DD date"

    # Anything but a datetime.date is refused before it reaches the vault, naming the type only:
    # text (even well-formed), a datetime (its day depends on its time zone), a number, None.
    wrong: list[object] = ["2026-08-03", datetime.datetime(2026, 8, 3, 23, 30), 20260803, None]
    for value in wrong:
        with pytest.raises(TypeError) as t:
            vault.record_service(cid, caseward.Service(date=value, kind=caseward.ServiceKind.FOOD))  # type: ignore[arg-type]
        assert "2026" not in str(t.value)
        with pytest.raises(TypeError):
            vault.record_exit(cid, value, caseward.ExitReason.WITHDREW)  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            vault.record_address(
                cid, caseward.Address(lines=["x"], city="c", state="TX", zip="1", moved_on=value)  # type: ignore[arg-type]
            )
        if value is not None:  # an optional date may be None, and nothing else but a date
            with pytest.raises(TypeError):
                vault.record_address(
                    cid,
                    caseward.Address(
                        lines=["x"], city="c", state="TX", zip="1", moved_on=date(2026, 9, 1),
                        until=value,  # type: ignore[arg-type]
                    ),
                )
    # Nothing of that was written.
    assert len(by_kind(vault.client_record(cid), caseward.RecordValue.SERVICE)) == 3
    assert not by_kind(vault.client_record(cid), caseward.RecordValue.ADDRESS)
    assert only(vault.client_record(cid), caseward.RecordValue.ENROLLMENT)[1].enrollment.exit is None


def test_outputs_are_objects_whose_bytes_the_log_confirms_and_that_print_nothing(vault: caseward.Vault) -> None:
    lead = vault.enroll(mother())
    vault.record_address(
        lead,
        caseward.Address(lines=["88 Bellaire Blvd", "Apt 12"], city="Houston", state="TX", zip="77036",
                         moved_on=date(2026, 9, 10), reported_to_ice_on=date(2026, 9, 11)),
    )
    vault.record_check_in(
        lead, caseward.CheckIn(date=date(2099, 1, 15), time="09:30", office="Houston ERO", modality=caseward.Modality.APP)
    )
    vault.record_hearing(
        lead, caseward.Hearing(date=date(2099, 2, 1), court="Houston Immigration Court", kind=caseward.HearingKind.INDIVIDUAL)
    )
    vault.grant_consent(
        lead,
        caseward.Consent(recipient="partner:casa-houston", categories=["identifier.name"], purpose="housing",
                         signed_on=date(2026, 8, 7), expires_on=date(2099, 8, 7)),
    )

    notice = vault.ice_notice(lead, True)
    seq = head_seq(vault)
    assert isinstance(notice, caseward.IceNotice)
    assert (notice.a_number(), notice.name()) == ("A201555012", "GARCIA LOPEZ, MARIA JOSE")
    assert notice.address_lines() == ["88 Bellaire Blvd", "Apt 12", "Houston, TX 77036"]
    assert not notice.client_reports_address_directly()
    check_in, court = notice.next_check_in(), notice.next_court_date()
    assert check_in is not None and (check_in.date, check_in.time, check_in.office) == (date(2099, 1, 15), "09:30", "Houston ERO")
    assert court is not None and (court.date, court.court) == (date(2099, 2, 1), "Houston Immigration Court")
    assert type(notice.as_of()) is date
    # to_json() is exactly what the log recorded, and says what the getters say.
    assert vault.confirm_output(seq, notice.to_json())
    assert not vault.confirm_output(seq, notice.to_json() + b" ")
    doc = json.loads(notice.to_json())
    assert doc["as_of"] == notice.as_of().isoformat() and "A201555012" in notice.to_json().decode()
    # Printing it shows nothing of the client: no A-number (any form), name or address.
    for text in (str(notice), repr(notice)):
        assert text == "IceNotice { [redacted] }", text
    # Only the vault builds one.
    with pytest.raises(ValueError):
        typing.cast(typing.Any, caseward.IceNotice)()  # its generated __init__ is untyped

    # The client's own copy and a partner referral: ClientView objects, logged, confirmed.
    copy = vault.client_copy(lead)
    seq = head_seq(vault)
    assert isinstance(copy, caseward.ClientView) and copy.audience() == "client" and copy.client_id() == lead
    assert vault.confirm_output(seq, copy.to_json())
    assert "88 Bellaire Blvd" in copy.to_json().decode()
    referral = vault.partner_referral(lead, "casa-houston")
    seq = head_seq(vault)
    assert referral.audience() == "partner:casa-houston" and type(referral.as_of()) is date
    assert vault.confirm_output(seq, referral.to_json())
    assert not vault.confirm_output(seq, copy.to_json())
    shared = referral.to_json().decode()
    assert "Majo" in shared and "88 Bellaire" not in shared and "A201555012" not in shared
    for view in (copy, referral):
        for text in (str(view), repr(view)):
            assert lead in text and "GARCIA" not in text and "A201555012" not in text and "Bellaire" not in text


def head_seq(vault: caseward.Vault) -> int:
    """The sequence number of the log's last entry: the output just made."""
    head = vault.verify_log().head
    assert head is not None
    return int(head.split(":")[1])


def open_report(bundle: bytes, board: caseward.RecoveryKey, tmp_path: pathlib.Path) -> typing.Any:
    key = tmp_path / "board.key"
    key.write_text(board.expose_identity() + "\n")
    os.chmod(key, 0o600)
    sealed = tmp_path / "report.age"
    sealed.write_bytes(bundle)
    # The stock age tool, as a board member would (.ci/run installs Debian's age).
    out = subprocess.run(["age", "-d", "-i", str(key), str(sealed)], capture_output=True, check=True).stdout
    return json.loads(out)["report"]


def test_board_report_carries_the_site_inputs(vault: caseward.Vault, tmp_path: pathlib.Path) -> None:
    # Enough clients at the site that table 06 is published rather than withheld.
    for i in range(14):
        vault.enroll(caseward.Intake(a_number=f"A3{i:08d}", name=caseward.Name(verbatim_dhs=f"CLIENT, N{i}"), site=SITE,
                                     enrolled_on=date(2026, 8, 3)))
    vault.set_provider_id("bakerripley-houston")
    board = caseward.RecoveryKey.generate()

    bare = open_report(vault.board_report("2026-09", [board.recipient()]), board, tmp_path)
    assert bare["capacity"] == {}
    assert any(o.startswith("02:") for o in bare["omitted"]) and any(o.startswith("06:") for o in bare["omitted"])
    assert "06" not in {t["id"] for t in bare["tables"]}

    # September is released now: asking again sends the same report, and new inputs need a
    # revision, which the report states.
    again = open_report(vault.board_report("2026-09", [board.recipient()]), board, tmp_path)
    assert again == bare
    inputs = caseward.ReportInputs(
        capacity={SITE: 40}, declined_offers={SITE: 3}, expenditure_usd={SITE: 125_000},
        revise="the site inputs were missing",
    )
    report = open_report(vault.board_report("2026-09", [board.recipient()], None, inputs), board, tmp_path)
    assert report["revision"] == {"number": 1, "reason": "the site inputs were missing"}
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
    empty = open_report(
        vault.board_report("2026-09", [board.recipient()], None, caseward.ReportInputs(revise="inputs withdrawn")),
        board, tmp_path)
    assert empty["capacity"] == {} and "06" not in {t["id"] for t in empty["tables"]}
