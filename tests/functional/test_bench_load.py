"""The load benchmark (`make bench-load`): smoke runs of its three modes, and the parts that need no process."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
RUN_TIMEOUT_S = 120


@pytest.fixture
def loadlib(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The bench's own package, importable as `bench/load.py` imports it, for the test's length."""
    monkeypatch.syspath_prepend(str(ROOT / "bench"))
    import loadlib

    return loadlib


@pytest.mark.slow
def test_the_quick_load_prints_a_table_per_run_and_answers_every_arrival() -> None:
    done = _bench("--quick", "--instances", "2", "--spaces", "5")

    titles = re.findall(r"^(\w+) handler, 2 instances: (\d+) lookups offered", done.stdout, re.MULTILINE)
    assert [handler for handler, _ in titles] == ["lookup", "naive"]
    unanswered = re.findall(r"^no answer \d+ s after the schedule +(\d+)$", done.stdout, re.MULTILINE)
    assert unanswered == ["0", "0"], done.stdout
    for handler, offered in titles:
        answered = _answers(done.stdout, handler)
        assert sum(answered.values()) == int(offered), done.stdout
    for measure in ("latency p99, incl. queueing", "CAMS calls, busiest 1 s of arrivals", "CAMS calls per lookup at"):
        assert done.stdout.count(measure) == 2, done.stdout


@pytest.mark.slow
def test_the_quick_cold_burst_prints_a_row_per_quota_wait_and_accounts_for_every_lookup() -> None:
    done = _bench("--scaling", "on-demand", "--quick")

    assert re.search(r"^cold burst, lookup handler, on-demand instances \(at most 4, ", done.stdout, re.MULTILINE)
    rows = _burst_rows(done.stdout)
    assert [row["wait ms"] for row in rows] == ["250", "1000"], done.stdout
    for row in rows:
        _check_burst_row(row, cap=4)


@pytest.mark.slow
def test_a_preloaded_cold_burst_that_queues_at_the_cap_refuses_nothing() -> None:
    done = _bench(
        "--scaling", "on-demand", "--quick", "--cold-start", "preloaded", "--at-cap", "queue", "--quota-wait-ms", "500"
    )

    assert "300 ms slept for the imports; at the cap the arrival waits" in done.stdout
    [row] = _burst_rows(done.stdout)
    _check_burst_row(row, cap=4)
    assert row["429 FC"] == "0", done.stdout


@pytest.mark.slow
def test_the_quick_redis_stop_splits_lookups_and_cams_calls_at_the_signals() -> None:
    done = _bench("--redis-stop", "--quick")

    stop_s, resume_s = map(float, re.findall(r"\((?:SIGSTOP|SIGCONT)\) at ([\d.]+) s", done.stdout))
    assert 2.0 <= stop_s < 2.5, done.stdout
    assert 4.0 <= resume_s < 4.5, done.stdout
    rows = _table(done.stdout, "phase")
    assert [row["phase"] for row in rows] == ["before", "during", "after"], done.stdout
    assert sum(int(row["lookups"]) for row in rows) == 180, done.stdout  # 30/s for 6 s
    for row in rows:
        statuses = sum(int(value) for name, value in row.items() if name.isdigit())
        assert statuses + int(row["none"]) == int(row["lookups"]), done.stdout
        assert int(row["windows > 10"]) <= int(row["CAMS"]), done.stdout
        assert int(row["CAMS refused"]) <= int(row["CAMS"]), done.stdout
    assert sum(int(row["CAMS"]) for row in rows) > 0, done.stdout


def test_an_option_given_wins_over_quick_and_each_mode_has_its_own_defaults(loadlib: ModuleType) -> None:
    from loadlib.cli import options

    burst = options(["--scaling", "on-demand", "--quick", "--max-instances", "2"])
    stop = options(["--redis-stop"])
    pool = options([])

    assert (burst.mode, burst.max_instances, burst.quota_wait_ms, burst.rates) == ("on-demand", 2, [250, 1000], [30.0])
    assert (stop.mode, stop.instances, stop.stop_at, stop.resume_at) == ("redis-stop", [16], 5.0, 10.0)
    assert (stop.spaces, stop.popularity) == (200, "uniform")
    assert (pool.mode, pool.instances, pool.rates, pool.popularity) == ("pool", [8, 32], [50.0, 100.0], "zipf")


