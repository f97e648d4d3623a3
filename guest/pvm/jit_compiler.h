/*
 * jit_compiler.h — the state of one compile and the small sequences shared
 * by the compiler's two files: jit_compile.c (the walk over the program,
 * the lowering of each instruction, stubs and fixups) and jit_exits.c (the
 * entry and the shared exits around the body). Internal to the JIT.
 */
#ifndef NUB_JIT_COMPILER_H
#define NUB_JIT_COMPILER_H

#include "jit.h"

#include "jit_decode.h"
#include "pvm_gas.h"
#include "pvm_util.h"

/* The compiler checks the room in the code buffer itself, a PVM
 * instruction (or stub, or the jump table) at a time; see room(). */
#define JIT_EMIT_ROOM_CHECKED 1
#include "jit_x86.h"

/*
 * Register map. rax is the scratch register (dynamic-jump addresses,
 * results of 32-bit ops, dividend), r15 the remaining gas and rsp the
 * stack. The other 13 hold the PVM registers. rcx (variable shift counts)
 * and rdx (mul/div high half) get r11/r12 (a4/a5), the argument registers
 * used least; they are spilled to the context block around the instructions
 * that need them. Memory is addressed through the gs base (the window):
 * gs:[reg32 + disp] with any PVM register as the base, so the rbp/r13/r12
 * ModRM quirks matter; x86_rm handles them.
 */
/* Indexed by a decoded register field (0..255): fields 0..12 are the PVM
 * registers, larger fields read as PVM_NUM_REGS - 1 (SPEC §8), so the
 * decoders give x86 register numbers in one load (see struct jit_ops). */
#define FIELD_A5_4  X86_RDX, X86_RDX, X86_RDX, X86_RDX
#define FIELD_A5_16 FIELD_A5_4, FIELD_A5_4, FIELD_A5_4, FIELD_A5_4
_Static_assert(PVM_NUM_REGS == 13 && PVM_REG_A5 == 12, "fields from 13 on read as a5");
static const uint8_t jit_reg_map[256] = {
    [PVM_REG_RA] = X86_RBX, /* r0  ra */
    [PVM_REG_SP] = X86_RBP, /* r1  sp */
    [PVM_REG_T0] = X86_RSI, /* r2  t0 */
    [PVM_REG_T1] = X86_RDI, /* r3  t1 */
    [PVM_REG_T2] = X86_R8,  /* r4  t2 */
    [PVM_REG_S0] = X86_R9,  /* r5  s0 */
    [PVM_REG_S1] = X86_R10, /* r6  s1 */
    [PVM_REG_A0] = X86_R11, /* r7  a0 */
    [PVM_REG_A1] = X86_R12, /* r8  a1 */
    [PVM_REG_A2] = X86_R13, /* r9  a2 */
    [PVM_REG_A3] = X86_R14, /* r10 a3 */
    [PVM_REG_A4] = X86_RCX, /* r11 a4: spilled to ctx.spill_rcx around shifts by cl */
    [PVM_REG_A5] = X86_RDX, /* r12 a5: spilled to ctx.spill_rdx around mul/div */
    X86_RDX,
    X86_RDX,
    X86_RDX, /* fields 13..15 */
    FIELD_A5_16,
    FIELD_A5_16,
    FIELD_A5_16,
    FIELD_A5_16,
    FIELD_A5_16, /* 16..95 */
    FIELD_A5_16,
    FIELD_A5_16,
    FIELD_A5_16,
    FIELD_A5_16,
    FIELD_A5_16, /* 96..175 */
    FIELD_A5_16,
    FIELD_A5_16,
    FIELD_A5_16,
    FIELD_A5_16,
    FIELD_A5_16, /* 176..255 */
};

#define SCRATCH X86_RAX
#define GAS     X86_R15
#define CTXB    X86_GSBASE /* context fields: gs:[CTX(field)] */
#define CTX(f)  JIT_CTX_DISP(f)

/* Instructions of one block kept for the pipeline model; a longer block is
 * priced by pvm_gas_block_cost re-reading the code (no memory in proportion
 * to the block). */
#define JIT_GAS_WORDS_MAX 4096u

/* sub r15, imm32 (7 bytes) + jl rel32 (6 bytes). */
#define JIT_GAS_CHECK_SIZE 13u

/* Room in the code buffer checked before the code of one PVM instruction
 * (its block's gas check, its lowering: < 160 bytes, see
 * jit_code_size_bound), before one stub (< 40 bytes) and before the entry
 * and shared exits (< 1024 bytes), each with the emitters' slack. */
#define JIT_INSN_ROOM (256u + JIT_EMIT_SLACK)
#define JIT_STUB_ROOM (64u + JIT_EMIT_SLACK)
#define JIT_HEAD_ROOM (1024u + JIT_EMIT_SLACK)

/* The x86 register of a PVM register. The lowerings get their operands
 * as x86 registers already (decoded through jit_reg_map); R is for PVM
 * register numbers from elsewhere (constants, struct pvm_insn). */
