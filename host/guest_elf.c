/*
 * guest_elf.c — loads the guest kernel ELF. The file is untrusted input:
 * every header field, offset and size is checked before use, and every
 * segment must land in guest memory between NUB_KERNEL_LOAD_MIN and the
 * end of memory.
 */
#include "sandbox_int.h"

#include <elf.h>
#include <string.h>

static int range_in(uint64_t off, uint64_t size, uint64_t total)
{
    return off <= total && size <= total - off;
}

static nub_status bad(nub_sandbox *sb, const char *what)
{
    return nub__fail(sb, NUB_ERR_GUEST_IMAGE, "guest image: %s", what);
}

static nub_status check_header(nub_sandbox *sb, const uint8_t *elf, size_t len, Elf64_Ehdr *eh)
{
    if (len < sizeof *eh)
        return bad(sb, "shorter than an ELF header");
    memcpy(eh, elf, sizeof *eh);
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0)
        return bad(sb, "not an ELF file");
    if (eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_ident[EI_DATA] != ELFDATA2LSB ||
        eh->e_ident[EI_VERSION] != EV_CURRENT)
        return bad(sb, "not a little-endian ELF64 file");
    if (eh->e_type != ET_EXEC || eh->e_machine != EM_X86_64 || eh->e_version != EV_CURRENT)
        return bad(sb, "not an x86-64 executable");
    if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phnum == 0 ||
        !range_in(eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr), len))
        return bad(sb, "program headers out of the file");
    if (eh->e_shentsize != sizeof(Elf64_Shdr) || eh->e_shnum == 0 ||
        eh->e_shstrndx >= eh->e_shnum ||
        !range_in(eh->e_shoff, (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr), len))
        return bad(sb, "section headers out of the file");
    return NUB_OK;
}

static nub_status load_segments(nub_sandbox *sb, const uint8_t *elf, size_t len,
                                const Elf64_Ehdr *eh, struct nub_image *img)
{
    int entry_ok = 0, loads = 0;
    uint64_t *image_end = &img->end;
    *image_end = 0;
    img->segment_count = 0;
    for (uint16_t i = 0; i < eh->e_phnum; i++) {
        Elf64_Phdr ph;
        memcpy(&ph, elf + eh->e_phoff + (uint64_t)i * sizeof ph, sizeof ph);
        if (ph.p_type != PT_LOAD)
            continue;
        if (++loads > NUB_IMAGE_MAX_SEGMENTS)
            return bad(sb, "too many PT_LOAD segments");
        if (ph.p_filesz > ph.p_memsz || !range_in(ph.p_offset, ph.p_filesz, len))
            return bad(sb, "a PT_LOAD segment's bytes lie outside the file");
        if (ph.p_vaddr != ph.p_paddr)
            return bad(sb, "a PT_LOAD segment is not identity-mapped");
        if (ph.p_paddr < NUB_KERNEL_LOAD_MIN || !range_in(ph.p_paddr, ph.p_memsz, sb->mem_bytes))
            return bad(sb, "a PT_LOAD segment lies outside guest memory");
        if (ph.p_paddr % NUB_PAGE_SIZE != 0)
            return bad(sb, "a PT_LOAD segment is not page-aligned");
        for (uint32_t k = 0; k < img->segment_count; k++)
            if (ph.p_paddr < img->segments[k].end &&
                img->segments[k].start < ph.p_paddr + ph.p_memsz)
                return bad(sb, "PT_LOAD segments overlap");
        img->segments[img->segment_count].start = ph.p_paddr;
        img->segments[img->segment_count].end = ph.p_paddr + ph.p_memsz;
        img->segments[img->segment_count].flags = ph.p_flags;
        img->segment_count++;
        memcpy(sb->mem + ph.p_paddr, elf + ph.p_offset, ph.p_filesz);
        /* The rest (.bss) is already zero: guest memory is fresh anonymous memory. */
        if (ph.p_paddr + ph.p_memsz > *image_end)
            *image_end = ph.p_paddr + ph.p_memsz;
        if ((ph.p_flags & PF_X) && eh->e_entry >= ph.p_paddr &&
            eh->e_entry < ph.p_paddr + ph.p_memsz)
            entry_ok = 1;
    }
    if (loads == 0)
        return bad(sb, "no PT_LOAD segment");
    if (!entry_ok)
        return bad(sb, "the entry point is not in an executable segment");
    return NUB_OK;
}

