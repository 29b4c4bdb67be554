#!/usr/bin/env bash
# tools/bench.sh: side-by-side C-STORE benchmark, `dicominbox serve` against DCMTK storescp and Orthanc.
# What each case measures and how to read the ratios: docs/benchmarks.md.
#
# Usage: tools/bench.sh            (from anywhere; works in the repository root)
# Environment:
#   BENCH_REPS=3          repetitions per case and receiver (case w too); the median is reported
#   BENCH_QUICK=1         small workloads (100 CT, 4 multi-frame, 500 tiny, 50 Nagle)
#   BENCH_CASES="a b c d e w"                          subset of cases to run (w: the CT workload
#                         with the window open under Xvfb vs headless serve, tools/benchwindow.sh)
#   BENCH_RECEIVERS="ours ours-nosync ours-kafka storescp storescp-fork orthanc"   subset of receivers
#                         (ours-kafka: dicominbox forwarding to Kafka, see tools/bench_kafka.sh;
#                         orthanc: the Debian package's /usr/sbin/Orthanc, durable, own config per run)
#   BENCH_BIN=path        use this dicominbox binary (default: build build/dicominbox first)
#   BENCH_PORT=11200      first TCP port tried; each run takes the next free one
#   BENCH_PAUSE=3         seconds of rest between runs (this VM returns memory to its host)
#   BENCH_GEN=path        CT/multi-frame generator (default $DICOMINBOX_CORPUS or ../shared/corpus, /gen_bench.py)
# Output: tables on stdout and in build/bench/results.md; raw runs in build/bench/runs.tsv.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
REPS=${BENCH_REPS:-3}
QUICK=${BENCH_QUICK:-0}
CASES=${BENCH_CASES:-a b c d e w}
# Case w (window open) is run by tools/benchwindow.sh after the others, its table appended.
WINDOW_CASE=0
if [[ " $CASES " == *" w "* ]]; then WINDOW_CASE=1 CASES=$(tr ' ' '\n' <<<"$CASES" | grep -vx w | xargs || true); fi
RECEIVERS=${BENCH_RECEIVERS:-ours ours-nosync ours-kafka storescp storescp-fork orthanc}
PAUSE=${BENCH_PAUSE:-3}
NEXT_PORT=${BENCH_PORT:-11200}
AET=INBOX
DATA=build/benchdata RUNS=build/benchrun OUT=build/bench
PYTHON=/usr/bin/python3
GEN=${BENCH_GEN:-${DICOMINBOX_CORPUS:-$ROOT/../shared/corpus}/gen_bench.py}

if [[ $QUICK == 1 ]]; then CT_N=100 MF_N=4 TINY_N=500 NAGLE_N=50; else CT_N=400 MF_N=20 TINY_N=2000 NAGLE_N=200; fi

die() { echo "bench: $*" >&2; exit 1; }
log() { echo "bench: $*" >&2; }

# ---- processes this script started; only these are ever signalled ----------------------
RECV_GROUP="" RECV_PID="" SENDER_PIDS=()
cleanup() {
    local p
    for p in "${SENDER_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    # The receiver runs in its own process group (setsid), led by /usr/bin/time: this also
    # reaches storescp --fork children.
    [[ -n $RECV_GROUP ]] && kill -TERM -- "-$RECV_GROUP" 2>/dev/null || true
    kafka_cleanup
}
# shellcheck source=tools/bench_kafka.sh
source "$ROOT/tools/bench_kafka.sh"
trap cleanup EXIT
trap 'log interrupted; exit 130' INT TERM

