"""Build hook: the wheel carries the top-level ``models/`` and ``resources/`` folders.

Both stay at the repository root (the checkout layout is fixed); ``build_py`` copies them into
the built package as ``musicapp/_data/models`` and ``musicapp/_data/resources``, where
``musicapp.paths`` finds them through ``importlib.resources``. Editable installs skip the copy
(the package then reads the folders beside it). Everything else is in ``pyproject.toml``.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
DATA_DIRS = ("models", "resources")


class BuildPyWithData(build_py):
    """``build_py`` that also copies ``DATA_DIRS`` into ``musicapp/_data``."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        for name in DATA_DIRS:
            src = HERE / name
            if src.is_dir():
                self.copy_tree(str(src), str(Path(self.build_lib, "musicapp", "_data", name)))


setup(cmdclass={"build_py": BuildPyWithData})
