/*
 * nqueens.c — the number of ways to place n queens on an n x n board
 * (n <= NQUEENS_MAX), by recursive backtracking over rows with one flag
 * array per column and diagonal: call/return and short branchy blocks.
 * Self-check: 92 solutions for 8 queens.
 */
#include "kernel.h"

#define NQUEENS_MAX 14

static uint8_t col_used[NQUEENS_MAX];
static uint8_t diag_up[2 * NQUEENS_MAX];   /* row + col */
static uint8_t diag_down[2 * NQUEENS_MAX]; /* row - col + n - 1 */

__attribute__((noinline)) static uint64_t place(int row, int n)
{
    if (row == n)
        return 1;
    uint64_t count = 0;
    for (int col = 0; col < n; col++) {
        if (col_used[col] || diag_up[row + col] || diag_down[row - col + n - 1])
            continue;
        col_used[col] = diag_up[row + col] = diag_down[row - col + n - 1] = 1;
        count += place(row + 1, n);
        col_used[col] = diag_up[row + col] = diag_down[row - col + n - 1] = 0;
    }
    return count;
}

uint64_t kernel_nqueens(uint64_t n);
uint64_t kernel_nqueens(uint64_t n)
{
    if (place(0, 8) != 92)
        return KERNEL_SELF_CHECK_FAILED(9);
    if (n > NQUEENS_MAX)
        n = NQUEENS_MAX;
    return place(0, (int)n);
}
KERNEL_ENTRY(kernel_nqueens);
