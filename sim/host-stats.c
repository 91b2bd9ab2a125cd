/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * iommufd-sim: counters and introspection. The host core counts ioctls,
 * invalidations and events; translations and IOTLB figures come from the
 * physical SMMUs, VCMDQ commands from the CMDQVs.
 */
#include <inttypes.h>

#include "sim-internal.h"

static const char *const sim_cmd_names[256] = {
    [0x01] = "PREFETCH_CONFIG",
    [0x02] = "PREFETCH_ADDR",
    [0x03] = "CFGI_STE",
    [0x04] = "CFGI_STE_RANGE",
    [0x05] = "CFGI_CD",
    [0x06] = "CFGI_CD_ALL",
    [0x10] = "TLBI_NH_ALL",
    [0x11] = "TLBI_NH_ASID",
    [0x12] = "TLBI_NH_VA",
    [0x13] = "TLBI_NH_VAA",
    [0x20] = "TLBI_EL3_ALL",
    [0x28] = "TLBI_S12_VMALL",
    [0x2a] = "TLBI_S2_IPA",
    [0x30] = "TLBI_NSNH_ALL",
    [0x40] = "ATC_INV",
    [0x41] = "PRI_RESP",
    [0x44] = "RESUME",
    [0x45] = "STALL_TERM",
    [0x46] = "CMD_SYNC",
};

unsigned sim_live_objects_locked(IommufdSim *sim)
{
    unsigned n = 0;
    guint id;

    for (id = 1; id < sim->objs->len; id++) {
        SimObj *obj = sim_obj_get_any(sim, id);

        if (obj && obj->type != SIM_OBJ_DEVICE) {
            n++;
        }
    }
    return n + g_hash_table_size(sim->fds) + g_list_length(sim->mmaps);
}

unsigned iommufd_sim_live_objects(IommufdSim *sim)
{
    unsigned n;

    g_mutex_lock(&sim->lock);
    n = sim_live_objects_locked(sim);
    g_mutex_unlock(&sim->lock);
    return n;
}

static void sim_get_stats_locked(IommufdSim *sim, IommufdSimStats *out)
{
    unsigned i;

    *out = sim->stats;
    for (i = 0; i < sim->num_smmus; i++) {
        SimSmmuStats s;

        sim_smmu_get_stats(sim->smmus[i].hw, &s);
        out->translations += s.translations;
        out->iotlb_hits += s.iotlb_hits;
        out->iotlb_misses += s.iotlb_misses;
        out->stale_iotlb_hits += s.stale_hits;
        out->faults += s.faults;
        if (sim->smmus[i].cmdqv) {
            out->vcmdq_commands += sim_cmdqv_commands(sim->smmus[i].cmdqv);
            out->vcmdq_kicks += sim_cmdqv_kicks(sim->smmus[i].cmdqv);
        }
    }
}

void iommufd_sim_get_stats(IommufdSim *sim, IommufdSimStats *out)
{
    g_mutex_lock(&sim->lock);
    sim_get_stats_locked(sim, out);
    g_mutex_unlock(&sim->lock);
}

static void sim_json_object(GString *s, SimObj *obj)
{
    g_string_append_printf(s, "{\"id\": %u, \"type\": \"%s\", \"users\": %u",
                           obj->id, obj->ops->name, obj->users);
    switch (obj->type) {
    case SIM_OBJ_HWPT_PAGING: {
        SimHwpt *h = (SimHwpt *)obj;

        g_string_append_printf(s, ", \"ioas\": %u, \"smmu\": %u, "
                               "\"vmid\": %u, \"nest_parent\": %s, "
                               "\"auto_domain\": %s, \"devices\": %u",
                               h->ioas->obj.id, h->smmu->index, h->vmid,
                               h->nest_parent ? "true" : "false",
                               h->auto_domain ? "true" : "false", h->ndevs);
        break;
    }
    case SIM_OBJ_HWPT_NESTED: {
        SimHwpt *h = (SimHwpt *)obj;

        g_string_append_printf(s, ", \"parent\": %u, \"viommu\": %u, "
                               "\"vste\": [\"0x%016" PRIx64 "\", \"0x%016"
                               PRIx64 "\"], \"devices\": %u",
                               h->parent->obj.id,
                               h->viommu ? h->viommu->obj.id : 0,
                               h->vste[0], h->vste[1], h->ndevs);
        break;
    }
    case SIM_OBJ_VIOMMU: {
        SimViommu *v = (SimViommu *)obj;

        g_string_append_printf(s, ", \"viommu_type\": %u, \"parent\": %u, "
                               "\"vmid\": %u", v->type, v->parent->obj.id,
                               v->vmid);
        if (v->has_vintf) {
            g_string_append_printf(s, ", \"vintf\": %u", v->vintf);
        }
        break;
    }
    case SIM_OBJ_VDEVICE: {
        SimVdevice *v = (SimVdevice *)obj;

        g_string_append_printf(s, ", \"viommu\": %u, \"dev\": %u, "
                               "\"virt_id\": %" PRIu64, v->viommu->obj.id,
                               v->dev->obj.id, v->virt_id);
        break;
    }
    case SIM_OBJ_VEVENTQ: {
        SimVeventq *q = (SimVeventq *)obj;

        g_string_append_printf(s, ", \"viommu\": %u, \"veventq_type\": %u, "
                               "\"depth\": %u, \"queued\": %u, "
                               "\"fd_open\": %s", q->viommu->obj.id, q->type,
                               q->depth, q->num_events,
                               q->fd >= 0 ? "true" : "false");
        break;
    }
    case SIM_OBJ_HW_QUEUE: {
        SimHwQueue *q = (SimHwQueue *)obj;

        g_string_append_printf(s, ", \"viommu\": %u, \"index\": %u, "
                               "\"iova\": %" PRIu64 ", \"length\": %" PRIu64,
                               q->viommu->obj.id, q->index, q->iova,
                               q->length);
        break;
    }
    case SIM_OBJ_IOAS: {
        SimIoas *ioas = (SimIoas *)obj;

        g_string_append_printf(s, ", \"areas\": %u", ioas->areas->len);
        break;
    }
    case SIM_OBJ_DEVICE:
        break;
    }
    g_string_append_c(s, '}');
}

