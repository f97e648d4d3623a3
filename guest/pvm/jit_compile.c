/*
 * jit_compile.c — single-pass PVM -> x86-64 compiler (see jit.h).
 *
 * Layout of the generated code:
 *
 *   entry          hosted: C-callable prologue; guest: ring-3 entry stub
 *   exit_common    store the 13 registers into the context block, leave
 *   halt_exit      reason = halt,  -> exit_common   (ctx.pc already set)
 *   panic_exit     reason = panic, -> exit_common   (ctx.pc already set)
 *   host_call      an ecalli: served inside the run (ctx.host_call) or exit
 *   djump          dynamic-jump dispatcher (eax = address, ctx.pc set)
 *   body           one gas check per block, then the instructions, in pc order,
 *                  ending with the implicit trap at pc = code_len
 *   stubs          out-of-gas stubs (one per block), bad-static-target panics
 *   jump table     int32 offsets (relative to the table) of each dynamic target
 *
 * Shared exits come first so every jump to them is backward and final; jumps
 * to blocks and stubs are rel32 placeholders patched at the end.
 */
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
#define JIT_GAS_ITEMS_MAX 4096u

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

int jit_native_reg(unsigned pvm_reg)
{
    return R(pvm_reg < PVM_NUM_REGS ? pvm_reg : PVM_NUM_REGS - 1);
}

/* ---- Compiler state ---------------------------------------------------- */
enum stub_kind { STUB_OUT_OF_GAS, STUB_PANIC, STUB_FUSED_ENTRY };

