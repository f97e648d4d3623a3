/*
 * test_isolation.c — the address space a PVM program runs in, inspected
 * from outside while the program runs.
 *
 * A PVM program cannot itself address anything outside its window (the
 * JIT's operands are [window + u32]), so running programs that poke at
 * kernel addresses (test_invoke.c) proves the JIT's confinement, not the
 * page tables. This test looks at the tables themselves: a program loops
 * until invoke_timeout_ns stops the vCPU in the middle of the run, and the
 * test (white box: it reads the sandbox's guest memory and vCPU through the
 * library's private state) walks the page tables the vCPU's CR3 names.
 * Every page ring 3 can reach must be one of: the JIT code (read + execute,
 * never writable), the context block page (RW, NX), the instance's window
 * pages (NX, writable only where published so). None may be kernel or
 * service memory (below the heap), one of the space's own page tables, or
 * another instance's page (found by a marker in its data).
 */
#include "test_util.h"
#include "kvm_check.h"

#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "pvmasm.h"
#include "pvm_guest_mem.h"
#include "sandbox_int.h" /* white box: sb->mem, sb->vcpu_fd, sb->params */

#define DATA_PAGE  0x20000u /* RW, starts with the instance's marker */
#define RO_PAGE    0x30000u /* read-only */
#define CODE_VA    UINT64_C(0x0000008000000000)
#define WINDOW_VA  UINT64_C(0x0000010000000000)
#define CTX_VA     (WINDOW_VA - 4096)
#define PTE_P      (UINT64_C(1) << 0)
#define PTE_RW     (UINT64_C(1) << 1)
#define PTE_US     (UINT64_C(1) << 2)
#define PTE_PS     (UINT64_C(1) << 7)
#define PTE_NX     (UINT64_C(1) << 63)
#define PTE_ADDR   UINT64_C(0x000FFFFFFFFFF000)
#define MARKER_LEN 32
#define MAX_LEAVES 4096
#define MAX_TABLES 512

static const uint8_t marker_a[MARKER_LEN] = "instance A: mine, all mine.....";
static const uint8_t marker_b[MARKER_LEN] = "instance B: keep out of A......";

static void publish(nub_sandbox *sb, const char *text, const uint8_t *marker, nub_cap_hash out)
{
    struct pvmasm_output asm_out;
    char err[256];
    if (pvmasm_assemble(text, strlen(text), &asm_out, err, sizeof err) != 0)
        fail_msg("pvmasm: %s", err);
    struct nub_capbuild_range ranges[2] = {{DATA_PAGE, 4096, NUB_WIRE_ACCESS_WRITE},
                                           {RO_PAGE, 4096, NUB_WIRE_ACCESS_READ}};
    struct nub_capbuild_chunk chunk = {DATA_PAGE, MARKER_LEN, marker};
    struct nub_capbuild_raw prog = {
        .blob = asm_out.blob,
        .blob_len = (uint32_t)asm_out.blob_len,
        .ranges = ranges,
        .range_count = 2,
        .chunks = &chunk,
        .chunk_count = 1,
        .default_gas = 10000,
    };
    prog.regs[0] = 0xFFFF0000u; /* ra: `jump_ind ra, 0` halts */
    nub_status s = nub_publish_raw(sb, &prog, out);
    if (s != NUB_OK)
        fail_msg("publish: %s: %s", nub_strerror(s), nub_sandbox_last_error(sb));
    pvmasm_output_free(&asm_out);
}

struct leaf {
    uint64_t va, pa;
    int user, writable, executable;
};

struct walk {
    const nub_sandbox *sb;
    struct leaf leaves[MAX_LEAVES];
    size_t leaf_count;
    uint64_t tables[MAX_TABLES];
    size_t table_count;
};

static uint64_t read_entry(const nub_sandbox *sb, uint64_t table_pa, unsigned index)
{
    uint64_t pa = table_pa + 8u * index;
    if (pa + 8 > sb->mem_bytes)
        fail_msg("page table at 0x%llx outside guest memory", (unsigned long long)table_pa);
    uint64_t e;
    memcpy(&e, sb->mem + pa, sizeof e);
    return e;
}

