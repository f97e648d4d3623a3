/*
 * nub/host.h — libnubhost, the public C API: boot a KVM micro-VM running the
 * nub guest kernel, publish caps into it and invoke PVM programs.
 *
 * Threading: a nub_sandbox is used by one thread at a time (calls on one
 * sandbox must not overlap; which thread makes them may change), except
 * nub_sandbox_interrupt, which any thread may call at any time. Any number
 * of sandboxes may live and run at once in one process: the library keeps no
 * global mutable state. A nub_template is immutable: any number of threads
 * may create sandboxes from one template at once.
 *
 * Errors: every call returns a nub_status (nub_strerror() names it);
 * nub_sandbox_last_error() gives the details of the last failure on that
 * sandbox.
 *
 * Recovery: when a call times out (NUB_ERR_TIMEOUT), is stopped by
 * nub_sandbox_interrupt (NUB_ERR_INTERRUPTED) or crashes the guest (a kernel
 * fault, triple fault, halt or unexpected exit: NUB_ERR_GUEST_CRASHED), the
 * host process stays healthy and the sandbox restores itself to its restore
 * point: the state at its last nub_sandbox_snapshot, or right after
 * nub_sandbox_create when it took none. Caps published after that point are
 * gone (nub_sandbox_has_cap agrees); NUB_SANDBOX_FLAG_SNAPSHOT_PUBLISHED
 * snapshots after every publish. The next call works.
 * The sandbox is dead instead (every later call fails fast with
 * NUB_ERR_SANDBOX_DEAD; destroy it) when the guest broke the RPC protocol
 * (NUB_ERR_PROTOCOL), when a KVM ioctl failed (NUB_ERR_KVM), or when the
 * restore itself failed for lack of host resources (memory, memfd space);
 * nub_sandbox_last_error says which.
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
/* A booted guest kept as a copy-on-write image (nub_template_create). */
typedef struct nub_template nub_template;

/* Defaults of nub_sandbox_config (a field left 0 / NULL). */
#define NUB_SANDBOX_DEFAULT_MEMORY_BYTES ((size_t)256 << 20) /* 256 MiB, lazily backed */
#define NUB_SANDBOX_MIN_MEMORY_BYTES     ((size_t)32 << 20)
#define NUB_SANDBOX_MAX_MEMORY_BYTES     ((size_t)4 << 30)
#define NUB_SANDBOX_DEFAULT_KVM_DEVICE   "/dev/kvm"

/* nub_sandbox_config.flags */
/* Let the guest serve NUB_FN_ID_DEBUG_* (tests only). */
#define NUB_SANDBOX_FLAG_DEBUG_FNS 1u
/* A timeout, interrupt or guest crash kills the sandbox and leaves it as it
 * stopped (post-mortem, white-box tests) instead of restoring it. */
#define NUB_SANDBOX_FLAG_NO_RESTORE 2u
/* Every successful publish (nub_put_cap, nub_publish_*) ends with
 * nub_sandbox_snapshot: restores keep every published cap. */
#define NUB_SANDBOX_FLAG_SNAPSHOT_PUBLISHED 4u

