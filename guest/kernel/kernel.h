/* kernel.h — what the kernel's parts share: boot parameters and RPC types. */
#ifndef NUB_KERNEL_KERNEL_H
#define NUB_KERNEL_KERNEL_H

#include <stdint.h>

#include "nub_abi.h"
#include "nub_rpc.h"

/* The boot parameters, copied and checked once at boot. */
extern struct nub_boot_params nub_kernel_params;

/* The cap directory header (its address is published in .boot_info). */
struct nub_cap_directory;
extern struct nub_cap_directory nub_kernel_directory;

/*
 * One RPC function. payload/len: the request payload (len already checked
 * against min_len..max_len). reply: reply_cap bytes to write the reply to;
 * *reply_len: bytes written. A status other than NUB_OK becomes an error
 * reply with an empty payload.
 */
typedef nub_status (*nub_rpc_fn)(const uint8_t *payload, uint32_t len, uint8_t *reply,
                                 uint32_t reply_cap, uint32_t *reply_len);

struct nub_rpc_entry {
    nub_rpc_fn fn;       /* NULL: no such function */
    uint32_t min_len;    /* shorter: NUB_ERR_PAYLOAD_TRUNCATED */
    uint32_t max_len;    /* longer: NUB_ERR_PAYLOAD_TOO_LARGE */
    uint32_t debug_only; /* dispatched only with NUB_BOOT_FLAG_DEBUG_FNS */
};

/* The dispatch table, indexed by fn id (rpc_table.c). */
extern const struct nub_rpc_entry nub_rpc_table[NUB_GUEST_FN_TABLE_SIZE];

/* Serves requests forever (rpc.c). */
__attribute__((noreturn)) void nub_rpc_serve(void);

/* Functions of the table. */
nub_status nub_fn_smoke(const uint8_t *, uint32_t, uint8_t *, uint32_t, uint32_t *);
nub_status nub_fn_heap_stats(const uint8_t *, uint32_t, uint8_t *, uint32_t, uint32_t *);
nub_status nub_fn_get_boot_info(const uint8_t *, uint32_t, uint8_t *, uint32_t, uint32_t *);
nub_status nub_fn_put_cap(const uint8_t *, uint32_t, uint8_t *, uint32_t, uint32_t *);
nub_status nub_fn_drop_cap(const uint8_t *, uint32_t, uint8_t *, uint32_t, uint32_t *);
nub_status nub_fn_invoke_cached(const uint8_t *, uint32_t, uint8_t *, uint32_t, uint32_t *);
nub_status nub_fn_debug_fault(const uint8_t *, uint32_t, uint8_t *, uint32_t, uint32_t *);
nub_status nub_fn_debug_spin(const uint8_t *, uint32_t, uint8_t *, uint32_t, uint32_t *);

/* Little-endian stores/loads into byte buffers (unaligned-safe). */
static inline void nub_put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint32_t nub_get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

#endif /* NUB_KERNEL_KERNEL_H */
