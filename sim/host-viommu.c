/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * iommufd-sim: vIOMMU, vDEVICE and HW_QUEUE objects, and the mmap of a
 * TEGRA241 vIOMMU's VINTF page0. The arm-smmu-v3 vIOMMU (arm_vsmmu) is a
 * VMID and a vSID table; the TEGRA241 one adds a VINTF of the CMDQV, its
 * SID slots and its VCMDQs, all through cmdqv-hw.
 */
#include <errno.h>
#include <limits.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sim-internal.h"

#define TEGRA_VSID_MAX  0xfffffu        /* VINTF_SID_MATCH VIRT_SID[20:1] */

SimVdevice *sim_viommu_find_vdev(SimViommu *viommu, SimDevice *dev)
{
    GList *l;

    for (l = viommu->vdevs; l; l = l->next) {
        SimVdevice *v = l->data;

        if (v->dev == dev) {
            return v;
        }
    }
    return NULL;
}

SimDevice *sim_viommu_find_dev(SimViommu *viommu, uint64_t virt_id)
{
    GList *l;

    for (l = viommu->vdevs; l; l = l->next) {
        SimVdevice *v = l->data;

        if (v->virt_id == virt_id) {
            return v->dev;
        }
    }
    return NULL;
}

/* The lowest free mmap cookie from one page on (mtree_alloc_range). */
static uint64_t sim_mmap_offset_alloc(IommufdSim *sim)
{
    uint64_t off = SIM_PAGE_SIZE;
    bool moved = true;

    while (moved) {
        guint id;

        moved = false;
        for (id = 1; id < sim->objs->len; id++) {
            SimViommu *v = (SimViommu *)sim_obj_get(sim, id, SIM_OBJ_VIOMMU);

            if (v && v->has_vintf && off < v->mmap_offset +
                SIM_VINTF_PAGE0_SIZE && v->mmap_offset < off +
                SIM_VINTF_PAGE0_SIZE) {
                off = v->mmap_offset + SIM_VINTF_PAGE0_SIZE;
                moved = true;
            }
        }
    }
    return off;
}

static void sim_viommu_destroy(IommufdSim *sim, SimObj *obj)
{
    SimViommu *viommu = (SimViommu *)obj;

    g_assert(!viommu->vdevs);
    if (viommu->has_vintf) {
        if (viommu->page0_fd >= 0) {
            close(viommu->page0_fd);
        }
        sim_cmdqv_vintf_free(viommu->smmu->cmdqv, viommu->vintf);
    }
    viommu->parent->obj.users--;
}

const SimObjOps sim_viommu_ops = {
    .type = SIM_OBJ_VIOMMU,
    .name = "viommu",
    .destroy = sim_viommu_destroy,
};

/* tegra241_cmdqv_init_vintf_user() */
static int sim_viommu_init_tegra(IommufdSim *sim, SimViommu *viommu,
                                 struct iommu_viommu_alloc *cmd)
{
    struct iommu_viommu_tegra241_cmdqv data;
    int fd, rc;

    if (!cmd->data_len) {
        return -EINVAL;
    }
    if (cmd->data_len != sizeof(data)) {
        return -EINVAL;
    }
    if (!cmd->data_uptr) {
        return -EFAULT;
    }
    rc = sim_cmdqv_vintf_alloc(viommu->smmu->cmdqv, viommu->vmid,
                               &viommu->vintf);
    if (rc) {
        return rc;
    }
    fd = sim_cmdqv_vintf_page0_fd(viommu->smmu->cmdqv, viommu->vintf);
    if (fd < 0) {
        sim_cmdqv_vintf_free(viommu->smmu->cmdqv, viommu->vintf);
        return fd;
    }
    viommu->page0_fd = dup(fd);
    viommu->has_vintf = true;
    viommu->mmap_offset = sim_mmap_offset_alloc(sim);
    data.out_vintf_mmap_offset = viommu->mmap_offset;
    data.out_vintf_mmap_length = SIM_VINTF_PAGE0_SIZE;
    memcpy((void *)(uintptr_t)cmd->data_uptr, &data, sizeof(data));
    return 0;
}