typedef struct nub_sandbox_config {
    /* Guest-physical memory, a multiple of 2 MiB in
     * [NUB_SANDBOX_MIN_MEMORY_BYTES, NUB_SANDBOX_MAX_MEMORY_BYTES];
     * 0: NUB_SANDBOX_DEFAULT_MEMORY_BYTES. */
    size_t guest_memory_bytes;
    /* NULL: the guest image built into the library. */
    const char *guest_image_path;
    /* 0: no limit. Else a call (one RPC: an invoke, a publish step, ...)
     * still running this long after it started is stopped (the vCPU is
     * kicked with a signal) and fails with NUB_ERR_TIMEOUT; the sandbox
     * restores itself. The deadline is absolute: other signals the thread
     * receives do not postpone it. */
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
    /* NULL: boot the guest for this sandbox. Else start from this template,
     * past boot: guest_memory_bytes, guest_image_path, kvm_device_path,
     * flags and the directory limits are the template's (leave them 0/NULL
     * or give the same values), and the guest prints on the console only if
     * the template was created with one. */
    nub_template *from_template;
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

/** Destroys a sandbox (NULL is fine); releases every fd and mapping. Not
 *  concurrently with nub_sandbox_interrupt on the same sandbox. */
void nub_sandbox_destroy(nub_sandbox *sb);

/**
 * Boots the guest once, as cfg says (cfg->from_template must be NULL), and
 * keeps its memory and vCPU state: nub_sandbox_create with
 * cfg.from_template = the template then starts a sandbox from it, sharing
 * its memory copy-on-write, without booting. Same errors as
 * nub_sandbox_create.
 */
nub_status nub_template_create(const nub_sandbox_config *cfg, nub_template **out);

/** Drops the embedder's handle (NULL is fine); sandboxes made from the
 *  template keep it alive until they are destroyed. */
void nub_template_destroy(nub_template *t);

/**
 * Makes the current state the sandbox's restore point: its memory (written
 * to a memfd of its own; later snapshots write only the pages changed
 * since), vCPU state and published caps. Take one after publishing.
 * @retval NUB_ERR_SANDBOX_DEAD  sb is dead
 * @retval NUB_ERR_NOMEM / NUB_ERR_KVM  no snapshot; the sandbox is dead
 */
nub_status nub_sandbox_snapshot(nub_sandbox *sb);

/**
 * Returns the sandbox to its restore point (what a timeout, interrupt or
 * guest crash does by itself). Costs in proportion to the pages written
 * since the restore point.
 * @retval NUB_ERR_SANDBOX_DEAD  sb is dead
 * @retval NUB_ERR_NOMEM / NUB_ERR_KVM  the restore failed; the sandbox is dead
 */
nub_status nub_sandbox_restore(nub_sandbox *sb);

/**
 * Changes invoke_timeout_ns for the calls that follow (0: no limit), e.g. a
 * tight bound for untrusted programs and none for publishing.
 * @retval NUB_ERR_INVALID_ARGUMENT  sb is NULL
 */
nub_status nub_sandbox_set_timeout(nub_sandbox *sb, uint64_t invoke_timeout_ns);

/**
 * Stops the call running on sb, if any: it returns NUB_ERR_INTERRUPTED and
 * the sandbox restores itself. Safe from any thread at any time (also from
 * a signal handler: it only uses atomics and tgkill); with no call running
 * it does nothing, and the next call is not affected.
 * @retval NUB_ERR_INVALID_ARGUMENT  sb is NULL
 */
nub_status nub_sandbox_interrupt(nub_sandbox *sb);

/** The details of the last failure on sb ("" when none). Valid until the next call. */
const char *nub_sandbox_last_error(const nub_sandbox *sb);

/** Non-zero once sb is dead (see Recovery above); every call then fails fast. */
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

/* ---- Host functions and per-call data (docs/host-calls.md) ------------ */

/*
 * The program's `ecalli N` calls the embedder's host function with the
 * host-call id N (all 64 bits, as every engine decodes it) and a handle on
 * the stopped run. The function reads and sets registers and gas, reads and
 * writes PVM memory under the page rules, and returns what happens next.
 * The same function serves the sandbox (nub_invoke_call), the in-process
 * JIT and the interpreter (nub/local.h): one meaning everywhere. It may
 * block (the program waits; in a sandbox the time counts toward
 * invoke_timeout_ns); it must not call into the same sandbox or local
 * instance.
 */
typedef struct nub_host_call nub_host_call;

/* What a host function returns (GP's host-call results). */
enum nub_host_action {
    NUB_HOST_CONTINUE = 0,   /* resume after the ecalli, same gas block */
    NUB_HOST_HALT = 1,       /* end the run: NUB_EXIT_HALT at the ecalli */
    NUB_HOST_PANIC = 2,      /* end the run: NUB_EXIT_PANIC at the ecalli */
    NUB_HOST_OUT_OF_GAS = 3, /* end the run: NUB_EXIT_OUT_OF_GAS at the ecalli */
};

/* Any other return value ends the run and the call fails with
 * NUB_ERR_HOST_ACTION. */
typedef int (*nub_host_fn)(void *ctx, nub_host_call *call);

struct nub_host {
    nub_host_fn fn; /* NULL: every ecalli ends the run with NUB_EXIT_HOST_CALL */
    void *ctx;
};

/** The host-call id (the ecalli immediate, sign-extended to 64 bits). */
uint64_t nub_host_call_id(const nub_host_call *c);
/** The pc of the ecalli. */
uint32_t nub_host_call_pc(const nub_host_call *c);
/** Register index (0..12); other indexes read 0. */
uint64_t nub_host_call_reg(const nub_host_call *c, unsigned index);
/** @retval NUB_ERR_INVALID_ARGUMENT index > 12 */
nub_status nub_host_call_set_reg(nub_host_call *c, unsigned index, uint64_t value);
/** Gas left (signed, SPEC §7); the host function charges what its call costs. */
int64_t nub_host_call_gas(const nub_host_call *c);
void nub_host_call_set_gas(nub_host_call *c, int64_t gas);
/**
 * Copies PVM memory [address, address + len) (wrapping at 2^32) to dst.
 * @retval NUB_ERR_MEMORY_INACCESSIBLE some byte is on an inaccessible page
 *         (nothing copied); GP makes this a panic: return NUB_HOST_PANIC
 * @retval NUB_ERR_RUN_FINISHED the handle is stale (its function returned)
 */
nub_status nub_host_call_read(nub_host_call *c, uint32_t address, void *dst, uint32_t len);
/**
 * Copies src into PVM memory; every byte must be on a writable page.
 * @retval NUB_ERR_MEMORY_INACCESSIBLE / NUB_ERR_MEMORY_READ_ONLY (nothing written)
 */
nub_status nub_host_call_write(nub_host_call *c, uint32_t address, const void *src, uint32_t len);

/** A range of PVM memory to copy out after an invocation. */
struct nub_readback {
    uint32_t address; /* PVM address (wraps at 2^32) */
    uint32_t length;
    void *buffer; /* length bytes, filled */
    int ok;       /* set: 0 when some byte was inaccessible (buffer zeroed) */
};
#define NUB_INVOKE_MAX_READBACKS 64u

/*
 * Per-call data of one invocation: host functions, input bytes and an
 * output buffer. No cap is published per call.
 *
 * Input (input != NULL, input_len <= NUB_STDPROG_MAX_ARGS): the argument
 * area of SPEC §11 holds the bytes (read-only, from NUB_STDPROG_ARGS_BASE,
 * whole pages; it replaces any published argument data), phi7 = its address
 * and phi8 = input_len. The packet's args then overlay phi9.. instead of
 * phi7.. (see struct nub_invoke_packet).
 * Output (output != NULL): when the program halts, the bytes it leaves at
 * [phi7, phi7 + phi8) (JAM's result convention) are copied to output.
 */
struct nub_call {
    struct nub_host host;
    const void *input;
    uint32_t input_len;
    void *output;
    uint32_t output_cap;
    /* Ranges of the final memory to copy out (as nub_invoke_readback). */
    struct nub_readback *readbacks;
    size_t readback_count;
    /* ---- set by the call ---- */
    uint32_t output_len;      /* phi8 at the halt (also when it did not fit) */
    nub_status output_status; /* NUB_OK, NUB_ERR_OUTPUT_TOO_LARGE, NUB_ERR_MEMORY_INACCESSIBLE */
    uint64_t host_calls;      /* host calls served (functions run, and grow_heap) */
};

/**
 * nub_invoke with per-call data: host functions run on the calling thread
 * while the program waits; input and output as struct nub_call says.
 * @retval NUB_ERR_HOST_ACTION a host function returned an invalid action
 */
nub_status nub_invoke_call(nub_sandbox *sb, const struct nub_invoke_packet *p,
                           struct nub_call *call, struct nub_invocation_result *out);

/**
 * Removes a cap this sandbox published: the guest frees its bytes and any
 * compiled code only it used. An IMAGE or DATA that a published INSTANCE
 * still uses is refused (NUB_ERR_CAP_IN_USE): drop the INSTANCE first.
 * @retval NUB_ERR_CAP_NOT_FOUND no such cap
 */
nub_status nub_drop_cap(nub_sandbox *sb, const nub_cap_hash hash);

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
 * endpoint 1: Accumulate at pc 5, and endpoint k at pc 5k for every further
 * slot holding a `jump`: every NUB_EXPORT(k, fn) of nub-cc, see
 * nub_stdprog_endpoint_count); instance_out receives the INSTANCE hash.
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
