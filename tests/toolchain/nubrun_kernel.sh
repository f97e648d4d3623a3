#!/bin/sh
# nubrun_kernel.sh KERNEL_ANSWER NUBRUN ENGINE JAM NAME
# Runs the kernel's .jam with nubrun on ENGINE with the test size and checks
# that it halts with the native answer in phi7 (r7).
# Exit 77 (ctest SKIP_RETURN_CODE) for the sandbox engine without a usable /dev/kvm.
set -eu
answer_tool=$1 nubrun=$2 engine=$3 jam=$4 name=$5
if [ "$engine" = sandbox ] && ! { [ -r /dev/kvm ] && [ -w /dev/kvm ]; }; then
    echo "SKIP: /dev/kvm is not usable"
    exit 77
fi
set -- $("$answer_tool" "$name")
n=$1 want=$2
out=$("$nubrun" --engine "$engine" --gas 100000000000 --args "$n" "$jam")
echo "$out"
echo "$out" | grep -qx "exit: halt" || { echo "FAIL: $name did not halt" >&2; exit 1; }
echo "$out" | grep -qx "phi7: $want" || { echo "FAIL: $name: want phi7: $want" >&2; exit 1; }
