#!/usr/bin/env bash
# Rewrites the public-API lists of the library packages (src/*/PublicAPI.Unshipped.txt) to match the code, for a
# change that means to alter the public surface. The build fails (RS0016/RS0017, PublicApiAnalyzers) whenever the
# code and the lists disagree, so the lists change in the same commit as the API, where a reviewer sees them.
# Usage: bash update-public-api.sh
set -euo pipefail
cd "$(dirname "$0")"
for project in Signet.Core Signet.Mcp Signet.Mcp.Redis Signet.Bridge; do
  dir="src/$project"
  unshipped="$dir/PublicAPI.Unshipped.txt"
  printf '#nullable enable\n' > "$unshipped"
  log="$(mktemp)"
  # Every symbol the analyzer reports as undeclared, in the list's own notation (it is quoted in the message).
  dotnet build "$dir" -p:TreatWarningsAsErrors=false -p:WarningsAsErrors= --no-incremental -nologo -v quiet >"$log" 2>&1 || true
  grep -F "$project.csproj]" "$log" | grep -o "RS0016: Symbol '.*' is not part of the declared public API" \
    | sed -e "s/^RS0016: Symbol '//" -e "s/' is not part of the declared public API$//" \
    | LC_ALL=C sort -u >> "$unshipped"
  rm -f "$log"
  echo "$unshipped: $(($(wc -l < "$unshipped") - 1)) symbols"
done
