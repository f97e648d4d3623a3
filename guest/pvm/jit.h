/*
 * jit.h — the PVM -> x86-64 JIT compiler (SPEC §4-§9), shared by the hosted
 * backend (host/pvm_hosted/) and the guest kernel.
 *
 * One pass over the program emits x86-64 into a caller-provided buffer.
 * The generated code touches only three things: its own code, the PVM
 * memory window (4 GiB + guard, reserved by the platform) and the context
 * block struct jit_ctx, which sits immediately below the window:
 *
 *      ctx = window_base - JIT_CTX_SIZE
 *
 * The platform sets the gs segment base to window_base before it enters
 * the code (guest: once, the window is at one address in every run space;
 * hosted: around each native call, per thread). A PVM access is then one
 * instruction, gs:[reg32 + offset] with a 32-bit address size (the address
 * wraps modulo 2^32 as SPEC §2 says, then the base is added), and a context
 * field is gs:[negative disp32] with a 64-bit address size.
 *
 * Register map (x86 register holding each PVM register for the whole run):
 * see jit_reg_map in jit_compile.c. rax is the only scratch register, r15
 * holds the remaining gas, rsp holds no PVM state: it points at the return
 * frames (below) and, hosted, at the caller's stack.
 *
 * Gas: r15 while the code runs, ctx.gas whenever it is not (the entry loads
 * it, every exit and host call stores it; a host call's handler may change
 * ctx.gas and the code reloads it). Charged once per basic block on entry with
 *      sub r15, cost ; jl out_of_gas_stub(block pc)
 * with the cost the program's version gives the block (pvm_gas.h), computed
 * at compile time. A run that starts in the middle of a block (fresh run at
 * an arbitrary pc, GP 0.7.2 re-run after a page fault) is charged by
 * jit_prepare_entry in C, which then enters after the block's gas check; a
 * run whose block is already paid (state.gas_charged) enters there without
 * charging.
 *
 * Returns: a call (load_imm_jump / load_imm_jump_ind writing ra, r0) is an
 * x86 `call` to its target while fewer than JIT_RETURN_FRAMES frames are on
 * the stack, and a return (jump_ind through ra) is an x86 `ret`, so the
 * CPU's return-stack predictor sees the pairs. The `ret` lands just after
 * its `call`, where the address the return computed is compared with the
 * one the call wrote: equal, it goes on to that block; different (the
 * program returned somewhere else), the general dispatch runs. The entry
 * pushes a bottom frame under the calls' frames: a `ret` with no call frame
 * left lands there, which pushes it again and dispatches in general.
 * Correctness never depends on the pairing; an exit empties the stack.
 * The stack is the hosted caller's (the alignment below and the frames take
 * under 2 * JIT_RETURN_STACK_BYTES of it), or in the guest the lower half of
 * the context page (ring 3 never takes an interrupt frame on it).
 *
 * Exits: every exit stores pc, reason and arg into the context block, then
 * jumps to the exit sequence, which stores the 13 registers and leaves the
 * way the platform wants (hosted: return to the C caller; guest: int N or
 * syscall, ring 3 -> ring 0). Memory faults are not checked in the code: the
 * platform's SIGSEGV / #PF handler finds the faulting PVM instruction and
 * its address with jit_find_fault_site, classifies the access with
 * jit_classify_fault, fills the context block and resumes at code + the
 * fault's resume_offset (exit_offset, or for an indexed site a stub that
 * first moves the address register's value into place).
 *
 * Peepholes (jit_lower.h): a few pairs of adjacent PVM instructions that
 * compilers emit together become one x86 sequence: shift + add into a lea,
 * and with a load through the sum into one indexed load (an indexed site);
 * add + set_lt_u of its carry into add + setc, and the add that consumes
 * that carry (after a store, or moved before a second such pair) into adc;
 * mul_upper + mul_64 of the same operands into one multiply. The later
 * instructions of a group are never block starts, keep their own pc for
 * faults and gas, and a run that enters at one of them (an arbitrary entry,
 * the re-run after a page fault) goes through a stub that does the rest of
 * the group unfused.
 *
 * The code is position-independent and holds no instance state: it finds
 * its window and context block through the gs base. One compiled program can therefore
 * serve every instance (a JIT cache keyed by the program), as long as each
 * run has its own window and context block.
 *
 * Freestanding: allocations go through the caller's struct pvm_allocator.
 *
 * Running it in the guest kernel (ring 3), step by step:
 *  1. jit_compile with JIT_PLATFORM_GUEST, the exit vector and the
 *     host-call port. Set the gs base (MSR_GS_BASE) to W, where PVM address
 *     0 will be mapped; ring 3 keeps it as long as nothing loads gs.
 *  2. Map, user-accessible: the code buffer R+X; the page holding the
 *     context block (W - 4096 .. W, RW; the block is its last JIT_CTX_SIZE bytes);
 *     accessible PVM pages at W + address (R or RW); nothing else in
 *     [W, W + 2^32 + JIT_WINDOW_GUARD). Supervisor-only: everything else.
 *  3. Call jit_run with a struct jit_runner whose enter() drops to ring 3
 *     at code + entry_offset (iretq; register values do not matter) and
 *     returns when the exit trap (the `int` gate needs DPL 3, or syscall)
 *     arrives: by then the code has stored the registers and pc/reason/arg
 *     in the context block.
 *  4. In the #PF handler, for a ring-3 fault with rip inside the code:
 *     jit_find_fault_site(code, rip - code_va, the trap frame's registers,
 *     ...) and jit_classify_fault with the access it returns;
 *     store pc, reason, arg into the context block and return to ring 3 at
 *     code + the fault's resume_offset (registers untouched): the exit stub stores them
 *     and traps out as in 3. Anything else (no fault site, #UD, #DE, which
 *     the code never raises) is a kernel bug report, not a PVM exit.
 */
