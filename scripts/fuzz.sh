#!/usr/bin/env bash
# Runs every libFuzzer target for a bounded time (default 30 s each) from the
# seed corpora (the golden wire fixtures) and prints libFuzzer's run counts.
#   scripts/fuzz.sh [seconds]
# Uses the ASan+UBSan build (build-san/, or $NUB_FUZZ_BUILD), configuring it
# with -DNUB_FUZZ=ON if needed. Exits non-zero if any target reports a finding.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-30}"
build="${NUB_FUZZ_BUILD:-build-san}"
targets=(wire_cap:cap wire_result:result capbuild_stdprog:stdprog)

cmake -S . -B "$build" -DCMAKE_C_COMPILER=clang-19 -DCMAKE_BUILD_TYPE=Debug \
      -DNUB_SANITIZE=ON -DNUB_FUZZ=ON >/dev/null
names=(fuzz_seed_gen)
for t in "${targets[@]}"; do names+=("fuzz_${t%%:*}"); done
for n in "${names[@]}"; do cmake --build "$build" -j 2 --target "$n" >/dev/null; done

out="$build/tests/fuzz/fuzz"
"$build/tests/fuzz/fuzz_seed_gen" "$out" tests/wire/golden

status=0
for t in "${targets[@]}"; do
  name="${t%%:*}" corpus="${t##*:}"
  log="$out/$name.log"
  if "$build/tests/fuzz/fuzz_$name" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
       -print_final_stats=1 -artifact_prefix="$out/artifacts/$name-" \
       "$out/work/$corpus" "$out/seeds/$corpus" >"$log" 2>&1; then
    echo "fuzz_$name: OK   $(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n1)"
  else
    echo "fuzz_$name: FINDING (see $log and $out/artifacts/)"
    tail -n 30 "$log"
    status=1
  fi
done
exit "$status"
