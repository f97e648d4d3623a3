/*
 * invoke.c — INVOKE_CACHED.
 *
 * Request: struct nub_invoke_packet (80 bytes), then optionally up to
 * NUB_INVOKE_MAX_READBACKS {u32 address, u32 length} ranges of PVM memory to
 * copy out after the run. Reply: the wire-encoded InvocationResult, then for
 * each range {u32 ok, u32 length, length bytes} (ok = 0 and zeros when some
 * byte of the range is inaccessible).
 *
 * Each call is stateless: a fresh ring-3 address space is built from the
 * instance's published segments, the cached JIT code is mapped into it, the
 * run goes to its first exit, and everything but the JIT cache is freed.
 */
#include "invoke.h"

#include "directory.h"
#include "heap.h"
#include "jit_cache.h"
#include "kernel.h"
#include "kstring.h"
#include "ring3.h"
#include "serial.h"
#include "uspace.h"
#include "x86.h"

/*
 * An instance's run address space, kept between calls: its page tables stay
 * as they are and only the contents of its writable pages are restored from
 * the published segments before each call (so every call still starts from
 * the published memory). Rebuilding the tables each call is what costs on a
 * shadow-paging hypervisor (writes to former page-table pages trap). A call
 * that changed a mapping (sbrk, a read-only page made writable) drops the
 * space; so does a recompile of its image.
 */
#define SPACE_CACHE_MAX 16u

struct cached_space {
    struct cached_space *next;
    nub_cap_hash instance;
    const struct nub_jit_entry *jit;
    uint64_t jit_generation;
    struct nub_uspace space;
    struct jit_ctx *ctx;
    int in_use;
    int mapping_changed;
    uint64_t last_use;
};

static struct {
    struct cached_space *head;
    uint32_t count;
    uint64_t clock;
} spaces;

struct run {
    struct cached_space *cached;
    struct nub_uspace *space_ptr;
    struct jit_ctx *ctx; /* kernel alias of the context block */
    struct nub_jit_entry *jit;
    struct nub_ring3_return ret;
};

/* The run in progress (one vCPU, one run at a time), for the trap handler. */
static struct run *current_run;
struct nub_run_gate nub_run_gate;

static uint64_t window_va(uint32_t address)
{
    return NUB_USPACE_WINDOW_VA + address;
}

/* ---- the platform side of jit_run -------------------------------------- */
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
    nub_ring3_enter(&r->ret, entry, nub_run_gate.cr3);
    current_run = 0;
    nub_run_gate = (struct nub_run_gate){0};
}

static uint32_t platform_page_access(const void *self, uint32_t address)
{
    const struct run *r = self;
    int writable = 0;
    if (!nub_uspace_lookup(r->space_ptr, window_va(address & ~UINT32_C(4095)), &writable))
        return PVM_ACCESS_NONE;
    return writable ? PVM_ACCESS_WRITE : PVM_ACCESS_READ;
}

static int platform_make_writable(void *self, uint32_t page)
{
    struct run *r = self;
    r->cached->mapping_changed = 1;
    uint64_t va = window_va(page);
    if (nub_uspace_lookup(r->space_ptr, va, 0)) {
        nub_uspace_make_writable(r->space_ptr, va);
        return PVM_OK;
    }
    return nub_uspace_map_new(r->space_ptr, va, NUB_USPACE_RW, 0) == NUB_OK ? PVM_OK
                                                                            : PVM_ERR_NOMEM;
}

/*
 * The JIT's exit stub is `int NUB_VECTOR_JIT_EXIT; ud2`. The PVM-based
 * /dev/kvm this was developed on does not deliver software interrupts raised
 * in guest ring 3: it raises #UD on the `int` instead. A #UD on that `int`
 * (or on the ud2 after it) is the same exit, with the registers stored.
 */
