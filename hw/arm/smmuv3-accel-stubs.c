/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The accelerated SMMUv3's hooks in a build without iommufd (a non-Linux
 * host): accel=on is refused at realize, everything else does nothing.
 */
#include "qemu/osdep.h"
#include "qapi/error.h"
#include "smmuv3-accel.h"
#include "tegra241-cmdqv-hw.h"

bool smmuv3_accel_check_properties(SMMUv3State *s, Error **errp)
{
    if (s->accel || s->iommufd) {
        error_setg(errp, "arm-smmuv3: accel=on and iommufd= need a QEMU "
                   "built with iommufd");
        error_append_hint(errp, "iommufd is Linux's: build QEMU on a Linux "
                          "host, or drop accel=on.\n");
        return false;
    }
    if (s->cmdqv != ON_OFF_AUTO_ON &&
        (s->cmdqv_vintfs != TEGRA241_CMDQV_HW_VINTFS ||
         s->cmdqv_vcmdqs != TEGRA241_CMDQV_HW_VCMDQS)) {
        error_setg(errp, "arm-smmuv3: cmdqv-vintfs and cmdqv-vcmdqs size "
                   "the emulated CMDQV (cmdqv=on)");
        error_append_hint(errp, "Add cmdqv=on, or drop them.\n");
        return false;
    }
    return true;
}

bool smmuv3_accel_realize(SMMUv3State *s, Error **errp)
{
    g_assert_not_reached();
}

void smmuv3_accel_reset(SMMUv3State *s)
{
}

void smmuv3_accel_config_changed(SMMUv3State *s)
{
}

void smmuv3_accel_install_ste(SMMUv3State *s, uint32_t start, uint32_t end)
{
}

bool smmuv3_accel_direct_dma(SMMUState *bs, PCIDevice *pdev)
{
    return false;
}

bool smmuv3_accel_msi_direct_gpa(SMMUState *bs, PCIDevice *pdev, hwaddr *gpa)
{
    return false;
}

bool smmuv3_accel_set_iommu_device(SMMUState *bs, SMMUDevice *sdev,
                                   HostIOMMUDevice *hiod, Error **errp)
{
    return true;
}

void smmuv3_accel_unset_iommu_device(SMMUState *bs, SMMUDevice *sdev)
{
}

int smmuv3_accel_batch_cmd(SMMUv3State *s, const Cmd *cmd, uint32_t cons,
                           uint32_t *fail_cons)
{
    return SMMU_CERROR_NONE;
}

int smmuv3_accel_sync(SMMUv3State *s, uint32_t *fail_cons)
{
    return SMMU_CERROR_NONE;
}
