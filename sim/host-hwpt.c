/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * iommufd-sim: HW pagetables. Paging HWPTs are stage-2 domains over an
 * IOAS with a VMID of their SMMU; nested HWPTs carry a validated guest
 * vSTE above a NEST_PARENT paging HWPT (through a vIOMMU, or, when the
 * host models a driver with domain_alloc_nested, directly).
 */
#include <errno.h>

#include "sim-internal.h"


static bool sim_host_nesting(IommufdSim *sim)
{
    return (sim->idr[0] & (SIM_IDR0_S1P | SIM_IDR0_S2P)) ==
           (SIM_IDR0_S1P | SIM_IDR0_S2P);
}

static int sim_vmid_alloc(IommufdSim *sim, SimHostSmmu *hs, uint16_t *vmid)
{
    unsigned max = sim->idr[0] & SIM_IDR0_VMID16 ? 0xffff : 0xff;
    unsigned v;

    for (v = 1; v <= max; v++) {
        if (!(hs->vmid_map[v / 64] & (1ull << (v % 64)))) {
            hs->vmid_map[v / 64] |= 1ull << (v % 64);
            *vmid = v;
            return 0;
        }
    }
    return -ENOSPC;
}

static void sim_vmid_free(SimHostSmmu *hs, uint16_t vmid)
{
    hs->vmid_map[vmid / 64] &= ~(1ull << (vmid % 64));
}

/* TLBI_S12_VMALL for the VMID of a paging HWPT (unmap, free). */
void sim_hwpt_flush_vmid(SimHwpt *hwpt)
{
    uint64_t cmd[2] = {
        SIM_CMD_TLBI_S12_VMALL | SIM_FIELD_PREP(SIM_CMD0_TLBI_VMID, hwpt->vmid),
        0,
    };

    sim_smmu_exec(hwpt->smmu->hw, cmd);
}

/*
 * arm-smmu-v3 gives a plain paging domain stage 1 (input size 48 bits, a
 * host kernel with 48-bit VAs as Debian's) and a nesting parent stage 2
 * (input size = the SMMU's OAS); iopt_table_add_domain() then reserves
 * everything above the aperture, which existing mappings must not cross.
 */
int sim_hwpt_paging_new(IommufdSim *sim, SimIoas *ioas, SimHostSmmu *smmu,
                        bool nest_parent, bool auto_domain, SimHwpt **out)
{
    uint64_t aperture_last = nest_parent ? (1ull << sim->ias_bits) - 1 :
                             (1ull << 48) - 1;
    SimHwpt *hwpt;
    int rc;

    rc = sim_ioas_domain_fits(ioas, aperture_last);
    if (rc) {
        return rc;
    }
    hwpt = g_new0(SimHwpt, 1);
    if (sim_vmid_alloc(sim, smmu, &hwpt->vmid)) {
        g_free(hwpt);
        return -ENOSPC;
    }
    hwpt->aperture_last = aperture_last;
    hwpt->smmu = smmu;
    hwpt->ioas = ioas;
    hwpt->nest_parent = nest_parent;
    hwpt->auto_domain = auto_domain;
    ioas->obj.users++;
    ioas->hwpts = g_list_append(ioas->hwpts, hwpt);
    sim_obj_insert(sim, &hwpt->obj, &sim_hwpt_paging_ops);
    *out = hwpt;
    return 0;
}

static void sim_hwpt_destroy(IommufdSim *sim, SimObj *obj)
{
    SimHwpt *hwpt = (SimHwpt *)obj;

    g_assert(!hwpt->ndevs);
    if (hwpt->obj.type == SIM_OBJ_HWPT_PAGING) {
        hwpt->ioas->hwpts = g_list_remove(hwpt->ioas->hwpts, hwpt);
        hwpt->ioas->obj.users--;
        sim_hwpt_flush_vmid(hwpt);
        sim_vmid_free(hwpt->smmu, hwpt->vmid);
    } else if (hwpt->viommu) {
        hwpt->viommu->obj.users--;
    } else {
        hwpt->parent->obj.users--;
    }
}

const SimObjOps sim_hwpt_paging_ops = {
    .type = SIM_OBJ_HWPT_PAGING,
    .name = "hwpt_paging",
    .destroy = sim_hwpt_destroy,
};

const SimObjOps sim_hwpt_nested_ops = {
    .type = SIM_OBJ_HWPT_NESTED,
    .name = "hwpt_nested",
    .destroy = sim_hwpt_destroy,
};

