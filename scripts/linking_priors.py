"""Regenerate the prior u probabilities that linking uses for books too small to train on
(src/computekyc/linking/data/priors.json), from a generated population.

    .venv/bin/python scripts/linking_priors.py [--n 50000] [--seed 20260701] \
        [--geoip ../shared/data/ip]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from computekyc.linking.model import PRIOR_POPULATION, PRIOR_SEED, write_priors

REPO = Path(__file__).resolve().parents[1]
TARGET = REPO / "src" / "computekyc" / "linking" / "data" / "priors.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=PRIOR_POPULATION)
    parser.add_argument("--seed", type=int, default=PRIOR_SEED)
    parser.add_argument("--geoip", type=Path, default=REPO.parent / "shared" / "data" / "ip")
    args = parser.parse_args()
    learned = write_priors(TARGET, n=args.n, seed=args.seed, geoip_dir=args.geoip)
    print(f"wrote {TARGET} (learned on {learned['learned_on']})")


if __name__ == "__main__":
    main()
