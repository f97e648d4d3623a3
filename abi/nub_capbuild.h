/*
 * nub_capbuild.h — turn programs into the caps of nub_wire.h.
 *
 *  (a) a JAM standard program (SPEC §11, the paper's Y container) plus its
 *      argument data  ->  DATA caps (ro data, rw data, args) + IMAGE + INSTANCE;
 *  (b) a raw PVM blob + explicit page ranges + initial memory + one entry
 *      (pc, registers)  ->  DATA caps + IMAGE + INSTANCE (conformance vectors).
 *
 * Freestanding: no allocation, no libc. All caps are written back to back
 * into one caller buffer, in dependency order: every DATA first (in segment
 * order), then the IMAGE, then the INSTANCE (always the last cap), so they
 * can be stored (PUT_CAP) in that order. Two segments with equal contents
 * yield two equal DATA caps (same hash); a store may keep one.
 */
#ifndef NUB_CAPBUILD_H
#define NUB_CAPBUILD_H

#include <stddef.h>
#include <stdint.h>

#include "nub_abi.h"
#include "nub_wire.h"

/* SPEC §11.2 constants. */
#define NUB_STDPROG_PAGE             0x1000u
#define NUB_STDPROG_ZONE             0x10000u
#define NUB_STDPROG_MAX_ARGS         0x1000000u /* ZI */
#define NUB_STDPROG_RO_BASE          0x10000u
#define NUB_STDPROG_STACK_TOP        0xFEFE0000u
#define NUB_STDPROG_ARGS_BASE        0xFEFF0000u
#define NUB_STDPROG_HALT_ADDR        0xFFFF0000u
#define NUB_STDPROG_ENTRY_REFINE     0u /* endpoint 0: pc 0 (Is-Authorized, Refine) */
#define NUB_STDPROG_ENTRY_ACCUMULATE 1u /* endpoint 1: pc 5 (Accumulate) */

/* At most one DATA per segment, plus IMAGE and INSTANCE. */
#define NUB_CAPBUILD_MAX_RAW_SEGMENTS 32u
#define NUB_CAPBUILD_MAX_CAPS         (NUB_CAPBUILD_MAX_RAW_SEGMENTS + 2u)

/* Where one built cap lies in the output buffer. */
struct nub_capbuild_cap {
    size_t offset;
    size_t len;
    uint32_t kind;     /* NUB_WIRE_KIND_* */
    nub_cap_hash hash; /* BLAKE2b-256 of buf[offset, offset + len) */
};

/*
 * Output of a build. Fill buf/buf_cap and caps/caps_cap; the builder sets the
 * rest. buf == NULL with buf_cap == 0 is a size query: needed and cap_count
 * are set, nothing is written, NUB_OK is returned. Otherwise a buffer smaller
 * than needed, or a table with fewer than cap_count slots, gives
 * NUB_ERR_PAYLOAD_TOO_LARGE.
 */
struct nub_capbuild_out {
    uint8_t *buf;
    size_t buf_cap;
    struct nub_capbuild_cap *caps;
    uint32_t caps_cap;

    size_t needed;      /* bytes of all caps together */
    uint32_t cap_count; /* caps[cap_count - 1] is the INSTANCE */
};

/* ---- (a) JAM standard programs -------------------------------------- */

/* The parts of a Y container (pointers into the caller's bytes). */
struct nub_stdprog {
    const uint8_t *ro;
    uint32_t ro_len;
    const uint8_t *rw;
    uint32_t rw_len;
    uint32_t heap_pages;
    uint32_t stack_size;
    const uint8_t *blob; /* the §4 program blob (not validated here) */
    uint32_t blob_len;
};

/*
 * Splits a Y container and checks it is consumed exactly and that the §11.2
 * validity condition holds. NUB_ERR_PROGRAM_INVALID otherwise.
 */
nub_status nub_stdprog_parse(const uint8_t *prog, size_t prog_len, struct nub_stdprog *out);

