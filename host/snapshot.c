/*
 * snapshot.c — the restore point of a sandbox: nub_sandbox_snapshot,
 * nub_sandbox_restore, and the automatic restore after a call that timed
 * out, was interrupted or crashed the guest.
 *
 * The restore point is the guest's memory (the template's, or after
 * nub_sandbox_snapshot a memfd of the sandbox's own, see guest_memory.c),
 * the vCPU state at a doorbell and the host's set of published caps at
 * that moment. Restoring puts back the pages written since (copied back or
 * dropped; cost: the pages written), loads the vCPU state and puts the cap
 * set back, so the host's record of the guest's caps always matches the
 * guest's directory.
 */
#include "sandbox_int.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

nub_status nub__restore_point_init(nub_sandbox *sb)
{
    struct nub_restore_point *rp = &sb->restore;
    rp->mem_fd = -1;
    if (nub__vcpu_state_init(&rp->vcpu, sb->tmpl->xsave_bytes) != NUB_OK)
        return nub__fail(sb, NUB_ERR_NOMEM, "vCPU state");
    struct kvm_xsave *xsave = rp->vcpu.xsave;
    rp->vcpu = sb->tmpl->vcpu;
    rp->vcpu.xsave = xsave;
    memcpy(xsave, sb->tmpl->vcpu.xsave, sb->tmpl->xsave_bytes);
    return nub__mem_layout_copy(sb, &sb->tmpl->layout, &rp->layout);
}

void nub__restore_point_free(struct nub_restore_point *rp)
{
    if (rp->mem_fd >= 0)
        close(rp->mem_fd);
    rp->mem_fd = -1;
    nub__mem_layout_free(&rp->layout);
    nub__vcpu_state_free(&rp->vcpu);
    nub__hash_set_free(&rp->published);
}

static nub_status restore(nub_sandbox *sb)
{
    nub_status s = nub__vcpu_settle(sb);
    if (s == NUB_OK)
        s = nub__mem_reset_dirty(sb);
    if (s == NUB_OK)
        s = nub__vcpu_load(sb, &sb->restore.vcpu);
    if (s == NUB_OK && sb->published_changed) {
        if (nub__hash_set_copy(&sb->published, &sb->restore.published) != 0)
            s = nub__fail(sb, NUB_ERR_NOMEM, "host hash set");
        else
            sb->published_changed = 0;
    }
    sb->console_len = 0;
    return s;
}

nub_status nub__recover(nub_sandbox *sb, nub_status s)
{
    if (sb->dead)
        return s;
    char why[sizeof sb->last_error];
    memcpy(why, sb->last_error, sizeof why);
    if (!sb->restore.vcpu.xsave || sb->no_restore) /* booting: nothing to go back to */
        return nub__kill(sb, s, "%s", why);
    if (restore(sb) != NUB_OK)
        return nub__kill(sb, s, "%s; the restore that followed failed: %s", why, sb->last_error);
    return nub__fail(sb, s, "%s (the sandbox was restored to its restore point)", why);
}

nub_status nub_sandbox_restore(nub_sandbox *sb)
{
    if (!sb)
        return NUB_ERR_INVALID_ARGUMENT;
    if (sb->dead)
        return NUB_ERR_SANDBOX_DEAD;
    nub_status s = restore(sb);
    if (s != NUB_OK)
        sb->dead = 1; /* memory or vCPU half restored: unusable */
    return s;
}

nub_status nub_sandbox_snapshot(nub_sandbox *sb)
{
    if (!sb)
        return NUB_ERR_INVALID_ARGUMENT;
    if (sb->dead)
        return NUB_ERR_SANDBOX_DEAD;
    struct nub_restore_point *rp = &sb->restore;
    nub_status s = nub__vcpu_settle(sb);
    if (s == NUB_OK)
        s = nub__mem_snapshot(sb);
    if (s == NUB_OK)
        s = nub__vcpu_save(sb, &rp->vcpu);
    if (s == NUB_OK && nub__hash_set_copy(&rp->published, &sb->published) != 0)
        s = nub__fail(sb, NUB_ERR_NOMEM, "host hash set");
    if (s != NUB_OK) {
        sb->dead = 1; /* the restore point is half written: nothing to go back to */
        return s;
    }
    sb->published_changed = 0;
    return NUB_OK;
}
