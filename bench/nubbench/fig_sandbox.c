/*
 * fig_sandbox.c — KVM sandbox figures, each next to the bare-KVM cost it is
 * compared with, measured in the same run:
 *
 *   kvm_create_us        a bare VM: KVM_CREATE_VM + one memory slot +
 *                        KVM_CREATE_VCPU + run-page mmap (median)
 *   sandbox_create_us    nub_sandbox_create: the same plus loading, booting
 *                        the guest kernel and checking its boot info (median)
 *   kvm_exit_us          one KVM_RUN round trip of a minimal guest doing
 *                        `out; jmp` (one PIO exit per run; mean)
 *   kvm_exit_ring3_us    the same with the minimal guest in 64-bit ring 3, where
 *                        the sandbox's service runs (on a PVM-style hypervisor
 *                        ring 0 is emulated and ring 3 native, and their exit
 *                        costs differ)
 *   smoke_roundtrip_us   nub_smoke (one RPC, one exit; mean)
 *   invoke_roundtrip_us  nub_invoke of a cached trivial program (halt) with
 *                        fresh memory per call (mean)
 *   hostcall_roundtrip_us  per host call: a program looping over `ecalli 0`
 *                        (counter in phi7) with a host function that does
 *                        nothing (nub_invoke_call); (time of N calls - time
 *                        of 1) / (N - 1), each time the best of three
 *   invoke_io_64k_us     nub_invoke_call with 64 KiB of input and the 64 KiB
 *                        output of a program that halts at once ([phi7,
 *                        phi7 + phi8) = the input) (mean)
 *   invoke_vs_kvm_exit, smoke_vs_kvm_exit, sandbox_create_vs_kvm_create,
 *   smoke_vs_kvm_exit_ring3, invoke_vs_kvm_exit_ring3,
 *   hostcall_vs_kvm_exit_ring3, invoke_io_64k_vs_invoke  ratios
 */
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "nub/host.h"
#include "nubbench.h"
#include "pvmasm.h"

#define BARE_MEM_BYTES 0x10000u
#define BARE_CODE_GPA  0x1000u

struct bare_vm {
    int vm, vcpu;
    uint8_t *mem;
    struct kvm_run *run;
    size_t run_size;
};

static void bare_destroy(struct bare_vm *b)
{
    if (b->run)
        munmap(b->run, b->run_size);
    if (b->mem)
        munmap(b->mem, BARE_MEM_BYTES);
    if (b->vcpu >= 0)
        close(b->vcpu);
    if (b->vm >= 0)
        close(b->vm);
}

/* A VM with one vCPU and 64 KiB of memory; 0 or -1. */
static int bare_create(int kvm, struct bare_vm *b)
{
    *b = (struct bare_vm){.vm = -1, .vcpu = -1};
    b->vm = ioctl(kvm, KVM_CREATE_VM, 0);
    b->mem = mmap(NULL, BARE_MEM_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (b->vm < 0 || b->mem == MAP_FAILED) {
        b->mem = NULL;
        return -1;
    }
    struct kvm_userspace_memory_region region = {
        .slot = 0, .memory_size = BARE_MEM_BYTES, .userspace_addr = (uint64_t)(uintptr_t)b->mem};
    int size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (ioctl(b->vm, KVM_SET_USER_MEMORY_REGION, &region) < 0 || size <= 0 ||
        (b->vcpu = ioctl(b->vm, KVM_CREATE_VCPU, 0)) < 0)
        return -1;
    b->run = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, b->vcpu, 0);
    if (b->run == MAP_FAILED) {
        b->run = NULL;
        return -1;
    }
    b->run_size = (size_t)size;
    return 0;
}

/* Real mode at BARE_CODE_GPA: `out %al, $0x10; jmp .-4`, one exit per KVM_RUN. */
static int bare_prepare_exit_loop(struct bare_vm *b)
{
    static const uint8_t code[] = {0xE6, 0x10, 0xEB, 0xFC};
    memcpy(b->mem + BARE_CODE_GPA, code, sizeof code);
    struct kvm_sregs sregs;
    if (ioctl(b->vcpu, KVM_GET_SREGS, &sregs) < 0)
        return -1;
    sregs.cs.base = 0;
    sregs.cs.selector = 0;
    struct kvm_regs regs = {.rip = BARE_CODE_GPA, .rflags = 0x2};
    if (ioctl(b->vcpu, KVM_SET_SREGS, &sregs) < 0 || ioctl(b->vcpu, KVM_SET_REGS, &regs) < 0)
        return -1;
    return 0;
}

