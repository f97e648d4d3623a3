/*
 * nub_readfile.h — read a whole file into memory, refusing files at or above
 * a size bound (a file's contents are untrusted, so is its size).
 */
#ifndef NUB_READFILE_H
#define NUB_READFILE_H

#include <stddef.h>
#include <stdint.h>

/* The bound the tools use unless a format calls for a smaller one. */
#define NUB_READFILE_DEFAULT_MAX ((size_t)256 << 20)

/*
 * Returns the contents of path in a malloc'd buffer (free it) and their length
 * in *len_out, or NULL with a one-line message naming the file in err if it
 * cannot be opened or read, or holds max_bytes bytes or more.
 */
uint8_t *nub_read_file(const char *path, size_t max_bytes, size_t *len_out, char *err,
                       size_t err_len);

#endif /* NUB_READFILE_H */
