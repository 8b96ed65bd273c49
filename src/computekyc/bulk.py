"""Helpers for building and loading very many small objects fast (list parties, screening index
tokens, linking records).

* :class:`PositionalPickle` — the generic ``__setstate__`` that ``dataclass(slots=True)``
  generates looks up the fields on every object; re-creating them positionally through
  ``__init__`` loads the screening index cache several times faster.
* :func:`gc_paused` — each full cyclic collection rescans every live object, which makes building
  millions of acyclic objects superlinear.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class PositionalPickle:
    """Mixin: pickle a slotted dataclass as ``cls(*fields)``. Field order = ``__slots__`` order."""

    __slots__ = ()

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        names: tuple[str, ...] = type(self).__slots__
        return (type(self), tuple(getattr(self, name) for name in names))


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while acyclic objects are built or unpickled."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
