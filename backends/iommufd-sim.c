/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * iommufd-sim: the simulated host as an iommufd backend object.
 *
 * The backend's class hooks send every host call (ioctl, mmap of the
 * iommufd, read/close of vEVENTQ fds) to the sim/ library, which answers
 * with the kernel's semantics. Statistics and the live-object inventory
 * are the "stats" property (JSON), and are written to stats-file at exit.
 */
#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qom/object_interfaces.h"
#include "qemu/error-report.h"
#include "qemu/cutils.h"
#include <linux/iommufd.h>
#include "system/system.h"
#include "system/iommufd-sim.h"
#include "trace.h"

static IommufdSim *sim_of(IOMMUFDBackend *be)
{
    return IOMMUFD_SIM(be)->sim;
}

/* The hooks return like the system calls: -1 and errno. */
static int iommufd_sim_hook_ioctl(IOMMUFDBackend *be, unsigned long request,
                                  void *arg)
{
    int ret = iommufd_sim_ioctl(sim_of(be), request, arg);

    if (ret < 0) {
        errno = -ret;
        return -1;
    }
    return ret;
}

static void *iommufd_sim_hook_mmap(IOMMUFDBackend *be, size_t length,
                                   int prot, int flags, off_t offset)
{
    void *p = NULL;
    int ret = iommufd_sim_mmap(sim_of(be), length, prot, flags, offset, &p);

    if (ret < 0) {
        errno = -ret;
        return MAP_FAILED;
    }
    return p;
}

static int iommufd_sim_hook_munmap(IOMMUFDBackend *be, void *addr,
                                   size_t length)
{
    int ret = iommufd_sim_munmap(sim_of(be), addr, length);

    if (ret < 0) {
        errno = -ret;
        return -1;
    }
    return 0;
}

static ssize_t iommufd_sim_hook_read(IOMMUFDBackend *be, int fd, void *buf,
                                     size_t count)
{
    ssize_t ret = iommufd_sim_read(sim_of(be), fd, buf, count, NULL);

    if (ret < 0) {
        errno = -ret;
        return -1;
    }
    return ret;
}

static int iommufd_sim_hook_close(IOMMUFDBackend *be, int fd)
{
    int ret = iommufd_sim_close(sim_of(be), fd);

    if (ret < 0) {
        errno = -ret;
        return -1;
    }
    return 0;
}

static bool iommufd_sim_created(IOMMUFDSim *s, Error **errp);

/* ---- emulated endpoints behind the simulated SMMUs ---- */

/* The first physical StreamID of each simulated SMMU's emulated devices. */
#define IOMMUFD_SIM_PSID0   0x100

static bool iommufd_sim_claim_instance(IOMMUFDBackend *be, unsigned *instance,
                                       Error **errp)
{
    IOMMUFDSim *s = IOMMUFD_SIM(be);

    if (s->smmus_claimed >= s->num_smmus) {
        error_setg(errp, "iommufd-sim: all %u simulated SMMU instance(s) "
                   "are taken", s->num_smmus);
        error_append_hint(errp, "Each accelerated arm-smmuv3 needs its own: "
                          "raise the iommufd-sim 'smmus' property.\n");
        return false;
    }
    *instance = s->smmus_claimed++;
    return true;
}

/*
 * Bind a device with the next free physical StreamID of SMMU @instance,
 * as the probe of a PCI device on real hardware would.
 */
static HostIOMMUDeviceIOMMUFD *
iommufd_sim_new_emulated_device(IOMMUFDBackend *be, unsigned instance,
                                const char *name, Error **errp)
{
    IOMMUFDSim *s = IOMMUFD_SIM(be);
    HostIOMMUDeviceIOMMUFDSim *sdev;
    uint32_t psid, dev_id;
    int ret;

    if (!iommufd_sim_created(s, errp)) {
        return NULL;
    }
    if (instance >= s->num_smmus) {
        error_setg(errp, "iommufd-sim: %s: no simulated SMMU %u", name,
                   instance);
        error_append_hint(errp, "The simulated host has %u SMMU(s); raise "
                          "its 'smmus' property.\n", s->num_smmus);
        return NULL;
    }
    psid = s->next_psid[instance]++;
    ret = iommufd_sim_bind(s->sim, instance, psid, &dev_id);
    trace_iommufd_sim_bind(instance, psid, ret ? 0 : dev_id, ret);
    if (ret) {
        error_setg_errno(errp, -ret, "iommufd-sim: cannot bind %s with "
                         "StreamID 0x%x on SMMU %u", name, psid, instance);
        return NULL;
    }
    sdev = HOST_IOMMU_DEVICE_IOMMUFD_SIM(
        object_new(TYPE_HOST_IOMMU_DEVICE_IOMMUFD_SIM));
    sdev->sim = s;
    sdev->psid = psid;
    HOST_IOMMU_DEVICE(sdev)->name = g_strdup(name);
    HOST_IOMMU_DEVICE_IOMMUFD(sdev)->iommufd = be;
    HOST_IOMMU_DEVICE_IOMMUFD(sdev)->devid = dev_id;
    return HOST_IOMMU_DEVICE_IOMMUFD(sdev);
}

