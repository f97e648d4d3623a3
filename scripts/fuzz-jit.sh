#!/usr/bin/env bash
# Longer differential fuzzing of the JIT against the reference interpreter.
#   scripts/fuzz-jit.sh [PROGRAMS] [SECONDS]
# 1. jit_fuzz_diff: PROGRAMS generated programs (default 1,000,000) in chunks
#    of growing size (40, 120, 250 instructions), from a random start seed;
#    the first divergence stops the run and prints the seed to replay with
#      build-san/tests/jit/jit_fuzz_diff --seed S --count 1 --max-insns M --dump
# 2. fuzz_jit_blob (libFuzzer, raw blobs) for SECONDS (default 600), if built.
# Uses build-san/ (scripts/build.sh test builds it).
set -euo pipefail
cd "$(dirname "$0")/.."
programs=${1:-1000000}
seconds=${2:-600}
build=${NUB_BUILD_DIR:-build-san}   # NUB_BUILD_DIR=build-x to use another build
bin=$build/tests/jit
[ -x "$bin/jit_fuzz_diff" ] || { [ "$build" = build-san ] && scripts/build.sh test; }
export ASAN_OPTIONS=allow_user_segv_handler=1:handle_segv=0:handle_sigbus=0:handle_sigfpe=0
start=$(( (RANDOM << 15 | RANDOM) * 1000 ))
per=$(( programs / 3 ))
for insns in 40 120 250; do
  echo "== $per programs of up to $insns instructions from seed $start"
  "$bin/jit_fuzz_diff" --count "$per" --seed "$start" --max-insns "$insns" --dump
  start=$(( start + per ))
done
if [ -x "$bin/fuzz_jit_blob" ]; then
  corpus=$(mktemp -d)
  "$bin/jit_fuzz_diff" --write-seeds "$corpus" --count 500 --seed "$start"
  echo "== libFuzzer fuzz_jit_blob for $seconds s (corpus $corpus)"
  "$bin/fuzz_jit_blob" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 \
      -print_final_stats=1 "$corpus"
fi
