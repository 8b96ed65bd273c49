"""Bounded memoisation of the steps that read Han names, with a switch that turns it off.

A Han name costs a segmentation (jieba), dictionary look-ups (CC-CEDICT), readings (pypinyin)
and a traditional-to-simplified fold (OpenCC) per run of characters; the same runs (有限公司,
科技, 北京) come back in name after name. The steps are pure functions of their arguments, so
their results are kept in bounded LRU caches. :func:`uncached` runs the straightforward path
(every step computed afresh): the tests screen the same names both ways and compare.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache, wraps
from typing import Any, ParamSpec, TypeVar, cast

P = ParamSpec("P")
R = TypeVar("R")

_state = {"enabled": True}
_derived: dict[tuple[int, str], tuple[object, object]] = {}
_clearers: list[Callable[[], None]] = [_derived.clear]


def memoised(maxsize: int) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """``functools.lru_cache(maxsize)`` that :func:`uncached` bypasses (arguments hashable)."""

    def wrap(fn: Callable[P, R]) -> Callable[P, R]:
        cached: Any = lru_cache(maxsize=maxsize)(fn)
        _clearers.append(cached.cache_clear)

        @wraps(fn)
        def call(*args: P.args, **kwargs: P.kwargs) -> R:
            if _state["enabled"]:
                return cached(*args, **kwargs)  # type: ignore[no-any-return]
            return fn(*args, **kwargs)

        return call

    return wrap


def derived(owner: object, key: str, make: Callable[[], R]) -> R:
    """``make()``, kept per ``owner`` object (by identity; the owner is kept with it, so that its
    id cannot be reused) and ``key``: tables derived from a vocabulary, made once."""
    if not _state["enabled"]:
        return make()
    slot = (id(owner), key)
    found = _derived.get(slot)
    if found is None or found[0] is not owner:
        if len(_derived) >= 64:
            _derived.clear()
        found = _derived[slot] = (owner, make())
    return cast(R, found[1])


def on_clear(clearer: Callable[[], None]) -> None:
    """Have :func:`clear` (and so :func:`uncached`) also forget another cache."""
    _clearers.append(clearer)


def clear() -> None:
    """Forget every memoised result (the tables they were computed from changed)."""
    for clearer in _clearers:
        clearer()


def enabled() -> bool:
    return _state["enabled"]


@contextmanager
def uncached() -> Iterator[None]:
    """Compute every Han-name step afresh inside the block (the reference path)."""
    clear()
    _state["enabled"] = False
    try:
        yield
    finally:
        _state["enabled"] = True
        clear()
