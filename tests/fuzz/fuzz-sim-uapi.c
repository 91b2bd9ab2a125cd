/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target: the simulator's uAPI, as a hostile VMM would call it.
 *
 * The input is a sequence of operations, each one byte of opcode, one
 * byte of length and that many bytes of payload:
 *   ioctl        any IOMMU_* ioctl with the payload as its struct (the
 *                size field fixed up unless the payload asks otherwise,
 *                user pointers pointed into buffers of ours, with fuzzed
 *                offsets and lengths clamped to them: a VMM's pointers
 *                are valid memory, what they hold is not);
 *   bind/attach/detach/unbind   the VFIO stand-ins;
 *   mmap/munmap/page0 write     the VINTF page0;
 *   read/close   a vEVENTQ fd the sim handed out;
 *   translate    DMA through the physical SMMU;
 *   engine       one step of the CMDQV engine;
 *   event, errno, vcmdq-error   the injections.
 * Every input ends with the VMM going away in order (mappings, fds,
 * devices, then every object by ID until none can go): the simulator must
 * then hold no live object, else the object model leaked (a refcount or
 * a dependency it does not release), which aborts as a finding. ASan and
 * UBSan catch the rest.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/iommufd.h>
#include "iommufd-sim.h"

#define ARENA_SIZE      (64 * 1024)
#define RAM_SIZE        (1024 * 1024)
#define MAX_FDS         16
#define MAX_MAPS        4
#define MAX_DEVS        8
#define MAX_ID          256

#ifndef MIN
#define MIN(a, b)       ((a) < (b) ? (a) : (b))
#endif

enum {
    OP_IOCTL, OP_BIND, OP_ATTACH, OP_DETACH, OP_UNBIND, OP_MMAP, OP_MUNMAP,
    OP_PAGE0_WRITE, OP_READ, OP_CLOSE, OP_TRANSLATE, OP_ENGINE, OP_EVENT,
    OP_ERRNO, OP_VCMDQ_ERROR, OP_NR
};

typedef struct Fuzz {
    IommufdSim *sim;
    uint8_t *arena;             /* what user pointers point into */
    uint8_t *ram;               /* what IOAS_MAP maps: guest RAM */
    int memfd;                  /* for IOAS_MAP_FILE */
    int fds[MAX_FDS];
    unsigned nr_fds;
    void *maps[MAX_MAPS];
    size_t map_len[MAX_MAPS];
    unsigned nr_maps;
    uint32_t devs[MAX_DEVS];
    unsigned nr_devs;
    unsigned nr_ops;            /* bounds the IDs handed out */
} Fuzz;

static uint64_t get(const uint8_t *p, size_t len, size_t off, unsigned n)
{
    uint64_t v = 0;
    unsigned i;

    for (i = 0; i < n && off + i < len; i++) {
        v |= (uint64_t)p[off + i] << (8 * i);
    }
    return v;
}

/* A pointer into @base of @size bytes, for @len bytes at fuzzed @off. */
static uint64_t user_ptr(uint8_t *base, size_t size, uint64_t off,
                         uint64_t *len)
{
    off %= size;
    if (*len > size - off) {
        *len = size - off;
    }
    return (uint64_t)(uintptr_t)(base + off);
}

