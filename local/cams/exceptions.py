"""The coded errors the fake CAMS answers with, as the real service names them."""

from __future__ import annotations

from typing import Any

HOST_ID = "cams.ap-southeast-1.aliyuncs.com"


class CamsError(Exception):
    """One error answer: HTTP status, code and message, in the RPC error body."""

    def __init__(self, status: int, code: str, message: str, *, business: bool = False) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        # Business errors may be answered as HTTP 200 with Code != "OK"; gateway errors never are.
        self.business = business

    def body(self, request_id: str, action: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "RequestId": request_id,
            "HostId": HOST_ID,
            "Code": self.code,
            "Message": self.message,
            "Recommend": f"https://api.aliyun.com/troubleshoot?q={self.code}&product=cams",
        }
        if self.code.startswith(("Ram.", "Forbidden")):
            body["AccessDeniedDetail"] = {
                "AuthAction": f"cams:{action or 'QueryChatappBindWaba'}",
                "NoPermissionType": "ImplicitDeny",
            }
        return body


def incomplete_signature(why: str) -> CamsError:
    return CamsError(400, "IncompleteSignature", f"The request signature does not conform to Aliyun standards. {why}")


def signature_does_not_match() -> CamsError:
    return CamsError(400, "SignatureDoesNotMatch", "Specified signature does not match our calculation.")


def access_key_not_found() -> CamsError:
    return CamsError(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")


def missing_security_token() -> CamsError:
    return CamsError(400, "MissingSecurityToken", "SecurityToken is mandatory for this action.")


def security_token_expired() -> CamsError:
    return CamsError(400, "InvalidSecurityToken.Expired", "Specified SecurityToken is expired.")


def security_token_mismatch() -> CamsError:
    return CamsError(
        400,
        "InvalidSecurityToken.MismatchWithAccessKey",
        "Specified SecurityToken mismatch with the AccessKey.",
    )


def timestamp_expired() -> CamsError:
    return CamsError(400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.")


def nonce_used() -> CamsError:
    return CamsError(400, "SignatureNonceUsed", "Specified signature nonce was used already.")


def action_not_found(action: str) -> CamsError:
    return CamsError(404, "InvalidAction.NotFound", f"Specified api is not found: {action[:64]}.")


def limit_control() -> CamsError:
    return CamsError(400, "System.LimitControl", "The system is under flow control.", business=True)


def permission_denied() -> CamsError:
    return CamsError(400, "Ram.PermissionDeny", "You are not authorized to perform the operation.", business=True)


def product_unsubscribed() -> CamsError:
    return CamsError(400, "Product.Unsubscript", "You have not subscribed to the specified product.", business=True)


def resource_not_owned() -> CamsError:
    return CamsError(400, "Unknown.ResourceOwnerId", "The resource does not belong to the current user.", business=True)


def missing_parameter(name: str) -> CamsError:
    return CamsError(
        400,
        "MissingParameter",
        f'The input parameter "{name}" that is mandatory for processing this request is not supplied.',
        business=True,
    )


def invalid_parameter(name: str, value: str) -> CamsError:
    return CamsError(
        400, "InvalidParameter", f'The specified parameter "{name}" is not valid: {value[:64]}.', business=True
    )


def waba_not_bound() -> CamsError:
    return CamsError(400, "ERR-OPERATION-MAAP-0060", "The subscriber has not bind WABA.", business=True)


def waba_not_found(waba_id: str) -> CamsError:
    """A WabaId the space does not have: CAMS passes on what Meta's Graph API says of an id it cannot see."""
    return CamsError(
        400,
        "ERR-FB-001",
        f"Unsupported get request. Object with ID '{waba_id[:64]}' does not exist, cannot be loaded due to"
        " missing permissions, or does not support this operation.",
        business=True,
    )


def phone_not_bound() -> CamsError:
    return CamsError(400, "ERR-OPERATION-MAAP-0065", "The phoneCode is not bind to the subscriber.", business=True)


def internal_error() -> CamsError:
    return CamsError(500, "InternalError", "The request processing has failed due to some unknown error.")


def service_unavailable() -> CamsError:
    return CamsError(503, "ServiceUnavailable", "The request has failed due to a temporary failure of the server.")


def coded(code: str, status: int = 400, message: str = "Scripted failure.") -> CamsError:
    """Any error by code, for scripted failures; a 4xx is a business error, so both styles apply."""
    return CamsError(status, code, message, business=status < 500)
