/*
 * string.h — the part of <string.h> nub-cc's tiny libc provides for PVM
 * programs (nub_libc.c): memcpy, memmove, memset, memcmp.
 */
#ifndef NUB_CC_STRING_H
#define NUB_CC_STRING_H

#include <stddef.h>

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);

#endif /* NUB_CC_STRING_H */
