/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * iommufd-sim: a simulated Linux host IOMMU stack.
 *
 * Answers the iommufd uAPI (linux/iommufd.h) exactly as Linux 7.2 does,
 * and models the physical ARM SMMUv3 (and its NVIDIA Tegra241 CMDQV
 * extension) underneath, so that a VMM's accelerated vSMMU can run with
 * no hardware. Standalone C11 + glib; no QEMU headers.
 *
 * Memory model: as with the kernel, IOMMU_IOAS_MAP takes a user virtual
 * address (user_va) of this process; stage 2 of every nested translation
 * is the IOAS (IOVA -> user address), stage 1 lives in guest memory that
 * is itself reached through the IOAS.
 *
 * Locking: every entry point may be called from any thread. One mutex per
 * simulated host (IommufdSim) serialises the object model; each physical
 * SMMU has its own lock for its stream table and IOTLB, taken inside the
 * host lock or alone (never the reverse). The CMDQV engine runs on its own
 * worker thread (iommufd_sim_start_engine) and takes the SMMU lock to
 * execute commands and the host lock only to queue a vEVENT. vEVENTQ fds
 * are ordinary file descriptors: read()/poll() on them need no lock.
 */
#ifndef IOMMUFD_SIM_H
#define IOMMUFD_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct IommufdSim IommufdSim;

/* Host configuration. Zero-initialise, then set what differs from Grace. */
typedef struct IommufdSimConfig {
    unsigned num_smmus;         /* physical SMMU instances; 0 means 1 */
    bool override_idr;          /* use idr[]/iidr/aidr below verbatim */
    uint32_t idr[6];
    uint32_t iidr;
    uint32_t aidr;
    bool no_cmdqv;              /* host without Tegra241 CMDQV */
    unsigned cmdqv_log2_vintfs; /* 0 means 6 (64 VINTFs, VINTF0 the host's) */
    unsigned cmdqv_log2_vcmdqs; /* per VINTF; 0 means 1 (2 VCMDQs) */
    unsigned cmdqv_vsids;       /* SID slots per VINTF, a power of two */
                                /* from 1 to 16; 0 means 16 */
    /*
     * Model a driver with domain_alloc_nested (like iommufd's selftest
     * mock) so HWPT_ALLOC on a paging pt_id makes a parent-based nested
     * HWPT. arm-smmu-v3 has none: by default that is EOPNOTSUPP.
     */
    bool parent_nesting;
    /*
     * The devices' root complex is not CANWBS (a device-tree host, or an
     * IORT without the flag; Grace's IORT has it). Linux then nests
     * (IOMMU_VIOMMU_ALLOC) only on an SMMU with IDR3.FWB.
     */
    bool no_canwbs;
} IommufdSimConfig;

/* NULL @cfg: all defaults. NULL if the CMDQV cannot have that geometry. */
IommufdSim *iommufd_sim_new(const IommufdSimConfig *cfg);
/* Destroys everything, like closing the iommufd and unbinding all devices. */
void iommufd_sim_free(IommufdSim *sim);

/*
 * The uAPI. @request is an IOMMU_* ioctl number of linux/iommufd.h, @arg
 * the struct it takes. Returns 0 or -errno exactly as the kernel would,
 * with the same output fields written (also on the errors where the
 * kernel writes them, e.g. entry_num of IOMMU_HWPT_INVALIDATE).
 */
int iommufd_sim_ioctl(IommufdSim *sim, unsigned long request, void *arg);

/*
 * mmap(2) of the iommufd (the TEGRA241 VINTF page0). Returns 0 and the
 * mapping in *out, or -errno as the kernel would (ENXIO, EINVAL, EPERM).
 */
int iommufd_sim_mmap(IommufdSim *sim, size_t length, int prot, int flags,
                     off_t offset, void **out);
int iommufd_sim_munmap(IommufdSim *sim, void *addr, size_t length);
/*
 * The VMM wrote the mapping at @addr (a VINTF page0): its queues run now,
 * in the caller's thread (sim_cmdqv_kick). A physical CMDQV notices PROD
 * by itself and needs no such call; the simulated one polls, and a VMM
 * that sees its guest's writes (TCG) saves the guest the polling delay.
 * Returns the commands consumed; 0 if @addr is no live mapping.
 */
unsigned iommufd_sim_mmap_written(IommufdSim *sim, void *addr);

/*
 * File descriptors the simulator hands out (vEVENTQ fds) are real: they
 * poll() readable (POLLIN) while records are queued, so a main loop can
 * watch them. Reading and closing go through the simulator, which gives
 * read() the kernel's semantics (whole records, ESPIPE for an offset,
 * EINVAL for a short buffer) and releases the fd's hold on its queue.
 * @offset is NULL for read(2), the position for pread(2).
 */
