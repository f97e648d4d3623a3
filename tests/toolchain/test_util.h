/*
 * test_util.h — loading the .jam files the build produced for the tests.
 */
#ifndef NUB_TEST_TOOLCHAIN_UTIL_H
#define NUB_TEST_TOOLCHAIN_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "jam_runner.h"

/* Reads a whole file; NULL if it cannot be read. */
static inline uint8_t *test_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) != 0) {
        fclose(f);
        return NULL;
    }
    long size = ftell(f);
    rewind(f);
    uint8_t *buf = size >= 0 ? malloc((size_t)size + 1) : NULL;
    if (buf == NULL || fread(buf, 1, (size_t)size, f) != (size_t)size) {
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    *len = (size_t)size;
    return buf;
}

/* Loads dir/name; NULL (after printing why) on failure. */
static inline struct jam_loaded *test_load_jam(const char *dir, const char *name)
{
    char path[1024], err[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    size_t len = 0;
    uint8_t *bytes = test_read_file(path, &len);
    if (bytes == NULL) {
        fprintf(stderr, "cannot read %s\n", path);
        return NULL;
    }
    struct jam_loaded *l = jam_load(bytes, len, err, sizeof err);
    free(bytes);
    if (l == NULL)
        fprintf(stderr, "%s: %s\n", path, err);
    return l;
}

#endif /* NUB_TEST_TOOLCHAIN_UTIL_H */
