/*
 * rv_elf.c — checked ELF64 little-endian reader (see rv_elf.h).
 * Fields are read byte by byte (no casts of file bytes to structs), so
 * alignment and host byte order never matter.
 */
#include "rv_elf.h"

#include <elf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rd_le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static int fail(char *err, size_t err_len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (err_len > 0)
        vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
    return -1;
}

/* offset + size <= len, without overflow. */
static bool in_file(uint64_t offset, uint64_t size, size_t len)
{
    return offset <= len && size <= len - offset;
}

/* A NUL-terminated string at table[off] inside a table of table_len bytes. */
static const char *string_at(const uint8_t *table, uint64_t table_len, uint64_t off)
{
    if (table == NULL || off >= table_len)
        return NULL;
    if (memchr(table + off, 0, table_len - off) == NULL)
        return NULL;
    return (const char *)table + off;
}

static int check_header(const uint8_t *b, size_t len, char *err, size_t err_len)
{
    if (len < sizeof(Elf64_Ehdr))
        return fail(err, err_len, "not an ELF file: %zu bytes is shorter than an ELF64 header",
                    len);
    if (memcmp(b, ELFMAG, SELFMAG) != 0)
        return fail(err, err_len, "not an ELF file (bad magic)");
    if (b[EI_CLASS] != ELFCLASS64)
        return fail(err, err_len, "ELF class %u is not ELFCLASS64", b[EI_CLASS]);
    if (b[EI_DATA] != ELFDATA2LSB)
        return fail(err, err_len, "ELF data encoding %u is not little-endian", b[EI_DATA]);
    if (b[EI_VERSION] != EV_CURRENT)
        return fail(err, err_len, "ELF version %u is not EV_CURRENT", b[EI_VERSION]);
    uint64_t type = rd_le(b + 16, 2), machine = rd_le(b + 18, 2);
    if (machine != EM_RISCV)
        return fail(err, err_len, "ELF machine %llu is not RISC-V (%u)",
                    (unsigned long long)machine, EM_RISCV);
    if (type != ET_EXEC)
        return fail(err, err_len,
                    "ELF type %llu is not an executable (link with ld.lld --emit-relocs)",
                    (unsigned long long)type);
    return 0;
}

static int read_section_table(const uint8_t *b, size_t len, struct rv_elf *elf, char *err,
                              size_t err_len)
{
    uint64_t shoff = rd_le(b + 0x28, 8), shentsize = rd_le(b + 0x3A, 2), shnum = rd_le(b + 0x3C, 2),
             shstrndx = rd_le(b + 0x3E, 2);
    if (shnum == 0)
        return fail(err, err_len, "ELF has no section table");
    if (shentsize != sizeof(Elf64_Shdr))
        return fail(err, err_len, "ELF section header size %llu, expected %zu",
                    (unsigned long long)shentsize, sizeof(Elf64_Shdr));
    if (!in_file(shoff, shnum * shentsize, len))
        return fail(err, err_len,
                    "ELF section table (offset %llu, %llu entries) is outside the file",
                    (unsigned long long)shoff, (unsigned long long)shnum);
    if (shstrndx >= shnum)
        return fail(err, err_len, "ELF section-name table index %llu out of range",
                    (unsigned long long)shstrndx);
    elf->sections = calloc(shnum, sizeof *elf->sections);
    if (elf->sections == NULL)
        return fail(err, err_len, "out of memory");
    elf->section_count = shnum;

    for (uint64_t i = 0; i < shnum; i++) {
        const uint8_t *h = b + shoff + i * shentsize;
        struct rv_elf_section *s = &elf->sections[i];
        s->type = (uint32_t)rd_le(h + 4, 4);
        s->flags = rd_le(h + 8, 8);
        s->addr = rd_le(h + 16, 8);
        uint64_t off = rd_le(h + 24, 8);
        s->size = rd_le(h + 32, 8);
        s->link = (uint32_t)rd_le(h + 40, 4);
        s->info = (uint32_t)rd_le(h + 44, 4);
        s->entsize = rd_le(h + 56, 8);
        if (s->type != SHT_NOBITS && s->type != SHT_NULL) {
            if (!in_file(off, s->size, len))
                return fail(
                    err, err_len, "ELF section %llu (offset %llu, size %llu) is outside the file",
                    (unsigned long long)i, (unsigned long long)off, (unsigned long long)s->size);
            s->data = b + off;
        }
    }
    const struct rv_elf_section *names = &elf->sections[shstrndx];
    if (names->type != SHT_STRTAB || names->data == NULL)
        return fail(err, err_len, "ELF section-name table is not a string table");
    for (uint64_t i = 0; i < shnum; i++) {
        uint64_t name_off = rd_le(b + shoff + i * shentsize, 4);
        elf->sections[i].name = string_at(names->data, names->size, name_off);
        if (elf->sections[i].name == NULL)
            return fail(err, err_len, "ELF section %llu has a bad name offset %llu",
                        (unsigned long long)i, (unsigned long long)name_off);
    }
    return 0;
}