static bool hiod_sim_attach_hwpt(HostIOMMUDeviceIOMMUFD *idev,
                                 uint32_t hwpt_id, Error **errp)
{
    HostIOMMUDeviceIOMMUFDSim *sdev = HOST_IOMMU_DEVICE_IOMMUFD_SIM(idev);
    uint32_t pt_id = hwpt_id;
    int ret = iommufd_sim_attach(sdev->sim->sim, idev->devid, &pt_id);

    trace_iommufd_sim_attach(idev->devid, hwpt_id, ret);
    if (ret) {
        error_setg_errno(errp, -ret, "iommufd-sim: attach of device %u to"
                         " %u failed", idev->devid, hwpt_id);
        return false;
    }
    idev->hwpt_id = hwpt_id;
    return true;
}

static bool hiod_sim_detach_hwpt(HostIOMMUDeviceIOMMUFD *idev, Error **errp)
{
    HostIOMMUDeviceIOMMUFDSim *sdev = HOST_IOMMU_DEVICE_IOMMUFD_SIM(idev);
    int ret = iommufd_sim_detach(sdev->sim->sim, idev->devid);

    trace_iommufd_sim_detach(idev->devid, ret);
    if (ret) {
        error_setg_errno(errp, -ret, "iommufd-sim: detach of device %u failed",
                         idev->devid);
        return false;
    }
    idev->hwpt_id = 0;
    return true;
}

static bool hiod_sim_translate(HostIOMMUDeviceIOMMUFD *idev, hwaddr iova,
                               unsigned access, HostIOMMUTranslation *out)
{
    HostIOMMUDeviceIOMMUFDSim *sdev = HOST_IOMMU_DEVICE_IOMMUFD_SIM(idev);
    IommufdSimTranslation t;
    unsigned sim_access = (access & HOST_IOMMU_ACCESS_READ ?
                           IOMMUFD_SIM_READ : 0) |
                          (access & HOST_IOMMU_ACCESS_WRITE ?
                           IOMMUFD_SIM_WRITE : 0);

    if (iommufd_sim_translate(sdev->sim->sim, idev->devid, false, 0, iova,
                              sim_access, &t) == 0) {
        out->addr = t.ipa;
        out->perm = (t.perm & IOMMUFD_SIM_READ ? HOST_IOMMU_ACCESS_READ : 0) |
                    (t.perm & IOMMUFD_SIM_WRITE ? HOST_IOMMU_ACCESS_WRITE : 0);
        return true;
    }
    memcpy(out->event, t.event, sizeof(out->event));
    out->reported = t.forwarded;
    return false;
}

static int hiod_sim_get_cap(HostIOMMUDevice *hiod, int cap, Error **errp)
{
    switch (cap) {
    case HOST_IOMMU_DEVICE_CAP_IOMMU_TYPE:
        return IOMMU_HW_INFO_TYPE_ARM_SMMUV3;
    default:
        error_setg(errp, "%s: unsupported capability %x", hiod->name, cap);
        return -EINVAL;
    }
}

static void hiod_sim_finalize(Object *obj)
{
    HostIOMMUDeviceIOMMUFDSim *sdev = HOST_IOMMU_DEVICE_IOMMUFD_SIM(obj);
    HostIOMMUDeviceIOMMUFD *idev = HOST_IOMMU_DEVICE_IOMMUFD(obj);
    int ret;

    /* Unbinding detaches, as closing a VFIO device does. */
    if (sdev->sim && sdev->sim->sim) {
        ret = iommufd_sim_unbind(sdev->sim->sim, idev->devid);
        trace_iommufd_sim_unbind(idev->devid, ret);
    }
}

