"""The error a command raises when it cannot do what was asked (``rumteb: error: ...``, exit status 1).

`rumteb.cli.main` prints every `rumteb.errors.RumtebError` the same way; `CommandError` is the one a command
adds for what only the command line knows (an option combination, a hint to run the same command again).
"""

from __future__ import annotations

from rumteb.errors import RumtebError


class CommandError(RumtebError):
    """A failure whose message says what went wrong and what to do; shown without a traceback (``-v`` adds it)."""
