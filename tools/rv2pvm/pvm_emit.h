/*
 * pvm_emit.h — encoder for PVM instructions (SPEC §8) into a growing code
 * buffer that also records instruction starts (the opcode bitmask) and
 * whether the last instruction ended a basic block. Opcode numbers come from
 * guest/pvm/pvm_opcodes.h.
 *
 * Immediates use the shortest encoding that sign-extends back to the value.
 * Jump and branch offsets are always 4 bytes, so the size of an instruction
 * never depends on where its target ends up: targets are patched afterwards
 * with pvm_emit_patch_offset.
 */
#ifndef NUB_PVM_EMIT_H
#define NUB_PVM_EMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pvm_opcodes.h"

struct pvm_emitter {
    uint8_t *code;
    uint8_t *is_start; /* one flag per code byte: 1 = first byte of an instruction */
    size_t len, cap;
    bool last_was_terminator; /* true when the next instruction starts a basic block */
    bool failed;              /* sticky: allocation failed or an immediate did not fit */
    size_t insn_count;
};

void pvm_emit_init(struct pvm_emitter *e);
void pvm_emit_free(struct pvm_emitter *e);

/* Bytes needed for v as a sign-extended immediate (0..4), or 5 if it needs 64 bits. */
unsigned pvm_imm_len(int64_t v);

/* Each returns the pc of the instruction it emitted. */
uint32_t pvm_emit_none(struct pvm_emitter *e, enum pvm_opcode op);                          /* F0 */
uint32_t pvm_emit_imm(struct pvm_emitter *e, enum pvm_opcode op, int64_t x);                /* F1 */
uint32_t pvm_emit_load_imm_64(struct pvm_emitter *e, unsigned ra, uint64_t x);              /* F2 */
uint32_t pvm_emit_imm_imm(struct pvm_emitter *e, enum pvm_opcode op, int64_t x, int64_t y); /* F3 */
uint32_t pvm_emit_jump(struct pvm_emitter *e, size_t *offset_at);                           /* F4 */
uint32_t pvm_emit_reg_imm(struct pvm_emitter *e, enum pvm_opcode op, unsigned ra,
                          int64_t x); /* F5 */
uint32_t pvm_emit_reg_imm_imm(struct pvm_emitter *e, enum pvm_opcode op, unsigned ra, int64_t x,
                              int64_t y); /* F6 */
uint32_t pvm_emit_reg_imm_offset(struct pvm_emitter *e, enum pvm_opcode op, unsigned ra, int64_t x,
                                 size_t *offset_at); /* F7 */
uint32_t pvm_emit_reg_reg(struct pvm_emitter *e, enum pvm_opcode op, unsigned rd,
                          unsigned ra); /* F8 */
uint32_t pvm_emit_reg_reg_imm(struct pvm_emitter *e, enum pvm_opcode op, unsigned ra, unsigned rb,
                              int64_t x); /* F9 */
uint32_t pvm_emit_reg_reg_offset(struct pvm_emitter *e, enum pvm_opcode op, unsigned ra,
                                 unsigned rb, size_t *offset_at); /* F10 */
uint32_t pvm_emit_reg_reg_imm_imm(struct pvm_emitter *e, enum pvm_opcode op, unsigned ra,
                                  unsigned rb, int64_t x, int64_t y); /* F11 */
uint32_t pvm_emit_reg_reg_reg(struct pvm_emitter *e, enum pvm_opcode op, unsigned ra, unsigned rb,
                              unsigned rd); /* F12 */

/* An operand-less instruction followed by zero bytes, `size` bytes in all (<= 16). */
uint32_t pvm_emit_padded(struct pvm_emitter *e, enum pvm_opcode op, unsigned size);

/* Writes target - insn_pc into the 4-byte offset field at offset_at. */
void pvm_emit_patch_offset(struct pvm_emitter *e, size_t offset_at, uint32_t insn_pc,
                           uint32_t target);

/*
 * Builds the §4 program blob: jump table (entries of the smallest width that
 * holds every entry), code, bitmask. Returns a malloc'ed buffer or NULL.
 */
uint8_t *pvm_build_blob(const struct pvm_emitter *e, const uint32_t *jump_table,
                        size_t jump_table_len, size_t *blob_len);

#endif /* NUB_PVM_EMIT_H */
