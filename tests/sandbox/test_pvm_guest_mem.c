/*
 * test_pvm_guest_mem.c — the host's walk of a run's page tables
 * (host/pvm_guest_mem.h) over a synthetic guest RAM: reads, writes,
 * permissions, wrapping, and a lying guest (frames outside RAM, large
 * pages) refused without touching anything outside RAM. No KVM needed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nub_rpc.h"
#include "pvm_guest_mem.h"

#define RAM_BYTES (64u * 4096u)
#define PML4      0x1000u
#define PDPT      0x2000u
#define PD        0x3000u
#define PT        0x4000u
#define PAGE_RW   0x10000u /* frame of PVM page 0x20000 (RW) */
#define PAGE_RO   0x11000u /* frame of PVM page 0x21000 (R) */
#define PAGE_TOP  0x12000u /* frame of PVM page 0xFFFFF000 (RW) */
#define PDPT_TOP  0x5000u  /* PD and PT for the last GiB */
#define PD_TOP    0x6000u
#define PT_TOP    0x7000u
#define TABLE     (NUB_PTE_P | NUB_PTE_RW | NUB_PTE_US)

struct fixture {
    uint8_t *mem;
    struct nub_guest_ram ram;
};

static void set_entry(struct fixture *f, uint64_t table, unsigned index, uint64_t value)
{
    memcpy(f->mem + table + 8u * index, &value, sizeof value);
}

