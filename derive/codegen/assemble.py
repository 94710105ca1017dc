"""Assemble a kernel module from template parts, as ``derive/codegen/templates/__init__.py`` specifies.

Each part is read with ``ast`` and copied by source lines, so comments and layout survive: imports are merged,
stubs and constants replaced, everything else kept verbatim, and top-level functions that nothing reachable uses
are dropped (dead code, e.g. the one-sample pieces in a module without the one-sample loop).
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from importlib import resources

KERNELS = "derive.kernels"
TEMPLATES = "derive.codegen.templates"
ROOTS = ("_kernels", "core", "MODEL", "LAYOUT", "SPAN", "LABELS", "LABEL_DTYPE", "EXPRESSIONS", "ACTIVATION",
         "LOSS", "HIDDEN", "INIT", "_HELPERS")   # what the public API and the module's readers use


@dataclass(frozen=True)
class Piece:
    """One top-level statement of the assembled module: the names it defines and uses, and its source."""

    defines: frozenset
    uses: frozenset
    source: str


def part_source(name: str) -> str:
    return resources.files(TEMPLATES).joinpath(f"{name}.py").read_text("utf-8")


def _literal(tree: ast.Module, name: str) -> tuple:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return ast.literal_eval(node.value)
    return ()


def _names(node: ast.AST, defined: frozenset) -> frozenset:
    return frozenset(n.id for n in ast.walk(node) if isinstance(n, ast.Name) and n.id not in defined)


def _defined(node: ast.stmt) -> frozenset:
    if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
        return frozenset({node.name})
    if isinstance(node, ast.Assign):
        return frozenset(n.id for t in node.targets for n in ast.walk(t) if isinstance(n, ast.Name))
    return frozenset()


def read_part(name: str, stubs: dict, constants: dict, imports: dict) -> list[Piece]:
    """The statements of part ``name``: stubs from ``stubs`` (name -> source), constants from ``constants``
    (name -> Python literal source); its imports are merged into ``imports`` (module -> {(name, alias)})."""
    source = part_source(name)
    lines = source.splitlines(keepends=True)
    tree = ast.parse(source)
    declared_stubs, declared_constants = _literal(tree, "STUBS"), _literal(tree, "CONSTANTS")
    missing = [s for s in (*declared_stubs, *declared_constants) if s not in {**stubs, **constants}]
    if missing:
        raise KeyError(f"template part {name} needs values for {', '.join(missing)}")
    pieces, previous_end = [], 0
    for index, node in enumerate(tree.body):
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])]) - 1
        leading = "".join(lines[previous_end:start])  # comments and blank lines above the statement
        previous_end = node.end_lineno
        defines = _defined(node)
        if index == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # the part's docstring
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            _merge_import(node, imports)
            continue
        if defines & {"STUBS", "CONSTANTS"}:
            continue
        (only,) = defines if len(defines) == 1 else (None,)
        if only in declared_stubs:
            text = stubs[only]
        elif only in declared_constants:
            text = f"{only} = {constants[only]}"
            text += _trailing_comment(lines[node.end_lineno - 1])
        else:
            text = "".join(lines[start:node.end_lineno]).rstrip("\n")
        text = (leading.strip("\n") + "\n" + text) if leading.strip() else text
        pieces.append(Piece(defines, _names(node, defines), text))
    return pieces


def _trailing_comment(line: str) -> str:
    """The ``  # …`` at the end of a constant's line, kept with the new value."""
    tokens = line.rstrip("\n").split("  # ", 1)
    return f"  # {tokens[1]}" if len(tokens) == 2 else ""


def _merge_import(node, imports: dict) -> None:
    if isinstance(node, ast.Import):
        for alias in node.names:
            imports.setdefault("", set()).add((alias.name, alias.asname))
        return
    if node.module.startswith(TEMPLATES):
        return  # that part's code is in the module
    module = "." if node.module == KERNELS else node.module
    for alias in node.names:
        imports.setdefault(module, set()).add((alias.name, alias.asname))


def reachable(pieces: list[Piece], roots=ROOTS) -> list[Piece]:
    """The pieces that the roots use, directly or through other pieces, in their order."""
    by_name = {name: piece for piece in pieces for name in piece.defines}
    seen, todo = set(), [r for r in roots if r in by_name]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo.extend(n for n in by_name[name].uses if n in by_name and n not in seen)
    return [p for p in pieces if not p.defines or p.defines & seen]


def unique(pieces: list[Piece]) -> list[Piece]:
    """Pieces with each name defined once: identical constant definitions collapse, any other clash is a bug."""
    kept, seen = [], {}
    for piece in pieces:
        clash = [n for n in piece.defines if n in seen]
        if clash and all(seen[n].source.split("\n")[-1] == piece.source.split("\n")[-1] for n in clash):
            continue
        if clash:
            raise ValueError(f"template parts define {', '.join(clash)} twice, differently")
        kept.append(piece)
        seen.update({n: piece for n in piece.defines})
    return kept


def import_lines(imports: dict, used: set) -> list[str]:
    """The merged imports that the module uses: plain imports, then from-imports, each sorted."""
    def bound(name, alias):
        return alias or name.split(".")[0]
    plain = sorted(f"import {n}" + (f" as {a}" if a else "") for n, a in imports.get("", ()) if bound(n, a) in used)
    froms = []
    for module in sorted(m for m in imports if m and m != "."):
        names = sorted(imports[module], key=lambda p: p[0])
        names = [n + (f" as {a}" if a else "") for n, a in names if bound(n, a) in used]
        if names:
            froms.append(f"from {module} import {', '.join(names)}")
    local = sorted(f"from . import {n}" + (f" as {a}" if a else "") for n, a in imports.get(".", ())
                   if bound(n, a) in used)
    return plain + froms + local
