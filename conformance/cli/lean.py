"""What ``conformance validate`` keeps out of its own process to start fast.

pydicom imports, at its own import, modules that validation never uses: the pixel libraries
(numpy, Pillow, pylibjpeg, ...) whenever they are installed, its documentation datasets
(``pydicom.examples``, which looks up 13 test files), the hashing and random modules of its
UID generator (``hashlib``, ``secrets``) and, through ``pydicom.data``, the network stack of
its download helper (``urllib.request`` with ``http.client``, ``ssl`` and ``email``).
Together they were about 0.15 s of a 0.6 s run on 253 files.  And the garbage collector is
paused while the modules and the standard's index load (:func:`lean_start` to
:func:`start_up_done`).

Only the console command, which owns its process, does this (``owns_process`` in
:mod:`conformance.cli.main`); an embedding caller (pytest's CliRunner, a notebook) keeps its
process as it is.
"""

from __future__ import annotations

import gc
import importlib.abc
import importlib.machinery
import sys
import threading
import types
from collections.abc import Sequence

#: Pixel libraries pydicom imports, when installed, only to offer ``pixel_array`` and its
#: codecs (each import guarded by ``except ImportError``): numpy, Pillow, pylibjpeg and its
#: plugins, GDCM, CharPyLS.  Validation decodes no pixel: it reads the Pixel Data header only.
PIXEL_LIBRARIES = ("numpy", "PIL", "pylibjpeg", "libjpeg", "openjpeg", "rle", "gdcm", "jpeg_ls")

#: Modules pydicom imports at its import that validation does not use; they are executed on
#: first use instead (see :func:`defer_modules`): ``hashlib`` and ``secrets`` (imported by
#: ``pydicom.uid``, used only by ``generate_uid``; together they load OpenSSL's libcrypto,
#: about 5 ms), the download helper's ``urllib.request`` (imported by
#: ``pydicom.data.download``, used only when a file is fetched) and ``pydicom.examples`` (the
#: documentation's datasets, read on attribute access).
DEFERRED_MODULES = ("hashlib", "secrets", "urllib.request", "pydicom.examples")


def lean_start() -> bool:
    """Both of the below, before pydicom is imported, and the garbage collector paused until
    :func:`start_up_done`; returns whether it was done.

    Importing pydicom and the validator and loading the index allocate some hundred thousand
    objects that all live on (modules, dictionaries, the index): the collections that their
    allocation triggers find nothing to free and were about a tenth of the start-up (about
    20 ms of 0.2 s, median of 20 runs).
    """
    if not without_pixel_libraries():
        return False
    defer_modules(DEFERRED_MODULES)
    if gc.isenabled():
        gc.disable()
        _PAUSED.append(True)
    return True


_PAUSED: list[bool] = []


def start_up_done() -> None:
    """Resume the garbage collector if :func:`lean_start` paused it (call it before workers
    fork, so that they collect as usual)."""
    if _PAUSED:
        _PAUSED.clear()
        gc.enable()


def without_pixel_libraries() -> bool:
    """Keep the pixel libraries out of this process and the workers it forks: pydicom imports
    them whenever they are installed, and those imports (numpy with its BLAS threads about
    0.1 s, Pillow and pylibjpeg about 35 ms) are a large part of the command's start-up, paid
    again by every short run.  pydicom reads and converts values the same without them (numpy
    is used only when ``config.use_DS_numpy`` / ``use_IS_numpy`` are set, which validation
    never does).  ``sys.modules[name] = None`` is the import system's way to make ``import
    name`` fail (The Python Language Reference, 5.3.1).

    Done only before pydicom or any of them is imported; returns whether it was done.
    """
    if "pydicom" in sys.modules or any(m in sys.modules for m in PIXEL_LIBRARIES):
        return False
    for name in PIXEL_LIBRARIES:
        sys.modules[name] = None  # type: ignore[assignment]
    return True


def defer_modules(names: Sequence[str]) -> None:
    """Make the next import of each of *names* create the module without running its code;
    the code runs, into the same module object, when an attribute the module does not yet
    have is first read (``urllib.request.urlopen``, ``pydicom.examples.ct``).

    The import system's own :class:`importlib.util.LazyLoader` cannot serve here: it runs the
    code on the first read of *any* attribute, and Python 3.11's ``import`` statement reads
    ``__spec__`` of a module already imported, so a second ``import urllib.request`` runs it
    at once.  Here the attributes the import system sets (``__spec__``, ``__name__``,
    ``__path__``, ...) are plain and only a missing one triggers (a class ``__getattr__``).
    Names already imported are left alone.
    """
    wanted = {n for n in names if n not in sys.modules}
    if wanted:
        sys.meta_path.insert(0, _DeferringFinder(wanted))


_LOCK = threading.RLock()


class _DeferredModule(types.ModuleType):
    """A module whose code has not run yet (see :func:`defer_modules`)."""

    def __getattr__(self, name: str) -> object:
        with _LOCK:  # one thread runs the code; another waits for it
            spec = self.__spec__
            loader = spec.loader if spec is not None else None
            if isinstance(loader, _DeferringLoader) and type(self) is _DeferredModule:
                assert spec is not None
                spec.loader = self.__loader__ = loader.real
                try:
                    loader.real.exec_module(self)
                finally:
                    object.__setattr__(self, "__class__", types.ModuleType)
        return types.ModuleType.__getattribute__(self, name)


class _DeferringLoader(importlib.abc.Loader):
    def __init__(self, real: importlib.abc.Loader) -> None:
        self.real = real

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        return self.real.create_module(spec)

    def exec_module(self, module: types.ModuleType) -> None:
        module.__class__ = _DeferredModule


class _DeferringFinder(importlib.abc.MetaPathFinder):
    """Finds each wanted module once with the finders after it, and defers running it."""

    def __init__(self, names: set[str]) -> None:
        self.names = names

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: types.ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if fullname not in self.names:
            return None
        self.names.discard(fullname)
        if not self.names and self in sys.meta_path:
            sys.meta_path.remove(self)
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is None or not hasattr(spec.loader, "exec_module"):
                    return spec  # a namespace package or an old-style loader: as it is
                spec.loader = _DeferringLoader(spec.loader)
                return spec
        return None
