#!/usr/bin/env python3
"""Pooling evaluator extracts at national scale, measured on this machine.

Writes PROVIDERS Parquet files of PER_PROVIDER participants each, with the columns of a
caseward extract (person, arm, the five text quasi-identifiers, the outcome counts, exit group,
periods enrolled), with about ten records per person behind the counts (column order and Parquet
encoding are DuckDB's, not caseward's: sizes differ from real extracts); then pools them with DuckDB and
runs the court-appearance query of pool_extracts.py, and a distinct-person count, timing each.
The same rows written as CSV and queried the same way are the baseline, in the same run. When
pyspark is installed, the same query also runs in Spark (spark_pool.py) on the same files.

    python3 bench_pool.py [PROVIDERS] [PER_PROVIDER]      # default 100 x 10000 = 10^6 people

Prints one line per measurement; BENCHMARKS.md records them.
"""
import os
import resource
import sys
import tempfile
import time

import duckdb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pool_extracts  # noqa: E402

SERVICES = [
    "legal_orientation", "legal_services", "cultural_orientation", "mental_health", "health_enrollment", "itin",
    "food", "housing", "language", "school", "transport", "employment", "departure", "reintegration",
]

# One provider's rows: hash-derived pseudonyms and outcomes, about ten records per person
# (hearings + check-ins + services), generated inside DuckDB so the generator is not the cost.
ROWS = """
SELECT
  'cwp1:evaluation:cmpp-2027:' || lpad(to_hex(hash({p} * 1000003 + i) % 4294967296), 8, '0')
      || lpad(to_hex(hash(i * 31 + {p}) % 4294967296), 8, '0') || lpad(to_hex(i), 16, '0') AS person,
  CASE WHEN hash(i + {p} * 7) % 2 = 0 THEN 'treatment' ELSE 'control' END AS arm,
  '*' AS age_band,
  '2027-' || lpad(CAST(1 + i % 12 AS VARCHAR), 2, '0') AS enrolled,
  'site-' || CAST(i % 4 AS VARCHAR) AS site,
  'Mexico and Central America' AS nationality,
  'Spanish' AS language,
  CAST(2 + hash(i) % 2 AS INTEGER) AS hearings_attended,
  CAST(CASE WHEN hash(i * 3 + {p}) % 10 = 0 THEN 1 ELSE 0 END AS INTEGER) AS hearings_missed,
  CAST(3 + hash(i * 5) % 2 AS INTEGER) AS check_ins_attended,
  CAST(hash(i * 7) % 2 AS INTEGER) AS check_ins_missed,
  {services},
  CASE WHEN i % 10 < 7 THEN 'active' WHEN i % 10 < 9 THEN 'completed' ELSE 'departed' END AS exit_group,
  CAST(1 + i % 13 AS INTEGER) AS periods_enrolled
FROM range({n}) t(i)
"""


def services_sql():
    return ",\n  ".join(
        f"CAST(CASE WHEN hash(i * {k + 11}) % 7 = 0 THEN 1 ELSE 0 END AS INTEGER) AS services_{name}"
        for k, name in enumerate(SERVICES)
    )


def timed(label, f):
    start = time.perf_counter()
    out = f()
    print(f"{label}: {time.perf_counter() - start:.2f} s")
    return out


def main(providers, per_provider):
    with tempfile.TemporaryDirectory() as d:
        con = duckdb.connect()
        parquet, csv = [], []

        def write():
            for p in range(providers):
                rows = ROWS.format(p=p, n=per_provider, services=services_sql())
                path = os.path.join(d, f"provider-{p:03d}.parquet")
                con.execute(f"COPY ({rows}) TO '{path}' (FORMAT PARQUET)")
                parquet.append(path)
                cpath = os.path.join(d, f"provider-{p:03d}.csv")
                con.execute(f"COPY (SELECT * FROM read_parquet('{path}')) TO '{cpath}' (FORMAT CSV, HEADER)")
                csv.append(cpath)

        timed(f"write {providers} Parquet and CSV files of {per_provider} people", write)
        size = sum(os.path.getsize(p) for p in parquet)
        csv_size = sum(os.path.getsize(p) for p in csv)
        print(f"files: Parquet {size / 1e6:.1f} MB, CSV {csv_size / 1e6:.1f} MB, {providers * per_provider} people")
        rows = timed("Parquet: failure to appear by arm, pooled", lambda: pool_extracts.rates_by_arm(parquet))
        for arm, people, missed, rate, low, high, periods in rows:
            print(f"  {arm}: {people} people, {rate:.2%} [{low:.2%}, {high:.2%}], {periods} periods")
        files = "[" + ", ".join(f"'{p}'" for p in parquet) + "]"
        distinct = timed(
            "Parquet: distinct persons, pooled",
            lambda: duckdb.connect().execute(f"SELECT count(DISTINCT person) FROM read_parquet({files})").fetchone()[0],
        )
        print(f"  {distinct} distinct persons")
        cfiles = "[" + ", ".join(f"'{p}'" for p in csv) + "]"
        query = pool_extracts.QUERY.format(source=f"read_csv({cfiles}, header = true)")
        timed("CSV baseline: failure to appear by arm, pooled", lambda: duckdb.connect().execute(query).fetchall())
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak resident memory of the process: {peak:.0f} MB")
        spark(parquet, rows)
    return 0


def spark(parquet, duckdb_rows):
    """The same query in Spark (local mode, both cores), when pyspark is installed: the session's
    start, then the query twice (the first run also reads the files' footers)."""
    try:
        import spark_pool
    except ImportError:
        print("Spark: pyspark is not installed; skipped")
        return
    session = timed("Spark: start a local session", spark_pool.session)
    try:
        for run in (1, 2):
            rows = timed(f"Spark: failure to appear by arm, pooled (run {run})", lambda: spark_pool.rates_by_arm(parquet, session))
            assert [r[:3] for r in rows] == [r[:3] for r in duckdb_rows], "Spark and DuckDB disagree"
        # The JVM is a separate process: its peak is not in this process's.
        proc = getattr(session.sparkContext._gateway, "proc", None)
        if proc is not None:
            with open(f"/proc/{proc.pid}/status", encoding="ascii") as f:
                peak = next((line.split()[1] for line in f if line.startswith("VmHWM:")), "0")
            print(f"Spark: peak resident memory of the JVM: {int(peak) / 1024:.0f} MB")
    finally:
        session.stop()


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    sys.exit(main(*(args + [100, 10_000][len(args):])))