/* Finds section `name` and checks it holds exactly `size` bytes in the file. */
static nub_status find_section(nub_sandbox *sb, const uint8_t *elf, size_t len,
                               const Elf64_Ehdr *eh, const char *name, void *out, size_t size)
{
    Elf64_Shdr strtab;
    memcpy(&strtab, elf + eh->e_shoff + (uint64_t)eh->e_shstrndx * sizeof strtab, sizeof strtab);
    if (strtab.sh_type != SHT_STRTAB || !range_in(strtab.sh_offset, strtab.sh_size, len))
        return bad(sb, "section name table out of the file");
    const char *names = (const char *)elf + strtab.sh_offset;
    size_t name_len = strlen(name);
    for (uint16_t i = 0; i < eh->e_shnum; i++) {
        Elf64_Shdr sh;
        memcpy(&sh, elf + eh->e_shoff + (uint64_t)i * sizeof sh, sizeof sh);
        if (sh.sh_name >= strtab.sh_size || strtab.sh_size - sh.sh_name < name_len + 1)
            continue;
        if (memcmp(names + sh.sh_name, name, name_len + 1) != 0)
            continue;
        if (sh.sh_type != SHT_PROGBITS || sh.sh_size != size ||
            !range_in(sh.sh_offset, sh.sh_size, len))
            return nub__fail(sb, NUB_ERR_GUEST_IMAGE, "guest image: section %s is malformed", name);
        memcpy(out, elf + sh.sh_offset, size);
        return NUB_OK;
    }
    return nub__fail(sb, NUB_ERR_GUEST_IMAGE, "guest image: no %s section", name);
}

/* The layout's addresses must describe pages of the image itself (the
 * page tables the host builds from them must not unmap or expose anything
 * else). */
static nub_status check_layout(nub_sandbox *sb, const struct nub_image *img)
{
    const struct nub_kernel_layout *l = &img->layout;
    /* range_in, not start + size <= end: the sum could wrap past 2^64. */
    uint64_t stubs_bytes = (uint64_t)l->vector_stub_stride * NUB_KERNEL_VECTORS;
    if (l->vector_stubs_va < NUB_KERNEL_LOAD_MIN ||
        !range_in(l->vector_stubs_va, stubs_bytes, img->end))
        return bad(sb, "exception stubs outside the image");
    /* Guard pages are pages of the image (strictly below its end); a stack
     * top may be the image's end. */
    const uint64_t pages[] = {l->stack_guard_va, l->ist_guard_va, l->ist_top, l->trap_guard_va,
                              l->trap_top};
    const int is_guard[] = {1, 1, 0, 1, 0};
    for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++)
        if (pages[i] % NUB_PAGE_SIZE != 0 || pages[i] < NUB_KERNEL_LOAD_MIN ||
            pages[i] > img->end || (is_guard[i] && pages[i] == img->end))
            return bad(sb, ".nub_layout names a page outside the image");
    if (l->ist_top <= l->ist_guard_va + NUB_PAGE_SIZE ||
        l->trap_top <= l->trap_guard_va + NUB_PAGE_SIZE)
        return bad(sb, ".nub_layout has an empty ring-0 stack");
    if (img->end > (UINT64_C(2) << 20))
        return bad(sb, "the image does not fit the 4 KiB-mapped first 2 MiB");
    return NUB_OK;
}

nub_status nub__elf_load(nub_sandbox *sb, const uint8_t *elf, size_t len, struct nub_image *img)
{
    Elf64_Ehdr eh;
    struct nub_kernel_layout *layout = &img->layout;
    nub_status s = check_header(sb, elf, len, &eh);
    if (s == NUB_OK)
        s = find_section(sb, elf, len, &eh, NUB_BOOT_INFO_SECTION, &sb->boot_info,
                         sizeof sb->boot_info);
    if (s == NUB_OK)
        s = find_section(sb, elf, len, &eh, NUB_LAYOUT_SECTION, layout, sizeof *layout);
    if (s != NUB_OK)
        return s;
    if (sb->boot_info.magic != NUB_BOOT_INFO_MAGIC)
        return bad(sb, ".boot_info has the wrong magic");
    if (layout->magic != NUB_LAYOUT_MAGIC || layout->vector_count != NUB_KERNEL_VECTORS ||
        layout->vector_stub_stride == 0 || layout->vector_stub_stride > 256)
        return bad(sb, ".nub_layout is malformed");
    s = load_segments(sb, elf, len, &eh, img);
    if (s == NUB_OK)
        s = check_layout(sb, img);
    img->entry = eh.e_entry;
    return s;
}
