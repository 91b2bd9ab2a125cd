/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * iommufd-sim: vEVENTQs and the events that reach them. A queue's fd is a
 * real eventfd, readable exactly while records are queued; read() has
 * the kernel's record semantics (iommufd_veventq_fops_read), including
 * the LOST_EVENTS header that stands at the tail of a full queue.
 * Events come from translation faults and injected records (routed as
 * arm_smmu_handle_event() routes them) and from CMDQV VINTF errors.
 */
#include <errno.h>
#include <limits.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "sim-internal.h"

static bool sim_veventq_empty(SimVeventq *q)
{
    return !q->num_events && !q->lost_queued;
}

/* Keep the eventfd readable exactly while something is queued. */
static void sim_veventq_update_fd(SimVeventq *q)
{
    bool want = !sim_veventq_empty(q);
    uint64_t v = 1;

    if (q->fd < 0 || want == q->signaled) {
        return;
    }
    if (want) {
        if (write(q->fd, &v, sizeof(v)) != sizeof(v)) {
            return;
        }
    } else if (read(q->fd, &v, sizeof(v)) != sizeof(v)) {
        return;
    }
    q->signaled = want;
}

SimVeventq *sim_viommu_find_veventq(SimViommu *viommu, uint32_t type)
{
    GList *l;

    for (l = viommu->veventqs; l; l = l->next) {
        if (((SimVeventq *)l->data)->type == type) {
            return l->data;
        }
    }
    return NULL;
}

static void sim_veventq_destroy(IommufdSim *sim, SimObj *obj)
{
    SimVeventq *q = (SimVeventq *)obj;

    g_assert(q->fd < 0);
    g_free(q->ring);
    q->viommu->veventqs = g_list_remove(q->viommu->veventqs, q);
    q->viommu->obj.users--;
}

const SimObjOps sim_veventq_ops = {
    .type = SIM_OBJ_VEVENTQ,
    .name = "veventq",
    .destroy = sim_veventq_destroy,
};

int sim_ioctl_veventq_alloc(SimUcmd *u)
{
    struct iommu_veventq_alloc *cmd = u->cmd;
    IommufdSim *sim = u->sim;
    SimViommu *viommu;
    SimVeventq *q;
    int fd;

    if (cmd->flags || cmd->__reserved ||
        cmd->type == IOMMU_VEVENTQ_TYPE_DEFAULT) {
        return -EOPNOTSUPP;
    }
    if (!cmd->veventq_depth || cmd->veventq_depth > SIM_VEVENTQ_MAX_DEPTH) {
        return -EINVAL;
    }
    viommu = (SimViommu *)sim_obj_get(sim, cmd->viommu_id, SIM_OBJ_VIOMMU);
    if (!viommu) {
        return -ENOENT;
    }
    /* A type no driver reports can still be allocated, as in Linux. */
    if (sim_viommu_find_veventq(viommu, cmd->type)) {
        return -EEXIST;
    }
    fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0) {
        return -errno;
    }
    q = g_new0(SimVeventq, 1);
    q->viommu = viommu;
    q->type = cmd->type;
    q->depth = cmd->veventq_depth;
    q->lost.hdr.flags = IOMMU_VEVENTQ_FLAG_LOST_EVENTS;
    q->fd = fd;
    viommu->veventqs = g_list_append(viommu->veventqs, q);
    viommu->obj.users++;
    sim_obj_insert(sim, &q->obj, &sim_veventq_ops);
    q->obj.users++;             /* the fd */
    g_hash_table_insert(sim->fds, GINT_TO_POINTER(fd), q);
    cmd->out_veventq_id = q->obj.id;
    cmd->out_veventq_fd = fd;
    sim_ucmd_respond(u, sizeof(*cmd));
    return 0;
}

/* The ring index @n records after the head (n <= ring_size). */
static uint32_t sim_veventq_index(SimVeventq *q, uint32_t n)
{
    uint32_t i = q->head + n;

    return i >= q->ring_size ? i - q->ring_size : i;
}

