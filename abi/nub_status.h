/*
 * nub_status.h — the one status enum of nub, shared by host and guest.
 *
 * A guest error reply carries one of these codes; the host library returns
 * them from every call. Values are part of the wire protocol: append new
 * codes, never renumber.
 */
#ifndef NUB_STATUS_H
#define NUB_STATUS_H

typedef enum nub_status {
    NUB_OK = 0,
    NUB_ERR_INVALID_ARGUMENT = 1, /* a NULL or out-of-range argument */
    NUB_ERR_NOMEM = 2,            /* host allocation failed */

    /* KVM and the sandbox */
    NUB_ERR_KVM_UNAVAILABLE = 10,    /* /dev/kvm missing */
    NUB_ERR_KVM_PERMISSION = 11,     /* /dev/kvm not accessible */
    NUB_ERR_KVM = 12,                /* a KVM ioctl failed */
    NUB_ERR_KVM_API_VERSION = 13,    /* unexpected KVM API version or missing capability */
    NUB_ERR_GUEST_IMAGE = 14,        /* the guest ELF is unreadable or malformed */
    NUB_ERR_GUEST_CRASHED = 15,      /* the guest faulted, triple-faulted or shut down */
    NUB_ERR_SANDBOX_DEAD = 16,       /* an earlier failure left the sandbox unusable */
    NUB_ERR_TIMEOUT = 17,            /* invoke_timeout_ns elapsed: the call was stopped */
    NUB_ERR_PROTOCOL = 18,           /* the guest broke the RPC protocol */
    NUB_ERR_BOOT_INFO_MISMATCH = 19, /* ELF .boot_info differs from GET_BOOT_INFO */
    NUB_ERR_INTERRUPTED = 20,        /* nub_sandbox_interrupt stopped the call */

    /* RPC requests */
    NUB_ERR_UNKNOWN_FN = 30,        /* fn id outside the dispatch table */
    NUB_ERR_PAYLOAD_TOO_LARGE = 31, /* request or reply larger than its buffer */
    NUB_ERR_PAYLOAD_TRUNCATED = 32, /* request shorter than the function needs */
    NUB_ERR_BAD_PACKET = 33,        /* a malformed request record (flags, padding) */

    /* Wire format decoding */
    NUB_ERR_WIRE_TRUNCATED = 40,
    NUB_ERR_WIRE_TRAILING = 41,
    NUB_ERR_WIRE_VERSION = 42,
    NUB_ERR_WIRE_KIND = 43,
    NUB_ERR_WIRE_LIMIT = 44,        /* a length past a documented limit */
    NUB_ERR_WIRE_UNALIGNED = 45,    /* a segment not page-aligned */
    NUB_ERR_WIRE_OVERLAP = 46,      /* segments overlap or are out of order */
    NUB_ERR_WIRE_ENDPOINTS = 47,    /* more endpoints than the limit */
    NUB_ERR_WIRE_OVERFLOW = 48,     /* integer overflow in a size computation */
    NUB_ERR_WIRE_NONCANONICAL = 49, /* a field with a non-canonical value (flags, padding) */
    NUB_ERR_WIRE_ISA = 50,          /* an IMAGE names an unknown PVM ISA version */

    /* Caps and invocation */
    NUB_ERR_CAP_NOT_FOUND = 60,   /* no cap with that hash */
    NUB_ERR_CAP_MISSING_DEP = 61, /* INSTANCE refers to an absent IMAGE or DATA */
    NUB_ERR_CAP_WRONG_KIND = 62,  /* the hash names a cap of another kind */
    NUB_ERR_DIRECTORY_FULL = 63,  /* cap count or byte limit reached */
    NUB_ERR_HEAP_EXHAUSTED = 64,  /* guest heap could not satisfy the request */
    NUB_ERR_BAD_ENDPOINT = 65,    /* endpoint_idx out of range */
    NUB_ERR_PROGRAM_INVALID = 66, /* the PVM blob or standard program is malformed */
    NUB_ERR_JIT = 67,             /* code buffer too small or compile failure */
    NUB_ERR_CAP_IN_USE = 68,      /* dropping an IMAGE or DATA a published INSTANCE uses */
    NUB_ERR_GAS_TOO_LARGE = 69,   /* a gas budget above INT64_MAX */
    NUB_ERR_ARG_COUNT = 70,       /* arg_count above 4, or args past it not zero */
    NUB_ERR_READBACK_LIST = 71,   /* a readback list that is not whole 8-byte records */
    NUB_ERR_INPUT_TOO_LARGE = 72, /* per-call input above NUB_STDPROG_MAX_ARGS bytes */

    /* Host functions and per-call data (host side only: never in a guest reply) */
    NUB_ERR_MEMORY_INACCESSIBLE = 80, /* a host function touched an inaccessible PVM page */
    NUB_ERR_MEMORY_READ_ONLY = 81,    /* a host function wrote a read-only PVM page */
    NUB_ERR_HOST_ACTION = 82,         /* a host function returned no valid nub_host_action */
    NUB_ERR_RUN_FINISHED = 83,        /* a host-call handle used after its host function returned */
    NUB_ERR_OUTPUT_TOO_LARGE = 84,    /* the halted program's output exceeds the caller's buffer */
} nub_status;

/* A static, never-NULL English description of s ("unknown status" for others). */
const char *nub_strerror(nub_status s);

#endif /* NUB_STATUS_H */