/*
 * 64-bit ring 3 at BARE_CODE_GPA: identity page tables (2 MiB user pages),
 * a GDT with user segments, CPL 3 from the start, the same `out; jmp` loop.
 */
static int bare_prepare_ring3_exit_loop(struct bare_vm *b)
{
    static const uint8_t code[] = {0xE6, 0x10, 0xEB, 0xFC};
    memcpy(b->mem + BARE_CODE_GPA, code, sizeof code);
    uint64_t *pml4 = (uint64_t *)(b->mem + 0x4000), *pdpt = (uint64_t *)(b->mem + 0x5000);
    uint64_t *pd = (uint64_t *)(b->mem + 0x6000), *gdt = (uint64_t *)(b->mem + 0x2000);
    pml4[0] = 0x5000 | 7; /* P, RW, US */
    pdpt[0] = 0x6000 | 7;
    pd[0] = 0x0 | 0x87;          /* 2 MiB page, P, RW, US (covers the 64 KiB slot) */
    gdt[3] = 0x0000F20000000000; /* user data */
    gdt[4] = 0x0020FA0000000000; /* user code, L */
    struct kvm_sregs sregs;
    if (ioctl(b->vcpu, KVM_GET_SREGS, &sregs) < 0)
        return -1;
    sregs.cs = (struct kvm_segment){.limit = 0xFFFFFFFF,
                                    .selector = 0x23,
                                    .type = 11,
                                    .present = 1,
                                    .dpl = 3,
                                    .s = 1,
                                    .l = 1,
                                    .g = 1};
    sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = (struct kvm_segment){.limit = 0xFFFFFFFF,
                                                                                .selector = 0x1B,
                                                                                .type = 3,
                                                                                .present = 1,
                                                                                .dpl = 3,
                                                                                .s = 1,
                                                                                .db = 1,
                                                                                .g = 1};
    /* A zeroed TSS: I/O bitmap offset 0, so the bitmap bits for port 0x10 are
     * the TSS's own zero bytes and ring 3 may use it. */
    sregs.tr = (struct kvm_segment){.base = 0x3000, .limit = 103, .type = 11, .present = 1};
    sregs.gdt.base = 0x2000;
    sregs.gdt.limit = 39;
    sregs.cr3 = 0x4000;
    sregs.cr4 = 1u << 5;                                        /* PAE */
    sregs.cr0 = (1u << 0) | (1u << 4) | (1u << 5) | (1u << 31); /* PE, ET, NE, PG */
    sregs.efer = (1u << 8) | (1u << 10);                        /* LME, LMA */
    struct kvm_regs regs = {.rip = BARE_CODE_GPA, .rflags = 0x2};
    if (ioctl(b->vcpu, KVM_SET_SREGS, &sregs) < 0 || ioctl(b->vcpu, KVM_SET_REGS, &regs) < 0)
        return -1;
    return 0;
}

/* Mean KVM_RUN round trip of a prepared exit loop; < 0 on failure. */
static double exit_loop_us(struct bare_vm *b, int exits)
{
    if (ioctl(b->vcpu, KVM_RUN, 0) < 0 || b->run->exit_reason != KVM_EXIT_IO)
        return -1;
    uint64_t t0 = nubbench_now_ns();
    for (int i = 0; i < exits; i++)
        if (ioctl(b->vcpu, KVM_RUN, 0) < 0 || b->run->exit_reason != KVM_EXIT_IO)
            return -1;
    return (double)(nubbench_now_ns() - t0) / 1e3 / exits;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return v[n / 2];
}

#define MAX_SAMPLES 64

static int measure_bare(int kvm, int creates, int exits, double *create_us, double *exit_us,
                        double *exit_ring3_us)
{
    double samples[MAX_SAMPLES];
    for (int i = 0; i < creates; i++) {
        struct bare_vm b;
        uint64_t t0 = nubbench_now_ns();
        int rc = bare_create(kvm, &b);
        uint64_t t1 = nubbench_now_ns();
        bare_destroy(&b);
        if (rc != 0)
            return -1;
        samples[i] = (double)(t1 - t0) / 1e3;
    }
    *create_us = median(samples, creates);

    struct bare_vm b;
    int rc = bare_create(kvm, &b) == 0 && bare_prepare_exit_loop(&b) == 0 ? 0 : -1;
    *exit_us = rc == 0 ? exit_loop_us(&b, exits) : -1;
    bare_destroy(&b);
    rc = bare_create(kvm, &b) == 0 && bare_prepare_ring3_exit_loop(&b) == 0 ? 0 : -1;
    *exit_ring3_us = rc == 0 ? exit_loop_us(&b, exits) : -1;
    bare_destroy(&b);
    return *exit_us > 0 && *exit_ring3_us > 0 ? 0 : -1;
}

