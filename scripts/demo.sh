#!/usr/bin/env bash
# `make demo`: the main job, end to end, on the public data in ../shared.
set -euo pipefail
SHARED="${SHARED:-../shared}"
export COMPUTEKYC_HOME="${COMPUTEKYC_HOME:-$PWD/.demo/home}"
mkdir -p "$COMPUTEKYC_HOME"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "Load the official restricted-party lists from the offline mirror"
computekyc lists update --from "$SHARED/data/lists"
computekyc lists status

step "Which rented chips are export-controlled?"
for name in p5.48xlarge "NVIDIA H20" "RTX 4090D" Standard_ND96isr_H100_v5 "gres/gpu:a100"; do
  computekyc chips classify "$name" | sed -n 1,3p
done
