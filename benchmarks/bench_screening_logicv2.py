"""OpenSanctions logic-v2 on the name_bench pairs: run inside the benchmark venv (.venv-bench),
which has ``nomenklatura``; prints one JSON object with the scores and the pairs/s.

Not a runtime dependency of computekyc: bench_screening.py runs this in a subprocess.
Usage: .venv-bench/bin/python benchmarks/bench_screening_logicv2.py PAIRS.csv
"""

from __future__ import annotations

import csv
import json
import sys
import time


def main(path: str) -> None:
    from followthemoney import model
    from nomenklatura.matching import ScoringConfig, get_algorithm

    algorithm = get_algorithm("logic-v2")
    assert algorithm is not None
    config = ScoringConfig.defaults()
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    pairs = []
    for i, row in enumerate(rows):
        schema = row.get("schema") or "LegalEntity"
        a = model.make_entity(schema)
        a.id = f"q{i}"
        a.add("name", row["name1"])
        b = model.make_entity(schema)
        b.id = f"r{i}"
        b.add("name", row["name2"])
        pairs.append((a, b, row["is_match"].strip().lower() == "true"))
    algorithm.compare(pairs[0][0], pairs[0][1], config)  # warm caches before timing
    start = time.perf_counter()
    scores = [algorithm.compare(a, b, config).score for a, b, _ in pairs]
    elapsed = time.perf_counter() - start
    json.dump(
        {"scores": scores, "labels": [y for _, _, y in pairs], "pairs_per_s": len(pairs) / elapsed},
        sys.stdout,
    )


if __name__ == "__main__":
    try:
        import nomenklatura  # noqa: F401
    except ImportError:
        # `make bench` runs every script with the project venv: this one belongs to .venv-bench.
        print(
            "bench_screening_logicv2: needs .venv-bench (nomenklatura); bench_screening.py runs it"
        )
        sys.exit(0)
    if len(sys.argv) != 2:
        sys.exit("usage: .venv-bench/bin/python benchmarks/bench_screening_logicv2.py PAIRS.csv")
    main(sys.argv[1])