/*
 * Endpoints of a standard program: 0 (pc 0, Refine/Is-Authorized) and 1
 * (pc 5, Accumulate) always; then endpoint k at pc 5k for k = 2, 3, ... as
 * long as slot k holds a 5-byte `jump` (how nub-cc lays out NUB_EXPORT(k)
 * endpoints, and older JAM services their on_transfer at pc 10), at most
 * NUB_STDPROG_MAX_ENDPOINTS. blob is the §4 code blob (a malformed one gives 2).
 */
#define NUB_STDPROG_MAX_ENDPOINTS 64u
uint32_t nub_stdprog_endpoint_count(const uint8_t *blob, uint32_t blob_len);

/*
 * Caps of a standard program invoked with argument data args[0..args_len)
 * (at most NUB_STDPROG_MAX_ARGS). Segments per §11.3: ro data R, rw data +
 * heap W, stack W, args R (a zero-length region has no segment). The IMAGE
 * has endpoints at pc 0, 5 (and 10, 15, ...: see above), all with the §11.4 registers (r0 =
 * halt address, r1 = stack top, r7 = args address, r8 = args_len). The
 * INSTANCE facts: default_gas as given, heap from the end of the rw+heap
 * segment up to one zone below the stack, the stack's bounds. Endpoints: as
 * nub_stdprog_endpoint_count says.
 */
nub_status nub_capbuild_stdprog(const uint8_t *prog, size_t prog_len, const uint8_t *args,
                                size_t args_len, uint64_t default_gas,
                                struct nub_capbuild_out *out);
/* The same for a program of ISA version isa (NUB_ISA_*; the IMAGE records
 * it). nub_capbuild_stdprog is this with NUB_ISA_GP_0_7_2. An unknown
 * version gives NUB_ERR_WIRE_ISA. */
nub_status nub_capbuild_stdprog_isa(const uint8_t *prog, size_t prog_len, const uint8_t *args,
                                    size_t args_len, uint64_t default_gas, uint32_t isa,
                                    struct nub_capbuild_out *out);

/* ---- (b) raw blobs with explicit memory ----------------------------- */

/* A page range to make accessible (page-aligned; NUB_WIRE_ACCESS_*). */
struct nub_capbuild_range {
    uint32_t address;
    uint32_t length;
    uint32_t access;
};

/* Bytes to place in memory before the run. */
struct nub_capbuild_chunk {
    uint32_t address;
    uint32_t len;
    const uint8_t *bytes;
};

struct nub_capbuild_raw {
    const uint8_t *blob;
    uint32_t blob_len;
    uint32_t pc; /* the single endpoint */
    uint64_t regs[NUB_PVM_REGS];
    const struct nub_capbuild_range *ranges; /* ascending, disjoint */
    uint32_t range_count;                    /* <= NUB_CAPBUILD_MAX_RAW_SEGMENTS */
    const struct nub_capbuild_chunk *chunks; /* later chunks overwrite earlier ones */
    uint32_t chunk_count;
    uint64_t default_gas;
    /* sbrk's initial heap top (0: no heap) and the limit it may grow to
     * (raised to heap_top when lower): the INSTANCE's heap facts. */
    uint32_t heap_top;
    uint32_t heap_limit;
    uint32_t isa; /* NUB_ISA_* of the blob (0: GP 0.7.2); the IMAGE records it */
};

/*
 * Each range becomes one segment; the chunk bytes falling into a segment
 * become its DATA (from the segment start to the last initialised byte,
 * zeros in between). A chunk byte outside every range gives
 * NUB_ERR_INVALID_ARGUMENT; bad ranges give the segment's NUB_ERR_WIRE_*.
 * Facts: default_gas, heap_top and heap_limit as given, the stack bounds zero.
 */
nub_status nub_capbuild_raw(const struct nub_capbuild_raw *prog, struct nub_capbuild_out *out);

#endif /* NUB_CAPBUILD_H */
