"""The Python side of the binding-overhead comparison: `find_by_a_number` on a 1,000-client
vault, as core/benches/calls.rs makes it in Rust. Prints microseconds per call (best of 5 runs
of 20,000 calls).

    python bindings/python/bench_call.py
"""

import os
import tempfile
import time
from datetime import date

import caseward


def main() -> None:
    path = os.path.join(tempfile.mkdtemp(), "bench.cwv")
    vault = caseward.Vault.create_with_key(path, bytes([1] * 32))
    for i in range(1, 1001):
        vault.enroll(caseward.Intake(a_number=f"A3{i:08d}", name=caseward.Name(verbatim_dhs="TEST, PERSON"), site="site-a", enrolled_on=date(2026, 8, 1)))
    numbers = [f"A3{i:08d}" for i in range(1, 1001)]
    best = float("inf")
    for _ in range(5):
        t = time.perf_counter()
        for k in range(20_000):
            vault.find_by_a_number(numbers[k % 1000])
        best = min(best, (time.perf_counter() - t) / 20_000)
    print(f"python find_by_a_number: {best * 1e6:.2f} us per call (best of 5 x 20,000)")
    best = float("inf")
    for _ in range(5):
        t = time.perf_counter()
        for k in range(20_000):
            caseward.normalize_a_number(numbers[k % 1000])
        best = min(best, (time.perf_counter() - t) / 20_000)
    print(f"python normalize_a_number (string in, string out, no vault): {best * 1e6:.2f} us per call")
    vault.close()


if __name__ == "__main__":
    main()
