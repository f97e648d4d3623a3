/*
 * vector_mode.c — run a vector, print {"status", "regs", "pc", "gas",
 * ["page-fault-address"], "memory"}.
 */
#include "vector_mode.h"

#include <inttypes.h>
#include <stdlib.h>

#include "json.h"
#include "nub_readfile.h"
#include "step_vector.h"
#include "vector.h"

const char *nubrun_status_name(uint32_t reason)
{
    switch (reason) {
    case PVM_EXIT_HALT:
        return "halt";
    case PVM_EXIT_PANIC:
        return "panic";
    case PVM_EXIT_OUT_OF_GAS:
        return "out-of-gas";
    case PVM_EXIT_PAGE_FAULT:
        return "page-fault";
    case PVM_EXIT_HOST_CALL:
        return "host";
    default:
        return "error";
    }
}

static void print_result(FILE *out, const struct nubrun_outcome *o,
                         const struct nubrun_readback *rb, size_t rb_count)
{
    fprintf(out, "{\"status\": \"%s\", \"regs\": [", nubrun_status_name(o->exit.reason));
    for (int i = 0; i < PVM_NUM_REGS; i++)
        fprintf(out, "%s%" PRIu64, i ? ", " : "", o->final.regs[i]);
    fprintf(out, "], \"pc\": %" PRIu32 ", \"gas\": %" PRId64, o->exit.pc, o->final.gas);
    if (o->exit.reason == PVM_EXIT_PAGE_FAULT)
        fprintf(out, ", \"page-fault-address\": %" PRIu64, o->exit.arg);
    fprintf(out, ", \"memory\": [");
    for (size_t i = 0; i < rb_count; i++) {
        fprintf(out, "%s{\"address\": %" PRIu32 ", \"contents\": [", i ? ", " : "", rb[i].address);
        for (uint32_t k = 0; k < rb[i].length; k++)
            fprintf(out, "%s%u", k ? ", " : "", rb[i].buffer[k]);
        fprintf(out, "]}");
    }
    fprintf(out, "]}\n");
}

/* 1: the file is a step-format vector, 0: not, -1: unreadable (reported). */
static int run_if_steps(const struct nubrun_engine *engine, uint32_t isa, const char *path,
                        FILE *out, int *rc)
{
    char err[512];
    size_t len = 0;
    char *text = (char *)nub_read_file(path, NUB_READFILE_DEFAULT_MAX, &len, err, sizeof(err));
    if (text == NULL) {
        fprintf(stderr, "nubrun: %s\n", err);
        return -1;
    }
    char jerr[128];
    struct json_value *root = json_parse(text, len, jerr, sizeof(jerr));
    free(text);
    if (root == NULL || root->type != JSON_OBJECT || json_get(root, "steps") == NULL) {
        json_free(root);
        return 0; /* vector_load reports what is wrong with it */
    }
    *rc = nubrun_step_vector(engine, isa, root, path, out);
    json_free(root);
    return 1;
}

int nubrun_vector_mode(const struct nubrun_engine *engine, uint32_t isa, const char *path,
                       FILE *out)
{
    int step_rc = 1;
    int is_steps = run_if_steps(engine, isa, path, out, &step_rc);
    if (is_steps != 0)
        return is_steps > 0 ? step_rc : 1;
    char err[512];
    struct vector v;
    if (vector_load(path, &v, err, sizeof(err)) != 0) {
        fprintf(stderr, "nubrun: %s\n", err);
        return 1;
    }
    /* The output holds every byte of the page map (about 4 characters per
     * byte) and the engines hold it twice: a map of a few hundred bytes of
     * JSON could ask for gigabytes. Refuse it up front. */
    uint64_t map_bytes = 0;
    for (size_t i = 0; i < v.page_count; i++)
        map_bytes += v.pages[i].length;
    if (map_bytes > NUBRUN_VECTOR_MAX_MAP_BYTES) {
        fprintf(stderr,
                "nubrun: %s: the page map covers %llu bytes; --vector prints every byte and "
                "takes at most %llu\n",
                path, (unsigned long long)map_bytes,
                (unsigned long long)NUBRUN_VECTOR_MAX_MAP_BYTES);
        vector_free(&v);
        return 1;
    }
    struct pvm_segment *segs = NULL;
    size_t seg_count = 0;
    if (vector_segments(&v, &segs, &seg_count, err, sizeof(err)) != 0) {
        fprintf(stderr, "nubrun: %s: %s\n", path, err);
        vector_free(&v);
        return 1;
    }
    int rc = 1;
    struct nubrun_readback *rb = calloc(v.page_count + 1, sizeof(*rb));
    if (rb == NULL) {
        fprintf(stderr, "nubrun: out of memory\n");
        goto done;
    }
    for (size_t i = 0; i < v.page_count; i++) {
        rb[i].address = v.pages[i].address;
        rb[i].length = v.pages[i].length;
        rb[i].buffer = calloc(v.pages[i].length + 1, 1);
        if (rb[i].buffer == NULL) {
            fprintf(stderr, "nubrun: out of memory\n");
            goto done;
        }
    }
    struct nubrun_job job = {
        .blob = v.program,
        .blob_len = v.program_len,
        .isa = isa,
        .segments = segs,
        .segment_count = seg_count,
        .initial = v.initial,
        .readbacks = rb,
        .readback_count = v.page_count,
    };
    struct nubrun_outcome outcome;
    if (engine->run(&job, &outcome, err, sizeof(err)) != 0) {
        fprintf(stderr, "nubrun: %s: %s\n", path, err);
        goto done;
    }
    print_result(out, &outcome, rb, v.page_count);
    rc = 0;
done:
    if (rb != NULL)
        for (size_t i = 0; i < v.page_count; i++)
            free(rb[i].buffer);
    free(rb);
    vector_segments_free(segs, seg_count);
    vector_free(&v);
    return rc;
}
