"""Build each function's code package, as `s deploy` uploads it: no Docker, no `s build`.

    python -m local build [--python-version 3.10] [--python PATH] [--out build] [function ...]
    python -m local build --lock [--python-version 3.12]     regenerate locks/python3.X.txt
    python -m local build --check-lock                       fail when a lock is stale
    python -m local build --which-python [--python-version 3.12]

A package is a directory with the function's `index.py` at its root, the `shared/` package, and the
runtime dependencies pinned in `locks/python<version>.txt`, with the bytecode of every module. It
is built by the Python of FC's runtime itself (`python3.10` for the runtime python3.10), found on
PATH, else through pyenv, else given with `--python` or `TARGET_PYTHON`:

- the lock was resolved for that Python version and for manylinux x86_64 (`uv pip compile`), so
  version markers are the target's (`async-timeout` is in the python3.10 lock, not in 3.12's);
- the target's pip installs it with `--no-deps --only-binary=:all:` and the lock's hashes, for
  `manylinux2014_x86_64` whatever the build machine (so a glibc newer than FC's picks no wheel);
- the target's `compileall` writes `__pycache__/*.cpython-3XX.pyc` beside every `.py`, in
  `unchecked-hash` mode: FC's code directory is read-only, so a package without bytecode compiles
  every module it imports on every cold start, and the timestamps that unzipping changes do not
  invalidate hash-based bytecode. The sources stay beside it, for tracebacks.

A function's package ships nothing the import system can never load (`slim`): the distributions
no module imports (`NEVER_IMPORTED`: pycparser, which only builds cffi modules; alibabacloud-tea-util,
which the OpenAPI SDK requires and never imports) and the `cffi` package (cryptography's Rust
bindings load cffi's `_cffi_backend` extension alone, which stays), the modules whose
unconditional imports name a package that is neither shipped nor standard (`unsatisfiable`), type
stubs, C and Cython sources, a `.py` shadowed by the extension module of the same name, the
libraries' own test suites, pip's install records, and the debug information and local symbols of
shared libraries (`strip --strip-unneeded`, when `strip` is on PATH: what the dynamic loader and
Python read stays). A function's package also leaves out the other functions' `shared/<function>/`.

The installed dependencies are cached in `<out>/.deps/`, keyed by the lock, the interpreter and
this file. A package holds no `local/`, no tests, no development dependencies.

`locks/sdk-python<version>.txt` pins the bare CAMS SDK (`locks/sdk.in`) that the benchmark packages
to compare against, constrained to the function lock's versions of every package both hold: the
functions call CAMS through the SDK's OpenAPI client and never import the generated CAMS client.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCKS = ROOT / "locks"
# FC3's built-in Python runtimes this package deploys to (s.yaml's runtime is python<version>).
SUPPORTED = ("3.10", "3.12")
DEFAULT_VERSION = "3.10"
# FC's runtimes are x86_64 Debian (10 for python3.10, 11 for python3.12): manylinux_2_17 wheels run
# on both, and the lock is resolved for the same platform.
PIP_PLATFORM = "manylinux2014_x86_64"
UV_PLATFORM = "x86_64-manylinux_2_17"
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo")
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)")
PROJECT = "waba-binding-fc"
SDK_REQUIREMENTS = LOCKS / "sdk.in"
NEVER_IMPORTED = {
    "pycparser": "cffi's C parser, which builds cffi modules: none is built at run time",
    "alibabacloud-tea-util": "alibabacloud-tea-openapi requires it, and no module imports it",
}
"""Distributions of the lock that a function's package leaves out, and why none of its modules can be imported."""
NEVER_IMPORTED_PACKAGES = {
    "cffi": "cryptography's Rust bindings load cffi's `_cffi_backend` extension, which stays; nothing imports "
    "the `cffi` package, which builds and loads cffi modules from Python",
}
"""Top-level packages of a distribution that stays, left out for the same reason."""
UNLOADABLE = ("*.pyi", "py.typed", "*.c", "*.h", "*.pyx", "*.pxd", "*.pxi")
"""Type stubs and the sources of compiled modules: read by type checkers and compilers, never imported."""
PIP_RECORDS = ("RECORD", "INSTALLER", "REQUESTED")
"""What pip writes of an installation for itself (to uninstall it): no library reads it."""
TEST_SUITES = ("tests",)
"""A library's own test suite: run by its developers, imported by none of its modules."""


