#!/usr/bin/env bash
# Starts build/dicominbox on a private virtual X server (Xvfb, 1280x800x24), waits,
# saves a screenshot of the whole screen, and stops the app it started.
#
#   tools/screenshot.sh [out.png]     (default build/screenshots/main.png, relative to the repo root)
#
# Environment: SCREENSHOT_WAIT seconds to wait before the shot (default 5).
# The app runs with a scratch HOME so it neither reads nor changes your settings.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-build/screenshots/main.png}

if [ -z "${SCREENSHOT_IN_XVFB:-}" ]; then
	# Re-run this script inside xvfb-run; -a picks a free display number.
	exec env SCREENSHOT_IN_XVFB=1 xvfb-run -a -s "-screen 0 1280x800x24" "$PWD/tools/screenshot.sh" "$out"
fi

[ -x build/dicominbox ] || { echo "screenshot: build/dicominbox missing (make build)" >&2; exit 1; }
mkdir -p "$(dirname "$out")"
scratch=$(mktemp -d)

HOME=$scratch ./build/dicominbox &
pid=$!
cleanup() {
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	rm -rf "$scratch"
}
trap cleanup EXIT

sleep "${SCREENSHOT_WAIT:-5}"
if ! kill -0 "$pid" 2>/dev/null; then
	echo "screenshot: dicominbox exited before the screenshot" >&2
	exit 1
fi
import -window root "$out"
echo "screenshot: wrote $out"
