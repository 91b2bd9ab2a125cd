/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The NVIDIA Tegra241 CMDQV hardware of the simulated host.
 *
 * Register state lives in the model, except each VINTF's logical page0:
 * that 64 KiB page is a memfd mapped MAP_SHARED here and, through the
 * host core, by the VMM into the guest. The guest's PROD/CONS/CONFIG/
 * GERRORN writes therefore land in memory without any call into the
 * model; the engine picks them up by reading the page, the way hardware
 * samples its registers. STATUS and GERROR are owned by the model and
 * written back into the page on every pass, so a guest cannot fake them.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE     /* memfd_create */
#endif
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <glib.h>

#include "cmdqv-hw.h"
#include "cmdqv-guest-cmd.h"
#include "cmdqv-regs.h"
#include "smmu-defs.h"

#define CMDQV_VERSION           1
/* Commands fetched per queue per pass, so one busy queue cannot starve. */
#define ENGINE_BATCH            64
/*
 * Worker polling period: fast while commands flow and for a while after
 * (a guest waiting on CMD_SYNC pays for every microsecond of it), then
 * backing off to a slow poll when the queues stay idle.
 */
#define WORKER_ACTIVE_US        20
#define WORKER_LINGER_US        20000
#define WORKER_IDLE_MAX_US      1000

/*
 * One logical VCMDQ of a VINTF. Allocated by queue_alloc (BASE written,
 * page0 registers reset), freed by queue_free or with its VINTF; the slot
 * itself lives as long as the SimCmdqv. @gen changes on every free so an
 * engine pass that ran commands unlocked can tell its queue went away.
 */
typedef struct SimVcmdq {
    bool allocated;
    bool busy;              /* an engine pass is running its commands */
    uint32_t gen;
    uint64_t base;          /* page1 BASE */
    uint64_t cons_indx_base;
    uint8_t *hva;           /* queue memory, pinned by the host core */
    uint32_t status;        /* model-owned page0 STATUS */
    uint32_t gerror;        /* model-owned page0 GERROR */
} SimVcmdq;

/*
 * One VINTF. VINTF0 is the host's: enabled at creation with HYP_OWN=1 and
 * never handed out. The others are enabled by vintf_alloc (one per
 * TEGRA241 vIOMMU) and reset by vintf_free; page0 exists while allocated.
 */
typedef struct SimVintf {
    bool allocated;
    uint32_t config;
    uint32_t status;
    uint32_t sid_match[VINTF_MAX_SIDS];
    uint32_t sid_replace[VINTF_MAX_SIDS];
    int page0_fd;
    uint8_t *page0;         /* MAP_SHARED view of page0_fd */
    SimVcmdq *lvcmdqs;
} SimVintf;

/*
 * The CMDQV. Created by the host core at host creation with the mutex and
 * no worker; sim_cmdqv_free stops the worker and frees every VINTF.
 */
struct SimCmdqv {
    GMutex worker_lock;     /* serialises start and stop */
    GMutex lock;            /* everything below */
    GCond wake;             /* stop request for the worker */
    SimCmdqvOps ops;
    unsigned nr_vintfs;
    unsigned nr_lvcmdqs;    /* per VINTF */
    unsigned nr_sids;       /* per VINTF */
    uint32_t config;
    uint32_t param;
    uint32_t status;
    uint32_t *cmdq_alloc;   /* CMDQ_ALLOC(q), nr_vintfs * nr_lvcmdqs */
    SimVintf *vintfs;
    uint64_t commands;
    uint64_t kicks;         /* sim_cmdqv_kick calls */
    bool kick_missed;       /* a kick found a queue busy in the worker */
    GThread *worker;        /* under worker_lock */
    bool stopping;
};

/* A command fetched under the lock, to run once the lock is dropped. */
typedef struct EngineCmd {
    uint64_t cmd[2];
    bool exec;              /* false: completes locally (CMD_SYNC) */
} EngineCmd;

/* ---- page0 access: little-endian 32-bit registers in shared memory ---- */

static uint32_t *page0_ptr(SimVintf *vintf, unsigned lidx, unsigned reg)
{
    return (uint32_t *)(vintf->page0 + CMDQV_VCMDQ_STRIDE * lidx + reg);
}

static uint32_t page0_get(SimVintf *vintf, unsigned lidx, unsigned reg)
{
    return GUINT32_FROM_LE(__atomic_load_n(page0_ptr(vintf, lidx, reg),
                                           __ATOMIC_ACQUIRE));
}

static void page0_set(SimVintf *vintf, unsigned lidx, unsigned reg,
                      uint32_t val)
{
    __atomic_store_n(page0_ptr(vintf, lidx, reg), GUINT32_TO_LE(val),
                     __ATOMIC_RELEASE);
}

/* ---- lookup helpers (lock held) ---- */

static SimVintf *user_vintf(SimCmdqv *cmdqv, unsigned v)
{
    if (v == 0 || v >= cmdqv->nr_vintfs || !cmdqv->vintfs[v].allocated) {
        return NULL;
    }
    return &cmdqv->vintfs[v];
}

