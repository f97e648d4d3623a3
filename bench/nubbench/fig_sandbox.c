/*
 * fig_sandbox.c — KVM sandbox figures, each next to the bare-KVM cost it is
 * compared with, measured in the same run:
 *
 *   kvm_create_us        a bare VM: KVM_CREATE_VM + one memory slot +
 *                        KVM_CREATE_VCPU + run-page mmap (median)
 *   sandbox_create_us    nub_sandbox_create from a template (booted once,
 *                        nub_template_create): the same plus mapping the
 *                        template copy-on-write and loading its vCPU state
 *                        (the boot info was checked when the template
 *                        booted; median)
 *   sandbox_create_call_drop_us  from a template: create, one SMOKE (the
 *                        first call maps the pages it touches), destroy
 *                        (median; Hyperlight's create+call+drop counterpart)
 *   kvm_create_drop_us   a bare VM created as for kvm_create_us, then its
 *                        vCPU and VM fds closed (median): the floor of
 *                        create_call_drop (closing a VM fd is where KVM
 *                        tears the VM down, and costs about as much as
 *                        creating it)
 *   sandbox_create_cold_us  nub_sandbox_create without a template: loading
 *                        and booting the guest kernel too (median)
 *   sandbox_restore_us   nub_sandbox_restore after an invoke whose program
 *                        wrote 1 MiB of its memory (median of 64)
 *   sandbox_restore_after_smoke_us  the same after a SMOKE (a call that
 *                        writes a few pages: the fixed cost of a restore)
 *   memcpy_1mib_us       memcpy of 1 MiB between two buffers of this process
 *                        whose pages are mapped already (median of 64): the
 *                        floor of a restore that puts back 1 MiB of written
 *                        guest memory on this machine
 *   sandbox_rss_kib      host RSS (VmRSS) added per idle sandbox created
 *                        from a template, over 16 sandboxes; shared template
 *                        pages count in each sandbox that maps them
 *   sandbox_pss_kib      the same in PSS (shared pages divided among maps)
 *   sandbox_rss_after_call_kib  RSS per sandbox after each made one SMOKE
 *   sandbox_rss_per_published_mib_kib  RSS added per sandbox per MiB of a
 *                        published DATA cap (16 sandboxes, 1 MiB each)
 *   timeout_sigalrm_storm_vs_deadline  a 200 ms invoke_timeout_ns on an
 *                        endless loop with SIGALRM every 50 ms: time taken
 *                        / 200 ms (goal <= 1.1; the deadline is absolute)
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
 *   sandbox_create_call_drop_vs_kvm_create_drop,
 *   smoke_vs_kvm_exit_ring3, invoke_vs_kvm_exit_ring3,
 *   sandbox_restore_vs_invoke (restore / invoke_roundtrip),
 *   sandbox_restore_vs_memcpy_1mib (restore / memcpy_1mib),
 *   hostcall_vs_kvm_exit_ring3, invoke_io_64k_vs_invoke  ratios
 */
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/time.h>
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