struct stub {
    uint32_t site; /* rel32 field jumping to the stub (none for a fused entry) */
    uint32_t pc;
    uint32_t cost; /* out-of-gas: the block's cost, refunded */
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
    /* PVM_GAS_PIPELINE: the open block's instructions for the cost model */
    bool pipeline;
    struct vec items;
    uint32_t block_pc;  /* where the open block starts */
    bool items_dropped; /* the open block outgrew JIT_GAS_ITEMS_MAX */
    bool nomem;
    bool too_large; /* a block costs more gas than an imm32 holds */
    bool no_room;   /* the buffer (at least jit_code_size_bound) ran out */
    size_t exit_label, halt_label, panic_label, djump_label;
    size_t exit_trap_label, host_call_label;
    size_t empty_return_label; /* where a `ret` with no call frame lands */
    size_t empty_return_site;  /* the entry's rel32 to it */
    struct vec table_refs;     /* uint32_t rel32 sites of "lea rcx, [rip+table]" */
    /* an add_64 whose effect the previous instruction's lowering already
     * emitted (a fused pair, see shl_add_lea); UINT32_MAX: none. The walk
     * passes each pc once, so it is not reset. */
    uint32_t fused_pc;
    /* the open gas block */
    bool block_open;
    size_t block_imm_site;
    size_t block_stub;
    uint32_t block_cost;
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

/* Call right before emitting a load/store of PVM memory. */
JIT_INLINE void add_fault_site(struct compiler *c, uint32_t pc)
{
    struct jit_fault_site *s = VEC_PUSH(c, &c->sites, struct jit_fault_site);
    if (s != NULL)
        *s = (struct jit_fault_site){.native_offset = (uint32_t)c->b.off, .pc = pc};
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
JIT_INLINE void jmp_back(struct compiler *c, size_t target)
{
    jit_link32(&c->b, emit_jmp32(&c->b), target);
}

JIT_INLINE void jcc_back(struct compiler *c, enum x86_cc cc, size_t target)
{
    jit_link32(&c->b, emit_jcc32(&c->b, cc), target);
}

JIT_INLINE void mov64(struct compiler *c, int dst, int src)
{
    if (dst != src)
        emit_mov_rr(&c->b, true, dst, src);
}

/* ctx.pc = pc; ctx.reason = reason; jump to the common exit. */
JIT_INLINE void exit_inline(struct compiler *c, uint32_t pc, uint32_t reason)
{
    emit_store32_imm_disp(&c->b, CTXB, CTX(pc), pc);         /* mov dword [ctx.pc], pc */
    emit_store32_imm_disp(&c->b, CTXB, CTX(reason), reason); /* mov dword [ctx.reason], r */
    jmp_back(c, c->exit_label);
}

/* ---- Entry and exit sequences (the platform-specific part) ------------- */
static void emit_load_pvm_regs(struct compiler *c)
{
    for (unsigned i = 0; i < PVM_NUM_REGS; i++)
        emit_load_disp(&c->b, R(i), CTXB, CTX(regs) + (int32_t)(8 * i)); /* mov rI, [ctx.regs+8i] */
    emit_load_disp(&c->b, GAS, CTXB, CTX(gas));                          /* mov r15, [ctx.gas] */
}

static void emit_store_pvm_regs(struct compiler *c)
{
    for (unsigned i = 0; i < PVM_NUM_REGS; i++)
        emit_store_disp(&c->b, R(i), CTXB,
                        CTX(regs) + (int32_t)(8 * i)); /* mov [ctx.regs+8i], rI */
    emit_store_disp(&c->b, GAS, CTXB, CTX(gas));       /* mov [ctx.gas], r15 */
}

/* Callee-saved registers of the SysV ABI that the PVM code overwrites. */
static const int8_t hosted_saved[] = {X86_RBX, X86_RBP, X86_R12, X86_R13, X86_R14, X86_R15};

static void emit_entry(struct compiler *c)
{
    struct jit_buf *b = &c->b;
    if (c->opt->platform == JIT_PLATFORM_HOSTED) {
        /*
         * void entry(struct jit_ctx *ctx):  (rdi = ctx; the caller has set
         * the gs base to the window, ctx + JIT_CTX_SIZE)
         *   save callee-saved registers, push ctx (the host call passes it);
         *   ctx->host_rsp = rsp; push the empty-return frame; load PVM
         *   registers and gas; goto *ctx->entry_target.
         * Below host_rsp the PVM code keeps only return frames.
         */
        for (size_t i = 0; i < sizeof(hosted_saved); i++)
            emit_push(b, hosted_saved[i]);
        emit_push(b, X86_RDI);
        emit_store_disp(b, X86_RSP, CTXB, CTX(host_rsp)); /* mov [ctx.host_rsp], rsp */
    } else {
        emit_load_disp(b, X86_RSP, CTXB, CTX(host_rsp)); /* mov rsp, [ctx.host_rsp] */
    }
    /* room for JIT_RETURN_FRAMES return frames below the empty stack */
    emit_lea(b, true, SCRATCH, X86_RSP, -(int32_t)(8 * JIT_RETURN_FRAMES));
    emit_store_disp(b, SCRATCH, CTXB, CTX(return_limit)); /* mov [ctx.return_limit], rax */
    /* The bottom frame: a `ret` with no call's frame above it returns here
     * (see emit_empty_return), so a return needs no check of its own. */
    c->empty_return_site = emit_lea_rip(b, SCRATCH); /* lea rax, [rip+empty_return] */
    emit_push(b, SCRATCH);
    emit_load_pvm_regs(c);
    emit_jmp_m(b, CTXB, CTX(entry_target)); /* jmp [ctx.entry_target] */
}

static void emit_exit_common(struct compiler *c)
{
    struct jit_buf *b = &c->b;
    c->exit_label = b->off;
    emit_store_pvm_regs(c);
    c->exit_trap_label = b->off;
    if (c->opt->platform == JIT_PLATFORM_HOSTED) {
        emit_load_disp(b, X86_RSP, CTXB, CTX(host_rsp)); /* mov rsp, [ctx.host_rsp] */
        emit_pop(b, SCRATCH);                            /* the pushed ctx */
        for (size_t i = sizeof(hosted_saved); i-- > 0;)
            emit_pop(b, hosted_saved[i]);
        emit_ret(b);
    } else {
        emit_int(b, c->opt->guest_exit_vector);
        emit_ud2(b); /* the kernel re-enters through the entry stub, never here */
    }
}

/*
 * The shared host-call sequence. In: ctx.arg = id, ctx.pc = the ecalli,
 * ctx.entry_target = where to continue (after the ecalli). Without a
 * handler (ctx.host_call == 0) the run exits with PVM_EXIT_HOST_CALL; with
 * one, the registers are stored, the handler runs (hosted: a call on the
 * run's stack, 16-byte aligned; guest: `out` to the host-call port, one VM
 * exit, no ring or address-space switch), and on JIT_EXIT_HOST_RESUME the
 * registers (possibly changed) are reloaded and the code continues; any
 * other reason leaves through the exit trap with the stored registers.
 */
static void emit_host_call(struct compiler *c)
{
    struct jit_buf *b = &c->b;
    c->host_call_label = b->off;
    emit_store32_imm_disp(b, CTXB, CTX(reason), PVM_EXIT_HOST_CALL);
    emit_cmp64_mi8(b, CTXB, CTX(host_call), 0); /* cmp qword [ctx.host_call], 0 */
    jcc_back(c, X86_CC_E, c->exit_label);
    emit_store_pvm_regs(c);
    if (c->opt->platform == JIT_PLATFORM_HOSTED) {
        /* The entry pushed ctx last: [host_rsp] = ctx. Return frames may be
         * below host_rsp: the handler's stack starts under them, aligned
         * for the call; rsp is kept in the spill slot of rdx, which is free
         * outside div/mul (the handler does not touch it). */
        emit_load_disp(b, X86_RDI, CTXB, CTX(host_rsp));          /* mov rdi, [ctx.host_rsp] */
        x86_rm(b, XF_W | 0x8B, X86_RDI, X86_RDI, X86_NONE, 0, 0); /* mov rdi, [rdi] */
        emit_store_disp(b, X86_RSP, CTXB, CTX(spill_rdx));        /* mov [ctx.spill_rdx], rsp */
        emit_alu_ri(b, true, X86_ALU_AND, X86_RSP, -16);          /* and rsp, -16 */
        emit_call_m(b, CTXB, CTX(host_call));                     /* call [ctx.host_call] */
        emit_load_disp(b, X86_RSP, CTXB, CTX(spill_rdx));         /* mov rsp, [ctx.spill_rdx] */
    } else {
        emit_mov_ri(b, X86_RDX, c->opt->guest_host_call_port); /* mov edx, port */
        emit_out_dx_eax(b);                                    /* out dx, eax */
    }
    emit_cmp32_mi(b, CTXB, CTX(reason), JIT_EXIT_HOST_RESUME);
    jcc_back(c, X86_CC_NE, c->exit_trap_label);
    emit_store64_imm_disp(b, CTXB, CTX(arg), 0); /* only host calls and page faults set it */
    emit_load_pvm_regs(c);
    emit_jmp_m(b, CTXB, CTX(entry_target)); /* jmp [ctx.entry_target] */
}

/* Jumps to the jump-table entry that rax selects, at [table +
 * (rax << scale_log2) + disp] (an int32 offset from the table); rcx is
 * parked meanwhile. */
static void table_jump(struct compiler *c, unsigned scale_log2, int32_t disp)
{
    struct jit_buf *b = &c->b;
    emit_store_disp(b, X86_RCX, CTXB, CTX(spill_rcx)); /* mov [ctx.spill_rcx], rcx */
    add_table_ref(c, emit_lea_rip(b, X86_RCX));        /* lea rcx, [rip+table] */
    x86_rm(b, XF_W | 0x63, SCRATCH, X86_RCX, SCRATCH, scale_log2,
           disp);                                        /* movsxd rax, [rcx+rax*s+d] */
    emit_alu_rr(b, true, X86_ALU_ADD, SCRATCH, X86_RCX); /* add rax, rcx */
    emit_load_disp(b, X86_RCX, CTXB, CTX(spill_rcx));    /* mov rcx, [ctx.spill_rcx] */
    emit_jmp_r(b, SCRATCH);                              /* jmp rax */
}

/*
 * Dynamic jump dispatcher. In: eax = lo32 address, ctx.pc = the jumping
 * instruction. SPEC §6.3:
 *   if (a == 0xFFFF0000) halt;
 *   if (a == 0 || a odd || a > 2J) panic;
 *   goto native_table[a/2 - 1];   (entries for non-block-start targets -> panic)
 */
static void emit_djump(struct compiler *c)
{
    struct jit_buf *b = &c->b;
    const struct pvm_program *p = c->p;
    c->djump_label = b->off;
    emit_alu_ri(b, false, X86_ALU_CMP, SCRATCH,
                (int32_t)PVM_HALT_ADDRESS); /* cmp eax, 0xFFFF0000 */
    jcc_back(c, X86_CC_E, c->halt_label);
    emit_test_ri(b, false, SCRATCH, 1); /* test eax, 1 */
    jcc_back(c, X86_CC_NE, c->panic_label);
    emit_test_rr(b, false, SCRATCH, SCRATCH); /* test eax, eax */
    jcc_back(c, X86_CC_E, c->panic_label);
    uint64_t limit = p->jump_table_len * 2;
    if (p->jump_table_len < ((uint64_t)1 << 31)) {
        emit_alu_ri(b, false, X86_ALU_CMP, SCRATCH, (int32_t)(uint32_t)limit); /* cmp eax, 2J */
        jcc_back(c, X86_CC_A, c->panic_label);
    }
    if (p->jump_table_len == 0) {
        jmp_back(c, c->panic_label);
    } else if (p->jump_entry_size == 0) {
        /* Every entry is 0: one target for every valid address. */
        uint32_t target;
        if (pvm_program_dynamic_jump(p, 2, &target) == PVM_DJUMP_TARGET)
            add_fixup(c, emit_jmp32(b), target);
        else
            jmp_back(c, c->panic_label);
    } else {
        table_jump(c, 1, -4); /* eax = 2(i + 1): entry i at [table + rax*2 - 4] */
    }
}

/*
 * A `ret` that took the entry's bottom frame (a return with no call frame
 * left: rsp = host_rsp again; eax = the address, ctx.pc = the return): put
 * the frame back for the next one and dispatch in general. rcx is parked
 * while it carries the frame's address.
 */
static void emit_empty_return(struct compiler *c)
{
    struct jit_buf *b = &c->b;
    c->empty_return_label = b->off;
    jit_link32(b, c->empty_return_site, c->empty_return_label);
    emit_store_disp(b, X86_RCX, CTXB, CTX(spill_rcx));              /* mov [spill], rcx */
    jit_link32(b, emit_lea_rip(b, X86_RCX), c->empty_return_label); /* lea rcx, [rip+here] */
    emit_push(b, X86_RCX);
    emit_load_disp(b, X86_RCX, CTXB, CTX(spill_rcx)); /* mov rcx, [spill] */
    jmp_back(c, c->djump_label);
}

static void emit_shared_exits(struct compiler *c)
{
    emit_exit_common(c);
    c->halt_label = c->b.off;
    emit_store32_imm_disp(&c->b, CTXB, CTX(reason), PVM_EXIT_HALT);
    jmp_back(c, c->exit_label);
    c->panic_label = c->b.off;
    emit_store32_imm_disp(&c->b, CTXB, CTX(reason), PVM_EXIT_PANIC);
    jmp_back(c, c->exit_label);
    emit_djump(c);
    emit_empty_return(c);
    emit_host_call(c);
}

/* ---- Gas blocks -------------------------------------------------------- */
JIT_INLINE void open_block(struct compiler *c, uint32_t pc)
{
    size_t start = c->b.off;
    c->block_head[pc >> 3] |= (uint8_t)(1u << (pc & 7));
    emit_alu_ri32(&c->b, X86_ALU_SUB, GAS, 0); /* sub r15, cost */
    c->block_imm_site = c->b.off - 4;
    size_t jl = emit_jcc32(&c->b, X86_CC_L); /* jl out_of_gas(pc) */
    c->block_stub = c->stubs.count;
    add_stub(c, jl, pc, STUB_OUT_OF_GAS);
    c->block_open = true;
    c->block_cost = 0;
    c->block_pc = pc;
    c->items_dropped = false;
    if (c->b.off - start != JIT_GAS_CHECK_SIZE)
        c->nomem = true; /* cannot happen: the encoding above is fixed-size */
}

/* The item of the next instruction of the open block, or NULL when the
 * block is too long to keep (or memory ran out). */
JIT_INLINE struct pvm_gas_item *next_item(struct compiler *c)
{
    if (c->items.count >= JIT_GAS_ITEMS_MAX) {
        c->items_dropped = true;
        return NULL;
    }
    return VEC_PUSH(c, &c->items, struct pvm_gas_item);
}

JIT_INLINE void close_block(struct compiler *c)
{
    if (c->pipeline && c->items_dropped)
        c->block_cost = pvm_gas_block_cost(c->p, c->block_pc);
    else if (c->pipeline && c->items.count > 0)
        c->block_cost = pvm_gas_simulate(c->items.data, c->items.count);
    c->items.count = 0;
    if (c->block_cost > (uint32_t)INT32_MAX) /* the imm32 is sign-extended */
        c->too_large = true;
    jit_patch4(&c->b, c->block_imm_site, c->block_cost);
    if (!c->nomem)
        ((struct stub *)c->stubs.data)[c->block_stub].cost = c->block_cost;
    c->block_open = false;
}

/* ---- Control flow ------------------------------------------------------ */
/* Jump (cc < 0: always) to the block at target, or panic at pc if target
 * is not a block start (SPEC §6.2). */
JIT_INLINE void branch(struct compiler *c, int cc, int64_t target, uint32_t pc)
{
    size_t site = cc < 0 ? emit_jmp32(&c->b) : emit_jcc32(&c->b, (enum x86_cc)cc);
    if (target >= 0 && pvm_program_is_block_start(c->p, (uint64_t)target))
        add_fixup(c, site, (uint32_t)target);
    else
        add_stub(c, site, pc, STUB_PANIC);
}

/* Jump tables up to this many entries get the dispatch inlined at each
 * dynamic jump (any real program: the bound keeps odd addresses, which
 * the rotate below maps to 2^31 and up, out of the index range). */
#define JIT_DJUMP_INLINE_MAX (UINT32_C(1) << 30)

/*
 * eax holds the address: ctx.pc = pc; goto djump's target. The dispatch is
 * inlined, so that each dynamic jump (mostly returns) has its own indirect
 * branch for the predictor, and its checks are folded: rotating a right by
 * one puts bit 0 on top, so after subtracting 1 every odd a and a = 0 are
 * >= 2^31 - 1 > J, and an even a in 2..2J is its table index a/2 - 1.
 */
JIT_INLINE void dispatch(struct compiler *c)
{
    struct jit_buf *b = &c->b;
    const struct pvm_program *p = c->p;
    if (p->jump_entry_size == 0 || p->jump_table_len == 0 ||
        p->jump_table_len > JIT_DJUMP_INLINE_MAX) {
        jmp_back(c, c->djump_label);
        return;
    }
    emit_alu_ri(b, false, X86_ALU_CMP, SCRATCH, (int32_t)PVM_HALT_ADDRESS);
    jcc_back(c, X86_CC_E, c->halt_label);
    emit_shift_ri(b, false, X86_SH_ROR, SCRATCH, 1);                         /* ror eax, 1 */
    emit_alu_ri(b, false, X86_ALU_SUB, SCRATCH, 1);                          /* sub eax, 1 */
    emit_alu_ri(b, false, X86_ALU_CMP, SCRATCH, (int32_t)p->jump_table_len); /* cmp eax, J */
    jcc_back(c, X86_CC_AE, c->panic_label);
    table_jump(c, 2, 0); /* eax = i: entry i at [table + rax*4] */
}

JIT_INLINE void dynamic_jump(struct compiler *c, uint32_t pc)
{
    emit_store32_imm_disp(&c->b, CTXB, CTX(pc), pc);
    dispatch(c);
}

/*
 * Where a `ret` comes back to, right after the `call` of a call that wrote
 * ret_addr to ra. eax = the address the return jumped to, ctx.pc = the
 * return: if it is ret_addr, go on at its block, else dispatch in general.
 * next_pc: the block the code after the pad opens (UINT32_MAX: none), which
 * the pad falls through to.
 */
static void return_pad(struct compiler *c, uint64_t ret_addr, uint32_t next_pc)
{
    struct jit_buf *b = &c->b;
    uint32_t target;
    if (pvm_program_dynamic_jump(c->p, (uint32_t)ret_addr, &target) != PVM_DJUMP_TARGET) {
        jmp_back(c, c->djump_label);
        return;
    }
    emit_alu_ri(b, false, X86_ALU_CMP, SCRATCH, (int32_t)(uint32_t)ret_addr); /* cmp eax, R */
    jcc_back(c, X86_CC_NE, c->djump_label);
    if (target != next_pc)
        add_fixup(c, emit_jmp32(b), target);
}

/* A call to the block at target (a block start) writing ret_addr to ra
 * (already written): push a return frame if there is room. The call ends
 * its block: the code of next_pc, a new block, follows. */
static void call_direct(struct compiler *c, uint32_t target, uint64_t ret_addr, uint32_t next_pc)
{
    struct jit_buf *b = &c->b;
    emit_alu_rm(b, X86_ALU_CMP, X86_RSP, CTXB, CTX(return_limit)); /* cmp rsp, [limit] */
    add_fixup(c, emit_jcc32(b, X86_CC_BE), target);                /* full: plain jump */
    add_fixup(c, emit_call32(b), target);
    return_pad(c, ret_addr, next_pc);
}

/* A call through eax (computed before ra was written with ret_addr). */
static void call_indirect(struct compiler *c, uint32_t pc, uint64_t ret_addr)
{
    struct jit_buf *b = &c->b;
    emit_store32_imm_disp(b, CTXB, CTX(pc), pc);
    emit_alu_rm(b, X86_ALU_CMP, X86_RSP, CTXB, CTX(return_limit)); /* cmp rsp, [limit] */
    size_t full = emit_jcc32(b, X86_CC_BE);
    size_t call = emit_call32(b);
    return_pad(c, ret_addr, UINT32_MAX);
    jit_link32(b, full, b->off);
    jit_link32(b, call, b->off);
    dispatch(c);
}

/* A return through ra (eax = the address): always a `ret`. With no call
 * frame left it lands in emit_empty_return, which dispatches. */
static void return_jump(struct compiler *c, uint32_t pc)
{
    emit_store32_imm_disp(&c->b, CTXB, CTX(pc), pc);
    emit_ret(&c->b);
}

/* ---- Memory ------------------------------------------------------------ */
JIT_INLINE void addr_indirect(struct compiler *c, unsigned reg, uint64_t x)
{
    emit_lea(&c->b, false, SCRATCH, reg, (int32_t)x); /* lea eax, [reg+X] (wraps mod 2^32) */
}

/* The memory operand of an access at lo32(base + x) (base: an x86
 * register, or X86_GSBASE for the address lo32(x)). */
struct maddr {
    int base;
    int32_t disp;
};

JIT_INLINE struct maddr at_direct(uint64_t x)
{
    return (struct maddr){.base = X86_GSBASE, .disp = (int32_t)(uint32_t)x};
}

JIT_INLINE struct maddr at_indirect(unsigned reg, uint64_t x)
{
    return (struct maddr){.base = reg, .disp = (int32_t)(uint32_t)x};
}

JIT_INLINE void load(struct compiler *c, uint32_t pc, unsigned form, unsigned dst, struct maddr m)
{
    add_fault_site(c, pc);
    emit_load_m(&c->b, form, dst, m.base, m.disp);
}

JIT_INLINE void store(struct compiler *c, uint32_t pc, unsigned form, unsigned src, struct maddr m)
{
    add_fault_site(c, pc);
    emit_store_m(&c->b, form, src, m.base, m.disp);
}

JIT_INLINE void store_imm(struct compiler *c, uint32_t pc, unsigned width, uint64_t value,
                          struct maddr m)
{
    static const unsigned forms[9] = {[1] = X86_STORE_IMM_8,
                                      [2] = X86_STORE_IMM_16,
                                      [4] = X86_STORE_IMM_32,
                                      [8] = X86_STORE_IMM_64};
    add_fault_site(c, pc);
    emit_store_imm_m(&c->b, forms[width], m.base, m.disp, (int32_t)value, width < 4 ? width : 4);
}

static const unsigned load_forms[] = {
    [PVM_OP_load_u8 - PVM_OP_load_u8] = X86_LOAD_U8,
    [PVM_OP_load_i8 - PVM_OP_load_u8] = X86_LOAD_I8,
    [PVM_OP_load_u16 - PVM_OP_load_u8] = X86_LOAD_U16,
    [PVM_OP_load_i16 - PVM_OP_load_u8] = X86_LOAD_I16,
    [PVM_OP_load_u32 - PVM_OP_load_u8] = X86_LOAD_U32,
    [PVM_OP_load_i32 - PVM_OP_load_u8] = X86_LOAD_I32,
    [PVM_OP_load_u64 - PVM_OP_load_u8] = X86_LOAD_U64,
};
static const unsigned store_forms[] = {X86_STORE_8, X86_STORE_16, X86_STORE_32, X86_STORE_64};
static const unsigned store_widths[] = {1, 2, 4, 8};

/* ---- Arithmetic helpers ------------------------------------------------ */
/* D = sx32(eax) */
JIT_INLINE void sx32_to(struct compiler *c, unsigned d)
{
    emit_movsxd_rr(&c->b, d, SCRATCH); /* movsxd D, eax */
}

/* D = A op B, 64-bit, op in {add, sub, and, or, xor}. */
JIT_INLINE void alu3_64(struct compiler *c, enum x86_alu op, bool commutative, unsigned d,
                        unsigned a, unsigned bb)
{
    struct jit_buf *b = &c->b;
    if (d == a) {
        emit_alu_rr(b, true, op, d, bb);
    } else if (d == bb) {
        if (commutative) {
            emit_alu_rr(b, true, op, d, a);
        } else {
            emit_mov_rr(b, true, SCRATCH, a);
            emit_alu_rr(b, true, op, SCRATCH, bb);
            emit_mov_rr(b, true, d, SCRATCH);
        }
    } else if (op == X86_ALU_ADD) {
        x86_rm(b, XF_W | 0x8D, d, a, bb, 0, 0); /* lea D, [A+B] */
    } else {
        emit_mov_rr(b, true, d, a);
        emit_alu_rr(b, true, op, d, bb);
    }
}

/* D = sx32(lo32(A) op lo32(B)) */
JIT_INLINE void alu3_32(struct compiler *c, enum x86_alu op, unsigned d, unsigned a, unsigned bb)
{
    if (d == a) { /* in place: op D32, B32; movsxd D, D32 */
        emit_alu_rr(&c->b, false, op, d, bb);
        emit_movsxd_rr(&c->b, d, d);
        return;
    }
    emit_mov_rr(&c->b, false, SCRATCH, a); /* mov eax, A32 */
    emit_alu_rr(&c->b, false, op, SCRATCH, bb);
    sx32_to(c, d);
}

/* D = src op imm (64-bit, imm sign-extended). */
JIT_INLINE void alu_imm_64(struct compiler *c, enum x86_alu op, unsigned d, unsigned src,
                           uint64_t x)
{
    if (op == X86_ALU_AND && (x == 0xFF || x == 0xFFFF)) { /* the zero-extending moves */
        if (x == 0xFF)
            emit_movzx8_rr(&c->b, d, src);
        else
            emit_movzx16_rr(&c->b, d, src);
        return;
    }
    mov64(c, d, src);
    emit_alu_ri(&c->b, true, op, d, (int32_t)x);
}

/* D = (A cmp B/imm) ? 1 : 0. A D distinct from the operands is cleared
 * and set in place; otherwise the flag goes through rax. */
JIT_INLINE void set_cc_rr(struct compiler *c, enum x86_cc cc, unsigned d, unsigned a, unsigned bb)
{
    if (d != a && d != bb) {
        emit_alu_rr(&c->b, false, X86_ALU_XOR, d, d); /* xor D32, D32 (before cmp) */
        emit_alu_rr(&c->b, true, X86_ALU_CMP, a, bb);
        emit_setcc(&c->b, cc, d);
        return;
    }
    emit_alu_rr(&c->b, false, X86_ALU_XOR, SCRATCH, SCRATCH); /* xor eax, eax (before cmp) */
    emit_alu_rr(&c->b, true, X86_ALU_CMP, a, bb);
    emit_setcc(&c->b, cc, SCRATCH);
    emit_mov_rr(&c->b, true, d, SCRATCH);
}

JIT_INLINE void set_cc_ri(struct compiler *c, enum x86_cc cc, unsigned d, unsigned a, uint64_t x)
{
    if (d != a) {
        emit_alu_rr(&c->b, false, X86_ALU_XOR, d, d);
        emit_alu_ri(&c->b, true, X86_ALU_CMP, a, (int32_t)x);
        emit_setcc(&c->b, cc, d);
        return;
    }
    emit_alu_rr(&c->b, false, X86_ALU_XOR, SCRATCH, SCRATCH);
    emit_alu_ri(&c->b, true, X86_ALU_CMP, a, (int32_t)x);
    emit_setcc(&c->b, cc, SCRATCH);
    emit_mov_rr(&c->b, true, d, SCRATCH);
}

/*
 * D = value shifted/rotated by count (x86 masks cl to 5 or 6 bits, exactly
 * the PVM's "& 31" / "& 63"). The count must be in cl, whose PVM register
 * is parked in ctx.spill_rcx meanwhile:
 *   rax = value; [spill] = rcx; rcx = count; op rax, cl; rcx = [spill]; D = rax
 */
static void shift_var(struct compiler *c, bool w64, enum x86_shift op, bool value_is_imm,
                      unsigned value_reg, uint64_t value_imm, unsigned count_reg, unsigned d)
{
    struct jit_buf *b = &c->b;
    if (value_is_imm)
        emit_mov_ri(b, SCRATCH, w64 ? value_imm : (uint32_t)value_imm);
    else
        emit_mov_rr(b, w64, SCRATCH, value_reg);
    bool park = count_reg != X86_RCX;
    if (park) {
        emit_store_disp(b, X86_RCX, CTXB, CTX(spill_rcx));
        emit_mov_rr(b, false, X86_RCX, count_reg); /* mov ecx, count32 */
    }
    emit_shift_cl(b, w64, op, SCRATCH);
    if (park)
        emit_load_disp(b, X86_RCX, CTXB, CTX(spill_rcx));
    if (w64)
        emit_mov_rr(b, true, d, SCRATCH);
    else
        sx32_to(c, d);
}

/* D = shift(lo32/64 of src, constant count) */
JIT_INLINE void shift_imm(struct compiler *c, bool w64, enum x86_shift op, unsigned d, unsigned src,
                          uint64_t count)
{
    if (w64) {
        mov64(c, d, src);
        emit_shift_ri(&c->b, true, op, d, (uint8_t)(count & 63));
    } else if (op == X86_SH_SHR && (count & 31) != 0) {
        /* bit 31 of the result is 0: sign- and zero-extension agree */
        if (d != src)
            emit_mov_rr(&c->b, false, d, src);
        emit_shift_ri(&c->b, false, op, d, (uint8_t)(count & 31));
    } else if (d == src) {
        emit_shift_ri(&c->b, false, op, d, (uint8_t)(count & 31));
        emit_movsxd_rr(&c->b, d, d);
    } else {
        emit_mov_rr(&c->b, false, SCRATCH, src);
        emit_shift_ri(&c->b, false, op, SCRATCH, (uint8_t)(count & 31));
        sx32_to(c, d);
    }
}

/* Operand of a one-operand mul/div: the PVM register, or its parked copy if
 * it lives in rdx (which the instruction overwrites). */
static void grp3_operand(struct compiler *c, bool w64, enum x86_grp3 op, unsigned reg)
{
    if (reg == X86_RDX)
        emit_grp3_m(&c->b, w64, op, CTXB, CTX(spill_rdx));
    else
        emit_grp3_r(&c->b, w64, op, reg);
}

/*
 * Division and remainder (SPEC §9.13), guarding the two cases where x86
 * traps and the PVM does not:
 *   if (B == 0)                 D = rem ? A : ~0
 *   else if (signed && B == -1) D = rem ? 0 : -A      (also MIN / -1)
 *   else                        D = A / B or A % B    (div/idiv, rdx parked)
 * 32-bit forms work on lo32 and sign-extend the result.
 */
static void divrem(struct compiler *c, bool w64, bool is_signed, bool rem, unsigned d, unsigned a,
                   unsigned bb)
{
    struct jit_buf *b = &c->b;
    emit_test_rr(b, w64, bb, bb);
    size_t nonzero = emit_jcc32(b, X86_CC_NE);
    if (rem) {
        if (w64)
            mov64(c, d, a);
        else
            emit_movsxd_rr(b, d, a);
    } else {
        emit_mov_ri(b, d, UINT64_MAX);
    }
    size_t done1 = emit_jmp32(b);
    size_t done2 = SIZE_MAX;
    jit_link32(b, nonzero, b->off);
    if (is_signed) {
        emit_alu_ri(b, w64, X86_ALU_CMP, bb, -1);
        size_t general = emit_jcc32(b, X86_CC_NE);
        if (rem) {
            emit_mov_ri(b, d, 0);
        } else {
            emit_mov_rr(b, w64, SCRATCH, a);
            emit_grp3_r(b, w64, X86_G3_NEG, SCRATCH);
            if (w64)
                emit_mov_rr(b, true, d, SCRATCH);
            else
                sx32_to(c, d);
        }
        done2 = emit_jmp32(b);
        jit_link32(b, general, b->off);
    }
    emit_store_disp(b, X86_RDX, CTXB, CTX(spill_rdx)); /* park rdx */
    emit_mov_rr(b, w64, SCRATCH, a);
    if (is_signed) {
        if (w64)
            emit_cqo(b);
        else
            emit_cdq(b);
    } else {
        emit_alu_rr(b, false, X86_ALU_XOR, X86_RDX, X86_RDX); /* xor edx, edx */
    }
    grp3_operand(c, w64, is_signed ? X86_G3_IDIV : X86_G3_DIV, bb);
    if (rem)
        emit_mov_rr(b, true, SCRATCH, X86_RDX);
    emit_load_disp(b, X86_RDX, CTXB, CTX(spill_rdx)); /* unpark rdx */
    if (w64)
        emit_mov_rr(b, true, d, SCRATCH);
    else
        sx32_to(c, d);
    jit_link32(b, done1, b->off);
    if (done2 != SIZE_MAX)
        jit_link32(b, done2, b->off);
}

/*
 * High 64 bits of the 128-bit product (mul / imul, rdx parked):
 *   s_s: imul; u_u: mul; s_u: mul, then subtract B if A < 0.
 * s_s and u_u move the high half straight to D (D = r12 lives in rdx,
 * which then needs no unparking).
 */
static void mul_upper(struct compiler *c, int kind, unsigned d, unsigned a, unsigned bb)
{
    struct jit_buf *b = &c->b;
    emit_store_disp(b, X86_RDX, CTXB, CTX(spill_rdx));
    emit_mov_rr(b, true, SCRATCH, a);
    grp3_operand(c, true, kind == 0 ? X86_G3_IMUL : X86_G3_MUL, bb);
    if (kind != 2) {
        if (d != X86_RDX) {
            emit_mov_rr(b, true, d, X86_RDX);
            emit_load_disp(b, X86_RDX, CTXB, CTX(spill_rdx));
        }
        return;
    }
    emit_mov_rr(b, true, SCRATCH, X86_RDX);
    emit_load_disp(b, X86_RDX, CTXB, CTX(spill_rdx));
    if (kind == 2) {
        emit_test_rr(b, true, a, a);
        size_t skip = emit_jcc8(b, X86_CC_NS);
        emit_alu_rr(b, true, X86_ALU_SUB, SCRATCH, bb);
        jit_link8_here(b, skip);
    }
    emit_mov_rr(b, true, d, SCRATCH);
}

/* D = (cond on A vs B) ? B : A  — min/max; through rax unless D is
 * neither operand */
static void minmax(struct compiler *c, enum x86_cc take_b, unsigned d, unsigned a, unsigned bb)
{
    if (d != a && d != bb) {
        emit_mov_rr(&c->b, true, d, a);
        emit_alu_rr(&c->b, true, X86_ALU_CMP, a, bb);
        emit_cmovcc_rr(&c->b, take_b, d, bb);
        return;
    }
    emit_mov_rr(&c->b, true, SCRATCH, a);
    emit_alu_rr(&c->b, true, X86_ALU_CMP, a, bb);
    emit_cmovcc_rr(&c->b, take_b, SCRATCH, bb);
    emit_mov_rr(&c->b, true, d, SCRATCH);
}

/* bit counts with bsr/bsf (no lzcnt/tzcnt requirement) */
static void bitscan(struct compiler *c, bool w64, bool leading, unsigned d, unsigned a)
{
    struct jit_buf *b = &c->b;
    unsigned bits = w64 ? 64 : 32;
    if (leading) {
        emit_bsr_rr(b, w64, SCRATCH, a); /* index of the top set bit */
        size_t nz = emit_jcc8(b, X86_CC_NE);
        emit_mov_ri(b, SCRATCH, 2 * bits - 1); /* zero input: (2*bits-1) ^ (bits-1) = bits */
        jit_link8_here(b, nz);
        emit_alu_ri(b, false, X86_ALU_XOR, SCRATCH, (int32_t)(bits - 1)); /* clz = idx ^ (bits-1) */
    } else {
        emit_bsf_rr(b, w64, SCRATCH, a);
        size_t nz = emit_jcc8(b, X86_CC_NE);
        emit_mov_ri(b, SCRATCH, bits);
        jit_link8_here(b, nz);
    }
    emit_mov_rr(b, true, d, SCRATCH);
}

/* sbrk without leaving the code (guest platform; SPEC §9.9 as pvm.h says):
 * D = the break, which grows by A, or 0 (and no change) when there is no
 * heap (heap_top 0), A >= 2^32, or the new break passes ctx.heap_limit.
 * The new pages need no mapping here: the platform backs them on first
 * touch. rax is the only scratch; D is written last, so D == A is fine. */
static void sbrk_inline(struct compiler *c, unsigned d, unsigned a)
{
    struct jit_buf *b = &c->b;
    emit_alu64_mi32(b, X86_ALU_CMP, CTXB, CTX(heap_top), 0);
    size_t no_heap = emit_jcc8(b, X86_CC_E);
    emit_mov_rr(b, true, SCRATCH, a);
    emit_shift_ri(b, true, X86_SH_SHR, SCRATCH, 32);
    size_t too_big = emit_jcc8(b, X86_CC_NE);
    emit_mov_rr(b, false, SCRATCH, a); /* eax = A, zero-extended */
    emit_alu_rm(b, X86_ALU_ADD, SCRATCH, CTXB, CTX(heap_top));
    emit_alu_rm(b, X86_ALU_CMP, SCRATCH, CTXB, CTX(heap_limit));
    size_t past_limit = emit_jcc8(b, X86_CC_A);
    emit_load_disp(b, d, CTXB, CTX(heap_top));
    emit_store_disp(b, SCRATCH, CTXB, CTX(heap_top));
    size_t done = emit_jmp8(b);
    jit_link8_here(b, no_heap);
    jit_link8_here(b, too_big);
    jit_link8_here(b, past_limit);
    emit_alu_rr(b, false, X86_ALU_XOR, d, d);
    jit_link8_here(b, done);
}

/*
 * Peephole: `shlo_l_imm_64 T, S, k` (k = 1..3) followed by `add_64 T, T, O`
 * (or O + T) is T = O + (S << k): one `lea T, [O + S*2^k]`, the address
 * arithmetic of an indexed access (crc32's table look-up). Both values
 * are computed in 64 bits as the PVM does; the shifted T is overwritten
 * by the add, so nothing else can see it. The add is not a block start
 * (it follows a non-terminator), so no jump lands between the two; it
 * keeps its own pc and gas. A run entered at the add's pc (an arbitrary
 * entry) goes through a stub that does the add alone and jumps back
 * (STUB_FUSED_ENTRY). The shift's operands: t, s (x86 registers), x = k; next_pc the
 * add's. Returns false (nothing emitted) when the pair does not match.
 */
static bool shl_add_lea(struct compiler *c, uint64_t next_pc, unsigned t, unsigned s, uint64_t x)
{
    unsigned k = (unsigned)(x & 63);
    if (k < 1 || k > 3 || next_pc >= c->p->code_len)
        return false;
    struct pvm_insn next;
    jit_decode_insn(c->p, (uint32_t)next_pc, &next);
    unsigned rd = (unsigned)R(next.rd), ra = (unsigned)R(next.ra), rb = (unsigned)R(next.rb);
    if (next.opcode != PVM_OP_add_64 || rd != t || (ra == t) == (rb == t))
        return false;
    unsigned other = ra == t ? rb : ra;
    x86_rm(&c->b, XF_W | 0x8D, t, other, s, k, 0); /* lea T, [O + S*2^k] */
    c->fused_pc = (uint32_t)next.pc;
    add_stub(c, 0, c->fused_pc, STUB_FUSED_ENTRY);
    return true;
}

/* ---- One instruction --------------------------------------------------- */
static const int8_t branch_imm_cc[] = {
    [PVM_OP_branch_eq_imm - PVM_OP_branch_eq_imm] = X86_CC_E,
    [PVM_OP_branch_ne_imm - PVM_OP_branch_eq_imm] = X86_CC_NE,
    [PVM_OP_branch_lt_u_imm - PVM_OP_branch_eq_imm] = X86_CC_B,
    [PVM_OP_branch_le_u_imm - PVM_OP_branch_eq_imm] = X86_CC_BE,
    [PVM_OP_branch_ge_u_imm - PVM_OP_branch_eq_imm] = X86_CC_AE,
    [PVM_OP_branch_gt_u_imm - PVM_OP_branch_eq_imm] = X86_CC_A,
    [PVM_OP_branch_lt_s_imm - PVM_OP_branch_eq_imm] = X86_CC_L,
    [PVM_OP_branch_le_s_imm - PVM_OP_branch_eq_imm] = X86_CC_LE,
    [PVM_OP_branch_ge_s_imm - PVM_OP_branch_eq_imm] = X86_CC_GE,
    [PVM_OP_branch_gt_s_imm - PVM_OP_branch_eq_imm] = X86_CC_G,
};

static const int8_t branch_reg_cc[] = {
    [PVM_OP_branch_eq - PVM_OP_branch_eq] = X86_CC_E,
    [PVM_OP_branch_ne - PVM_OP_branch_eq] = X86_CC_NE,
    [PVM_OP_branch_lt_u - PVM_OP_branch_eq] = X86_CC_B,
    [PVM_OP_branch_lt_s - PVM_OP_branch_eq] = X86_CC_L,
    [PVM_OP_branch_ge_u - PVM_OP_branch_eq] = X86_CC_AE,
    [PVM_OP_branch_ge_s - PVM_OP_branch_eq] = X86_CC_GE,
};

/*
 * The code of the instruction at pc: opcode op (effective: trap where pc
 * is not an instruction start; PVM_OPCODE_INVALID, which executes as trap,
 * for a code byte the ISA does not define), skip l, code bytes at code
 * (see struct jit_ops). One switch on the opcode; each case decodes the
 * operands of its format itself, into registers.
 */
JIT_INLINE void compile_insn(struct compiler *c, uint32_t pc, uint8_t op, unsigned l,
                             const uint8_t *code, const struct pvm_insn *in)
{
/* The operands of the case's format: from in, the whole instruction the
 * pipeline gas model decoded anyway, else straight from the code bytes. */
#define OPERANDS(decode) (in != NULL ? jit_ops_of_insn(in, jit_reg_map) : (decode))
    struct jit_buf *b = &c->b;
    switch (op) {
    /* F0 */
    case PVM_OP_trap:
        exit_inline(c, pc, PVM_EXIT_PANIC);
        break;
    case PVM_OP_fallthrough:
    case PVM_OP_unlikely: /* a gas-model hint only */
        break;
    /* F1 */
    case PVM_OP_ecalli: {
        const struct jit_ops o = OPERANDS(jit_ops_imm(code, l));
        emit_store64_imm_disp(b, CTXB, CTX(arg), (int32_t)o.x); /* mov qword [ctx.arg], id */
        emit_store32_imm_disp(b, CTXB, CTX(pc), pc);            /* mov dword [ctx.pc], pc */
        size_t after = emit_lea_rip(b, SCRATCH);                /* lea rax, [rip+after] */
        emit_store_disp(b, SCRATCH, CTXB, CTX(entry_target));   /* mov [ctx.entry_target], rax */
        jmp_back(c, c->host_call_label);
        jit_link32(b, after, b->off);
        break;
    }
    /* F2 */
    case PVM_OP_load_imm_64: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_imm64(code, jit_reg_map));
        emit_mov_ri(b, o.a, o.x);
        break;
    }
    /* F3: mem[X] = Y */
    case PVM_OP_store_imm_u8:
    case PVM_OP_store_imm_u16:
    case PVM_OP_store_imm_u32:
    case PVM_OP_store_imm_u64: {
        const struct jit_ops o = OPERANDS(jit_ops_imm_imm(code, l));
        store_imm(c, pc, store_widths[op - PVM_OP_store_imm_u8], o.y, at_direct(o.x));
        break;
    }
    /* F4 */
    case PVM_OP_jump: {
        const struct jit_ops o = OPERANDS(jit_ops_offset(code, l, pc));
        branch(c, -1, o.target, pc);
        break;
    }
    /* F5 */
    case PVM_OP_jump_ind: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_imm(code, l, jit_reg_map));
        addr_indirect(c, o.a, o.x);
        if (o.a == R(PVM_REG_RA))
            return_jump(c, pc);
        else
            dynamic_jump(c, pc);
        break;
    }
    case PVM_OP_load_imm: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_imm(code, l, jit_reg_map));
        if (o.x == 0) /* the zeroing idiom: shorter, and no dependency */
            emit_alu_rr(b, false, X86_ALU_XOR, o.a, o.a);
        else
            emit_mov_ri(b, o.a, o.x);
        break;
    }
    case PVM_OP_load_u8:
    case PVM_OP_load_i8:
    case PVM_OP_load_u16:
    case PVM_OP_load_i16:
    case PVM_OP_load_u32:
    case PVM_OP_load_i32:
    case PVM_OP_load_u64: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_imm(code, l, jit_reg_map));
        load(c, pc, load_forms[op - PVM_OP_load_u8], o.a, at_direct(o.x));
        break;
    }
    case PVM_OP_store_u8:
    case PVM_OP_store_u16:
    case PVM_OP_store_u32:
    case PVM_OP_store_u64: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_imm(code, l, jit_reg_map));
        store(c, pc, store_forms[op - PVM_OP_store_u8], o.a, at_direct(o.x));
        break;
    }
    /* F6: mem[A + X] = Y */
    case PVM_OP_store_imm_ind_u8:
    case PVM_OP_store_imm_ind_u16:
    case PVM_OP_store_imm_ind_u32:
    case PVM_OP_store_imm_ind_u64: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_imm_imm(code, l, pc, jit_reg_map));
        store_imm(c, pc, store_widths[op - PVM_OP_store_imm_ind_u8], o.y, at_indirect(o.a, o.x));
        break;
    }
    /* F7 */
    case PVM_OP_load_imm_jump: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_imm_imm(code, l, pc, jit_reg_map));
        emit_mov_ri(b, o.a, o.x);
        if (o.a == R(PVM_REG_RA) && o.target >= 0 &&
            pvm_program_is_block_start(c->p, (uint64_t)o.target))
            call_direct(c, (uint32_t)o.target, o.x, pc + 1 + l);
        else
            branch(c, -1, o.target, pc);
        break;
    }
    case PVM_OP_branch_eq_imm:
    case PVM_OP_branch_ne_imm:
    case PVM_OP_branch_lt_u_imm:
    case PVM_OP_branch_le_u_imm:
    case PVM_OP_branch_ge_u_imm:
    case PVM_OP_branch_gt_u_imm:
    case PVM_OP_branch_lt_s_imm:
    case PVM_OP_branch_le_s_imm:
    case PVM_OP_branch_ge_s_imm:
    case PVM_OP_branch_gt_s_imm: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_imm_imm(code, l, pc, jit_reg_map));
        if (o.x == 0) /* the same flags as cmp A, 0 (CF = OF = 0) */
            emit_test_rr(b, true, o.a, o.a);
        else
            emit_alu_ri(b, true, X86_ALU_CMP, o.a, (int32_t)o.x); /* cmp A, simm32 */
        branch(c, branch_imm_cc[op - PVM_OP_branch_eq_imm], o.target, pc);
        break;
    }
    /* F8: D = f(A) */
    case PVM_OP_move_reg: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg(code, jit_reg_map));
        mov64(c, o.d, o.a);
        break;
    }
    case PVM_OP_sbrk: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg(code, jit_reg_map));
        if (c->opt->platform == JIT_PLATFORM_GUEST)
            sbrk_inline(c, o.d, o.a);
        else
            exit_inline(c, pc, JIT_EXIT_SBRK);
        break;
    }
    case PVM_OP_count_set_bits_64: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg(code, jit_reg_map));
        emit_popcnt_rr(b, true, o.d, o.a);
        break;
    }
    case PVM_OP_count_set_bits_32: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg(code, jit_reg_map));
        emit_popcnt_rr(b, false, o.d, o.a);
        break;
    }
    case PVM_OP_leading_zero_bits_64: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg(code, jit_reg_map));
        bitscan(c, true, true, o.d, o.a);
        break;
    }
    case PVM_OP_leading_zero_bits_32: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg(code, jit_reg_map));
        bitscan(c, false, true, o.d, o.a);
        break;
    }
    case PVM_OP_trailing_zero_bits_64: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg(code, jit_reg_map));
        bitscan(c, true, false, o.d, o.a);
        break;
    }
    case PVM_OP_trailing_zero_bits_32: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg(code, jit_reg_map));
        bitscan(c, false, false, o.d, o.a);
        break;
    }
    case PVM_OP_sign_extend_8: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg(code, jit_reg_map));
        emit_movsx8_rr(b, o.d, o.a);
        break;
    }
    case PVM_OP_sign_extend_16: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg(code, jit_reg_map));
        emit_movsx16_rr(b, o.d, o.a);
        break;
    }
    case PVM_OP_zero_extend_16: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg(code, jit_reg_map));
        emit_movzx16_rr(b, o.d, o.a);
        break;
    }
    case PVM_OP_reverse_bytes: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg(code, jit_reg_map));
        mov64(c, o.d, o.a);
        emit_bswap(b, o.d);
        break;
    }
    /* F9: memory at B + X */
    case PVM_OP_store_ind_u8:
    case PVM_OP_store_ind_u16:
    case PVM_OP_store_ind_u32:
    case PVM_OP_store_ind_u64: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_imm(code, l, pc, jit_reg_map));
        store(c, pc, store_forms[op - PVM_OP_store_ind_u8], o.a, at_indirect(o.b, o.x));
        break;
    }
    case PVM_OP_load_ind_u8:
    case PVM_OP_load_ind_i8:
    case PVM_OP_load_ind_u16:
    case PVM_OP_load_ind_i16:
    case PVM_OP_load_ind_u32:
    case PVM_OP_load_ind_i32:
    case PVM_OP_load_ind_u64: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_imm(code, l, pc, jit_reg_map));
        load(c, pc, load_forms[op - PVM_OP_load_ind_u8], o.a, at_indirect(o.b, o.x));
        break;
    }
    /* F9: A = f(B, X) */
    case PVM_OP_add_imm_32: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_imm(code, l, pc, jit_reg_map));
        emit_lea(b, false, SCRATCH, o.b, (int32_t)o.x);
        sx32_to(c, o.a);
        break;
    }
    case PVM_OP_and_imm: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_imm(code, l, pc, jit_reg_map));
        alu_imm_64(c, X86_ALU_AND, o.a, o.b, o.x);
        break;
    }
    case PVM_OP_xor_imm: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_imm(code, l, pc, jit_reg_map));
        alu_imm_64(c, X86_ALU_XOR, o.a, o.b, o.x);
        break;
    }
    case PVM_OP_or_imm: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_imm(code, l, pc, jit_reg_map));
        alu_imm_64(c, X86_ALU_OR, o.a, o.b, o.x);
        break;
    }
    case PVM_OP_mul_imm_32: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_imm(code, l, pc, jit_reg_map));
        emit_imul_rri(b, false, SCRATCH, o.b, (int32_t)o.x);
        sx32_to(c, o.a);
        break;
    }
    case PVM_OP_set_lt_u_imm: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_imm(code, l, pc, jit_reg_map));
        set_cc_ri(c, X86_CC_B, o.a, o.b, o.x);
        break;
    }
    case PVM_OP_set_lt_s_imm: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_imm(code, l, pc, jit_reg_map));
        set_cc_ri(c, X86_CC_L, o.a, o.b, o.x);
        break;
    }
    case PVM_OP_shlo_l_imm_32: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_imm(code, l, pc, jit_reg_map));
        shift_imm(c, false, X86_SH_SHL, o.a, o.b, o.x);
        break;
    }
    case PVM_OP_shlo_r_imm_32: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_imm(code, l, pc, jit_reg_map));
        shift_imm(c, false, X86_SH_SHR, o.a, o.b, o.x);
        break;
    }
    case PVM_OP_shar_r_imm_32: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_imm(code, l, pc, jit_reg_map));
        shift_imm(c, false, X86_SH_SAR, o.a, o.b, o.x);
        break;
    }
    case PVM_OP_neg_add_imm_32: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_imm(code, l, pc, jit_reg_map));
        emit_mov_ri(b, SCRATCH, (uint32_t)o.x);
        emit_alu_rr(b, false, X86_ALU_SUB, SCRATCH, o.b);
        sx32_to(c, o.a);
        break;
    }
    case PVM_OP_set_gt_u_imm: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_imm(code, l, pc, jit_reg_map));
        set_cc_ri(c, X86_CC_A, o.a, o.b, o.x);
        break;
    }
    case PVM_OP_set_gt_s_imm: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_imm(code, l, pc, jit_reg_map));
        set_cc_ri(c, X86_CC_G, o.a, o.b, o.x);
        break;
    }
    case PVM_OP_shlo_l_imm_alt_32: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_imm(code, l, pc, jit_reg_map));
        shift_var(c, false, X86_SH_SHL, true, 0, o.x, o.b, o.a);
        break;
    }
    case PVM_OP_shlo_r_imm_alt_32: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_imm(code, l, pc, jit_reg_map));
        shift_var(c, false, X86_SH_SHR, true, 0, o.x, o.b, o.a);
        break;
    }
    case PVM_OP_shar_r_imm_alt_32: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_imm(code, l, pc, jit_reg_map));
        shift_var(c, false, X86_SH_SAR, true, 0, o.x, o.b, o.a);
        break;
    }
    case PVM_OP_cmov_iz_imm:
    case PVM_OP_cmov_nz_imm: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_imm(code, l, pc, jit_reg_map));
        emit_mov_ri(b, SCRATCH, o.x);
        emit_test_rr(b, true, o.b, o.b);
        emit_cmovcc_rr(b, op == PVM_OP_cmov_iz_imm ? X86_CC_E : X86_CC_NE, o.a, SCRATCH);
        break;
    }
    case PVM_OP_add_imm_64: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_imm(code, l, pc, jit_reg_map));
        if (o.x == 0) /* a register move: mov is eliminated at rename, lea is not */
            mov64(c, o.a, o.b);
        else
            emit_lea(b, true, o.a, o.b, (int32_t)o.x);
        break;
    }
    case PVM_OP_mul_imm_64: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_imm(code, l, pc, jit_reg_map));
        emit_imul_rri(b, true, o.a, o.b, (int32_t)o.x);
        break;
    }
    case PVM_OP_shlo_l_imm_64: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_imm(code, l, pc, jit_reg_map));
        if (!shl_add_lea(c, pc + 1 + l, o.a, o.b, o.x))
            shift_imm(c, true, X86_SH_SHL, o.a, o.b, o.x);
        break;
    }
    case PVM_OP_shlo_r_imm_64: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_imm(code, l, pc, jit_reg_map));
        shift_imm(c, true, X86_SH_SHR, o.a, o.b, o.x);
        break;
    }
    case PVM_OP_shar_r_imm_64: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_imm(code, l, pc, jit_reg_map));
        shift_imm(c, true, X86_SH_SAR, o.a, o.b, o.x);
        break;
    }
    case PVM_OP_neg_add_imm_64: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_imm(code, l, pc, jit_reg_map));
        if (o.x == 0 && o.a == o.b) {
            emit_grp3_r(b, true, X86_G3_NEG, o.a); /* neg A */
        } else if (o.a != o.b) {
            emit_mov_ri(b, o.a, o.x); /* mov A, X; sub A, B */
            emit_alu_rr(b, true, X86_ALU_SUB, o.a, o.b);
        } else {
            emit_mov_ri(b, SCRATCH, o.x);
            emit_alu_rr(b, true, X86_ALU_SUB, SCRATCH, o.b);
            emit_mov_rr(b, true, o.a, SCRATCH);
        }
        break;
    }
    case PVM_OP_shlo_l_imm_alt_64: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_imm(code, l, pc, jit_reg_map));
        shift_var(c, true, X86_SH_SHL, true, 0, o.x, o.b, o.a);
        break;
    }
    case PVM_OP_shlo_r_imm_alt_64: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_imm(code, l, pc, jit_reg_map));
        shift_var(c, true, X86_SH_SHR, true, 0, o.x, o.b, o.a);
        break;
    }
    case PVM_OP_shar_r_imm_alt_64: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_imm(code, l, pc, jit_reg_map));
        shift_var(c, true, X86_SH_SAR, true, 0, o.x, o.b, o.a);
        break;
    }
    case PVM_OP_rot_r_64_imm: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_imm(code, l, pc, jit_reg_map));
        shift_imm(c, true, X86_SH_ROR, o.a, o.b, o.x);
        break;
    }
    case PVM_OP_rot_r_64_imm_alt: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_imm(code, l, pc, jit_reg_map));
        shift_var(c, true, X86_SH_ROR, true, 0, o.x, o.b, o.a);
        break;
    }
    case PVM_OP_rot_r_32_imm: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_imm(code, l, pc, jit_reg_map));
        shift_imm(c, false, X86_SH_ROR, o.a, o.b, o.x);
        break;
    }
    case PVM_OP_rot_r_32_imm_alt: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_imm(code, l, pc, jit_reg_map));
        shift_var(c, false, X86_SH_ROR, true, 0, o.x, o.b, o.a);
        break;
    }
    /* F10 */
    case PVM_OP_branch_eq:
    case PVM_OP_branch_ne:
    case PVM_OP_branch_lt_u:
    case PVM_OP_branch_lt_s:
    case PVM_OP_branch_ge_u:
    case PVM_OP_branch_ge_s: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_imm(code, l, pc, jit_reg_map));
        emit_alu_rr(b, true, X86_ALU_CMP, o.a, o.b); /* cmp A, B */
        branch(c, branch_reg_cc[op - PVM_OP_branch_eq], o.target, pc);
        break;
    }
    /* F11: a = lo32(B + Y) before A is written */
    case PVM_OP_load_imm_jump_ind: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_imm_imm(code, l, jit_reg_map));
        addr_indirect(c, o.b, o.y);
        emit_mov_ri(b, o.a, o.x);
        if (o.a == R(PVM_REG_RA))
            call_indirect(c, pc, o.x);
        else
            dynamic_jump(c, pc);
        break;
    }
    /* F12: D = f(A, B) */
    case PVM_OP_add_32: { /* lea D32, [A+B] is lo32(A + B); then sign-extend */
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_reg(code, jit_reg_map));
        x86_rm(b, 0x8D, o.d, o.a, o.b, 0, 0);
        emit_movsxd_rr(b, o.d, o.d);
        break;
    }
    case PVM_OP_sub_32: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_reg(code, jit_reg_map));
        alu3_32(c, X86_ALU_SUB, o.d, o.a, o.b);
        break;
    }
    case PVM_OP_mul_32: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_reg(code, jit_reg_map));
        emit_mov_rr(b, false, SCRATCH, o.a);
        emit_imul_rr(b, false, SCRATCH, o.b);
        sx32_to(c, o.d);
        break;
    }
    case PVM_OP_div_u_32: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_reg(code, jit_reg_map));
        divrem(c, false, false, false, o.d, o.a, o.b);
        break;
    }
    case PVM_OP_div_s_32: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_reg(code, jit_reg_map));
        divrem(c, false, true, false, o.d, o.a, o.b);
        break;
    }
    case PVM_OP_rem_u_32: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_reg(code, jit_reg_map));
        divrem(c, false, false, true, o.d, o.a, o.b);
        break;
    }
    case PVM_OP_rem_s_32: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_reg(code, jit_reg_map));
        divrem(c, false, true, true, o.d, o.a, o.b);
        break;
    }
    case PVM_OP_shlo_l_32: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_reg(code, jit_reg_map));
        shift_var(c, false, X86_SH_SHL, false, o.a, 0, o.b, o.d);
        break;
    }
    case PVM_OP_shlo_r_32: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_reg(code, jit_reg_map));
        shift_var(c, false, X86_SH_SHR, false, o.a, 0, o.b, o.d);
        break;
    }
    case PVM_OP_shar_r_32: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_reg(code, jit_reg_map));
        shift_var(c, false, X86_SH_SAR, false, o.a, 0, o.b, o.d);
        break;
    }
    case PVM_OP_add_64: {
        if (pc == c->fused_pc) /* emitted with the shift before (shl_add_lea) */
            break;
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_reg(code, jit_reg_map));
        alu3_64(c, X86_ALU_ADD, true, o.d, o.a, o.b);
        break;
    }
    case PVM_OP_sub_64: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_reg(code, jit_reg_map));
        alu3_64(c, X86_ALU_SUB, false, o.d, o.a, o.b);
        break;
    }
    case PVM_OP_mul_64: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_reg(code, jit_reg_map));
        if (o.d == o.a) {
            emit_imul_rr(b, true, o.d, o.b);
        } else if (o.d == o.b) {
            emit_imul_rr(b, true, o.d, o.a);
        } else {
            emit_mov_rr(b, true, o.d, o.a);
            emit_imul_rr(b, true, o.d, o.b);
        }
        break;
    }
    case PVM_OP_div_u_64: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_reg(code, jit_reg_map));
        divrem(c, true, false, false, o.d, o.a, o.b);
        break;
    }
    case PVM_OP_div_s_64: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_reg(code, jit_reg_map));
        divrem(c, true, true, false, o.d, o.a, o.b);
        break;
    }
    case PVM_OP_rem_u_64: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_reg(code, jit_reg_map));
        divrem(c, true, false, true, o.d, o.a, o.b);
        break;
    }
    case PVM_OP_rem_s_64: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_reg(code, jit_reg_map));
        divrem(c, true, true, true, o.d, o.a, o.b);
        break;
    }
    case PVM_OP_shlo_l_64: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_reg(code, jit_reg_map));
        shift_var(c, true, X86_SH_SHL, false, o.a, 0, o.b, o.d);
        break;
    }
    case PVM_OP_shlo_r_64: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_reg(code, jit_reg_map));
        shift_var(c, true, X86_SH_SHR, false, o.a, 0, o.b, o.d);
        break;
    }
    case PVM_OP_shar_r_64: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_reg(code, jit_reg_map));
        shift_var(c, true, X86_SH_SAR, false, o.a, 0, o.b, o.d);
        break;
    }
    case PVM_OP_and: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_reg(code, jit_reg_map));
        alu3_64(c, X86_ALU_AND, true, o.d, o.a, o.b);
        break;
    }
    case PVM_OP_xor: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_reg(code, jit_reg_map));
        alu3_64(c, X86_ALU_XOR, true, o.d, o.a, o.b);
        break;
    }
    case PVM_OP_or: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_reg(code, jit_reg_map));
        alu3_64(c, X86_ALU_OR, true, o.d, o.a, o.b);
        break;
    }
    case PVM_OP_mul_upper_s_s: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_reg(code, jit_reg_map));
        mul_upper(c, 0, o.d, o.a, o.b);
        break;
    }
    case PVM_OP_mul_upper_u_u: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_reg(code, jit_reg_map));
        mul_upper(c, 1, o.d, o.a, o.b);
        break;
    }
    case PVM_OP_mul_upper_s_u: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_reg(code, jit_reg_map));
        mul_upper(c, 2, o.d, o.a, o.b);
        break;
    }
    case PVM_OP_set_lt_u: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_reg(code, jit_reg_map));
        set_cc_rr(c, X86_CC_B, o.d, o.a, o.b);
        break;
    }
    case PVM_OP_set_lt_s: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_reg(code, jit_reg_map));
        set_cc_rr(c, X86_CC_L, o.d, o.a, o.b);
        break;
    }
    case PVM_OP_cmov_iz:
    case PVM_OP_cmov_nz: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_reg(code, jit_reg_map));
        emit_test_rr(b, true, o.b, o.b);
        emit_cmovcc_rr(b, op == PVM_OP_cmov_iz ? X86_CC_E : X86_CC_NE, o.d, o.a);
        break;
    }
    case PVM_OP_rot_l_64: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_reg(code, jit_reg_map));
        shift_var(c, true, X86_SH_ROL, false, o.a, 0, o.b, o.d);
        break;
    }
    case PVM_OP_rot_l_32: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_reg(code, jit_reg_map));
        shift_var(c, false, X86_SH_ROL, false, o.a, 0, o.b, o.d);
        break;
    }
    case PVM_OP_rot_r_64: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_reg(code, jit_reg_map));
        shift_var(c, true, X86_SH_ROR, false, o.a, 0, o.b, o.d);
        break;
    }
    case PVM_OP_rot_r_32: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_reg(code, jit_reg_map));
        shift_var(c, false, X86_SH_ROR, false, o.a, 0, o.b, o.d);
        break;
    }
    case PVM_OP_and_inv:
    case PVM_OP_or_inv: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_reg(code, jit_reg_map));
        /* D = A op ~B, in D itself when D is not A */
        int t = o.d != o.a ? o.d : SCRATCH;
        mov64(c, t, o.b);
        emit_grp3_r(b, true, X86_G3_NOT, t);
        emit_alu_rr(b, true, op == PVM_OP_and_inv ? X86_ALU_AND : X86_ALU_OR, t, o.a);
        mov64(c, o.d, t);
        break;
    }
    case PVM_OP_xnor: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_reg(code, jit_reg_map));
        int t = o.d != o.b ? o.d : SCRATCH;
        mov64(c, t, o.a);
        emit_alu_rr(b, true, X86_ALU_XOR, t, o.b);
        emit_grp3_r(b, true, X86_G3_NOT, t);
        mov64(c, o.d, t);
        break;
    }
    case PVM_OP_max: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_reg(code, jit_reg_map));
        minmax(c, X86_CC_L, o.d, o.a, o.b);
        break;
    }
    case PVM_OP_max_u: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_reg(code, jit_reg_map));
        minmax(c, X86_CC_B, o.d, o.a, o.b);
        break;
    }
    case PVM_OP_min: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_reg(code, jit_reg_map));
        minmax(c, X86_CC_G, o.d, o.a, o.b);
        break;
    }
    case PVM_OP_min_u: {
        const struct jit_ops o = OPERANDS(jit_ops_reg_reg_reg(code, jit_reg_map));
        minmax(c, X86_CC_A, o.d, o.a, o.b);
        break;
    }
    default:
        /* pvm_decode_insn maps every undefined opcode to trap; anything else
         * here is a table mismatch: trap rather than miscompile. */
        exit_inline(c, pc, PVM_EXIT_PANIC);
        break;
    }
