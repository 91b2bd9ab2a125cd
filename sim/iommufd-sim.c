/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * iommufd-sim: the simulated host. Creation and teardown of a host (its
 * physical SMMUs and CMDQVs), the one ioctl dispatch point with the
 * kernel's general rules (iommufd_fops_ioctl), errno injection, and the
 * CMDQV engine controls. The objects live in host-*.c.
 */
#include <errno.h>
#include <stddef.h>
#include <linux/ioctl.h>

#include "sim-internal.h"

/* Grace-like SMMUv3 (SMMUv3.2, MMU-700 class) */
#define GRACE_IDR0 ((1u << 27) |    /* ST_LEVEL: 2-level */ \
                    (1u << 24) |    /* STALL_MODEL: no stall */ \
                    (2u << 21) |    /* TTENDIAN: little */ \
                    (1u << 19) |    /* CD2L */ \
                    (1u << 18) |    /* VMID16 */ \
                    (1u << 14) |    /* SEV */ \
                    (1u << 13) |    /* MSI */ \
                    (1u << 12) |    /* ASID16 */ \
                    (1u << 10) |    /* ATS */ \
                    (1u << 9) |     /* HYP */ \
                    (1u << 4) |     /* COHACC */ \
                    (2u << 2) |     /* TTF: AArch64 */ \
                    (1u << 1) |     /* S1P */ \
                    (1u << 0))      /* S2P */
#define GRACE_IDR1 ((19u << 21) |   /* CMDQS */ \
                    (19u << 16) |   /* EVTQS */ \
                    (20u << 6) |    /* SSIDSIZE */ \
                    (16u << 0))     /* SIDSIZE */
#define GRACE_IDR3 (1u << 10)       /* RIL */
#define GRACE_IDR5 ((1u << 6) |     /* GRAN64K */ \
                    (1u << 4) |     /* GRAN4K */ \
                    (5u << 0))      /* OAS: 48 bits */
#define GRACE_IIDR ((0x487u << 20) | 0x43b)
#define GRACE_AIDR 0x02             /* SMMUv3.2 */

typedef int (*SimIoctlFn)(SimUcmd *u);

typedef struct SimIoctlOp {
    const char *name;
    unsigned long request;
    uint32_t size;
    uint32_t min_size;
    SimIoctlFn fn;
} SimIoctlOp;

static int sim_ioctl_unsupported(SimUcmd *u)
{
    return -EOPNOTSUPP;
}

#define SIM_IOCTL(_req, _struct, _last, _fn) \
    [_IOC_NR(_req) - IOMMUFD_CMD_BASE] = { \
        .name = #_req, \
        .request = _req, \
        .size = sizeof(_struct), \
        .min_size = offsetof(_struct, _last) + \
                    sizeof(((_struct *)0)->_last), \
        .fn = _fn, \
    }

