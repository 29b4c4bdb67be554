#!/usr/bin/env bash
# tools/benchwindow.sh: the window case of the benchmark (docs/benchmarks.md, "Window open").
# The CT workload of case (b) (0.5 MB CT instances, 4 concurrent storescu associations) is sent
# to `dicominbox serve` (headless) and to the desktop window (`dicominbox` without arguments,
# on a private Xvfb 1280x800), interleaved in the same run, order alternating per repetition.
# Reported: throughput of each, the ratio window ÷ serve (goal ≥ 0.90), and whether the window
# kept refreshing while it received: a sampler hashes the whole screen every BENCH_WINDOW_SAMPLE
# seconds during both contenders' sends (same overhead for both; during the headless runs the
# screen is blank), so "distinct screens" counts the window's visible refreshes, and "longest
# unchanged" is the longest span over which consecutive samples showed the same screen. The
# window passes if every run shows ≥ 2 distinct screens and nothing stayed unchanged > 1 s.
#
# Usage: tools/benchwindow.sh            (tools/bench.sh runs it as case "w")
# Environment:
#   BENCH_BIN=build/dicominbox   binary to test (built by tools/bench.sh / make build)
#   BENCH_WINDOW_REPS=3          repetitions per contender; medians are reported
#   BENCH_WINDOW_CT=400          CT instances per run (BENCH_QUICK=1: 100)
#   BENCH_WINDOW_ASSOCS=4        concurrent storescu associations
#   BENCH_WINDOW_SAMPLE=0.2      seconds between screen samples
#   BENCH_PAUSE=3                seconds of rest between runs
#   BENCH_PORT=11400             first TCP port tried
# Output: a table on stdout and in build/bench/window.md; raw runs in build/bench/window.tsv;
# build/bench/window-last.png is the screen right after the last window run's send.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BIN=${BENCH_BIN:-build/dicominbox}
REPS=${BENCH_WINDOW_REPS:-3}
QUICK=${BENCH_QUICK:-0}
if [[ $QUICK == 1 ]]; then CT_N=${BENCH_WINDOW_CT:-100}; else CT_N=${BENCH_WINDOW_CT:-400}; fi
ASSOCS=${BENCH_WINDOW_ASSOCS:-4}
SAMPLE=${BENCH_WINDOW_SAMPLE:-0.2}
PAUSE=${BENCH_PAUSE:-3}
NEXT_PORT=${BENCH_PORT:-11400}
AET=INBOX
DATA=build/benchdata OUT=build/bench
PYTHON=/usr/bin/python3
GEN=${BENCH_GEN:-${DICOMINBOX_CORPUS:-$ROOT/../shared/corpus}/gen_bench.py}

die() { echo "benchwindow: $*" >&2; exit 1; }
log() { echo "benchwindow: $*" >&2; }

# ---- processes this script started; only these are ever signalled, by PID --------------
XVFB_PID="" RECV_PID="" SAMPLER_PID="" SENDER_PIDS=() SCRATCH=""
cleanup() {
    local p
    for p in "${SENDER_PIDS[@]}" $SAMPLER_PID $RECV_PID $XVFB_PID; do kill -TERM "$p" 2>/dev/null || true; done
    for p in $SAMPLER_PID $RECV_PID $XVFB_PID; do wait "$p" 2>/dev/null || true; done
    [[ -n $SCRATCH ]] && rm -rf "$SCRATCH"
    return 0
}
trap cleanup EXIT
trap 'log interrupted; exit 130' INT TERM

for t in storescu echoscu Xvfb xdotool import md5sum "$PYTHON"; do
    command -v "$t" >/dev/null || die "missing $t (Debian: apt-get install dcmtk xvfb xdotool imagemagick python3-pydicom python3-numpy)"
done
[[ -x $BIN ]] || die "$BIN missing (make build)"
[[ $REPS =~ ^[1-9][0-9]*$ ]] || die "BENCH_WINDOW_REPS must be a positive integer"

if (( $(find "$DATA/gen/ct_study" -maxdepth 1 -name 'CT_*.dcm' 2>/dev/null | wc -l) < CT_N )); then
    log "generating $CT_N CT instances into $DATA/gen/ct_study"
    [[ -f $GEN ]] || die "generator $GEN not found; set BENCH_GEN to corpus/gen_bench.py"
    "$PYTHON" "$GEN" --out "$DATA/gen" --ct-count "$CT_N" --mf-count 0 >&2
fi
mapfile -t FILES < <(ls "$DATA"/gen/ct_study/CT_*.dcm | sort | head -n "$CT_N")
BYTES=$(stat -c %s "${FILES[@]}" | awk '{ s += $1 } END { print s }')
mkdir -p "$OUT/logs"
SCRATCH=$(mktemp -d)
: >"$OUT/window.tsv"

# ---- a private X server ------------------------------------------------------------------------
for d in $(seq 90 140); do
    [[ -e /tmp/.X$d-lock || -e /tmp/.X11-unix/X$d ]] || { DISP=:$d; break; }
