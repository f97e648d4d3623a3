/*
 * pvmasm_encode.c — SPEC §8 in reverse: operands to bytes.
 */
#include "pvmasm_encode.h"

#include "pvm_program.h"
#include "pvm_util.h"

static bool is_memory_op(uint8_t op)
{
    return (op >= PVM_OP_store_imm_u8 && op <= PVM_OP_store_imm_u64) ||
           (op >= PVM_OP_load_u8 && op <= PVM_OP_store_u64) ||
           (op >= PVM_OP_store_imm_ind_u8 && op <= PVM_OP_store_imm_ind_u64) ||
           (op >= PVM_OP_store_ind_u8 && op <= PVM_OP_load_ind_u64);
}

const char *pvmasm_operand_kinds(uint8_t op)
{
    bool mem = is_memory_op(op);
    switch (pvm_opcode_table[op].format) {
    case PVM_FMT_NONE:
        return "";
    case PVM_FMT_IMM:
        return "I";
    case PVM_FMT_REG_IMM64:
        return "RQ";
    case PVM_FMT_IMM_IMM:
        return "AI";
    case PVM_FMT_OFFSET:
        return "T";
    case PVM_FMT_REG_IMM:
        return mem ? "RA" : "RI";
    case PVM_FMT_REG_IMM_IMM:
        return "RAI";
    case PVM_FMT_REG_IMM_OFFSET:
        return "RIT";
    case PVM_FMT_REG_REG:
        return "RR";
    case PVM_FMT_REG_REG_IMM:
        return mem ? "RRA" : "RRI";
    case PVM_FMT_REG_REG_OFFSET:
        return "RRT";
    case PVM_FMT_REG_REG_IMM_IMM:
        return "RRII";
    case PVM_FMT_REG_REG_REG:
        return "RRR";
    default:
        return "";
    }
}

/* Fewest bytes (0..4) whose sign extension gives v (only the low 32 bits
 * have to match for an address), or -1. The decoder's own sign extension is
 * used, so what is encoded here reads back as v. */
static int imm_len(uint64_t v, bool address)
{
    for (unsigned n = 0; n <= 4; n++) {
        uint64_t back = pvm_sign_extend_bytes(v, n);
        if (back == v || (address && (uint32_t)back == (uint32_t)v))
            return (int)n;
    }
    return -1;
}

static void put_le(uint8_t *buf, int *at, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        buf[(*at)++] = (uint8_t)(v >> (8 * i));
}

int pvmasm_encode_insn(uint8_t op, const uint64_t vals[PVMASM_MAX_OPERANDS], uint32_t pc,
                       uint8_t buf[PVMASM_MAX_INSN_BYTES], const char **why)
{
    const char *kinds = pvmasm_operand_kinds(op);
    int lens[PVMASM_MAX_OPERANDS] = {0};
    uint64_t enc[PVMASM_MAX_OPERANDS] = {0};
    for (int i = 0; kinds[i] != '\0'; i++) {
        switch (kinds[i]) {
        case 'R':
            if (vals[i] > 12) {
                *why = "register out of range";
                return -1;
            }
            enc[i] = vals[i];
            break;
        case 'I':
        case 'A':
            lens[i] = imm_len(vals[i], kinds[i] == 'A');
            if (lens[i] < 0) {
                *why = "immediate does not fit in a sign-extended 32-bit value";
                return -1;
            }
            enc[i] = vals[i];
            break;
        case 'Q':
            lens[i] = 8;
            enc[i] = vals[i];
            break;
        case 'T': {
            uint64_t off = vals[i] - (uint64_t)pc;
            lens[i] = imm_len(off, false);
            if (lens[i] < 0) {
                *why = "jump target too far";
                return -1;
            }
            enc[i] = off;
            break;
        }
        }
    }
    int at = 0;
    buf[at++] = op;
    switch (pvm_opcode_table[op].format) {
    case PVM_FMT_NONE:
        break;
    case PVM_FMT_IMM:
    case PVM_FMT_OFFSET:
        put_le(buf, &at, enc[0], lens[0]);
        break;
    case PVM_FMT_REG_IMM64:
    case PVM_FMT_REG_IMM:
        buf[at++] = (uint8_t)enc[0];
        put_le(buf, &at, enc[1], lens[1]);
        break;
    case PVM_FMT_IMM_IMM:
        buf[at++] = (uint8_t)lens[0];
        put_le(buf, &at, enc[0], lens[0]);
        put_le(buf, &at, enc[1], lens[1]);
        break;
    case PVM_FMT_REG_IMM_IMM:
    case PVM_FMT_REG_IMM_OFFSET:
        buf[at++] = (uint8_t)(enc[0] | (uint64_t)lens[1] << 4);
        put_le(buf, &at, enc[1], lens[1]);
        put_le(buf, &at, enc[2], lens[2]);
        break;
    case PVM_FMT_REG_REG: /* rD, rA: low nibble = rD */
        buf[at++] = (uint8_t)(enc[0] | enc[1] << 4);
        break;
    case PVM_FMT_REG_REG_IMM:
    case PVM_FMT_REG_REG_OFFSET:
        buf[at++] = (uint8_t)(enc[0] | enc[1] << 4);
        put_le(buf, &at, enc[2], lens[2]);
        break;
    case PVM_FMT_REG_REG_IMM_IMM:
        buf[at++] = (uint8_t)(enc[0] | enc[1] << 4);
        buf[at++] = (uint8_t)lens[2];
        put_le(buf, &at, enc[2], lens[2]);
        put_le(buf, &at, enc[3], lens[3]);
        break;
    case PVM_FMT_REG_REG_REG: /* rD, rA, rB: byte1 = rA | rB << 4, byte2 = rD */
        buf[at++] = (uint8_t)(enc[1] | enc[2] << 4);
        buf[at++] = (uint8_t)enc[0];
        break;
    }
    return at;
}
