/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * SMMUv3 architected layouts used by the simulated physical SMMU: ID
 * registers, STE, CD, commands, event records and AArch64 translation
 * table descriptors. Named masks only; read and write them with
 * SIM_FIELD_GET/SIM_FIELD_PREP. Internal to sim/ and its tests.
 */
#ifndef SIM_SMMU_DEFS_H
#define SIM_SMMU_DEFS_H

#include <stdint.h>

#define SIM_BIT(n)              (1ULL << (n))
#define SIM_GENMASK(h, l)       ((~0ULL >> (63 - (h))) & (~0ULL << (l)))
#define SIM_FIELD_GET(mask, v)  (((uint64_t)(v) & (mask)) >> \
                                 __builtin_ctzll(mask))
#define SIM_FIELD_PREP(mask, v) (((uint64_t)(v) << __builtin_ctzll(mask)) & \
                                 (mask))

/* ID registers (32-bit, but kept as 64-bit masks for SIM_FIELD_GET) */
#define SIM_IDR0_S2P            SIM_BIT(0)
#define SIM_IDR0_S1P            SIM_BIT(1)
#define SIM_IDR0_TTF            SIM_GENMASK(3, 2)
#define SIM_IDR0_HTTU           SIM_GENMASK(7, 6)
#define SIM_IDR0_ATS            SIM_BIT(10)
#define SIM_IDR0_ASID16         SIM_BIT(12)
#define SIM_IDR0_VMID16         SIM_BIT(18)
#define SIM_IDR0_CD2L           SIM_BIT(19)
#define SIM_IDR0_TTENDIAN       SIM_GENMASK(22, 21)
#define SIM_IDR0_TTENDIAN_LE    2
#define SIM_IDR0_STALL_MODEL    SIM_GENMASK(25, 24)
#define SIM_IDR0_STALL_NONE     1
#define SIM_IDR0_TERM_MODEL     SIM_BIT(26)
#define SIM_IDR1_SIDSIZE        SIM_GENMASK(5, 0)
#define SIM_IDR1_SSIDSIZE       SIM_GENMASK(10, 6)
#define SIM_IDR1_CMDQS          SIM_GENMASK(25, 21)
#define SIM_IDR3_HAD            SIM_BIT(2)
#define SIM_IDR3_FWB            SIM_BIT(8)
#define SIM_IDR3_STT            SIM_BIT(9)
#define SIM_IDR3_RIL            SIM_BIT(10)
#define SIM_IDR5_OAS            SIM_GENMASK(2, 0)
#define SIM_IDR5_GRAN4K         SIM_BIT(4)
#define SIM_IDR5_GRAN16K        SIM_BIT(5)
#define SIM_IDR5_GRAN64K        SIM_BIT(6)
#define SIM_IDR5_VAX            SIM_GENMASK(11, 10)

/* Stream table entry */
#define SIM_STE0_V              SIM_BIT(0)
#define SIM_STE0_CFG            SIM_GENMASK(3, 1)
#define SIM_STE_CFG_ABORT       0
#define SIM_STE_CFG_BYPASS      4
#define SIM_STE_CFG_S1          5
#define SIM_STE_CFG_S2          6
#define SIM_STE_CFG_NESTED      7
#define SIM_STE0_S1FMT          SIM_GENMASK(5, 4)
#define SIM_STE_S1FMT_LINEAR    0
#define SIM_STE_S1FMT_4K_L2     1
#define SIM_STE_S1FMT_64K_L2    2
#define SIM_STE0_S1CTXPTR       SIM_GENMASK(51, 6)
#define SIM_STE0_S1CDMAX        SIM_GENMASK(63, 59)
#define SIM_STE1_S1DSS          SIM_GENMASK(1, 0)
#define SIM_STE_S1DSS_TERMINATE 0
#define SIM_STE_S1DSS_BYPASS    1
#define SIM_STE_S1DSS_SSID0     2
#define SIM_STE1_S1CIR          SIM_GENMASK(3, 2)
#define SIM_STE1_S1COR          SIM_GENMASK(5, 4)
#define SIM_STE1_S1CSH          SIM_GENMASK(7, 6)
#define SIM_STE1_MEV            SIM_BIT(19)
#define SIM_STE1_S1STALLD       SIM_BIT(27)
#define SIM_STE1_EATS           SIM_GENMASK(29, 28)
#define SIM_STE_EATS_ABT        0
#define SIM_STE_EATS_TRANS      1
#define SIM_STE2_S2VMID         SIM_GENMASK(15, 0)
#define SIM_STE2_S2T0SZ         SIM_GENMASK(37, 32)
#define SIM_STE2_S2SL0          SIM_GENMASK(39, 38)
#define SIM_STE2_S2IR0          SIM_GENMASK(41, 40)
#define SIM_STE2_S2OR0          SIM_GENMASK(43, 42)
#define SIM_STE2_S2SH0          SIM_GENMASK(45, 44)
#define SIM_STE2_S2TG           SIM_GENMASK(47, 46)
#define SIM_STE2_S2PS           SIM_GENMASK(50, 48)
#define SIM_STE2_S2AA64         SIM_BIT(51)
#define SIM_STE2_S2PTW          SIM_BIT(54)
#define SIM_STE2_S2R            SIM_BIT(58)
#define SIM_STE3_S2TTB          SIM_GENMASK(51, 4)

