/*
 * trap.c — exception handling: a fault in the kernel becomes a crash report
 * for the host (NUB_PORT_CRASH), then the vCPU halts for good.
 */
#include "trap.h"

#include "invoke.h"
#include "nub_rpc.h"
#include "kstring.h"
#include "x86.h"

/* Writes the report and tells the host, which never runs the vCPU again. */
static void report_crash(const struct nub_crash_report *report)
{
    /* The crash page is part of the boot parameter page, mapped since boot. */
    nub_memcpy((void *)(uintptr_t)NUB_CRASH_REPORT_GPA, report, sizeof *report);
    x86_outl(NUB_PORT_CRASH, (uint32_t)report->vector);
}

void nub_exception_dispatch(struct nub_trap_frame *frame)
{
    if ((frame->cs & 3) == 3 && nub_invoke_ring3_trap(frame))
        return; /* resumes ring 3 at the JIT exit stub */
    struct nub_crash_report report = {
        .magic = NUB_CRASH_MAGIC,
        .vector = frame->vector,
        .error_code = frame->error_code,
        .rip = frame->rip,
        .cs = frame->cs,
        .rflags = frame->rflags,
        .rsp = frame->rsp,
        .cr2 = x86_read_cr2(),
    };
    report_crash(&report);
    x86_halt_forever(); /* ring 0 here */
}

void nub_kernel_panic(uint64_t reason)
{
    struct nub_crash_report report = {
        .magic = NUB_CRASH_MAGIC,
        .vector = NUB_PANIC_VECTOR,
        .error_code = reason,
        .rip = (uint64_t)(uintptr_t)__builtin_return_address(0),
    };
    report_crash(&report);
    for (;;) /* the ring-3 service cannot halt; the host stops here anyway */
        __asm__ volatile("pause");
}
