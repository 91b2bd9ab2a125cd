/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * QTest of the Tegra241 CMDQV of the accelerated SMMUv3 on iommufd-sim:
 * register reset values, PARAM from the host's hw_info, HW queue
 * allocation order and its errors, guest commands run by the simulated
 * hardware from the mapped VINTF page0 (no MMIO trap), vSID translation
 * of ATC_INV, an illegal command reported through the error maps and
 * the interrupt, and reset/exit leaving no host object behind.
 *
 * On /dev/iommu (no VFIO device here): cmdqv=on offers the fixed
 * geometry before any host is known, and a VINTF enable with no device
 * to allocate with fails visibly; cmdqv=auto there has no window.
 *
 * And the emulated CMDQV of the emulated SMMUv3 (accel=off,cmdqv=on) on
 * its own, with no host: the host's view of the hardware (HYP_OWN, every
 * VINTF, the CMDQ_ALLOC map, SID replacement), its queues run by the
 * SMMU's command execution, and errors through the maps and interrupt.
 */
#include "qemu/osdep.h"
#include "qemu/host-utils.h"
#include "libqtest.h"
#include "qapi/error.h"
#include "qobject/qdict.h"
#include "qobject/qjson.h"
#include "qobject/qlist.h"

/* CMDQV window */
#define CMDQV_CONFIG            0x0
#define CMDQV_PARAM             0x4
#define CMDQV_STATUS            0x8
#define CMDQV_VINTF_ERR_MAP     0x14
#define CMDQV_CMDQ_ERR_MAP(m)   (0x24 + 4 * (m))
#define CMDQV_CMDQ_ALLOC(q)     (0x200 + 4 * (q))
#define VINTF0_CONFIG           0x1000
#define VINTF0_STATUS           0x1004
#define VINTF0_SID_MATCH(s)     (0x1040 + 4 * (s))
#define VINTF0_SID_REPLACE(s)   (0x1080 + 4 * (s))
#define VINTF0_LVCMDQ_ERR_MAP   0x10c0
#define VINTF0_PAGE0(q)         (0x30000 + 0x80 * (q))
#define VINTF0_PAGE1(q)         (0x40000 + 0x80 * (q))
#define VCMDQ_CONS              0x0
#define VCMDQ_PROD              0x4
#define VCMDQ_CONFIG            0x8
#define VCMDQ_STATUS            0xc
#define VCMDQ_GERROR            0x10
#define VCMDQ_GERRORN           0x14
#define VCMDQ_BASE              0x0
#define VINTF_HYP_OWN           (1u << 17)
#define CONS_ERR(v)             (((v) >> 24) & 0x7f)

/* SMMUv3 registers */
#define SMMU_IDR1               0x4
#define IDR1_CMDQS(v)           (((v) >> 21) & 0x1f)
#define SMMU_CR0                0x20
#define SMMU_CR0ACK             0x24
#define SMMU_STRTAB_BASE        0x80
#define SMMU_STRTAB_BASE_CFG    0x88

/* Guest memory used by the tests */
#define STRTAB_GPA              0x44000000ULL
#define CD_GPA                  0x44100000ULL
#define QUEUE0_GPA              0x44200000ULL
#define QUEUE1_GPA              0x44300000ULL
#define QUEUE_LOG2              8       /* 256 commands, 4 KiB */

#define CMD_TLBI_NH_ASID        0x11
#define CMD_ATC_INV             0x40
#define CMD_SYNC                0x46
#define CMD_CFGI_STE            0x03

#define TESTDEV_SID             0x10    /* pci-testdev at 00:02.0 */

typedef struct Env {
    QTestState *qts;
    uint64_t smmu;
    uint64_t cmdqv;
} Env;

/* Start of the memory region @name in "info mtree"; its end in *@end. */
static uint64_t mtree_range(QTestState *qts, const char *name, uint64_t *end)
{
    g_autofree char *mtree = qtest_hmp(qts, "info mtree");
    g_autofree char *pat = g_strdup_printf("): %s\r\n", name);
    char *hit = strstr(mtree, pat), *line;

    if (!hit) {
        g_free(pat);
        pat = g_strdup_printf("): %s\n", name);
        hit = strstr(mtree, pat);
    }
    if (!hit) {
        return 0;
    }
    for (line = hit; line > mtree && line[-1] != '\n'; line--) {
        /* back to the start of the line */
    }
    line += strspn(line, " ");
    if (end) {
        *end = g_ascii_strtoull(strchr(line, '-') + 1, NULL, 16);
    }
    return g_ascii_strtoull(line, NULL, 16);
}

static uint64_t mtree_base(QTestState *qts, const char *name)
{
    return mtree_range(qts, name, NULL);
}

static Env env_start(const char *sim_opts, const char *smmu_opts)
{
    Env e;

    e.qts = qtest_initf("-machine virt -accel qtest -m 256M -nodefaults "
                        "-object iommufd-sim,id=sim0%s "
                        "-device arm-smmuv3,id=smmu0,primary-bus=pcie.0,"
                        "accel=on,iommufd=sim0%s "
                        "-device pci-testdev,bus=pcie.0,addr=0x2",
                        sim_opts, smmu_opts);
    e.smmu = mtree_base(e.qts, "arm-smmuv3");
    e.cmdqv = mtree_base(e.qts, "tegra241-cmdqv");
    g_assert_cmphex(e.smmu, !=, 0);
    return e;
}

static uint32_t rd(Env *e, uint64_t off)
{
    return qtest_readl(e->qts, e->cmdqv + off);
}

static void wr(Env *e, uint64_t off, uint32_t val)
{
    qtest_writel(e->qts, e->cmdqv + off, val);
}

static QDict *qom_json(Env *e, const char *path, const char *prop)
{
    QDict *rsp = qtest_qmp(e->qts, "{'execute': 'qom-get', 'arguments': "
                           "{'path': %s, 'property': %s}}", path, prop);
    QDict *d;

    g_assert(qdict_haskey(rsp, "return"));
    d = qobject_to(QDict, qobject_from_json(qdict_get_str(rsp, "return"),
                                            &error_abort));
    qobject_unref(rsp);
    return d;
}

static QDict *sim_stats(Env *e)
{
    return qom_json(e, "/objects/sim0", "stats");
}

static int64_t sim_stat(Env *e, const char *key)
{
    QDict *d = sim_stats(e);
    int64_t v = qdict_get_int(d, key);

    qobject_unref(d);
    return v;
}

static int64_t sim_ioctls(Env *e, const char *name)
{
    QDict *d = sim_stats(e);
    int64_t v = qdict_get_int(qdict_get_qdict(d, "ioctls"), name);

    qobject_unref(d);
    return v;
}

