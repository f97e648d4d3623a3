/* kstring.h — the few memory routines the freestanding kernel needs. */
#ifndef NUB_KERNEL_KSTRING_H
#define NUB_KERNEL_KSTRING_H

#include <stddef.h>

void *nub_memcpy(void *dst, const void *src, size_t n);
void *nub_memset(void *dst, int c, size_t n);
int nub_memcmp(const void *a, const void *b, size_t n);

#endif /* NUB_KERNEL_KSTRING_H */
