/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * An emulated NVIDIA Tegra241 CMDQV on QEMU's emulated SMMUv3
 * (arm-smmuv3,accel=off,cmdqv=on; hw/arm/tegra241-cmdqv-hw.c).
 *
 * This is the hardware as a host kernel sees it: every VINTF and VCMDQ,
 * HYP_OWN writable, SID_MATCH/SID_REPLACE, the LVCMDQ allocation map.
 * Its VCMDQs run on the SMMU's own command execution. Like the
 * accelerated CMDQV (tegra241-cmdqv.h) it is one more MMIO region
 * (TEGRA241_CMDQV_MMIO_INDEX) and IRQ (TEGRA241_CMDQV_IRQ_INDEX) of the
 * SMMU, so the machine describes both the same way.
 */
#ifndef HW_ARM_TEGRA241_CMDQV_HW_H
#define HW_ARM_TEGRA241_CMDQV_HW_H

#include "hw/arm/smmuv3.h"

/* Limits of the register space (PARAM, CMDQ_ALLOC, CMDQ_ERR_MAP). */
#define TEGRA241_CMDQV_HW_MAX_VINTFS    64
#define TEGRA241_CMDQV_HW_MAX_VCMDQS    128
/* Defaults of cmdqv-vintfs and cmdqv-vcmdqs (VCMDQs per VINTF) */
#define TEGRA241_CMDQV_HW_VINTFS        4
#define TEGRA241_CMDQV_HW_VCMDQS        2

/*
 * At the SMMU's realize, after its own MMIO and IRQs: add the CMDQV's
 * window and IRQ. Sized by the SMMU's cmdqv-vintfs and cmdqv-vcmdqs.
 */
bool tegra241_cmdqv_hw_realize(SMMUv3State *s, Error **errp);
/* At the SMMU's reset: every register to its reset value. */
void tegra241_cmdqv_hw_reset(SMMUv3State *s);

#endif