/* "cmdqv-stats" of the SMMU: a top-level key, or traps.<page>. */
static int64_t cmdqv_stat(Env *e, const char *key)
{
    QDict *d = qom_json(e, "/machine/peripheral/smmu0", "cmdqv-stats");
    int64_t v;

    if (g_str_has_prefix(key, "traps.")) {
        v = qdict_get_int(qdict_get_qdict(d, "traps"), key + 6);
    } else if (!strcmp(key, "mapped")) {
        v = qdict_get_bool(d, key);
    } else {
        v = qdict_get_int(d, key);
    }
    qobject_unref(d);
    return v;
}

/* Count the sim's objects of @type (and of HW queue @index if >= 0). */
static int sim_objects(Env *e, const char *type)
{
    QDict *d = sim_stats(e);
    QList *objs = qdict_get_qlist(d, "objects");
    const QListEntry *ent;
    int n = 0;

    QLIST_FOREACH_ENTRY(objs, ent) {
        QDict *o = qobject_to(QDict, qlist_entry_obj(ent));

        n += !strcmp(qdict_get_str(o, "type"), type);
    }
    qobject_unref(d);
    return n;
}

/* ATC_INVs the simulated physical SMMU ran for the device on @psid. */
static int64_t sim_device_atc_invs(Env *e, int64_t psid)
{
    QDict *d = sim_stats(e);
    QList *devs = qdict_get_qlist(d, "devices");
    const QListEntry *ent;
    int64_t n = -1;

    QLIST_FOREACH_ENTRY(devs, ent) {
        QDict *o = qobject_to(QDict, qlist_entry_obj(ent));

        if (qdict_get_int(o, "psid") == psid) {
            n = qdict_get_int(o, "atc_invs");
        }
    }
    qobject_unref(d);
    g_assert_cmpint(n, >=, 0);
    return n;
}

static bool wait_reg(Env *e, uint64_t off, uint32_t mask, uint32_t val)
{
    gint64 end = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;

    while ((rd(e, off) & mask) != val) {
        if (g_get_monotonic_time() > end) {
            return false;
        }
        g_usleep(1000);
    }
    return true;
}

/* Guest driver steps (tegra241_cmdqv_hw_reset, vintf_hw_init). */
static void enable_cmdqv(Env *e, unsigned nr_queues)
{
    unsigned q;

    wr(e, CMDQV_CONFIG, 1);
    g_assert_cmphex(rd(e, CMDQV_STATUS) & 1, ==, 1);
    for (q = 0; q < nr_queues; q++) {
        wr(e, CMDQV_CMDQ_ALLOC(q), q << 1);
    }
    wr(e, VINTF0_CONFIG, 1);
    g_assert_cmphex(rd(e, VINTF0_STATUS) & 1, ==, 1);
}

static void map_queue(Env *e, unsigned q)
{
    wr(e, CMDQV_CMDQ_ALLOC(q), (q << 1) | 1);
}

static void set_base(Env *e, unsigned q, uint64_t gpa, unsigned log2)
{
    qtest_writeq(e->qts, e->cmdqv + VINTF0_PAGE1(q) + VCMDQ_BASE,
                 gpa | log2);
}

static void put_cmd(Env *e, uint64_t qgpa, unsigned idx, uint64_t c0,
                    uint64_t c1)
{
    qtest_writeq(e->qts, qgpa + 16 * idx, c0);
    qtest_writeq(e->qts, qgpa + 16 * idx + 8, c1);
}

/* Enable queue @q (BASE already set) and wait for the hardware. */
static void enable_queue(Env *e, unsigned q)
{
    wr(e, VINTF0_PAGE0(q) + VCMDQ_CONFIG, 1);
    g_assert(wait_reg(e, VINTF0_PAGE0(q) + VCMDQ_STATUS, 1, 1));
}

/* ---- tests ---- */

static void test_reset_values(void)
{
    Env e = env_start(",vsids-log2=3", ",cmdqv=on");
    unsigned q;

    g_assert_cmphex(e.cmdqv, !=, 0);
    /* PARAM: VER 1, the host's per-VINTF VCMDQs and SIDs, one VINTF. */
    g_assert_cmphex(rd(&e, CMDQV_PARAM), ==, 1 | 1 << 4 | 0 << 8 | 3 << 12);
    g_assert_cmphex(rd(&e, CMDQV_CONFIG), ==, 0);
    g_assert_cmphex(rd(&e, CMDQV_STATUS), ==, 0);
    g_assert_cmphex(rd(&e, CMDQV_VINTF_ERR_MAP), ==, 0);
    g_assert_cmphex(rd(&e, VINTF0_CONFIG), ==, 0);
    g_assert_cmphex(rd(&e, VINTF0_STATUS), ==, 0);
    for (q = 0; q < 2; q++) {
        g_assert_cmphex(rd(&e, CMDQV_CMDQ_ALLOC(q)), ==, 0);
        g_assert_cmphex(rd(&e, VINTF0_PAGE0(q) + VCMDQ_CONS), ==, 0);
        g_assert_cmphex(rd(&e, VINTF0_PAGE0(q) + VCMDQ_STATUS), ==, 0);
        g_assert_cmphex(rd(&e, VINTF0_PAGE1(q) + VCMDQ_BASE), ==, 0);
    }
    /* HYP_OWN is wired to zero for a guest. */
    wr(&e, VINTF0_CONFIG, VINTF_HYP_OWN | 5 << 1);
    g_assert_cmphex(rd(&e, VINTF0_CONFIG), ==, 5 << 1);
    /* SID_MATCH/SID_REPLACE are shadowed. */
    wr(&e, VINTF0_SID_MATCH(7), 0x21);
    wr(&e, VINTF0_SID_REPLACE(7), 0x1234);
    g_assert_cmphex(rd(&e, VINTF0_SID_MATCH(7)), ==, 0x21);
    g_assert_cmphex(rd(&e, VINTF0_SID_REPLACE(7)), ==, 0x1234);
    /* No host object until the guest enables its VINTF. */
    g_assert_cmpint(sim_stat(&e, "live_objects"), ==, 0);
    /*
     * A queue must fit a page of the RAM backend (host pages here) to be
     * physically contiguous: SMMU_IDR1.CMDQS is capped to it.
     */
    g_assert_cmpuint(IDR1_CMDQS(qtest_readl(e.qts, e.smmu + SMMU_IDR1)), ==,
                     ctz64(qemu_real_host_page_size()) - 4);
    qtest_quit(e.qts);
    /* Without the CMDQV the host's CMDQS (iommufd-sim's: 19) stands. */
    e = env_start("", ",cmdqv=off");
    g_assert_cmpuint(IDR1_CMDQS(qtest_readl(e.qts, e.smmu + SMMU_IDR1)), ==,
                     19);
    qtest_quit(e.qts);

    /* vsids-log2=0 is one SID slot, not the default 16. */
    e = env_start(",vsids-log2=0", ",cmdqv=on");
    g_assert_cmphex(rd(&e, CMDQV_PARAM), ==, 1 | 1 << 4 | 0 << 8 | 0 << 12);
    qtest_quit(e.qts);
}

