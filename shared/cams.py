"""Every CAMS operation over the official SDK: one typed call with retries, for any `Operation`.

Example (against the local fake CAMS; see `local/cams`):
    >>> gateway = CamsGateway(settings)  # doctest: +SKIP
    >>> outcome = gateway.call(QUERY_CHATAPP_BIND_WABA, SpaceArguments("space-1"), invocation)  # doctest: +SKIP
    >>> outcome.unwrap().result.account_review_status  # doctest: +SKIP
    'APPROVED'

Both error styles of CAMS come out as the same typed `ServiceError`, in the outcome rather than
raised: an HTTP 4xx/5xx that the SDK raises, and an HTTP 200 whose `Code` is not "OK" (which the SDK
never raises). Retries, error classification and transport errors are the same for every operation.

The client is the SDK's OpenAPI client, which the generated CAMS client subclasses: every
operation sends its own `Params` through its `call_api`, as each generated method does, so the
generated client and its 577 model modules are never imported (a contract test compares what both
send). The endpoint is always the settings' own, so the generated client's endpoint rules, which
apply only when a config names none, have nothing to add.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Protocol

from alibabacloud_credentials.client import Client as DefaultCredentialChain
from alibabacloud_credentials.exceptions import CredentialException
from alibabacloud_tea_openapi.client import Client as SdkClient
from alibabacloud_tea_openapi.exceptions import AlibabaCloudException, ThrottlingException
from alibabacloud_tea_openapi.utils_models import Config, OpenApiRequest
from darabonba.exceptions import RetryError, UnretryableException
from darabonba.runtime import RuntimeOptions

from shared import errors
from shared.credentials import StaticCredentials
from shared.invocation import log_retry
from shared.operations import A, Operation, R
from shared.retry import Attempted, Deadline, RetryPolicy, call_with_retry
from shared.settings import FunctionSettings

THROTTLING_CODES = ("System.LimitControl", "Throttling", "ThrottlingException")
MISCONFIGURED_PREFIXES = (
    "Ram.",
    "Product.Unsubscript",
    "Forbidden",
    "NoPermission",
    "SignatureDoesNotMatch",
    "IncompleteSignature",
    "InvalidAccessKeyId",
    "InvalidSecurityToken",
    "InvalidCredentials",
    "MissingSecurityToken",
    "InvalidTimeStamp",
    "SignatureNonceUsed",
)
OWNERSHIP_PREFIXES = ("Unknown.ResourceOwnerId", "Isv", "InvalidIsvCode")
CALLER_INPUT_PREFIXES = ("InvalidParameter", "MissingParameter")


@dataclass(frozen=True)
class Answered(Generic[R]):
    """An operation's result, the body CAMS answered it with (what a cache keeps), and its RequestId."""

    result: R
    body: Mapping[str, Any]
    cams_request_id: str | None


class CallBudget(Protocol):
    """What a call to CAMS takes of its invocation: the credentials, and the deadline to answer by."""

    @property
    def credentials(self) -> StaticCredentials | None: ...

    @property
    def deadline(self) -> Deadline: ...


def classify(
    code: str | None, status: int | None, request_id: str | None, retry_after_s: float | None = None
) -> errors.ServiceError:
    """The ServiceError for a CAMS error code (and HTTP status, when there was one)."""
    code = code or ""
    kwargs: dict[str, Any] = {"cams_request_id": request_id, "retry_after_s": retry_after_s}
    if code.startswith(THROTTLING_CODES):
        return errors.Throttled(**kwargs)
    if code.startswith(MISCONFIGURED_PREFIXES):
        return errors.UpstreamMisconfigured(f"CAMS refused this function's call ({code}).", **kwargs)
    if code.startswith(OWNERSHIP_PREFIXES):
        return errors.SpaceNotFound(**kwargs)
    if code.startswith(CALLER_INPUT_PREFIXES):
        return errors.InvalidParameter(f"CAMS rejected the request's parameters ({code}).", **kwargs)
    if status is not None and status >= 500:
        return errors.UpstreamUnavailable(**kwargs)
    return errors.UpstreamError(f"CAMS answered with an unexpected error ({code or status}).", **kwargs)


def parse_body(operation: Operation[A, R], body: object) -> Answered[R]:
    """Turn a raw JSON body of HTTP 200 into the operation's result, or raise what it means."""
    if not isinstance(body, dict):
        raise errors.UpstreamBadResponse("CAMS answered with something that is not a JSON object.")
    request_id = body.get("RequestId") if isinstance(body.get("RequestId"), str) else None
    code = body.get("Code")
    if (code is not None and code != "OK") or body.get("Success") is False:
        raise classify(str(code), None, request_id)
    try:
        return Answered(operation.read(body), body, request_id)
    except errors.ServiceError as meant:  # what the body means (no WABA bound, say) carries its RequestId
        meant.cams_request_id = meant.cams_request_id or request_id
        raise


