"""One customer for several chips at once answers exactly as one determination per chip.

``determine_items`` builds a tree once and evaluates the rules that do not depend on the chip
once, where building the tree again could not change it; elsewhere it determines chip by chip.
Each case compares it with :func:`determine` called once per chip on a fresh reading of the
record (the tree building fills in what the screener and the graph know).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from computekyc.ownership import (
    ExactScreener,
    Item,
    OwnershipGraph,
    RuleSet,
    determine,
    determine_items,
    parse_customer,
)

from .test_determinations import AFSARI, ZALA, owned, singapore_with_chinese_parent

ON = date(2026, 7, 1)

CASES: dict[str, dict[str, Any]] = {
    "plain": owned("Harbour Analytics Pte Ltd", [{"name": "Mei Tan", "type": "individual",
                                                  "country": "SG", "share": 80}],
                   directors=["Mei Tan"]),
    "chinese parent": singapore_with_chinese_parent(),
    "listed owner": owned("Gulf GPU Cloud FZE", [{"name": ZALA, "country": "RU", "share": 60}]),
    "entity list owner": owned("Desert Compute LLC", [{"name": AFSARI, "share": 55}]),
    "listed customer": owned(ZALA, [], country="RU", headquarters_country="RU"),
    "person": {"id": "p1", "name": "Ivan Petrov", "type": "individual", "country": "RU"},
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("with_graph", [False, True])
def test_determine_items_equals_determine_per_item(
    case: str,
    with_graph: bool,
    exact: ExactScreener,
    rules: RuleSet,
    graph: OwnershipGraph,
    h100: Item,
    h20: Item,
    l20: Item,
) -> None:
    items = [h100, h20, l20]
    record = CASES[case]
    known = graph if with_graph else None
    together = determine_items(parse_customer(record), items, ON, exact, rules, known)
    one_by_one = []
    customer = parse_customer(record)  # one reading for every chip, as a scan has
    for item in items:
        one_by_one.append(determine(customer, item, ON, exact, rules, known))
    assert [d.to_dict() for d in together] == [d.to_dict() for d in one_by_one]
