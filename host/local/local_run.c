/*
 * local_run.c — the in-process host-call loop (see local_run.h).
 */
#include "local_run.h"

#include <string.h>

#include "nub_capbuild.h"
#include "pvm_hosted.h"

struct instance_memory {
    const struct pvm_engine *engine;
    void *inst;
};

/* The page rules for a host function: every byte accessible (reads) or
 * writable (writes), checked page by page before anything is copied. */
static nub_status check_pages(const struct instance_memory *m, uint32_t address, uint32_t len,
                              int write)
{
    uint64_t first = address & ~(uint64_t)(PVM_PAGE_SIZE - 1);
    uint64_t end = (uint64_t)address + len;
    nub_status s = NUB_OK;
    for (uint64_t page = first; page < end; page += PVM_PAGE_SIZE) {
        uint32_t access = m->engine->page_access(m->inst, (uint32_t)page); /* wraps */
        if (access == PVM_ACCESS_NONE)
            return NUB_ERR_MEMORY_INACCESSIBLE;
        if (write && access != PVM_ACCESS_WRITE)
            s = NUB_ERR_MEMORY_READ_ONLY;
    }
    return s;
}

static nub_status memory_read(void *self, uint32_t address, void *dst, uint32_t len)
{
    const struct instance_memory *m = self;
    nub_status s = check_pages(m, address, len, 0);
    if (s != NUB_OK)
        return s;
    int err = m->engine->read_memory(m->inst, address, dst, len);
    return err == PVM_OK          ? NUB_OK
           : err == PVM_ERR_NOMEM ? NUB_ERR_NOMEM
                                  : NUB_ERR_MEMORY_INACCESSIBLE;
}

static nub_status memory_write(void *self, uint32_t address, const void *src, uint32_t len)
{
    const struct instance_memory *m = self;
    nub_status s = check_pages(m, address, len, 1);
    if (s != NUB_OK)
        return s;
    int err = m->engine->write_memory(m->inst, address, src, len);
    return err == PVM_OK          ? NUB_OK
           : err == PVM_ERR_NOMEM ? NUB_ERR_NOMEM
                                  : NUB_ERR_MEMORY_INACCESSIBLE;
}

static void memory_heap(void *self, uint32_t *top, uint32_t *limit)
{
    const struct instance_memory *m = self;
    struct pvm_state st;
    m->engine->get_state(m->inst, &st);
    *top = st.heap_top;
    *limit = st.heap_top ? (uint32_t)pvm_heap_limit(st.heap_limit) : 0;
}

static nub_status memory_grow_heap(void *self, uint32_t new_top)
{
    const struct instance_memory *m = self;
    int err = m->engine->grow_heap(m->inst, new_top);
    return err == PVM_OK ? NUB_OK : err == PVM_ERR_NOMEM ? NUB_ERR_NOMEM : NUB_ERR_INVALID_ARGUMENT;
}

static const struct nub_host_call_memory instance_memory_ops = {memory_read, memory_write,
                                                                memory_heap, memory_grow_heap};

/* The JIT serves host calls inside its run (pvm_hosted_set_host_handler):
 * the same dispatch, without leaving the native code. */
struct jit_host {
    const struct nub_host *host;
    uint32_t isa;
    struct nub_host_call *handle;
    struct instance_memory mem;
    uint64_t calls;
    nub_status status;
};

static uint32_t jit_host_handler(void *data, uint64_t id, uint32_t pc, uint64_t *regs, int64_t *gas,
                                 uint64_t *error_arg)
{
    struct jit_host *j = data;
    struct nub_host_call *c = j->handle;
    c->id = id;
    c->isa = j->isa;
    c->pc = pc;
    c->gas = *gas;
    c->memory = &instance_memory_ops;
    c->memory_self = &j->mem;
    memcpy(c->regs, regs, sizeof c->regs);
    enum nub_host_action action;
    nub_status s = nub__host_call_dispatch(j->host, c, &action);
    j->calls++;
    memcpy(regs, c->regs, sizeof c->regs);
    *gas = c->gas;
    if (s != NUB_OK) {
        j->status = s;
        *error_arg = s;
        return PVM_EXIT_ERROR;
    }
    return action == NUB_HOST_CONTINUE ? PVM_HOSTED_HOST_CONTINUE : nub__host_action_exit(action);
}

