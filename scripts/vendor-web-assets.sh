#!/usr/bin/env bash
# Refresh the web UI's vendored JavaScript from their npm releases (never a CDN).
# Usage: scripts/vendor-web-assets.sh   (edit the versions below, run, review, commit)
# Each package is fetched with `npm pack` (the registry tarball npm itself installs), its one
# browser file and its licence are copied into src/computekyc/web/static/vendor/NAME/, and
# VENDORED.json records package, version, tarball integrity, files and licence.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENDOR="$ROOT/src/computekyc/web/static/vendor"
# package@version  file-in-package  licence-file-in-package
PACKAGES=(
  "htmx.org@2.0.11 dist/htmx.min.js LICENSE"
  "echarts@6.1.0 dist/echarts.min.js LICENSE"
)
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
records=()
for entry in "${PACKAGES[@]}"; do
  read -r spec file licence <<<"$entry"
  name="${spec%@*}"
  version="${spec##*@}"
  (cd "$WORK" && npm pack --silent --json "$spec" >"$WORK/$name.json")
  tarball="$WORK/$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["filename"])' "$WORK/$name.json")"
  integrity="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["integrity"])' "$WORK/$name.json")"
  mkdir -p "$WORK/$name" && tar -xzf "$tarball" -C "$WORK/$name"
  rm -rf "${VENDOR:?}/$name" && mkdir -p "$VENDOR/$name"
  cp "$WORK/$name/package/$file" "$VENDOR/$name/$(basename "$file")"
  cp "$WORK/$name/package/$licence" "$VENDOR/$name/LICENSE"
  # Apache-2.0 asks that a NOTICE file travel with the code; bundled third-party licences too.
  [ -f "$WORK/$name/package/NOTICE" ] && cp "$WORK/$name/package/NOTICE" "$VENDOR/$name/NOTICE"
  [ -d "$WORK/$name/package/licenses" ] && cp -r "$WORK/$name/package/licenses" "$VENDOR/$name/licenses"
  spdx="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["license"])' "$WORK/$name/package/package.json")"
  records+=("{\"package\": \"$name\", \"version\": \"$version\", \"license\": \"$spdx\", \"integrity\": \"$integrity\", \"files\": [\"$name/$(basename "$file")\"], \"license_file\": \"$name/LICENSE\", \"source\": \"npm pack $spec ($file)\"}")
done
{
  printf '[\n'
  for i in "${!records[@]}"; do
    printf '  %s' "${records[$i]}"
    [ "$i" -lt $((${#records[@]} - 1)) ] && printf ','
    printf '\n'
  done
  printf ']\n'
} >"$VENDOR/VENDORED.json"
python3 -m json.tool "$VENDOR/VENDORED.json" >/dev/null
echo "vendored into $VENDOR:"
cat "$VENDOR/VENDORED.json"
