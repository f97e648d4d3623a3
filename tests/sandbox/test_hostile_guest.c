/*
 * test_hostile_guest.c — the host library against a guest that lies.
 *
 * The guest is puppet_guest.S: it boots honestly, then replies whatever
 * the test scripted (header included), crashes without a report, or reads
 * a port. Every reply the protocol forbids must be caught by the host
 * (NUB_ERR_PROTOCOL or NUB_ERR_GUEST_CRASHED) and leave the sandbox dead;
 * an allowed error reply must come back as that error with the sandbox
 * alive.
 */
#include "test_util.h"
#include "kvm_check.h"

#include <stdio.h>
#include <string.h>

#include "jit.h"
#include "nub_blake2b.h"
#include "nub_rpc.h"
#include "nub_wire.h"

/* The puppet's protocol (puppet_guest.S). */
#define PUPPET_FN_SCRIPT 1u
#define PUPPET_REPLY     0u
#define PUPPET_CRASH     1u
#define PUPPET_IN        2u
#define PUPPET_HOST_CALL 3u

struct puppet {
    nub_sandbox *sb;
    uint64_t seq; /* sequence of the last request the host sent */
};

static struct puppet puppet_create(void)
{
    nub_sandbox_config cfg = {.guest_image_path = NUB_TEST_PUPPET_GUEST};
    struct puppet p = {.sb = nub_test_sandbox(&cfg), .seq = 1}; /* 1: GET_BOOT_INFO at boot */
    return p;
}

static void puppet_action(struct puppet *p, uint32_t action, const void *bytes, size_t n)
{
    uint8_t buf[4 + 4096];
    assert_true(n <= sizeof buf - 4);
    memcpy(buf, &action, 4);
    if (n)
        memcpy(buf + 4, bytes, n);
    assert_int_equal(nub_sandbox_call_raw(p->sb, PUPPET_FN_SCRIPT, buf, 4 + n, NULL, 0, NULL),
                     NUB_OK);
    p->seq += 2; /* the script call, and the call that will play it */
}

/* Scripts the reply to the next call: header {status, payload_len, the
 * right sequence + seq_skew}, then n payload bytes. */
static void script_reply(struct puppet *p, uint32_t status, uint32_t payload_len, int64_t seq_skew,
                         const void *payload, size_t n)
{
    uint8_t buf[16 + 2048];
    assert_true(n <= sizeof buf - 16);
    struct nub_rpc_response_header h = {
        .status = status,
        .payload_len = payload_len,
        .sequence = p->seq + 2 + (uint64_t)seq_skew,
    };
    memcpy(buf, &h, sizeof h);
    if (n)
        memcpy(buf + sizeof h, payload, n);
    puppet_action(p, PUPPET_REPLY, buf, sizeof h + n);
}

static void expect_dead_with(struct puppet *p, const char *text)
{
    assert_true(nub_sandbox_is_dead(p->sb));
    const char *err = nub_sandbox_last_error(p->sb);
    if (!strstr(err, text))
        fail_msg("expected \"%s\" in \"%s\"", text, err);
    uint64_t v;
    assert_int_equal(nub_smoke(p->sb, &v), NUB_ERR_SANDBOX_DEAD);
    nub_sandbox_destroy(p->sb);
}

static void test_puppet_plays_fair(void **state)
{
    (void)state;
    REQUIRE_KVM();
    struct puppet p = puppet_create();
    const uint64_t answer = 42;
    for (int i = 0; i < 3; i++) {
        script_reply(&p, NUB_OK, 8, 0, &answer, 8);
        uint64_t v = 0;
        assert_int_equal(nub_smoke(p.sb, &v), NUB_OK);
        assert_int_equal(v, 42);
    }
    /* An error the guest may report comes back as itself; the sandbox lives. */
    script_reply(&p, NUB_ERR_CAP_NOT_FOUND, 0, 0, NULL, 0);
    uint64_t v;
    assert_int_equal(nub_smoke(p.sb, &v), NUB_ERR_CAP_NOT_FOUND);
    assert_false(nub_sandbox_is_dead(p.sb));
    script_reply(&p, NUB_OK, 8, 0, &answer, 8);
    assert_int_equal(nub_smoke(p.sb, &v), NUB_OK);
    nub_sandbox_destroy(p.sb);
}

/* A reply longer than the function's fixed reply is a protocol violation,
 * just as a shorter one is (not "the caller's buffer is too small"). */
