/*
 * jit_exits.c — the platform-specific code around the compiled body: the
 * entry, the common exit and the shared exits every block jumps to (halt,
 * panic, host call, the dynamic-jump dispatcher, the empty return). Each
 * is emitted once per compile, before the body (see jit_compile.c for the
 * layout of the generated code).
 */
#include "jit_compiler.h"

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

void jit_emit_entry(struct compiler *c)
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
void jit_table_jump(struct compiler *c, unsigned scale_log2, int32_t disp)
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
        jit_table_jump(c, 1, -4); /* eax = 2(i + 1): entry i at [table + rax*2 - 4] */
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

void jit_emit_shared_exits(struct compiler *c)
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
