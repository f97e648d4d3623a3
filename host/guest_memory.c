/*
 * guest_memory.c — guest-physical memory as copy-on-write ranges of a
 * memfd, and the set of pages written since the restore point.
 *
 * A sandbox maps the ranges of its baseline memfd (the template's, or its
 * own snapshot's) MAP_PRIVATE: pages it never writes stay shared with the
 * baseline, a write copies the page. The rest of guest memory is anonymous
 * memory, which reads as zero like the baseline's holes; it is not mapped
 * from the memfd because shmem backs even a hole with a page of its own on
 * the first (copy-on-write) touch, and every sandbox would grow the
 * baseline by what it wrote.
 *
 * Restoring puts back the pages written since the restore point: the first
 * COPY_BACK_PAGES in place (zeroed if the baseline's page is zero and they
 * are not, else copied from the baseline), the rest by dropping them
 * (MADV_DONTNEED): file-backed ones read the baseline again, anonymous ones
 * read zero. Which pages: KVM's dirty log for the guest's writes, plus the
 * host's own writes, which the host marks as it makes them
 * (nub__mem_dirty). The cost of a restore grows with the pages written,
 * not with the size of guest memory. Code that writes guest memory where it
 * cannot say which pages (a walk of guest page tables that may back pages)
 * calls nub__mem_dirty_unknown instead: the next restore or snapshot then
 * finds every page private to the sandbox in /proc/self/pagemap, at a cost
 * that grows with guest memory.
 */

#include "sandbox_int.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGE_BYTES UINT64_C(4096)
/* Holes shorter than this between data ranges are mapped from the file
 * too: fewer mappings, at the cost of a few shared zero pages. */
#define MERGE_GAP_BYTES (UINT64_C(64) << 10)
/* Dropping a page not written since the restore point changes nothing (a
 * file page reads the baseline again, an anonymous one was never written
 * and reads zero), so a restore drops dirty runs up to this many clean
 * pages apart with one madvise: each call costs a syscall and an MMU
 * notifier round through KVM, and the guest heap interleaves pages. */
#define DROP_GAP_PAGES 32u
/* A restore puts the restore point's bytes back in place into up to this many
 * written pages instead of dropping them: that is cheaper than unmapping
 * (an MMU-notifier round through KVM) and the fault that maps a new page
 * on the next touch, and the next call usually writes the same pages. The
 * rest are dropped, so a call that wrote much gives its memory back. */
#define COPY_BACK_PAGES 512u

static nub_status map_range(nub_sandbox *sb, uint8_t *at, uint64_t len, int fd, uint64_t off)
{
    int flags = MAP_PRIVATE | MAP_NORESERVE | MAP_FIXED | (fd < 0 ? MAP_ANONYMOUS : 0);
    void *p = mmap(at, len, PROT_READ | PROT_WRITE, flags, fd, fd < 0 ? 0 : (off_t)off);
    if (p == MAP_FAILED)
        return nub__fail(sb, NUB_ERR_NOMEM, "mapping %llu bytes of guest memory: %s",
                         (unsigned long long)len, strerror(errno));
    return NUB_OK;
}

nub_status nub__mem_map(nub_sandbox *sb, int fd, const struct nub_mem_layout *layout)
{
    if (!sb->mem) {
        void *p = mmap(NULL, sb->mem_bytes, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED)
            return nub__fail(sb, NUB_ERR_NOMEM, "mmap of %zu bytes of guest memory: %s",
                             sb->mem_bytes, strerror(errno));
        sb->mem = p;
    } else {
        nub_status s = map_range(sb, sb->mem, sb->mem_bytes, -1, 0);
        if (s != NUB_OK)
            return s;
    }
    for (size_t i = 0; i < layout->count; i++) {
        const struct nub_mem_range *r = &layout->ranges[i];
        nub_status s = map_range(sb, sb->mem + r->start, r->end - r->start, fd, r->start);
        if (s != NUB_OK)
            return s;
    }
    return NUB_OK;
}

