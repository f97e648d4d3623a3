/*
 * run_trap.c — entering a run's ring-3 code and the traps that end it: the
 * platform side of jit_run, and the ring-0 handler for everything the fast
 * paths of ring3.S do not take (first touch of a declared page, JIT memory
 * faults, unexpected faults).
 */
#include "invoke.h"

#include "kernel.h"
#include "kstring.h"
#include "page_pool.h"
#include "run.h"
#include "serial.h"
#include "x86.h"

/* The run in progress (one vCPU, one run at a time), for the trap handler. */
static struct run *current_run;
struct nub_run_gate nub_run_gate;

/* Internal exit reason: the #PF handler found the page pool empty. The
 * service refills it and re-enters at the same instruction (nothing of it
 * ran: memory accesses fault before they change a register). */
#define RUN_EXIT_NEED_PAGES 0x200u

/* ---- demand paging ------------------------------------------------------ */
/* Whether PVM page `page` is below sbrk's break (read-write on demand). */
static int in_heap(const struct run *r, uint32_t page)
{
    return r->heap_base != 0 && page >= r->heap_base && page < r->ctx->heap_top;
}

/* Ring 3: at least `pages` free pool pages, evicting other instances' kept
 * spaces and compiled images if the heap is short. 0 if none at all. */
static int refill_pool(struct run *r, uint32_t pages)
{
    while (nub_page_pool_reserve(pages) == 0)
        if (!nub_invoke_evict_space() && !nub_jit_cache_evict(r->jit))
            return 0;
    return 1;
}

/* Ring 3, after each exit: the tables declare the heap up to the break, so
 * readbacks and the host (host/pvm_guest_mem.c) see sbrk'd pages as the
 * program does. Logged: undone after the call. */
static void declare_heap(struct run *r)
{
    uint64_t top = (r->ctx->heap_top + UINT64_C(4095)) & ~UINT64_C(4095);
    if (r->heap_base == 0 || top <= r->heap_declared)
        return;
    if (nub_uspace_declare(r->space_ptr, nub_run_window_va(r->heap_declared),
                           top - r->heap_declared, NUB_DECL_WRITE, 1) == NUB_OK)
        r->heap_declared = (uint32_t)top;
}

static void fail_out_of_pages(struct run *r)
{
    r->out_of_pages = 1;
    r->ctx->reason = PVM_EXIT_ERROR;
    r->ctx->arg = NUB_ERR_HEAP_EXHAUSTED;
}

/* The most pages one refill for the host makes free: a 4 GiB write and its
 * tables (more is never needed; the host's request is untrusted). */
#define HOST_REFILL_MAX ((UINT32_C(1) << 20) + 4096u)

/* Ring 3, while the host still runs the host call of this run and its write
 * found the pool short (JIT_EXIT_HOST_REFILL, ctx.arg = pages): makes that
 * many pool pages free (as far as the heap allows; the host retries and
 * sees), tells the host, and repeats while it asks again. Then the host's
 * outcome: 1 = re-enter after the ecalli (its gas block is paid); 0 = the
 * run is over with the exit in the context block. */
static int serve_host_refills(struct run *r)
{
    while (r->ctx->reason == JIT_EXIT_HOST_REFILL) {
        uint64_t want = r->ctx->arg;
        uint32_t pages = want > HOST_REFILL_MAX ? HOST_REFILL_MAX : (uint32_t)want;
        while (nub_page_pool_reserve(pages) < pages)
            if (!nub_invoke_evict_space() && !nub_jit_cache_evict(r->jit))
                break;
        /* The host resumes the vCPU here once its host call goes on (and
         * perhaps asks again) or is over. */
        x86_outl(NUB_PORT_HOST_CALL, 0);
    }
    if (r->ctx->reason != JIT_EXIT_HOST_RESUME)
        return 0;
    struct pvm_exit ex;
    if (!jit_prepare_entry(&r->jit->code, r->ctx, r->code_va, true, true, &ex)) {
        r->ctx->reason = ex.reason;
        r->ctx->pc = ex.pc;
        r->ctx->arg = ex.arg;
        return 0;
    }
    r->ctx->arg = 0;
    return 1;
}

