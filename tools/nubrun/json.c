/*
 * json.c — recursive-descent JSON reader (see json.h).
 */
#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_MAX_DEPTH 64

struct parser {
    const char *start;
    const char *p;
    const char *end;
    char *err;
    size_t err_len;
    bool failed;
};

static void fail(struct parser *ps, const char *what)
{
    if (!ps->failed && ps->err_len > 0)
        snprintf(ps->err, ps->err_len, "%s at offset %zu", what, (size_t)(ps->p - ps->start));
    ps->failed = true;
}

static void skip_ws(struct parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

static bool literal(struct parser *ps, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
        return false;
    ps->p += n;
    return true;
}

static void free_contents(struct json_value *v);

static bool parse_value(struct parser *ps, struct json_value *out, int depth);

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static char *parse_string(struct parser *ps)
{
    if (ps->p >= ps->end || *ps->p != '"') {
        fail(ps, "expected string");
        return NULL;
    }
    ps->p++;
    size_t cap = 16, n = 0;
    char *s = malloc(cap);
    if (s == NULL) {
        fail(ps, "out of memory");
        return NULL;
    }
    while (ps->p < ps->end && *ps->p != '"') {
        unsigned char c = (unsigned char)*ps->p++;
        if (c < 0x20)
            goto bad;
        if (c == '\\') {
            if (ps->p >= ps->end)
                goto bad;
            char e = *ps->p++;
            switch (e) {
            case '"':
                c = '"';
                break;
            case '\\':
                c = '\\';
                break;
            case '/':
                c = '/';
                break;
            case 'b':
                c = '\b';
                break;
            case 'f':
                c = '\f';
                break;
            case 'n':
                c = '\n';
                break;
            case 'r':
                c = '\r';
                break;
            case 't':
                c = '\t';
                break;
            case 'u': {
                /* Only ASCII escapes are needed by our inputs; others become '?'. */
                if (ps->end - ps->p < 4)
                    goto bad;
                int code = 0;
                for (int i = 0; i < 4; i++) {
                    int h = hex_digit(ps->p[i]);
                    if (h < 0)
                        goto bad;
                    code = code * 16 + h;
                }
                ps->p += 4;
                c = code < 0x80 && code > 0 ? (unsigned char)code : '?';
                break;
            }
            default:
                goto bad;
            }
        }
        if (n + 2 > cap) {
            cap *= 2;
            char *t = realloc(s, cap);
            if (t == NULL)
                goto bad;
            s = t;
        }
        s[n++] = (char)c;
    }
    if (ps->p >= ps->end)
        goto bad;
    ps->p++;
    s[n] = '\0';
    return s;
bad:
    free(s);
    fail(ps, "bad string");
    return NULL;
}

static bool parse_number(struct parser *ps, struct json_value *out)
{
    out->type = JSON_INT;
    if (ps->p < ps->end && *ps->p == '-') {
        out->negative = true;
        ps->p++;
    }
    if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9') {
        fail(ps, "bad number");
        return false;
    }
    if (*ps->p == '0' && ps->end - ps->p > 1 && ps->p[1] >= '0' && ps->p[1] <= '9') {
        fail(ps, "leading zero");
        return false;
    }
    uint64_t v = 0;
    while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') {
        unsigned d = (unsigned)(*ps->p - '0');
        if (v > (UINT64_MAX - d) / 10) {
            fail(ps, "integer too large");
            return false;
        }
        v = v * 10 + d;
        ps->p++;
    }
    if (ps->p < ps->end && (*ps->p == '.' || *ps->p == 'e' || *ps->p == 'E')) {
        fail(ps, "non-integer number");
        return false;
    }
    out->magnitude = v;
    if (v == 0)
        out->negative = false;
    return true;
}

static bool push_item(struct parser *ps, struct json_value *container, size_t *cap,
                      struct json_value *item, char *key)
{
    if (container->count == *cap) {
        size_t ncap = *cap ? *cap * 2 : 8;
        struct json_value *items = realloc(container->items, ncap * sizeof(*items));
        if (items == NULL) {
            fail(ps, "out of memory");
            return false;
        }
        container->items = items;
        if (container->type == JSON_OBJECT) {
            char **keys = realloc(container->keys, ncap * sizeof(*keys));
            if (keys == NULL) {
                fail(ps, "out of memory");
                return false;
            }
            container->keys = keys;
        }
        *cap = ncap;
    }
    container->items[container->count] = *item;
    if (container->type == JSON_OBJECT)
        container->keys[container->count] = key;
    container->count++;
    return true;
}