class CamsGateway:
    """Owns the SDK client of one set of settings; rebuilds it when the credentials change."""

    def __init__(self, settings: FunctionSettings) -> None:
        self.settings = settings
        self.policy = RetryPolicy(
            max_attempts=settings.cams_retry_max_attempts,
            base_delay_s=settings.cams_retry_base_delay_ms / 1000,
            max_delay_s=settings.cams_retry_max_delay_ms / 1000,
            min_attempt_s=settings.cams_min_attempt_ms / 1000,
        )
        self._lock = threading.Lock()
        self._client: SdkClient | None = None
        self._client_credentials: StaticCredentials | None = None

    def client_for(self, credentials: StaticCredentials | None) -> SdkClient:
        with self._lock:
            if self._client is None or credentials != self._client_credentials:
                self._client = SdkClient(self._config(credentials))
                self._client_credentials = credentials
            return self._client

    def _config(self, credentials: StaticCredentials | None) -> Config:
        config = Config(
            endpoint=self.settings.cams_endpoint,
            protocol=self.settings.cams_protocol,
            connect_timeout=self.settings.cams_connect_timeout_ms,
            read_timeout=self.settings.cams_read_timeout_ms,
        )
        if credentials is None:
            config.credential = DefaultCredentialChain()
        else:
            config.access_key_id = credentials.access_key_id
            config.access_key_secret = credentials.access_key_secret
            config.security_token = credentials.security_token
        return config

    def call(
        self,
        operation: Operation[A, R],
        arguments: A,
        budget: CallBudget,
        *,
        before_attempt: Callable[[], None] | None = None,
        on_throttled: Callable[[], None] | None = None,
    ) -> Attempted[Answered[R]]:
        """`operation` for `arguments`, retried within the budget's deadline.

        `before_attempt` runs before every call to CAMS, retries included: a quota's slot, say;
        `on_throttled` after each answer of CAMS that refuses the call for the account's rate.
        """
        client = self.client_for(budget.credentials)
        request = OpenApiRequest(query=operation.query(arguments))

        def attempt(budget_s: float) -> Answered[R]:
            if before_attempt is not None:
                before_attempt()
                budget_s = budget.deadline.remaining()  # the hook may have slept
            try:
                return self._attempt(client, operation, request, budget_s)
            except errors.Throttled:
                if on_throttled is not None:
                    on_throttled()
                raise

        return call_with_retry(attempt, self.policy, budget.deadline, log_retry)

    def _attempt(
        self, client: SdkClient, operation: Operation[A, R], request: OpenApiRequest, budget_s: float
    ) -> Answered[R]:
        budget_ms = max(1, int(budget_s * 1000))
        runtime = RuntimeOptions(
            connect_timeout=min(self.settings.cams_connect_timeout_ms, budget_ms),
            read_timeout=min(self.settings.cams_read_timeout_ms, budget_ms),
        )
        try:
            # The operation's own Params, as the generated method sends them; its raw body keeps
            # the fields the SDK's model would drop.
            answer = client.call_api(operation.params, request, runtime)
        except ThrottlingException as exc:
            raise classify(exc.code, exc.status_code, _request_id(exc), (exc.retry_after or 0) / 1000 or None) from None
        except AlibabaCloudException as exc:
            raise classify(exc.code, exc.status_code, _request_id(exc)) from None
        except UnretryableException as exc:
            raise _transport_error(exc.inner_exception) from None
        except CredentialException:
            raise errors.UpstreamMisconfigured() from None
        return parse_body(operation, answer.get("body") if isinstance(answer, dict) else None)


def _request_id(exc: AlibabaCloudException) -> str | None:
    request_id = getattr(exc, "request_id", None)
    return request_id if isinstance(request_id, str) and request_id not in ("", "None") else None


def _transport_error(inner: object) -> errors.ServiceError:
    """What an SDK failure without an answer from CAMS means: network, parsing or credentials."""
    if isinstance(inner, RetryError):
        if "timed out" in str(inner.message).lower():
            return errors.UpstreamTimeout()
        return errors.UpstreamUnavailable("CAMS could not be reached.")
    if isinstance(inner, CredentialException):
        return errors.UpstreamMisconfigured()
    if isinstance(inner, (RuntimeError, ValueError)) and "json" in str(inner).lower():
        return errors.UpstreamBadResponse("CAMS answered with something that is not JSON.")
    return errors.UpstreamError(f"The call to CAMS failed ({type(inner).__name__}).")
