"""The scan sets what its stages made aside from the cyclic collector, and gives it all back."""

from __future__ import annotations

import gc
from datetime import date
from pathlib import Path

from computekyc.bulk import frozen_after_pauses, gc_paused
from computekyc.services import run_scan
from computekyc.settings import Settings

from .conftest import AS_OF


def _made_in_pause() -> list[dict[str, int]]:
    with gc_paused():
        return [{"n": n} for n in range(1000)]


def test_objects_made_in_a_pause_are_frozen_only_within_the_block() -> None:
    gc.unfreeze()  # as a process that froze nothing (an in-process app may have)
    assert gc.get_freeze_count() == 0 and gc.isenabled()
    kept = _made_in_pause()
    assert gc.get_freeze_count() == 0 and gc.isenabled()  # outside: the collector as it was
    try:
        with frozen_after_pauses():
            kept += _made_in_pause()
            assert gc.get_freeze_count() >= 1000 and gc.isenabled()
            with gc_paused(), gc_paused():  # nested: frozen once, when the outer one ends
                assert not gc.isenabled()
            assert gc.isenabled()
        frozen = gc.get_freeze_count()
        kept += _made_in_pause()
        # After the block a pause freezes nothing more (a frozen object that dies leaves the
        # frozen generation: the count may fall, never grow).
        assert gc.get_freeze_count() <= frozen
    finally:
        gc.unfreeze()
    assert len(kept) == 3000


def test_a_scan_gives_the_collector_back_as_it_found_it(
    scan_settings: Settings, provider: Path, lists_dir: Path
) -> None:
    gc.unfreeze()  # the command line: a process that froze nothing
    assert gc.get_freeze_count() == 0 and gc.isenabled()
    run_scan(scan_settings, provider, lists=lists_dir, as_of=date.fromisoformat(AS_OF))
    assert gc.get_freeze_count() == 0 and gc.isenabled()