static nub_status layout_push(nub_sandbox *sb, struct nub_mem_layout *l, size_t *cap,
                              uint64_t start, uint64_t end)
{
    if (l->count && start <= l->ranges[l->count - 1].end + MERGE_GAP_BYTES) {
        if (end > l->ranges[l->count - 1].end)
            l->ranges[l->count - 1].end = end;
        return NUB_OK;
    }
    if (l->count == *cap) {
        size_t n = *cap ? *cap * 2 : 16;
        struct nub_mem_range *r = realloc(l->ranges, n * sizeof *r);
        if (!r)
            return nub__fail(sb, NUB_ERR_NOMEM, "memory layout");
        l->ranges = r;
        *cap = n;
    }
    l->ranges[l->count++] = (struct nub_mem_range){start, end};
    return NUB_OK;
}

nub_status nub__mem_layout_of(nub_sandbox *sb, int fd, size_t bytes, struct nub_mem_layout *out)
{
    struct nub_mem_layout l = {0};
    size_t cap = 0;
    off_t pos = 0;
    while ((uint64_t)pos < bytes) {
        off_t data = lseek(fd, pos, SEEK_DATA);
        if (data < 0 && errno == ENXIO)
            break;
        off_t hole = data < 0 ? -1 : lseek(fd, data, SEEK_HOLE);
        if (data < 0 || hole < 0) {
            nub__mem_layout_free(&l);
            return nub__fail(sb, NUB_ERR_NOMEM, "lseek on the guest memory file: %s",
                             strerror(errno));
        }
        uint64_t start = (uint64_t)data & ~(PAGE_BYTES - 1);
        uint64_t end = ((uint64_t)hole + PAGE_BYTES - 1) & ~(PAGE_BYTES - 1);
        if (end > bytes)
            end = bytes;
        nub_status s = layout_push(sb, &l, &cap, start, end);
        if (s != NUB_OK) {
            nub__mem_layout_free(&l);
            return s;
        }
        pos = (off_t)end;
    }
    *out = l;
    return NUB_OK;
}

nub_status nub__mem_layout_copy(nub_sandbox *sb, const struct nub_mem_layout *from,
                                struct nub_mem_layout *to)
{
    to->count = 0;
    to->ranges = NULL;
    if (!from->count)
        return NUB_OK;
    to->ranges = malloc(from->count * sizeof *to->ranges);
    if (!to->ranges)
        return nub__fail(sb, NUB_ERR_NOMEM, "memory layout");
    memcpy(to->ranges, from->ranges, from->count * sizeof *to->ranges);
    to->count = from->count;
    return NUB_OK;
}

void nub__mem_layout_free(struct nub_mem_layout *l)
{
    free(l->ranges);
    l->ranges = NULL;
    l->count = 0;
}

nub_status nub__mem_dirty_init(nub_sandbox *sb)
{
    size_t pages = sb->mem_bytes / PAGE_BYTES;
    sb->dirty_words = (pages + 63) / 64;
    sb->dirty = calloc(sb->dirty_words, sizeof *sb->dirty);
    sb->kvm_log = calloc(sb->dirty_words, sizeof *sb->kvm_log);
    if (!sb->dirty || !sb->kvm_log)
        return nub__fail(sb, NUB_ERR_NOMEM, "dirty page bitmaps");
    return NUB_OK;
}

void nub__mem_dirty_free(nub_sandbox *sb)
{
    free(sb->dirty);
    free(sb->kvm_log);
    free(sb->base_known); /* base_zero shares its allocation */
    sb->dirty = sb->kvm_log = sb->base_known = sb->base_zero = NULL;
}

void nub__mem_dirty(nub_sandbox *sb, uint64_t gpa, uint64_t len)
{
    if (!len || gpa >= sb->mem_bytes)
        return;
    if (len > sb->mem_bytes - gpa)
        len = sb->mem_bytes - gpa;
    for (uint64_t p = gpa / PAGE_BYTES; p <= (gpa + len - 1) / PAGE_BYTES; p++)
        sb->dirty[p / 64] |= UINT64_C(1) << (p % 64);
}

void nub__mem_dirty_unknown(nub_sandbox *sb)
{
    sb->dirty_unknown = 1;
}