static int measure_bare(int kvm, int creates, int exits, double *create_us, double *create_drop_us,
                        double *exit_us, double *exit_ring3_us)
{
    double samples[MAX_SAMPLES], drop_samples[MAX_SAMPLES];
    for (int i = 0; i < creates; i++) {
        struct bare_vm b;
        uint64_t t0 = nubbench_now_ns();
        int rc = bare_create(kvm, &b);
        uint64_t t1 = nubbench_now_ns();
        bare_destroy(&b);
        uint64_t t2 = nubbench_now_ns();
        if (rc != 0)
            return -1;
        samples[i] = (double)(t1 - t0) / 1e3;
        drop_samples[i] = (double)(t2 - t0) / 1e3;
    }
    *create_us = median(samples, creates);
    *create_drop_us = median(drop_samples, creates);

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

struct sandbox_figures {
    double create_us, create_call_drop_us, create_cold_us, smoke_us, invoke_us, restore_us;
    double restore_small_us, memcpy_1mib_us;
    double rss_kib, pss_kib, rss_called_kib, rss_per_mib_kib;
    double storm_ratio;
    double hostcall_us, invoke_io_us;
};

static nub_status create_from(nub_template *t, nub_sandbox **sb)
{
    nub_sandbox_config cfg = {.from_template = t};
    return nub_sandbox_create(&cfg, sb);
}

/* Median create time (from t, or cold); with `call`, a create + one SMOKE
 * + destroy instead. */
static int time_creates(nub_template *t, int creates, int call, double *out)
{
    double samples[MAX_SAMPLES];
    for (int i = 0; i < creates; i++) {
        nub_sandbox *sb = NULL;
        uint64_t t0 = nubbench_now_ns();
        nub_status s = t ? create_from(t, &sb) : nub_sandbox_create(NULL, &sb);
        uint64_t v = 0;
        if (call && s == NUB_OK && (s = nub_smoke(sb, &v)) == NUB_OK && v != 42)
            s = NUB_ERR_PROTOCOL;
        if (call)
            nub_sandbox_destroy(sb);
        uint64_t t1 = nubbench_now_ns();
        if (!call)
            nub_sandbox_destroy(sb);
        if (s != NUB_OK) {
            fprintf(stderr, "fig_sandbox: nub_sandbox_create: %s\n", nub_strerror(s));
            return -1;
        }
        samples[i] = (double)(t1 - t0) / 1e3;
    }
    *out = median(samples, creates);
    return 0;
}

/* A program that writes every 8 bytes of a 1 MiB read-write range. */
#define WRITER_BASE  0x20000u
#define WRITER_BYTES (1u << 20)
static nub_status publish_asm(nub_sandbox *sb, const char *text, nub_cap_hash out)
{
    struct pvmasm_output asm_out;
    char err[128];
    if (pvmasm_assemble(text, strlen(text), &asm_out, err, sizeof err) != 0) {
        fprintf(stderr, "fig_sandbox: pvmasm: %s\n", err);
        return NUB_ERR_INVALID_ARGUMENT;
    }
    struct nub_capbuild_range range = {WRITER_BASE, WRITER_BYTES, NUB_WIRE_ACCESS_WRITE};
    struct nub_capbuild_raw prog = {.blob = asm_out.blob,
                                    .blob_len = (uint32_t)asm_out.blob_len,
                                    .ranges = &range,
                                    .range_count = 1,
                                    .default_gas = 1000000};
    prog.regs[0] = NUB_STDPROG_HALT_ADDR;
    nub_status s = nub_publish_raw(sb, &prog, out);
    pvmasm_output_free(&asm_out);
    return s;
}

static nub_status publish_writer(nub_sandbox *sb, nub_cap_hash out)
{
    static const char text[] = "    load_imm s0, 0x20000\n"
                               "    load_imm s1, 0x120000\n"
                               "    fallthrough\n"
                               "loop:\n"
                               "    store_ind_u64 s1, s0, 0\n"
                               "    add_imm_64 s0, s0, 8\n"
                               "    branch_lt_u s0, s1, loop\n"
                               "    jump_ind ra, 0\n";
    return publish_asm(sb, text, out);
}

static int measure_restore(nub_template *t, int rounds, double *restore_us,
                           double *restore_small_us)
{
    nub_sandbox *sb = NULL;
    nub_cap_hash h;
    struct nub_invoke_packet p = {.initial_gas = 1000000};
    struct nub_invocation_result r;
    if (create_from(t, &sb) != NUB_OK || publish_writer(sb, h) != NUB_OK)
        goto fail;
    memcpy(p.instance_hash, h, sizeof h);
    if (nub_invoke(sb, &p, &r) != NUB_OK || r.exit_reason != NUB_EXIT_HALT ||
        nub_sandbox_snapshot(sb) != NUB_OK) /* compiled and kept */
        goto fail;
    double samples[MAX_SAMPLES];
    if (rounds > MAX_SAMPLES)
        rounds = MAX_SAMPLES;
    for (int i = 0; i < rounds; i++) {
        if (nub_invoke(sb, &p, &r) != NUB_OK || r.exit_reason != NUB_EXIT_HALT)
            goto fail;
        uint64_t t0 = nubbench_now_ns();
        nub_status s = nub_sandbox_restore(sb);
        samples[i] = (double)(nubbench_now_ns() - t0) / 1e3;
        if (s != NUB_OK)
            goto fail;
    }
    *restore_us = median(samples, rounds);
    for (int i = 0; i < rounds; i++) { /* after a call that wrote little */
        uint64_t v = 0;
        if (nub_smoke(sb, &v) != NUB_OK || v != 42)
            goto fail;
        uint64_t t0 = nubbench_now_ns();
        nub_status s = nub_sandbox_restore(sb);
        samples[i] = (double)(nubbench_now_ns() - t0) / 1e3;
        if (s != NUB_OK)
            goto fail;
    }
    *restore_small_us = median(samples, rounds);
    nub_sandbox_destroy(sb);
    return 0;
fail:
    fprintf(stderr, "fig_sandbox: restore: %s\n", sb ? nub_sandbox_last_error(sb) : "create");
    nub_sandbox_destroy(sb);
    return -1;
}

/* Median time to memcpy 1 MiB between two buffers already mapped (both
 * touched first, so no page faults are timed); -1 if they cannot be had. */
#define MEMCPY_BYTES (1u << 20)
static double measure_memcpy_1mib(int rounds)
{
    uint8_t *src = malloc(MEMCPY_BYTES), *dst = malloc(MEMCPY_BYTES);
    double samples[MAX_SAMPLES], us = -1;
    if (rounds > MAX_SAMPLES)
        rounds = MAX_SAMPLES;
    if (src && dst) {
        memset(src, 0x5a, MEMCPY_BYTES);
        memset(dst, 0, MEMCPY_BYTES);
        for (int i = 0; i < rounds; i++) {
            uint64_t t0 = nubbench_now_ns();
            memcpy(dst, src, MEMCPY_BYTES);
            /* The copy must happen: dst is read through an opaque use. */
            __asm__ volatile("" : : "r"(dst) : "memory");
            samples[i] = (double)(nubbench_now_ns() - t0) / 1e3;
        }
        us = median(samples, rounds);
    }
    free(src);
    free(dst);
    return us;
}

/* A "Name:   N kB" line of a /proc file; -1 if absent. */
static long proc_kib(const char *path, const char *name)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    char line[256];
    long v = -1;
    size_t n = strlen(name);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, name, n) == 0 && line[n] == ':') {
            v = strtol(line + n + 1, NULL, 10);
            break;
        }
    fclose(f);
    return v;
}

