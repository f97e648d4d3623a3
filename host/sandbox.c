/*
 * sandbox.c — nub_sandbox_create/destroy, nub_template_create/destroy and
 * the per-sandbox error text.
 */

#include "sandbox_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MAX_IMAGE_FILE_BYTES ((size_t)64 << 20)
#define PAGE_2M              ((size_t)2 << 20)
#define NUB_BOOT_TIMEOUT_NS  (UINT64_C(10) * 1000 * 1000 * 1000)

static nub_status vfail(nub_sandbox *sb, nub_status s, const char *fmt, va_list ap)
{
    char msg[sizeof sb->last_error];
    vsnprintf(msg, sizeof msg, fmt, ap);
    memcpy(sb->last_error, msg, sizeof msg);
    return s;
}

nub_status nub__fail(nub_sandbox *sb, nub_status s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(sb, s, fmt, ap);
    va_end(ap);
    return s;
}

nub_status nub__kill(nub_sandbox *sb, nub_status s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(sb, s, fmt, ap);
    va_end(ap);
    sb->dead = 1;
    return s;
}

const char *nub_sandbox_last_error(const nub_sandbox *sb)
{
    return sb ? sb->last_error : "no sandbox";
}

int nub_sandbox_is_dead(const nub_sandbox *sb)
{
    return !sb || sb->dead;
}

size_t nub_sandbox_max_request(const nub_sandbox *sb)
{
    return sb ? (size_t)(sb->params.request_bytes - sizeof(struct nub_rpc_request_header)) : 0;
}

static nub_status read_image_file(nub_sandbox *sb, const char *path, uint8_t **out, size_t *len)
{
    FILE *f = fopen(path, "rbe");
    if (!f)
        return nub__fail(sb, NUB_ERR_GUEST_IMAGE, "cannot open guest image %s: %s", path,
                         strerror(errno));
    uint8_t *buf = malloc(MAX_IMAGE_FILE_BYTES);
    size_t n = buf ? fread(buf, 1, MAX_IMAGE_FILE_BYTES, f) : 0;
    int too_big = buf && n == MAX_IMAGE_FILE_BYTES && fgetc(f) != EOF;
    int failed = ferror(f);
    fclose(f);
    if (!buf)
        return nub__fail(sb, NUB_ERR_NOMEM, "guest image buffer");
    if (failed || too_big) {
        free(buf);
        return nub__fail(sb, NUB_ERR_GUEST_IMAGE, "guest image %s: %s", path,
                         too_big ? "larger than 64 MiB" : "read error");
    }
    *out = buf;
    *len = n;
    return NUB_OK;
}

static uint32_t boot_flags_of(const nub_sandbox_config *cfg)
{
    return (cfg->console ? NUB_BOOT_FLAG_CONSOLE : 0) |
           (cfg->flags & NUB_SANDBOX_FLAG_DEBUG_FNS ? NUB_BOOT_FLAG_DEBUG_FNS : 0);
}

/* GET_BOOT_INFO: the booted guest must serve what its file declares. */
static nub_status check_boot_info(nub_sandbox *sb)
{
    struct nub_boot_info served;
    size_t got = 0;
    nub_status s = nub__call(sb, NUB_FN_ID_GET_BOOT_INFO, NULL, 0, &served, sizeof served, &got);
    if (s != NUB_OK)
        return s;
    if (got != sizeof served || memcmp(&served, &sb->boot_info, sizeof served) != 0)
        return nub__fail(sb, NUB_ERR_BOOT_INFO_MISMATCH,
                         "GET_BOOT_INFO differs from the image's .boot_info section");
    return NUB_OK;
}

/* The memory, dirty tracking, VM and vCPU of a sandbox; the memory is
 * mapped shared from mem_fd (a boot) or from the template's layout. */
static nub_status make_vm(nub_sandbox *sb, int shared_fd)
{
    nub_status s = NUB_OK;
    /* A booted sandbox logs from its first restore or snapshot on (see
     * sandbox_int.h); one that snapshots at every publish, from the start. */
    sb->dirty_log_on = shared_fd < 0 || sb->snapshot_published;
    if (shared_fd >= 0) {
        void *p = mmap(NULL, sb->mem_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, shared_fd, 0);
        if (p == MAP_FAILED)
            return nub__fail(sb, NUB_ERR_NOMEM, "mmap of %zu bytes of guest memory: %s",
                             sb->mem_bytes, strerror(errno));
        sb->mem = p;
    } else {
        s = nub__mem_map(sb, sb->tmpl->mem_fd, &sb->tmpl->layout);
    }
    if (s == NUB_OK)
        s = nub__mem_dirty_init(sb);
    if (s == NUB_OK)
        s = nub__kvm_create_vm(sb);
    return s;
}