static unsigned queue_log2size(const SimVcmdq *q)
{
    return CMDQV_FIELD_EX(VCMDQ_BASE, LOG2SIZE, q->base);
}

/* PROD/CONS carry LOG2SIZE index bits plus a wrap bit above them. */
static uint32_t queue_ptr_mask(const SimVcmdq *q)
{
    return (2u << queue_log2size(q)) - 1;
}

/* An error is pending from GERROR toggling until GERRORN catches up. */
static bool queue_errored(SimVintf *vintf, unsigned lidx)
{
    return vintf->lvcmdqs[lidx].gerror !=
           page0_get(vintf, lidx, A_VCMDQ_GERRORN);
}

/*
 * LVCMDQ_ERR_MAP: a bit per queue with an error pending. Derived from the
 * page rather than stored, so the guest's GERRORN write clears it at once.
 */
static void vintf_err_map(SimCmdqv *cmdqv, SimVintf *vintf,
                          uint64_t err_map[2])
{
    unsigned lidx;

    err_map[0] = err_map[1] = 0;
    if (!vintf->page0) {
        return;
    }
    for (lidx = 0; lidx < cmdqv->nr_lvcmdqs; lidx++) {
        if (vintf->lvcmdqs[lidx].allocated && queue_errored(vintf, lidx)) {
            err_map[lidx / 64] |= 1ULL << (lidx % 64);
        }
    }
}

/*
 * Reset a queue's page0 as the host driver's deinit does: disabled, PROD
 * and CONS zero, a pending error acknowledged.
 */
static void queue_reset_locked(SimVintf *vintf, unsigned lidx)
{
    SimVcmdq *q = &vintf->lvcmdqs[lidx];

    q->status = 0;
    page0_set(vintf, lidx, A_VCMDQ_CONFIG, 0);
    page0_set(vintf, lidx, A_VCMDQ_STATUS, q->status);
    page0_set(vintf, lidx, A_VCMDQ_PROD, 0);
    page0_set(vintf, lidx, A_VCMDQ_CONS, 0);
    page0_set(vintf, lidx, A_VCMDQ_GERROR, q->gerror);
    page0_set(vintf, lidx, A_VCMDQ_GERRORN, q->gerror);
}

static void queue_free_locked(SimCmdqv *cmdqv, unsigned v, unsigned lidx)
{
    SimVintf *vintf = &cmdqv->vintfs[v];
    SimVcmdq *q = &vintf->lvcmdqs[lidx];
    uint32_t *alloc = &cmdqv->cmdq_alloc[v * cmdqv->nr_lvcmdqs + lidx];

    queue_reset_locked(vintf, lidx);
    q->allocated = false;
    q->gen++;
    q->base = 0;
    q->cons_indx_base = 0;
    q->hva = NULL;
    *alloc = CMDQV_FIELD_DP(CMDQ_ALLOC, ALLOCATED, *alloc, 0);
}

/*
 * Stop queue @lidx at index @cons with CONS.ERR = @err: GERROR toggles so
 * it differs from GERRORN until the guest acknowledges, and the queue's
 * bit goes up in LVCMDQ_ERR_MAP. Returns the map the caller must report
 * through ops->vintf_error once the lock is dropped.
 */
static void queue_stop_locked(SimCmdqv *cmdqv, SimVintf *vintf,
                              unsigned lidx, uint32_t cons, unsigned err,
                              uint64_t err_map[2])
{
    SimVcmdq *q = &vintf->lvcmdqs[lidx];
    uint32_t gerror_err = CMDQV_FIELD_EX(VCMDQ_GERROR, CMDQ_ERR, q->gerror);

    cons = CMDQV_FIELD_DP(VCMDQ_CONS, ERR, cons & queue_ptr_mask(q), err);
    page0_set(vintf, lidx, A_VCMDQ_CONS, cons);
    q->gerror = CMDQV_FIELD_DP(VCMDQ_GERROR, CMDQ_ERR, q->gerror,
                               !gerror_err);
    page0_set(vintf, lidx, A_VCMDQ_GERROR, q->gerror);
    vintf_err_map(cmdqv, vintf, err_map);
}

/* ---- creation and teardown ---- */