int sim_ioctl_viommu_alloc(SimUcmd *u)
{
    struct iommu_viommu_alloc *cmd = u->cmd;
    IommufdSim *sim = u->sim;
    SimViommu *viommu;
    SimDevice *dev;
    SimHwpt *parent;
    int rc;

    if (cmd->flags || cmd->type == IOMMU_VIOMMU_TYPE_DEFAULT) {
        return -EOPNOTSUPP;
    }
    dev = (SimDevice *)sim_obj_get(sim, cmd->dev_id, SIM_OBJ_DEVICE);
    if (!dev) {
        return -ENOENT;
    }
    /* arm_smmu_get_viommu_size() */
    if ((sim->idr[0] & (SIM_IDR0_S1P | SIM_IDR0_S2P)) !=
        (SIM_IDR0_S1P | SIM_IDR0_S2P)) {
        return -EOPNOTSUPP;
    }
    /*
     * The guest must not bypass the cache (VFIO does no cache
     * maintenance): a CANWBS device, or S2FWB.
     */
    if (sim->no_canwbs && !(sim->idr[3] & SIM_IDR3_FWB)) {
        return -EOPNOTSUPP;
    }
    if (cmd->type != IOMMU_VIOMMU_TYPE_ARM_SMMUV3 &&
        !(cmd->type == IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV && dev->smmu->cmdqv)) {
        return -EOPNOTSUPP;
    }
    parent = (SimHwpt *)sim_obj_get(sim, cmd->hwpt_id, SIM_OBJ_HWPT_PAGING);
    if (!parent) {
        return -ENOENT;
    }
    if (!parent->nest_parent) {
        return -EINVAL;
    }
    /* arm_vsmmu_init() */
    if (parent->smmu != dev->smmu) {
        return -EINVAL;
    }
    viommu = g_new0(SimViommu, 1);
    viommu->type = cmd->type;
    viommu->smmu = dev->smmu;
    viommu->parent = parent;
    viommu->vmid = parent->vmid;
    viommu->page0_fd = -1;
    if (cmd->type == IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV) {
        rc = sim_viommu_init_tegra(sim, viommu, cmd);
        if (rc) {
            g_free(viommu);
            return rc;
        }
    }
    parent->obj.users++;
    sim_obj_insert(sim, &viommu->obj, &sim_viommu_ops);
    cmd->out_viommu_id = viommu->obj.id;
    sim_ucmd_respond(u, sizeof(*cmd));
    return 0;
}

static void sim_vdevice_destroy(IommufdSim *sim, SimObj *obj)
{
    SimVdevice *vdev = (SimVdevice *)obj;
    SimViommu *viommu = vdev->viommu;

    if (vdev->has_slot) {
        sim_cmdqv_sid_free(viommu->smmu->cmdqv, viommu->vintf, vdev->slot);
    }
    viommu->vdevs = g_list_remove(viommu->vdevs, vdev);
    viommu->obj.users--;
    vdev->dev->vdev = NULL;
    vdev->dev->obj.users--;
}

const SimObjOps sim_vdevice_ops = {
    .type = SIM_OBJ_VDEVICE,
    .name = "vdevice",
    .destroy = sim_vdevice_destroy,
};

int sim_ioctl_vdevice_alloc(SimUcmd *u)
{
    struct iommu_vdevice_alloc *cmd = u->cmd;
    IommufdSim *sim = u->sim;
    SimViommu *viommu;
    SimVdevice *vdev;
    SimDevice *dev;
    unsigned slot = 0;
    int rc;

    /* virt_id > ULONG_MAX cannot happen with a 64-bit unsigned long. */
    viommu = (SimViommu *)sim_obj_get(sim, cmd->viommu_id, SIM_OBJ_VIOMMU);
    if (!viommu) {
        return -ENOENT;
    }
    dev = (SimDevice *)sim_obj_get(sim, cmd->dev_id, SIM_OBJ_DEVICE);
    if (!dev) {
        return -ENOENT;
    }
    if (viommu->smmu != dev->smmu) {
        return -EINVAL;
    }
    if (dev->vdev) {
        return -EEXIST;
    }
    if (sim_viommu_find_dev(viommu, cmd->virt_id)) {
        return -EEXIST;
    }
    /* vdevice_init: one StreamID per simulated device, always */
    if (viommu->type == IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV) {
        if (cmd->virt_id > TEGRA_VSID_MAX) {
            return -EINVAL;
        }
        rc = sim_cmdqv_sid_alloc(viommu->smmu->cmdqv, viommu->vintf,
                                 cmd->virt_id, dev->psid, &slot);
        if (rc) {
            return rc;
        }
    }
    vdev = g_new0(SimVdevice, 1);
    vdev->viommu = viommu;
    vdev->dev = dev;
    vdev->virt_id = cmd->virt_id;
    vdev->has_slot = viommu->type == IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV;
    vdev->slot = slot;
    viommu->obj.users++;
    viommu->vdevs = g_list_append(viommu->vdevs, vdev);
    dev->obj.users++;
    dev->vdev = vdev;
    sim_obj_insert(sim, &vdev->obj, &sim_vdevice_ops);
    cmd->out_vdevice_id = vdev->obj.id;
    sim_ucmd_respond(u, sizeof(*cmd));
    return 0;
}