/* Every page of guest memory that is private to this sandbox (present and
 * not a page of the baseline file: written since it was mapped, or an
 * anonymous page touched), from /proc/self/pagemap. Its cost grows with
 * guest memory (8 bytes read per page): only for host writes nobody marked. */
#define PAGEMAP_PRESENT (UINT64_C(1) << 63)
#define PAGEMAP_FILE    (UINT64_C(1) << 61)
#define PAGEMAP_CHUNK   4096u
static nub_status collect_private_pages(nub_sandbox *sb)
{
    int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return nub__fail(sb, NUB_ERR_NOMEM, "/proc/self/pagemap: %s", strerror(errno));
    uint64_t entries[PAGEMAP_CHUNK];
    size_t pages = sb->mem_bytes / PAGE_BYTES;
    off_t base = (off_t)((uintptr_t)sb->mem / PAGE_BYTES * sizeof(uint64_t));
    nub_status s = NUB_OK;
    for (size_t first = 0; first < pages && s == NUB_OK; first += PAGEMAP_CHUNK) {
        size_t n = pages - first < PAGEMAP_CHUNK ? pages - first : PAGEMAP_CHUNK;
        ssize_t got =
            pread(fd, entries, n * sizeof entries[0], base + (off_t)(first * sizeof entries[0]));
        if (got != (ssize_t)(n * sizeof entries[0])) {
            s = nub__fail(sb, NUB_ERR_NOMEM, "reading /proc/self/pagemap: %s",
                          got < 0 ? strerror(errno) : "short read");
            break;
        }
        /* (Memory still shared with the boot memfd: every page of it is
         * file-backed, and any present one may have been written.) */
        for (size_t i = 0; i < n; i++)
            if ((entries[i] & PAGEMAP_PRESENT) &&
                (!(entries[i] & PAGEMAP_FILE) || sb->mem_live_shared))
                sb->dirty[(first + i) / 64] |= UINT64_C(1) << ((first + i) % 64);
    }
    close(fd);
    return s;
}

/*
 * The guest kernel's first calls write the first pages of its heap: the
 * caps they store, the first JIT code, the page pool's first chunk (the
 * tables of the first run's address space). Faulted in one by one, each
 * page costs the guest an exit and the host a page fault inside KVM's.
 * Backed here in one madvise, the host faults them in without the guest;
 * a shadow-paging KVM, which maps the present neighbours of a faulting
 * page within its aligned group of 8 (up to the first page that is not
 * present, and never in a dirty-logged slot), then maps each group on its
 * first fault: hence the start rounded down to a group. (A two-dimensional
 * paging KVM still takes a fault per page, without the host fault in it.)
 * Only while the memory is the booted memfd and not dirty-logged (in a
 * logged slot nothing is mapped ahead, and backing them first gains
 * nothing); without MADV_POPULATE_WRITE the guest's touches fault them in
 * as before.
 */
#define HEAP_START_BACKED_BYTES (UINT64_C(64) << 10)
#define MAP_AHEAD_GROUP_BYTES   (UINT64_C(32) << 10)

void nub__mem_back_heap_start(nub_sandbox *sb)
{
    sb->heap_start_unbacked = 0;
#ifdef MADV_POPULATE_WRITE
    uint64_t start = sb->params.heap_gpa & ~(MAP_AHEAD_GROUP_BYTES - 1);
    if (!sb->mem_live_shared || sb->dirty_log_on || start >= sb->mem_bytes)
        return;
    uint64_t len = sb->mem_bytes - start < HEAP_START_BACKED_BYTES ? sb->mem_bytes - start
                                                                   : HEAP_START_BACKED_BYTES;
    (void)madvise(sb->mem + start, len, MADV_POPULATE_WRITE); /* (best effort) */
#endif
}

