/*
 * test_nubrun_cli.c — nubrun's command-line contract: exit codes (0 ran,
 * 1 unreadable input, 2 usage), --help, the demo's checked answer, program
 * mode on standard programs and raw blobs (--args, --endpoint, --gas,
 * --json), and host-call / out-of-gas reporting.
 *
 * usage: test_nubrun_cli PATH_TO_NUBRUN
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "pvmasm.h"

static const char *nubrun;
static const char *service_blob; /* a JAM service blob, or NULL */
static char tmpdir[] = "/tmp/nubrun_cli_XXXXXX";

struct result {
    int code;
    char out[8192];
    char err[2048];
};

static void read_fd(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    for (;;) {
        ssize_t got = read(fd, buf + n, cap - 1 - n);
        if (got <= 0)
            break;
        n += (size_t)got;
        if (n == cap - 1) {
            char sink[256];
            while (read(fd, sink, sizeof(sink)) > 0) {
            }
            break;
        }
    }
    buf[n] = '\0';
}

/* Runs nubrun with the NULL-terminated arguments. */
static void run(struct result *r, ...)
{
    /* The CLI is exercised on the interpreter so this suite needs no KVM;
     * the sandbox engine (nubrun's default) is covered by the
     * pvm_vector_sandbox_* and toolchain_nubrun_*_sandbox tests, which skip
     * without /dev/kvm. A later --engine in the arguments overrides this. */
    const char *argv[16] = {nubrun, "--engine", "interp"};
    int argc = 3;
    va_list ap;
    va_start(ap, r);
    for (const char *a; (a = va_arg(ap, const char *)) != NULL && argc < 15;)
        argv[argc++] = a;
    va_end(ap);
    argv[argc] = NULL;
    int out[2], err[2];
    assert_int_equal(pipe(out), 0);
    assert_int_equal(pipe(err), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(out[1], 1);
        dup2(err[1], 2);
        close(out[0]), close(out[1]), close(err[0]), close(err[1]);
        execv(nubrun, (char *const *)argv);
        _exit(127);
    }
    close(out[1]);
    close(err[1]);
    read_fd(out[0], r->out, sizeof(r->out));
    read_fd(err[0], r->err, sizeof(r->err));
    close(out[0]);
    close(err[0]);
    int status;
    waitpid(pid, &status, 0);
    assert_true(WIFEXITED(status));
    r->code = WEXITSTATUS(status);
}

/* Writes bytes to a file in the temporary folder; returns its path. */
static const char *write_file(const char *name, const void *bytes, size_t len)
{
    static char path[4][256];
    static int next;
    char *p = path[next++ % 4];
    snprintf(p, sizeof(path[0]), "%s/%s", tmpdir, name);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, len, f), len);
    fclose(f);
    return p;
}

static void assemble(const char *src, struct pvmasm_output *out)
{
    char err[256];
    if (pvmasm_assemble(src, strlen(src), out, err, sizeof(err)) != 0)
        fail_msg("%s", err);
}

static void test_help_and_usage_errors(void **unused)
{
    (void)unused;
    struct result r;
    run(&r, "--help", NULL);
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "--vector"));
    assert_non_null(strstr(r.out, "interp"));
    run(&r, "--bogus", NULL);
    assert_int_equal(r.code, 2);
    run(&r, "--engine", "nope", NULL);
    assert_int_equal(r.code, 2);
    run(&r, "--vector", NULL);
    assert_int_equal(r.code, 2);
    run(&r, "--gas", "-5", NULL);
    assert_int_equal(r.code, 2);
    run(&r, "--endpoint", "64", NULL);
    assert_int_equal(r.code, 2);
    run(&r, "--args", "1,2,3,4,5", NULL);
    assert_int_equal(r.code, 2);
    run(&r, "--raw", NULL);
    assert_int_equal(r.code, 2);
    run(&r, "a", "b", NULL);
    assert_int_equal(r.code, 2);
}

