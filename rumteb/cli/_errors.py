"""Errors a command reports in one line (``rumteb: error: ...``, exit status 1), beside the library's own
(``ValueError``, ``LookupError``, ``DataError``, ``OSError``) that `rumteb.cli.main` reports the same way."""

from __future__ import annotations


class CommandError(Exception):
    """A failure whose message says what went wrong and what to do; shown without a traceback (``-v`` adds it)."""