#ifndef NUB_JIT_H
#define NUB_JIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pvm.h"
#include "pvm_program.h"

/* ---- Context block ----------------------------------------------------- */
#define JIT_CTX_SIZE 192u

/*
 * Exit reasons in jit_ctx.reason: the enum pvm_exit_reason values plus
 * internal ones the platform serves itself before resuming.
 */
#define JIT_EXIT_SBRK 0x100u /* hosted: sbrk at ctx.pc: platform maps pages, sets rD, resumes */
/* Written into ctx.reason by a host-call handler (ctx.host_call): continue
 * after the ecalli. Any other value ends the run with that exit reason. */
#define JIT_EXIT_HOST_RESUME 0x101u
/* Written into ctx.reason by a guest-platform host while its host call is
 * still running, with ctx.arg = a number of pages: the code leaves the run
 * as for a final exit; the platform makes that many pages of its page pool
 * free, tells the host, and then goes on as ctx.reason says by the time the
 * host resumes it (after the ecalli, another such request, or a final
 * exit). The host's memory writes can so back any number of fresh pages. */
#define JIT_EXIT_HOST_REFILL 0x102u

struct jit_ctx {
    uint64_t regs[PVM_NUM_REGS]; /*   0: PVM registers, valid on entry and after an exit */
    uint64_t arg;                /* 104: exit argument (host-call id, fault page, ...) */
    uint64_t entry_target;       /* 112: absolute native address the entry jumps to */
    /* 120: where the return stack starts (see "Returns" above), before the
     * entry aligns it down to JIT_RETURN_STACK_BYTES. Hosted: the caller's
     * rsp (after the entry's pushes), restored on exit; guest: set by the
     * platform, an address in the context page below the block. */
    uint64_t host_rsp;
    uint64_t heap_top;   /* 128: sbrk's break (guest platform: sbrk runs inline) */
    uint64_t heap_limit; /* 136: pvm_heap_limit() of the run, 0 when heap_top is 0 */
    /* 144: host calls served inside the run (0: an ecalli exits the run).
     * Hosted: the address of `void handler(struct jit_ctx *ctx)`, called on
     * the run's stack; guest: non-zero = `out` to the platform's host-call
     * port. Either way the registers, pc, arg (the id) and reason =
     * PVM_EXIT_HOST_CALL are in the block; the handler may change registers
     * and gas and sets reason (JIT_EXIT_HOST_RESUME or a final exit). */
    uint64_t host_call;
    uint64_t host_data; /* 152: the hosted handler's own pointer */
    uint32_t pc;        /* 160: pc of the instruction that exited */
    uint32_t reason;    /* 164: enum pvm_exit_reason or JIT_EXIT_* */
    uint64_t spill_rdx; /* 168: PVM register living in rdx during div/mul */
    uint64_t spill_rcx; /* 176: PVM register living in rcx during shifts */
    int64_t gas;        /* 184: remaining gas (signed, SPEC §7); r15 while the code runs */
};

