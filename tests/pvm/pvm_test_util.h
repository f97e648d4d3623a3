/*
 * pvm_test_util.h — running assembler-text programs on the interpreter in
 * tests: assemble, decode, create with segments, run.
 */
#ifndef PVM_TEST_UTIL_H
#define PVM_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "pvm.h"
#include "pvm_interp.h"
#include "pvm_program.h"
#include "pvmasm.h"

struct test_vm {
    struct pvmasm_output asm_out;
    struct pvm_allocator alloc;
    struct pvm_program *program;
    struct pvm_interp *interp;
    struct pvm_exit exit;
    struct pvm_state state; /* after the last run */
};

/* Assembles src (fails the test with the assembler's message on error),
 * decodes it and creates an interpreter with the given memory and state.
 * initial == NULL: zero registers, r0 = halt address, pc 0, gas 1000000. */
void test_vm_start(struct test_vm *vm, const char *src, const struct pvm_segment *segments,
                   size_t segment_count, const struct pvm_state *initial);
/* Runs to the next exit; fills vm->exit and vm->state. */
void test_vm_run(struct test_vm *vm);
void test_vm_stop(struct test_vm *vm);

/* pc of a label of the assembled program (fails the test if absent). */
uint32_t test_vm_label(const struct test_vm *vm, const char *name);

/* A read-write / read-only segment without initial data. */
struct pvm_segment test_segment(uint32_t address, uint32_t length, uint32_t access);

#endif /* PVM_TEST_UTIL_H */
