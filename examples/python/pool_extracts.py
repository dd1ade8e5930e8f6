#!/usr/bin/env python3
"""Pool evaluator extracts from many providers with DuckDB, and compare arms.

Each provider sends its extract (``caseward extract build``); the evaluator opens each one
(``caseward extract open``) and gets a plain Parquet file. DuckDB reads them all at once, as it
would read thousands; nothing here needs caseward.

    python3 pool_extracts.py A/extract.parquet B/extract.parquet ...

For each arm it prints the people, the share who missed at least one court hearing (failure to
appear), with a 95 % Wilson interval, and the 30-day periods enrolled (an extract gives whole
periods, not days), priced at DHS's estimated detention cost of $164.65 per adult per day for
comparison. The same files and the same query run in Spark: ``spark_pool.py``.
"""
import math
import sys

DETENTION_COST_PER_DAY = 164.65

# `{source}`: DuckDB reads the files in place; Spark names a view over them (spark_pool.py).
QUERY = """
SELECT arm,
       count(*)                                            AS people,
       sum(CASE WHEN hearings_missed > 0 THEN 1 ELSE 0 END) AS missed_any,
       sum(periods_enrolled)                               AS periods
FROM {source}
GROUP BY arm
ORDER BY arm
"""


def wilson(k, n, z=1.959964):
    """The Wilson score interval of k successes in n trials."""
    if n == 0:
        return (0.0, 1.0)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def with_intervals(rows):
    """(arm, people, missed_any, periods) rows as (arm, people, missed_any, rate, low, high, periods)."""
    out = []
    for arm, people, missed, periods in rows:
        low, high = wilson(missed, people)
        out.append((arm, people, missed, missed / people if people else 0.0, low, high, periods))
    return out


def rates_by_arm(paths):
    """Per arm: (arm, people, missed_any, rate, low, high, periods)."""
    import duckdb  # here, so that spark_pool.py can share this module without DuckDB

    files = "[" + ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths) + "]"
    return with_intervals(duckdb.connect().execute(QUERY.format(source=f"read_parquet({files})")).fetchall())


def report(rows):
    """Prints the rows of `rates_by_arm`."""
    for arm, people, missed, rate, low, high, periods in rows:
        days = 30 * periods
        print(
            f"{arm}: {people} people, {missed} missed a hearing: {rate:.1%} (95 % CI {low:.1%} to {high:.1%}); "
            f"at least {days} participant-days (${days * DETENTION_COST_PER_DAY:,.0f} at the detention rate)"
        )


def main(paths):
    report(rates_by_arm(paths))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