#undef OPERANDS
}

/* ---- Driver ------------------------------------------------------------ */
size_t jit_code_size_bound(const struct pvm_program *p)
{
    /* Longest lowering (an indirect call through ra, with its pad and
     * dispatch; 3 code bytes at least) is < 140 bytes; a gas check 13; an
     * out-of-gas or panic stub 34. Entry/exit/dispatch/host call < 1024. */
    size_t insns = (size_t)p->code_len + 1;
    size_t table = p->jump_entry_size != 0 ? (size_t)p->jump_table_len * 4 + 4 : 0;
    return 1536 + insns * 160 + table;
}

static void compiler_free(struct compiler *c)
{
    c->alloc.free(c->alloc.ctx, c->insn_offset);
    c->alloc.free(c->alloc.ctx, c->block_head);
    c->alloc.free(c->alloc.ctx, c->stubs.data);
    c->alloc.free(c->alloc.ctx, c->fixups.data);
    c->alloc.free(c->alloc.ctx, c->sites.data);
    c->alloc.free(c->alloc.ctx, c->items.data);
    c->alloc.free(c->alloc.ctx, c->table_refs.data);
}

static bool is_gas_terminator(uint8_t op)
{
    return jit_op_ends_block[op];
}

/*
 * The walk over the code, one PVM instruction at a time, in pc order.
 * pipeline (c->pipeline, a constant in each of the two copies below): the
 * gas model needs each instruction whole (struct pvm_insn), and the
 * lowerings read their operands from it instead of decoding them again.
 */
