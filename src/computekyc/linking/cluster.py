"""Links → entities: deterministic evidence, union-find clustering, stable entity ids, evidence.

Stable ids: an entity keeps the id that the majority of its members had in the previous run; when
a previous entity splits, the part holding most of its members keeps the id. A new entity gets
``E-`` + a hash of its smallest member account id, so re-running on unchanged evidence reproduces
every id and a new account joining an entity never renames it.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import numpy as np
import numpy.typing as npt

from computekyc.linking.features import Features, identifying_ip
from computekyc.linking.model import ScoredPair

# Feature → the words an analyst reads in the evidence.
EVIDENCE_KIND = {
    "name_norm": "similar_name",
    "country": "same_country",
    "email_locals": "shared_email_local_part",
    "corp_domains": "shared_corporate_email_domain",
    "phones": "shared_phone",
    "ips": "shared_ip",
    "addresses": "shared_address",
    "owners": "shared_beneficial_owner",
    "payments": "shared_payment_fingerprint",
}
VERIFIED_CAP = 12  # a verified contact on more accounts than this is a reseller's, not an identity
# An administrator IP is an operator's own only while few accounts administer from it; more is a
# shared office, VPN exit or NAT (the model still weighs it, capped).
ADMIN_IP_CAP = 4

Ints = npt.NDArray[np.int64]


@dataclass(slots=True)
class Link:
    a: str
    b: str
    probability: float
    evidence: list[dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        return {
            "a": self.a,
            "b": self.b,
            "probability": round(self.probability, 6),
            "evidence": self.evidence,
        }


@dataclass(slots=True)
class Entity:
    entity_id: str
    accounts: list[str]
    links: list[Link]
    signals: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "entity_id": self.entity_id,
            "accounts": self.accounts,
            "links": [link.to_json() for link in self.links],
            "signals": self.signals,
        }


class UnionFind:
    def __init__(self, items: Iterable[str]) -> None:
        self.parent = {item: item for item in items}

    def find(self, item: str) -> str:
        root = item
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[item] != root:  # path compression
            self.parent[item], item = root, self.parent[item]
        return root

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            # The smaller id becomes the root: the result does not depend on edge order.
            if rb < ra:
                ra, rb = rb, ra
            self.parent[rb] = ra

    def groups(self) -> list[list[str]]:
        out: dict[str, list[str]] = defaultdict(list)
        for item in self.parent:
            out[self.find(item)].append(item)
        return [sorted(members) for members in out.values()]


def _billing_related(features: Features, rows: Sequence[int]) -> bool:
    """Some of the accounts pay for others or share a payer: a reseller and its customers, whose
    accounts the reseller sets up from its own office."""
    ids = {features.account_ids[i] for i in rows}
    payers = [features.billing[i] for i in rows if features.billing[i]]
    return len(set(payers)) < len(payers) or any(p in ids for p in payers)


def deterministic_links(features: Features) -> list[Link]:
    """Strong keys: same payment fingerprint, same verified identifier (verified e-mail/phone,
    customer record), or same administrator IP (public, outside cloud/NAT ranges, used by at
    most ``ADMIN_IP_CAP`` accounts not billed through one another): certain links, drawn as a
    star from the smallest account id."""
    holders: dict[str, list[int]] = defaultdict(list)
    for i, values in enumerate(features.arrays["payments"]):
        for value in values or ():
            holders[f"payment_fingerprint:{value}"].append(i)
    for i, keys in enumerate(features.verified):
        for key in keys:
            holders[f"verified_{key}"].append(i)
    for i, ips in enumerate(features.admin_ips):
        for ip in ips:
            holders[f"admin_ip:{ip}"].append(i)
    links: dict[tuple[str, str], Link] = {}
    ids = features.account_ids
    for key, rows in holders.items():
        if len(rows) < 2:
            continue
        if key.startswith("admin_ip:"):
            ip = key.partition(":")[2]
            if (
                len(rows) > ADMIN_IP_CAP
                or ip in features.capped.get("ips", {})
                or not identifying_ip(ip)
                or _billing_related(features, rows)
            ):
                continue
        elif not key.startswith("verified_customer_id") and len(rows) > VERIFIED_CAP:
            continue
        kind, _, value = key.partition(":")
        members = sorted(ids[i] for i in rows)
        for other in members[1:]:
            link = links.setdefault((members[0], other), Link(members[0], other, 1.0, []))
            link.evidence.append({"kind": f"same_{kind}", "value": value, "deterministic": True})
    return list(links.values())


def probabilistic_links(features: Features, pairs: Sequence[ScoredPair]) -> list[Link]:
    """Splink's pairs with what the two accounts actually share and each feature's Bayes factor."""
    index = {account: i for i, account in enumerate(features.account_ids)}
    links = []
    for pair in pairs:
        i, j = index[pair.a], index[pair.b]
        evidence: list[dict[str, Any]] = []
        for column, weight in sorted(pair.weights.items(), key=lambda kv: -kv[1]):
            if weight <= 0.0:
                continue  # only what speaks for the link; the probability already nets the rest
            item: dict[str, Any] = {
                "kind": EVIDENCE_KIND.get(column, column),
                "match_weight_bits": round(weight, 2),
            }
            if column in features.arrays:
                left, right = features.arrays[column][i] or [], features.arrays[column][j] or []
                item["values"] = sorted(set(left) & set(right))
            elif column == "name_norm":
                item["values"] = [features.name_norm[i], features.name_norm[j]]
            elif column == "country":
                item["values"] = [features.country[i]]
            evidence.append(item)
        evidence.append({"kind": "splink_match_weight", "value": round(pair.match_weight, 3)})
        links.append(Link(pair.a, pair.b, pair.probability, evidence))
    return links


def merge_links(*groups: Iterable[Link]) -> list[Link]:
    """One link per pair: the highest probability, with the evidence of every source."""
    merged: dict[tuple[str, str], Link] = {}
    for group in groups:
        for link in group:
            key = (link.a, link.b)
            if key in merged:
                held = merged[key]
                held.evidence = held.evidence + link.evidence
                held.probability = max(held.probability, link.probability)
            else:
                merged[key] = Link(link.a, link.b, link.probability, list(link.evidence))
    return sorted(merged.values(), key=lambda link: (link.a, link.b))


def new_entity_id(members: Sequence[str]) -> str:
    return "E-" + hashlib.sha1(min(members).encode("utf-8")).hexdigest()[:12]


def assign_ids(groups: Sequence[Sequence[str]], previous: Mapping[str, str]) -> list[str]:
    """Entity id per group, keeping previous ids where the evidence did not change."""
    candidates: list[tuple[int, str, int, str]] = []  # (-count, min member, group, old id)
    for g, members in enumerate(groups):
        votes = Counter(previous[m] for m in members if m in previous)
        for old, count in votes.items():
            candidates.append((-count, min(members), g, old))
    candidates.sort()
    ids: list[str | None] = [None] * len(groups)
    taken: set[str] = set()
    for _, _, g, old in candidates:
        if ids[g] is None and old not in taken:
            ids[g] = old
            taken.add(old)
    taken_all = taken | set(previous.values())
    out: list[str] = []
    for g, members in enumerate(groups):
        entity_id = ids[g]
        if entity_id is None:
            entity_id = new_entity_id(members)
            salt = 1
            while entity_id in taken_all:  # an old id of a different entity: never reuse it
                entity_id = f"{new_entity_id(members)}-{salt}"
                salt += 1
            taken_all.add(entity_id)
        out.append(entity_id)
    return out


def components(n: int, left: Ints, right: Ints) -> Ints:
    """Connected components of ``n`` nodes joined by edges ``left[k]–right[k]``: per node, the
    smallest node index of its component. Min-label propagation with pointer jumping over numpy
    arrays (a few passes for the small, shallow entities linking produces), instead of a
    Python-level union-find over a million string ids."""
    labels = np.arange(n, dtype=np.int64)
    if len(left) == 0:
        return labels
    while True:
        low = np.minimum(labels[left], labels[right])
        before = labels.copy()
        np.minimum.at(labels, left, low)
        np.minimum.at(labels, right, low)
        labels = labels[labels]  # pointer jumping: follow each label to its own label
        if np.array_equal(labels, before):
            return labels


def cluster(
    account_ids: Sequence[str], links: Sequence[Link], previous: Mapping[str, str]
) -> list[Entity]:
    # Index accounts in id order, so a component's smallest index is its smallest account id and
    # members come out sorted without a per-group sort.
    ordered = sorted(account_ids)
    index = {account: i for i, account in enumerate(ordered)}
    left = np.fromiter((index[link.a] for link in links), np.int64, len(links))
    right = np.fromiter((index[link.b] for link in links), np.int64, len(links))
    labels = components(len(ordered), left, right)
    order = np.argsort(labels, kind="stable")  # stable: members stay in id order
    cuts = [0, *(np.flatnonzero(np.diff(labels[order])) + 1).tolist(), len(ordered)]
    members = [ordered[i] for i in order.tolist()]
    # Groups come out ordered by their smallest member, as sorting the groups would order them.
    groups = [members[start:end] for start, end in pairwise(cuts) if end > start]
    ids = assign_ids(groups, previous)
    by_root: dict[int, list[Link]] = defaultdict(list)
    for link, root in zip(links, labels[left].tolist(), strict=True):
        by_root[root].append(link)
    return [
        Entity(entity_id, group, by_root.get(index[group[0]], []))
        for entity_id, group in zip(ids, groups, strict=True)
    ]