/* The physical STE of a device attached to @hwpt, and its stage 2. */
void sim_hwpt_make_ste(SimHwpt *hwpt, SimPhysSte *ste, SimS2 *s2)
{
    SimHwpt *s2pt = hwpt->obj.type == SIM_OBJ_HWPT_PAGING ? hwpt
                                                          : hwpt->parent;
    IommufdSim *sim = hwpt->smmu->sim;

    s2->lookup = sim_ioas_s2_lookup;
    s2->opaque = s2pt->ioas;
    s2->ias_bits = sim->ias_bits;
    if (hwpt->obj.type == SIM_OBJ_HWPT_PAGING) {
        sim_ste_s2(ste, hwpt->vmid, sim->ias_bits);
    } else {
        sim_ste_nested(ste, hwpt->vste, s2pt->vmid, sim->ias_bits);
    }
}

/* The ARM_SMMUV3 driver data: exactly one struct iommu_hwpt_arm_smmuv3. */
static int sim_hwpt_copy_vste(const struct iommu_hwpt_alloc *cmd,
                              uint64_t vste[2])
{
    if (cmd->data_type != IOMMU_HWPT_DATA_ARM_SMMUV3 ||
        cmd->data_len != sizeof(struct iommu_hwpt_arm_smmuv3)) {
        return -EINVAL;
    }
    if (!cmd->data_uptr) {
        return -EFAULT;
    }
    memcpy(vste, (void *)(uintptr_t)cmd->data_uptr, 2 * sizeof(uint64_t));
    return 0;
}

/* arm_vsmmu_alloc_domain_nested() + the core's nested HWPT object. */
static int sim_hwpt_nested_new(IommufdSim *sim,
                               const struct iommu_hwpt_alloc *cmd,
                               SimViommu *viommu, SimHwpt *parent,
                               SimHwpt **out)
{
    uint64_t raw[2], vste[2];
    SimHwpt *hwpt;
    bool ats;
    int rc;

    rc = sim_hwpt_copy_vste(cmd, raw);
    if (rc) {
        return rc;
    }
    rc = sim_vste_check(raw, vste, &ats);
    if (rc) {
        return rc;
    }
    hwpt = g_new0(SimHwpt, 1);
    hwpt->viommu = viommu;
    hwpt->parent = viommu ? viommu->parent : parent;
    hwpt->smmu = hwpt->parent->smmu;
    hwpt->vste[0] = vste[0];
    hwpt->vste[1] = vste[1];
    hwpt->ats = ats;
    if (viommu) {
        viommu->obj.users++;
    } else {
        parent->obj.users++;
    }
    sim_obj_insert(sim, &hwpt->obj, &sim_hwpt_nested_ops);
    *out = hwpt;
    return 0;
}

#define SIM_PAGING_FLAGS (IOMMU_HWPT_ALLOC_NEST_PARENT | \
                          IOMMU_HWPT_ALLOC_DIRTY_TRACKING | \
                          IOMMU_HWPT_FAULT_ID_VALID | IOMMU_HWPT_ALLOC_PASID)
#define SIM_NESTED_FLAGS (IOMMU_HWPT_FAULT_ID_VALID | IOMMU_HWPT_ALLOC_PASID)

/* iommufd_hwpt_paging_alloc() + arm_smmu_domain_alloc_paging_flags() */
static int sim_hwpt_alloc_paging(IommufdSim *sim,
                                 const struct iommu_hwpt_alloc *cmd,
                                 SimDevice *dev, SimIoas *ioas,
                                 SimHwpt **out)
{
    uint32_t drv_flags = cmd->flags & ~IOMMU_HWPT_FAULT_ID_VALID;

    if (cmd->flags & ~SIM_PAGING_FLAGS) {
        return -EOPNOTSUPP;
    }
    /* The simulated host has no HTTU dirty tracking. */
    if (cmd->flags & IOMMU_HWPT_ALLOC_DIRTY_TRACKING) {
        return -EOPNOTSUPP;
    }
    if ((cmd->flags & IOMMU_HWPT_FAULT_ID_VALID) &&
        (cmd->flags & IOMMU_HWPT_ALLOC_NEST_PARENT)) {
        return -EOPNOTSUPP;
    }
    /* arm-smmu-v3 paging domains take no driver data */
    if (cmd->data_len) {
        return -EOPNOTSUPP;
    }
    if (drv_flags != 0 && drv_flags != IOMMU_HWPT_ALLOC_NEST_PARENT &&
        drv_flags != IOMMU_HWPT_ALLOC_PASID) {
        return -EOPNOTSUPP;
    }
    if ((drv_flags & IOMMU_HWPT_ALLOC_NEST_PARENT) &&
        !sim_host_nesting(sim)) {
        return -EOPNOTSUPP;
    }
    return sim_hwpt_paging_new(sim, ioas, dev->smmu,
                               cmd->flags & IOMMU_HWPT_ALLOC_NEST_PARENT,
                               false, out);
}