done
[[ -n ${DISP:-} ]] || die "no free X display number in :90-:140"
Xvfb "$DISP" -screen 0 1280x800x24 -nolisten tcp >"$OUT/logs/window-xvfb.log" 2>&1 &
XVFB_PID=$!
for _ in $(seq 100); do DISPLAY=$DISP xdotool getdisplaygeometry >/dev/null 2>&1 && break; sleep 0.1; done
DISPLAY=$DISP xdotool getdisplaygeometry >/dev/null 2>&1 || die "Xvfb $DISP did not start; log: $OUT/logs/window-xvfb.log"

free_port() {
    local p=$NEXT_PORT
    while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done
    PORT=$p NEXT_PORT=$((p + 1))
}

wait_echo() {
    local i
    for i in $(seq 300); do
        echoscu -aec "$AET" 127.0.0.1 "$PORT" >/dev/null 2>&1 && return 0
        kill -0 "$RECV_PID" 2>/dev/null || die "$1 exited at start; log: $2"
        sleep 0.1
    done
    die "$1 does not answer C-ECHO on port $PORT after 30 s; log: $2"
}

# start_sampler FILE: hashes the whole screen every $SAMPLE s ("epoch-seconds md5" lines).
start_sampler() {
    (
        while :; do
            h=$(DISPLAY=$DISP import -window root rgb:- 2>/dev/null | md5sum)
            echo "$(date +%s.%N) ${h%% *}"
            sleep "$SAMPLE"
        done
    ) >"$1" &
    SAMPLER_PID=$!
}
stop_sampler() { kill -TERM "$SAMPLER_PID" 2>/dev/null || true; wait "$SAMPLER_PID" 2>/dev/null || true; SAMPLER_PID=""; }

