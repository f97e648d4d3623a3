/*
 * embed.c — the host side of the example: boots a sandbox, publishes the
 * JAM standard program nub-cc built from gcd.c, invokes endpoint 0 with
 * (1071, 462) and checks the answer (21).
 *
 *   embed PROGRAM.jam
 *
 * Exit code: 0 right answer, 1 wrong answer or error, 77 no usable /dev/kvm.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nub/host.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: embed PROGRAM.jam\n");
        return 1;
    }
    FILE *f = fopen(argv[1], "rb");
    static uint8_t jam[1 << 20];
    size_t len = f ? fread(jam, 1, sizeof jam, f) : 0;
    if (f == NULL || ferror(f) || len == 0 || len == sizeof jam) {
        fprintf(stderr, "embed: cannot read %s (or larger than 1 MiB)\n", argv[1]);
        return 1;
    }
    fclose(f);

    char why[256] = "";
    nub_sandbox_config cfg = {.create_error = why, .create_error_len = sizeof why};
    nub_sandbox *sb;
    nub_status st = nub_sandbox_create(&cfg, &sb);
    if (st == NUB_ERR_KVM_UNAVAILABLE || st == NUB_ERR_KVM_PERMISSION) {
        printf("skipped: no usable /dev/kvm (%s: %s)\n", nub_strerror(st), why);
        return 77;
    }
    if (st != NUB_OK) {
        fprintf(stderr, "embed: nub_sandbox_create: %s: %s\n", nub_strerror(st), why);
        return 1;
    }

    struct nub_invoke_packet p = {
        .endpoint_idx = 0, .arg_count = 2, .args = {1071, 462}, .initial_gas = 1000000};
    st = nub_publish_stdprog(sb, jam, len, NULL, 0, 0, p.instance_hash);
    struct nub_invocation_result r;
    if (st == NUB_OK)
        st = nub_invoke(sb, &p, &r);
    if (st != NUB_OK) {
        fprintf(stderr, "embed: %s: %s\n", nub_strerror(st), nub_sandbox_last_error(sb));
        nub_sandbox_destroy(sb);
        return 1;
    }
    nub_sandbox_destroy(sb);
    if (r.exit_reason != NUB_EXIT_HALT || r.return_value != 21) {
        fprintf(stderr, "embed: wrong answer: exit %u, phi7 %llu (want halt, 21)\n", r.exit_reason,
                (unsigned long long)r.return_value);
        return 1;
    }
    printf("gcd(1071, 462) = %llu, computed in the sandbox\n", (unsigned long long)r.return_value);
    return 0;
}
