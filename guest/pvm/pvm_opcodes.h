/*
 * pvm_opcodes.h — the PVM instruction set as one table (SPEC §9).
 *
 * PVM_OPCODE_LIST(X) calls X(number, name, format, is_terminator, gas) once
 * per defined opcode (139 of them, SPEC §9.14). Everything that needs opcode
 * numbers, names, formats or gas costs (enum pvm_opcode, the opcode info
 * table, the assembler, the JIT) is generated from this list.
 *
 * These numbers are the project's INTERNAL opcodes: GP v0.7.2's numbering
 * (so 0.7.2 code needs no translation), plus PVM_OPCODE_LIST_EXTRA for
 * instructions 0.7.2 lacks (GP 0.8.0's `unlikely`, at a number 0.7.2 leaves
 * undefined). Which code byte means which internal opcode is a property of
 * the ISA version: pvm_isa.c holds one 256-entry table per version.
 *
 * Formats are named after their operands (SPEC §8, F0-F12).
 * Terminators are SPEC §6.1's set T. The gas column is GP v0.7.2's cost
 * (1 per instruction, §7); GP 0.8.0 prices whole blocks (pvm_gas.h).
 */
#ifndef NUB_PVM_OPCODES_H
#define NUB_PVM_OPCODES_H

enum pvm_format {
    PVM_FMT_NONE = 0,             /* F0 */
    PVM_FMT_IMM = 1,              /* F1 */
    PVM_FMT_REG_IMM64 = 2,        /* F2 */
    PVM_FMT_IMM_IMM = 3,          /* F3 */
    PVM_FMT_OFFSET = 4,           /* F4 */
    PVM_FMT_REG_IMM = 5,          /* F5 */
    PVM_FMT_REG_IMM_IMM = 6,      /* F6 */
    PVM_FMT_REG_IMM_OFFSET = 7,   /* F7 */
    PVM_FMT_REG_REG = 8,          /* F8 */
    PVM_FMT_REG_REG_IMM = 9,      /* F9 */
    PVM_FMT_REG_REG_OFFSET = 10,  /* F10 */
    PVM_FMT_REG_REG_IMM_IMM = 11, /* F11 */
    PVM_FMT_REG_REG_REG = 12,     /* F12 */
};

