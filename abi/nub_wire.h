/*
 * nub_wire.h — the canonical wire encoding of caps (WireCap) and of
 * invocation results. The format is specified in docs/wire-format.md; this
 * header is its C face.
 *
 * Every encoding starts with the same 8-byte header: u32 version, u32 kind.
 * The version is 1, except for an IMAGE of a PVM ISA other than GP 0.7.2,
 * which is version 2 (it adds the ISA field; docs/wire-format.md). All integers are little-endian.
 * Decoders accept only canonical bytes (one value has exactly one encoding, so one cap has one
 * hash), never read outside [buf, buf + len), never allocate, and return a distinct NUB_ERR_WIRE_*
 * for each kind of malformation. Views point into the caller's buffer, which must stay alive and
 * unchanged while the view is used: bytes in memory the other side of the VM boundary can still
 * write must be copied into private memory first, then decoded (else they could change between
 * validation and use). Accessors never read outside the validated encoding.
 *
 * Encoders write into a caller buffer. Each takes (out, out_cap, &needed):
 * `needed` always receives the encoding's size; out == NULL with out_cap == 0
 * is a pure size query (returns NUB_OK); a buffer smaller than `needed`
 * returns NUB_ERR_PAYLOAD_TOO_LARGE and writes nothing. An encoder validates
 * its input with the decoder's rules and returns the same error the decoder
 * would return for the result, so it never produces bytes the decoder rejects.
 */
#ifndef NUB_WIRE_H
#define NUB_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "nub_abi.h"

/* ---- Format constants ------------------------------------------------- */
#define NUB_WIRE_VERSION 1u
/* IMAGE with an explicit ISA (NUB_ISA_* other than NUB_ISA_GP_0_7_2): an
 * IMAGE of GP 0.7.2 is always version 1, so one program has one encoding. */
#define NUB_WIRE_VERSION_IMAGE_ISA 2u

#define NUB_WIRE_KIND_IMAGE    1u  /* PVM program blob + endpoints */
#define NUB_WIRE_KIND_DATA     2u  /* opaque bytes */
#define NUB_WIRE_KIND_INSTANCE 3u  /* IMAGE hash + memory segments + facts */
#define NUB_WIRE_KIND_RESULT   16u /* an InvocationResult (not a cap) */

/* ---- Documented limits ------------------------------------------------ */
#define NUB_WIRE_MAX_CAP_BYTES (64u * 1024u * 1024u) /* whole encoding, any kind */
#define NUB_WIRE_MAX_ENDPOINTS 1024u                 /* per IMAGE, at least 1 */
#define NUB_WIRE_MAX_SEGMENTS  256u                  /* per INSTANCE */
#define NUB_WIRE_PAGE_BYTES    4096u                 /* segment alignment */
#define NUB_WIRE_MIN_ADDRESS   0x10000u              /* pages 0..15 are never mapped */

/* ---- Fixed sizes of the encoding's parts ------------------------------ */
#define NUB_WIRE_HEADER_BYTES         8u
#define NUB_WIRE_IMAGE_FIXED_BYTES    16u  /* header + endpoint_count + blob_len */
#define NUB_WIRE_IMAGE_V2_FIXED_BYTES 24u  /* ... + isa + zero (version 2) */
#define NUB_WIRE_ENDPOINT_BYTES       112u /* u32 pc, u32 zero, 13 x u64 */
#define NUB_WIRE_DATA_FIXED_BYTES     16u  /* header + data_len + u32 zero */
#define NUB_WIRE_INSTANCE_FIXED_BYTES 72u  /* header + hash + gas + 4 x u32 + count + zero */
#define NUB_WIRE_SEGMENT_BYTES        48u
#define NUB_WIRE_RESULT_BYTES         144u /* header + 136 */

/* Largest blob / data an IMAGE with one endpoint / a DATA can carry. */
#define NUB_WIRE_MAX_BLOB_BYTES                                                                    \
    (NUB_WIRE_MAX_CAP_BYTES - NUB_WIRE_IMAGE_FIXED_BYTES - NUB_WIRE_ENDPOINT_BYTES)
#define NUB_WIRE_MAX_DATA_BYTES (NUB_WIRE_MAX_CAP_BYTES - NUB_WIRE_DATA_FIXED_BYTES)

/* Segment access (the PVM's page states, SPEC §2). */
#define NUB_WIRE_ACCESS_NONE  0u
#define NUB_WIRE_ACCESS_READ  1u
#define NUB_WIRE_ACCESS_WRITE 2u /* read and write */

/* ---- In-memory descriptions (encoder input, accessor output) --------- */
struct nub_wire_endpoint {
    uint32_t pc;                 /* entry pc: byte offset into the code */
    uint64_t regs[NUB_PVM_REGS]; /* initial registers */
};

