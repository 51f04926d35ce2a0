"""Entry script of the PyInstaller bundle: the ``musicapp`` command (``musicapp.cli.main``)."""

import multiprocessing
import sys

from musicapp.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # prepare-data's worker processes re-enter the executable
    sys.exit(main())
