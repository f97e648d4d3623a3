/* rpc_table.c — the dispatch table: one slot per fn id, with its payload bounds. */
#include "kernel.h"

#include "nub_wire.h"

const struct nub_rpc_entry nub_rpc_table[NUB_GUEST_FN_TABLE_SIZE] = {
    [NUB_FN_ID_SMOKE] = {nub_fn_smoke, 0, 0, 0},
    [NUB_FN_ID_HEAP_STATS] = {nub_fn_heap_stats, 0, 0, 0},
    [NUB_FN_ID_GET_BOOT_INFO] = {nub_fn_get_boot_info, 0, 0, 0},
    [NUB_FN_ID_INVOKE_CACHED] = {nub_fn_invoke_cached, sizeof(struct nub_invoke_packet),
                                 sizeof(struct nub_invoke_packet) +
                                     sizeof(struct nub_invoke_io_header) +
                                     NUB_RPC_MAX_READBACKS * sizeof(struct nub_readback_range) +
                                     NUB_RPC_MAX_INPUT,
                                 0},
    [NUB_FN_ID_PUT_CAP] = {nub_fn_put_cap, NUB_WIRE_HEADER_BYTES, NUB_WIRE_MAX_CAP_BYTES, 0},
    [NUB_FN_ID_DROP_CAP] = {nub_fn_drop_cap, NUB_CAP_HASH_BYTES, NUB_CAP_HASH_BYTES, 0},
    [NUB_FN_ID_DEBUG_FAULT] = {nub_fn_debug_fault, 4, 4, 1},
    [NUB_FN_ID_DEBUG_SPIN] = {nub_fn_debug_spin, 0, 0, 1},
};