static void sim_json_device(GString *s, SimDevice *dev)
{
    const char *kind = "none";
    SimPhysSte ste = { { 0 } };
    unsigned i;

    if (dev->hwpt) {
        kind = dev->hwpt->obj.type == SIM_OBJ_HWPT_NESTED ? "nested" :
               dev->hwpt->nest_parent ? "nest_parent" : "paging";
        sim_smmu_get_ste(dev->smmu->hw, dev->psid, &ste);
    }
    g_string_append_printf(s, "{\"id\": %u, \"smmu\": %u, \"psid\": %u, "
                           "\"attached\": %u, \"attached_kind\": \"%s\", "
                           "\"vdevice\": %u, \"vsid\": %" PRIu64 ", "
                           "\"vmaster\": %s, \"atc_invs\": %u, "
                           "\"ste\": [",
                           dev->obj.id, dev->smmu->index, dev->psid,
                           dev->hwpt ? dev->hwpt->obj.id : 0, kind,
                           dev->vdev ? dev->vdev->obj.id : 0,
                           dev->vdev ? dev->vdev->virt_id : 0,
                           dev->vmaster ? "true" : "false",
                           sim_smmu_atc_invs(dev->smmu->hw, dev->psid));
    for (i = 0; i < 8; i++) {
        g_string_append_printf(s, "%s\"0x%016" PRIx64 "\"", i ? ", " : "",
                               ste.word[i]);
    }
    g_string_append(s, "]}");
}

char *iommufd_sim_stats_json(IommufdSim *sim)
{
    GString *s = g_string_new("{\"ioctls\": {");
    IommufdSimStats st;
    const char *sep = "";
    unsigned i;
    guint id;

    g_mutex_lock(&sim->lock);
    sim_get_stats_locked(sim, &st);
    for (i = 0; i < SIM_NR_IOCTLS; i++) {
        const char *name = sim_ioctl_name_by_index(i);

        if (name) {
            g_string_append_printf(s, "%s\"%s\": %" PRIu64, sep, name,
                                   st.ioctls[i]);
            sep = ", ";
        }
    }
    g_string_append_printf(s, "}, \"ioctl_errors\": %" PRIu64
                           ", \"invalidate_entries\": %" PRIu64
                           ", \"events\": {\"delivered\": %" PRIu64
                           ", \"lost\": %" PRIu64
                           ", \"host_only\": %" PRIu64 "}"
                           ", \"translations\": %" PRIu64
                           ", \"iotlb_hits\": %" PRIu64
                           ", \"iotlb_misses\": %" PRIu64
                           ", \"stale_iotlb_hits\": %" PRIu64
                           ", \"faults\": %" PRIu64
                           ", \"vcmdq_commands\": %" PRIu64
                           ", \"vcmdq_kicks\": %" PRIu64
                           ", \"live_objects\": %u",
                           st.ioctl_errors, st.invalidate_entries,
                           st.events_delivered, st.events_lost,
                           st.events_host_only, st.translations,
                           st.iotlb_hits, st.iotlb_misses,
                           st.stale_iotlb_hits, st.faults,
                           st.vcmdq_commands, st.vcmdq_kicks,
                           sim_live_objects_locked(sim));
    g_string_append(s, ", \"forwarded_cmds\": {");
    sep = "";
    for (i = 0; i < 256; i++) {
        if (st.cmds_forwarded[i]) {
            if (sim_cmd_names[i]) {
                g_string_append_printf(s, "%s\"%s\": %" PRIu64, sep,
                                       sim_cmd_names[i], st.cmds_forwarded[i]);
            } else {
                g_string_append_printf(s, "%s\"0x%02x\": %" PRIu64, sep, i,
                                       st.cmds_forwarded[i]);
            }
            sep = ", ";
        }
    }
    g_string_append(s, "}, \"objects\": [");
    sep = "";
    for (id = 1; id < sim->objs->len; id++) {
        SimObj *obj = sim_obj_get_any(sim, id);

        if (obj && obj->type != SIM_OBJ_DEVICE) {
            g_string_append(s, sep);
            sim_json_object(s, obj);
            sep = ", ";
        }
    }
    g_string_append(s, "], \"devices\": [");
    sep = "";
    for (id = 1; id < sim->objs->len; id++) {
        SimObj *obj = sim_obj_get(sim, id, SIM_OBJ_DEVICE);

        if (obj) {
            g_string_append(s, sep);
            sim_json_device(s, (SimDevice *)obj);
            sep = ", ";
        }
    }
    g_string_append_printf(s, "], \"open_fds\": %u, \"mmaps\": %u}",
                           g_hash_table_size(sim->fds),
                           g_list_length(sim->mmaps));
    g_mutex_unlock(&sim->lock);
    return g_string_free(s, false);
}