SimCmdqv *sim_cmdqv_new(unsigned log2_vintfs, unsigned log2_vcmdqs,
                        unsigned log2_vsids, const SimCmdqvOps *ops)
{
    SimCmdqv *cmdqv;
    unsigned v, lidx;

    /* Limits of the PARAM, CMDQ_ALLOC and SID_MATCH register space. */
    if (log2_vintfs > CMDQ_ALLOC_VINTF_LENGTH ||
        log2_vcmdqs > CMDQ_ALLOC_LVCMDQ_LENGTH ||
        log2_vcmdqs < log2_vintfs || log2_vsids > VINTF_MAX_SIDS_LOG2) {
        return NULL;
    }

    cmdqv = g_new0(SimCmdqv, 1);
    g_mutex_init(&cmdqv->worker_lock);
    g_mutex_init(&cmdqv->lock);
    g_cond_init(&cmdqv->wake);
    if (ops) {
        cmdqv->ops = *ops;
    }
    cmdqv->nr_vintfs = 1u << log2_vintfs;
    cmdqv->nr_lvcmdqs = 1u << (log2_vcmdqs - log2_vintfs);
    cmdqv->nr_sids = 1u << log2_vsids;
    cmdqv->param = CMDQV_FIELD_DP(CMDQV_PARAM, VER, 0, CMDQV_VERSION);
    cmdqv->param = CMDQV_FIELD_DP(CMDQV_PARAM, NUM_VCMDQ_LOG2, cmdqv->param,
                                  log2_vcmdqs);
    cmdqv->param = CMDQV_FIELD_DP(CMDQV_PARAM, NUM_VINTF_LOG2, cmdqv->param,
                                  log2_vintfs);
    cmdqv->param = CMDQV_FIELD_DP(CMDQV_PARAM, NUM_SID_PER_VM_LOG2,
                                  cmdqv->param, log2_vsids);

    /* The state the host driver's reset leaves: CMDQV on, queues assigned. */
    cmdqv->config = CMDQV_FIELD_DP(CMDQV_CONFIG, EN, 0, 1);
    cmdqv->status = CMDQV_FIELD_DP(CMDQV_STATUS, ENABLED, 0, 1);
    cmdqv->cmdq_alloc = g_new0(uint32_t, 1u << log2_vcmdqs);
    cmdqv->vintfs = g_new0(SimVintf, cmdqv->nr_vintfs);
    for (v = 0; v < cmdqv->nr_vintfs; v++) {
        cmdqv->vintfs[v].page0_fd = -1;
        cmdqv->vintfs[v].lvcmdqs = g_new0(SimVcmdq, cmdqv->nr_lvcmdqs);
        for (lidx = 0; lidx < cmdqv->nr_lvcmdqs; lidx++) {
            uint32_t val = CMDQV_FIELD_DP(CMDQ_ALLOC, VINTF, 0, v);

            val = CMDQV_FIELD_DP(CMDQ_ALLOC, LVCMDQ, val, lidx);
            cmdqv->cmdq_alloc[v * cmdqv->nr_lvcmdqs + lidx] = val;
        }
    }
    /* VINTF0 is the host kernel's own, hypervisor-owned. */
    cmdqv->vintfs[0].config = CMDQV_FIELD_DP(VINTF_CONFIG, HYP_OWN, 0, 1);
    cmdqv->vintfs[0].config = CMDQV_FIELD_DP(VINTF_CONFIG, EN,
                                             cmdqv->vintfs[0].config, 1);
    cmdqv->vintfs[0].status = CMDQV_FIELD_DP(VINTF_STATUS, ENABLED, 0, 1);
    return cmdqv;
}

void sim_cmdqv_free(SimCmdqv *cmdqv)
{
    unsigned v;

    if (!cmdqv) {
        return;
    }
    sim_cmdqv_stop(cmdqv);
    for (v = 1; v < cmdqv->nr_vintfs; v++) {
        sim_cmdqv_vintf_free(cmdqv, v);
    }
    for (v = 0; v < cmdqv->nr_vintfs; v++) {
        g_free(cmdqv->vintfs[v].lvcmdqs);
    }
    g_free(cmdqv->vintfs);
    g_free(cmdqv->cmdq_alloc);
    g_cond_clear(&cmdqv->wake);
    g_mutex_clear(&cmdqv->lock);
    g_mutex_clear(&cmdqv->worker_lock);
    g_free(cmdqv);
}

/* ---- VINTFs ---- */

static int vintf_page0_create(SimVintf *vintf, unsigned v)
{
    char name[32];
    void *page;
    int fd, ret;

    snprintf(name, sizeof(name), "tegra241-vintf%u-page0", v);
    fd = memfd_create(name, MFD_CLOEXEC);
    if (fd < 0) {
        return -errno;
    }
    if (ftruncate(fd, CMDQV_PAGE_SIZE) < 0) {
        ret = -errno;
        close(fd);
        return ret;
    }
    page = mmap(NULL, CMDQV_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
                fd, 0);
    if (page == MAP_FAILED) {
        ret = -errno;
        close(fd);
        return ret;
    }
    vintf->page0_fd = fd;
    vintf->page0 = page;
    return 0;
}

int sim_cmdqv_vintf_alloc(SimCmdqv *cmdqv, uint16_t vmid, unsigned *vintf)
{
    SimVintf *vi = NULL;
    unsigned v;
    int ret;

    g_mutex_lock(&cmdqv->lock);
    for (v = 1; v < cmdqv->nr_vintfs; v++) {
        if (!cmdqv->vintfs[v].allocated) {
            vi = &cmdqv->vintfs[v];
            break;
        }
    }
    if (!vi) {
        ret = -ENOSPC;
        goto out;
    }
    ret = vintf_page0_create(vi, v);
    if (ret) {
        goto out;
    }
    vi->allocated = true;
    vi->config = CMDQV_FIELD_DP(VINTF_CONFIG, VMID, 0, vmid);
    vi->config = CMDQV_FIELD_DP(VINTF_CONFIG, EN, vi->config, 1);
    vi->status = CMDQV_FIELD_DP(VINTF_STATUS, ENABLED, 0, 1);
    *vintf = v;
out:
    g_mutex_unlock(&cmdqv->lock);
    return ret;
}

