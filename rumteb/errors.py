"""rumteb's errors: one tree, rooted at `RumtebError`.

Every error meant for a user (a bad value, an unknown name, a missing or damaged file, an unreachable server or
cluster) is a `RumtebError`; its message names the bad value and the fix. ``rumteb`` prints exactly these as one
``rumteb: error: ...`` line. Anything else that escapes is a bug: it keeps its traceback.

Where callers catch a built-in class, the error keeps it as a second base (``except ValueError`` still catches a
bad parameter)::

    RumtebError
    ├── ParameterError (ValueError)           a bad value for a parameter or an option
    │   └── ConfigError                       a training or source config (YAML) that does not validate
    ├── UnknownNameError (LookupError)        an unknown task, benchmark, model, config ("Did you mean ...?")
    ├── MissingExtraError (ImportError)       an optional dependency is not installed (names the pip extra)
    ├── DependencyError (RuntimeError)        an installed dependency rumteb does not support (mteb's version)
    ├── MissingFileError (FileNotFoundError)  a file or folder the user named does not exist (a model folder)
    ├── DeviceError (ValueError)              a device that is not there (CUDA with a CPU build of torch, ...)
    ├── ClusterError (ConnectionError)        a Ray cluster that cannot be reached
    ├── ModelFolderError (ValueError)         rumteb.models.loading: a model folder that cannot be loaded
    │   └── PickleWeightsError                weights only as pickle files, without allow_pickle
    ├── EndpointError (RuntimeError)          rumteb.models.endpoint: a server that is down, refuses, answers wrong
    ├── DataError (RuntimeError)              rumteb.data: an offline mirror that cannot be used
    │   ├── MissingDataError (FileNotFoundError)
    │   ├── RevisionMismatchError
    │   └── MirrorReadError
    │       └── ManifestError
    ├── EncodeCheckError (ValueError)         rumteb.evaluation: a model whose outputs are unusable (NaN, shape)
    ├── StaleResultError (ValueError)         rumteb.evaluation: a stored result from other data or settings
    ├── ResultWriteError (OSError)            rumteb.evaluation: results that cannot be written (disk, rights)
    ├── ResultsError (ValueError)             rumteb.reporting: result files that cannot be read or hold nothing
    ├── CompareError (ValueError)             rumteb.reporting: predictions that cannot be compared
    ├── CardError (ValueError)                rumteb.cards: a dataset card that does not validate
    └── CommandError                          rumteb.cli: a command that cannot do what was asked

The classes of the lower branches are defined beside the code that raises them (``rumteb.data.DataError``, ...);
this module defines the root and the generic branches. Exceptions that carry results between two modules
(``PartialEmbeddings``, ``IncompleteEmbeddings``) are control flow, caught before they could reach a user.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = [
    "ClusterError",
    "ConfigError",
    "DependencyError",
    "DeviceError",
    "MissingExtraError",
    "MissingFileError",
    "ParameterError",
    "RumtebError",
    "UnknownNameError",
]


class RumtebError(Exception):
    """An error meant for the user: the message says what was wrong and how to fix it."""


class ParameterError(RumtebError, ValueError):
    """A bad value for a parameter (library) or option (CLI).

    The message names the parameter as the library knows it (``max_memory``); the command line shows it under the
    option's name (``--max-memory``): `invalid` records which parameter it was, `for_options` rewords it.

    Example:
        >>> err = ParameterError.invalid("Encoder", "batch_size", "a positive int", 0)
        >>> str(err)
        "The 'batch_size' parameter of Encoder must be a positive int. Got 0 instead."
        >>> err.for_options({"batch_size": "--batch-size"})
        "The '--batch-size' option must be a positive int. Got 0 instead."
    """

    parameter: str | None = None
    owner: str | None = None

    @classmethod
    def invalid(
        cls, owner: str, parameter: str, expected: str, value: object, fix: str = ""
    ) -> ParameterError:
        """``The {parameter!r} parameter of {owner} must be {expected}. Got {value!r} instead. {fix}``"""
        message = f"The {parameter!r} parameter of {owner} must be {expected}. Got {value!r} instead."
        err = cls(f"{message} {fix}" if fix else message)
        err.parameter, err.owner = parameter, owner
        return err

    def for_options(self, options: Mapping[str, str]) -> str:
        """The message with the parameter named by its command-line option (``options``: parameter -> flag)."""
        message = str(self)
        if self.parameter is None or self.owner is None or self.parameter not in options:
            return message
        flag = options[self.parameter]
        return message.replace(f"The {self.parameter!r} parameter of {self.owner}", f"The {flag!r} option", 1)


class ConfigError(ParameterError):
    """A training or source config (YAML) that does not validate: a bad value, a missing key, a file that is not
    YAML. Unknown keys are `UnknownNameError`."""


class UnknownNameError(RumtebError, LookupError):
    """An unknown name (task, benchmark, model, config), with close matches and where to list the known ones."""

    def __str__(self) -> str:  # a LookupError's str() would quote the message like a KeyError
        return str(self.args[0]) if self.args else ""


class MissingExtraError(RumtebError, ImportError):
    """An optional dependency is missing; the message names the ``pip install "rumteb[EXTRA]"`` that adds it."""


class DependencyError(RumtebError, RuntimeError):
    """An installed dependency that rumteb does not support (an mteb outside the versions it extends)."""


class MissingFileError(RumtebError, FileNotFoundError):
    """A file or folder the user named does not exist (a model folder, the cards' source folders).

    A missing offline mirror is a `rumteb.data.MissingDataError` instead, with the pull command that fills it.
    """


class DeviceError(RumtebError, ValueError):
    """A device that this machine does not have (``cuda`` with a CPU build of torch, ``cuda:3`` of two GPUs)."""


class ClusterError(RumtebError, ConnectionError):
    """A Ray cluster that cannot be reached at the address given (or in ``RAY_ADDRESS``)."""
