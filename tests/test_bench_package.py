"""scripts/bench is a package whose modules import each other one way only, each file small.

The import graph is read from the sources with ``ast`` (every ``from . import x``, ``from .x import y`` and
``import scripts.bench.x``, at any depth, so imports inside functions count too), and must be acyclic.
"""
import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "scripts" / "bench"
NAME = "scripts.bench"


MODULES = {path.stem for path in PACKAGE.glob("*.py")}


def _internal(node) -> set[str]:
    """The package's modules that one import statement names."""
    if isinstance(node, ast.ImportFrom) and node.level:
        assert node.level == 1, "the package is flat: relative imports are `from . import x` or `from .x import y`"
        names = [node.module] if node.module else [alias.name for alias in node.names]
    else:
        full = [alias.name for alias in node.names] if isinstance(node, ast.Import) \
            else [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        names = [name[len(NAME) + 1:] for name in full if name and name.startswith(NAME + ".")]
    return {name.split(".")[0] for name in names} & MODULES


def graph() -> dict[str, set[str]]:
    edges = {}
    for path in sorted(PACKAGE.glob("*.py")):
        tree = ast.parse(path.read_text("utf-8"))
        edges[path.stem] = set().union(*(_internal(node) for node in ast.walk(tree)
                                         if isinstance(node, (ast.Import, ast.ImportFrom)))) - {path.stem}
    return edges


def test_the_import_graph_has_no_cycle():
    edges = graph()
    assert edges["driver"] >= {"workers", "checks", "report", "coldstart", "competitors"}   # the reader sees edges
    try:
        order = list(TopologicalSorter(edges).static_order())
    except CycleError as error:
        raise AssertionError(f"import cycle in scripts/bench: {' → '.join(error.args[1])}") from None
    assert set(order) == set(edges)


def test_the_building_blocks_import_nothing_of_the_package():
    edges = graph()
    assert edges["protocol"] == edges["checks"] == edges["elementary"] == set()
    for family in ("numpy_peer", "torch_peer", "jax_peer", "kernels_peer", "reference", "bandwidth"):
        assert edges[family] <= {"protocol", "workloads"}, family


def test_every_file_is_at_most_300_lines():
    long = {path.name: n for path in PACKAGE.glob("*.py") if (n := len(path.read_text("utf-8").splitlines())) > 300}
    assert not long, long