JIT_INLINE void walk(struct compiler *c, bool pipeline)
{
    const struct pvm_program *p = c->p;
    uint32_t pc = 0;
    bool new_block = true;
    if (!room(c, JIT_INSN_ROOM))
        return;
    /* room(c, JIT_INSN_ROOM) as one compare: b.off <= last */
    const size_t last = c->b.size - JIT_INSN_ROOM;
    struct jit_tail tail;
    jit_tail_init(&tail, p);
    /* In locals: the compiler cannot tell that the stores of the walk
     * (code bytes as 32-bit words, uint32_t tables) leave them alone. */
    const uint32_t code_len = p->code_len;
    const uint8_t *const code_bytes = p->code, *const bitmask = p->bitmask;
    const uint8_t *const opcode_of = p->isa->opcode_of;
    for (;;) {
        if (c->b.off > last) {
            c->no_room = true;
            return;
        }
        uint8_t op;
        unsigned l;
        const uint8_t *code;
        struct pvm_insn in; /* for the pipeline model only */
        /* one test on the common path: away from the end of the code */
        if ((uint64_t)pc + JIT_DECODE_MARGIN < code_len) {
            l = jit_head(bitmask, code_bytes, opcode_of, pc, &op);
            code = code_bytes + pc;
            if (pipeline)
                jit_insn_of_head(pc, op, l, code, &in);
        } else if (pc < code_len) {
            /* the last instructions: the same decoder on the padded copy */
            l = jit_head(tail.bitmask, tail.code, opcode_of, pc - tail.base, &op);
            code = tail.code + (pc - tail.base);
            if (pipeline)
                jit_insn_of_head(pc, op, l, code, &in);
        } else {
            /* The implicit trap at pc = C (always reached exactly, SPEC §5):
             * its own block costs the version's end cost; at the end of a
             * longer block it is that block's last instruction. */
            if (new_block) {
                open_block(c, p->code_len);
                c->block_cost = p->isa->end_block_cost;
            } else if (pipeline) {
                struct pvm_gas_item *item = next_item(c);
                if (item != NULL)
                    pvm_gas_item_trap(item);
            } else {
                c->block_cost += jit_op_gas[PVM_OP_trap];
            }
            c->insn_offset[p->code_len] = (uint32_t)c->b.off;
            exit_inline(c, p->code_len, PVM_EXIT_PANIC);
            close_block(c);
            return;
        }
        if (new_block)
            open_block(c, pc);
        c->insn_offset[pc] = (uint32_t)c->b.off;
        if (pipeline) {
            struct pvm_gas_item *item = next_item(c);
            if (item != NULL)
                pvm_gas_item_of(p, &in, item);
        } else {
            c->block_cost += jit_op_gas[op];
        }
        compile_insn(c, pc, op, l, code, pipeline ? &in : NULL);
        new_block = is_gas_terminator(op);
        if (new_block) {
            close_block(c);
            /* Checked once per block: until then a failed push only drops
             * its entry, and offsets past INT32_MAX only fail the compile. */
            if (c->nomem || c->b.off > (size_t)INT32_MAX)
                return;
        }
        pc += 1 + l;
    }
}

