/*
 * directory.h — the cap directory: every cap PUT_CAP accepted, keyed by its
 * BLAKE2b-256 hash (recomputed by the guest), in a chained hash map whose
 * buckets are chosen by XXH3 of the hash. Caps are immutable once stored.
 *
 * Limits (documented in docs/protocol.md): at most NUB_DIRECTORY_MAX_CAPS
 * caps and NUB_DIRECTORY_MAX_BYTES wire bytes, further capped at half of
 * the heap so the JIT and PVM memory always have room.
 */
#ifndef NUB_KERNEL_DIRECTORY_H
#define NUB_KERNEL_DIRECTORY_H

#include <stdint.h>

#include "nub_abi.h"
#include "nub_wire.h"

#define NUB_DIRECTORY_MAX_CAPS  4096u
#define NUB_DIRECTORY_MAX_BYTES (UINT64_C(256) << 20)
#define NUB_DIRECTORY_BUCKETS   1024u

struct nub_cap_entry {
    struct nub_cap_entry *next; /* bucket chain */
    nub_cap_hash hash;
    struct nub_wire_cap_view view; /* points into `bytes` */
    uint8_t *bytes;                /* the cap's own heap copy */
    uint64_t len;
};

struct nub_cap_directory {
    uint64_t type_id;   /* NUB_DIRECTORY_TYPE_ID */
    uint64_t cap_count; /* caps stored */
    uint64_t cap_bytes; /* wire bytes stored */
    uint64_t max_caps;  /* the count limit in force (set at boot) */
    uint64_t max_bytes; /* the byte limit in force (set at boot) */
    struct nub_cap_entry *buckets[NUB_DIRECTORY_BUCKETS];
};

/* Sets the limits: the defaults, lowered by the host's non-zero requests. */
void nub_directory_init(uint64_t heap_bytes, uint64_t max_caps, uint64_t max_bytes);

/* The stored cap with this hash, or NULL. */
const struct nub_cap_entry *nub_directory_find(const uint8_t *hash);

/* Validates, hashes and stores wire[0..len) (copied: the request buffer is
 * reused); writes the hash. Storing a cap twice stores it once. */
nub_status nub_directory_put(const uint8_t *wire, uint32_t len, uint8_t *hash_out);

/* Removes a cap and frees its bytes, with what only it needed (an IMAGE's
 * compiled code, an INSTANCE's kept address spaces). An IMAGE or DATA that a
 * stored INSTANCE refers to is refused: NUB_ERR_CAP_IN_USE. */
nub_status nub_directory_drop(const uint8_t *hash);

#endif /* NUB_KERNEL_DIRECTORY_H */
