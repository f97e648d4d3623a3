/*
 * kvm_vm.c — the VM, its memory and its one vCPU, straight through
 * linux/kvm.h: no irqchip, no firmware; the vCPU starts in 64-bit long mode
 * at the kernel's entry with the boot tables boot.c wrote.
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

nub_status nub__kvm_open(nub_sandbox *sb, const char *device)
{
    sb->kvm_fd = open(device, O_RDWR | O_CLOEXEC);
    if (sb->kvm_fd < 0) {
        int e = errno;
        if (e == EACCES || e == EPERM)
            return nub__fail(sb, NUB_ERR_KVM_PERMISSION, "cannot open %s: %s (need rw access)",
                             device, strerror(e));
        return nub__fail(sb, NUB_ERR_KVM_UNAVAILABLE, "cannot open %s: %s (is KVM enabled?)",
                         device, strerror(e));
    }
    int version = ioctl(sb->kvm_fd, KVM_GET_API_VERSION, 0);
    if (version != KVM_API_EXPECTED)
        return nub__fail(sb, NUB_ERR_KVM_API_VERSION,
                         "%s: KVM_GET_API_VERSION gave %d, expected %d (not a KVM device?)", device,
                         version, KVM_API_EXPECTED);
    if (ioctl(sb->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY) <= 0)
        return nub__fail(sb, NUB_ERR_KVM_API_VERSION, "KVM lacks KVM_CAP_USER_MEMORY");
    return NUB_OK;
}

nub_status nub__kvm_create_vm(nub_sandbox *sb)
{
    do {
        sb->vm_fd = ioctl(sb->kvm_fd, KVM_CREATE_VM, 0);
    } while (sb->vm_fd < 0 && errno == EINTR);
    if (sb->vm_fd < 0)
        return nub__fail(sb, NUB_ERR_KVM, "KVM_CREATE_VM: %s", strerror(errno));

    sb->mem = mmap(NULL, sb->mem_bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (sb->mem == MAP_FAILED) {
        sb->mem = NULL;
        return nub__fail(sb, NUB_ERR_NOMEM, "mmap of %zu bytes of guest memory: %s", sb->mem_bytes,
                         strerror(errno));
    }
    struct kvm_userspace_memory_region region = {
        .slot = 0,
        .guest_phys_addr = 0,
        .memory_size = sb->mem_bytes,
        .userspace_addr = (uint64_t)(uintptr_t)sb->mem,
    };
    if (ioctl_retry(sb->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
        return nub__fail(sb, NUB_ERR_KVM, "KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));

    do {
        sb->vcpu_fd = ioctl(sb->vm_fd, KVM_CREATE_VCPU, 0);
    } while (sb->vcpu_fd < 0 && errno == EINTR);
    if (sb->vcpu_fd < 0)
        return nub__fail(sb, NUB_ERR_KVM, "KVM_CREATE_VCPU: %s", strerror(errno));

    int run_size = ioctl(sb->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (run_size < (int)sizeof(struct kvm_run))
        return nub__fail(sb, NUB_ERR_KVM, "KVM_GET_VCPU_MMAP_SIZE gave %d", run_size);
    sb->run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, sb->vcpu_fd, 0);
    if (sb->run == MAP_FAILED) {
        sb->run = NULL;
        return nub__fail(sb, NUB_ERR_KVM, "mmap of the vCPU run page: %s", strerror(errno));
    }
    sb->run_size = (size_t)run_size;
    return NUB_OK;
}

/* The guest sees exactly what KVM can virtualise on this host (the JIT may
 * check for BMI, SMEP/SMAP and the like). */
static nub_status set_cpuid(nub_sandbox *sb)
{
    size_t bytes = sizeof(struct kvm_cpuid2) + CPUID_MAX_ENTRIES * sizeof(struct kvm_cpuid_entry2);
    struct kvm_cpuid2 *cpuid = calloc(1, bytes);
    if (!cpuid)
        return nub__fail(sb, NUB_ERR_NOMEM, "cpuid table");
    cpuid->nent = CPUID_MAX_ENTRIES;
    nub_status s = NUB_OK;
    if (ioctl(sb->kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid) < 0)
        s = nub__fail(sb, NUB_ERR_KVM, "KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
    else if (ioctl_retry(sb->vcpu_fd, KVM_SET_CPUID2, cpuid) < 0)
        s = nub__fail(sb, NUB_ERR_KVM, "KVM_SET_CPUID2: %s", strerror(errno));
    free(cpuid);
    return s;
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
    nub_status s = set_cpuid(sb);
    if (s == NUB_OK)
        s = set_sregs(sb);
    if (s != NUB_OK)
        return s;
    struct kvm_regs regs = {
        .rip = entry, .rflags = 0x2, /* bit 1 is reserved-one; interrupts off */
    };
    if (ioctl_retry(sb->vcpu_fd, KVM_SET_REGS, &regs) < 0)
        return nub__fail(sb, NUB_ERR_KVM, "KVM_SET_REGS: %s", strerror(errno));
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
    if (sb->kvm_fd >= 0)
        close(sb->kvm_fd);
    sb->run = NULL;
    sb->mem = NULL;
    sb->vcpu_fd = sb->vm_fd = sb->kvm_fd = -1;
}