static void hiod_sim_class_init(ObjectClass *oc, const void *data)
{
    HostIOMMUDeviceClass *hiodc = HOST_IOMMU_DEVICE_CLASS(oc);
    HostIOMMUDeviceIOMMUFDClass *idevc = HOST_IOMMU_DEVICE_IOMMUFD_CLASS(oc);

    hiodc->get_cap = hiod_sim_get_cap;
    idevc->attach_hwpt = hiod_sim_attach_hwpt;
    idevc->detach_hwpt = hiod_sim_detach_hwpt;
    idevc->translate = hiod_sim_translate;
}

static void iommufd_sim_write_stats(IOMMUFDSim *s)
{
    g_autofree char *json = NULL;
    g_autoptr(GError) err = NULL;

    if (!s->stats_file || !s->sim) {
        return;
    }
    json = iommufd_sim_stats_json(s->sim);
    if (!g_file_set_contents(s->stats_file, json, -1, &err)) {
        error_report("iommufd-sim: cannot write stats-file %s: %s",
                     s->stats_file, err->message);
    }
}

static void iommufd_sim_exit(Notifier *n, void *data)
{
    IOMMUFDSim *s = container_of(n, IOMMUFDSim, exit_notifier);

    /*
     * Device teardown at exit releases the guest's host objects first
     * (their own exit/unrealize paths); what is left is reported.
     */
    iommufd_sim_write_stats(s);
}

static void iommufd_sim_complete(UserCreatable *uc, Error **errp)
{
    IOMMUFDSim *s = IOMMUFD_SIM(uc);
    IommufdSimConfig cfg = {
        .num_smmus = s->num_smmus,
        .no_cmdqv = !s->cmdqv,
        .cmdqv_log2_vintfs = s->vintfs_log2,
        .cmdqv_log2_vcmdqs = s->vcmdqs_log2,
        .cmdqv_vsids = 1u << MIN(s->vsids_log2, 31),
    };
    unsigned i;

    if (s->num_smmus < 1 || s->num_smmus > 64) {
        error_setg(errp, "iommufd-sim: smmus=%u is out of range",
                   s->num_smmus);
        error_append_hint(errp, "Use 1 to 64 simulated SMMU instances.\n");
        return;
    }
    if (s->vintfs_log2 < 1 || s->vintfs_log2 > 6) {
        error_setg(errp, "iommufd-sim: vintfs-log2=%u is out of range",
                   s->vintfs_log2);
        error_append_hint(errp, "Use 1 (VINTF0, the host's, and one for a "
                          "guest) to 6 (64 VINTFs).\n");
        return;
    }
    if (s->vcmdqs_log2 < 1 || s->vintfs_log2 + s->vcmdqs_log2 > 7) {
        error_setg(errp, "iommufd-sim: vcmdqs-log2=%u is out of range with "
                   "vintfs-log2=%u", s->vcmdqs_log2, s->vintfs_log2);
        error_append_hint(errp, "The CMDQV has 128 VCMDQs in all: "
                          "vintfs-log2 + vcmdqs-log2 is at most 7, and each "
                          "VINTF has 2 VCMDQs at least (vcmdqs-log2=1). "
                          "Lower vintfs-log2 for more VCMDQs per VINTF.\n");
        return;
    }
    if (s->vsids_log2 > 4) {
        error_setg(errp, "iommufd-sim: vsids-log2=%u is out of range",
                   s->vsids_log2);
        error_append_hint(errp, "Use 0 to 4 (16 SID slots per VINTF).\n");
        return;
    }
    s->next_psid = g_new(uint32_t, s->num_smmus);
    for (i = 0; i < s->num_smmus; i++) {
        s->next_psid[i] = IOMMUFD_SIM_PSID0;
    }
    s->sim = iommufd_sim_new(&cfg);
    if (!s->sim) {
        error_setg(errp, "iommufd-sim: cannot create the simulated host");
        return;
    }
    if (s->cmdqv && s->engine) {
        iommufd_sim_start_engine(s->sim);
    }
    s->exit_notifier.notify = iommufd_sim_exit;
    qemu_add_exit_notifier(&s->exit_notifier);
    trace_iommufd_sim_created(s->num_smmus, s->cmdqv);
}

static char *iommufd_sim_prop_get_stats(Object *obj, Error **errp)
{
    IOMMUFDSim *s = IOMMUFD_SIM(obj);

    if (!s->sim) {
        error_setg(errp, "iommufd-sim: not created yet");
        return NULL;
    }
    return iommufd_sim_stats_json(s->sim);
}

