"""The probabilistic linkage model (Splink 5): settings, seeded training, prediction per engine.

Parameters
----------
- ``u`` (how often a level occurs between two unrelated accounts) is estimated by Splink's random
  sampling, seeded, always on DuckDB: the same input gives the same model whatever engine then
  predicts, which is why DuckDB and Spark give the same clusters. Levels never seen in the sample
  get ``u = 0.5 / pairs sampled`` (half an observation), not zero. For the array features (shared
  IP, phone, address, owner, card, e-mail local part, corporate domain) the "shares a value" u is
  then counted exactly from value frequencies (:func:`_array_u`).
- ``m`` (how often a level occurs between two accounts of one entity) is set as a prior, because
  unsupervised EM learns the *easy* duplicates (honest teams sharing name, domain and card) and
  would teach the model that evasive accounts — varied names, free-mail, fresh cards — are not
  matches. The priors say: one entity's accounts reuse operational details (admin IP, phone,
  owner, address) about half the time, and names, e-mails and cards only about a third of it.
- ``λ`` (two random accounts are one entity) is estimated from the pairs that share a card or a
  phone, scaled by the share of true pairs the m priors say share one (0.65); floored at "one
  account in ten has a sibling".

Small books
-----------
A book of fewer than ``MIN_TRAIN_ACCOUNTS`` (1,000) accounts — under half a million pairs — is too
small to estimate u by sampling: most levels would rest on a handful of observed pairs (or none:
0, 1 or 3 accounts have 0, 0 and 3 pairs), and the model would learn that nothing is rare. Such a
book is scored with prior u probabilities instead, learned once on a large generated population
(:mod:`computekyc.linking.generate`) and shipped as ``data/priors.json``
(:func:`learn_priors`, ``scripts/linking_priors.py`` regenerates it). λ is then the "one account
in ten has a sibling" floor.

Term-frequency adjustment weights an exact name match by how rare the name is ("wang wei" counts
for little); shared-infrastructure values are capped away before the model sees them (features.py).
"""

from __future__ import annotations

import atexit
import json
import logging
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import duckdb
import pyarrow as pa
from splink import DuckDBAPI, Linker, SettingsCreator, block_on
from splink import comparison_library as cl
from splink.internals.blocking_rule_creator import BlockingRuleCreator
from splink.internals.comparison_creator import ComparisonCreator

from computekyc.linking.features import ARRAY_FEATURES, Features
from computekyc.spark import spark_session

Engine = Literal["duckdb", "spark"]
SEED = 20260625
U_PAIRS = 3e6
MATCH_THRESHOLD = 0.95
DUCKDB_MEMORY_LIMIT = "600MB"
# Fewer accounts than this (under ~500,000 pairs) are scored with the shipped prior u.
MIN_TRAIN_ACCOUNTS = 1000
PRIOR_POPULATION = 50_000
PRIOR_SEED = 20260701

# m priors per comparison, levels in order (exact/most similar first, "else" last; no null).
M_PRIORS: dict[str, list[float]] = {
    "name_norm": [0.35, 0.10, 0.10, 0.45],
    "email_locals": [0.35, 0.65],
    "corp_domains": [0.40, 0.60],
    "phones": [0.50, 0.50],
    "ips": [0.15, 0.45, 0.40],
    "addresses": [0.40, 0.60],
    "owners": [0.50, 0.50],
    "payments": [0.30, 0.70],
    "country": [0.75, 0.25],
}


def settings(lam: float, u: dict[str, list[float]] | None = None) -> SettingsCreator:
    """Splink settings built by its comparison creators, so every engine gets SQL in its own
    dialect; ``u`` (per comparison, non-null levels in order) comes from :func:`train`."""
    u = u or {}

    def params(key: str) -> dict[str, Any]:
        out: dict[str, Any] = {"m_probabilities": M_PRIORS[key]}
        if key in u:
            out["u_probabilities"] = u[key]
        return out

    comparisons: list[ComparisonCreator | dict[str, Any]] = [
        cl.JaroWinklerAtThresholds("name_norm", [0.95, 0.88]).configure(
            term_frequency_adjustments=True, **params("name_norm")
        ),
        cl.ExactMatch("country").configure(**params("country")),
    ]
    for key in ARRAY_FEATURES:
        sizes = [2, 1] if key == "ips" else [1]
        comparisons.append(cl.ArrayIntersectAtSizes(key, sizes).configure(**params(key)))
    rules: list[BlockingRuleCreator | dict[str, Any]] = [block_on("name_block")]
    rules += [block_on(key, arrays_to_explode=[key]) for key in ARRAY_FEATURES]
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="account_id",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=rules,
        probability_two_random_records_match=lam,
        retain_intermediate_calculation_columns=True,
        retain_matching_columns=False,
    )


