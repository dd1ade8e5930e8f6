"""An evaluator's day: two providers run their lotteries and send extracts; the evaluator
opens both and pools them in DuckDB (examples/python/pool_extracts.py)."""
import importlib.util
import json
import os
import sys
from datetime import date

import duckdb
import pytest

import caseward
from caseward import CasewardError

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..", "..")

RULES = """
[[rule]]
id = "evaluator-microdata"
audience = "evaluator"
treatment = "pseudonymize"
categories = ["identifier.alien_number", "evaluation.randomization", "obligation.court.next", "legal.case",
              "obligation.reporting.next", "obligation.reporting.attendance", "service.event", "program.exit",
              "program.enrollment"]
why = "The evaluation's outcomes, under a pseudonym."
"""


def example(name):
    """A module of examples/python, loaded as the evaluator would run it (it imports its sibling)."""
    folder = os.path.join(ROOT, "examples", "python")
    if folder not in sys.path:
        sys.path.insert(0, folder)
    spec = importlib.util.spec_from_file_location(name, os.path.join(folder, f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def provider(tmp_path, name, first, people):
    """A provider with `people` clients, a hearing each (every fourth missed), drawn by lot."""
    v = caseward.Vault.create(str(tmp_path / f"{name}.cwv"), "evaluator test passphrase")
    with open(os.path.join(ROOT, "policies", "default.toml"), encoding="utf-8") as f:
        v.install_policy(f.read() + RULES, [])
    v.set_provider_id(name)
    v.generate_pseudonym_key()
    ids = []
    for n in range(people):
        cid = v.enroll(
            caseward.Intake(
                a_number=f"A{first + n:09d}",
                name=caseward.Name(verbatim_dhs="DOE, ALEX", given=["Alex"], surnames=["Doe"]),
                birth_date=caseward.BirthDate(
                    year=1990, month=7, day=10, precision=caseward.DatePrecision.DAY, provenance=caseward.DateProvenance.DOCUMENT
                ),
                nationality=["Honduras"],
                languages=["es"],
                site="site-houston",
                enrolled_on=date(2026, 3, 2),
            )
        )
        outcome = caseward.HearingOutcome.IN_ABSENTIA if n % 4 == 0 else caseward.HearingOutcome.ATTENDED
        v.record_hearing(
            cid, caseward.Hearing(date=date(2026, 5, 4), court="Houston", kind=caseward.HearingKind.MASTER_CALENDAR, outcome=outcome)
        )
        ids.append(cid)
    v.lottery_commit(f"{name}-q1", ids, people // 2, "NIST beacon v2 chain 2, first pulse after the commitment")
    v.lottery_draw(f"{name}-q1", "7E11A0")
    return v


def two_providers_extracts(tmp_path):
    """Two providers' extracts of one evaluation, opened by the evaluator: the Parquet paths, the
    people, and how many of them missed a hearing."""
    evaluator = caseward.RecoveryKey.generate()
    paths, total, expected_missed = [], 0, 0
    for name, first, people in [("irc-new-york", 201555000, 40), ("bakerripley-houston", 301555000, 28)]:
        v = provider(tmp_path, name, first, people)
        files = v.evaluator_extract("cmpp-2027", [evaluator.recipient()])
        registry = f'{name} = "{v.signing_public_key()}"\n'
        opened = caseward.open_extract(files.parquet, files.dictionary, evaluator.expose_identity(), registry)
        dictionary = json.loads(opened.dictionary_json)
        assert dictionary["k"] == 11 and dictionary["evaluation"] == "cmpp-2027"
        assert dictionary["suppressed"] == 0 and dictionary["records"] == people
        assert any("missed hearing" in d for d in dictionary["diverse"]), dictionary["diverse"]
        path = tmp_path / f"{name}.parquet"
        path.write_bytes(opened.parquet)
        paths.append(path)
        total += people
        expected_missed += len(range(0, people, 4))
        # One extract per evaluation: a second would let the two be differenced.
        with pytest.raises(CasewardError.InvalidInput, match="extracted already"):
            v.evaluator_extract("cmpp-2027", [evaluator.recipient()])
        # Another identity cannot open it.
        with pytest.raises(CasewardError.WrongKey):
            caseward.open_extract(files.parquet, files.dictionary, caseward.RecoveryKey.generate().expose_identity())
        v.close()
    return paths, total, expected_missed


def test_two_providers_extracts_pool_in_duckdb(tmp_path):
    paths, total, expected_missed = two_providers_extracts(tmp_path)
    rows = example("pool_extracts").rates_by_arm(paths)
    assert sorted(r[0] for r in rows) == ["control", "treatment"]
    assert sum(r[1] for r in rows) == total
    assert sum(r[2] for r in rows) == expected_missed
    for arm, people, missed, rate, low, high, periods in rows:
        assert low <= rate <= high and periods >= 0
    # No person appears twice, and nobody's A-number is in the data.
    con = duckdb.connect()
    files = "[" + ", ".join(f"'{p}'" for p in paths) + "]"
    assert con.execute(f"SELECT count(DISTINCT person) FROM read_parquet({files})").fetchone()[0] == total
    text = b"".join(p.read_bytes() for p in paths)
    assert b"A201555000" not in text and b"DOE" not in text


def test_the_same_extracts_pool_in_spark(tmp_path):
    """Spark in local mode reads the same files and gives DuckDB's figures. Needs pyspark and
    Java: `CW_SPARK=1 ./run-tests` installs pyspark (CI leaves it out for time)."""
    pytest.importorskip("pyspark")
    paths, total, _ = two_providers_extracts(tmp_path)
    spark_pool = example("spark_pool")
    spark = spark_pool.session()
    try:
        by_spark = spark_pool.rates_by_arm(paths, spark)
    finally:
        spark.stop()
    by_duckdb = example("pool_extracts").rates_by_arm(paths)
    # The same counts give the same rates and intervals (computed by the same function).
    assert by_spark == by_duckdb
    assert sum(r[1] for r in by_spark) == total
