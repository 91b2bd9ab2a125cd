/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Bench-only harness around QEMU 10.2.2's hw/arm/smmu-common.c: the file
 * is compiled here unmodified, with QEMU's headers, generated config and
 * trace headers and QEMU's own compiler flags (bench/meson.build), so the
 * walk timed is QEMU's code, not a copy of it. Included rather than linked
 * so that its static IOTLB hash functions can build the IOTLB that
 * smmu_base_realize() would.
 *
 * What QEMU would link in from elsewhere is stubbed below: guest memory
 * reads (address_space_rw, reached through ldq_le_dma) become a memcpy
 * from the caller's buffer; tracing is compiled in but off, as in a
 * default QEMU run; the QOM/PCI/qdev calls of device realize, which the
 * walk never reaches, abort.
 */
#include "hw/arm/smmu-common.c"
#include "trace/trace-hw_arm.c"

#include "qemu/log-for-trace.h"
#include "hw/qdev-properties.h"
#include "system/address-spaces.h"
#include "qom/object.h"
#include "qapi/error.h"
#include "qemu-ptw.h"

struct QemuPtw {
    SMMUState *bs;
    SMMUTransCfg cfg;
};

/*
 * QEMU's guest memory is global (address_space_memory): so is its
 * stand-in here, set by qemu_ptw_new and cleared by qemu_ptw_free.
 */
static struct {
    uint8_t *ram;
    uint64_t base, size;
    bool busy;
} shim_ram;

QemuPtw *qemu_ptw_new(void *ram, uint64_t ram_base, uint64_t ram_size,
                      uint64_t ttb, unsigned tsz, unsigned oas,
                      uint16_t asid)
{
    QemuPtw *p;

    if (shim_ram.busy) {
        return NULL;
    }
    shim_ram.ram = ram;
    shim_ram.base = ram_base;
    shim_ram.size = ram_size;
    shim_ram.busy = true;

    p = g_new0(QemuPtw, 1);
    p->bs = g_new0(SMMUState, 1);
    p->bs->iotlb = g_hash_table_new_full(smmu_iotlb_key_hash,
                                         smmu_iotlb_key_equal,
                                         g_free, g_free);
    /* As smmuv3_decode_config() fills it for an STE Config = S1 only */
    p->cfg.stage = SMMU_STAGE_1;
    p->cfg.aa64 = true;
    p->cfg.oas = oas;
    p->cfg.asid = asid;
    p->cfg.s2cfg.vmid = -1;
    p->cfg.tt[0].ttb = ttb;
    p->cfg.tt[0].tsz = tsz;
    p->cfg.tt[0].granule_sz = 12;
    p->cfg.tt[1].disabled = true;
    return p;
}

void qemu_ptw_free(QemuPtw *p)
{
    g_hash_table_destroy(p->bs->iotlb);
    g_free(p->bs);
    g_free(p);
    memset(&shim_ram, 0, sizeof(shim_ram));
}

int qemu_ptw_walk(QemuPtw *p, uint64_t iova, uint64_t *pa)
{
    SMMUPTWEventInfo info = {};
    SMMUTLBEntry tlbe = {};
    int ret = smmu_ptw(p->bs, &p->cfg, iova, IOMMU_RO, &tlbe, &info);

    if (!ret) {
        *pa = CACHED_ENTRY_TO_ADDR(&tlbe, iova);
    }
    return ret;
}

int qemu_ptw_translate(QemuPtw *p, uint64_t iova, uint64_t *pa)
{
    SMMUPTWEventInfo info = {};
    SMMUTLBEntry *e = smmu_translate(p->bs, &p->cfg, iova, IOMMU_RO, &info);

    if (!e) {
        return -EINVAL;
    }
    *pa = CACHED_ENTRY_TO_ADDR(e, iova);
    return 0;
}

/* ---- what the rest of QEMU would provide ---- */

AddressSpace address_space_memory;
int trace_events_enabled_count;
unsigned qemu_loglevel;
const PropertyInfo qdev_prop_bool;
const PropertyInfo qdev_prop_uint8;
const PropertyInfo qdev_prop_link;

MemTxResult address_space_rw(AddressSpace *as, hwaddr addr,
                             MemTxAttrs attrs, void *buf,
                             hwaddr len, bool is_write)
{
    if (as != &address_space_memory || is_write || addr < shim_ram.base ||
        len > shim_ram.size || addr - shim_ram.base > shim_ram.size - len) {
        return MEMTX_DECODE_ERROR;
    }
    memcpy(buf, shim_ram.ram + (addr - shim_ram.base), len);
    return MEMTX_OK;
}

void qemu_log(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
}

/* type_init() constructors run before main(): accept and ignore them. */
void register_module_init(void (*fn)(void), module_init_type type)
{
}

void trace_event_register_group(TraceEvent **events)
{
}

#define SHIM_UNREACHED() \
    do { \
        fprintf(stderr, "qemu-ptw: %s is not part of the walk\n", __func__); \
        abort(); \
    } while (0)

void address_space_init(AddressSpace *as, MemoryRegion *root, const char *name)
{
    SHIM_UNREACHED();
}

void device_class_set_parent_realize(DeviceClass *dc,
                                     DeviceRealize dev_realize,
                                     DeviceRealize *parent_realize)
{
    SHIM_UNREACHED();
}

void device_class_set_props_n(DeviceClass *dc, const Property *props, size_t n)
{
    SHIM_UNREACHED();
}

void error_propagate(Error **dst_errp, Error *local_err)
{
    SHIM_UNREACHED();
}

void error_append_hint(Error *const *errp, const char *fmt, ...)
{
    SHIM_UNREACHED();
}

void error_setg_internal(Error **errp, const char *src, int line,
                         const char *func, const char *fmt, ...)
{
    SHIM_UNREACHED();
}

void memory_region_init_iommu(void *_iommu_mr, size_t instance_size,
                              const char *mrtypename, Object *owner,
                              const char *name, uint64_t size)
{
    SHIM_UNREACHED();
}

void memory_region_unmap_iommu_notifier_range(IOMMUNotifier *notifier)
{
    SHIM_UNREACHED();
}

ObjectClass *object_class_dynamic_cast_assert(ObjectClass *klass,
                                              const char *typename,
                                              const char *file, int line,
                                              const char *func)
{
    SHIM_UNREACHED();
}

Object *object_dynamic_cast(Object *obj, const char *typename)
{
    SHIM_UNREACHED();
}

Object *object_dynamic_cast_assert(Object *obj, const char *typename,
                                   const char *file, int line,
                                   const char *func)
{
    SHIM_UNREACHED();
}

ObjectClass *object_get_class(Object *obj)
{
    SHIM_UNREACHED();
}

bool pci_bus_is_express(const PCIBus *bus)
{
    SHIM_UNREACHED();
}

int pci_bus_num(PCIBus *s)
{
    SHIM_UNREACHED();
}

void pci_setup_iommu(PCIBus *bus, const PCIIOMMUOps *ops, void *opaque)
{
    SHIM_UNREACHED();
}

void pci_setup_iommu_per_bus(PCIBus *bus, const PCIIOMMUOps *ops,
                             void *opaque)
{
    SHIM_UNREACHED();
}

Type type_register_static(const TypeInfo *info)
{
    SHIM_UNREACHED();
}