def to_arrow(features: Features) -> pa.Table:
    """The features as an Arrow table, converted once per run (seconds at a million rows)."""
    if features.arrow is not None:
        return features.arrow
    columns = features.columns()
    schema = pa.schema(
        [
            ("account_id", pa.string()),
            ("name_norm", pa.string()),
            ("name_block", pa.string()),
            ("country", pa.string()),
            *[(key, pa.list_(pa.string())) for key in ARRAY_FEATURES],
        ]
    )
    features.arrow = pa.table(columns, schema=schema)
    return features.arrow


@lru_cache(maxsize=1)
def priors() -> dict[str, Any]:
    """The shipped prior u probabilities and what they were learned on."""
    text = resources.files("computekyc.linking").joinpath("data", "priors.json")
    data: dict[str, Any] = json.loads(text.read_text(encoding="utf-8"))
    return data


def prior_model(n: int) -> dict[str, Any]:
    """The model of a book too small to train on: prior u, m priors, the λ floor."""
    shipped = priors()
    return {
        "lambda": _lambda_floor(n),
        "m": M_PRIORS,
        "u": shipped["u"],
        "u_source": "priors",
        "u_priors_learned_on": shipped["learned_on"],
        "min_train_accounts": MIN_TRAIN_ACCOUNTS,
    }


def learn_priors(
    n: int = PRIOR_POPULATION, seed: int = PRIOR_SEED, geoip_dir: Path | str | None = None
) -> dict[str, Any]:
    """Prior u probabilities learned on a generated population of ``n`` accounts."""
    from computekyc.linking.features import build_features
    from computekyc.linking.generate import generate
    from computekyc.linking.records import parse_record

    records = [parse_record(p.record) for p in generate(n, seed, geoip_dir)]
    trained = train(build_features(records))
    return {
        "u": trained["u"],
        "learned_on": {"generator": "computekyc.linking.generate", "accounts": n, "seed": seed},
    }


def write_priors(path: Path, **kwargs: Any) -> dict[str, Any]:
    learned = learn_priors(**kwargs)
    path.write_text(json.dumps(learned, indent=1) + "\n", encoding="utf-8")
    return learned


def train(features: Features) -> dict[str, Any]:
    """Model parameters ``{"lambda", "m", "u"}`` (seeded; same input → same model); the
    shipped priors for a book of fewer than ``MIN_TRAIN_ACCOUNTS`` accounts."""
    n = len(features.account_ids)
    if n < MIN_TRAIN_ACCOUNTS:
        return prior_model(n)
    pairs = min(U_PAIRS, max(n * (n - 1) / 2, 1))
    with _duckdb_api() as db_api:
        frame = db_api.register(to_arrow(features), table_name="accounts_train")
        linker = Linker(frame, settings(_lambda_floor(n)), log_level=logging.WARNING)
        # λ from the data: pairs sharing a (non-capped) card or phone are a known share of all
        # matches — by the m priors, 1 - (1 - 0.30)(1 - 0.50) = 0.65 of them.
        recall = 1 - (1 - M_PRIORS["payments"][0]) * (1 - M_PRIORS["phones"][0])
        linker.training.estimate_probability_two_random_records_match(
            [block_on(key, arrays_to_explode=[key]) for key in ("payments", "phones")],
            recall=recall,
        )
        linker.training.estimate_u_using_random_sampling(
            max_pairs=pairs, seed=SEED, min_count_per_level=None, num_chunks=1
        )
        trained = linker.misc.save_model_to_json()
    floor = 0.5 / pairs
    u: dict[str, list[float]] = {}
    for comparison in trained["comparisons"]:
        levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        u[comparison["output_column_name"]] = [
            max(float(lv.get("u_probability") or 0.0), floor) for lv in levels
        ]
    for key in ARRAY_FEATURES:
        u[key] = _array_u(features, key, u[key])
    # Never below the "one account in ten has a sibling" floor, never a coin toss.
    lam = float(trained["probability_two_random_records_match"])
    return {
        "lambda": min(0.5, max(lam, _lambda_floor(n))),
        "m": M_PRIORS,
        "u": u,
        "u_source": "book",
        "u_pairs_sampled": pairs,
        "seed": SEED,
    }


def _array_u(features: Features, key: str, sampled: list[float]) -> list[float]:
    """u of "shares ≥ 1 value" counted exactly from value frequencies: among accounts that have
    the feature, the share of pairs holding a common (non-capped) value. Sampling a few million
    of ~10^11 pairs cannot tell 10^-8 from 10^-7, and at a million accounts that gap is the
    difference between linking and not. For ``ips`` the "≥ 2" part keeps the sampled ratio."""
    sharing_pairs, holders = features.sharing[key]
    all_pairs = holders * (holders - 1) / 2
    if all_pairs <= 0:
        return sampled
    u_any = max(sharing_pairs, 0.5) / all_pairs  # half a pair when none share: never zero
    if len(sampled) == 3:  # ≥2, exactly 1, else
        seen = sampled[0] + sampled[1]
        ratio = sampled[0] / seen if seen > 0 else 0.1
        return [u_any * ratio, u_any * (1 - ratio), 1 - u_any]
    return [u_any, 1 - u_any]


