/*
 * json.h — a small JSON reader for nubrun (vectors and tests).
 *
 * Why our own: vector numbers go up to 2^64 - 1 and must be read exactly,
 * which double-based readers cannot do. Integers are kept as a sign and a
 * u64 magnitude; numbers with a fraction or exponent are rejected (nothing
 * we read has them). Input is untrusted: depth and sizes are bounded.
 */
#ifndef NUBRUN_JSON_H
#define NUBRUN_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum json_type { JSON_NULL, JSON_BOOL, JSON_INT, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

struct json_value {
    enum json_type type;
    bool boolean;
    bool negative;            /* JSON_INT: sign */
    uint64_t magnitude;       /* JSON_INT: absolute value */
    char *string;             /* JSON_STRING (NUL-terminated; escapes decoded) */
    size_t count;             /* JSON_ARRAY / JSON_OBJECT: number of items */
    struct json_value *items; /* array items / object values */
    char **keys;              /* JSON_OBJECT keys */
};

/* Parses text[0..len). Returns NULL on a syntax error and writes a short
 * message to err (err_len bytes). Free with json_free. */
struct json_value *json_parse(const char *text, size_t len, char *err, size_t err_len);
void json_free(struct json_value *v);

/* Object member by key, or NULL. */
const struct json_value *json_get(const struct json_value *object, const char *key);

/* Typed reads: return false if the value is missing or of another type / range. */
bool json_as_u64(const struct json_value *v, uint64_t *out);
bool json_as_i64(const struct json_value *v, int64_t *out);
bool json_as_u32(const struct json_value *v, uint32_t *out);
bool json_as_bool(const struct json_value *v, bool *out);

#endif /* NUBRUN_JSON_H */
