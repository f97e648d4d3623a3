/*
 * jam_host.c — nubrun's minimal JAM host (see jam_host.h).
 */
#include "jam_host.h"

#include <inttypes.h>
#include <stdlib.h>

/* Longest target / message printed (longer ones are cut, deterministically). */
#define LOG_TARGET_MAX  256u
#define LOG_MESSAGE_MAX 65536u

/* Prints bytes as text: printable ASCII as is, every other byte as \xHH,
 * so the line is the same whatever the bytes are. */
static void print_text(FILE *f, const uint8_t *b, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        if (b[i] >= 0x20 && b[i] < 0x7F && b[i] != '\\')
            fputc(b[i], f);
        else
            fprintf(f, "\\x%02x", b[i]);
    }
}

/* JIP-1 log: phi7 level, phi8/phi9 target, phi10/phi11 message. Memory that
 * cannot be read is a panic (as GP treats a host call's bad memory). */
static int serve_log(FILE *f, nub_host_call *call)
{
    uint64_t level = nub_host_call_reg(call, 7);
    uint64_t target_len = nub_host_call_reg(call, 9), msg_len = nub_host_call_reg(call, 11);
    uint32_t tn = target_len < LOG_TARGET_MAX ? (uint32_t)target_len : LOG_TARGET_MAX;
    uint32_t mn = msg_len < LOG_MESSAGE_MAX ? (uint32_t)msg_len : LOG_MESSAGE_MAX;
    uint8_t target[LOG_TARGET_MAX];
    uint8_t *msg = malloc(mn ? mn : 1);
    if (msg == NULL)
        return NUB_HOST_PANIC;
    if (nub_host_call_read(call, (uint32_t)nub_host_call_reg(call, 8), target, tn) != NUB_OK ||
        nub_host_call_read(call, (uint32_t)nub_host_call_reg(call, 10), msg, mn) != NUB_OK) {
        free(msg);
        return NUB_HOST_PANIC;
    }
    fprintf(f, "log %" PRIu64 " ", level);
    print_text(f, target, tn);
    fputs(": ", f);
    print_text(f, msg, mn);
    fputc('\n', f);
    free(msg);
    return NUB_HOST_CONTINUE;
}

int nubrun_jam_host(void *ctx, nub_host_call *call)
{
    int64_t gas = nub_host_call_gas(call) - NUBRUN_JAM_HOST_CALL_GAS;
    nub_host_call_set_gas(call, gas);
    if (gas < 0)
        return NUB_HOST_OUT_OF_GAS;
    switch (nub_host_call_id(call)) {
    case NUBRUN_JAM_ID_GAS:
        nub_host_call_set_reg(call, 7, (uint64_t)gas);
        return NUB_HOST_CONTINUE;
    case NUBRUN_JAM_ID_LOG:
        return serve_log(ctx, call);
    default:
        nub_host_call_set_reg(call, 7, NUBRUN_JAM_WHAT);
        return NUB_HOST_CONTINUE;
    }
}