class BuildError(Exception):
    """A build that cannot go on, with a message that says what to do."""


@dataclass(frozen=True)
class Interpreter:
    """The Python of an FC runtime, on this machine."""

    version: str  # "3.10"
    executable: Path
    full_version: str  # "3.10.13"

    @property
    def tag(self) -> str:
        """The bytecode files' tag, as in `__pycache__/index.cpython-310.pyc`."""
        return "cpython-" + self.version.replace(".", "")


def lock_path(version: str) -> Path:
    return LOCKS / f"python{version}.txt"


def sdk_lock_path(version: str) -> Path:
    """The bare CAMS SDK's lock, which the benchmark's reference packages are built from."""
    return LOCKS / f"sdk-python{version}.txt"


def check_version(version: str) -> str:
    if version not in SUPPORTED:
        accepted = ", ".join(f"python{v}" for v in SUPPORTED)
        raise BuildError(f"python{version} is not a runtime this package deploys to: {accepted}")
    return version


def check_runtime(version: str, environ: Mapping[str, str]) -> None:
    """s.yaml deploys runtime `FC_RUNTIME` (default python3.10): a build for another version would not start."""
    runtime = environ.get("FC_RUNTIME", "")
    if runtime and runtime != f"python{version}":
        raise BuildError(
            f"FC_RUNTIME={runtime} (the runtime s.yaml deploys) but the build is for python{version}: "
            f"set one of them only (make build reads PYTHON_VERSION from FC_RUNTIME)"
        )


def _probe(command: str | Path, version: str) -> Interpreter | None:
    """The interpreter `command` runs, if it runs and is Python `version` (a pyenv shim may not run)."""
    script = "import sys, platform; print(sys.executable); print(platform.python_version())"
    try:
        done = subprocess.run(
            [str(command), "-I", "-c", script], capture_output=True, text=True, timeout=60, check=False
        )
    except OSError:
        return None
    lines = done.stdout.split()
    if done.returncode != 0 or len(lines) != 2 or not lines[1].startswith(version + "."):
        return None
    return Interpreter(version, Path(lines[0]), lines[1])


def _pyenv() -> str | None:
    found = shutil.which("pyenv")
    if found:
        return found
    root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    return str(root / "bin" / "pyenv") if (root / "bin" / "pyenv").is_file() else None


def find_python(version: str, explicit: str | None = None) -> Interpreter:
    """Python `version`: from `explicit` (`--python`) or TARGET_PYTHON, else `python<version>` on PATH, else pyenv's.

    Either names one interpreter or several, separated by `os.pathsep` (one per runtime). One that
    `--python` names must be there; TARGET_PYTHON, read by the tests too, is passed over when it
    holds no Python `version`.
    """
    check_version(version)
    for candidate in (explicit or os.environ.get("TARGET_PYTHON") or "").split(os.pathsep):
        if candidate and (found := _probe(candidate, version)):
            return found
    if explicit:
        raise BuildError(f"TARGET_PYTHON={explicit} holds no working Python {version}")
    on_path = shutil.which(f"python{version}")
    if on_path and (found := _probe(on_path, version)):
        return found
    pyenv = _pyenv()
    if pyenv:
        prefix = subprocess.run([pyenv, "prefix", version], capture_output=True, text=True, check=False)
        for line in prefix.stdout.splitlines() if prefix.returncode == 0 else []:
            if found := _probe(Path(line.strip()) / "bin" / f"python{version}", version):
                return found
    raise BuildError(
        f"python{version} not found: FC's runtime python{version} runs the package, so its own Python "
        f"builds it (its wheels, its bytecode). Get one of:\n"
        f"  - python{version} on PATH (your system's packages, or python.org's installer);\n"
        f"  - pyenv install {version}   (found with `pyenv prefix {version}`);\n"
        f"  - or name one: make build TARGET_PYTHON=/path/to/python{version}"
    )


