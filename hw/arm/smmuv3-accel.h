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

/* Commands forwarded to the host (stage-1 TLB, CD and ATC invalidations). */
bool smmuv3_accel_cmd_forwarded(uint32_t opcode);
/*
 * Queue @cmd, read at guest CMDQ index @cons, for the host. On a host
 * failure returns the guest-visible command error and sets *fail_cons
 * to the index of the command that failed.
 */
int smmuv3_accel_batch_cmd(SMMUv3State *s, const Cmd *cmd, uint32_t cons,
                           uint32_t *fail_cons);
/* Issue what is queued (at CMD_SYNC and when the queue is drained). */
int smmuv3_accel_sync(SMMUv3State *s, uint32_t *fail_cons);

#endif
