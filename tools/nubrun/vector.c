/*
 * vector.c — reading a conformance vector file (SPEC §13).
 */
#include "vector.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "nub_readfile.h"

static bool byte_array(const struct json_value *v, uint8_t **out, size_t *len)
{
    if (v == NULL || v->type != JSON_ARRAY)
        return false;
    uint8_t *bytes = malloc(v->count > 0 ? v->count : 1);
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

static int parse_vector(const struct json_value *root, struct vector *v, char *err, size_t err_len)
{
    const struct json_value *name = json_get(root, "name");
    v->name = strdup(name != NULL && name->type == JSON_STRING ? name->string : "?");

    const struct json_value *regs = json_get(root, "initial-regs");
    if (regs == NULL || regs->type != JSON_ARRAY || regs->count != PVM_NUM_REGS) {
        snprintf(err, err_len, "initial-regs: expected %d numbers", PVM_NUM_REGS);
        return -1;
    }
    for (size_t i = 0; i < PVM_NUM_REGS; i++)
        if (!json_as_u64(&regs->items[i], &v->initial.regs[i])) {
            snprintf(err, err_len, "initial-regs[%zu]: not a u64", i);
            return -1;
        }
    if (!json_as_u32(json_get(root, "initial-pc"), &v->initial.pc)) {
        snprintf(err, err_len, "initial-pc: not a u32");
        return -1;
    }
    if (!json_as_i64(json_get(root, "initial-gas"), &v->initial.gas)) {
        snprintf(err, err_len, "initial-gas: not an i64");
        return -1;
    }

    const struct json_value *pages = json_get(root, "initial-page-map");
    if (pages == NULL || pages->type != JSON_ARRAY) {
        snprintf(err, err_len, "initial-page-map: expected a list");
        return -1;
    }
    v->pages = calloc(pages->count + 1, sizeof(*v->pages));
    if (v->pages == NULL)
        return snprintf(err, err_len, "out of memory"), -1;
    for (size_t i = 0; i < pages->count; i++) {
        const struct json_value *pg = &pages->items[i];
        struct vector_page *out = &v->pages[i];
        if (!json_as_u32(json_get(pg, "address"), &out->address) ||
            !json_as_u32(json_get(pg, "length"), &out->length) ||
            !json_as_bool(json_get(pg, "is-writable"), &out->writable)) {
            snprintf(err, err_len, "initial-page-map[%zu]: bad entry", i);
            return -1;
        }
        v->page_count++;
    }

    const struct json_value *mem = json_get(root, "initial-memory");
    if (mem == NULL || mem->type != JSON_ARRAY) {
        snprintf(err, err_len, "initial-memory: expected a list");
        return -1;
    }
    v->memory = calloc(mem->count + 1, sizeof(*v->memory));
    if (v->memory == NULL)
        return snprintf(err, err_len, "out of memory"), -1;
    for (size_t i = 0; i < mem->count; i++) {
        struct vector_chunk *c = &v->memory[i];
        size_t len = 0;
        if (!json_as_u32(json_get(&mem->items[i], "address"), &c->address) ||
            !byte_array(json_get(&mem->items[i], "contents"), &c->contents, &len) ||
            len > UINT32_MAX) {
            snprintf(err, err_len, "initial-memory[%zu]: bad chunk", i);
            return -1;
        }
        c->length = (uint32_t)len;
        v->memory_count++;
    }

    if (!byte_array(json_get(root, "program"), &v->program, &v->program_len)) {
        snprintf(err, err_len, "program: expected a list of bytes");
        return -1;
    }
    return 0;
}

int vector_load(const char *path, struct vector *v, char *err, size_t err_len)
{
    memset(v, 0, sizeof(*v));
    size_t len = 0;
    char *text = (char *)nub_read_file(path, NUB_READFILE_DEFAULT_MAX, &len, err, err_len);
    if (text == NULL)
        return -1;
    char jerr[128];
    struct json_value *root = json_parse(text, len, jerr, sizeof(jerr));
    free(text);
    if (root == NULL) {
        snprintf(err, err_len, "%s: invalid JSON (%s)", path, jerr);
        return -1;
    }
    char perr[160];
    int rc = -1;
    if (root->type != JSON_OBJECT)
        snprintf(perr, sizeof(perr), "not a JSON object");
    else
        rc = parse_vector(root, v, perr, sizeof(perr));
    json_free(root);
    if (rc != 0) {
        snprintf(err, err_len, "%s: %s", path, perr);
        vector_free(v);
    }
    return rc;
}

void vector_free(struct vector *v)
{
    free(v->name);
    free(v->pages);
    for (size_t i = 0; i < v->memory_count; i++)
        free(v->memory[i].contents);
    free(v->memory);
    free(v->program);
    memset(v, 0, sizeof(*v));
}

int vector_segments(const struct vector *v, struct pvm_segment **out, size_t *count, char *err,
                    size_t err_len)
{
    struct pvm_segment *segs = calloc(v->page_count + 1, sizeof(*segs));
    if (segs == NULL)
        return snprintf(err, err_len, "out of memory"), -1;
    for (size_t i = 0; i < v->page_count; i++) {
        const struct vector_page *pg = &v->pages[i];
        uint64_t end = (uint64_t)pg->address + pg->length;
        segs[i].address = pg->address;
        segs[i].length = pg->length;
        segs[i].access = pg->writable ? PVM_ACCESS_WRITE : PVM_ACCESS_READ;
        if (end > ((uint64_t)1 << 32) || pg->length == 0)
            continue; /* left to pvm_segments_validate to reject */
        uint8_t *data = calloc(pg->length, 1);
        if (data == NULL) {
            vector_segments_free(segs, i);
            return snprintf(err, err_len, "out of memory"), -1;
        }
        /* Copy every initial-memory byte that falls in this page range. */
        for (size_t c = 0; c < v->memory_count; c++) {
            const struct vector_chunk *ch = &v->memory[c];
            for (uint32_t k = 0; k < ch->length; k++) {
                uint64_t a = (uint64_t)ch->address + k;
                if (a >= pg->address && a < end)
                    data[a - pg->address] = ch->contents[k];
            }
        }
        segs[i].data = data;
        segs[i].data_len = pg->length;
    }
    /* Initial memory outside every page is not representable. */
    for (size_t c = 0; c < v->memory_count; c++) {
        const struct vector_chunk *ch = &v->memory[c];
        for (uint32_t k = 0; k < ch->length; k++) {
            uint64_t a = (uint64_t)ch->address + k;
            bool inside = false;
            for (size_t i = 0; i < v->page_count && !inside; i++)
                inside = a >= v->pages[i].address &&
                         a < (uint64_t)v->pages[i].address + v->pages[i].length;
            if (!inside) {
                vector_segments_free(segs, v->page_count);
                snprintf(err, err_len, "initial-memory byte %#llx is outside the page map",
                         (unsigned long long)a);
                return -1;
            }
        }
    }
    *out = segs;
    *count = v->page_count;
    return 0;
}

void vector_segments_free(struct pvm_segment *segments, size_t count)
{
    if (segments == NULL)
        return;
    for (size_t i = 0; i < count; i++)
        free((void *)segments[i].data);
    free(segments);
}
