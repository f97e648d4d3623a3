/*
 * run_trap.c — entering a run's ring-3 code and the traps that end it: the
 * platform side of jit_run, and the ring-0 handler for everything the fast
 * paths of ring3.S do not take (JIT memory faults, unexpected faults).
 */
#include "invoke.h"

#include "kernel.h"
#include "kstring.h"
#include "run.h"
#include "serial.h"
#include "x86.h"

/* The run in progress (one vCPU, one run at a time), for the trap handler. */
static struct run *current_run;
struct nub_run_gate nub_run_gate;

static void platform_enter(void *self)
{
    struct run *r = self;
    uint64_t entry = NUB_USPACE_CODE_VA + r->jit->code.entry_offset;
    nub_run_gate = (struct nub_run_gate){
        .cr3 = (uint64_t)(uintptr_t)r->space_ptr->pml4,
        .entry = entry,
        .gate_va = (uint64_t)(uintptr_t)nub_gate_enter_program,
        .exit_int_va = NUB_USPACE_CODE_VA + r->jit->code.exit_trap_offset,
        .ret = &r->ret,
        .kernel_cr3 = nub_kernel_params.kernel_cr3,
    };
    current_run = r;
    nub_ring3_enter(&r->ret);
    current_run = 0;
    nub_run_gate = (struct nub_run_gate){0};
}

static uint32_t platform_page_access(const void *self, uint32_t address)
{
    const struct run *r = self;
    int writable = 0;
    if (!nub_uspace_lookup(r->space_ptr, nub_run_window_va(address & ~UINT32_C(4095)), &writable))
        return PVM_ACCESS_NONE;
    return writable ? PVM_ACCESS_WRITE : PVM_ACCESS_READ;
}

static int platform_make_writable(void *self, uint32_t page)
{
    struct run *r = self;
    nub_run_mapping_changed(r);
    uint64_t va = nub_run_window_va(page);
    if (nub_uspace_lookup(r->space_ptr, va, 0)) {
        nub_uspace_make_writable(r->space_ptr, va);
        return PVM_OK;
    }
    return nub_uspace_map_new(r->space_ptr, va, NUB_USPACE_RW, 0) == NUB_OK ? PVM_OK
                                                                            : PVM_ERR_NOMEM;
}

void nub_run_platform(struct run *r, struct jit_runner *out)
{
    *out = (struct jit_runner){
        .self = r,
        .code_address = NUB_USPACE_CODE_VA,
        .enter = platform_enter,
        .page_access = platform_page_access,
        .make_writable = platform_make_writable,
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
    uint64_t trap = NUB_USPACE_CODE_VA + r->jit->code.exit_trap_offset;
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
    unsigned width;
    bool is_write;
    if (frame->vector == 14 && rip >= NUB_USPACE_CODE_VA &&
        rip < NUB_USPACE_CODE_VA + code->code_size &&
        jit_find_fault_site(code, rip - NUB_USPACE_CODE_VA, &pc, &width, &is_write) &&
        jit_classify_fault((uint32_t)frame->rax, width, is_write, platform_page_access, r, &reason,
                           &arg)) {
        r->ctx->pc = pc;
        r->ctx->reason = reason;
        r->ctx->arg = arg;
        frame->rip = NUB_USPACE_CODE_VA + code->exit_offset;
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
        if (rip >= NUB_USPACE_CODE_VA + 8 && rip + 8 <= NUB_USPACE_CODE_VA + code->code_size) {
            uint64_t before, after;
            nub_memcpy(&before, r->jit->code_buf + (rip - NUB_USPACE_CODE_VA) - 8, 8);
            nub_memcpy(&after, r->jit->code_buf + (rip - NUB_USPACE_CODE_VA), 8);
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
