/*
 * rpc_client.c — one call: write the request, one KVM_RUN until the guest
 * rings the doorbell, read the reply. Console bytes on COM1 are the only
 * other exits tolerated. A crash report, a halt, a shutdown (triple fault),
 * a timeout or an interrupt end the call and restore the sandbox (see
 * snapshot.c); a broken protocol or a failed KVM ioctl kills it. Every
 * length the guest wrote is checked against the buffer before it is used.
 */
#include "sandbox_int.h"

#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>

/* A PUT_CAP request above this size gives its pages back after the call. */
#define RELEASE_REQUEST_BYTES (UINT64_C(64) << 10)

static const char *vector_name(uint64_t v)
{
    static const char *const names[] = {"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM",
                                        "#DF", "CSO", "#TS", "#NP", "#SS", "#GP", "#PF", "?",
                                        "#MF", "#AC", "#MC", "#XM", "#VE", "#CP"};
    if (v < sizeof names / sizeof names[0])
        return names[v];
    return v == 0x100 ? "kernel panic" : "?";
}

static void console_byte(nub_sandbox *sb, uint8_t c)
{
    if (!sb->console)
        return;
    if (c == '\n' || sb->console_len == NUB_CONSOLE_LINE_MAX - 1) {
        sb->console_line[sb->console_len] = 0;
        sb->console(sb->console_ctx, sb->console_line);
        sb->console_len = 0;
        if (c == '\n')
            return;
    }
    if (c != '\r')
        sb->console_line[sb->console_len++] = (char)(c >= 0x20 && c < 0x7F ? c : '?');
}

/* Guest crashes are recorded with nub__fail: nub__run_to_doorbell restores
 * the sandbox after them (nub__recover). */
static nub_status crashed(nub_sandbox *sb)
{
    struct nub_crash_report r;
    memcpy(&r, sb->mem + NUB_CRASH_REPORT_GPA, sizeof r);
    if (r.magic != NUB_CRASH_MAGIC)
        return nub__fail(sb, NUB_ERR_GUEST_CRASHED, "guest crashed without a valid report");
    return nub__fail(sb, NUB_ERR_GUEST_CRASHED,
                     "guest kernel fault: vector %llu (%s) at rip 0x%llx, error code 0x%llx, "
                     "cr2 0x%llx, cs 0x%llx, rsp 0x%llx",
                     (unsigned long long)r.vector, vector_name(r.vector), (unsigned long long)r.rip,
                     (unsigned long long)r.error_code, (unsigned long long)r.cr2,
                     (unsigned long long)r.cs, (unsigned long long)r.rsp);
}

/* Handles a KVM_EXIT_IO; returns 1 for the doorbell, 0 to keep running, or
 * a negative value after killing the sandbox (its status in *status). */
static int handle_io(nub_sandbox *sb, nub_status *status)
{
    const struct kvm_run *run = sb->run;
    uint64_t bytes = (uint64_t)run->io.size * run->io.count;
    if (run->io.data_offset > sb->run_size || bytes > sb->run_size - run->io.data_offset) {
        *status = nub__kill(sb, NUB_ERR_PROTOCOL, "I/O exit data outside the run page");
        return -1;
    }
    const uint8_t *data = (const uint8_t *)run + run->io.data_offset;
    if (run->io.direction == KVM_EXIT_IO_OUT) {
        switch (run->io.port) {
        case NUB_PORT_DOORBELL:
            if (sb->awaiting_refill) {
                *status = nub__kill(sb, NUB_ERR_PROTOCOL, "a reply in the middle of a host call");
                return -1;
            }
            return 1;
        case NUB_PORT_CRASH:
            *status = crashed(sb);
            return -1;
        case NUB_PORT_HOST_CALL:
            if (sb->awaiting_refill)
                return 1; /* the pool is refilled: the host call goes on */
            return nub__serve_host_call(sb, status);
        case NUB_PORT_COM1:
            if (run->io.size == 1) {
                for (uint32_t i = 0; i < run->io.count; i++)
                    console_byte(sb, data[i]);
                return 0;
            }
            break;
        default:
            break;
        }
    }
    *status = nub__kill(sb, NUB_ERR_PROTOCOL, "unexpected port I/O: %s port 0x%x size %u",
                        run->io.direction == KVM_EXIT_IO_OUT ? "out to" : "in from", run->io.port,
                        run->io.size);
    return -1;
}

static unsigned long long guest_rip(nub_sandbox *sb)
{
    struct kvm_regs regs;
    return ioctl(sb->vcpu_fd, KVM_GET_REGS, &regs) == 0 ? regs.rip : 0;
}

/* Runs the vCPU until the doorbell (or, while awaiting_refill, the guest's
 * report that its page pool is refilled). A signal ends KVM_RUN with EINTR (or
 * KVM_EXIT_INTR): the call's own kick ends the call, any other signal has
 * been handled by then and the guest runs on. */
