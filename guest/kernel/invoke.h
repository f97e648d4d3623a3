/* invoke.h — INVOKE_CACHED's entry from the trap dispatcher (run_trap.c). */
#ifndef NUB_KERNEL_INVOKE_H
#define NUB_KERNEL_INVOKE_H

#include "trap.h"

/* Called by the exception dispatcher for a trap from ring 3. Returns only
 * when the trap was a JIT memory fault turned into a PVM exit (the frame now
 * resumes at the exit stub); 0 if there is no run to attribute it to. */
int nub_invoke_ring3_trap(struct nub_trap_frame *frame);

#endif /* NUB_KERNEL_INVOKE_H */
