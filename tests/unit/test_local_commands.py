"""`python -m local token` refuses the space ids the function refuses; `python -m local openapi` writes the document."""

from __future__ import annotations

import json
from pathlib import Path

import jwt
import pytest

from local import openapi, tokens
from local.__main__ import main
from shared.auth.tokens import spaces_of
from shared.errors import Unauthorized

REFUSED = ["bad id", "<script>", "x" * 65, "a*", "é", "demo approved", "../x"]
TAKEN = ["*", "demo-approved", "demo_2", "x" * 64, "A-9"]


@pytest.mark.parametrize("space", REFUSED)
def test_a_token_for_a_space_id_the_function_refuses_is_refused_with_exit_2(
    space: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["token", "--spaces", "demo-approved", space])

    assert exited.value.code == 2
    out, err = capsys.readouterr()
    assert out == "", "no token is printed"
    assert f"the function refuses the space id(s) {space!r}" in err
    assert "each must be 1 to 64 characters from A-Z, a-z, 0-9, '_' and '-', or '*' for every space" in err


def test_the_refused_ids_are_those_the_functions_own_check_refuses() -> None:
    assert tokens.refused_spaces([*TAKEN, *REFUSED]) == REFUSED
    for space in REFUSED:
        with pytest.raises(Unauthorized):
            spaces_of([space])
    spaces_of(TAKEN)


@pytest.mark.parametrize("spaces", [["*"], TAKEN, ["a,b", "c"]])
def test_a_token_for_ids_the_function_takes_is_printed(spaces: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["token", "--spaces", *spaces]) == 0

    printed = capsys.readouterr().out.strip()
    claims = jwt.decode(printed, options={"verify_signature": False})
    assert claims["cams_spaces"] == [space for item in spaces for space in item.split(",")]


@pytest.mark.parametrize(("spaces", "problem"), [([","], "names no space"), (["s"] * 1001, "at most 1000")])
def test_a_token_naming_no_space_or_too_many_is_refused(
    spaces: list[str], problem: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["token", "--spaces", *spaces])

    assert exited.value.code == 2
    assert problem in capsys.readouterr().err


def test_openapi_prints_the_document(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["openapi"]) == 0

    document = json.loads(capsys.readouterr().out)
    assert document["openapi"] == "3.1.0"
    assert set(document["paths"]) >= {"/waba", "/waba/own", "/waba/health", "/healthz", "/openapi.json"}


def test_openapi_writes_the_file_then_checks_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    written = tmp_path / "docs" / "openapi.json"

    assert main(["openapi", "--check", "--output", str(written)]) == 1, "no file yet"
    assert main(["openapi", "--output", str(written)]) == 0
    assert written.read_text() == openapi.rendered()
    assert main(["openapi", "--check", "--output", str(written)]) == 0
    written.write_text(written.read_text().replace('"3.1.0"', '"3.0.3"'))
    assert main(["openapi", "--check", "--output", str(written)]) == 1
    assert "python -m local openapi --output" in capsys.readouterr().err
