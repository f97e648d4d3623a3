/*
 * vector_check — run one conformance vector through `nubrun` and compare.
 *
 * usage: vector_check NUBRUN ENGINE VECTOR.json
 *
 * Runs `NUBRUN --engine ENGINE --vector VECTOR.json`, parses the one JSON
 * object it prints, and checks status, regs, pc, gas, page-fault-address
 * (page faults) and memory against the vector's expected-* values, the way
 * /work/shared/tools/vector-check.py does: every byte of every page in the
 * initial page map must be reported and equal the expected memory (0 where
 * the vector lists nothing). Prints each difference; exit 0 iff all match.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kvm_check.h"
#include "json.h"
#include "nub_readfile.h"

#define MAX_OUTPUT ((size_t)512 << 20)

static int failures;

static void mismatch(const char *fmt, const char *key, const char *got, const char *want)
{
    fprintf(stderr, fmt, key, got, want);
    failures++;
}

/* Runs the command and returns its stdout (malloc'd), or NULL. */
static char *run_capture(char *const argv[], size_t *len, int *status)
{
    int fds[2];
    if (pipe(fds) != 0)
        return NULL;
    pid_t pid = fork();
    if (pid < 0)
        return NULL;
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execv(argv[0], argv);
        _exit(127);
    }
    close(fds[1]);
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (buf == NULL)
            break;
        if (n == cap) {
            char *t = cap < MAX_OUTPUT ? realloc(buf, cap * 2) : NULL;
            if (t == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = t;
            cap *= 2;
        }
        ssize_t got = read(fds[0], buf + n, cap - n);
        if (got <= 0)
            break;
        n += (size_t)got;
    }
    close(fds[0]);
    waitpid(pid, status, 0);
    *len = n;
    return buf;
}

static struct json_value *parse_file(const char *path)
{
    char err[512];
    size_t n = 0;
    char *buf = (char *)nub_read_file(path, NUB_READFILE_DEFAULT_MAX, &n, err, sizeof(err));
    if (buf == NULL) {
        fprintf(stderr, "%s\n", err);
        return NULL;
    }
    struct json_value *v = json_parse(buf, n, err, sizeof(err));
    if (v == NULL)
        fprintf(stderr, "%s: %s\n", path, err);
    free(buf);
    return v;
}

static void fmt_int(const struct json_value *v, char *out, size_t n)
{
    if (v == NULL)
        snprintf(out, n, "(missing)");
    else if (v->type == JSON_INT)
        snprintf(out, n, "%s%" PRIu64, v->negative ? "-" : "", v->magnitude);
    else if (v->type == JSON_STRING)
        snprintf(out, n, "\"%s\"", v->string);
    else
        snprintf(out, n, "(type %d)", (int)v->type);
}

static bool same_scalar(const struct json_value *a, const struct json_value *b)
{
    if (a == NULL || b == NULL || a->type != b->type)
        return false;
    if (a->type == JSON_INT)
        return a->negative == b->negative && a->magnitude == b->magnitude;
    if (a->type == JSON_STRING)
        return strcmp(a->string, b->string) == 0;
    return false;
}

static void compare_scalar(const struct json_value *out, const struct json_value *vec,
                           const char *key, const char *expected_key)
{
    const struct json_value *got = json_get(out, key), *want = json_get(vec, expected_key);
    if (!same_scalar(got, want)) {
        char g[64], w[64];
        fmt_int(got, g, sizeof(g));
        fmt_int(want, w, sizeof(w));
        mismatch("%s: got %s want %s\n", key, g, w);
    }
}

static void compare_regs(const struct json_value *out, const struct json_value *vec)
{
    const struct json_value *got = json_get(out, "regs"), *want = json_get(vec, "expected-regs");
    if (got == NULL || got->type != JSON_ARRAY || want == NULL || want->type != JSON_ARRAY ||
        got->count != want->count) {
        mismatch("%s: got %s want %s\n", "regs", "(not a list of the right length)", "13 numbers");
        return;
    }
    for (size_t i = 0; i < got->count; i++)
        if (!same_scalar(&got->items[i], &want->items[i])) {
            char g[64], w[64], key[32];
            fmt_int(&got->items[i], g, sizeof(g));
            fmt_int(&want->items[i], w, sizeof(w));
            snprintf(key, sizeof(key), "regs[%zu]", i);
            mismatch("%s: got %s want %s\n", key, g, w);
        }
}

