#!/usr/bin/env bash
# README command 1: install what is missing, build, run the main job
# (nubrun with no program runs the built-in demo).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh release
exec build/tools/nubrun/nubrun "$@"
