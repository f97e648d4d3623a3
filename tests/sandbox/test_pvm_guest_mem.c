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
    f->ram = (struct nub_guest_ram){f->mem, RAM_BYTES};
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
    assert_int_equal(nub_guest_pvm_read(&f->ram, PML4, 0x20FE0, buf, 64, &fault), NUB_OK);
    for (unsigned i = 0; i < 32; i++) {
        assert_int_equal(buf[i], (uint8_t)(0xFE0 + i));
        assert_int_equal(buf[32 + i], (uint8_t)(i * 7));
    }
    /* Past the read-only page: nothing mapped at 0x22000. */
    assert_int_equal(nub_guest_pvm_read(&f->ram, PML4, 0x21FF0, buf, 32, &fault),
                     NUB_ERR_INVALID_ARGUMENT);
    assert_int_equal(fault, 0x22000);
    /* A zero-length read touches nothing. */
    assert_int_equal(nub_guest_pvm_read(&f->ram, PML4, 0x90000, buf, 0, &fault), NUB_OK);
}

static void test_write_permissions(void **state)
{
    struct fixture *f = *state;
    uint8_t src[16];
    memset(src, 0xAB, sizeof src);
    uint32_t fault = 0;
    assert_int_equal(nub_guest_pvm_write(&f->ram, PML4, 0x20010, src, 16, &fault), NUB_OK);
    assert_int_equal(f->mem[PAGE_RW + 0x10], 0xAB);
    /* Crossing into the read-only page: refused, and nothing written. */
    assert_int_equal(nub_guest_pvm_write(&f->ram, PML4, 0x20FF8, src, 16, &fault),
                     NUB_ERR_INVALID_ARGUMENT);
    assert_int_equal(fault, 0x21000);
    assert_int_equal(f->mem[PAGE_RW + 0xFF8], (uint8_t)0xFF8);
    /* A supervisor-only leaf is not the program's. */
    set_entry(f, PT, idx(NUB_RUN_WINDOW_VA + 0x20000u, 12), PAGE_RW | NUB_PTE_P | NUB_PTE_RW);
    assert_int_equal(nub_guest_pvm_write(&f->ram, PML4, 0x20000, src, 1, &fault),
                     NUB_ERR_INVALID_ARGUMENT);
}

static void test_wrap(void **state)
{
    struct fixture *f = *state;
    uint8_t buf[16];
    uint32_t fault = 1;
    /* The last page is mapped; the range wraps to address 0, never mapped. */
    assert_int_equal(nub_guest_pvm_read(&f->ram, PML4, 0xFFFFFFF8u, buf, 16, &fault),
                     NUB_ERR_INVALID_ARGUMENT);
    assert_int_equal(fault, 0);
    assert_int_equal(nub_guest_pvm_read(&f->ram, PML4, 0xFFFFFFF8u, buf, 8, &fault), NUB_OK);
}

/* A lying guest: every frame outside RAM, and large pages, are refused. */
static void test_lying_tables(void **state)
{
    struct fixture *f = *state;
    uint8_t buf[8];
    uint32_t fault;
    uint64_t lo = NUB_RUN_WINDOW_VA + 0x20000u;
    /* A CR3 outside RAM, or straddling its end. */
    assert_int_equal(nub_guest_pvm_read(&f->ram, RAM_BYTES, 0x20000, buf, 8, &fault),
                     NUB_ERR_PROTOCOL);
    assert_int_equal(nub_guest_pvm_read(&f->ram, UINT64_C(1) << 51, 0x20000, buf, 8, &fault),
                     NUB_ERR_PROTOCOL);
    /* A leaf frame past the end of RAM. */
    set_entry(f, PT, idx(lo, 12), (uint64_t)RAM_BYTES | TABLE);
    assert_int_equal(nub_guest_pvm_read(&f->ram, PML4, 0x20000, buf, 8, &fault), NUB_ERR_PROTOCOL);
    assert_int_equal(nub_guest_pvm_write(&f->ram, PML4, 0x20000, buf, 8, &fault), NUB_ERR_PROTOCOL);
    set_entry(f, PT, idx(lo, 12), (UINT64_C(0xFFFFFFFFF) << 12) | TABLE);
    assert_int_equal(nub_guest_pvm_read(&f->ram, PML4, 0x20000, buf, 8, &fault), NUB_ERR_PROTOCOL);
    /* A table frame past the end of RAM, at each level. */
    set_entry(f, PD, idx(lo, 21), (uint64_t)(RAM_BYTES + 4096) | TABLE);
    assert_int_equal(nub_guest_pvm_read(&f->ram, PML4, 0x20000, buf, 8, &fault), NUB_ERR_PROTOCOL);
    set_entry(f, PML4, idx(lo, 39), (UINT64_C(1) << 40) | TABLE);
    assert_int_equal(nub_guest_pvm_read(&f->ram, PML4, 0x20000, buf, 8, &fault), NUB_ERR_PROTOCOL);
    /* A large page in the window. */
    set_entry(f, PML4, idx(lo, 39), PDPT | TABLE);
    set_entry(f, PDPT, idx(lo, 30), 0 | TABLE | NUB_PTE_PS);
    assert_int_equal(nub_guest_pvm_read(&f->ram, PML4, 0x20000, buf, 8, &fault), NUB_ERR_PROTOCOL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_read_across_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_permissions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lying_tables, setup, teardown),
    };
    return cmocka_run_group_tests_name("pvm_guest_mem", tests, NULL, NULL);
}
