/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The NVIDIA Tegra241 CMDQV hardware of the simulated host: VINTFs, their
 * SID_MATCH/SID_REPLACE slots, VCMDQ BASE programming and an engine that
 * consumes guest-owned VCMDQs straight from the VINTF page0 (shared
 * memory) and guest memory, with no caller involvement. Internal to sim/.
 *
 * Lifecycle: the host core allocates a VINTF per TEGRA241 vIOMMU, a SID
 * slot per vDEVICE and a queue per HW_QUEUE object, and frees them in
 * reverse. VINTF0 belongs to the host and is never handed out.
 * Locking: one mutex per SimCmdqv. The engine calls ops->exec and
 * ops->vintf_error with that mutex released.
 * No call here waits for the engine, except sim_cmdqv_stop and
 * sim_cmdqv_free, which join the worker: call those neither from an op
 * nor holding a lock that ops->exec takes. A command the engine fetched
 * just before a queue or VINTF is freed may still reach ops->exec right
 * after the free returns, as a command in flight on hardware would.
 * Errors beyond the kernel's: a VINTF that is not allocated (or VINTF0),
 * or an index past the queues or SID slots, gives -EINVAL.
 */
#ifndef SIM_CMDQV_HW_H
#define SIM_CMDQV_HW_H

#include <stdbool.h>
#include <stdint.h>

typedef struct SimCmdqvOps {
    /* Run a command on the SMMU (VMID / pSID already rewritten). */
    void (*exec)(void *opaque, const uint64_t cmd[2]);
    /*
     * A VCMDQ of VINTF @vintf stopped with an error; @err_map is the
     * VINTF's LVCMDQ_ERR_MAP (128 bits).
     */
    void (*vintf_error)(void *opaque, unsigned vintf,
                        const uint64_t err_map[2]);
    void *opaque;
} SimCmdqvOps;

typedef struct SimCmdqv SimCmdqv;

/*
 * 2^log2_vintfs VINTFs (<= 64), 2^log2_vcmdqs VCMDQs in all (<= 128,
 * split evenly, at least one per VINTF), 2^log2_vsids SID slots per VINTF
 * (<= 16): NULL otherwise. @ops is copied; its members may be NULL.
 */
SimCmdqv *sim_cmdqv_new(unsigned log2_vintfs, unsigned log2_vcmdqs,
                        unsigned log2_vsids, const SimCmdqvOps *ops);
void sim_cmdqv_free(SimCmdqv *cmdqv);

/* -ENOSPC when every VINTF but VINTF0 is taken. Enables it (HYP_OWN=0). */
int sim_cmdqv_vintf_alloc(SimCmdqv *cmdqv, uint16_t vmid, unsigned *vintf);
void sim_cmdqv_vintf_free(SimCmdqv *cmdqv, unsigned vintf);
/*
 * memfd of the VINTF logical page0 (64 KiB); mapping it shares the page.
 * The fd stays the model's (dup or mmap it, don't close it); vintf_free
 * closes it, while mappings made from it stay valid. -EINVAL if none.
 */
int sim_cmdqv_vintf_page0_fd(SimCmdqv *cmdqv, unsigned vintf);

/*
 * SID_REPLACE[slot] = psid, SID_MATCH[slot] = vsid << 1 | 1. -ENOSPC.
 * A vsid wider than SID_MATCH.VIRT_SID (20 bits): -EINVAL.
 */
int sim_cmdqv_sid_alloc(SimCmdqv *cmdqv, unsigned vintf, uint32_t vsid,
                        uint32_t psid, unsigned *slot);
void sim_cmdqv_sid_free(SimCmdqv *cmdqv, unsigned vintf, unsigned slot);

/*
 * Program VCMDQ @index of @vintf: BASE = @base_ipa, LOG2SIZE from
 * @length, queue memory at @hva (pinned by the caller). Errors as the
 * kernel's tegra241 driver: index out of range -EINVAL, taken -EEXIST,
 * index - 1 not allocated -EIO, length not a power of two, < 32 or
 * > (16 << cmdqs_log2) -EINVAL, base not aligned to length or beyond
 * bit 47 -EINVAL.
 */
int sim_cmdqv_queue_alloc(SimCmdqv *cmdqv, unsigned vintf, unsigned index,
                          uint64_t base_ipa, void *hva, uint64_t length,
                          unsigned cmdqs_log2);
/* -EBUSY while index + 1 is allocated. */
/* -ENOENT when @index is not allocated. Resets its page0 registers. */
int sim_cmdqv_queue_free(SimCmdqv *cmdqv, unsigned vintf, unsigned index);

/* Stop queue @index with CONS.ERR = @err and report it, as hardware. */
/* @err is a CONS.ERR code, 1..127; -EINVAL for 0, wider, or no queue. */
int sim_cmdqv_inject_error(SimCmdqv *cmdqv, unsigned vintf, unsigned index,
                           unsigned err);

/* One pass over every enabled queue of every VINTF: commands consumed. */
unsigned sim_cmdqv_step(SimCmdqv *cmdqv);
/*
 * The queues of user VINTF @vintf run now, in the caller's thread, until
 * they are idle (or a few thousand commands are done, the rest left to
 * the worker): what a VMM calls after its guest wrote a PROD of that
 * VINTF's page0, when it can see the write (TCG). Hardware notices PROD
 * by itself; this only takes the worker's polling delay off a guest that
 * waits for its CMD_SYNC. Returns the commands consumed; 0 for a VINTF
 * that is not allocated.
 */
unsigned sim_cmdqv_kick(SimCmdqv *cmdqv, unsigned vintf);
void sim_cmdqv_start(SimCmdqv *cmdqv);
void sim_cmdqv_stop(SimCmdqv *cmdqv);

/*
 * Host-side register view (global and VINTF pages), for tests/tools.
 * Offsets as in the 0x50000 CMDQV window (sim/cmdqv-regs.h), VINTF i's
 * logical pages at 0x30000 + 0x20000 * i; 0 for anything unimplemented.
 * sim_cmdqv_commands counts every consumed command, CMD_SYNC included.
 */
uint32_t sim_cmdqv_read_reg(SimCmdqv *cmdqv, uint64_t offset);
uint64_t sim_cmdqv_commands(SimCmdqv *cmdqv);
/* sim_cmdqv_kick calls so far. */
uint64_t sim_cmdqv_kicks(SimCmdqv *cmdqv);

#endif
