/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * NVIDIA Tegra241 CMDQV for the host-accelerated SMMUv3
 * (arm-smmuv3,accel=on,cmdqv=on|auto; hw/arm/tegra241-cmdqv.c).
 *
 * The CMDQV is not a device of its own: it is one more MMIO region and
 * one more IRQ of the SMMU it extends, and plugs into smmuv3-accel.c
 * through SMMUv3AccelImplOps, as Linux's tegra241-cmdqv.c plugs into
 * arm-smmu-v3.c through arm_smmu_impl_ops.
 */
#ifndef HW_ARM_TEGRA241_CMDQV_H
#define HW_ARM_TEGRA241_CMDQV_H

/* The window: config page, VCMDQ page0/page1, VINTF0 page0/page1. */
#define TEGRA241_CMDQV_IO_LEN       0x50000
/* Its sysbus indexes: after the SMMU's MMIO 0 and IRQs 0..3. */
#define TEGRA241_CMDQV_MMIO_INDEX   1
#define TEGRA241_CMDQV_IRQ_INDEX    4
/* ACPI _HID of the DSDT device the Linux driver looks for. */
#define TEGRA241_CMDQV_ACPI_HID     "NVDA200C"
#define TEGRA241_CMDQV_DT_COMPAT    "nvidia,tegra264-cmdqv"
#define TEGRA241_CMDQV_DT_SMMU_COMPAT "nvidia,tegra264-smmu"

/*
 * The CMDQV plugs into the accelerated SMMU through smmuv3-accel.h's
 * extension hooks (it registers its probe at module init); this header
 * holds what the machine's firmware tables need.
 */

#endif
