/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Register layout of the NVIDIA Tegra241 CMDQV and the SMMUv3 command
 * fields its engine decodes, shared by sim/cmdqv-hw.c and its tests.
 * Offsets are from the CMDQV MMIO base (A_*) or from the start of a
 * per-queue / per-VINTF block; fields are (shift, length) pairs in the
 * spirit of QEMU's hw/registerfields.h, which sim/ cannot include.
 */
#ifndef SIM_CMDQV_REGS_H
#define SIM_CMDQV_REGS_H

#include <stdint.h>

#define CMDQV_FIELD(reg, fld, shift, len) \
    enum { reg##_##fld##_SHIFT = (shift), reg##_##fld##_LENGTH = (len) }
#define CMDQV_FIELD_MASK(reg, fld) \
    ((~0ULL >> (64 - reg##_##fld##_LENGTH)) << reg##_##fld##_SHIFT)
#define CMDQV_FIELD_MAX(reg, fld) \
    (~0ULL >> (64 - reg##_##fld##_LENGTH))
#define CMDQV_FIELD_EX(reg, fld, v) \
    (((uint64_t)(v) & CMDQV_FIELD_MASK(reg, fld)) >> reg##_##fld##_SHIFT)
#define CMDQV_FIELD_DP(reg, fld, v, val) \
    (((uint64_t)(v) & ~CMDQV_FIELD_MASK(reg, fld)) | \
     (((uint64_t)(val) << reg##_##fld##_SHIFT) & CMDQV_FIELD_MASK(reg, fld)))

/* Layout of the 0x50000-byte window (one VINTF logical page pair fits). */
#define CMDQV_PAGE_SIZE             0x10000u
#define CMDQV_VCMDQ_PAGE0_BASE      0x10000u
#define CMDQV_VCMDQ_PAGE1_BASE      0x20000u
#define CMDQV_VINTF_PAGE_BASE       0x30000u
#define CMDQV_VINTF_PAGE_STRIDE     0x20000u
#define CMDQV_VCMDQ_STRIDE          0x80u

/* Global config page */
#define A_CMDQV_CONFIG              0x0000u
#define A_CMDQV_PARAM               0x0004u
#define A_CMDQV_STATUS              0x0008u
#define A_CMDQV_VINTF_ERR_MAP       0x0014u     /* 64 bits, two words */
#define A_CMDQV_VINTF_INT_MASK      0x001Cu
#define A_CMDQV_CMDQ_ERR_MAP(m)     (0x0024u + 4u * (m))
#define CMDQV_CMDQ_ERR_MAP_WORDS    4
#define A_CMDQV_CMDQ_ALLOC(q)       (0x0200u + 4u * (q))

CMDQV_FIELD(CMDQV_CONFIG, EN, 0, 1);
CMDQV_FIELD(CMDQV_PARAM, VER, 0, 4);
CMDQV_FIELD(CMDQV_PARAM, NUM_VCMDQ_LOG2, 4, 4);
CMDQV_FIELD(CMDQV_PARAM, NUM_VINTF_LOG2, 8, 4);
CMDQV_FIELD(CMDQV_PARAM, NUM_SID_PER_VM_LOG2, 12, 4);
CMDQV_FIELD(CMDQV_STATUS, ENABLED, 0, 1);
CMDQV_FIELD(CMDQ_ALLOC, ALLOCATED, 0, 1);
CMDQV_FIELD(CMDQ_ALLOC, LVCMDQ, 1, 7);
CMDQV_FIELD(CMDQ_ALLOC, VINTF, 15, 6);

/* VINTF(v) config block, v = 0..63 */
#define A_CMDQV_VINTF(v)            (0x1000u + 0x100u * (v))
#define CMDQV_VINTF_STRIDE          0x100u
#define A_VINTF_CONFIG              0x00u
#define A_VINTF_STATUS              0x04u
#define A_VINTF_SID_MATCH(s)        (0x40u + 4u * (s))
#define A_VINTF_SID_REPLACE(s)      (0x80u + 4u * (s))
#define A_VINTF_LVCMDQ_ERR_MAP_64(m) (0xC0u + 8u * (m))
#define VINTF_MAX_SIDS_LOG2         4
#define VINTF_MAX_SIDS              (1u << VINTF_MAX_SIDS_LOG2)

CMDQV_FIELD(VINTF_CONFIG, EN, 0, 1);
CMDQV_FIELD(VINTF_CONFIG, VMID, 1, 16);
CMDQV_FIELD(VINTF_CONFIG, HYP_OWN, 17, 1);
CMDQV_FIELD(VINTF_STATUS, ENABLED, 0, 1);
CMDQV_FIELD(VINTF_SID_MATCH, ENABLE, 0, 1);
CMDQV_FIELD(VINTF_SID_MATCH, VIRT_SID, 1, 20);

/* VCMDQ page0 block (global page0 and VINTF logical page0 alike) */
#define A_VCMDQ_CONS                0x00u
#define A_VCMDQ_PROD                0x04u
#define A_VCMDQ_CONFIG              0x08u
#define A_VCMDQ_STATUS              0x0Cu
#define A_VCMDQ_GERROR              0x10u
#define A_VCMDQ_GERRORN             0x14u

CMDQV_FIELD(VCMDQ_CONS, ERR, 24, 7);
CMDQV_FIELD(VCMDQ_CONFIG, EN, 0, 1);
CMDQV_FIELD(VCMDQ_STATUS, ENABLED, 0, 1);
/* As SMMU_GERROR.CMDQ_ERR; drivers only compare GERROR with GERRORN. */
CMDQV_FIELD(VCMDQ_GERROR, CMDQ_ERR, 0, 1);

/* VCMDQ page1 block: 64-bit registers */
#define A_VCMDQ_BASE                0x00u
#define A_VCMDQ_CONS_INDX_BASE      0x08u

CMDQV_FIELD(VCMDQ_BASE, LOG2SIZE, 0, 5);
CMDQV_FIELD(VCMDQ_BASE, ADDR, 5, 43);

/* CONS.ERR codes, as SMMU_CMDQ_CONS.ERR */
enum {
    VCMDQ_CERROR_NONE = 0,
    VCMDQ_CERROR_ILL = 1,
    VCMDQ_CERROR_ABT = 2,
    VCMDQ_CERROR_ATC_INV_SYNC = 3,
};

/* SMMUv3 commands: 16 bytes, little-endian, fields of the first word */
#define CMDQ_ENT_SIZE_SHIFT         4
#define CMDQ_MAX_LOG2SIZE           19          /* SMMU_IDR1.CMDQS max */

/* Their fields and opcodes are in smmu-defs.h. */

#endif
