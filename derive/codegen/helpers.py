"""Digests that keep numba's caches honest: a cached function is recompiled when anything it compiles in changes.

numba keys a cached function on its own source file only, so a function that calls into another module keeps
running the old code after that module changes. Every generated module therefore carries ``_HELPERS``, a digest
of all the hand-written kernel helpers and the package version; and a hand-written helper whose compiled code
calls into other helpers carries ``_DEPENDS``, a digest of the helpers it imports (their texts, with their own
``_DEPENDS`` lines up to date). ``derive generate`` keeps both lines current, and ``--check`` reports them stale.
"""
from __future__ import annotations

import ast
import hashlib
import re
from functools import lru_cache
from pathlib import Path

DEPENDS = re.compile(r'^_DEPENDS = "[0-9a-f]*"', re.MULTILINE)
LINE = '_DEPENDS = "{}"'


def folder() -> Path:
    import derive.kernels
    return Path(derive.kernels.__file__).parent


def _imports(text: str) -> list[str]:
    """The kernel modules a helper imports relatively: ``from . import a`` and ``from .b import c``."""
    found = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            found += [node.module] if node.module else [alias.name for alias in node.names]
    return sorted(set(found))


def _digest(names, texts) -> str:
    digest = hashlib.sha256()
    for name in names:
        digest.update(name.encode() + b"\0" + texts[name].encode())
    return digest.hexdigest()[:16]


@lru_cache(maxsize=1)
def helper_texts() -> dict[str, str]:
    """Every helper's text as ``derive generate`` leaves it: ``_optim`` as the registry makes it, and each
    ``_DEPENDS`` line recomputed (dependencies first)."""
    from derive.codegen.optim import FILE, optim_source
    texts = {path.stem: (optim_source() if path.name == FILE else path.read_text("utf-8"))
             for path in sorted(folder().glob("_*.py"))}
    done: set[str] = set()

    def settle(name: str) -> None:
        if name in done:
            return
        done.add(name)
        if DEPENDS.search(texts[name]):
            deps = [d for d in _imports(texts[name]) if d in texts]
            for dep in deps:
                settle(dep)
            texts[name] = DEPENDS.sub(LINE.format(_digest(deps, texts)), texts[name], count=1)

    for name in list(texts):
        settle(name)
    return texts


def depends_updates() -> dict[str, str]:
    """File name -> text of each helper whose ``_DEPENDS`` line differs from the file's."""
    texts = helper_texts()
    return {f"{name}.py": text for name, text in texts.items()
            if DEPENDS.search(text) and (folder() / f"{name}.py").read_text("utf-8") != text}


def helpers_digest() -> str:
    """A digest of every helper (as ``derive generate`` leaves them) and the package version."""
    import derive
    texts = helper_texts()
    digest = hashlib.sha256(derive.__version__.encode())
    for name in sorted(texts):
        digest.update(f"{name}.py".encode() + b"\0" + texts[name].encode())
    return digest.hexdigest()[:16]
