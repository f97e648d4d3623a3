/*
 * test_sandbox.c — phase-1 behaviour of libnubhost under real KVM: boot,
 * the basic RPCs, hostile requests, guest crashes, timeouts, many
 * sandboxes, and failures before boot (bad device, bad image).
 */
#include "test_util.h"
#include "kvm_check.h"

#include <elf.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nub_rpc.h"

static void expect_smoke(nub_sandbox *sb)
{
    uint64_t v = 0;
    assert_int_equal(nub_smoke(sb, &v), NUB_OK);
    assert_int_equal(v, 42);
}

static void test_smoke(void **state)
{
    (void)state;
    REQUIRE_KVM();
    nub_sandbox *sb = NULL;
    assert_int_equal(nub_sandbox_create(NULL, &sb), NUB_OK); /* cfg may be NULL */
    assert_non_null(sb);
    for (int i = 0; i < 100; i++)
        expect_smoke(sb);
    assert_string_equal(nub_sandbox_last_error(sb), "");
    assert_false(nub_sandbox_is_dead(sb));
    nub_sandbox_destroy(sb);
}

static void test_boot_info(void **state)
{
    (void)state;
    REQUIRE_KVM();
    nub_sandbox *sb = nub_test_sandbox(NULL);
    struct nub_boot_info bi;
    assert_int_equal(nub_get_boot_info(sb, &bi), NUB_OK);
    assert_true(bi.magic == NUB_BOOT_INFO_MAGIC);
    assert_int_equal(bi.directory_type_id, NUB_DIRECTORY_TYPE_ID);
    assert_int_equal(bi.guest_va_base, 0);
    assert_true(bi.directory_va >= NUB_KERNEL_LOAD_MIN);
    for (int i = 0; i < 12; i++)
        assert_int_equal(bi.reserved[i], 0);
    nub_sandbox_destroy(sb);
}

