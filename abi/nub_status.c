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
        return "an earlier failure left the sandbox unusable";
    case NUB_ERR_TIMEOUT:
        return "invoke_timeout_ns elapsed: the call was stopped";
    case NUB_ERR_PROTOCOL:
        return "the guest broke the RPC protocol";
    case NUB_ERR_BOOT_INFO_MISMATCH:
        return "ELF .boot_info differs from GET_BOOT_INFO";
    case NUB_ERR_INTERRUPTED:
        return "nub_sandbox_interrupt stopped the call";
    case NUB_ERR_UNKNOWN_FN:
        return "fn id outside the dispatch table";
    case NUB_ERR_PAYLOAD_TOO_LARGE:
        return "request or reply larger than its buffer";
    case NUB_ERR_PAYLOAD_TRUNCATED:
        return "request shorter than the function needs";
    case NUB_ERR_BAD_PACKET:
        return "a malformed request record (unknown flags or non-zero padding)";
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
    case NUB_ERR_CAP_IN_USE:
        return "the cap is used by a published INSTANCE: drop the INSTANCE first";
    case NUB_ERR_GAS_TOO_LARGE:
        return "the gas budget is above INT64_MAX (PVM gas is a signed 64-bit number)";
    case NUB_ERR_ARG_COUNT:
        return "nub_invoke_packet.arg_count is above 4, or an args entry past it is not zero";
    case NUB_ERR_READBACK_LIST:
        return "the readback list is not whole 8-byte {address, length} records";
    case NUB_ERR_INPUT_TOO_LARGE:
        return "the per-call input is larger than the argument area (16 MiB)";
    case NUB_ERR_MEMORY_INACCESSIBLE:
        return "a host function touched an inaccessible PVM page";
    case NUB_ERR_MEMORY_READ_ONLY:
        return "a host function wrote a read-only PVM page";
    case NUB_ERR_HOST_ACTION:
        return "a host function returned an invalid action";
    case NUB_ERR_RUN_FINISHED:
        return "the host call is over: its handle was used after the host function returned";
    case NUB_ERR_OUTPUT_TOO_LARGE:
        return "the program's output is larger than the caller's output buffer";
    }
    return "unknown status";
}