check_tools() {
    local t
    for t in storescu storescp echoscu "$PYTHON" /usr/bin/time setsid pgrep git; do
        command -v "$t" >/dev/null || die "missing $t (Debian: apt-get install dcmtk python3-pydicom python3-numpy time procps)"
    done
    [[ $REPS =~ ^[1-9][0-9]*$ ]] || die "BENCH_REPS must be a positive integer, not '$REPS'"
    if [[ -n ${BENCH_BIN:-} ]]; then
        BIN=$BENCH_BIN
    else
        BIN=build/dicominbox
        log "building $BIN (go build -tags migrated_fynedo)"
        go build -tags migrated_fynedo -o "$BIN" . || die "go build failed"
    fi
    [[ -x $BIN ]] || die "receiver binary $BIN not found or not executable"
    if [[ " $RECEIVERS " == *" orthanc "* ]]; then
        ORTHANC=$(command -v Orthanc || echo /usr/sbin/Orthanc)   # /usr/sbin is not in every PATH
        [[ -x $ORTHANC ]] || die "missing Orthanc, needed by the receiver orthanc (Debian: apt-get install orthanc, or make deps-bench)"
        # (awk reads all of it: with head, Orthanc could die of SIGPIPE and pipefail stop the script)
        ORTHANC_VERSION="Orthanc $("$ORTHANC" --version | awk 'NR == 1 { print $NF }')"
        # The Debian package starts a system Orthanc where an init system lets it (ports 4242 and
        # 8042, /etc/orthanc). The runs use other ports and never talk to it, but it shares the
        # machine: say so rather than stop a service this script did not start.
        local others
        others=$(pgrep -x Orthanc | xargs || true)
        [[ -z $others ]] || log "warning: an Orthanc not started by this script is running (PID $others); it shares the cores and the disk with the runs (stop it with: systemctl stop orthanc, or /etc/init.d/orthanc stop)"
    fi
}

# ---- workloads: generated once into build/benchdata, reused afterwards (never timed) ---
count_files() { find "$1" -maxdepth 1 -name "$2" 2>/dev/null | wc -l; }
prepare_data() {
    if (( $(count_files "$DATA/gen/ct_study" 'CT_*.dcm') < CT_N || $(count_files "$DATA/gen/multiframe" 'MF_*.dcm') < MF_N )); then
        log "generating CT and multi-frame workload into $DATA/gen (takes a minute)"
        [[ -f $GEN ]] || die "generator $GEN not found; set BENCH_GEN to corpus/gen_bench.py"
        "$PYTHON" "$GEN" --out "$DATA/gen" --ct-count "$CT_N" --mf-count "$MF_N" >&2
    fi
    if (( $(count_files "$DATA/tiny" 'TINY_*.dcm') < TINY_N )); then
        log "generating $TINY_N tiny instances into $DATA/tiny"
        "$PYTHON" tools/benchdata/gen_tiny.py --out "$DATA/tiny" --count "$TINY_N" >&2
    fi
    mapfile -t CT_FILES < <(ls "$DATA"/gen/ct_study/CT_*.dcm | sort | head -n "$CT_N")
    mapfile -t MF_FILES < <(ls "$DATA"/gen/multiframe/MF_*.dcm | sort | head -n "$MF_N")
    mapfile -t TINY_FILES < <(ls "$DATA"/tiny/TINY_*.dcm | sort | head -n "$TINY_N")
    NAGLE_FILES=("${TINY_FILES[@]:0:NAGLE_N}")
}

bytes_of() { local -n a=$1; stat -c %s "${a[@]}" | awk '{ s += $1 } END { print s }'; }

# Run folders are kept until the end: deleting thousands of files just before a run slows it
# (ext4 skips recently freed inodes when allocating, ~20 % on case d), so make sure they fit.
check_space() {
    local cs files need=0 avail
    for cs in $CASES; do
        read -r files _ <<<"$(case_spec "$cs")"
        need=$(( need + $(bytes_of "$files") * $(wc -w <<<"$RECEIVERS") * REPS ))
    done
    avail=$(df -B1 --output=avail build | tail -n 1)
    (( need + need / 10 + (1 << 30) < avail )) ||
        die "needs $(( need >> 30 )) GiB + 10 % free on the disk of build/ (runs are kept until the end), $(( avail >> 30 )) GiB free; use fewer BENCH_REPS or BENCH_CASES"
}

# case id -> "files-array associations tcp_nodelay label"
case_spec() {
    case $1 in
        a) echo "CT_FILES 1 1 ($1) $CT_N CT × 0.5 MB, 1 association" ;;
        b) echo "CT_FILES 4 1 ($1) $CT_N CT × 0.5 MB, 4 concurrent associations" ;;
        c) echo "MF_FILES 1 1 ($1) $MF_N multi-frame × 50 MB, 1 association" ;;
        d) echo "TINY_FILES 1 1 ($1) $TINY_N tiny × 11 KB, 1 association" ;;
        e) echo "NAGLE_FILES 1 0 ($1) $NAGLE_N tiny, stock storescu (Nagle on), 1 association" ;;
        *) die "unknown case '$1' (cases: a b c d e)" ;;
    esac
}

