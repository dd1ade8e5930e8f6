#!/usr/bin/env python3
"""Enroll clients from a spreadsheet export into a caseward vault: what a Django back end's
intake job looks like.

    CASEWARD_PASSPHRASE=... python intake.py provider.cwv sample-intake.csv

Columns: a_number, name_dhs, birth_year, site, enrolled_on (YYYY-MM-DD), languages (;-separated).
A row that fails (an invalid A-number, a bad date) is reported by its row number and kind of
error; the error text never contains the client's data, so it is safe to log. Dates are
``datetime.date``: a spreadsheet's text goes through ``caseward.parse_date``, which gives the
same ``InvalidInput`` as any other bad field.
"""

import csv
import os
import sys

import caseward


def enroll_file(vault: caseward.Vault, csv_path: str) -> tuple[int, list[str]]:
    enrolled, problems = 0, []
    with open(csv_path, newline="", encoding="utf-8") as f:
        for row_number, row in enumerate(csv.DictReader(f), start=2):  # row 1 is the header
            birth = None
            if row.get("birth_year"):
                birth = caseward.BirthDate(
                    year=int(row["birth_year"]), month=None, day=None,
                    precision=caseward.DatePrecision.YEAR, provenance=caseward.DateProvenance.SELF_REPORT,
                )
            try:
                intake = caseward.Intake(
                    a_number=row["a_number"],
                    name=caseward.Name(verbatim_dhs=row["name_dhs"]),
                    birth_date=birth,
                    languages=[x for x in row.get("languages", "").split(";") if x],
                    site=row["site"],
                    enrolled_on=caseward.parse_date(row["enrolled_on"]),
                )
                if vault.find_by_a_number(intake.a_number) is not None:
                    problems.append(f"row {row_number}: already enrolled")
                    continue
                vault.enroll(intake)
                enrolled += 1
            except caseward.CasewardError as e:
                # The kind and reason are safe to log; the row's content is not.
                problems.append(f"row {row_number}: {type(e).__name__}: {e}")
    return enrolled, problems


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    vault_path, csv_path = sys.argv[1], sys.argv[2]
    passphrase = os.environ.get("CASEWARD_PASSPHRASE")
    if not passphrase:
        print("set CASEWARD_PASSPHRASE", file=sys.stderr)
        return 2
    if os.path.exists(vault_path):
        vault = caseward.Vault.open(vault_path, passphrase)
    else:
        vault = caseward.Vault.create(vault_path, passphrase)
    try:
        enrolled, problems = enroll_file(vault, csv_path)
    finally:
        vault.close()
    print(f"enrolled {enrolled}")
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
