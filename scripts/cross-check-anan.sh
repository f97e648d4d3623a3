#!/usr/bin/env bash
# Cross-check our PVM interpreter against anan-as (npm @fluffylabs/anan-as,
# an independent GP 0.7.2 interpreter): first the conformance vectors in
# tests/vectors/data (a sanity check of the harness: both engines and the
# expected-* fields must agree), then N generated programs (tests/anan/gen_vectors).
#
#   scripts/cross-check-anan.sh [N] [SEED]        (defaults: 1000, 1)
#
# Environment: BUILD_DIR (default build-anan), ANAN_DIR (where anan-as is
# installed with npm, default /tmp/anan; installed there if missing),
# ENGINE (interp, or jit), MAX_INSNS (default 40), KEEP_SBRK=1 to keep
# programs with sbrk (its behaviour is a project decision, SPEC D7).
#
# Manual tool, not part of ctest: it needs the network for npm. Known,
# documented differences are handled in tests/anan/cross_check.mjs (gas
# model, SPEC §7.2) or tagged "known anan-as deviation" in its output.
set -euo pipefail

N=${1:-1000}
SEED=${2:-1}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build-anan}
ANAN_DIR=${ANAN_DIR:-/tmp/anan}
ENGINE=${ENGINE:-interp}
MAX_INSNS=${MAX_INSNS:-40}
VECTORS=${VECTORS:-$ROOT/tests/vectors/data}

ANAN_JS=$ANAN_DIR/node_modules/@fluffylabs/anan-as/dist/build/release.js
if [ ! -f "$ANAN_JS" ]; then
    echo "installing @fluffylabs/anan-as into $ANAN_DIR"
    mkdir -p "$ANAN_DIR"
    (cd "$ANAN_DIR" && { [ -f package.json ] || npm init -y >/dev/null; } &&
        npm install --no-audit --no-fund @fluffylabs/anan-as >/dev/null)
fi

if [ ! -d "$BUILD_DIR" ]; then
    cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_C_COMPILER=clang-19 >/dev/null
fi
cmake --build "$BUILD_DIR" -j2 --target nubrun gen_vectors >/dev/null

CHECK=(node "$ROOT/tests/anan/cross_check.mjs" --anan "$ANAN_JS"
    --nubrun "$BUILD_DIR/tools/nubrun/nubrun" --engine "$ENGINE")

status=0
if [ -d "$VECTORS" ]; then
    echo "== conformance vectors ($VECTORS), also against expected-*"
    "${CHECK[@]}" --expected "$VECTORS" || status=1
fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
echo "== $N generated programs (seed $SEED, up to $MAX_INSNS instructions)"
GEN=("$BUILD_DIR/tests/anan/gen_vectors" --out "$WORK" --count "$N" --seed "$SEED"
    --max-insns "$MAX_INSNS")
[ "${KEEP_SBRK:-0}" = 1 ] && GEN+=(--keep-sbrk)
"${GEN[@]}"
"${CHECK[@]}" "$WORK" || status=1
exit $status
