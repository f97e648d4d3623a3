/*
 * main.c — examples/host_calls: one C program (guest.c, compiled with
 * nub-cc), one set of host functions (example_host.c), three engines: the
 * KVM sandbox, the in-process JIT and the interpreter. Each run prints its
 * result; they must agree byte for byte.
 *
 *   build/examples/host_calls/host_calls_example [PROGRAM.jam] [INPUT]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "example_host.h"
#include "nub/host.h"
#include "nub/local.h"

#define GAS 1000000

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *buf = malloc(1 << 20);
    *len = buf ? fread(buf, 1, 1 << 20, f) : 0;
    fclose(f);
    return buf;
}

static void print_run(const char *engine, const struct nub_invocation_result *r,
                      const struct nub_call *call, const struct example_host *h)
{
    printf("%-8s exit %u, phi7 %llu, gas left %llu, host calls %llu, output", engine,
           r->exit_reason, (unsigned long long)r->return_value,
           (unsigned long long)r->gas_remaining, (unsigned long long)call->host_calls);
    for (uint32_t i = 0; i < h->output_len; i += 8) {
        uint64_t v;
        memcpy(&v, h->output + i, 8);
        printf(" %llu", (unsigned long long)v);
    }
    printf("\n");
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : EXAMPLE_JAM;
    const char *text = argc > 2 ? argv[2] : "nub";
    size_t len = 0;
    uint8_t *prog = read_file(path, &len);
    if (!prog) {
        fprintf(stderr, "cannot read %s\n", path);
        return 1;
    }
    struct nub_invocation_result results[3];
    int rc = 0;

    /* The sandbox. */
    nub_sandbox *sb = NULL;
    nub_status s = nub_sandbox_create(NULL, &sb);
    struct nub_invoke_packet p = {.endpoint_idx = 0, .initial_gas = GAS};
    if (s == NUB_OK)
        s = nub_publish_stdprog(sb, prog, len, NULL, 0, GAS, p.instance_hash);
    if (s == NUB_OK) {
        struct example_host h = {.input = (const uint8_t *)text,
                                 .input_len = (uint32_t)strlen(text)};
        struct nub_call call = {.host = {example_host_fn, &h}};
        s = nub_invoke_call(sb, &p, &call, &results[0]);
        if (s == NUB_OK)
            print_run("sandbox", &results[0], &call, &h);
    }
    if (s != NUB_OK) {
        fprintf(stderr, "sandbox: %s: %s\n", nub_strerror(s), sb ? nub_sandbox_last_error(sb) : "");
        rc = 1;
    }
    nub_sandbox_destroy(sb);

    /* The same program and host functions in this process. */
    const enum nub_local_engine engines[2] = {NUB_LOCAL_JIT, NUB_LOCAL_INTERP};
    const char *names[2] = {"jit", "interp"};
    for (int e = 0; e < 2; e++) {
        nub_local *l = NULL;
        s = nub_local_create_stdprog(engines[e], prog, len, NULL, 0, GAS, &l);
        struct example_host h = {.input = (const uint8_t *)text,
                                 .input_len = (uint32_t)strlen(text)};
        struct nub_call call = {.host = {example_host_fn, &h}};
        if (s == NUB_OK)
            s = nub_local_invoke(l, &p, &call, &results[1 + e]);
        if (s == NUB_OK)
            print_run(names[e], &results[1 + e], &call, &h);
        else {
            fprintf(stderr, "%s: %s: %s\n", names[e], nub_strerror(s), nub_local_last_error(l));
            rc = 1;
        }
        nub_local_destroy(l);
    }
    free(prog);
    if (rc == 0 && (memcmp(&results[0], &results[1], sizeof results[0]) != 0 ||
                    memcmp(&results[0], &results[2], sizeof results[0]) != 0)) {
        fprintf(stderr, "the engines disagree\n");
        rc = 1;
    }
    return rc;
}
