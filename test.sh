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

dotnet test Signet.sln "$@"