static void test_no_cmdqv_host(void)
{
    const char *bin = g_getenv("QTEST_QEMU_BINARY");
    g_autofree char *out = NULL, *err = NULL;
    g_autoptr(GError) gerr = NULL;
    int status;
    Env e;
    /* Under timeout(1): a QEMU that wrongly starts fails, never hangs. */
    const char *argv[] = {
        "timeout", "-s", "KILL", "60",
        bin, "-machine", "virt", "-accel", "qtest", "-display", "none",
        "-nodefaults",
        "-object", "iommufd-sim,id=sim0,cmdqv=off",
        "-device", "arm-smmuv3,primary-bus=pcie.0,accel=on,iommufd=sim0,"
                   "cmdqv=on", NULL
    };

    g_assert(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH,
                          NULL, NULL, &out, &err, &status, &gerr));
    /* A realize error: exit status 1 (not killed by timeout(1)). */
    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, 1);
    g_assert(strstr(err, "cmdqv=on but the host SMMU has no Tegra241 CMDQV"));
    g_assert(strstr(err, "cmdqv=auto"));

    /* auto on the same host: no CMDQV window. */
    e = env_start(",cmdqv=off", ",cmdqv=auto");
    g_assert_cmphex(e.cmdqv, ==, 0);
    qtest_quit(e.qts);
    /* auto on a CMDQV host: the window is there. */
    e = env_start("", "");
    g_assert_cmphex(e.cmdqv, !=, 0);
    qtest_quit(e.qts);
}

/*
 * /dev/iommu: cmdqv=on realizes with no host known (iommufd opens
 * nothing before a VFIO device). The guest sees upstream's geometry and
 * the capped CMDQS; enabling VINTF0 with no device behind the SMMU to
 * allocate the vIOMMU with leaves STATUS.ENABLED at 0. auto: no window.
 */
static void test_dev_iommu(void)
{
    Env e;

    e.qts = qtest_init("-machine virt -accel qtest -m 256M -nodefaults "
                       "-object iommufd,id=if0 "
                       "-device arm-smmuv3,id=smmu0,primary-bus=pcie.0,"
                       "accel=on,iommufd=if0,cmdqv=on");
    e.smmu = mtree_base(e.qts, "arm-smmuv3");
    e.cmdqv = mtree_base(e.qts, "tegra241-cmdqv");
    g_assert_cmphex(e.cmdqv, !=, 0);
    g_assert_cmphex(rd(&e, CMDQV_PARAM), ==, 1 | 1 << 4 | 0 << 8 | 4 << 12);
    g_assert_cmpuint(IDR1_CMDQS(qtest_readl(e.qts, e.smmu + SMMU_IDR1)), ==,
                     ctz64(qemu_real_host_page_size()) - 4);
    wr(&e, CMDQV_CONFIG, 1);
    wr(&e, CMDQV_CMDQ_ALLOC(0), 1);
    wr(&e, VINTF0_CONFIG, 1);
    g_assert_cmphex(rd(&e, VINTF0_STATUS), ==, 0);
    g_assert_cmpint(cmdqv_stat(&e, "hw_queues"), ==, 0);
    qtest_quit(e.qts);

    e.qts = qtest_init("-machine virt -accel qtest -m 256M -nodefaults "
                       "-object iommufd,id=if0 "
                       "-device arm-smmuv3,id=smmu0,primary-bus=pcie.0,"
                       "accel=on,iommufd=if0,cmdqv=auto");
    g_assert_cmphex(mtree_base(e.qts, "tegra241-cmdqv"), ==, 0);
    qtest_quit(e.qts);
}

static void test_queue_alloc(void)
{
    Env e = env_start("", ",cmdqv=on");
    int64_t allocs;

    enable_cmdqv(&e, 2);
    g_assert_true(cmdqv_stat(&e, "mapped"));
    g_assert_cmpint(sim_objects(&e, "viommu"), ==, 1);
    allocs = sim_ioctls(&e, "IOMMU_HW_QUEUE_ALLOC");

    /* Queue 1 before queue 0: refused, the guest sees an init error. */
    map_queue(&e, 0);
    map_queue(&e, 1);
    set_base(&e, 1, QUEUE1_GPA, QUEUE_LOG2);
    g_assert_cmpint(CONS_ERR(rd(&e, VINTF0_PAGE0(1) + VCMDQ_CONS)), ==, 1);
    g_assert_cmphex(rd(&e, VINTF0_PAGE0(1) + VCMDQ_GERROR), !=,
                    rd(&e, VINTF0_PAGE0(1) + VCMDQ_GERRORN));
    wr(&e, VINTF0_PAGE0(1) + VCMDQ_CONFIG, 1);
    g_usleep(20000);
    g_assert_cmphex(rd(&e, VINTF0_PAGE0(1) + VCMDQ_STATUS), ==, 0);
    g_assert_cmpint(cmdqv_stat(&e, "hw_queues"), ==, 0);
    /* Misaligned, oversized, outside RAM: refused before the host. */
    set_base(&e, 0, QUEUE0_GPA + 0x100, QUEUE_LOG2);
    g_assert_cmpint(CONS_ERR(rd(&e, VINTF0_PAGE0(0) + VCMDQ_CONS)), ==, 1);
    set_base(&e, 0, QUEUE0_GPA, 20);
    g_assert_cmpint(CONS_ERR(rd(&e, VINTF0_PAGE0(0) + VCMDQ_CONS)), ==, 1);
    set_base(&e, 0, 0x100000000000ULL, QUEUE_LOG2);
    g_assert_cmpint(CONS_ERR(rd(&e, VINTF0_PAGE0(0) + VCMDQ_CONS)), ==, 2);
    g_assert_cmpint(sim_ioctls(&e, "IOMMU_HW_QUEUE_ALLOC"), ==, allocs);
    g_assert_cmpint(cmdqv_stat(&e, "hw_queues"), ==, 0);

    /* The driver's recovery: ack, then program in ascending order. */
    wr(&e, VINTF0_PAGE0(0) + VCMDQ_GERRORN,
       rd(&e, VINTF0_PAGE0(0) + VCMDQ_GERROR));
    wr(&e, VINTF0_PAGE0(1) + VCMDQ_CONFIG, 0);
    wr(&e, VINTF0_PAGE0(1) + VCMDQ_GERRORN,
       rd(&e, VINTF0_PAGE0(1) + VCMDQ_GERROR));
    set_base(&e, 1, 0, 0);
    /* State written before allocation is carried over: CONFIG.EN. */
    wr(&e, VINTF0_PAGE0(0) + VCMDQ_CONS, 0);
    wr(&e, VINTF0_PAGE0(0) + VCMDQ_CONFIG, 1);
    set_base(&e, 0, QUEUE0_GPA, QUEUE_LOG2);
    g_assert(wait_reg(&e, VINTF0_PAGE0(0) + VCMDQ_STATUS, 1, 1));
    set_base(&e, 1, QUEUE1_GPA, QUEUE_LOG2);
    enable_queue(&e, 1);
    g_assert_cmpint(cmdqv_stat(&e, "hw_queues"), ==, 2);
    g_assert_cmpint(sim_objects(&e, "hw_queue"), ==, 2);
    g_assert_cmpint(sim_ioctls(&e, "IOMMU_HW_QUEUE_ALLOC"), ==, allocs + 2);

    /* Queue 0 reprogrammed while 1 lives: both go, descending. */
    set_base(&e, 0, 0, 0);
    g_assert_cmpint(cmdqv_stat(&e, "hw_queues"), ==, 0);
    g_assert_cmpint(sim_objects(&e, "hw_queue"), ==, 0);
    /* Disabling the VINTF unmaps page0. */
    wr(&e, VINTF0_CONFIG, 0);
    g_assert_cmphex(rd(&e, VINTF0_STATUS), ==, 0);
    g_assert_false(cmdqv_stat(&e, "mapped"));
    qtest_quit(e.qts);
}

