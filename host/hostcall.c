/*
 * hostcall.c — the host-call handle's accessors and the dispatch of an
 * ecalli (see hostcall.h). Engine-neutral: no engine code lives here.
 */
#include "hostcall.h"

#include <stddef.h>

/*
 * Host calls served by the library before the embedder's function, per ISA
 * version. GP 0.7.2 has none (its id 1 is `fetch`, the embedder's); GP 0.8.0
 * has grow_heap at id 1 (pvm_isa_gp_0_8_0.host_calls.grow_heap). An entry's
 * serve() sees the same handle a host function does, plus the handle's heap
 * operations.
 */
struct builtin_host_call {
    uint32_t isa; /* which ISA version defines it */
    uint64_t id;  /* ecalli immediate */
    nub_status (*serve)(struct nub_host_call *call, enum nub_host_action *action);
};
static const struct builtin_host_call builtin_host_calls[] = {
    {NUB_ISA_GP_0_8_0, 1, nub__grow_heap}, {0, 0, NULL}, /* end of table */
};

static const struct builtin_host_call *find_builtin(uint32_t isa, uint64_t id)
{
    for (const struct builtin_host_call *b = builtin_host_calls; b->serve; b++)
        if (b->isa == isa && b->id == id)
            return b;
    return NULL;
}

nub_status nub__host_call_dispatch(const struct nub_host *host, struct nub_host_call *call,
                                   enum nub_host_action *action)
{
    call->live = 1;
    const struct builtin_host_call *b = find_builtin(call->isa, call->id);
    if (b) {
        nub_status s = b->serve(call, action);
        call->live = 0;
        return s;
    }
    int a = host->fn(host->ctx, call);
    call->live = 0;
    if (a < NUB_HOST_CONTINUE || a > NUB_HOST_OUT_OF_GAS)
        return NUB_ERR_HOST_ACTION;
    *action = (enum nub_host_action)a;
    return NUB_OK;
}

uint32_t nub__host_action_exit(enum nub_host_action action)
{
    switch (action) {
    case NUB_HOST_HALT:
        return NUB_EXIT_HALT;
    case NUB_HOST_OUT_OF_GAS:
        return NUB_EXIT_OUT_OF_GAS;
    case NUB_HOST_PANIC:
    case NUB_HOST_CONTINUE:
        break;
    }
    return NUB_EXIT_PANIC;
}

uint64_t nub_host_call_id(const nub_host_call *c)
{
    return c ? c->id : 0;
}

uint32_t nub_host_call_pc(const nub_host_call *c)
{
    return c ? c->pc : 0;
}

uint64_t nub_host_call_reg(const nub_host_call *c, unsigned index)
{
    return c && index < NUB_PVM_REGS ? c->regs[index] : 0;
}

nub_status nub_host_call_set_reg(nub_host_call *c, unsigned index, uint64_t value)
{
    if (!c || index >= NUB_PVM_REGS)
        return NUB_ERR_INVALID_ARGUMENT;
    if (!c->live)
        return NUB_ERR_RUN_FINISHED;
    c->regs[index] = value;
    return NUB_OK;
}

int64_t nub_host_call_gas(const nub_host_call *c)
{
    return c ? c->gas : 0;
}

void nub_host_call_set_gas(nub_host_call *c, int64_t gas)
{
    if (c && c->live)
        c->gas = gas;
}

nub_status nub_host_call_read(nub_host_call *c, uint32_t address, void *dst, uint32_t len)
{
    if (!c || (len && !dst))
        return NUB_ERR_INVALID_ARGUMENT;
    if (!c->live)
        return NUB_ERR_RUN_FINISHED;
    if (len == 0)
        return NUB_OK;
    return c->memory->read(c->memory_self, address, dst, len);
}

nub_status nub_host_call_write(nub_host_call *c, uint32_t address, const void *src, uint32_t len)
{
    if (!c || (len && !src))
        return NUB_ERR_INVALID_ARGUMENT;
    if (!c->live)
        return NUB_ERR_RUN_FINISHED;
    if (len == 0)
        return NUB_OK;
    return c->memory->write(c->memory_self, address, src, len);
}