/* Walks one table of level (3 = PDPT, 2 = PD, 1 = PT) below a user PML4 slot. */
static void walk_table(struct walk *w, uint64_t table_pa, int level, uint64_t va_base, int user,
                       int writable, int nx)
{
    assert_true(w->table_count < MAX_TABLES);
    w->tables[w->table_count++] = table_pa;
    for (unsigned i = 0; i < 512; i++) {
        uint64_t e = read_entry(w->sb, table_pa, i);
        if (!(e & PTE_P))
            continue;
        uint64_t va = va_base + ((uint64_t)i << (12 + 9 * (level - 1)));
        int u = user && (e & PTE_US), rw = writable && (e & PTE_RW), x = !nx && !(e & PTE_NX);
        if (level > 1 && (e & PTE_PS))
            fail_msg("large page at va 0x%llx in a run space", (unsigned long long)va);
        if (level > 1) {
            walk_table(w, e & PTE_ADDR, level - 1, va, u, rw, !x);
            continue;
        }
        assert_true(w->leaf_count < MAX_LEAVES);
        w->leaves[w->leaf_count++] =
            (struct leaf){.va = va, .pa = e & PTE_ADDR, .user = u, .writable = rw, .executable = x};
    }
}

static int is_table(const struct walk *w, uint64_t pa)
{
    for (size_t i = 0; i < w->table_count; i++)
        if (w->tables[i] == pa)
            return 1;
    return 0;
}

static int page_starts_with(const nub_sandbox *sb, uint64_t pa, const uint8_t *marker)
{
    return pa + 4096 <= sb->mem_bytes && memcmp(sb->mem + pa, marker, MARKER_LEN) == 0;
}

