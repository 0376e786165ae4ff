#!/usr/bin/env bash
# Regenerate the screenshots in docs/ from the bundled field book, with headless Chromium.
# Needs: cargo, python3 (a static server), chromium; pngquant (optional) makes the PNGs smaller.
# Usage: docs/screenshots.sh [PORT]
set -euo pipefail
cd "$(dirname "$0")/.."
port="${1:-8765}"
browser="${FIELDBOOK_CHROMIUM:-$(command -v chromium || command -v chromium-browser || command -v google-chrome)}"
site="$(mktemp -d)"
cargo run --quiet -- build --output "$site/public"
python3 -m http.server --bind 127.0.0.1 --directory "$site/public" "$port" >/dev/null 2>&1 &
server=$!
trap 'kill "$server"; rm -rf "$site"' EXIT
sleep 1

# shot FILE WIDTH,HEIGHT PATH [dark]
shot() {
  local profile
  profile="$(mktemp -d)"
  local scheme=()
  if [ "${4:-}" = dark ]; then
    scheme=(--force-dark-mode --blink-settings=preferredColorScheme=0)
  fi
  "$browser" --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking \
    --disable-component-update --disable-sync --hide-scrollbars --user-data-dir="$profile" \
    "${scheme[@]}" --screenshot="docs/$1" --window-size="$2" "http://127.0.0.1:$port$3" >/dev/null 2>&1
  rm -rf "$profile"
  if command -v pngquant >/dev/null; then
    pngquant --force --skip-if-larger --quality 70-90 --output "docs/$1" "docs/$1" || true
  fi
}

shot home.png 1280,800 /
shot playbook-dark.png 1280,800 /playbooks/launch-brand-self-broadcast/ dark
shot matrix.png 1280,800 /matrices/positions-by-roles/
shot path-phone.png 390,844 /paths/new-hire-first-week/
shot tool-phone-dark.png 390,844 /tools/doudian/ dark
ls -l docs/*.png
