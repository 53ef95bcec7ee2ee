"""The query string of `GET /waba`, validated.

Example:
    >>> parse_lookup_query({"custSpaceId": "demo-approved"}, allow_isv_code=False).cust_space_id
    'demo-approved'
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.errors import InvalidParameter
from shared.models import SAFE_CHARACTERS, SAFE_ID_PATTERN

CUST_SPACE_ID_MAX = 64
ISV_CODE_MAX = 128
_LIMITS = {"custSpaceId": CUST_SPACE_ID_MAX, "isvCode": ISV_CODE_MAX}


class LookupQuery(BaseModel):
    """The query parameters of `GET /waba`; parameters it does not know are ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    cust_space_id: str | None = Field(
        None, alias="custSpaceId", min_length=1, max_length=CUST_SPACE_ID_MAX, pattern=SAFE_ID_PATTERN
    )
    isv_code: str | None = Field(
        None, alias="isvCode", min_length=1, max_length=ISV_CODE_MAX, pattern=SAFE_ID_PATTERN, repr=False
    )


def parse_lookup_query(query: Mapping[str, str], *, allow_isv_code: bool) -> LookupQuery:
    """Validate the query parameters; a bad one raises InvalidParameter naming it, never echoing it."""
    if "isvCode" in query and not allow_isv_code:
        raise InvalidParameter("isvCode is not accepted by this endpoint.", parameter="isvCode")
    try:
        return LookupQuery.model_validate(dict(query))
    except ValidationError as exc:
        name = str(exc.errors()[0]["loc"][0])
        raise InvalidParameter(
            f"{name} must be 1 to {_LIMITS.get(name, 64)} characters from {SAFE_CHARACTERS}.", parameter=name
        ) from None
