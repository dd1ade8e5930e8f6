"""The whole flow a Django back end would run, through the Python binding, and every error kind
produced by a real condition."""

import concurrent.futures
import json
import os
import sqlite3
import subprocess
import sys
import threading
from datetime import date

import pytest

import caseward
from caseward import CasewardError

PASS = "python binding test passphrase"
BOARD_RECIPIENT = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"


def intake(a_number="A# 201-555-012", **extra):
    fields = dict(
        a_number=a_number,
        name=caseward.Name(verbatim_dhs="GARCIA LOPEZ, MARIA JOSE", given=["María José"], surnames=["García", "López"]),
        birth_date=caseward.BirthDate(
            year=1990, month=7, day=10, precision=caseward.DatePrecision.DAY, provenance=caseward.DateProvenance.DOCUMENT
        ),
        nationality=["Honduras"],
        languages=["es"],
        site="site-houston",
        enrolled_on=date(2026, 8, 3),
    )
    fields.update(extra)
    return caseward.Intake(**fields)


@pytest.fixture
def path(tmp_path):
    return str(tmp_path / "provider.cwv")


@pytest.fixture
def vault(path):
    v = caseward.Vault.create(path, PASS)
    yield v
    try:
        v.close()
    except CasewardError:
        pass


def test_whole_flow(vault, path):
    cid = vault.enroll(intake())
    assert len(cid) == 32
    assert vault.find_by_a_number("USCIS# 201-555-012") == cid
    assert caseward.normalize_a_number("a 12 345 678") == "A012345678"
    vault.record_address(
        cid,
        caseward.Address(
            lines=["1200 Main St Apt 4"], city="Houston", state="TX", zip="77002", moved_on=date(2026, 9, 1),
            reported_to_ice_on=date(2026, 9, 2), eoir33_filed_on=date(2026, 9, 3),
        ),
    )
    vault.record_check_in(cid, caseward.CheckIn(date=date(2099, 1, 15), time="09:30", office="Houston ERO", modality=caseward.Modality.IN_PERSON))
    vault.record_hearing(cid, caseward.Hearing(date=date(2099, 2, 1), court="Houston Immigration Court", kind=caseward.HearingKind.MASTER_CALENDAR))
    vault.record_service(cid, caseward.Service(date=date(2026, 8, 5), kind=caseward.ServiceKind.LEGAL_ORIENTATION, minutes=60))
    vault.record_screening(
        cid, caseward.Screening(kind=caseward.ScreeningKind.MENTAL_HEALTH, date=date(2026, 8, 6), instrument="RHS-15", result="high", positive=True, referred=True)
    )
    vault.record_referral(cid, caseward.Referral(kind=caseward.ServiceKind.HOUSING, partner="casa-houston", date=date(2026, 8, 7), status=caseward.ReferralStatus.MADE))
    vault.add_note(cid, "cw-7", "Discussed the next check-in.")

    # Consent, then what the partner may see: only the consented category.
    consent = vault.grant_consent(
        cid,
        caseward.Consent(recipient="partner:casa-houston", categories=["referral.housing"], purpose="housing", signed_on=date(2026, 8, 7), expires_on=date(2099, 8, 7)),
    )
    shared = vault.partner_referral(cid, "casa-houston").to_json().decode()
    assert "casa-houston" in shared and "RHS-15" not in shared and "1200 Main" not in shared

    # The ICE notice: the floor only; the address only with consent for this notice.
    notice = vault.ice_notice(cid, False)
    assert notice.a_number() == "A201555012"
    assert notice.name() == "GARCIA LOPEZ, MARIA JOSE"
    assert notice.client_reports_address_directly() and notice.address_lines() == []
    assert notice.next_check_in().office == "Houston ERO"
    assert notice.next_check_in().date == date(2099, 1, 15)
    assert notice.next_court_date().court == "Houston Immigration Court"
    with_address = vault.ice_notice(cid, True)
    assert with_address.address_lines()[0] == "1200 Main St Apt 4"
    assert b"RHS-15" not in with_address.to_json() and b"Honduras" not in with_address.to_json()
    # The log confirms exactly the bytes it recorded, and nothing else.
    seq = int(vault.verify_log().head.split(":")[1])
    assert vault.confirm_output(seq, with_address.to_json())
    assert not vault.confirm_output(seq, notice.to_json())
    # Printing a notice shows none of it.
    for text in (str(with_address), repr(with_address)):
        assert "A201555012" not in text and "GARCIA" not in text and "1200 Main" not in text and "Houston" not in text

    copy = vault.client_copy(cid)
    assert "RHS-15" in copy.to_json().decode()  # the client's own copy has their record
    assert vault.confirm_output(int(vault.verify_log().head.split(":")[1]), copy.to_json())
    deadlines = vault.deadlines(cid)
    assert deadlines.moved_on == date(2026, 9, 1)
    assert {d.duty for d in deadlines.duties} >= {"eoir33", "ar11", "ice_portal"}
    assert deadlines.earliest_open is not None

    vault.revoke_consent(cid, consent)
    with pytest.raises(CasewardError.Denied):
        vault.partner_referral(cid, "casa-houston")

    first = vault.rotate_keys()
    assert vault.rotate_keys() == first + 1
    vault.change_passphrase(PASS, PASS + " v2")
    # A root-key rotation on a passphrase vault must be told which passphrase to keep.
    with pytest.raises(CasewardError.InvalidInput):
        vault.rotate_root_key(None)
    vault.rotate_root_key(PASS + " v2")
    vault.close()
    # The change rotated the root key: the old passphrase opens nothing.
    with pytest.raises(CasewardError.WrongKey):
        caseward.Vault.open(path, PASS)
    vault = caseward.Vault.open(path, PASS + " v2")
    assert vault.find_by_a_number("A201555012") == cid
    status = vault.verify_log()
    assert status.intact and status.entries >= 6 and status.head.startswith("cwlog1:")
    assert vault.erase_client(cid) is True
    assert vault.find_by_a_number("A201555012") is None
    assert vault.verify_log().intact
    vault.close()