/*
 * A guest that keeps toggling VINTF0 must not grow QEMU: the page0
 * region is made once per host bring-up, and each enable maps it again
 * with its registers carried over.
 */
static void test_vintf_toggle(void)
{
    Env e = env_start("", ",cmdqv=on");
    int i;

    enable_cmdqv(&e, 1);
    g_assert_true(cmdqv_stat(&e, "mapped"));
    wr(&e, VINTF0_PAGE0(0) + VCMDQ_CONS, 0x5);
    for (i = 0; i < 200; i++) {
        wr(&e, VINTF0_CONFIG, 0);
        g_assert_cmphex(rd(&e, VINTF0_STATUS), ==, 0);
        wr(&e, VINTF0_CONFIG, 1);
        g_assert_cmphex(rd(&e, VINTF0_STATUS), ==, 1);
    }
    g_assert_true(cmdqv_stat(&e, "mapped"));
    g_assert_cmpint(cmdqv_stat(&e, "page0_regions"), ==, 1);
    g_assert_cmphex(rd(&e, VINTF0_PAGE0(0) + VCMDQ_CONS), ==, 0x5);
    /* Served from the host page again: no trap. */
    g_assert_cmpint(cmdqv_stat(&e, "traps_while_mapped"), ==, 0);
    qtest_quit(e.qts);
}

/*
 * A host CMDQV with fewer VINTFs has more VCMDQs each (128 in all): 4
 * VINTFs of 32 give the guest's VINTF 32 VCMDQs, and the highest of four
 * allocated in order runs commands like the first.
 */
static void test_host_geometry(void)
{
    Env e = env_start(",vintfs-log2=2,vcmdqs-log2=5", ",cmdqv=on");
    int64_t before;
    unsigned q;

    g_assert_cmphex(rd(&e, CMDQV_PARAM), ==, 1 | 5 << 4 | 0 << 8 | 4 << 12);
    enable_cmdqv(&e, 4);
    for (q = 0; q < 4; q++) {
        map_queue(&e, q);
        set_base(&e, q, QUEUE0_GPA + q * 0x1000, QUEUE_LOG2);
        enable_queue(&e, q);
    }
    g_assert_cmpint(sim_objects(&e, "hw_queue"), ==, 4);
    before = sim_stat(&e, "vcmdq_commands");
    put_cmd(&e, QUEUE0_GPA + 3 * 0x1000, 0, CMD_TLBI_NH_ASID, 0);
    put_cmd(&e, QUEUE0_GPA + 3 * 0x1000, 1, CMD_SYNC, 0);
    wr(&e, VINTF0_PAGE0(3) + VCMDQ_PROD, 2);
    g_assert(wait_reg(&e, VINTF0_PAGE0(3) + VCMDQ_CONS, 0x1ff, 2));
    g_assert_cmpint(CONS_ERR(rd(&e, VINTF0_PAGE0(3) + VCMDQ_CONS)), ==, 0);
    g_assert_cmpint(sim_stat(&e, "vcmdq_commands"), ==, before + 2);
    qtest_quit(e.qts);
}

static void test_commands(void)
{
    Env e = env_start("", ",cmdqv=on");
    int64_t before_cmds, before_inval, traps;
    unsigned i, n = 64;

    enable_cmdqv(&e, 2);
    map_queue(&e, 0);
    set_base(&e, 0, QUEUE0_GPA, QUEUE_LOG2);
    enable_queue(&e, 0);
    traps = cmdqv_stat(&e, "traps.vintf-page0");
    before_cmds = sim_stat(&e, "vcmdq_commands");
    before_inval = sim_ioctls(&e, "IOMMU_HWPT_INVALIDATE");

    for (i = 0; i < n; i++) {
        put_cmd(&e, QUEUE0_GPA, i, CMD_TLBI_NH_ASID | (uint64_t)i << 48, 0);
    }
    put_cmd(&e, QUEUE0_GPA, n, CMD_SYNC, 0);
    wr(&e, VINTF0_PAGE0(0) + VCMDQ_PROD, n + 1);
    g_assert(wait_reg(&e, VINTF0_PAGE0(0) + VCMDQ_CONS, 0x1ff, n + 1));
    g_assert_cmpint(CONS_ERR(rd(&e, VINTF0_PAGE0(0) + VCMDQ_CONS)), ==, 0);

    /* Run by the simulated hardware, with no trap and no ioctl. */
    g_assert_cmpint(sim_stat(&e, "vcmdq_commands"), ==, before_cmds + n + 1);
    g_assert_cmpint(cmdqv_stat(&e, "traps.vintf-page0"), ==, traps);
    g_assert_cmpint(traps, ==, 0);
    g_assert_cmpint(cmdqv_stat(&e, "traps_while_mapped"), ==, 0);
    g_assert_cmpint(sim_ioctls(&e, "IOMMU_HWPT_INVALIDATE"), ==,
                    before_inval);
    qtest_quit(e.qts);
}

/*
 * A linear stream table with S1 STEs for the devices on pcie.0 (the host
 * bridge at SID 0, the test device): the bound one gets a vDEVICE.
 */
static void smmu_enable_s1(Env *e)
{
    uint64_t ste0 = 1 | 5 << 1 | (CD_GPA & ~0x3fULL);

    qtest_writeq(e->qts, STRTAB_GPA, ste0);
    qtest_writeq(e->qts, STRTAB_GPA + 64 * TESTDEV_SID, ste0);
    qtest_writeq(e->qts, e->smmu + SMMU_STRTAB_BASE, STRTAB_GPA);
    qtest_writel(e->qts, e->smmu + SMMU_STRTAB_BASE_CFG, 6);
    qtest_writel(e->qts, e->smmu + SMMU_CR0, 1);
    g_assert_cmphex(qtest_readl(e->qts, e->smmu + SMMU_CR0ACK) & 1, ==, 1);
}

