/*
 * step_vector.c — step-format vectors (see step_vector.h).
 *
 * Memory lives here, page by page, between runs: each `run` is one engine
 * job whose segments are the mapped pages (adjacent pages of equal access
 * merged) with their current contents, and whose readbacks bring the pages
 * back afterwards. Registers, pc, gas and the gas-charged flag carry over
 * from the previous run's final state.
 */
#include "step_vector.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "pvm_alloc_libc.h"
#include "pvm_program.h"
#include "vector_mode.h"

struct page {
    uint32_t number;
    bool writable;
    uint8_t *bytes; /* PVM_PAGE_SIZE */
};

struct machine {
    struct page *pages; /* sorted by number */
    size_t count;
    struct pvm_state state;
    struct pvm_exit last;
    bool ran;
};

static struct page *find_page(struct machine *m, uint32_t number)
{
    for (size_t i = 0; i < m->count; i++)
        if (m->pages[i].number == number)
            return &m->pages[i];
    return NULL;
}

static int map_page(struct machine *m, uint32_t number, bool writable)
{
    struct page *p = find_page(m, number);
    if (p != NULL) {
        p->writable = writable;
        return 0;
    }
    struct page *grown = realloc(m->pages, (m->count + 1) * sizeof(*grown));
    if (grown == NULL)
        return -1;
    m->pages = grown;
    size_t at = 0;
    while (at < m->count && m->pages[at].number < number)
        at++;
    memmove(&m->pages[at + 1], &m->pages[at], (m->count - at) * sizeof(*grown));
    m->pages[at] =
        (struct page){.number = number, .writable = writable, .bytes = calloc(PVM_PAGE_SIZE, 1)};
    m->count++;
    return m->pages[at].bytes != NULL ? 0 : -1;
}

/* A run of adjacent pages with equal access: pages[first .. first + n). */
struct range {
    size_t first, n;
};

static size_t ranges_of(const struct machine *m, struct range *out)
{
    size_t k = 0;
    for (size_t i = 0; i < m->count; i++) {
        if (k > 0) {
            struct range *r = &out[k - 1];
            const struct page *last = &m->pages[r->first + r->n - 1];
            if (last->number + 1 == m->pages[i].number && last->writable == m->pages[i].writable) {
                r->n++;
                continue;
            }
        }
        out[k++] = (struct range){i, 1};
    }
    return k;
}

