"""Entry point for ``python -m musicapp``: same as the ``musicapp`` command."""

import sys

from musicapp.cli import main

if __name__ == "__main__":
    sys.exit(main())
