"""generated/ is what the registry makes of it: the drift test, and how generate() writes a directory.

Rendering all 73 modules takes a few seconds, so it happens four times here: for the drift test, into a
fresh directory, again into a copy of it (determinism), and part-way before a planted failure. The tests of
stale-file removal and failed writes replay the fresh directory's sources instead of rendering again.
"""
import ast
import importlib.util
import os
import re
import shutil
from pathlib import Path

import pytest

import derive.codegen.generate as generate_module
import derive.codegen.source as source_module
from derive.codegen.generate import GENERATED, MARKER, generate
from derive.codegen.modules import catalogue_modules
from derive.codegen.source import COMMAND

ROOT = Path(__file__).resolve().parents[1]
SPECS = catalogue_modules()
FILES = sorted([f"{spec.name}.py" for spec in SPECS] + ["_optim.py"])   # the modules and the optimizers' update


def _snapshot(directory):
    """Every entry of ``directory`` (hidden ones too) and its bytes."""
    return {path.name: path.read_bytes() for path in sorted(directory.iterdir()) if path.is_file()}


def _copy(fresh, tmp_path):
    directory = tmp_path / "generated"
    shutil.copytree(fresh[0], directory)
    return directory


def _stray(directory):
    return sorted(path.name for path in directory.iterdir() if path.name.startswith(".") or path.suffix == ".tmp")


def _replay(monkeypatch, sources):
    """Make generate() use ``sources`` instead of rendering the registry again."""
    monkeypatch.setattr(generate_module, "render_all", lambda progress=None: dict(sources))


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    """(directory, report, {file: bytes}) of one generate() into an empty directory."""
    directory = tmp_path_factory.mktemp("fresh")
    report = generate(directory)
    return directory, report, _snapshot(directory)


def test_committed_modules_are_what_the_registry_generates():
    report = generate(check=True)
    assert report.stale == (), \
        f"generated/ is out of date ({', '.join(report.stale)}): run python scripts/regenerate_kernels.py"
    assert report.unchanged == len(FILES)


def test_generation_writes_every_module_and_nothing_else(fresh):
    directory, report, files = fresh
    assert sorted(report.written) == FILES and report.removed == () and report.unchanged == 0
    assert sorted(files) == FILES, f"unexpected files: {sorted(set(files) - set(FILES))}"
    for name, data in files.items():
        ast.parse(data.decode("utf-8"), filename=name)
        assert data == (GENERATED / name).read_bytes(), f"{name}: written bytes differ from the committed file"


def test_generated_files_get_the_usual_permissions(fresh):
    umask = os.umask(0)
    os.umask(umask)
    modes = {oct((fresh[0] / name).stat().st_mode & 0o777) for name in FILES}
    assert modes == {oct(0o666 & ~umask)}


def test_generation_is_deterministic_and_a_second_run_writes_nothing(fresh, tmp_path):
    directory = _copy(fresh, tmp_path)
    before = {name: ((directory / name).stat().st_ino, (directory / name).stat().st_mtime_ns) for name in FILES}
    report = generate(directory)
    assert report.written == () and report.removed == () and report.unchanged == len(FILES)
    assert _snapshot(directory) == fresh[2]
    assert {name: ((directory / name).stat().st_ino, (directory / name).stat().st_mtime_ns)
            for name in FILES} == before, "an unchanged file was rewritten"


def test_stale_generated_files_are_removed_and_others_kept(fresh, tmp_path, monkeypatch):
    directory = _copy(fresh, tmp_path)
    _replay(monkeypatch, {name: data.decode("utf-8") for name, data in fresh[2].items()})
    stale = directory / "neuron_retired_loss.py"
    stale.write_text(f"{MARKER}python -m derive generate` from the registry entries model=neuron ...\n")
    kept = {
        "_validate.py": (GENERATED / "_validate.py").read_bytes(),               # hand-written, beside them
        "helper.py": f"# a hand-written module that mentions {MARKER!r}\n".encode(),
        "notes.txt": f"{MARKER}... but not a .py file\n".encode(),
    }
    for name, data in kept.items():
        (directory / name).write_bytes(data)
    (directory / "sub").mkdir()
    (directory / "sub" / "neuron_nested_loss.py").write_text(f"{MARKER}... in a subdirectory\n")
    edited = FILES[3]
    (directory / edited).write_text((directory / edited).read_text() + "# an edit by hand\n")

    report = generate(directory, check=True)
    assert report.written == (edited,) and report.removed == (stale.name,)
    assert stale.exists() and (directory / edited).read_bytes() != fresh[2][edited], "check changed a file"

    report = generate(directory)
    assert report.written == (edited,) and report.removed == (stale.name,)
    assert not stale.exists() and (directory / "sub" / "neuron_nested_loss.py").exists()
    assert _snapshot(directory) == {**fresh[2], **kept}