/* Point the struct's user pointers at our buffers; clamp their lengths. */
static void fix_pointers(Fuzz *f, unsigned nr, void *arg)
{
    uint64_t len;

    switch (nr) {
    case IOMMUFD_CMD_IOAS_IOVA_RANGES: {
        struct iommu_ioas_iova_ranges *c = arg;

        len = (uint64_t)c->num_iovas * sizeof(struct iommu_iova_range);
        c->allowed_iovas = user_ptr(f->arena, ARENA_SIZE, c->allowed_iovas,
                                    &len);
        c->num_iovas = len / sizeof(struct iommu_iova_range);
        break;
    }
    case IOMMUFD_CMD_IOAS_ALLOW_IOVAS: {
        struct iommu_ioas_allow_iovas *c = arg;

        len = (uint64_t)c->num_iovas * sizeof(struct iommu_iova_range);
        c->allowed_iovas = user_ptr(f->arena, ARENA_SIZE, c->allowed_iovas,
                                    &len);
        c->num_iovas = len / sizeof(struct iommu_iova_range);
        break;
    }
    case IOMMUFD_CMD_IOAS_MAP: {
        struct iommu_ioas_map *c = arg;

        len = c->length;
        c->user_va = user_ptr(f->ram, RAM_SIZE, c->user_va, &len);
        c->length = len;
        break;
    }
    case IOMMUFD_CMD_IOAS_MAP_FILE: {
        struct iommu_ioas_map_file *c = arg;

        c->fd = (c->fd & 1) ? f->memfd : c->fd;
        break;
    }
    case IOMMUFD_CMD_HWPT_ALLOC: {
        struct iommu_hwpt_alloc *c = arg;

        if (c->data_uptr) {
            len = c->data_len;
            c->data_uptr = user_ptr(f->arena, ARENA_SIZE, c->data_uptr, &len);
            c->data_len = len;
        }
        break;
    }
    case IOMMUFD_CMD_GET_HW_INFO: {
        struct iommu_hw_info *c = arg;

        if (c->data_uptr) {
            len = c->data_len;
            c->data_uptr = user_ptr(f->arena, ARENA_SIZE, c->data_uptr, &len);
            c->data_len = len;
        }
        break;
    }
    case IOMMUFD_CMD_HWPT_GET_DIRTY_BITMAP: {
        struct iommu_hwpt_get_dirty_bitmap *c = arg;

        /* one bit per page: keep the bitmap within the arena */
        if (c->page_size) {
            c->length = MIN(c->length, (uint64_t)ARENA_SIZE * 8 *
                            c->page_size / 2);
        }
        len = ARENA_SIZE / 2;
        c->data = user_ptr(f->arena, ARENA_SIZE / 2, c->data, &len);
        break;
    }
    case IOMMUFD_CMD_HWPT_INVALIDATE: {
        struct iommu_hwpt_invalidate *c = arg;

        if (c->data_uptr) {
            len = (uint64_t)c->entry_len * c->entry_num;
            c->data_uptr = user_ptr(f->arena, ARENA_SIZE, c->data_uptr, &len);
            if (c->entry_len) {
                c->entry_num = MIN(c->entry_num, len / c->entry_len);
            }
        }
        break;
    }
    case IOMMUFD_CMD_VIOMMU_ALLOC: {
        struct iommu_viommu_alloc *c = arg;

        if (c->data_uptr) {
            len = c->data_len;
            c->data_uptr = user_ptr(f->arena, ARENA_SIZE, c->data_uptr, &len);
            c->data_len = len;
        }
        break;
    }
    }
}

/* The ioctl's struct size: the size field's correct value. */
static uint32_t struct_size(unsigned nr)
{
    switch (nr) {
    case IOMMUFD_CMD_DESTROY: return sizeof(struct iommu_destroy);
    case IOMMUFD_CMD_IOAS_ALLOC: return sizeof(struct iommu_ioas_alloc);
    case IOMMUFD_CMD_IOAS_ALLOW_IOVAS:
        return sizeof(struct iommu_ioas_allow_iovas);
    case IOMMUFD_CMD_IOAS_COPY: return sizeof(struct iommu_ioas_copy);
    case IOMMUFD_CMD_IOAS_IOVA_RANGES:
        return sizeof(struct iommu_ioas_iova_ranges);
    case IOMMUFD_CMD_IOAS_MAP: return sizeof(struct iommu_ioas_map);
    case IOMMUFD_CMD_IOAS_UNMAP: return sizeof(struct iommu_ioas_unmap);
    case IOMMUFD_CMD_OPTION: return sizeof(struct iommu_option);
    case IOMMUFD_CMD_VFIO_IOAS: return sizeof(struct iommu_vfio_ioas);
    case IOMMUFD_CMD_HWPT_ALLOC: return sizeof(struct iommu_hwpt_alloc);
    case IOMMUFD_CMD_GET_HW_INFO: return sizeof(struct iommu_hw_info);
    case IOMMUFD_CMD_HWPT_SET_DIRTY_TRACKING:
        return sizeof(struct iommu_hwpt_set_dirty_tracking);
    case IOMMUFD_CMD_HWPT_GET_DIRTY_BITMAP:
        return sizeof(struct iommu_hwpt_get_dirty_bitmap);
    case IOMMUFD_CMD_HWPT_INVALIDATE:
        return sizeof(struct iommu_hwpt_invalidate);
    case IOMMUFD_CMD_FAULT_QUEUE_ALLOC:
        return sizeof(struct iommu_fault_alloc);
    case IOMMUFD_CMD_IOAS_MAP_FILE: return sizeof(struct iommu_ioas_map_file);
    case IOMMUFD_CMD_VIOMMU_ALLOC: return sizeof(struct iommu_viommu_alloc);
    case IOMMUFD_CMD_VDEVICE_ALLOC: return sizeof(struct iommu_vdevice_alloc);
    case IOMMUFD_CMD_IOAS_CHANGE_PROCESS:
        return sizeof(struct iommu_ioas_change_process);
    case IOMMUFD_CMD_VEVENTQ_ALLOC: return sizeof(struct iommu_veventq_alloc);
    case IOMMUFD_CMD_HW_QUEUE_ALLOC:
        return sizeof(struct iommu_hw_queue_alloc);
    }
    return 16;
}