/*
 * Fault injection from QMP (qom-set on /objects/ID), for tests and for
 * provoking error paths real hardware makes hard to reach:
 *   inject-event: "psid=N,event=N[,addr=N][,smmu=N][,ssid=N]
 *       [,count=N][,step=N]": a hardware event on that device, routed as
 *       the host driver routes it; count= of them in one call (up to
 *       IOMMUFD_SIM_INJECT_MAX), the Nth at addr + N * step;
 *   inject-errno: "IOMMU_NAME,nth=N,errno=N": that ioctl's Nth next call
 *       fails with that errno;
 *   inject-invalidate-error: "entry=N,errno=N": the next invalidation
 *       batch fails at entry N.
 * They are write-only.
 */
static bool iommufd_sim_created(IOMMUFDSim *s, Error **errp)
{
    if (!s->sim) {
        error_setg(errp, "iommufd-sim: the simulated host is not created yet");
        return false;
    }
    return true;
}

static bool iommufd_sim_parse_kv(const char *str, const char *const *keys,
                                 uint64_t *vals, bool *present,
                                 const char **name, Error **errp)
{
    g_auto(GStrv) parts = g_strsplit(str, ",", -1);
    int i, k;

    for (i = 0; parts[i]; i++) {
        char *eq = strchr(parts[i], '=');

        if (!eq) {
            if (name && i == 0) {
                *name = str;
                continue;
            }
            error_setg(errp, "iommufd-sim: '%s' is not key=value", parts[i]);
            return false;
        }
        *eq = '\0';
        for (k = 0; keys[k]; k++) {
            if (!strcmp(parts[i], keys[k])) {
                break;
            }
        }
        if (!keys[k] || qemu_strtou64(eq + 1, NULL, 0, &vals[k])) {
            error_setg(errp, "iommufd-sim: bad injection field '%s=%s'",
                       parts[i], eq + 1);
            return false;
        }
        present[k] = true;
    }
    return true;
}

static void iommufd_sim_set_inject_event(Object *obj, const char *value,
                                         Error **errp)
{
    static const char *const keys[] = {
        "psid", "event", "addr", "smmu", "ssid", "count", "step", NULL
    };
    IOMMUFDSim *s = IOMMUFD_SIM(obj);
    uint64_t v[7] = { 0, 0, 0, 0, 0, 1, 0 };
    bool has[7] = { false };
    uint64_t evt[4] = { 0 };
    uint32_t dev_id;
    int ret;

    if (!iommufd_sim_created(s, errp) ||
        !iommufd_sim_parse_kv(value, keys, v, has, NULL, errp)) {
        return;
    }
    if (!has[0] || !has[1]) {
        error_setg(errp, "iommufd-sim: inject-event needs psid= and event=");
        return;
    }
    if (v[5] < 1 || v[5] > IOMMUFD_SIM_INJECT_MAX) {
        error_setg(errp, "iommufd-sim: inject-event count=%" PRIu64
                   " is out of range", v[5]);
        error_append_hint(errp, "Inject 1 to %u events in one call.\n",
                          IOMMUFD_SIM_INJECT_MAX);
        return;
    }
    dev_id = iommufd_sim_find_device(s->sim, v[3], v[0]);
    if (!dev_id) {
        error_setg(errp, "iommufd-sim: no bound device with psid 0x%" PRIx64
                   " on SMMU %" PRIu64, v[0], v[3]);
        return;
    }
    evt[0] = (v[1] & 0xff) | (has[4] ? BIT_ULL(11) | (v[4] & 0xfffff) << 12
                                     : 0);
    if ((v[1] & 0xff) >= 0x10) {
        /* A translation-class fault of an incoming read (CLASS = IN). */
        evt[1] = BIT_ULL(35) | (2ULL << 40);
    }
    evt[2] = v[2];
    ret = iommufd_sim_inject_events(s->sim, dev_id, evt, v[5], v[6]);
    trace_iommufd_sim_inject_event(dev_id, v[1], v[2], ret);
}

/* A failing system call's errno: 1 to MAX_ERRNO, never 0 or negative. */
static bool iommufd_sim_errno_ok(uint64_t err, const char *prop,
                                 Error **errp)
{
    if (err < 1 || err > IOMMUFD_SIM_MAX_ERRNO) {
        error_setg(errp, "iommufd-sim: %s errno=%" PRId64 " is not an errno",
                   prop, (int64_t)err);
        error_append_hint(errp, "Use a positive errno up to %d, as a failing "
                          "ioctl returns (errno=12 is ENOMEM).\n",
                          IOMMUFD_SIM_MAX_ERRNO);
        return false;
    }
    return true;
}