static inline int R(unsigned pvm_reg)
{
    return jit_reg_map[pvm_reg];
}

/* ---- Compiler state ---------------------------------------------------- */
enum stub_kind {
    STUB_OUT_OF_GAS,
    STUB_PANIC,
    /* a run entered inside a fused group: at the second instruction of a
     * pair (shift + add, mul_upper + mul_64); at the add of a shift + add +
     * load (the add, then the load); at its load */
    STUB_FUSED_ENTRY,
    STUB_FUSED_ADD_LOAD,
    STUB_FUSED_LOAD,
    STUB_INDEXED_RESUME, /* a fault at an indexed site: rax into its register */
    /* a run entered inside a carry group (add_and_carry): the rest of the
     * group unfused, up to the pc in the stub's cost */
    STUB_FUSED_RUN,
};

struct stub {
    uint32_t site; /* rel32 field jumping to the stub (none for a fused entry) */
    uint32_t pc;
    /* out-of-gas: the block's cost, refunded; STUB_INDEXED_RESUME: the
     * index of its site in indexed_sites; STUB_FUSED_RUN: the pc after the
     * group */
    uint32_t cost;
    uint32_t kind;
};

struct fixup {
    uint32_t site;      /* rel32 field */
    uint32_t target_pc; /* a block start */
};

struct vec {
    void *data;
    size_t count, cap, elem;
    size_t first_cap; /* room of the first allocation */
};

struct compiler {
    struct jit_buf b;
    const struct pvm_program *p;
    const struct jit_options *opt;
    struct pvm_allocator alloc;
    uint32_t *insn_offset; /* code_len + 1 */
    uint8_t *block_head;   /* bitset over 0..code_len: a gas check starts here */
    struct vec stubs, fixups, sites;
    struct vec indexed_sites; /* struct jit_indexed_site */
    /* PVM_GAS_PIPELINE: the open block's instructions for the cost model,
     * as gas words (pvm_gas_word): open_words of them, in the free lane of
     * gas_batch while there are at most PVM_GAS_BATCH_WORDS, then all in
     * gas_words (uint32_t) */
    bool pipeline;
    uint32_t gas_word_head[256]; /* jit_gas_word_head, per opcode */
    unsigned open_words;
    struct vec gas_words;
    uint32_t block_pc;  /* where the open block starts */
    bool words_dropped; /* the open block outgrew JIT_GAS_WORDS_MAX */
    bool nomem;
    bool too_large; /* a block costs more gas than an imm32 holds */
    bool no_room;   /* the buffer (at least jit_code_size_bound) ran out */
    size_t exit_label, halt_label, panic_label, djump_label, out_of_gas_label;
    size_t exit_trap_label, host_call_label;
    size_t empty_return_label; /* where a `ret` with no call frame lands */
    size_t empty_return_site;  /* the entry's rel32 to it */
    struct vec table_refs;     /* uint32_t rel32 sites of "lea rcx, [rip+table]" */
    /* an add_64 or mul_64 whose effect the previous instruction's lowering
     * already emitted (a fused pair, see shl_add_lea, mul_upper_and_low);
     * UINT32_MAX: none. The walk passes each pc once, so it is not reset. */
    uint32_t fused_pc;
    /* the same for a load_ind emitted with the shift and add before it
     * (indexed_load) */
    uint32_t fused_load_pc;
    /* the pc after the last carry group (add_and_carry): the instructions
     * after its add and before this pc were emitted with the add */
    uint32_t carry_end;
    /* the open gas block */
    size_t block_imm_site;
    size_t block_stub;
    uint32_t block_cost;
    /* PVM_GAS_PIPELINE: closed blocks of 2 to PVM_GAS_BATCH_WORDS
     * instructions waiting to be priced together (close_block), with where
     * each one's cost goes */
    struct pvm_gas_batch gas_batch;
    size_t batch_imm_site[PVM_GAS_BATCH_LANES];
    size_t batch_stub[PVM_GAS_BATCH_LANES];
    unsigned batch_lanes;
};

/* Doubles v's room; false (and c->nomem) when memory ran out. */
static __attribute__((noinline)) bool vec_grow(struct compiler *c, struct vec *v)
{
    size_t cap = v->cap ? v->cap * 2 : v->first_cap;
    void *d = c->alloc.alloc(c->alloc.ctx, cap * v->elem);
    if (d == NULL) {
        c->nomem = true;
        return false;
    }
    if (v->data != NULL)
        pvm_memcpy(d, v->data, v->count * v->elem);
    c->alloc.free(c->alloc.ctx, v->data);
    v->data = d;
    v->cap = cap;
    return true;
}

/* Room for one more element of v (elem: v->elem, a constant at each call,
 * so the address is a shift, not a multiply); NULL when memory ran out. */