static void test_reply_length_wrong(void **state)
{
    (void)state;
    REQUIRE_KVM();
    const uint8_t bytes[64] = {42};
    const uint32_t lengths[] = {16, 9, 4, 0};
    for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
        struct puppet p = puppet_create();
        script_reply(&p, NUB_OK, lengths[i], 0, bytes, lengths[i]);
        uint64_t v;
        assert_int_equal(nub_smoke(p.sb, &v), NUB_ERR_PROTOCOL);
        expect_dead_with(&p, "replied");
    }
    struct puppet p = puppet_create();
    script_reply(&p, NUB_OK, 40, 0, bytes, 40);
    struct nub_heap_stats st;
    assert_int_equal(nub_heap_stats(p.sb, &st), NUB_ERR_PROTOCOL);
    expect_dead_with(&p, "replied");

    p = puppet_create();
    script_reply(&p, NUB_OK, 64, 0, bytes, 64);
    nub_cap_hash h;
    const uint8_t cap[NUB_WIRE_DATA_FIXED_BYTES] = {1, 0, 0, 0, NUB_WIRE_KIND_DATA};
    assert_int_equal(nub_put_cap(p.sb, cap, sizeof cap, h), NUB_ERR_PROTOCOL);
    assert_false(nub_sandbox_has_cap(p.sb, bytes)); /* the "hash" it replied: not recorded */
    expect_dead_with(&p, "replied");

    /* INVOKE_CACHED: a well-formed result plus 8 stray bytes. */
    p = puppet_create();
    struct nub_invocation_result res = {.exit_reason = NUB_EXIT_HALT};
    uint8_t reply[NUB_WIRE_RESULT_BYTES + 8] = {0};
    size_t n = 0;
    assert_int_equal(nub_wire_encode_result(&res, reply, sizeof reply, &n), NUB_OK);
    script_reply(&p, NUB_OK, sizeof reply, 0, reply, sizeof reply);
    struct nub_invoke_packet packet = {0};
    assert_int_equal(nub_invoke(p.sb, &packet, &res), NUB_ERR_PROTOCOL);
    expect_dead_with(&p, "replied");
}

static void test_reply_sequence_wrong(void **state)
{
    (void)state;
    REQUIRE_KVM();
    const uint64_t answer = 42;
    const int64_t skews[] = {-1, 1, -2};
    for (size_t i = 0; i < sizeof skews / sizeof skews[0]; i++) {
        struct puppet p = puppet_create();
        script_reply(&p, NUB_OK, 8, skews[i], &answer, 8);
        uint64_t v = 0;
        assert_int_equal(nub_smoke(p.sb, &v), NUB_ERR_PROTOCOL);
        assert_int_equal(v, 0);
        expect_dead_with(&p, "sequence");
    }
}

/* A length past the response buffer is never read, however large. */
static void test_reply_past_buffer(void **state)
{
    (void)state;
    REQUIRE_KVM();
    const uint32_t lengths[] = {(1u << 20) - 15, 1u << 20, UINT32_MAX};
    for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
        struct puppet p = puppet_create();
        script_reply(&p, NUB_OK, lengths[i], 0, NULL, 0);
        uint8_t big[64];
        size_t got = 99;
        assert_int_equal(nub_sandbox_call_raw(p.sb, 0, NULL, 0, big, sizeof big, &got),
                         NUB_ERR_PROTOCOL);
        assert_int_equal(got, 0);
        expect_dead_with(&p, "exceeds the response buffer");
    }
}

static void test_error_with_payload(void **state)
{
    (void)state;
    REQUIRE_KVM();
    struct puppet p = puppet_create();
    const uint8_t junk[8] = {1, 2, 3};
    script_reply(&p, NUB_ERR_HEAP_EXHAUSTED, 8, 0, junk, 8);
    uint8_t out[16];
    assert_int_equal(nub_sandbox_call_raw(p.sb, 0, NULL, 0, out, sizeof out, NULL),
                     NUB_ERR_PROTOCOL);
    expect_dead_with(&p, "error reply with a payload");
}

/* Statuses only the host produces (timeout, dead sandbox, crash, ...) and
 * codes outside nub_status are not the guest's to send: a sandbox reported
 * "dead" must be dead. */
static void test_status_not_the_guests(void **state)
{
    (void)state;
    REQUIRE_KVM();
    const uint32_t statuses[] = {NUB_ERR_SANDBOX_DEAD,
                                 NUB_ERR_TIMEOUT,
                                 NUB_ERR_GUEST_CRASHED,
                                 NUB_ERR_PROTOCOL,
                                 NUB_ERR_KVM,
                                 999,
                                 UINT32_MAX};
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
        struct puppet p = puppet_create();
        script_reply(&p, statuses[i], 0, 0, NULL, 0);
        uint64_t v;
        assert_int_equal(nub_smoke(p.sb, &v), NUB_ERR_PROTOCOL);
        expect_dead_with(&p, "status");
    }
}

