#!/usr/bin/env bash
# Runs every test of every package, then the end-to-end tests, and prints one
# line that counts them all. Expects a build (scripts/bootstrap.sh). Extra
# arguments go to both node --test runs.
#
# The packages' tests run two files at a time: most are logic on fakes, and
# those that build namespaces or devices name them after their pid, so two
# never collide. The end-to-end tests run one file at a time: they build labs
# and measure traffic, and on a 2-core machine two of them side by side only
# get slower and noisier.
set -uo pipefail
cd "$(dirname "$0")/.."
shopt -s nullglob globstar
unit=(packages/*/dist/test/**/*.test.js)
e2e=(test/dist/**/*.test.js)
if [ ${#unit[@]} -eq 0 ] || [ ${#e2e[@]} -eq 0 ]; then
  echo "no test files found: run scripts/bootstrap.sh first" >&2
  exit 1
fi
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
# A hung test fails after 4 minutes instead of eating the CI budget.
node --test --test-concurrency=2 --test-timeout=240000 "$@" "${unit[@]}" | tee "$log/unit"
unit_rc=${PIPESTATUS[0]}
node --test --test-concurrency=1 --test-timeout=240000 "$@" "${e2e[@]}" | tee "$log/e2e"
e2e_rc=${PIPESTATUS[0]}

count() {
  local n
  n=$(grep -E "^# $1 " "$log/$2" | tail -1 | awk '{print $3}')
  echo "${n:-0}"
}
echo "# all tests: $(($(count tests unit) + $(count tests e2e))) run, $(($(count pass unit) + $(count pass e2e))) passed, $(($(count fail unit) + $(count fail e2e))) failed (packages: exit $unit_rc, end-to-end: exit $e2e_rc)"
[ "$unit_rc" -eq 0 ] && [ "$e2e_rc" -eq 0 ]