static __attribute__((noinline)) void walk_per_insn_gas(struct compiler *c)
{
    walk(c, false);
}

static __attribute__((noinline)) void walk_pipeline_gas(struct compiler *c)
{
    walk(c, true);
}

static void emit_body(struct compiler *c)
{
    if (c->pipeline)
        walk_pipeline_gas(c);
    else
        walk_per_insn_gas(c);
}

static void emit_stubs(struct compiler *c)
{
    struct jit_buf *b = &c->b;
    struct stub *stubs = c->stubs.data;
    for (size_t i = 0; i < c->stubs.count; i++) {
        if (!room(c, JIT_STUB_ROOM))
            return;
        struct stub *s = &stubs[i];
        if (s->kind == STUB_FUSED_ENTRY) {
            /* the entry at the second instruction of a fused pair: the
             * add_64 alone, then the code after the pair */
            struct pvm_insn in;
            jit_decode_insn(c->p, s->pc, &in);
            size_t after = c->insn_offset[s->pc];
            c->insn_offset[s->pc] = (uint32_t)b->off;
            alu3_64(c, X86_ALU_ADD, true, (unsigned)R(in.rd), (unsigned)R(in.ra),
                    (unsigned)R(in.rb));
            jmp_back(c, after);
            continue;
        }
        jit_link32(b, s->site, b->off);
        if (s->kind == STUB_OUT_OF_GAS) {
            /* refund the block: out-of-gas leaves gas unchanged (SPEC §7.2) */
            emit_alu_ri32(b, X86_ALU_ADD, GAS, s->cost); /* add r15, cost */
            emit_store32_imm_disp(b, CTXB, CTX(pc), s->pc);
            emit_store32_imm_disp(b, CTXB, CTX(reason), PVM_EXIT_OUT_OF_GAS);
            jmp_back(c, c->exit_label);
        } else {
            emit_store32_imm_disp(b, CTXB, CTX(pc), s->pc);
            jmp_back(c, c->panic_label);
        }
    }
}

