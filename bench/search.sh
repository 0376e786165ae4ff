#!/usr/bin/env bash
# Search benchmark: fieldbook's index beside Pagefind's, on the same built sites, in one run.
#
#   bench/search.sh [WORK_DIR]        (default: a new temp dir; needs python3, node/npm, chromium)
#
# For the bundled book and generated sites of 1,000 and 10,000 pages (bench/gen_site.py) it prints:
# build time, search index time (inside the build; best of 5), index size and file count for both
# engines, Pagefind's indexing time, and for typical queries in a fresh headless Chromium the bytes
# fetched so far and the query time (tests/it/search_browser.rs, bench_queries_against_pagefind).
set -euo pipefail
cd "$(dirname "$0")/.."
work="${1:-$(mktemp -d)}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
cargo build --quiet --release
cargo build --quiet --release --example search_index
bin="$CARGO_TARGET_DIR/release/fieldbook"
if [ ! -x "$work/pf/node_modules/.bin/pagefind" ]; then
  mkdir -p "$work/pf" && (cd "$work/pf" && npm i --silent --no-audit --no-fund pagefind >/dev/null)
fi
pagefind="$work/pf/node_modules/.bin/pagefind"
echo "pagefind $("$pagefind" --version | awk '{print $2}'), $(nproc) cores, $(date -u +%F)"

size() { find "$@" -type f -printf '%s\n' | awk '{s+=$1} END {print s+0}'; }
files() { find "$@" -type f -print | wc -l; }

for name in bundled 1000 10000; do
  if [ "$name" = bundled ]; then src=.; else src="$work/gen$name"; [ -d "$src" ] || python3 bench/gen_site.py "$name" "$src"; fi
  out="$work/out-$name"
  echo
  echo "== $name: $("$bin" --root "$src" build --output "$out")"
  cargo run --quiet --release --example search_index -- "$src" 5
  echo "fieldbook index: $(size "$out/search" -path '*/search/index.html' -prune -o) bytes in $(files "$out/search" -path '*/search/index.html' -prune -o) files; search.js $(size "$out/search.js") bytes"
  start=$(date +%s.%N)
  "$pagefind" --site "$out" --quiet >/dev/null
  end=$(date +%s.%N)
  echo "pagefind index: $(size "$out/pagefind") bytes in $(files "$out/pagefind") files; indexing took $(echo "$end - $start" | bc) s"
  FIELDBOOK_BENCH_SITE="$out" cargo test --quiet --release --test it bench_queries_against_pagefind -- --ignored --nocapture 2>/dev/null | grep '^BENCH'
done