static nub_status run_loop(nub_sandbox *sb)
{
    for (;;) {
        int rc = ioctl(sb->vcpu_fd, KVM_RUN, 0);
        if ((rc < 0 && (errno == EINTR || errno == EAGAIN)) ||
            (rc == 0 && sb->run->exit_reason == KVM_EXIT_INTR)) {
            nub_status why = nub__call_interrupted(sb);
            if (why == NUB_ERR_TIMEOUT)
                return nub__fail(sb, why,
                                 "call exceeded invoke_timeout_ns = %llu ns (guest rip 0x%llx)",
                                 (unsigned long long)sb->timeout_ns, guest_rip(sb));
            if (why == NUB_ERR_INTERRUPTED)
                return nub__fail(sb, why,
                                 "call interrupted by nub_sandbox_interrupt (guest rip 0x%llx)",
                                 guest_rip(sb));
            continue;
        }
        if (rc < 0)
            return nub__kill(sb, NUB_ERR_KVM, "KVM_RUN: %s", strerror(errno));
        nub_status s = NUB_OK;
        switch (sb->run->exit_reason) {
        case KVM_EXIT_IO: {
            int r = handle_io(sb, &s);
            if (r > 0)
                return NUB_OK;
            if (r < 0)
                return s;
            break;
        }
        case KVM_EXIT_HLT:
            return nub__fail(sb, NUB_ERR_GUEST_CRASHED, "guest halted outside an RPC");
        case KVM_EXIT_SHUTDOWN:
            return nub__fail(sb, NUB_ERR_GUEST_CRASHED, "guest shut down (triple fault)");
        case KVM_EXIT_FAIL_ENTRY:
            return nub__fail(sb, NUB_ERR_GUEST_CRASHED, "VM entry failed: hardware reason 0x%llx",
                             (unsigned long long)sb->run->fail_entry.hardware_entry_failure_reason);
        case KVM_EXIT_INTERNAL_ERROR:
            return nub__fail(sb, NUB_ERR_GUEST_CRASHED,
                             "KVM internal error, suberror %u, rip 0x%llx, data 0x%llx 0x%llx",
                             sb->run->internal.suberror, guest_rip(sb),
                             (unsigned long long)sb->run->internal.data[0],
                             (unsigned long long)sb->run->internal.data[1]);
        default:
            return nub__fail(sb, NUB_ERR_GUEST_CRASHED, "unexpected KVM exit reason %u",
                             sb->run->exit_reason);
        }
    }
}

nub_status nub__run_until_refilled(nub_sandbox *sb)
{
    sb->awaiting_refill = 1;
    nub_status s = run_loop(sb);
    sb->awaiting_refill = 0;
    return s;
}

/* A call that ends with one of these leaves the guest somewhere in the
 * middle of its work: the sandbox is restored (or, when it cannot be, dead). */
static int recoverable(nub_status s)
{
    return s == NUB_ERR_TIMEOUT || s == NUB_ERR_INTERRUPTED || s == NUB_ERR_GUEST_CRASHED;
}

nub_status nub__run_to_doorbell(nub_sandbox *sb)
{
    sigset_t saved;
    nub_status s = nub__call_begin(sb, &saved);
    if (s != NUB_OK)
        return s;
    s = run_loop(sb);
    nub__call_end(sb, &saved);
    if (recoverable(s))
        s = nub__recover(sb, s);
    return s;
}

/* The error statuses a guest function may reply (docs/protocol.md §3):
 * request, wire and cap errors. Statuses of the host's own making (KVM,
 * crash, timeout, dead sandbox, protocol) and codes outside nub_status are
 * not the guest's to send: a caller told "dead" must find the sandbox dead.
 * A status the guest learns to send must be added here. */
static int guest_error_status(uint32_t status)
{
    return status == NUB_ERR_INVALID_ARGUMENT ||
           (status >= NUB_ERR_UNKNOWN_FN && status <= NUB_ERR_BAD_PACKET) ||
           (status >= NUB_ERR_WIRE_TRUNCATED && status <= NUB_ERR_WIRE_ISA) ||
           (status >= NUB_ERR_CAP_NOT_FOUND && status <= NUB_ERR_INPUT_TOO_LARGE);
}

/* One call up to a checked reply header: on NUB_OK, *resp says where the
 * payload ends (inside the response buffer); every other outcome has been
 * recorded in last_error (and killed the sandbox when the guest was at fault). */
static nub_status call_checked(nub_sandbox *sb, uint32_t fn_id, const void *payload, size_t len,
                               struct nub_rpc_response_header *resp)
{
    if (sb->dead)
        return NUB_ERR_SANDBOX_DEAD; /* last_error still says why it died */
    if (sb->in_host_fn)              /* the vCPU is stopped inside a call: no second one */
        return nub__fail(sb, NUB_ERR_INVALID_ARGUMENT,
                         "called from a host function of this sandbox's running call");
    sb->last_error[0] = 0; /* this call's failure, or none */
    if (len > sb->params.request_bytes - sizeof(struct nub_rpc_request_header) || len > UINT32_MAX)
        return nub__fail(sb, NUB_ERR_PAYLOAD_TOO_LARGE,
                         "request payload of %zu bytes exceeds the %llu-byte request buffer", len,
                         (unsigned long long)sb->params.request_bytes);
    if (len && !payload)
        return nub__fail(sb, NUB_ERR_INVALID_ARGUMENT, "NULL payload");

