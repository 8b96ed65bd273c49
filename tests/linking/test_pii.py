"""Card numbers found whatever their layout, and never shown beyond the last four digits."""

from __future__ import annotations

import pytest

from computekyc.pii import find_card_numbers, has_card_number, mask_card_numbers

VISA = "4111111111111111"


@pytest.mark.parametrize(
    "text",
    [
        VISA,
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "4111.1111.1111.1111",
        "4111/1111/1111/1111",
        "4111_1111_1111_1111",
        "4111 - 1111 - 1111 - 1111",
        "tok_4111111111111111",
        "paid with card 4111 1111 1111 1111 exp 12/29",
        "ref 12 4111 1111 1111 1111",
        "378282246310005",  # Amex, 15 digits
        "6011 0009 9013 9424",  # Discover
        "4111 1111 1111 1111 2029",  # followed by a year
    ],
)
def test_card_found_whatever_the_separators(text: str) -> None:
    assert has_card_number(text)
    masked = mask_card_numbers(text)
    digits = "".join(ch for ch in masked if ch.isdigit())
    # What is left of the card is its last four digits at most.
    for match in find_card_numbers(text):
        assert f"…{match.last4}" in masked
    assert VISA[:6] not in digits.replace(" ", "")
    assert "411111111111" not in masked.replace(" ", "").replace("-", "")


@pytest.mark.parametrize(
    "text",
    [
        "4111111111111112",  # fails Luhn
        "411111111111",  # 12 digits
        "+86 138 0013 8000",  # a phone: 13 digits that fail Luhn
        "1 Raffles Place, Singapore 048616",
        "81.2.69.160",
        "2026-03-01T09:00:00Z",
        "12345678901234567890123",  # a 23-digit identifier is no card
        "",
    ],
)
def test_not_cards(text: str) -> None:
    assert not has_card_number(text)
    assert mask_card_numbers(text) == text


def test_mask_describes_length_and_last_four() -> None:
    [match] = find_card_numbers("x 4111.1111.1111.1111 y")
    assert match.describe() == "16 digits ending …1111"
    assert mask_card_numbers("x 4111.1111.1111.1111 y") == "x <card …1111> y"
