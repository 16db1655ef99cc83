#!/usr/bin/env bash
# Runs every test of every package and the end-to-end tests in one node:test run,
# so the summary at the end counts them all. Expects a build (scripts/bootstrap.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
shopt -s nullglob globstar
files=(packages/*/dist/test/**/*.test.js test/dist/**/*.test.js)
if [ ${#files[@]} -eq 0 ]; then
  echo "no test files found: run scripts/bootstrap.sh first" >&2
  exit 1
fi
# A hung test fails after 4 minutes instead of eating the CI budget.
# Serial: end-to-end tests build namespaces and measure traffic; a 2-core machine
# running them side by side only makes them slower and noisier.
exec node --test --test-concurrency=1 --test-timeout=240000 "$@" "${files[@]}"