/* The vSTE bits a nested guest may set (arm-smmu-v3-iommufd.c) */
#define SIM_VSTE0_ALLOWED       (SIM_STE0_V | SIM_STE0_CFG | SIM_STE0_S1FMT | \
                                 SIM_STE0_S1CTXPTR | SIM_STE0_S1CDMAX)
#define SIM_VSTE1_ALLOWED       (SIM_STE1_S1DSS | SIM_STE1_S1CIR |          \
                                 SIM_STE1_S1COR | SIM_STE1_S1CSH |          \
                                 SIM_STE1_S1STALLD | SIM_STE1_EATS)

/* Level-1 context descriptor and context descriptor */
#define SIM_L1CD_V              SIM_BIT(0)
#define SIM_L1CD_L2PTR          SIM_GENMASK(51, 12)
#define SIM_CD_BYTES            64
#define SIM_CD0_T0SZ            SIM_GENMASK(5, 0)
#define SIM_CD0_TG0             SIM_GENMASK(7, 6)
#define SIM_CD0_EPD0            SIM_BIT(14)
#define SIM_CD0_ENDI            SIM_BIT(15)
#define SIM_CD0_T1SZ            SIM_GENMASK(21, 16)
#define SIM_CD0_TG1             SIM_GENMASK(23, 22)
#define SIM_CD0_EPD1            SIM_BIT(30)
#define SIM_CD0_V               SIM_BIT(31)
#define SIM_CD0_IPS             SIM_GENMASK(34, 32)
#define SIM_CD0_AFFD            SIM_BIT(35)
#define SIM_CD0_WXN             SIM_BIT(36)
#define SIM_CD0_TBI0            SIM_BIT(38)
#define SIM_CD0_TBI1            SIM_BIT(39)
#define SIM_CD0_AA64            SIM_BIT(41)
#define SIM_CD0_HD              SIM_BIT(42)
#define SIM_CD0_HA              SIM_BIT(43)
#define SIM_CD0_S               SIM_BIT(44)
#define SIM_CD0_R               SIM_BIT(45)
#define SIM_CD0_A               SIM_BIT(46)
#define SIM_CD0_ASID            SIM_GENMASK(63, 48)
#define SIM_CD1_HAD0            SIM_BIT(1)
#define SIM_CD1_TTB0            SIM_GENMASK(51, 4)
#define SIM_CD2_HAD1            SIM_BIT(1)
#define SIM_CD2_TTB1            SIM_GENMASK(51, 4)
/* TG0 and TG1 encode granules differently */
#define SIM_TG0_4K              0
#define SIM_TG0_64K             1
#define SIM_TG0_16K             2
#define SIM_TG1_16K             1
#define SIM_TG1_4K              2
#define SIM_TG1_64K             3

/* AArch64 VMSA descriptors */
#define SIM_PTE_VALID           SIM_BIT(0)
#define SIM_PTE_TABLE           SIM_BIT(1)      /* table at L0-2, page at L3 */
#define SIM_PTE_AP1             SIM_BIT(6)      /* EL0 access */
#define SIM_PTE_AP2             SIM_BIT(7)      /* read-only */
#define SIM_PTE_AF              SIM_BIT(10)
#define SIM_PTE_NG              SIM_BIT(11)
#define SIM_PTE_OA_HI64K        SIM_GENMASK(15, 12) /* OA[51:48], 64K */
#define SIM_PTE_OA              SIM_GENMASK(47, 12)
#define SIM_PTE_DBM             SIM_BIT(51)
#define SIM_PTE_PXN             SIM_BIT(53)
#define SIM_PTE_UXN             SIM_BIT(54)
#define SIM_PTE_PXNTABLE        SIM_BIT(59)
#define SIM_PTE_UXNTABLE        SIM_BIT(60)
#define SIM_PTE_APTABLE0        SIM_BIT(61)     /* no EL0 access below */
#define SIM_PTE_APTABLE1        SIM_BIT(62)     /* no write below */

