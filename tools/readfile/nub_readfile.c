/*
 * nub_readfile.c — read a whole file into memory (see nub_readfile.h).
 */
#include "nub_readfile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint8_t *nub_read_file(const char *path, size_t max_bytes, size_t *len_out, char *err,
                       size_t err_len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, err_len, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap);
    while (buf != NULL) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap || n >= max_bytes)
            break;
        uint8_t *t = realloc(buf, cap * 2);
        if (t == NULL) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = t;
        cap *= 2;
    }
    int failed = buf == NULL || ferror(f);
    fclose(f);
    if (failed) {
        free(buf);
        snprintf(err, err_len, "cannot read %s", path);
        return NULL;
    }
    if (n >= max_bytes) {
        free(buf);
        snprintf(err, err_len, "%s is too large (%zu bytes or more)", path, max_bytes);
        return NULL;
    }
    *len_out = n;
    return buf;
}
