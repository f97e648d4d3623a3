#!/usr/bin/env bash
# README command 2: install what is missing, build three flavours and run the
# whole test suite through ctest on each:
#   build/      clang-19, optimised  (includes install_examples: the package
#               installed to a temporary prefix, the examples built against it)
#   build-gcc/  gcc, optimised       (the same suite: the tree builds and
#               passes with both compilers)
#   build-san/  clang-19, ASan+UBSan, plus the bounded libFuzzer runs
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
scripts/install-deps.sh
scripts/build.sh release
scripts/build.sh gcc
scripts/build.sh test
ctest --test-dir build --output-on-failure -j "$jobs" -LE sanitize_only
ctest --test-dir build-gcc --output-on-failure -j "$jobs" -LE sanitize_only
ctest --test-dir build-san --output-on-failure -j "$jobs"
