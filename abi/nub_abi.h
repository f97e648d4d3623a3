/*
 * nub_abi.h — what the host (libnubhost) and the guest kernel agree on.
 *
 * Compiled on both sides: hosted (Linux user space) and freestanding (the
 * guest kernel). Only the compiler's own headers may be included here.
 *
 * Every struct below has a fixed little-endian layout on x86-64; sizes and
 * offsets are pinned with _Static_assert so that a change on one side cannot
 * silently disagree with the other. Readers of bytes that crossed the VM
 * boundary copy them out with memcpy-style code (never cast a pointer into a
 * shared buffer to one of these structs: it may be unaligned and the other
 * side may change it underneath).
 */
#ifndef NUB_ABI_H
#define NUB_ABI_H

#include <stddef.h>
#include <stdint.h>

#include "nub_status.h"

/* ---- RPC function ids (index into the guest's dispatch table) ---------- */
#define NUB_FN_ID_SMOKE         0 /* replies the u64 42 */
#define NUB_FN_ID_DROP_CAP      1 /* nub_cap_hash -> empty: removes a cap */
#define NUB_FN_ID_HEAP_STATS    2 /* replies struct nub_heap_stats (32 bytes) */
#define NUB_FN_ID_INVOKE_CACHED 3 /* nub_invoke_packet -> InvocationResult (wire) */
#define NUB_FN_ID_PUT_CAP       4 /* WireCap bytes -> nub_cap_hash */
#define NUB_FN_ID_GET_BOOT_INFO 5 /* replies struct nub_boot_info (128 bytes) */
#define NUB_FN_ID_MAX           5 /* the largest id in use */
#define NUB_GUEST_FN_TABLE_SIZE 8
_Static_assert(NUB_GUEST_FN_TABLE_SIZE >= NUB_FN_ID_MAX + 1,
               "the dispatch table must have a slot for every fn id");

/* ---- Capability hash: BLAKE2b-256 of a cap's canonical wire encoding --- */
#define NUB_CAP_HASH_BYTES 32
typedef uint8_t nub_cap_hash[NUB_CAP_HASH_BYTES];

/* ---- PVM register file ------------------------------------------------- */
#define NUB_PVM_REGS 13

/* ---- PVM instruction-set versions ---------------------------------------- */
/*
 * Which Gray Paper PVM a program is written for: a property of the program
 * (the IMAGE cap records it, so its CapHash commits to it). The numbering
 * decides opcode bytes, validation, the gas model and host-call ids
 * (guest/pvm/pvm_isa.h). 0 is the default: every program without an explicit
 * version is GP 0.7.2.
 */
#define NUB_ISA_GP_0_7_2 0u /* Gray Paper v0.7.2 (SPEC.md) */
#define NUB_ISA_GP_0_8_0 1u /* Gray Paper v0.8.0 (SPEC-0.8.md) */
#define NUB_ISA_COUNT    2u

/* ---- Invocation request (INVOKE_CACHED payload, exactly 80 bytes) ------ */
/*
 * Registers start as the endpoint's (a standard program's: phi7 = argument
 * address, phi8 = argument length). args[0..arg_count) then overlay
 * phi7..phi10, or phi9..phi12 when the call carries input bytes (which set
 * phi7/phi8 to the argument area: nub_call), so argument registers and
 * input work together. arg_count 0 keeps the endpoint's registers; an args
 * entry at or past arg_count must be zero (NUB_ERR_ARG_COUNT otherwise, so a
 * caller that fills args but forgets arg_count is told). initial_gas
 * is the gas the run starts with (0: the instance's default). The guest
 * reads the packet from the request buffer with an unaligned-safe copy.
 */
struct nub_invoke_packet {
    uint8_t instance_hash[NUB_CAP_HASH_BYTES];
    uint32_t endpoint_idx;
    uint32_t arg_count; /* 0..4: how many of args overlay registers; the rest zero */
    uint64_t args[4];
    uint64_t initial_gas;
};
_Static_assert(sizeof(struct nub_invoke_packet) == 80, "nub_invoke_packet size");
_Static_assert(offsetof(struct nub_invoke_packet, instance_hash) == 0, "instance_hash");
_Static_assert(offsetof(struct nub_invoke_packet, endpoint_idx) == 32, "endpoint_idx");
_Static_assert(offsetof(struct nub_invoke_packet, arg_count) == 36, "arg_count");
_Static_assert(offsetof(struct nub_invoke_packet, args) == 40, "args");
_Static_assert(offsetof(struct nub_invoke_packet, initial_gas) == 72, "initial_gas");