void sim_cmdqv_vintf_free(SimCmdqv *cmdqv, unsigned vintf)
{
    SimVintf *vi;
    unsigned lidx;

    g_mutex_lock(&cmdqv->lock);
    vi = user_vintf(cmdqv, vintf);
    if (!vi) {
        g_mutex_unlock(&cmdqv->lock);
        return;
    }
    /* Queues go in descending order, as the hardware requires. */
    for (lidx = cmdqv->nr_lvcmdqs; lidx-- > 0;) {
        if (vi->lvcmdqs[lidx].allocated) {
            queue_free_locked(cmdqv, vintf, lidx);
        }
    }
    vi->config = 0;
    vi->status = 0;
    memset(vi->sid_match, 0, sizeof(vi->sid_match));
    memset(vi->sid_replace, 0, sizeof(vi->sid_replace));
    /* A VMM mapping keeps the memfd pages alive on its own. */
    munmap(vi->page0, CMDQV_PAGE_SIZE);
    close(vi->page0_fd);
    vi->page0 = NULL;
    vi->page0_fd = -1;
    vi->allocated = false;
    g_mutex_unlock(&cmdqv->lock);
}

int sim_cmdqv_vintf_page0_fd(SimCmdqv *cmdqv, unsigned vintf)
{
    SimVintf *vi;
    int fd;

    g_mutex_lock(&cmdqv->lock);
    vi = user_vintf(cmdqv, vintf);
    fd = vi ? vi->page0_fd : -EINVAL;
    g_mutex_unlock(&cmdqv->lock);
    return fd;
}

/* ---- SID_MATCH / SID_REPLACE ---- */

int sim_cmdqv_sid_alloc(SimCmdqv *cmdqv, unsigned vintf, uint32_t vsid,
                        uint32_t psid, unsigned *slot)
{
    SimVintf *vi;
    unsigned s;
    int ret = -ENOSPC;

    if (vsid > CMDQV_FIELD_MAX(VINTF_SID_MATCH, VIRT_SID)) {
        return -EINVAL;
    }
    g_mutex_lock(&cmdqv->lock);
    vi = user_vintf(cmdqv, vintf);
    if (!vi) {
        ret = -EINVAL;
        goto out;
    }
    for (s = 0; s < cmdqv->nr_sids; s++) {
        if (!CMDQV_FIELD_EX(VINTF_SID_MATCH, ENABLE, vi->sid_match[s])) {
            vi->sid_replace[s] = psid;
            vi->sid_match[s] = CMDQV_FIELD_DP(VINTF_SID_MATCH, VIRT_SID, 0,
                                              vsid);
            vi->sid_match[s] = CMDQV_FIELD_DP(VINTF_SID_MATCH, ENABLE,
                                              vi->sid_match[s], 1);
            *slot = s;
            ret = 0;
            break;
        }
    }
out:
    g_mutex_unlock(&cmdqv->lock);
    return ret;
}

void sim_cmdqv_sid_free(SimCmdqv *cmdqv, unsigned vintf, unsigned slot)
{
    SimVintf *vi;

    g_mutex_lock(&cmdqv->lock);
    vi = user_vintf(cmdqv, vintf);
    if (vi && slot < cmdqv->nr_sids) {
        vi->sid_match[slot] = 0;
        vi->sid_replace[slot] = 0;
    }
    g_mutex_unlock(&cmdqv->lock);
}

/* ---- VCMDQs ---- */

int sim_cmdqv_queue_alloc(SimCmdqv *cmdqv, unsigned vintf, unsigned index,
                          uint64_t base_ipa, void *hva, uint64_t length,
                          unsigned cmdqs_log2)
{
    SimVintf *vi;
    SimVcmdq *q;
    uint32_t *alloc;
    unsigned log2size;
    int ret;

    g_mutex_lock(&cmdqv->lock);
    vi = user_vintf(cmdqv, vintf);
    if (!vi || !hva || index >= cmdqv->nr_lvcmdqs) {
        ret = -EINVAL;
        goto out;
    }
    q = &vi->lvcmdqs[index];
    if (q->allocated) {
        ret = -EEXIST;
        goto out;
    }
    /* Hardware maps LVCMDQs in ascending order. */
    if (index && !vi->lvcmdqs[index - 1].allocated) {
        ret = -EIO;
        goto out;
    }
    cmdqs_log2 = MIN(cmdqs_log2, CMDQ_MAX_LOG2SIZE);
    if (length < 32 || (length & (length - 1)) ||
        length > (1ULL << (cmdqs_log2 + CMDQ_ENT_SIZE_SHIFT))) {
        ret = -EINVAL;
        goto out;
    }
    if ((base_ipa & ~CMDQV_FIELD_MASK(VCMDQ_BASE, ADDR)) ||
        (base_ipa & (length - 1))) {
        ret = -EINVAL;
        goto out;
    }
    log2size = __builtin_ctzll(length) - CMDQ_ENT_SIZE_SHIFT;

    alloc = &cmdqv->cmdq_alloc[vintf * cmdqv->nr_lvcmdqs + index];
    *alloc = CMDQV_FIELD_DP(CMDQ_ALLOC, ALLOCATED, *alloc, 1);
    queue_reset_locked(vi, index);
    q->allocated = true;
    q->hva = hva;
    q->base = CMDQV_FIELD_DP(VCMDQ_BASE, LOG2SIZE, base_ipa, log2size);
    q->cons_indx_base = 0;
    ret = 0;
out:
    g_mutex_unlock(&cmdqv->lock);
    return ret;
}