ssize_t iommufd_sim_read(IommufdSim *sim, int fd, void *buf, size_t count,
                         const off_t *offset);
int iommufd_sim_close(IommufdSim *sim, int fd);

/*
 * VFIO stand-ins. bind: a device with one physical StreamID on SMMU
 * instance @smmu, as VFIO_DEVICE_BIND_IOMMUFD. attach: attach or replace
 * to an IOAS/HWPT id, as VFIO_DEVICE_ATTACH_IOMMUFD_PT (an IOAS id
 * auto-creates a paging HWPT, written back in *pt_id). detach: as
 * VFIO_DEVICE_DETACH_IOMMUFD_PT. unbind: as closing the VFIO device fd
 * (destroys its vDEVICE, leaving a tombstone).
 */
int iommufd_sim_bind(IommufdSim *sim, unsigned smmu, uint32_t psid,
                     uint32_t *out_dev_id);
int iommufd_sim_attach(IommufdSim *sim, uint32_t dev_id, uint32_t *pt_id);
int iommufd_sim_detach(IommufdSim *sim, uint32_t dev_id);
int iommufd_sim_unbind(IommufdSim *sim, uint32_t dev_id);

/* DMA through the physical SMMU. */
enum {
    IOMMUFD_SIM_READ = 1 << 0,
    IOMMUFD_SIM_WRITE = 1 << 1,
    IOMMUFD_SIM_EXEC = 1 << 2,
    IOMMUFD_SIM_PRIV = 1 << 3,
};

typedef struct IommufdSimTranslation {
    uint64_t ipa;       /* stage-1 output (the IOAS IOVA, i.e. guest PA) */
    void *hva;          /* stage-2 output: address in this process */
    uint64_t len;       /* bytes valid from iova on, within the page */
    unsigned perm;      /* IOMMUFD_SIM_READ | IOMMUFD_SIM_WRITE ... */
    bool iotlb_hit;
    bool stale;         /* served from an IOTLB entry whose tables changed */
    bool fault;         /* then: */
    uint64_t event[4];  /* the physical event record (pSID in it) */
    bool forwarded;     /* the event went to a vEVENTQ (vSID rewritten) */
} IommufdSimTranslation;

/*
 * Translate @iova for device @dev_id (substream @ssid if @ssv). Returns 0
 * with the output, or -EFAULT with out->fault set and the event routed as
 * the host driver routes it; -ENOENT for an unknown device.
 */
int iommufd_sim_translate(IommufdSim *sim, uint32_t dev_id, bool ssv,
                          uint32_t ssid, uint64_t iova, unsigned access,
                          IommufdSimTranslation *out);

/* Fault injection. */
/* The largest errno a Linux system call returns (MAX_ERRNO). */
#define IOMMUFD_SIM_MAX_ERRNO   4095
/* The most events iommufd_sim_inject_events() takes in one call. */
#define IOMMUFD_SIM_INJECT_MAX  (1u << 24)
/*
 * The @nth (1-based) next call of ioctl @request fails with -@err; @nth 0
 * disarms what is armed for @request. Returns 0, or -EINVAL (nothing
 * changed) for a request that is not an iommufd ioctl or @err outside
 * 1..IOMMUFD_SIM_MAX_ERRNO: a failing ioctl always has an errno.
 */
int iommufd_sim_inject_errno(IommufdSim *sim, unsigned long request,
                             unsigned nth, int err);
/*
 * The next IOMMU_HWPT_INVALIDATE through a vIOMMU fails at entry @entry
 * with -@err, as when the host rejects that command: the entries before
 * it are issued, entry_num is written back as @entry. Returns 0, or
 * -EINVAL for @err outside 1..IOMMUFD_SIM_MAX_ERRNO.
 */
int iommufd_sim_inject_invalidate_error(IommufdSim *sim, uint32_t entry,
                                        int err);
/* The bound device with physical StreamID @psid on SMMU @smmu, or 0. */
uint32_t iommufd_sim_find_device(IommufdSim *sim, unsigned smmu,
                                 uint32_t psid);
/*
 * A hardware event on device @dev_id: @evt is the record as the physical
 * SMMU would write it; its StreamID field is set to the device's pSID.
 * Routed as the host driver routes it. Returns 1 if it went to a vEVENTQ
 * (queued, or lost to a full one), 0 if only logged host-side, -ENOENT
 * for an unknown device.
 */
int iommufd_sim_inject_event(IommufdSim *sim, uint32_t dev_id,
                             const uint64_t evt[4]);
/*
 * @count such events in one call (a storm, as a device faulting on every
 * access makes), the Nth with @addr_step * N added to its word 2 (the
 * input address). Returns how many went to a vEVENTQ (queued, or lost
 * there to a full queue: stats.events_lost counts those), the rest were
 * only logged host-side; -ENOENT for an unknown device.
 */
