"""The linking run: records → features → Splink + deterministic links → entities → signals,
persisted in a state folder the caller gives (the service layer: ``$COMPUTEKYC_HOME/linking``)
so ids stay stable and ``explain`` can answer."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from computekyc.bulk import gc_paused
from computekyc.exc import NotFoundError
from computekyc.linking.cluster import (
    Entity,
    cluster,
    deterministic_links,
    merge_links,
    probabilistic_links,
)
from computekyc.linking.features import build_features
from computekyc.linking.geoip import GeoIP, GeoIPNotFound, open_geoip
from computekyc.linking.model import MATCH_THRESHOLD, Engine, predict, train
from computekyc.linking.records import AccountInputError, AccountRecord, load_accounts
from computekyc.linking.signals import attach_signals

STATE_DIR = "linking"


@dataclass(slots=True)
class LinkResult:
    entities: list[Entity]
    model: dict[str, Any]
    shared_infrastructure: dict[str, dict[str, int]]  # feature → capped value → accounts
    geoip: dict[str, str] | None
    timings: dict[str, float] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        multi = [e for e in self.entities if len(e.accounts) > 1]
        return {
            "accounts": sum(len(e.accounts) for e in self.entities),
            "entities": len(self.entities),
            "multi_account_entities": len(multi),
            "signals": dict(
                sorted(_count(s["kind"] for e in self.entities for s in e.signals).items())
            ),
            "shared_infrastructure_values": {
                k: len(v) for k, v in self.shared_infrastructure.items()
            },
            # The most shared values per feature: what the caps kept out of the model.
            "shared_infrastructure_top": {
                k: dict(sorted(v.items(), key=lambda kv: (-kv[1], kv[0]))[:10])
                for k, v in self.shared_infrastructure.items()
            },
            "ip_database": self.geoip,
            "timings_s": {k: round(v, 2) for k, v in self.timings.items()},
        }


def _count(items: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for item in items:
        out[item] = out.get(item, 0) + 1
    return out


def state_dir(home: Path) -> Path:
    """The linking state folder of a computekyc home (made on demand)."""
    path = home / STATE_DIR
    path.mkdir(parents=True, exist_ok=True)
    return path


def previous_assignment(state: Path) -> dict[str, str]:
    """account_id → entity_id of the last run persisted in ``state`` (empty on the first run)."""
    path = state / "assignments.parquet"
    if not path.is_file():
        return {}
    table = pq.read_table(path, columns=["account_id", "entity_id"])
    return dict(
        zip(
            table.column("account_id").to_pylist(),
            table.column("entity_id").to_pylist(),
            strict=True,
        )
    )


def link_accounts(
    records: Sequence[AccountRecord],
    engine: Engine = "duckdb",
    usage: Mapping[str, float] | None = None,
    geoip: GeoIP | None = None,
    previous: Mapping[str, str] | None = None,
    threshold: float = MATCH_THRESHOLD,
) -> LinkResult:
    """Link accounts into entities. Pure: reads and writes no state (see :func:`run`)."""
    with gc_paused():
        return _link(records, engine, usage, geoip, previous, threshold)


def _link(
    records: Sequence[AccountRecord],
    engine: Engine,
    usage: Mapping[str, float] | None,
    geoip: GeoIP | None,
    previous: Mapping[str, str] | None,
    threshold: float,
) -> LinkResult:
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = now - clock
        clock = now

    features = build_features(records)
    lap("features")
    model = train(features)
    lap("train")
    # One account (or none) has no pair to score.
    pairs = predict(features, model, engine, threshold) if len(records) > 1 else []
    features.arrow = None  # Splink is done with it: free it before clustering and signals
    lap("predict")
    links = merge_links(deterministic_links(features), probabilistic_links(features, pairs))
    # Past this point only the account ids and the capped values are read. Dropping the scored
    # pairs and the feature columns (over 1 GB at a million accounts) lets clustering and signals
    # reuse that memory instead of growing the peak past it.
    del pairs
    account_ids, capped = features.account_ids, features.capped
    del features
    entities = cluster(account_ids, links, previous or {})
    del links, account_ids
    lap("cluster")
    by_id = {r.account_id: r for r in records}
    attach_signals(entities, by_id, usage, geoip)
    lap("signals")
    return LinkResult(
        entities,
        model,
        capped,
        geoip.source.describe() if geoip is not None else None,
        timings,
    )


def persist(result: LinkResult, folder: Path) -> Path:
    """Write the run into the state folder: entities (JSON Lines), account → entity with the
    byte offset of its entity's line (for ``explain``), the model and a summary."""
    folder.mkdir(parents=True, exist_ok=True)
    accounts: list[str] = []
    entity_ids: list[str] = []
    offsets: list[int] = []
    tmp = folder / "entities.jsonl.tmp"
    with tmp.open("wb") as handle:
        for entity in result.entities:
            offset = handle.tell()
            handle.write(json.dumps(entity.to_json(), ensure_ascii=False).encode("utf-8") + b"\n")
            accounts.extend(entity.accounts)
            entity_ids.extend([entity.entity_id] * len(entity.accounts))
            offsets.extend([offset] * len(entity.accounts))
    tmp.replace(folder / "entities.jsonl")
    table = pa.table(
        {"account_id": accounts, "entity_id": entity_ids, "offset": pa.array(offsets, pa.int64())}
    )
    pq.write_table(table, folder / "assignments.parquet")
    (folder / "model.json").write_text(json.dumps(result.model, indent=1), encoding="utf-8")
    (folder / "last_run.json").write_text(
        json.dumps(result.summary(), indent=1, default=str), encoding="utf-8"
    )
    return folder


