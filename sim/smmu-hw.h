/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The physical SMMUv3 of the simulated host: stream table, CD fetch,
 * AArch64 stage-1 walks through a stage 2 given by the IOAS, an IOTLB
 * keyed as hardware keys it, stale-entry detection, command execution and
 * event records. Internal to sim/.
 *
 * Lifecycle: a SimSmmu is created per physical instance by the host and
 * freed with it. STEs are installed by the host core (which owns the
 * objects they point at) and cleared before those objects go.
 * Locking: each SimSmmu has its own mutex; every function takes it.
 * IOTLB and CD-cache entries point into stage-2 memory: as Linux does, the
 * host issues TLBI_S12_VMALL (or TLBI_S2_IPA) for the VMID before an IOAS
 * range is unmapped or freed. install/clear_ste imply CFGI_STE for the SID.
 * Field layouts (STE, CD, commands, events) are in smmu-defs.h.
 */
#ifndef SIM_SMMU_HW_H
#define SIM_SMMU_HW_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Stage 2 as the host kernel builds it from an IOAS: IPA (= IOAS IOVA) to
 * an address in this process. lookup() returns the host address of @ipa
 * if [ipa, ipa + len) is mapped (writable if @write), else NULL. Called
 * with the SMMU lock held; must not call back into the SMMU.
 */
typedef struct SimS2 {
    void *(*lookup)(void *opaque, uint64_t ipa, uint64_t len, bool write);
    void *opaque;
    unsigned ias_bits;      /* IPA size the S2 accepts (OAS of the host) */
} SimS2;

typedef struct SimPhysSte {
    uint64_t word[8];
} SimPhysSte;

/* STE builders, following Linux's arm-smmu-v3 host driver. */
void sim_ste_abort(SimPhysSte *ste);
/* A plain stage-2 STE (Config = S2 only) for @vmid over @s2. */
void sim_ste_s2(SimPhysSte *ste, uint16_t vmid, unsigned ias_bits);
/*
 * Validate a guest vSTE (the two words of IOMMU_HWPT_DATA_ARM_SMMUV3) as
 * the kernel does: 0 or -EIO. On success *out is the vSTE to store (EATS
 * stripped, V=0 turned into an abort config).
 */
int sim_vste_check(const uint64_t vste[2], uint64_t out[2], bool *ats);
/*
 * The physical STE of a nested domain: the S2 STE with Config = nested
 * (or bypass -> plain S2, abort -> abort), the vSTE's allowed fields OR-ed
 * in and MEV set.
 */
void sim_ste_nested(SimPhysSte *ste, const uint64_t vste[2], uint16_t vmid,
                    unsigned ias_bits);

typedef struct SimSmmu SimSmmu;

SimSmmu *sim_smmu_new(const uint32_t idr[6]);
void sim_smmu_free(SimSmmu *smmu);

/* Stream table. @s2 is copied; its opaque must outlive the STE. */
void sim_smmu_install_ste(SimSmmu *smmu, uint32_t psid,
                          const SimPhysSte *ste, const SimS2 *s2);
void sim_smmu_clear_ste(SimSmmu *smmu, uint32_t psid);
bool sim_smmu_get_ste(SimSmmu *smmu, uint32_t psid, SimPhysSte *ste);

enum {
    SIM_ACC_R = 1 << 0,
    SIM_ACC_W = 1 << 1,
    SIM_ACC_X = 1 << 2,
    SIM_ACC_PRIV = 1 << 3,
};

typedef struct SimXlate {
    uint64_t ipa;
    void *hva;
    uint64_t len;           /* bytes from iova to the end of the page */
    unsigned perm;          /* SIM_ACC_R | SIM_ACC_W | SIM_ACC_X */
    bool iotlb_hit;
    bool stale;
    uint64_t event[4];      /* valid when the call returns -EFAULT */
    bool s2_fault;          /* event has S2 = 1 (stays with the host) */
} SimXlate;

/*
 * Translate one access. 0: done. -EFAULT: a fault, event[] built per the
 * SMMUv3 architecture (C_BAD_STE, F_STREAM_DISABLED, C_BAD_SUBSTREAMID,
 * C_BAD_CD, F_TRANSLATION, F_ADDR_SIZE, F_ACCESS, F_PERMISSION, with
 * StreamID = @psid, SSV/SubstreamID, InputAddr, RnW, InD, PnU, S2, CLASS
 * and IPA as the architecture defines). Config abort gives no event
 * (-EPERM); bypass returns the S2 result.
 */
int sim_smmu_translate(SimSmmu *smmu, uint32_t psid, bool ssv, uint32_t ssid,
                       uint64_t iova, unsigned access, SimXlate *out);

/*
 * Execute one physical command (as the host driver issues it: pSID and
 * host VMID already in place). Returns 0, or -EINVAL for an opcode the
 * physical SMMU does not know. TLBI_NH_ALL/ASID/VA/VAA and TLBI_S12_VMALL
 * and TLBI_NSNH_ALL clear the IOTLB entries they name (VA ranges honoured,
 * including the range form with TG/NUM/SCALE); CFGI_CD/CFGI_CD_ALL/
 * CFGI_STE drop cached CDs; ATC_INV and CMD_SYNC are counted.
 */
int sim_smmu_exec(SimSmmu *smmu, const uint64_t cmd[2]);

typedef struct SimSmmuStats {
    uint64_t translations, iotlb_hits, iotlb_misses, stale_hits, faults;
    uint64_t walks, cmds[256];
} SimSmmuStats;

void sim_smmu_get_stats(SimSmmu *smmu, SimSmmuStats *out);
/* ATC_INV commands the SMMU executed for StreamID @psid. */
unsigned sim_smmu_atc_invs(SimSmmu *smmu, uint32_t psid);
/* Number of IOTLB entries (for tests). */
unsigned sim_smmu_iotlb_size(SimSmmu *smmu);
/* Number of cached CDs (for tests). */
unsigned sim_smmu_cd_cache_size(SimSmmu *smmu);
/*
 * Enable or disable the IOTLB and CD cache (enabled at creation); either
 * way both are emptied. Disabled, every translation fetches the CD and
 * walks (benchmarks, tests of the walker).
 */
void sim_smmu_set_caching(SimSmmu *smmu, bool enabled);

#endif
