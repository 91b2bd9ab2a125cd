/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * iommufd-sim: the object table. One id space for devices and objects,
 * ids from 1 and lowest free first (the kernel's XA_FLAGS_ALLOC1 xarray),
 * tombstones that keep an id taken, and the "users" rule of DESTROY.
 */
#include <errno.h>

#include "sim-internal.h"

const int sim_tombstone_marker;

void sim_obj_insert(IommufdSim *sim, SimObj *obj, const SimObjOps *ops)
{
    guint id;

    for (id = 1; id < sim->objs->len; id++) {
        if (!g_ptr_array_index(sim->objs, id)) {
            break;
        }
    }
    if (id == sim->objs->len) {
        g_ptr_array_add(sim->objs, NULL);
    }
    g_ptr_array_index(sim->objs, id) = obj;
    obj->type = ops->type;
    obj->ops = ops;
    obj->id = id;
    obj->users = 1;
}

SimObj *sim_obj_get_any(IommufdSim *sim, uint32_t id)
{
    gpointer p;

    if (id == 0 || id >= sim->objs->len) {
        return NULL;
    }
    p = g_ptr_array_index(sim->objs, id);
    return p == SIM_TOMBSTONE ? NULL : p;
}

SimObj *sim_obj_get(IommufdSim *sim, uint32_t id, SimObjType type)
{
    SimObj *obj = sim_obj_get_any(sim, id);

    return obj && obj->type == type ? obj : NULL;
}

static void sim_obj_release_id(IommufdSim *sim, SimObj *obj, bool tombstone)
{
    g_ptr_array_index(sim->objs, obj->id) = tombstone ? SIM_TOMBSTONE : NULL;
}

static void sim_obj_free(IommufdSim *sim, SimObj *obj)
{
    obj->ops->destroy(sim, obj);
    g_free(obj);
}

/* iommufd_object_remove(): only the table may still hold it. */
int sim_obj_remove(IommufdSim *sim, SimObj *obj)
{
    if (obj->users != 1) {
        return -EBUSY;
    }
    obj->users = 0;
    sim_obj_release_id(sim, obj, false);
    sim_obj_free(sim, obj);
    return 0;
}

/* The id stays taken: DESTROY gives ENOENT, alloc skips it until free. */
void sim_obj_tombstone(IommufdSim *sim, SimObj *obj)
{
    g_assert(obj->users == 1);
    obj->users = 0;
    sim_obj_release_id(sim, obj, true);
    sim_obj_free(sim, obj);
}

void sim_obj_put_and_try_destroy(IommufdSim *sim, SimObj *obj)
{
    g_assert(obj->users > 1);
    obj->users--;
    if (obj->users == 1) {
        sim_obj_remove(sim, obj);
    }
}

/*
 * Closing the iommufd: destroy whatever nothing else holds, until the
 * table is empty (the dependency graph is acyclic), then drop tombstones.
 */
void sim_obj_destroy_all(IommufdSim *sim)
{
    bool progress = true;

    while (progress) {
        guint id;

        progress = false;
        for (id = 1; id < sim->objs->len; id++) {
            gpointer p = g_ptr_array_index(sim->objs, id);

            if (p && p != SIM_TOMBSTONE &&
                sim_obj_remove(sim, p) == 0) {
                progress = true;
            }
        }
    }
    g_ptr_array_set_size(sim->objs, 1);
}

int sim_ioctl_destroy(SimUcmd *u)
{
    struct iommu_destroy *cmd = u->cmd;
    SimObj *obj = sim_obj_get_any(u->sim, cmd->id);

    if (!obj) {
        return -ENOENT;
    }
    return sim_obj_remove(u->sim, obj);
}