int sim_cmdqv_queue_free(SimCmdqv *cmdqv, unsigned vintf, unsigned index)
{
    SimVintf *vi;
    int ret = 0;

    g_mutex_lock(&cmdqv->lock);
    vi = user_vintf(cmdqv, vintf);
    if (!vi || index >= cmdqv->nr_lvcmdqs) {
        ret = -EINVAL;
    } else if (!vi->lvcmdqs[index].allocated) {
        ret = -ENOENT;
    } else if (index + 1 < cmdqv->nr_lvcmdqs &&
               vi->lvcmdqs[index + 1].allocated) {
        /* Hardware unmaps LVCMDQs in descending order. */
        ret = -EBUSY;
    } else {
        queue_free_locked(cmdqv, vintf, index);
    }
    g_mutex_unlock(&cmdqv->lock);
    return ret;
}

int sim_cmdqv_inject_error(SimCmdqv *cmdqv, unsigned vintf, unsigned index,
                           unsigned err)
{
    SimVintf *vi;
    uint64_t err_map[2];
    uint32_t cons;

    if (err == VCMDQ_CERROR_NONE ||
        err > CMDQV_FIELD_MAX(VCMDQ_CONS, ERR)) {
        return -EINVAL;
    }
    g_mutex_lock(&cmdqv->lock);
    vi = user_vintf(cmdqv, vintf);
    if (!vi || index >= cmdqv->nr_lvcmdqs ||
        !vi->lvcmdqs[index].allocated) {
        g_mutex_unlock(&cmdqv->lock);
        return -EINVAL;
    }
    cons = page0_get(vi, index, A_VCMDQ_CONS);
    queue_stop_locked(cmdqv, vi, index, cons, err, err_map);
    g_mutex_unlock(&cmdqv->lock);

    if (cmdqv->ops.vintf_error) {
        cmdqv->ops.vintf_error(cmdqv->ops.opaque, vintf, err_map);
    }
    return 0;
}

/* ---- engine ---- */

/*
 * Decode the command at @ec for VINTF @vi, as the hardware does for a
 * guest-owned VINTF (cmdqv-guest-cmd.h). False when it is illegal.
 */
static bool engine_decode(SimCmdqv *cmdqv, SimVintf *vi, EngineCmd *ec)
{
    switch (cmdqv_guest_cmd(ec->cmd,
                            CMDQV_FIELD_EX(VINTF_CONFIG, VMID, vi->config),
                            vi->sid_match, vi->sid_replace,
                            cmdqv->nr_sids)) {
    case CMDQV_GUEST_CMD_EXEC:
        ec->exec = true;
        return true;
    case CMDQV_GUEST_CMD_SYNC:
        /* Everything before it has run; completion is CONS passing it. */
        ec->exec = false;
        return true;
    default:
        return false;
    }
}

/*
 * Sample the guest-written CONFIG/GERRORN of queue @lidx and update the
 * model-owned STATUS/GERROR. True when the queue may consume commands.
 */
static bool engine_sync_state(SimVintf *vi, unsigned lidx, bool *changed)
{
    SimVcmdq *q = &vi->lvcmdqs[lidx];
    bool en = CMDQV_FIELD_EX(VCMDQ_CONFIG, EN,
                             page0_get(vi, lidx, A_VCMDQ_CONFIG));
    uint32_t status = CMDQV_FIELD_DP(VCMDQ_STATUS, ENABLED, 0, en);

    if (status != q->status) {
        q->status = status;
        *changed = true;
    }
    page0_set(vi, lidx, A_VCMDQ_STATUS, q->status);
    page0_set(vi, lidx, A_VCMDQ_GERROR, q->gerror);

    return en && !queue_errored(vi, lidx);
}

/*
 * Run one batch of queue @lidx of VINTF @v. Called and returns with the
 * lock held; drops it around ops->exec and ops->vintf_error.
 */
