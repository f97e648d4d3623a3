/*
 * jit_exits.c — the platform-specific code around the compiled body: the
 * entry, the common exit and the shared exits every block jumps to (halt,
 * panic, out of gas, host call, the dynamic-jump dispatcher, the empty
 * return). Each is emitted once per compile, before the body (see
 * jit_compile.c for the layout of the generated code).
 */
#include "jit_compiler.h"

/* ---- Entry and exit sequences (the platform-specific part) ------------- */
static JIT_CURSOR uint8_t *emit_load_pvm_regs(uint8_t *p)
{
    for (unsigned i = 0; i < PVM_NUM_REGS; i++)
        p = emit_load_disp(p, R(i), CTXB, CTX(regs) + (int32_t)(8 * i)); /* mov rI, [ctx.regs+8i] */
    return emit_load_disp(p, GAS, CTXB, CTX(gas));                       /* mov r15, [ctx.gas] */
}

static JIT_CURSOR uint8_t *emit_store_pvm_regs(uint8_t *p)
{
    for (unsigned i = 0; i < PVM_NUM_REGS; i++)
        p = emit_store_disp(p, R(i), CTXB,
                            CTX(regs) + (int32_t)(8 * i)); /* mov [ctx.regs+8i], rI */
    return emit_store_disp(p, GAS, CTXB, CTX(gas));        /* mov [ctx.gas], r15 */
}

/* Callee-saved registers of the SysV ABI that the PVM code overwrites. */
static const int8_t hosted_saved[] = {X86_RBX, X86_RBP, X86_R12, X86_R13, X86_R14, X86_R15};

void jit_emit_entry(struct compiler *c)
{
    uint8_t *p = cursor(c);
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
            p = emit_push(p, hosted_saved[i]);
        p = emit_push(p, X86_RDI);
        p = emit_store_disp(p, X86_RSP, CTXB, CTX(host_rsp)); /* mov [ctx.host_rsp], rsp */
    } else {
        p = emit_load_disp(p, X86_RSP, CTXB, CTX(host_rsp)); /* mov rsp, [ctx.host_rsp] */
    }
    /* the return stack: rsp drops to a multiple of JIT_RETURN_STACK_BYTES;
     * the frames fill the region below, full when rsp is at the next
     * multiple down */
    p = emit_alu_ri(p, true, X86_ALU_AND, X86_RSP,
                    -(int32_t)JIT_RETURN_STACK_BYTES); /* and rsp, -size */
    /* The bottom frame: a `ret` with no call's frame above it returns here
     * (see emit_empty_return), so a return needs no check of its own. */
    p = emit_lea_rip(p, SCRATCH); /* lea rax, [rip+empty_return] */
    c->empty_return_site = code_off(c, p) - 4;
    p = emit_push(p, SCRATCH);
    p = emit_load_pvm_regs(p);
    p = emit_jmp_m(p, CTXB, CTX(entry_target)); /* jmp [ctx.entry_target] */
    set_cursor(c, p);
}

