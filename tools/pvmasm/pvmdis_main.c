/*
 * pvmdis — disassemble a PVM program blob (or, with --stdprog, the code of a
 * standard program container) into pvmasm text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nub_readfile.h"
#include "pvm_stdprog.h"
#include "pvmasm.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: pvmdis [--stdprog] FILE\n"
               "\n"
               "Disassembles a PVM program blob, or with --stdprog the code of a JAM\n"
               "standard program container (what nub-cc writes; its .stack, .heap, .ro\n"
               "and .rw fields are printed first), into pvmasm text on standard output.\n"
               "Instructions whose bytes are not the canonical encoding are printed as\n"
               ".opcode lines, so `pvmasm` turns the text back into the same bytes.\n"
               "\n"
               "Exit code: 0 printed; 1 unreadable or invalid input; 2 usage errors.\n");
}

int main(int argc, char **argv)
{
    const char *in = NULL;
    bool stdprog = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--stdprog") == 0) {
            stdprog = true;
        } else if (argv[i][0] == '-' || in != NULL) {
            usage(stderr);
            return 2;
        } else {
            in = argv[i];
        }
    }
    if (in == NULL) {
        usage(stderr);
        return 2;
    }
    char err[256];
    size_t n = 0;
    uint8_t *buf = nub_read_file(in, NUB_READFILE_DEFAULT_MAX, &n, err, sizeof(err));
    if (buf == NULL) {
        fprintf(stderr, "pvmdis: %s\n", err);
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