static void test_unreadable_input_exits_1_with_one_line(void **unused)
{
    (void)unused;
    struct result r;
    run(&r, "--vector", "/nonexistent/v.json", NULL);
    assert_int_equal(r.code, 1);
    assert_string_equal(r.out, "");
    char *nl = strchr(r.err, '\n');
    assert_non_null(nl);
    assert_string_equal(nl + 1, "");
    const char *bad = write_file("bad.json", "{\"name\": 1,", 11);
    run(&r, "--vector", bad, NULL);
    assert_int_equal(r.code, 1);
    const char *wrong = write_file("wrong.json", "{\"initial-regs\": [1]}", 21);
    run(&r, "--vector", wrong, NULL);
    assert_int_equal(r.code, 1);
    /* A short vector whose page map covers 1 GiB: refused at once (it used
     * to take 2 GB of memory and a minute). */
    static const char huge[] =
        "{\"name\": \"huge\", \"initial-regs\": [0,0,0,0,0,0,0,0,0,0,0,0,0], "
        "\"initial-pc\": 0, \"initial-gas\": 100, \"program\": [0, 0, 1, 0, 1], "
        "\"initial-page-map\": [{\"address\": 65536, \"length\": 1073741824, "
        "\"is-writable\": true}], \"initial-memory\": []}";
    const char *huge_path = write_file("huge.json", huge, sizeof huge - 1);
    run(&r, "--vector", huge_path, NULL);
    assert_int_equal(r.code, 1);
    assert_non_null(strstr(r.err, "page map covers 1073741824 bytes"));
    run(&r, "/nonexistent/prog.jam", NULL);
    assert_int_equal(r.code, 1);
    const char *garbage = write_file("garbage.jam", "\x01\x02\x03", 3);
    run(&r, garbage, NULL);
    assert_int_equal(r.code, 1);
    assert_non_null(strstr(r.err, "standard program"));
}

static void test_demo_answer_is_checked(void **unused)
{
    (void)unused;
    struct result r;
    run(&r, NULL);
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "primes below 100000: 9592 (expected 9592): OK"));
    run(&r, "--json", "--args", "1000", NULL);
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "\"phi7\": 168"));
    assert_non_null(strstr(r.out, "\"ok\": true"));
    /* Too little gas: the demo cannot finish, and nubrun says so. */
    run(&r, "--gas", "1000", NULL);
    assert_int_equal(r.code, 1);
    assert_non_null(strstr(r.out, "exit: out-of-gas"));
}

static void test_standard_program_with_args_and_endpoints(void **unused)
{
    (void)unused;
    struct pvmasm_output out;
    /* pc 0: phi7 = phi7 + phi8; pc 5: phi7 = 1000 (accumulate entry). */
    assemble("    add_64 a0, a0, a1\n" /* 3 bytes */
             "    jump done\n"         /* 2 bytes */
             "    load_imm a0, 1000\n" /* pc 5 */
             "    fallthrough\n"
             "done:\n"
             "    jump_ind ra, 0\n",
             &out);
    const char *path = write_file("add.jam", out.stdprog, out.stdprog_len);
    struct result r;
    run(&r, "--json", "--args", "40,2", path, NULL);
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "\"status\": \"halt\""));
    assert_non_null(strstr(r.out, "\"phi7\": 42"));
    run(&r, "--endpoint", "1", path, NULL);
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "phi7: 1000"));
    run(&r, "--gas", "1", "--args", "1,1", path, NULL);
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "exit: out-of-gas"));
    assert_non_null(strstr(r.out, "gas-left: 1"));
    pvmasm_output_free(&out);
}

static void test_raw_blob_and_host_call(void **unused)
{
    (void)unused;
    struct pvmasm_output out;
    assemble("    load_imm a0, 7\n    ecalli 99\n    jump_ind ra, 0\n", &out);
    const char *path = write_file("host.blob", out.blob, out.blob_len);
    struct result r;
    run(&r, "--raw", "--json", path, NULL);
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "\"status\": \"host\""));
    assert_non_null(strstr(r.out, "\"exit-arg\": 99"));
    assert_non_null(strstr(r.out, "\"phi7\": 7"));
    assert_non_null(strstr(r.out, "\"pc\": 3"));
    /* An invalid blob is a PVM panic, not a tool error. */
    const char *bad = write_file("bad.blob", "\x00\x00\x01\x00\x03", 5);
    run(&r, "--raw", bad, NULL);
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "exit: panic"));
    pvmasm_output_free(&out);
}

/* --host jam with --input: log (100), an unknown id, gas (0); the output is
 * [phi7, phi7 + phi8) = the input; JSON host_calls; the same bytes (stdout
 * and stderr) from the interpreter and the JIT. */
