"""Build each function's code package, as `s deploy` uploads it: no Docker, no `s build`.

    python -m local build [--python-version 3.10] [--out build] [function ...]

A package is a directory with the function's `index.py` at its root, the `shared/` package, and the
runtime dependencies (this project's own, from its installed metadata) installed for FC's platform
with `pip install --target --platform manylinux2014_x86_64 --only-binary=:all:`. It holds no
`local/`, no tests and no caches.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from collections.abc import Iterable
from importlib.metadata import requires
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLATFORM = "manylinux2014_x86_64"
DIST_NAME = "waba-binding-fc"
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo")


def runtime_requirements() -> list[str]:
    """The project's runtime dependencies, as its installed metadata lists them (extras left out)."""
    return [req for req in requires(DIST_NAME) or [] if "extra ==" not in req]


def functions() -> list[str]:
    return sorted(p.parent.name for p in (ROOT / "functions").glob("*/index.py"))


def build(function: str, out: Path, python_version: str, requirements: Iterable[str]) -> Path:
    """Build `function`'s package in `out/<function>`, replacing what was there."""
    target = out / function
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(ROOT / "functions" / function, target, ignore=SKIP)
    shutil.copytree(ROOT / "shared", target / "shared", ignore=SKIP)
    subprocess.run(
        [
            sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
            "--target", str(target),
            "--platform", PLATFORM,
            "--implementation", "cp",
            "--python-version", python_version,
            "--only-binary=:all:",
            "--no-compile",
            *requirements,
        ],
        check=True,
    )  # fmt: skip
    for cache in target.rglob("__pycache__"):
        shutil.rmtree(cache, ignore_errors=True)
    shutil.rmtree(target / "bin", ignore_errors=True)
    return target


def size_of(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m local build", description=__doc__.split("\n\n")[0])
    parser.add_argument("functions", nargs="*", help="default: every folder of functions/")
    parser.add_argument("--python-version", default="3.10", help="FC's runtime: python3.10 is 3.10")
    parser.add_argument("--out", type=Path, default=ROOT / "build")
    args = parser.parse_args(argv)
    requirements = runtime_requirements()
    for function in args.functions or functions():
        package = build(function, args.out, args.python_version, requirements)
        files = sum(1 for f in package.rglob("*") if f.is_file())
        print(f"{function}: {package} {size_of(package) / 2**20:.1f} MiB in {files} files")
    return 0