static bool block_entry(const struct compiler *c, uint32_t pc, size_t *off_out)
{
    /* block heads are walk positions, whose insn_offset entries are set */
    if (pc > c->p->code_len || !((c->block_head[pc >> 3] >> (pc & 7)) & 1))
        return false;
    *off_out = c->insn_offset[pc] - JIT_GAS_CHECK_SIZE;
    return true;
}

static bool resolve_fixups(struct compiler *c)
{
    struct fixup *f = c->fixups.data;
    for (size_t i = 0; i < c->fixups.count; i++) {
        size_t target;
        if (!block_entry(c, f[i].target_pc, &target))
            return false;
        jit_link32(&c->b, f[i].site, target);
    }
    return true;
}

/* The native dynamic-jump table: entry i = (native target of address 2(i+1)) - table. */
static bool emit_jump_table(struct compiler *c)
{
    struct jit_buf *b = &c->b;
    const struct pvm_program *p = c->p;
    if (c->table_refs.count == 0)
        return true;
    if (!room(c, 3 + (size_t)p->jump_table_len * 4 + JIT_EMIT_SLACK))
        return false;
    while (b->off & 3)
        emit_int3(b);
    size_t table = b->off;
    for (size_t i = 0; i < c->table_refs.count; i++)
        jit_link32(b, ((uint32_t *)c->table_refs.data)[i], table);
    for (uint64_t i = 0; i < p->jump_table_len; i++) {
        uint32_t target;
        size_t native = c->panic_label;
        if (pvm_program_dynamic_jump(p, (uint32_t)(2 * (i + 1)), &target) == PVM_DJUMP_TARGET &&
            !block_entry(c, target, &native))
            return false;
        emit4(b, (uint32_t)((int64_t)native - (int64_t)table));
        if (b->off > (size_t)INT32_MAX)
            return true; /* reported as too large by the caller */
    }
    return true;
}

