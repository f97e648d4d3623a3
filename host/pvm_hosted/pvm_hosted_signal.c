/*
 * pvm_hosted_signal.c — memory faults in JIT code become PVM exits.
 *
 * The handler looks at the interrupted rip. Inside the code of the instance
 * this thread is running (a thread-local pointer, set only around the native
 * call), it recomputes the faulting access from the PVM instruction (address
 * from its register and offset, width and direction from the opcode),
 * applies SPEC §2's
 * lowest-offending-byte rule against the instance's page table, fills the
 * context block and resumes at the code's exit sequence, which stores the
 * registers and returns to hosted_call_native. Anything else is chained to
 * the previously installed handler, or re-raised with the default action.
 */
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <ucontext.h>

#include "nub_status.h"
#include "pvm_hosted_int.h"

static _Thread_local struct pvm_hosted *running_instance;

/* Handlers that were installed before ours; written once under once_guard. */
static struct sigaction previous_segv, previous_bus, previous_fpe;
static pthread_mutex_t install_lock = PTHREAD_MUTEX_INITIALIZER;

static struct sigaction *previous_for(int sig)
{
    return sig == SIGSEGV ? &previous_segv : sig == SIGBUS ? &previous_bus : &previous_fpe;
}

static uint32_t access_of(const void *ctx, uint32_t address)
{
    const struct pvm_hosted *h = ctx;
    return h->access[address >> PVM_PAGE_SHIFT];
}

/* Set while this thread is inside a chained handler: a handler that chains
 * back to us (installed over ours, then overwritten by our re-install) must
 * not ping-pong forever. */
static _Thread_local bool chaining;

static void chain(int sig, siginfo_t *info, void *uc)
{
    struct sigaction *prev = previous_for(sig);
    if (chaining) {
        signal(sig, SIG_DFL); /* second time round: take the default action */
        return;
    }
    chaining = true;
    if ((prev->sa_flags & SA_SIGINFO) && prev->sa_sigaction != NULL) {
        prev->sa_sigaction(sig, info, uc);
        chaining = false;
        return;
    }
    if (prev->sa_handler != SIG_DFL && prev->sa_handler != SIG_IGN) {
        prev->sa_handler(sig);
        chaining = false;
        return;
    }
    chaining = false;
    /* Default action: restore it; returning re-executes the faulting
     * instruction, which now kills the process with the usual report. */
    signal(sig, SIG_DFL);
}

static void on_fault(int sig, siginfo_t *info, void *ucv)
{
    ucontext_t *uc = ucv;
    struct pvm_hosted *h = running_instance;
    uintptr_t rip = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
    uintptr_t code = (uintptr_t)(h != NULL ? h->code_mem : NULL);
    if (h == NULL || rip < code || rip >= code + h->code.code_size) {
        chain(sig, info, ucv);
        return;
    }
    struct jit_ctx *ctx = h->ctx;
    uint32_t pc = ctx->pc, reason = PVM_EXIT_ERROR;
    uint64_t arg = NUB_ERR_JIT;
    /* x86 encoding order, as jit_find_fault_site wants them */
    static const int gregs_of[16] = {REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP,
                                     REG_RSI, REG_RDI, REG_R8,  REG_R9,  REG_R10, REG_R11,
                                     REG_R12, REG_R13, REG_R14, REG_R15};
    uint64_t gpr[16];
    for (int i = 0; i < 16; i++)
        gpr[i] = (uint64_t)uc->uc_mcontext.gregs[gregs_of[i]];
    struct jit_fault f;
    uint32_t resume = h->code.exit_offset;
    if (sig != SIGFPE && jit_find_fault_site(&h->code, rip - code, gpr, &f)) {
        pc = f.pc;
        resume = f.resume_offset;
        if (!jit_classify_fault(f.address, f.width, f.is_write, access_of, h, &reason, &arg)) {
            reason = PVM_EXIT_ERROR; /* the page table and the mapping disagree */
            arg = NUB_ERR_JIT;
        }
    }
    ctx->pc = pc;
    ctx->reason = reason;
    ctx->arg = arg;
    uc->uc_mcontext.gregs[REG_RIP] = (greg_t)(code + resume);
}

/*
 * (Re)installs our handler for any of the three signals whose current
 * handler is not ours, remembering the replaced one for chaining. Called
 * before every native run, because code loaded later (a test framework, the
 * embedding application) may install its own handlers over ours.
 */
int hosted_signals_install(void)
{
    static const int sigs[3] = {SIGSEGV, SIGBUS, SIGFPE};
    int result = 0;
    for (int i = 0; i < 3; i++) {
        struct sigaction cur;
        if (sigaction(sigs[i], NULL, &cur) != 0)
            return -1;
        if ((cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == on_fault)
            continue;
        pthread_mutex_lock(&install_lock);
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_sigaction = on_fault;
        sa.sa_flags = SA_SIGINFO;
        sigemptyset(&sa.sa_mask);
        struct sigaction prev;
        if (sigaction(sigs[i], &sa, &prev) != 0)
            result = -1;
        else if (!((prev.sa_flags & SA_SIGINFO) && prev.sa_sigaction == on_fault))
            *previous_for(sigs[i]) = prev;
        pthread_mutex_unlock(&install_lock);
    }
    return result;
}

typedef void (*jit_entry_fn)(struct jit_ctx *ctx);

void hosted_call_native(struct pvm_hosted *h)
{
    jit_entry_fn entry;
    void *address = h->code_mem + h->code.entry_offset;
    memcpy(&entry, &address, sizeof(entry));
    hosted_signals_install();
    /* A host function (called from inside a run) may run another instance:
     * the outer one is this thread's running instance again afterwards. */
    struct pvm_hosted *outer = running_instance;
    running_instance = h;
    uint64_t outer_gs = hosted_gs_base_get(h->gs_fast);
    hosted_gs_base_set(h->gs_fast, (uint64_t)(uintptr_t)h->window);
    entry(h->ctx);
    hosted_gs_base_set(h->gs_fast, outer_gs);
    running_instance = outer;
}