static void test_host_jam_input_output(void **unused)
{
    (void)unused;
    struct pvmasm_output out;
    assemble("    add_imm_64 s0, a0, 0\n" /* s0 = input address */
             "    add_imm_64 s1, a1, 0\n" /* s1 = input length */
             "    add_imm_64 a3, a0, 3\n" /* message: input[3..] */
             "    add_imm_64 a4, a1, -3\n"
             "    add_imm_64 a1, s0, 0\n" /* target: input[0..3) */
             "    load_imm a2, 3\n"
             "    load_imm a0, 2\n" /* level 2 */
             "    ecalli 100\n"
             "    ecalli 7\n" /* unknown: phi7 = WHAT */
             "    ecalli 0\n" /* gas: phi7 = gas left */
             "    add_imm_64 a0, s0, 0\n"
             "    add_imm_64 a1, s1, 0\n"
             "    jump_ind ra, 0\n",
             &out);
    const char *path = write_file("log.jam", out.stdprog, out.stdprog_len);
    const char *input = write_file("in.bin", "tgtmsg\x01!", 8);
    struct result r, jit;
    run(&r, "--host", "jam", "--input", input, "--json", path, NULL);
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.err, "log 2 tgt: msg\\x01!\n"));
    assert_non_null(strstr(r.out, "\"status\": \"halt\""));
    assert_non_null(strstr(r.out, "\"host_calls\": 3"));
    assert_non_null(strstr(r.out, "\"output\": \"7467746d73670121\""));
    run(&jit, "--engine", "jit", "--host", "jam", "--input", input, "--json", path, NULL);
    assert_int_equal(jit.code, 0);
    assert_string_equal(r.out, jit.out);
    assert_string_equal(r.err, jit.err);
    run(&r, "--host", "jam", "--input", input, path, NULL);
    assert_non_null(strstr(r.out, "output: 7467746d73670121\n"));
    assert_non_null(strstr(r.out, "host-calls: 3\n"));
    /* --host none (the default) stops at the first ecalli. */
    run(&r, "--input", input, "--json", path, NULL);
    assert_non_null(strstr(r.out, "\"status\": \"host\""));
    assert_non_null(strstr(r.out, "\"exit-arg\": 100"));
    assert_non_null(strstr(r.out, "\"host_calls\": 0"));
    run(&r, "--host", "other", path, NULL);
    assert_int_equal(r.code, 2);
    pvmasm_output_free(&out);
}

/* A real JAM service prints its own log lines, identically on each engine. */
static void test_service_logs(void **unused)
{
    (void)unused;
    if (service_blob == NULL || access(service_blob, R_OK) != 0) {
        print_message("SKIP: no service blob (argument 2)\n");
        skip();
    }
    struct result r, jit;
    run(&r, "--host", "jam", "--service", "--json", service_blob, NULL);
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.err, "log "));
    run(&jit, "--engine", "jit", "--host", "jam", "--service", "--json", service_blob, NULL);
    assert_string_equal(r.out, jit.out);
    assert_string_equal(r.err, jit.err);
    /* Not a service blob: a length prefix past the end. */
    const char *bad = write_file("bad.service", "\xFF\x01", 2);
    run(&r, "--service", bad, NULL);
    assert_int_equal(r.code, 1);
}

int main(int argc, char **argv)
{
    if (argc != 2 && argc != 3) {
        fprintf(stderr, "usage: test_nubrun_cli PATH_TO_NUBRUN [SERVICE_BLOB]\n");
        return 2;
    }
    nubrun = argv[1];
    service_blob = argc == 3 ? argv[2] : NULL;
    if (mkdtemp(tmpdir) == NULL)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help_and_usage_errors),
        cmocka_unit_test(test_unreadable_input_exits_1_with_one_line),
        cmocka_unit_test(test_demo_answer_is_checked),
        cmocka_unit_test(test_standard_program_with_args_and_endpoints),
        cmocka_unit_test(test_raw_blob_and_host_call),
        cmocka_unit_test(test_host_jam_input_output),
        cmocka_unit_test(test_service_logs),
    };
    int rc = cmocka_run_group_tests_name("nubrun_cli", tests, NULL, NULL);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    return rc;
}