static void iommufd_sim_set_inject_errno(Object *obj, const char *value,
                                         Error **errp)
{
    static const char *const keys[] = { "nth", "errno", NULL };
    IOMMUFDSim *s = IOMMUFD_SIM(obj);
    uint64_t v[2] = { 1, 0 };
    bool has[2] = { false };
    const char *name = NULL;
    g_autofree char *ioctl_name = NULL;
    unsigned long req;

    if (!iommufd_sim_created(s, errp) ||
        !iommufd_sim_parse_kv(value, keys, v, has, &name, errp)) {
        return;
    }
    ioctl_name = name ? g_strndup(name, strcspn(name, ",")) : NULL;
    for (req = IOMMU_DESTROY; ioctl_name && req <= IOMMU_HW_QUEUE_ALLOC;
         req++) {
        const char *n = iommufd_sim_ioctl_name(req);

        if (n && !strcmp(n, ioctl_name)) {
            break;
        }
    }
    if (!ioctl_name || req > IOMMU_HW_QUEUE_ALLOC || !has[1]) {
        error_setg(errp, "iommufd-sim: inject-errno needs "
                   "\"IOMMU_<NAME>,nth=N,errno=N\"");
        return;
    }
    if (!iommufd_sim_errno_ok(v[1], "inject-errno", errp)) {
        return;
    }
    if (v[0] > UINT_MAX) {
        error_setg(errp, "iommufd-sim: inject-errno nth=%" PRIu64 " is out "
                   "of range", v[0]);
        error_append_hint(errp, "nth=1 fails the next call, nth=0 disarms."
                          "\n");
        return;
    }
    iommufd_sim_inject_errno(s->sim, req, v[0], v[1]);
}

static void iommufd_sim_set_inject_inval(Object *obj, const char *value,
                                         Error **errp)
{
    static const char *const keys[] = { "entry", "errno", NULL };
    IOMMUFDSim *s = IOMMUFD_SIM(obj);
    uint64_t v[2] = { 0, EIO };
    bool has[2] = { false };

    if (!iommufd_sim_created(s, errp) ||
        !iommufd_sim_parse_kv(value, keys, v, has, NULL, errp) ||
        !iommufd_sim_errno_ok(v[1], "inject-invalidate-error", errp)) {
        return;
    }
    if (v[0] > UINT32_MAX) {
        error_setg(errp, "iommufd-sim: inject-invalidate-error entry=%" PRIu64
                   " is out of range", v[0]);
        return;
    }
    iommufd_sim_inject_invalidate_error(s->sim, v[0], v[1]);
}

static char *iommufd_sim_get_stats_file(Object *obj, Error **errp)
{
    return g_strdup(IOMMUFD_SIM(obj)->stats_file);
}

static void iommufd_sim_set_stats_file(Object *obj, const char *value,
                                       Error **errp)
{
    IOMMUFDSim *s = IOMMUFD_SIM(obj);

    g_free(s->stats_file);
    s->stats_file = g_strdup(value);
}

static bool iommufd_sim_get_cmdqv(Object *obj, Error **errp)
{
    return IOMMUFD_SIM(obj)->cmdqv;
}

static void iommufd_sim_set_cmdqv(Object *obj, bool value, Error **errp)
{
    IOMMUFD_SIM(obj)->cmdqv = value;
}

static bool iommufd_sim_get_engine(Object *obj, Error **errp)
{
    return IOMMUFD_SIM(obj)->engine;
}

static void iommufd_sim_set_engine(Object *obj, bool value, Error **errp)
{
    IOMMUFD_SIM(obj)->engine = value;
}

static void iommufd_sim_instance_init(Object *obj)
{
    IOMMUFDSim *s = IOMMUFD_SIM(obj);

    /* No /dev/iommu behind this backend: nothing to open or close. */
    IOMMUFD_BACKEND(obj)->owned = false;
    s->num_smmus = 1;
    s->cmdqv = true;
    s->vintfs_log2 = 6;
    s->vcmdqs_log2 = 1;
    s->vsids_log2 = 4;
    s->engine = true;
    object_property_add_uint32_ptr(obj, "smmus", &s->num_smmus,
                                   OBJ_PROP_FLAG_READWRITE);
    object_property_add_uint32_ptr(obj, "vintfs-log2", &s->vintfs_log2,
                                   OBJ_PROP_FLAG_READWRITE);
    object_property_add_uint32_ptr(obj, "vcmdqs-log2", &s->vcmdqs_log2,
                                   OBJ_PROP_FLAG_READWRITE);
    object_property_add_uint32_ptr(obj, "vsids-log2", &s->vsids_log2,
                                   OBJ_PROP_FLAG_READWRITE);
}

