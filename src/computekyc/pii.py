"""Payment card numbers (PANs) in any text: find them, mask them, describe them safely.

A card number is a run of 13–19 digits that passes the Luhn check (ISO/IEC 7812-1), whatever
separates its digit groups: spaces, dashes, dots, slashes or underscores ("4111.1111.1111.1111",
"4111/1111/1111/1111", "tok_4111111111111111", "card 4111 1111 1111 1111 exp 12/29"). PCI DSS
v4.0 requirement 3.4.1 allows at most the last four digits to be displayed, so nothing here ever
returns more than those: :func:`mask_card_numbers` rewrites text, :func:`describe` names a match.

Pure (no I/O): every package can use it on input it is about to store or echo.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MIN_DIGITS = 13
MAX_DIGITS = 19
# Digit groups joined by up to three separators ("4111 - 1111", "4111_1111").
_RUN = re.compile(r"[0-9]+(?:[\s\-./_]{1,3}[0-9]+)*")
_GROUP = re.compile(r"[0-9]+")
# The pre-check that rejects nearly every text (millions of names, e-mails, whole input lines
# per load) at C speed: with the separators deleted and every digit made "0", a text that holds
# a card holds 13 zeros in a row. Byte translation and substring search are ~10x faster than
# any regular expression over the same text; non-ASCII text (Unicode spaces are separators too)
# goes to the regular expression instead.
_ZEROS = bytes(48 if 48 <= b <= 57 else 120 for b in range(256))  # digit → "0", else "x"
_SEPARATORS = b" \t\r\n\x0b\x0c\x1c\x1d\x1e\x1f\x85-./_"
_THIRTEEN = b"0" * MIN_DIGITS
_CANDIDATE = re.compile(r"[0-9](?:[\s\-./_]{0,3}[0-9]){12}")


@dataclass(frozen=True, slots=True)
class CardMatch:
    """Where a card number sits in a text; only its length and last four digits are kept."""

    start: int
    end: int
    length: int
    last4: str

    def describe(self) -> str:
        return f"{self.length} digits ending …{self.last4}"


def luhn_ok(digits: str) -> bool:
    """The Luhn (mod 10) check digit test of ISO/IEC 7812-1."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _in_run(text: str, offset: int) -> list[CardMatch]:
    """Card numbers among consecutive digit groups of one run. A group longer than 19 digits is
    an identifier, never part of a card; otherwise every span of whole groups 13–19 digits long
    is tried, so a card followed by an expiry year or preceded by a reference is still found."""
    groups = [(m.start() + offset, m.end() + offset, m.group()) for m in _GROUP.finditer(text)]
    found: list[CardMatch] = []
    i = 0
    while i < len(groups):
        hit = None
        digits = ""
        for j in range(i, len(groups)):
            digits += groups[j][2]
            if len(digits) > MAX_DIGITS:
                break
            if len(digits) >= MIN_DIGITS and luhn_ok(digits):
                hit = CardMatch(groups[i][0], groups[j][1], len(digits), digits[-4:])
                # Keep the longest span from this group: the whole number, not a prefix of it.
        if hit is not None:
            found.append(hit)
            while i < len(groups) and groups[i][0] < hit.end:
                i += 1
        else:
            i += 1
    return found


def find_card_numbers(text: str) -> list[CardMatch]:
    """Every card number in ``text``, in order, without overlaps."""
    if not may_hold_card_number(text):
        return []  # the common case: no 13 digits in a row to hold a card number at all
    found: list[CardMatch] = []
    for run in _RUN.finditer(text):
        if may_hold_card_number(run.group()):
            found.extend(_in_run(run.group(), run.start()))
    return found


def may_hold_card_number(text: str) -> bool:
    """False when ``text`` cannot hold a card number (no 13 digits in a row, separators
    allowed): one cheap test for a whole input line before its fields are checked one by one."""
    if len(text) < MIN_DIGITS:
        return False
    if text.isascii():
        return _THIRTEEN in text.encode("ascii").translate(_ZEROS, _SEPARATORS)
    return _CANDIDATE.search(text) is not None


def has_card_number(text: str) -> bool:
    return bool(find_card_numbers(text))


def first_card_number(text: str) -> CardMatch | None:
    found = find_card_numbers(text)
    return found[0] if found else None


def mask_card_numbers(text: str) -> str:
    """``text`` with each card number replaced by ``<card …1234>`` (the last four digits)."""
    found = find_card_numbers(text)
    if not found:
        return text
    parts: list[str] = []
    at = 0
    for match in found:
        parts.append(text[at : match.start])
        parts.append(f"<card …{match.last4}>")
        at = match.end
    parts.append(text[at:])
    return "".join(parts)