#define RSS_SANDBOXES 16
static int measure_rss(nub_template *t, struct sandbox_figures *f)
{
    nub_sandbox *sbs[RSS_SANDBOXES] = {0};
    int rc = -1;
    long rss0 = proc_kib("/proc/self/status", "VmRSS");
    long pss0 = proc_kib("/proc/self/smaps_rollup", "Pss");
    for (int i = 0; i < RSS_SANDBOXES; i++)
        if (create_from(t, &sbs[i]) != NUB_OK)
            goto out;
    long rss1 = proc_kib("/proc/self/status", "VmRSS");
    long pss1 = proc_kib("/proc/self/smaps_rollup", "Pss");
    for (int i = 0; i < RSS_SANDBOXES; i++) {
        uint64_t v;
        if (nub_smoke(sbs[i], &v) != NUB_OK)
            goto out;
    }
    long rss_called = proc_kib("/proc/self/status", "VmRSS");
    /* One DATA cap of 1 MiB (non-zero bytes) per sandbox. */
    size_t data_len = (size_t)1 << 20;
    uint8_t *data = malloc(data_len);
    if (!data)
        goto out;
    for (size_t i = 0; i < data_len; i++)
        data[i] = (uint8_t)(i * 7 + 1);
    struct nub_capbuild_chunk chunk = {WRITER_BASE, (uint32_t)data_len, data};
    struct nub_capbuild_range range = {WRITER_BASE, (uint32_t)data_len, NUB_WIRE_ACCESS_READ};
    static const uint8_t halt_blob[] = {0x00, 0x00, 0x03, 0x32, 0x00, 0x00, 0x01};
    struct nub_capbuild_raw prog = {.blob = halt_blob,
                                    .blob_len = sizeof halt_blob,
                                    .ranges = &range,
                                    .range_count = 1,
                                    .chunks = &chunk,
                                    .chunk_count = 1,
                                    .default_gas = 100};
    prog.regs[0] = NUB_STDPROG_HALT_ADDR;
    long rss2 = rss1;
    int ok = 1;
    for (int i = 0; i < RSS_SANDBOXES && ok; i++) {
        nub_cap_hash h;
        ok = nub_publish_raw(sbs[i], &prog, h) == NUB_OK;
    }
    free(data);
    if (!ok)
        goto out;
    rss2 = proc_kib("/proc/self/status", "VmRSS");
    if (rss0 < 0 || rss1 < 0 || rss2 < 0)
        goto out;
    f->rss_kib = (double)(rss1 - rss0) / RSS_SANDBOXES;
    f->pss_kib = pss0 >= 0 && pss1 >= 0 ? (double)(pss1 - pss0) / RSS_SANDBOXES : -1;
    f->rss_called_kib = (double)(rss_called - rss0) / RSS_SANDBOXES;
    f->rss_per_mib_kib = (double)(rss2 - rss_called) / RSS_SANDBOXES;
    rc = 0;
out:
    for (int i = 0; i < RSS_SANDBOXES; i++)
        nub_sandbox_destroy(sbs[i]);
    return rc;
}

