"""What a book revision stores of each record: its content as canonical JSON.

Customers keep the fields the book reads (id, names, type, countries, identifiers, addresses,
the declared owner tree with shares and relations, directors, web presence) — not whatever
other columns a provider's export carries. Accounts keep the linking record (payment
fingerprints are provider tokens). Card numbers are refused by both readers; should one still be
in a text (an identifier, an address), it is masked to its last four digits before storing.
"""

from __future__ import annotations

from typing import Any

from computekyc.alerts import canonical_json
from computekyc.book.reader import BookAccount, BookCustomer
from computekyc.ownership import Holder
from computekyc.pii import mask_card_numbers, may_hold_card_number


def _holder(holder: Holder, *, is_owner: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": holder.name,
        "type": holder.type,
        "country": holder.country,
        "headquarters_country": holder.headquarters_country,
        "date_of_birth": holder.date_of_birth,
        "identifiers": dict(holder.identifiers),
        "directors": list(holder.directors),
        "owners": [_holder(o, is_owner=True) for o in holder.owners],
    }
    if is_owner:
        out["share"] = holder.share
        out["relation"] = holder.relation
    return {k: v for k, v in out.items() if v not in (None, [], {})}


def customer_content(customer: BookCustomer) -> dict[str, Any]:
    record = _holder(customer.customer.root, is_owner=False)
    record = {
        "id": customer.id,
        **record,
        "other_names": list(customer.other_names),
        "addresses": list(customer.customer.addresses),
        "web": list(customer.web),
    }
    return {k: v for k, v in record.items() if v not in (None, [], {})}


def account_content(account: BookAccount) -> dict[str, Any]:
    return account.record.to_json()


def stored_text(content: dict[str, Any]) -> str:
    """Canonical JSON, with any card number masked (never stored)."""
    text = canonical_json(content)
    return mask_card_numbers(text) if may_hold_card_number(text) else text