/* The byte at address in a list of {address, contents} chunks, or -1. */
static int chunk_byte(const struct json_value *chunks, uint64_t address)
{
    int found = -1;
    for (size_t i = 0; chunks != NULL && i < chunks->count; i++) {
        uint64_t base, b;
        const struct json_value *c = json_get(&chunks->items[i], "contents");
        if (!json_as_u64(json_get(&chunks->items[i], "address"), &base) || c == NULL ||
            c->type != JSON_ARRAY)
            continue;
        if (address >= base && address - base < c->count &&
            json_as_u64(&c->items[address - base], &b) && b <= 255)
            found = (int)b;
    }
    return found;
}

static void compare_memory(const struct json_value *out, const struct json_value *vec)
{
    const struct json_value *got = json_get(out, "memory");
    const struct json_value *want = json_get(vec, "expected-memory");
    const struct json_value *pages = json_get(vec, "initial-page-map");
    if (got == NULL || got->type != JSON_ARRAY) {
        mismatch("%s: got %s want %s\n", "memory", "(missing)", "a list of chunks");
        return;
    }
    for (size_t p = 0; pages != NULL && p < pages->count; p++) {
        uint64_t base, length;
        if (!json_as_u64(json_get(&pages->items[p], "address"), &base) ||
            !json_as_u64(json_get(&pages->items[p], "length"), &length))
            continue;
        for (uint64_t a = base; a < base + length; a++) {
            int g = chunk_byte(got, a);
            int w = chunk_byte(want, a);
            if (w < 0)
                w = 0;
            if (g != w) {
                char key[48], gs[16], ws[16];
                snprintf(key, sizeof(key), "memory[%#" PRIx64 "]", a);
                snprintf(gs, sizeof(gs), g < 0 ? "(missing)" : "%d", g);
                snprintf(ws, sizeof(ws), "%d", w);
                mismatch("%s: got %s want %s\n", key, gs, ws);
                break; /* one report per page */
            }
        }
    }
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: vector_check NUBRUN ENGINE VECTOR.json\n");
        return 2;
    }
    /* The sandbox engine needs KVM: without it the vector is skipped (ctest
     * SKIP_RETURN_CODE), with the reason, rather than failed or passed. */
    char why[160];
    if (strcmp(argv[2], "sandbox") == 0 && nub_test_kvm_unusable(why, sizeof why)) {
        printf("SKIP: %s\n", why);
        return NUB_TEST_SKIP;
    }
    struct json_value *vec = parse_file(argv[3]);
    if (vec == NULL) {
        fprintf(stderr, "cannot read vector %s\n", argv[3]);
        return 1;
    }
    char *cmd[] = {argv[1], "--engine", argv[2], "--vector", argv[3], NULL};
    size_t len = 0;
    int status = 0;
    char *text = run_capture(cmd, &len, &status);
    if (text == NULL || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "nubrun failed (status %d)\n", status);
        free(text);
        json_free(vec);
        return 1;
    }
    char err[128];
    struct json_value *out = json_parse(text, len, err, sizeof(err));
    free(text);
    if (out == NULL || out->type != JSON_OBJECT) {
        fprintf(stderr, "nubrun printed no JSON object: %s\n", err);
        json_free(out);
        json_free(vec);
        return 1;
    }
    compare_scalar(out, vec, "status", "expected-status");
    compare_regs(out, vec);
    compare_scalar(out, vec, "pc", "expected-pc");
    compare_scalar(out, vec, "gas", "expected-gas");
    const struct json_value *st = json_get(vec, "expected-status");
    if (st != NULL && st->type == JSON_STRING && strcmp(st->string, "page-fault") == 0)
        compare_scalar(out, vec, "page-fault-address", "expected-page-fault-address");
    compare_memory(out, vec);
    json_free(out);
    json_free(vec);
    if (failures == 0)
        printf("ok\n");
    return failures == 0 ? 0 : 1;
}
