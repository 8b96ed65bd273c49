"""Fast pickling for slotted dataclasses.

The generic ``__setstate__`` that ``dataclass(slots=True)`` generates looks up the fields on every
object; the screening index cache holds hundreds of thousands of such objects, and re-creating them
positionally through ``__init__`` loads several times faster.
"""

from __future__ import annotations

from typing import Any


class PositionalPickle:
    """Mixin: pickle a slotted dataclass as ``cls(*fields)``. Field order = ``__slots__`` order."""

    __slots__ = ()

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        names: tuple[str, ...] = type(self).__slots__
        return (type(self), tuple(getattr(self, name) for name in names))
