/*
 * pvm_hosted.c — the hosted JIT instance (see pvm_hosted.h).
 */
#include "pvm_hosted.h"

#include <cpuid.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "nub_status.h"
#include "pvm_hosted_int.h"

#define WINDOW_SIZE  ((size_t)1 << 32)
#define CTX_PAGE     ((size_t)PVM_PAGE_SIZE)
#define ACCESS_BYTES ((size_t)PVM_PAGE_COUNT)

static int prot_of(uint32_t access)
{
    return access == PVM_ACCESS_WRITE  ? PROT_READ | PROT_WRITE
           : access == PVM_ACCESS_READ ? PROT_READ
                                       : PROT_NONE;
}

/* Sets the access of whole pages [address, address + length). */
static int map_pages(struct pvm_hosted *h, uint64_t address, uint64_t length, uint32_t access)
{
    if (length == 0)
        return PVM_OK;
    uint8_t *at = h->window + address;
    if (access == PVM_ACCESS_NONE) {
        /* inaccessible pages lose their contents (pvm_interp_set_access) */
        if (mprotect(at, length, PROT_NONE) != 0 || madvise(at, length, MADV_DONTNEED) != 0)
            return PVM_ERR_NOMEM;
    } else if (mprotect(at, length, prot_of(access)) != 0) {
        return PVM_ERR_NOMEM;
    }
    memset(h->access + (address >> PVM_PAGE_SHIFT), (int)access, length >> PVM_PAGE_SHIFT);
    return PVM_OK;
}

/* The generated code uses popcnt (x86-64-v2, every x86-64 CPU since 2008);
 * refuse to run rather than die of SIGILL on an older one. */
static bool cpu_supported(void)
{
    unsigned eax, ebx, ecx, edx;
    return __get_cpuid(1, &eax, &ebx, &ecx, &edx) && (ecx & bit_POPCNT) != 0;
}

static int compile_program(struct pvm_hosted *h)
{
    struct jit_options options = {.platform = JIT_PLATFORM_HOSTED};
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t bound = (jit_code_size_bound(h->program) + page - 1) & ~(page - 1);
    /* Untouched pages of the bound cost nothing; the tail is unmapped below. */
    void *mem = mmap(NULL, bound, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED)
        return PVM_ERR_NOMEM;
    size_t needed = 0;
    int err = jit_compile(h->program, &options, &h->allocator, mem, bound, &h->code, &needed);
    if (err != PVM_OK) {
        munmap(mem, bound);
        return err;
    }
    size_t used = (needed + page - 1) & ~(page - 1);
    if (used < bound)
        munmap((uint8_t *)mem + used, bound - used);
    h->code_mem = mem;
    h->code_map_size = used;
    if (mprotect(mem, used, PROT_READ | PROT_EXEC) != 0)
        return PVM_ERR_NOMEM;
    return PVM_OK;
}