receiver_label() {
    case $1 in
        ours) echo "dicominbox" ;; ours-nosync) echo "dicominbox --no-sync" ;;
        storescp) echo "storescp" ;; storescp-fork) echo "storescp --fork" ;;
        ours-kafka) echo "dicominbox + Kafka" ;; orthanc) echo "Orthanc" ;;
        *) die "unknown receiver '$1' (receivers: ours ours-nosync ours-kafka storescp storescp-fork orthanc)" ;;
    esac
}

# ---- one receiver --------------------------------------------------------------------------
free_port() {
    local p=$NEXT_PORT
    while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done
    (( p < 65000 )) || die "no free port"
    PORT=$p NEXT_PORT=$((p + 1))
}

# orthanc_config DIR: Orthanc's configuration for a run in DIR (the run folder): storage in
# DIR/storage, SQLite index in DIR/index, DICOM on $PORT with the AE title $AET, no HTTP server,
# no plugins. Every other option keeps Orthanc's built-in default (`Orthanc --config=-` prints
# them), in particular SyncStorageArea true and StorageCompression false. Given a file, Orthanc
# reads only that file: nothing from /etc/orthanc, not the package's plugin folder.
orthanc_config() {
    "$PYTHON" - "$1" "$AET" "$PORT" <<'EOF'
import json, sys
run, aet, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
json.dump({"StorageDirectory": run + "/storage", "IndexDirectory": run + "/index",
           "DicomAet": aet, "DicomPort": port, "HttpServerEnabled": False, "Plugins": []},
          sys.stdout, indent=2)
print()
EOF
}

# start_receiver NAME DIR LOG RSSFILE NODELAY [PHASELOG]: sets PORT, RECV_GROUP (/usr/bin/time),
# RECV_PID. PHASELOG: where receiver ours writes its `serve --phase-log` (per-instance step times).
# NODELAY=1 exports TCP_NODELAY=1, which makes DCMTK disable Nagle on its socket (storescp, and
# Orthanc, whose DICOM server is DCMTK's network library); dicominbox (Go) always sets
# TCP_NODELAY and ignores the variable.
start_receiver() {
    local name=$1 dir=$2 logf=$3 rssf=$4 cmd i envset=(env -u TCP_NODELAY)
    [[ $5 == 1 ]] && envset=(env TCP_NODELAY=1)
    free_port
    case $name in
        ours | ours-nosync | ours-kafka)
            cmd=("$BIN" serve --aet "$AET" --port "$PORT" --bind 127.0.0.1 --storage "$dir" --config /nonexistent --log-level warn)
            [[ $name == ours-nosync ]] && cmd+=(--no-sync)
            [[ $name == ours && -n ${6:-} ]] && cmd+=(--phase-log "$6")
            [[ $name == ours-kafka ]] && cmd+=(--kafka-brokers "$KAFKA_BROKERS") ;;
        storescp) cmd=(storescp -aet "$AET" --output-directory "$dir" "$PORT") ;;
        storescp-fork) cmd=(storescp --fork -aet "$AET" --output-directory "$dir" "$PORT") ;;
        orthanc)
            orthanc_config "$dir" >"$dir/orthanc.json"
            cmd=("$ORTHANC" "$dir/orthanc.json") ;;
    esac
    # setsid: own process group, so cleanup can reach every process of this receiver.
    "${envset[@]}" setsid /usr/bin/time -q -f '%M %U %S' -o "$rssf" "${cmd[@]}" >"$logf" 2>&1 &
    RECV_GROUP=$! RECV_PID=""
    for i in $(seq 100); do
        RECV_PID=$(pgrep -P "$RECV_GROUP" | head -n 1) && [[ -n $RECV_PID ]] && break
        sleep 0.05
    done
    [[ -n $RECV_PID ]] || { tail -n 20 "$logf" >&2; die "$name did not start or exited at once; log: $logf"; }
    for i in $(seq 200); do
        echoscu -aec "$AET" 127.0.0.1 "$PORT" >/dev/null 2>&1 && return 0
        alive "$RECV_PID" || { tail -n 20 "$logf" >&2; die "$name exited at start; log: $logf"; }
        sleep 0.1
    done
    die "$name does not answer C-ECHO on port $PORT after 20 s; log: $logf"
}

