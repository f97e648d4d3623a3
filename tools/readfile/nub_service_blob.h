/*
 * nub_service_blob.h — a JAM service code blob, as kept in JAM state, is
 * E(len meta) ++ meta ++ Y: a general-natural length, a metadata record, then
 * a JAM standard program Y (SPEC §11). Shared by nubrun --service and the
 * benchmark's real-program figures.
 */
#ifndef NUB_SERVICE_BLOB_H
#define NUB_SERVICE_BLOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Sets *y / *y_len to the standard program inside b[0..len) (a pointer
 * into b); false if the metadata length runs past the blob. */
bool nub_service_program(const uint8_t *b, size_t len, const uint8_t **y, size_t *y_len);

#endif /* NUB_SERVICE_BLOB_H */
