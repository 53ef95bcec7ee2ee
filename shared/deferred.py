"""The SDK's asynchronous, websocket and scheduling libraries, loaded when first used rather than with the SDK.

The SDK imports aiohttp (`Tea/core.py`, `darabonba/*`), websocket-client (`darabonba/websocket.py`),
APScheduler (the ECS RAM role credentials provider) and aiofiles (the file-based credentials
providers) at its own import, yet only its asynchronous methods, its websocket API, the ECS
provider's background refresh and the asynchronous reads of credentials files run them: a
synchronous call never does. Together they are about a third of the SDK's import.

`install()` puts a finder first on `sys.meta_path` that answers for these packages (`DEFERRED`)
with their own spec and loader, found by the finders after it, whose module is executed on the
first access to an attribute it does not have yet: as the standard library's
`importlib.util.LazyLoader` does, except that what the import system itself reads of a module
(`__spec__`, `__path__`, `__name__`, which every later `import aiohttp` asks for) does not count as
a use. The first use runs the package's own code, parents first, exactly as an import would have;
from then on the package and its submodules import as usual. Nothing is copied, replaced or
patched: the module object in `sys.modules` becomes the real module.

A few names are taken from these packages at the SDK's import only to annotate a parameter or to be
called later (`BOUND_AT_IMPORT`). The modules named there, and those alone, are given a
`DeferredName` for them: it loads the package when first called, asked for an attribute, compared,
hashed, used in `isinstance` or subclassed, and stands for the real object from then on (`is` alone
tells them apart, which none of those modules asks). Any other access to an attribute, by any other
module, loads the package at once.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import threading
import types
from collections.abc import Mapping, Sequence
from typing import Any

DEFERRED = ("aiohttp", "aiofiles", "apscheduler", "websocket")
"""Top-level packages loaded on first use, with their submodules. Not asyncio, which the SDK imports
too: on python3.12 every `logging.LogRecord` asks it for the current task."""

BOUND_AT_IMPORT: Mapping[tuple[str, str], frozenset[str]] = {
    # `from aiohttp import ClientResponse`: a type in an annotation that is never evaluated.
    ("aiohttp", "ClientResponse"): frozenset({"darabonba.response", "darabonba.utils.stream"}),
    # The parameters' annotations of `SSEResponseWrapper.__init__`, an asynchronous stream.
    ("aiohttp", "ClientSession"): frozenset({"darabonba.utils.stream"}),
    # Called by the ECS RAM role provider when it refreshes in the background.
    ("apscheduler.schedulers.background", "BackgroundScheduler"): frozenset(
        {"alibabacloud_credentials.provider.ecs_ram_role"}
    ),
    # Read when a websocket sends binary data.
    ("websocket._abnf", "ABNF"): frozenset({"darabonba.websocket"}),
}
"""(module, name): the modules that bind `name` from `module` at their import and use it only later."""

_lock = threading.RLock()
_pending: set[str] = set()
"""Top-level packages whose modules are still deferred when imported."""
_loaders: dict[str, importlib.abc.Loader] = {}
"""The real loader of each module imported but not executed yet."""
_loading: set[str] = set()
_names: dict[tuple[str, str], DeferredName] = {}
_IMPORT_SYSTEM = ("importlib.", "_frozen_importlib")


def install(packages: Sequence[str] = DEFERRED) -> None:
    """Defer `packages` that are not imported yet; a package imported already stays as it is."""
    with _lock:
        _pending.update(name for name in packages if name not in sys.modules)
        if not any(isinstance(finder, DeferringFinder) for finder in sys.meta_path):
            sys.meta_path.insert(0, DeferringFinder())


def is_deferred(module: object) -> bool:
    """Whether `module` was imported without being executed yet."""
    return isinstance(module, DeferredModule)


class DeferringFinder(importlib.abc.MetaPathFinder):
    """Finds a deferred package's modules as the next finders do, with a loader that defers them."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname.partition(".")[0] not in _pending:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                return _deferring(spec)
        return None