_Static_assert(sizeof(struct jit_ctx) == JIT_CTX_SIZE, "context block size");
_Static_assert(offsetof(struct jit_ctx, regs) == 0, "ctx layout");
_Static_assert(offsetof(struct jit_ctx, arg) == 104, "ctx layout");
_Static_assert(offsetof(struct jit_ctx, entry_target) == 112, "ctx layout");
_Static_assert(offsetof(struct jit_ctx, host_rsp) == 120, "ctx layout");
_Static_assert(offsetof(struct jit_ctx, heap_top) == 128, "ctx layout");
_Static_assert(offsetof(struct jit_ctx, heap_limit) == 136, "ctx layout");
_Static_assert(offsetof(struct jit_ctx, host_call) == 144, "ctx layout");
_Static_assert(offsetof(struct jit_ctx, host_data) == 152, "ctx layout");
_Static_assert(offsetof(struct jit_ctx, pc) == 160, "ctx layout");
_Static_assert(offsetof(struct jit_ctx, reason) == 164, "ctx layout");
_Static_assert(offsetof(struct jit_ctx, spill_rdx) == 168, "ctx layout");
_Static_assert(offsetof(struct jit_ctx, spill_rcx) == 176, "ctx layout");
_Static_assert(offsetof(struct jit_ctx, gas) == 184, "ctx layout");

/* The return stack (see "Returns"): the entry aligns rsp down to a multiple
 * of JIT_RETURN_STACK_BYTES and pushes the bottom frame there; a call pushes
 * its frame only while rsp is not yet the next multiple down, so the frames
 * stay within JIT_RETURN_STACK_BYTES below that boundary, and the check is
 * a test of rsp's low bits (no load, no compare with a limit in memory). */
#define JIT_RETURN_STACK_BYTES 2048u
/* Call frames the stack holds at most, besides the bottom frame. */
#define JIT_RETURN_FRAMES (JIT_RETURN_STACK_BYTES / 8u - 1u)
_Static_assert((JIT_RETURN_STACK_BYTES & (JIT_RETURN_STACK_BYTES - 1u)) == 0,
               "the return stack's size is a power of two");
_Static_assert(JIT_CTX_SIZE + 16 <= 4096 - JIT_RETURN_STACK_BYTES,
               "the guest's return stack fits in the context page below the block");
/* Displacement of a context field from the window base (the gs base). */
#define JIT_CTX_DISP(field) ((int32_t)offsetof(struct jit_ctx, field) - (int32_t)JIT_CTX_SIZE)

/* Bytes above the top of the 4 GiB window that must stay inaccessible: the
 * widest access (8 bytes) at address 0xFFFFFFFF ends 7 bytes past 2^32. */
#define JIT_WINDOW_GUARD 0x10000u

/* ---- Platform options -------------------------------------------------- */
enum jit_platform {
    /* entry = C function void entry(struct jit_ctx *ctx); exit returns. */
    JIT_PLATFORM_HOSTED = 0,
    /* entry = stub entered from ring 0 (iretq/sysret) with any register
     * values; it loads the PVM registers and gas from the context block at
     * gs base - JIT_CTX_SIZE, then jumps to ctx.entry_target. Exit = store registers, then `int
     * guest_exit_vector` (an IDT gate with DPL 3). A host call with
     * ctx.host_call set does `out dx, eax` to guest_host_call_port from
     * ring 3 and reads ctx.reason when the vCPU resumes after it.
     * sbrk runs inline (no exit): it moves ctx.heap_top within
     * ctx.heap_limit, and the platform's page-fault handler backs the pages
     * below the break on first touch. */
    JIT_PLATFORM_GUEST = 1,
};

struct jit_options {
    enum jit_platform platform;
    uint8_t guest_exit_vector;     /* JIT_PLATFORM_GUEST */
    uint16_t guest_host_call_port; /* JIT_PLATFORM_GUEST */
};

/* ---- Compiled program -------------------------------------------------- */
/* One memory-accessing x86 instruction: native offset -> PVM instruction. */
struct jit_fault_site {
    uint32_t native_offset; /* offset of the load/store instruction */
    uint32_t pc;            /* the PVM instruction it belongs to */
};