static void test_atc_inv_and_error(void)
{
    Env e = env_start("", ",cmdqv=on");
    int64_t irqs;
    QDict *d;
    QList *objs;
    const QListEntry *ent;
    int64_t vsid = -1, psid = -1;
    uint32_t cons, gerror;
    int vdevs = 0;

    enable_cmdqv(&e, 2);
    smmu_enable_s1(&e);
    /*
     * SMMUEN installed the test device's stage-1 STE: it has a vDEVICE
     * with its guest StreamID as vSID, on a pSID of its own. The host
     * bridge does no DMA and is not bound.
     */
    d = sim_stats(&e);
    objs = qdict_get_qlist(d, "devices");
    QLIST_FOREACH_ENTRY(objs, ent) {
        QDict *o = qobject_to(QDict, qlist_entry_obj(ent));

        if (qdict_get_int(o, "vdevice")) {
            vdevs++;
            vsid = qdict_get_int(o, "vsid");
            psid = qdict_get_int(o, "psid");
            g_assert_cmpint(qdict_get_int(o, "atc_invs"), ==, 0);
        }
    }
    qobject_unref(d);
    g_assert_cmpint(vdevs, ==, 1);
    g_assert_cmphex(vsid, ==, TESTDEV_SID);
    g_assert_cmphex(psid, !=, vsid);

    map_queue(&e, 0);
    set_base(&e, 0, QUEUE0_GPA, QUEUE_LOG2);
    enable_queue(&e, 0);
    /* ATC_INV of the vSID: the hardware finds it in SID_MATCH. */
    put_cmd(&e, QUEUE0_GPA, 0, CMD_ATC_INV | (uint64_t)vsid << 32,
            0xfffULL << 12 | 52);
    put_cmd(&e, QUEUE0_GPA, 1, CMD_SYNC, 0);
    wr(&e, VINTF0_PAGE0(0) + VCMDQ_PROD, 2);
    g_assert(wait_reg(&e, VINTF0_PAGE0(0) + VCMDQ_CONS, 0x1ff, 2));
    g_assert_cmpint(CONS_ERR(rd(&e, VINTF0_PAGE0(0) + VCMDQ_CONS)), ==, 0);
    g_assert_cmphex(rd(&e, VINTF0_LVCMDQ_ERR_MAP), ==, 0);
    /* ... which ran on the physical SMMU with the device's pSID. */
    g_assert_cmpint(sim_device_atc_invs(&e, psid), ==, 1);

    /* An unknown vSID, then a command the VCMDQ may not run: ILL. */
    irqs = cmdqv_stat(&e, "irqs");
    put_cmd(&e, QUEUE0_GPA, 2, CMD_ATC_INV | 0x99ULL << 32, 0);
    wr(&e, VINTF0_PAGE0(0) + VCMDQ_PROD, 3);
    g_assert(wait_reg(&e, VINTF0_PAGE0(0) + VCMDQ_CONS, 0x7f << 24,
                      1 << 24));
    cons = rd(&e, VINTF0_PAGE0(0) + VCMDQ_CONS);
    g_assert_cmphex(cons & 0x1ff, ==, 2);
    gerror = rd(&e, VINTF0_PAGE0(0) + VCMDQ_GERROR);
    g_assert_cmphex(gerror, !=, rd(&e, VINTF0_PAGE0(0) + VCMDQ_GERRORN));
    g_assert(wait_reg(&e, VINTF0_LVCMDQ_ERR_MAP, 1, 1));
    g_assert_cmphex(rd(&e, CMDQV_VINTF_ERR_MAP), ==, 1);
    g_assert_cmphex(rd(&e, CMDQV_CMDQ_ERR_MAP(0)), ==, 1);
    g_assert_cmpint(cmdqv_stat(&e, "irqs"), >, irqs);
    g_assert_cmpint(cmdqv_stat(&e, "vevents"), >=, 1);
    /* The refused command reached no device. */
    g_assert_cmpint(sim_device_atc_invs(&e, psid), ==, 1);

    /* The driver skips the command and acknowledges: maps clear. */
    put_cmd(&e, QUEUE0_GPA, 2, CMD_SYNC, 0);
    wr(&e, VINTF0_PAGE0(0) + VCMDQ_GERRORN, gerror);
    g_assert_cmphex(rd(&e, VINTF0_LVCMDQ_ERR_MAP), ==, 0);
    g_assert_cmphex(rd(&e, CMDQV_VINTF_ERR_MAP), ==, 0);
    g_assert(wait_reg(&e, VINTF0_PAGE0(0) + VCMDQ_CONS, 0x1ff, 3));

    /* A CFGI_STE is not a VCMDQ command either. */
    put_cmd(&e, QUEUE0_GPA, 3, CMD_CFGI_STE, 0);
    wr(&e, VINTF0_PAGE0(0) + VCMDQ_PROD, 4);
    g_assert(wait_reg(&e, VINTF0_PAGE0(0) + VCMDQ_GERROR, 1, !(gerror & 1)));
    g_assert_cmphex(rd(&e, VINTF0_PAGE0(0) + VCMDQ_CONS) & 0x1ff, ==, 3);
    qtest_quit(e.qts);
}

static void test_reset_and_exit(void)
{
    g_autofree char *path = g_strdup_printf("%s/cmdqv-stats-XXXXXX",
                                            g_get_tmp_dir());
    g_autofree char *json = NULL;
    g_autofree char *opts = NULL;
    gint64 end;
    QDict *d;
    Env e;
    int fd = g_mkstemp(path);

    g_assert(fd >= 0);
    close(fd);
    opts = g_strdup_printf(",stats-file=%s", path);
    e = env_start(opts, ",cmdqv=on");
    enable_cmdqv(&e, 2);
    smmu_enable_s1(&e);
    map_queue(&e, 0);
    map_queue(&e, 1);
    set_base(&e, 0, QUEUE0_GPA, QUEUE_LOG2);
    set_base(&e, 1, QUEUE1_GPA, QUEUE_LOG2);
    enable_queue(&e, 0);
    enable_queue(&e, 1);
    g_assert_cmpint(sim_objects(&e, "hw_queue"), ==, 2);
    g_assert_cmpint(sim_stat(&e, "live_objects"), >, 0);

    qtest_qmp_assert_success(e.qts, "{'execute': 'system_reset'}");
    end = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
    while (sim_stat(&e, "live_objects") &&
           g_get_monotonic_time() < end) {
        g_usleep(1000);
    }
    g_assert_cmpint(sim_stat(&e, "live_objects"), ==, 0);
    g_assert_cmphex(rd(&e, VINTF0_STATUS), ==, 0);
    g_assert_cmphex(rd(&e, CMDQV_CMDQ_ALLOC(1)), ==, 0);
    g_assert_false(cmdqv_stat(&e, "mapped"));

    /* Up again, then exit with everything live. */
    enable_cmdqv(&e, 2);
    map_queue(&e, 0);
    set_base(&e, 0, QUEUE0_GPA, QUEUE_LOG2);
    enable_queue(&e, 0);
    g_assert_cmpint(sim_stat(&e, "live_objects"), >, 0);
    qtest_quit(e.qts);

    g_assert(g_file_get_contents(path, &json, NULL, NULL));
    d = qobject_to(QDict, qobject_from_json(json, &error_abort));
    g_assert_cmpint(qdict_get_int(d, "live_objects"), ==, 0);
    qobject_unref(d);
    unlink(path);
}