nub_status nub__mem_collect_dirty(nub_sandbox *sb)
{
    if (!sb->dirty_log_on) {
        /* A booted sandbox still in its shared memory (mem_live_shared):
         * what the guest wrote since boot was not logged, and every page
         * it may have written is present. Logged from here on. */
        nub_status s = nub__kvm_log_dirty(sb);
        if (s != NUB_OK)
            return s;
        sb->dirty_unknown = 1;
    }
    if (sb->dirty_unknown) {
        nub_status s = collect_private_pages(sb);
        if (s != NUB_OK)
            return s;
        sb->dirty_unknown = 0;
    }
    struct kvm_dirty_log log = {.slot = 0, .dirty_bitmap = sb->kvm_log};
    memset(sb->kvm_log, 0, sb->dirty_words * sizeof *sb->kvm_log);
    if (ioctl(sb->vm_fd, KVM_GET_DIRTY_LOG, &log) < 0)
        return nub__fail(sb, NUB_ERR_KVM, "KVM_GET_DIRTY_LOG: %s", strerror(errno));
    for (size_t i = 0; i < sb->dirty_words; i++)
        sb->dirty[i] |= sb->kvm_log[i];
    return NUB_OK;
}

void nub__mem_dirty_clear(nub_sandbox *sb)
{
    memset(sb->dirty, 0, sb->dirty_words * sizeof *sb->dirty);
}

/* The first dirty page at or after p, or `pages`. */
static size_t next_dirty(const nub_sandbox *sb, size_t p, size_t pages)
{
    while (p < pages) {
        uint64_t w = sb->dirty[p / 64] >> (p % 64);
        if (w)
            return p + (size_t)__builtin_ctzll(w);
        p = (p / 64 + 1) * 64;
    }
    return pages;
}

/* Calls fn on each run [first, end) of dirty pages, runs less than
 * max_gap clean pages apart joined into one; stops at the first failure. */
static nub_status for_each_dirty_run(nub_sandbox *sb, size_t max_gap,
                                     nub_status (*fn)(nub_sandbox *, uint64_t, uint64_t, void *),
                                     void *ctx)
{
    size_t pages = sb->mem_bytes / PAGE_BYTES;
    size_t p = next_dirty(sb, 0, pages);
    while (p < pages) {
        size_t first = p;
        for (;;) {
            while (p < pages && (sb->dirty[p / 64] >> (p % 64) & 1))
                p++;
            size_t next = next_dirty(sb, p, pages);
            if (next >= pages || next - p > max_gap)
                break;
            p = next;
        }
        nub_status s = fn(sb, first * PAGE_BYTES, p * PAGE_BYTES, ctx);
        if (s != NUB_OK)
            return s;
        p = next_dirty(sb, p, pages);
    }
    return NUB_OK;
}

static nub_status drop_run(nub_sandbox *sb, uint64_t start, uint64_t end, void *ctx)
{
    (void)ctx;
    if (madvise(sb->mem + start, end - start, MADV_DONTNEED) < 0)
        return nub__fail(sb, NUB_ERR_NOMEM, "madvise(MADV_DONTNEED) on guest memory: %s",
                         strerror(errno));
    return NUB_OK;
}

/* A read-only shared view of the restore point's memfd: the baseline bytes
 * a copy-back reads. Made on first use, dropped when the baseline changes. */
static nub_status base_view(nub_sandbox *sb, const uint8_t **out)
{
    if (!sb->base_view) {
        int fd = sb->restore.mem_fd >= 0 ? sb->restore.mem_fd : sb->tmpl->mem_fd;
        void *p = mmap(NULL, sb->mem_bytes, PROT_READ, MAP_SHARED | MAP_NORESERVE, fd, 0);
        if (p == MAP_FAILED)
            return nub__fail(sb, NUB_ERR_NOMEM, "mapping the restore point: %s", strerror(errno));
        sb->base_view = p;
    }
    *out = sb->base_view;
    return NUB_OK;
}

void nub__mem_drop_base_view(nub_sandbox *sb)
{
    if (sb->base_view)
        munmap((void *)sb->base_view, sb->mem_bytes);
    sb->base_view = NULL;
}

/* Whether the 4 KiB at p are all zero. Stops at the first 64-byte line
 * holding a set bit, so a page that was written costs about one line. */
static int page_is_zero(const uint8_t *p)
{
    const uint64_t *w = (const uint64_t *)(const void *)p;
    for (size_t i = 0; i < PAGE_BYTES / sizeof *w; i += 8)
        if (w[i] | w[i + 1] | w[i + 2] | w[i + 3] | w[i + 4] | w[i + 5] | w[i + 6] | w[i + 7])
            return 0;
    return 1;
}