static const SimIoctlOp sim_ioctl_ops[SIM_NR_IOCTLS] = {
    SIM_IOCTL(IOMMU_DESTROY, struct iommu_destroy, id, sim_ioctl_destroy),
    SIM_IOCTL(IOMMU_IOAS_ALLOC, struct iommu_ioas_alloc, out_ioas_id,
              sim_ioctl_ioas_alloc),
    SIM_IOCTL(IOMMU_IOAS_ALLOW_IOVAS, struct iommu_ioas_allow_iovas,
              allowed_iovas, sim_ioctl_unsupported),
    SIM_IOCTL(IOMMU_IOAS_COPY, struct iommu_ioas_copy, src_iova,
              sim_ioctl_ioas_copy),
    SIM_IOCTL(IOMMU_IOAS_IOVA_RANGES, struct iommu_ioas_iova_ranges,
              out_iova_alignment, sim_ioctl_ioas_iova_ranges),
    SIM_IOCTL(IOMMU_IOAS_MAP, struct iommu_ioas_map, iova,
              sim_ioctl_ioas_map),
    SIM_IOCTL(IOMMU_IOAS_UNMAP, struct iommu_ioas_unmap, length,
              sim_ioctl_ioas_unmap),
    SIM_IOCTL(IOMMU_OPTION, struct iommu_option, val64, sim_ioctl_option),
    SIM_IOCTL(IOMMU_VFIO_IOAS, struct iommu_vfio_ioas, __reserved,
              sim_ioctl_unsupported),
    SIM_IOCTL(IOMMU_HWPT_ALLOC, struct iommu_hwpt_alloc, __reserved,
              sim_ioctl_hwpt_alloc),
    SIM_IOCTL(IOMMU_GET_HW_INFO, struct iommu_hw_info, __reserved,
              sim_ioctl_get_hw_info),
    SIM_IOCTL(IOMMU_HWPT_SET_DIRTY_TRACKING,
              struct iommu_hwpt_set_dirty_tracking, __reserved,
              sim_ioctl_hwpt_set_dirty_tracking),
    SIM_IOCTL(IOMMU_HWPT_GET_DIRTY_BITMAP, struct iommu_hwpt_get_dirty_bitmap,
              data, sim_ioctl_hwpt_get_dirty_bitmap),
    SIM_IOCTL(IOMMU_HWPT_INVALIDATE, struct iommu_hwpt_invalidate,
              __reserved, sim_ioctl_hwpt_invalidate),
    SIM_IOCTL(IOMMU_FAULT_QUEUE_ALLOC, struct iommu_fault_alloc,
              out_fault_fd, sim_ioctl_unsupported),
    SIM_IOCTL(IOMMU_IOAS_MAP_FILE, struct iommu_ioas_map_file, iova,
              sim_ioctl_ioas_map_file),
    SIM_IOCTL(IOMMU_VIOMMU_ALLOC, struct iommu_viommu_alloc, out_viommu_id,
              sim_ioctl_viommu_alloc),
    SIM_IOCTL(IOMMU_VDEVICE_ALLOC, struct iommu_vdevice_alloc, virt_id,
              sim_ioctl_vdevice_alloc),
    SIM_IOCTL(IOMMU_IOAS_CHANGE_PROCESS, struct iommu_ioas_change_process,
              __reserved, sim_ioctl_unsupported),
    SIM_IOCTL(IOMMU_VEVENTQ_ALLOC, struct iommu_veventq_alloc,
              out_veventq_fd, sim_ioctl_veventq_alloc),
    SIM_IOCTL(IOMMU_HW_QUEUE_ALLOC, struct iommu_hw_queue_alloc, length,
              sim_ioctl_hw_queue_alloc),
};

static const SimIoctlOp *sim_ioctl_op(unsigned long request)
{
    unsigned nr = _IOC_NR(request);
    const SimIoctlOp *op;

    if (_IOC_TYPE(request) != IOMMUFD_TYPE || nr < IOMMUFD_CMD_BASE ||
        nr - IOMMUFD_CMD_BASE >= SIM_NR_IOCTLS) {
        return NULL;
    }
    op = &sim_ioctl_ops[nr - IOMMUFD_CMD_BASE];
    return op->fn && op->request == request ? op : NULL;
}

const char *iommufd_sim_ioctl_name(unsigned long request)
{
    const SimIoctlOp *op = sim_ioctl_op(request);

    return op ? op->name : NULL;
}

const char *sim_ioctl_name_by_index(unsigned idx)
{
    return idx < SIM_NR_IOCTLS ? sim_ioctl_ops[idx].name : NULL;
}

/* Consume one call of an injection; true if this call must fail. */
static bool sim_inject_hit(IommufdSim *sim, unsigned idx, int *err)
{
    SimInject *inj = &sim->inject[idx];

    if (!inj->countdown) {
        return false;
    }
    if (--inj->countdown) {
        return false;
    }
    *err = inj->err;
    return true;
}