def test_board_report_and_pseudonym(vault):
    cid = vault.enroll(intake())
    vault.set_provider_id("irc-new-york")
    assert vault.signing_public_key().startswith("ed25519:")
    bundle = vault.board_report("2026-09", [BOARD_RECIPIENT])
    assert bundle.startswith(b"age-encryption.org/v1")
    vault.generate_pseudonym_key()
    p = vault.pseudonym("board", "phase-1", "A-201-555-012")
    assert p.startswith("cwp1:board:phase-1:") and p == vault.pseudonym("board", "phase-1", "201555012")
    assert cid


EVALUATION_RULE = """
[[rule]]
id = "evaluator-pseudonyms"
audience = "evaluator"
treatment = "pseudonymize"
categories = ["identifier.alien_number"]
why = "The evaluation's lottery pools."
"""


def test_a_lottery_is_committed_drawn_once_and_verified(vault):
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "..", "..", "..", "policies", "default.toml"), encoding="utf-8") as f:
        vault.install_policy(f.read() + EVALUATION_RULE, [])
    vault.set_provider_id("global-refuge-baltimore")
    vault.generate_pseudonym_key()
    ids = [vault.enroll(intake(a_number=f"A2015550{n:02d}")) for n in range(10)]
    source = "NIST beacon v2 chain 2, first pulse after the commitment"
    files = vault.lottery_commit("baltimore-q1", ids, 4, source)
    assert files.draw is None and files.pool.count(b"\n") == 10
    draw = vault.lottery_draw("baltimore-q1", "5A0F9C")
    selected = caseward.verify_lottery(files.commitment, files.pool, draw, vault.signing_public_key())
    assert len(selected) == 4 and json.loads(draw)["document"]["selected"] == selected
    arms = [
        r.value.enrollment.randomization.arm
        for c in ids
        for r in vault.client_record(c)
        if isinstance(r.value, caseward.RecordValue.ENROLLMENT)
    ]
    assert arms.count(caseward.Arm.TREATMENT) == 4 and arms.count(caseward.Arm.CONTROL) == 6
    with pytest.raises(CasewardError.InvalidInput, match="drawn already"):
        vault.lottery_draw("baltimore-q1", "another")
    changed = files.pool.replace(files.pool[-33:-1], b"0" * 32)
    with pytest.raises(CasewardError.Integrity, match="does not match the commitment"):
        caseward.verify_lottery(files.commitment, changed, draw)
    with pytest.raises(CasewardError.InvalidInput, match="pool is empty"):
        vault.lottery_commit("baltimore-q2", [], 1, source)
    assert vault.lottery_files("baltimore-q1").draw == draw