static void test_crash_without_report(void **state)
{
    (void)state;
    REQUIRE_KVM();
    struct puppet p = puppet_create();
    puppet_action(&p, PUPPET_CRASH, NULL, 0);
    uint64_t v;
    assert_int_equal(nub_smoke(p.sb, &v), NUB_ERR_GUEST_CRASHED);
    /* A crash is recoverable: the sandbox restored itself (to the puppet's
     * ready state), with the reason kept. */
    assert_false(nub_sandbox_is_dead(p.sb));
    assert_non_null(strstr(nub_sandbox_last_error(p.sb), "without a valid report"));
    nub_sandbox_destroy(p.sb);
}

static void test_port_in(void **state)
{
    (void)state;
    REQUIRE_KVM();
    struct puppet p = puppet_create();
    puppet_action(&p, PUPPET_IN, NULL, 0);
    uint64_t v;
    assert_int_equal(nub_smoke(p.sb, &v), NUB_ERR_PROTOCOL);
    expect_dead_with(&p, "unexpected port I/O");
}

/* PUT_CAP's reply is the cap's hash: the host checks it against the bytes
 * it sent, so a guest cannot make nub_sandbox_has_cap() vouch for a cap it
 * never received. */
static void test_put_cap_wrong_hash(void **state)
{
    (void)state;
    REQUIRE_KVM();
    uint8_t wire[NUB_WIRE_DATA_FIXED_BYTES + 4];
    size_t n = 0;
    const uint8_t contents[4] = {1, 2, 3, 4};
    assert_int_equal(nub_wire_encode_data(contents, 4, wire, sizeof wire, &n), NUB_OK);
    nub_cap_hash right, lie, got;
    nub_cap_hash_of(wire, n, right);
    memcpy(lie, right, sizeof lie);
    lie[31] ^= 1;

    struct puppet p = puppet_create();
    script_reply(&p, NUB_OK, NUB_CAP_HASH_BYTES, 0, right, NUB_CAP_HASH_BYTES);
    assert_int_equal(nub_put_cap(p.sb, wire, n, got), NUB_OK); /* the truth is accepted */
    assert_memory_equal(got, right, sizeof got);
    assert_true(nub_sandbox_has_cap(p.sb, right));
    script_reply(&p, NUB_OK, NUB_CAP_HASH_BYTES, 0, lie, NUB_CAP_HASH_BYTES);
    assert_int_equal(nub_put_cap(p.sb, wire, n, got), NUB_ERR_PROTOCOL);
    assert_false(nub_sandbox_has_cap(p.sb, lie));
    expect_dead_with(&p, "hash");
}

/* INVOKE_CACHED readback records: ok must be 0 or 1 and each length the
 * one asked for; the result itself must decode. */
static void test_bad_invoke_replies(void **state)
{
    (void)state;
    REQUIRE_KVM();
    struct nub_invocation_result res = {.exit_reason = NUB_EXIT_HALT, .return_value = 7};
    uint8_t reply[NUB_WIRE_RESULT_BYTES + 8 + 16] = {0};
    size_t n = 0;
    assert_int_equal(nub_wire_encode_result(&res, reply, sizeof reply, &n), NUB_OK);
    uint8_t sink[16];
    struct nub_readback rb = {.address = 0x20000, .length = 16, .buffer = sink};
    struct nub_invoke_packet packet = {0};
    for (int bad = 0; bad < 4; bad++) {
        const uint32_t ok = bad == 1 ? 2 : 1, len = bad == 2 ? 15 : 16;
        memcpy(reply + NUB_WIRE_RESULT_BYTES, &ok, 4);
        memcpy(reply + NUB_WIRE_RESULT_BYTES + 4, &len, 4);
        memset(reply + NUB_WIRE_RESULT_BYTES + 8, 0xAB, 16);
        reply[0] = bad == 3 ? 9 : 1; /* the result's wire version */
        struct puppet p = puppet_create();
        script_reply(&p, NUB_OK, sizeof reply, 0, reply, sizeof reply);
        nub_status s = nub_invoke_readback(p.sb, &packet, &res, &rb, 1);
        if (bad == 0) {
            assert_int_equal(s, NUB_OK);
            assert_int_equal(res.return_value, 7);
            assert_int_equal(rb.ok, 1);
            assert_int_equal(sink[15], 0xAB);
            nub_sandbox_destroy(p.sb);
            continue;
        }
        assert_int_equal(s, NUB_ERR_PROTOCOL);
        expect_dead_with(&p, "INVOKE_CACHED");
    }
}

