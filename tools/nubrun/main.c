/*
 * nubrun — run PVM programs and conformance vectors on a chosen engine.
 * See usage() for the command line.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demo_sieve.h"
#include "nub_capbuild.h"
#include "pvm_isa.h"
#include "engine.h"
#include "program_mode.h"
#include "vector_mode.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: nubrun --vector FILE.json [--engine NAME] [--isa V]\n"
            "       nubrun --block-costs [--engine NAME] [--isa V] [--raw] PROGRAM\n"
            "       nubrun [--engine NAME] [--isa V] [--gas N] [--endpoint K] [--args a,b,c,d]\n"
            "              [--input FILE] [--host jam|none] [--raw|--service] [--json] [PROGRAM]\n"
            "\n"
            "--vector FILE   run one PVM conformance vector (SPEC.md §13) and print ONE JSON\n"
            "                object: status, regs, pc, gas, page-fault-address (page faults\n"
            "                only) and memory (every page of the vector's page map).\n"
            "                A step-format vector (SPEC-0.8.md §6.2: a \"steps\" list) runs its\n"
            "                map/write/set-reg/run steps in order and prints ONE JSON object\n"
            "                per assert step: status, gas, pc, regs, memory (chunks covering\n"
            "                every non-zero byte of every mapped page), page-fault-address.\n"
            "--isa V         the program's PVM ISA version: 0.7.2 (default) or 0.8.0\n"
            "--block-costs   print ONE JSON object mapping each basic-block start of\n"
            "                PROGRAM (decimal string) to the gas the engine charges for it\n"
            "PROGRAM         a JAM standard program file (SPEC.md §11), or with --raw a bare\n"
            "                PVM blob (§4; runs with no memory and r0 = 0xFFFF0000). Prints\n"
            "                exit reason, exit arg, phi7, gas left and pc. With --host none the\n"
            "                run stops at the first ecalli (reported, not served).\n"
            "no PROGRAM      run the built-in demo: a prime sieve in PVM assembly counting\n"
            "                the primes below N (default %u, or --args N); nubrun checks the\n"
            "                answer and exits 1 if it is wrong.\n"
            "--engine NAME   engine to run on (default: %s):\n",
            (unsigned)NUBRUN_DEMO_SIEVE_DEFAULT_N, nubrun_engines[0]->name);
    for (size_t i = 0; nubrun_engines[i] != NULL; i++)
        fprintf(f, "                  %-8s %s\n", nubrun_engines[i]->name,
                nubrun_engines[i]->description);
    fprintf(f,
            "--gas N         initial gas (default %lld)\n"
            "--endpoint K    entry at pc 5K: 0 = is-authorized/refine, 1 = accumulate,\n"
            "                2.. = further NUB_EXPORT(K, fn) endpoints of nub-cc\n"
            "--args a,b,c,d  up to four u64 values overlaid on phi7..phi10\n"
            "--raw           PROGRAM is a bare blob, not a standard program\n"
            "--service       PROGRAM is a JAM service code blob: E(len meta) ++ meta ++ Y\n"
            "--input FILE    bytes for the argument area (SPEC §11): phi7 = its address,\n"
            "                phi8 = its length, --args then go to phi9..; the output\n"
            "                [phi7, phi7+phi8) of a halted run is printed in hex\n"
            "                ('output: HEX', JSON \"output\")\n"
            "--host jam|none jam: a minimal JAM host (10 gas per call; gas (0): phi7 = gas\n"
            "                left; log (100, JIP-1): 'log LEVEL TARGET: MESSAGE' on stderr;\n"
            "                other ids: phi7 = WHAT = 2^64-2); lines add 'host-calls: N'.\n"
            "                none (default): stop at the first ecalli. JSON always has\n"
            "                \"host_calls\" (the host functions run)\n"
            "--json          print one JSON object instead of lines\n"
            "--help          this text\n"
            "\n"
            "Exit code: 0 when the program ran (whatever its PVM exit), 1 for unreadable\n"
            "input or an engine failure (one line on stderr), 2 for usage errors.\n",
            (long long)NUBRUN_DEFAULT_GAS);
}

static int usage_error(const char *msg, const char *arg)
{
    fprintf(stderr, "nubrun: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
    fprintf(stderr, "try 'nubrun --help'\n");
    return 2;
}

static bool parse_u64(const char *s, uint64_t *out)
{
    if (s == NULL || *s == '\0' || *s == '-')
        return false;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno != 0 || end == s || *end != '\0')
        return false;
    *out = v;
    return true;
}

static bool parse_args_list(const char *s, struct nubrun_program_options *opt)
{
    char buf[256];
    if (strlen(s) >= sizeof(buf))
        return false;
    strcpy(buf, s);
    opt->arg_count = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
        if (opt->arg_count == 4 || !parse_u64(tok, &opt->args[opt->arg_count]))
            return false;
        opt->arg_count++;
    }
    return opt->arg_count > 0;
}

int main(int argc, char **argv)
{
    struct nubrun_program_options opt = {.engine = nubrun_engines[0], .gas = NUBRUN_DEFAULT_GAS};
    const char *vector = NULL;
    const char *program = NULL;
    bool block_costs = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--vector") == 0) {
            if (val == NULL)
                return usage_error("--vector needs a file", NULL);
            vector = val;
            i++;
        } else if (strcmp(a, "--engine") == 0) {
            if (val == NULL)
                return usage_error("--engine needs a name", NULL);
            opt.engine = nubrun_engine_find(val);
            if (opt.engine == NULL)
                return usage_error("unknown engine", val);
            i++;
        } else if (strcmp(a, "--gas") == 0) {
            uint64_t g;
            if (!parse_u64(val, &g) || g > INT64_MAX)
                return usage_error("--gas needs a number 0..2^63-1", val);
            opt.gas = (int64_t)g;
            i++;
        } else if (strcmp(a, "--endpoint") == 0) {
            uint64_t k;
            if (!parse_u64(val, &k) || k >= NUB_STDPROG_MAX_ENDPOINTS)
                return usage_error("--endpoint must be 0..63", val);
            opt.endpoint = (uint32_t)k;
            i++;
        } else if (strcmp(a, "--args") == 0) {
            if (val == NULL || !parse_args_list(val, &opt))
                return usage_error("--args needs 1 to 4 comma-separated u64 values", val);
            i++;
        } else if (strcmp(a, "--isa") == 0) {
            const struct pvm_isa *isa = val ? pvm_isa_by_name(val, strlen(val)) : NULL;
            if (isa == NULL)
                return usage_error("--isa must be 0.7.2 or 0.8.0", val);
            opt.isa = isa->id;
            i++;
        } else if (strcmp(a, "--block-costs") == 0) {
            block_costs = true;
        } else if (strcmp(a, "--raw") == 0) {
            opt.raw = true;
        } else if (strcmp(a, "--service") == 0) {
            opt.service = true;
        } else if (strcmp(a, "--input") == 0) {
            if (val == NULL)
                return usage_error("--input needs a file", NULL);
            opt.input_path = val;
            i++;
        } else if (strcmp(a, "--host") == 0) {
            if (val == NULL || (strcmp(val, "jam") != 0 && strcmp(val, "none") != 0))
                return usage_error("--host must be jam or none", val);
            opt.host_jam = strcmp(val, "jam") == 0;
            i++;
        } else if (strcmp(a, "--json") == 0) {
            opt.json = true;
        } else if (a[0] == '-' && a[1] != '\0') {
            return usage_error("unknown option", a);
        } else if (program == NULL) {
            program = a;
        } else {
            return usage_error("more than one PROGRAM", a);
        }
    }
    if (vector != NULL) {
        if (program != NULL)
            return usage_error("--vector takes no PROGRAM", program);
        return nubrun_vector_mode(opt.engine, opt.isa, vector, stdout);
    }
    if (block_costs) {
        if (program == NULL)
            return usage_error("--block-costs needs a PROGRAM", NULL);
        return nubrun_block_costs_mode(&opt, program, stdout);
    }
    if ((opt.raw || opt.service || opt.input_path) && program == NULL)
        return usage_error("--raw, --service and --input need a PROGRAM", NULL);
    if (opt.raw && opt.service)
        return usage_error("--raw and --service exclude each other", NULL);
    if (program == NULL && opt.isa != NUB_ISA_GP_0_7_2)
        return usage_error("the built-in demo is a GP 0.7.2 program (it grows its heap with sbrk)",
                           NULL);
    return nubrun_program_mode(&opt, program, stdout);
}