/* ---- the platform side of jit_run -------------------------------------- */
static void platform_enter(void *self)
{
    struct run *r = self;
    uint64_t entry = r->code_va + r->jit->code.entry_offset;
    /* The code's return stack: the context page below the block (jit.h). */
    r->ctx->host_rsp = (NUB_USPACE_WINDOW_VA - JIT_CTX_SIZE) & ~UINT64_C(15);
    if (!refill_pool(r, POOL_RESERVE_PAGES)) {
        fail_out_of_pages(r);
        return;
    }
    nub_run_gate = (struct nub_run_gate){
        .cr3 = (uint64_t)(uintptr_t)r->space_ptr->pml4,
        .entry = entry,
        .gate_va = (uint64_t)(uintptr_t)nub_gate_enter_program,
        .exit_int_va = r->code_va + r->jit->code.exit_trap_offset,
        .ret = &r->ret,
        .kernel_cr3 = nub_kernel_params.kernel_cr3,
    };
    for (;;) {
        current_run = r;
        nub_ring3_enter(&r->ret);
        current_run = 0;
        if (r->ctx->reason == JIT_EXIT_HOST_REFILL) {
            if (!serve_host_refills(r))
                break;
            continue;
        }
        if (r->ctx->reason != RUN_EXIT_NEED_PAGES)
            break;
        /* Refill (doubling up to POOL_REFILL_MAX) and run the faulting
         * instruction again: its gas was charged with its block. */
        r->refill = r->refill < POOL_REFILL_MAX / 2 ? r->refill * 2 : POOL_REFILL_MAX;
        if (!refill_pool(r, r->refill)) {
            fail_out_of_pages(r);
            break;
        }
        r->ctx->entry_target = r->code_va + r->jit->code.insn_offset[r->ctx->pc];
    }
    nub_run_gate = (struct nub_run_gate){0};
    declare_heap(r);
}

/* The program's access to the page at address: declared, backed or not. */
static uint32_t platform_page_access(const void *self, uint32_t address)
{
    const struct run *r = self;
    uint32_t page = address & ~UINT32_C(4095);
    if (in_heap(r, page))
        return PVM_ACCESS_WRITE;
    switch (nub_uspace_access(r->space_ptr, nub_run_window_va(page), 0)) {
    case NUB_DECL_WRITE:
        return PVM_ACCESS_WRITE;
    case NUB_DECL_READ:
        return PVM_ACCESS_READ;
    default:
        return PVM_ACCESS_NONE;
    }
}

void nub_run_platform(struct run *r, struct jit_runner *out)
{
    *out = (struct jit_runner){
        .self = r,
        .code_address = r->code_va,
        .enter = platform_enter,
        .page_access = platform_page_access,
        .make_writable = 0, /* sbrk runs inline: the code never asks */
    };
}

/*
 * The JIT's exit is `int NUB_VECTOR_JIT_EXIT; ud2` at code.exit_trap_offset.
 * The PVM-based /dev/kvm this was developed on does not deliver software
 * interrupts raised in guest ring 3: it raises #UD on the `int` instead. A
 * #UD on that `int` (or on the ud2 after it) is the same exit, with the
 * registers stored.
 */
static int is_exit_trap_ud(const struct run *r, const struct nub_trap_frame *frame)
{
    uint64_t trap = r->code_va + r->jit->code.exit_trap_offset;
    return frame->vector == 6 && (frame->rip == trap || frame->rip == trap + 2);
}

/* Ring 0: the run is over; back to the kernel's tables and to the service,
 * which returns from nub_ring3_enter. */
static int return_to_service(struct run *r, struct nub_trap_frame *frame)
{
    x86_write_cr3(nub_kernel_params.kernel_cr3);
    frame->rip = (uint64_t)(uintptr_t)nub_ring3_resume;
    frame->rdi = (uint64_t)(uintptr_t)&r->ret;
    frame->rsp = r->ret.rsp;
    frame->rflags = NUB_SERVICE_RFLAGS;
    return 1;
}

/* The registers at the trap in x86 encoding order (jit_find_fault_site). */
static void frame_gprs(const struct nub_trap_frame *f, uint64_t gpr[16])
{
    const uint64_t v[16] = {f->rax, f->rcx, f->rdx, f->rbx, f->rsp, f->rbp, f->rsi, f->rdi,
                            f->r8,  f->r9,  f->r10, f->r11, f->r12, f->r13, f->r14, f->r15};
    nub_memcpy(gpr, v, sizeof(v));
}

