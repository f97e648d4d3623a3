/*
 * rv_elf.h — a checked reader for the static RISC-V ELF64 executables that
 * ld.lld --emit-relocs produces. Every offset and size taken from the file is
 * checked against the file length before it is used; a malformed file is
 * rejected with a message, never read out of bounds.
 */
#ifndef NUB_RV_ELF_H
#define NUB_RV_ELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rv_elf_section {
    const char *name; /* NUL-terminated inside the file's section-name table */
    uint32_t type;    /* SHT_* */
    uint64_t flags;   /* SHF_* */
    uint64_t addr;
    uint64_t size;
    uint32_t link, info;
    uint64_t entsize;
    const uint8_t *data; /* size bytes inside the file; NULL for SHT_NOBITS */
};

struct rv_elf {
    uint64_t entry;
    uint32_t flags; /* e_flags: EF_RISCV_* */
    size_t section_count;
    struct rv_elf_section *sections;
    size_t symtab; /* index of the SHT_SYMTAB section, 0 if none */
};

struct rv_elf_symbol {
    const char *name; /* "" when unnamed */
    uint64_t value;
    uint16_t shndx;
    uint8_t type, bind;
};

struct rv_elf_rela {
    uint64_t offset; /* address (executables: r_offset is a virtual address) */
    uint32_t type;
    uint32_t symbol;
    int64_t addend;
};

/*
 * Parses and validates the file (header, section table, names, symbol and
 * relocation section geometry). On success fills *elf (free with
 * rv_elf_free) and returns 0; on failure writes a message to err and
 * returns -1. bytes must outlive *elf.
 */
int rv_elf_parse(const uint8_t *bytes, size_t len, struct rv_elf *elf, char *err, size_t err_len);
void rv_elf_free(struct rv_elf *elf);

/* Number of symbols in the symbol table (0 when there is none). */
size_t rv_elf_symbol_count(const struct rv_elf *elf);
/* Symbol i (i < rv_elf_symbol_count); -1 if its name offset is bad. */
int rv_elf_symbol(const struct rv_elf *elf, size_t i, struct rv_elf_symbol *out);

/* Relocation j of RELA section s (geometry was checked by rv_elf_parse). */
size_t rv_elf_rela_count(const struct rv_elf *elf, size_t s);
void rv_elf_rela(const struct rv_elf *elf, size_t s, size_t j, struct rv_elf_rela *out);

#endif /* NUB_RV_ELF_H */