# alive PID: running and not a zombie (kill -0 succeeds on an unreaped child).
alive() { local s; s=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) && [[ -n $s && $s != Z ]]; }

# stop_receiver NAME LOG: SIGTERM to the receiver, wait up to 60 s, check how it ended.
stop_receiver() {
    local name=$1 logf=$2 rc=0 i
    kill -TERM "$RECV_PID" 2>/dev/null || true
    for i in $(seq 600); do alive "$RECV_GROUP" || break; sleep 0.1; done
    alive "$RECV_GROUP" && die "$name did not exit within 60 s of SIGTERM; log: $logf"
    wait "$RECV_GROUP" || rc=$?
    RECV_GROUP="" RECV_PID=""
    # dicominbox must drain and exit 0, and so must Orthanc (it stops its DICOM server and exits
    # 0); storescp has no SIGTERM handler and dies of it (143).
    case $name in
        ours* | orthanc) (( rc == 0 )) || { tail -n 20 "$logf" >&2; die "$name exited with status $rc; log: $logf"; } ;;
        *) (( rc == 0 || rc == 143 )) || { tail -n 20 "$logf" >&2; die "$name exited with status $rc; log: $logf"; } ;;
    esac
}

# stored_count RECEIVER DIR: instances stored in the run folder DIR.
stored_count() {
    case $1 in
        ours*) find "$2" -name '*.dcm' -not -path "$2/.incoming/*" -type f | wc -l ;;
        # Orthanc names a stored file after its attachment's UUID, in two levels of folders named
        # after the UUID's first two pairs of hex digits (storage/5a/47/5a471f28-a44e-...); its
        # index (SQLite and its WAL) is in DIR/index. Counted: such files that are DICOM files
        # (128-byte preamble, then "DICM").
        orthanc) "$PYTHON" - "$2/storage" <<'EOF'
import os, re, sys
root, n = sys.argv[1], 0
uuid = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
for d, _, files in os.walk(root):
    rel = os.path.relpath(d, root).split(os.sep)
    for f in files:
        if uuid.fullmatch(f) and rel == [f[0:2], f[2:4]]:
            with open(os.path.join(d, f), "rb") as fh:
                n += fh.read(132)[128:] == b"DICM"
print(n)
EOF
            ;;
        *) find "$2" -type f | wc -l ;;
    esac
}