def test_canaries_never_reach_an_ice_notice(vault):
    canaries = [f"CANARY-{i:02d}-ZQX" for i in range(40)]
    it = iter(canaries)
    c = lambda: next(it)  # noqa: E731
    cid = vault.enroll(
        caseward.Intake(
            a_number="A087-654-321",
            name=caseward.Name(verbatim_dhs="PIERRE LOUIS, JEAN", verbatim_self=c(), given=[c()], surnames=[c()], preferred=c(), aliases=[c()]),
            nationality=[c()], languages=[c()], sex_gender=c(), phones=[c()], emails=[c()], site=c(), enrolled_on=date(2026, 8, 1),
        )
    )
    vault.record_address(cid, caseward.Address(lines=[c()], city=c(), state=c(), zip=c(), moved_on=date(2026, 8, 2), confidential=False))
    vault.record_check_in(cid, caseward.CheckIn(date=date(2099, 3, 1), office="Miami ERO", modality=caseward.Modality.APP, attendance=caseward.Attendance.MISSED))
    vault.record_service(cid, caseward.Service(date=date(2026, 8, 3), kind=caseward.ServiceKind.FOOD))
    vault.record_screening(cid, caseward.Screening(kind=caseward.ScreeningKind.TRAFFICKING, date=date(2026, 8, 3), instrument=c(), result=c(), positive=True, referred=True))
    vault.record_referral(cid, caseward.Referral(kind=caseward.ServiceKind.HOUSING, partner=c(), date=date(2026, 8, 3), status=caseward.ReferralStatus.MADE))
    vault.record_health(cid, caseward.Health(kind=caseward.HealthKind.MENTAL, date=date(2026, 8, 4), summary=c()))
    vault.record_departure(cid, caseward.Departure(country=c(), window=c(), partner=c()))
    vault.record_legal(cid, caseward.Legal(court=c(), disposition=c(), represented=True, relief_sought=[c()]))
    vault.add_note(cid, c(), c())
    for consent in (False, True):
        notice = vault.ice_notice(cid, consent)
        blob = notice.to_json() + (str(notice) + repr(notice)).encode()
        leaked = [x for x in canaries if x.encode() in blob]
        # The address is the client's own obligation: with consent it is the one allowed field.
        allowed = set()
        if consent and not notice.client_reports_address_directly():
            allowed = {x for x in canaries[14:18]}
        assert set(leaked) <= allowed, leaked


