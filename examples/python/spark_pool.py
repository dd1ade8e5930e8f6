#!/usr/bin/env python3
"""Pool evaluator extracts from many providers with Apache Spark, and compare arms.

The same opened extracts (``caseward extract open`` writes a plain Parquet file per provider)
and the same query as ``pool_extracts.py`` (DuckDB), for an evaluation that outgrows one
machine. Here Spark runs in local mode on this machine's cores; on a cluster, point
``master`` at it and the paths at shared storage. Nothing here needs caseward.

    pip install pyspark           # and a Java 17 runtime
    python3 spark_pool.py A/extract.parquet B/extract.parquet ...

It prints what ``pool_extracts.py`` prints: per arm, the people, the share who missed at least
one court hearing with a 95 % Wilson interval, and the 30-day periods enrolled.
"""
import sys

from pyspark.sql import SparkSession

from pool_extracts import QUERY, report, with_intervals


def session(master="local[2]"):
    """A Spark session for this machine: no web UI, and few shuffle partitions for small data."""
    return (
        SparkSession.builder.master(master)
        .appName("caseward-pool-extracts")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .getOrCreate()
    )


def rates_by_arm(paths, spark):
    """Per arm: (arm, people, missed_any, rate, low, high, periods), as pool_extracts.rates_by_arm."""
    # Spark reads every provider's file as one table; with mergeSchema, a column one provider's
    # policy left out of its extract is null in that provider's rows.
    spark.read.option("mergeSchema", "true").parquet(*[str(p) for p in paths]).createOrReplaceTempView("extracts")
    rows = spark.sql(QUERY.format(source="extracts")).collect()
    return with_intervals([(r["arm"], r["people"], r["missed_any"], r["periods"]) for r in rows])


def main(paths):
    spark = session()
    try:
        report(rates_by_arm(paths, spark))
    finally:
        spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
