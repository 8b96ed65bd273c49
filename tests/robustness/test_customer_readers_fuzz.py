"""Property tests of the customer readers (``determine``'s JSON Lines and the book's JSON Lines
and CSV): random bytes, truncations and byte mutations of the example provider's real customer
file give either customers (or per-line input errors) or one clean ComputekycError — never
another exception."""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from computekyc.book.reader import read_customers as read_book_customers
from computekyc.exc import ComputekycError
from computekyc.ownership.customers import read_customers

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "provider" / "customers.jsonl"
REAL = EXAMPLE.read_bytes()
FAST = settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)


def _both_readers_are_clean(data: bytes, suffix: str = ".jsonl") -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"customers{suffix}"
        path.write_bytes(data)
        with contextlib.suppress(ComputekycError):
            list(read_customers(path))
        with contextlib.suppress(ComputekycError):
            read_book_customers(path)


@FAST
@given(st.binary(max_size=2000))
def test_random_bytes(data: bytes) -> None:
    _both_readers_are_clean(data)


@FAST
@given(st.integers(min_value=0, max_value=len(REAL)))
def test_truncations_of_the_real_file(cut: int) -> None:
    _both_readers_are_clean(REAL[:cut])


@FAST
@given(
    st.lists(
        st.tuples(st.integers(min_value=0, max_value=len(REAL) - 1), st.integers(0, 255)),
        min_size=1,
        max_size=8,
    )
)
def test_byte_mutations_of_the_real_file(changes: list[tuple[int, int]]) -> None:
    data = bytearray(REAL)
    for position, value in changes:
        data[position] = value
    _both_readers_are_clean(bytes(data))


@FAST
@given(st.text(max_size=400))
def test_csv_text(text: str) -> None:
    _both_readers_are_clean(("id,name,type,country\n" + text).encode("utf-8"), ".csv")
