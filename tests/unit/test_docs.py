"""The docs name everything a user can set, run or meet, and every link in them resolves."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from shared.errors import ERROR_TABLE
from shared.healthcheck.settings import HealthcheckSettings
from shared.lookup.settings import LookupSettings
from shared.settings import env_names

ROOT = Path(__file__).parents[2]
DOCS = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").rglob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def everything() -> str:
    return "\n".join(path.read_text() for path in DOCS if path.exists())


def make_targets() -> list[str]:
    phony = re.search(r"^\.PHONY:(.*)$", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert phony is not None
    return phony.group(1).split()


def anchors_of(path: Path) -> set[str]:
    """GitHub's anchors of a Markdown file's headings."""
    headings = re.findall(r"^#+ (.*)$", path.read_text(), re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


@pytest.mark.parametrize("target", make_targets())
def test_every_make_target_is_documented(target: str) -> None:
    assert f"make {target}" in everything()


@pytest.mark.parametrize("name", sorted({*env_names(LookupSettings), *env_names(HealthcheckSettings)}))
def test_every_setting_is_in_a_table(name: str) -> None:
    assert f"| `{name}` |" in everything()


@pytest.mark.parametrize("code", sorted(error.code for error in ERROR_TABLE))
def test_every_error_code_is_documented(code: str) -> None:
    assert f"`{code}`" in everything()


@pytest.mark.parametrize("path", DOCS, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_relative_link_resolves(path: Path) -> None:
    if not path.exists():
        pytest.skip(f"{path.name} is not written")
    for target in LINK.findall(path.read_text()):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        assert linked.exists(), f"{path.name} links to {target}, which is not in the repository"
        if anchor and linked.suffix == ".md":
            assert anchor in anchors_of(linked), f"{path.name} links to {target}: no such heading"


def test_the_docs_cite_nothing_outside_the_repository() -> None:
    assert "../shared/" not in everything()
    assert "check-s-yaml" not in everything()