/* One run: a job from the machine's state and pages; pages updated after. */
static int run_step(const struct nubrun_engine *engine, uint32_t isa, const uint8_t *blob,
                    size_t blob_len, struct machine *m, char *err, size_t err_len)
{
    struct range *ranges = calloc(m->count + 1, sizeof(*ranges));
    size_t n = ranges != NULL ? ranges_of(m, ranges) : 0;
    struct pvm_segment *segs = calloc(n + 1, sizeof(*segs));
    struct nubrun_readback *rb = calloc(n + 1, sizeof(*rb));
    int rc = -1;
    if (ranges == NULL || segs == NULL || rb == NULL) {
        snprintf(err, err_len, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t len = (uint32_t)ranges[i].n * PVM_PAGE_SIZE;
        uint8_t *data = malloc(len);
        rb[i].buffer = malloc(len);
        if (data == NULL || rb[i].buffer == NULL) {
            free(data);
            snprintf(err, err_len, "out of memory");
            goto done;
        }
        for (size_t k = 0; k < ranges[i].n; k++)
            memcpy(data + k * PVM_PAGE_SIZE, m->pages[ranges[i].first + k].bytes, PVM_PAGE_SIZE);
        const struct page *first = &m->pages[ranges[i].first];
        segs[i] = (struct pvm_segment){
            .address = first->number * PVM_PAGE_SIZE,
            .length = len,
            .access = first->writable ? PVM_ACCESS_WRITE : PVM_ACCESS_READ,
            .data = data,
            .data_len = len,
        };
        rb[i].address = segs[i].address;
        rb[i].length = len;
    }
    struct nubrun_job job = {
        .blob = blob,
        .blob_len = blob_len,
        .isa = isa,
        .segments = segs,
        .segment_count = n,
        .initial = m->state,
        .readbacks = rb,
        .readback_count = n,
    };
    struct nubrun_outcome o;
    if (engine->run(&job, &o, err, err_len) != 0)
        goto done;
    for (size_t i = 0; i < n; i++)
        if (rb[i].ok)
            for (size_t k = 0; k < ranges[i].n; k++)
                memcpy(m->pages[ranges[i].first + k].bytes, rb[i].buffer + k * PVM_PAGE_SIZE,
                       PVM_PAGE_SIZE);
    m->state = o.final;
    m->state.pc = o.exit.pc;
    m->last = o.exit;
    m->ran = true;
    rc = 0;
done:
    for (size_t i = 0; i < n && segs != NULL && rb != NULL; i++) {
        free((void *)segs[i].data);
        free(rb[i].buffer);
    }
    free(segs);
    free(rb);
    free(ranges);
    return rc;
}

/* After a host call the next run continues at the instruction after it. */
static int step_past_host_call(uint32_t isa, const uint8_t *blob, size_t blob_len,
                               struct machine *m)
{
    struct pvm_allocator alloc = pvm_libc_allocator();
    struct pvm_program *p = NULL;
    if (pvm_program_decode_isa(blob, blob_len, isa, &alloc, &p) != PVM_OK)
        return -1;
    struct pvm_insn in;
    pvm_decode_insn(p, m->state.pc, &in);
    m->state.pc = (uint32_t)(in.next_pc > p->code_len ? p->code_len : in.next_pc);
    m->state.gas_charged = true;
    pvm_program_destroy(p);
    return 0;
}

static const char *step_status(uint32_t reason)
{
    return reason == PVM_EXIT_HOST_CALL ? "ecalli" : nubrun_status_name(reason);
}

static void print_assert(FILE *out, const struct machine *m)
{
    fprintf(out, "{\"status\": \"%s\", \"gas\": %" PRId64 ", \"pc\": %" PRIu32 ", \"regs\": [",
            m->ran ? step_status(m->last.reason) : "none", m->state.gas, m->state.pc);
    for (int i = 0; i < PVM_NUM_REGS; i++)
        fprintf(out, "%s%" PRIu64, i ? ", " : "", m->state.regs[i]);
    fprintf(out, "]");
    if (m->ran && m->last.reason == PVM_EXIT_PAGE_FAULT)
        fprintf(out, ", \"page-fault-address\": %" PRIu64, m->last.arg);
    if (m->ran && m->last.reason == PVM_EXIT_HOST_CALL)
        fprintf(out, ", \"hostcall\": %" PRIu64, m->last.arg);
    fprintf(out, ", \"memory\": [");
    bool first = true;
    for (size_t i = 0; i < m->count; i++) {
        const uint8_t *b = m->pages[i].bytes;
        for (uint32_t k = 0; k < PVM_PAGE_SIZE;) {
            if (b[k] == 0) {
                k++;
                continue;
            }
            uint32_t end = k;
            while (end < PVM_PAGE_SIZE && b[end] != 0)
                end++;
            fprintf(out, "%s{\"address\": %" PRIu32 ", \"contents\": [", first ? "" : ", ",
                    m->pages[i].number * PVM_PAGE_SIZE + k);
            for (uint32_t j = k; j < end; j++)
                fprintf(out, "%s%u", j > k ? ", " : "", b[j]);
            fprintf(out, "]}");
            first = false;
            k = end;
        }
    }
    fprintf(out, "]}\n");
}

static bool byte_list(const struct json_value *v, uint8_t **out, size_t *len)
{
    if (v == NULL || v->type != JSON_ARRAY)
        return false;
    uint8_t *bytes = malloc(v->count + 1);
    if (bytes == NULL)
        return false;
    for (size_t i = 0; i < v->count; i++) {
        uint64_t b;
        if (!json_as_u64(&v->items[i], &b) || b > 255) {
            free(bytes);
            return false;
        }
        bytes[i] = (uint8_t)b;
    }
    *out = bytes;
    *len = v->count;
    return true;
}

/* One non-run step; 0, or -1 with err. */
static int apply_step(struct machine *m, const struct json_value *step, const char *kind, char *err,
                      size_t err_len)
{
    if (strcmp(kind, "map") == 0) {
        uint32_t address, length;
        bool writable;
        if (!json_as_u32(json_get(step, "address"), &address) ||
            !json_as_u32(json_get(step, "length"), &length) ||
            !json_as_bool(json_get(step, "is_writable"), &writable) ||
            (uint64_t)address + length > ((uint64_t)1 << 32))
            return snprintf(err, err_len, "map: bad address/length/is_writable"), -1;
        uint64_t first = address / PVM_PAGE_SIZE;
        uint64_t end = ((uint64_t)address + length + PVM_PAGE_SIZE - 1) / PVM_PAGE_SIZE;
        for (uint64_t p = first; p < end; p++)
            if (map_page(m, (uint32_t)p, writable) != 0)
                return snprintf(err, err_len, "out of memory"), -1;
        return 0;
    }
    if (strcmp(kind, "write") == 0) {
        uint32_t address;
        uint8_t *bytes = NULL;
        size_t len = 0;
        if (!json_as_u32(json_get(step, "address"), &address) ||
            !byte_list(json_get(step, "contents"), &bytes, &len))
            return snprintf(err, err_len, "write: bad address/contents"), -1;
        for (size_t i = 0; i < len; i++) {
            uint32_t a = address + (uint32_t)i;
            struct page *p = find_page(m, a / PVM_PAGE_SIZE);
            if (p == NULL) {
                free(bytes);
                return snprintf(err, err_len, "write: address %#x is not mapped", a), -1;
            }
            p->bytes[a % PVM_PAGE_SIZE] = bytes[i];
        }
        free(bytes);
        return 0;
    }
    if (strcmp(kind, "set-reg") == 0) {
        uint32_t reg;
        uint64_t value;
        if (!json_as_u32(json_get(step, "reg"), &reg) || reg >= PVM_NUM_REGS ||
            !json_as_u64(json_get(step, "value"), &value))
            return snprintf(err, err_len, "set-reg: bad reg/value"), -1;
        m->state.regs[reg] = value;
        return 0;
    }
    return snprintf(err, err_len, "unknown step kind '%s'", kind), -1;
}

int nubrun_step_vector(const struct nubrun_engine *engine, uint32_t isa,
                       const struct json_value *root, const char *path, FILE *out)
{
    char err[512] = "";
    struct machine m;
    memset(&m, 0, sizeof(m));
    uint8_t *blob = NULL;
    size_t blob_len = 0;
    int rc = 1;
    const struct json_value *steps = json_get(root, "steps");
    if (!json_as_u32(json_get(root, "initial-pc"), &m.state.pc) ||
        !json_as_i64(json_get(root, "initial-gas"), &m.state.gas) ||
        !byte_list(json_get(root, "program"), &blob, &blob_len) || steps == NULL ||
        steps->type != JSON_ARRAY) {
        fprintf(stderr, "nubrun: %s: expected initial-pc, initial-gas, program and steps\n", path);
        goto done;
    }
    for (size_t i = 0; i < steps->count; i++) {
        const struct json_value *step = &steps->items[i];
        const struct json_value *k = json_get(step, "kind");
        if (k == NULL || k->type != JSON_STRING) {
            snprintf(err, sizeof(err), "step %zu has no kind", i);
            goto fail;
        }
        if (strcmp(k->string, "assert") == 0) {
            print_assert(out, &m);
        } else if (strcmp(k->string, "run") == 0) {
            if (m.ran && m.last.reason == PVM_EXIT_HOST_CALL &&
                step_past_host_call(isa, blob, blob_len, &m) != 0) {
                snprintf(err, sizeof(err), "step %zu: cannot resume after the host call", i);
                goto fail;
            }
            if (run_step(engine, isa, blob, blob_len, &m, err, sizeof(err)) != 0)
                goto fail;
        } else if (apply_step(&m, step, k->string, err, sizeof(err)) != 0) {
            goto fail;
        }
    }
    rc = 0;
    goto done;
fail:
    fprintf(stderr, "nubrun: %s: %s\n", path, err);
done:
    for (size_t i = 0; i < m.count; i++)
        free(m.pages[i].bytes);
    free(m.pages);
    free(blob);
    return rc;
}