static unsigned idx(uint64_t va, int shift)
{
    return (unsigned)(va >> shift) & 511;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    f->mem = calloc(1, RAM_BYTES);
    f->ram = (struct nub_guest_ram){.bytes = f->mem, .size = RAM_BYTES};
    uint64_t lo = NUB_RUN_WINDOW_VA + 0x20000u, hi = NUB_RUN_WINDOW_VA + 0xFFFFF000u;
    set_entry(f, PML4, idx(lo, 39), PDPT | TABLE);
    set_entry(f, PDPT, idx(lo, 30), PD | TABLE);
    set_entry(f, PD, idx(lo, 21), PT | TABLE);
    set_entry(f, PT, idx(lo, 12), PAGE_RW | NUB_PTE_P | NUB_PTE_RW | NUB_PTE_US | NUB_PTE_NX);
    set_entry(f, PT, idx(lo, 12) + 1, PAGE_RO | NUB_PTE_P | NUB_PTE_US | NUB_PTE_NX);
    set_entry(f, PDPT, idx(hi, 30), PD_TOP | TABLE);
    set_entry(f, PD_TOP, idx(hi, 21), PT_TOP | TABLE);
    set_entry(f, PT_TOP, idx(hi, 12), PAGE_TOP | NUB_PTE_P | NUB_PTE_RW | NUB_PTE_US);
    (void)PDPT_TOP;
    for (unsigned i = 0; i < 4096; i++) {
        f->mem[PAGE_RW + i] = (uint8_t)i;
        f->mem[PAGE_RO + i] = (uint8_t)(i * 7);
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    free(f->mem);
    free(f);
    return 0;
}

static void test_read_across_pages(void **state)
{
    struct fixture *f = *state;
    uint8_t buf[64];
    uint32_t fault = 0;
    assert_int_equal(nub__guest_pvm_read(&f->ram, PML4, 0x20FE0, buf, 64, &fault), NUB_OK);
    for (unsigned i = 0; i < 32; i++) {
        assert_int_equal(buf[i], (uint8_t)(0xFE0 + i));
        assert_int_equal(buf[32 + i], (uint8_t)(i * 7));
    }
    /* Past the read-only page: nothing mapped at 0x22000. */
    assert_int_equal(nub__guest_pvm_read(&f->ram, PML4, 0x21FF0, buf, 32, &fault),
                     NUB_ERR_INVALID_ARGUMENT);
    assert_int_equal(fault, 0x22000);
    /* A zero-length read touches nothing. */
    assert_int_equal(nub__guest_pvm_read(&f->ram, PML4, 0x90000, buf, 0, &fault), NUB_OK);
}

static void test_write_permissions(void **state)
{
    struct fixture *f = *state;
    uint8_t src[16];
    memset(src, 0xAB, sizeof src);
    uint32_t fault = 0;
    assert_int_equal(nub__guest_pvm_write(&f->ram, PML4, 0x20010, src, 16, &fault), NUB_OK);
    assert_int_equal(f->mem[PAGE_RW + 0x10], 0xAB);
    /* Crossing into the read-only page: refused, and nothing written. */
    assert_int_equal(nub__guest_pvm_write(&f->ram, PML4, 0x20FF8, src, 16, &fault),
                     NUB_ERR_INVALID_ARGUMENT);
    assert_int_equal(fault, 0x21000);
    assert_int_equal(f->mem[PAGE_RW + 0xFF8], (uint8_t)0xFF8);
    /* A supervisor-only page in the window: the guest lied. */
    set_entry(f, PT, idx(NUB_RUN_WINDOW_VA + 0x20000u, 12), PAGE_RW | NUB_PTE_P | NUB_PTE_RW);
    assert_int_equal(nub__guest_pvm_write(&f->ram, PML4, 0x20000, src, 1, &fault),
                     NUB_ERR_PROTOCOL);
}

/* ---- demand paging: declared pages and the guest's page pool ---------- */
#define POOL_STACK 0x8000u /* u32 frame numbers */
#define POOL_LOG   0x9000u /* 16-byte entries */
#define POOL_FIRST 0x20u   /* frames 0x20.. (0x20000..) are free */
#define POOL_PAGES 8u

static struct nub_page_pool *pool_of(struct fixture *f)
{
    return (struct nub_page_pool *)(f->mem + NUB_PAGE_POOL_GPA);
}

static void setup_pool(struct fixture *f)
{
    struct nub_page_pool *p = pool_of(f);
    *p = (struct nub_page_pool){.magic = NUB_PAGE_POOL_MAGIC,
                                .stack_gpa = POOL_STACK,
                                .stack_count = POOL_PAGES,
                                .stack_capacity = 64,
                                .log_gpa = POOL_LOG,
                                .log_capacity = 64};
    for (uint32_t i = 0; i < POOL_PAGES; i++) {
        uint32_t frame = POOL_FIRST + i;
        memcpy(f->mem + POOL_STACK + 4 * i, &frame, 4);
        memset(f->mem + frame * 4096u, 0x5A, 4096); /* dirty: the host zeroes what it takes */
    }
}

static uint64_t decl(unsigned d)
{
    return (uint64_t)d << NUB_PTE_DECL_SHIFT;
}

static void test_declared_pages(void **state)
{
    struct fixture *f = *state;
    setup_pool(f);
    uint64_t lo = NUB_RUN_WINDOW_VA + 0x20000u;
    /* 0x22000 declared read-only, 0x23000 read-write (leaves); the whole
     * GiB at 0x40000000 read-write (a PDPT entry), unbacked. */
    set_entry(f, PT, idx(lo, 12) + 2, decl(NUB_DECL_READ));
    set_entry(f, PT, idx(lo, 12) + 3, decl(NUB_DECL_WRITE));
    set_entry(f, PDPT, 1, decl(NUB_DECL_WRITE));
    uint8_t buf[32];
    memset(buf, 0xEE, sizeof buf);
    uint32_t fault = 0;
    assert_int_equal(nub__guest_pvm_read(&f->ram, PML4, 0x22FF0, buf, 32, &fault), NUB_OK);
    for (unsigned i = 0; i < 32; i++)
        assert_int_equal(buf[i], 0); /* declared, never touched: zeros */
    /* Not writable: the read-only one; nothing taken from the pool. */
    assert_int_equal(nub__guest_pvm_write(&f->ram, PML4, 0x22FF0, buf, 32, &fault),
                     NUB_ERR_INVALID_ARGUMENT);
    assert_int_equal(fault, 0x22FF0);
    assert_int_equal(pool_of(f)->stack_count, POOL_PAGES);

    /* A write into the read-write leaf: one frame (the top of the stack). */
    const uint8_t msg[8] = "written";
    assert_int_equal(nub__guest_pvm_write(&f->ram, PML4, 0x23100, msg, 8, &fault), NUB_OK);
    assert_int_equal(pool_of(f)->stack_count, POOL_PAGES - 1);
    assert_int_equal(pool_of(f)->log_count, 1);
    uint64_t pte;
    memcpy(&pte, f->mem + PT + 8 * (idx(lo, 12) + 3), 8);
    uint64_t frame = (uint64_t)(POOL_FIRST + POOL_PAGES - 1) * 4096u;
    assert_int_equal(pte & NUB_PTE_ADDR_MASK, frame);
    assert_true((pte & NUB_PTE_P) && (pte & NUB_PTE_RW) && (pte & NUB_PTE_US));
    assert_int_equal(f->mem[frame], 0); /* zeroed */
    assert_memory_equal(f->mem + frame + 0x100, msg, 8);
    struct nub_page_log_entry log;
    memcpy(&log, f->mem + POOL_LOG, sizeof log);
    assert_int_equal(log.entry_gpa, PT + 8 * (idx(lo, 12) + 3));
    assert_int_equal(log.old_value, decl(NUB_DECL_WRITE));
    assert_int_equal(nub__guest_pvm_read(&f->ram, PML4, 0x23100, buf, 8, &fault), NUB_OK);
    assert_memory_equal(buf, msg, 8);

    /* With a dirty bitmap: every page the write changes is marked. */
    uint64_t dirty[RAM_BYTES / 4096 / 64 + 1] = {0};
    f->ram.dirty = dirty;
    assert_int_equal(nub__guest_pvm_write(&f->ram, PML4, 0x23200, msg, 8, &fault), NUB_OK);
    assert_int_equal(dirty[0], UINT64_C(1) << (frame / 4096)); /* a backed page: data only */
    dirty[0] = 0;
    /* A backed leaf the CPU has not marked dirty (a page the kernel keeps
     * between calls, zeroed only if dirty): the host's write marks it. */
    memcpy(&pte, f->mem + PT + 8 * (idx(lo, 12) + 3), 8);
    assert_true(pte & NUB_PTE_D); /* backed by the host for a write */
    set_entry(f, PT, idx(lo, 12) + 3, pte & ~NUB_PTE_D);
    assert_int_equal(nub__guest_pvm_write(&f->ram, PML4, 0x23300, msg, 8, &fault), NUB_OK);
    memcpy(&pte, f->mem + PT + 8 * (idx(lo, 12) + 3), 8);
    assert_true(pte & NUB_PTE_D);
    assert_int_equal(dirty[0], UINT64_C(1) << (frame / 4096) | UINT64_C(1) << (PT / 4096));
    assert_int_equal(pool_of(f)->log_count, 1); /* (not a logged change) */
    dirty[0] = 0;
    set_entry(f, PT, idx(lo, 12) + 4, decl(NUB_DECL_WRITE));
    assert_int_equal(nub__guest_pvm_write(&f->ram, PML4, 0x24000, msg, 8, &fault), NUB_OK);
    uint64_t frame2 = frame - 4096; /* the next frame on the stack */
    uint64_t want = UINT64_C(1) << (frame2 / 4096) | UINT64_C(1) << (PT / 4096) |
                    UINT64_C(1) << (POOL_LOG / 4096) | UINT64_C(1) << (NUB_PAGE_POOL_GPA / 4096);
    assert_int_equal(dirty[0], want);
    f->ram.dirty = NULL;
    set_entry(f, PT, idx(lo, 12) + 4, 0);
    pool_of(f)->stack_count++; /* (give the frame back for the counts below) */
    pool_of(f)->log_count--;

    /* Two pages under the declared GiB: a PD, a PT and two leaves. */
    uint8_t big[4096];
    memset(big, 0x77, sizeof big);
    assert_int_equal(nub__guest_pvm_write(&f->ram, PML4, 0x40000FF0u, big, sizeof big, &fault),
                     NUB_OK);
    assert_int_equal(pool_of(f)->stack_count, POOL_PAGES - 5);
    assert_int_equal(pool_of(f)->log_count, 5);
    assert_int_equal(nub__guest_pvm_read(&f->ram, PML4, 0x40001000u, buf, 8, &fault), NUB_OK);
    assert_int_equal(buf[0], 0x77);
    assert_int_equal(nub__guest_pvm_read(&f->ram, PML4, 0x40002000u, buf, 8, &fault), NUB_OK);
    assert_int_equal(buf[0], 0); /* the next page inherits the declaration, untouched */

    /* More pages than the pool holds: refused before anything is written. */
    uint8_t huge[4 * 4096];
    memset(huge, 1, sizeof huge);
    assert_int_equal(nub__guest_pvm_write(&f->ram, PML4, 0x40010000u, huge, sizeof huge, &fault),
                     NUB_ERR_HEAP_EXHAUSTED);
    assert_int_equal(pool_of(f)->stack_count, POOL_PAGES - 5);
}

/* Below sbrk's break (given by the caller) pages are read-write whatever
 * the tables declare: a read-only backed page is upgraded (logged), an
 * undeclared one is backed. */
static void test_heap_range(void **state)
{
    struct fixture *f = *state;
    setup_pool(f);
    uint8_t b = 0x42, got = 0;
    uint32_t fault;
    assert_int_equal(nub__guest_pvm_write(&f->ram, PML4, 0x21000, &b, 1, &fault),
                     NUB_ERR_INVALID_ARGUMENT);
    assert_int_equal(nub__guest_pvm_write(&f->ram, PML4, 0x25000, &b, 1, &fault),
                     NUB_ERR_INVALID_ARGUMENT);
    f->ram.heap_base = 0x21000;
    f->ram.heap_top = 0x25001; /* the break inside page 0x25000 */
    assert_int_equal(nub__guest_pvm_read(&f->ram, PML4, 0x24000, &got, 1, &fault), NUB_OK);
    assert_int_equal(got, 0);
    assert_int_equal(nub__guest_pvm_write(&f->ram, PML4, 0x21000, &b, 1, &fault), NUB_OK);
    assert_int_equal(f->mem[PAGE_RO], 0x42);
    uint64_t pte;
    uint64_t lo = NUB_RUN_WINDOW_VA + 0x20000u;
    memcpy(&pte, f->mem + PT + 8 * (idx(lo, 12) + 1), 8);
    assert_true(pte & NUB_PTE_RW);
    assert_int_equal(pool_of(f)->log_count, 1);
    struct nub_page_log_entry log;
    memcpy(&log, f->mem + POOL_LOG, sizeof log);
    assert_false(log.old_value & NUB_PTE_RW);
    assert_int_equal(nub__guest_pvm_write(&f->ram, PML4, 0x25000, &b, 1, &fault), NUB_OK);
    assert_int_equal(pool_of(f)->stack_count, POOL_PAGES - 1);
    assert_int_equal(nub__guest_pvm_read(&f->ram, PML4, 0x25000, &got, 1, &fault), NUB_OK);
    assert_int_equal(got, 0x42);
    /* Past the break's page: not the program's. */
    assert_int_equal(nub__guest_pvm_write(&f->ram, PML4, 0x26000, &b, 1, &fault),
                     NUB_ERR_INVALID_ARGUMENT);
    assert_int_equal(fault, 0x26000);
}

/* A lying pool: every field is checked before the host uses it. */
static void test_lying_pool(void **state)
{
    struct fixture *f = *state;
    uint64_t lo = NUB_RUN_WINDOW_VA + 0x20000u;
    set_entry(f, PT, idx(lo, 12) + 3, decl(NUB_DECL_WRITE));
    uint8_t b = 1;
    uint32_t fault;
    struct nub_page_pool *p = pool_of(f);

    setup_pool(f);
    p->magic = 0;
    assert_int_equal(nub__guest_pvm_write(&f->ram, PML4, 0x23000, &b, 1, &fault), NUB_ERR_PROTOCOL);
    setup_pool(f);
    p->stack_count = p->stack_capacity + 1;
    assert_int_equal(nub__guest_pvm_write(&f->ram, PML4, 0x23000, &b, 1, &fault), NUB_ERR_PROTOCOL);
    setup_pool(f);
    p->stack_gpa = RAM_BYTES - 8; /* the stack runs past the end of RAM */
    assert_int_equal(nub__guest_pvm_write(&f->ram, PML4, 0x23000, &b, 1, &fault), NUB_ERR_PROTOCOL);
    setup_pool(f);
    p->log_gpa = UINT64_C(1) << 60;
    assert_int_equal(nub__guest_pvm_write(&f->ram, PML4, 0x23000, &b, 1, &fault), NUB_ERR_PROTOCOL);
    setup_pool(f);
    p->log_count = p->log_capacity; /* full: no room to record the change */
    assert_int_equal(nub__guest_pvm_write(&f->ram, PML4, 0x23000, &b, 1, &fault),
                     NUB_ERR_HEAP_EXHAUSTED);
    /* A free frame outside RAM (or frame 0). */
    setup_pool(f);
    uint32_t bad = RAM_BYTES / 4096;
    memcpy(f->mem + POOL_STACK + 4 * (POOL_PAGES - 1), &bad, 4);
    assert_int_equal(nub__guest_pvm_write(&f->ram, PML4, 0x23000, &b, 1, &fault), NUB_ERR_PROTOCOL);
    bad = 0xFFFFFFFFu;
    memcpy(f->mem + POOL_STACK + 4 * (POOL_PAGES - 1), &bad, 4);
    assert_int_equal(nub__guest_pvm_write(&f->ram, PML4, 0x23000, &b, 1, &fault), NUB_ERR_PROTOCOL);
    bad = 0;
    memcpy(f->mem + POOL_STACK + 4 * (POOL_PAGES - 1), &bad, 4);
    assert_int_equal(nub__guest_pvm_write(&f->ram, PML4, 0x23000, &b, 1, &fault), NUB_ERR_PROTOCOL);
}

static void test_wrap(void **state)
{
    struct fixture *f = *state;
    uint8_t buf[16];
    uint32_t fault = 1;
    /* The last page is mapped; the range wraps to address 0, never mapped. */
    assert_int_equal(nub__guest_pvm_read(&f->ram, PML4, 0xFFFFFFF8u, buf, 16, &fault),
                     NUB_ERR_INVALID_ARGUMENT);
    assert_int_equal(fault, 0);
    assert_int_equal(nub__guest_pvm_read(&f->ram, PML4, 0xFFFFFFF8u, buf, 8, &fault), NUB_OK);
}

/* A lying guest: every frame outside RAM, and large pages, are refused. */
static void test_lying_tables(void **state)
{
    struct fixture *f = *state;
    uint8_t buf[8];
    uint32_t fault;
    uint64_t lo = NUB_RUN_WINDOW_VA + 0x20000u;
    /* A CR3 outside RAM, or straddling its end. */
    assert_int_equal(nub__guest_pvm_read(&f->ram, RAM_BYTES, 0x20000, buf, 8, &fault),
                     NUB_ERR_PROTOCOL);
    assert_int_equal(nub__guest_pvm_read(&f->ram, UINT64_C(1) << 51, 0x20000, buf, 8, &fault),
                     NUB_ERR_PROTOCOL);
    /* A leaf frame past the end of RAM. */
    set_entry(f, PT, idx(lo, 12), (uint64_t)RAM_BYTES | TABLE);
    assert_int_equal(nub__guest_pvm_read(&f->ram, PML4, 0x20000, buf, 8, &fault), NUB_ERR_PROTOCOL);
    assert_int_equal(nub__guest_pvm_write(&f->ram, PML4, 0x20000, buf, 8, &fault),
                     NUB_ERR_PROTOCOL);
    set_entry(f, PT, idx(lo, 12), (UINT64_C(0xFFFFFFFFF) << 12) | TABLE);
    assert_int_equal(nub__guest_pvm_read(&f->ram, PML4, 0x20000, buf, 8, &fault), NUB_ERR_PROTOCOL);
    /* A table frame past the end of RAM, at each level. */
    set_entry(f, PD, idx(lo, 21), (uint64_t)(RAM_BYTES + 4096) | TABLE);
    assert_int_equal(nub__guest_pvm_read(&f->ram, PML4, 0x20000, buf, 8, &fault), NUB_ERR_PROTOCOL);
    set_entry(f, PML4, idx(lo, 39), (UINT64_C(1) << 40) | TABLE);
    assert_int_equal(nub__guest_pvm_read(&f->ram, PML4, 0x20000, buf, 8, &fault), NUB_ERR_PROTOCOL);
    /* A large page in the window. */
    set_entry(f, PML4, idx(lo, 39), PDPT | TABLE);
    set_entry(f, PDPT, idx(lo, 30), 0 | TABLE | NUB_PTE_PS);
    assert_int_equal(nub__guest_pvm_read(&f->ram, PML4, 0x20000, buf, 8, &fault), NUB_ERR_PROTOCOL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_read_across_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_permissions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lying_tables, setup, teardown),
        cmocka_unit_test_setup_teardown(test_declared_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lying_pool, setup, teardown),
        cmocka_unit_test_setup_teardown(test_heap_range, setup, teardown),
    };
    return cmocka_run_group_tests_name("pvm_guest_mem", tests, NULL, NULL);
}
