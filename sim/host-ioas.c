/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * iommufd-sim: IOAS, the IOVA -> user address space that is stage 2 of
 * every domain built on it. Areas never overlap and are kept sorted; an
 * unmap must cover whole areas (ENOENT otherwise) and skips none pinned
 * by a HW_QUEUE (EBUSY). Reserved IOVA and the iova alignment follow the
 * kernel's io_pagetable (see sim-internal.h).
 */
#include <errno.h>
#include <limits.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim-internal.h"

#define SIM_HPAGE_SIZE      (2ull << 20)

SimIoas *sim_ioas_new(IommufdSim *sim)
{
    SimIoas *ioas = g_new0(SimIoas, 1);

    ioas->areas = g_ptr_array_new();
    ioas->msi_window = g_malloc0(SIM_SW_MSI_SIZE);
    ioas->huge_pages = true;
    sim_obj_insert(sim, &ioas->obj, &sim_ioas_ops);
    return ioas;
}

static void sim_area_free(SimArea *area)
{
    if (area->fmap && --area->fmap->refs == 0) {
        munmap(area->fmap->addr, area->fmap->len);
        g_free(area->fmap);
    }
    g_free(area);
}

static uint64_t sim_area_last(const SimArea *area)
{
    return area->iova + area->length - 1;
}

