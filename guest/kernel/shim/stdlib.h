/* shim/stdlib.h — for xxhash.h: malloc/free map to the kernel heap (xxhash
 * only uses them for its streaming state, which the kernel never creates). */
#ifndef NUB_KERNEL_SHIM_STDLIB_H
#define NUB_KERNEL_SHIM_STDLIB_H

#include <stddef.h>

void *nub_heap_alloc(size_t bytes);
void nub_heap_free(void *p);
#define malloc(n) nub_heap_alloc(n)
#define free(p)   nub_heap_free(p)

#endif