# The lock: uv's `pip compile` output, one block per package (`name==version`, its hashes, `# via`).


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read_lock(path: Path) -> dict[str, tuple[str, str, set[str]]]:
    """Each pinned package's normalized name: (version, its block of lines, the packages that need it)."""
    blocks: dict[str, tuple[str, str, set[str]]] = {}
    name = ""
    for line in path.read_text().splitlines():
        if pin := PIN.match(line):
            name = normalize(pin[1])
            blocks[name] = (pin[2], line + "\n", set())
        elif name and line.startswith(" "):
            version, text, via = blocks[name]
            blocks[name] = (version, text + line + "\n", via)
            words = line.split()
            if words[:2] == ["#", "via"] and len(words) > 2:  # "# via aiohttp"
                via.add(normalize(words[2]))
            elif words[:1] == ["#"] and len(words) > 1 and words[1] != "via":  # "#   aiohttp", after "# via"
                via.add(normalize(words[1]))
    return blocks


def pins(path: Path) -> dict[str, str]:
    return {name: version for name, (version, _, _) in read_lock(path).items()}


def needed_by(lock: Mapping[str, tuple[str, str, set[str]]], roots: Iterable[str]) -> set[str]:
    """The packages of `lock` that `roots` need, themselves included."""
    wanted = {normalize(r) for r in roots}
    while grown := {name for name, (_, _, via) in lock.items() if via & wanted} - wanted:
        wanted |= grown
    return wanted & set(lock)


# Building.