static void iommufd_sim_finalize(Object *obj)
{
    IOMMUFDSim *s = IOMMUFD_SIM(obj);

    if (s->sim) {
        qemu_remove_exit_notifier(&s->exit_notifier);
        iommufd_sim_write_stats(s);
        iommufd_sim_free(s->sim);
        s->sim = NULL;
    }
    g_free(s->stats_file);
    g_free(s->next_psid);
}

/*
 * A write to a VINTF page0: its queues run now, as a physical CMDQV
 * would start on them. engine=off keeps them for the test's steps.
 */
static void iommufd_sim_hook_mmap_written(IOMMUFDBackend *be, void *addr)
{
    IOMMUFDSim *s = IOMMUFD_SIM(be);

    if (s->engine) {
        iommufd_sim_mmap_written(s->sim, addr);
    }
}

static void iommufd_sim_class_init(ObjectClass *oc, const void *data)
{
    UserCreatableClass *ucc = USER_CREATABLE_CLASS(oc);
    IOMMUFDBackendClass *bc = IOMMUFD_BACKEND_CLASS(oc);

    ucc->complete = iommufd_sim_complete;
    bc->ioctl = iommufd_sim_hook_ioctl;
    bc->mmap = iommufd_sim_hook_mmap;
    bc->munmap = iommufd_sim_hook_munmap;
    bc->mmap_written = iommufd_sim_hook_mmap_written;
    bc->read_fd = iommufd_sim_hook_read;
    bc->close_fd = iommufd_sim_hook_close;
    bc->claim_instance = iommufd_sim_claim_instance;
    bc->new_emulated_device = iommufd_sim_new_emulated_device;

    object_class_property_add_str(oc, "stats", iommufd_sim_prop_get_stats,
                                  NULL);
    object_class_property_set_description(oc, "stats",
        "JSON: ioctl counts, forwarded commands, events, IOTLB, live objects");
    object_class_property_add_str(oc, "stats-file",
                                  iommufd_sim_get_stats_file,
                                  iommufd_sim_set_stats_file);
    object_class_property_set_description(oc, "stats-file",
        "write the stats JSON to this file at exit");
    object_class_property_add_str(oc, "inject-event", NULL,
                                  iommufd_sim_set_inject_event);
    object_class_property_set_description(oc, "inject-event",
        "psid=N,event=N[,addr=N][,smmu=N][,ssid=N]: a hardware event");
    object_class_property_add_str(oc, "inject-errno", NULL,
                                  iommufd_sim_set_inject_errno);
    object_class_property_set_description(oc, "inject-errno",
        "IOMMU_<NAME>,nth=N,errno=N: fail that ioctl's Nth next call "
        "(nth=0: disarm)");
    object_class_property_add_str(oc, "inject-invalidate-error", NULL,
                                  iommufd_sim_set_inject_inval);
    object_class_property_set_description(oc, "inject-invalidate-error",
        "entry=N[,errno=N]: the next invalidation fails at entry N");
    object_class_property_add_bool(oc, "cmdqv", iommufd_sim_get_cmdqv,
                                   iommufd_sim_set_cmdqv);
    object_class_property_set_description(oc, "cmdqv",
        "the host SMMUs have a Tegra241 CMDQV (default on, as on Grace)");
    object_class_property_add_bool(oc, "engine", iommufd_sim_get_engine,
                                   iommufd_sim_set_engine);
    object_class_property_set_description(oc, "engine",
        "run the CMDQV hardware on its own thread (default on)");
}

static const TypeInfo iommufd_sim_types[] = {
    {
        .name = TYPE_IOMMUFD_SIM,
        .parent = TYPE_IOMMUFD_BACKEND,
        .instance_size = sizeof(IOMMUFDSim),
        .instance_init = iommufd_sim_instance_init,
        .instance_finalize = iommufd_sim_finalize,
        .class_init = iommufd_sim_class_init,
    },
    {
        .name = TYPE_HOST_IOMMU_DEVICE_IOMMUFD_SIM,
        .parent = TYPE_HOST_IOMMU_DEVICE_IOMMUFD,
        .instance_size = sizeof(HostIOMMUDeviceIOMMUFDSim),
        .instance_finalize = hiod_sim_finalize,
        .class_init = hiod_sim_class_init,
    },
};

DEFINE_TYPES(iommufd_sim_types)
