/*
 * readfile.c — read a whole file into memory (bounded).
 */
#include "readfile.h"

#include <stdio.h>
#include <stdlib.h>

uint8_t *nubrun_read_file(const char *path, size_t *len_out, char *err, size_t err_len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, err_len, "cannot open %s", path);
        return NULL;
    }
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap);
    while (buf != NULL) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        if (cap >= NUBRUN_MAX_FILE_BYTES) {
            free(buf);
            fclose(f);
            snprintf(err, err_len, "%s is larger than %zu bytes", path, NUBRUN_MAX_FILE_BYTES);
            return NULL;
        }
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
    *len_out = n;
    return buf;
}
