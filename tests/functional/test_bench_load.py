"""A smoke run of the load benchmark (`make bench-load`): both handlers, quick load, two instances."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.mark.slow
def test_the_quick_load_prints_a_table_per_run_and_answers_every_arrival() -> None:
    done = subprocess.run(
        [sys.executable, "bench/load.py", "--quick", "--instances", "2", "--spaces", "5"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    titles = re.findall(r"^(\w+) handler, 2 instances: (\d+) lookups offered", done.stdout, re.MULTILINE)
    assert [handler for handler, _ in titles] == ["lookup", "naive"]
    unanswered = re.findall(r"^no answer \d+ s after the schedule +(\d+)$", done.stdout, re.MULTILINE)
    assert unanswered == ["0", "0"], done.stdout
    for handler, offered in titles:
        answered = _answers(done.stdout, handler)
        assert sum(answered.values()) == int(offered), done.stdout
    for measure in ("latency p99, incl. queueing", "CAMS calls, busiest 1 s of arrivals", "CAMS calls per lookup at"):
        assert done.stdout.count(measure) == 2, done.stdout


def _answers(output: str, handler: str) -> dict[int, int]:
    """The "answers <status>" rows of one handler's table."""
    table = output.split(f"{handler} handler, ", 1)[1].split("\n\n", 1)[0]
    return {int(status): int(count) for status, count in re.findall(r"^answers (\d+) +(\d+)$", table, re.MULTILINE)}
