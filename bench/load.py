"""Load benchmark: FC instances as processes under an open-loop offered load, against the fake CAMS.

    make bench-load                     (or .venv/bin/python bench/load.py [--quick] [--instances 8 32] ...)
    .venv/bin/python bench/load.py --scaling on-demand [--max-instances 16] [--quota-wait-ms 250 1000 2000]
    .venv/bin/python bench/load.py --redis-stop [--stop-at 5 --resume-at 10]

Every run has the fake CAMS in a process of its own, limited to 10 calls per second per account and
charging 50 ms to the first request on each new connection (as a TLS handshake does), with the
load's spaces bound in the demo account, and a fresh redis-server for the lookup handler
(`REDIS_URL`). Latency runs from the scheduled arrival to the answer, so queueing counts. After the
schedule, stragglers get at most --drain seconds; then every process stops.

Fixed pool (the default): for each handler (the lookup function, and the naive one of
`bench/naive_handler.py`) and each instance count, N instance processes, each running one
invocation at a time, pulling from one queue that a dispatcher fills on schedule (50 lookups/s for
20 s, then 100/s for 10 s, over 100 spaces drawn with weight 1/rank^1.1, seeded), whether or not an
instance is free. The table's targets are issue 8's, for the lookup handler: no 429 for a space
already answered in the run, CAMS never above its limit in any one-second window of arrivals, at
most 0.1 CAMS calls per lookup in the last (100/s) phase, and cached answers' p99 under 5 ms.

Cold burst under on-demand scaling (--scaling on-demand): an arrival that finds every instance busy
starts a new one, up to --max-instances, and waits through its cold start; at the cap FC refuses it
(429) or, with --at-cap queue, it waits for the first free instance. 60 lookups/s for 8 s over 40
spaces never asked before (uniform), once per CAMS_QUOTA_WAIT_MS of --quota-wait-ms, one row each.
The target: at least 90% answered 200, and cached answers' p99 in the handler under 10 ms.

Redis stopped mid-load (--redis-stop): 16 instances, 40 lookups/s for 15 s over 200 spaces
(uniform); redis-server gets SIGSTOP at --stop-at and SIGCONT at --resume-at seconds into the
schedule. The table gives CAMS's arrivals and the answers before, during and after the stop.

--quick makes each of them a smoke run of some seconds; an option given still wins over it.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(ROOT), str(BENCH)]


def main(argv: list[str] | None = None) -> None:
    # Instances are spawned processes, which run this script again (as __mp_main__) before their
    # function: the bench is imported here rather than above, so that no cold start pays for it.
    from loadlib import cli

    cli.main(argv, __doc__)


def stop_on_sigterm(signum: int, frame: object) -> None:
    sys.exit(128 + signum)  # unwinds like Ctrl-C does: every process and server of the run is stopped


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