static bool parse_container(struct parser *ps, struct json_value *out, int depth, bool object)
{
    out->type = object ? JSON_OBJECT : JSON_ARRAY;
    ps->p++; /* [ or { */
    size_t cap = 0;
    skip_ws(ps);
    char close = object ? '}' : ']';
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
        return true;
    }
    for (;;) {
        char *key = NULL;
        skip_ws(ps);
        if (object) {
            key = parse_string(ps);
            if (key == NULL)
                return false;
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':') {
                free(key);
                fail(ps, "expected ':'");
                return false;
            }
            ps->p++;
        }
        struct json_value item;
        if (!parse_value(ps, &item, depth + 1)) {
            free(key);
            return false;
        }
        if (!push_item(ps, out, &cap, &item, key)) {
            free_contents(&item);
            free(key);
            return false;
        }
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == close) {
            ps->p++;
            return true;
        }
        fail(ps, object ? "expected ',' or '}'" : "expected ',' or ']'");
        return false;
    }
}

static bool parse_value(struct parser *ps, struct json_value *out, int depth)
{
    memset(out, 0, sizeof(*out));
    if (depth > JSON_MAX_DEPTH) {
        fail(ps, "nesting too deep");
        return false;
    }
    skip_ws(ps);
    if (ps->p >= ps->end) {
        fail(ps, "unexpected end");
        return false;
    }
    char c = *ps->p;
    if (c == '{' || c == '[') {
        if (!parse_container(ps, out, depth, c == '{')) {
            free_contents(out);
            memset(out, 0, sizeof(*out));
            return false;
        }
        return true;
    }
    if (c == '"') {
        out->type = JSON_STRING;
        out->string = parse_string(ps);
        return out->string != NULL;
    }
    if (c == '-' || (c >= '0' && c <= '9'))
        return parse_number(ps, out);
    if (literal(ps, "true")) {
        out->type = JSON_BOOL;
        out->boolean = true;
        return true;
    }
    if (literal(ps, "false")) {
        out->type = JSON_BOOL;
        return true;
    }
    if (literal(ps, "null")) {
        out->type = JSON_NULL;
        return true;
    }
    fail(ps, "unexpected character");
    return false;
}

struct json_value *json_parse(const char *text, size_t len, char *err, size_t err_len)
{
    struct parser ps = {
        .start = text, .p = text, .end = text + len, .err = err, .err_len = err_len};
    if (err_len > 0)
        err[0] = '\0';
    struct json_value *v = malloc(sizeof(*v));
    if (v == NULL)
        return NULL;
    if (!parse_value(&ps, v, 0)) {
        free(v);
        return NULL;
    }
    skip_ws(&ps);
    if (ps.p != ps.end) {
        fail(&ps, "trailing characters");
        json_free(v);
        return NULL;
    }
    return v;
}

static void free_contents(struct json_value *v)
{
    if (v->type == JSON_STRING)
        free(v->string);
    if (v->type == JSON_ARRAY || v->type == JSON_OBJECT) {
        for (size_t i = 0; i < v->count; i++) {
            free_contents(&v->items[i]);
            if (v->type == JSON_OBJECT)
                free(v->keys[i]);
        }
        free(v->items);
        free(v->keys);
    }
}

void json_free(struct json_value *v)
{
    if (v == NULL)
        return;
    free_contents(v);
    free(v);
}

const struct json_value *json_get(const struct json_value *object, const char *key)
{
    if (object == NULL || object->type != JSON_OBJECT)
        return NULL;
    for (size_t i = 0; i < object->count; i++)
        if (strcmp(object->keys[i], key) == 0)
            return &object->items[i];
    return NULL;
}

bool json_as_u64(const struct json_value *v, uint64_t *out)
{
    if (v == NULL || v->type != JSON_INT || v->negative)
        return false;
    *out = v->magnitude;
    return true;
}

bool json_as_i64(const struct json_value *v, int64_t *out)
{
    if (v == NULL || v->type != JSON_INT)
        return false;
    if (v->negative) {
        if (v->magnitude > (uint64_t)INT64_MAX + 1)
            return false;
        *out = (int64_t)(0 - v->magnitude);
    } else {
        if (v->magnitude > (uint64_t)INT64_MAX)
            return false;
        *out = (int64_t)v->magnitude;
    }
    return true;
}

bool json_as_u32(const struct json_value *v, uint32_t *out)
{
    uint64_t x;
    if (!json_as_u64(v, &x) || x > UINT32_MAX)
        return false;
    *out = (uint32_t)x;
    return true;
}

bool json_as_bool(const struct json_value *v, bool *out)
{
    if (v == NULL || v->type != JSON_BOOL)
        return false;
    *out = v->boolean;
    return true;
}
