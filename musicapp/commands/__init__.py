"""Subcommand groups for the CLI; each module defines ``register(subparsers)``."""
