/*
 * pvm_test_util.c — see pvm_test_util.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pvm_alloc_libc.h"
#include "pvm_test_util.h"

void test_vm_start(struct test_vm *vm, const char *src, const struct pvm_segment *segments,
                   size_t segment_count, const struct pvm_state *initial)
{
    memset(vm, 0, sizeof(*vm));
    char err[256];
    if (pvmasm_assemble(src, strlen(src), &vm->asm_out, err, sizeof(err)) != 0)
        fail_msg("assembler: %s", err);
    vm->alloc = pvm_libc_allocator();
    int rc = pvm_program_decode(vm->asm_out.blob, vm->asm_out.blob_len, &vm->alloc, &vm->program);
    assert_int_equal(rc, PVM_OK);
    struct pvm_state init;
    if (initial == NULL) {
        memset(&init, 0, sizeof(init));
        init.regs[0] = PVM_HALT_ADDRESS;
        init.gas = 1000000;
        initial = &init;
    }
    rc = pvm_interp_create(vm->program, segments, segment_count, initial, &vm->alloc, &vm->interp);
    assert_int_equal(rc, PVM_OK);
}

void test_vm_run(struct test_vm *vm)
{
    pvm_interp_run(vm->interp, &vm->exit);
    pvm_interp_get_state(vm->interp, &vm->state);
}

void test_vm_stop(struct test_vm *vm)
{
    pvm_interp_destroy(vm->interp);
    pvm_program_destroy(vm->program);
    pvmasm_output_free(&vm->asm_out);
    memset(vm, 0, sizeof(*vm));
}

uint32_t test_vm_label(const struct test_vm *vm, const char *name)
{
    int64_t pc = pvmasm_label_pc(&vm->asm_out, name);
    if (pc < 0)
        fail_msg("no label %s", name);
    return (uint32_t)pc;
}

struct pvm_segment test_segment(uint32_t address, uint32_t length, uint32_t access)
{
    struct pvm_segment s = {.address = address, .length = length, .access = access};
    return s;
}
