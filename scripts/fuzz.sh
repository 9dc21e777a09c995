#!/usr/bin/env bash
# Runs every fuzz target in the module, one at a time, for the given
# duration each (default 5s). Targets are the `func FuzzXxx` in _test.go
# files. Crashers land in the package's testdata/fuzz/, to be committed.
#
#   scripts/fuzz.sh 5s     # the short pass of `make test`
#   scripts/fuzz.sh 10m    # `make fuzz`
set -euo pipefail

fuzztime="${1:-5s}"
cd "$(dirname "$0")/.."

mapfile -t files < <(grep -rl --include='*_test.go' --exclude-dir=.git --exclude-dir=vendor --exclude-dir=testdata --exclude-dir=node_modules '^func Fuzz' . | sort)
if [ "${#files[@]}" -eq 0 ]; then
	echo "fuzz.sh: no fuzz targets (func FuzzXxx in *_test.go) found; nothing to fuzz"
	exit 0
fi

total=0
failed=()
for file in "${files[@]}"; do
	pkg="./$(dirname "${file#./}")"
	for name in $(grep -o '^func Fuzz[A-Za-z0-9_]*' "$file" | sed 's/^func //'); do
		total=$((total + 1))
		echo "fuzz.sh: $pkg $name for $fuzztime"
		if ! go test -run='^$' -fuzz="^${name}\$" -fuzztime="$fuzztime" "$pkg"; then
			failed+=("$pkg $name")
		fi
	done
done

if [ "${#failed[@]}" -gt 0 ]; then
	echo "fuzz.sh: ${#failed[@]} of $total fuzz targets failed:" >&2
	printf '  %s\n' "${failed[@]}" >&2
	echo "fuzz.sh: crashers are in the packages' testdata/fuzz/; reproduce with go test -run=NAME/ENTRY ./pkg" >&2
	exit 1
fi
echo "fuzz.sh: $total fuzz targets passed ($fuzztime each)"