static int bit_of(const uint64_t *bits, uint64_t page)
{
    return (int)(bits[page / 64] >> (page % 64) & 1);
}

/* Whether the restore point's page is all zero: read once per restore
 * point and remembered, because most pages a call writes are ones the
 * guest hands out zeroed (its page pool and stacks) and zeroes again after
 * the call, and reading one copy of a page costs half of comparing two.
 * Without the record (no memory for it) the page is read each time. */
static int base_page_is_zero(nub_sandbox *sb, const uint8_t *base, uint64_t page)
{
    if (sb->base_known && bit_of(sb->base_known, page))
        return bit_of(sb->base_zero, page);
    int zero = page_is_zero(base + page * PAGE_BYTES);
    if (sb->base_known) {
        sb->base_known[page / 64] |= UINT64_C(1) << (page % 64);
        if (zero)
            sb->base_zero[page / 64] |= UINT64_C(1) << (page % 64);
    }
    return zero;
}

/* The restore point's page is zero: zero the page unless it is already
 * (reading it is cheaper than writing it, and the guest zeroes most of
 * the pages it wrote before its call ends). */
static void reset_to_zero(uint8_t *page)
{
    if (!page_is_zero(page))
        memset(page, 0, PAGE_BYTES);
}

/* Puts the restore point's bytes back into the dirty run [start, end) in
 * place: the baseline's for its file ranges, zero elsewhere. */
static nub_status copy_back_run(nub_sandbox *sb, uint64_t start, uint64_t end, void *ctx)
{
    const struct nub_mem_layout *l = &sb->restore.layout;
    size_t *budget = ctx;
    size_t pages = (size_t)((end - start) / PAGE_BYTES);
    if (pages > *budget)
        return NUB_OK; /* left dirty: dropped below */
    *budget -= pages;
    uint64_t first = start / PAGE_BYTES;
    const uint8_t *base = NULL;
    size_t i = 0;
    for (uint64_t at = start; at < end; at += PAGE_BYTES) {
        while (i < l->count && l->ranges[i].end <= at)
            i++;
        uint8_t *page = sb->mem + at;
        if (i == l->count || l->ranges[i].start > at) {
            reset_to_zero(page); /* anonymous in the restore point */
            continue;
        }
        if (!base) {
            nub_status s = base_view(sb, &base);
            if (s != NUB_OK)
                return s;
        }
        if (base_page_is_zero(sb, base, at / PAGE_BYTES))
            reset_to_zero(page);
        else
            memcpy(page, base + at, PAGE_BYTES);
    }
    for (uint64_t p = first; p < end / PAGE_BYTES; p++)
        sb->dirty[p / 64] &= ~(UINT64_C(1) << (p % 64));
    return NUB_OK;
}

/* The record of which restore-point pages are zero, made on the first
 * restore (sandboxes that never restore do not pay for it); NULL if the
 * memory cannot be had, which only makes restores read more. */
static void base_record_init(nub_sandbox *sb)
{
    if (sb->base_known)
        return;
    sb->base_known = calloc(2 * sb->dirty_words, sizeof *sb->base_known);
    if (sb->base_known)
        sb->base_zero = sb->base_known + sb->dirty_words;
}

/* The restore point's memory is about to change: forget what was read. */
static void base_record_forget(nub_sandbox *sb)
{
    if (sb->base_known)
        memset(sb->base_known, 0, 2 * sb->dirty_words * sizeof *sb->base_known);
}

nub_status nub__mem_reset_dirty(nub_sandbox *sb)
{
    base_record_init(sb);
    if (sb->mem_live_shared) {
        /* Still in the memory it booted in, whose pages cannot be dropped
         * back to the baseline: map the baseline as a whole (the restore
         * point is the template's, no snapshot having been taken). Which
         * pages were written does not matter; from here on it does. */
        int logged = sb->dirty_log_on;
        sb->dirty_unknown = 0;
        nub_status s = nub__mem_map(sb, sb->tmpl->mem_fd, &sb->restore.layout);
        if (s == NUB_OK) /* (a log kept since boot is emptied: it is stale) */
            s = logged ? nub__mem_collect_dirty(sb) : nub__kvm_log_dirty(sb);
        if (s == NUB_OK) {
            sb->mem_live_shared = 0;
            nub__mem_dirty_clear(sb);
        }
        return s;
    }
    nub_status s = nub__mem_collect_dirty(sb);
    size_t budget = COPY_BACK_PAGES;
    if (s == NUB_OK)
        s = for_each_dirty_run(sb, 0, copy_back_run, &budget);
    if (s == NUB_OK)
        s = for_each_dirty_run(sb, DROP_GAP_PAGES, drop_run, NULL);
    if (s == NUB_OK)
        nub__mem_dirty_clear(sb);
    return s;
}

