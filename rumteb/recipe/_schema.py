"""Checks shared by the training config's schema modules: one error template, unknown keys refused with the
closest names."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from rumteb._util.lookup import unknown_name_error
from rumteb.errors import ConfigError


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check(ok: bool, name: str, expected: str, value: object) -> None:
    if not ok:
        raise ConfigError.invalid("the training config", name, expected, value)


def _reject_unknown(data: Mapping[str, Any], cls: type, where: str) -> None:
    known = [f.name for f in dataclasses.fields(cls)]
    for key in data:
        if key not in known:
            raise unknown_name_error(f"key in {where}", key, known, fix=f"Known keys: {', '.join(known)}.")
