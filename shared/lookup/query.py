"""The query strings of `GET /waba` and `GET /waba/own`, validated strictly: nothing is silently ignored.

Example:
    >>> parse_lookup_query({"custSpaceId": "demo-approved"}, allow_isv_code=False).cust_space_id
    'demo-approved'
    >>> parse_lookup_query({"custSpaceID": "demo-approved"}, allow_isv_code=False)
    Traceback (most recent call last):
    ...
    shared.errors.InvalidParameter: Unknown query parameter custSpaceID; GET /waba takes custSpaceId, isvCode and _.

A parameter this endpoint does not know (a typo, `custSpaceId[]`) is a 400 naming it, as is one
given twice (FC joins repeated values with commas, which no value may hold). `_` is the one
cache-buster taken, and ignored. The account's own WABA is asked for by its own route, never by
leaving `custSpaceId` out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.errors import InvalidParameter
from shared.models import SAFE_CHARACTERS, SAFE_ID_PATTERN
from shared.settings import ISV_CODE_MAX, ISV_CODE_MIN

CUST_SPACE_ID_MAX = 64
CACHE_BUSTER_MAX = 64
_LENGTHS = {"custSpaceId": (1, CUST_SPACE_ID_MAX), "isvCode": (ISV_CODE_MIN, ISV_CODE_MAX), "_": (0, CACHE_BUSTER_MAX)}
_PRINTABLE_NAME = re.compile(r"[A-Za-z0-9_.\[\]-]{1,64}")
"""A parameter name shown back to the caller as it came; any other is not echoed."""


class LookupQuery(BaseModel):
    """The query parameters of `GET /waba` and `GET /waba/own`; no other is taken."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cust_space_id: str | None = Field(
        None, alias="custSpaceId", min_length=1, max_length=CUST_SPACE_ID_MAX, pattern=SAFE_ID_PATTERN
    )
    isv_code: str | None = Field(
        None, alias="isvCode", min_length=ISV_CODE_MIN, max_length=ISV_CODE_MAX, pattern=SAFE_ID_PATTERN, repr=False
    )
    cache_buster: str | None = Field(None, alias="_", max_length=CACHE_BUSTER_MAX, pattern=r"^[A-Za-z0-9_-]*$")


def parse_lookup_query(
    query: Mapping[str, str], *, allow_isv_code: bool, own: bool = False, health: bool = False
) -> LookupQuery:
    """Validate the query of `GET /waba` (with `own`, of `GET /waba/own`; with `health`, of `GET /waba/health`).

    A bad parameter raises InvalidParameter naming it, never echoing its value.
    """
    taken = ("isvCode", "_") if own else ("custSpaceId", "isvCode", "_")
    route = "GET /waba/own" if own else "GET /waba/health" if health else "GET /waba"
    for name in query:
        if name not in taken:
            shown = name if _PRINTABLE_NAME.fullmatch(name) else None
            raise InvalidParameter(
                f"Unknown query parameter {shown or '(not shown)'}; {route} takes {', '.join(taken[:-1])} and _.",
                parameter=shown or "(unknown)",
            )
    if "isvCode" in query and not allow_isv_code:
        raise InvalidParameter("isvCode is not accepted by this endpoint.", parameter="isvCode")
    if not own and "custSpaceId" not in query:
        raise InvalidParameter(
            "custSpaceId is required; GET /waba/own answers the account's own WABA.", parameter="custSpaceId"
        )
    try:
        return LookupQuery.model_validate(dict(query))
    except ValidationError as exc:
        name = str(exc.errors()[0]["loc"][0])
        shortest, longest = _LENGTHS.get(name, (1, 64))
        raise InvalidParameter(
            f"{name} must be given once, as {shortest} to {longest} characters from {SAFE_CHARACTERS}.",
            parameter=name,
        ) from None