#define VEC_PUSH(c, v, type)                                                                       \
    ((v)->count == (v)->cap && !vec_grow((c), (v)) ? (type *)NULL                                  \
                                                   : (type *)(v)->data + (v)->count++)

JIT_INLINE void add_stub(struct compiler *c, size_t site, uint32_t pc, enum stub_kind kind)
{
    struct stub *s = VEC_PUSH(c, &c->stubs, struct stub);
    if (s != NULL)
        *s = (struct stub){.site = (uint32_t)site, .pc = pc, .cost = 0, .kind = kind};
}

/* A stub no code jumps to (a fused entry or an indexed resume), with its
 * argument in the cost field (struct stub). */
JIT_INLINE void add_stub_arg(struct compiler *c, uint32_t pc, enum stub_kind kind, uint32_t arg)
{
    struct stub *s = VEC_PUSH(c, &c->stubs, struct stub);
    if (s != NULL)
        *s = (struct stub){.site = 0, .pc = pc, .cost = arg, .kind = kind};
}

JIT_INLINE void add_fixup(struct compiler *c, size_t site, uint32_t target_pc)
{
    struct fixup *f = VEC_PUSH(c, &c->fixups, struct fixup);
    if (f != NULL)
        *f = (struct fixup){.site = (uint32_t)site, .target_pc = target_pc};
}

JIT_INLINE void add_table_ref(struct compiler *c, size_t site)
{
    uint32_t *r = VEC_PUSH(c, &c->table_refs, uint32_t);
    if (r != NULL)
        *r = (uint32_t)site;
}

/* The buffer offset of the cursor p. */
JIT_INLINE size_t code_off(const struct compiler *c, const uint8_t *p)
{
    return (size_t)(p - c->b.code);
}

/* The cursor at the end of the buffer, and back: the code between keeps
 * it in a local (see jit_x86.h). */
JIT_EMITTER uint8_t *cursor(struct compiler *c)
{
    return c->b.code + c->b.off;
}

JIT_INLINE void set_cursor(struct compiler *c, const uint8_t *p)
{
    c->b.off = code_off(c, p);
}

/* Call right before emitting a load/store of PVM memory at p. */
JIT_INLINE void add_fault_site(struct compiler *c, const uint8_t *p, uint32_t pc)
{
    struct jit_fault_site *s = VEC_PUSH(c, &c->sites, struct jit_fault_site);
    if (s != NULL)
        *s = (struct jit_fault_site){.native_offset = (uint32_t)code_off(c, p), .pc = pc};
}

/* Whether n more bytes fit in the code buffer; sets no_room when not. The
 * emitters do not test (JIT_EMIT_ROOM_CHECKED): the compile tests here, and
 * its buffer is at least jit_code_size_bound bytes, so this fails only if
 * that bound is wrong, as JIT_ERR_INTERNAL instead of a write past the
 * buffer. */
JIT_INLINE bool room(struct compiler *c, size_t n)
{
    if (c->b.size - c->b.off >= n)
        return true;
    c->no_room = true;
    return false;
}

/* ---- Small sequences ----------------------------------------------------- */
/* Each takes the cursor p and returns the cursor after its code. */
JIT_EMITTER uint8_t *jmp_back(struct compiler *c, uint8_t *p, size_t target)
{
    p = emit_jmp32(p);
    jit_link32_at(p - 4, c->b.code + target);
    return p;
}

JIT_EMITTER uint8_t *jcc_back(struct compiler *c, uint8_t *p, enum x86_cc cc, size_t target)
{
    p = emit_jcc32(p, cc);
    jit_link32_at(p - 4, c->b.code + target);
    return p;
}

JIT_EMITTER uint8_t *mov64(uint8_t *p, int dst, int src)
{
    if (dst != src)
        p = emit_mov_rr(p, true, dst, src);
    return p;
}

/* ctx.pc = pc; ctx.reason = reason; jump to the common exit. */
JIT_EMITTER uint8_t *exit_inline(struct compiler *c, uint8_t *p, uint32_t pc, uint32_t reason)
{
    p = emit_store32_imm_disp(p, CTXB, CTX(pc), pc);         /* mov dword [ctx.pc], pc */
    p = emit_store32_imm_disp(p, CTXB, CTX(reason), reason); /* mov dword [ctx.reason], r */
    return jmp_back(c, p, c->exit_label);
}

/* ---- jit_exits.c --------------------------------------------------------- */
/* The entry (hosted: a C-callable prologue; guest: the ring-3 entry stub). */
void jit_emit_entry(struct compiler *c);
/* The shared exits, which set the labels in c: exit_common, halt, panic,
 * the dynamic-jump dispatcher, the empty return and the host call. */
void jit_emit_shared_exits(struct compiler *c);
/* Jumps to the jump-table entry that rax selects (see its definition). */
JIT_CURSOR uint8_t *jit_table_jump(struct compiler *c, uint8_t *p, unsigned scale_log2,
                                   int32_t disp);

#endif /* NUB_JIT_COMPILER_H */
