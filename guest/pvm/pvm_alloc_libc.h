/*
 * pvm_alloc_libc.h — a struct pvm_allocator over malloc/free.
 * Hosted builds only (part of nub_pvm, not of nub_pvm_freestanding).
 */
#ifndef NUB_PVM_ALLOC_LIBC_H
#define NUB_PVM_ALLOC_LIBC_H

#include "pvm.h"

/* A malloc/free allocator (ctx unused). */
struct pvm_allocator pvm_libc_allocator(void);

#endif /* NUB_PVM_ALLOC_LIBC_H */
