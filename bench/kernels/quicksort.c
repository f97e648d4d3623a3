/*
 * quicksort.c — recursive quicksort (median of three, Hoare partition) of n
 * pseudo-random 64-bit keys (n <= QSORT_MAX). Self-check: the result is
 * sorted; the checksum mixes every key with its position.
 */
#include "kernel.h"

#define QSORT_MAX (1u << 19)

static uint64_t keys[QSORT_MAX];

static void swap(uint64_t *x, uint64_t *y)
{
    uint64_t t = *x;
    *x = *y;
    *y = t;
}

static void quicksort(uint64_t *v, int64_t lo, int64_t hi)
{
    while (lo < hi) {
        if (hi - lo < 16) { /* insertion sort for short runs */
            for (int64_t i = lo + 1; i <= hi; i++) {
                uint64_t key = v[i];
                int64_t j = i - 1;
                while (j >= lo && v[j] > key) {
                    v[j + 1] = v[j];
                    j--;
                }
                v[j + 1] = key;
            }
            return;
        }
        int64_t mid = lo + (hi - lo) / 2;
        if (v[mid] < v[lo])
            swap(&v[mid], &v[lo]);
        if (v[hi] < v[lo])
            swap(&v[hi], &v[lo]);
        if (v[hi] < v[mid])
            swap(&v[hi], &v[mid]);
        uint64_t pivot = v[mid];
        int64_t i = lo - 1, j = hi + 1;
        for (;;) {
            do
                i++;
            while (v[i] < pivot);
            do
                j--;
            while (v[j] > pivot);
            if (i >= j)
                break;
            swap(&v[i], &v[j]);
        }
        /* Recurse into the smaller half, loop on the larger: bounded stack. */
        if (j - lo < hi - j) {
            quicksort(v, lo, j);
            lo = j + 1;
        } else {
            quicksort(v, j + 1, hi);
            hi = j;
        }
    }
}

uint64_t kernel_quicksort(uint64_t n);
uint64_t kernel_quicksort(uint64_t n)
{
    if (n > QSORT_MAX)
        n = QSORT_MAX;
    uint64_t seed = 0xD1B54A32D192ED03ull;
    for (uint64_t i = 0; i < n; i++)
        keys[i] = kernel_rand(&seed);
    if (n > 0)
        quicksort(keys, 0, (int64_t)n - 1);
    uint64_t sum = 0;
    for (uint64_t i = 0; i < n; i++) {
        if (i > 0 && keys[i - 1] > keys[i])
            return KERNEL_SELF_CHECK_FAILED(8);
        sum += keys[i] * (i + 1);
    }
    return sum;
}
KERNEL_ENTRY(kernel_quicksort);