/* Index of the first area whose last iova is >= @iova. */
static guint sim_ioas_first(SimIoas *ioas, uint64_t iova)
{
    guint lo = 0, hi = ioas->areas->len;

    while (lo < hi) {
        guint mid = lo + (hi - lo) / 2;
        SimArea *a = g_ptr_array_index(ioas->areas, mid);

        if (sim_area_last(a) < iova) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

static bool sim_ioas_overlaps(SimIoas *ioas, uint64_t iova, uint64_t last)
{
    guint i = sim_ioas_first(ioas, iova);

    return i < ioas->areas->len &&
           ((SimArea *)g_ptr_array_index(ioas->areas, i))->iova <= last;
}

/* Highest iova every domain on this IOAS can translate. */
static uint64_t sim_ioas_aperture_last(IommufdSim *sim, SimIoas *ioas)
{
    uint64_t last = UINT64_MAX;
    GList *l;

    for (l = ioas->hwpts; l; l = l->next) {
        last = MIN(last, ((SimHwpt *)l->data)->aperture_last);
    }
    return last;
}

/* iopt->iova_alignment: 1 with no domain, else the smallest page. */
uint64_t sim_ioas_iova_alignment(SimIoas *ioas)
{
    return ioas->hwpts ? SIM_PAGE_SIZE : 1;
}

static bool sim_ioas_msi_reserved(SimIoas *ioas, uint64_t iova,
                                  uint64_t last)
{
    return ioas->msi_devs && iova <= SIM_SW_MSI_LAST &&
           last >= SIM_SW_MSI_BASE;
}

/*
 * iopt_table_add_domain(): every mapping must lie inside the new
 * domain's aperture and be aligned to its page size.
 */
int sim_ioas_domain_fits(SimIoas *ioas, uint64_t aperture_last)
{
    guint i;

    for (i = 0; i < ioas->areas->len; i++) {
        SimArea *a = g_ptr_array_index(ioas->areas, i);

        if (sim_area_last(a) > aperture_last ||
            ((a->iova | a->length | (uintptr_t)a->hva) &
             (SIM_PAGE_SIZE - 1))) {
            return -EADDRINUSE;
        }
    }
    /* iopt_fill_domain(): pins every area; MMIO pages cannot be pinned. */
    for (i = 0; i < ioas->areas->len; i++) {
        if (((SimArea *)g_ptr_array_index(ioas->areas, i))->pfnmap) {
            return -EFAULT;
        }
    }
    return 0;
}

/* iopt_table_enforce_dev_resv_regions() for one device's SW_MSI window. */
int sim_ioas_reserve_msi(SimIoas *ioas)
{
    if (!ioas->msi_devs && sim_ioas_overlaps(ioas, SIM_SW_MSI_BASE,
                                             SIM_SW_MSI_LAST)) {
        return -EADDRINUSE;
    }
    ioas->msi_devs++;
    return 0;
}

void sim_ioas_unreserve_msi(SimIoas *ioas)
{
    g_assert(ioas->msi_devs);
    ioas->msi_devs--;
}

/* The S2 TLB of every domain on @ioas is stale after an unmap. */
static void sim_ioas_flush(SimIoas *ioas)
{
    GList *l;

    for (l = ioas->hwpts; l; l = l->next) {
        sim_hwpt_flush_vmid(l->data);
    }
}

static void sim_ioas_destroy(IommufdSim *sim, SimObj *obj)
{
    SimIoas *ioas = (SimIoas *)obj;
    guint i;

    g_assert(!ioas->hwpts);
    for (i = 0; i < ioas->areas->len; i++) {
        sim_area_free(g_ptr_array_index(ioas->areas, i));
    }
    g_ptr_array_free(ioas->areas, true);
    g_free(ioas->msi_window);
}

const SimObjOps sim_ioas_ops = {
    .type = SIM_OBJ_IOAS,
    .name = "ioas",
    .destroy = sim_ioas_destroy,
};

/*
 * SimS2.lookup: called by the SMMU with its lock held, under the host
 * lock (translations run with it). No allocation.
 */
void *sim_ioas_s2_lookup(void *opaque, uint64_t ipa, uint64_t len,
                         bool write)
{
    SimIoas *ioas = opaque;
    guint i = sim_ioas_first(ioas, ipa);
    SimArea *a;

    /* (written so that no ipa + len can wrap around into the window) */
    if (ioas->hwpts && ipa >= SIM_SW_MSI_BASE && len &&
        ipa - SIM_SW_MSI_BASE < SIM_SW_MSI_SIZE &&
        len <= SIM_SW_MSI_SIZE - (ipa - SIM_SW_MSI_BASE)) {
        return ioas->msi_window + (ipa - SIM_SW_MSI_BASE);
    }
    if (i >= ioas->areas->len || len == 0) {
        return NULL;
    }
    a = g_ptr_array_index(ioas->areas, i);
    if (a->iova > ipa || ipa + len - 1 > sim_area_last(a) ||
        ipa + len - 1 < ipa) {
        return NULL;
    }
    if (write ? !a->writeable : !a->readable) {
        return NULL;
    }
    return a->hva + (ipa - a->iova);
}

/*
 * iommufd_access_pin_pages() of [iova, iova + length) rounded out to
 * pages: ENOENT if a page is unmapped, EFAULT if the user memory behind
 * is not contiguous. On success the areas are pinned.
 */
int sim_ioas_pin(SimIoas *ioas, uint64_t iova, uint64_t length, void **hva)
{
    uint64_t first = iova & ~(SIM_PAGE_SIZE - 1);
    uint64_t last = ((iova + length + SIM_PAGE_SIZE - 1) &
                     ~(SIM_PAGE_SIZE - 1)) - 1;
    uint64_t cur = first;
    guint i = sim_ioas_first(ioas, first), start = i;
    SimArea *prev = NULL;

    for (; i < ioas->areas->len && cur <= last; i++) {
        SimArea *a = g_ptr_array_index(ioas->areas, i);

        if (a->iova > cur) {
            return -ENOENT;
        }
        if (a->pfnmap || (prev && prev->hva + prev->length != a->hva)) {
            return -EFAULT;
        }
        prev = a;
        if (sim_area_last(a) >= last) {
            cur = last + 1;
            break;
        }
        cur = sim_area_last(a) + 1;
    }
    if (cur <= last) {
        return -ENOENT;
    }
    for (i = start; i < ioas->areas->len; i++) {
        SimArea *a = g_ptr_array_index(ioas->areas, i);

        if (a->iova > last) {
            break;
        }
        a->pins++;
        if (a->iova <= iova && iova <= sim_area_last(a)) {
            *hva = a->hva + (iova - a->iova);
        }
    }
    return 0;
}

void sim_ioas_unpin(SimIoas *ioas, uint64_t iova, uint64_t length)
{
    uint64_t first = iova & ~(SIM_PAGE_SIZE - 1);
    uint64_t last = ((iova + length + SIM_PAGE_SIZE - 1) &
                     ~(SIM_PAGE_SIZE - 1)) - 1;
    guint i;

    for (i = sim_ioas_first(ioas, first); i < ioas->areas->len; i++) {
        SimArea *a = g_ptr_array_index(ioas->areas, i);

        if (a->iova > last) {
            break;
        }
        g_assert(a->pins);
        a->pins--;
    }
}

static uint64_t sim_pow2_roundup(uint64_t v)
{
    uint64_t r = 1;

    while (r < v && r) {
        r <<= 1;
    }
    return r ? r : 1ull << 63;
}

/* iopt_alloc_iova(): lowest hole aligned as the user address allows. */
static int sim_ioas_alloc_iova(IommufdSim *sim, SimIoas *ioas, uint64_t addr,
                               uint64_t length, uint64_t *out)
{
    uint64_t align, cand, last, limit = sim_ioas_aperture_last(sim, ioas);
    SimArea *a;
    guint i;

    if (length == 0 || length >= (uint64_t)ULONG_MAX / 2) {
        return -EOVERFLOW;
    }
    align = sim_pow2_roundup(length);
    if (addr) {
        align = MIN(align, 1ull << __builtin_ctzll(addr));
    }
    align = MIN(align, SIM_HPAGE_SIZE);
    if (align < sim_ioas_iova_alignment(ioas)) {
        return -EINVAL;
    }
    if (limit > UINT64_MAX - SIM_PAGE_SIZE) {
        limit = UINT64_MAX - SIM_PAGE_SIZE;
    }
    /* The lowest hole from PAGE_SIZE on, past areas and reserved IOVA. */
    cand = SIM_PAGE_SIZE;
    for (;;) {
        cand = (cand + align - 1) & ~(align - 1);
        if (!cand || __builtin_add_overflow(cand, length - 1, &last) ||
            last > limit) {
            return -ENOSPC;
        }
        if (sim_ioas_msi_reserved(ioas, cand, last)) {
            cand = SIM_SW_MSI_LAST + 1;
            continue;
        }
        i = sim_ioas_first(ioas, cand);
        a = i < ioas->areas->len ? g_ptr_array_index(ioas->areas, i) : NULL;
        if (!a || last < a->iova) {
            *out = cand;
            return 0;
        }
        cand = sim_area_last(a) + 1;
    }
}

/* iopt_check_iova() */
static int sim_ioas_check_iova(IommufdSim *sim, SimIoas *ioas, uint64_t iova,
                               uint64_t length)
{
    uint64_t last;

    if (iova & (sim_ioas_iova_alignment(ioas) - 1)) {
        return -EINVAL;
    }
    if (__builtin_add_overflow(iova, length - 1, &last)) {
        return -EOVERFLOW;
    }
    /* No reserved IOVA in the range */
    if (last > sim_ioas_aperture_last(sim, ioas) ||
        sim_ioas_msi_reserved(ioas, iova, last)) {
        return -EINVAL;
    }
    if (sim_ioas_overlaps(ioas, iova, last)) {
        return -EEXIST;
    }
    return 0;
}

static void sim_ioas_insert(SimIoas *ioas, SimArea *area)
{
    g_ptr_array_insert(ioas->areas, sim_ioas_first(ioas, area->iova), area);
}

typedef struct SimPiece {
    uint8_t *hva;
    uint64_t length;
    bool writable;
    SimFileMap *fmap;
    bool pfnmap;
} SimPiece;

/* iopt_alloc_area_pages() + iopt_insert_area() for a list of pieces. */
static int sim_ioas_map_pieces(IommufdSim *sim, SimIoas *ioas,
                               const SimPiece *pieces, unsigned n,
                               uint64_t addr, uint64_t length, uint32_t flags,
                               uint64_t *iova)
{
    bool wr = flags & IOMMU_IOAS_MAP_WRITEABLE;
    uint64_t cur;
    unsigned i;
    int rc;

    if ((length & (sim_ioas_iova_alignment(ioas) - 1)) || !length) {
        return -EINVAL;
    }
    if (!(flags & IOMMU_IOAS_MAP_FIXED_IOVA)) {
        rc = sim_ioas_alloc_iova(sim, ioas, addr, length, iova);
    } else {
        rc = sim_ioas_check_iova(sim, ioas, *iova, length);
    }
    if (rc) {
        return rc;
    }
    for (i = 0; i < n; i++) {
        if (wr && !pieces[i].writable) {
            return -EPERM;
        }
        if ((uintptr_t)pieces[i].hva & (SIM_PAGE_SIZE - 1)) {
            return -EINVAL;
        }
        /* A domain pins at map time: GUP refuses VM_IO | VM_PFNMAP. */
        if (pieces[i].pfnmap && ioas->hwpts) {
            return -EFAULT;
        }
    }
    cur = *iova;
    for (i = 0; i < n; i++) {
        SimArea *a = g_new0(SimArea, 1);

        a->iova = cur;
        a->length = pieces[i].length;
        a->hva = pieces[i].hva;
        a->readable = flags & IOMMU_IOAS_MAP_READABLE;
        a->writeable = wr;
        a->fmap = pieces[i].fmap;
        a->pfnmap = pieces[i].pfnmap;
        if (a->fmap) {
            a->fmap->refs++;
        }
        sim_ioas_insert(ioas, a);
        cur += pieces[i].length;
    }
    return 0;
}

#define SIM_MAP_FLAGS (IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_WRITEABLE | \
                       IOMMU_IOAS_MAP_READABLE)

int sim_ioctl_ioas_alloc(SimUcmd *u)
{
    struct iommu_ioas_alloc *cmd = u->cmd;
    SimIoas *ioas;

    if (cmd->flags) {
        return -EOPNOTSUPP;
    }
    ioas = sim_ioas_new(u->sim);
    cmd->out_ioas_id = ioas->obj.id;
    sim_ucmd_respond(u, sizeof(*cmd));
    return 0;
}

int sim_ioctl_ioas_map(SimUcmd *u)
{
    struct iommu_ioas_map *cmd = u->cmd;
    uint64_t iova = cmd->iova;
    SimPiece piece;
    SimIoas *ioas;
    int rc;

    if ((cmd->flags & ~SIM_MAP_FLAGS) || cmd->__reserved) {
        return -EOPNOTSUPP;
    }
    if (cmd->iova >= ULONG_MAX || cmd->length >= ULONG_MAX) {
        return -EOVERFLOW;
    }
    if (!(cmd->flags & (IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE))) {
        return -EINVAL;
    }
    ioas = (SimIoas *)sim_obj_get(u->sim, cmd->ioas_id, SIM_OBJ_IOAS);
    if (!ioas) {
        return -ENOENT;
    }
    if (!cmd->length) {
        return -EINVAL;
    }
    if (cmd->user_va + cmd->length < cmd->user_va) {
        return -EOVERFLOW;
    }
    if (!cmd->user_va) {
        return -EFAULT;
    }
    piece = (SimPiece) {
        .hva = (uint8_t *)(uintptr_t)cmd->user_va,
        .length = cmd->length,
        .writable = true,
        .pfnmap = sim_mmap_overlaps(u->sim,
                                    (void *)(uintptr_t)cmd->user_va,
                                    cmd->length),
    };
    rc = sim_ioas_map_pieces(u->sim, ioas, &piece, 1, cmd->user_va,
                             cmd->length, cmd->flags, &iova);
    if (rc) {
        return rc;
    }
    cmd->iova = iova;
    sim_ucmd_respond(u, sizeof(*cmd));
    return 0;
}

/* The kernel pins the file's pages; we map the file shared ourselves. */
int sim_ioctl_ioas_map_file(SimUcmd *u)
{
    struct iommu_ioas_map_file *cmd = u->cmd;
    uint64_t iova = cmd->iova, pg_start, skip;
    bool wr = cmd->flags & IOMMU_IOAS_MAP_WRITEABLE;
    SimFileMap *fmap;
    SimPiece piece;
    SimIoas *ioas;
    struct stat st;
    void *addr;
    int rc;

    if (cmd->flags & ~SIM_MAP_FLAGS) {
        return -EOPNOTSUPP;
    }
    if (cmd->iova >= ULONG_MAX || cmd->length >= ULONG_MAX) {
        return -EOVERFLOW;
    }
    if (!(cmd->flags & (IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE))) {
        return -EINVAL;
    }
    ioas = (SimIoas *)sim_obj_get(u->sim, cmd->ioas_id, SIM_OBJ_IOAS);
    if (!ioas) {
        return -ENOENT;
    }
    if (fstat(cmd->fd, &st)) {
        return -EBADF;
    }
    if (!cmd->length || cmd->start + cmd->length < cmd->start) {
        return -EINVAL;
    }
    pg_start = cmd->start & ~(SIM_PAGE_SIZE - 1);
    skip = cmd->start - pg_start;
    addr = mmap(NULL, cmd->length + skip,
                PROT_READ | (wr ? PROT_WRITE : 0), MAP_SHARED, cmd->fd,
                (off_t)pg_start);
    if (addr == MAP_FAILED) {
        if (errno == EACCES) {
            return wr ? -EPERM : -EACCES;
        }
        return -errno;
    }
    fmap = g_new0(SimFileMap, 1);
    fmap->addr = addr;
    fmap->len = cmd->length + skip;
    piece = (SimPiece) {
        .hva = (uint8_t *)addr + skip,
        .length = cmd->length,
        .writable = true,
        .fmap = fmap,
    };
    fmap->refs = 1;
    rc = sim_ioas_map_pieces(u->sim, ioas, &piece, 1, cmd->start,
                             cmd->length, cmd->flags, &iova);
    if (--fmap->refs == 0) {
        munmap(fmap->addr, fmap->len);
        g_free(fmap);
    }
    if (rc) {
        return rc;
    }
    cmd->iova = iova;
    sim_ucmd_respond(u, sizeof(*cmd));
    return 0;
}

/* iopt_unmap_iova_range(): whole areas only, pinned ones are busy. */
static int sim_ioas_unmap_range(SimIoas *ioas, uint64_t start, uint64_t last,
                                uint64_t *unmapped)
{
    int rc = 0;

    *unmapped = 0;
    for (;;) {
        guint i = sim_ioas_first(ioas, start);
        SimArea *a;

        if (i >= ioas->areas->len) {
            break;
        }
        a = g_ptr_array_index(ioas->areas, i);
        if (a->iova > last) {
            break;
        }
        if (a->pins) {
            rc = -EBUSY;
            break;
        }
        if (a->iova < start || sim_area_last(a) > last) {
            rc = -ENOENT;
            break;
        }
        g_ptr_array_remove_index(ioas->areas, i);
        *unmapped += a->length;
        start = sim_area_last(a) + 1;
        sim_area_free(a);
        if (start == 0 || start > last) {
            break;
        }
    }
    if (*unmapped) {
        sim_ioas_flush(ioas);
    }
    return rc;
}

int sim_ioctl_ioas_unmap(SimUcmd *u)
{
    struct iommu_ioas_unmap *cmd = u->cmd;
    uint64_t unmapped = 0, last;
    SimIoas *ioas;
    int rc;

    ioas = (SimIoas *)sim_obj_get(u->sim, cmd->ioas_id, SIM_OBJ_IOAS);
    if (!ioas) {
        return -ENOENT;
    }
    if (cmd->iova == 0 && cmd->length == UINT64_MAX) {
        rc = sim_ioas_unmap_range(ioas, 0, ULONG_MAX, &unmapped);
        if (rc) {
            return rc;
        }
    } else {
        if (cmd->iova >= ULONG_MAX || cmd->length >= ULONG_MAX) {
            return -EOVERFLOW;
        }
        if (!cmd->length) {
            return -EINVAL;
        }
        if (__builtin_add_overflow(cmd->iova, cmd->length - 1, &last)) {
            return -EOVERFLOW;
        }
        rc = sim_ioas_unmap_range(ioas, cmd->iova, last, &unmapped);
        if (rc) {
            return rc;
        }
        if (!unmapped) {
            return -ENOENT;
        }
    }
    cmd->length = unmapped;
    sim_ucmd_respond(u, sizeof(*cmd));
    return 0;
}

int sim_ioctl_ioas_copy(SimUcmd *u)
{
    struct iommu_ioas_copy *cmd = u->cmd;
    SimIoas *src, *dst;
    uint64_t last, cur, iova = cmd->dst_iova;
    g_autofree SimPiece *pieces = NULL;
    unsigned n = 0;
    guint i;
    int rc;

    if (cmd->flags & ~SIM_MAP_FLAGS) {
        return -EOPNOTSUPP;
    }
    if (cmd->length >= ULONG_MAX || cmd->src_iova >= ULONG_MAX ||
        cmd->dst_iova >= ULONG_MAX) {
        return -EOVERFLOW;
    }
    if (!(cmd->flags & (IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE))) {
        return -EINVAL;
    }
    src = (SimIoas *)sim_obj_get(u->sim, cmd->src_ioas_id, SIM_OBJ_IOAS);
    if (!src) {
        return -ENOENT;
    }
    /* iopt_get_pages(): the source range must be fully mapped */
    if (!cmd->length) {
        return -EINVAL;
    }
    if (__builtin_add_overflow(cmd->src_iova, cmd->length - 1, &last)) {
        return -EOVERFLOW;
    }
    pieces = g_new0(SimPiece, src->areas->len + 1);
    cur = cmd->src_iova;
    for (i = sim_ioas_first(src, cur); i < src->areas->len; i++) {
        SimArea *a = g_ptr_array_index(src->areas, i);
        uint64_t end = MIN(last, sim_area_last(a));

        if (a->iova > cur) {
            break;
        }
        pieces[n++] = (SimPiece) {
            .hva = a->hva + (cur - a->iova),
            .length = end - cur + 1,
            .writable = a->writeable,
            .fmap = a->fmap,
            .pfnmap = a->pfnmap,
        };
        cur = end + 1;
        if (end == last) {
            break;
        }
    }
    if (!n || cur != last + 1) {
        return -ENOENT;
    }
    dst = (SimIoas *)sim_obj_get(u->sim, cmd->dst_ioas_id, SIM_OBJ_IOAS);
    if (!dst) {
        return -ENOENT;
    }
    rc = sim_ioas_map_pieces(u->sim, dst, pieces, n,
                             (uintptr_t)pieces[0].hva, cmd->length,
                             cmd->flags, &iova);
    if (rc) {
        return rc;
    }
    cmd->dst_iova = iova;
    sim_ucmd_respond(u, sizeof(*cmd));
    return 0;
}

/* [0, aperture] less the SW_MSI window reserved by attached devices. */
static uint32_t sim_ioas_allowed(IommufdSim *sim, SimIoas *ioas,
                                 struct iommu_iova_range r[2])
{
    uint64_t top = MIN(sim_ioas_aperture_last(sim, ioas),
                       (uint64_t)ULONG_MAX);

    if (!ioas->msi_devs) {
        r[0] = (struct iommu_iova_range) { .start = 0, .last = top };
        return 1;
    }
    r[0] = (struct iommu_iova_range) { .start = 0,
                                       .last = SIM_SW_MSI_BASE - 1 };
    if (top <= SIM_SW_MSI_LAST) {
        return 1;
    }
    r[1] = (struct iommu_iova_range) { .start = SIM_SW_MSI_LAST + 1,
                                       .last = top };
    return 2;
}

int sim_ioctl_ioas_iova_ranges(SimUcmd *u)
{
    struct iommu_ioas_iova_ranges *cmd = u->cmd;
    struct iommu_iova_range *ranges, r[2];
    uint32_t max, n, i;
    SimIoas *ioas;

    if (cmd->__reserved) {
        return -EOPNOTSUPP;
    }
    ioas = (SimIoas *)sim_obj_get(u->sim, cmd->ioas_id, SIM_OBJ_IOAS);
    if (!ioas) {
        return -ENOENT;
    }
    max = cmd->num_iovas;
    ranges = (struct iommu_iova_range *)(uintptr_t)cmd->allowed_iovas;
    cmd->out_iova_alignment = sim_ioas_iova_alignment(ioas);
    n = sim_ioas_allowed(u->sim, ioas, r);
    cmd->num_iovas = n;
    if (MIN(max, n) && !ranges) {
        return -EFAULT;
    }
    for (i = 0; i < n && i < max; i++) {
        ranges[i] = r[i];
    }
    sim_ucmd_respond(u, sizeof(*cmd));
    return cmd->num_iovas > max ? -EMSGSIZE : 0;
}

static bool sim_has_objects(IommufdSim *sim)
{
    guint id;

    for (id = 1; id < sim->objs->len; id++) {
        if (g_ptr_array_index(sim->objs, id)) {
            return true;
        }
    }
    return false;
}

int sim_ioctl_option(SimUcmd *u)
{
    struct iommu_option *cmd = u->cmd;
    SimIoas *ioas;

    if (cmd->__reserved) {
        return -EOPNOTSUPP;
    }
    switch (cmd->option_id) {
    case IOMMU_OPTION_RLIMIT_MODE:
        if (cmd->object_id) {
            return -EOPNOTSUPP;
        }
        if (cmd->op == IOMMU_OPTION_OP_GET) {
            cmd->val64 = u->sim->account_mm;
        } else if (cmd->op == IOMMU_OPTION_OP_SET) {
            if (sim_has_objects(u->sim)) {
                return -EBUSY;
            }
            if (cmd->val64 > 1) {
                return -EINVAL;
            }
            u->sim->account_mm = cmd->val64;
        } else {
            return -EOPNOTSUPP;
        }
        break;
    case IOMMU_OPTION_HUGE_PAGES:
        ioas = (SimIoas *)sim_obj_get(u->sim, cmd->object_id, SIM_OBJ_IOAS);
        if (!ioas) {
            return -ENOENT;
        }
        if (cmd->op == IOMMU_OPTION_OP_GET) {
            cmd->val64 = ioas->huge_pages;
        } else if (cmd->op == IOMMU_OPTION_OP_SET) {
            if (cmd->val64 > 1) {
                return -EINVAL;
            }
            ioas->huge_pages = cmd->val64;
        } else {
            return -EOPNOTSUPP;
        }
        break;
    default:
        return -EOPNOTSUPP;
    }
    ((struct iommu_option *)u->ubuf)->val64 = cmd->val64;
    return 0;
}