int sim_ioctl_hwpt_alloc(SimUcmd *u)
{
    struct iommu_hwpt_alloc *cmd = u->cmd;
    IommufdSim *sim = u->sim;
    SimHwpt *hwpt = NULL;
    SimDevice *dev;
    SimObj *pt;
    int rc;

    if (cmd->__reserved) {
        return -EOPNOTSUPP;
    }
    if ((cmd->data_type == IOMMU_HWPT_DATA_NONE && cmd->data_len) ||
        (cmd->data_type != IOMMU_HWPT_DATA_NONE && !cmd->data_len)) {
        return -EINVAL;
    }
    dev = (SimDevice *)sim_obj_get(sim, cmd->dev_id, SIM_OBJ_DEVICE);
    if (!dev) {
        return -ENOENT;
    }
    pt = sim_obj_get_any(sim, cmd->pt_id);
    if (!pt) {
        return -EINVAL;
    }
    switch (pt->type) {
    case SIM_OBJ_IOAS:
        rc = sim_hwpt_alloc_paging(sim, cmd, dev, (SimIoas *)pt, &hwpt);
        break;
    case SIM_OBJ_HWPT_PAGING: {
        SimHwpt *parent = (SimHwpt *)pt;

        if ((cmd->flags & ~SIM_NESTED_FLAGS) || !cmd->data_len ||
            !sim->parent_nesting) {
            rc = -EOPNOTSUPP;
            break;
        }
        if (parent->auto_domain || !parent->nest_parent ||
            parent->smmu != dev->smmu) {
            rc = -EINVAL;
            break;
        }
        if (cmd->flags & ~IOMMU_HWPT_FAULT_ID_VALID) {
            rc = -EOPNOTSUPP;
            break;
        }
        rc = sim_hwpt_nested_new(sim, cmd, NULL, parent, &hwpt);
        break;
    }
    case SIM_OBJ_VIOMMU: {
        SimViommu *viommu = (SimViommu *)pt;

        if (viommu->smmu != dev->smmu) {
            rc = -EINVAL;
            break;
        }
        if ((cmd->flags & ~SIM_NESTED_FLAGS) || !cmd->data_len) {
            rc = -EOPNOTSUPP;
            break;
        }
        /* arm_vsmmu_alloc_domain_nested() takes no flags */
        if (cmd->flags & ~IOMMU_HWPT_FAULT_ID_VALID) {
            rc = -EOPNOTSUPP;
            break;
        }
        rc = sim_hwpt_nested_new(sim, cmd, viommu, NULL, &hwpt);
        break;
    }
    default:
        return -EINVAL;
    }
    if (rc) {
        return rc;
    }
    if (cmd->flags & IOMMU_HWPT_FAULT_ID_VALID) {
        /* No fault objects in the simulator: the lookup fails. */
        sim_obj_remove(sim, &hwpt->obj);
        return -ENOENT;
    }
    cmd->out_hwpt_id = hwpt->obj.id;
    sim_ucmd_respond(u, sizeof(*cmd));
    return 0;
}

/* A host without HTTU: domains have no dirty ops. */
int sim_ioctl_hwpt_set_dirty_tracking(SimUcmd *u)
{
    struct iommu_hwpt_set_dirty_tracking *cmd = u->cmd;

    if (cmd->flags & ~IOMMU_HWPT_DIRTY_TRACKING_ENABLE) {
        return -EOPNOTSUPP;
    }
    if (!sim_obj_get(u->sim, cmd->hwpt_id, SIM_OBJ_HWPT_PAGING)) {
        return -ENOENT;
    }
    return -EOPNOTSUPP;
}

int sim_ioctl_hwpt_get_dirty_bitmap(SimUcmd *u)
{
    struct iommu_hwpt_get_dirty_bitmap *cmd = u->cmd;
    uint64_t last;

    if ((cmd->flags & ~IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR) ||
        cmd->__reserved) {
        return -EOPNOTSUPP;
    }
    if (!sim_obj_get(u->sim, cmd->hwpt_id, SIM_OBJ_HWPT_PAGING)) {
        return -ENOENT;
    }
    /* iommufd_check_iova_range() */
    if (__builtin_add_overflow(cmd->iova, cmd->length - 1, &last)) {
        return -EOVERFLOW;
    }
    if ((cmd->iova & (SIM_PAGE_SIZE - 1)) ||
        ((last + 1) & (SIM_PAGE_SIZE - 1))) {
        return -EINVAL;
    }
    if (!cmd->page_size) {
        return -EINVAL;
    }
    if ((cmd->iova & (cmd->page_size - 1)) ||
        ((last + 1) & (cmd->page_size - 1))) {
        return -EINVAL;
    }
    return -EOPNOTSUPP;
}