/* A load whose address arithmetic (shift and add, jit_lower.h
 * indexed_load) is fused into its own memory operand, while the PVM value
 * of its address register is computed into rax beside it: at a fault there,
 * the address register's PVM value is in rax, and the code at
 * resume_offset moves it into place before the exit stores the registers. */
struct jit_indexed_site {
    uint32_t native_offset; /* offset of the load instruction */
    uint32_t pc;            /* the load */
    uint32_t resume_offset; /* where the platform resumes after the fault */
};

struct jit_code {
    const struct pvm_program *program;
    size_t code_size;      /* bytes of the code buffer in use */
    uint32_t entry_offset; /* see enum jit_platform */
    uint32_t exit_offset;  /* store registers and leave (fault handlers resume here) */
    /* The leaving part of the exit, after the registers are stored: guest,
     * the `int guest_exit_vector` (the kernel's fast path knows the exit by
     * this address); hosted, the return to the caller. */
    uint32_t exit_trap_offset;
    /* Native offset of the instruction at pc (after its block's gas check),
     * for every pc of the compiler's walk (pc = 0, then pc + 1 + skip(pc)):
     * that is every instruction start, pc = code_len, and the trap positions
     * inside gaps of more than 24 bytes. Other entries are NOT initialised:
     * jit_prepare_entry handles those pcs (a trap) without the table. */
    uint32_t *insn_offset;
    struct jit_fault_site *fault_sites; /* sorted by native_offset */
    uint32_t fault_site_count;
    struct jit_indexed_site *indexed_sites; /* sorted by native_offset */
    uint32_t indexed_site_count;
    struct pvm_allocator allocator;
};

/* Compile results (besides PVM_OK / PVM_ERR_*). */
#define JIT_ERR_BUFFER_TOO_SMALL 100 /* *needed_out says how many bytes are needed */
#define JIT_ERR_TOO_LARGE        101 /* program beyond the JIT's limits (code > 2^31 bytes) */
#define JIT_ERR_INTERNAL         102 /* a compiler invariant failed (a bug): nothing to run */
/* The CPU lacks an instruction the code uses (popcnt, x86-64-v2): returned
 * by platforms that check before running (the hosted backend does). */
#define JIT_ERR_UNSUPPORTED_CPU 103

/**
 * An upper bound of the code size jit_compile needs for program: a buffer of
 * this size never gives JIT_ERR_BUFFER_TOO_SMALL.
 */
size_t jit_code_size_bound(const struct pvm_program *program);

/**
 * Compiles program into buf[0..buf_size). The compile writes its code in a
 * buffer of at least jit_code_size_bound bytes: with a smaller buf it
 * allocates one of that size for the duration (and copies the code to buf
 * when it fits), so give the bound when compile speed matters.
 * @param[in]  program   decoded program; must outlive *out
 * @param[in]  options   platform entry/exit flavour
 * @param[in]  allocator for the tables in *out (and that scratch buffer)
 * @param[out] buf       code buffer (written; later made executable by the caller)
 * @param[out] out       tables; free with jit_code_release
 * @param[out] needed_out bytes the code needs (also on JIT_ERR_BUFFER_TOO_SMALL); may be NULL
 * @retval PVM_OK, PVM_ERR_INVALID_ARGUMENT, PVM_ERR_NOMEM, JIT_ERR_BUFFER_TOO_SMALL,
 * JIT_ERR_TOO_LARGE
 */
int jit_compile(const struct pvm_program *program, const struct jit_options *options,
                const struct pvm_allocator *allocator, uint8_t *buf, size_t buf_size,
                struct jit_code *out, size_t *needed_out);

void jit_code_release(struct jit_code *code);

/* A static name for a jit_compile result. */
const char *jit_error_name(int error);

/* ---- Running (platform-neutral helpers) -------------------------------- */
/**
 * Prepares ctx for entering the code at ctx->pc: charges the gas block that
 * starts there (none when resuming after an ecalli, or when block_paid) and
 * sets ctx->entry_target = code_address + native offset.
 * @retval true  enter the code now
 * @retval false the run ended without executing code; *exit_out is filled
 *               (out-of-gas, the panic of a trap at a non-instruction pc, or
 *               GP 0.8.0's panic for an invalid blob or pc) and ctx->gas
 *               updated as the interpreter would
 */