/* Room for one more record: double the ring, up to the queue's depth. */
static void sim_veventq_grow(SimVeventq *q)
{
    uint32_t size = MIN(q->depth, MAX(64u, q->ring_size * 2));
    SimVevent *ring = g_new(SimVevent, size);
    uint32_t first = MIN(q->num_events, q->ring_size - q->head);

    if (q->num_events) {
        memcpy(ring, q->ring + q->head, first * sizeof(*ring));
        memcpy(ring + first, q->ring,
               (q->num_events - first) * sizeof(*ring));
    }
    g_free(q->ring);
    q->ring = ring;
    q->ring_size = size;
    q->head = 0;
}

/*
 * iommufd_vevent_handler(): a LOST_EVENTS header last is superseded by
 * the new record; either gets the next sequence number.
 */
static void sim_veventq_add_lost(SimVeventq *q)
{
    q->lost_queued = true;
    q->lost.hdr.sequence = q->sequence;
    q->sequence = (q->sequence + 1) & INT_MAX;
    sim_veventq_update_fd(q);
}

/* iommufd_viommu_report_event() */
int sim_viommu_report_event(IommufdSim *sim, SimViommu *viommu,
                            uint32_t type, const void *data, size_t len)
{
    SimVeventq *q = sim_viommu_find_veventq(viommu, type);
    SimVevent *ev;

    if (!q) {
        return -EOPNOTSUPP;
    }
    if (q->num_events == q->depth) {
        sim->stats.events_lost++;
        sim_veventq_add_lost(q);
        return 0;
    }
    if (q->num_events == q->ring_size) {
        sim_veventq_grow(q);
    }
    ev = &q->ring[sim_veventq_index(q, q->num_events)];
    ev->hdr.flags = 0;
    ev->hdr.sequence = q->sequence;
    ev->len = MIN(len, sizeof(ev->data));
    memcpy(ev->data, data, ev->len);
    q->sequence = (q->sequence + 1) & INT_MAX;
    q->lost_queued = false;
    q->num_events++;
    sim->stats.events_delivered++;
    sim_veventq_update_fd(q);
    return 0;
}

/* arm_smmu_handle_event() for one physical event of @dev. */
int sim_route_event_locked(IommufdSim *sim, SimDevice *dev,
                           const uint64_t evt[4])
{
    struct iommu_vevent_arm_smmuv3 vevt;
    int i;

    switch (SIM_FIELD_GET(SIM_EVT0_ID, evt[0])) {
    case SIM_EVT_C_BAD_STE:
    case SIM_EVT_F_STREAM_DISABLED:
    case SIM_EVT_C_BAD_SUBSTREAMID:
    case SIM_EVT_C_BAD_CD:
    case SIM_EVT_F_TRANSLATION:
    case SIM_EVT_F_ADDR_SIZE:
    case SIM_EVT_F_ACCESS:
    case SIM_EVT_F_PERMISSION:
        break;
    default:
        goto host_only;
    }
    /* Stall events go to the IOPF path, S2 faults stay with the host. */
    if ((evt[1] & SIM_EVT1_STALL) || !dev->vmaster ||
        (evt[1] & SIM_EVT1_S2)) {
        goto host_only;
    }
    /* arm_vmaster_report_event(): the StreamID becomes the vSID */
    vevt.evt[0] = (evt[0] & ~SIM_EVT0_SID) |
                  SIM_FIELD_PREP(SIM_EVT0_SID, (uint32_t)dev->vmaster_vsid);
    for (i = 1; i < 4; i++) {
        vevt.evt[i] = evt[i];
    }
    if (sim_viommu_report_event(sim, dev->vmaster,
                                IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, &vevt,
                                sizeof(vevt)) == 0) {
        return 1;
    }
host_only:
    sim->stats.events_host_only++;
    return 0;
}