def test_a_failure_part_way_leaves_the_directory_as_it_was(fresh, tmp_path, monkeypatch):
    directory = _copy(fresh, tmp_path)
    (directory / FILES[0]).write_text("# out of date\n")
    (directory / FILES[-1]).unlink()
    before = _snapshot(directory)
    real, calls = source_module.module_source, []

    def failing(spec, *args, **kwargs):
        calls.append(spec.name)
        if len(calls) == 5:
            raise RuntimeError("failed on the fifth module")
        return real(spec, *args, **kwargs)

    monkeypatch.setattr(source_module, "module_source", failing)
    monkeypatch.setattr(generate_module, "module_source", failing)  # generate.py imported the name itself
    with pytest.raises(RuntimeError, match="fifth module"):
        generate(directory)
    assert len(calls) == 5, "the planted failure was never reached"
    assert _snapshot(directory) == before and _stray(directory) == []


@pytest.mark.parametrize("failure", ["encoding", "rename"])
def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(fresh, tmp_path, monkeypatch, failure):
    directory = _copy(fresh, tmp_path)
    sources = {name: data.decode("utf-8") for name, data in fresh[2].items()}
    if failure == "encoding":
        sources[FILES[0]] += "# a lone surrogate cannot be written as UTF-8: \ud800\n"
    else:
        sources[FILES[0]] += "# changed\n"

        def refuse(source, target):
            raise OSError("rename refused")

        monkeypatch.setattr(os, "replace", refuse)
    _replay(monkeypatch, sources)
    with pytest.raises((UnicodeEncodeError, OSError)):
        generate(directory)
    monkeypatch.undo()
    assert _snapshot(directory) == fresh[2] and _stray(directory) == []


def test_every_generated_file_names_its_command_and_registry_entries():
    for spec in SPECS:
        text = (GENERATED / f"{spec.name}.py").read_text("utf-8")
        first, second = text.splitlines()[:2]
        assert first == f"# Generated by `{COMMAND}` from the registry entries {spec.entries}.", spec.name
        assert second.startswith("# Do not edit by hand") and "scripts/regenerate_kernels.py" in second
        assert text.startswith(MARKER)
        values = {node.targets[0].id: node.value.value for node in ast.parse(text).body
                  if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
                  and isinstance(node.value, ast.Constant)}
        assert (values["MODEL"], values["ACTIVATION"], values["LOSS"], values.get("HIDDEN")) == \
            (spec.model, spec.activation, spec.loss, spec.hidden), spec.name
        assert not re.search(r"\b(19|20)\d\d-\d\d-\d\d\b|\b\d\d:\d\d:\d\d\b", text), f"{spec.name}: a timestamp"
    hand_written = sorted(path.name for path in GENERATED.glob("*.py") if path.name not in FILES)
    assert hand_written == ["__init__.py", "_ahead.py", "_api.py", "_dense.py", "_distributed_fit.py",
                            "_distributed_tasks.py", "_elementary.py", "_estimator_base.py", "_first_class.py",
                            "_fused.py", "_lbfgs.py", "_linear.py", "_normal.py", "_notice.py", "_options.py",
                            "_scalar.py", "_shuffle.py", "_spans.py", "_tbb.py", "_threads.py", "_training.py",
                            "_tuning.py", "_validate.py", "_warm.py", "distributed.py", "estimators.py"]
    for name in hand_written:  # generate() removes files that start with the marker: never these
        assert not (GENERATED / name).read_text("utf-8").startswith(MARKER), name


def test_the_script_runs_the_function_the_drift_test_runs():
    tree = ast.parse((ROOT / "scripts" / "regenerate_kernels.py").read_text("utf-8"))
    imports = {(node.module, alias.name) for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
               for alias in node.names}
    calls = {node.func.id for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
    assert ("derive.codegen.generate", "generate") in imports and "generate" in calls


@pytest.mark.parametrize("argv, check", [(["generate"], False), (["generate", "--check"], True)])
def test_the_command_in_the_header_runs_the_same_function(monkeypatch, capsys, argv, check):
    from derive.cli import main
    from derive.codegen.generate import Report

    assert COMMAND == "python -m derive generate" and importlib.util.find_spec("derive.__main__") is not None
    calls = []

    def recorder(directory=GENERATED, *, check=False, progress=None):
        calls.append((directory, check))
        return Report((), (), len(SPECS))

    monkeypatch.setattr(generate_module, "generate", recorder)
    assert main(argv) == 0
    assert calls == [(GENERATED, check)]


def test_a_changed_helper_changes_the_digests_of_what_compiles_it_in(tmp_path, monkeypatch):
    """numba's cache keys a function on its own file only: so an edit to _shuffle must change the _DEPENDS line
    of the shared loops that call it, and the _HELPERS digest every generated module carries."""
    from derive.codegen import helpers
    before_digest, before = helpers.helpers_digest(), dict(helpers.helper_texts())
    copy = tmp_path / "kernels"
    shutil.copytree(GENERATED, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "_shuffle.py").write_text((copy / "_shuffle.py").read_text("utf-8") + "\n# an edit\n", "utf-8")
    monkeypatch.setattr(helpers, "folder", lambda: copy)
    helpers.helper_texts.cache_clear()
    try:
        after = helpers.helper_texts()
        changed = {name for name in after if after[name] != before[name]}
        assert {"_shuffle", "_dense", "_fused"} <= changed and "_normal" not in changed, changed
        assert helpers.helpers_digest() != before_digest
        assert set(helpers.depends_updates()) == {"_dense.py", "_fused.py"}
    finally:
        helpers.helper_texts.cache_clear()
