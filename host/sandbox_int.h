/* sandbox_int.h — the private state of a nub_sandbox and the parts' interfaces. */
#ifndef NUB_HOST_SANDBOX_INT_H
#define NUB_HOST_SANDBOX_INT_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "hostcall.h"
#include "nub/host.h"
#include "nub_rpc.h"

#define NUB_CONSOLE_LINE_MAX 256

/* Host-side record of published cap hashes (never read from the guest). */
struct nub_hash_set {
    uint8_t (*slots)[NUB_CAP_HASH_BYTES]; /* open addressing; an all-zero slot is empty */
    size_t capacity;                      /* power of two, or 0 */
    size_t count;
};

struct nub_sandbox {
    int kvm_fd;          /* /dev/kvm: system ioctls */
    int vm_fd;           /* the VM: memory, vCPU creation */
    int vcpu_fd;         /* the vCPU: KVM_RUN, registers */
    struct kvm_run *run; /* the vCPU's shared run page (mmap of vcpu_fd) */
    size_t run_size;

    uint8_t *mem; /* guest-physical memory [0, mem_bytes) */
    size_t mem_bytes;
    struct nub_boot_params params;  /* what the guest was told (host's own copy) */
    struct nub_boot_info boot_info; /* from the ELF file */

    uint64_t sequence; /* of the last request */
    int dead;

    void (*console)(void *ctx, const char *line);
    void *console_ctx;
    char console_line[NUB_CONSOLE_LINE_MAX];
    size_t console_len;

    /* invoke_timeout_ns: a POSIX timer signals the calling thread. */
    uint64_t timeout_ns;
    int timer_created;
    timer_t timer;
    pid_t timer_tid;
    int vcpu_mask_set;
    sigset_t vcpu_mask; /* the mask last given to KVM_SET_SIGNAL_MASK */

    struct nub_hash_set published;

    /* The nub_invoke_call in progress with host functions (else NULL): a
     * NUB_PORT_HOST_CALL exit at any other time is a protocol violation. */
    const struct nub_host *host;
    uint64_t host_calls;
    nub_status host_status;         /* NUB_ERR_HOST_ACTION once a function misbehaved */
    struct nub_host_call host_call; /* the handle (outlives the call: stale use refused) */
    int in_host_fn;                 /* a host function of this sandbox is running */

    char last_error[256];
};

/* printf-style last-error setter; returns s so callers can `return nub__fail(...)`. */
nub_status nub__fail(nub_sandbox *sb, nub_status s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Marks sb dead and records why. */
nub_status nub__kill(nub_sandbox *sb, nub_status s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- kvm_vm.c: the VM and its vCPU ---- */
nub_status nub__kvm_open(nub_sandbox *sb, const char *device);
nub_status nub__kvm_create_vm(nub_sandbox *sb);
nub_status nub__kvm_setup_vcpu(nub_sandbox *sb, uint64_t entry);
void nub__kvm_close(nub_sandbox *sb);

/* ---- guest_elf.c: the guest image ---- */
struct nub_guest_image {
    const uint8_t *bytes;
    size_t len;
};
/* The image embedded in the library. */
struct nub_guest_image nub__embedded_guest_image(void);
/* The loaded image: entry point, PT_LOAD ranges and their permissions. */
#define NUB_IMAGE_MAX_SEGMENTS 8
struct nub_image {
    uint64_t entry;
    uint64_t end; /* first byte after the last segment */
    struct nub_kernel_layout layout;
    uint32_t segment_count;
    struct {
        uint64_t start, end; /* guest-physical = virtual */
        uint32_t flags;      /* PF_X / PF_W / PF_R */
    } segments[NUB_IMAGE_MAX_SEGMENTS];
};
/* Validates the ELF, copies its PT_LOAD segments into sb->mem and reads
 * .boot_info (into sb->boot_info) and .nub_layout. */
nub_status nub__elf_load(nub_sandbox *sb, const uint8_t *elf, size_t len, struct nub_image *img);

/* ---- boot.c: the CPU environment and boot parameters the host builds ---- */
nub_status nub__boot_prepare(nub_sandbox *sb, const struct nub_image *img, uint32_t boot_flags,
                             const nub_sandbox_config *cfg);

/* ---- rpc_client.c: one call = one KVM_RUN to the doorbell ---- */
/* Runs the vCPU until it rings the doorbell (console output and EINTR
 * retried); anything else kills the sandbox. */
nub_status nub__run_to_doorbell(nub_sandbox *sb);
/* A reply larger than reply_cap is NUB_ERR_PAYLOAD_TOO_LARGE (the caller's
 * buffer; the sandbox lives). */
nub_status nub__call(nub_sandbox *sb, uint32_t fn_id, const void *payload, size_t len, void *reply,
                     size_t reply_cap, size_t *reply_len);
/* A reply larger than reply_cap is a protocol violation (the caller
 * computed the largest reply the request allows). */
nub_status nub__call_bounded(nub_sandbox *sb, uint32_t fn_id, const void *payload, size_t len,
                             void *reply, size_t reply_cap, size_t *reply_len);
/* For functions whose reply has one known size: any other length is a
 * protocol violation (NUB_ERR_PROTOCOL, sandbox dead). */
nub_status nub__call_exact(nub_sandbox *sb, uint32_t fn_id, const void *payload, size_t len,
                           void *reply, size_t reply_len);

/* ---- sandbox_hostcall.c ---- */
/* Serves a NUB_PORT_HOST_CALL exit: 0 to resume the vCPU, or -1 after
 * killing the sandbox (the guest lied; its status in *status). */
int nub__serve_host_call(nub_sandbox *sb, nub_status *status);

/* ---- api.c ---- */
/* PUT_CAP, checking the guest's hash against `expected` (the builder's),
 * or, when NULL, against the host's own BLAKE2b of the bytes. */
nub_status nub__put_cap(nub_sandbox *sb, const void *wire, size_t len, const uint8_t *expected,
                        nub_cap_hash out);

/* ---- timeout.c ---- */
nub_status nub__timeout_arm(nub_sandbox *sb, sigset_t *saved_mask);
void nub__timeout_disarm(nub_sandbox *sb, const sigset_t *saved_mask, int *fired);
void nub__timeout_destroy(nub_sandbox *sb);
/* KVM_RUN goes back to the calling thread's own signal mask (no timeout). */
void nub__timeout_forget_mask(nub_sandbox *sb);

/* ---- hash_set.c ---- */
int nub__hash_set_add(struct nub_hash_set *set, const uint8_t *hash); /* 0 ok, -1 nomem */
int nub__hash_set_has(const struct nub_hash_set *set, const uint8_t *hash);
void nub__hash_set_remove(struct nub_hash_set *set, const uint8_t *hash);
void nub__hash_set_free(struct nub_hash_set *set);

#endif /* NUB_HOST_SANDBOX_INT_H */
