/*
 * kvm_vm.c — the VM and its one vCPU, straight through linux/kvm.h: no
 * irqchip, no firmware; the vCPU starts in 64-bit long mode at the kernel's
 * entry with the boot tables boot.c wrote, or in a template's saved state.
 * Guest memory is mapped by guest_memory.c.
 */
#include "sandbox_int.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "boot_layout.h"

#define KVM_API_EXPECTED  12
#define CPUID_MAX_ENTRIES 256

static int ioctl_retry(int fd, unsigned long req, void *arg)
{
    int rc;
    do {
        rc = ioctl(fd, req, arg);
    } while (rc < 0 && (errno == EINTR || errno == EAGAIN));
    return rc;
}

nub_status nub__kvm_open(nub_sandbox *sb, struct nub_template *t, const char *device)
{
    t->kvm_fd = open(device, O_RDWR | O_CLOEXEC);
    if (t->kvm_fd < 0) {
        int e = errno;
        if (e == EACCES || e == EPERM)
            return nub__fail(sb, NUB_ERR_KVM_PERMISSION, "cannot open %s: %s (need rw access)",
                             device, strerror(e));
        return nub__fail(sb, NUB_ERR_KVM_UNAVAILABLE, "cannot open %s: %s (is KVM enabled?)",
                         device, strerror(e));
    }
    int version = ioctl(t->kvm_fd, KVM_GET_API_VERSION, 0);
    if (version != KVM_API_EXPECTED)
        return nub__fail(sb, NUB_ERR_KVM_API_VERSION,
                         "%s: KVM_GET_API_VERSION gave %d, expected %d (not a KVM device?)", device,
                         version, KVM_API_EXPECTED);
    static const struct {
        int cap;
        const char *name;
    } needed[] = {
        {KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY"},
        {KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT"},
        {KVM_CAP_XSAVE, "KVM_CAP_XSAVE"},
        {KVM_CAP_XCRS, "KVM_CAP_XCRS"},
        {KVM_CAP_VCPU_EVENTS, "KVM_CAP_VCPU_EVENTS"},
    };
    for (size_t i = 0; i < sizeof needed / sizeof needed[0]; i++)
        if (ioctl(t->kvm_fd, KVM_CHECK_EXTENSION, needed[i].cap) <= 0)
            return nub__fail(sb, NUB_ERR_KVM_API_VERSION, "KVM lacks %s", needed[i].name);
    int xsave2 = ioctl(t->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE2);
    t->xsave_bytes =
        xsave2 > (int)sizeof(struct kvm_xsave) ? (size_t)xsave2 : sizeof(struct kvm_xsave);
    int sync = ioctl(t->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SYNC_REGS);
    const int sync_wanted = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS | KVM_SYNC_X86_EVENTS;
    t->sync_regs = sync > 0 && (sync & sync_wanted) == sync_wanted;
    int run_size = ioctl(t->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (run_size < (int)sizeof(struct kvm_run))
        return nub__fail(sb, NUB_ERR_KVM, "KVM_GET_VCPU_MMAP_SIZE gave %d", run_size);
    t->run_size = (size_t)run_size;

    /* The guest sees exactly what KVM can virtualise on this host (the JIT
     * may check for BMI, SMEP/SMAP and the like). */
    size_t bytes = sizeof(struct kvm_cpuid2) + CPUID_MAX_ENTRIES * sizeof(struct kvm_cpuid_entry2);
    t->cpuid = calloc(1, bytes);
    if (!t->cpuid)
        return nub__fail(sb, NUB_ERR_NOMEM, "cpuid table");
    t->cpuid->nent = CPUID_MAX_ENTRIES;
    if (ioctl(t->kvm_fd, KVM_GET_SUPPORTED_CPUID, t->cpuid) < 0)
        return nub__fail(sb, NUB_ERR_KVM, "KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
    return NUB_OK;
}

/* The one memory slot: all of guest memory at sb->mem, dirty-logged when
 * sb->dirty_log_on (a restore then resets only the pages the guest wrote). */
static nub_status set_memory(nub_sandbox *sb)
{
    struct kvm_userspace_memory_region region = {
        .slot = 0,
        .flags = sb->dirty_log_on ? KVM_MEM_LOG_DIRTY_PAGES : 0,
        .guest_phys_addr = 0,
        .memory_size = sb->mem_bytes,
        .userspace_addr = (uint64_t)(uintptr_t)sb->mem,
    };
    if (ioctl_retry(sb->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
        return nub__fail(sb, NUB_ERR_KVM, "KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));
    return NUB_OK;
}

nub_status nub__kvm_log_dirty(nub_sandbox *sb)
{
    if (sb->dirty_log_on)
        return NUB_OK;
    sb->dirty_log_on = 1;
    nub_status s = set_memory(sb);
    if (s != NUB_OK)
        sb->dirty_log_on = 0;
    return s;
}

nub_status nub__kvm_create_vm(nub_sandbox *sb)
{
    do {
        sb->vm_fd = ioctl(sb->kvm_fd, KVM_CREATE_VM, 0);
    } while (sb->vm_fd < 0 && errno == EINTR);
    if (sb->vm_fd < 0)
        return nub__fail(sb, NUB_ERR_KVM, "KVM_CREATE_VM: %s", strerror(errno));

    nub_status s = set_memory(sb);
    if (s != NUB_OK)
        return s;

    do {
        sb->vcpu_fd = ioctl(sb->vm_fd, KVM_CREATE_VCPU, 0);
    } while (sb->vcpu_fd < 0 && errno == EINTR);
    if (sb->vcpu_fd < 0)
        return nub__fail(sb, NUB_ERR_KVM, "KVM_CREATE_VCPU: %s", strerror(errno));

    size_t run_size = sb->tmpl->run_size;
    sb->run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, sb->vcpu_fd, 0);
    if (sb->run == MAP_FAILED) {
        sb->run = NULL;
        return nub__fail(sb, NUB_ERR_KVM, "mmap of the vCPU run page: %s", strerror(errno));
    }
    sb->run_size = run_size;
    if (ioctl_retry(sb->vcpu_fd, KVM_SET_CPUID2, sb->tmpl->cpuid) < 0)
        return nub__fail(sb, NUB_ERR_KVM, "KVM_SET_CPUID2: %s", strerror(errno));
    return NUB_OK;
}

/* The guest starts in ring 3 (the service); ring 0 is entered only
 * through the IDT, with the selectors of the host-built GDT. */
static struct kvm_segment user_code_segment_64(void)
{
    return (struct kvm_segment){
        .base = 0,
        .limit = 0xFFFFFFFF,
        .selector = NUB_SEL_USER_CODE,
        .type = 11, /* execute/read, accessed */
        .present = 1,
        .dpl = 3,
        .db = 0,
        .s = 1,
        .l = 1,
        .g = 1,
    };
}

static struct kvm_segment user_data_segment(void)
{
    return (struct kvm_segment){
        .base = 0,
        .limit = 0xFFFFFFFF,
        .selector = NUB_SEL_USER_DATA,
        .type = 3, /* read/write, accessed */
        .present = 1,
        .dpl = 3,
        .db = 1,
        .s = 1,
        .l = 0,
        .g = 1,
    };
}

static nub_status set_sregs(nub_sandbox *sb)
{
    struct kvm_sregs sregs;
    if (ioctl(sb->vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
        return nub__fail(sb, NUB_ERR_KVM, "KVM_GET_SREGS: %s", strerror(errno));
    sregs.cs = user_code_segment_64();
    sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = user_data_segment();
    /* The JIT code addresses the PVM window through the gs base
     * (guest/pvm/jit.h). Every run space maps the window at the same
     * address and nothing in the guest loads gs, so it is set once, here,
     * at no cost to the guest's (possibly emulated) ring 0. */
    sregs.gs.base = NUB_RUN_WINDOW_VA;
    sregs.tr = (struct kvm_segment){
        .base = NUB_BOOT_TSS_GPA,
        .limit = NUB_BOOT_TSS_BYTES - 1,
        .selector = NUB_SEL_TSS,
        .type = 11, /* busy 64-bit TSS */
        .present = 1,
        .s = 0,
    };
    sregs.ldt = (struct kvm_segment){.unusable = 1};
    sregs.gdt.base = NUB_BOOT_GDT_GPA;
    sregs.gdt.limit = NUB_BOOT_GDT_BYTES - 1;
    sregs.idt.base = NUB_BOOT_IDT_GPA;
    sregs.idt.limit = NUB_KERNEL_VECTORS * 16 - 1;
    sregs.cr3 = NUB_BOOT_PML4_GPA;
    sregs.cr4 = X86_CR4_PAE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT;
    sregs.cr0 = X86_CR0_PE | X86_CR0_MP | X86_CR0_ET | X86_CR0_NE | X86_CR0_WP | X86_CR0_PG;
    sregs.efer = X86_EFER_SCE | X86_EFER_LME | X86_EFER_LMA | X86_EFER_NXE;
    if (ioctl_retry(sb->vcpu_fd, KVM_SET_SREGS, &sregs) < 0)
        return nub__fail(sb, NUB_ERR_KVM, "KVM_SET_SREGS: %s", strerror(errno));
    return NUB_OK;
}

nub_status nub__kvm_setup_vcpu(nub_sandbox *sb, uint64_t entry)
{
    nub_status s = set_sregs(sb);
    if (s != NUB_OK)
        return s;
    struct kvm_regs regs = {
        .rip = entry, .rflags = 0x2, /* bit 1 is reserved-one; interrupts off */
    };
    if (ioctl_retry(sb->vcpu_fd, KVM_SET_REGS, &regs) < 0)
        return nub__fail(sb, NUB_ERR_KVM, "KVM_SET_REGS: %s", strerror(errno));
    return NUB_OK;
}

nub_status nub__vcpu_settle(nub_sandbox *sb)
{
    /* KVM completes an `out` (advances rip past it) on the next KVM_RUN;
     * with immediate_exit set, that KVM_RUN completes it and returns EINTR
     * before entering the guest. It also applies a state nub__vcpu_load
     * left in the run page, so the vCPU state can be read back after it. */
    sb->run->immediate_exit = 1;
    int rc = ioctl(sb->vcpu_fd, KVM_RUN, 0);
    int e = errno;
    sb->run->immediate_exit = 0;
    if (rc == 0 || e != EINTR)
        return nub__fail(sb, NUB_ERR_KVM, "KVM_RUN with immediate_exit: %s",
                         rc == 0 ? "entered the guest" : strerror(e));
    return NUB_OK;
}

nub_status nub__vcpu_state_init(struct nub_vcpu_state *st, size_t xsave_bytes)
{
    memset(st, 0, sizeof *st);
    st->xsave = calloc(1, xsave_bytes);
    return st->xsave ? NUB_OK : NUB_ERR_NOMEM;
}

void nub__vcpu_state_free(struct nub_vcpu_state *st)
{
    free(st->xsave);
    st->xsave = NULL;
}

nub_status nub__vcpu_save(nub_sandbox *sb, struct nub_vcpu_state *st)
{
    unsigned long xsave_req =
        sb->tmpl->xsave_bytes > sizeof(struct kvm_xsave) ? KVM_GET_XSAVE2 : KVM_GET_XSAVE;
    if (ioctl(sb->vcpu_fd, KVM_GET_REGS, &st->regs) < 0 ||
        ioctl(sb->vcpu_fd, KVM_GET_SREGS, &st->sregs) < 0 ||
        ioctl(sb->vcpu_fd, KVM_GET_XCRS, &st->xcrs) < 0 ||
        ioctl(sb->vcpu_fd, KVM_GET_VCPU_EVENTS, &st->events) < 0 ||
        ioctl(sb->vcpu_fd, xsave_req, st->xsave) < 0)
        return nub__fail(sb, NUB_ERR_KVM, "saving the vCPU state: %s", strerror(errno));
    return NUB_OK;
}

nub_status nub__vcpu_load(nub_sandbox *sb, const struct nub_vcpu_state *st)
{
    if (sb->tmpl->sync_regs) {
        /* Through the run page, applied by the next KVM_RUN before it
         * enters the guest (or returns for immediate_exit): three ioctls
         * fewer per restore or creation, each a round trip into KVM that
         * costs more than the copy it makes. XCR0 and xsave have no such
         * path. */
        sb->run->s.regs.regs = st->regs;
        sb->run->s.regs.sregs = st->sregs;
        sb->run->s.regs.events = st->events;
        sb->run->kvm_dirty_regs = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS | KVM_SYNC_X86_EVENTS;
        if (ioctl_retry(sb->vcpu_fd, KVM_SET_XCRS, (void *)&st->xcrs) < 0 ||
            ioctl_retry(sb->vcpu_fd, KVM_SET_XSAVE, st->xsave) < 0)
            return nub__fail(sb, NUB_ERR_KVM, "loading the vCPU state: %s", strerror(errno));
        return NUB_OK;
    }
    if (ioctl_retry(sb->vcpu_fd, KVM_SET_SREGS, (void *)&st->sregs) < 0 ||
        ioctl_retry(sb->vcpu_fd, KVM_SET_REGS, (void *)&st->regs) < 0 ||
        ioctl_retry(sb->vcpu_fd, KVM_SET_XCRS, (void *)&st->xcrs) < 0 ||
        ioctl_retry(sb->vcpu_fd, KVM_SET_XSAVE, st->xsave) < 0 ||
        ioctl_retry(sb->vcpu_fd, KVM_SET_VCPU_EVENTS, (void *)&st->events) < 0)
        return nub__fail(sb, NUB_ERR_KVM, "loading the vCPU state: %s", strerror(errno));
    return NUB_OK;
}

void nub__kvm_close(nub_sandbox *sb)
{
    if (sb->run)
        munmap(sb->run, sb->run_size);
    if (sb->vcpu_fd >= 0)
        close(sb->vcpu_fd);
    if (sb->vm_fd >= 0)
        close(sb->vm_fd);
    if (sb->mem)
        munmap(sb->mem, sb->mem_bytes);
    sb->run = NULL;
    sb->mem = NULL;
    sb->vcpu_fd = sb->vm_fd = -1;
}