# send LOGPREFIX: ASSOCS storescu processes on equal slices; sets T0, T1, ELAPSED.
send() {
    local logp=$1 n=${#FILES[@]} k per rc bad=0
    per=$(( (n + ASSOCS - 1) / ASSOCS )) SENDER_PIDS=()
    T0=$(date +%s.%N)
    for (( k = 0; k < ASSOCS; k++ )); do
        env TCP_NODELAY=1 storescu -aet BENCH -aec "$AET" 127.0.0.1 "$PORT" "${FILES[@]:k*per:per}" >"$logp.scu$k.log" 2>&1 &
        SENDER_PIDS+=($!)
    done
    for (( k = 0; k < ASSOCS; k++ )); do
        rc=0; wait "${SENDER_PIDS[k]}" || rc=$?
        (( rc == 0 )) || { bad=1; log "storescu $k exited with status $rc; log: $logp.scu$k.log"; }
    done
    T1=$(date +%s.%N)
    SENDER_PIDS=()
    (( bad == 0 )) || die "a sender failed"
    ELAPSED=$(awk -v a="$T0" -v b="$T1" 'BEGIN { printf "%.4f", b - a }')
}

# distinct SAMPLES T0 T1: between T0 and T1, the number of different screens sampled, the number
# of samples, and the longest span (s) from a sample to the last following sample that still
# showed the same screen (0: every sample differed from the one before).
distinct() {
    awk -v a="$2" -v b="$3" '
        $1 >= a && $1 <= b {
            n++
            if (!($2 in seen)) { seen[$2] = 1; d++ }
            if (n == 1 || $2 != prev) { since = $1; prev = $2 } else if ($1 - since > m) m = $1 - since
        }
        END { printf "%d %d %.2f\n", d, n, m }' "$1"
}

# cpu_ticks PID: user + system CPU time of a process so far, in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

run_one() {
    local who=$1 rep=$2 dir logf samples stored d n cpu0 cpu1 cpu rc=0
    dir=$SCRATCH/$who-$rep logf=$OUT/logs/window-$who-$rep.log samples=$OUT/logs/window-$who-$rep.samples
    mkdir -p "$dir/storage"
    free_port
    case $who in
        serve)
            "$BIN" serve --aet "$AET" --port "$PORT" --bind 127.0.0.1 --storage "$dir/storage" \
                --config /nonexistent --min-free-mb 0 --log-level warn >"$logf" 2>&1 &
            RECV_PID=$! ;;
        window)
            mkdir -p "$dir/config/dicominbox" "$dir/run" && chmod 700 "$dir/run"
            printf '{"ae_title":"%s","bind":"127.0.0.1","port":%d,"storage_dir":"%s","min_free_mb":0,"start_listening":true,"notify_study_complete":false,"log_level":"warn"}\n' \
                "$AET" "$PORT" "$dir/storage" >"$dir/config/dicominbox/config.json"
            DISPLAY=$DISP HOME=$dir XDG_CONFIG_HOME=$dir/config XDG_STATE_HOME= XDG_RUNTIME_DIR=$dir/run "$BIN" >"$logf" 2>&1 &
            RECV_PID=$! ;;
    esac
    wait_echo "$who" "$logf"
    if [[ $who == window ]]; then
        DISPLAY=$DISP timeout 20 xdotool search --sync --onlyvisible --name '^DICOM Inbox$' >/dev/null ||
            die "the window did not appear; log: $logf"
        sleep 2 # first layout and the first study-list query
    fi
    start_sampler "$samples"
    sleep 0.5
    cpu0=$(cpu_ticks "$RECV_PID")
    send "$OUT/logs/window-$who-$rep"
    cpu1=$(cpu_ticks "$RECV_PID")
    sleep 0.3
    stop_sampler
    if [[ $who == window ]]; then
        sleep 1
        DISPLAY=$DISP import -window root "$OUT/window-last.png"
    fi
    kill -TERM "$RECV_PID" 2>/dev/null || true
    wait "$RECV_PID" || rc=$?
    RECV_PID=""
    # serve drains and exits 0; the window has no SIGTERM handler (Go's default: 143).
    [[ $who == serve && $rc != 0 ]] && die "serve exited with status $rc; log: $logf"
    stored=$(find "$dir/storage" -name '*.dcm' -not -path '*/.incoming/*' -type f | wc -l)
    (( stored == ${#FILES[@]} )) || die "$who rep $rep: $stored of ${#FILES[@]} instances stored; log: $logf"
    read -r d n stale < <(distinct "$samples" "$T0" "$T1")
    # receiver CPU during the send, ms per instance
    cpu=$(awk -v a="$cpu0" -v b="$cpu1" -v hz="$(getconf CLK_TCK)" -v n="${#FILES[@]}" 'BEGIN { printf "%.3f", (b - a) * 1000 / hz / n }')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$who" "$rep" "$ELAPSED" "$d" "$n" "$cpu" "$stale" >>"$OUT/window.tsv"
    log "$(printf '%-6s rep %d: %7.3f s  %7.1f inst/s  CPU %s ms/inst  %d distinct screens in %d samples, longest unchanged %s s (load %s)' \
        "$who" "$rep" "$ELAPSED" "$(awk -v n="${#FILES[@]}" -v t="$ELAPSED" 'BEGIN { print n / t }')" "$cpu" "$d" "$n" "$stale" \
        "$(cut -d' ' -f1 /proc/loadavg)")"
    rm -rf "$dir"
    sync
    sleep "$PAUSE"
}

median() {
    awk -F'\t' -v w="$1" -v c="$2" '$1 == w { print $c }' "$OUT/window.tsv" | sort -g |
        awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
for (( rep = 1; rep <= REPS; rep++ )); do
    if (( rep % 2 )); then run_one serve "$rep"; run_one window "$rep"; else run_one window "$rep"; run_one serve "$rep"; fi
done

{
    ts=$(median serve 3) tw=$(median window 3)
    echo "## Window open: receiving with the window on screen"
    echo
    echo "$(date -u +'%Y-%m-%d %H:%M UTC'), $(nproc) cores, commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git status --porcelain 2>/dev/null | grep -q . && echo ' + uncommitted changes'). Load average at the start: $LOAD0, at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
    echo "Workload: ${#FILES[@]} CT × 0.5 MB, $ASSOCS concurrent storescu associations (TCP_NODELAY=1), fsync on; median of $REPS interleaved runs each; the screen sampled every ${SAMPLE} s during both."
    echo
    echo "| receiver | time, s | throughput | receiver CPU during the send, ms/instance | distinct screens / samples during the send, longest unchanged (per run) |"
    echo "|---|---:|---:|---:|---|"
    for w in serve window; do
        t=$(median "$w" 3)
        echo "| $([[ $w == serve ]] && echo 'dicominbox serve (headless)' || echo 'dicominbox window (Xvfb 1280×800)') | $t | $(awk -v n="${#FILES[@]}" -v b="$BYTES" -v t="$t" 'BEGIN { printf "%.0f inst/s, %.0f MB/s", n / t, b / 1e6 / t }') | $(median "$w" 6) | $(awk -F'\t' -v w="$w" '$1 == w { printf "%s%d/%d %.1fs", sep, $4, $5, $7; sep = ", " }' "$OUT/window.tsv") |"
    done
    echo
    echo "Window ÷ serve throughput: **$(awk -v a="$ts" -v b="$tw" 'BEGIN { printf "%.2f", a / b }')** (goal ≥ 0.90); per repetition: $(
        awk -F'\t' '{ t[$1 "," $2] = $3; if ($2 > m) m = $2 } END { for (k = 1; k <= m; k++) printf "%s%.2f", (k > 1 ? ", " : ""), t["serve," k] / t["window," k] }' "$OUT/window.tsv")."
    echo
    echo "The window kept refreshing during the sends: $(awk -F'\t' '$1 == "window" { runs++; if ($4 < 2 || $7 > 1.0) bad++ }
        END { if (runs && !bad) print "**yes** (every run: at least 2 distinct screens, no screen unchanged for more than 1 s)";
              else printf "**NO** (%d of %d runs had fewer than 2 distinct screens or a screen unchanged for more than 1 s)", bad, runs }' "$OUT/window.tsv")."
} | tee "$OUT/window.md"