/* SimCmdqvOps.vintf_error: called without the CMDQV lock. */
void sim_cmdqv_vintf_error_cb(void *opaque, unsigned vintf,
                              const uint64_t err_map[2])
{
    SimHostSmmu *hs = opaque;
    IommufdSim *sim = hs->sim;
    struct iommu_vevent_tegra241_cmdqv vevt = {
        .lvcmdq_err_map = { err_map[0], err_map[1] },
    };
    guint id;

    g_mutex_lock(&sim->lock);
    for (id = 1; id < sim->objs->len; id++) {
        SimViommu *v = (SimViommu *)sim_obj_get(sim, id, SIM_OBJ_VIOMMU);

        if (v && v->smmu == hs && v->has_vintf && v->vintf == vintf) {
            if (sim_viommu_report_event(sim, v,
                                        IOMMU_VEVENTQ_TYPE_TEGRA241_CMDQV,
                                        &vevt, sizeof(vevt))) {
                sim->stats.events_host_only++;
            }
            break;
        }
    }
    g_mutex_unlock(&sim->lock);
}

static SimVeventq *sim_veventq_by_fd(IommufdSim *sim, int fd)
{
    return g_hash_table_lookup(sim->fds, GINT_TO_POINTER(fd));
}

/*
 * iommufd_veventq_fops_read(): whole records while they fit; a record
 * that does not stays queued (the kernel's deliver_restore), and if it is
 * the first, the read fails with EINVAL.
 */
ssize_t iommufd_sim_read(IommufdSim *sim, int fd, void *buf, size_t count,
                         const off_t *offset)
{
    const size_t hsz = sizeof(struct iommufd_vevent_header);
    uint8_t *out = buf;
    SimVeventq *q;
    size_t done = 0;
    ssize_t rc = 0;

    g_mutex_lock(&sim->lock);
    q = sim_veventq_by_fd(sim, fd);
    if (!q) {
        rc = -EBADF;
        goto out;
    }
    if (offset && *offset) {
        rc = -ESPIPE;
        goto out;
    }
    if (count < hsz) {
        rc = -EINVAL;
        goto out;
    }
    while (q->num_events) {
        const SimVevent *ev = &q->ring[q->head];

        if (hsz + ev->len > count - done) {
            if (done == 0) {
                rc = -EINVAL;
            }
            goto update;
        }
        memcpy(out + done, &ev->hdr, hsz);
        memcpy(out + done + hsz, ev->data, ev->len);
        done += hsz + ev->len;
        q->head = sim_veventq_index(q, 1);
        q->num_events--;
    }
    if (q->lost_queued && hsz <= count - done) {
        memcpy(out + done, &q->lost.hdr, hsz);
        done += hsz;
        q->lost_queued = false;
    }
update:
    sim_veventq_update_fd(q);
out:
    g_mutex_unlock(&sim->lock);
    return done ? (ssize_t)done : rc;
}

static void sim_veventq_close_fd(IommufdSim *sim, SimVeventq *q)
{
    g_hash_table_remove(sim->fds, GINT_TO_POINTER(q->fd));
    close(q->fd);
    q->fd = -1;
    q->signaled = false;
    q->obj.users--;
}

int iommufd_sim_close(IommufdSim *sim, int fd)
{
    SimVeventq *q;
    int rc = 0;

    g_mutex_lock(&sim->lock);
    q = sim_veventq_by_fd(sim, fd);
    if (q) {
        sim_veventq_close_fd(sim, q);
    } else {
        rc = -EBADF;
    }
    g_mutex_unlock(&sim->lock);
    return rc;
}

void sim_veventq_close_all(IommufdSim *sim)
{
    GList *qs = g_hash_table_get_values(sim->fds), *l;

    for (l = qs; l; l = l->next) {
        sim_veventq_close_fd(sim, l->data);
    }
    g_list_free(qs);
}
