/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * NVIDIA Tegra241 CMDQV register layout, shared by the CMDQV of the
 * accelerated SMMUv3 (tegra241-cmdqv.c, the guest's view) and the
 * emulated one (tegra241-cmdqv-hw.c, the host's view). Offsets are from
 * the CMDQV window (global registers), from a VINTF block (VINTF_*),
 * or from a VCMDQ's page0/page1 block (VCMDQ_*).
 */
#ifndef HW_ARM_TEGRA241_CMDQV_REGS_H
#define HW_ARM_TEGRA241_CMDQV_REGS_H

#include "hw/registerfields.h"

/* Global config page */
REG32(CMDQV_CONFIG, 0x0)
    FIELD(CMDQV_CONFIG, CMDQV_EN, 0, 1)
REG32(CMDQV_PARAM, 0x4)
    FIELD(CMDQV_PARAM, VER, 0, 4)
    FIELD(CMDQV_PARAM, NUM_VCMDQ_LOG2, 4, 4)
    FIELD(CMDQV_PARAM, NUM_VINTF_LOG2, 8, 4)
    FIELD(CMDQV_PARAM, NUM_SID_PER_VM_LOG2, 12, 4)
REG32(CMDQV_STATUS, 0x8)
    FIELD(CMDQV_STATUS, CMDQV_ENABLED, 0, 1)
REG32(CMDQV_VINTF_ERR_MAP, 0x14)
REG32(CMDQV_VINTF_ERR_MAP_HI, 0x18)
REG32(CMDQV_VINTF_INT_MASK, 0x1c)
REG32(CMDQV_VINTF_INT_MASK_HI, 0x20)
REG32(CMDQV_CMDQ_ERR_MAP, 0x24)             /* 4 words */
REG32(CMDQV_CMDQ_ALLOC, 0x200)              /* one per VCMDQ */
    FIELD(CMDQV_CMDQ_ALLOC, ALLOCATED, 0, 1)
    FIELD(CMDQV_CMDQ_ALLOC, LVCMDQ, 1, 7)
    FIELD(CMDQV_CMDQ_ALLOC, VINTF, 15, 6)

/* VINTF(v) registers, at CMDQV_VINTF_BASE + CMDQV_VINTF_STRIDE * v */
#define CMDQV_VINTF_BASE        0x1000
#define CMDQV_VINTF_STRIDE      0x100
REG32(VINTF_CONFIG, 0x0)
    FIELD(VINTF_CONFIG, ENABLE, 0, 1)
    FIELD(VINTF_CONFIG, VMID, 1, 16)
    FIELD(VINTF_CONFIG, HYP_OWN, 17, 1)
REG32(VINTF_STATUS, 0x4)
    FIELD(VINTF_STATUS, ENABLED, 0, 1)
REG32(VINTF_SID_MATCH, 0x40)                /* one per SID slot */
    FIELD(VINTF_SID_MATCH, ENABLE, 0, 1)
    FIELD(VINTF_SID_MATCH, VIRT_SID, 1, 20)
REG32(VINTF_SID_REPLACE, 0x80)              /* one per SID slot */
REG32(VINTF_LVCMDQ_ERR_MAP, 0xc0)           /* 128 bits, 4 words */

/* Page0 of a VCMDQ, every CMDQV_VCMDQ_STRIDE bytes */
REG32(VCMDQ_CONS, 0x0)
    FIELD(VCMDQ_CONS, ERR, 24, 7)
REG32(VCMDQ_PROD, 0x4)
REG32(VCMDQ_CONFIG, 0x8)
    FIELD(VCMDQ_CONFIG, CMDQ_EN, 0, 1)
REG32(VCMDQ_STATUS, 0xc)
    FIELD(VCMDQ_STATUS, CMDQ_ENABLED, 0, 1)
REG32(VCMDQ_GERROR, 0x10)
    FIELD(VCMDQ_GERROR, CMDQ_ERR, 0, 1)
REG32(VCMDQ_GERRORN, 0x14)

/* Page1 of a VCMDQ: two 64-bit registers */
REG64(VCMDQ_BASE, 0x0)
    FIELD(VCMDQ_BASE, LOG2SIZE, 0, 5)
    FIELD(VCMDQ_BASE, ADDR, 5, 43)
REG64(VCMDQ_CONS_INDX_BASE, 0x8)

#define CMDQV_PAGE_SIZE         0x10000
#define CMDQV_VCMDQ_STRIDE      0x80
#define CMDQV_CMD_SHIFT         4           /* 16-byte commands */

/* CONS.ERR codes, as SMMU_CMDQ_CONS.ERR */
#define VCMDQ_CERROR_ILL        1
#define VCMDQ_CERROR_ABT        2

#endif