/* Boots the guest on a fresh memfd and freezes it as sb's template. */
static nub_status boot(nub_sandbox *sb, const nub_sandbox_config *cfg)
{
    struct nub_template *t = calloc(1, sizeof *t);
    if (!t)
        return nub__fail(sb, NUB_ERR_NOMEM, "template");
    atomic_init(&t->refs, 1);
    t->kvm_fd = t->mem_fd = -1;
    t->mem_bytes = sb->mem_bytes;
    t->flags = cfg->flags;
    t->directory_max_caps = cfg->directory_max_caps;
    t->directory_max_bytes = cfg->directory_max_bytes;
    sb->tmpl = t;

    uint8_t *file = NULL;
    size_t file_len = 0;
    struct nub_guest_image image = nub__embedded_guest_image();
    nub_status s = NUB_OK;
    if (cfg->guest_image_path) {
        s = read_image_file(sb, cfg->guest_image_path, &file, &file_len);
        image.bytes = file;
        image.len = file_len;
    }
    if (s == NUB_OK)
        s = nub__kvm_open(
            sb, t, cfg->kvm_device_path ? cfg->kvm_device_path : NUB_SANDBOX_DEFAULT_KVM_DEVICE);
    sb->kvm_fd = t->kvm_fd;
    if (s == NUB_OK) {
        t->mem_fd = memfd_create("nub-guest", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (t->mem_fd < 0 || ftruncate(t->mem_fd, (off_t)sb->mem_bytes) < 0)
            s = nub__fail(sb, NUB_ERR_NOMEM, "guest memory memfd: %s", strerror(errno));
    }
    if (s == NUB_OK)
        s = make_vm(sb, t->mem_fd);
    struct nub_image img;
    if (s == NUB_OK)
        s = nub__elf_load(sb, image.bytes, image.len, &img);
    free(file);
    if (s == NUB_OK)
        s = nub__boot_prepare(sb, &img, boot_flags_of(cfg), cfg);
    if (s == NUB_OK)
        s = nub__kvm_setup_vcpu(sb, img.entry);
    if (s != NUB_OK)
        return s;

    /* Boot: run until the guest's first doorbell ("ready"), with a watchdog
     * of its own (invoke_timeout_ns is for calls and may be very short). */
    sb->timeout_ns = NUB_BOOT_TIMEOUT_NS;
    s = nub__run_to_doorbell(sb);
    sb->timeout_ns = cfg->invoke_timeout_ns;
    if (s != NUB_OK)
        return s;
    struct nub_rpc_response_header ready;
    memcpy(&ready, sb->mem + sb->params.response_gpa, sizeof ready);
    if (ready.status != NUB_OK || ready.sequence != 0 || ready.payload_len != 0)
        return nub__kill(sb, NUB_ERR_PROTOCOL, "the guest's ready doorbell carried a reply");

    s = nub__template_capture(sb, t);
    nub__mem_dirty_clear(sb); /* boot's writes are the template's */
    if (s == NUB_OK)
        s = nub__restore_point_init(sb);
    if (s == NUB_OK)
        s = check_boot_info(sb);
    sb->heap_start_unbacked = 1; /* (by the first call: none of creation's) */
    return s;
}

/*
 * A sandbox from a template: a new VM on its memory, a new vCPU in its
 * state. No call is made: the GET_BOOT_INFO cross-check ran when the
 * template booted, and the sandbox's memory is that checked image, byte for
 * byte (the memfd is sealed). The first call on the sandbox pays for
 * mapping the pages it touches into the new VM.
 */
static nub_status start_from(nub_sandbox *sb, nub_template *t)
{
    nub__template_ref(t);
    sb->tmpl = t;
    sb->kvm_fd = t->kvm_fd;
    sb->params = t->params;
    sb->boot_info = t->boot_info;
    nub_status s = make_vm(sb, -1);
    if (s == NUB_OK)
        s = nub__vcpu_load(sb, &t->vcpu);
    if (s == NUB_OK)
        s = nub__restore_point_init(sb);
    return s;
}

static void config_error(const nub_sandbox_config *cfg, const char *fmt, size_t value)
{
    if (cfg->create_error && cfg->create_error_len)
        snprintf(cfg->create_error, cfg->create_error_len, fmt, value);
}

/* With a template, the guest-side settings are the template's: the
 * configuration may leave them 0 or repeat them, nothing else. */
static int matches_template(const nub_sandbox_config *cfg, const nub_template *t)
{
    return !cfg->guest_image_path && !cfg->kvm_device_path &&
           (!cfg->guest_memory_bytes || cfg->guest_memory_bytes == t->mem_bytes) &&
           (!cfg->flags || cfg->flags == t->flags) &&
           (!cfg->directory_max_caps || cfg->directory_max_caps == t->directory_max_caps) &&
           (!cfg->directory_max_bytes || cfg->directory_max_bytes == t->directory_max_bytes);
}

static nub_status create(const nub_sandbox_config *cfg_in, nub_template *from, nub_sandbox **out)
{
    *out = NULL;
    nub_sandbox_config cfg = {0};
    if (cfg_in)
        cfg = *cfg_in;
    size_t mem =
        from ? from->mem_bytes
             : (cfg.guest_memory_bytes ? cfg.guest_memory_bytes : NUB_SANDBOX_DEFAULT_MEMORY_BYTES);
    if (from && !matches_template(&cfg, from)) {
        config_error(&cfg,
                     "%zu: a sandbox from a template takes its memory, image, device, "
                     "flags and directory limits from the template",
                     mem);
        return NUB_ERR_INVALID_ARGUMENT;
    }
    if (mem < NUB_SANDBOX_MIN_MEMORY_BYTES || mem > NUB_SANDBOX_MAX_MEMORY_BYTES ||
        mem % PAGE_2M != 0) {
        config_error(&cfg, "guest_memory_bytes %zu: must be a multiple of 2 MiB in [32 MiB, 4 GiB]",
                     mem);
        return NUB_ERR_INVALID_ARGUMENT;
    }

    nub_sandbox *sb = calloc(1, sizeof *sb);
    if (!sb)
        return NUB_ERR_NOMEM;
    sb->kvm_fd = sb->vm_fd = sb->vcpu_fd = -1;
    sb->restore.mem_fd = -1;
    sb->mem_bytes = mem;
    sb->timeout_ns = cfg.invoke_timeout_ns;
    sb->console = cfg.console;
    sb->console_ctx = cfg.console_ctx;
    uint32_t flags = from ? from->flags : cfg.flags;
    sb->no_restore = !!(flags & NUB_SANDBOX_FLAG_NO_RESTORE);
    sb->snapshot_published = !!(flags & NUB_SANDBOX_FLAG_SNAPSHOT_PUBLISHED);

    nub_status s = from ? start_from(sb, from) : boot(sb, &cfg);
    if (s != NUB_OK) {
        if (cfg.create_error && cfg.create_error_len)
            snprintf(cfg.create_error, cfg.create_error_len, "%s", sb->last_error);
        nub_sandbox_destroy(sb);
        return s;
    }
    sb->last_error[0] = 0;
    *out = sb;
    return NUB_OK;
}

nub_status nub_sandbox_create(const nub_sandbox_config *cfg, nub_sandbox **out)
{
    if (!out)
        return NUB_ERR_INVALID_ARGUMENT;
    return create(cfg, cfg ? cfg->from_template : NULL, out);
}

void nub_sandbox_destroy(nub_sandbox *sb)
{
    if (!sb)
        return;
    nub__timeout_destroy(sb);
    nub__mem_drop_base_view(sb);
    nub__kvm_close(sb);
    nub__hash_set_free(&sb->published);
    nub__restore_point_free(&sb->restore);
    nub__mem_dirty_free(sb);
    nub__template_unref(sb->tmpl);
    free(sb);
}

nub_status nub_template_create(const nub_sandbox_config *cfg, nub_template **out)
{
    if (!out)
        return NUB_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (cfg && cfg->from_template)
        return NUB_ERR_INVALID_ARGUMENT;
    /* Boot a sandbox and keep its template; the sandbox itself goes. */
    nub_sandbox *sb = NULL;
    nub_status s = create(cfg, NULL, &sb);
    if (s != NUB_OK)
        return s;
    nub_template *t = sb->tmpl;
    nub__template_ref(t);
    nub_sandbox_destroy(sb);
    *out = t;
    return NUB_OK;
}

void nub_template_destroy(nub_template *t)
{
    nub__template_unref(t);
}