static void sim_hw_queue_destroy(IommufdSim *sim, SimObj *obj)
{
    SimHwQueue *q = (SimHwQueue *)obj;
    SimViommu *viommu = q->viommu;
    int rc;

    rc = sim_cmdqv_queue_free(viommu->smmu->cmdqv, viommu->vintf, q->index);
    g_assert(rc == 0);
    viommu->queues[q->index] = NULL;
    if (q->prev) {
        q->prev->obj.users--;
    }
    sim_ioas_unpin(q->ioas, q->iova, q->length);
    viommu->obj.users--;
}

const SimObjOps sim_hw_queue_ops = {
    .type = SIM_OBJ_HW_QUEUE,
    .name = "hw_queue",
    .destroy = sim_hw_queue_destroy,
};

int sim_ioctl_hw_queue_alloc(SimUcmd *u)
{
    struct iommu_hw_queue_alloc *cmd = u->cmd;
    IommufdSim *sim = u->sim;
    SimViommu *viommu;
    SimHwQueue *q;
    uint64_t last;
    SimIoas *ioas;
    void *hva = NULL;
    int rc;

    if (cmd->flags || cmd->type == IOMMU_HW_QUEUE_TYPE_DEFAULT) {
        return -EOPNOTSUPP;
    }
    if (!cmd->length) {
        return -EINVAL;
    }
    if (__builtin_add_overflow(cmd->nesting_parent_iova, cmd->length - 1,
                               &last)) {
        return -EOVERFLOW;
    }
    viommu = (SimViommu *)sim_obj_get(sim, cmd->viommu_id, SIM_OBJ_VIOMMU);
    if (!viommu) {
        return -ENOENT;
    }
    /* get_hw_queue_size(): only a TEGRA241 vIOMMU has HW queues */
    if (viommu->type != IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV ||
        cmd->type != IOMMU_HW_QUEUE_TYPE_TEGRA241_CMDQV) {
        return -EOPNOTSUPP;
    }
    /* iommufd_hw_queue_alloc_phys(): pin through the parent's IOAS */
    if ((cmd->nesting_parent_iova & (SIM_PAGE_SIZE - 1)) + cmd->length <
        cmd->length) {
        return -ERANGE;
    }
    ioas = viommu->parent->ioas;
    rc = sim_ioas_pin(ioas, cmd->nesting_parent_iova, cmd->length, &hva);
    if (rc) {
        return rc;
    }
    /* tegra241_vintf_alloc_lvcmdq_user() */
    rc = sim_cmdqv_queue_alloc(viommu->smmu->cmdqv, viommu->vintf,
                               cmd->index, cmd->nesting_parent_iova, hva,
                               cmd->length,
                               SIM_FIELD_GET(SIM_IDR1_CMDQS, sim->idr[1]));
    if (rc) {
        sim_ioas_unpin(ioas, cmd->nesting_parent_iova, cmd->length);
        return rc;
    }
    q = g_new0(SimHwQueue, 1);
    q->viommu = viommu;
    q->index = cmd->index;
    q->iova = cmd->nesting_parent_iova;
    q->length = cmd->length;
    q->ioas = ioas;
    if (cmd->index) {
        q->prev = viommu->queues[cmd->index - 1];
        g_assert(q->prev);
        q->prev->obj.users++;
    }
    viommu->queues[cmd->index] = q;
    viommu->obj.users++;
    sim_obj_insert(sim, &q->obj, &sim_hw_queue_ops);
    cmd->out_hw_queue_id = q->obj.id;
    sim_ucmd_respond(u, sizeof(*cmd));
    return 0;
}

