#!/usr/bin/env bash
# The console's browser tests (web/console/test): the real binary, Debian's
# Chromium driven by playwright-core. Run by `make test` when Node, the
# console's node_modules and Chromium are there, and always under CI=true,
# where anything missing fails the run (.ci/run installs it all).
# PGMOTION_BIN names the binary to test.
set -euo pipefail
cd "$(dirname "$0")/../web/console"

need=()
command -v node >/dev/null || need+=("node (apt-get install nodejs npm)")
[ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] || need+=("chromium (apt-get install chromium)")
[ -d node_modules/playwright-core ] || need+=("node_modules (cd web/console && npm ci)")
command -v kcat >/dev/null || need+=("kcat (apt-get install kcat)")
if [ "${#need[@]}" -gt 0 ]; then
	# CI as Go's strconv.ParseBool reads it, as the Go tests do (pgtest.Unavailable).
	case "${CI:-}" in 1 | t | T | true | TRUE | True)
		printf 'console tests: missing %s\n' "${need[@]}" >&2
		exit 1
		;;
	esac
	printf 'console browser tests SKIPPED: missing %s\n' "${need[*]}"
	exit 0
fi

# The binary embeds internal/console/dist, which is committed so that Go
# builds without Node: it must be what the sources build.
node build.mjs
if ! git diff --quiet -- ../../internal/console/dist || [ -n "$(git ls-files --others --exclude-standard -- ../../internal/console/dist)" ]; then
	echo "internal/console/dist is stale: run 'make console' and commit internal/console/dist" >&2
	exit 1
fi
npx tsc -p .
npm test