/* ---- Boot info (the guest's .boot_info ELF section, 128 bytes) --------- */
/* "NUBBOOT1" read as a little-endian u64. */
#define NUB_BOOT_INFO_MAGIC UINT64_C(0x31544F4F4242554E)

struct nub_boot_info {
    uint64_t magic;             /* NUB_BOOT_INFO_MAGIC */
    uint64_t directory_va;      /* guest VA of the cap directory header */
    uint64_t directory_type_id; /* layout version of that directory */
    uint64_t guest_va_base;     /* guest VA at which guest-physical 0 is mapped */
    uint64_t reserved[12];      /* zero */
};
_Static_assert(sizeof(struct nub_boot_info) == 128, "nub_boot_info size");
_Static_assert(offsetof(struct nub_boot_info, magic) == 0, "magic");
_Static_assert(offsetof(struct nub_boot_info, directory_va) == 8, "directory_va");
_Static_assert(offsetof(struct nub_boot_info, directory_type_id) == 16, "directory_type_id");
_Static_assert(offsetof(struct nub_boot_info, guest_va_base) == 24, "guest_va_base");
_Static_assert(offsetof(struct nub_boot_info, reserved) == 32, "reserved");

/* ---- Exit reasons of one invocation ------------------------------------ */
#define NUB_EXIT_HALT       0u          /* dynamic jump to 0xFFFF0000 */
#define NUB_EXIT_PANIC      1u          /* trap, bad jump, low-memory access, ... */
#define NUB_EXIT_OUT_OF_GAS 2u          /* a basic block could not be paid */
#define NUB_EXIT_PAGE_FAULT 3u          /* exit_arg = faulting page address */
#define NUB_EXIT_HOST_CALL  4u          /* host-call id: nub_invocation_result.exit_arg64 */
#define NUB_EXIT_ERROR      0xFFFFFFFFu /* exit_arg = a nub_status: the request was bad */

/* ---- Invocation result (in-memory form; on the wire see nub_wire.h) ---- */
struct nub_invocation_result {
    uint32_t exit_reason;        /* NUB_EXIT_* */
    uint32_t pc;                 /* pc of the instruction that ended the run */
    uint64_t exit_arg;           /* see NUB_EXIT_* (a host-call id keeps all 64 bits) */
    uint64_t return_value;       /* phi7 at exit */
    uint64_t gas_remaining;      /* gas left, as the two's complement of a signed i64 */
    uint64_t regs[NUB_PVM_REGS]; /* the final registers */
};
_Static_assert(sizeof(struct nub_invocation_result) == 136, "nub_invocation_result size");
_Static_assert(offsetof(struct nub_invocation_result, exit_reason) == 0, "exit_reason");
_Static_assert(offsetof(struct nub_invocation_result, pc) == 4, "pc");
_Static_assert(offsetof(struct nub_invocation_result, exit_arg) == 8, "exit_arg");
_Static_assert(offsetof(struct nub_invocation_result, return_value) == 16, "return_value");
_Static_assert(offsetof(struct nub_invocation_result, gas_remaining) == 24, "gas_remaining");
_Static_assert(offsetof(struct nub_invocation_result, regs) == 32, "regs");

/* ---- Guest heap statistics (HEAP_STATS reply: four LE u64) ------------- */
struct nub_heap_stats {
    uint64_t allocated_bytes;
    uint64_t allocation_count;
    uint64_t fragment_count;
    uint64_t available_bytes;
};
_Static_assert(sizeof(struct nub_heap_stats) == 32, "nub_heap_stats size");
_Static_assert(offsetof(struct nub_heap_stats, allocated_bytes) == 0, "allocated_bytes");
_Static_assert(offsetof(struct nub_heap_stats, allocation_count) == 8, "allocation_count");
_Static_assert(offsetof(struct nub_heap_stats, fragment_count) == 16, "fragment_count");
_Static_assert(offsetof(struct nub_heap_stats, available_bytes) == 24, "available_bytes");

#endif /* NUB_ABI_H */
