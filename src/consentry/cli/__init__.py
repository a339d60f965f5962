"""The ``consentry`` command line."""

from consentry.cli.main import main

__all__ = ["main"]
