"""The deferral of a package's execution until its first use (`shared.deferred`), on packages of the test's own."""

from __future__ import annotations

import secrets
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared import deferred
from shared.events import MAX_DEPTH, MalformedEvent, decode_event


@pytest.fixture
def library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A deferred package of its own name, whose modules log their execution to `<name>_log.LOADED`."""
    name = f"deferred_lib_{secrets.token_hex(4)}"
    root = tmp_path / name
    (root / "sub").mkdir(parents=True)
    log = f"import {name}_log as log; log.LOADED.append(__name__)\n"
    (tmp_path / f"{name}_log.py").write_text("LOADED = []\n")
    (root / "__init__.py").write_text(log + "VERSION = '1'\nclass Thing:\n    pass\n")
    (root / "sub" / "__init__.py").write_text(log)
    (root / "sub" / "leaf.py").write_text(log + "from .. import Thing\nclass Leaf(Thing):\n    pass\n")
    (tmp_path / f"{name}_user.py").write_text(f"from {name}.sub.leaf import Leaf\nimport {name}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    deferred.install([name])
    yield name
    deferred._pending.discard(name)
    for module in [m for m in sys.modules if m.split(".")[0].startswith(name)]:
        del sys.modules[module]


def loaded(name: str) -> list[str]:
    log = sys.modules.get(f"{name}_log")  # imported by the first module that runs
    return list(log.LOADED) if log is not None else []


def test_an_import_executes_nothing_until_an_attribute_is_used(library: str) -> None:
    __import__(f"{library}.sub.leaf")
    module = sys.modules[library]
    __import__(library)  # a second import reads __spec__: still no use

    assert deferred.is_deferred(module)
    assert loaded(library) == []
    assert module.VERSION == "1"
    assert not deferred.is_deferred(module)
    assert loaded(library) == [library]


def test_a_submodule_runs_after_its_parents_as_an_import_would(library: str) -> None:
    leaf = __import__(f"{library}.sub.leaf", fromlist=["Leaf"])

    assert issubclass(leaf.Leaf, sys.modules[library].Thing)
    assert loaded(library) == [library, f"{library}.sub", f"{library}.sub.leaf"]


def test_a_name_bound_at_import_by_a_listed_module_loads_on_first_use(
    library: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = f"{library}_user"
    monkeypatch.setitem(deferred.BOUND_AT_IMPORT, (f"{library}.sub.leaf", "Leaf"), frozenset({user}))

    module = __import__(user)

    assert isinstance(module.Leaf, deferred.DeferredName)
    assert "deferred" in repr(module.Leaf)
    assert loaded(library) == []
    leaf = module.Leaf()
    assert type(leaf) is sys.modules[f"{library}.sub.leaf"].Leaf
    assert isinstance(leaf, module.Leaf)
    assert issubclass(type(leaf), module.Leaf)
    assert module.Leaf.__eq__(type(leaf))
    assert module.Leaf.__name__ == "Leaf"
    assert repr(module.Leaf) == repr(type(leaf))
    assert loaded(library) == [library, f"{library}.sub", f"{library}.sub.leaf"]


def test_a_name_taken_by_any_other_module_loads_at_once(library: str) -> None:
    module = __import__(f"{library}_user")

    assert isinstance(module.Leaf, type)
    assert loaded(library) == [library, f"{library}.sub", f"{library}.sub.leaf"]


def test_a_deferred_name_can_be_subclassed(library: str, monkeypatch: pytest.MonkeyPatch) -> None:
    user = f"{library}_user"
    monkeypatch.setitem(deferred.BOUND_AT_IMPORT, (f"{library}.sub.leaf", "Leaf"), frozenset({user}))
    module = __import__(user)

    class Mine(module.Leaf):  # type: ignore[misc,name-defined]
        pass

    assert Mine.__mro__[1] is sys.modules[f"{library}.sub.leaf"].Leaf
    assert hash(module.Leaf) == hash(Mine.__mro__[1])


def test_threads_that_use_a_module_together_find_it_complete(library: str, tmp_path: Path) -> None:
    (tmp_path / library / "__init__.py").write_text(
        f"import time, {library}_log as log\nlog.LOADED.append(__name__)\ntime.sleep(0.05)\nVERSION = '1'\n"
    )
    module = __import__(library)
    seen: list[str] = []
    threads = [threading.Thread(target=lambda: seen.append(module.VERSION)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert seen == ["1"] * 4
    assert loaded(library) == [library]


def test_a_module_that_fails_is_raised_to_its_first_user_and_leaves_sys_modules(library: str, tmp_path: Path) -> None:
    (tmp_path / library / "__init__.py").write_text("raise RuntimeError('broken')\n")
    module = __import__(library)

    with pytest.raises(RuntimeError, match="broken"):
        module.anything  # noqa: B018
    assert library not in sys.modules


def test_a_package_imported_before_the_deferral_stays_as_it_is(library: str) -> None:
    module = __import__(library)
    module.VERSION  # noqa: B018
    deferred.install([library])

    assert not deferred.is_deferred(module)
    assert __import__(f"{library}.sub").sub is sys.modules[f"{library}.sub"]
    assert not deferred.is_deferred(sys.modules[f"{library}.sub"])


def test_modules_of_other_packages_import_as_usual(library: str) -> None:
    import json

    assert not deferred.is_deferred(json)
    assert deferred.DeferringFinder().find_spec("json", None) is None


def test_an_event_with_more_brackets_than_levels_is_still_walked() -> None:
    shallow = '{"a": "' + "[" * (MAX_DEPTH + 5) + '"}'
    deep = '{"a": ' + "[" * MAX_DEPTH + "]" * MAX_DEPTH + "}"

    assert decode_event(shallow, "an event") == {"a": "[" * (MAX_DEPTH + 5)}
    with pytest.raises(MalformedEvent, match="deeper"):
        decode_event(deep, "an event")
    with pytest.raises(MalformedEvent, match="deeper"):
        decode_event(deep.encode(), "an event")


def test_a_submodule_whose_parent_fails_raises_each_time_it_is_used(library: str, tmp_path: Path) -> None:
    (tmp_path / library / "__init__.py").write_text("raise RuntimeError('broken')\n")
    leaf = __import__(f"{library}.sub.leaf", fromlist=["Leaf"])

    for _ in range(2):
        with pytest.raises((RuntimeError, ImportError)):
            leaf.Leaf  # noqa: B018
