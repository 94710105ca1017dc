"""User text never reaches generated source: hostile expressions are refused, harmless ones leave no trace.

The generated module is written from SymPy's printing of the parsed expression and registry names only, so two
spellings of one formula give byte-identical source, and nothing a user typed can become code or a docstring.
"""
import ast

import pytest

import derive
from derive.catalogue.custom import custom_activation, custom_loss
from derive.codegen.modules import ModuleSpec
from derive.codegen.source import module_source
from derive.errors import DeriveError

HOSTILE = [
    'z #"""; import os; os.system("touch pwned"); """',
    "z #'''; import os; os.system('touch pwned'); '''",
    'z # \\',
    "z\\\n+1",
    '"z"',
    "z + '''x'''",
    "z\x1b[31m",
    "z\u202e+1",
    "ｚ",
    "z; import os",
    "__import__('os').system('touch pwned')",
    "z if True else exec('1')",
    "(lambda: z)()",
    "z.__class__",
    "z\x00",
]


@pytest.mark.parametrize("text", HOSTILE)
@pytest.mark.parametrize("kind", ["activation_expr", "loss_expr"])
def test_hostile_expressions_are_refused_with_one_line(text, kind, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DERIVE_CACHE_DIR", str(tmp_path / "cache"))
    kwargs = {"activation_expr": text, "loss": "mse"} if kind == "activation_expr" else \
        {"activation": "sigmoid", "loss_expr": text}
    with pytest.raises(DeriveError) as error:
        derive.compile(**kwargs)
    message = str(error.value)
    assert "\n" not in message and "\x1b" not in message and "\u202e" not in message
    assert not (tmp_path / "pwned").exists()
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").rglob("*.py"))


def _strings(source: str) -> set[str]:
    return {node.value for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Constant)
            and isinstance(node.value, str)}


def test_two_spellings_of_one_formula_give_the_same_source():
    spec = ModuleSpec("neuron", "custom", "mse")
    tidy = custom_activation("z/(1+Abs(z))")
    odd = custom_activation("  z /\n(1 +   Abs( z ))  ")
    loss = custom_loss("(a-y)**2")
    sources = [module_source(spec, derive.derivation(activation_expr=text, loss_expr="(a-y)**2"), (act, loss, None))
               for text, act in (("z/(1+Abs(z))", tidy), ("  z /\n(1 +   Abs( z ))  ", odd))]
    assert sources[0] == sources[1]
    assert not any("  z /" in s for s in _strings(sources[1]))
