#!/usr/bin/env bash
# Screenshots of Obsidian's help vault built by fieldbook: its Callouts, Embed files and Advanced
# formatting syntax pages (docs/vault-*.png). The vault is the `en/` folder of the public repository
# obsidianmd/obsidian-help, used unchanged as content/ with a site.yaml of `title:` and
# `broken_links: warn`.
# Needs: cargo, python3 (a static server), chromium; pngquant (optional) makes the PNGs smaller.
# Usage: docs/vault-screenshots.sh VAULT_SITE [PORT]   (VAULT_SITE holds site.yaml and content/)
set -euo pipefail
cd "$(dirname "$0")/.."
vault="$1"
port="${2:-8766}"
browser="${FIELDBOOK_CHROMIUM:-$(command -v chromium || command -v chromium-browser || command -v google-chrome)}"
out="$(mktemp -d)"
cargo run --quiet --release -- build --root "$vault" --output "$out/public"
python3 -m http.server --bind 127.0.0.1 --directory "$out/public" "$port" >/dev/null 2>&1 &
server=$!
trap 'kill "$server"; rm -rf "$out"' EXIT
sleep 1
for page in callouts:callouts embeds:embed-files advanced-syntax:advanced-formatting; do
  url="${page%%:*}"
  file="docs/vault-${page##*:}.png"
  profile="$(mktemp -d)"
  "$browser" --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking \
    --disable-component-update --disable-sync --hide-scrollbars --user-data-dir="$profile" \
    --screenshot="$file" --window-size=1280,1600 "http://127.0.0.1:$port/$url/" >/dev/null 2>&1
  rm -rf "$profile"
  if command -v pngquant >/dev/null; then
    pngquant --force --skip-if-larger --quality 70-90 --output "$file" "$file" || true
  fi
done
ls -l docs/vault-*.png
