"""Layering: core <- ml, engine <- ui <- app, checked by import-linter with pyproject's contracts."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from importlinter.cli import lint_imports

from musicapp.paths import repo_root


def test_import_contracts_in_pyproject_are_kept(capsys) -> None:
    code = lint_imports(config_filename=str(repo_root() / "pyproject.toml"), no_cache=True, no_logo=True)
    out = capsys.readouterr().out
    assert code == 0, out
    assert "0 broken" in out and " KEPT" in out


def test_a_forbidden_import_is_caught(tmp_path, monkeypatch, capsys) -> None:
    """The same kind of contract fails on a package whose core imports its ui."""
    pkg = tmp_path / "layerdemo"
    for sub in ("core", "ui"):
        (pkg / sub).mkdir(parents=True)
        (pkg / sub / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "core" / "model.py").write_text("def f():\n    from layerdemo.ui import widgets\n")
    (pkg / "ui" / "widgets.py").write_text("")
    config = tmp_path / "contracts.toml"
    config.write_text(textwrap.dedent("""
        [tool.importlinter]
        root_package = "layerdemo"
        [[tool.importlinter.contracts]]
        name = "core is pure"
        type = "forbidden"
        source_modules = ["layerdemo.core"]
        forbidden_modules = ["layerdemo.ui"]
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    assert lint_imports(config_filename=str(config), no_cache=True, no_logo=True) == 1
    assert "1 broken" in capsys.readouterr().out


def test_importing_core_loads_no_qt_torch_or_rtmidi() -> None:
    probe = ("import sys, pkgutil, importlib, musicapp.core as c\n"
             "for m in pkgutil.iter_modules(c.__path__): importlib.import_module('musicapp.core.' + m.name)\n"
             "bad = [m for m in ('PySide6', 'torch', 'rtmidi', 'sounddevice') if m in sys.modules]\n"
             "print(','.join(bad))")
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == ""
