"""A Docker-free FC3 emulator: real HTTP in, the exact FC3 HTTP event to the handler, its answer out.

Example:
    >>> emulator = Emulator("lookup", environ={"CAMS_ENDPOINT": "127.0.0.1:8123"})  # doctest: +SKIP
    >>> emulator.invoke(http_event("GET", "/healthz"))["statusCode"]  # doctest: +SKIP
    200
"""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from local.fc_trigger import TriggerAuth, TriggerRejected
from shared.clock import SYSTEM_CLOCK, Clock

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS_DIR = ROOT / "functions"
REGION = "ap-southeast-1"
ACCOUNT_ID = "1000000000000001"
# FC refuses these in a function's response; the emulator drops them the same way.
FORBIDDEN_RESPONSE_HEADERS = frozenset(
    {"connection", "content-length", "date", "keep-alive", "server", "upgrade", "content-disposition"}
)

Handler = Callable[[Any, Any], Any]
MAX_BODY_BYTES = 32 * 2**20
MAX_PATH_AND_QUERY = 4 * 1024
MAX_HEADER_BYTES = 8 * 1024
"""FC's limits on an HTTP trigger's synchronous request: body, path plus query, headers."""


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    access_key_secret: str = field(repr=False)
    security_token: str | None = field(default=None, repr=False)

    def environ(self) -> dict[str, str]:
        """The variables FC exports for the function's role."""
        variables = {
            "ALIBABA_CLOUD_ACCESS_KEY_ID": self.access_key_id,
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET": self.access_key_secret,
        }
        if self.security_token:
            variables["ALIBABA_CLOUD_SECURITY_TOKEN"] = self.security_token
        return variables


@dataclass(frozen=True)
class FunctionMeta:
    name: str
    handler: str = "index.handler"
    memory: int = 256
    timeout: float = 10


@dataclass(frozen=True)
class ServiceMeta:
    name: str = "waba-binding"
    log_project: str = ""
    log_store: str = ""
    qualifier: str = "LATEST"
    version_id: str = ""


@dataclass(frozen=True)
class Context312:
    """The python3.12 runtime's context object: no `credentials` (they are in the environment), no `service`."""

    request_id: str
    function: FunctionMeta
    region: str = REGION
    account_id: str = ACCOUNT_ID


@dataclass(frozen=True)
class Context(Context312):
    """The python3.10 runtime's context object, with the fields this package's functions read."""

    credentials: Credentials | None = None
    service: ServiceMeta = field(default_factory=ServiceMeta)


def fc_context(
    function: str | FunctionMeta = "lookup",
    *,
    request_id: str | None = None,
    credentials: Credentials | None = None,
    timeout: float | None = None,
    runtime: str = "python3.10",
) -> Context312:
    """The context FC gives a handler on `runtime`: the one way this harness, its tests and bench build one."""
    meta = function if isinstance(function, FunctionMeta) else FunctionMeta(function)
    if timeout is not None:
        meta = replace(meta, timeout=timeout)
    request_id = request_id or str(uuid.uuid4())
    if runtime == "python3.12":
        return Context312(request_id, meta)
    return Context(request_id, meta, credentials=credentials)


def function_meta(name: str) -> tuple[FunctionMeta, str | None]:
    """The function's handler, memory and timeout, and its initializer, as `s.yaml` declares them."""
    import yaml  # a development dependency: the emulator is never deployed

    resources = yaml.safe_load((ROOT / "s.yaml").read_text()).get("resources") or {}
    props = (resources.get(name) or {}).get("props")
    if not props:
        raise SystemExit(f"s.yaml declares no function {name!r}")
    initializer = ((props.get("instanceLifecycleConfig") or {}).get("initializer") or {}).get("handler")
    meta = FunctionMeta(name, str(props["handler"]), int(props.get("memorySize", 512)), float(props.get("timeout", 3)))
    return meta, initializer