static void on_alarm(int sig)
{
    (void)sig;
}

/* invoke_timeout_ns = 200 ms on an endless loop while SIGALRM arrives every
 * 50 ms: the time the call took over the 200 ms (goal <= 1.1). */
#define STORM_TIMEOUT_NS (UINT64_C(200) * 1000 * 1000)
static int measure_storm(nub_template *t, double *ratio)
{
    nub_sandbox *sb = NULL;
    struct nub_invoke_packet p = {.initial_gas = UINT64_C(1) << 62};
    struct nub_invocation_result r;
    if (create_from(t, &sb) != NUB_OK ||
        publish_asm(sb, "    fallthrough\nloop:\n    add_imm_64 a0, a0, 1\n    jump loop\n",
                    p.instance_hash) != NUB_OK ||
        nub_sandbox_set_timeout(sb, STORM_TIMEOUT_NS) != NUB_OK) {
        fprintf(stderr, "fig_sandbox: storm: %s\n", sb ? nub_sandbox_last_error(sb) : "create");
        nub_sandbox_destroy(sb);
        return -1;
    }
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, &old);
    struct itimerval storm = {{0, 50000}, {0, 50000}}, off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &storm, NULL);
    uint64_t t0 = nubbench_now_ns();
    nub_status s = nub_invoke(sb, &p, &r);
    uint64_t took = nubbench_now_ns() - t0;
    setitimer(ITIMER_REAL, &off, NULL);
    sigaction(SIGALRM, &old, NULL);
    nub_sandbox_destroy(sb);
    if (s != NUB_ERR_TIMEOUT) {
        fprintf(stderr, "fig_sandbox: storm: the call ended with %s\n", nub_strerror(s));
        return -1;
    }
    *ratio = (double)took / (double)STORM_TIMEOUT_NS;
    return 0;
}