int pvm_hosted_create(const struct pvm_program *program, const struct pvm_segment *segments,
                      size_t segment_count, const struct pvm_state *initial,
                      const struct pvm_allocator *allocator, struct pvm_hosted **out)
{
    if (out == NULL)
        return PVM_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (program == NULL || initial == NULL || allocator == NULL || allocator->alloc == NULL ||
        allocator->free == NULL)
        return PVM_ERR_INVALID_ARGUMENT;
    int err = pvm_segments_validate(segments, segment_count);
    if (err != PVM_OK)
        return err;
    if (!cpu_supported())
        return JIT_ERR_UNSUPPORTED_CPU;
    if (hosted_signals_install() != 0)
        return PVM_ERR_NOMEM;

    struct pvm_hosted *h = allocator->alloc(allocator->ctx, sizeof(*h));
    if (h == NULL)
        return PVM_ERR_NOMEM;
    memset(h, 0, sizeof(*h));
    h->program = program;
    h->allocator = *allocator;
    h->state = *initial;
    h->gs_fast = hosted_gs_fast_available();
    h->region = MAP_FAILED;
    h->access = MAP_FAILED;

    h->region_size = CTX_PAGE + WINDOW_SIZE + JIT_WINDOW_GUARD;
    h->region =
        mmap(NULL, h->region_size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    h->access =
        mmap(NULL, ACCESS_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (h->region == MAP_FAILED || h->access == MAP_FAILED ||
        mprotect(h->region, CTX_PAGE, PROT_READ | PROT_WRITE) != 0) {
        err = PVM_ERR_NOMEM;
        goto fail;
    }
    h->window = h->region + CTX_PAGE;
    h->ctx = (struct jit_ctx *)(h->window - JIT_CTX_SIZE);

    for (size_t i = 0; i < segment_count; i++) {
        const struct pvm_segment *s = &segments[i];
        if (s->access == PVM_ACCESS_NONE || s->length == 0)
            continue;
        err = map_pages(h, s->address, s->length, PVM_ACCESS_WRITE);
        if (err != PVM_OK)
            goto fail;
        if (s->data_len > 0)
            memcpy(h->window + s->address, s->data, s->data_len);
        if (s->access == PVM_ACCESS_READ &&
            (err = map_pages(h, s->address, s->length, PVM_ACCESS_READ)) != PVM_OK)
            goto fail;
    }
    err = compile_program(h);
    if (err != PVM_OK)
        goto fail;
    *out = h;
    return PVM_OK;
fail:
    pvm_hosted_destroy(h);
    return err;
}

void pvm_hosted_destroy(struct pvm_hosted *h)
{
    if (h == NULL)
        return;
    if (h->code_mem != NULL)
        munmap(h->code_mem, h->code_map_size);
    jit_code_release(&h->code);
    if (h->region != MAP_FAILED)
        munmap(h->region, h->region_size);
    if (h->access != MAP_FAILED)
        munmap(h->access, ACCESS_BYTES);
    struct pvm_allocator a = h->allocator;
    a.free(a.ctx, h);
}

/* ---- the platform side of jit_run --------------------------------------- */
static void platform_enter(void *self)
{
    hosted_call_native(self);
}

static uint32_t platform_page_access(const void *self, uint32_t address)
{
    const struct pvm_hosted *h = self;
    return h->access[address >> PVM_PAGE_SHIFT];
}

static int platform_make_writable(void *self, uint32_t page)
{
    return map_pages(self, page, PVM_PAGE_SIZE, PVM_ACCESS_WRITE);
}

static struct jit_runner hosted_runner(struct pvm_hosted *h)
{
    return (struct jit_runner){
        .self = h,
        .code_address = (uint64_t)(uintptr_t)h->code_mem,
        .enter = platform_enter,
        .page_access = platform_page_access,
        .make_writable = platform_make_writable,
    };
}

static void finish(struct pvm_hosted *h, struct pvm_exit *e)
{
    if (e->reason == PVM_EXIT_HALT || e->reason == PVM_EXIT_PANIC) {
        h->finished = true;
        h->final_exit = *e;
    }
    if (e->reason == PVM_EXIT_HOST_CALL)
        h->resume_after_host_call = true;
}

void pvm_hosted_run(struct pvm_hosted *h, struct pvm_exit *exit_out)
{
    if (h->finished) {
        *exit_out = h->final_exit;
        return;
    }
    const struct jit_runner platform = hosted_runner(h);
    bool resume = h->resume_after_host_call;
    h->resume_after_host_call = false;
    jit_run(&h->code, h->ctx, &platform, &h->state, resume, exit_out);
    finish(h, exit_out);
}

void pvm_hosted_get_state(const struct pvm_hosted *h, struct pvm_state *state_out)
{
    *state_out = h->state;
}

void pvm_hosted_set_state(struct pvm_hosted *h, const struct pvm_state *state)
{
    bool moved = state->pc != h->state.pc;
    h->state = *state;
    if (moved) {
        h->resume_after_host_call = false;
        h->state.gas_charged = false; /* a new pc starts a new block */
    }
}

bool pvm_hosted_block_charge(const struct pvm_hosted *h, uint32_t pc, uint32_t *cost_out)
{
    return jit_block_charge(&h->code, h->code_mem, pc, cost_out);
}

/* Every byte of [address, address + length) (wrapping) is accessible. */
static bool all_accessible(const struct pvm_hosted *h, uint32_t address, uint32_t length)
{
    uint64_t first = address >> PVM_PAGE_SHIFT;
    uint64_t last = ((uint64_t)address + length - 1) >> PVM_PAGE_SHIFT;
    for (uint64_t p = first; p <= last; p++)
        if (h->access[p & (PVM_PAGE_COUNT - 1)] == PVM_ACCESS_NONE)
            return false;
    return true;
}

int pvm_hosted_read_memory(const struct pvm_hosted *h, uint32_t address, void *buffer,
                           uint32_t length)
{
    if (length == 0)
        return PVM_OK;
    if (buffer == NULL)
        return PVM_ERR_INVALID_ARGUMENT;
    if (!all_accessible(h, address, length))
        return PVM_ERR_INVALID_ARGUMENT;
    uint64_t first = WINDOW_SIZE - address; /* bytes before the wrap */
    if (first >= length) {
        memcpy(buffer, h->window + address, length);
    } else {
        memcpy(buffer, h->window + address, first);
        memcpy((uint8_t *)buffer + first, h->window, length - first);
    }
    return PVM_OK;
}

int pvm_hosted_write_memory(struct pvm_hosted *h, uint32_t address, const void *buffer,
                            uint32_t length)
{
    if (length == 0)
        return PVM_OK;
    if (buffer == NULL)
        return PVM_ERR_INVALID_ARGUMENT;
    if (!all_accessible(h, address, length))
        return PVM_ERR_INVALID_ARGUMENT;
    const uint8_t *src = buffer;
    uint32_t done = 0;
    while (done < length) {
        uint32_t a = address + done; /* wraps */
        uint32_t page = a & ~(PVM_PAGE_SIZE - 1);
        uint32_t chunk = PVM_PAGE_SIZE - (a - page);
        if (chunk > length - done)
            chunk = length - done;
        bool read_only = h->access[a >> PVM_PAGE_SHIFT] == PVM_ACCESS_READ;
        if (read_only && mprotect(h->window + page, PVM_PAGE_SIZE, PROT_READ | PROT_WRITE) != 0)
            return PVM_ERR_NOMEM;
        memcpy(h->window + a, src + done, chunk);
        if (read_only && mprotect(h->window + page, PVM_PAGE_SIZE, PROT_READ) != 0)
            return PVM_ERR_NOMEM;
        done += chunk;
    }
    return PVM_OK;
}

uint32_t pvm_hosted_page_access(const struct pvm_hosted *h, uint32_t address)
{
    return h->access[address >> PVM_PAGE_SHIFT];
}

int pvm_hosted_set_access(struct pvm_hosted *h, uint32_t address, uint32_t length, uint32_t access)
{
    if ((address | length) & (PVM_PAGE_SIZE - 1))
        return PVM_ERR_SEGMENT_UNALIGNED;
    if (address < PVM_LOW_GUARD_END || (uint64_t)address + length > WINDOW_SIZE)
        return PVM_ERR_SEGMENT_RANGE;
    if (access > PVM_ACCESS_WRITE)
        return PVM_ERR_SEGMENT_ACCESS;
    return map_pages(h, address, length, access);
}

/* During a run the break lives in the context block (jit_run copies it in
 * and out, and serves sbrk on both): move both, so the value holds whether
 * this is called from a host handler or between runs. */
int pvm_hosted_grow_heap(struct pvm_hosted *h, uint32_t new_top)
{
    if (!pvm_heap_grow_valid(&h->state, new_top))
        return PVM_ERR_INVALID_ARGUMENT;
    const struct jit_runner platform = hosted_runner(h);
    int err = jit_make_break_writable(&platform, h->state.heap_top, new_top);
    if (err != PVM_OK)
        return err;
    h->state.heap_top = new_top;
    h->ctx->heap_top = new_top;
    return PVM_OK;
}

/* Called by the code's host-call sequence (ctx.host_call) on the run's stack. */
static void host_call_trampoline(struct jit_ctx *ctx)
{
    struct pvm_hosted *h = (struct pvm_hosted *)(uintptr_t)ctx->host_data;
    uint64_t error_arg = 0;
    uint32_t r =
        h->host_handler(h->host_handler_data, ctx->arg, ctx->pc, ctx->regs, &ctx->gas, &error_arg);
    ctx->reason = r;
    ctx->arg = r == PVM_EXIT_ERROR ? error_arg : 0;
}

_Static_assert(PVM_HOSTED_HOST_CONTINUE == JIT_EXIT_HOST_RESUME, "one resume code");

void pvm_hosted_set_host_handler(struct pvm_hosted *h, pvm_hosted_host_handler fn, void *data)
{
    h->host_handler = fn;
    h->host_handler_data = data;
    h->ctx->host_call = fn ? (uint64_t)(uintptr_t)host_call_trampoline : 0;
    h->ctx->host_data = (uint64_t)(uintptr_t)h;
}

/* ---- engine vtable ----------------------------------------------------- */
static int engine_create(const struct pvm_program *program, const struct pvm_segment *segments,
                         size_t segment_count, const struct pvm_state *initial,
                         const struct pvm_allocator *allocator, void **instance_out)
{
    struct pvm_hosted *h = NULL;
    int err = pvm_hosted_create(program, segments, segment_count, initial, allocator, &h);
    if (instance_out != NULL)
        *instance_out = h;
    return err;
}
static void engine_destroy(void *instance)
{
    pvm_hosted_destroy(instance);
}
static void engine_run(void *instance, struct pvm_exit *exit_out)
{
    pvm_hosted_run(instance, exit_out);
}
static void engine_get_state(const void *instance, struct pvm_state *state_out)
{
    pvm_hosted_get_state(instance, state_out);
}
static void engine_set_state(void *instance, const struct pvm_state *state)
{
    pvm_hosted_set_state(instance, state);
}
static int engine_read_memory(const void *instance, uint32_t address, void *buffer, uint32_t length)
{
    return pvm_hosted_read_memory(instance, address, buffer, length);
}
static int engine_write_memory(void *instance, uint32_t address, const void *buffer,
                               uint32_t length)
{
    return pvm_hosted_write_memory(instance, address, buffer, length);
}
static uint32_t engine_page_access(const void *instance, uint32_t address)
{
    return pvm_hosted_page_access(instance, address);
}

static int engine_grow_heap(void *instance, uint32_t new_top)
{
    return pvm_hosted_grow_heap(instance, new_top);
}

const struct pvm_engine pvm_jit_engine = {
    .name = "jit",
    .create = engine_create,
    .destroy = engine_destroy,
    .run = engine_run,
    .get_state = engine_get_state,
    .set_state = engine_set_state,
    .read_memory = engine_read_memory,
    .write_memory = engine_write_memory,
    .page_access = engine_page_access,
    .grow_heap = engine_grow_heap,
};
