#!/usr/bin/env bash
# Installs what nub needs on Debian 12 (bookworm), only if something is missing.
# Runs non-interactively (CI has no stdin). Needs root, or sudo.
set -euo pipefail

packages=(
  build-essential cmake git python3
  clang-format-14                      # the style test (tests/style)
  clang-19 lld-19 libclang-rt-19-dev   # the project compiler, libFuzzer, C -> PVM
  libxxhash-dev                        # XXH3 for the guest directory buckets
  libcmocka-dev                        # unit tests
  libb2-dev                            # BLAKE2b oracle for the tests
  pkg-config                           # the pkg-config example (tests/install)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq "${missing[@]}" </dev/null