/* iommufd_fops_ioctl(): size rules, then the handler on a kernel copy. */
int iommufd_sim_ioctl(IommufdSim *sim, unsigned long request, void *arg)
{
    const SimIoctlOp *op = sim_ioctl_op(request);
    unsigned idx = _IOC_NR(request) - IOMMUFD_CMD_BASE;
    uint64_t buf[16] = { 0 };
    SimUcmd u;
    int err, rc;

    if (!op) {
        return -ENOTTY;
    }
    g_assert(op->size <= sizeof(buf));
    g_mutex_lock(&sim->lock);
    sim->stats.ioctls[idx]++;
    if (sim_inject_hit(sim, idx, &err)) {
        rc = -err;
        goto out;
    }
    if (!arg) {
        rc = -EFAULT;
        goto out;
    }
    u = (SimUcmd) {
        .sim = sim,
        .ubuf = arg,
        .user_size = *(uint32_t *)arg,
        .cmd = buf,
    };
    if (u.user_size < op->min_size) {
        rc = -EINVAL;
        goto out;
    }
    if (u.user_size > op->size) {
        const uint8_t *tail = (const uint8_t *)arg + op->size;
        size_t i;

        for (i = 0; i < u.user_size - op->size; i++) {
            if (tail[i]) {
                rc = -E2BIG;
                goto out;
            }
        }
    }
    memcpy(buf, arg, MIN(u.user_size, op->size));
    rc = op->fn(&u);
out:
    if (rc) {
        sim->stats.ioctl_errors++;
    }
    g_mutex_unlock(&sim->lock);
    return rc;
}

static bool sim_errno_valid(int err)
{
    return err >= 1 && err <= IOMMUFD_SIM_MAX_ERRNO;
}

int iommufd_sim_inject_invalidate_error(IommufdSim *sim, uint32_t entry,
                                        int err)
{
    if (!sim_errno_valid(err)) {
        return -EINVAL;
    }
    g_mutex_lock(&sim->lock);
    sim->inv_fail_entry = entry;
    sim->inv_fail_err = err;
    g_mutex_unlock(&sim->lock);
    return 0;
}

int iommufd_sim_inject_errno(IommufdSim *sim, unsigned long request,
                             unsigned nth, int err)
{
    const SimIoctlOp *op = sim_ioctl_op(request);

    if (!op || !sim_errno_valid(err)) {
        return -EINVAL;
    }
    g_mutex_lock(&sim->lock);
    sim->inject[_IOC_NR(request) - IOMMUFD_CMD_BASE] = (SimInject) {
        .countdown = nth,
        .err = err,
    };
    g_mutex_unlock(&sim->lock);
    return 0;
}

/* SimCmdqvOps.exec: the engine thread, no host lock. */
static void sim_cmdqv_exec_cb(void *opaque, const uint64_t cmd[2])
{
    sim_issue_cmd(opaque, cmd, true);
}

static unsigned sim_oas_bits(uint32_t idr5)
{
    static const unsigned bits[] = { 32, 36, 40, 42, 44, 48, 52 };
    unsigned oas = idr5 & 7;

    return oas < G_N_ELEMENTS(bits) ? bits[oas] : 48;
}

IommufdSim *iommufd_sim_new(const IommufdSimConfig *cfg)
{
    IommufdSimConfig def = { 0 };
    IommufdSim *sim = g_new0(IommufdSim, 1);
    unsigned i, log2_vintfs;
    bool bad_cfg = false;

    if (!cfg) {
        cfg = &def;
    }
    g_mutex_init(&sim->lock);
    if (cfg->override_idr) {
        memcpy(sim->idr, cfg->idr, sizeof(sim->idr));
        sim->iidr = cfg->iidr;
        sim->aidr = cfg->aidr;
    } else {
        sim->idr[0] = GRACE_IDR0;
        sim->idr[1] = GRACE_IDR1;
        sim->idr[3] = GRACE_IDR3;
        sim->idr[5] = GRACE_IDR5;
        sim->iidr = GRACE_IIDR;
        sim->aidr = GRACE_AIDR;
    }
    sim->ias_bits = sim_oas_bits(sim->idr[5]);
    log2_vintfs = cfg->cmdqv_log2_vintfs ? cfg->cmdqv_log2_vintfs : 6;
    sim->log2_vcmdqs = cfg->cmdqv_log2_vcmdqs ? cfg->cmdqv_log2_vcmdqs : 1;
    if (!cfg->cmdqv_vsids) {
        sim->log2_vsids = 4;
    } else if (cfg->cmdqv_vsids & (cfg->cmdqv_vsids - 1)) {
        bad_cfg = true;         /* not a power of two */
    } else {
        sim->log2_vsids = __builtin_ctz(cfg->cmdqv_vsids);
    }
    sim->parent_nesting = cfg->parent_nesting;
    sim->no_canwbs = cfg->no_canwbs;
    sim->num_smmus = cfg->num_smmus ? cfg->num_smmus : 1;
    sim->smmus = g_new0(SimHostSmmu, sim->num_smmus);
    for (i = 0; i < sim->num_smmus; i++) {
        SimHostSmmu *hs = &sim->smmus[i];
        SimCmdqvOps ops = {
            .exec = sim_cmdqv_exec_cb,
            .vintf_error = sim_cmdqv_vintf_error_cb,
            .opaque = hs,
        };

        hs->sim = sim;
        hs->index = i;
        hs->hw = sim_smmu_new(sim->idr);
        if (!cfg->no_cmdqv) {
            /* PARAM.NUM_VCMDQ_LOG2 counts the VCMDQs of all VINTFs */
            hs->cmdqv = sim_cmdqv_new(log2_vintfs,
                                      log2_vintfs + sim->log2_vcmdqs,
                                      sim->log2_vsids, &ops);
            if (!hs->cmdqv) {
                bad_cfg = true;
            }
        }
    }
    sim->objs = g_ptr_array_new();
    g_ptr_array_add(sim->objs, NULL);       /* id 0 is never used */
    sim->fds = g_hash_table_new(g_direct_hash, g_direct_equal);
    if (bad_cfg) {
        iommufd_sim_free(sim);
        return NULL;
    }
    return sim;
}

