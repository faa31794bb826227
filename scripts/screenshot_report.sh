#!/usr/bin/env bash
# Render a prepkit report.html in headless Chromium with the network off and save a PNG.
#
#   scripts/screenshot_report.sh build/run/report.html [build/run/report.png] [WIDTH] [HEIGHT]
#
# Proves the report is self-contained: the page is loaded from file:// with every network path closed
# (a network namespace when `unshare -n` is allowed, plus a dead proxy and a resolver that maps every host to
# nothing), so a chart or stylesheet that needed the network would be missing from the PNG.
# Chromium is installed with apt-get when missing (needs root; takes a few minutes once).
set -euo pipefail

report=${1:?usage: $0 REPORT.html [OUT.png] [WIDTH] [HEIGHT]}
out=${2:-${report%.html}.png}
width=${3:-1280}
height=${4:-0}  # 0: estimate from the page's length

if [[ ! -f $report ]]; then
  echo "error: $report: no such file" >&2
  exit 2
fi

browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [[ -z $browser ]]; then
  if [[ $(id -u) -ne 0 ]]; then
    echo "error: chromium is not installed; run as root or: apt-get install -y chromium" >&2
    exit 2
  fi
  echo "installing chromium (apt-get; may take a few minutes)..." >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  browser=$(command -v chromium)
fi

if [[ $height -eq 0 ]]; then
  # the charts' declared heights + ~32 px per table row + ~260 px per example + headings; generous is fine
  svg_px=$( { grep -o '<svg [^>]*height="[0-9.]*pt"' "$report" || true; } | grep -o 'height="[0-9.]*' |
           tr -dc '0-9.\n' | awk '{s += $1} END {printf "%d", s * 4 / 3}')
  rows=$( { grep -o '<tr>' "$report" || true; } | wc -l)
  examples=$( { grep -o 'class="example"' "$report" || true; } | wc -l)
  height=$(( svg_px + rows * 32 + examples * 260 + 1400 ))
  (( height > 20000 )) && height=20000
fi

abs=$(cd "$(dirname "$report")" && pwd)/$(basename "$report")
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT

cmd=("$browser" --headless --no-sandbox --disable-gpu --disable-background-networking
     --disable-component-update --no-first-run --disable-sync --disable-default-apps
     --proxy-server=127.0.0.1:9 --host-resolver-rules="MAP * ~NOTFOUND , EXCLUDE localhost"
     --user-data-dir="$profile" --hide-scrollbars --screenshot="$(realpath -m "$out")"
     --window-size="$width,$height" "file://$abs")

net="proxy+resolver blocked"
if unshare -n true 2>/dev/null; then
  cmd=(unshare -n "${cmd[@]}")
  net="no network namespace (unshare -n) + proxy+resolver blocked"
fi

start=$(date +%s%N)
"${cmd[@]}" >/dev/null 2>"$profile/chromium.log" || {
  echo "error: chromium failed; its log:" >&2
  tail -20 "$profile/chromium.log" >&2
  exit 2
}
end=$(date +%s%N)
if [[ ! -s $out ]]; then
  echo "error: no screenshot written to $out" >&2
  exit 2
fi
printf 'wrote %s (%sx%s, %s bytes) in %d ms; network: %s\n' "$out" "$width" "$height" "$(wc -c <"$out")" \
  $(( (end - start) / 1000000 )) "$net"
