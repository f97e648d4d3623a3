/*
 * pvmdis — disassemble a PVM program blob (or, with --stdprog, the code of a
 * standard program container) into pvmasm text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pvm_stdprog.h"
#include "pvmasm.h"

int main(int argc, char **argv)
{
    const char *in = NULL;
    bool stdprog = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0) {
            printf("usage: pvmdis [--stdprog] FILE\n");
            return 0;
        } else if (strcmp(argv[i], "--stdprog") == 0) {
            stdprog = true;
        } else if (argv[i][0] == '-' || in != NULL) {
            fprintf(stderr, "usage: pvmdis [--stdprog] FILE\n");
            return 2;
        } else {
            in = argv[i];
        }
    }
    if (in == NULL) {
        fprintf(stderr, "usage: pvmdis [--stdprog] FILE\n");
        return 2;
    }
    FILE *f = fopen(in, "rb");
    if (f == NULL) {
        fprintf(stderr, "pvmdis: cannot open %s\n", in);
        return 1;
    }
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    while (buf != NULL) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        uint8_t *t = cap < ((size_t)256 << 20) ? realloc(buf, cap * 2) : NULL;
        if (t == NULL) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = t;
        cap *= 2;
    }
    fclose(f);
    if (buf == NULL) {
        fprintf(stderr, "pvmdis: cannot read %s\n", in);
        return 1;
    }
    const uint8_t *blob = buf;
    size_t blob_len = n;
    struct pvm_stdprog sp;
    if (stdprog) {
        int rc = pvm_stdprog_load(buf, n, NULL, 0, &sp);
        if (rc != PVM_OK) {
            fprintf(stderr, "pvmdis: %s: %s\n", in, pvm_error_name(rc));
            free(buf);
            return 1;
        }
        printf("    .stack %u\n    .heap %u\n", sp.stack_size, sp.heap_pages);
        const uint8_t *ro = buf + 11;
        for (uint32_t i = 0; i < sp.ro_len; i += 16) {
            printf("    .ro");
            for (uint32_t k = i; k < sp.ro_len && k < i + 16; k++)
                printf("%s0x%02x", k == i ? " " : ", ", ro[k]);
            printf("\n");
        }
        const uint8_t *rw = ro + sp.ro_len;
        for (uint32_t i = 0; i < sp.rw_len; i += 16) {
            printf("    .rw");
            for (uint32_t k = i; k < sp.rw_len && k < i + 16; k++)
                printf("%s0x%02x", k == i ? " " : ", ", rw[k]);
            printf("\n");
        }
        blob = sp.code_blob;
        blob_len = sp.code_blob_len;
    }
    char err[256];
    char *text = pvmasm_disassemble(blob, blob_len, err, sizeof(err));
    free(buf);
    if (text == NULL) {
        fprintf(stderr, "pvmdis: %s: %s\n", in, err);
        return 1;
    }
    fputs(text, stdout);
    free(text);
    return 0;
}
