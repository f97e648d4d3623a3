/* sandbox_int.h — the private state of a nub_sandbox and the parts' interfaces. */
#ifndef NUB_HOST_SANDBOX_INT_H
#define NUB_HOST_SANDBOX_INT_H

#include <linux/kvm.h>
#include <signal.h>
#include <stdatomic.h>
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

/* The vCPU state a restore puts back: everything the guest can change
 * (it writes no MSRs; docs/protocol.md §8). */
struct nub_vcpu_state {
    struct kvm_regs regs;
    struct kvm_sregs sregs;
    struct kvm_xcrs xcrs;
    struct kvm_vcpu_events events;
    struct kvm_xsave *xsave; /* xsave_bytes, malloc'd */
};

/* Page-aligned ranges of guest-physical memory backed by a memfd; the rest
 * of guest memory is anonymous (zero) memory. */
struct nub_mem_layout {
    struct nub_mem_range {
        uint64_t start, end;
    } * ranges;
    size_t count;
};

/*
 * A booted guest, frozen at its "ready" doorbell (template.c): the memory
 * image in a sealed memfd and the vCPU state. Immutable once built, so any
 * number of threads may create sandboxes from it at once; reference-counted
 * (the embedder's handle and each sandbox created from it).
 */
struct nub_template {
    atomic_uint refs;
    int kvm_fd; /* /dev/kvm: system ioctls (read-only queries) */
    int mem_fd; /* the booted guest memory, sealed against writes */
    size_t mem_bytes;
    size_t run_size; /* KVM_GET_VCPU_MMAP_SIZE */
    size_t xsave_bytes;
    /* KVM_CAP_SYNC_REGS covers regs, sregs and events: a vCPU state load
     * hands them to the next KVM_RUN through the run page (nub__vcpu_load). */
    int sync_regs;
    struct kvm_cpuid2 *cpuid;     /* what the vCPU is given (KVM_GET_SUPPORTED_CPUID) */
    struct nub_mem_layout layout; /* data ranges of mem_fd */
    struct nub_vcpu_state vcpu;
    struct nub_boot_params params;
    struct nub_boot_info boot_info;
    /* The configuration it was booted with (nub_sandbox_create checks a
     * sandbox asks for nothing else). */
    uint32_t flags;
    uint32_t directory_max_caps;
    uint64_t directory_max_bytes;
};

/* What a restore returns the sandbox to (snapshot.c): the template, or the
 * sandbox's own snapshot memfd, with the vCPU state and published caps. */
struct nub_restore_point {
    int mem_fd; /* -1: the template's memory */
    struct nub_mem_layout layout;
    struct nub_vcpu_state vcpu;
    struct nub_hash_set published;
};

struct nub_sandbox {
    struct nub_template *tmpl; /* holds a reference */
    int kvm_fd;                /* the template's /dev/kvm (not owned) */
    int vm_fd;                 /* the VM: memory, vCPU creation */
    int vcpu_fd;               /* the vCPU: KVM_RUN, registers */
    struct kvm_run *run;       /* the vCPU's shared run page (mmap of vcpu_fd) */
    size_t run_size;

    uint8_t *mem; /* guest-physical memory [0, mem_bytes) */
    size_t mem_bytes;
    struct nub_boot_params params;  /* what the guest was told (host's own copy) */
    struct nub_boot_info boot_info; /* from the ELF file */

    uint64_t sequence; /* of the last request */
    int dead;
    int no_restore;         /* NUB_SANDBOX_FLAG_NO_RESTORE */
    int snapshot_published; /* NUB_SANDBOX_FLAG_SNAPSHOT_PUBLISHED */

    /* Pages written since the restore point: the host's own writes are
     * marked here as they happen; the guest's come from KVM's dirty log
     * (folded in by nub__mem_collect_dirty). One bit per 4 KiB page. */
    uint64_t *dirty;
    size_t dirty_words;
    uint64_t *kvm_log;        /* scratch for KVM_GET_DIRTY_LOG, dirty_words long */
    const uint8_t *base_view; /* the restore point's memfd, read-only (or NULL) */
    /* Which pages of the restore point a restore has read (base_known) and
     * found all zero (base_zero), dirty_words each, one allocation made by
     * the first restore (NULL before, or if it could not be had); cleared
     * whenever the restore point's memory changes. */
    uint64_t *base_known, *base_zero;
    int dirty_unknown; /* nub__mem_dirty_unknown since the last collection */
    /* Guest memory is still the MAP_SHARED memfd the sandbox booted on (its
     * template holds a copy): the first restore or snapshot maps the
     * baseline copy-on-write (nub__mem_map), until then the guest keeps the
     * pages boot mapped into KVM. */
    int mem_live_shared;
    /* KVM logs the guest's writes. Off in a sandbox that boots, until its
     * first restore or snapshot: the first restore maps the whole baseline
     * again and the first snapshot takes every page present in the shared
     * mapping, so neither needs to know what the guest wrote before; and
     * a logged slot costs every first write of a page a write-protection
     * fault and keeps KVM from mapping neighbouring pages ahead. Turning it
     * on is a memslot update (0.1-4 ms on the kvm_pvm host), paid once by
     * the first restore or snapshot (NUB_SANDBOX_FLAG_SNAPSHOT_PUBLISHED:
     * logged from the start, its first publish snapshots). */
    int dirty_log_on;
    /* Booted, no call made yet: the first call backs the start of the
     * guest heap first (nub__mem_back_heap_start). */
    int heap_start_unbacked;
    struct nub_restore_point restore;
    int published_changed; /* since the restore point */