static int do_nothing(void *ctx, nub_host_call *call)
{
    (void)ctx;
    (void)call;
    return NUB_HOST_CONTINUE;
}

/* us per host call of the ecalli loop (see the header). */
static double hostcall_us(nub_sandbox *sb, int loops)
{
    static const char text[] = "loop:\n"
                               "    ecalli 0\n"
                               "    add_imm_64 a0, a0, -1\n"
                               "    branch_ne_imm a0, 0, loop\n"
                               "    jump_ind ra, 0\n";
    struct pvmasm_output as;
    char err[200];
    if (pvmasm_assemble(text, strlen(text), &as, err, sizeof err) != 0)
        return -1;
    struct nub_capbuild_raw prog = {
        .blob = as.blob, .blob_len = (uint32_t)as.blob_len, .default_gas = INT64_MAX};
    prog.regs[0] = NUB_STDPROG_HALT_ADDR;
    struct nub_invoke_packet p = {.arg_count = 1};
    double best[2] = {-1, -1}; /* best time of 1 call and of `loops` calls */
    int ok = nub_publish_raw(sb, &prog, p.instance_hash) == NUB_OK;
    if (ok) {
        for (int rep = 0; rep < 3; rep++) {
            for (int k = 0; k < 2; k++) {
                p.args[0] = k == 0 ? 1 : (uint64_t)loops;
                struct nub_call call = {.host = {.fn = do_nothing}};
                struct nub_invocation_result r;
                uint64_t t0 = nubbench_now_ns();
                nub_status s = nub_invoke_call(sb, &p, &call, &r);
                double us = (double)(nubbench_now_ns() - t0) / 1e3;
                if (s != NUB_OK || r.exit_reason != NUB_EXIT_HALT || call.host_calls != p.args[0])
                    ok = 0;
                if (best[k] < 0 || us < best[k])
                    best[k] = us;
            }
        }
    }
    pvmasm_output_free(&as);
    if (!ok)
        return -1;
    double per_call = (best[1] - best[0]) / (loops - 1);
    return per_call > 0 ? per_call : 0; /* noise on a short (--quick) run */
}

/* us per call of 64 KiB in, 64 KiB out (see the header). */
static double invoke_io_us(nub_sandbox *sb, int calls)
{
    static const uint8_t halt_blob[] = {0x00, 0x00, 0x03, 0x32, 0x00, 0x00, 0x01};
    struct nub_capbuild_raw prog = {
        .blob = halt_blob, .blob_len = sizeof halt_blob, .default_gas = 100};
    prog.regs[0] = NUB_STDPROG_HALT_ADDR;
    struct nub_invoke_packet p = {.initial_gas = 100};
    enum { IO_BYTES = 64 * 1024 };
    uint8_t *in = malloc(IO_BYTES), *out = malloc(IO_BYTES);
    double us = -1;
    if (in && out && nub_publish_raw(sb, &prog, p.instance_hash) == NUB_OK) {
        for (int i = 0; i < IO_BYTES; i++)
            in[i] = (uint8_t)(i * 7);
        uint64_t t0 = 0;
        int i;
        for (i = -1; i < calls; i++) { /* the first call builds the space: not timed */
            if (i == 0)
                t0 = nubbench_now_ns();
            struct nub_call call = {
                .input = in, .input_len = IO_BYTES, .output = out, .output_cap = IO_BYTES};
            struct nub_invocation_result r;
            if (nub_invoke_call(sb, &p, &call, &r) != NUB_OK || r.exit_reason != NUB_EXIT_HALT ||
                call.output_status != NUB_OK || call.output_len != IO_BYTES)
                break;
        }
        if (i == calls && memcmp(in, out, IO_BYTES) == 0)
            us = (double)(nubbench_now_ns() - t0) / 1e3 / calls;
    }
    free(in);
    free(out);
    return us;
}