int jit_compile(const struct pvm_program *program, const struct jit_options *options,
                const struct pvm_allocator *allocator, uint8_t *buf, size_t buf_size,
                struct jit_code *out, size_t *needed_out)
{
    if (program == NULL || options == NULL || allocator == NULL || allocator->alloc == NULL ||
        allocator->free == NULL || out == NULL || (buf == NULL && buf_size != 0))
        return PVM_ERR_INVALID_ARGUMENT;
    pvm_memset(out, 0, sizeof(*out));
    struct compiler c;
    pvm_memset(&c, 0, sizeof(c));
    c.b = (struct jit_buf){.code = buf, .size = buf_size, .off = 0};
    c.p = program;
    c.opt = options;
    c.alloc = *allocator;
    c.table_refs.elem = sizeof(uint32_t);
    c.stubs.elem = sizeof(struct stub);
    c.fixups.elem = sizeof(struct fixup);
    c.sites.elem = sizeof(struct jit_fault_site);
    c.items.elem = sizeof(struct pvm_gas_item);
    /* Stubs (about one per block), fixups and fault sites each come to
     * fewer than one per 8 code bytes in the kernels and real programs
     * (3-4 bytes an instruction): sized so, they rarely grow (each growth
     * is an allocation and a copy). */
    size_t per_code = 64 + program->code_len / 8;
    c.stubs.first_cap = c.fixups.first_cap = c.sites.first_cap = per_code;
    c.table_refs.first_cap = c.items.first_cap = 64;
    c.pipeline = program->isa->gas_model == PVM_GAS_PIPELINE;
    c.fused_pc = UINT32_MAX;