def _deferring(spec: importlib.machinery.ModuleSpec) -> importlib.machinery.ModuleSpec | None:
    # Only modules executed from Python code can wait: an extension module is created by its loader.
    if not isinstance(spec.loader, importlib.machinery.SourceFileLoader | importlib.machinery.SourcelessFileLoader):
        return None
    spec.loader = DeferringLoader(spec.loader)
    return spec


class DeferringLoader(importlib.abc.Loader):
    """Leaves a module unexecuted, holding its real loader until its first use."""

    def __init__(self, loader: importlib.abc.Loader) -> None:
        self.loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        return None

    def exec_module(self, module: types.ModuleType) -> None:
        with _lock:
            _loaders[module.__name__] = self.loader
            module.__class__ = DeferredModule


class DeferredModule(types.ModuleType):
    """A module imported but not executed yet: executed on the first access to an attribute it lacks."""

    def __getattr__(self, name: str) -> Any:
        module = self.__name__
        if name == "__path__":  # the import system asks every module whether it is a package
            raise AttributeError(name)
        if _importer() in BOUND_AT_IMPORT.get((module, name), ()):
            with _lock:
                if module in _loaders:
                    return _names.setdefault((module, name), DeferredName(self, name))
        if not load(self):  # executing in this very thread: the attribute is missing for now
            raise AttributeError(f"partially initialized module {module!r} has no attribute {name!r}")
        return getattr(self, name)


def load(module: types.ModuleType) -> bool:
    """Execute a deferred module, its deferred parents first; False while this thread is executing it.

    Another thread that asks meanwhile waits for the module to be complete. A module whose code
    fails leaves `sys.modules`, as a failed import does, and the error is raised to its first user.
    """
    with _lock:
        name = module.__name__
        if name in _loading:
            return False
        if name not in _loaders:
            return True
        parent = sys.modules.get(name.rpartition(".")[0])
        if isinstance(parent, DeferredModule):
            load(parent)
        loader = _loaders.pop(name)
        _pending.discard(name.partition(".")[0])  # its other modules import as usual from now on
        if module.__spec__ is not None:
            module.__spec__.loader = loader
        module.__loader__ = loader
        _loading.add(name)
        try:
            loader.exec_module(module)
        except BaseException:
            if sys.modules.get(name) is module:
                del sys.modules[name]
            raise
        finally:
            _loading.discard(name)
            module.__class__ = types.ModuleType
        return True


def _importer() -> str | None:
    """The module whose code asked for the attribute, past the import system's own frames."""
    frame = sys._getframe(2)
    while frame is not None and str(frame.f_globals.get("__name__", "")).startswith(_IMPORT_SYSTEM):
        frame = frame.f_back  # type: ignore[assignment]
    return frame.f_globals.get("__name__") if frame is not None else None


class DeferredName:
    """A name a module bound from a deferred module at its import: the real object on first use."""

    __slots__ = ("_module", "_name", "_value")

    def __init__(self, module: types.ModuleType, name: str) -> None:
        self._module = module
        self._name = name
        self._value: Any = _UNSET

    def resolve(self) -> Any:
        """The real object, its module executed first if need be."""
        if self._value is _UNSET:
            load(self._module)
            self._value = getattr(self._module, self._name)
        return self._value

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.resolve()(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.resolve(), name)

    def __instancecheck__(self, instance: object) -> bool:
        return isinstance(instance, self.resolve())

    def __subclasscheck__(self, subclass: type) -> bool:
        return issubclass(subclass, self.resolve())

    def __mro_entries__(self, bases: tuple[object, ...]) -> tuple[object, ...]:
        return (self.resolve(),)

    def __eq__(self, other: object) -> bool:
        return bool(self.resolve() == other)

    def __hash__(self) -> int:
        return hash(self.resolve())

    def __repr__(self) -> str:
        if self._value is _UNSET:
            return f"<deferred {self._module.__name__}.{self._name}>"
        return repr(self._value)


_UNSET = object()