static JIT_CURSOR uint8_t *emit_exit_common(struct compiler *c, uint8_t *p)
{
    c->exit_label = code_off(c, p);
    p = emit_store_pvm_regs(p);
    c->exit_trap_label = code_off(c, p);
    if (c->opt->platform == JIT_PLATFORM_HOSTED) {
        p = emit_load_disp(p, X86_RSP, CTXB, CTX(host_rsp)); /* mov rsp, [ctx.host_rsp] */
        p = emit_pop(p, SCRATCH);                            /* the pushed ctx */
        for (size_t i = sizeof(hosted_saved); i-- > 0;)
            p = emit_pop(p, hosted_saved[i]);
        p = emit_ret(p);
    } else {
        p = emit_int(p, c->opt->guest_exit_vector);
        p = emit_ud2(p); /* the kernel re-enters through the entry stub, never here */
    }
    return p;
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
static JIT_CURSOR uint8_t *emit_host_call(struct compiler *c, uint8_t *p)
{
    c->host_call_label = code_off(c, p);
    p = emit_store32_imm_disp(p, CTXB, CTX(reason), PVM_EXIT_HOST_CALL);
    p = emit_cmp64_mi8(p, CTXB, CTX(host_call), 0); /* cmp qword [ctx.host_call], 0 */
    p = jcc_back(c, p, X86_CC_E, c->exit_label);
    p = emit_store_pvm_regs(p);
    if (c->opt->platform == JIT_PLATFORM_HOSTED) {
        /* The entry pushed ctx last: [host_rsp] = ctx. Return frames may be
         * below host_rsp: the handler's stack starts under them, aligned
         * for the call; rsp is kept in the spill slot of rdx, which is free
         * outside div/mul (the handler does not touch it). */
        p = emit_load_disp(p, X86_RDI, CTXB, CTX(host_rsp));          /* mov rdi, [ctx.host_rsp] */
        p = x86_rm(p, XF_W | 0x8B, X86_RDI, X86_RDI, X86_NONE, 0, 0); /* mov rdi, [rdi] */
        p = emit_store_disp(p, X86_RSP, CTXB, CTX(spill_rdx));        /* mov [ctx.spill_rdx], rsp */
        p = emit_alu_ri(p, true, X86_ALU_AND, X86_RSP, -16);          /* and rsp, -16 */
        p = emit_call_m(p, CTXB, CTX(host_call));                     /* call [ctx.host_call] */
        p = emit_load_disp(p, X86_RSP, CTXB, CTX(spill_rdx));         /* mov rsp, [ctx.spill_rdx] */
    } else {
        p = emit_mov_ri(p, X86_RDX, c->opt->guest_host_call_port); /* mov edx, port */
        p = emit_out_dx_eax(p);                                    /* out dx, eax */
    }
    p = emit_cmp32_mi(p, CTXB, CTX(reason), JIT_EXIT_HOST_RESUME);
    p = jcc_back(c, p, X86_CC_NE, c->exit_trap_label);
    p = emit_store64_imm_disp(p, CTXB, CTX(arg), 0); /* only host calls and page faults set it */
    p = emit_load_pvm_regs(p);
    return emit_jmp_m(p, CTXB, CTX(entry_target)); /* jmp [ctx.entry_target] */
}

/* Jumps to the jump-table entry that rax selects, at [table +
 * (rax << scale_log2) + disp] (an int32 offset from the table); rcx is
 * parked meanwhile. */
JIT_CURSOR uint8_t *jit_table_jump(struct compiler *c, uint8_t *p, unsigned scale_log2,
                                   int32_t disp)
{
    p = emit_store_disp(p, X86_RCX, CTXB, CTX(spill_rcx)); /* mov [ctx.spill_rcx], rcx */
    p = emit_lea_rip(p, X86_RCX);                          /* lea rcx, [rip+table] */
    add_table_ref(c, code_off(c, p) - 4);
    p = x86_rm(p, XF_W | 0x63, SCRATCH, X86_RCX, SCRATCH, scale_log2,
               disp);                                        /* movsxd rax, [rcx+rax*s+d] */
    p = emit_alu_rr(p, true, X86_ALU_ADD, SCRATCH, X86_RCX); /* add rax, rcx */
    p = emit_load_disp(p, X86_RCX, CTXB, CTX(spill_rcx));    /* mov rcx, [ctx.spill_rcx] */
    return emit_jmp_r(p, SCRATCH);                           /* jmp rax */
}

/*
 * Dynamic jump dispatcher. In: eax = lo32 address, ctx.pc = the jumping
 * instruction. SPEC §6.3:
 *   if (a == 0xFFFF0000) halt;
 *   if (a == 0 || a odd || a > 2J) panic;
 *   goto native_table[a/2 - 1];   (entries for non-block-start targets -> panic)
 */
static JIT_CURSOR uint8_t *emit_djump(struct compiler *c, uint8_t *p)
{
    const struct pvm_program *prog = c->p;
    c->djump_label = code_off(c, p);
    p = emit_alu_ri(p, false, X86_ALU_CMP, SCRATCH,
                    (int32_t)PVM_HALT_ADDRESS); /* cmp eax, 0xFFFF0000 */
    p = jcc_back(c, p, X86_CC_E, c->halt_label);
    p = emit_test_ri(p, false, SCRATCH, 1); /* test eax, 1 */
    p = jcc_back(c, p, X86_CC_NE, c->panic_label);
    p = emit_test_rr(p, false, SCRATCH, SCRATCH); /* test eax, eax */
    p = jcc_back(c, p, X86_CC_E, c->panic_label);
    uint64_t limit = prog->jump_table_len * 2;
    if (prog->jump_table_len < ((uint64_t)1 << 31)) {
        p = emit_alu_ri(p, false, X86_ALU_CMP, SCRATCH, (int32_t)(uint32_t)limit); /* cmp eax, 2J */
        p = jcc_back(c, p, X86_CC_A, c->panic_label);
    }
    if (prog->jump_table_len == 0)
        return jmp_back(c, p, c->panic_label);
    if (prog->jump_entry_size == 0) {
        /* Every entry is 0: one target for every valid address. */
        uint32_t target;
        if (pvm_program_dynamic_jump(prog, 2, &target) != PVM_DJUMP_TARGET)
            return jmp_back(c, p, c->panic_label);
        p = emit_jmp32(p);
        add_fixup(c, code_off(c, p) - 4, target);
        return p;
    }
    return jit_table_jump(c, p, 1, -4); /* eax = 2(i + 1): entry i at [table + rax*2 - 4] */
}

/*
 * A `ret` that took the entry's bottom frame (a return with no call frame
 * left: rsp = host_rsp again; eax = the address, ctx.pc = the return): put
 * the frame back for the next one and dispatch in general. rcx is parked
 * while it carries the frame's address.
 */
static JIT_CURSOR uint8_t *emit_empty_return(struct compiler *c, uint8_t *p)
{
    uint8_t *here = p;
    c->empty_return_label = code_off(c, p);
    jit_link32_at(c->b.code + c->empty_return_site, here);
    p = emit_store_disp(p, X86_RCX, CTXB, CTX(spill_rcx)); /* mov [spill], rcx */
    p = emit_lea_rip(p, X86_RCX);                          /* lea rcx, [rip+here] */
    jit_link32_at(p - 4, here);
    p = emit_push(p, X86_RCX);
    p = emit_load_disp(p, X86_RCX, CTXB, CTX(spill_rcx)); /* mov rcx, [spill] */
    return jmp_back(c, p, c->djump_label);
}

void jit_emit_shared_exits(struct compiler *c)
{
    uint8_t *p = emit_exit_common(c, cursor(c));
    c->halt_label = code_off(c, p);
    p = emit_store32_imm_disp(p, CTXB, CTX(reason), PVM_EXIT_HALT);
    p = jmp_back(c, p, c->exit_label);
    c->panic_label = code_off(c, p);
    p = emit_store32_imm_disp(p, CTXB, CTX(reason), PVM_EXIT_PANIC);
    p = jmp_back(c, p, c->exit_label);
    /* A block's out-of-gas stub: rax = its cost << 32 | its pc. The cost
     * goes back to the gas (an out-of-gas run leaves gas unchanged, SPEC
     * §7.2) and the run stops at the block. */
    c->out_of_gas_label = code_off(c, p);
    p = x86_rm(p, 0x89, SCRATCH, CTXB, X86_NONE, 0, CTX(pc)); /* mov [ctx.pc], eax */
    p = emit_shift_ri(p, true, X86_SH_SHR, SCRATCH, 32);      /* shr rax, 32 */
    p = emit_alu_rr(p, true, X86_ALU_ADD, GAS, SCRATCH);      /* add r15, rax */
    p = emit_store32_imm_disp(p, CTXB, CTX(reason), PVM_EXIT_OUT_OF_GAS);
    p = jmp_back(c, p, c->exit_label);
    p = emit_djump(c, p);
    p = emit_empty_return(c, p);
    p = emit_host_call(c, p);
    set_cursor(c, p);
}
