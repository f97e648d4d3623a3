#!/usr/bin/env bash
# Configures and builds one flavour of nub.
#   scripts/build.sh release   -> build/      (clang-19, optimised; nubrun, nubbench)
#   scripts/build.sh gcc       -> build-gcc/  (gcc, optimised: the tree builds with both)
#   scripts/build.sh test      -> build-san/  (clang-19, ASan+UBSan, libFuzzer targets)
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
case "${1:-release}" in
  release)
    cmake -S . -B build -DCMAKE_C_COMPILER=clang-19 -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build build -j "$jobs" ;;
  gcc)
    cmake -S . -B build-gcc -DCMAKE_C_COMPILER=gcc -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build build-gcc -j "$jobs" ;;
  test)
    cmake -S . -B build-san -DCMAKE_C_COMPILER=clang-19 -DCMAKE_BUILD_TYPE=Debug \
          -DNUB_SANITIZE=ON -DNUB_FUZZ=ON >/dev/null
    cmake --build build-san -j "$jobs" ;;
  *) echo "usage: scripts/build.sh release|gcc|test" >&2; exit 2 ;;
esac