def _run(command: list[str], what: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        output = "\n".join(line for line in (done.stdout + done.stderr).splitlines() if "is ignored" not in line)
        raise BuildError(f"{what} failed ({' '.join(command[:3])} ...):\n{output}")


def _pip(python: Interpreter) -> list[str]:
    """The target's own pip; where it has none, this pip run by the target (`pip --python`)."""
    has_pip = subprocess.run([str(python.executable), "-m", "pip", "--version"], capture_output=True, check=False)
    if has_pip.returncode == 0:
        return [str(python.executable), "-m", "pip"]
    return [sys.executable, "-m", "pip", "--python", str(python.executable)]


def compile_bytecode(python: Interpreter, package: Path, paths: Iterable[Path]) -> None:
    """Write the bytecode of every `.py` under `paths` with the target's compileall, as FC's Python reads it."""
    paths = list(paths)
    if not paths:  # compileall without a path compiles the interpreter's own sys.path
        raise ValueError("no path to compile")
    _run(
        [
            str(python.executable), "-I", "-m", "compileall", "-q", "-j", "0",
            "--invalidation-mode", "unchecked-hash",
            "-s", str(package),  # file names relative to the package, wherever it was built
            *(str(p) for p in paths),
        ],
        "compileall",
    )  # fmt: skip


def install_dependencies(
    python: Interpreter, lock: Path, dest: Path, only: Iterable[str] | None = None, leave_out: Iterable[str] = ()
) -> None:
    """The lock's packages (or those `only` needs) but `leave_out`, in `dest`: manylinux wheels, hashes checked."""
    left_out = {normalize(name) for name in leave_out}
    with tempfile.TemporaryDirectory() as scratch:
        requirements = lock
        if only is not None or left_out:
            blocks = read_lock(lock)
            wanted = needed_by(blocks, only) if only is not None else set(blocks)
            requirements = Path(scratch) / "requirements.txt"
            requirements.write_text("".join(blocks[name][1] for name in sorted(wanted - left_out)))
        _run(
            [
                *_pip(python), "install", "--quiet", "--disable-pip-version-check",
                "--no-deps", "--only-binary=:all:", "--no-compile",
                "--platform", PIP_PLATFORM, "--implementation", "cp", "--python-version", python.version,
                "--target", str(dest),
                "-r", str(requirements),
            ],
            f"installing {lock.name}",
        )  # fmt: skip
    shutil.rmtree(dest / "bin", ignore_errors=True)  # console scripts: never run on FC


def standard_library(python: Interpreter) -> frozenset[str]:
    """The top-level modules of the target's standard library (and those built into it)."""
    script = "import sys; print(*sorted(set(sys.stdlib_module_names) | set(sys.builtin_module_names)))"
    done = subprocess.run([str(python.executable), "-I", "-c", script], capture_output=True, text=True, check=True)
    return frozenset(done.stdout.split())


def unsatisfiable(root: Path, standard: frozenset[str]) -> list[Path]:
    """The modules under `root` whose own unconditional imports name a package neither shipped nor standard.

    Importing one raises ImportError whatever the caller (the mypy plugin of pydantic, aiohttp's
    gunicorn worker, urllib3's pyOpenSSL and HTTP/2 support), so no code path of the package imports
    it. Only the statements of a module's body count: an import guarded by `try` or `if` may fail.
    """
    shipped = {path.name.split(".")[0] for path in root.iterdir()}
    found = []
    for source in root.rglob("*.py"):
        try:
            body = ast.parse(source.read_bytes()).body
        except (SyntaxError, ValueError):
            continue
        for statement in body:
            if isinstance(statement, ast.Import):
                names = [alias.name for alias in statement.names]
            elif isinstance(statement, ast.ImportFrom) and statement.level == 0 and statement.module:
                names = [statement.module]
            else:
                continue
            if any(name.split(".")[0] not in shipped | standard for name in names):
                found.append(source)
                break
    return found


def slim(root: Path, python: Interpreter) -> None:
    """Remove from installed dependencies what the import system can never load (see the module's doc)."""
    for name in NEVER_IMPORTED_PACKAGES:
        shutil.rmtree(root / name, ignore_errors=True)
    for module in unsatisfiable(root, standard_library(python)):
        module.unlink()
    for directory in [d for d in root.glob("*/**/") if d.name in TEST_SUITES and (d / "__init__.py").is_file()]:
        shutil.rmtree(directory, ignore_errors=True)
    for pattern in UNLOADABLE:
        for path in root.rglob(pattern):
            path.unlink()
    for name in PIP_RECORDS:
        for path in root.glob(f"*.dist-info/{name}"):
            path.unlink()
    extensions = list(root.rglob("*.so"))
    for extension in extensions:  # the import system tries extension modules before sources
        shadowed = extension.with_name(extension.name.split(".")[0] + ".py")
        if shadowed.is_file():
            shadowed.unlink()
    stripper = shutil.which("strip")
    if stripper and extensions:
        _run([stripper, "--strip-unneeded", *(str(path) for path in extensions)], "strip")


def dependencies(
    python: Interpreter,
    cache: Path,
    *,
    lock: Path | None = None,
    only: Iterable[str] | None = None,
    bytecode: bool = True,
    slimmed: bool = False,
) -> Path:
    """A directory holding the installed dependencies, built once per lock, interpreter and build recipe.

    `lock` defaults to the function lock of the interpreter's version; `slimmed` leaves out
    `NEVER_IMPORTED` and what `slim` removes, as a function's package does.
    """
    lock = lock or lock_path(python.version)
    if not lock.is_file():
        raise BuildError(f"{lock.relative_to(ROOT)} is missing: make lock")
    roots = sorted(normalize(r) for r in only) if only is not None else None
    recipe = [lock.read_text(), python.full_version, str(python.executable), repr(roots), repr(bytecode), repr(slimmed)]
    key = hashlib.sha256("\n".join(recipe).encode() + Path(__file__).read_bytes()).hexdigest()[:16]
    deps = cache / f"python{python.version}-{key}"
    if deps.is_dir():
        return deps
    cache.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=deps.name + ".", dir=cache))
    staging.chmod(0o755)  # mkdtemp's 0700 would be the package's own mode: FC's runtime user must read it
    try:
        install_dependencies(python, lock, staging, roots, leave_out=NEVER_IMPORTED if slimmed else ())
        if slimmed:
            slim(staging, python)
        if bytecode:
            compile_bytecode(python, staging, [staging])
        staging.rename(deps)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return deps