int nub_invoke_ring3_trap(struct nub_trap_frame *frame)
{
    struct run *r = current_run;
    if (!r)
        return 0;
    /* The gate and the normal exit take the fast paths in ring3.S; what
     * arrives here is a fault in the run (or the exit on a path they do not
     * cover, handled the same way). */
    if (frame->vector == NUB_VECTOR_JIT_EXIT || is_exit_trap_ud(r, frame))
        return return_to_service(r, frame); /* the exit stub stored everything */

    /* A fault in the JIT code: as the hosted backend's signal handler does,
     * a memory access becomes the PVM exit SPEC §2 says; anything else is
     * an engine error. The exit stub then stores the registers and traps. */
    const struct jit_code *code = &r->jit->code;
    uint64_t rip = frame->rip;
    uint32_t pc = r->ctx->pc, reason = PVM_EXIT_ERROR;
    uint64_t arg = NUB_ERR_JIT;
    int in_code = frame->vector == 14 && rip - r->code_va < code->code_size;
    enum nub_uspace_back back = NUB_USPACE_BACK_NOT_DECLARED;
    /* First touch of a declared page (or of the heap below the break):
     * back it and run the access again, without leaving the address space. */
    uint64_t cr2 = frame->vector == 14 ? x86_read_cr2() : 0;
    if (in_code && cr2 - NUB_USPACE_WINDOW_VA < (UINT64_C(1) << 32)) {
        uint32_t page = (uint32_t)(cr2 - NUB_USPACE_WINDOW_VA) & ~UINT32_C(4095);
        back = nub_uspace_back(r->space_ptr->pml4, cr2 & ~UINT64_C(4095),
                               (frame->error_code & 2) != 0, in_heap(r, page));
        if (back == NUB_USPACE_BACK_DONE)
            return 1;
    }
    /* The access's site, from the registers (only now: the first touch
     * above, the common case, needs neither). */
    uint64_t gpr[16];
    struct jit_fault f;
    int at_site = 0;
    if (in_code) {
        frame_gprs(frame, gpr);
        at_site = jit_find_fault_site(code, rip - r->code_va, gpr, &f);
    }
    if (at_site && back != NUB_USPACE_BACK_NOT_DECLARED) {
        /* Empty pool: refill in ring 3 and retry. Full undo log: the call
         * has backed more pages than guest memory holds. */
        r->ctx->pc = f.pc;
        r->ctx->reason = back == NUB_USPACE_BACK_NO_PAGE ? RUN_EXIT_NEED_PAGES : PVM_EXIT_ERROR;
        r->ctx->arg = NUB_ERR_HEAP_EXHAUSTED;
        frame->rip = r->code_va + f.resume_offset;
        return 1;
    }
    if (at_site && jit_classify_fault(f.address, f.width, f.is_write, platform_page_access, r,
                                      &reason, &arg)) {
        r->ctx->pc = f.pc;
        r->ctx->reason = reason;
        r->ctx->arg = arg;
        frame->rip = r->code_va + f.resume_offset;
        return 1; /* the exit stub stores the registers and traps out */
    }
    /* Not a PVM memory fault (or the tables and the access map disagree):
     * an engine error. Leave at once rather than through the exit stub,
     * which could fault the same way. */
    if (nub_kernel_params.flags & NUB_BOOT_FLAG_CONSOLE) {
        nub_serial_write("ring-3 fault: vector ");
        nub_serial_write_hex(frame->vector);
        nub_serial_write(" rip ");
        nub_serial_write_hex(rip);
        nub_serial_write(" err ");
        nub_serial_write_hex(frame->error_code);
        nub_serial_write(" cr2 ");
        nub_serial_write_hex(x86_read_cr2());
        if (rip >= r->code_va + 8 && rip + 8 <= r->code_va + code->code_size) {
            uint64_t before, after;
            nub_memcpy(&before, r->jit->code_buf + (rip - r->code_va) - 8, 8);
            nub_memcpy(&after, r->jit->code_buf + (rip - r->code_va), 8);
            nub_serial_write(" bytes ");
            nub_serial_write_hex(before);
            nub_serial_write(" ");
            nub_serial_write_hex(after);
        }
        nub_serial_write("\n");
    }
    r->ctx->pc = pc;
    r->ctx->reason = PVM_EXIT_ERROR;
    r->ctx->arg = NUB_ERR_JIT;
    return return_to_service(r, frame);
}
