"""The 50% engine itself, on hand-built trees: aggregation, chains and look-through shares."""

from __future__ import annotations

from computekyc.ownership import Holder, ListEntry, assess


def sdn(name: str) -> ListEntry:
    return ListEntry(party_id=f"SDN-{name}", source="SDN", name=name, score=1.0)


def holder(name: str, share: float | None, owners: list[Holder] | None = None,
           listed: bool = False) -> Holder:  # fmt: skip
    return Holder(
        name=name, share=share, owners=owners or [], listings=[sdn(name)] if listed else []
    )


def is_sdn(entry: ListEntry) -> bool:
    return entry.source == "SDN"


def test_blocked_intermediate_aggregates_with_a_direct_owner() -> None:
    # A (SDN) owns 100% of B, so B is blocked; B's 30% plus D's (SDN) 25% blocks C.
    b = holder("B", 30, [holder("A", 100, listed=True)])
    c = holder("C", None, [b, holder("D", 25, listed=True)])
    cap = assess(c, is_sdn, 50.0, is_root=True)
    assert cap.captured and cap.aggregate == 55.0
    assert sorted(len(p) for p in cap.paths) == [2, 3]
    assert {e.party_id for e in cap.binding} == {"SDN-A", "SDN-D"}


def test_unblocked_intermediate_passes_only_a_look_through_share() -> None:
    # A owns 49% of B (B not blocked); B owns 100% of C: OFAC does not block C, the
    # look-through 49% is reported for the red flags.
    c = holder("C", None, [holder("B", 100, [holder("A", 49, listed=True)])])
    cap = assess(c, is_sdn, 50.0, is_root=True)
    assert not cap.captured and cap.aggregate == 0.0
    assert cap.effective == 49.0


def test_unknown_share_of_a_blocked_owner_is_kept_apart() -> None:
    c = holder("C", None, [holder("Parent", None, listed=True), holder("E", 20, listed=True)])
    cap = assess(c, is_sdn, 50.0, is_root=True)
    assert not cap.captured and cap.aggregate == 20.0
    assert len(cap.unknown) == 1 and cap.unknown[0][0]["name"] == "Parent"
