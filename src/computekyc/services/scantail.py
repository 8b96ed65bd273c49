"""What a scan keeps beside its transaction: the screening register behind ``report screening``
and the memos of its last scan (name keys, determinations, drafts).

All of it depends on the transaction (the scan's id and book revision) and is kept only once it
committed. :func:`scan_tail` starts it before the transaction: on the command line a forked
process makes the register's rows and the kept determinations while this one writes, writes the
files under temporary names once the transaction tells the ids (:meth:`AfterCommit.send`), and
puts them in place when it committed (:meth:`AfterCommit.commit`) — or removes them when it did
not. Without a fork (a server), or when the child failed, ``commit`` makes them here in order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from computekyc.alerts import AlertDraft
from computekyc.bulk import AfterCommit, Prepickled, Staged, StagedFile, after_commit
from computekyc.services.reports import (
    RegisterEntries,
    keep_register,
    register_kept,
    stage_register,
    stage_register_delta,
)
from computekyc.services.scanmemo import (
    KeptDetermination,
    RegisterBase,
    ScanMemo,
    code_digest,
    forget_memo,
    stage_determinations_memo,
    stage_memo,
)
from computekyc.settings import Settings

# Whether a subject (kind, id, its customer's id) may keep the rows of the register referred
# to: see ``register_entries``.
SubjectStands = Callable[[str, str, str | None], bool]
# At most so many register files are read to read one (then a scan keeps every row again).
MAX_REGISTER_DEPTH = 6


@dataclass(frozen=True, slots=True)
class TailFacts:
    """What the transaction tells the work beside it: the scan's id and book revision, and the
    alert drafts it synchronised (raised after the work was started)."""

    scan_id: int
    book_revision: int
    drafts: list[AlertDraft]


@dataclass(frozen=True, slots=True)
class ScanTail:
    """What the end of a scan keeps; the callables run where the files are made (a forked
    process on the command line), after the scan's objects are complete."""

    settings: Settings
    provider: str
    started: str
    snapshot: str
    context: str  # what the kept determinations were made under (date, rules, code)
    # The register's rows by subject (``scan_id`` 0: given it once known), a subject whose rows
    # stand in the register referred to (see ``SubjectStands``) by its key only.
    register: Callable[[SubjectStands | None], RegisterEntries]
    # The last scan's register, and whether a subject's record and its customer's
    # determinations are those that register was made of.
    register_base: RegisterBase | None
    record_stands: SubjectStands
    kept_determinations: Callable[[], Iterable[tuple[str, KeptDetermination]]]
    memo: Callable[[], ScanMemo]  # the ids, ``computed_by`` and the drafts given later
    # The name keys (a cache of its own, checked on load): what to write decided when asked,
    # written by the function returned.
    save_names: Callable[[], Callable[[], None]]
    # The provider folder is as it was scanned (asked once the transaction told its ids: a
    # folder changed meanwhile keeps no memo).
    folder_unchanged: Callable[[], bool]

    def _base(self) -> RegisterBase | None:
        """The last scan's register when this one may refer to it."""
        base = self.register_base
        if base is None or base.code != code_digest() or base.depth >= MAX_REGISTER_DEPTH:
            return None
        return base if register_kept(self.settings, base.scan_id) else None

    def prepare(self) -> Callable[[TailFacts], Staged]:
        base = self._base()
        if base is None:
            made = self.register(None)
        else:
            hit_before, record_stands = base.hit_subjects, self.record_stands

            def stands(kind: str, subject_id: str, customer_id: str | None) -> bool:
                return f"{kind}\t{subject_id}" not in hit_before and record_stands(
                    kind, subject_id, customer_id
                )

            made = self.register(stands)
        # Pickled while the transaction runs: most of the determinations memo's writing.
        kept = Prepickled(dict(self.kept_determinations()))
        memo = self.memo()
        write_names = self.save_names()

        def stage(facts: TailFacts) -> Staged:
            scan_id = facts.scan_id
            staged = _Files(self, scan_id, write_names)
            try:
                if base is None:
                    rows = made.rows()
                    staged.register = stage_register(self.settings, scan_id, self.started, rows)
                else:
                    staged.register = stage_register_delta(
                        self.settings, scan_id, self.started, base.scan_id, made
                    )
                register = RegisterBase(
                    scan_id,
                    1 if base is None else base.depth + 1,
                    code_digest(),
                    frozenset(made.hit_subjects),
                )
                staged.determinations = stage_determinations_memo(
                    self.settings, self.provider, scan_id, self.snapshot, self.context, kept
                )
                if self.folder_unchanged():
                    staged.memo = stage_memo(
                        self.settings,
                        self.provider,
                        replace(
                            memo,
                            scan_id=scan_id,
                            book_revision=facts.book_revision,
                            drafts=facts.drafts,
                            computed_by=scan_id,
                            register=register,
                        ),
                    )
            except BaseException:
                staged.drop()
                raise
            return staged

        return stage


@dataclass(slots=True)
class _Files:
    """The staged files of one scan's tail."""

    tail: ScanTail
    scan_id: int
    write_names: Callable[[], None]
    register: StagedFile | None = None
    determinations: StagedFile | None = None
    memo: StagedFile | None = None

    def _all(self) -> list[StagedFile]:
        return [f for f in (self.register, self.determinations, self.memo) if f is not None]

    def keep(self) -> None:
        try:
            assert self.register and self.determinations
            keep_register(self.register, self.scan_id)
            self.write_names()
            self.determinations.keep()
            if self.memo is not None:
                self.memo.keep()
            else:  # the folder changed while it was scanned: no shortcut for the next scan
                forget_memo(self.tail.settings, self.tail.provider)
        except BaseException:
            self.drop()
            raise

    def drop(self) -> None:
        for staged in self._all():
            staged.drop()


def scan_tail(tail: ScanTail, fork: bool) -> AfterCommit[TailFacts]:
    """Start the tail (see the module docstring); ``send`` it the ids from inside the
    transaction, ``commit`` it after; leaving a ``with`` block on it by an error abandons it."""
    return after_commit(tail.prepare, fork)