    if (sb->heap_start_unbacked)
        nub__mem_back_heap_start(sb);
    struct nub_rpc_request_header req = {
        .fn_id = fn_id,
        .payload_len = (uint32_t)len,
        .sequence = ++sb->sequence,
    };
    uint8_t *request = sb->mem + sb->params.request_gpa;
    memcpy(request, &req, sizeof req);
    if (len)
        memcpy(request + sizeof req, payload, len);
    nub__mem_dirty(sb, sb->params.request_gpa, sizeof req + len);

    nub_status s = nub__run_to_doorbell(sb);
    /* A large cap has been copied into the guest's directory: without this,
     * every published byte would cost the host twice, in the request buffer
     * too. Other requests keep their pages: an invoke's input comes again
     * with the next call, and dropping its pages would cost a host fault
     * and a KVM fault per page on every call. */
    if (fn_id == NUB_FN_ID_PUT_CAP && len > RELEASE_REQUEST_BYTES && !sb->dead)
        nub__mem_release(sb, sb->params.request_gpa + NUB_PAGE_SIZE,
                         sizeof req + len - NUB_PAGE_SIZE);
    if (s != NUB_OK)
        return s;

    memcpy(resp, sb->mem + sb->params.response_gpa, sizeof *resp);
    if (resp->sequence != req.sequence)
        return nub__kill(sb, NUB_ERR_PROTOCOL, "reply sequence %llu for request %llu",
                         (unsigned long long)resp->sequence, (unsigned long long)req.sequence);
    if (resp->payload_len > sb->params.response_bytes - sizeof *resp)
        return nub__kill(sb, NUB_ERR_PROTOCOL, "reply length %u exceeds the response buffer",
                         resp->payload_len);
    if (resp->status != NUB_OK) {
        if (!guest_error_status(resp->status))
            return nub__kill(sb, NUB_ERR_PROTOCOL,
                             "the guest replied status %u, not one of its own", resp->status);
        if (resp->payload_len != 0)
            return nub__kill(sb, NUB_ERR_PROTOCOL, "error reply with a payload");
        return nub__fail(sb, (nub_status)resp->status, "guest replied: %s",
                         nub_strerror((nub_status)resp->status));
    }
    return NUB_OK;
}

static const uint8_t *reply_payload(const nub_sandbox *sb)
{
    return sb->mem + sb->params.response_gpa + sizeof(struct nub_rpc_response_header);
}

nub_status nub__call(nub_sandbox *sb, uint32_t fn_id, const void *payload, size_t len, void *reply,
                     size_t reply_cap, size_t *reply_len)
{
    if (reply_len)
        *reply_len = 0;
    struct nub_rpc_response_header resp;
    nub_status s = call_checked(sb, fn_id, payload, len, &resp);
    if (s != NUB_OK)
        return s;
    if (resp.payload_len > reply_cap)
        return nub__fail(sb, NUB_ERR_PAYLOAD_TOO_LARGE,
                         "reply of %u bytes does not fit the caller's %zu-byte buffer",
                         resp.payload_len, reply_cap);
    if (resp.payload_len)
        memcpy(reply, reply_payload(sb), resp.payload_len);
    if (reply_len)
        *reply_len = resp.payload_len;
    return NUB_OK;
}

nub_status nub__call_bounded(nub_sandbox *sb, uint32_t fn_id, const void *payload, size_t len,
                             void *reply, size_t reply_cap, size_t *reply_len)
{
    *reply_len = 0;
    struct nub_rpc_response_header resp;
    nub_status s = call_checked(sb, fn_id, payload, len, &resp);
    if (s != NUB_OK)
        return s;
    if (resp.payload_len > reply_cap)
        return nub__kill(sb, NUB_ERR_PROTOCOL,
                         "fn %u replied %u bytes, more than the %zu its request allows", fn_id,
                         resp.payload_len, reply_cap);
    memcpy(reply, reply_payload(sb), resp.payload_len);
    *reply_len = resp.payload_len;
    return NUB_OK;
}

nub_status nub__call_exact(nub_sandbox *sb, uint32_t fn_id, const void *payload, size_t len,
                           void *reply, size_t reply_len)
{
    struct nub_rpc_response_header resp;
    nub_status s = call_checked(sb, fn_id, payload, len, &resp);
    if (s != NUB_OK)
        return s;
    if (resp.payload_len != reply_len)
        return nub__kill(sb, NUB_ERR_PROTOCOL, "fn %u replied %u bytes, expected %zu", fn_id,
                         resp.payload_len, reply_len);
    if (reply_len)
        memcpy(reply, reply_payload(sb), reply_len);
    return NUB_OK;
}
