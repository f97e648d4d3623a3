/*
 * nub/host.h — libnubhost, the public C API: boot a KVM micro-VM running the
 * nub guest kernel, publish caps into it and invoke PVM programs.
 *
 * Threading: a nub_sandbox is used by one thread at a time (calls on one
 * sandbox must not overlap; which thread makes them may change). Any number
 * of sandboxes may live and run at once in one process: the library keeps no
 * global mutable state.
 *
 * Errors: every call returns a nub_status (nub_strerror() names it);
 * nub_sandbox_last_error() gives the details of the last failure on that
 * sandbox. When the guest crashes (a kernel fault, triple fault, shutdown,
 * an unexpected exit) or a call times out, the call returns
 * NUB_ERR_GUEST_CRASHED / NUB_ERR_TIMEOUT, the host process stays healthy,
 * and the sandbox is dead: every later call fails fast with
 * NUB_ERR_SANDBOX_DEAD. Destroy it and create a new one.
 */
#ifndef NUB_HOST_H
#define NUB_HOST_H

#include <stddef.h>
#include <stdint.h>

#include "nub_abi.h"
#include "nub_capbuild.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nub_sandbox nub_sandbox;

/* Defaults of nub_sandbox_config (a field left 0 / NULL). */
#define NUB_SANDBOX_DEFAULT_MEMORY_BYTES ((size_t)256 << 20) /* 256 MiB, lazily backed */
#define NUB_SANDBOX_MIN_MEMORY_BYTES     ((size_t)32 << 20)
#define NUB_SANDBOX_MAX_MEMORY_BYTES     ((size_t)4 << 30)
#define NUB_SANDBOX_DEFAULT_KVM_DEVICE   "/dev/kvm"

/* nub_sandbox_config.flags */
#define NUB_SANDBOX_FLAG_DEBUG_FNS 1u /* let the guest serve NUB_FN_ID_DEBUG_* (tests only) */

typedef struct nub_sandbox_config {
    /* Guest-physical memory, a multiple of 2 MiB in
     * [NUB_SANDBOX_MIN_MEMORY_BYTES, NUB_SANDBOX_MAX_MEMORY_BYTES];
     * 0: NUB_SANDBOX_DEFAULT_MEMORY_BYTES. */
    size_t guest_memory_bytes;
    /* NULL: the guest image built into the library. */
    const char *guest_image_path;
    /* 0: no limit. Else a call running longer is stopped (the vCPU is kicked
     * with a signal), fails with NUB_ERR_TIMEOUT and the sandbox is dead. */
    uint64_t invoke_timeout_ns;
    /* Called with each line the guest prints on its serial console (without
     * the newline); NULL: the guest stays silent. */
    void (*console)(void *ctx, const char *line);
    void *console_ctx;

    /* ---- beyond the contract ---- */
    /* NULL: NUB_SANDBOX_DEFAULT_KVM_DEVICE (a test hook for missing /dev/kvm). */
    const char *kvm_device_path;
    /* NUB_SANDBOX_FLAG_*. */
    uint32_t flags;
    /* Cap directory limits; 0: the guest's defaults (4096 caps; 256 MiB of
     * wire bytes, at most half the guest heap). Lower limits only. */
    uint32_t directory_max_caps;
    uint64_t directory_max_bytes;
    /* When nub_sandbox_create fails and this is not NULL, a NUL-terminated
     * description of the failure is written here (at most create_error_len
     * bytes). */
    char *create_error;
    size_t create_error_len;
} nub_sandbox_config;

/**
 * Creates a sandbox: a VM with one vCPU, the guest booted and ready.
 * @param[in]  cfg  configuration; NULL for all defaults
 * @param[out] out  the new sandbox (NULL on failure)
 * @retval NUB_ERR_KVM_UNAVAILABLE / NUB_ERR_KVM_PERMISSION  no usable KVM device
 * @retval NUB_ERR_GUEST_IMAGE  the guest ELF is unreadable or malformed
 * @retval NUB_ERR_BOOT_INFO_MISMATCH  the booted guest disagrees with its file
 */
nub_status nub_sandbox_create(const nub_sandbox_config *cfg, nub_sandbox **out);

/** Destroys a sandbox (NULL is fine); releases every fd and mapping. */
void nub_sandbox_destroy(nub_sandbox *sb);

/** The details of the last failure on sb ("" when none). Valid until the next call. */
const char *nub_sandbox_last_error(const nub_sandbox *sb);

/** Non-zero once sb is dead (a crash or timeout); every call then fails fast. */
int nub_sandbox_is_dead(const nub_sandbox *sb);

/** SMOKE: the guest replies 42 in *out. */
nub_status nub_smoke(nub_sandbox *sb, uint64_t *out);