static void test_run_space_tables(void **state)
{
    (void)state;
    REQUIRE_KVM();
    /* No restore: the timeout leaves the vCPU and memory where it stopped. */
    nub_sandbox_config cfg = {.invoke_timeout_ns = 200u * 1000 * 1000,
                              .flags = NUB_SANDBOX_FLAG_NO_RESTORE};
    nub_sandbox *sb = nub_test_sandbox(&cfg);
    nub_cap_hash a, b;
    publish(sb, "    fallthrough\nloop:\n    add_imm_64 a0, a0, 1\n    jump loop\n", marker_a, a);
    publish(sb, "    jump_ind ra, 0\n", marker_b, b);

    /* B runs first: its kept space (with B's data page) stays in the heap. */
    struct nub_invoke_packet p = {.initial_gas = 100};
    memcpy(p.instance_hash, b, sizeof b);
    struct nub_invocation_result r;
    assert_int_equal(nub_invoke(sb, &p, &r), NUB_OK);
    assert_int_equal(r.exit_reason, NUB_EXIT_HALT);

    /* A loops until the timeout stops the vCPU inside A's run. */
    memcpy(p.instance_hash, a, sizeof a);
    p.initial_gas = UINT64_C(1) << 62;
    assert_int_equal(nub_invoke(sb, &p, &r), NUB_ERR_TIMEOUT);
    struct kvm_sregs sregs;
    assert_int_equal(ioctl(sb->vcpu_fd, KVM_GET_SREGS, &sregs), 0);
    uint64_t cr3 = sregs.cr3 & PTE_ADDR;
    if (cr3 == sb->params.kernel_cr3)
        fail_msg("the vCPU was stopped outside the run (kernel CR3)");
    assert_int_equal(sregs.cs.dpl, 3);

    /* The host's accessor sees the stopped run's memory as the program does. */
    struct nub_guest_ram ram = {.bytes = sb->mem, .size = sb->mem_bytes};
    uint8_t seen[MARKER_LEN];
    uint32_t fault = 0;
    assert_int_equal(nub__guest_pvm_read(&ram, cr3, DATA_PAGE, seen, MARKER_LEN, &fault), NUB_OK);
    assert_memory_equal(seen, marker_a, MARKER_LEN);
    assert_int_equal(nub__guest_pvm_read(&ram, cr3, RO_PAGE, seen, 8, &fault), NUB_OK);
    assert_int_equal(nub__guest_pvm_write(&ram, cr3, RO_PAGE, seen, 8, &fault),
                     NUB_ERR_INVALID_ARGUMENT);
    assert_int_equal(fault, RO_PAGE);
    assert_int_equal(nub__guest_pvm_read(&ram, cr3, DATA_PAGE + 4090, seen, 8, &fault),
                     NUB_ERR_INVALID_ARGUMENT);
    assert_int_equal(fault, DATA_PAGE + 4096);
    assert_int_equal(nub__guest_pvm_write(&ram, cr3, DATA_PAGE + 100, marker_b, 8, &fault), NUB_OK);
    assert_int_equal(nub__guest_pvm_read(&ram, cr3, DATA_PAGE + 100, seen, 8, &fault), NUB_OK);
    assert_memory_equal(seen, marker_b, 8);

    /* The PML4: slot 0 (the kernel's identity map) supervisor-only, slots 1
     * and 2 the code and the window, nothing else. */
    uint64_t heap = sb->params.heap_gpa;
    assert_true(cr3 >= heap && cr3 + 4096 <= sb->mem_bytes);
    uint64_t slot0 = read_entry(sb, cr3, 0);
    assert_true(slot0 & PTE_P);
    assert_false(slot0 & PTE_US);
    for (unsigned i = 3; i < 512; i++)
        if (read_entry(sb, cr3, i) & PTE_P)
            fail_msg("PML4 slot %u is mapped in a run space", i);

    struct walk *w = calloc(1, sizeof *w);
    assert_non_null(w);
    w->sb = sb;
    w->tables[w->table_count++] = cr3;
    for (unsigned slot = 1; slot <= 2; slot++) {
        uint64_t e = read_entry(sb, cr3, slot);
        assert_true(e & PTE_P);
        walk_table(w, e & PTE_ADDR, 3, (uint64_t)slot << 39, (e & PTE_US) != 0, (e & PTE_RW) != 0,
                   (e & PTE_NX) != 0);
    }

    size_t code = 0, ctx = 0, window = 0;
    int saw_marker_a = 0;
    for (size_t i = 0; i < w->leaf_count; i++) {
        const struct leaf *l = &w->leaves[i];
        if (!l->user)
            continue; /* not reachable from ring 3 */
        if (l->pa < heap || l->pa + 4096 > sb->mem_bytes)
            fail_msg("va 0x%llx reaches guest-physical 0x%llx: kernel, service or RPC buffers",
                     (unsigned long long)l->va, (unsigned long long)l->pa);
        if (is_table(w, l->pa))
            fail_msg("va 0x%llx maps one of the space's own page tables",
                     (unsigned long long)l->va);
        if (l->writable && l->executable)
            fail_msg("va 0x%llx is writable and executable", (unsigned long long)l->va);
        if (page_starts_with(sb, l->pa, marker_b))
            fail_msg("va 0x%llx maps instance B's page", (unsigned long long)l->va);
        if (l->va >= CODE_VA && l->va < CTX_VA) {
            assert_false(l->writable);
            assert_true(l->executable);
            code++;
        } else if (l->va == CTX_VA) {
            assert_true(l->writable);
            assert_false(l->executable);
            ctx++;
        } else if (l->va >= WINDOW_VA && l->va < WINDOW_VA + (UINT64_C(1) << 32)) {
            assert_false(l->executable);
            uint64_t address = l->va - WINDOW_VA;
            if (address != DATA_PAGE && address != RO_PAGE)
                fail_msg("PVM address 0x%llx mapped but never published",
                         (unsigned long long)address);
            assert_int_equal(l->writable, address == DATA_PAGE);
            if (address == DATA_PAGE)
                saw_marker_a = page_starts_with(sb, l->pa, marker_a);
            window++;
        } else {
            fail_msg("unexpected user page at va 0x%llx", (unsigned long long)l->va);
        }
    }
    assert_true(code >= 1);
    assert_int_equal(ctx, 1);
    assert_int_equal(window, 1); /* the read-only page has no contents: declared, unbacked */
    assert_true(saw_marker_a);   /* the walk does see the instance's own data */

    /* And B's page does exist (in B's kept space): the check above had
     * something to find. */
    int b_pages = 0;
    for (uint64_t pa = heap & ~UINT64_C(4095); pa + 4096 <= sb->mem_bytes; pa += 4096)
        b_pages += page_starts_with(sb, pa, marker_b);
    assert_true(b_pages >= 1);
    free(w);
    nub_sandbox_destroy(sb);
}