# ---- one timed run ---------------------------------------------------------------------------
# send FILES-ARRAY ASSOCS NODELAY LOGPREFIX: storescu processes on equal slices of the files;
# sets ELAPSED to the wall time from the start of the first to the end of the last.
send() {
    local -n files=$1
    local assocs=$2 nodelay=$3 logp=$4 n=${#files[@]} k per t0 t1 rc bad=0
    local envset=(env -u TCP_NODELAY)
    [[ $nodelay == 1 ]] && envset=(env TCP_NODELAY=1)
    per=$(( (n + assocs - 1) / assocs )) SENDER_PIDS=()
    t0=$(date +%s.%N)
    for (( k = 0; k < assocs; k++ )); do
        "${envset[@]}" storescu -aet BENCH -aec "$AET" 127.0.0.1 "$PORT" "${files[@]:k*per:per}" >"$logp.scu$k.log" 2>&1 &
        SENDER_PIDS+=($!)
    done
    for (( k = 0; k < assocs; k++ )); do
        rc=0; wait "${SENDER_PIDS[k]}" || rc=$?
        (( rc == 0 )) || { bad=1; log "storescu $k exited with status $rc; log: $logp.scu$k.log"; }
    done
    t1=$(date +%s.%N)
    SENDER_PIDS=()
    (( bad == 0 )) || return 1
    ELAPSED=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')
}

run_one() {
    local cs=$1 recv=$2 rep=$3 files assocs nodelay tag dir logf rssf n bytes stored rss usr sys
    read -r files assocs nodelay _ <<<"$(case_spec "$cs")"
    local -n arr=$files
    n=${#arr[@]} bytes=$(bytes_of "$files")
    tag=$cs-$recv-$rep dir=$ROOT/$RUNS/$cs-$recv-$rep logf=$OUT/logs/$cs-$recv-$rep.log rssf=$OUT/logs/$cs-$recv-$rep.rss
    rm -rf "$dir" && mkdir -p "$dir"
    start_receiver "$recv" "$dir" "$logf" "$rssf" "$nodelay" "$OUT/logs/$tag.phases.tsv"
    if ! send "$files" "$assocs" "$nodelay" "$OUT/logs/$tag"; then
        stop_receiver "$recv" "$logf" || true
        die "run $tag failed (a sender failed); storage kept in $dir"
    fi
    stop_receiver "$recv" "$logf"
    stored=$(stored_count "$recv" "$dir")
    (( stored == n )) || die "run $tag: $stored of $n instances stored; storage kept in $dir, log: $logf"
    read -r rss usr sys < <(tail -n 1 "$rssf")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$cs" "$recv" "$rep" "$ELAPSED" "$n" "$bytes" "$rss" \
        "$(awk -v u="$usr" -v s="$sys" 'BEGIN { print u + s }')" >>"$OUT/runs.tsv"
    log "$(printf '%-2s %-14s rep %d: %7.3f s  %8.1f inst/s  peak RSS %d MiB' "$cs" "$recv" "$rep" "$ELAPSED" \
        "$(awk -v n="$n" -v t="$ELAPSED" 'BEGIN { print n / t }')" "$((rss / 1024))")"
    sync                       # storescp leaves dirty pages: do not let the next run write them back
    sleep "$PAUSE"
}

# ---- report ----------------------------------------------------------------------------------
# median CASE RECEIVER COLUMN (4 = seconds, 7 = peak RSS KiB, 8 = receiver CPU seconds)
median() {
    awk -F'\t' -v c="$1" -v r="$2" -v col="$3" '$1 == c && $2 == r { print $col }' "$OUT/runs.tsv" |
        sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print ""; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
rate() { awk -F'\t' -v c="$1" '$1 == c { print $5, $6; exit }' "$OUT/runs.tsv"; }
ratio() { [[ -n $1 && -n $2 ]] && awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f×", b / a }' || echo "—"; }

# header_row EXTRA...: "| case | <receivers> | EXTRA |" and its separator line
header_row() {
    local recv line="| case |" sep="|---|" x
    for recv in $RECEIVERS; do line+=" $(receiver_label "$recv") |" sep+="---:|"; done
    for x in "$@"; do line+=" $x |" sep+="---:|"; done
    printf '%s\n%s\n' "$line" "$sep"
}

report() {
    local cs recv label n bytes t line rss ours sc fork orth
    echo "# dicominbox vs DCMTK storescp and Orthanc: C-STORE throughput"
    echo
    echo "$(date -u +'%Y-%m-%d %H:%M UTC'), $(nproc) cores, commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git status --porcelain 2>/dev/null | grep -q . && echo ' + uncommitted changes'), $(storescp --version | head -n 1 | sed 's/^\$dcmtk: //; s/ \$$//')${ORTHANC_VERSION:+, $ORTHANC_VERSION}"
    echo "Command: \`BENCH_QUICK=$QUICK BENCH_REPS=$REPS BENCH_CASES=\"$CASES\" BENCH_RECEIVERS=\"$RECEIVERS\" tools/bench.sh\`"
    echo "Sender: DCMTK storescu. Cases a-d: TCP_NODELAY=1 for storescu, storescp and Orthanc (Nagle off); case e: stock (Nagle on). Median of $REPS run(s); MB = 10^6 bytes."
    echo "Load average at the start: $LOAD0, at the end: $(cut -d' ' -f1-3 /proc/loadavg) (anything above ~0.5 means other work competed with the runs)."
    echo
    header_row "dicominbox ÷ storescp" "dicominbox ÷ storescp --fork" "dicominbox ÷ Orthanc"
    for cs in $CASES; do
        read -r _ _ _ label <<<"$(case_spec "$cs")"
        read -r n bytes <<<"$(rate "$cs")"
        line="| $label |" ours="" sc="" fork="" orth=""
        for recv in $RECEIVERS; do
            t=$(median "$cs" "$recv" 4)
            line+=" $(awk -v n="$n" -v b="$bytes" -v t="$t" 'BEGIN { m = b / 1e6 / t; printf (m < 10 ? "%.0f inst/s, %.1f MB/s" : "%.0f inst/s, %.0f MB/s"), n / t, m }') |"
            case $recv in ours) ours=$t ;; storescp) sc=$t ;; storescp-fork) fork=$t ;; orthanc) orth=$t ;; esac
        done
        echo "$line $(ratio "$ours" "$sc") | $(ratio "$ours" "$fork") | $(ratio "$ours" "$orth") |"
    done
    echo
    echo "Peak RSS of the receiver, MiB (GNU time %M; for storescp --fork, the largest of parent and children):"
    echo
    header_row
    for cs in $CASES; do
        read -r _ _ _ label <<<"$(case_spec "$cs")"
        line="| $label |"
        for recv in $RECEIVERS; do rss=$(median "$cs" "$recv" 7); line+=" $((${rss%.*} / 1024)) |"; done
        echo "$line"
    done
    echo
    echo "Receiver CPU time (user + system) per instance, ms: less sensitive than wall time to other load on the machine."
    echo
    header_row
    for cs in $CASES; do
        read -r _ _ _ label <<<"$(case_spec "$cs")"
        read -r n bytes <<<"$(rate "$cs")"
        line="| $label |"
        for recv in $RECEIVERS; do line+=" $(awk -v c="$(median "$cs" "$recv" 8)" -v n="$n" 'BEGIN { printf "%.3f", c * 1000 / n }') |"; done
        echo "$line"
    done
}