static unsigned engine_run_queue(SimCmdqv *cmdqv, unsigned v, unsigned lidx,
                                 bool *changed)
{
    SimVintf *vi = &cmdqv->vintfs[v];
    SimVcmdq *q = &vi->lvcmdqs[lidx];
    EngineCmd batch[ENGINE_BATCH];
    uint32_t mask, idx_mask, prod, cons, cons_reg, gen;
    unsigned n = 0, i;
    bool illegal = false;
    uint64_t err_map[2];

    if (q->busy || !engine_sync_state(vi, lidx, changed)) {
        return 0;
    }
    mask = queue_ptr_mask(q);
    idx_mask = mask >> 1;
    prod = page0_get(vi, lidx, A_VCMDQ_PROD) & mask;
    cons_reg = page0_get(vi, lidx, A_VCMDQ_CONS);
    cons = cons_reg & mask;

    while (cons != prod && n < ENGINE_BATCH) {
        EngineCmd *ec = &batch[n];
        const uint8_t *ent = q->hva +
                             ((size_t)(cons & idx_mask) << CMDQ_ENT_SIZE_SHIFT);

        /*
         * Guest memory, which the guest may be writing as we read (a
         * slot past PROD, or one it reuses early): atomic loads, the
         * hardware's single-copy atomic 64-bit reads.
         */
        ec->cmd[0] = GUINT64_FROM_LE(__atomic_load_n((const uint64_t *)ent,
                                                     __ATOMIC_RELAXED));
        ec->cmd[1] = GUINT64_FROM_LE(__atomic_load_n((const uint64_t *)ent + 1,
                                                     __ATOMIC_RELAXED));
        if (!engine_decode(cmdqv, vi, ec)) {
            illegal = true;
            break;
        }
        n++;
        cons = (cons + 1) & mask;
        if (!ec->exec) {
            /* Publish CONS past each CMD_SYNC without delay. */
            break;
        }
    }
    if (!n && !illegal) {
        return 0;
    }

    q->busy = true;
    gen = q->gen;
    g_mutex_unlock(&cmdqv->lock);
    for (i = 0; i < n; i++) {
        if (batch[i].exec && cmdqv->ops.exec) {
            cmdqv->ops.exec(cmdqv->ops.opaque, batch[i].cmd);
        }
    }
    g_mutex_lock(&cmdqv->lock);
    q->busy = false;
    *changed = true;
    cmdqv->commands += n;
    if (!q->allocated || q->gen != gen) {
        /* Freed meanwhile: the page0 registers were reset with it. */
        return n;
    }

    if (!illegal) {
        cons_reg = page0_get(vi, lidx, A_VCMDQ_CONS);
        page0_set(vi, lidx, A_VCMDQ_CONS, (cons_reg & ~mask) | cons);
        return n;
    }
    queue_stop_locked(cmdqv, vi, lidx, cons, VCMDQ_CERROR_ILL, err_map);
    g_mutex_unlock(&cmdqv->lock);
    if (cmdqv->ops.vintf_error) {
        cmdqv->ops.vintf_error(cmdqv->ops.opaque, v, err_map);
    }
    g_mutex_lock(&cmdqv->lock);
    return n;
}

/* One pass; @changed reports register activity besides commands. */
static unsigned engine_pass(SimCmdqv *cmdqv, bool *changed)
{
    unsigned v, lidx, n = 0;

    g_mutex_lock(&cmdqv->lock);
    for (v = 1; v < cmdqv->nr_vintfs; v++) {
        for (lidx = 0; lidx < cmdqv->nr_lvcmdqs; lidx++) {
            /* Re-checked each time: the lock drops while commands run. */
            SimVintf *vi = &cmdqv->vintfs[v];

            if (vi->allocated && vi->lvcmdqs[lidx].allocated) {
                n += engine_run_queue(cmdqv, v, lidx, changed);
            }
        }
    }
    g_mutex_unlock(&cmdqv->lock);
    return n;
}

/*
 * At most this many commands per kick: the rest of a deep queue is the
 * worker's, so a guest cannot keep its vCPU in the engine for long.
 */
#define KICK_MAX_COMMANDS       4096

unsigned sim_cmdqv_kick(SimCmdqv *cmdqv, unsigned v)
{
    unsigned lidx, n = 0, pass;
    bool changed = false;

    g_mutex_lock(&cmdqv->lock);
    cmdqv->kicks++;
    do {
        pass = 0;
        for (lidx = 0; lidx < cmdqv->nr_lvcmdqs; lidx++) {
            /* Re-checked each time: the lock drops while commands run. */
            SimVintf *vi = user_vintf(cmdqv, v);

            if (vi && vi->lvcmdqs[lidx].allocated) {
                if (vi->lvcmdqs[lidx].busy) {
                    /* The worker runs it: it goes again without a nap. */
                    cmdqv->kick_missed = true;
                    continue;
                }
                pass += engine_run_queue(cmdqv, v, lidx, &changed);
            }
        }
        n += pass;
    } while (pass && n < KICK_MAX_COMMANDS);
    if (pass) {
        cmdqv->kick_missed = true;
    }
    g_mutex_unlock(&cmdqv->lock);
    return n;
}

unsigned sim_cmdqv_step(SimCmdqv *cmdqv)
{
    bool changed = false;

    return engine_pass(cmdqv, &changed);
}

/*
 * Hardware notices PROD moving by itself; the model polls the shared pages
 * instead, sleeping between passes on @wake so that stop is immediate.
 */
