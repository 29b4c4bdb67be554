#!/usr/bin/env bash
# tools/phases.sh: sums up a phase log written by `dicominbox serve --phase-log FILE`.
#
#   tools/phases.sh FILE [SKIP]     SKIP: leave out the first SKIP instances (warm-up; default 0)
#
# Prints, for each time column (microseconds), the mean, median and 90th percentile over the
# instances, and how many there were. Columns: gap (previous instance stored -> this handler
# called: response, the sender's turn, the next command), receive, header, durable, place, index
# (see store.Phases) and the whole handler.
set -euo pipefail
file=${1:?usage: tools/phases.sh FILE [SKIP]}
skip=${2:-0}
[[ -r $file ]] || { echo "phases: cannot read $file" >&2; exit 1; }
header=$(head -n 1 "$file")
[[ $header == assoc$'\t'sop_instance_uid$'\t'bytes$'\t'gap_us* ]] || { echo "phases: $file is not a phase log" >&2; exit 1; }
printf '%-12s %10s %10s %10s %8s\n' column mean median p90 count
for col in 4 5 6 7 8 9 10; do
    name=$(cut -f "$col" <<<"$header")
    tail -n +$((2 + skip)) "$file" | cut -f "$col" | grep -E '^[0-9]+$' | sort -n |
        awk -v name="${name%_us}" '
            { v[NR] = $1; sum += $1 }
            END {
                if (NR == 0) { printf "%-12s %10s %10s %10s %8d\n", name, "-", "-", "-", 0; exit }
                p50 = v[int((NR + 1) / 2)]; p90 = v[int(NR * 0.9 + 0.5) > 0 ? int(NR * 0.9 + 0.5) : 1]
                printf "%-12s %10.0f %10d %10d %8d\n", name, sum / NR, p50, p90, NR
            }'
done
