"""examples/python/intake.py, run the way a back-end developer would run it."""

import os
import pathlib
import subprocess
import sys

EXAMPLES = pathlib.Path(__file__).resolve().parents[3] / "examples" / "python"


def test_intake_script(tmp_path):
    env = dict(os.environ, CASEWARD_PASSPHRASE="example passphrase")
    vault = tmp_path / "provider.cwv"
    run = subprocess.run(
        [sys.executable, str(EXAMPLES / "intake.py"), str(vault), str(EXAMPLES / "sample-intake.csv")],
        env=env, capture_output=True, text=True, check=False,
    )
    assert run.returncode == 1, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0] == "enrolled 3"
    assert lines[1].startswith("row 4: InvalidInput")  # a receipt number, not an A-number
    assert lines[2].startswith("row 6: InvalidInput")  # month 13
    assert "IOE0912345678" not in run.stdout and "SILVA" not in run.stdout
    # Running it again finds every valid row already enrolled.
    again = subprocess.run(
        [sys.executable, str(EXAMPLES / "intake.py"), str(vault), str(EXAMPLES / "sample-intake.csv")],
        env=env, capture_output=True, text=True, check=False,
    )
    assert again.stdout.splitlines()[0] == "enrolled 0"
    assert sum("already enrolled" in line for line in again.stdout.splitlines()) == 3
