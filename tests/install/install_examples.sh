#!/bin/sh
# The installed package, as an embedder sees it (ctest: install_examples):
#  1. cmake --install BUILD --prefix TMP/prefix
#  2. examples/cmake-find-package built against it (shared and static) and run
#  3. examples/pkg-config built against it and run
#  4. the prefix moved: its nub-cc still compiles (the program is checked on
#     the moved nubrun's interpreter) and pkg-config still finds everything
#  5. a project with add_subdirectory(nub) linking nubhost::nubhost (built
#     and run), and the same with FetchContent (configured: same build)
# Builds failing fail the test. Running the examples needs /dev/kvm; without
# it everything else still runs and the test exits 77 (skipped) with the reason.
#
#   install_examples.sh SOURCE_DIR BUILD_DIR C_COMPILER
set -eu
src=$1
build=$2
cc=$3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nub-install-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
skipped=""

step() { echo "== $*"; }
# Runs an example program; 77 (no KVM) is remembered, anything else but 0 fails.
run_example() {
    rc=0
    "$@" || rc=$?
    if [ "$rc" = 77 ]; then
        skipped="$skipped $1"
    elif [ "$rc" != 0 ]; then
        echo "FAILED ($rc): $*"
        exit 1
    fi
}

step "install to $tmp/prefix"
cmake --install "$build" --prefix "$tmp/prefix" >"$tmp/install.log"
for f in lib/libnubhost.so lib/libnubhost.a include/nub/host.h lib/pkgconfig/nubhost.pc \
         lib/cmake/nubhost/nubhostConfig.cmake lib/cmake/nubhost/nubhostConfigVersion.cmake \
         bin/nubrun bin/pvmasm bin/pvmdis bin/rv2pvm bin/nub-cc share/nub-cc/nub_pvm.ld; do
    [ -e "$tmp/prefix/$f" ] || { echo "not installed: $f"; exit 1; }
done

step "each installed header compiles on its own with only the installed headers"
for h in "$tmp"/prefix/include/nub/*.h; do
    printf '#include <nub/%s>\nint nub_header_check;\n' "${h##*/}" >"$tmp/h.c"
    "$cc" -std=c11 -Wall -Wextra -Werror -pedantic -I "$tmp/prefix/include" -c "$tmp/h.c" \
          -o "$tmp/h.o" || { echo "FAILED: <nub/${h##*/}> alone"; exit 1; }
done

# The examples are copied out of the tree first: they must need nothing
# from it.
cp -R "$src/examples" "$tmp/examples"

step "examples/cmake-find-package (find_package(nubhost))"
cmake -S "$tmp/examples/cmake-find-package" -B "$tmp/fp" -DCMAKE_C_COMPILER="$cc" \
      -DCMAKE_PREFIX_PATH="$tmp/prefix" >"$tmp/fp.log"
cmake --build "$tmp/fp" >>"$tmp/fp.log" || { cat "$tmp/fp.log"; exit 1; }
run_example "$tmp/fp/embed"
run_example "$tmp/fp/embed_static"

step "examples/pkg-config (pkg-config nubhost)"
PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig" make -s -C "$tmp/examples/pkg-config" CC="$cc" \
    O="$tmp/pc"
run_example "$tmp/pc/embed" "$tmp/pc/gcd.jam"

step "the prefix moved: nub-cc, nubrun and pkg-config still work"
mv "$tmp/prefix" "$tmp/moved"
"$tmp/moved/bin/nub-cc" "$tmp/examples/pkg-config/gcd.c" -o "$tmp/moved-gcd.jam"
out=$("$tmp/moved/bin/nubrun" --engine interp --args 1071,462 --json "$tmp/moved-gcd.jam")
echo "$out"
case "$out" in
*'"phi7": 21,'*) ;;
*) echo "FAILED: the moved nub-cc's program did not compute gcd = 21"; exit 1 ;;
esac
PKG_CONFIG_PATH="$tmp/moved/lib/pkgconfig" make -s -C "$tmp/examples/pkg-config" CC="$cc" \
    O="$tmp/pc-moved"
run_example "$tmp/pc-moved/embed" "$tmp/moved-gcd.jam"

step "add_subdirectory(nub) consumer"
cmake -S "$src/tests/install/subproject" -B "$tmp/sub" -DCMAKE_C_COMPILER="$cc" \
      -DNUB_SOURCE_DIR="$src" >"$tmp/sub.log" || { cat "$tmp/sub.log"; exit 1; }
cmake --build "$tmp/sub" -j 2 >>"$tmp/sub.log" || { tail -50 "$tmp/sub.log"; exit 1; }
run_example "$tmp/sub/consumer" "$tmp/fp/collatz.jam"
step "FetchContent(nub) consumer: configures"
cmake -S "$src/tests/install/subproject" -B "$tmp/fetch" -DCMAKE_C_COMPILER="$cc" \
      -DNUB_SOURCE_DIR="$src" -DNUB_USE_FETCHCONTENT=ON >"$tmp/fetch.log" ||
    { cat "$tmp/fetch.log"; exit 1; }

if [ -n "$skipped" ]; then
    echo "skipped (exit 77): no usable /dev/kvm to run:$skipped; everything else passed"
    exit 77
fi
echo "all install checks passed"
