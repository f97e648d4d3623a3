/*
 * pvm_hosted_int.h — private: the hosted instance and its signal plumbing.
 */
#ifndef NUB_PVM_HOSTED_INT_H
#define NUB_PVM_HOSTED_INT_H

#include <stdbool.h>

#include "jit.h"
#include "pvm_hosted.h"

struct pvm_hosted {
    const struct pvm_program *program;
    struct pvm_allocator allocator;
    struct jit_code code;
    uint8_t *code_mem;    /* RX after create */
    size_t code_map_size; /* bytes mapped at code_mem */
    uint8_t *region;      /* ctx page + 4 GiB window + guard */
    size_t region_size;
    uint8_t *window;     /* PVM address 0 */
    struct jit_ctx *ctx; /* window - JIT_CTX_SIZE */
    uint8_t *access;     /* enum pvm_access per page (2^20 bytes, mmap'ed) */
    struct pvm_state state;
    pvm_hosted_host_handler host_handler;
    void *host_handler_data;
    bool resume_after_host_call;
    bool gs_fast; /* rdgsbase/wrgsbase usable (hosted_gs_fast_available) */
    bool finished;
    struct pvm_exit final_exit;
};

/* Makes our SIGSEGV/SIGBUS/SIGFPE handler the current one (again, if some
 * other code replaced it since), chaining to the replaced one. 0 or -1. */
int hosted_signals_install(void);

/* The thread's gs base (pvm_hosted_gs.c): fast = with rd/wrgsbase, which
 * only hosted_gs_fast_available() allows; else through arch_prctl. */
bool hosted_gs_fast_available(void);
uint64_t hosted_gs_base_get(bool fast);
void hosted_gs_base_set(bool fast, uint64_t base);

/* Runs the native code of h from h->ctx->entry_target until it exits, with
 * h registered as this thread's running instance for the signal handler and
 * the gs base at h's window (both restored afterwards: a host call may run
 * another instance on this thread). */
void hosted_call_native(struct pvm_hosted *h);

#endif /* NUB_PVM_HOSTED_INT_H */
