#!/usr/bin/env bash
# Runs every native Go fuzz target of the module, one after the other.
#
#   tools/fuzz.sh [fuzztime]     fuzztime as for `go test -fuzztime` (default 10s; e.g. 2m or 5000x)
#
# Targets are found by grepping the *_test.go files for `func FuzzXxx(f *testing.F)`.
# Every target runs even if an earlier one fails; the script fails if any did.
# Failing inputs land in the package's testdata/fuzz/FuzzXxx/ (commit them as seeds).
set -euo pipefail
cd "$(dirname "$0")/.."

fuzztime=${1:-10s}
go=${GO:-go}
tags=${GO_TAGS:-migrated_fynedo}

# "dir name" pairs, e.g. "./scp/pdu FuzzDecodePDU".
targets=$(grep -rHE --include='*_test.go' --exclude-dir=.git --exclude-dir=build \
	--exclude-dir=testdata --exclude-dir=vendor \
	'^func Fuzz[A-Za-z0-9_]*\([A-Za-z_][A-Za-z0-9_]* \*testing\.F\)' . |
	sed -E 's#^(.*)/[^/]+_test\.go:func (Fuzz[A-Za-z0-9_]*)\(.*#\1 \2#' | sort -u || true)

if [ -z "$targets" ]; then
	echo "fuzz: no fuzz targets found"
	exit 0
fi

# crashers lists the failing inputs saved for a target.
crashers() {
	if [ -d "$1/testdata/fuzz/$2" ]; then ls "$1/testdata/fuzz/$2"; fi
}

# Go 1.26's fuzz coordinator can fail a target with a bare "context deadline
# exceeded" at the -fuzztime boundary although no input failed
# (go.dev/issue/75804, fixed in Go 1.27). A target that fails without saving
# a new failing input is therefore run once more; a saved input, or a second
# failure, fails the run.
failed=()
while read -r dir name; do
	for attempt in 1 2; do
		echo "fuzz: $name in $dir for $fuzztime"
		before=$(crashers "$dir" "$name")
		if "$go" test -tags "$tags" -run=NONE -fuzz="^${name}\$" -fuzztime="$fuzztime" "$dir" </dev/null; then
			break
		fi
		if [ "$attempt" = 2 ] || [ "$(crashers "$dir" "$name")" != "$before" ]; then
			failed+=("$dir $name")
			break
		fi
		echo "fuzz: $name failed without a failing input (Go fuzz coordinator race, go.dev/issue/75804): running it again"
	done
done <<<"$targets"

if [ ${#failed[@]} -gt 0 ]; then
	echo "fuzz: FAILED:" >&2
	printf '  %s\n' "${failed[@]}" >&2
	exit 1
fi
echo "fuzz: all $(wc -l <<<"$targets") targets passed"