/* ---- the emulated CMDQV (accel=off): the host's view ---- */

#define HW_VINTF(v, reg)        (0x1000 + 0x100 * (v) + (reg))
#define HW_VINTF_CONFIG         0x0
#define HW_VINTF_STATUS         0x4
#define HW_SID_MATCH(s)         (0x40 + 4 * (s))
#define HW_SID_REPLACE(s)       (0x80 + 4 * (s))
#define HW_LVCMDQ_ERR_MAP       0xc0
#define HW_VCMDQ_PAGE0(q)       (0x10000 + 0x80 * (q))
#define HW_VCMDQ_PAGE1(q)       (0x20000 + 0x80 * (q))
#define HW_LPAGE0(v, l)         (0x30000 + 0x20000 * (v) + 0x80 * (l))
#define HW_LPAGE1(v, l)         (0x40000 + 0x20000 * (v) + 0x80 * (l))
#define HW_ALLOC(v, l)          ((v) << 15 | (l) << 1 | 1)
#define CMD_TLBI_NH_VA          0x12
#define CMD_TLBI_EL2_ALL        0x20
#define CMD_TLBI_NSNH_ALL       0x30
#define CMD_CFGI_ALL            0x04    /* CFGI_STE_RANGE, Range 31 */
#define CMD_BAD_OPCODE          0x7f
#define NO_MEMORY_GPA           0x0f00000000ULL
#define VCMDQ_CERROR_ILL        1
#define VCMDQ_CERROR_ABT        2

static Env env_start_hw(const char *smmu_opts)
{
    Env e;

    e.qts = qtest_initf("-machine virt -accel qtest -m 256M -nodefaults "
                        "-device arm-smmuv3,id=smmu0,primary-bus=pcie.0,"
                        "stage=nested,cmdqv=on%s", smmu_opts);
    e.smmu = mtree_base(e.qts, "arm-smmuv3");
    e.cmdqv = mtree_base(e.qts, "tegra241-cmdqv-hw");
    g_assert_cmphex(e.smmu, !=, 0);
    g_assert_cmphex(e.cmdqv, !=, 0);
    return e;
}

/* "cmdqv-stats" of the emulated CMDQV: @list[@index].@key, or @key. */
static int64_t hw_stat(Env *e, const char *list, int index, const char *key)
{
    QDict *d = qom_json(e, "/machine/peripheral/smmu0", "cmdqv-stats");
    int64_t v;

    if (list) {
        const QListEntry *ent;
        int i = 0;

        v = -1;
        QLIST_FOREACH_ENTRY(qdict_get_qlist(d, list), ent) {
            if (i++ == index) {
                v = qdict_get_int(qobject_to(QDict, qlist_entry_obj(ent)),
                                  key);
            }
        }
        g_assert_cmpint(v, >=, 0);
    } else {
        v = qdict_get_int(d, key);
    }
    qobject_unref(d);
    return v;
}

/*
 * What a host driver does (tegra241_cmdqv_hw_reset, vintf_hw_init):
 * CMDQV on, VINTF @v on with @config, global queue @q mapped to its
 * LVCMDQ @l, BASE and CONFIG through the VINTF's logical pages.
 */
static void hw_queue_up(Env *e, unsigned v, uint32_t config, unsigned q,
                        unsigned l, uint64_t gpa)
{
    wr(e, CMDQV_CONFIG, 1);
    g_assert_cmphex(rd(e, CMDQV_STATUS), ==, 1);
    wr(e, HW_VINTF(v, HW_VINTF_CONFIG), config | 1);
    g_assert_cmphex(rd(e, HW_VINTF(v, HW_VINTF_STATUS)), ==, 1);
    wr(e, CMDQV_CMDQ_ALLOC(q), HW_ALLOC(v, l));
    qtest_writeq(e->qts, e->cmdqv + HW_LPAGE1(v, l) + VCMDQ_BASE,
                 gpa | QUEUE_LOG2);
    wr(e, HW_LPAGE0(v, l) + VCMDQ_CONFIG, 1);
    g_assert_cmphex(rd(e, HW_LPAGE0(v, l) + VCMDQ_STATUS), ==, 1);
}

/* Queue @n commands from @cmds at index @at and move PROD past them. */
static void hw_submit(Env *e, unsigned v, unsigned l, uint64_t gpa,
                      unsigned at, const uint64_t (*cmds)[2], unsigned n)
{
    unsigned i;

    for (i = 0; i < n; i++) {
        put_cmd(e, gpa, at + i, cmds[i][0], cmds[i][1]);
    }
    wr(e, HW_LPAGE0(v, l) + VCMDQ_PROD, at + n);
}

/* Queue @q of VINTF @v (LVCMDQ @l) stopped with @err at index @cons. */
static void hw_assert_error(Env *e, unsigned v, unsigned l, unsigned q,
                            unsigned err, unsigned cons)
{
    uint32_t reg = rd(e, HW_LPAGE0(v, l) + VCMDQ_CONS);

    g_assert_cmpint(CONS_ERR(reg), ==, err);
    g_assert_cmphex(reg & 0xfffff, ==, cons);
    g_assert_cmphex(rd(e, HW_LPAGE0(v, l) + VCMDQ_GERROR), !=,
                    rd(e, HW_LPAGE0(v, l) + VCMDQ_GERRORN));
    g_assert_cmphex(rd(e, HW_VINTF(v, HW_LVCMDQ_ERR_MAP)), ==, 1u << l);
    g_assert_cmphex(rd(e, CMDQV_VINTF_ERR_MAP), ==, 1u << v);
    g_assert_cmphex(rd(e, CMDQV_CMDQ_ERR_MAP(0)), ==, 1u << q);
}

/* The driver's recovery: acknowledge, as tegra241_vintf0_handle_error. */
static void hw_ack_error(Env *e, unsigned v, unsigned l)
{
    wr(e, HW_LPAGE0(v, l) + VCMDQ_GERRORN,
       rd(e, HW_LPAGE0(v, l) + VCMDQ_GERROR));
    g_assert_cmphex(rd(e, CMDQV_VINTF_ERR_MAP), ==, 0);
    g_assert_cmphex(rd(e, HW_VINTF(v, HW_LVCMDQ_ERR_MAP)), ==, 0);
    g_assert_cmphex(rd(e, CMDQV_CMDQ_ERR_MAP(0)), ==, 0);
}

