/*
 * kernel_answer — prints a benchmark kernel's native answer and its test
 * size, for the nubrun end-to-end tests:
 *   kernel_answer NAME        ->  "<test_n> <answer>"
 */
#include <stdio.h>
#include <string.h>

#include "kernel_list.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: kernel_answer NAME\n");
        return 2;
    }
    for (size_t i = 0; i < nub_kernel_count; i++) {
        if (strcmp(nub_kernels[i].name, argv[1]) != 0)
            continue;
        uint64_t n = nub_kernels[i].test_n;
        printf("%llu %llu\n", (unsigned long long)n, (unsigned long long)nub_kernels[i].native(n));
        return 0;
    }
    fprintf(stderr, "kernel_answer: no kernel %s\n", argv[1]);
    return 1;
}
