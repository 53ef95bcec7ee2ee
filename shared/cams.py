"""CAMS `QueryChatappBindWaba` over the official SDK, one typed call with retries.

Example (against the local fake CAMS; see `local/cams`):
    >>> gateway = CamsGateway(settings)  # doctest: +SKIP
    >>> outcome = gateway.query_bind_waba("space-1", None, invocation)  # doctest: +SKIP
    >>> outcome.unwrap().binding.account_review_status  # doctest: +SKIP
    'APPROVED'

Both error styles of CAMS come out as the same typed `ServiceError`, in the outcome rather than
raised: an HTTP 4xx/5xx that the SDK raises, and an HTTP 200 whose `Code` is not "OK" (which the SDK
never raises).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

from alibabacloud_cams20200606.client import Client as SdkClient
from alibabacloud_credentials.client import Client as DefaultCredentialChain
from alibabacloud_credentials.exceptions import CredentialException
from alibabacloud_tea_openapi.exceptions import AlibabaCloudException, ThrottlingException
from alibabacloud_tea_openapi.utils_models import Config, OpenApiRequest, Params
from darabonba.exceptions import RetryError, UnretryableException
from darabonba.runtime import RuntimeOptions
from pydantic import ValidationError

from shared import errors
from shared.credentials import StaticCredentials
from shared.invocation import begin, log_retry
from shared.logs import log_event
from shared.models import WabaBinding
from shared.retry import Attempted, Deadline, RetryPolicy, call_with_retry
from shared.settings import CamsSettings

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
QUERY_CHATAPP_BIND_WABA = Params(
    action="QueryChatappBindWaba",
    version="2020-06-06",
    protocol="HTTPS",
    pathname="/",
    method="POST",
    auth_type="AK",
    style="RPC",
    req_body_type="formData",
    body_type="json",
)


@dataclass(frozen=True)
class BindingResult:
    binding: WabaBinding
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
        return errors.Throttled("CAMS is throttling this account; try again shortly.", **kwargs)
    if code.startswith(MISCONFIGURED_PREFIXES):
        return errors.UpstreamMisconfigured(f"CAMS refused this function's call ({code}).", **kwargs)
    if code.startswith(OWNERSHIP_PREFIXES):
        return errors.SpaceNotFound("This customer space is not known to this account.", **kwargs)
    if code.startswith(CALLER_INPUT_PREFIXES):
        return errors.InvalidParameter(f"CAMS rejected the request's parameters ({code}).", **kwargs)
    if status is not None and status >= 500:
        return errors.UpstreamUnavailable("CAMS is unavailable.", **kwargs)
    return errors.UpstreamError(f"CAMS answered with an unexpected error ({code or status}).", **kwargs)


def parse_body(body: object) -> BindingResult:
    """Turn a raw JSON body of HTTP 200 into a binding, or raise what it means."""
    if not isinstance(body, dict):
        raise errors.UpstreamBadResponse("CAMS answered with something that is not a JSON object.")
    request_id = body.get("RequestId") if isinstance(body.get("RequestId"), str) else None
    code = body.get("Code")
    if (code is not None and code != "OK") or body.get("Success") is False:
        raise classify(str(code), None, request_id)
    data = body.get("Data")
    if data in (None, {}):
        raise errors.WabaNotBound("No WABA is bound to this customer space.", cams_request_id=request_id)
    try:
        return BindingResult(WabaBinding.model_validate(data), request_id)
    except ValidationError:
        raise errors.UpstreamBadResponse(
            "CAMS answered with a WABA this function cannot read.", cams_request_id=request_id
        ) from None


class CamsGateway:
    """Owns the SDK client of one set of settings; rebuilds it when the credentials change."""

    def __init__(self, settings: CamsSettings) -> None:
        self.settings = settings
        self.policy = RetryPolicy(
            max_attempts=settings.retry_max_attempts,
            base_delay_s=settings.retry_base_delay_ms / 1000,
            max_delay_s=settings.retry_max_delay_ms / 1000,
            min_attempt_s=settings.min_attempt_ms / 1000,
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

    def query_bind_waba(
        self,
        cust_space_id: str | None,
        isv_code: str | None,
        budget: CallBudget,
        *,
        before_attempt: Callable[[], None] | None = None,
    ) -> Attempted[BindingResult]:
        """The WABA bound to `cust_space_id` (the account's own when None), retried within the deadline.

        `before_attempt` runs before every call to CAMS, retries included: a pacer, say.
        """
        client = self.client_for(budget.credentials)
        query = {"CustSpaceId": cust_space_id, "IsvCode": isv_code}
        request = OpenApiRequest(query={name: value for name, value in query.items() if value is not None})

        def attempt(budget_s: float) -> BindingResult:
            if before_attempt is not None:
                before_attempt()
                budget_s = budget.deadline.remaining()  # the hook may have slept
            return self._attempt(client, request, budget_s)

        return call_with_retry(attempt, self.policy, budget.deadline, log_retry)

    def _attempt(self, client: SdkClient, request: OpenApiRequest, budget_s: float) -> BindingResult:
        budget_ms = max(1, int(budget_s * 1000))
        runtime = RuntimeOptions(
            connect_timeout=min(self.settings.cams_connect_timeout_ms, budget_ms),
            read_timeout=min(self.settings.cams_read_timeout_ms, budget_ms),
        )
        try:
            # The operation's own Params, as the generated method sends them; its raw body keeps
            # the fields the SDK's model would drop.
            answer = client.call_api(QUERY_CHATAPP_BIND_WABA, request, runtime)
        except ThrottlingException as exc:
            raise classify(exc.code, exc.status_code, _request_id(exc), (exc.retry_after or 0) / 1000 or None) from None
        except AlibabaCloudException as exc:
            raise classify(exc.code, exc.status_code, _request_id(exc)) from None
        except UnretryableException as exc:
            raise _transport_error(exc.inner_exception) from None
        except CredentialException:
            raise errors.UpstreamMisconfigured("The function has no usable credentials for CAMS.") from None
        return parse_body(answer.get("body") if isinstance(answer, dict) else None)


def _request_id(exc: AlibabaCloudException) -> str | None:
    request_id = getattr(exc, "request_id", None)
    return request_id if isinstance(request_id, str) and request_id not in ("", "None") else None


def _transport_error(inner: object) -> errors.ServiceError:
    """What an SDK failure without an answer from CAMS means: network, parsing or credentials."""
    if isinstance(inner, RetryError):
        if "timed out" in str(inner.message).lower():
            return errors.UpstreamTimeout("CAMS did not answer in time.")
        return errors.UpstreamUnavailable("CAMS could not be reached.")
    if isinstance(inner, CredentialException):
        return errors.UpstreamMisconfigured("The function has no usable credentials for CAMS.")
    if isinstance(inner, (RuntimeError, ValueError)) and "json" in str(inner).lower():
        return errors.UpstreamBadResponse("CAMS answered with something that is not JSON.")
    return errors.UpstreamError(f"The call to CAMS failed ({type(inner).__name__}).")


@lru_cache(maxsize=2)
def gateway_for(settings: CamsSettings) -> CamsGateway:
    """The gateway of these settings, built once per instance and reused by every invocation."""
    return CamsGateway(settings)


def warm_up(context: object, settings_model: type[CamsSettings], invalid_event: str) -> None:
    """An instance's initializer: validate settings and build the CAMS client before the first call.

    A bad setting is logged here, naming the variable, and not raised: FC would answer its own
    error for the instance, while the handler answers the documented one.
    """
    with begin(context, settings_model) as invocation:
        try:
            settings = invocation.settings
        except errors.ConfigurationError as invalid:
            log_event(invalid_event, logging.ERROR, reason=invalid.message)
            return
        gateway_for(settings).client_for(invocation.credentials)
