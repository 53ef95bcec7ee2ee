"""Log scopes: nested scopes keep their parent's fields and secrets; secrets are scrubbed in either spelling."""

from __future__ import annotations

import json
import re

import pytest

from shared.logs import add_secrets, log_context, log_event


def lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_a_nested_scope_keeps_its_parents_fields_and_secrets(capsys: pytest.CaptureFixture[str]) -> None:
    with log_context(["outer-secret-1"], requestId="r-1"):
        with log_context(["inner-secret-2"], space="s-1"):
            log_event("inside", note="outer-secret-1 and inner-secret-2")
        log_event("outside", note="outer-secret-1 and inner-secret-2")
    inside, outside = lines(capsys)
    assert (inside["requestId"], inside["space"], inside["note"]) == ("r-1", "s-1", "*** and ***")
    assert "space" not in outside
    assert outside["note"] == "*** and inner-secret-2"


def test_a_secret_is_scrubbed_as_written_and_as_json_escapes_it(capsys: pytest.CaptureFixture[str]) -> None:
    secret = 'clé"secrète'
    with log_context([secret]):
        log_event("escaped", note=f"a {secret} b", nested={"deep": secret})
    (line,) = lines(capsys)
    assert line["note"] == "a *** b"
    assert line["nested"] == {"deep": "***"}


def test_secrets_added_later_and_field_names_that_look_secret_are_scrubbed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with log_context(requestId="r-2", accessKeySecret="bound-value"):
        add_secrets([None, "abc", "added-later-3"])
        log_event("late", note="added-later-3 abc", token="anything")
    (line,) = lines(capsys)
    assert line["note"] == "*** abc", "secrets shorter than four characters are not scrubbed"
    assert line["accessKeySecret"] == line["token"] == "***"


def test_every_line_has_a_utc_time_to_the_millisecond(capsys: pytest.CaptureFixture[str]) -> None:
    log_event("one")
    log_event("two")
    for line in lines(capsys):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", str(line["time"]))