static gpointer engine_worker(gpointer opaque)
{
    SimCmdqv *cmdqv = opaque;
    gint64 delay = WORKER_ACTIVE_US;
    gint64 last_active = g_get_monotonic_time();

    g_mutex_lock(&cmdqv->lock);
    while (!cmdqv->stopping) {
        bool changed = false;
        unsigned n;
        gint64 now;

        g_mutex_unlock(&cmdqv->lock);
        n = engine_pass(cmdqv, &changed);
        g_mutex_lock(&cmdqv->lock);
        now = g_get_monotonic_time();
        if (n || changed) {
            last_active = now;
            delay = WORKER_ACTIVE_US;
        } else if (now - last_active > WORKER_LINGER_US) {
            delay = MIN(delay * 2, WORKER_IDLE_MAX_US);
        }
        if (cmdqv->kick_missed) {
            cmdqv->kick_missed = false;
            continue;
        }
        if (!cmdqv->stopping) {
            g_cond_wait_until(&cmdqv->wake, &cmdqv->lock,
                              g_get_monotonic_time() + delay);
        }
    }
    g_mutex_unlock(&cmdqv->lock);
    return NULL;
}

void sim_cmdqv_start(SimCmdqv *cmdqv)
{
    g_mutex_lock(&cmdqv->worker_lock);
    if (!cmdqv->worker) {
        g_mutex_lock(&cmdqv->lock);
        cmdqv->stopping = false;
        g_mutex_unlock(&cmdqv->lock);
        cmdqv->worker = g_thread_new("tegra241-cmdqv", engine_worker, cmdqv);
    }
    g_mutex_unlock(&cmdqv->worker_lock);
}

void sim_cmdqv_stop(SimCmdqv *cmdqv)
{
    g_mutex_lock(&cmdqv->worker_lock);
    if (cmdqv->worker) {
        g_mutex_lock(&cmdqv->lock);
        cmdqv->stopping = true;
        g_cond_broadcast(&cmdqv->wake);
        g_mutex_unlock(&cmdqv->lock);
        g_thread_join(cmdqv->worker);
        cmdqv->worker = NULL;
    }
    g_mutex_unlock(&cmdqv->worker_lock);
}

/* ---- host register view ---- */

static uint32_t read_page0_locked(SimVintf *vi, unsigned lidx, unsigned reg)
{
    SimVcmdq *q = &vi->lvcmdqs[lidx];

    if (!vi->page0) {
        return 0;
    }
    switch (reg) {
    case A_VCMDQ_STATUS:
        return q->status;
    case A_VCMDQ_GERROR:
        return q->gerror;
    case A_VCMDQ_CONS:
    case A_VCMDQ_PROD:
    case A_VCMDQ_CONFIG:
    case A_VCMDQ_GERRORN:
        return page0_get(vi, lidx, reg);
    default:
        return 0;
    }
}

static uint32_t read_page1_locked(SimVintf *vi, unsigned lidx, unsigned reg)
{
    SimVcmdq *q = &vi->lvcmdqs[lidx];

    switch (reg) {
    case A_VCMDQ_BASE:
        return q->base;
    case A_VCMDQ_BASE + 4:
        return q->base >> 32;
    case A_VCMDQ_CONS_INDX_BASE:
        return q->cons_indx_base;
    case A_VCMDQ_CONS_INDX_BASE + 4:
        return q->cons_indx_base >> 32;
    default:
        return 0;
    }
}

static uint32_t read_vintf_locked(SimCmdqv *cmdqv, SimVintf *vi, unsigned reg)
{
    uint64_t err_map[2];

    if (reg == A_VINTF_CONFIG) {
        return vi->config;
    }
    if (reg == A_VINTF_STATUS) {
        return vi->status;
    }
    if (reg >= A_VINTF_SID_MATCH(0) &&
        reg < A_VINTF_SID_MATCH(cmdqv->nr_sids)) {
        return vi->sid_match[(reg - A_VINTF_SID_MATCH(0)) / 4];
    }
    if (reg >= A_VINTF_SID_REPLACE(0) &&
        reg < A_VINTF_SID_REPLACE(cmdqv->nr_sids)) {
        return vi->sid_replace[(reg - A_VINTF_SID_REPLACE(0)) / 4];
    }
    if (reg >= A_VINTF_LVCMDQ_ERR_MAP_64(0) &&
        reg < A_VINTF_LVCMDQ_ERR_MAP_64(2)) {
        unsigned word = (reg - A_VINTF_LVCMDQ_ERR_MAP_64(0)) / 4;

        vintf_err_map(cmdqv, vi, err_map);
        return err_map[word / 2] >> (32 * (word % 2));
    }
    return 0;
}

