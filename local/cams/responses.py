"""Dispatch of the fake CAMS: authenticate, limit, apply scripted faults, then run the action."""

from __future__ import annotations

import json
import socket
import time
import uuid
from collections.abc import Callable
from typing import Any

from werkzeug import Request, Response

from local.cams import exceptions, signature
from local.cams.models import NODE_TYPES, CamsBackend, Fault, Identity, JournalEntry

Action = Callable[[CamsBackend, Identity, dict[str, str]], dict[str, Any]]
NODE_PARAMETERS = {"phone": "PhoneNumber", "template": "TemplateCode"}
"""What a NodeType needs besides the space."""


def query_chatapp_bind_waba(backend: CamsBackend, identity: Identity, params: dict[str, str]) -> dict[str, Any]:
    data = backend.query_bind_waba(identity.account_id, params.get("CustSpaceId"), params.get("IsvCode"))
    return {"Data": data}


def query_chatapp_phone_numbers(backend: CamsBackend, identity: Identity, params: dict[str, str]) -> dict[str, Any]:
    numbers = backend.query_phone_numbers(
        identity.account_id, params.get("CustSpaceId"), params.get("IsvCode"), params.get("Status")
    )
    return {"PhoneNumbers": numbers}


def get_whatsapp_health_status(backend: CamsBackend, identity: Identity, params: dict[str, str]) -> dict[str, Any]:
    cust_space_id = _required(params, "CustSpaceId")
    node_type = _required(params, "NodeType")
    if node_type not in NODE_TYPES:
        raise exceptions.invalid_parameter("NodeType", node_type)
    if node_type in NODE_PARAMETERS:
        _required(params, NODE_PARAMETERS[node_type])
    data = backend.whatsapp_health(
        identity.account_id,
        cust_space_id,
        node_type,
        waba_id=params.get("WabaId"),
        phone_number=params.get("PhoneNumber"),
        template_code=params.get("TemplateCode"),
        language=params.get("Language"),
    )
    return {"Data": data}


def _required(params: dict[str, str], name: str) -> str:
    value = params.get(name)
    if not value:
        raise exceptions.missing_parameter(name)
    return value


ACTIONS: dict[str, Action] = {
    "QueryChatappBindWaba": query_chatapp_bind_waba,
    "QueryChatappPhoneNumbers": query_chatapp_phone_numbers,
    "GetWhatsappHealthStatus": get_whatsapp_health_status,
}


class CamsResponses:
    """Turns one HTTP request into the answer CAMS would give, and writes it in the journal."""

    def __init__(self, backend: CamsBackend) -> None:
        self.backend = backend

    def dispatch(self, request: Request) -> Response:
        with self.backend.answering():
            new_connection = self._set_up_connection(request)
            return self._dispatch(request, new_connection)

    def _set_up_connection(self, request: Request) -> bool:
        """Whether the request opened its connection; if so, it arrives only after the set-up delay, as
        after a TLS handshake: journaled, and counted against the rate limit, once that is over."""
        connection = request.environ.get("werkzeug.socket")
        if not isinstance(connection, socket.socket):
            return False  # a server that does not say which connection: no set-up to charge
        first = self.backend.first_on_connection(connection)
        delay = self.backend.new_connection_delay
        if first and delay:
            self.backend.cancelled.wait(delay)
        return first

    def _dispatch(self, request: Request, new_connection: bool) -> Response:
        headers = {name.lower(): value for name, value in request.headers.items()}
        entry = JournalEntry(
            at=time.time(),
            request_id=str(uuid.uuid4()).upper(),
            action=headers.get("x-acs-action"),
            query=dict(request.args.items()),
            new_connection=new_connection,
        )
        self.backend.record(entry)
        try:
            identity = signature.verify(
                request.method,
                request.path,
                request.query_string.decode("latin-1"),
                headers,
                request.get_data(),
                self.backend.identities.get,
                self.backend.use_nonce,
            )
            entry.access_key_id, entry.account_id = identity.access_key_id, identity.account_id
            self.backend.admit(identity.account_id, entry.action or "")
            response = self._answer(request, entry.request_id, identity, entry.action, entry.query)
        except exceptions.CamsError as error:
            response = self._error(error, entry.request_id, entry.action)
        entry.status, entry.code = response.status_code, _code_of(response)
        return response

    def _answer(
        self,
        request: Request,
        request_id: str,
        identity: Identity,
        action: str | None,
        params: dict[str, str],
    ) -> Response:
        fault = self.backend.next_fault()
        if fault is not None:
            scripted = self._apply(fault, request, request_id, action)
            if scripted is not None:
                return scripted
        run = ACTIONS.get(action or "")
        if run is None:
            raise exceptions.action_not_found(action or "")
        body = {
            "RequestId": request_id,
            "Code": "OK",
            "Message": "SUCCESS",
            "Success": True,
            **run(self.backend, identity, params),
        }
        return _json(200, body)

    def _apply(self, fault: Fault, request: Request, request_id: str, action: str | None) -> Response | None:
        """The answer a scripted fault gives; None lets the call go on (after a delay)."""
        if fault.kind == "delay":
            self.backend.cancelled.wait(fault.seconds)
            return None
        if fault.kind == "garbage":
            return Response("<html><body>502 Bad Gateway</body></html>", status=200, content_type="text/html")
        if fault.kind == "drop":
            connection = request.environ.get("werkzeug.socket")
            if isinstance(connection, socket.socket):
                connection.shutdown(socket.SHUT_RDWR)
            return Response(b"", status=500)
        assert fault.error is not None
        response = self._error(fault.error, request_id, action)
        if fault.retry_after_ms:
            response.headers["x-acs-retry-after"] = str(fault.retry_after_ms)
        return response

    def _error(self, error: exceptions.CamsError, request_id: str, action: str | None) -> Response:
        body = error.body(request_id, action)
        if error.business and self.backend.error_style == "body":
            return _json(200, {**body, "Success": False})
        return _json(error.status, body)


def _json(status: int, body: dict[str, Any]) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json;charset=utf-8")


def _code_of(response: Response) -> str | None:
    try:
        code = json.loads(response.get_data()).get("Code")
    except (ValueError, AttributeError):
        return None
    return code if isinstance(code, str) else None
