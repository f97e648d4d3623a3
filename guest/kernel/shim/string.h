/* shim/string.h — the kernel's memory routines under their libc names, for
 * xxhash.h (header-only, XXH_INLINE_ALL), which includes <string.h>. */
#ifndef NUB_KERNEL_SHIM_STRING_H
#define NUB_KERNEL_SHIM_STRING_H

#include <stddef.h>

void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);

#endif
