"""Precision, recall and F1 of the pairwise matcher on a labelled CSV of name pairs."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from computekyc.exc import InputError
from computekyc.screening.scoring import DEFAULT_THRESHOLD, compare

_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f"}


class PairFileError(InputError, ValueError):
    """The pairs file cannot be used at all (missing file or columns)."""


@dataclass(frozen=True, slots=True)
class ScoredPair:
    line: int
    name1: str
    name2: str
    is_match: bool
    score: float


@dataclass(slots=True)
class PairEvaluation:
    threshold: float
    pairs: list[ScoredPair] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # "file:line: field: message"

    def counts(self, threshold: float | None = None) -> dict[str, int]:
        t = self.threshold if threshold is None else threshold
        tp = sum(1 for p in self.pairs if p.is_match and p.score >= t)
        fp = sum(1 for p in self.pairs if not p.is_match and p.score >= t)
        fn = sum(1 for p in self.pairs if p.is_match and p.score < t)
        return {"tp": tp, "fp": fp, "fn": fn, "tn": len(self.pairs) - tp - fp - fn}

    def metrics(self, threshold: float | None = None) -> dict[str, float]:
        c = self.counts(threshold)
        precision = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 0.0
        recall = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return {"precision": precision, "recall": recall, "f1": f1}

    def to_dict(self) -> dict[str, Any]:
        m = self.metrics()
        return {
            "n": len(self.pairs),
            "precision": round(m["precision"], 4),
            "recall": round(m["recall"], 4),
            "f1": round(m["f1"], 4),
            "threshold": self.threshold,
        }


def evaluate_pairs(
    path: str | Path, threshold: float | None = None, text: str | None = None
) -> PairEvaluation:
    """Score every ``name1,name2,is_match`` row; malformed rows are reported, not fatal.

    ``text``: the file's content, already read and decoded by the caller (messages still name
    ``path``)."""
    path = Path(path)
    result = PairEvaluation(DEFAULT_THRESHOLD if threshold is None else threshold)
    try:
        handle = (
            io.StringIO(text, newline="")
            if text is not None
            else path.open(newline="", encoding="utf-8-sig")
        )
    except OSError as exc:
        raise PairFileError(f"{path}: cannot read: {exc.strerror}") from exc
    with handle:
        reader = csv.DictReader(handle)
        missing = {"name1", "name2", "is_match"} - set(reader.fieldnames or [])
        if missing:
            raise PairFileError(f"{path}:1: header lacks column(s) {', '.join(sorted(missing))}")
        for row in reader:
            line = reader.line_num
            name1, name2 = (row.get("name1") or "").strip(), (row.get("name2") or "").strip()
            label = (row.get("is_match") or "").strip().lower()
            if not name1 or not name2:
                result.problems.append(f"{path}:{line}: name1/name2: empty name")
                continue
            if label not in _TRUE | _FALSE:
                result.problems.append(f"{path}:{line}: is_match: {label!r} is not true/false")
                continue
            score = compare(name1, name2).score
            result.pairs.append(ScoredPair(line, name1, name2, label in _TRUE, score))
    return result