static void add_fd(Fuzz *f, int fd)
{
    if (f->nr_fds < MAX_FDS) {
        f->fds[f->nr_fds++] = fd;
    } else {
        iommufd_sim_close(f->sim, fd);
    }
}

static void do_ioctl(Fuzz *f, const uint8_t *p, size_t len)
{
    /*
     * Room for a size field up to a page, the rest zero as the kernel
     * requires of a larger struct's tail.
     */
    uint64_t buf[4096 / 8 + 8];
    unsigned nr;
    uint32_t size;
    int rc;

    if (len < 2) {
        return;
    }
    nr = IOMMUFD_CMD_BASE + p[0] % (IOMMUFD_CMD_HW_QUEUE_ALLOC -
                                    IOMMUFD_CMD_BASE + 1);
    memset(buf, 0, sizeof(buf));
    memcpy(buf, p + 2, MIN(len - 2, sizeof(buf)));
    size = struct_size(nr);
    if (p[1] & 1) {
        /* a fuzzed size, up to a page */
        memcpy(&size, buf, sizeof(size));
        size %= 4097;
    }
    memcpy(buf, &size, sizeof(size));
    if (size > struct_size(nr)) {
        /* bytes past the struct: zero unless the input says otherwise */
        if (!(p[1] & 2)) {
            memset((uint8_t *)buf + struct_size(nr), 0,
                   size - struct_size(nr));
        }
    }
    fix_pointers(f, nr, buf);
    rc = iommufd_sim_ioctl(f->sim, _IO(IOMMUFD_TYPE, nr), buf);
    if (rc == 0 && nr == IOMMUFD_CMD_VEVENTQ_ALLOC) {
        add_fd(f, ((struct iommu_veventq_alloc *)buf)->out_veventq_fd);
    }
    if (rc > 0) {
        abort();                /* ioctls return 0 or -errno */
    }
}

static void one_op(Fuzz *f, unsigned op, const uint8_t *p, size_t len)
{
    uint32_t dev = f->nr_devs ? f->devs[get(p, len, 0, 1) % f->nr_devs] : 0;
    uint32_t id;
    uint8_t rbuf[512];
    IommufdSimTranslation x;
    unsigned i;

    switch (op) {
    case OP_IOCTL:
        do_ioctl(f, p, len);
        break;
    case OP_BIND:
        if (f->nr_devs < MAX_DEVS &&
            !iommufd_sim_bind(f->sim, get(p, len, 0, 1) % 2,
                              get(p, len, 1, 4), &id)) {
            f->devs[f->nr_devs++] = id;
        }
        break;
    case OP_ATTACH:
        id = get(p, len, 1, 2) % MAX_ID;
        iommufd_sim_attach(f->sim, dev, &id);
        break;
    case OP_DETACH:
        iommufd_sim_detach(f->sim, dev);
        break;
    case OP_UNBIND:
        if (f->nr_devs) {
            i = get(p, len, 0, 1) % f->nr_devs;
            iommufd_sim_unbind(f->sim, f->devs[i]);
            f->devs[i] = f->devs[--f->nr_devs];
        }
        break;
    case OP_MMAP:
        if (f->nr_maps < MAX_MAPS) {
            void *m = NULL;
            size_t l = (get(p, len, 0, 1) % 32 + 1) * 4096;

            if (!iommufd_sim_mmap(f->sim, l, PROT_READ | PROT_WRITE,
                                  get(p, len, 1, 1) & 1 ? MAP_PRIVATE :
                                  MAP_SHARED, get(p, len, 2, 4) << 12, &m)) {
                f->maps[f->nr_maps] = m;
                f->map_len[f->nr_maps++] = l;
            }
        }
        break;
    case OP_MUNMAP:
        if (f->nr_maps) {
            i = get(p, len, 0, 1) % f->nr_maps;
            iommufd_sim_munmap(f->sim, f->maps[i], f->map_len[i]);
            f->maps[i] = f->maps[--f->nr_maps];
            f->map_len[i] = f->map_len[f->nr_maps];
        }
        break;
    case OP_PAGE0_WRITE:
        if (f->nr_maps) {
            i = get(p, len, 0, 1) % f->nr_maps;
            __atomic_store_n((uint32_t *)((uint8_t *)f->maps[i] +
                             (get(p, len, 1, 2) & 0xffc)),
                             (uint32_t)get(p, len, 3, 4), __ATOMIC_RELEASE);
        }
        break;
    case OP_READ:
        if (f->nr_fds) {
            off_t off = 0;

            i = get(p, len, 0, 1) % f->nr_fds;
            iommufd_sim_read(f->sim, f->fds[i], rbuf,
                             get(p, len, 1, 2) % sizeof(rbuf),
                             get(p, len, 3, 1) & 1 ? &off : NULL);
        }
        break;
    case OP_CLOSE:
        if (f->nr_fds) {
            i = get(p, len, 0, 1) % f->nr_fds;
            iommufd_sim_close(f->sim, f->fds[i]);
            f->fds[i] = f->fds[--f->nr_fds];
        }
        break;
    case OP_TRANSLATE:
        iommufd_sim_translate(f->sim, dev, get(p, len, 1, 1) & 1,
                              get(p, len, 2, 3) & 0xfffff, get(p, len, 5, 8),
                              get(p, len, 13, 1) & 0xf, &x);
        break;
    case OP_ENGINE:
        iommufd_sim_engine_step(f->sim);
        break;
    case OP_EVENT: {
        uint64_t evt[4] = { get(p, len, 1, 8), get(p, len, 9, 8),
                            get(p, len, 17, 8), get(p, len, 25, 8) };

        /* one event, or a storm of up to 64 (queues fill, rings grow) */
        if (get(p, len, 33, 1) & 1) {
            iommufd_sim_inject_events(f->sim, dev, evt,
                                      get(p, len, 34, 1) % 65,
                                      get(p, len, 36, 2));
        } else {
            iommufd_sim_inject_event(f->sim, dev, evt);
        }
        break;
    }
    case OP_ERRNO:
        iommufd_sim_inject_errno(f->sim, _IO(IOMMUFD_TYPE, IOMMUFD_CMD_BASE +
                                             get(p, len, 0, 1) % 21),
                                 get(p, len, 1, 1) % 4,
                                 (int)get(p, len, 2, 4));
        break;
    case OP_VCMDQ_ERROR:
        iommufd_sim_inject_vcmdq_error(f->sim, get(p, len, 0, 2) % MAX_ID,
                                       get(p, len, 2, 1) % 4,
                                       get(p, len, 3, 1) % 5);
        break;
    }
}