    void (*console)(void *ctx, const char *line);
    void *console_ctx;
    char console_line[NUB_CONSOLE_LINE_MAX];
    size_t console_len;

    /* invoke_timeout_ns: a POSIX timer signals the calling thread at the
     * call's absolute deadline. nub_sandbox_interrupt signals it too. */
    uint64_t timeout_ns;
    struct timespec deadline;
    _Atomic pid_t call_tid;         /* the thread in a call; 0: none */
    atomic_int interrupt_requested; /* set by nub_sandbox_interrupt during a call */
    atomic_int kickers;             /* nub_sandbox_interrupt calls in progress */
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
    /* The host function's write waits for the guest to refill its page pool
     * (JIT_EXIT_HOST_REFILL): a NUB_PORT_HOST_CALL exit now means "done". */
    int awaiting_refill;

    char last_error[256];
};

/* printf-style last-error setter; returns s so callers can `return nub__fail(...)`. */
nub_status nub__fail(nub_sandbox *sb, nub_status s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Marks sb dead and records why. */
nub_status nub__kill(nub_sandbox *sb, nub_status s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- kvm_vm.c: the VM and its vCPU ---- */
/* Opens the KVM device into t->kvm_fd and reads what every VM needs
 * (run-page size, CPUID, xsave size); errors are recorded on sb. */
nub_status nub__kvm_open(nub_sandbox *sb, struct nub_template *t, const char *device);
/* The VM and its vCPU, memory already mapped at sb->mem (dirty-logged if
 * sb->dirty_log_on). */
nub_status nub__kvm_create_vm(nub_sandbox *sb);
/* Turns KVM's dirty log on for guest memory (from the next guest write). */
nub_status nub__kvm_log_dirty(nub_sandbox *sb);
/* A fresh vCPU's state for the first instruction of the guest at entry. */
nub_status nub__kvm_setup_vcpu(nub_sandbox *sb, uint64_t entry);
/* Finishes an exit KVM must complete (the doorbell's `out`) without
 * entering the guest, so that the registers show the state after it. */
nub_status nub__vcpu_settle(nub_sandbox *sb);
nub_status nub__vcpu_save(nub_sandbox *sb, struct nub_vcpu_state *st);
/* Loads st into the vCPU. With t->sync_regs, regs, sregs and events take
 * effect at the next KVM_RUN (nub__vcpu_settle, or a call): read the vCPU
 * state back only after one. */
nub_status nub__vcpu_load(nub_sandbox *sb, const struct nub_vcpu_state *st);
nub_status nub__vcpu_state_init(struct nub_vcpu_state *st, size_t xsave_bytes);
void nub__vcpu_state_free(struct nub_vcpu_state *st);
void nub__kvm_close(nub_sandbox *sb);

/* ---- guest_memory.c: guest memory as memfd-backed copy-on-write ranges ---- */
/* Maps guest memory: `layout` ranges MAP_PRIVATE from fd, the rest
 * anonymous; at sb->mem when it is set (replacing what is there). */
nub_status nub__mem_map(nub_sandbox *sb, int fd, const struct nub_mem_layout *layout);
/* A new sealed memfd holding the layout's ranges of guest memory as they
 * are now (holes elsewhere): a template's baseline, copied so that the
 * sandbox that booted can go on in the memory it booted in. */
nub_status nub__mem_copy_sealed(nub_sandbox *sb, const struct nub_mem_layout *layout, int *fd_out);
/* The data ranges of fd (SEEK_DATA/SEEK_HOLE), small holes merged. */
nub_status nub__mem_layout_of(nub_sandbox *sb, int fd, size_t bytes, struct nub_mem_layout *out);
nub_status nub__mem_layout_copy(nub_sandbox *sb, const struct nub_mem_layout *from,
                                struct nub_mem_layout *to);
void nub__mem_layout_free(struct nub_mem_layout *l);
/* Allocates the dirty bitmaps for sb->mem_bytes. */
nub_status nub__mem_dirty_init(nub_sandbox *sb);
/* The host wrote guest-physical [gpa, gpa + len). */
void nub__mem_dirty(nub_sandbox *sb, uint64_t gpa, uint64_t len);
/* The host wrote guest memory at pages it cannot name: the next restore or
 * snapshot scans for every page private to the sandbox (slower). */
void nub__mem_dirty_unknown(nub_sandbox *sb);
/* The bytes in [gpa, gpa + len) no longer matter (a consumed request):
 * their whole pages go back to the baseline's, freeing host memory. They
 * stay marked dirty, which is harmless. */
void nub__mem_release(nub_sandbox *sb, uint64_t gpa, uint64_t len);
/* Backs the first pages of the guest heap in one go, before the first call
 * of a booted sandbox (best effort: see guest_memory.c). */
void nub__mem_back_heap_start(nub_sandbox *sb);
/* Folds KVM's dirty log (pages the guest wrote) into sb->dirty. */
nub_status nub__mem_collect_dirty(nub_sandbox *sb);
/* Forgets every dirty page (the current memory becomes the baseline). */
void nub__mem_dirty_clear(nub_sandbox *sb);
/* Drops every page written since the restore point (they read the restore
 * point's memory again) and clears the dirty set. */
nub_status nub__mem_reset_dirty(nub_sandbox *sb);
/* Unmaps the read-only view of the restore point's memfd (it changed). */
void nub__mem_drop_base_view(nub_sandbox *sb);
/* Frees what nub__mem_dirty_init and restores allocated. */
void nub__mem_dirty_free(nub_sandbox *sb);
/* Writes the memory into a memfd of the sandbox's own and maps it as the
 * new baseline (snapshot.c's memory half). */
nub_status nub__mem_snapshot(nub_sandbox *sb);

/* ---- template.c ---- */
void nub__template_ref(struct nub_template *t);
void nub__template_unref(struct nub_template *t);
/* Freezes a sandbox just booted on t->mem_fd (mapped shared at sb->mem),
 * stopped at its ready doorbell, as the template t; sb goes on from it. */
nub_status nub__template_capture(nub_sandbox *sb, struct nub_template *t);

/* ---- snapshot.c ---- */
/* After a call ended with a recoverable status s (timeout, interrupt,
 * guest crash): restores the sandbox and returns s, or kills it when it has
 * no restore point or the restore fails. */
nub_status nub__recover(nub_sandbox *sb, nub_status s);
nub_status nub__restore_point_init(nub_sandbox *sb);
void nub__restore_point_free(struct nub_restore_point *rp);

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
/* During a host call: runs the vCPU until the guest reports its page pool
 * refilled (a NUB_PORT_HOST_CALL exit while awaiting_refill). A timeout,
 * interrupt or crash returns its status without recovering: the call in
 * progress ends with it (nub__run_to_doorbell recovers then). */
nub_status nub__run_until_refilled(nub_sandbox *sb);
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

/* ---- timeout.c: a call's deadline and nub_sandbox_interrupt ---- */
/* Blocks the kick signal in the calling thread (KVM_RUN unblocks it),
 * publishes the thread for nub_sandbox_interrupt and arms the timer at the
 * absolute deadline. */
nub_status nub__call_begin(nub_sandbox *sb, sigset_t *saved_mask);
/* Why KVM_RUN was interrupted: NUB_ERR_INTERRUPTED, NUB_ERR_TIMEOUT (the
 * deadline has passed), or NUB_OK for some other signal (run on). */
nub_status nub__call_interrupted(nub_sandbox *sb);
/* Unpublishes the thread, disarms the timer, drains the kick signal and
 * restores the thread's mask. */
void nub__call_end(nub_sandbox *sb, const sigset_t *saved_mask);
void nub__timeout_destroy(nub_sandbox *sb);

/* ---- hash_set.c ---- */
int nub__hash_set_add(struct nub_hash_set *set, const uint8_t *hash); /* 0 ok, -1 nomem */
int nub__hash_set_has(const struct nub_hash_set *set, const uint8_t *hash);
int nub__hash_set_copy(struct nub_hash_set *to, const struct nub_hash_set *from); /* 0 / -1 */
void nub__hash_set_remove(struct nub_hash_set *set, const uint8_t *hash);
void nub__hash_set_free(struct nub_hash_set *set);

#endif /* NUB_HOST_SANDBOX_INT_H */
