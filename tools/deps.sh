#!/usr/bin/env bash
# Installs the Debian packages named as arguments, but only those not installed yet.
#
#   tools/deps.sh gcc libgl1-mesa-dev ...
#
# A package counts as present when `dpkg-query -W` reports it "install ok installed".
# If anything is missing it runs `apt-get update` (skipped when the file named by
# $APT_UPDATE_STAMP exists: the Makefile names one per make invocation, so update runs
# at most once per `make`) and then one `apt-get install` for all missing packages.
# As root it calls apt-get directly, otherwise through sudo; without sudo it prints
# the command to run and fails. On systems without dpkg it only prints the list.
set -euo pipefail

if [ $# -eq 0 ]; then
	exit 0
fi

if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "deps: no dpkg here; make sure these (Debian names) or their equivalents are installed: $*" >&2
	exit 0
fi

missing=()
for pkg in "$@"; do
	if ! dpkg-query -W -f='${Status}\n' "$pkg" 2>/dev/null | grep -q '^install ok installed$'; then
		missing+=("$pkg")
	fi
done
if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
	as_root=()
elif command -v sudo >/dev/null 2>&1; then
	as_root=(sudo)
else
	echo "deps: missing packages: ${missing[*]}" >&2
	echo "deps: as root, run:" >&2
	echo "  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}" >&2
	exit 1
fi

echo "deps: installing ${missing[*]}"
stamp=${APT_UPDATE_STAMP:-}
if [ -z "$stamp" ] || [ ! -e "$stamp" ]; then
	"${as_root[@]}" apt-get update
	if [ -n "$stamp" ]; then
		mkdir -p "$(dirname "$stamp")"
		# Stamps of earlier make runs are stale.
		find "$(dirname "$stamp")" -maxdepth 1 -name '.apt-updated.*' ! -path "$stamp" -delete 2>/dev/null || true
		touch "$stamp"
	fi
fi
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