bool jit_prepare_entry(const struct jit_code *code, struct jit_ctx *ctx, uint64_t code_address,
                       bool resume_after_ecalli, bool block_paid, struct pvm_exit *exit_out);

/**
 * The gas the compiled code charges when it enters the gas block at pc (the
 * imm32 of the block's gas check in code_bytes, the buffer jit_compile
 * filled). false if pc is not where the compiler opened a block.
 */
bool jit_block_charge(const struct jit_code *code, const uint8_t *code_bytes, uint32_t pc,
                      uint32_t *cost_out);

/* A faulting memory access of the code, as the PVM sees it. */
struct jit_fault {
    uint32_t pc;      /* the PVM instruction */
    uint32_t address; /* its first byte: lo32(register + offset) or the constant */
    unsigned width;   /* 1/2/4/8 */
    bool is_write;
    /* Where the platform resumes the code to leave with this exit: the
     * exit (exit_offset), or an indexed site's own way to it. */
    uint32_t resume_offset;
};

/**
 * Finds the PVM memory access at native_offset. gpr holds the 16 x86
 * registers at the fault, in encoding order (rax, rcx, rdx, rbx, rsp, rbp,
 * rsi, rdi, r8..r15): the access has not changed any of them, so its
 * address register still has the value the instruction used (at an indexed
 * site, rax has it; see struct jit_indexed_site).
 * @retval true  *out filled
 * @retval false native_offset is not a memory access of this code
 */
bool jit_find_fault_site(const struct jit_code *code, uint64_t native_offset,
                         const uint64_t gpr[16], struct jit_fault *out);

/* The x86 register (encoding number) holding PVM register pvm_reg. */
int jit_native_reg(unsigned pvm_reg);

/**
 * Applies SPEC §2 to a faulting access of width bytes at address (wrapping):
 * finds the lowest byte the access may not touch according to page_access.
 * @retval true  *reason_out = PVM_EXIT_PANIC (lowest byte < 0x10000) or
 *               PVM_EXIT_PAGE_FAULT with *arg_out = its page address
 * @retval false every byte is allowed: the fault was not the PVM's
 */
bool jit_classify_fault(uint32_t address, unsigned width, bool is_write,
                        uint32_t (*page_access)(const void *ctx, uint32_t address),
                        const void *page_access_ctx, uint32_t *reason_out, uint64_t *arg_out);

/* ---- The run loop, shared by every platform ---------------------------- */
/*
 * What a platform provides to jit_run. The platform owns the window, the
 * context block and the code; jit_run does the PVM-level work around the
 * native calls (gas for entries mid-block, resuming, serving sbrk exactly as
 * the interpreter does) so hosted and guest backends behave identically.
 */
struct jit_runner {
    void *self;
    uint64_t code_address; /* where the code buffer is mapped (executable) */
    /* Run the native code from ctx->entry_target until it exits (hosted: call
     * the entry; guest: drop to ring 3 and come back on the exit trap or a
     * fault mapped by the platform's handler). */
    void (*enter)(void *self);
    uint32_t (*page_access)(const void *self, uint32_t address);
    /* Make one page read-write; a page that was inaccessible reads as zeros.
     * Returns PVM_OK or PVM_ERR_NOMEM. */
    int (*make_writable)(void *self, uint32_t page_address);
};

/* Makes the pages from the one holding top up to new_top writable (those
 * already writable are left alone), as sbrk and grow_heap move a break.
 * PVM_OK, or the make_writable error of the first page that failed. */
int jit_make_break_writable(const struct jit_runner *platform, uint32_t top, uint64_t new_top);

/**
 * Runs the program from *state until the next PVM exit, and updates *state
 * (registers, pc, gas, heap top) as the interpreter would.
 * @param resume_after_ecalli the previous exit was the host call at state->pc:
 *        continue after it, in the same gas block
 * @param[out] exit_out the exit; PVM_EXIT_ERROR with arg = nub_status if the
 *        platform failed (e.g. NUB_ERR_NOMEM while serving sbrk)
 */
void jit_run(const struct jit_code *code, struct jit_ctx *ctx, const struct jit_runner *platform,
             struct pvm_state *state, bool resume_after_ecalli, struct pvm_exit *exit_out);

#endif /* NUB_JIT_H */