static void test_hw_reset_values(void)
{
    Env e = env_start_hw("");
    uint64_t end;
    unsigned v, q;

    /* VER 1, 8 VCMDQs, 4 VINTFs, 16 SIDs per VINTF: the defaults. */
    g_assert_cmphex(rd(&e, CMDQV_PARAM), ==, 1 | 3 << 4 | 2 << 8 | 4 << 12);
    /* The window: config, global page0/1, a page pair per VINTF. */
    g_assert_cmphex(mtree_range(e.qts, "tegra241-cmdqv-hw", &end), ==,
                    e.cmdqv);
    g_assert_cmphex(end - e.cmdqv + 1, ==, 0x30000 + 4 * 0x20000);
    g_assert_cmphex(rd(&e, CMDQV_CONFIG), ==, 0);
    g_assert_cmphex(rd(&e, CMDQV_STATUS), ==, 0);
    g_assert_cmphex(rd(&e, CMDQV_VINTF_ERR_MAP), ==, 0);
    for (v = 0; v < 4; v++) {
        g_assert_cmphex(rd(&e, HW_VINTF(v, HW_VINTF_CONFIG)), ==, 0);
        g_assert_cmphex(rd(&e, HW_VINTF(v, HW_VINTF_STATUS)), ==, 0);
        g_assert_cmphex(rd(&e, HW_LPAGE0(v, 0) + VCMDQ_STATUS), ==, 0);
    }
    for (q = 0; q < 8; q++) {
        g_assert_cmphex(rd(&e, CMDQV_CMDQ_ALLOC(q)), ==, 0);
        g_assert_cmphex(rd(&e, HW_VCMDQ_PAGE0(q) + VCMDQ_CONS), ==, 0);
        g_assert_cmphex(qtest_readq(e.qts, e.cmdqv + HW_VCMDQ_PAGE1(q)), ==,
                        0);
    }
    /* The host's view: HYP_OWN and the VMID stick, STATUS follows EN. */
    wr(&e, HW_VINTF(0, HW_VINTF_CONFIG), VINTF_HYP_OWN | 7 << 1 | 1);
    g_assert_cmphex(rd(&e, HW_VINTF(0, HW_VINTF_CONFIG)), ==,
                    VINTF_HYP_OWN | 7 << 1 | 1);
    g_assert_cmphex(rd(&e, HW_VINTF(0, HW_VINTF_STATUS)), ==, 1);
    /* PARAM is read-only; SID slots hold what is written. */
    wr(&e, CMDQV_PARAM, 0);
    g_assert_cmphex(rd(&e, CMDQV_PARAM), ==, 1 | 3 << 4 | 2 << 8 | 4 << 12);
    wr(&e, HW_VINTF(3, HW_SID_MATCH(15)), 0x21);
    wr(&e, HW_VINTF(3, HW_SID_REPLACE(15)), 0x1234);
    g_assert_cmphex(rd(&e, HW_VINTF(3, HW_SID_MATCH(15))), ==, 0x21);
    g_assert_cmphex(rd(&e, HW_VINTF(3, HW_SID_REPLACE(15))), ==, 0x1234);

    /* A system reset puts it all back. */
    qtest_qmp_assert_success(e.qts, "{'execute': 'system_reset'}");
    g_assert_cmphex(rd(&e, HW_VINTF(0, HW_VINTF_CONFIG)), ==, 0);
    g_assert_cmphex(rd(&e, HW_VINTF(3, HW_SID_MATCH(15))), ==, 0);
    qtest_quit(e.qts);

    /* Sized by its properties: 8 VINTFs of 4 VCMDQs. */
    e = env_start_hw(",cmdqv-vintfs=8,cmdqv-vcmdqs=4");
    g_assert_cmphex(rd(&e, CMDQV_PARAM), ==, 1 | 5 << 4 | 3 << 8 | 4 << 12);
    mtree_range(e.qts, "tegra241-cmdqv-hw", &end);
    g_assert_cmphex(end - e.cmdqv + 1, ==, 0x30000 + 8 * 0x20000);
    qtest_quit(e.qts);
}

static void test_hw_alloc_map(void)
{
    Env e = env_start_hw("");

    /* Global VCMDQ 5 as LVCMDQ 0 of VINTF 2: one queue, two addresses. */
    wr(&e, CMDQV_CMDQ_ALLOC(5), HW_ALLOC(2, 0));
    g_assert_cmphex(rd(&e, CMDQV_CMDQ_ALLOC(5)), ==, HW_ALLOC(2, 0));
    qtest_writeq(e.qts, e.cmdqv + HW_LPAGE1(2, 0), QUEUE0_GPA | 6);
    g_assert_cmphex(qtest_readq(e.qts, e.cmdqv + HW_VCMDQ_PAGE1(5)), ==,
                    QUEUE0_GPA | 6);
    wr(&e, HW_VCMDQ_PAGE0(5) + VCMDQ_CONS, 3);
    g_assert_cmphex(rd(&e, HW_LPAGE0(2, 0) + VCMDQ_CONS), ==, 3);
    /* Nothing behind an unmapped LVCMDQ, nor behind another VINTF's. */
    g_assert_cmphex(rd(&e, HW_LPAGE0(2, 1) + VCMDQ_CONS), ==, 0);
    g_assert_cmphex(qtest_readq(e.qts, e.cmdqv + HW_LPAGE1(1, 0)), ==, 0);
    /* Unmapped (ALLOCATED clear): the logical view is gone, not BASE. */
    wr(&e, CMDQV_CMDQ_ALLOC(5), HW_ALLOC(2, 0) & ~1);
    g_assert_cmphex(qtest_readq(e.qts, e.cmdqv + HW_LPAGE1(2, 0)), ==, 0);
    g_assert_cmphex(qtest_readq(e.qts, e.cmdqv + HW_VCMDQ_PAGE1(5)), ==,
                    QUEUE0_GPA | 6);
    qtest_quit(e.qts);
}