/* The VMM goes away: nothing may be left. */
static void teardown(Fuzz *f)
{
    struct iommu_destroy d = { .size = sizeof(d) };
    bool progress = true;
    unsigned i;

    /* The injected failures are the input's; going away is not. */
    for (i = IOMMUFD_CMD_BASE; i <= IOMMUFD_CMD_HW_QUEUE_ALLOC; i++) {
        iommufd_sim_inject_errno(f->sim, _IO(IOMMUFD_TYPE, i), 0, EIO);
    }
    for (i = 0; i < f->nr_maps; i++) {
        iommufd_sim_munmap(f->sim, f->maps[i], f->map_len[i]);
    }
    for (i = 0; i < f->nr_fds; i++) {
        iommufd_sim_close(f->sim, f->fds[i]);
    }
    for (i = 0; i < f->nr_devs; i++) {
        iommufd_sim_unbind(f->sim, f->devs[i]);
    }
    /*
     * IDs are the lowest free ones, and no operation makes more than two
     * objects: every live one is below 2 * nr_ops + 16. Passes end when
     * nothing is left, or when one frees nothing.
     */
    while (progress && iommufd_sim_live_objects(f->sim)) {
        progress = false;
        for (d.id = 1; d.id < 2 * f->nr_ops + 16; d.id++) {
            if (!iommufd_sim_ioctl(f->sim, IOMMU_DESTROY, &d)) {
                progress = true;
                if (!iommufd_sim_live_objects(f->sim)) {
                    break;
                }
            }
        }
    }
    if (iommufd_sim_live_objects(f->sim)) {
        char *json = iommufd_sim_stats_json(f->sim);

        fprintf(stderr, "fuzz-sim-uapi: %u live objects after teardown: %s\n",
                iommufd_sim_live_objects(f->sim), json);
        abort();
    }
}

#include "fuzz-sim-uapi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t *arena, *ram;
    static int memfd = -1;
    Fuzz f = { 0 };
    size_t off = 0;

    if (!arena) {
        arena = aligned_alloc(4096, ARENA_SIZE);
        ram = aligned_alloc(4096, RAM_SIZE);
        memfd = memfd_create("fuzz-sim-uapi", MFD_CLOEXEC);
        if (!arena || !ram || memfd < 0 || ftruncate(memfd, RAM_SIZE)) {
            abort();
        }
    }
    memset(arena, 0, ARENA_SIZE);
    memset(ram, 0, RAM_SIZE);
    f.arena = arena;
    f.ram = ram;
    f.memfd = memfd;
    f.sim = iommufd_sim_new(NULL);
    if (!f.sim) {
        abort();
    }
    while (off + 2 <= size) {
        unsigned op = data[off] % OP_NR;
        size_t len = MIN((size_t)data[off + 1], size - off - 2);

        one_op(&f, op, data + off + 2, len);
        f.nr_ops++;
        off += 2 + len;
    }
    teardown(&f);
    iommufd_sim_free(f.sim);
    return 0;
}