def test_redis_stop_refuses_a_resume_before_the_stop(loadlib: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    from loadlib.cli import options

    with pytest.raises(SystemExit):
        options(["--redis-stop", "--stop-at", "6", "--resume-at", "5"])

    assert "--stop-at must come before --resume-at" in capsys.readouterr().err


def test_a_sliding_second_ends_at_each_call_and_holds_the_calls_of_the_second_before(loadlib: ModuleType) -> None:
    from loadlib.redis_stop import windows_to

    times = [0.0, 0.5, 0.9, 1.0, 1.2, 3.0]

    assert windows_to(times, times) == [1, 2, 3, 3, 4, 1]  # (0.0, 1.0] leaves 0.0 out, as CAMS does


def test_a_uniform_schedule_draws_every_space_alike_and_zipf_favours_the_first(loadlib: ModuleType) -> None:
    from loadlib.schedule import Phase, build_schedule

    spaces = [f"s{rank}" for rank in range(4)]
    uniform = build_schedule([Phase(1000, 4)], spaces, seed=1, popularity="uniform")
    zipf = build_schedule([Phase(1000, 4)], spaces, seed=1)

    uniform_counts = [sum(arrival.space == space for arrival in uniform) for space in spaces]
    zipf_counts = [sum(arrival.space == space for arrival in zipf) for space in spaces]
    assert max(uniform_counts) - min(uniform_counts) < 200
    assert zipf_counts == sorted(zipf_counts, reverse=True)
    assert zipf_counts[0] > 2 * zipf_counts[3]


def _bench(*arguments: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "bench/load.py", *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done


def _answers(output: str, handler: str) -> dict[int, int]:
    """The "answers <status>" rows of one handler's table."""
    table = output.split(f"{handler} handler, ", 1)[1].split("\n\n", 1)[0]
    return {int(status): int(count) for status, count in re.findall(r"^answers (\d+) +(\d+)$", table, re.MULTILINE)}


def _table(output: str, first_column: str) -> list[dict[str, str]]:
    """The rows under the header line that starts with `first_column`, as {column: cell}. Headers and
    cells are right-aligned, two spaces apart: each cell ends where its header does."""
    lines = output.splitlines()
    start = next(number for number, line in enumerate(lines) if line.split()[:1] == [first_column])
    header = lines[start]
    columns = list(re.finditer(r"\S+(?: \S+)*", header))
    names = [column.group() for column in columns]
    ends = [column.end() for column in columns]
    bounds = list(zip([0, *(end + 2 for end in ends[:-1])], ends, strict=True))
    rows = []
    for line in lines[start + 1 :]:
        if len(line) != len(header) or any(line[end : end + 2].strip() for end in ends[:-1]):
            break
        rows.append({name: line[begin:end].strip() for name, (begin, end) in zip(names, bounds, strict=True)})
    return rows


def _burst_rows(output: str) -> list[dict[str, str]]:
    return _table(output, "wait")


def _check_burst_row(row: dict[str, str], cap: int) -> None:
    offered = int(row["lookups"])
    counted = ("200", "429 fn", "429 FC", "other", "none")
    assert offered == 90, row  # 30/s for 3 s
    assert sum(int(row[name]) for name in counted) == offered, row
    assert float(row["200 %"]) == pytest.approx(100 * int(row["200"]) / offered, abs=0.05), row
    assert 1 <= int(row["started"]) <= cap, row
    assert 0 < float(row["busy inst-s"]) <= float(row["alive inst-s"]), row
    assert float(row["cold p50 s"]) > 0, row
    assert float(row["p50 ms"]) <= float(row["p99 ms"]), row
    assert int(row["CAMS max 1 s"]) <= int(row["CAMS"]), row
    assert int(row["cached"]) <= int(row["200"]), row
    assert int(row["429 known"]) <= int(row["429 fn"]) + int(row["429 FC"]), row
    assert row["target"] in ("met", "MISSED"), row
