#!/usr/bin/env bash
# README command 2: install what is missing, build both flavours, run the
# whole test suite through ctest (optimised build, then ASan+UBSan build with
# the bounded fuzz runs).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh release
scripts/build.sh test
ctest --test-dir build --output-on-failure -j "$(nproc 2>/dev/null || echo 2)" -LE sanitize_only
ctest --test-dir build-san --output-on-failure -j "$(nproc 2>/dev/null || echo 2)"