# phase_report: per case, the medians (and means) of dicominbox's per-instance step times from
# the phase logs of receiver ours, each run's first half left out as warm-up.
phase_report() {
    local cs label f all line
    compgen -G "$OUT/logs/*-ours-*.phases.tsv" >/dev/null || return 0
    echo
    echo "Where dicominbox's time went, per instance, µs: median (mean) of \`serve --phase-log\` over the second half of each run (tools/phases.sh; the columns: docs/benchmarks.md)."
    echo
    echo "| case | gap | receive | header | durable | place | index | handler |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|"
    for cs in $CASES; do
        read -r _ _ _ label <<<"$(case_spec "$cs")"
        all=$OUT/logs/$cs-ours.phases-all.tsv
        : >"$all"
        for f in "$OUT"/logs/"$cs"-ours-*.phases.tsv; do
            [[ -s $all ]] || head -n 1 "$f" >"$all"
            tail -n +$(( 2 + ($(wc -l <"$f") - 1) / 2 )) "$f" >>"$all"
        done
        [[ -s $all ]] || continue
        line="| $label |"
        line+=$(tools/phases.sh "$all" | awk 'NR > 1 { printf " %s (%s) |", $3, $2 }')
        echo "$line"
    done
}

main() {
    local cs recv rep i k list
    [[ ${1:-} == -h || ${1:-} == --help ]] && { sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0; }
    for cs in $CASES; do case_spec "$cs" >/dev/null; done
    for recv in $RECEIVERS; do receiver_label "$recv" >/dev/null; done
    [[ $(tr ' ' '\n' <<<"$CASES $RECEIVERS" | grep . | sort | uniq -d) == "" ]] || die "a case or receiver is listed twice"
    check_tools
    if [[ -n $CASES ]]; then prepare_data; check_space; fi
    rm -rf "$OUT" "$RUNS" && mkdir -p "$OUT/logs" "$RUNS"
    kafka_setup
    LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
    read -r -a list <<<"$RECEIVERS"
    for cs in $CASES; do
        for (( rep = 1; rep <= REPS; rep++ )); do
            # The receiver order rotates per repetition and runs backwards in every second
            # one: rotation alone puts each receiver right after the same one every time
            # (and a receiver's speed depends on what ran before it, see docs/benchmarks.md).
            for (( i = 0; i < ${#list[@]}; i++ )); do
                k=$i
                (( rep % 2 == 0 )) && k=$(( ${#list[@]} - 1 - i ))
                run_one "$cs" "${list[(k + rep - 1) % ${#list[@]}]}" "$rep"
            done
        done
    done
    rm -rf "$RUNS"
    if [[ -n $CASES ]]; then { report; phase_report; kafka_report; } | tee "$OUT/results.md"; else : >"$OUT/results.md"; fi
    if (( WINDOW_CASE )); then
        { echo; BENCH_BIN=$BIN BENCH_PAUSE=$PAUSE BENCH_QUICK=$QUICK BENCH_WINDOW_REPS=${BENCH_WINDOW_REPS:-$REPS} tools/benchwindow.sh; } | tee -a "$OUT/results.md"
    fi
    log "results: $OUT/results.md, raw runs: $OUT/runs.tsv"
}

main "$@"
