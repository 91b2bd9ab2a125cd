/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * iommufd-sim: bound devices (the VFIO side): bind, attach/replace,
 * detach, unbind, GET_HW_INFO, and DMA translation through the physical
 * SMMU with fault events routed as the arm-smmu-v3 driver routes them.
 *
 * Lifecycle of a device: bind puts it in the id space with two users
 * (the table and the binding, so IOMMU_DESTROY on it is EBUSY). An
 * attached HWPT is held by it. Unbind destroys its vDEVICE (tombstone),
 * detaches it (its STE is cleared) and frees its id.
 */
#include <errno.h>
#include <limits.h>

#include "sim-internal.h"
#include "cmdqv-regs.h"

static SimDevice *sim_dev_get(IommufdSim *sim, uint32_t id)
{
    return (SimDevice *)sim_obj_get(sim, id, SIM_OBJ_DEVICE);
}

int iommufd_sim_bind(IommufdSim *sim, unsigned smmu, uint32_t psid,
                     uint32_t *out_dev_id)
{
    SimDevice *dev;
    guint id;
    int rc = 0;

    g_mutex_lock(&sim->lock);
    if (smmu >= sim->num_smmus) {
        rc = -ENODEV;
        goto out;
    }
    if (SIM_FIELD_GET(SIM_IDR1_SIDSIZE, sim->idr[1]) < 32 &&
        psid >= (1ull << SIM_FIELD_GET(SIM_IDR1_SIDSIZE, sim->idr[1]))) {
        rc = -EINVAL;
        goto out;
    }
    for (id = 1; id < sim->objs->len; id++) {
        SimObj *o = sim_obj_get(sim, id, SIM_OBJ_DEVICE);

        if (o && ((SimDevice *)o)->smmu->index == smmu &&
            ((SimDevice *)o)->psid == psid) {
            rc = -EBUSY;
            goto out;
        }
    }
    dev = g_new0(SimDevice, 1);
    dev->smmu = &sim->smmus[smmu];
    dev->psid = psid;
    sim_obj_insert(sim, &dev->obj, &sim_device_ops);
    dev->obj.users++;           /* the binding */
    *out_dev_id = dev->obj.id;
out:
    g_mutex_unlock(&sim->lock);
    return rc;
}

static void sim_device_destroy(IommufdSim *sim, SimObj *obj)
{
    SimDevice *dev = (SimDevice *)obj;

    g_assert(!dev->hwpt && !dev->vdev);
}

const SimObjOps sim_device_ops = {
    .type = SIM_OBJ_DEVICE,
    .name = "device",
    .destroy = sim_device_destroy,
};

/* Drop the device's hold on its HWPT; an auto domain may go with it. */
static void sim_device_put_hwpt(IommufdSim *sim, SimHwpt *hwpt)
{
    hwpt->ndevs--;
    if (hwpt->auto_domain) {
        sim_obj_put_and_try_destroy(sim, &hwpt->obj);
    } else {
        hwpt->obj.users--;
    }
}

void sim_device_detach_locked(IommufdSim *sim, SimDevice *dev)
{
    SimHwpt *old = dev->hwpt;

    if (!old) {
        return;
    }
    sim_smmu_clear_ste(dev->smmu->hw, dev->psid);
    dev->vmaster = NULL;
    dev->hwpt = NULL;
    if (dev->resv_ioas) {
        sim_ioas_unreserve_msi(dev->resv_ioas);
        dev->resv_ioas = NULL;
    }
    sim_device_put_hwpt(sim, old);
}

/* The auto domain of an IOAS: reuse one of this SMMU, else create one. */
static int sim_device_auto_domain(IommufdSim *sim, SimDevice *dev,
                                  SimIoas *ioas, SimHwpt **out)
{
    GList *l;

    for (l = ioas->hwpts; l; l = l->next) {
        SimHwpt *h = l->data;

        if (h->auto_domain && h->smmu == dev->smmu) {
            *out = h;
            return 0;
        }
    }
    return sim_hwpt_paging_new(sim, ioas, dev->smmu, false, true, out);
}