static int measure_sandbox(int creates, int calls, double *create_us, double *smoke_us,
                           double *invoke_us, double *hostcall, double *invoke_io)
{
    double samples[MAX_SAMPLES];
    for (int i = 0; i < creates; i++) {
        nub_sandbox *sb = NULL;
        uint64_t t0 = nubbench_now_ns();
        nub_status s = nub_sandbox_create(NULL, &sb);
        uint64_t t1 = nubbench_now_ns();
        nub_sandbox_destroy(sb);
        if (s != NUB_OK) {
            fprintf(stderr, "fig_sandbox: nub_sandbox_create: %s\n", nub_strerror(s));
            return -1;
        }
        samples[i] = (double)(t1 - t0) / 1e3;
    }
    *create_us = median(samples, creates);

    nub_sandbox *sb = NULL;
    if (nub_sandbox_create(NULL, &sb) != NUB_OK)
        return -1;
    uint64_t v = 0;
    uint64_t t0 = nubbench_now_ns();
    for (int i = 0; i < calls; i++)
        if (nub_smoke(sb, &v) != NUB_OK || v != 42)
            goto fail;
    uint64_t t1 = nubbench_now_ns();
    *smoke_us = (double)(t1 - t0) / 1e3 / calls;

    /* A trivial program: `jump_ind ra, 0` with ra = the halt address. */
    static const uint8_t halt_blob[] = {0x00, 0x00, 0x03, 0x32, 0x00, 0x00, 0x01};
    struct nub_capbuild_raw prog = {
        .blob = halt_blob, .blob_len = sizeof halt_blob, .default_gas = 100};
    prog.regs[0] = NUB_STDPROG_HALT_ADDR;
    struct nub_invoke_packet p = {.initial_gas = 100};
    struct nub_invocation_result r;
    if (nub_publish_raw(sb, &prog, p.instance_hash) != NUB_OK || nub_invoke(sb, &p, &r) != NUB_OK ||
        r.exit_reason != NUB_EXIT_HALT) /* the first call compiles: not timed */
        goto fail;
    t0 = nubbench_now_ns();
    for (int i = 0; i < calls; i++)
        if (nub_invoke(sb, &p, &r) != NUB_OK || r.exit_reason != NUB_EXIT_HALT)
            goto fail;
    t1 = nubbench_now_ns();
    *invoke_us = (double)(t1 - t0) / 1e3 / calls;
    *hostcall = hostcall_us(sb, calls * 4);
    *invoke_io = invoke_io_us(sb, calls);
    if (*hostcall < 0 || *invoke_io < 0)
        goto fail;
    nub_sandbox_destroy(sb);
    return 0;
fail:
    fprintf(stderr, "fig_sandbox: %s\n", nub_sandbox_last_error(sb));
    nub_sandbox_destroy(sb);
    return -1;
}

int fig_sandbox(const struct nubbench_options *opt)
{
    int kvm = open(NUB_SANDBOX_DEFAULT_KVM_DEVICE, O_RDWR | O_CLOEXEC);
    if (kvm < 0) {
        fprintf(stderr, "fig_sandbox: skipped: cannot open %s\n", NUB_SANDBOX_DEFAULT_KVM_DEVICE);
        return 0;
    }
    int creates = opt->quick ? 3 : 15;
    int exits = opt->quick ? 200 : 5000;
    int calls = opt->quick ? 20 : 500;
    double kvm_create, kvm_exit, kvm_exit_ring3, sb_create, smoke, invoke, hostcall, invoke_io;
    int rc = measure_bare(kvm, creates, exits, &kvm_create, &kvm_exit, &kvm_exit_ring3);
    close(kvm);
    if (rc != 0) {
        fprintf(stderr, "fig_sandbox: the bare VM measurement failed\n");
        return 1;
    }
    if (measure_sandbox(creates, calls, &sb_create, &smoke, &invoke, &hostcall, &invoke_io) != 0)
        return 1;
    nubbench_emit("kvm_create_us", kvm_create, "us");
    nubbench_emit("sandbox_create_us", sb_create, "us");
    nubbench_emit("sandbox_create_vs_kvm_create", sb_create / kvm_create, "x");
    nubbench_emit("kvm_exit_us", kvm_exit, "us");
    nubbench_emit("smoke_roundtrip_us", smoke, "us");
    nubbench_emit("smoke_vs_kvm_exit", smoke / kvm_exit, "x");
    nubbench_emit("invoke_roundtrip_us", invoke, "us");
    nubbench_emit("invoke_vs_kvm_exit", invoke / kvm_exit, "x");
    nubbench_emit("kvm_exit_ring3_us", kvm_exit_ring3, "us");
    nubbench_emit("smoke_vs_kvm_exit_ring3", smoke / kvm_exit_ring3, "x");
    nubbench_emit("invoke_vs_kvm_exit_ring3", invoke / kvm_exit_ring3, "x");
    nubbench_emit("hostcall_roundtrip_us", hostcall, "us");
    nubbench_emit("hostcall_vs_kvm_exit_ring3", hostcall / kvm_exit_ring3, "x");
    nubbench_emit("invoke_io_64k_us", invoke_io, "us");
    nubbench_emit("invoke_io_64k_vs_invoke", invoke_io / invoke, "x");
    return 0;
}
