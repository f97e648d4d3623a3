/*
 * compile_time.c — see compile_time.h.
 */
#include "compile_time.h"

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "jit.h"
#include "nubbench.h"
#include "pvm_alloc_libc.h"

uint64_t nubbench_best_compile_ns(const struct pvm_program *prog, const char *what)
{
    struct pvm_allocator alloc = pvm_libc_allocator();
    size_t size = jit_code_size_bound(prog);
    uint8_t *buf = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (buf == MAP_FAILED) {
        fprintf(stderr, "%s: cannot map %zu bytes of code buffer\n", what, size);
        return 0;
    }
    memset(buf, 0xCC, size); /* fault the pages in before timing */
    uint64_t best = 0;
    for (int rep = 0; rep < 5; rep++) {
        struct jit_options opt = {.platform = JIT_PLATFORM_HOSTED};
        struct jit_code code;
        uint64_t t0 = nubbench_now_ns();
        int r = jit_compile(prog, &opt, &alloc, buf, size, &code, NULL);
        uint64_t t1 = nubbench_now_ns();
        if (r != PVM_OK) {
            fprintf(stderr, "%s: jit_compile failed: %s\n", what, jit_error_name(r));
            best = 0;
            break;
        }
        jit_code_release(&code);
        if (best == 0 || t1 - t0 < best)
            best = t1 - t0 > 0 ? t1 - t0 : 1;
    }
    munmap(buf, size);
    return best;
}

uint64_t nubbench_count_insns(const struct pvm_program *prog)
{
    uint64_t n = 0;
    for (uint32_t pc = 0; pc < prog->code_len; pc++)
        n += pvm_program_is_insn_start(prog, pc);
    return n;
}
