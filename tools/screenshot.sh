#!/usr/bin/env bash
# Smoke test of the real window: starts build/dicominbox on a private virtual X server
# (Xvfb, 1280x800x24) with a throwaway configuration (HOME and XDG_CONFIG_HOME in a temp
# folder, storage there too, a free port), sends a few corpus studies with DCMTK storescu,
# then drives the window with xdotool and saves PNGs:
#
#   main.png      the main window with the received studies
#   activity.png  its Activity tab, with the log file's path at the bottom
#   filtered.png  the study list filtered by typing ZHANG into the search field (Ctrl+F)
#   detail.png    the study detail of that (Chinese) study, its row clicked
#   settings.png  the settings dialog (Ctrl+Comma)
#   echo.png      the C-ECHO dialog (Ctrl+E) after verifying our own receiver
#
#   tools/screenshot.sh [OUTDIR]   (default build/screenshots; a *.png argument means its folder)
#
# Environment: SCREENSHOT_BIN (default build/dicominbox), SCREENSHOT_WAIT seconds to let the
# window settle before the first shot (default 3), DICOMINBOX_CORPUS (default ../shared/corpus,
# else /work/shared/corpus). Needs xvfb (xvfb-run, xauth), dcmtk, xdotool, imagemagick.
# Fails when the app exits, a send fails, or a dialog does not change the screen.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-build/screenshots}
[[ $out == *.png ]] && out=$(dirname "$out")

if [ -z "${SCREENSHOT_IN_XVFB:-}" ]; then
	# Re-run this script inside xvfb-run; -a picks a free display number, and xvfb-run
	# stops the Xvfb it started.
	exec env SCREENSHOT_IN_XVFB=1 xvfb-run -a -s "-screen 0 1280x800x24" "$PWD/tools/screenshot.sh" "$out"
fi

die() { echo "screenshot: $*" >&2; exit 1; }
bin=${SCREENSHOT_BIN:-build/dicominbox}
[ -x "$bin" ] || die "$bin missing (make build)"
for t in storescu echoscu xdotool import compare; do
	command -v "$t" >/dev/null || die "missing $t (Debian: apt-get install dcmtk xdotool imagemagick)"
done
corpus=${DICOMINBOX_CORPUS:-}
if [ -z "$corpus" ]; then
	for c in ../shared/corpus /work/shared/corpus; do [ -f "$c/MANIFEST.tsv" ] && corpus=$c && break; done
fi
[ -f "${corpus:-/nonexistent}/MANIFEST.tsv" ] || die "test corpus not found; set DICOMINBOX_CORPUS"
mkdir -p "$out"

scratch=$(mktemp -d)
pid=""
cleanup() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null || true # the app this script started, by its PID
		wait "$pid" 2>/dev/null || true
	fi
	[ -f "$scratch/app.log" ] && cp "$scratch/app.log" "$out/app.log"
	rm -rf "$scratch"
}
trap cleanup EXIT

port=11300
while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
mkdir -p "$scratch/config/dicominbox" "$scratch/storage" "$scratch/run"
chmod 700 "$scratch/run" # the app's single-window socket: not a running window's of this user
cat >"$scratch/config/dicominbox/config.json" <<EOF
{
  "ae_title": "INBOX",
  "port": $port,
  "storage_dir": "$scratch/storage",
  "start_listening": true,
  "notify_study_complete": false,
  "study_complete_after": "2s",
  "min_free_mb": 0
}
EOF

HOME=$scratch XDG_CONFIG_HOME=$scratch/config XDG_STATE_HOME= XDG_RUNTIME_DIR=$scratch/run "$bin" >"$scratch/app.log" 2>&1 &
pid=$!
for _ in $(seq 150); do
	kill -0 "$pid" 2>/dev/null || { cat "$scratch/app.log" >&2; die "dicominbox exited at start"; }
	echoscu -aec INBOX 127.0.0.1 "$port" >/dev/null 2>&1 && break
	sleep 0.2
done
echoscu -aec INBOX 127.0.0.1 "$port" >/dev/null 2>&1 || die "no C-ECHO answer on port $port after 30 s"

# Studies with readable names (Latin-1, Chinese, Japanese, Korean) from three senders.
send() {
	local aet=$1
	shift
	local files=()
	for f in "$@"; do files+=("$corpus/$f"); done
	storescu -aet "$aet" -aec INBOX 127.0.0.1 "$port" "${files[@]}" >"$scratch/storescu-$aet.log" 2>&1 ||
		{ cat "$scratch/storescu-$aet.log" >&2; die "storescu $aet failed"; }
}
send CT01 01_ct_implicit_le.dcm 31_ct_no_studydate.dcm 33_ct_gb18030_chinese.dcm
send MR01 03_mr_explicit_big_endian.dcm 32_mr_odd_length_values.dcm 02_mr_explicit_le_undef_len_sq.dcm
send WS01 23_charset_latin1.dcm 24_charset_utf8.dcm 26_charset_jp_iso2022_ir87.dcm 27_charset_kr_iso2022_ir149.dcm 19_sr_comprehensive.dcm
sleep "${SCREENSHOT_WAIT:-3}"

wid=$(xdotool search --sync --onlyvisible --name '^DICOM Inbox$' | head -n 1)
[ -n "$wid" ] || die "no window named 'DICOM Inbox'"
xdotool windowmove "$wid" 0 0
xdotool windowfocus --sync "$wid" 2>/dev/null || xdotool windowfocus "$wid"

# shot NAME [PREVIOUS]: screenshot of the whole screen; with PREVIOUS, fail unless it differs.
shot() {
	sleep 1.5
	kill -0 "$pid" 2>/dev/null || die "dicominbox exited before $1.png"
	import -window root "$out/$1.png"
	if [ -n "${2:-}" ]; then
		local diff
		diff=$(compare -metric AE "$out/$2.png" "$out/$1.png" null: 2>&1 || true)
		[ "${diff%% *}" != 0 ] || die "$1.png equals $2.png: the action did not change the window"
	fi
	echo "screenshot: wrote $out/$1.png"
}

shot main
# The Activity tab (its events and, at the bottom, where the log file is), then back.
xdotool mousemove --sync 185 506 click 1
shot activity main
xdotool mousemove --sync 80 506 click 1
# Filter the study list down to the Chinese CT study (Ctrl+F focuses the search field),
# then click its row: a click opens the study detail.
xdotool key --window "$wid" ctrl+f
xdotool type --delay 50 ZHANG
shot filtered main
xdotool mousemove --sync 400 143 click 1
shot detail filtered
# The detail's Close button (bottom right of the 1180x760 dialog centred in 1280x800).
xdotool mousemove --sync 1170 738 click 1
sleep 1
xdotool key --window "$wid" ctrl+comma
shot settings main
# The settings' Cancel button, then the echo dialog, verifying our own receiver.
xdotool mousemove --sync 910 718 click 1
sleep 1
xdotool key --window "$wid" ctrl+e
sleep 1
xdotool mousemove --sync 889 591 click 1 # Verify
shot echo main
