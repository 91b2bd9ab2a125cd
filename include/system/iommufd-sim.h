/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * iommufd-sim: a simulated host IOMMU behind the iommufd backend API.
 *
 * -object iommufd-sim,id=ID[,smmus=N][,cmdqv=on|off][,vcmdqs-log2=N]
 *        [,vsids-log2=N][,engine=on|off][,stats-file=PATH]
 *
 * It is an iommufd backend (TYPE_IOMMUFD_BACKEND) whose host calls are
 * answered by the sim/ library instead of /dev/iommu, so the accelerated
 * SMMUv3 runs the same code on it as on a real host. What a real host
 * gets from VFIO (a bound device, attaching it, its DMA going through the
 * physical SMMU) the simulator offers through the calls below, which the
 * device models use for emulated endpoints.
 */
#ifndef SYSTEM_IOMMUFD_SIM_H
#define SYSTEM_IOMMUFD_SIM_H

#include "system/iommufd.h"
#include "sim/iommufd-sim.h"

#define TYPE_IOMMUFD_SIM "iommufd-sim"
OBJECT_DECLARE_SIMPLE_TYPE(IOMMUFDSim, IOMMUFD_SIM)

struct IOMMUFDSim {
    IOMMUFDBackend parent_obj;

    IommufdSim *sim;
    Notifier exit_notifier;

    /* Properties: the host configuration. */
    uint32_t num_smmus;
    uint32_t smmus_claimed;     /* by accelerated SMMUs, in realize order */
    bool cmdqv;
    uint32_t vcmdqs_log2;
    uint32_t vsids_log2;
    bool engine;
    char *stats_file;
};

/* The simulator behind @be, or NULL if @be is a real /dev/iommu. */
IOMMUFDSim *iommufd_sim_from_backend(IOMMUFDBackend *be);

/* The next physical SMMU instance for an accelerated vSMMU. */
bool iommufd_sim_claim_smmu(IOMMUFDSim *s, unsigned *smmu, Error **errp);
bool iommufd_sim_bind_device(IOMMUFDSim *s, unsigned smmu, uint32_t psid,
                             uint32_t *dev_id, Error **errp);
bool iommufd_sim_attach_device(IOMMUFDSim *s, uint32_t dev_id,
                               uint32_t pt_id, Error **errp);
bool iommufd_sim_detach_device(IOMMUFDSim *s, uint32_t dev_id, Error **errp);
void iommufd_sim_unbind_device(IOMMUFDSim *s, uint32_t dev_id);

#endif