def load_function(name: str, module_file: str = "index") -> ModuleType:
    """Import `functions/<name>/<module_file>.py` as FC would, with the repository root as the code root."""
    path = FUNCTIONS_DIR / name / f"{module_file}.py"
    if not path.is_file():
        raise SystemExit(f"no function named {name!r}: {path.relative_to(ROOT)} does not exist")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    spec = importlib.util.spec_from_file_location(f"fc_function_{name}", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # as an import would: dataclasses and pydantic look it up
    spec.loader.exec_module(module)
    return module


def http_event(
    method: str,
    raw_path: str,
    query: str = "",
    headers: Mapping[str, str] | None = None,
    body: bytes = b"",
    *,
    request_id: str | None = None,
    source_ip: str = "127.0.0.1",
    host: str = "127.0.0.1",
    clock: Clock = SYSTEM_CLOCK,
) -> dict[str, Any]:
    """The FC3 HTTP trigger event for one request: repeated values joined with commas, binary bodies in base64."""
    headers = dict(headers or {})
    joined: dict[str, list[str]] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        joined.setdefault(key, []).append(value)
    try:
        text, is_base64 = body.decode("utf-8"), False
    except UnicodeDecodeError:
        text, is_base64 = base64.b64encode(body).decode("ascii"), True
    now = clock.time()
    return {
        "version": "v1",
        "rawPath": raw_path,
        "body": text,
        "isBase64Encoded": is_base64,
        "headers": headers,
        "queryParameters": {key: ",".join(values) for key, values in joined.items()},
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "domainName": host,
            "domainPrefix": host.split(".")[0],
            "http": {
                "method": method.upper(),
                "path": unquote(raw_path),
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": headers.get("User-Agent", headers.get("user-agent", "")),
            },
            "requestId": request_id or str(uuid.uuid4()),
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": str(int(now * 1000)),
        },
    }


class Emulator:
    """One FC instance of one function: it runs one invocation at a time, as built-in runtimes do."""

    def __init__(
        self,
        function: str,
        *,
        environ: Mapping[str, str] | None = None,
        credentials: Credentials | None = None,
        timeout: float | None = None,
        runtime: str = "python3.10",
    ) -> None:
        meta, initializer = function_meta(function)
        self.meta = meta if timeout is None else replace(meta, timeout=timeout)
        self.runtime = runtime
        self.credentials = credentials
        self.environ = dict(environ or {})
        """The function's environment over the process's, for each invocation only: os.environ is left as it was."""
        if runtime == "python3.12" and credentials is not None:
            # python3.12 has no context.credentials: FC exports the role's credentials instead.
            self.environ.update(credentials.environ())
        module_file, _, entry = self.meta.handler.rpartition(".")
        self.module = load_function(function, module_file)
        self.handler: Handler = getattr(self.module, entry)
        self.initializer: Callable[[Any], Any] | None = (
            getattr(self.module, initializer.rpartition(".")[2]) if initializer else None
        )
        self._lock = threading.Lock()
        self._initialized = False

    def context(self, request_id: str | None = None) -> Context312:
        return fc_context(self.meta, request_id=request_id, credentials=self.credentials, runtime=self.runtime)

    def invoke(self, event: Any, request_id: str | None = None) -> Any:
        """Call the handler with `event` as bytes, as FC passes it, after the initializer once."""
        if isinstance(event, dict):
            event = json.dumps(event)
        if isinstance(event, str):
            event = event.encode("utf-8")
        context = self.context(request_id or _event_request_id(event))
        with self._lock, environment(self.environ):
            self._start(context)
            return self.handler(event, context)

    def start(self) -> None:
        """Start the instance as FC does before its first invocation: the initializer, once."""
        with self._lock, environment(self.environ):
            self._start(self.context())

    def _start(self, context: Context312) -> None:
        if not self._initialized and self.initializer is not None:
            self.initializer(context)
        self._initialized = True


_ENVIRONMENT_LOCK = threading.RLock()


@contextmanager
def environment(variables: Mapping[str, str]) -> Iterator[None]:
    """`variables` set in os.environ while inside, and os.environ as it was after (one scope at a time)."""
    with _ENVIRONMENT_LOCK:
        saved = {name: os.environ.get(name) for name in variables}
        os.environ.update(variables)
        try:
            yield
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def _event_request_id(event: bytes) -> str | None:
    """FC gives the context the HTTP event's own request id."""
    try:
        request_id = json.loads(event).get("requestContext", {}).get("requestId")
    except (ValueError, AttributeError):
        return None
    return request_id if isinstance(request_id, str) else None


