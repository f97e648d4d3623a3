/*
 * template.c — a booted guest kept as a copy-on-write template.
 *
 * Booting costs a guest's whole start-up (ELF load, boot tables, the
 * kernel's set-up run, where ring 0 may be emulated). A template does it
 * once: the guest boots on a MAP_SHARED memfd, and at its "ready" doorbell
 * a sealed copy of what it wrote becomes the template's memfd and the vCPU
 * state is saved. A sandbox created from the
 * template maps the memfd MAP_PRIVATE and loads the state into a new vCPU:
 * it starts past boot and shares every page it does not write.
 *
 * There is no process-wide cache: a template is an object the embedder
 * creates, shares and destroys (nub_template_create / nub_template_destroy),
 * so the library keeps no global mutable state. It is immutable once built
 * and reference-counted (each sandbox made from it holds a reference), so
 * sandboxes may be created from one template on any number of threads at
 * once and the embedder may destroy its handle while they live.
 * nub_sandbox_create without a template boots a template of its own.
 */

#include "sandbox_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void nub__template_ref(struct nub_template *t)
{
    atomic_fetch_add_explicit(&t->refs, 1, memory_order_relaxed);
}

void nub__template_unref(struct nub_template *t)
{
    if (!t || atomic_fetch_sub_explicit(&t->refs, 1, memory_order_acq_rel) != 1)
        return;
    if (t->kvm_fd >= 0)
        close(t->kvm_fd);
    if (t->mem_fd >= 0)
        close(t->mem_fd);
    free(t->cpuid);
    nub__mem_layout_free(&t->layout);
    nub__vcpu_state_free(&t->vcpu);
    free(t);
}

nub_status nub__template_capture(nub_sandbox *sb, struct nub_template *t)
{
    nub_status s = nub__vcpu_settle(sb);
    if (s == NUB_OK)
        s = nub__vcpu_state_init(&t->vcpu, t->xsave_bytes) == NUB_OK
                ? NUB_OK
                : nub__fail(sb, NUB_ERR_NOMEM, "vCPU state");
    if (s == NUB_OK)
        s = nub__vcpu_save(sb, &t->vcpu);
    if (s == NUB_OK)
        s = nub__mem_layout_of(sb, t->mem_fd, sb->mem_bytes, &t->layout);
    /* The template gets a sealed copy of what boot wrote (a few hundred
     * KiB), and the sandbox goes on in the memory it booted in. Mapping the
     * template's memfd copy-on-write here instead would replace the whole
     * mapping under KVM: every page boot touched (kernel code, stack,
     * tables, RPC buffers) would be faulted in again, and copied on its
     * first write, during the next calls (about 180 us of the first publish
     * and invoke on a shadow-paging host). The first restore or snapshot
     * maps the baseline (mem_live_shared). */
    int copy = -1;
    if (s == NUB_OK)
        s = nub__mem_copy_sealed(sb, &t->layout, &copy);
    if (s != NUB_OK)
        return s;
    close(t->mem_fd); /* (the sandbox's mapping keeps the memory it booted in) */
    t->mem_fd = copy;
    sb->mem_live_shared = 1;
    t->params = sb->params;
    t->boot_info = sb->boot_info;
    return NUB_OK;
}
