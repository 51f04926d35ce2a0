"""Command line: ``musicapp [FILE]`` starts the GUI; subcommands are the headless interface.

Owns argument parsing and the one rule for errors: a ``MusicappError`` becomes one line on
stderr and exit code 1, never a traceback (set ``MUSICAPP_DEBUG=1`` to see tracebacks).
Each group of subcommands lives in ``musicapp.commands.*`` and registers itself; handlers
import heavy modules (torch, Qt, rtmidi) only when they run, so ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Callable, Sequence

from musicapp import __version__
from musicapp.core.errors import MusicappError

#: modules under musicapp.commands that each define ``register(subparsers)``.
COMMAND_MODULES: tuple[str, ...] = ("files", "ml", "vae", "engine", "accompany", "finetune", "infill", "harmony", "jam")

Handler = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    """The full parser with every registered subcommand."""
    return _build()[0]


def _build() -> tuple[argparse.ArgumentParser, frozenset[str]]:
    """The parser and the names of its subcommands (the subparsers action's public
    ``choices``, kept here so nobody reads argparse's private ``_subparsers``)."""
    parser = argparse.ArgumentParser(
        prog="musicapp",
        description="Offline composing assistant. With no command, starts the editor "
        "(optionally opening FILE, a project or a .mid file).",
    )
    parser.add_argument("--version", action="version", version=f"musicapp {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    gui = sub.add_parser("gui", help="start the editor (the default)")
    gui.add_argument("file", nargs="?", help="project (.musicapp) or .mid file to open")
    gui.set_defaults(handler=_run_gui)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"musicapp.commands.{name}")
        except ModuleNotFoundError as err:
            if err.name != f"musicapp.commands.{name}":
                raise
            continue
        module.register(sub)
    return parser, frozenset(sub.choices)


def _run_gui(args: argparse.Namespace) -> int:
    from musicapp.app import run_app

    return run_app(getattr(args, "file", None))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser, known = _build()
    if not argv or (argv[0] not in known and not argv[0].startswith("-")):
        argv = ["gui", *argv]
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    try:
        return int(handler(args) or 0)
    except MusicappError as err:
        print(f"musicapp: {err}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # `musicapp info x.mid | head`: the reader went away; not an error
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 0
    except KeyboardInterrupt:
        print("musicapp: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # last line of defence: one line, no traceback
        if os.environ.get("MUSICAPP_DEBUG"):
            raise
        print(f"musicapp: internal error: {type(err).__name__}: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
