#!/bin/sh
# The public API is what the installed headers declare, and exactly that:
#  - every function they declare is exported by libnubhost.so and has an
#    entry in docs/api.md;
#  - libnubhost.so exports nothing else (internal functions are nub__name).
#
#   check_api.sh LIBNUBHOST.so DOCS/api.md HEADER...
set -eu
lib=$1
doc=$2
shift 2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nub-api.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

# Prototypes start at column 0 with their return type; typedefs and macros
# are not functions.
grep -h -E '^[a-z_].*[ *]nub_[a-z0-9_]+\(' "$@" | grep -v -E '^(typedef|#)' |
    sed -E 's/^[^(]*[ *](nub_[a-z0-9_]+)\(.*/\1/' | sort -u >"$tmp/declared"
nm -D --defined-only "$lib" | awk '$2 ~ /^[TW]$/ {print $3}' | sort -u >"$tmp/exported"

fail=0
if [ ! -s "$tmp/declared" ]; then
    echo "no declarations found in: $*"
    exit 1
fi
comm -23 "$tmp/declared" "$tmp/exported" >"$tmp/missing"
comm -13 "$tmp/declared" "$tmp/exported" >"$tmp/extra"
if [ -s "$tmp/missing" ]; then
    echo "declared in the public headers but not exported by $lib:"
    sed 's/^/  /' "$tmp/missing"
    fail=1
fi
if [ -s "$tmp/extra" ]; then
    echo "exported by $lib but not declared in a public header (name it nub__...):"
    sed 's/^/  /' "$tmp/extra"
    fail=1
fi
while read -r fn; do
    grep -q -E "^#### \`[^\`]*[ *]$fn\(" "$doc" || {
        echo "not documented in $doc (a '#### \`prototype\`' entry): $fn"
        fail=1
    }
done <"$tmp/declared"
[ "$fail" = 0 ] && echo "$(wc -l <"$tmp/declared") public functions: exported and documented"
exit "$fail"