static int sim_device_attach_locked(IommufdSim *sim, SimDevice *dev,
                                    uint32_t *pt_id)
{
    SimObj *pt = sim_obj_get_any(sim, *pt_id);
    SimViommu *vmaster = NULL;
    uint64_t vsid = 0;
    SimIoas *resv;
    SimPhysSte ste;
    SimHwpt *hwpt;
    SimS2 s2;
    bool created = false;
    int rc;

    if (!pt) {
        return -ENOENT;
    }
    switch (pt->type) {
    case SIM_OBJ_IOAS:
        rc = sim_device_auto_domain(sim, dev, (SimIoas *)pt, &hwpt);
        if (rc) {
            return rc;
        }
        created = hwpt->ndevs == 0 && hwpt->obj.users == 1;
        break;
    case SIM_OBJ_HWPT_PAGING:
    case SIM_OBJ_HWPT_NESTED:
        hwpt = (SimHwpt *)pt;
        break;
    default:
        return -EINVAL;
    }
    if (dev->hwpt == hwpt) {
        /* iommufd_device_do_replace(): nothing to do */
        *pt_id = hwpt->obj.id;
        return 0;
    }
    if (hwpt->smmu != dev->smmu) {
        rc = -EINVAL;
        goto fail;
    }
    if (hwpt->viommu) {
        /* arm_smmu_attach_prepare_vmaster() */
        SimVdevice *vdev = sim_viommu_find_vdev(hwpt->viommu, dev);

        if (vdev) {
            vmaster = hwpt->viommu;
            vsid = vdev->virt_id;
        } else if ((hwpt->vste[0] & SIM_STE0_V) &&
                   SIM_FIELD_GET(SIM_STE0_CFG, hwpt->vste[0]) ==
                   SIM_STE_CFG_S1) {
            rc = -ENOENT;
            goto fail;
        }
    }
    /*
     * iommufd_device_attach_reserved_iova(): the device's SW_MSI window
     * becomes reserved in the IOAS of the paging HWPT (a nested HWPT's
     * parent); an existing mapping there refuses the attach.
     */
    resv = hwpt->obj.type == SIM_OBJ_HWPT_PAGING ? hwpt->ioas
                                                 : hwpt->parent->ioas;
    if (resv != dev->resv_ioas) {
        rc = sim_ioas_reserve_msi(resv);
        if (rc) {
            goto fail;
        }
        if (dev->resv_ioas) {
            sim_ioas_unreserve_msi(dev->resv_ioas);
        }
        dev->resv_ioas = resv;
    }
    sim_hwpt_make_ste(hwpt, &ste, &s2);
    sim_smmu_install_ste(dev->smmu->hw, dev->psid, &ste, &s2);
    hwpt->obj.users++;
    hwpt->ndevs++;
    if (dev->hwpt) {
        sim_device_put_hwpt(sim, dev->hwpt);
    }
    dev->hwpt = hwpt;
    dev->vmaster = vmaster;
    dev->vmaster_vsid = vsid;
    *pt_id = hwpt->obj.id;
    return 0;

fail:
    if (created) {
        sim_obj_remove(sim, &hwpt->obj);
    }
    return rc;
}

int iommufd_sim_attach(IommufdSim *sim, uint32_t dev_id, uint32_t *pt_id)
{
    SimDevice *dev;
    int rc;

    g_mutex_lock(&sim->lock);
    dev = sim_dev_get(sim, dev_id);
    rc = dev ? sim_device_attach_locked(sim, dev, pt_id) : -ENOENT;
    g_mutex_unlock(&sim->lock);
    return rc;
}

int iommufd_sim_detach(IommufdSim *sim, uint32_t dev_id)
{
    SimDevice *dev;
    int rc = 0;

    g_mutex_lock(&sim->lock);
    dev = sim_dev_get(sim, dev_id);
    if (!dev) {
        rc = -ENOENT;
    } else {
        /* VFIO_DEVICE_DETACH_IOMMUFD_PT of a detached device: 0 */
        sim_device_detach_locked(sim, dev);
    }
    g_mutex_unlock(&sim->lock);
    return rc;
}

static void sim_device_unbind_locked(IommufdSim *sim, SimDevice *dev)
{
    if (dev->vdev) {
        /* iommufd_device_pre_destroy(): a tombstone, even if held */
        SimVdevice *vdev = dev->vdev;

        vdev->obj.users = 1;
        sim_obj_tombstone(sim, &vdev->obj);
    }
    sim_device_detach_locked(sim, dev);
    dev->obj.users--;
    sim_obj_remove(sim, &dev->obj);
}

