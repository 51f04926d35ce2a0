"""Layering: core <- ml, engine <- ui <- app, checked by import-linter with pyproject's contracts."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

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


def _demo_ui_importing_engine(tmp_path, ui_source: str) -> Path:
    pkg = tmp_path / "layerdemo2"
    for sub in ("engine", "ui"):
        (pkg / sub).mkdir(parents=True, exist_ok=True)
        (pkg / sub / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "engine" / "transport.py").write_text("class Transport: ...\n")
    (pkg / "ui" / "playback.py").write_text(ui_source)
    config = tmp_path / "contracts.toml"
    config.write_text(textwrap.dedent("""
        [tool.importlinter]
        root_package = "layerdemo2"
        exclude_type_checking_imports = true
        [[tool.importlinter.contracts]]
        name = "ui gets the engine injected"
        type = "forbidden"
        source_modules = ["layerdemo2.ui"]
        forbidden_modules = ["layerdemo2.engine"]
    """))
    return config


def test_ui_may_name_engine_types_under_type_checking_but_not_import_them(tmp_path, monkeypatch,
                                                                         capsys) -> None:
    monkeypatch.syspath_prepend(str(tmp_path))
    typed = _demo_ui_importing_engine(tmp_path, "from typing import TYPE_CHECKING\n"
                                      "if TYPE_CHECKING:\n    from layerdemo2.engine.transport import Transport\n")
    assert lint_imports(config_filename=str(typed), no_cache=True, no_logo=True) == 0
    real = _demo_ui_importing_engine(tmp_path, "from layerdemo2.engine.transport import Transport\n")
    assert lint_imports(config_filename=str(real), no_cache=True, no_logo=True) == 1
    assert "1 broken" in capsys.readouterr().out
