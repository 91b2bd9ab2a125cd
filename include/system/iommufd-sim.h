/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * iommufd-sim: a simulated host IOMMU behind the iommufd backend API.
 *
 * -object iommufd-sim,id=ID[,smmus=N][,cmdqv=on|off][,vintfs-log2=N]
 *        [,vcmdqs-log2=N][,vsids-log2=N][,engine=on|off][,stats-file=PATH]
 *
 * It is an iommufd backend (TYPE_IOMMUFD_BACKEND) whose host calls are
 * answered by the sim/ library instead of /dev/iommu, so the accelerated
 * SMMUv3 runs the same code on it as on a real host. What a real host
 * gets from VFIO (a bound device, attaching it, its DMA going through the
 * physical SMMU) the simulator offers for emulated endpoints through the
 * backend's emulated-device operations (iommufd_backend_claim_instance(),
 * iommufd_backend_new_emulated_device()): device models never call the
 * simulator directly.
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
    uint32_t *next_psid;        /* per SMMU: the next emulated device's */
    bool cmdqv;
    uint32_t vintfs_log2;       /* 2^N VINTFs, VINTF0 the host's */
    uint32_t vcmdqs_log2;       /* 2^N VCMDQs per VINTF */
    uint32_t vsids_log2;
    bool engine;
    char *stats_file;
};

/*
 * The host IOMMU device of an emulated endpoint bound to a simulated SMMU
 * (iommufd_backend_new_emulated_device()).
 */
#define TYPE_HOST_IOMMU_DEVICE_IOMMUFD_SIM TYPE_HOST_IOMMU_DEVICE_IOMMUFD "-sim"
OBJECT_DECLARE_SIMPLE_TYPE(HostIOMMUDeviceIOMMUFDSim,
                           HOST_IOMMU_DEVICE_IOMMUFD_SIM)

struct HostIOMMUDeviceIOMMUFDSim {
    HostIOMMUDeviceIOMMUFD parent_obj;

    IOMMUFDSim *sim;
    uint32_t psid;              /* its physical StreamID */
};

#endif
