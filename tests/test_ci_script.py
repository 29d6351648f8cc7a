"""``.ci/run``: pytest's "no tests collected" (exit 5) must fail a stage, never pass it.

Every stage selects tests that exist, so collecting none means its selection broke; a CI that turned
that into success would report green while running nothing (the README test stage most of all).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

CI_SCRIPT = Path(__file__).resolve().parents[1] / ".ci" / "run"


def stage_status(pytest_exit: int) -> subprocess.CompletedProcess:
    """Run the script's own ``pytest_status`` on a pytest exit code, under the script's ``set -e``."""
    text = CI_SCRIPT.read_text()
    function = re.search(r"^pytest_status\(\) \{.*?^\}", text, re.S | re.M)
    assert function, "pytest_status() not found in .ci/run"
    script = f"set -euo pipefail\n{function.group(0)}\npytest_status {pytest_exit}\necho stage-passed\n"
    return subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=30)


def test_no_tests_collected_fails_the_stage() -> None:
    proc = stage_status(5)
    assert proc.returncode == 5 and "stage-passed" not in proc.stdout
    assert "collected no tests" in proc.stderr


def test_passing_and_failing_pytest_runs_keep_their_status() -> None:
    assert stage_status(0).stdout.strip() == "stage-passed"
    assert stage_status(1).returncode == 1


def test_every_pytest_stage_goes_through_pytest_status() -> None:
    lines = CI_SCRIPT.read_text().splitlines()
    runs = [i for i, line in enumerate(lines)
            if "python -m pytest" in line and not line.lstrip().startswith("#")]
    assert len(runs) == 5  # README suite, slow, vLLM, lighteval, verl
    for i in runs:
        after = [line.strip() for line in lines[i + 1 : i + 6]]
        assert 'pytest_status "$status"' in after, lines[i]
