/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Host-accelerated SMMUv3: the guest's stage 1 is executed by the host
 * IOMMU through iommufd nesting (hw/arm/smmuv3-accel.c).
 *
 * The emulated SMMUv3 (hw/arm/smmuv3.c) keeps the guest-visible register
 * file and queues; with accel=on it calls these hooks, always with the
 * BQL held, from its command-queue consumer (with s->mutex held), its
 * register writes and its reset.
 */
#ifndef HW_ARM_SMMUV3_ACCEL_H
#define HW_ARM_SMMUV3_ACCEL_H

#include "hw/arm/smmuv3.h"
#include "smmuv3-internal.h"

#define TYPE_SMMUV3_ACCEL_IOMMU_MEMORY_REGION "smmuv3-accel-iommu-memory-region"

/* Property checks shared by accel=on and accel=off (realize time). */
bool smmuv3_accel_check_properties(SMMUv3State *s, Error **errp);
bool smmuv3_accel_realize(SMMUv3State *s, Error **errp);
/* After the registers were reset: release every host object. */
void smmuv3_accel_reset(SMMUv3State *s);
/* CR0 (SMMUEN, EVENTQEN) or GBPA changed. */
void smmuv3_accel_config_changed(SMMUv3State *s);
/* CFGI_STE / CFGI_STE_RANGE / CFGI_ALL for StreamIDs [start, end]. */
void smmuv3_accel_install_ste(SMMUv3State *s, uint32_t start, uint32_t end);

/*
 * Passed-through devices (SMMUBaseClass hooks, for every SMMUv3: they do
 * nothing without accel=on). A VFIO device's DMA bypasses QEMU, so its
 * address space is the system's; vfio-pci hands over its host IOMMU
 * device at realize and takes it back at unrealize.
 */
bool smmuv3_accel_direct_dma(SMMUState *bs, PCIDevice *pdev);
bool smmuv3_accel_set_iommu_device(SMMUState *bs, SMMUDevice *sdev,
                                   HostIOMMUDevice *hiod, Error **errp);
void smmuv3_accel_unset_iommu_device(SMMUState *bs, SMMUDevice *sdev);
/* The doorbell of a passed-through device's MSIs: the machine's msi-gpa. */
bool smmuv3_accel_msi_direct_gpa(SMMUState *bs, PCIDevice *pdev, hwaddr *gpa);

/*
 * The commands forwarded to the host (stage-1 TLB, CD and ATC
 * invalidations): smmuv3.c's command dispatcher executes them locally
 * (QEMU's own caches) and hands them over here. Queue @cmd, read at
 * guest CMDQ index @cons, for the host. On a host failure returns the
 * guest-visible command error and sets *fail_cons to the index of the
 * command that failed.
 */
int smmuv3_accel_batch_cmd(SMMUv3State *s, const Cmd *cmd, uint32_t cons,
                           uint32_t *fail_cons);
/* Issue what is queued (at CMD_SYNC and when the queue is drained). */
int smmuv3_accel_sync(SMMUv3State *s, uint32_t *fail_cons);

/*
 * Implementation extensions (the Tegra241 CMDQV) plug in here, as Linux's
 * arm_smmu_impl_ops do. Called with the BQL and s->mutex held.
 */
typedef struct SMMUv3AccelImplOps {
    /*
     * A VFIO device @name (@dev_id) joins the SMMU: can its host SMMU back
     * the extension offered at realize? Refusing fails its realize.
     */
    bool (*check_host)(void *opaque, uint32_t dev_id, const char *name,
                       Error **errp);
    /* IOMMU_VIOMMU_ALLOC of the extension's type, plus what it needs. */
    bool (*viommu_alloc)(void *opaque, uint32_t dev_id, uint32_t s2_hwpt_id,
                         uint32_t *viommu_id, Error **errp);
    /* Release everything that holds the vIOMMU, before it is destroyed. */
    void (*host_down)(void *opaque);
    /* Guest-visible reset, after host_down. */
    void (*reset)(void *opaque);
} SMMUv3AccelImplOps;

/*
 * An extension registers its probe (at module init): at realize it may
 * claim the SMMU by setting *ops and *opaque. @dev_id is a device bound
 * behind the host SMMU, or 0 when none is known yet (/dev/iommu, before
 * the first VFIO device: check_host then follows for each of them).
 */
typedef bool (*SMMUv3AccelImplProbe)(SMMUv3State *s, uint32_t dev_id,
                                     const SMMUv3AccelImplOps **ops,
                                     void **opaque, Error **errp);
void smmuv3_accel_register_impl(SMMUv3AccelImplProbe probe);

/*
 * Bring the host objects (IOAS, S2 HWPT, vIOMMU) up now, for guest
 * programming that needs them before any device DMA. Takes s->mutex.
 */
bool smmuv3_accel_host_ensure(SMMUv3State *s, Error **errp);
/* Close a vEVENTQ's fd and destroy the queue (see smmuv3-accel.c). */
void smmuv3_accel_veventq_close(SMMUv3State *s, int fd, uint32_t id);
/*
 * Destroy host object @id; one the host refuses is destroyed later (by
 * smmuv3_accel_host_reap(), before allocations that could meet it, and
 * at each teardown), never forgotten.
 */
void smmuv3_accel_host_destroy(SMMUv3State *s, uint32_t id);
void smmuv3_accel_host_reap(SMMUv3State *s);
/* The host's SMMU IDRs (IOMMU_GET_HW_INFO), for the extension's checks. */
const uint32_t *smmuv3_accel_host_idr(SMMUv3State *s);
IOMMUFDBackend *smmuv3_accel_backend(SMMUv3State *s);

#endif