/* clang-format off */
#define PVM_OPCODE_LIST(X) \
    X(0,   trap,                  PVM_FMT_NONE,            1, 1) \
    X(1,   fallthrough,           PVM_FMT_NONE,            1, 1) \
    X(10,  ecalli,                PVM_FMT_IMM,             0, 1) \
    X(20,  load_imm_64,           PVM_FMT_REG_IMM64,       0, 1) \
    X(30,  store_imm_u8,          PVM_FMT_IMM_IMM,         0, 1) \
    X(31,  store_imm_u16,         PVM_FMT_IMM_IMM,         0, 1) \
    X(32,  store_imm_u32,         PVM_FMT_IMM_IMM,         0, 1) \
    X(33,  store_imm_u64,         PVM_FMT_IMM_IMM,         0, 1) \
    X(40,  jump,                  PVM_FMT_OFFSET,          1, 1) \
    X(50,  jump_ind,              PVM_FMT_REG_IMM,         1, 1) \
    X(51,  load_imm,              PVM_FMT_REG_IMM,         0, 1) \
    X(52,  load_u8,               PVM_FMT_REG_IMM,         0, 1) \
    X(53,  load_i8,               PVM_FMT_REG_IMM,         0, 1) \
    X(54,  load_u16,              PVM_FMT_REG_IMM,         0, 1) \
    X(55,  load_i16,              PVM_FMT_REG_IMM,         0, 1) \
    X(56,  load_u32,              PVM_FMT_REG_IMM,         0, 1) \
    X(57,  load_i32,              PVM_FMT_REG_IMM,         0, 1) \
    X(58,  load_u64,              PVM_FMT_REG_IMM,         0, 1) \
    X(59,  store_u8,              PVM_FMT_REG_IMM,         0, 1) \
    X(60,  store_u16,             PVM_FMT_REG_IMM,         0, 1) \
    X(61,  store_u32,             PVM_FMT_REG_IMM,         0, 1) \
    X(62,  store_u64,             PVM_FMT_REG_IMM,         0, 1) \
    X(70,  store_imm_ind_u8,      PVM_FMT_REG_IMM_IMM,     0, 1) \
    X(71,  store_imm_ind_u16,     PVM_FMT_REG_IMM_IMM,     0, 1) \
    X(72,  store_imm_ind_u32,     PVM_FMT_REG_IMM_IMM,     0, 1) \
    X(73,  store_imm_ind_u64,     PVM_FMT_REG_IMM_IMM,     0, 1) \
    X(80,  load_imm_jump,         PVM_FMT_REG_IMM_OFFSET,  1, 1) \
    X(81,  branch_eq_imm,         PVM_FMT_REG_IMM_OFFSET,  1, 1) \
    X(82,  branch_ne_imm,         PVM_FMT_REG_IMM_OFFSET,  1, 1) \
    X(83,  branch_lt_u_imm,       PVM_FMT_REG_IMM_OFFSET,  1, 1) \
    X(84,  branch_le_u_imm,       PVM_FMT_REG_IMM_OFFSET,  1, 1) \
    X(85,  branch_ge_u_imm,       PVM_FMT_REG_IMM_OFFSET,  1, 1) \
    X(86,  branch_gt_u_imm,       PVM_FMT_REG_IMM_OFFSET,  1, 1) \
    X(87,  branch_lt_s_imm,       PVM_FMT_REG_IMM_OFFSET,  1, 1) \
    X(88,  branch_le_s_imm,       PVM_FMT_REG_IMM_OFFSET,  1, 1) \
    X(89,  branch_ge_s_imm,       PVM_FMT_REG_IMM_OFFSET,  1, 1) \
    X(90,  branch_gt_s_imm,       PVM_FMT_REG_IMM_OFFSET,  1, 1) \
    X(100, move_reg,              PVM_FMT_REG_REG,         0, 1) \
    X(101, sbrk,                  PVM_FMT_REG_REG,         0, 1) \
    X(102, count_set_bits_64,     PVM_FMT_REG_REG,         0, 1) \
    X(103, count_set_bits_32,     PVM_FMT_REG_REG,         0, 1) \
    X(104, leading_zero_bits_64,  PVM_FMT_REG_REG,         0, 1) \
    X(105, leading_zero_bits_32,  PVM_FMT_REG_REG,         0, 1) \
    X(106, trailing_zero_bits_64, PVM_FMT_REG_REG,         0, 1) \
    X(107, trailing_zero_bits_32, PVM_FMT_REG_REG,         0, 1) \
    X(108, sign_extend_8,         PVM_FMT_REG_REG,         0, 1) \
    X(109, sign_extend_16,        PVM_FMT_REG_REG,         0, 1) \
    X(110, zero_extend_16,        PVM_FMT_REG_REG,         0, 1) \
    X(111, reverse_bytes,         PVM_FMT_REG_REG,         0, 1) \
    X(120, store_ind_u8,          PVM_FMT_REG_REG_IMM,     0, 1) \
    X(121, store_ind_u16,         PVM_FMT_REG_REG_IMM,     0, 1) \
    X(122, store_ind_u32,         PVM_FMT_REG_REG_IMM,     0, 1) \
    X(123, store_ind_u64,         PVM_FMT_REG_REG_IMM,     0, 1) \
    X(124, load_ind_u8,           PVM_FMT_REG_REG_IMM,     0, 1) \
    X(125, load_ind_i8,           PVM_FMT_REG_REG_IMM,     0, 1) \
    X(126, load_ind_u16,          PVM_FMT_REG_REG_IMM,     0, 1) \
    X(127, load_ind_i16,          PVM_FMT_REG_REG_IMM,     0, 1) \
    X(128, load_ind_u32,          PVM_FMT_REG_REG_IMM,     0, 1) \
    X(129, load_ind_i32,          PVM_FMT_REG_REG_IMM,     0, 1) \
    X(130, load_ind_u64,          PVM_FMT_REG_REG_IMM,     0, 1) \
    X(131, add_imm_32,            PVM_FMT_REG_REG_IMM,     0, 1) \
    X(132, and_imm,               PVM_FMT_REG_REG_IMM,     0, 1) \
    X(133, xor_imm,               PVM_FMT_REG_REG_IMM,     0, 1) \
    X(134, or_imm,                PVM_FMT_REG_REG_IMM,     0, 1) \
    X(135, mul_imm_32,            PVM_FMT_REG_REG_IMM,     0, 1) \
    X(136, set_lt_u_imm,          PVM_FMT_REG_REG_IMM,     0, 1) \
    X(137, set_lt_s_imm,          PVM_FMT_REG_REG_IMM,     0, 1) \
    X(138, shlo_l_imm_32,         PVM_FMT_REG_REG_IMM,     0, 1) \
    X(139, shlo_r_imm_32,         PVM_FMT_REG_REG_IMM,     0, 1) \
    X(140, shar_r_imm_32,         PVM_FMT_REG_REG_IMM,     0, 1) \
    X(141, neg_add_imm_32,        PVM_FMT_REG_REG_IMM,     0, 1) \
    X(142, set_gt_u_imm,          PVM_FMT_REG_REG_IMM,     0, 1) \
    X(143, set_gt_s_imm,          PVM_FMT_REG_REG_IMM,     0, 1) \
    X(144, shlo_l_imm_alt_32,     PVM_FMT_REG_REG_IMM,     0, 1) \
    X(145, shlo_r_imm_alt_32,     PVM_FMT_REG_REG_IMM,     0, 1) \
    X(146, shar_r_imm_alt_32,     PVM_FMT_REG_REG_IMM,     0, 1) \
    X(147, cmov_iz_imm,           PVM_FMT_REG_REG_IMM,     0, 1) \
    X(148, cmov_nz_imm,           PVM_FMT_REG_REG_IMM,     0, 1) \
    X(149, add_imm_64,            PVM_FMT_REG_REG_IMM,     0, 1) \
    X(150, mul_imm_64,            PVM_FMT_REG_REG_IMM,     0, 1) \
    X(151, shlo_l_imm_64,         PVM_FMT_REG_REG_IMM,     0, 1) \
    X(152, shlo_r_imm_64,         PVM_FMT_REG_REG_IMM,     0, 1) \
    X(153, shar_r_imm_64,         PVM_FMT_REG_REG_IMM,     0, 1) \
    X(154, neg_add_imm_64,        PVM_FMT_REG_REG_IMM,     0, 1) \
    X(155, shlo_l_imm_alt_64,     PVM_FMT_REG_REG_IMM,     0, 1) \
    X(156, shlo_r_imm_alt_64,     PVM_FMT_REG_REG_IMM,     0, 1) \
    X(157, shar_r_imm_alt_64,     PVM_FMT_REG_REG_IMM,     0, 1) \
    X(158, rot_r_64_imm,          PVM_FMT_REG_REG_IMM,     0, 1) \
    X(159, rot_r_64_imm_alt,      PVM_FMT_REG_REG_IMM,     0, 1) \
    X(160, rot_r_32_imm,          PVM_FMT_REG_REG_IMM,     0, 1) \
    X(161, rot_r_32_imm_alt,      PVM_FMT_REG_REG_IMM,     0, 1) \
    X(170, branch_eq,             PVM_FMT_REG_REG_OFFSET,  1, 1) \
    X(171, branch_ne,             PVM_FMT_REG_REG_OFFSET,  1, 1) \
    X(172, branch_lt_u,           PVM_FMT_REG_REG_OFFSET,  1, 1) \
    X(173, branch_lt_s,           PVM_FMT_REG_REG_OFFSET,  1, 1) \
    X(174, branch_ge_u,           PVM_FMT_REG_REG_OFFSET,  1, 1) \
    X(175, branch_ge_s,           PVM_FMT_REG_REG_OFFSET,  1, 1) \
    X(180, load_imm_jump_ind,     PVM_FMT_REG_REG_IMM_IMM, 1, 1) \
    X(190, add_32,                PVM_FMT_REG_REG_REG,     0, 1) \
    X(191, sub_32,                PVM_FMT_REG_REG_REG,     0, 1) \
    X(192, mul_32,                PVM_FMT_REG_REG_REG,     0, 1) \
    X(193, div_u_32,              PVM_FMT_REG_REG_REG,     0, 1) \
    X(194, div_s_32,              PVM_FMT_REG_REG_REG,     0, 1) \
    X(195, rem_u_32,              PVM_FMT_REG_REG_REG,     0, 1) \
    X(196, rem_s_32,              PVM_FMT_REG_REG_REG,     0, 1) \
    X(197, shlo_l_32,             PVM_FMT_REG_REG_REG,     0, 1) \
    X(198, shlo_r_32,             PVM_FMT_REG_REG_REG,     0, 1) \
    X(199, shar_r_32,             PVM_FMT_REG_REG_REG,     0, 1) \
    X(200, add_64,                PVM_FMT_REG_REG_REG,     0, 1) \
    X(201, sub_64,                PVM_FMT_REG_REG_REG,     0, 1) \
    X(202, mul_64,                PVM_FMT_REG_REG_REG,     0, 1) \
    X(203, div_u_64,              PVM_FMT_REG_REG_REG,     0, 1) \
    X(204, div_s_64,              PVM_FMT_REG_REG_REG,     0, 1) \
    X(205, rem_u_64,              PVM_FMT_REG_REG_REG,     0, 1) \
    X(206, rem_s_64,              PVM_FMT_REG_REG_REG,     0, 1) \
    X(207, shlo_l_64,             PVM_FMT_REG_REG_REG,     0, 1) \
    X(208, shlo_r_64,             PVM_FMT_REG_REG_REG,     0, 1) \
    X(209, shar_r_64,             PVM_FMT_REG_REG_REG,     0, 1) \
    X(210, and,                   PVM_FMT_REG_REG_REG,     0, 1) \
    X(211, xor,                   PVM_FMT_REG_REG_REG,     0, 1) \
    X(212, or,                    PVM_FMT_REG_REG_REG,     0, 1) \
    X(213, mul_upper_s_s,         PVM_FMT_REG_REG_REG,     0, 1) \
    X(214, mul_upper_u_u,         PVM_FMT_REG_REG_REG,     0, 1) \
    X(215, mul_upper_s_u,         PVM_FMT_REG_REG_REG,     0, 1) \
    X(216, set_lt_u,              PVM_FMT_REG_REG_REG,     0, 1) \
    X(217, set_lt_s,              PVM_FMT_REG_REG_REG,     0, 1) \
    X(218, cmov_iz,               PVM_FMT_REG_REG_REG,     0, 1) \
    X(219, cmov_nz,               PVM_FMT_REG_REG_REG,     0, 1) \
    X(220, rot_l_64,              PVM_FMT_REG_REG_REG,     0, 1) \
    X(221, rot_l_32,              PVM_FMT_REG_REG_REG,     0, 1) \
    X(222, rot_r_64,              PVM_FMT_REG_REG_REG,     0, 1) \
    X(223, rot_r_32,              PVM_FMT_REG_REG_REG,     0, 1) \
    X(224, and_inv,               PVM_FMT_REG_REG_REG,     0, 1) \
    X(225, or_inv,                PVM_FMT_REG_REG_REG,     0, 1) \
    X(226, xnor,                  PVM_FMT_REG_REG_REG,     0, 1) \
    X(227, max,                   PVM_FMT_REG_REG_REG,     0, 1) \
    X(228, max_u,                 PVM_FMT_REG_REG_REG,     0, 1) \
    X(229, min,                   PVM_FMT_REG_REG_REG,     0, 1) \
    X(230, min_u,                 PVM_FMT_REG_REG_REG,     0, 1)

/* Internal opcodes that are not GP v0.7.2 instructions (same columns). */
#define PVM_OPCODE_LIST_EXTRA(X) \
    X(2,   unlikely,              PVM_FMT_NONE,            0, 1)
/* clang-format on */

/* PVM_OP_trap = 0, PVM_OP_add_64 = 200, ... (lower-case names as in SPEC §9). */
enum pvm_opcode {
#define PVM_OPCODE_ENUM_ENTRY(num, name, fmt, term, gas) PVM_OP_##name = num,
    PVM_OPCODE_LIST(PVM_OPCODE_ENUM_ENTRY) PVM_OPCODE_LIST_EXTRA(PVM_OPCODE_ENUM_ENTRY)
#undef PVM_OPCODE_ENUM_ENTRY
};

#define PVM_DEFINED_OPCODE_COUNT 139 /* per ISA version (0.7.2 and 0.8.0 alike) */

/* No instruction: an ISA table's entry for a code byte outside its valid set U. */
#define PVM_OPCODE_INVALID 0xFFu

#endif /* NUB_PVM_OPCODES_H */
