"""`python -m local openapi [--output docs/openapi.json] [--check]`: the lookup function's OpenAPI document.

The document is the one `GET /openapi.json` serves (`shared/lookup/openapi.py`), generated from the
models of the function's answers and of its query; docs/openapi.json is this command's output, and
`--check` says whether it still is.

    >>> rendered().startswith('{\\n  "openapi": "3.1.0"')
    True
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from shared.lookup.openapi import openapi_document

ROOT = Path(__file__).resolve().parent.parent
COMMITTED = ROOT / "docs" / "openapi.json"


def rendered() -> str:
    """The document as committed: indented, in the order it is built, with a final newline."""
    return json.dumps(openapi_document(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m local openapi",
        description="Print the lookup function's OpenAPI 3.1 document (the one GET /openapi.json serves).",
    )
    parser.add_argument("--output", "-o", type=Path, help="write it to this file (docs/openapi.json) instead of stdout")
    parser.add_argument(
        "--check",
        action="store_true",
        help=f"exit 1 unless the file (default: {COMMITTED.relative_to(ROOT)}) is current",
    )
    args = parser.parse_args(argv)
    document = rendered()
    if args.check:
        return check(args.output or COMMITTED, document)
    if args.output is None:
        sys.stdout.write(document)
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(document, encoding="utf-8")
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


def check(path: Path, document: str) -> int:
    if path.is_file() and path.read_text(encoding="utf-8") == document:
        return 0
    print(
        f"{path} is not the document the code generates: run `python -m local openapi --output {path}`", file=sys.stderr
    )
    return 1
