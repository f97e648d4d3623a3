/*
 * embed.c — the host side of the example: boots a sandbox, publishes the
 * JAM standard program nub-cc built from collatz.c, invokes endpoint 0 with
 * n = 27 and checks the answer (111 steps).
 *
 *   embed [PROGRAM.jam]    (default: the one built next to this program)
 *
 * Exit code: 0 right answer, 1 wrong answer or error, 77 no usable /dev/kvm.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nub/host.h>

#ifndef NUB_EXAMPLE_JAM
#define NUB_EXAMPLE_JAM "collatz.jam"
#endif

/* Reads a whole file; NULL on failure. */
static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    uint8_t *buf = NULL;
    long n = -1;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        buf = malloc(n > 0 ? (size_t)n : 1);
        if (buf != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
            free(buf);
            buf = NULL;
        }
    }
    fclose(f);
    *len = (size_t)n;
    return buf;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : NUB_EXAMPLE_JAM;
    size_t len;
    uint8_t *jam = read_file(path, &len);
    if (jam == NULL) {
        fprintf(stderr, "embed: cannot read %s\n", path);
        return 1;
    }

    char why[256] = "";
    nub_sandbox_config cfg = {.create_error = why, .create_error_len = sizeof why};
    nub_sandbox *sb;
    nub_status st = nub_sandbox_create(&cfg, &sb);
    if (st == NUB_ERR_KVM_UNAVAILABLE || st == NUB_ERR_KVM_PERMISSION) {
        printf("skipped: no usable /dev/kvm (%s: %s)\n", nub_strerror(st), why);
        free(jam);
        return 77;
    }
    if (st != NUB_OK) {
        fprintf(stderr, "embed: nub_sandbox_create: %s: %s\n", nub_strerror(st), why);
        free(jam);
        return 1;
    }

    struct nub_invoke_packet p;
    memset(&p, 0, sizeof p);
    st = nub_publish_stdprog(sb, jam, len, NULL, 0, 0, p.instance_hash);
    free(jam);
    if (st != NUB_OK) {
        fprintf(stderr, "embed: publish: %s: %s\n", nub_strerror(st), nub_sandbox_last_error(sb));
        nub_sandbox_destroy(sb);
        return 1;
    }
    p.endpoint_idx = 0;
    p.arg_count = 1;
    p.args[0] = 27; /* phi7 */
    p.initial_gas = 10000000;
    struct nub_invocation_result r;
    st = nub_invoke(sb, &p, &r);
    nub_sandbox_destroy(sb);
    if (st != NUB_OK) {
        fprintf(stderr, "embed: invoke: %s\n", nub_strerror(st));
        return 1;
    }
    if (r.exit_reason != NUB_EXIT_HALT || r.return_value != 111) {
        fprintf(stderr, "embed: wrong answer: exit %u, phi7 %llu (want halt, 111)\n", r.exit_reason,
                (unsigned long long)r.return_value);
        return 1;
    }
    printf("collatz_steps(27) = %llu, computed in the sandbox\n",
           (unsigned long long)r.return_value);
    return 0;
}