def package(
    target: Path,
    files: Mapping[str, Path],
    python: Interpreter,
    cache: Path,
    *,
    lock: Path | None = None,
    only: Iterable[str] | None = None,
    bytecode: bool = True,
    slimmed: bool = False,
) -> Path:
    """Write a code package in `target`: `files` (name in the package: source file or folder) and the dependencies."""
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(dependencies(python, cache, lock=lock, only=only, bytecode=bytecode, slimmed=slimmed), target)
    for name, source in files.items():
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=SKIP)
        else:
            shutil.copyfile(source, target / name)
    if bytecode and files:
        compile_bytecode(python, target, [target / name for name in files])
    return target


def function_files(function: str) -> dict[str, Path]:
    """What a function's package holds of this repository: its folder's files at the root, and `shared/`
    but the other functions' own subpackages (`shared/<function>/`), which no module of it imports."""
    folder = ROOT / "functions" / function
    if not (folder / "index.py").is_file():
        raise BuildError(f"no function {function!r}: functions/{function}/index.py is missing")
    own = {p.name: p for p in sorted(folder.iterdir()) if p.name != "__pycache__" and p.suffix not in (".pyc", ".pyo")}
    others = set(functions()) - {function}
    shared = {
        f"shared/{p.name}": p
        for p in sorted((ROOT / "shared").iterdir())
        if p.name not in others and p.name != "__pycache__" and p.suffix not in (".pyc", ".pyo")
    }
    return {**own, **shared}


def build(function: str, out: Path, python: Interpreter, *, bytecode: bool = True, cache: Path | None = None) -> Path:
    """Build `function`'s package in `out/<function>`, replacing what was there."""
    files = function_files(function)
    return package(out / function, files, python, cache or out / ".deps", bytecode=bytecode, slimmed=True)


def functions() -> list[str]:
    return sorted(p.parent.name for p in (ROOT / "functions").glob("*/index.py"))


def files_in(path: Path) -> list[Path]:
    return [f for f in path.rglob("*") if f.is_file()]


def size_of(path: Path) -> int:
    return sum(f.stat().st_size for f in files_in(path))


def zip_size(path: Path) -> int:
    """The size of the package zipped (deflate), about what `s deploy` uploads."""
    with tempfile.TemporaryFile() as scratch:
        with zipfile.ZipFile(scratch, "w", zipfile.ZIP_DEFLATED) as archive:
            for file in sorted(files_in(path)):
                archive.write(file, file.relative_to(path))
        return scratch.tell()


# The locks.


def uv() -> list[str]:
    return [sys.executable, "-m", "uv"]


def compile_lock(version: str, output: Path, source: str = "pyproject.toml", constraints: Path | None = None) -> None:
    """Resolve `source`'s requirements for Python `version` on FC's platform, binary wheels only, with hashes.

    An `output` that exists already gives its pins as preferences: only what `source` changed moves.
    """
    _run(
        [
            *uv(), "pip", "compile", "--quiet", source,
            *(["--constraints", str(constraints)] if constraints else []),
            "--python-version", version, "--python-platform", UV_PLATFORM, "--only-binary", ":all:",
            "--generate-hashes", "--custom-compile-command", "make lock",
            "-o", str(output),
        ],
        f"uv pip compile of {source} for python{version}",
    )  # fmt: skip


def compile_sdk_lock(version: str, output: Path, function_lock: Path) -> None:
    """The bare SDK's lock, held to the function lock's version of every package both need."""
    compile_lock(version, output, str(SDK_REQUIREMENTS.relative_to(ROOT)), function_lock.relative_to(ROOT))


