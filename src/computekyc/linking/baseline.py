"""The naive baseline: union-find over exact shared keys, no model, no caps.

Two accounts are merged when they share any e-mail address, phone, payment fingerprint, IP or
address exactly. It is what a provider gets from a few SQL joins; the benchmark sets it beside the
Splink linker to show what the model and the frequency caps buy (the NAT and reseller traps).
"""

from __future__ import annotations

from collections.abc import Sequence

from computekyc.linking.cluster import UnionFind
from computekyc.linking.records import AccountRecord


def exact_key_clusters(records: Sequence[AccountRecord]) -> list[list[str]]:
    forest = UnionFind(r.account_id for r in records)
    first_holder: dict[str, str] = {}
    for record in records:
        keys = [f"e:{c.value.lower()}" for c in record.emails]
        keys += [f"p:{''.join(ch for ch in c.value if ch.isdigit())}" for c in record.phones]
        keys += [f"c:{v}" for v in record.payment_fingerprints]
        keys += [f"i:{event.ip}" for event in record.ip_log]
        keys += [f"a:{a.lower()}" for a in record.addresses]
        for key in keys:
            holder = first_holder.setdefault(key, record.account_id)
            if holder != record.account_id:
                forest.union(holder, record.account_id)
    return forest.groups()