int iommufd_sim_unbind(IommufdSim *sim, uint32_t dev_id)
{
    SimDevice *dev;
    int rc = 0;

    g_mutex_lock(&sim->lock);
    dev = sim_dev_get(sim, dev_id);
    if (dev) {
        sim_device_unbind_locked(sim, dev);
    } else {
        rc = -ENOENT;
    }
    g_mutex_unlock(&sim->lock);
    return rc;
}

void sim_device_unbind_all(IommufdSim *sim)
{
    guint id;

    for (id = 1; id < sim->objs->len; id++) {
        SimDevice *dev = sim_dev_get(sim, id);

        if (dev) {
            sim_device_unbind_locked(sim, dev);
        }
    }
}

/* arm_smmu_hw_info() and tegra241_cmdqv_hw_info() */
int sim_ioctl_get_hw_info(SimUcmd *u)
{
    struct iommu_hw_info *cmd = u->cmd;
    IommufdSim *sim = u->sim;
    struct iommu_hw_info_arm_smmuv3 arm = { 0 };
    struct iommu_hw_info_tegra241_cmdqv tegra = { 0 };
    const void *data;
    uint32_t len, copy;
    SimDevice *dev;

    if (cmd->flags & ~IOMMU_HW_INFO_FLAG_INPUT_TYPE) {
        return -EOPNOTSUPP;
    }
    if (cmd->__reserved[0] || cmd->__reserved[1] || cmd->__reserved[2]) {
        return -EOPNOTSUPP;
    }
    if (!(cmd->flags & IOMMU_HW_INFO_FLAG_INPUT_TYPE)) {
        cmd->in_data_type = IOMMU_HW_INFO_TYPE_DEFAULT;
    }
    dev = sim_dev_get(sim, cmd->dev_id);
    if (!dev) {
        return -ENOENT;
    }
    switch (cmd->in_data_type) {
    case IOMMU_HW_INFO_TYPE_DEFAULT:
    case IOMMU_HW_INFO_TYPE_ARM_SMMUV3:
        memcpy(arm.idr, sim->idr, sizeof(arm.idr));
        arm.iidr = sim->iidr;
        arm.aidr = sim->aidr;
        data = &arm;
        len = sizeof(arm);
        cmd->out_data_type = IOMMU_HW_INFO_TYPE_ARM_SMMUV3;
        break;
    case IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV:
        if (!dev->smmu->cmdqv) {
            return -EOPNOTSUPP;
        }
        tegra.version = CMDQV_FIELD_EX(CMDQV_PARAM, VER,
                                       sim_cmdqv_read_reg(dev->smmu->cmdqv,
                                                          A_CMDQV_PARAM));
        tegra.log2vcmdqs = sim->log2_vcmdqs;
        tegra.log2vsids = sim->log2_vsids;
        data = &tegra;
        len = sizeof(tegra);
        cmd->out_data_type = IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV;
        break;
    default:
        return -EOPNOTSUPP;
    }
    copy = MIN(cmd->data_len, len);
    if ((copy || cmd->data_len) && !cmd->data_uptr) {
        return -EFAULT;
    }
    if (copy) {
        memcpy((void *)(uintptr_t)cmd->data_uptr, data, copy);
    }
    if (copy < cmd->data_len) {
        memset((uint8_t *)(uintptr_t)cmd->data_uptr + copy, 0,
               cmd->data_len - copy);
    }
    cmd->data_len = len;
    /*
     * arm-smmu-v3 reports ATS usable only with IDR0.ATS (the simulated
     * endpoints are taken to support ATS whenever the SMMU does).
     */
    cmd->out_capabilities = 0;
    if (!(sim->idr[0] & SIM_IDR0_ATS)) {
        cmd->out_capabilities |= SIM_HW_CAP_PCI_ATS_NOT_SUPPORTED;
    }
    cmd->out_max_pasid_log2 = 0;
    sim_ucmd_respond(u, sizeof(*cmd));
    return 0;
}

