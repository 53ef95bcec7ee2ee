"""Library log records (the SDK, urllib3) join the JSON stream, scrubbed, at LOG_LEVEL."""

from __future__ import annotations

import logging

import pytest

from shared.logs import log_context, set_level
from tests.helpers import EmittedLines, log_lines


@pytest.fixture(autouse=True)
def info_level() -> None:
    set_level("INFO")


def test_a_library_record_is_one_json_line_scrubbed(capsys: pytest.CaptureFixture[str]) -> None:
    with log_context(["isv-secret-77"], requestId="r-1"):
        logging.getLogger("urllib3.connectionpool").warning("POST /?IsvCode=%s HTTP/1.1", "isv-secret-77")

    [line] = log_lines(capsys.readouterr().out)
    assert (line["level"], line["event"], line["logger"], line["requestId"]) == (
        "WARNING",
        "library",
        "urllib3.connectionpool",
        "r-1",
    )
    assert line["message"] == "POST /?IsvCode=*** HTTP/1.1"


def test_the_level_follows_log_level(capsys: pytest.CaptureFixture[str]) -> None:
    logging.getLogger("alibabacloud_credentials").debug("hidden at INFO")
    set_level("DEBUG")
    logging.getLogger("alibabacloud_credentials").debug("shown at DEBUG")

    assert [line["message"] for line in log_lines(capsys.readouterr().out)] == ["shown at DEBUG"]


def test_an_exception_is_its_type_and_message_never_a_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    try:
        raise ValueError("bad value")
    except ValueError:
        logging.getLogger("darabonba").exception("failed")

    out = capsys.readouterr().out
    [line] = log_lines(out)
    assert line["exception"] == "ValueError: bad value"
    assert "Traceback" not in out


def test_a_library_records_extra_fields_reach_its_line(emitted: EmittedLines) -> None:
    set_level("INFO")
    logging.getLogger("urllib3").warning("pool.full", extra={"error": "Full", "size": 10})
    (line,) = emitted("library")
    assert (line["logger"], line["message"], line["error"], line["size"]) == ("urllib3", "pool.full", "Full", 10)
