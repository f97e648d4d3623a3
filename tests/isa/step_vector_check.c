/*
 * step_vector_check — run GP 0.8.0 step-format vectors (SPEC-0.8.md §6.2)
 * through `nubrun` and compare.
 *
 * usage: step_vector_check NUBRUN ENGINE DIR_OR_FILE...
 *
 * For each vector it runs, from outside, as the command-line contract says:
 *   NUBRUN --isa 0.8.0 --engine ENGINE --block-costs --raw BLOB
 *       ONE JSON object, equal to the vector's block-gas-costs;
 *   NUBRUN --isa 0.8.0 --engine ENGINE --vector FILE
 *       ONE JSON object per assert step, in order: status, gas, pc, regs and
 *       page-fault-address (page faults) equal, and the non-zero bytes of
 *       memory equal to those the assert lists.
 * The vectors carry 0.8.0 numbering (converted once, tests/isa/vectors/
 * SOURCE.md). Prints each difference; exit 0 iff every vector matches.
 */
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "json.h"
#include "kvm_check.h"
#include "nub_readfile.h"

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
    while (buf != NULL) {
        if (n == cap) {
            char *t = realloc(buf, cap * 2);
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

static bool same_int(const struct json_value *a, const struct json_value *b)
{
    return a != NULL && b != NULL && a->type == JSON_INT && b->type == JSON_INT &&
           a->negative == b->negative && a->magnitude == b->magnitude;
}

/* Non-zero bytes of a chunk list as (address, byte) pairs, sorted by address
 * (later chunks win); returns the count. */
static size_t nonzero(const struct json_value *chunks, uint64_t *addr, uint8_t *byte, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; chunks != NULL && chunks->type == JSON_ARRAY && i < chunks->count; i++) {
        uint64_t base, b;
        const struct json_value *c = json_get(&chunks->items[i], "contents");
        if (!json_as_u64(json_get(&chunks->items[i], "address"), &base) || c == NULL ||
            c->type != JSON_ARRAY)
            continue;
        for (size_t k = 0; k < c->count; k++) {
            if (!json_as_u64(&c->items[k], &b) || b == 0)
                continue;
            size_t j = 0;
            while (j < n && addr[j] != base + k)
                j++;
            if (j == n) {
                if (n == cap)
                    return SIZE_MAX;
                n++;
            }
            addr[j] = base + k;
            byte[j] = (uint8_t)b;
        }
    }
    return n;
}

static bool same_memory(const struct json_value *got, const struct json_value *want)
{
    enum { CAP = 65536 };
    static uint64_t ga[CAP], wa[CAP];
    static uint8_t gb[CAP], wb[CAP];
    size_t gn = nonzero(got, ga, gb, CAP), wn = nonzero(want, wa, wb, CAP);
    if (gn == SIZE_MAX || wn == SIZE_MAX || gn != wn)
        return false;
    for (size_t i = 0; i < wn; i++) {
        size_t j = 0;
        while (j < gn && ga[j] != wa[i])
            j++;
        if (j == gn || gb[j] != wb[i])
            return false;
    }
    return true;
}

/* 0 ok, 1 mismatch (reported) */
static int check_costs(const char *nubrun, const char *engine, const struct json_value *v,
                       const char *name)
{
    const struct json_value *prog = json_get(v, "program");
    const struct json_value *want = json_get(v, "block-gas-costs");
    if (prog == NULL || prog->type != JSON_ARRAY || want == NULL || want->type != JSON_OBJECT) {
        printf("FAIL %s: no program / block-gas-costs\n", name);
        return 1;
    }
    char path[] = "/tmp/nub-step-vector-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return printf("FAIL %s: mkstemp\n", name), 1;
    for (size_t i = 0; i < prog->count; i++) {
        uint64_t b = 0;
        json_as_u64(&prog->items[i], &b);
        uint8_t byte = (uint8_t)b;
        if (write(fd, &byte, 1) != 1)
            break;
    }
    close(fd);
    char *argv[] = {(char *)nubrun,  "--isa", "0.8.0", "--engine", (char *)engine,
                    "--block-costs", "--raw", path,    NULL};
    size_t len = 0;
    int status = 0;
    char *text = run_capture(argv, &len, &status);
    unlink(path);
    char err[128];
    struct json_value *got = text ? json_parse(text, len, err, sizeof(err)) : NULL;
    free(text);
    int rc = 0;
    if (got == NULL || got->type != JSON_OBJECT || got->count != want->count) {
        printf("FAIL %s: block costs: not one object with %zu entries\n", name, want->count);
        rc = 1;
    }
    for (size_t i = 0; rc == 0 && i < want->count; i++) {
        if (!same_int(json_get(got, want->keys[i]), &want->items[i])) {
            printf("FAIL %s: block cost at %s differs\n", name, want->keys[i]);
            rc = 1;
        }
    }
    json_free(got);
    return rc;
}

static int check_steps(const char *nubrun, const char *engine, const char *file,
                       const struct json_value *v, const char *name)
{
    char *argv[] = {(char *)nubrun, "--isa",    "0.8.0",      "--engine",
                    (char *)engine, "--vector", (char *)file, NULL};
    size_t len = 0;
    int status = 0;
    char *text = run_capture(argv, &len, &status);
    if (text == NULL || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        printf("FAIL %s: nubrun failed (status %d)\n", name, status);
        free(text);
        return 1;
    }
    const struct json_value *steps = json_get(v, "steps");
    char *line = text, *end = text + len;
    int rc = 0;
    size_t k = 0;
    for (size_t i = 0; steps != NULL && i < steps->count && rc == 0; i++) {
        const struct json_value *s = &steps->items[i];
        const struct json_value *kind = json_get(s, "kind");
        if (kind == NULL || kind->type != JSON_STRING || strcmp(kind->string, "assert") != 0)
            continue;
        char *nl = memchr(line, '\n', (size_t)(end - line));
        if (line >= end || nl == NULL) {
            printf("FAIL %s: no output for assert %zu\n", name, k);
            rc = 1;
            break;
        }
        char err[128];
        struct json_value *g = json_parse(line, (size_t)(nl - line), err, sizeof(err));
        line = nl + 1;
        const char *bad = NULL;
        const struct json_value *st = json_get(s, "status");
        const struct json_value *gst = g ? json_get(g, "status") : NULL;
        if (g == NULL || st == NULL || gst == NULL || gst->type != JSON_STRING ||
            strcmp(gst->string, st->string) != 0)
            bad = "status";
        else if (!same_int(json_get(g, "gas"), json_get(s, "gas")))
            bad = "gas";
        else if (!same_int(json_get(g, "pc"), json_get(s, "pc")))
            bad = "pc";
        if (bad == NULL) {
            const struct json_value *gr = json_get(g, "regs"), *wr = json_get(s, "regs");
            if (gr == NULL || wr == NULL || gr->type != JSON_ARRAY || wr->type != JSON_ARRAY ||
                gr->count != wr->count)
                bad = "regs";
            for (size_t r = 0; bad == NULL && r < wr->count; r++)
                if (!same_int(&gr->items[r], &wr->items[r]))
                    bad = "regs";
        }
        if (bad == NULL && strcmp(st->string, "page-fault") == 0) {
            const struct json_value *w = json_get(s, "page-fault-address");
            if (w == NULL)
                w = json_get(s, "page_fault_address");
            if (!same_int(json_get(g, "page-fault-address"), w))
                bad = "page-fault-address";
        }
        if (bad == NULL && !same_memory(json_get(g, "memory"), json_get(s, "memory")))
            bad = "memory";
        if (bad != NULL) {
            printf("FAIL %s: assert %zu: %s differs\n", name, k, bad);
            rc = 1;
        }
        json_free(g);
        k++;
    }
    free(text);
    return rc;
}

static int check_file(const char *nubrun, const char *engine, const char *file)
{
    char err[512];
    size_t n = 0;
    char *buf = (char *)nub_read_file(file, NUB_READFILE_DEFAULT_MAX, &n, err, sizeof(err));
    struct json_value *v = buf ? json_parse(buf, n, err, sizeof(err)) : NULL;
    free(buf);
    if (v == NULL) {
        printf("FAIL %s: unreadable: %s\n", file, err);
        return 1;
    }
    const struct json_value *nm = json_get(v, "name");
    const char *name = nm != NULL && nm->type == JSON_STRING ? nm->string : file;
    int rc = check_costs(nubrun, engine, v, name);
    if (rc == 0)
        rc = check_steps(nubrun, engine, file, v, name);
    json_free(v);
    return rc;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: step_vector_check NUBRUN ENGINE DIR_OR_FILE...\n");
        return 2;
    }
    char why[160];
    if (strcmp(argv[2], "sandbox") == 0 && nub_test_kvm_unusable(why, sizeof why)) {
        printf("SKIP: %s\n", why);
        return NUB_TEST_SKIP;
    }
    size_t total = 0, failed = 0;
    for (int a = 3; a < argc; a++) {
        DIR *d = opendir(argv[a]);
        if (d == NULL) {
            total++;
            failed += (size_t)check_file(argv[1], argv[2], argv[a]);
            continue;
        }
        char **names = NULL;
        size_t count = 0;
        for (struct dirent *e; (e = readdir(d)) != NULL;) {
            size_t l = strlen(e->d_name);
            if (l < 6 || strcmp(e->d_name + l - 5, ".json") != 0)
                continue;
            char **t = realloc(names, (count + 1) * sizeof(*names));
            if (t == NULL)
                break;
            names = t;
            names[count] = malloc(strlen(argv[a]) + l + 2);
            if (names[count] == NULL)
                break;
            sprintf(names[count++], "%s/%s", argv[a], e->d_name);
        }
        closedir(d);
        qsort(names, count, sizeof(*names), by_name);
        for (size_t i = 0; i < count; i++) {
            total++;
            failed += (size_t)check_file(argv[1], argv[2], names[i]);
            free(names[i]);
        }
        free(names);
    }
    printf("%zu vectors, %zu failed\n", total, failed);
    return failed == 0 && total > 0 ? 0 : 1;
}