static void test_hw_host_queue(void)
{
    Env e = env_start_hw("");
    static const uint64_t ok[][2] = {
        { CMD_TLBI_NSNH_ALL, 0 },
        { CMD_CFGI_ALL, 31 },
        { CMD_TLBI_EL2_ALL, 0 },    /* a hypervisor's own command */
        { CMD_SYNC, 0 },
    };
    static const uint64_t bad[][2] = {
        { CMD_BAD_OPCODE, 0 },
        { CMD_SYNC, 0 },
    };
    static const uint64_t sync[][2] = { { CMD_SYNC, 0 } };

    /* VINTF0 is the host kernel's: HYP_OWN, global VCMDQ 0 as LVCMDQ 0. */
    hw_queue_up(&e, 0, VINTF_HYP_OWN, 0, 0, QUEUE0_GPA);
    hw_submit(&e, 0, 0, QUEUE0_GPA, 0, ok, ARRAY_SIZE(ok));
    g_assert_cmphex(rd(&e, HW_LPAGE0(0, 0) + VCMDQ_CONS), ==, 4);
    g_assert_cmpint(hw_stat(&e, "vintfs", 0, "commands"), ==, 4);
    g_assert_cmpint(hw_stat(&e, "vcmdqs", 0, "commands"), ==, 4);
    g_assert_cmpint(hw_stat(&e, NULL, 0, "irqs"), ==, 0);

    /* The SMMU refuses an unknown opcode: the queue stops on it. */
    hw_submit(&e, 0, 0, QUEUE0_GPA, 4, bad, ARRAY_SIZE(bad));
    hw_assert_error(&e, 0, 0, 0, VCMDQ_CERROR_ILL, 4);
    g_assert_cmpint(hw_stat(&e, NULL, 0, "irqs"), ==, 1);
    g_assert_cmpint(hw_stat(&e, "vcmdqs", 0, "errors"), ==, 1);
    /* More PROD does nothing while the error is pending. */
    wr(&e, HW_LPAGE0(0, 0) + VCMDQ_PROD, 6);
    g_assert_cmphex(rd(&e, HW_LPAGE0(0, 0) + VCMDQ_CONS) & 0xfffff, ==, 4);
    /* Skip it (it becomes a CMD_SYNC) and acknowledge: the queue goes on. */
    put_cmd(&e, QUEUE0_GPA, 4, CMD_SYNC, 0);
    hw_ack_error(&e, 0, 0);
    g_assert_cmphex(rd(&e, HW_LPAGE0(0, 0) + VCMDQ_CONS) & 0xfffff, ==, 6);

    /* A disabled VINTF runs nothing; enabling it runs what is queued. */
    wr(&e, HW_VINTF(0, HW_VINTF_CONFIG), VINTF_HYP_OWN);
    hw_submit(&e, 0, 0, QUEUE0_GPA, 6, sync, 1);
    g_assert_cmphex(rd(&e, HW_LPAGE0(0, 0) + VCMDQ_CONS) & 0xfffff, ==, 6);
    wr(&e, HW_VINTF(0, HW_VINTF_CONFIG), VINTF_HYP_OWN | 1);
    g_assert_cmphex(rd(&e, HW_LPAGE0(0, 0) + VCMDQ_CONS) & 0xfffff, ==, 7);

    /* A queue whose memory cannot be read stops with ABT. */
    wr(&e, HW_LPAGE0(0, 0) + VCMDQ_CONFIG, 0);
    qtest_writeq(e.qts, e.cmdqv + HW_LPAGE1(0, 0), NO_MEMORY_GPA | QUEUE_LOG2);
    wr(&e, HW_LPAGE0(0, 0) + VCMDQ_CONFIG, 1);
    wr(&e, HW_LPAGE0(0, 0) + VCMDQ_PROD, 8);
    hw_assert_error(&e, 0, 0, 0, VCMDQ_CERROR_ABT, 7);
    g_assert_cmpint(hw_stat(&e, NULL, 0, "irqs"), ==, 2);
    qtest_quit(e.qts);
}

static void test_hw_guest_queue(void)
{
    Env e = env_start_hw("");
    static const uint64_t ok[][2] = {
        { CMD_TLBI_NH_ASID | 3ULL << 48, 0 },
        { CMD_TLBI_NH_VA | 3ULL << 48, 0x1000 },
        { CMD_ATC_INV | 0x10ULL << 32, 0 },     /* vSID 0x10 has a slot */
        { CMD_SYNC, 0 },
    };
    static const uint64_t hyp[][2] = { { CMD_TLBI_EL2_ALL, 0 } };
    static const uint64_t cfgi[][2] = { { CMD_CFGI_ALL, 31 } };
    static const uint64_t unknown_vsid[][2] = {
        { CMD_ATC_INV | 0x11ULL << 32, 0 },
    };

    /* VINTF1 for a guest: HYP_OWN clear, VMID 9, vSID 0x10 -> pSID 0x20. */
    wr(&e, HW_VINTF(1, HW_SID_REPLACE(3)), 0x20);
    wr(&e, HW_VINTF(1, HW_SID_MATCH(3)), 0x10 << 1 | 1);
    hw_queue_up(&e, 1, 9 << 1, 2, 0, QUEUE1_GPA);
    hw_submit(&e, 1, 0, QUEUE1_GPA, 0, ok, ARRAY_SIZE(ok));
    g_assert_cmphex(rd(&e, HW_LPAGE0(1, 0) + VCMDQ_CONS), ==, 4);
    g_assert_cmpint(hw_stat(&e, "vintfs", 1, "commands"), ==, 4);
    g_assert_cmpint(hw_stat(&e, "vcmdqs", 2, "commands"), ==, 4);
    g_assert_cmpint(hw_stat(&e, "vintfs", 1, "syncs"), ==, 1);
    g_assert_cmpint(hw_stat(&e, "vintfs", 0, "commands"), ==, 0);

    /* What a hypervisor may queue, a guest may not: ILL, not executed. */
    hw_submit(&e, 1, 0, QUEUE1_GPA, 4, hyp, 1);
    hw_assert_error(&e, 1, 0, 2, VCMDQ_CERROR_ILL, 4);
    put_cmd(&e, QUEUE1_GPA, 4, CMD_SYNC, 0);
    hw_ack_error(&e, 1, 0);
    g_assert_cmphex(rd(&e, HW_LPAGE0(1, 0) + VCMDQ_CONS) & 0xfffff, ==, 5);
    hw_submit(&e, 1, 0, QUEUE1_GPA, 5, cfgi, 1);
    hw_assert_error(&e, 1, 0, 2, VCMDQ_CERROR_ILL, 5);
    put_cmd(&e, QUEUE1_GPA, 5, CMD_SYNC, 0);
    hw_ack_error(&e, 1, 0);
    /* An ATC_INV for a vSID with no SID_MATCH slot is illegal too. */
    hw_submit(&e, 1, 0, QUEUE1_GPA, 6, unknown_vsid, 1);
    hw_assert_error(&e, 1, 0, 2, VCMDQ_CERROR_ILL, 6);
    g_assert_cmpint(hw_stat(&e, NULL, 0, "errors"), ==, 3);
    g_assert_cmpint(hw_stat(&e, NULL, 0, "irqs"), ==, 3);
    qtest_quit(e.qts);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/tegra241-cmdqv/reset-values", test_reset_values);
    qtest_add_func("/tegra241-cmdqv/no-cmdqv-host", test_no_cmdqv_host);
    qtest_add_func("/tegra241-cmdqv/dev-iommu", test_dev_iommu);
    qtest_add_func("/tegra241-cmdqv/queue-alloc", test_queue_alloc);
    qtest_add_func("/tegra241-cmdqv/vintf-toggle", test_vintf_toggle);
    qtest_add_func("/tegra241-cmdqv/commands", test_commands);
    qtest_add_func("/tegra241-cmdqv/host-geometry", test_host_geometry);
    qtest_add_func("/tegra241-cmdqv/atc-inv-and-error",
                   test_atc_inv_and_error);
    qtest_add_func("/tegra241-cmdqv/reset-and-exit", test_reset_and_exit);
    qtest_add_func("/tegra241-cmdqv/hw/reset-values", test_hw_reset_values);
    qtest_add_func("/tegra241-cmdqv/hw/alloc-map", test_hw_alloc_map);
    qtest_add_func("/tegra241-cmdqv/hw/host-queue", test_hw_host_queue);
    qtest_add_func("/tegra241-cmdqv/hw/guest-queue", test_hw_guest_queue);
    return g_test_run();
}