void nub__mem_release(nub_sandbox *sb, uint64_t gpa, uint64_t len)
{
    if (sb->mem_live_shared)
        return; /* shared pages keep their bytes when dropped: left to the first restore */
    uint64_t start = (gpa + PAGE_BYTES - 1) & ~(PAGE_BYTES - 1);
    uint64_t end = (gpa + len) & ~(PAGE_BYTES - 1);
    if (end > sb->mem_bytes)
        end = sb->mem_bytes;
    if (start >= end || madvise(sb->mem + start, end - start, MADV_DONTNEED) < 0)
        return;
    /* They read the baseline again: not written since the restore point
     * (a guest write before this is still in KVM's log). */
    for (uint64_t p = start / PAGE_BYTES; p < end / PAGE_BYTES; p++)
        sb->dirty[p / 64] &= ~(UINT64_C(1) << (p % 64));
}

static nub_status write_all(nub_sandbox *sb, int fd, uint64_t start, uint64_t end)
{
    while (start < end) {
        ssize_t n = pwrite(fd, sb->mem + start, end - start, (off_t)start);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return nub__fail(sb, NUB_ERR_NOMEM, "writing the snapshot: %s",
                             n < 0 ? strerror(errno) : "short write");
        start += (uint64_t)n;
    }
    return NUB_OK;
}

struct snapshot_ctx {
    int fd;
    struct nub_mem_layout *layout; /* grows by the dirty runs */
    size_t cap;
    const struct nub_mem_layout *old; /* the mapped layout */
    int outside;                      /* a run is not inside the mapped file ranges */
};

static int inside_layout(const struct nub_mem_layout *l, uint64_t start, uint64_t end)
{
    for (size_t i = 0; i < l->count; i++)
        if (start >= l->ranges[i].start && end <= l->ranges[i].end)
            return 1;
    return 0;
}

static nub_status write_run(nub_sandbox *sb, uint64_t start, uint64_t end, void *arg)
{
    struct snapshot_ctx *c = arg;
    if (!inside_layout(c->old, start, end))
        c->outside = 1;
    return write_all(sb, c->fd, start, end);
}