int iommufd_sim_inject_events(IommufdSim *sim, uint32_t dev_id,
                              const uint64_t evt[4], uint32_t count,
                              uint64_t addr_step);
/*
 * Make the VCMDQ @index of the VINTF behind @viommu_id fail with CONS.ERR
 * @err (1 ILL, 2 ABT, 3 ATC sync timeout), as the hardware would.
 */
int iommufd_sim_inject_vcmdq_error(IommufdSim *sim, uint32_t viommu_id,
                                   unsigned index, unsigned err);

/* CMDQV engine: a worker thread, or deterministic steps for tests. */
void iommufd_sim_start_engine(IommufdSim *sim);
void iommufd_sim_stop_engine(IommufdSim *sim);
/* Runs every enabled VCMDQ to its PROD once; returns commands consumed. */
unsigned iommufd_sim_engine_step(IommufdSim *sim);

/* Introspection. */
typedef struct IommufdSimStats {
    uint64_t ioctls[32];            /* by IOMMUFD_CMD_* - 0x80 */
    uint64_t ioctl_errors;
    uint64_t invalidate_entries;    /* entries handled by HWPT_INVALIDATE */
    uint64_t cmds_forwarded[256];   /* by opcode, as issued to the SMMU */
    uint64_t vcmdq_commands;        /* executed from guest VCMDQs */
    uint64_t vcmdq_kicks;           /* iommufd_sim_mmap_written calls */
    uint64_t events_delivered;      /* normal records queued to vEVENTQs */
    uint64_t events_lost;           /* records dropped at a full vEVENTQ */
    uint64_t events_host_only;      /* logged host-side, not forwarded */
    uint64_t translations;
    uint64_t iotlb_hits;
    uint64_t iotlb_misses;
    uint64_t stale_iotlb_hits;
    uint64_t faults;
} IommufdSimStats;

void iommufd_sim_get_stats(IommufdSim *sim, IommufdSimStats *out);
/*
 * Number of live host objects: IOAS, HWPTs, vIOMMUs, vDEVICEs, vEVENTQs,
 * HW_QUEUEs, plus every still-open vEVENTQ fd and every live VINTF mmap
 * (each is a host resource a VMM must release). Not bound devices, not
 * vDEVICE tombstones.
 */
unsigned iommufd_sim_live_objects(IommufdSim *sim);
/*
 * JSON: {"ioctls": {"IOMMU_HWPT_ALLOC": n, ...}, "invalidate_entries": n,
 * "events": {"delivered": n, "lost": n, "host_only": n},
 * "stale_iotlb_hits": n, "vcmdq_commands": n, "vcmdq_kicks": n,
 * "live_objects": n,
 * "objects": [{"id": n, "type": "hwpt_nested", ...}], ...}.
 * Free with g_free().
 */
char *iommufd_sim_stats_json(IommufdSim *sim);

/* What the physical SMMU holds for a bound device (for tests and tools). */
typedef struct IommufdSimDeviceInfo {
    unsigned smmu;
    uint32_t psid;
    uint32_t attached_id;       /* HWPT id, 0 if detached */
    const char *attached_kind;  /* "paging", "nest_parent", "nested", NULL */
    uint64_t ste[8];            /* the physical STE installed for psid */
    bool has_vdevice;
    uint32_t vdevice_id;
    uint64_t vsid;              /* virt_id of its vDEVICE */
    bool vmaster;               /* events route to a vIOMMU now */
} IommufdSimDeviceInfo;

int iommufd_sim_query_device(IommufdSim *sim, uint32_t dev_id,
                             IommufdSimDeviceInfo *out);

/* Name of an IOMMU_* ioctl ("IOMMU_HWPT_ALLOC"), or NULL. */
const char *iommufd_sim_ioctl_name(unsigned long request);

/*
 * Every command issued to a physical SMMU (by IOMMU_HWPT_INVALIDATE, with
 * @vcmdq false, or by the CMDQV engine from a guest VCMDQ, @vcmdq true),
 * as issued: pSID and host VMID in place. Called with internal locks
 * held, possibly from the engine thread: record, do not call back.
 */
typedef void (*IommufdSimCmdTrace)(void *opaque, unsigned smmu, bool vcmdq,
                                   const uint64_t cmd[2]);
void iommufd_sim_set_cmd_trace(IommufdSim *sim, IommufdSimCmdTrace fn,
                               void *opaque);
/* The SMMU/CMDQV a test or tool may inspect (internal types, opaque). */
struct SimSmmu *iommufd_sim_smmu_hw(IommufdSim *sim, unsigned smmu);
struct SimCmdqv *iommufd_sim_cmdqv_hw(IommufdSim *sim, unsigned smmu);

#endif
