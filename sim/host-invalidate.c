/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * iommufd-sim: IOMMU_HWPT_INVALIDATE through a vIOMMU, as
 * arm_vsmmu_cache_invalidate() does it: each guest command is converted
 * (VMID rewritten, vSID -> pSID) or refused with EIO, and converted
 * commands go to the physical SMMU in batches of up to 63 plus a
 * CMD_SYNC. On an error entry_num is the index of the failing entry.
 */
#include <errno.h>

#include "sim-internal.h"

/* Issue one command to a physical SMMU (host lock held or engine). */
void sim_issue_cmd(SimHostSmmu *hs, const uint64_t cmd[2], bool vcmdq)
{
    IommufdSim *sim = hs->sim;

    sim_smmu_exec(hs->hw, cmd);
    if (sim->trace) {
        sim->trace(sim->trace_opaque, hs->index, vcmdq, cmd);
    }
}

/* arm_vsmmu_convert_user_cmd() */
static int sim_convert_cmd(SimViommu *viommu, uint64_t cmd[2])
{
    uint64_t vmid = SIM_FIELD_PREP(SIM_CMD0_TLBI_VMID, viommu->vmid);
    SimDevice *dev;

    switch (SIM_FIELD_GET(SIM_CMD0_OP, cmd[0])) {
    case SIM_CMD_TLBI_NSNH_ALL:
        cmd[0] = SIM_CMD_TLBI_NH_ALL | vmid;
        cmd[1] = 0;
        break;
    case SIM_CMD_TLBI_NH_VA:
    case SIM_CMD_TLBI_NH_VAA:
    case SIM_CMD_TLBI_NH_ALL:
    case SIM_CMD_TLBI_NH_ASID:
        cmd[0] = (cmd[0] & ~SIM_CMD0_TLBI_VMID) | vmid;
        break;
    case SIM_CMD_ATC_INV:
    case SIM_CMD_CFGI_CD:
    case SIM_CMD_CFGI_CD_ALL:
        dev = sim_viommu_find_dev(viommu,
                                  SIM_FIELD_GET(SIM_CMD0_SID, cmd[0]));
        if (!dev) {
            return -EIO;
        }
        cmd[0] = (cmd[0] & ~SIM_CMD0_SID) |
                 SIM_FIELD_PREP(SIM_CMD0_SID, dev->psid);
        break;
    default:
        return -EIO;
    }
    return 0;
}

typedef struct SimCmdEnt {
    uint64_t w[2];
} SimCmdEnt;

/* Issue @n commands and a CMD_SYNC, as arm_smmu_cmdq_issue_cmdlist(). */
static int sim_issue_batch(IommufdSim *sim, SimHostSmmu *hs,
                           SimCmdEnt *cmds, unsigned n)
{
    uint64_t sync[2] = { SIM_CMD_SYNC, 0 };
    unsigned i;

    for (i = 0; i < n; i++) {
        if (sim_smmu_exec(hs->hw, cmds[i].w)) {
            return -EIO;
        }
        sim->stats.cmds_forwarded[SIM_FIELD_GET(SIM_CMD0_OP, cmds[i].w[0])]++;
        if (sim->trace) {
            sim->trace(sim->trace_opaque, hs->index, false, cmds[i].w);
        }
    }
    sim->stats.cmds_forwarded[SIM_CMD_SYNC]++;
    sim_issue_cmd(hs, sync, false);
    return 0;
}

/* iommu_copy_struct_from_full_user_array() of le64 cmd[2] entries. */
static int sim_copy_entries(const struct iommu_hwpt_invalidate *cmd,
                            SimCmdEnt *cmds)
{
    const uint8_t *src = (const uint8_t *)(uintptr_t)cmd->data_uptr;
    const size_t esz = sizeof(struct iommu_viommu_arm_smmuv3_invalidate);
    uint32_t i;

    if (cmd->data_type != IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3) {
        return -EINVAL;
    }
    if (!cmd->entry_num) {
        return -EINVAL;
    }
    for (i = 0; i < cmd->entry_num; i++) {
        const uint8_t *e = src + (size_t)cmd->entry_len * i;
        size_t k;

        memset(&cmds[i], 0, esz);
        memcpy(&cmds[i], e, MIN(esz, (size_t)cmd->entry_len));
        for (k = esz; k < cmd->entry_len; k++) {
            if (e[k]) {
                return -E2BIG;
            }
        }
    }
    return 0;
}

static int sim_viommu_cache_invalidate(IommufdSim *sim, SimViommu *viommu,
                                       const struct iommu_hwpt_invalidate *cmd,
                                       uint32_t *done)
{
    g_autofree SimCmdEnt *cmds = NULL;
    uint32_t cur, last = 0;
    int rc;

    *done = 0;
    cmds = g_new0(SimCmdEnt, MAX(cmd->entry_num, 1u));
    rc = sim_copy_entries(cmd, cmds);
    if (rc) {
        return rc;
    }
    for (cur = 0; cur < cmd->entry_num;) {
        if (sim->inv_fail_err && cur == sim->inv_fail_entry) {
            /* Injected: the host rejects this entry. */
            rc = -sim->inv_fail_err;
            sim->inv_fail_err = 0;
            break;
        }
        rc = sim_convert_cmd(viommu, cmds[cur].w);
        if (rc) {
            break;
        }
        cur++;
        if (cur != cmd->entry_num && cur - last != SIM_CMDQ_BATCH - 1) {
            continue;
        }
        rc = sim_issue_batch(sim, viommu->smmu, &cmds[last], cur - last);
        if (rc) {
            cur--;
            break;
        }
        last = cur;
    }
    *done = cur;
    return rc;
}

int sim_ioctl_hwpt_invalidate(SimUcmd *u)
{
    struct iommu_hwpt_invalidate *cmd = u->cmd;
    uint32_t done = 0;
    SimObj *obj;
    int rc;

    if (cmd->__reserved) {
        rc = -EOPNOTSUPP;
        goto out;
    }
    if (cmd->entry_num &&
        (!cmd->data_uptr || !cmd->entry_len ||
         cmd->entry_len > SIM_PAGE_SIZE ||
         cmd->entry_num > SIM_INV_ENTRY_NUM_MAX)) {
        rc = -EINVAL;
        goto out;
    }
    obj = sim_obj_get_any(u->sim, cmd->hwpt_id);
    if (!obj) {
        rc = -ENOENT;
        goto out;
    }
    if (obj->type == SIM_OBJ_HWPT_NESTED) {
        /* arm-smmu-v3 nested domains have no cache_invalidate_user */
        rc = -EOPNOTSUPP;
    } else if (obj->type == SIM_OBJ_VIOMMU) {
        rc = sim_viommu_cache_invalidate(u->sim, (SimViommu *)obj, cmd,
                                         &done);
    } else {
        rc = -EINVAL;
    }
out:
    cmd->entry_num = done;
    u->sim->stats.invalidate_entries += done;
    sim_ucmd_respond(u, sizeof(*cmd));
    return rc;
}