int iommufd_sim_query_device(IommufdSim *sim, uint32_t dev_id,
                             IommufdSimDeviceInfo *out)
{
    SimDevice *dev;
    SimPhysSte ste;

    g_mutex_lock(&sim->lock);
    dev = sim_dev_get(sim, dev_id);
    if (!dev) {
        g_mutex_unlock(&sim->lock);
        return -ENOENT;
    }
    memset(out, 0, sizeof(*out));
    out->smmu = dev->smmu->index;
    out->psid = dev->psid;
    if (dev->hwpt) {
        out->attached_id = dev->hwpt->obj.id;
        out->attached_kind = dev->hwpt->obj.type == SIM_OBJ_HWPT_NESTED ?
                             "nested" :
                             dev->hwpt->nest_parent ? "nest_parent" :
                             "paging";
    }
    if (sim_smmu_get_ste(dev->smmu->hw, dev->psid, &ste)) {
        memcpy(out->ste, ste.word, sizeof(out->ste));
    }
    if (dev->vdev) {
        out->has_vdevice = true;
        out->vdevice_id = dev->vdev->obj.id;
        out->vsid = dev->vdev->virt_id;
    }
    out->vmaster = dev->vmaster != NULL;
    g_mutex_unlock(&sim->lock);
    return 0;
}

int iommufd_sim_translate(IommufdSim *sim, uint32_t dev_id, bool ssv,
                          uint32_t ssid, uint64_t iova, unsigned access,
                          IommufdSimTranslation *out)
{
    SimDevice *dev;
    SimXlate x;
    int rc;

    memset(out, 0, sizeof(*out));
    g_mutex_lock(&sim->lock);
    dev = sim_dev_get(sim, dev_id);
    if (!dev) {
        g_mutex_unlock(&sim->lock);
        return -ENOENT;
    }
    rc = sim_smmu_translate(dev->smmu->hw, dev->psid, ssv, ssid, iova,
                            access, &x);
    if (rc == 0) {
        out->ipa = x.ipa;
        out->hva = x.hva;
        out->len = x.len;
        out->perm = x.perm;
        out->iotlb_hit = x.iotlb_hit;
        out->stale = x.stale;
    } else if (rc == -EFAULT) {
        out->fault = true;
        memcpy(out->event, x.event, sizeof(out->event));
        out->forwarded = sim_route_event_locked(sim, dev, x.event) > 0;
    }
    g_mutex_unlock(&sim->lock);
    return rc;
}

int iommufd_sim_inject_events(IommufdSim *sim, uint32_t dev_id,
                              const uint64_t evt[4], uint32_t count,
                              uint64_t addr_step)
{
    uint64_t e[4];
    SimDevice *dev;
    uint32_t i, queued = 0;

    if (count > IOMMUFD_SIM_INJECT_MAX) {
        return -EINVAL;
    }
    g_mutex_lock(&sim->lock);
    dev = sim_dev_get(sim, dev_id);
    if (!dev) {
        g_mutex_unlock(&sim->lock);
        return -ENOENT;
    }
    memcpy(e, evt, sizeof(e));
    e[0] = (e[0] & ~SIM_EVT0_SID) | SIM_FIELD_PREP(SIM_EVT0_SID, dev->psid);
    for (i = 0; i < count; i++) {
        uint64_t one[4] = { e[0], e[1], e[2] + addr_step * i, e[3] };

        if (sim_route_event_locked(sim, dev, one) > 0) {
            queued++;
        }
    }
    g_mutex_unlock(&sim->lock);
    return MIN(queued, (uint32_t)INT_MAX);
}

int iommufd_sim_inject_event(IommufdSim *sim, uint32_t dev_id,
                             const uint64_t evt[4])
{
    return iommufd_sim_inject_events(sim, dev_id, evt, 1, 0);
}

uint32_t iommufd_sim_find_device(IommufdSim *sim, unsigned smmu,
                                 uint32_t psid)
{
    uint32_t id, found = 0;

    g_mutex_lock(&sim->lock);
    for (id = 1; id < sim->objs->len && !found; id++) {
        SimDevice *dev = (SimDevice *)sim_obj_get(sim, id, SIM_OBJ_DEVICE);

        if (dev && dev->smmu->index == smmu && dev->psid == psid) {
            found = id;
        }
    }
    g_mutex_unlock(&sim->lock);
    return found;
}
