"""A snapshot's parties read with the help of an earlier snapshot's equal those read plainly."""

from __future__ import annotations

import shutil
from pathlib import Path

from computekyc.lists import Party
from computekyc.lists.store import ListStore


def _older_mirror(lists_dir: Path, target: Path) -> Path:
    """The mirror with 200 SDN entries fewer and one entry's remarks changed."""
    shutil.copytree(lists_dir, target)
    sdn = target / "ofac" / "sdn.csv"
    sdn.chmod(0o644)
    lines = sdn.read_bytes().split(b"\n")
    kept = lines[:1000] + lines[1200:]
    kept[10] = kept[10].replace(b',"', b',"X', 1)  # another name
    sdn.write_bytes(b"\n".join(kept))
    return target


def test_parties_reusing_an_earlier_snapshot(lists_dir: Path, tmp_path: Path) -> None:
    store = ListStore.open(f"sqlite:///{tmp_path / 'lists.db'}")
    try:
        first = store.load_mirror(_older_mirror(lists_dir, tmp_path / "older")).snapshot.id
        second = store.load_mirror(lists_dir).snapshot.id
        earlier = store.parties(first)
        plain = store.parties(second)
        reused = store.parties(second, earlier=(first, earlier))
        assert reused == plain
        assert [p.party_id for p in reused] == [p.party_id for p in plain]
        by_id = {p.party_id: p for p in earlier}

        def taken(parties: list[Party]) -> int:
            return sum(
                p.party_id in by_id and p.programs is by_id[p.party_id].programs for p in parties
            )

        # All but the 200 new and the one changed were taken (many with a new line number).
        assert taken(reused) == len(plain) - 201
        assert sum(p is by_id.get(p.party_id) for p in reused) < taken(reused)
        # Parties that are not the earlier snapshot's (in another order): none is taken.
        shuffled = store.parties(second, earlier=(first, earlier[::-1]))
        assert shuffled == plain and taken(shuffled) == 0
    finally:
        store.close()