/* A lying host call: the puppet does `out NUB_PORT_HOST_CALL` with a record
 * and context block the test wrote (offsets relative to the response
 * buffer: record at 0, context block at 256; the PML4 at 8192 is zero:
 * nothing mapped). */
struct lie {
    uint64_t magic, ctx_offset, cr3_offset;
    uint32_t reason;
    uint32_t isa;
};

struct probe_result {
    int calls;
    nub_status read;
    uint64_t id, phi7;
};

static int lie_probe(void *ctx, nub_host_call *call)
{
    struct probe_result *r = ctx;
    uint8_t b[4];
    r->calls++;
    r->id = nub_host_call_id(call);
    r->phi7 = nub_host_call_reg(call, 7);
    r->read = nub_host_call_read(call, 0x10000, b, 4);
    return NUB_HOST_CONTINUE;
}

static void play_lie(const struct lie *l, int with_host, const char *want, struct probe_result *r)
{
    static uint8_t script[4096];
    memset(script, 0, sizeof script);
    struct nub_host_call_record rec = {l->magic, l->ctx_offset, l->cr3_offset, 0, l->isa, 0};
    memcpy(script, &rec, sizeof rec);
    uint64_t regs[13] = {0};
    regs[7] = 77;
    memcpy(script + 256, regs, sizeof regs);
    const uint64_t id = 0x1234;
    memcpy(script + 256 + offsetof(struct jit_ctx, arg), &id, 8);
    memcpy(script + 256 + offsetof(struct jit_ctx, reason), &l->reason, 4);
    struct puppet p = puppet_create();
    puppet_action(&p, PUPPET_HOST_CALL, script, sizeof script);
    struct nub_invoke_packet packet = {0};
    struct nub_call call = {.host = {lie_probe, r}};
    struct nub_invocation_result res;
    nub_status s =
        with_host ? nub_invoke_call(p.sb, &packet, &call, &res) : nub_invoke(p.sb, &packet, &res);
    assert_int_equal(s, NUB_ERR_PROTOCOL);
    expect_dead_with(&p, want);
}

static void test_host_call_lies(void **state)
{
    (void)state;
    REQUIRE_KVM();
    struct probe_result r = {0};
    const struct lie good = {NUB_HOST_CALL_MAGIC, 256, 8192, NUB_EXIT_HOST_CALL, NUB_ISA_GP_0_7_2};
    /* A host-call exit when the call asked for none. */
    play_lie(&good, 0, "no host call asked", &r);
    assert_int_equal(r.calls, 0);
    struct lie l = good;
    l.magic = 1;
    play_lie(&l, 1, "malformed host-call record", &r);
    l = good;
    l.ctx_offset = UINT64_C(1) << 40; /* outside guest RAM */
    play_lie(&l, 1, "malformed host-call record", &r);
    l = good;
    l.ctx_offset = 257; /* misaligned */
    play_lie(&l, 1, "malformed host-call record", &r);
    l = good;
    l.isa = NUB_ISA_COUNT; /* an ISA version that does not exist */
    play_lie(&l, 1, "malformed host-call record", &r);
    l = good;
    l.reason = NUB_EXIT_HALT;
    play_lie(&l, 1, "without a host call", &r);
    assert_int_equal(r.calls, 0);
    /* Well-formed, with empty page tables: the host function runs, sees the
     * id and registers, and memory is a status; the puppet's bogus reply
     * afterwards is what kills the sandbox. */
    play_lie(&good, 1, "reply sequence", &r);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.id, 0x1234);
    assert_int_equal(r.phi7, 77);
    assert_int_equal(r.read, NUB_ERR_MEMORY_INACCESSIBLE);
    /* Page tables outside guest RAM: a lie, found by the walk. */
    l = good;
    l.cr3_offset = UINT64_C(1) << 40;
    r = (struct probe_result){0};
    play_lie(&l, 1, "page tables are malformed", &r);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.read, NUB_ERR_MEMORY_INACCESSIBLE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_puppet_plays_fair),    cmocka_unit_test(test_reply_length_wrong),
        cmocka_unit_test(test_reply_sequence_wrong), cmocka_unit_test(test_reply_past_buffer),
        cmocka_unit_test(test_error_with_payload),   cmocka_unit_test(test_status_not_the_guests),
        cmocka_unit_test(test_crash_without_report), cmocka_unit_test(test_port_in),
        cmocka_unit_test(test_bad_invoke_replies),   cmocka_unit_test(test_put_cap_wrong_hash),
        cmocka_unit_test(test_host_call_lies),
    };
    return nub_test_kvm_suite_result(
        cmocka_run_group_tests_name("sandbox_hostile", tests, NULL, NULL));
}
