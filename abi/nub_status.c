/* nub_status.c — nub_strerror: one English line per status. */
#include "nub_status.h"

const char *nub_strerror(nub_status s)
{
    switch (s) {
    case NUB_OK:
        return "success";
    case NUB_ERR_INVALID_ARGUMENT:
        return "a NULL or out-of-range argument";
    case NUB_ERR_NOMEM:
        return "host allocation failed";
    case NUB_ERR_KVM_UNAVAILABLE:
        return "/dev/kvm missing";
    case NUB_ERR_KVM_PERMISSION:
        return "/dev/kvm not accessible";
    case NUB_ERR_KVM:
        return "a KVM ioctl failed";
    case NUB_ERR_KVM_API_VERSION:
        return "unexpected KVM API version or missing capability";
    case NUB_ERR_GUEST_IMAGE:
        return "the guest ELF is unreadable or malformed";
    case NUB_ERR_GUEST_CRASHED:
        return "the guest faulted, triple-faulted or shut down";
    case NUB_ERR_SANDBOX_DEAD:
        return "an earlier call crashed the guest";
    case NUB_ERR_TIMEOUT:
        return "invoke_timeout_ns elapsed: the vCPU was kicked";
    case NUB_ERR_PROTOCOL:
        return "the guest broke the RPC protocol";
    case NUB_ERR_BOOT_INFO_MISMATCH:
        return "ELF .boot_info differs from GET_BOOT_INFO";
    case NUB_ERR_UNKNOWN_FN:
        return "fn id outside the dispatch table";
    case NUB_ERR_PAYLOAD_TOO_LARGE:
        return "request or reply larger than its buffer";
    case NUB_ERR_PAYLOAD_TRUNCATED:
        return "request shorter than the function needs";
    case NUB_ERR_BAD_PACKET:
        return "nub_invoke_packet with non-zero padding etc.";
    case NUB_ERR_WIRE_TRUNCATED:
        return "wire truncated";
    case NUB_ERR_WIRE_TRAILING:
        return "wire trailing";
    case NUB_ERR_WIRE_VERSION:
        return "wire version";
    case NUB_ERR_WIRE_KIND:
        return "wire kind";
    case NUB_ERR_WIRE_LIMIT:
        return "a length past a documented limit";
    case NUB_ERR_WIRE_UNALIGNED:
        return "a segment not page-aligned";
    case NUB_ERR_WIRE_OVERLAP:
        return "segments overlap or are out of order";
    case NUB_ERR_WIRE_ENDPOINTS:
        return "more endpoints than the limit";
    case NUB_ERR_WIRE_OVERFLOW:
        return "integer overflow in a size computation";
    case NUB_ERR_WIRE_NONCANONICAL:
        return "a field with a non-canonical value (flags, padding)";
    case NUB_ERR_WIRE_ISA:
        return "an IMAGE names an unknown PVM ISA version";
    case NUB_ERR_CAP_NOT_FOUND:
        return "no cap with that hash";
    case NUB_ERR_CAP_MISSING_DEP:
        return "INSTANCE refers to an absent IMAGE or DATA";
    case NUB_ERR_CAP_WRONG_KIND:
        return "the hash names a cap of another kind";
    case NUB_ERR_DIRECTORY_FULL:
        return "cap count or byte limit reached";
    case NUB_ERR_HEAP_EXHAUSTED:
        return "guest heap could not satisfy the request";
    case NUB_ERR_BAD_ENDPOINT:
        return "endpoint_idx out of range";
    case NUB_ERR_PROGRAM_INVALID:
        return "the PVM blob or standard program is malformed";
    case NUB_ERR_JIT:
        return "code buffer too small or compile failure";
    }
    return "unknown status";
}
