#!/usr/bin/env bash
# The test command: installs the pinned npm peers the interop tests drive, then runs every test project.
# Usage: bash test.sh [extra dotnet test arguments]
set -euo pipefail
cd "$(dirname "$0")"

if [ -f tests/interop/package.json ]; then
  if command -v npm >/dev/null 2>&1; then
    (cd tests/interop && npm ci --no-audit --no-fund --loglevel=error)
  else
    echo "test.sh: npm not found; the interop tests need Node.js 20+ and npm" >&2
    exit 1
  fi
fi

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
dotnet test Signet.sln "$@" 2>&1 | tee "$log" || status=$?
# One closing line over every test project: "N passed, N failed, N skipped".
awk '/^(Passed|Failed)!/ {
       for (i = 1; i <= NF; i++) {
         if ($i == "Passed:")  passed  += $(i + 1)
         if ($i == "Failed:")  failed  += $(i + 1)
         if ($i == "Skipped:") skipped += $(i + 1)
       }
     }
     END { printf "%d passed, %d failed, %d skipped\n", passed, failed, skipped }' "$log"
exit "$status"