def run(
    accounts_path: Path | str,
    state: Path,
    engine: Engine = "duckdb",
    usage: Mapping[str, float] | None = None,
    geoip_dir: Path | str | None = None,
    save: bool = True,
) -> LinkResult:
    """Load a file, link against the ids of the previous run persisted in ``state``, persist
    there. IP geography is skipped (and said so in the summary) only when no IP→country
    database can be found."""
    records = load_accounts(accounts_path)
    if not records:
        source = "<stdin>" if str(accounts_path) == "-" else str(accounts_path)
        raise AccountInputError(source, 0, "<file>", "holds no account records")
    try:
        geoip: GeoIP | None = open_geoip(geoip_dir)
    except GeoIPNotFound:
        if geoip_dir is not None:
            raise
        geoip = None
    result = link_accounts(records, engine, usage, geoip, previous_assignment(state))
    if save:
        persist(result, state)
    return result


class NotLinked(NotFoundError):
    pass


def explain(account_id: str, folder: Path) -> dict[str, Any]:
    """Why ``account_id`` belongs to its entity, from the last run persisted in ``folder``: the
    entity, the chain of links from this account to every other member, with evidence and
    probability."""
    path = folder / "assignments.parquet"
    if not path.is_file():
        raise NotLinked("no persisted linking run: run `computekyc link --accounts FILE` first")
    table = pq.read_table(path, filters=[("account_id", "=", account_id)])
    if table.num_rows == 0:
        raise NotLinked(f"account {account_id!r} was not in the last linking run")
    offset = table.column("offset")[0].as_py()
    with (folder / "entities.jsonl").open("rb") as handle:
        handle.seek(offset)
        entity = json.loads(handle.readline())
    # Breadth-first from the account: the links that connect it to each other member.
    adjacency: dict[str, list[dict[str, Any]]] = {}
    for link in entity["links"]:
        adjacency.setdefault(link["a"], []).append(link)
        adjacency.setdefault(link["b"], []).append(link)
    reached, frontier, path_links = {account_id}, [account_id], []
    while frontier:
        nxt = []
        for node in frontier:
            for link in adjacency.get(node, []):
                other = link["b"] if link["a"] == node else link["a"]
                if other not in reached:
                    reached.add(other)
                    nxt.append(other)
                    path_links.append(link)
        frontier = nxt
    return {
        "account_id": account_id,
        "entity_id": entity["entity_id"],
        "accounts": entity["accounts"],
        "alone": len(entity["accounts"]) == 1,
        "links": path_links,
        "signals": entity["signals"],
    }