/* iommufd_fops_mmap() */
int iommufd_sim_mmap(IommufdSim *sim, size_t length, int prot, int flags,
                     off_t offset, void **out)
{
    SimViommu *found = NULL;
    SimMmap *m;
    void *addr;
    guint id;

    if (length & (SIM_PAGE_SIZE - 1)) {
        return -EINVAL;
    }
    if (!(flags & MAP_SHARED)) {
        return -EINVAL;
    }
    if (prot & PROT_EXEC) {
        return -EPERM;
    }
    g_mutex_lock(&sim->lock);
    for (id = 1; id < sim->objs->len; id++) {
        SimViommu *v = (SimViommu *)sim_obj_get(sim, id, SIM_OBJ_VIOMMU);

        if (v && v->has_vintf && (uint64_t)offset >= v->mmap_offset &&
            (uint64_t)offset < v->mmap_offset + SIM_VINTF_PAGE0_SIZE) {
            found = v;
            break;
        }
    }
    if (!found || (uint64_t)offset != found->mmap_offset ||
        length != SIM_VINTF_PAGE0_SIZE) {
        g_mutex_unlock(&sim->lock);
        return -ENXIO;
    }
    addr = mmap(NULL, length, prot, MAP_SHARED, found->page0_fd, 0);
    if (addr == MAP_FAILED) {
        int err = errno;

        g_mutex_unlock(&sim->lock);
        return -err;
    }
    m = g_new0(SimMmap, 1);
    m->viommu = found;
    m->addr = addr;
    m->length = length;
    found->obj.users++;
    sim->mmaps = g_list_prepend(sim->mmaps, m);
    g_mutex_unlock(&sim->lock);
    *out = addr;
    return 0;
}

unsigned iommufd_sim_mmap_written(IommufdSim *sim, void *addr)
{
    SimCmdqv *cmdqv = NULL;
    unsigned vintf = 0;
    GList *l;

    g_mutex_lock(&sim->lock);
    for (l = sim->mmaps; l; l = l->next) {
        SimMmap *m = l->data;

        if (m->addr == addr) {
            cmdqv = m->viommu->smmu->cmdqv;
            vintf = m->viommu->vintf;
            break;
        }
    }
    g_mutex_unlock(&sim->lock);
    /*
     * Not under the host lock: the commands take it. A VINTF freed since
     * (its vIOMMU destroyed after an munmap) has nothing to run.
     */
    return cmdqv ? sim_cmdqv_kick(cmdqv, vintf) : 0;
}

static void sim_mmap_release(IommufdSim *sim, SimMmap *m)
{
    munmap(m->addr, m->length);
    m->viommu->obj.users--;
    sim->mmaps = g_list_remove(sim->mmaps, m);
    g_free(m);
}

int iommufd_sim_munmap(IommufdSim *sim, void *addr, size_t length)
{
    GList *l;
    int rc = -EINVAL;

    g_mutex_lock(&sim->lock);
    for (l = sim->mmaps; l; l = l->next) {
        SimMmap *m = l->data;

        if (m->addr == addr && m->length == length) {
            sim_mmap_release(sim, m);
            rc = 0;
            break;
        }
    }
    g_mutex_unlock(&sim->lock);
    return rc;
}

/*
 * Whether [addr, addr + length) touches a page0 mmap: such pages are
 * VM_IO | VM_PFNMAP, which iommufd cannot pin (EFAULT where it would).
 */
bool sim_mmap_overlaps(IommufdSim *sim, const void *addr, uint64_t length)
{
    uintptr_t a = (uintptr_t)addr;
    GList *l;

    for (l = sim->mmaps; l; l = l->next) {
        SimMmap *m = l->data;
        uintptr_t b = (uintptr_t)m->addr;

        if (a < b + m->length && b < a + length) {
            return true;
        }
    }
    return false;
}

void sim_mmap_release_all(IommufdSim *sim)
{
    while (sim->mmaps) {
        sim_mmap_release(sim, sim->mmaps->data);
    }
}

int iommufd_sim_inject_vcmdq_error(IommufdSim *sim, uint32_t viommu_id,
                                   unsigned index, unsigned err)
{
    SimViommu *viommu;
    SimCmdqv *cmdqv;
    unsigned vintf;

    g_mutex_lock(&sim->lock);
    viommu = (SimViommu *)sim_obj_get(sim, viommu_id, SIM_OBJ_VIOMMU);
    if (!viommu || !viommu->has_vintf) {
        g_mutex_unlock(&sim->lock);
        return viommu ? -EINVAL : -ENOENT;
    }
    cmdqv = viommu->smmu->cmdqv;
    vintf = viommu->vintf;
    g_mutex_unlock(&sim->lock);
    /* The CMDQV reports through vintf_error, which takes the host lock. */
    return sim_cmdqv_inject_error(cmdqv, vintf, index, err);
}
