/*
 * pvm_alloc_libc.c — malloc/free behind struct pvm_allocator (hosted only).
 */
#include "pvm_alloc_libc.h"

#include <stdlib.h>

static void *libc_alloc(void *ctx, size_t size)
{
    (void)ctx;
    return malloc(size > 0 ? size : 1);
}

static void libc_free(void *ctx, void *ptr)
{
    (void)ctx;
    free(ptr);
}

struct pvm_allocator pvm_libc_allocator(void)
{
    struct pvm_allocator a = {.alloc = libc_alloc, .free = libc_free, .ctx = NULL};
    return a;
}