/* Like closing the iommufd after every VFIO device fd. */
void iommufd_sim_free(IommufdSim *sim)
{
    unsigned i;

    if (!sim) {
        return;
    }
    iommufd_sim_stop_engine(sim);
    g_mutex_lock(&sim->lock);
    sim_veventq_close_all(sim);
    sim_mmap_release_all(sim);
    sim_device_unbind_all(sim);
    sim_obj_destroy_all(sim);
    g_mutex_unlock(&sim->lock);
    for (i = 0; i < sim->num_smmus; i++) {
        sim_cmdqv_free(sim->smmus[i].cmdqv);
        sim_smmu_free(sim->smmus[i].hw);
    }
    g_free(sim->smmus);
    g_ptr_array_free(sim->objs, true);
    g_hash_table_destroy(sim->fds);
    g_mutex_clear(&sim->lock);
    g_free(sim);
}

/*
 * The engine controls run without the host lock: the engine's
 * vintf_error callback takes it, and stopping joins the engine thread.
 */
void iommufd_sim_start_engine(IommufdSim *sim)
{
    unsigned i;

    for (i = 0; i < sim->num_smmus; i++) {
        if (sim->smmus[i].cmdqv) {
            sim_cmdqv_start(sim->smmus[i].cmdqv);
        }
    }
}

void iommufd_sim_stop_engine(IommufdSim *sim)
{
    unsigned i;

    for (i = 0; i < sim->num_smmus; i++) {
        if (sim->smmus[i].cmdqv) {
            sim_cmdqv_stop(sim->smmus[i].cmdqv);
        }
    }
}

unsigned iommufd_sim_engine_step(IommufdSim *sim)
{
    unsigned i, n = 0;

    for (i = 0; i < sim->num_smmus; i++) {
        if (sim->smmus[i].cmdqv) {
            n += sim_cmdqv_step(sim->smmus[i].cmdqv);
        }
    }
    return n;
}

void iommufd_sim_set_cmd_trace(IommufdSim *sim, IommufdSimCmdTrace fn,
                               void *opaque)
{
    g_mutex_lock(&sim->lock);
    sim->trace = fn;
    sim->trace_opaque = opaque;
    g_mutex_unlock(&sim->lock);
}

struct SimSmmu *iommufd_sim_smmu_hw(IommufdSim *sim, unsigned smmu)
{
    return smmu < sim->num_smmus ? sim->smmus[smmu].hw : NULL;
}

struct SimCmdqv *iommufd_sim_cmdqv_hw(IommufdSim *sim, unsigned smmu)
{
    return smmu < sim->num_smmus ? sim->smmus[smmu].cmdqv : NULL;
}
