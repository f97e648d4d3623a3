/*
 * vector.h — one PVM conformance vector (SPEC §13) in memory.
 */
#ifndef NUBRUN_VECTOR_H
#define NUBRUN_VECTOR_H

#include <stddef.h>
#include <stdint.h>

#include "pvm.h"

struct vector_chunk {
    uint32_t address;
    uint8_t *contents;
    uint32_t length;
};

struct vector_page {
    uint32_t address;
    uint32_t length;
    bool writable;
};

struct vector {
    char *name;
    struct pvm_state initial; /* regs, pc, gas (heap_top 0: sbrk unsupported) */
    struct vector_page *pages;
    size_t page_count;
    struct vector_chunk *memory;
    size_t memory_count;
    uint8_t *program;
    size_t program_len;
};

/* Reads FILE.json. Returns 0, or -1 with a one-line message in err. */
int vector_load(const char *path, struct vector *out, char *err, size_t err_len);
void vector_free(struct vector *v);

/* Builds the engine segments for v (one per page-map entry, the initial
 * memory copied in). *out is malloc'd; free segment data with
 * vector_segments_free. Returns 0 or -1 with err. */
int vector_segments(const struct vector *v, struct pvm_segment **out, size_t *count, char *err,
                    size_t err_len);
void vector_segments_free(struct pvm_segment *segments, size_t count);

#endif /* NUBRUN_VECTOR_H */