static nub_status run_jit(void *inst, uint32_t isa, const struct nub_host *host,
                          struct nub_host_call *handle, uint64_t *host_calls,
                          struct pvm_exit *exit_out)
{
    struct jit_host j = {host, isa, handle, {&pvm_jit_engine, inst}, 0, NUB_OK};
    pvm_hosted_set_host_handler(inst, jit_host_handler, &j);
    pvm_jit_engine.run(inst, exit_out);
    pvm_hosted_set_host_handler(inst, NULL, NULL);
    *host_calls += j.calls;
    return j.status;
}

nub_status nub__local_run(const struct pvm_engine *engine, void *inst, uint32_t isa,
                          const struct nub_host *host, struct nub_host_call *handle,
                          uint64_t *host_calls, struct pvm_exit *exit_out)
{
    if (engine == &pvm_jit_engine && host != NULL && host->fn != NULL)
        return run_jit(inst, isa, host, handle, host_calls, exit_out);
    struct instance_memory mem = {engine, inst};
    for (;;) {
        engine->run(inst, exit_out);
        if (exit_out->reason != PVM_EXIT_HOST_CALL || host == NULL || host->fn == NULL)
            return NUB_OK;
        struct pvm_state st;
        engine->get_state(inst, &st);
        *handle = (struct nub_host_call){
            .id = exit_out->arg,
            .isa = isa,
            .pc = exit_out->pc,
            .gas = st.gas,
            .memory = &instance_memory_ops,
            .memory_self = &mem,
        };
        memcpy(handle->regs, st.regs, sizeof handle->regs);
        enum nub_host_action action;
        nub_status s = nub__host_call_dispatch(host, handle, &action);
        (*host_calls)++;
        engine->get_state(inst, &st); /* the call may have moved the break */
        memcpy(st.regs, handle->regs, sizeof st.regs);
        st.gas = handle->gas;
        engine->set_state(inst, &st); /* same pc: the next run resumes after the ecalli */
        if (s != NUB_OK)
            return s;
        if (action != NUB_HOST_CONTINUE) {
            *exit_out = (struct pvm_exit){.reason = nub__host_action_exit(action), .pc = st.pc};
            return NUB_OK;
        }
    }
}

size_t nub__local_input_segments(const struct pvm_segment *segs, size_t count, const void *input,
                                 uint32_t input_len, struct pvm_segment *out)
{
    const uint64_t zone_lo = NUB_STDPROG_ARGS_BASE, zone_hi = zone_lo + NUB_STDPROG_MAX_ARGS;
    size_t n = 0;
    for (size_t i = 0; i < count; i++) {
        uint64_t lo = segs[i].address, hi = lo + segs[i].length;
        if (hi <= zone_lo || lo >= zone_hi)
            out[n++] = segs[i];
    }
    uint32_t pages = (input_len + PVM_PAGE_SIZE - 1) / PVM_PAGE_SIZE;
    if (pages > 0)
        out[n++] = (struct pvm_segment){
            .address = NUB_STDPROG_ARGS_BASE,
            .length = pages * PVM_PAGE_SIZE,
            .access = PVM_ACCESS_READ,
            .data = input,
            .data_len = input_len,
        };
    /* pvm_segments_validate wants them in any order but disjoint: they are. */
    return n;
}

void nub__local_output(const struct pvm_engine *engine, const void *inst,
                       const struct pvm_state *final, struct nub_call *call)
{
    uint64_t len = final->regs[PVM_REG_A1];
    call->output_len = len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;
    if (len > call->output_cap) {
        call->output_status = NUB_ERR_OUTPUT_TOO_LARGE;
        return;
    }
    if (len == 0) {
        call->output_status = NUB_OK;
        return;
    }
    int err =
        engine->read_memory(inst, (uint32_t) final->regs[PVM_REG_A0], call->output, (uint32_t)len);
    call->output_status = err == PVM_OK ? NUB_OK : NUB_ERR_MEMORY_INACCESSIBLE;
}