static int measure_sandbox(int creates, int calls, struct sandbox_figures *f)
{
    nub_template *t = NULL;
    if (nub_template_create(NULL, &t) != NUB_OK) {
        fprintf(stderr, "fig_sandbox: nub_template_create failed\n");
        return -1;
    }
    if (time_creates(t, creates, 0, &f->create_us) != 0 ||
        time_creates(t, creates, 1, &f->create_call_drop_us) != 0 ||
        time_creates(NULL, creates, 0, &f->create_cold_us) != 0 ||
        measure_restore(t, calls, &f->restore_us, &f->restore_small_us) != 0 ||
        measure_rss(t, f) != 0 || measure_storm(t, &f->storm_ratio) != 0) {
        nub_template_destroy(t);
        return -1;
    }
    f->memcpy_1mib_us = measure_memcpy_1mib(calls);
    if (f->memcpy_1mib_us < 0) {
        fprintf(stderr, "fig_sandbox: no memory for the memcpy floor\n");
        nub_template_destroy(t);
        return -1;
    }

    nub_sandbox *sb = NULL;
    nub_status cs = create_from(t, &sb);
    nub_template_destroy(t);
    if (cs != NUB_OK)
        return -1;
    uint64_t v = 0;
    uint64_t t0 = nubbench_now_ns();
    for (int i = 0; i < calls; i++)
        if (nub_smoke(sb, &v) != NUB_OK || v != 42)
            goto fail;
    uint64_t t1 = nubbench_now_ns();
    f->smoke_us = (double)(t1 - t0) / 1e3 / calls;

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
    f->invoke_us = (double)(t1 - t0) / 1e3 / calls;
    f->hostcall_us = hostcall_us(sb, calls * 4);
    f->invoke_io_us = invoke_io_us(sb, calls);
    if (f->hostcall_us < 0 || f->invoke_io_us < 0)
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
    double kvm_create, kvm_create_drop, kvm_exit, kvm_exit_ring3;
    struct sandbox_figures f;
    int rc = measure_bare(kvm, creates, exits, &kvm_create, &kvm_create_drop, &kvm_exit,
                          &kvm_exit_ring3);
    close(kvm);
    if (rc != 0) {
        fprintf(stderr, "fig_sandbox: the bare VM measurement failed\n");
        return 1;
    }
    if (measure_sandbox(creates, calls, &f) != 0)
        return 1;
    nubbench_emit("kvm_create_us", kvm_create, "us");
    nubbench_emit("sandbox_create_us", f.create_us, "us");
    nubbench_emit("sandbox_create_vs_kvm_create", f.create_us / kvm_create, "x");
    nubbench_emit("sandbox_create_call_drop_us", f.create_call_drop_us, "us");
    nubbench_emit("kvm_create_drop_us", kvm_create_drop, "us");
    nubbench_emit("sandbox_create_call_drop_vs_kvm_create_drop",
                  f.create_call_drop_us / kvm_create_drop, "x");
    nubbench_emit("sandbox_create_cold_us", f.create_cold_us, "us");
    nubbench_emit("kvm_exit_us", kvm_exit, "us");
    nubbench_emit("smoke_roundtrip_us", f.smoke_us, "us");
    nubbench_emit("smoke_vs_kvm_exit", f.smoke_us / kvm_exit, "x");
    nubbench_emit("invoke_roundtrip_us", f.invoke_us, "us");
    nubbench_emit("invoke_vs_kvm_exit", f.invoke_us / kvm_exit, "x");
    nubbench_emit("kvm_exit_ring3_us", kvm_exit_ring3, "us");
    nubbench_emit("smoke_vs_kvm_exit_ring3", f.smoke_us / kvm_exit_ring3, "x");
    nubbench_emit("invoke_vs_kvm_exit_ring3", f.invoke_us / kvm_exit_ring3, "x");
    nubbench_emit("sandbox_restore_us", f.restore_us, "us");
    nubbench_emit("sandbox_restore_vs_invoke", f.restore_us / f.invoke_us, "x");
    nubbench_emit("sandbox_restore_after_smoke_us", f.restore_small_us, "us");
    nubbench_emit("memcpy_1mib_us", f.memcpy_1mib_us, "us");
    nubbench_emit("sandbox_restore_vs_memcpy_1mib", f.restore_us / f.memcpy_1mib_us, "x");
    nubbench_emit("sandbox_rss_kib", f.rss_kib, "KiB");
    nubbench_emit("sandbox_pss_kib", f.pss_kib, "KiB");
    nubbench_emit("sandbox_rss_after_call_kib", f.rss_called_kib, "KiB");
    nubbench_emit("sandbox_rss_per_published_mib_kib", f.rss_per_mib_kib, "KiB");
    nubbench_emit("timeout_sigalrm_storm_vs_deadline", f.storm_ratio, "x");
    nubbench_emit("hostcall_roundtrip_us", f.hostcall_us, "us");
    nubbench_emit("hostcall_vs_kvm_exit_ring3", f.hostcall_us / kvm_exit_ring3, "x");
    nubbench_emit("invoke_io_64k_us", f.invoke_io_us, "us");
    nubbench_emit("invoke_io_64k_vs_invoke", f.invoke_io_us / f.invoke_us, "x");
    return 0;
}