static int is_exit_stub_ud2(const struct run *r, const struct nub_trap_frame *frame)
{
    const struct jit_code *code = &r->jit->code;
    static const uint8_t stub[4] = {0xCD, NUB_VECTOR_JIT_EXIT, 0x0F, 0x0B}; /* int 32; ud2 */
    if (frame->vector != 6 || frame->rip < NUB_USPACE_CODE_VA)
        return 0;
    uint64_t off = frame->rip - NUB_USPACE_CODE_VA;
    if (off + 4 <= code->code_size && nub_memcmp(r->jit->code_buf + off, stub, 4) == 0)
        return 1;
    return off >= 2 && off + 2 <= code->code_size &&
           nub_memcmp(r->jit->code_buf + off - 2, stub, 4) == 0;
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
    if (frame->vector == NUB_VECTOR_JIT_EXIT || is_exit_stub_ud2(r, frame))
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

/* ---- building the run ---------------------------------------------------- */
static nub_status map_segments(struct run *r, const struct nub_wire_cap_view *inst)
{
    for (uint32_t i = 0; i < inst->instance.segment_count; i++) {
        struct nub_wire_segment seg;
        nub_status s = nub_wire_instance_segment(inst, i, &seg);
        if (s != NUB_OK)
            return s;
        if (seg.access == NUB_WIRE_ACCESS_NONE)
            continue;
        const uint8_t *data = 0;
        if (seg.has_data) {
            const struct nub_cap_entry *d = nub_directory_find(seg.data_hash);
            if (!d || d->view.kind != NUB_WIRE_KIND_DATA)
                return NUB_ERR_CAP_MISSING_DEP; /* cannot happen: checked at PUT_CAP */
            data = d->view.data.bytes;
        }
        uint64_t flags = seg.access == NUB_WIRE_ACCESS_WRITE ? NUB_USPACE_RW : NUB_USPACE_RO;
        for (uint64_t off = 0; off < seg.length; off += 4096) {
            uint8_t *page;
            s = nub_uspace_map_new(r->space_ptr, window_va(seg.address) + off, flags, &page);
            if (s != NUB_OK)
                return s;
            if (data && off < seg.data_len) {
                uint64_t n = seg.data_len - off < 4096 ? seg.data_len - off : 4096;
                nub_memcpy(page, data + off, n);
            }
        }
    }
    return NUB_OK;
}

static nub_status build(struct run *r, const struct nub_wire_cap_view *inst)
{
    nub_status s = nub_uspace_create(r->space_ptr);
    for (size_t i = 0; s == NUB_OK && i < r->jit->code_pages; i++)
        s = nub_uspace_map_shared(r->space_ptr, NUB_USPACE_CODE_VA + 4096 * i,
                                  (uint64_t)(uintptr_t)(r->jit->code_buf + 4096 * i),
                                  NUB_USPACE_RX);
    uint8_t *ctx_page = 0;
    if (s == NUB_OK)
        s = nub_uspace_map_new(r->space_ptr, NUB_USPACE_CTX_PAGE_VA, NUB_USPACE_RW, &ctx_page);
    if (s == NUB_OK) {
        r->ctx = (struct jit_ctx *)(ctx_page + 4096 - JIT_CTX_SIZE);
        s = map_segments(r, inst);
    }
    return s;
}

/* Restores the published contents of every writable page of a kept space
 * (read-only pages cannot have changed: making one writable drops the space). */
static nub_status restore_contents(struct run *r, const struct nub_wire_cap_view *inst)
{
    for (uint32_t i = 0; i < inst->instance.segment_count; i++) {
        struct nub_wire_segment seg;
        nub_status s = nub_wire_instance_segment(inst, i, &seg);
        if (s != NUB_OK)
            return s;
        if (seg.access != NUB_WIRE_ACCESS_WRITE)
            continue;
        const uint8_t *data = 0;
        if (seg.has_data) {
            const struct nub_cap_entry *d = nub_directory_find(seg.data_hash);
            if (!d || d->view.kind != NUB_WIRE_KIND_DATA)
                return NUB_ERR_CAP_MISSING_DEP;
            data = d->view.data.bytes;
        }
        for (uint64_t off = 0; off < seg.length; off += 4096) {
            uint8_t *page = nub_uspace_lookup(r->space_ptr, window_va(seg.address) + off, 0);
            if (!page)
                return NUB_ERR_JIT; /* the kept tables lost a page: cannot happen */
            uint64_t n = 0;
            if (data && off < seg.data_len) {
                n = seg.data_len - off < 4096 ? seg.data_len - off : 4096;
                nub_memcpy(page, data + off, n);
            }
            nub_memset(page + n, 0, 4096 - n);
        }
    }
    return NUB_OK;
}

static void space_free(struct cached_space *c)
{
    nub_uspace_destroy(&c->space);
    nub_heap_free(c);
}

static void space_unlink(struct cached_space *c)
{
    for (struct cached_space **link = &spaces.head; *link; link = &(*link)->next) {
        if (*link == c) {
            *link = c->next;
            spaces.count--;
            return;
        }
    }
}

int nub_invoke_evict_space(void)
{
    struct cached_space *victim = 0;
    for (struct cached_space *c = spaces.head; c; c = c->next)
        if (!c->in_use && (!victim || c->last_use < victim->last_use))
            victim = c;
    if (!victim)
        return 0;
    space_unlink(victim);
    space_free(victim);
    return 1;
}

/* The instance's space, kept or freshly built, ready for a call. */
static nub_status acquire_space(struct run *r, const struct nub_cap_entry *inst)
{
    spaces.clock++;
    for (struct cached_space *c = spaces.head; c; c = c->next) {
        if (nub_memcmp(c->instance, inst->hash, NUB_CAP_HASH_BYTES) != 0)
            continue;
        if (c->jit == r->jit && c->jit_generation == r->jit->generation) {
            r->cached = c;
            r->space_ptr = &c->space;
            r->ctx = c->ctx;
            c->in_use = 1;
            c->last_use = spaces.clock;
            return restore_contents(r, &inst->view);
        }
        space_unlink(c); /* its image was recompiled: its code mapping is stale */
        space_free(c);
        break;
    }
    if (spaces.count >= SPACE_CACHE_MAX)
        nub_invoke_evict_space();
    struct cached_space *c = nub_heap_alloc(sizeof *c);
    if (!c)
        return NUB_ERR_HEAP_EXHAUSTED;
    nub_memset(c, 0, sizeof *c);
    nub_memcpy(c->instance, inst->hash, NUB_CAP_HASH_BYTES);
    c->jit = r->jit;
    c->jit_generation = r->jit->generation;
    c->in_use = 1;
    c->last_use = spaces.clock;
    r->cached = c;
    r->space_ptr = &c->space;
    nub_status s = build(r, &inst->view);
    /* Short of heap: make room from other kept spaces and other compiled
     * images (never this run's), then build again. */
    while (s == NUB_ERR_HEAP_EXHAUSTED &&
           (nub_invoke_evict_space() || nub_jit_cache_evict(r->jit))) {
        nub_uspace_destroy(&c->space);
        s = build(r, &inst->view);
    }
    c->ctx = r->ctx;
    c->next = spaces.head;
    spaces.head = c;
    spaces.count++;
    return s;
}

/* After a call: keep the space unless the call changed a mapping (or failed). */
static void release_space(struct run *r, nub_status s)
{
    struct cached_space *c = r->cached;
    if (!c)
        return;
    c->in_use = 0;
    if (s != NUB_OK || c->mapping_changed) {
        space_unlink(c);
        space_free(c);
    }
}

/* Copies [address, address + length) out of the run's pages; 0 if some
 * byte is inaccessible (then out is zeroed). */
static int read_back(const struct run *r, uint32_t address, uint32_t length, uint8_t *out)
{
    uint32_t done = 0;
    while (done < length) {
        uint32_t a = address + done; /* wraps like PVM addresses */
        uint32_t in_page = 4096 - (a & 4095);
        uint32_t n = length - done < in_page ? length - done : in_page;
        const uint8_t *page = nub_uspace_lookup(r->space_ptr, window_va(a & ~UINT32_C(4095)), 0);
        if (!page) {
            nub_memset(out, 0, length);
            return 0;
        }
        nub_memcpy(out + done, page + (a & 4095), n);
        done += n;
    }
    return 1;
}

#define NUB_INVOKE_MAX_READBACKS 64u
#define READBACK_HEADER          8u

struct invoke_request {
    struct nub_invoke_packet packet;
    const uint8_t *ranges;
    uint32_t range_count;
};

static nub_status parse(const uint8_t *payload, uint32_t len, struct invoke_request *req)
{
    nub_memcpy(&req->packet, payload, sizeof req->packet); /* unaligned-safe */
    uint32_t rest = len - (uint32_t)sizeof req->packet;
    if (req->packet.arg_count > 4)
        return NUB_ERR_ARG_COUNT;
    if (rest % READBACK_HEADER != 0)
        return NUB_ERR_READBACK_LIST;
    req->ranges = payload + sizeof req->packet;
    req->range_count = rest / READBACK_HEADER;
    return NUB_OK;
}

static nub_status reply_result(const struct run *r, const struct invoke_request *req,
                               const struct nub_invocation_result *res, uint8_t *reply,
                               uint32_t cap, uint32_t *reply_len)
{
    size_t used = 0;
    nub_status s = nub_wire_encode_result(res, reply, cap, &used);
    if (s != NUB_OK)
        return s;
    for (uint32_t i = 0; i < req->range_count; i++) {
        uint32_t address = nub_get_u32(req->ranges + 8 * i);
        uint32_t length = nub_get_u32(req->ranges + 8 * i + 4);
        if (length > cap || cap - used < READBACK_HEADER + (uint64_t)length)
            return NUB_ERR_PAYLOAD_TOO_LARGE;
        uint8_t *out = reply + used + READBACK_HEADER;
        uint32_t ok = (uint32_t)read_back(r, address, length, out);
        for (int b = 0; b < 4; b++) {
            out[b - 8] = (uint8_t)(ok >> (8 * b));
            out[b - 4] = (uint8_t)(length >> (8 * b));
        }
        used += READBACK_HEADER + length;
    }
    *reply_len = (uint32_t)used;
    return NUB_OK;
}

static void fill_result(struct nub_invocation_result *res, const struct pvm_state *st,
                        const struct pvm_exit *ex)
{
    nub_memset(res, 0, sizeof *res);
    res->exit_reason = ex->reason;
    res->exit_arg = ex->arg;
    res->return_value = st->regs[PVM_REG_A0];
    res->gas_remaining = (uint64_t)st->gas;
    for (int i = 0; i < NUB_PVM_REGS; i++)
        res->regs[i] = st->regs[i];
    res->pc = ex->pc;
}

nub_status nub_fn_invoke_cached(const uint8_t *payload, uint32_t len, uint8_t *reply, uint32_t cap,
                                uint32_t *reply_len)
{
    struct invoke_request req;
    nub_status s = parse(payload, len, &req);
    if (s != NUB_OK)
        return s;
    const struct nub_cap_entry *inst = nub_directory_find(req.packet.instance_hash);
    if (!inst)
        return NUB_ERR_CAP_NOT_FOUND;
    if (inst->view.kind != NUB_WIRE_KIND_INSTANCE)
        return NUB_ERR_CAP_WRONG_KIND;
    const struct nub_cap_entry *image = nub_directory_find(inst->view.instance.image_hash);
    if (!image || image->view.kind != NUB_WIRE_KIND_IMAGE)
        return NUB_ERR_CAP_MISSING_DEP; /* cannot happen: checked at PUT_CAP */
    if (req.packet.endpoint_idx >= image->view.image.endpoint_count)
        return NUB_ERR_BAD_ENDPOINT;
    struct nub_wire_endpoint ep;
    s = nub_wire_image_endpoint(&image->view, req.packet.endpoint_idx, &ep);
    if (s != NUB_OK)
        return s;

    struct pvm_state state;
    nub_memset(&state, 0, sizeof state);
    for (int i = 0; i < NUB_PVM_REGS; i++)
        state.regs[i] = ep.regs[i];
    for (uint32_t i = 0; i < req.packet.arg_count; i++)
        state.regs[PVM_REG_A0 + i] = req.packet.args[i];
    state.pc = ep.pc;
    /* PVM gas is a signed i64 (SPEC §1): a budget past INT64_MAX would turn
     * negative and end the run at once, so it is refused as a bad request. */
    uint64_t gas =
        req.packet.initial_gas ? req.packet.initial_gas : inst->view.instance.facts.default_gas;
    if (gas > (uint64_t)INT64_MAX)
        return NUB_ERR_GAS_TOO_LARGE;
    state.gas = (int64_t)gas;
    state.heap_top = inst->view.instance.facts.heap_top;

    struct run run;
    nub_memset(&run, 0, sizeof run);
    s = nub_jit_cache_get(image, &run.jit);
    if (s != NUB_OK)
        return s;
    struct nub_invocation_result res;
    s = acquire_space(&run, inst);
    if (s == NUB_OK && run.jit->invalid) {
        /* SPEC §4.2: an invalid blob panics at pc 0 without running or
         * charging gas; memory stays as published. */
        struct pvm_exit ex = {.reason = PVM_EXIT_PANIC, .pc = 0, .arg = 0};
        fill_result(&res, &state, &ex);
        s = reply_result(&run, &req, &res, reply, cap, reply_len);
    } else if (s == NUB_OK) {
        const struct jit_runner platform = {
            .self = &run,
            .code_address = NUB_USPACE_CODE_VA,
            .enter = platform_enter,
            .page_access = platform_page_access,
            .make_writable = platform_make_writable,
        };
        struct pvm_exit ex;
        jit_run(&run.jit->code, run.ctx, &platform, &state, false, &ex);
        fill_result(&res, &state, &ex);
        s = reply_result(&run, &req, &res, reply, cap, reply_len);
    }
    release_space(&run, s);
    return s;
}
