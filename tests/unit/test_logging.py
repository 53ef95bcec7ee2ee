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


def test_a_logger_of_any_name_with_its_own_stderr_handler_joins_the_stream(
    capsys: pytest.CaptureFixture[str],
) -> None:
    own = logging.getLogger("credentials-like-" + str(id(capsys)))  # as alibabacloud_credentials does
    own.addHandler(logging.StreamHandler())
    own.setLevel(logging.INFO)
    set_level("INFO")  # the next invocation routes the loggers created since the last

    own.warning("no credentials in the chain")

    captured = capsys.readouterr()
    assert captured.err == "", "nothing in plain text on stderr"
    [line] = log_lines(captured.out)
    assert (line["logger"], line["message"]) == (own.name, "no credentials in the chain")


def test_the_sdks_own_loggers_write_json_alone(capsys: pytest.CaptureFixture[str]) -> None:
    import alibabacloud_credentials.provider.ecs_ram_role  # noqa: F401  (its logger, and its handler)
    import darabonba.core  # noqa: F401

    set_level("INFO")
    logging.getLogger("credentials").warning("refresh failed")
    logging.getLogger("darabonba-core").warning("retrying")

    captured = capsys.readouterr()
    assert captured.err == ""
    assert [line["logger"] for line in log_lines(captured.out)] == ["credentials", "darabonba-core"]