    size_t n = (size_t)program->code_len + 1;
    c.insn_offset = allocator->alloc(allocator->ctx, n * sizeof(uint32_t));
    c.block_head = allocator->alloc(allocator->ctx, n / 8 + 1);
    if (c.insn_offset == NULL || c.block_head == NULL) {
        compiler_free(&c);
        return PVM_ERR_NOMEM;
    }
    /* insn_offset is not initialised: the walk writes every entry anyone
     * reads (see jit.h), and clearing it would cost ~10% of the compile. */
    pvm_memset(c.block_head, 0, n / 8 + 1);

    /* The emitters store without bounds tests (JIT_EMIT_ROOM_CHECKED), so
     * the compile needs a buffer of jit_code_size_bound bytes. A smaller
     * one (a caller asking how much it needs) gets the code compiled into
     * a scratch buffer of that size, then copied if it fits. */
    size_t bound = jit_code_size_bound(program);
    uint8_t *scratch = NULL;
    if (buf_size < bound) {
        scratch = allocator->alloc(allocator->ctx, bound);
        if (scratch == NULL) {
            compiler_free(&c);
            return PVM_ERR_NOMEM;
        }
        c.b = (struct jit_buf){.code = scratch, .size = bound, .off = 0};
    }

    size_t entry = 0;
    if (room(&c, JIT_HEAD_ROOM)) {
        /* int3 padding before the entry: callers' CFI/UBSan function-type
         * checks read the bytes just before a function pointer's target. */
        for (int i = 0; i < 16; i++)
            emit_int3(&c.b);
        entry = c.b.off;
        emit_entry(&c);
        emit_shared_exits(&c);
        emit_body(&c);
        emit_stubs(&c);
    }
    bool ok = !c.nomem && !c.no_room && resolve_fixups(&c) && emit_jump_table(&c);
    if (needed_out != NULL)
        *needed_out = c.b.off;
    int err = PVM_OK;
    if (c.nomem)
        err = PVM_ERR_NOMEM;
    else if (c.b.off > (size_t)INT32_MAX || c.too_large)
        err = JIT_ERR_TOO_LARGE;
    else if (!ok)
        err = JIT_ERR_INTERNAL;
    else if (c.b.off > buf_size)
        err = JIT_ERR_BUFFER_TOO_SMALL;
    else if (scratch != NULL)
        pvm_memcpy(buf, scratch, c.b.off);
    c.alloc.free(c.alloc.ctx, scratch);
    if (err != PVM_OK) {
        compiler_free(&c);
        return err;
    }
    out->program = program;
    out->code_size = c.b.off;
    out->entry_offset = (uint32_t)entry;
    out->exit_offset = (uint32_t)c.exit_label;
    out->exit_trap_offset = (uint32_t)c.exit_trap_label;
    out->insn_offset = c.insn_offset;
    out->fault_sites = c.sites.data;
    out->fault_site_count = (uint32_t)c.sites.count;
    out->allocator = *allocator;
    c.alloc.free(c.alloc.ctx, c.block_head);
    c.alloc.free(c.alloc.ctx, c.stubs.data);
    c.alloc.free(c.alloc.ctx, c.fixups.data);
    c.alloc.free(c.alloc.ctx, c.items.data);
    c.alloc.free(c.alloc.ctx, c.table_refs.data);
    return PVM_OK;
}

void jit_code_release(struct jit_code *code)
{
    if (code == NULL || code->allocator.free == NULL)
        return;
    code->allocator.free(code->allocator.ctx, code->insn_offset);
    code->allocator.free(code->allocator.ctx, code->fault_sites);
    code->insn_offset = NULL;
    code->fault_sites = NULL;
}

const char *jit_error_name(int error)
{
    switch (error) {
    case JIT_ERR_BUFFER_TOO_SMALL:
        return "JIT code buffer too small";
    case JIT_ERR_TOO_LARGE:
        return "program too large for the JIT";
    case JIT_ERR_INTERNAL:
        return "JIT internal error";
    default:
        return pvm_error_name(error);
    }
}

bool jit_block_charge(const struct jit_code *code, const uint8_t *code_bytes, uint32_t pc,
                      uint32_t *cost_out)
{
    const struct pvm_program *p = code->program;
    /* Block starts and pc 0 are walk positions where a block opens. */
    if (pc != 0 && !pvm_program_is_block_start(p, pc))
        return false;
    uint32_t at = code->insn_offset[pc];
    if (at < JIT_GAS_CHECK_SIZE)
        return false;
    const uint8_t *check = code_bytes + at - JIT_GAS_CHECK_SIZE;
    /* REX.W+B 81 /5 imm32 (sub r15, imm32); 0F 8C rel32 */
    if (check[0] != 0x49 || check[1] != 0x81 || check[2] != 0xEF || check[7] != 0x0F ||
        check[8] != 0x8C)
        return false;
    *cost_out = (uint32_t)pvm_load_le(check + 3, 4);
    return true;
}