static int check_link_sections(struct rv_elf *elf, char *err, size_t err_len)
{
    for (size_t i = 0; i < elf->section_count; i++) {
        const struct rv_elf_section *s = &elf->sections[i];
        if (s->type == SHT_SYMTAB) {
            if (elf->symtab != 0)
                return fail(err, err_len, "ELF has more than one symbol table");
            if (s->entsize != sizeof(Elf64_Sym) || s->size % sizeof(Elf64_Sym) != 0)
                return fail(err, err_len, "ELF symbol table %s has entry size %llu, size %llu",
                            s->name, (unsigned long long)s->entsize, (unsigned long long)s->size);
            if (s->link == 0 || s->link >= elf->section_count ||
                elf->sections[s->link].type != SHT_STRTAB)
                return fail(err, err_len, "ELF symbol table %s links to a bad string table",
                            s->name);
            elf->symtab = i;
        } else if (s->type == SHT_REL) {
            return fail(err, err_len,
                        "ELF section %s: REL relocations are not supported (RELA expected)",
                        s->name);
        }
    }
    for (size_t i = 0; i < elf->section_count; i++) {
        const struct rv_elf_section *s = &elf->sections[i];
        if (s->type != SHT_RELA)
            continue;
        if (s->entsize != sizeof(Elf64_Rela) || s->size % sizeof(Elf64_Rela) != 0)
            return fail(err, err_len, "ELF relocation section %s has entry size %llu, size %llu",
                        s->name, (unsigned long long)s->entsize, (unsigned long long)s->size);
        if (s->link != elf->symtab || elf->symtab == 0)
            return fail(err, err_len, "ELF relocation section %s does not use the symbol table",
                        s->name);
        if (s->info == 0 || s->info >= elf->section_count)
            return fail(err, err_len, "ELF relocation section %s applies to bad section %u",
                        s->name, s->info);
        size_t n = s->size / sizeof(Elf64_Rela);
        size_t nsym = rv_elf_symbol_count(elf);
        for (size_t j = 0; j < n; j++) {
            struct rv_elf_rela r;
            rv_elf_rela(elf, i, j, &r);
            if (r.symbol >= nsym)
                return fail(err, err_len, "ELF relocation %zu in %s names symbol %u of %zu", j,
                            s->name, r.symbol, nsym);
        }
    }
    return 0;
}

int rv_elf_parse(const uint8_t *bytes, size_t len, struct rv_elf *elf, char *err, size_t err_len)
{
    memset(elf, 0, sizeof *elf);
    if (bytes == NULL)
        return fail(err, err_len, "no input");
    if (check_header(bytes, len, err, err_len) != 0)
        return -1;
    elf->entry = rd_le(bytes + 0x18, 8);
    elf->flags = (uint32_t)rd_le(bytes + 0x30, 4);
    if (read_section_table(bytes, len, elf, err, err_len) != 0 ||
        check_link_sections(elf, err, err_len) != 0) {
        rv_elf_free(elf);
        return -1;
    }
    return 0;
}

void rv_elf_free(struct rv_elf *elf)
{
    free(elf->sections);
    memset(elf, 0, sizeof *elf);
}

size_t rv_elf_symbol_count(const struct rv_elf *elf)
{
    if (elf->symtab == 0)
        return 0;
    return elf->sections[elf->symtab].size / sizeof(Elf64_Sym);
}

int rv_elf_symbol(const struct rv_elf *elf, size_t i, struct rv_elf_symbol *out)
{
    const struct rv_elf_section *st = &elf->sections[elf->symtab];
    const struct rv_elf_section *strs = &elf->sections[st->link];
    const uint8_t *p = st->data + i * sizeof(Elf64_Sym);
    out->name = string_at(strs->data, strs->size, rd_le(p, 4));
    out->type = p[4] & 0xF;
    out->bind = p[4] >> 4;
    out->shndx = (uint16_t)rd_le(p + 6, 2);
    out->value = rd_le(p + 8, 8);
    return out->name == NULL ? -1 : 0;
}

size_t rv_elf_rela_count(const struct rv_elf *elf, size_t s)
{
    return elf->sections[s].size / sizeof(Elf64_Rela);
}

void rv_elf_rela(const struct rv_elf *elf, size_t s, size_t j, struct rv_elf_rela *out)
{
    const uint8_t *p = elf->sections[s].data + j * sizeof(Elf64_Rela);
    uint64_t info = rd_le(p + 8, 8);
    out->offset = rd_le(p, 8);
    out->type = (uint32_t)(info & 0xFFFFFFFFu);
    out->symbol = (uint32_t)(info >> 32);
    out->addend = (int64_t)rd_le(p + 16, 8);
}