/* Reads the kernel ELF into memory (test helper). */
static uint8_t *read_kernel(size_t *len)
{
    FILE *f = fopen(NUB_TEST_GUEST_KERNEL, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc((size_t)n + 256);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static char *write_temp(const uint8_t *bytes, size_t len)
{
    char *path = strdup("/tmp/nub_test_image_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, bytes, len), (ssize_t)len);
    close(fd);
    return path;
}

static nub_status create_from_bytes(const uint8_t *bytes, size_t len, char *err, size_t err_len)
{
    char *path = write_temp(bytes, len);
    nub_sandbox_config cfg = {
        .guest_image_path = path, .create_error = err, .create_error_len = err_len};
    nub_sandbox *sb = NULL;
    /* Images fail at every stage (before KVM, after the VM exists, after
     * boot): each failure must release every fd it opened. */
    int fds_before = nub_test_count_fds();
    nub_status s = nub_sandbox_create(&cfg, &sb);
    assert_true(s == NUB_OK ? sb != NULL : sb == NULL);
    nub_sandbox_destroy(sb);
    assert_int_equal(nub_test_count_fds(), fds_before);
    unlink(path);
    free(path);
    return s;
}

/* Finds a section header by name in an ELF held in memory. */
static Elf64_Shdr *find_shdr(uint8_t *elf, const char *name)
{
    Elf64_Ehdr *eh = (Elf64_Ehdr *)elf;
    Elf64_Shdr *sh = (Elf64_Shdr *)(elf + eh->e_shoff);
    const char *names = (const char *)elf + sh[eh->e_shstrndx].sh_offset;
    for (int i = 0; i < eh->e_shnum; i++)
        if (strcmp(names + sh[i].sh_name, name) == 0)
            return &sh[i];
    return NULL;
}

static void test_boot_info_file_vs_rpc(void **state)
{
    (void)state;
    REQUIRE_KVM();
    size_t len;
    uint8_t *elf = read_kernel(&len);
    char err[256];
    /* The image file as built boots by path and agrees with itself. */
    assert_int_equal(create_from_bytes(elf, len, err, sizeof err), NUB_OK);

    /* A file whose .boot_info section (what the host reads) differs from the
     * bytes the guest actually runs with is caught at boot. */
    Elf64_Shdr *bi = find_shdr(elf, ".boot_info");
    assert_non_null(bi);
    struct nub_boot_info forged;
    memcpy(&forged, elf + bi->sh_offset, sizeof forged);
    forged.directory_va ^= 0x1000;
    memcpy(elf + len, &forged, sizeof forged);
    bi->sh_offset = len;
    assert_int_equal(create_from_bytes(elf, len + sizeof forged, err, sizeof err),
                     NUB_ERR_BOOT_INFO_MISMATCH);
    assert_non_null(strstr(err, "GET_BOOT_INFO"));
    free(elf);
}

static void test_bad_images(void **state)
{
    (void)state;
    REQUIRE_KVM();
    size_t len;
    uint8_t *elf = read_kernel(&len);
    char err[256];
    static const uint8_t junk[] = "this is not an ELF file at all, not even close........";
    assert_int_equal(create_from_bytes(junk, sizeof junk, err, sizeof err), NUB_ERR_GUEST_IMAGE);
    /* Truncated: headers point past the end. */
    assert_int_equal(create_from_bytes(elf, 200, err, sizeof err), NUB_ERR_GUEST_IMAGE);
    /* A PT_LOAD segment moved below the kernel floor. */
    Elf64_Ehdr *eh = (Elf64_Ehdr *)elf;
    Elf64_Phdr *ph = (Elf64_Phdr *)(elf + eh->e_phoff);
    uint64_t saved = ph[0].p_paddr;
    ph[0].p_paddr = ph[0].p_vaddr = 0x1000;
    assert_int_equal(create_from_bytes(elf, len, err, sizeof err), NUB_ERR_GUEST_IMAGE);
    assert_non_null(strstr(err, "outside guest memory"));
    ph[0].p_paddr = ph[0].p_vaddr = saved;
    /* A segment whose file bytes run past the end of the file. */
    ph[0].p_filesz = (uint64_t)len * 4;
    ph[0].p_memsz = (uint64_t)len * 4;
    assert_int_equal(create_from_bytes(elf, len, err, sizeof err), NUB_ERR_GUEST_IMAGE);
    free(elf);
    /* Missing file. */
    nub_sandbox_config cfg = {.guest_image_path = "/nonexistent/nub.elf"};
    nub_sandbox *sb = NULL;
    assert_int_equal(nub_sandbox_create(&cfg, &sb), NUB_ERR_GUEST_IMAGE);
    assert_null(sb);
}

/* .nub_layout is read from the file: addresses that wrap around or name
 * pages outside the image are refused before anything is built from them. */
static void test_bad_layouts(void **state)
{
    (void)state;
    REQUIRE_KVM();
    size_t len;
    uint8_t *elf = read_kernel(&len);
    Elf64_Shdr *sh = find_shdr(elf, ".nub_layout");
    assert_non_null(sh);
    struct nub_kernel_layout good;
    memcpy(&good, elf + sh->sh_offset, sizeof good);
    char err[256];
    struct nub_kernel_layout bad = good;
    /* Stubs whose end wraps past 2^64 back into the image. */
    bad.vector_stubs_va = UINT64_MAX - 15;
    memcpy(elf + sh->sh_offset, &bad, sizeof bad);
    assert_int_equal(create_from_bytes(elf, len, err, sizeof err), NUB_ERR_GUEST_IMAGE);
    assert_non_null(strstr(err, "stubs"));
    /* A guard page just past the image (it would unmap the request buffer,
     * which starts there). The last segment is first stretched to a page
     * boundary (more .bss) so that the image ends exactly where a page does. */
    Elf64_Ehdr *eh = (Elf64_Ehdr *)elf;
    Elf64_Phdr *ph = (Elf64_Phdr *)(elf + eh->e_phoff), *last = NULL;
    for (int i = 0; i < eh->e_phnum; i++)
        if (ph[i].p_type == PT_LOAD && (!last || ph[i].p_paddr > last->p_paddr))
            last = &ph[i];
    assert_non_null(last);
    uint64_t image_end = (last->p_paddr + last->p_memsz + 4095) & ~UINT64_C(4095);
    last->p_memsz = image_end - last->p_paddr;
    for (int which = 0; which < 3; which++) {
        bad = good;
        uint64_t *guard = which == 0   ? &bad.stack_guard_va
                          : which == 1 ? &bad.ist_guard_va
                                       : &bad.trap_guard_va;
        *guard = image_end;
        memcpy(elf + sh->sh_offset, &bad, sizeof bad);
        assert_int_equal(create_from_bytes(elf, len, err, sizeof err), NUB_ERR_GUEST_IMAGE);
        assert_non_null(strstr(err, ".nub_layout"));
    }
    memcpy(elf + sh->sh_offset, &good, sizeof good);
    assert_int_equal(create_from_bytes(elf, len, err, sizeof err), NUB_OK);
    free(elf);
}

static void test_heap_stats(void **state)
{
    (void)state;
    REQUIRE_KVM();
    nub_sandbox *sb = nub_test_sandbox(NULL);
    struct nub_heap_stats st;
    assert_int_equal(nub_heap_stats(sb, &st), NUB_OK);
    assert_int_equal(st.allocated_bytes, 0);
    assert_int_equal(st.allocation_count, 0);
    assert_int_equal(st.fragment_count, 1);
    /* The default 256 MiB leaves well over 200 MiB of heap. */
    assert_true(st.available_bytes > (200u << 20));
    assert_true(st.available_bytes < NUB_SANDBOX_DEFAULT_MEMORY_BYTES);
    nub_sandbox_destroy(sb);
}

static void test_unknown_fn(void **state)
{
    (void)state;
    REQUIRE_KVM();
    nub_sandbox *sb = nub_test_sandbox(NULL);
    const uint32_t ids[] = {NUB_GUEST_FN_TABLE_SIZE, 1000, 0xFFFFFFFFu};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        size_t got = 99;
        assert_int_equal(nub_sandbox_call_raw(sb, ids[i], NULL, 0, NULL, 0, &got),
                         NUB_ERR_UNKNOWN_FN);
        assert_int_equal(got, 0);
        expect_smoke(sb);
    }
    nub_sandbox_destroy(sb);

    /* Debug functions do not exist without the debug flag. */
    assert_int_equal(nub_sandbox_create(NULL, &sb), NUB_OK);
    uint32_t kind = NUB_DEBUG_FAULT_NULL_READ;
    assert_int_equal(
        nub_sandbox_call_raw(sb, NUB_FN_ID_DEBUG_FAULT, &kind, sizeof kind, NULL, 0, NULL),
        NUB_ERR_UNKNOWN_FN);
    assert_int_equal(nub_sandbox_call_raw(sb, NUB_FN_ID_DEBUG_SPIN, NULL, 0, NULL, 0, NULL),
                     NUB_ERR_UNKNOWN_FN);
    expect_smoke(sb);
    nub_sandbox_destroy(sb);
}

static void test_oversized_and_truncated(void **state)
{
    (void)state;
    REQUIRE_KVM();
    nub_sandbox *sb = nub_test_sandbox(NULL);
    uint8_t payload[16] = {0};
    /* Payload where the function takes none / more than it takes. */
    assert_int_equal(nub_sandbox_call_raw(sb, NUB_FN_ID_SMOKE, payload, 1, NULL, 0, NULL),
                     NUB_ERR_PAYLOAD_TOO_LARGE);
    assert_int_equal(nub_sandbox_call_raw(sb, NUB_FN_ID_HEAP_STATS, payload, 16, NULL, 0, NULL),
                     NUB_ERR_PAYLOAD_TOO_LARGE);
    assert_int_equal(nub_sandbox_call_raw(sb, NUB_FN_ID_DEBUG_FAULT, payload, 8, NULL, 0, NULL),
                     NUB_ERR_PAYLOAD_TOO_LARGE);
    expect_smoke(sb);
    /* Shorter than the function needs. */
    assert_int_equal(nub_sandbox_call_raw(sb, NUB_FN_ID_DEBUG_FAULT, payload, 2, NULL, 0, NULL),
                     NUB_ERR_PAYLOAD_TRUNCATED);
    expect_smoke(sb);
    /* Larger than the request buffer: refused by the host before the guest runs. */
    size_t big = nub_sandbox_max_request(sb) + 1;
    uint8_t *huge = calloc(1, big);
    assert_non_null(huge);
    assert_int_equal(nub_sandbox_call_raw(sb, NUB_FN_ID_PUT_CAP, huge, big, NULL, 0, NULL),
                     NUB_ERR_PAYLOAD_TOO_LARGE);
    free(huge);
    /* A reply larger than the caller's buffer. */
    uint8_t small[4];
    assert_int_equal(nub_sandbox_call_raw(sb, NUB_FN_ID_SMOKE, NULL, 0, small, sizeof small, NULL),
                     NUB_ERR_PAYLOAD_TOO_LARGE);
    expect_smoke(sb);
    assert_false(nub_sandbox_is_dead(sb));
    nub_sandbox_destroy(sb);
}

static void crash_with(uint32_t kind, const char *vector_text)
{
    nub_sandbox *sb = nub_test_sandbox(NULL);
    expect_smoke(sb);
    assert_int_equal(
        nub_sandbox_call_raw(sb, NUB_FN_ID_DEBUG_FAULT, &kind, sizeof kind, NULL, 0, NULL),
        NUB_ERR_GUEST_CRASHED);
    const char *err = nub_sandbox_last_error(sb);
    if (!strstr(err, vector_text))
        fail_msg("crash kind %u: expected \"%s\" in \"%s\"", kind, vector_text, err);
    /* The sandbox restored itself and serves the next calls. */
    assert_false(nub_sandbox_is_dead(sb));
    expect_smoke(sb);
    struct nub_heap_stats st;
    assert_int_equal(nub_heap_stats(sb, &st), NUB_OK);
    nub_sandbox_destroy(sb);

    /* With NUB_SANDBOX_FLAG_NO_RESTORE, the crash kills it instead. */
    nub_sandbox_config cfg = {.flags = NUB_SANDBOX_FLAG_NO_RESTORE};
    sb = nub_test_sandbox(&cfg);
    assert_int_equal(
        nub_sandbox_call_raw(sb, NUB_FN_ID_DEBUG_FAULT, &kind, sizeof kind, NULL, 0, NULL),
        NUB_ERR_GUEST_CRASHED);
    assert_true(nub_sandbox_is_dead(sb));
    uint64_t v = 0;
    assert_int_equal(nub_smoke(sb, &v), NUB_ERR_SANDBOX_DEAD);
    assert_int_equal(nub_heap_stats(sb, &st), NUB_ERR_SANDBOX_DEAD);
    nub_sandbox_destroy(sb);
}

static void test_guest_crash(void **state)
{
    (void)state;
    REQUIRE_KVM();
    crash_with(NUB_DEBUG_FAULT_NULL_READ, "vector 14 (#PF)");
    crash_with(NUB_DEBUG_FAULT_NULL_READ, "cr2 0x8,");
    crash_with(NUB_DEBUG_FAULT_INVALID_OPCODE, "vector 6 (#UD)");
    crash_with(NUB_DEBUG_FAULT_DIVIDE, "vector 0 (#DE)");
    crash_with(NUB_DEBUG_FAULT_NONCANONICAL, "vector 13 (#GP)");
    /* A kernel stack overflow hits the guard page and is still reported
     * (the #PF runs on its own IST stack). */
    crash_with(NUB_DEBUG_FAULT_STACK_OVERFLOW, "vector 14 (#PF)");
    /* An unknown fault kind is just a bad argument, not a crash. */
    nub_sandbox *sb = nub_test_sandbox(NULL);
    uint32_t kind = 99;
    assert_int_equal(
        nub_sandbox_call_raw(sb, NUB_FN_ID_DEBUG_FAULT, &kind, sizeof kind, NULL, 0, NULL),
        NUB_ERR_INVALID_ARGUMENT);
    expect_smoke(sb);
    nub_sandbox_destroy(sb);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void test_timeout(void **state)
{
    (void)state;
    REQUIRE_KVM();
    nub_sandbox_config cfg = {.invoke_timeout_ns = 50 * 1000 * 1000};
    nub_sandbox *sb = nub_test_sandbox(&cfg);
    for (int i = 0; i < 10; i++)
        expect_smoke(sb); /* the timer never fires on quick calls */
    uint64_t t0 = now_ns();
    assert_int_equal(nub_sandbox_call_raw(sb, NUB_FN_ID_DEBUG_SPIN, NULL, 0, NULL, 0, NULL),
                     NUB_ERR_TIMEOUT);
    uint64_t took = now_ns() - t0;
    assert_true(took >= 50 * 1000 * 1000);
    assert_true(took < 2000ull * 1000 * 1000);
    assert_false(nub_sandbox_is_dead(sb)); /* restored */
    expect_smoke(sb);
    nub_sandbox_destroy(sb);

    /* The thread's signal mask is left as it was, and a second sandbox on the
     * same thread still times out. */
    /* Compare signal by signal: glibc fills (and sigemptyset clears) only
     * the kernel's 8 bytes of the 128-byte sigset_t, the rest is garbage. */
    sigset_t before, after;
    memset(&before, 0, sizeof before);
    memset(&after, 0, sizeof after);
    pthread_sigmask(SIG_BLOCK, NULL, &before);
    sb = nub_test_sandbox(&cfg);
    expect_smoke(sb);
    assert_int_equal(nub_sandbox_call_raw(sb, NUB_FN_ID_DEBUG_SPIN, NULL, 0, NULL, 0, NULL),
                     NUB_ERR_TIMEOUT);
    nub_sandbox_destroy(sb);
    pthread_sigmask(SIG_BLOCK, NULL, &after);
    for (int sig = 1; sig < 65; sig++)
        assert_int_equal(sigismember(&before, sig), sigismember(&after, sig));
}

struct console_capture {
    char lines[8][256];
    int count;
};

static void capture_line(void *ctx, const char *line)
{
    struct console_capture *c = ctx;
    if (c->count < 8)
        snprintf(c->lines[c->count], sizeof c->lines[0], "%s", line);
    c->count++;
}

static void test_console(void **state)
{
    (void)state;
    REQUIRE_KVM();
    struct console_capture cap = {.count = 0};
    nub_sandbox_config cfg = {.console = capture_line, .console_ctx = &cap};
    nub_sandbox *sb = nub_test_sandbox(&cfg);
    assert_true(cap.count >= 1);
    assert_non_null(strstr(cap.lines[0], "nub guest kernel: up"));
    expect_smoke(sb);
    nub_sandbox_destroy(sb);
}

static void test_bad_device(void **state)
{
    (void)state;
    char err[256] = "";
    nub_sandbox_config cfg = {
        .kvm_device_path = "/nonexistent/kvm", .create_error = err, .create_error_len = sizeof err};
    nub_sandbox *sb = (nub_sandbox *)&cfg; /* must be reset to NULL */
    assert_int_equal(nub_sandbox_create(&cfg, &sb), NUB_ERR_KVM_UNAVAILABLE);
    assert_null(sb);
    assert_non_null(strstr(err, "/nonexistent/kvm"));
    /* A device that is not KVM. */
    cfg.kvm_device_path = "/dev/null";
    assert_int_equal(nub_sandbox_create(&cfg, &sb), NUB_ERR_KVM_API_VERSION);
    assert_null(sb);
    /* Memory sizes out of range. */
    nub_sandbox_config small = {.guest_memory_bytes = 1 << 20};
    assert_int_equal(nub_sandbox_create(&small, &sb), NUB_ERR_INVALID_ARGUMENT);
    nub_sandbox_config odd = {.guest_memory_bytes = (64 << 20) + 4096};
    assert_int_equal(nub_sandbox_create(&odd, &sb), NUB_ERR_INVALID_ARGUMENT);
    assert_int_equal(nub_sandbox_create(NULL, NULL), NUB_ERR_INVALID_ARGUMENT);
}

static void test_many_sandboxes(void **state)
{
    (void)state;
    REQUIRE_KVM();
    int fds_before = nub_test_count_fds();
    assert_true(fds_before > 0);
    for (int round = 0; round < 5; round++) {
        nub_sandbox *live[4];
        for (int i = 0; i < 4; i++) {
            nub_sandbox_config cfg = {.guest_memory_bytes = (size_t)(32 + 32 * i) << 20};
            live[i] = nub_test_sandbox(&cfg);
        }
        for (int i = 0; i < 4; i++)
            expect_smoke(live[i]);
        for (int i = 0; i < 4; i++)
            nub_sandbox_destroy(live[i]);
    }
    /* Failures release everything too. */
    for (int i = 0; i < 5; i++) {
        nub_sandbox_config cfg = {.guest_image_path = "/nonexistent/nub.elf"};
        nub_sandbox *sb = NULL;
        assert_int_equal(nub_sandbox_create(&cfg, &sb), NUB_ERR_GUEST_IMAGE);
        nub_sandbox *crash = nub_test_sandbox(NULL);
        uint32_t kind = NUB_DEBUG_FAULT_INVALID_OPCODE;
        assert_int_equal(
            nub_sandbox_call_raw(crash, NUB_FN_ID_DEBUG_FAULT, &kind, sizeof kind, NULL, 0, NULL),
            NUB_ERR_GUEST_CRASHED);
        nub_sandbox_destroy(crash);
    }
    assert_int_equal(nub_test_count_fds(), fds_before);
}

static void *thread_smokes(void *arg)
{
    nub_sandbox *sb = arg;
    for (int i = 0; i < 2000; i++) {
        uint64_t v = 0;
        if (nub_smoke(sb, &v) != NUB_OK || v != 42)
            return (void *)1;
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    REQUIRE_KVM();
    nub_sandbox *sb[3];
    pthread_t t[3];
    for (int i = 0; i < 3; i++)
        sb[i] = nub_test_sandbox(NULL);
    for (int i = 0; i < 3; i++)
        assert_int_equal(pthread_create(&t[i], NULL, thread_smokes, sb[i]), 0);
    for (int i = 0; i < 3; i++) {
        void *ret = (void *)2;
        pthread_join(t[i], &ret);
        assert_null(ret);
    }
    for (int i = 0; i < 3; i++)
        nub_sandbox_destroy(sb[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_smoke),
        cmocka_unit_test(test_boot_info),
        cmocka_unit_test(test_boot_info_file_vs_rpc),
        cmocka_unit_test(test_bad_images),
        cmocka_unit_test(test_bad_layouts),
        cmocka_unit_test(test_heap_stats),
        cmocka_unit_test(test_unknown_fn),
        cmocka_unit_test(test_oversized_and_truncated),
        cmocka_unit_test(test_guest_crash),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_console),
        cmocka_unit_test(test_bad_device),
        cmocka_unit_test(test_many_sandboxes),
        cmocka_unit_test(test_threads),
    };
    return nub_test_kvm_suite_result(cmocka_run_group_tests_name("sandbox", tests, NULL, NULL));
}
