"""Accuracy of a clustering against planted ground truth: pairwise and cluster-level."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass


@dataclass(frozen=True, slots=True)
class Accuracy:
    pairwise_precision: float
    pairwise_recall: float
    pairwise_f1: float
    cluster_precision: float  # predicted multi-account clusters that equal a true entity
    cluster_recall: float  # true multi-account entities reproduced exactly
    cluster_f1: float
    true_pairs: int
    predicted_pairs: int

    def as_dict(self) -> dict[str, float | int]:
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in asdict(self).items()}


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def accuracy(clusters: Iterable[Sequence[str]], truth: Mapping[str, str]) -> Accuracy:
    """Compare predicted clusters of account ids with ``truth`` (account id → entity label)."""
    predicted = [list(c) for c in clusters]
    truth_groups: dict[str, set[str]] = defaultdict(set)
    for account, label in truth.items():
        truth_groups[label].add(account)
    tp = sum(
        _pairs(n) for members in predicted for n in Counter(truth[a] for a in members).values()
    )
    pred_pairs = sum(_pairs(len(c)) for c in predicted)
    true_pairs = sum(_pairs(len(g)) for g in truth_groups.values())
    precision = tp / pred_pairs if pred_pairs else 1.0
    recall = tp / true_pairs if true_pairs else 1.0
    true_sets = {frozenset(g) for g in truth_groups.values() if len(g) > 1}
    pred_sets = {frozenset(c) for c in predicted if len(c) > 1}
    exact = len(true_sets & pred_sets)
    c_precision = exact / len(pred_sets) if pred_sets else 1.0
    c_recall = exact / len(true_sets) if true_sets else 1.0
    return Accuracy(
        precision,
        recall,
        _f1(precision, recall),
        c_precision,
        c_recall,
        _f1(c_precision, c_recall),
        true_pairs,
        pred_pairs,
    )