def _lambda_floor(n: int) -> float:
    return 0.1 / max(n - 1, 1)


@dataclass(frozen=True, slots=True)
class ScoredPair:
    a: str
    b: str
    probability: float
    match_weight: float
    weights: dict[str, float]  # comparison → match weight in bits (log2 Bayes factor)


@contextmanager
def _duckdb_api() -> Iterator[DuckDBAPI]:
    """An in-memory connection per run, closed on exit. Closed explicitly because Splink's
    linker objects form reference cycles, and while linking pauses the cyclic collector
    (computekyc.bulk.gc_paused) they kept each connection's database alive to the end of the run."""
    connection = duckdb.connect()
    # No progress bar on the user's terminal.
    connection.execute("SET enable_progress_bar = false")
    # Bounded: past the limit DuckDB spills to a private temp folder instead of growing next to
    # the Python-side records (measured at 1M accounts: 600MB is no slower than 1GB, and the
    # run's peak drops by 0.13 GB).
    spill = tempfile.mkdtemp(prefix="computekyc-duckdb-")
    atexit.register(shutil.rmtree, spill, ignore_errors=True)
    connection.execute(f"SET memory_limit = '{DUCKDB_MEMORY_LIMIT}'")
    connection.execute(f"SET temp_directory = '{spill}'")
    try:
        yield DuckDBAPI(connection=connection)
    finally:
        connection.close()


def _spark_session() -> Any:
    session = spark_session()
    # Splink breaks long query lineages with checkpoints, which need a folder.
    checkpoints = tempfile.mkdtemp(prefix="computekyc-spark-")
    atexit.register(shutil.rmtree, checkpoints, ignore_errors=True)
    session.sparkContext.setCheckpointDir(checkpoints)
    return session


def _tf_adjustment(result: Any, name: str) -> Any:
    """The term-frequency match weight of a comparison (0 where Splink has none or NULL)."""
    column = f"mw_tf_adj_{name}"
    if column not in result.columns:
        return 0.0
    return result[column].astype(float).fillna(0.0).to_numpy()


def predict(
    features: Features,
    model: dict[str, Any],
    engine: Engine = "duckdb",
    threshold: float = MATCH_THRESHOLD,
) -> list[ScoredPair]:
    """Score the blocked pairs with the trained model; keep those at or above ``threshold``."""
    table = to_arrow(features)
    # The DuckDB connection is closed (its memory freed) before the pairs are built in Python.
    with nullcontext(None) if engine == "spark" else _duckdb_api() as duck:
        if duck is None:
            from splink import SparkAPI

            spark = _spark_session()
            db_api: Any = SparkAPI(  # type: ignore[no-untyped-call]
                spark_session=spark, break_lineage_method="persist"
            )
            # A fresh view name per run: the session (and its views) outlives one linking run.
            name = f"accounts_{uuid.uuid4().hex[:12]}"
            frame = db_api.register(spark.createDataFrame(table), table_name=name)
        else:
            db_api = duck
            frame = db_api.register(table, table_name="accounts")
        linker = Linker(frame, settings(model["lambda"], model["u"]), log_level=logging.WARNING)
        scored = linker.inference.predict(
            threshold_match_probability=threshold, warning_mode="never"
        )
        result = scored.as_pandas_dataframe()  # type: ignore[no-untyped-call]
        scored.drop_table_from_database_and_remove_from_cache()
    # Splink 5 reports each comparison's contribution as a match weight in bits (mw_*), with
    # the term-frequency adjustment as a separate mw_tf_adj_* column.
    mw_columns = [c for c in result.columns if c.startswith("mw_") and not c.startswith("mw_tf")]
    names = [column[3:] for column in mw_columns]
    # Column-wise: a dict per row of every intermediate column cost seconds and GBs at 1M.
    weight_columns = [
        (result[column].astype(float).to_numpy() + _tf_adjustment(result, name)).tolist()
        for column, name in zip(mw_columns, names, strict=True)
    ]
    pairs: list[ScoredPair] = []
    for a, b, probability, match_weight, *weights in zip(
        result["account_id_l"].astype(str).tolist(),
        result["account_id_r"].astype(str).tolist(),
        result["match_probability"].astype(float).tolist(),
        result["match_weight"].astype(float).tolist(),
        *weight_columns,
        strict=True,
    ):
        if b < a:
            a, b = b, a
        pairs.append(
            ScoredPair(a, b, probability, match_weight, dict(zip(names, weights, strict=True)))
        )
    return pairs
