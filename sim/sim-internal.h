/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * iommufd-sim host core: the object model shared by the host-*.c files.
 * Internal to sim/; the public API is iommufd-sim.h.
 *
 * Every object lives in one id table (IommufdSim.objs, ids from 1, lowest
 * free id first, as the kernel's xarray) and carries an explicit "users"
 * count. The table itself owns one user; every other holder (a child
 * object, an attached device, an open fd, a live mmap) owns one more.
 * IOMMU_DESTROY succeeds only when users == 1, else EBUSY, exactly as
 * iommufd_object_remove() does.
 *
 * All of this is protected by IommufdSim.lock. The physical SMMU (smmu-hw)
 * and the CMDQV (cmdqv-hw) have their own locks, always taken inside ours
 * or alone. Functions named sim_*_locked expect the host lock held.
 */
#ifndef SIM_INTERNAL_H
#define SIM_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include <glib.h>
#include <linux/iommufd.h>

#include "iommufd-sim.h"
#include "smmu-hw.h"
#include "cmdqv-hw.h"
#include "smmu-defs.h"

#define SIM_PAGE_SIZE           4096ull
#define SIM_NR_IOCTLS           32
#define SIM_VEVENTQ_MAX_DEPTH   (1u << 19)
#define SIM_INV_ENTRY_NUM_MAX   (1u << 19)
#define SIM_CMDQ_BATCH          64      /* BITS_PER_LONG: 63 cmds + sync */
#define SIM_VINTF_PAGE0_SIZE    0x10000ull

typedef enum SimObjType {
    SIM_OBJ_DEVICE = 1,
    SIM_OBJ_IOAS,
    SIM_OBJ_HWPT_PAGING,
    SIM_OBJ_HWPT_NESTED,
    SIM_OBJ_VIOMMU,
    SIM_OBJ_VDEVICE,
    SIM_OBJ_VEVENTQ,
    SIM_OBJ_HW_QUEUE,
} SimObjType;

typedef struct SimObj SimObj;

/*
 * What the object table needs of a type (iommufd_object_ops): each type's
 * file defines its record, so the table knows no type by name.
 */
typedef struct SimObjOps {
    SimObjType type;
    const char *name;           /* in the stats JSON */
    /* Free what the object holds; its users are gone, its id released. */
    void (*destroy)(IommufdSim *sim, SimObj *obj);
} SimObjOps;

/* The common head of every object; first member of each object struct. */
struct SimObj {
    SimObjType type;
    const SimObjOps *ops;
    uint32_t id;
    unsigned users;             /* 1 = the id table's own reference */
};

typedef struct SimHostSmmu SimHostSmmu;
typedef struct SimIoas SimIoas;
typedef struct SimHwpt SimHwpt;
typedef struct SimViommu SimViommu;
typedef struct SimVdevice SimVdevice;
typedef struct SimVeventq SimVeventq;
typedef struct SimHwQueue SimHwQueue;
typedef struct SimDevice SimDevice;

/* One physical SMMUv3 (and its CMDQV) of the host. */
struct SimHostSmmu {
    IommufdSim *sim;
    unsigned index;
    SimSmmu *hw;
    SimCmdqv *cmdqv;            /* NULL with no_cmdqv */
    uint64_t vmid_map[65536 / 64];
};

/* A mapping made by IOAS_MAP_FILE; shared by the areas split from it. */
typedef struct SimFileMap {
    unsigned refs;
    void *addr;
    size_t len;
} SimFileMap;

/* A contiguous IOVA range of an IOAS backed by contiguous user memory. */
typedef struct SimArea {
    uint64_t iova;
    uint64_t length;
    uint8_t *hva;
    bool readable;
    bool writeable;
    unsigned pins;              /* HW_QUEUEs pinning it: unmap is EBUSY */
    SimFileMap *fmap;
    bool pfnmap;                /* user VA in an iommufd mmap: unpinnable */
} SimArea;

/*
 * IOAS. Lifecycle: IOAS_ALLOC creates it; every paging HWPT on it holds a
 * user; DESTROY when only the table holds it unmaps everything.
 */
/*
 * The host's software MSI window (IOMMU_RESV_SW_MSI, as arm-smmu-v3
 * reports it): the kernel maps the MSI doorbell there in every paging
 * domain. The simulator lets stage 2 pass this IPA range through, so
 * that a device's MSI write that stage 1 sends there reaches the
 * interrupt controller the VMM emulates at that address. It is a hole
 * in IOMMU_IOAS_IOVA_RANGES once a domain exists.
 */
#define SIM_SW_MSI_BASE     0x8000000ull
#define SIM_SW_MSI_SIZE     0x100000ull
/* Linux 7.2's IOMMU_HW_CAP_PCI_ATS_NOT_SUPPORTED (newer than the headers) */
#define SIM_HW_CAP_PCI_ATS_NOT_SUPPORTED (1ull << 3)

#define SIM_SW_MSI_LAST     (SIM_SW_MSI_BASE + SIM_SW_MSI_SIZE - 1)

/*
 * Reserved IOVA, as the kernel keeps it in an io_pagetable: outside the
 * aperture of every paging domain on the IOAS (added with the domain),
 * and the SW_MSI window of every device attached through it (added at
 * attach, dropped at detach). A FIXED map there is EINVAL; adding a
 * domain or attaching a device over an existing mapping is EADDRINUSE.
 * With no domain the IOVA alignment is 1 byte, else the page size.
 */

struct SimIoas {
    SimObj obj;
    uint8_t *msi_window;        /* stands for the doorbells; never read */
    GPtrArray *areas;           /* SimArea *, sorted by iova */
    GList *hwpts;               /* paging HWPTs allocated on it */
    unsigned msi_devs;          /* devices reserving SW_MSI here */
    bool huge_pages;
};

/*
 * HW pagetable. Paging: holds its IOAS, owns a VMID of its SMMU (the S2
 * of every nested domain above it). Auto domains are created by attaching
 * a device to an IOAS and destroyed when their last device detaches.
 * Nested (vIOMMU-based): holds its vIOMMU. Nested (parent-based): holds
 * its parent. Every attached device holds a user.
 */
struct SimHwpt {
    SimObj obj;
    SimHostSmmu *smmu;
    unsigned ndevs;
    /* paging */
    SimIoas *ioas;
    bool nest_parent;
    bool auto_domain;
    uint64_t aperture_last;     /* S1 domain: 48 bits; S2: the OAS */
    uint16_t vmid;
    /* nested */
    SimHwpt *parent;            /* the S2: viommu->parent or own parent */
    SimViommu *viommu;          /* NULL when parent-based */
    uint64_t vste[2];           /* validated, EATS stripped */
    bool ats;
};

/* A live mmap of a vIOMMU's VINTF page0; holds the vIOMMU. */
typedef struct SimMmap {
    SimViommu *viommu;
    void *addr;
    size_t length;
} SimMmap;

/*
 * vIOMMU. Holds its parent (NEST_PARENT) HWPT and inherits its VMID.
 * Held by its nested HWPTs, vDEVICEs, vEVENTQs, HW_QUEUEs and live mmaps.
 * TEGRA241 type owns a VINTF of its SMMU's CMDQV (freed at destroy) and
 * an mmap cookie for the VINTF page0.
 */
struct SimViommu {
    SimObj obj;
    uint32_t type;
    SimHostSmmu *smmu;
    SimHwpt *parent;
    uint16_t vmid;
    GList *vdevs;               /* SimVdevice * */
    GList *veventqs;            /* SimVeventq *, one per type */
    /* TEGRA241_CMDQV */
    bool has_vintf;
    unsigned vintf;
    int page0_fd;
    uint64_t mmap_offset;
    SimHwQueue *queues[64];
};

/*
 * vDEVICE. Holds its vIOMMU and its device. Unbinding the device destroys
 * it and leaves its id as a tombstone (ENOENT, not reused until free).
 */
struct SimVdevice {
    SimObj obj;
    SimViommu *viommu;
    SimDevice *dev;
    uint64_t virt_id;
    bool has_slot;
    unsigned slot;              /* TEGRA241 SID_MATCH/REPLACE slot */
};

/* One queued record of a vEVENTQ (or its LOST_EVENTS header). */
typedef struct SimVevent {
    struct iommufd_vevent_header hdr;
    uint32_t len;
    uint64_t data[4];
} SimVevent;

/*
 * vEVENTQ. Holds its vIOMMU; its fd holds it until iommufd_sim_close().
 * The kernel's deliver list is a ring of @num_events records from @head,
 * then the LOST_EVENTS header if @lost_queued: that header only ever
 * stands last (a new record supersedes it), so a ring and a flag hold the
 * list exactly. The ring grows by doubling up to @depth and is never
 * shrunk, so a queue in steady use allocates nothing per event.
 * The eventfd counter is non-zero exactly while something is queued.
 */
struct SimVeventq {
    SimObj obj;
    SimViommu *viommu;
    uint32_t type;
    uint32_t depth;
    uint32_t num_events;        /* normal records queued */
    uint32_t sequence;          /* of the next record, wraps at INT_MAX */
    SimVevent *ring;
    uint32_t ring_size;         /* records @ring has room for, <= depth */
    uint32_t head;              /* index in @ring of the oldest record */
    bool lost_queued;
    SimVevent lost;             /* its header, when @lost_queued */
    int fd;                     /* -1 once closed */
    bool signaled;
};

/*
 * HW_QUEUE (TEGRA241 VCMDQ). Holds its vIOMMU and the previous queue
 * (index - 1), pins the IOAS areas of [iova, iova + length).
 */
struct SimHwQueue {
    SimObj obj;
    SimViommu *viommu;
    unsigned index;
    uint64_t iova;
    uint64_t length;
    SimIoas *ioas;
    SimHwQueue *prev;
};

/*
 * A bound device (VFIO stand-in). In the id space, but not destroyable
 * through IOMMU_DESTROY (its binding holds a second user: EBUSY).
 */
struct SimDevice {
    SimObj obj;
    SimHostSmmu *smmu;
    uint32_t psid;
    SimHwpt *hwpt;              /* attached HWPT, holds a user of it */
    SimIoas *resv_ioas;         /* where its SW_MSI window is reserved */
    SimVdevice *vdev;
    /* The arm-smmu-v3 "vmaster": set at a nested attach, else clear. */
    SimViommu *vmaster;
    uint64_t vmaster_vsid;
};

typedef struct SimInject {
    unsigned countdown;
    int err;
} SimInject;

struct IommufdSim {
    GMutex lock;
    uint32_t idr[6];
    uint32_t iidr;
    uint32_t aidr;
    unsigned ias_bits;
    unsigned log2_vcmdqs;
    unsigned log2_vsids;
    bool parent_nesting;
    bool no_canwbs;             /* devices not CANWBS: nesting needs FWB */
    unsigned num_smmus;
    SimHostSmmu *smmus;
    GPtrArray *objs;            /* by id: NULL, SIM_TOMBSTONE or SimObj * */
    GHashTable *fds;            /* fd -> SimVeventq * */
    GList *mmaps;               /* SimMmap * */
    bool account_mm;
    SimInject inject[SIM_NR_IOCTLS];
    uint32_t inv_fail_entry;    /* next HWPT_INVALIDATE fails there ... */
    int inv_fail_err;           /* ... with this errno (0: no injection) */
    IommufdSimStats stats;      /* the host-side counters */
    IommufdSimCmdTrace trace;
    void *trace_opaque;
};

#define SIM_TOMBSTONE ((gpointer)&sim_tombstone_marker)
extern const int sim_tombstone_marker;

/* A decoded ioctl: the kernel's copy of the user's struct. */
typedef struct SimUcmd {
    IommufdSim *sim;
    void *ubuf;
    uint32_t user_size;
    void *cmd;
} SimUcmd;

static inline void sim_ucmd_respond(SimUcmd *u, size_t len)
{
    memcpy(u->ubuf, u->cmd, MIN((size_t)u->user_size, len));
}

/* The object types, each in its own file. */
extern const SimObjOps sim_device_ops;
extern const SimObjOps sim_hwpt_paging_ops;
extern const SimObjOps sim_hwpt_nested_ops;
extern const SimObjOps sim_ioas_ops;
extern const SimObjOps sim_veventq_ops;
extern const SimObjOps sim_viommu_ops;
extern const SimObjOps sim_vdevice_ops;
extern const SimObjOps sim_hw_queue_ops;

/* host-obj.c: ids and reference counts */
void sim_obj_insert(IommufdSim *sim, SimObj *obj, const SimObjOps *ops);
SimObj *sim_obj_get(IommufdSim *sim, uint32_t id, SimObjType type);
SimObj *sim_obj_get_any(IommufdSim *sim, uint32_t id);
void sim_obj_tombstone(IommufdSim *sim, SimObj *obj);
int sim_obj_remove(IommufdSim *sim, SimObj *obj);
/* Drop a user; an auto domain left with only the table's user goes. */
void sim_obj_put_and_try_destroy(IommufdSim *sim, SimObj *obj);
void sim_obj_destroy_all(IommufdSim *sim);
int sim_ioctl_destroy(SimUcmd *u);

/* host-ioas.c */
SimIoas *sim_ioas_new(IommufdSim *sim);
void *sim_ioas_s2_lookup(void *opaque, uint64_t ipa, uint64_t len,
                         bool write);
uint64_t sim_ioas_iova_alignment(SimIoas *ioas);
int sim_ioas_domain_fits(SimIoas *ioas, uint64_t aperture_last);
int sim_ioas_reserve_msi(SimIoas *ioas);
void sim_ioas_unreserve_msi(SimIoas *ioas);
int sim_ioas_pin(SimIoas *ioas, uint64_t iova, uint64_t length, void **hva);
void sim_ioas_unpin(SimIoas *ioas, uint64_t iova, uint64_t length);
int sim_ioctl_ioas_alloc(SimUcmd *u);
int sim_ioctl_ioas_map(SimUcmd *u);
int sim_ioctl_ioas_map_file(SimUcmd *u);
int sim_ioctl_ioas_unmap(SimUcmd *u);
int sim_ioctl_ioas_copy(SimUcmd *u);
int sim_ioctl_ioas_iova_ranges(SimUcmd *u);
int sim_ioctl_option(SimUcmd *u);

/* host-hwpt.c */
int sim_hwpt_paging_new(IommufdSim *sim, SimIoas *ioas, SimHostSmmu *smmu,
                        bool nest_parent, bool auto_domain, SimHwpt **out);
void sim_hwpt_make_ste(SimHwpt *hwpt, SimPhysSte *ste, SimS2 *s2);
void sim_hwpt_flush_vmid(SimHwpt *hwpt);
int sim_ioctl_hwpt_alloc(SimUcmd *u);
int sim_ioctl_hwpt_set_dirty_tracking(SimUcmd *u);
int sim_ioctl_hwpt_get_dirty_bitmap(SimUcmd *u);

/* host-device.c */
void sim_device_detach_locked(IommufdSim *sim, SimDevice *dev);
void sim_device_unbind_all(IommufdSim *sim);
int sim_ioctl_get_hw_info(SimUcmd *u);

/* host-viommu.c */
SimVdevice *sim_viommu_find_vdev(SimViommu *viommu, SimDevice *dev);
SimDevice *sim_viommu_find_dev(SimViommu *viommu, uint64_t virt_id);
int sim_ioctl_viommu_alloc(SimUcmd *u);
int sim_ioctl_vdevice_alloc(SimUcmd *u);
int sim_ioctl_hw_queue_alloc(SimUcmd *u);
void sim_mmap_release_all(IommufdSim *sim);
bool sim_mmap_overlaps(IommufdSim *sim, const void *addr, uint64_t length);

/* host-invalidate.c */
int sim_ioctl_hwpt_invalidate(SimUcmd *u);
void sim_issue_cmd(SimHostSmmu *hs, const uint64_t cmd[2], bool vcmdq);

/* host-veventq.c */
SimVeventq *sim_viommu_find_veventq(SimViommu *viommu, uint32_t type);
int sim_ioctl_veventq_alloc(SimUcmd *u);
void sim_veventq_close_all(IommufdSim *sim);
/* 0 queued (possibly as lost), -EOPNOTSUPP no queue of @type. */
int sim_viommu_report_event(IommufdSim *sim, SimViommu *viommu,
                            uint32_t type, const void *data, size_t len);
/* Route a physical event as arm_smmu_handle_event(): 1 forwarded, 0 not */
int sim_route_event_locked(IommufdSim *sim, SimDevice *dev,
                           const uint64_t evt[4]);
void sim_cmdqv_vintf_error_cb(void *opaque, unsigned vintf,
                              const uint64_t err_map[2]);

/* host-stats.c */
const char *sim_ioctl_name_by_index(unsigned idx);
unsigned sim_live_objects_locked(IommufdSim *sim);

#endif