static uint32_t read_global_locked(SimCmdqv *cmdqv, unsigned reg)
{
    unsigned nr_vcmdqs = cmdqv->nr_vintfs * cmdqv->nr_lvcmdqs;
    unsigned v, lidx;
    uint64_t vintf_map = 0, err_map[2];
    uint32_t cmdq_map[CMDQV_CMDQ_ERR_MAP_WORDS] = { 0 };

    switch (reg) {
    case A_CMDQV_CONFIG:
        return cmdqv->config;
    case A_CMDQV_PARAM:
        return cmdqv->param;
    case A_CMDQV_STATUS:
        return cmdqv->status;
    }
    if (reg >= A_CMDQV_CMDQ_ALLOC(0) && reg < A_CMDQV_CMDQ_ALLOC(nr_vcmdqs)) {
        return cmdqv->cmdq_alloc[(reg - A_CMDQV_CMDQ_ALLOC(0)) / 4];
    }

    /* The global error maps summarise the per-VINTF LVCMDQ_ERR_MAPs. */
    for (v = 0; v < cmdqv->nr_vintfs; v++) {
        vintf_err_map(cmdqv, &cmdqv->vintfs[v], err_map);
        for (lidx = 0; lidx < cmdqv->nr_lvcmdqs; lidx++) {
            unsigned q = v * cmdqv->nr_lvcmdqs + lidx;

            if (err_map[lidx / 64] & (1ULL << (lidx % 64))) {
                vintf_map |= 1ULL << v;
                cmdq_map[q / 32] |= 1u << (q % 32);
            }
        }
    }
    if (reg == A_CMDQV_VINTF_ERR_MAP) {
        return vintf_map;
    }
    if (reg == A_CMDQV_VINTF_ERR_MAP + 4) {
        return vintf_map >> 32;
    }
    if (reg >= A_CMDQV_CMDQ_ERR_MAP(0) &&
        reg < A_CMDQV_CMDQ_ERR_MAP(CMDQV_CMDQ_ERR_MAP_WORDS)) {
        return cmdq_map[(reg - A_CMDQV_CMDQ_ERR_MAP(0)) / 4];
    }
    return 0;
}

uint32_t sim_cmdqv_read_reg(SimCmdqv *cmdqv, uint64_t offset)
{
    unsigned nr_vcmdqs = cmdqv->nr_vintfs * cmdqv->nr_lvcmdqs;
    uint32_t val = 0;

    if (offset & 3) {
        return 0;
    }
    g_mutex_lock(&cmdqv->lock);
    if (offset < CMDQV_VCMDQ_PAGE0_BASE) {
        if (offset >= A_CMDQV_VINTF(0) &&
            offset < A_CMDQV_VINTF(cmdqv->nr_vintfs)) {
            unsigned v = (offset - A_CMDQV_VINTF(0)) / CMDQV_VINTF_STRIDE;

            val = read_vintf_locked(cmdqv, &cmdqv->vintfs[v],
                                    (offset - A_CMDQV_VINTF(0)) %
                                    CMDQV_VINTF_STRIDE);
        } else {
            val = read_global_locked(cmdqv, offset);
        }
    } else if (offset < CMDQV_VINTF_PAGE_BASE) {
        /* Global VCMDQ pages: queue q as CMDQ_ALLOC(q) assigns it. */
        uint64_t off = offset % CMDQV_PAGE_SIZE;
        unsigned q = off / CMDQV_VCMDQ_STRIDE;

        if (q < nr_vcmdqs) {
            uint32_t alloc = cmdqv->cmdq_alloc[q];
            SimVintf *vi = &cmdqv->vintfs[CMDQV_FIELD_EX(CMDQ_ALLOC, VINTF,
                                                         alloc)];
            unsigned lidx = CMDQV_FIELD_EX(CMDQ_ALLOC, LVCMDQ, alloc);
            unsigned reg = off % CMDQV_VCMDQ_STRIDE;

            if (offset < CMDQV_VCMDQ_PAGE1_BASE) {
                val = read_page0_locked(vi, lidx, reg);
            } else {
                val = read_page1_locked(vi, lidx, reg);
            }
        }
    } else {
        /* VINTF logical pages: page0 then page1 of each VINTF. */
        uint64_t off = offset - CMDQV_VINTF_PAGE_BASE;
        uint64_t v = off / CMDQV_VINTF_PAGE_STRIDE;
        uint64_t in_pair = off % CMDQV_VINTF_PAGE_STRIDE;
        unsigned lidx = (in_pair % CMDQV_PAGE_SIZE) / CMDQV_VCMDQ_STRIDE;
        unsigned reg = in_pair % CMDQV_VCMDQ_STRIDE;

        if (v < cmdqv->nr_vintfs && lidx < cmdqv->nr_lvcmdqs) {
            if (in_pair < CMDQV_PAGE_SIZE) {
                val = read_page0_locked(&cmdqv->vintfs[v], lidx, reg);
            } else {
                val = read_page1_locked(&cmdqv->vintfs[v], lidx, reg);
            }
        }
    }
    g_mutex_unlock(&cmdqv->lock);
    return val;
}

uint64_t sim_cmdqv_commands(SimCmdqv *cmdqv)
{
    uint64_t n;

    g_mutex_lock(&cmdqv->lock);
    n = cmdqv->commands;
    g_mutex_unlock(&cmdqv->lock);
    return n;
}

uint64_t sim_cmdqv_kicks(SimCmdqv *cmdqv)
{
    uint64_t n;

    g_mutex_lock(&cmdqv->lock);
    n = cmdqv->kicks;
    g_mutex_unlock(&cmdqv->lock);
    return n;
}
