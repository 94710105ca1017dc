"""Build a kernel module at run time, for any valid combination, custom expressions included.

The source is the same one `derive generate` writes, placed in a per-user cache folder
(``$DERIVE_CACHE_DIR``, else ``$XDG_CACHE_HOME/derive``, else ``~/.cache/derive``) under a name that
carries a hash of the source, so numba's on-disk cache works and a read-only install of the package is
never written to.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
from pathlib import Path

import sympy as sp

from derive.codegen.modules import ModuleSpec
from derive.codegen.source import module_source
from derive.derivations import custom_work, subject
from derive.derivations import derivation as derive_it
from derive.derivations import entries as resolve_entries
from derive.errors import DeriveError
from derive.files import replace_atomically

PACKAGE = "derive_kernels"   # the cache subfolder; modules import as derive.kernels.<name>


def cache_dir() -> Path:
    """Where compiled kernels live: $DERIVE_CACHE_DIR, else $XDG_CACHE_HOME/derive, else ~/.cache/derive."""
    if os.environ.get("DERIVE_CACHE_DIR"):
        return Path(os.environ["DERIVE_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "derive"


def compile(activation: str | None = None, loss: str | None = None, model: str = "neuron", *,
            hidden: str | None = None, activation_expr: str | None = None, loss_expr: str | None = None):
    """The kernel module for (model, activation, loss), built from its derivation and imported.

    >>> m = compile(activation_expr="z/(1+Abs(z))", loss="mse")
    >>> m.fit(m.init(3), X, y, lr=0.1)
    """
    with custom_work(activation_expr, loss_expr) as job:  # bounded, and one-line errors (numba's compile is not)
        model_entry, act, loss_entry, hidden_entry = resolve_entries(
            activation, loss, model, hidden=hidden, activation_expr=activation_expr, loss_expr=loss_expr)
        job.subject = subject(act, loss_entry, activation_expr, loss_expr) or job.subject
        built = derive_it(activation, loss, model, hidden=hidden, activation_expr=activation_expr,
                          loss_expr=loss_expr)
        spec, source = _source(built, model_entry, act, loss_entry, hidden_entry, activation_expr, loss_expr)
    digest = hashlib.sha256(source.encode()).hexdigest()[:12]
    return _import(f"{spec.name}_{digest}", source)


def _source(built, model_entry, act, loss_entry, hidden_entry, activation_expr, loss_expr):
    spec = ModuleSpec(model_entry.name, _part(act.name, activation_expr), _part(loss_entry.name, loss_expr),
                      hidden_entry.name if hidden_entry else None)
    # Only registry names and SymPy's printing of the parsed expressions reach the source, never the user's text.
    call = ", ".join(f"{k}={v!r}" for k, v in (
        ("activation", None if activation_expr is not None else act.name), ("loss", None if loss_expr is not None
                                                                           else loss_entry.name),
        ("model", model_entry.name), ("hidden", hidden_entry.name if hidden_entry else None),
        ("activation_expr", sp.sstr(act.expr) if activation_expr is not None else None),
        ("loss_expr", sp.sstr(loss_entry.expr) if loss_expr is not None else None)) if v is not None)
    return spec, module_source(spec, built, (act, loss_entry, hidden_entry), command=f"derive.compile({call})")


def _part(name: str, expr: str | None) -> str:
    return name if expr is None else f"{name}{hashlib.sha256(expr.encode()).hexdigest()[:8]}"


def _check_private(folder: Path) -> None:
    """Refuse a cache folder (or its parent, or numba's cache inside it) that another user owns or can write:
    numba unpickles its cache index from there, so whoever can write it can run code as us (as pip and the XDG
    tools refuse such folders)."""
    for place in (folder.parent, folder, folder / "__pycache__"):
        if not place.exists():
            continue
        status = place.stat()
        if status.st_uid != os.getuid() or status.st_mode & 0o022:
            owner = "another user's" if status.st_uid != os.getuid() else "writable by others"
            raise DeriveError(f"the kernel cache folder {place} is {owner} (mode {status.st_mode & 0o777:o}); "
                              f"numba would load code from it: make it yours and not group- or world-writable "
                              f"(chmod go-w), or set DERIVE_CACHE_DIR to a private folder")


def _import(stem: str, source: str):
    folder = cache_dir() / PACKAGE
    path = folder / f"{stem}.py"
    qualified = f"derive.kernels.{stem}"  # so relative imports find the hand-written helpers
    if qualified in sys.modules:
        return sys.modules[qualified]
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        _check_private(folder)
        if not path.exists() or path.read_text("utf-8") != source:
            replace_atomically(path, source.encode("utf-8"))
    except OSError as error:
        raise DeriveError(f"cannot write the kernel to {folder} ({error.strerror}); "
                          f"set DERIVE_CACHE_DIR to a writable folder") from None
    spec = importlib.util.spec_from_file_location(qualified, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[qualified] = module  # numba's cache needs the module importable by name while it compiles
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[qualified]
        raise
    return module