def serve(
    emulator: Emulator, host: str = "127.0.0.1", port: int = 9000, trigger: TriggerAuth | None = None
) -> ThreadingHTTPServer:
    """An HTTP server that plays the function's HTTP trigger; call `serve_forever()` on it.

    With `trigger`, FC's own authentication of the trigger (`local.fc_trigger`, from s.yaml's
    `authConfig`) runs first: a request it refuses never reaches the function.
    """

    class TriggerHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _handle(self) -> None:
            url = urlsplit(self.path)
            if len(self.path) > MAX_PATH_AND_QUERY:
                self.send_error(414, "The path and query are longer than 4 KB.")
                return
            if sum(len(k) + len(v) for k, v in self.headers.items()) > MAX_HEADER_BYTES:
                self.send_error(431, "The headers are larger than 8 KB.")
                return
            length_header = (self.headers.get("content-length") or "0").strip()
            if not length_header.isdigit():
                self.send_error(400, "Content-Length is not a number.")
                return
            length = int(length_header)
            if length > MAX_BODY_BYTES:
                self.send_error(413, "The request body is too large.")
                return
            body = self.rfile.read(length) if length else b""
            headers = {k: ", ".join(self.headers.get_all(k) or []) for k in dict.fromkeys(self.headers.keys())}
            request_id = str(uuid.uuid4())
            if trigger is not None:
                try:
                    headers = trigger.check(self.command, url.path, headers, url.query)
                except TriggerRejected as refused:
                    self._send(refused.status, {"content-type": "application/json"}, refused.body(), request_id)
                    return
            event = http_event(
                self.command,
                url.path,
                url.query,
                headers,
                body,
                request_id=request_id,
                source_ip=self.client_address[0],
                host=self.headers.get("host", host),
            )
            try:
                result = emulator.invoke(event, request_id)
                status, out_headers, payload = _http_answer(result)
            except Exception as exc:
                status, out_headers = (
                    502,
                    {"content-type": "application/json", "x-fc-error-type": "UnhandledInvocationError"},
                )
                payload = json.dumps({"errorMessage": str(exc), "errorType": type(exc).__name__}).encode()
            self._send(status, out_headers, payload, request_id)

        def _send(self, status: int, out_headers: Mapping[str, str], payload: bytes, request_id: str) -> None:
            self.send_response(status)
            for name, value in out_headers.items():
                self.send_header(name, value)
            self.send_header("x-fc-request-id", request_id)
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = _handle

        def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
            """What FC's gateway answers for a request it cannot hand to the function: JSON, no traceback."""
            payload = json.dumps({"Code": HTTPStatus(code).phrase.replace(" ", ""), "Message": message or ""}).encode()
            self.log_error("gateway answered %d", code)
            self.send_response(code)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.send_header("connection", "close")
            self.end_headers()
            self.close_connection = True
            if self.command != "HEAD":
                self.wfile.write(payload)

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            # The path and the parameters' names only: a query value may be a secret (an isvCode).
            url = urlsplit(getattr(self, "path", ""))
            names = ",".join(dict.fromkeys(name for name, _ in parse_qsl(url.query, keep_blank_values=True)))
            self.log_message("%s %s%s %s", self.command, url.path[:200], f" ?{names[:200]}" if names else "", code)

        def log_message(self, format: str, *args: Any) -> None:
            sys.stderr.write(f"emulator: {self.address_string()} {format % args}\n")

    server = ThreadingHTTPServer((host, port), TriggerHandler)
    server.daemon_threads = True
    return server


def _http_answer(result: Any) -> tuple[int, dict[str, str], bytes]:
    if not isinstance(result, dict) or not isinstance(result.get("statusCode"), int):
        raise TypeError("the handler must return a dict with an int statusCode")
    headers = {
        str(k): str(v)
        for k, v in (result.get("headers") or {}).items()
        if str(k).lower() not in FORBIDDEN_RESPONSE_HEADERS and not str(k).lower().startswith("x-fc-")
    }
    body = result.get("body") or ""
    payload = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode("utf-8")
    return result["statusCode"], headers, payload