/* Commands */
#define SIM_CMD0_OP             SIM_GENMASK(7, 0)
#define SIM_CMD_PREFETCH_CFG    0x01
#define SIM_CMD_PREFETCH_ADDR   0x02
#define SIM_CMD_CFGI_STE        0x03
#define SIM_CMD_CFGI_STE_RANGE  0x04    /* CFGI_ALL is Range = 31 */
#define SIM_CMD_CFGI_CD         0x05
#define SIM_CMD_CFGI_CD_ALL     0x06
#define SIM_CMD_TLBI_NH_ALL     0x10
#define SIM_CMD_TLBI_NH_ASID    0x11
#define SIM_CMD_TLBI_NH_VA      0x12
#define SIM_CMD_TLBI_NH_VAA     0x13
#define SIM_CMD_TLBI_EL2_ALL    0x20
#define SIM_CMD_TLBI_EL2_ASID   0x21
#define SIM_CMD_TLBI_EL2_VA     0x22
#define SIM_CMD_TLBI_S12_VMALL  0x28
#define SIM_CMD_TLBI_S2_IPA     0x2a
#define SIM_CMD_TLBI_NSNH_ALL   0x30
#define SIM_CMD_ATC_INV         0x40
#define SIM_CMD_PRI_RESP        0x41
#define SIM_CMD_RESUME          0x44
#define SIM_CMD_STALL_TERM      0x45
#define SIM_CMD_SYNC            0x46
#define SIM_CMD0_SSID           SIM_GENMASK(31, 12)
#define SIM_CMD0_SYNC_CS        SIM_GENMASK(13, 12)
#define SIM_CMD0_SID            SIM_GENMASK(63, 32)
#define SIM_CMD1_LEAF           SIM_BIT(0)
#define SIM_CMD1_RANGE          SIM_GENMASK(4, 0)
#define SIM_CMD0_TLBI_NUM       SIM_GENMASK(16, 12)
#define SIM_CMD0_TLBI_SCALE     SIM_GENMASK(24, 20)
#define SIM_CMD0_TLBI_VMID      SIM_GENMASK(47, 32)
#define SIM_CMD0_TLBI_ASID      SIM_GENMASK(63, 48)
#define SIM_CMD1_TLBI_TTL       SIM_GENMASK(9, 8)
#define SIM_CMD1_TLBI_TG        SIM_GENMASK(11, 10)
#define SIM_CMD1_TLBI_VA        SIM_GENMASK(63, 12)
#define SIM_CMD1_TLBI_IPA       SIM_GENMASK(51, 12)

/* Event records */
#define SIM_EVT_C_BAD_STREAMID  0x02
#define SIM_EVT_C_BAD_STE       0x04
#define SIM_EVT_F_STREAM_DISABLED 0x06
#define SIM_EVT_C_BAD_SUBSTREAMID 0x08
#define SIM_EVT_C_BAD_CD        0x0a
#define SIM_EVT_F_TRANSLATION   0x10
#define SIM_EVT_F_ADDR_SIZE     0x11
#define SIM_EVT_F_ACCESS        0x12
#define SIM_EVT_F_PERMISSION    0x13
#define SIM_EVT0_ID             SIM_GENMASK(7, 0)
#define SIM_EVT0_SSV            SIM_BIT(11)
#define SIM_EVT0_SSID           SIM_GENMASK(31, 12)
#define SIM_EVT0_SID            SIM_GENMASK(63, 32)
#define SIM_EVT1_STALL          SIM_BIT(31)
#define SIM_EVT1_PNU            SIM_BIT(33)
#define SIM_EVT1_IND            SIM_BIT(34)
#define SIM_EVT1_RNW            SIM_BIT(35)
#define SIM_EVT1_S2             SIM_BIT(39)
#define SIM_EVT1_CLASS          SIM_GENMASK(41, 40)
#define SIM_EVT_CLASS_CD        0
#define SIM_EVT_CLASS_TT        1
#define SIM_EVT_CLASS_IN        2
#define SIM_EVT3_IPA            SIM_GENMASK(51, 3)

#endif
