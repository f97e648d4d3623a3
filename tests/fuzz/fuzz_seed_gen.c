/*
 * Writes the fuzzers' seed corpora and empty working folders:
 *   fuzz_seed_gen OUT_DIR GOLDEN_DIR
 * OUT_DIR/seeds/{cap,result,stdprog} get the golden fixtures (hex -> bytes)
 * and a few hand-made inputs; OUT_DIR/work/{...} and OUT_DIR/artifacts are
 * created for libFuzzer's new inputs and findings.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int make_dir(const char *path)
{
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        perror(path);
        return -1;
    }
    return 0;
}

static int write_file(const char *dir, const char *name, const unsigned char *b, size_t n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(b, 1, n, f) != n) {
        perror(path);
        if (f != NULL)
            fclose(f);
        return -1;
    }
    return fclose(f);
}

/* Golden fixture format: hex byte lines; '#' comments and the "hash" line skipped. */
static int golden_to_seed(const char *golden_dir, const char *name, const char *seed_dir)
{
    char path[4096], line[4096];
    snprintf(path, sizeof path, "%s/%s.hex", golden_dir, name);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        perror(path);
        return -1;
    }
    static unsigned char buf[1 << 16];
    size_t n = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        if (line[0] == '#' || strncmp(line, "hash", 4) == 0)
            continue;
        char *p = line;
        unsigned v;
        int used;
        while (n < sizeof buf && sscanf(p, " %2x%n", &v, &used) == 1) {
            buf[n++] = (unsigned char)v;
            p += used;
        }
    }
    fclose(f);
    return write_file(seed_dir, name, buf, n);
}

/* A Y container: args-length byte, 11-byte header, ro, rw, code_len, blob, args. */
static size_t stdprog_seed(unsigned char *out, unsigned args_len, unsigned ro_len, unsigned rw_len,
                           unsigned heap_pages, unsigned stack)
{
    static const unsigned char blob[] = {0x00, 0x00, 0x03, 0xbe, 0x87, 0x09, 0x01};
    size_t p = 0;
    out[p++] = (unsigned char)args_len;
    for (int i = 0; i < 3; i++)
        out[p++] = (unsigned char)(ro_len >> (8 * i));
    for (int i = 0; i < 3; i++)
        out[p++] = (unsigned char)(rw_len >> (8 * i));
    out[p++] = (unsigned char)heap_pages;
    out[p++] = (unsigned char)(heap_pages >> 8);
    for (int i = 0; i < 3; i++)
        out[p++] = (unsigned char)(stack >> (8 * i));
    for (unsigned i = 0; i < ro_len + rw_len; i++)
        out[p++] = (unsigned char)(i * 13 + 1);
    out[p++] = sizeof blob;
    out[p++] = 0;
    out[p++] = 0;
    out[p++] = 0;
    memcpy(out + p, blob, sizeof blob);
    p += sizeof blob;
    for (unsigned i = 0; i < args_len; i++)
        out[p++] = (unsigned char)('a' + i % 26);
    return p;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s OUT_DIR GOLDEN_DIR\n", argv[0]);
        return 2;
    }
    const char *out = argv[1], *golden = argv[2];
    static const char *const corpora[] = {"cap", "result", "stdprog"};
    char path[4096];
    if (make_dir(out) != 0)
        return 1;
    static const char *const parts[] = {"seeds", "work", "artifacts"};
    for (int p = 0; p < 3; p++) {
        snprintf(path, sizeof path, "%s/%s", out, parts[p]);
        if (make_dir(path) != 0)
            return 1;
        for (int c = 0; p < 2 && c < 3; c++) {
            snprintf(path, sizeof path, "%s/%s/%s", out, parts[p], corpora[c]);
            if (make_dir(path) != 0)
                return 1;
        }
    }

    char cap_dir[4096], result_dir[4096], stdprog_dir[4096];
    snprintf(cap_dir, sizeof cap_dir, "%s/seeds/cap", out);
    snprintf(result_dir, sizeof result_dir, "%s/seeds/result", out);
    snprintf(stdprog_dir, sizeof stdprog_dir, "%s/seeds/stdprog", out);
    if (golden_to_seed(golden, "image", cap_dir) != 0 ||
        golden_to_seed(golden, "image_gp080", cap_dir) != 0 ||
        golden_to_seed(golden, "data", cap_dir) != 0 ||
        golden_to_seed(golden, "instance", cap_dir) != 0 ||
        golden_to_seed(golden, "result", result_dir) != 0)
        return 1;

    static unsigned char buf[4096];
    size_t n = stdprog_seed(buf, 0, 0, 0, 0, 0);
    if (write_file(stdprog_dir, "minimal", buf, n) != 0)
        return 1;
    n = stdprog_seed(buf, 4, 6, 20, 3, 0x3005);
    if (write_file(stdprog_dir, "all_sections", buf, n) != 0)
        return 1;
    n = stdprog_seed(buf, 0, 0, 0, 0xFFFF, 0xFFFFFF);
    if (write_file(stdprog_dir, "max_heap_stack", buf, n) != 0)
        return 1;
    return 0;
}