/**
 * Publishes one cap (its canonical wire bytes). The guest validates it,
 * hashes it itself and stores it; out receives the hash (BLAKE2b-256).
 * @retval NUB_ERR_WIRE_*  malformed cap
 * @retval NUB_ERR_CAP_MISSING_DEP  an INSTANCE whose IMAGE or DATA is absent
 * @retval NUB_ERR_DIRECTORY_FULL / NUB_ERR_HEAP_EXHAUSTED  guest limits reached
 */
nub_status nub_put_cap(nub_sandbox *sb, const void *wire, size_t len, nub_cap_hash out);

/** Non-zero if this sandbox published a cap with hash h (kept host-side). */
int nub_sandbox_has_cap(const nub_sandbox *sb, const nub_cap_hash h);

/**
 * Runs endpoint p->endpoint_idx of the published INSTANCE p->instance_hash
 * from its published memory (every call starts fresh) with args over
 * phi7..phi10 and p->initial_gas (0: the instance's default gas).
 * A program's own fault or trap is a normal result (out->exit_reason);
 * the status reports problems with the request or the sandbox.
 */
nub_status nub_invoke(nub_sandbox *sb, const struct nub_invoke_packet *p,
                      struct nub_invocation_result *out);

/** A range of PVM memory to copy out after an invocation. */
struct nub_readback {
    uint32_t address; /* PVM address (wraps at 2^32) */
    uint32_t length;
    void *buffer; /* length bytes, filled */
    int ok;       /* set: 0 when some byte was inaccessible (buffer zeroed) */
};
#define NUB_INVOKE_MAX_READBACKS 64u

/**
 * nub_invoke, and copies ranges of the run's final memory out (for
 * conformance checks); count <= NUB_INVOKE_MAX_READBACKS and the ranges
 * together must fit the guest's response buffer (1 MiB).
 */
nub_status nub_invoke_readback(nub_sandbox *sb, const struct nub_invoke_packet *p,
                               struct nub_invocation_result *out, struct nub_readback *readbacks,
                               size_t count);

/**
 * Publishes a JAM standard program (SPEC §11) with its argument data: its
 * DATA caps, IMAGE and INSTANCE (endpoint 0: Refine/Is-Authorized at pc 0,
 * endpoint 1: Accumulate at pc 5); instance_out receives the INSTANCE hash.
 */
nub_status nub_publish_stdprog(nub_sandbox *sb, const void *program, size_t program_len,
                               const void *args, size_t args_len, uint64_t default_gas,
                               nub_cap_hash instance_out);

/**
 * nub_publish_stdprog for a program written for PVM ISA version isa
 * (NUB_ISA_GP_0_7_2 or NUB_ISA_GP_0_8_0, nub_abi.h). The version is part of
 * the IMAGE, so the same bytes published under two versions are two
 * programs with two hashes. nub_publish_stdprog publishes GP 0.7.2.
 * @retval NUB_ERR_WIRE_ISA  unknown version
 */
nub_status nub_publish_stdprog_isa(nub_sandbox *sb, const void *program, size_t program_len,
                                   const void *args, size_t args_len, uint64_t default_gas,
                                   uint32_t isa, nub_cap_hash instance_out);

/** Publishes a raw PVM blob with explicit memory and one endpoint (abi/nub_capbuild.h;
 * program->isa names its PVM ISA version). */
nub_status nub_publish_raw(nub_sandbox *sb, const struct nub_capbuild_raw *program,
                           nub_cap_hash instance_out);

/** The guest heap's statistics. */
nub_status nub_heap_stats(nub_sandbox *sb, struct nub_heap_stats *out);

/** The guest's boot info, as served by GET_BOOT_INFO (checked against the file at boot). */
nub_status nub_get_boot_info(nub_sandbox *sb, struct nub_boot_info *out);

/**
 * A raw RPC (tests, tools): sends fn_id with payload[0..len) and copies the
 * reply payload to reply[0..reply_cap), its length in *reply_len.
 * @retval the guest's status for the call, or a transport status
 *         (NUB_ERR_PAYLOAD_TOO_LARGE when the request does not fit the
 *         request buffer or the reply does not fit reply_cap)
 */
nub_status nub_sandbox_call_raw(nub_sandbox *sb, uint32_t fn_id, const void *payload, size_t len,
                                void *reply, size_t reply_cap, size_t *reply_len);

/** Largest request payload a sandbox accepts (the request buffer minus its header). */
size_t nub_sandbox_max_request(const nub_sandbox *sb);

const char *nub_strerror(nub_status s);

#ifdef __cplusplus
}
#endif

#endif /* NUB_HOST_H */
