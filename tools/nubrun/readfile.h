/*
 * readfile.h — read a whole file into memory (bounded).
 */
#ifndef NUBRUN_READFILE_H
#define NUBRUN_READFILE_H

#include <stddef.h>
#include <stdint.h>

#define NUBRUN_MAX_FILE_BYTES ((size_t)256 << 20)

/* Returns a malloc'd buffer (free it) or NULL with a one-line message in err. */
uint8_t *nubrun_read_file(const char *path, size_t *len_out, char *err, size_t err_len);

#endif /* NUBRUN_READFILE_H */
