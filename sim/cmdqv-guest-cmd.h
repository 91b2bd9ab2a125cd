/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What a Tegra241 VCMDQ of a guest-owned VINTF (HYP_OWN = 0) may run,
 * and how the hardware rewrites it: TLBI_NH_ASID and TLBI_NH_VA get the
 * VINTF's VMID, ATC_INV's virtual StreamID becomes the physical one of
 * the matching SID_MATCH/SID_REPLACE pair, CMD_SYNC completes in the
 * queue; everything else, and an ATC_INV with no matching slot, is
 * illegal (CONS.ERR = ILL).
 *
 * Pure functions of the command and the VINTF's registers, shared by
 * the two models of the hardware: the simulated host's CMDQV
 * (sim/cmdqv-hw.c) and the emulated one of QEMU's SMMUv3
 * (hw/arm/tegra241-cmdqv-hw.c), so that both apply one set of rules.
 * Plain C: no glib, no QEMU headers, and no register layout beyond the
 * SID_MATCH fields (each model names its registers its own way).
 */
#ifndef SIM_CMDQV_GUEST_CMD_H
#define SIM_CMDQV_GUEST_CMD_H

#include <stdbool.h>
#include <stdint.h>

#include "smmu-defs.h"

/* VINTF SID_MATCH: (vSID << 1) | ENABLE */
#define CMDQV_SID_MATCH_ENABLE      SIM_BIT(0)
#define CMDQV_SID_MATCH_VIRT_SID    SIM_GENMASK(20, 1)

typedef enum CmdqvGuestCmd {
    CMDQV_GUEST_CMD_ILLEGAL,    /* stop the queue with CONS.ERR = ILL */
    CMDQV_GUEST_CMD_EXEC,       /* run the rewritten command on the SMMU */
    CMDQV_GUEST_CMD_SYNC,       /* CMD_SYNC: completes when CONS passes it */
} CmdqvGuestCmd;

/* vSID -> pSID through the enabled slots of @sid_match/@sid_replace. */
static inline bool cmdqv_guest_sid(const uint32_t *sid_match,
                                   const uint32_t *sid_replace,
                                   unsigned nr_sids, uint32_t vsid,
                                   uint32_t *psid)
{
    unsigned s;

    for (s = 0; s < nr_sids; s++) {
        uint32_t match = sid_match[s];

        if ((match & CMDQV_SID_MATCH_ENABLE) &&
            SIM_FIELD_GET(CMDQV_SID_MATCH_VIRT_SID, match) == vsid) {
            *psid = sid_replace[s];
            return true;
        }
    }
    return false;
}

/*
 * Decode and rewrite in place the command @cmd (CPU-endian words) queued
 * on a guest-owned VINTF with VMID @vmid and @nr_sids SID slots.
 */
static inline CmdqvGuestCmd cmdqv_guest_cmd(uint64_t cmd[2], uint16_t vmid,
                                            const uint32_t *sid_match,
                                            const uint32_t *sid_replace,
                                            unsigned nr_sids)
{
    uint32_t psid;

    switch (SIM_FIELD_GET(SIM_CMD0_OP, cmd[0])) {
    case SIM_CMD_TLBI_NH_ASID:
    case SIM_CMD_TLBI_NH_VA:
        cmd[0] = (cmd[0] & ~SIM_CMD0_TLBI_VMID) |
                 SIM_FIELD_PREP(SIM_CMD0_TLBI_VMID, vmid);
        return CMDQV_GUEST_CMD_EXEC;
    case SIM_CMD_ATC_INV:
        if (!cmdqv_guest_sid(sid_match, sid_replace, nr_sids,
                             SIM_FIELD_GET(SIM_CMD0_SID, cmd[0]), &psid)) {
            return CMDQV_GUEST_CMD_ILLEGAL;
        }
        cmd[0] = (cmd[0] & ~SIM_CMD0_SID) | SIM_FIELD_PREP(SIM_CMD0_SID, psid);
        return CMDQV_GUEST_CMD_EXEC;
    case SIM_CMD_SYNC:
        return CMDQV_GUEST_CMD_SYNC;
    default:
        return CMDQV_GUEST_CMD_ILLEGAL;
    }
}

#endif