static int range_cmp(const void *a, const void *b)
{
    const struct nub_mem_range *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

/* The union of the mapped layout and the dirty runs, sorted and merged. */
static nub_status merged_layout(nub_sandbox *sb, const struct nub_mem_layout *old,
                                struct nub_mem_layout *out)
{
    struct nub_mem_layout all = {0};
    size_t cap = 0, pages = sb->mem_bytes / PAGE_BYTES;
    nub_status s = NUB_OK;
    for (size_t i = 0; i < old->count && s == NUB_OK; i++) {
        if (all.count == cap) {
            cap = cap ? cap * 2 : 32;
            struct nub_mem_range *r = realloc(all.ranges, cap * sizeof *r);
            if (!r) {
                s = nub__fail(sb, NUB_ERR_NOMEM, "memory layout");
                break;
            }
            all.ranges = r;
        }
        all.ranges[all.count++] = old->ranges[i];
    }
    for (size_t p = 0; p < pages && s == NUB_OK;) {
        if (!(sb->dirty[p / 64] >> (p % 64) & 1)) {
            p++;
            continue;
        }
        size_t first = p;
        while (p < pages && (sb->dirty[p / 64] >> (p % 64) & 1))
            p++;
        if (all.count == cap) {
            cap = cap ? cap * 2 : 32;
            struct nub_mem_range *r = realloc(all.ranges, cap * sizeof *r);
            if (!r) {
                s = nub__fail(sb, NUB_ERR_NOMEM, "memory layout");
                break;
            }
            all.ranges = r;
        }
        all.ranges[all.count++] = (struct nub_mem_range){first * PAGE_BYTES, p * PAGE_BYTES};
    }
    if (s == NUB_OK && all.count)
        qsort(all.ranges, all.count, sizeof *all.ranges, range_cmp);
    struct nub_mem_layout merged = {0};
    size_t mcap = 0;
    for (size_t i = 0; i < all.count && s == NUB_OK; i++)
        s = layout_push(sb, &merged, &mcap, all.ranges[i].start, all.ranges[i].end);
    free(all.ranges);
    if (s != NUB_OK) {
        nub__mem_layout_free(&merged);
        return s;
    }
    *out = merged;
    return NUB_OK;
}

static nub_status new_memfd(nub_sandbox *sb, int *fd)
{
    *fd = memfd_create("nub-snapshot", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (*fd < 0)
        return nub__fail(sb, NUB_ERR_NOMEM, "memfd_create: %s", strerror(errno));
    if (ftruncate(*fd, (off_t)sb->mem_bytes) < 0) {
        nub_status s =
            nub__fail(sb, NUB_ERR_NOMEM, "sizing the snapshot memfd: %s", strerror(errno));
        close(*fd);
        *fd = -1;
        return s;
    }
    return NUB_OK;
}

nub_status nub__mem_copy_sealed(nub_sandbox *sb, const struct nub_mem_layout *layout, int *fd_out)
{
    int fd;
    nub_status s = new_memfd(sb, &fd);
    for (size_t i = 0; s == NUB_OK && i < layout->count; i++)
        s = write_all(sb, fd, layout->ranges[i].start, layout->ranges[i].end);
    if (s == NUB_OK &&
        fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
        s = nub__fail(sb, NUB_ERR_NOMEM, "sealing the template memfd: %s", strerror(errno));
    if (s != NUB_OK) {
        if (fd >= 0)
            close(fd);
        return s;
    }
    *fd_out = fd;
    return NUB_OK;
}

nub_status nub__mem_snapshot(nub_sandbox *sb)
{
    struct nub_restore_point *rp = &sb->restore;
    base_record_forget(sb);
    nub_status s = nub__mem_collect_dirty(sb);
    if (s != NUB_OK)
        return s;
    struct nub_mem_layout layout = {0};
    s = merged_layout(sb, &rp->layout, &layout);
    if (s != NUB_OK)
        return s;
    int fd = rp->mem_fd;
    int fresh = fd < 0;
    if (fresh) {
        /* The first snapshot: a memfd of the sandbox's own, holding all of
         * the current memory's data ranges (template and written pages). */
        s = new_memfd(sb, &fd);
        for (size_t i = 0; s == NUB_OK && i < layout.count; i++)
            s = write_all(sb, fd, layout.ranges[i].start, layout.ranges[i].end);
    } else {
        /* Later ones write only the pages written since. */
        struct snapshot_ctx c = {.fd = fd, .old = &rp->layout};
        s = for_each_dirty_run(sb, 0, write_run, &c);
        if (s == NUB_OK && !c.outside) {
            /* Every run lies in a mapped file range: dropping the private
             * copies makes the mapping read the file's new bytes. */
            nub__mem_layout_free(&layout);
            s = for_each_dirty_run(sb, DROP_GAP_PAGES, drop_run, NULL);
            if (s == NUB_OK)
                nub__mem_dirty_clear(sb);
            return s;
        }
    }
    if (s == NUB_OK)
        s = nub__mem_map(sb, fd, &layout);
    if (s != NUB_OK) {
        if (fresh && fd >= 0)
            close(fd);
        nub__mem_layout_free(&layout);
        return s;
    }
    nub__mem_layout_free(&rp->layout);
    rp->layout = layout;
    nub__mem_drop_base_view(sb); /* of the old baseline */
    rp->mem_fd = fd;
    sb->mem_live_shared = 0; /* (mapped from the snapshot now) */
    nub__mem_dirty_clear(sb);
    return NUB_OK;
}