struct nub_wire_segment {
    uint32_t address;       /* page-aligned, >= NUB_WIRE_MIN_ADDRESS */
    uint32_t length;        /* page-aligned, > 0, address + length <= 2^32 */
    uint32_t access;        /* NUB_WIRE_ACCESS_* */
    uint32_t has_data;      /* 0 or 1 */
    uint32_t data_len;      /* length of the DATA cap (<= length); 0 when !has_data */
    nub_cap_hash data_hash; /* DATA placed at `address`; all zero when !has_data */
};

struct nub_wire_image {
    const uint8_t *blob; /* SPEC §4 program blob (not validated here) */
    uint32_t blob_len;
    const struct nub_wire_endpoint *endpoints;
    uint32_t endpoint_count; /* 1..NUB_WIRE_MAX_ENDPOINTS */
    uint32_t isa;            /* NUB_ISA_* (0: GP 0.7.2, the default) */
};

/*
 * Facts a JAM standard program needs besides its pages. Zero when unused
 * (e.g. raw conformance programs). All four addresses are page-aligned.
 * heap_top is the initial sbrk break, i.e. pvm_state.heap_top (0 = no heap).
 */
struct nub_wire_instance_facts {
    uint64_t default_gas; /* gas when an invocation asks for 0 */
    uint32_t heap_top;    /* end of the rw+heap segment */
    uint32_t heap_limit;  /* the break may grow up to here (>= heap_top) */
    uint32_t stack_low;   /* stack segment [stack_low, stack_high) */
    uint32_t stack_high;  /* initial sp (>= stack_low) */
};

struct nub_wire_instance {
    nub_cap_hash image_hash;
    struct nub_wire_instance_facts facts;
    const struct nub_wire_segment *segments; /* strictly ascending, disjoint */
    uint32_t segment_count;                  /* 0..NUB_WIRE_MAX_SEGMENTS */
};

/* ---- Validated view of one cap (pointers into the decoded buffer) ---- */
struct nub_wire_cap_view {
    uint32_t kind;        /* NUB_WIRE_KIND_IMAGE/DATA/INSTANCE */
    const uint8_t *bytes; /* the whole encoding (what the cap hash covers) */
    size_t len;
    struct {
        const uint8_t *blob;
        uint32_t blob_len;
        uint32_t endpoint_count;
        const uint8_t *endpoints; /* encoded records: use nub_wire_image_endpoint */
        uint32_t isa;             /* NUB_ISA_*: GP 0.7.2 for every version-1 IMAGE */
    } image;
    struct {
        const uint8_t *bytes;
        uint32_t len;
    } data;
    struct {
        const uint8_t *image_hash; /* NUB_CAP_HASH_BYTES bytes */
        struct nub_wire_instance_facts facts;
        uint32_t segment_count;
        const uint8_t *segments; /* encoded records: use nub_wire_instance_segment */
    } instance;
};

/* ---- Caps ------------------------------------------------------------ */

/* Validates buf[0..len) as one canonical cap and fills *view. */
nub_status nub_wire_decode_cap(const uint8_t *buf, size_t len, struct nub_wire_cap_view *view);

/* Endpoint i (< endpoint_count) of a decoded IMAGE. */
nub_status nub_wire_image_endpoint(const struct nub_wire_cap_view *view, uint32_t i,
                                   struct nub_wire_endpoint *out);

/* Segment i (< segment_count) of a decoded INSTANCE. */
nub_status nub_wire_instance_segment(const struct nub_wire_cap_view *view, uint32_t i,
                                     struct nub_wire_segment *out);

nub_status nub_wire_encode_image(const struct nub_wire_image *image, uint8_t *out, size_t out_cap,
                                 size_t *needed);
nub_status nub_wire_encode_data(const uint8_t *data, size_t data_len, uint8_t *out, size_t out_cap,
                                size_t *needed);
/* Encodes a DATA of data_len zero bytes and points *contents at them, so a
 * caller can assemble the contents in place (hash only after filling them). */
nub_status nub_wire_encode_data_in_place(size_t data_len, uint8_t *out, size_t out_cap,
                                         size_t *needed, uint8_t **contents);
nub_status nub_wire_encode_instance(const struct nub_wire_instance *instance, uint8_t *out,
                                    size_t out_cap, size_t *needed);

/* Checks one segment and its order against the previous one (NULL for the
 * first): the decoder's rules, shared with encoders and cap builders. */
nub_status nub_wire_check_segment(const struct nub_wire_segment *prev,
                                  const struct nub_wire_segment *seg);

/* ---- Invocation results --------------------------------------------- */

nub_status nub_wire_encode_result(const struct nub_invocation_result *result, uint8_t *out,
                                  size_t out_cap, size_t *needed);

/* Validates buf[0..len) as one canonical InvocationResult and copies it out. */
nub_status nub_wire_decode_result(const uint8_t *buf, size_t len,
                                  struct nub_invocation_result *out);

#endif /* NUB_WIRE_H */