def test_every_error_kind(vault, path, tmp_path):
    cid = vault.enroll(intake())
    with pytest.raises(CasewardError.InvalidInput) as e:
        vault.enroll(intake(a_number="IOE0912345678"))
    assert "IOE0912345678" not in str(e.value)
    with pytest.raises(CasewardError.NotFound):
        vault.client_copy("00" * 16)
    with pytest.raises(CasewardError.Denied):
        vault.partner_referral(cid, "casa-houston")
    with pytest.raises(CasewardError.Policy) as e:
        vault.install_policy('format = 1\nkind = "base"\nname = "x"\n[[rule]]\nid = "a"\naudience = "ice"\ntreatment = "reveal"\ncategories = ["health.mental"]\nwhy = "no"\n', [])
    assert "health.mental" in str(e.value)
    vault.set_provider_id("p1")
    with pytest.raises(CasewardError.Budget):
        vault.board_report("2026-10", [BOARD_RECIPIENT], "laplace:2")
    vault.close()
    with pytest.raises(CasewardError.InvalidInput) as e:
        vault.find_by_a_number("A201555012")
    assert "closed" in str(e.value)
    with pytest.raises(CasewardError.WrongKey):
        caseward.Vault.open(path, "not the passphrase")
    with pytest.raises(CasewardError.WrongKey):
        caseward.Vault.open_with_key(path, bytes(32))
    not_a_vault = tmp_path / "notes.txt"
    not_a_vault.write_bytes(b"just some text, not a database" * 100)
    with pytest.raises(CasewardError.Storage):
        caseward.Vault.open(str(not_a_vault), PASS)
    # A tampered vault file: one flipped byte in a sealed record gives Integrity, never wrong data.
    db = sqlite3.connect(path)
    rowid, body = db.execute("SELECT id, body FROM record WHERE kind = 'identity'").fetchone()
    flipped = bytearray(body)
    flipped[len(flipped) // 2] ^= 0x01
    db.execute("UPDATE record SET body = ? WHERE id = ?", (bytes(flipped), rowid))
    db.commit()
    db.close()
    reopened = caseward.Vault.open(path, PASS)
    with pytest.raises(CasewardError.Integrity) as e:
        reopened.client_copy(cid)
    assert "GARCIA" not in str(e.value)
    reopened.close()


HOLD_WRITE_LOCK = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.readline()
db.execute("COMMIT")
"""


def test_a_write_waits_for_another_process_then_fails_as_storage(vault, path):
    # Another process, not another connection in this one: Python's sqlite3 is a second copy of
    # SQLite, and POSIX locks do not exclude two copies in one process (see SECURITY.md).
    cid = vault.enroll(intake())
    other = subprocess.Popen(
        [sys.executable, "-c", HOLD_WRITE_LOCK, path], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert other.stdout.readline().strip() == "locked"
        vault.set_busy_timeout_ms(200)
        with pytest.raises(CasewardError.Storage) as e:
            vault.add_note(cid, "cw-7", "called about the hearing")  # a view would wait too: it is logged
        assert "locked by another writer" in str(e.value)
        # Released while the write waits: the write goes through.
        vault.set_busy_timeout_ms(30_000)
        def release():
            other.stdin.write("go\n")
            other.stdin.flush()

        threading.Timer(0.3, release).start()
        vault.add_note(cid, "cw-7", "called about the hearing")
    finally:
        if not other.stdin.closed:
            other.stdin.close()
        assert other.wait(timeout=30) == 0
    # Once: the write that failed left nothing behind.
    notes = [json.loads(r.sections["note.case"])["text"] for r in vault.client_view(cid, "caseworker").records() if r.kind == "note"]
    assert notes.count("called about the hearing") == 1


def test_threads_share_one_vault(vault):
    def enroll(i):
        return vault.enroll(intake(a_number=f"A3{i:08d}"))

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(pool.map(enroll, range(1, 41)))
    assert len(set(ids)) == 40
    assert sorted(vault.list_clients()) == sorted(ids)


def test_raw_key_vault(tmp_path):
    key = os.urandom(32)
    p = str(tmp_path / "k.cwv")
    v = caseward.Vault.create_with_key(p, key)
    cid = v.enroll(intake())
    v.close()
    v = caseward.Vault.open_with_key(p, key)
    assert v.find_by_a_number("A201555012") == cid
    v.close()


def test_a_keystore_vault_survives_the_lost_phone_through_its_recovery_key(tmp_path):
    # The app: a random keystore key, plus the organisation's recovery recipient.
    recovery = caseward.RecoveryKey.generate()
    identity, recipient = recovery.expose_identity(), recovery.recipient()
    assert identity.startswith("AGE-SECRET-KEY-1") and recipient.startswith("age1")
    assert identity not in repr(recovery) and identity not in str(recovery)
    key = caseward.generate_keystore_key()
    assert len(key) == 32
    p = str(tmp_path / "phone.cwv")
    v = caseward.Vault.create_with_key(p, key)
    cid = v.enroll(intake())
    v.add_recovery_recipient(recipient)
    kinds = sorted(e.kind for e in v.envelopes())
    assert kinds == ["keystore", "recovery"]
    # A weak passphrase is refused; a good one is added and can be removed again.
    with pytest.raises(CasewardError.InvalidInput):
        v.add_passphrase("x")
    v.add_passphrase(PASS)
    v.remove_passphrase()
    v.close()

    # The phone is lost, and its key's bytes with it: the office opens the vault with the
    # recovery identity, moves it to a new phone's key, and removes the lost one by the
    # recipient the envelopes list.
    v = caseward.Vault.open_with_recovery(p, identity)
    assert v.find_by_a_number("A201555012") == cid
    lost = [e.recipient for e in v.envelopes() if e.kind == "keystore"]
    assert len(lost) == 1 and lost[0] is not None
    new_key = caseward.generate_keystore_key()
    v.add_keystore_key(new_key)
    v.remove_keystore_recipient(lost[0])
    with pytest.raises(CasewardError.NotFound):
        v.remove_keystore_recipient(lost[0])
    with pytest.raises(CasewardError.InvalidInput):
        v.remove_keystore_recipient("age1-not-a-recipient")
    assert sorted(e.kind for e in v.envelopes()) == ["keystore", "recovery"]
    # The lost phone's own copy of the vault yields the old root key: rotate it away.
    v.rotate_root_key(None)
    v.close()
    with pytest.raises(CasewardError.WrongKey):
        caseward.Vault.open_with_key(p, key)
    v = caseward.Vault.open_with_key(p, new_key)
    # The last way in is never removed.
    v.remove_recovery_recipient(recipient)
    with pytest.raises(CasewardError.InvalidInput):
        v.remove_keystore_key(new_key)
    v.close()
    with pytest.raises(CasewardError.WrongKey):
        caseward.Vault.open_with_recovery(p, identity)


def test_a_vault_is_a_context_manager_and_errors_read_as_plain_text(path):
    with caseward.Vault.create(path, PASS) as v:
        cid = v.enroll(intake())
    with pytest.raises(CasewardError.InvalidInput) as e:
        v.list_clients()  # closed on leaving the block
    assert "closed" in str(e.value)
    with pytest.raises(CasewardError.InvalidInput) as e:
        caseward.normalize_a_number("IOE0912345678")
    # The text is the reason itself, not a field dump.
    assert str(e.value).startswith("invalid a_number: it looks like a USCIS receipt"), str(e.value)
    with caseward.Vault.open(path, PASS) as v:
        assert v.list_clients() == [cid]


def test_signatures_show_what_a_list_or_map_default_becomes():
    import inspect

    sig = inspect.signature(caseward.Intake.__init__)
    assert "object at 0x" not in str(sig), sig
    assert repr(sig.parameters["nationality"].default) == "[]", sig
    inputs = inspect.signature(caseward.ReportInputs.__init__)
    assert "object at 0x" not in str(inputs) and repr(inputs.parameters["capacity"].default) == "{}", inputs
    # Only the signature's display changed: each record still gets its own empty list.
    a = caseward.Intake(a_number="A201555012", name=caseward.Name(verbatim_dhs="X, Y"), site="s",
                        enrolled_on=__import__("datetime").date(2026, 1, 2))
    b = caseward.Intake(a_number="A201555013", name=caseward.Name(verbatim_dhs="X, Z"), site="s",
                        enrolled_on=__import__("datetime").date(2026, 1, 2))
    a.nationality.append("MX")
    assert b.nationality == [] and a.nationality == ["MX"]
