#!/usr/bin/env bash
# `make demo`: the main job, end to end, on the public data in ../shared.
# Runs from the checkout (wherever it is called from) and keeps all its state in .demo/: its own
# COMPUTEKYC_HOME and SQLite store, so it never writes into the store your variables point at.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SHARED="$(cd "${SHARED:-$ROOT/../shared}" && pwd)"
DEMO="$ROOT/.demo"
mkdir -p "$DEMO"
export COMPUTEKYC_HOME="$DEMO/home"
unset COMPUTEKYC_DATABASE_URL
mkdir -p "$COMPUTEKYC_HOME"
export COMPUTEKYC_SHARED="$SHARED"
export COMPUTEKYC_GEOIP_DIR="${COMPUTEKYC_GEOIP_DIR:-$SHARED/data/ip}"  # offline IP→country (IPFire)
export COLUMNS="${COLUMNS:-150}"  # Rich tables: room for the explanations
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "Load the official restricted-party lists from the offline mirror"
computekyc lists update --from "$SHARED/data/lists"
computekyc lists status

step "Which rented chips are export-controlled?"
for name in p5.48xlarge "NVIDIA H20" "RTX 4090D" Standard_ND96isr_H100_v5 "gres/gpu:a100"; do
  computekyc chips classify "$name" | sed -n 1,3p
done

step "Screen customer and owner names (Latin, Chinese, brand names, generic-word decoys)"
computekyc screen "海康威视"
computekyc screen --input examples/screen_names.csv --output .demo/screened.jsonl
python3 - <<'PY'
import json
for line in open(".demo/screened.jsonl", encoding="utf-8"):
    row = json.loads(line)
    best = row["hits"][0] if row["hits"] else None
    found = f'{best["source"]:<6} {best["score"]:.2f}  {best["name"]}' if best else "no hit"
    print(f'{row["query"][:46]:<48} {found}')
PY

step "May we rent H100s to these customers today? (OFAC 50%, BIS Affiliates Rule, HQ test)"
computekyc determine --customers examples/customers.jsonl

step "What did each account really run? (generated FOCUS, CUR 2.0, sacct and DCGM files with planted training runs)"
rm -rf .demo/usage-files && computekyc usage generate .demo/usage-files --seed 7
computekyc usage ingest .demo/usage-files/{focus.csv,cur.parquet,sacct.txt,dcgm.csv}
computekyc usage summary --from 2025-03-01 --to 2025-03-31
echo "Runs classified as training (all runs: computekyc usage runs):"
computekyc usage runs --json > .demo/runs.json
python3 - <<'PY'
import json
runs = [r for r in json.load(open(".demo/runs.json")) if r["class"] == "training"]
for run in sorted(runs, key=lambda r: -r["estimated_operations"]):
    crossed = [f'{t["threshold"]:.0e} {t["status"]} {t["date"] or ""}'.strip()
               for t in run["thresholds"] if t["status"] != "not reached"]
    print(f'{run["account"]:<18} {run["gpus"]:>5.0f} x {run["chip"]:<10} {run["start"][:10]} → '
          f'{run["end"][:10]}  {run["estimated_operations"]:.2e} ops  {"; ".join(crossed) or "-"}')
    print(f'{"":<18} why: {"; ".join(run["reasons"])}')
PY

step "Which accounts are one real entity? (5,000 generated accounts with planted evaders, resellers, NAT noise)"
python3 - <<'PY'
from pathlib import Path
from computekyc.linking.generate import write_population
from computekyc.settings import Settings
write_population(5000, Path(".demo/accounts.jsonl"), seed=7, truth_path=Path(".demo/accounts-truth.csv"),
                 geoip_dir=Settings.from_env().geoip_dir)
PY
computekyc link --accounts .demo/accounts.jsonl --output .demo/entities.jsonl

step "The daily job: scan a provider's book (customers, accounts, usage) and raise alerts"
computekyc scan examples/provider --lists "$SHARED/data/lists"
echo "Running it again changes nothing (new 0, updated 0):"
computekyc scan examples/provider --lists "$SHARED/data/lists" --json | tail -1
computekyc alerts list

step "Casework and the audit trail: an analyst clears an alert, a reviewer approves it (four eyes)"
# (The demo home is kept between runs: the users may already be there.)
computekyc users add demo-analyst --role analyst >/dev/null 2>&1 || true
computekyc users add demo-reviewer --role reviewer >/dev/null 2>&1 || true
alert_id=$(computekyc alerts list --json | python3 -c 'import json,sys; a=[x for x in json.load(sys.stdin) if x["severity"] in ("critical","high")]; print(a[-1]["id"] if a else "")')
if [ -n "$alert_id" ]; then
  computekyc alerts decide "$alert_id" --outcome false_positive --reason "demo: different party" --user demo-analyst
  computekyc alerts approve "$alert_id" --user demo-reviewer --reason "demo: agreed"
fi
computekyc audit verify

step "Reports for a regulator or an auditor: training runs, certification, an evidence pack"
# The customers' identity comes from the book as the scan imported it.
computekyc report training-runs --from 2026-11-01 --to 2026-11-30 --output .demo/training-runs.pdf
computekyc report training-runs --from 2026-11-01 --to 2026-11-30 --output .demo/training-runs.json
computekyc report certification --year "$(date -u +%Y)" --output .demo/certification.pdf
echo "Open .demo/training-runs.pdf and .demo/certification.pdf (JSON: .demo/training-runs.json)"
if [ -n "$alert_id" ]; then
  computekyc report case "$alert_id" --output .demo/evidence-pack.zip
  computekyc report verify .demo/evidence-pack.zip
fi

step "The HTTP API (yente-compatible /match, alerts, cases, audit)"
token=$( (computekyc users add demo-viewer --role viewer --json 2>/dev/null \
          || computekyc users token demo-viewer --json) \
        | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
echo "Start it:   COMPUTEKYC_HOME=$COMPUTEKYC_HOME computekyc serve --port 8000"
echo "Then:       curl -s -H 'Authorization: Bearer $token' -H 'Content-Type: application/json' \\"
echo "              -d '{\"queries\": {\"q\": {\"schema\": \"Company\", \"properties\": {\"name\": [\"Hikvision\"]}}}}' \\"
echo "              http://127.0.0.1:8000/match/default"
echo "Docs:       http://127.0.0.1:8000/docs (demo viewer token above; docs/api.md)"

step "The web UI (alert queue, evidence, decisions, audit) on the same server"
# A demo reviewer with a password (set again on every run: the demo home is kept between runs).
DEMO_PASSWORD="demo-reviewer-password"
if ! printf '%s' "$DEMO_PASSWORD" | computekyc users add demo-web --role reviewer --password-stdin >/dev/null 2>&1; then
  printf '%s' "$DEMO_PASSWORD" | computekyc users password demo-web >/dev/null
fi
echo "Start it:   COMPUTEKYC_HOME=$COMPUTEKYC_HOME computekyc serve --port 8000"
echo "Open:       http://127.0.0.1:8000/login"
echo "Sign in:    user demo-web, password $DEMO_PASSWORD (role reviewer: decides and approves)"
