"""Remembered results of functions of a spec that a build asks for again and again.

A class writes two workbooks of each student's network (the student's file and the key), and each
workbook asks several sheets' worth of times for the same Training columns, Working lines and
questions; remembering the last few specs' answers spares working them out again. A remembered
function must depend on its (hashable) arguments alone: the registries of model/ops.py stay as
they are while sheetnet runs, and a test that swaps an entry of one calls forget().
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])
_CACHES: list[Any] = []


def remembered(maxsize: int = 8) -> Callable[[F], F]:
    """functools.lru_cache(maxsize) that forget() empties."""

    def decorate(function: F) -> F:
        cached = functools.lru_cache(maxsize=maxsize)(function)
        _CACHES.append(cached)
        return cached  # type: ignore[return-value]

    return decorate


def forget() -> None:
    """Empty every remembered function's memory."""
    for cache in _CACHES:
        cache.cache_clear()