def lock(versions: Iterable[str]) -> None:
    LOCKS.mkdir(exist_ok=True)
    cwd = Path.cwd()
    os.chdir(ROOT)  # uv writes the command line in the lock's header: keep it relative
    try:
        for version in versions:
            compile_lock(check_version(version), lock_path(version).relative_to(ROOT))
            compile_sdk_lock(version, sdk_lock_path(version).relative_to(ROOT), lock_path(version))
            for path in (lock_path(version), sdk_lock_path(version)):
                print(f"{path.relative_to(ROOT)}: {len(pins(path))} packages")
    finally:
        os.chdir(cwd)


def stale_lock(version: str) -> str | None:
    """What differs when the locks are resolved again (from pyproject.toml and locks/sdk.in), keeping
    their pins; None when nothing does."""

    def function_lock(fresh: Path) -> None:
        compile_lock(version, fresh)

    def sdk_lock(fresh: Path) -> None:
        compile_sdk_lock(version, fresh, lock_path(version))

    problems = [_staleness(lock_path(version), function_lock), _staleness(sdk_lock_path(version), sdk_lock)]
    return "\n".join(problem for problem in problems if problem) or None


def _staleness(current: Path, resolve: Callable[[Path], None]) -> str | None:
    if not current.is_file():
        return f"{current.relative_to(ROOT)} is missing: make lock"
    with tempfile.TemporaryDirectory() as scratch:
        fresh = Path(scratch) / current.name
        shutil.copyfile(current, fresh)
        cwd = Path.cwd()
        os.chdir(ROOT)
        try:
            resolve(fresh)
        finally:
            os.chdir(cwd)
        before, after = pins(current), pins(fresh)
    changes = sorted(
        f"{name} {before.get(name, '-')} -> {after.get(name, '-')}"
        for name in before.keys() | after.keys()
        if before.get(name) != after.get(name)
    )
    return f"{current.relative_to(ROOT)} is stale ({', '.join(changes)}): make lock" if changes else None


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m local build", description=__doc__.split("\n\n")[0])
    parser.add_argument("functions", nargs="*", help="default: every folder of functions/")
    parser.add_argument(
        "--python-version", default=None, help=f"FC's runtime python<version>: {', '.join(SUPPORTED)} (default: 3.10)"
    )
    parser.add_argument("--python", help="the target interpreter (default: TARGET_PYTHON, PATH, then pyenv)")
    parser.add_argument("--out", type=Path, default=ROOT / "build")
    parser.add_argument("--no-bytecode", action="store_true", help="leave the bytecode out (to measure it)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--lock", action="store_true", help="regenerate the locks (all versions, or --python-version)")
    mode.add_argument("--check-lock", action="store_true", help="fail when a lock is stale against pyproject.toml")
    mode.add_argument("--which-python", action="store_true", help="print the target interpreter, or fail")
    args = parser.parse_args(argv)
    try:
        if args.lock or args.check_lock:
            versions = [args.python_version] if args.python_version else list(SUPPORTED)
            if args.lock:
                lock(versions)
                return 0
            problems = [p for p in map(stale_lock, versions) if p]
            print(
                "\n".join(problems) or "the locks agree with pyproject.toml",
                file=sys.stderr if problems else sys.stdout,
            )
            return 1 if problems else 0
        version = check_version(args.python_version or DEFAULT_VERSION)
        check_runtime(version, os.environ)
        python = find_python(version, args.python)
        if args.which_python:
            print(f"python{version}: {python.executable} ({python.full_version})")
            return 0
        print(f"building for FC's python{version} with {python.executable} ({python.full_version})")
        for function in args.functions or functions():
            built = build(function, args.out, python, bytecode=not args.no_bytecode)
            print(
                f"{function}: {built} {size_of(built) / 2**20:.1f} MiB in {len(files_in(built))} files, "
                f"{zip_size(built) / 2**20:.1f} MiB zipped"
            )
        if not os.environ.get("FC_RUNTIME") and version != DEFAULT_VERSION:
            print(f"deploy it with FC_RUNTIME=python{version} in the environment: s.yaml's default is python3.10")
    except BuildError as problem:
        print(f"make build: {problem}", file=sys.stderr)
        return 2
    return 0
