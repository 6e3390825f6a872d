#!/usr/bin/env bash
# Packs the libraries (Signet.Core, Signet.Mcp, Signet.Mcp.Redis, Signet.Bridge, each with its symbol package) and
# the signet .NET tool: a Native AOT build for this machine's platform (about 20 ms to start, so an MCP client
# that launches `signet proxy` for every server does not wait on a JIT), and a framework-dependent build that any
# other platform with the .NET runtime installs instead.
# Usage: bash pack.sh [OUT_DIR]   (default: out/tool)
# Then:  dotnet tool install -g Signet.Cli --add-source OUT_DIR
#        or, for the libraries, OUT_DIR as a package source of a project (see docs/library.md)
# The packages name their source repository from this clone's `origin` remote (SourceLink), or from
# SIGNET_REPOSITORY_URL when that is set.
set -euo pipefail
cd "$(dirname "$0")"
out="${1:-out/tool}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"

repo_args=()
if [ -n "${SIGNET_REPOSITORY_URL:-}" ]; then
  repo_args+=("-p:RepositoryUrl=$SIGNET_REPOSITORY_URL")
elif ! git remote get-url origin >/dev/null 2>&1; then
  echo "pack.sh: this clone has no origin remote: the packages carry the commit but no repository URL (set SIGNET_REPOSITORY_URL)" >&2
fi

# The libraries, with symbols (.snupkg) and package validation.
rm -f "$out"/Signet.Core.*nupkg "$out"/Signet.Mcp.*nupkg "$out"/Signet.Bridge.*nupkg
for lib in Signet.Core Signet.Mcp Signet.Mcp.Redis Signet.Bridge; do
  dotnet pack "src/$lib" -c Release -o "$out" ${repo_args[@]+"${repo_args[@]}"}
done

rid="$(dotnet --info | awk '$1 == "RID:" { print $2; exit }')"
if [ -z "$rid" ]; then
  echo "pack.sh: cannot read this machine's runtime identifier from 'dotnet --info'" >&2
  exit 1
fi

# Native AOT links with the platform's C toolchain. On Linux it looks for `clang`; Debian-style systems may only have
# a versioned clang-NN, which is passed on explicitly.
aot_args=()
aot=yes
case "$rid" in
  linux-*)
    if ! command -v clang >/dev/null 2>&1; then
      versioned="$(compgen -c clang- | grep -E '^clang-[0-9]+$' | sort -t- -k2 -n | tail -n 1 || true)"
      if [ -n "$versioned" ]; then
        aot_args+=("-p:CppCompilerAndLinker=$versioned")
      else
        aot=no
      fi
    fi
    ;;
esac

if [ "$aot" = no ]; then
  echo "pack.sh: no clang found: packing the framework-dependent tool only (install clang and zlib1g-dev for the Native AOT build)" >&2
  rm -f "$out"/Signet.Cli.*.nupkg
  dotnet pack src/Signet.Cli -c Release -o "$out" ${repo_args[@]+"${repo_args[@]}"}
  ls -1 "$out"/*.nupkg
  echo "install: dotnet tool install -g Signet.Cli --add-source $out"
  exit 0
fi

rid_arg="-p:SignetToolRid=$rid"
rm -f "$out"/Signet.Cli.*.nupkg
# 1. The package `dotnet tool install Signet.Cli` finds: it names the platform packages below.
dotnet pack src/Signet.Cli -c Release -o "$out" "$rid_arg" ${repo_args[@]+"${repo_args[@]}"}
# 2. Framework-dependent, for every platform without its own package.
dotnet pack src/Signet.Cli -c Release -r any -o "$out" "$rid_arg" ${repo_args[@]+"${repo_args[@]}"}
# 3. Native AOT for this platform.
dotnet pack src/Signet.Cli -c Release -r "$rid" -o "$out" "$rid_arg" ${aot_args[@]+"${aot_args[@]}"} ${repo_args[@]+"${repo_args[@]}"}

echo
ls -1 "$out"/*.nupkg
echo "install: dotnet tool install -g Signet.Cli --add-source $out"