/* The host backs a declared page of a stopped run from the guest's page
 * pool (host/pvm_guest_mem.h): zeros before, the bytes after, one frame
 * popped and one change logged. */
static void test_host_backs_declared_page(void **state)
{
    (void)state;
    REQUIRE_KVM();
    /* No restore: the timeout leaves the vCPU and memory where it stopped. */
    nub_sandbox_config cfg = {.invoke_timeout_ns = 200u * 1000 * 1000,
                              .flags = NUB_SANDBOX_FLAG_NO_RESTORE};
    nub_sandbox *sb = nub_test_sandbox(&cfg);
    struct pvmasm_output asm_out;
    char err[256];
    const char *text = "    fallthrough\nloop:\n    add_imm_64 a0, a0, 1\n    jump loop\n";
    if (pvmasm_assemble(text, strlen(text), &asm_out, err, sizeof err) != 0)
        fail_msg("pvmasm: %s", err);
    /* Two read-write pages, contents in the first only. */
    struct nub_capbuild_range range = {DATA_PAGE, 8192, NUB_WIRE_ACCESS_WRITE};
    struct nub_capbuild_chunk chunk = {DATA_PAGE, MARKER_LEN, marker_a};
    struct nub_capbuild_raw prog = {.blob = asm_out.blob,
                                    .blob_len = (uint32_t)asm_out.blob_len,
                                    .ranges = &range,
                                    .range_count = 1,
                                    .chunks = &chunk,
                                    .chunk_count = 1,
                                    .default_gas = 10000};
    struct nub_invoke_packet p = {.initial_gas = UINT64_C(1) << 62};
    assert_int_equal(nub_publish_raw(sb, &prog, p.instance_hash), NUB_OK);
    pvmasm_output_free(&asm_out);
    struct nub_invocation_result r;
    assert_int_equal(nub_invoke(sb, &p, &r), NUB_ERR_TIMEOUT);
    struct kvm_sregs sregs;
    assert_int_equal(ioctl(sb->vcpu_fd, KVM_GET_SREGS, &sregs), 0);
    uint64_t cr3 = sregs.cr3 & PTE_ADDR;
    assert_true(cr3 != sb->params.kernel_cr3);

    struct nub_guest_ram ram = {.bytes = sb->mem, .size = sb->mem_bytes};
    struct nub_page_pool before, after;
    memcpy(&before, sb->mem + NUB_PAGE_POOL_GPA, sizeof before);
    assert_true(before.magic == NUB_PAGE_POOL_MAGIC && before.stack_count >= 64);
    uint8_t seen[MARKER_LEN];
    uint32_t fault = 0;
    assert_int_equal(nub__guest_pvm_read(&ram, cr3, DATA_PAGE + 4096, seen, MARKER_LEN, &fault),
                     NUB_OK);
    for (int i = 0; i < MARKER_LEN; i++)
        assert_int_equal(seen[i], 0);
    assert_int_equal(
        nub__guest_pvm_write(&ram, cr3, DATA_PAGE + 4096 - 8, marker_b, MARKER_LEN, &fault),
        NUB_OK);
    memcpy(&after, sb->mem + NUB_PAGE_POOL_GPA, sizeof after);
    assert_int_equal(after.stack_count, before.stack_count - 1);
    assert_int_equal(after.log_count, before.log_count + 1);
    assert_int_equal(nub__guest_pvm_read(&ram, cr3, DATA_PAGE + 4096 - 8, seen, MARKER_LEN, &fault),
                     NUB_OK);
    assert_memory_equal(seen, marker_b, MARKER_LEN);
    /* Past the segment: not the program's. */
    assert_int_equal(nub__guest_pvm_write(&ram, cr3, DATA_PAGE + 8192, marker_b, 1, &fault),
                     NUB_ERR_INVALID_ARGUMENT);
    assert_int_equal(fault, DATA_PAGE + 8192);
    nub_sandbox_destroy(sb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_run_space_tables),
        cmocka_unit_test(test_host_backs_declared_page),
    };
    return nub_test_kvm_suite_result(
        cmocka_run_group_tests_name("sandbox_isolation", tests, NULL, NULL));
}
