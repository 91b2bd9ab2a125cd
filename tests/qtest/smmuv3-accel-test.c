/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * QTest of the host-accelerated SMMUv3 (arm-smmuv3,accel=on) on the
 * simulated host (iommufd-sim).
 *
 * The test is the guest driver: it builds the stream table, context
 * descriptors, stage-1 page tables and queues in guest RAM, programs the
 * SMMU registers and posts commands. The edu device, behind the SMMU,
 * does the DMA. Results are checked both where the guest sees them (SMMU
 * registers, EVTQ, RAM, the GIC) and where the host sees them (the
 * simulator's "stats" JSON: ioctls, host objects, physical STEs).
 *
 * Each case starts its own VM and checks one behaviour.
 */

#include "qemu/osdep.h"
#include "hw/registerfields.h"
#include "libqtest.h"
#include "libqos/pci.h"
#include "libqos/generic-pcihost.h"
#include "hw/pci/pci_regs.h"
#include "qapi/error.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"
#include "qobject/qjson.h"
#include "qobject/qstring.h"

/* ---- machine layout (hw/arm/virt.c) ---- */

/* The only dynamic sysbus device takes the first platform-bus slot. */
#define SMMU_BASE               0x0c000000ULL
#define GICD_BASE               0x08000000ULL
/* Platform-bus SPIs start at 112; the SMMU's IRQ 0 is the EVTQ one. */
#define SMMU_EVTQ_INTID         (32 + 112 + 0)

/* GICv2 distributor */
#define GICD_ISENABLER(n)       (0x100 + 4 * ((n) / 32))
#define GICD_ISPENDR(n)         (0x200 + 4 * ((n) / 32))
#define GICD_ICPENDR(n)         (0x280 + 4 * ((n) / 32))
#define GICD_BIT(n)             (1U << ((n) % 32))
#define GICD_ICFGR(n)           (0xc00 + 4 * ((n) / 16))
#define GICD_ICFGR_EDGE(n)      (2U << (2 * ((n) % 16)))

/* edu (hw/misc/edu.c): DMA engine in BAR0, 4 KiB buffer at 0x40000 */
#define EDU_SLOT                4
#define EDU_DEVFN               QPCI_DEVFN(EDU_SLOT, 0)
#define EDU_VSID                EDU_DEVFN       /* bus 0: BDF == devfn */
#define EDU_PSID                0x101           /* first device to DMA */
#define EDU_DMA_SRC             0x80
#define EDU_DMA_DST             0x88
#define EDU_DMA_CNT             0x90
#define EDU_DMA_CMD             0x98
#define EDU_DMA_RUN             0x1
#define EDU_DMA_TO_PCI          0x2
#define EDU_BUF                 0x40000
#define EDU_DMA_DELAY_NS        (200 * 1000 * 1000)     /* it waits 100ms */

/* ---- SMMUv3 registers ---- */

REG32(IDR0, 0x0)
    FIELD(IDR0, S2P, 0, 1)
    FIELD(IDR0, S1P, 1, 1)
REG32(IDR3, 0xc)
    FIELD(IDR3, FWB, 8, 1)
REG32(CR0, 0x20)
    FIELD(CR0, SMMUEN, 0, 1)
    FIELD(CR0, EVENTQEN, 2, 1)
    FIELD(CR0, CMDQEN, 3, 1)
REG32(CR0ACK, 0x24)
REG32(GBPA, 0x44)
    FIELD(GBPA, ABORT, 20, 1)
    FIELD(GBPA, UPDATE, 31, 1)
REG32(IRQ_CTRL, 0x50)
    FIELD(IRQ_CTRL, GERROR_IRQEN, 0, 1)
    FIELD(IRQ_CTRL, EVENTQ_IRQEN, 2, 1)
REG32(GERROR, 0x60)
    FIELD(GERROR, CMDQ_ERR, 0, 1)
    FIELD(GERROR, EVENTQ_ABT_ERR, 2, 1)
REG32(GERRORN, 0x64)
REG64(STRTAB_BASE, 0x80)
REG32(STRTAB_BASE_CFG, 0x88)
    FIELD(STRTAB_BASE_CFG, LOG2SIZE, 0, 6)
    FIELD(STRTAB_BASE_CFG, FMT, 16, 2)
REG64(CMDQ_BASE, 0x90)
    FIELD(CMDQ_BASE, LOG2SIZE, 0, 5)
REG32(CMDQ_PROD, 0x98)
REG32(CMDQ_CONS, 0x9c)
    FIELD(CMDQ_CONS, ERR, 24, 7)
REG64(EVENTQ_BASE, 0xa0)
    FIELD(EVENTQ_BASE, LOG2SIZE, 0, 5)
/* The EVTQ PROD/CONS live in page 1. */
REG32(EVENTQ_PROD, 0x100a8)
    FIELD(EVENTQ_PROD, OVFLG, 31, 1)
REG32(EVENTQ_CONS, 0x100ac)

/* CMDQ_CONS.ERR */
#define CERROR_ILL              1
#define CERROR_ABT              2

/* ---- in-memory structures (SMMUv3 architecture) ---- */

#define STE_SIZE                64
FIELD(STE0, V, 0, 1)
FIELD(STE0, CONFIG, 1, 3)
FIELD(STE0, S1CTXPTR, 6, 46)
#define STE_CFG_ABORT           0
#define STE_CFG_BYPASS          4
#define STE_CFG_S1              5
#define STE_CFG_S2              6
#define STE_CFG_NESTED          7

#define CD_SIZE                 64
FIELD(CD0, T0SZ, 0, 6)
FIELD(CD0, TG0, 6, 2)
FIELD(CD0, EPD1, 30, 1)
FIELD(CD0, V, 31, 1)
FIELD(CD0, IPS, 32, 3)
FIELD(CD0, AA64, 41, 1)
FIELD(CD0, R, 45, 1)
FIELD(CD0, A, 46, 1)
FIELD(CD0, ASID, 48, 16)
FIELD(CD1, TTB0, 4, 48)
#define CD_T0SZ_39BIT           25      /* 3 levels of 4K, from level 1 */
#define CD_IPS_48BIT            5
#define CD_ASID                 1

/* AArch64 stage-1 descriptors, 4K granule */
#define PTE_VALID               BIT_ULL(0)
#define PTE_TABLE               BIT_ULL(1)      /* table at L1/L2, page at L3 */
#define PTE_AP_EL0              BIT_ULL(6)      /* AP[1]: unprivileged access */
#define PTE_AF                  BIT_ULL(10)
#define PTE_OA_MASK             0x0000fffffffff000ULL

#define CMD_SIZE                16
FIELD(CMD0, OPCODE, 0, 8)
FIELD(CMD0, SID, 32, 32)
FIELD(CMD0, ASID, 48, 16)
FIELD(CMD1, LEAF, 0, 1)
FIELD(CMD1, ADDR, 12, 52)
#define CMD_CFGI_STE            0x03
#define CMD_TLBI_NH_VA          0x12
#define CMD_TLBI_S12_VMALL      0x28
#define CMD_SYNC                0x46
#define CMD_ILLEGAL             0x7f    /* no such opcode */

#define EVT_SIZE                32
FIELD(EVT0, ID, 0, 8)
FIELD(EVT0, SID, 32, 32)
#define EVT_C_BAD_STE           0x04
#define EVT_F_TRANSLATION       0x10
#define EVT_F_PERMISSION        0x13

/* The Tegra241 CMDQV window of the SMMU (cmdqv=on): its second region */
#define CMDQV_BASE              0x0c080000ULL
#define CMDQV_CONFIG            0x0
#define CMDQV_PARAM             0x4
#define CMDQV_STATUS            0x8
#define VINTF0_CONFIG           0x1000
#define VINTF0_STATUS           0x1004

/* ---- guest memory layout ---- */

#define STRTAB_ADDR             0x40000000ULL
#define STRTAB_LOG2SIZE         8
#define CMDQ_ADDR               0x40010000ULL
#define CMDQ_LOG2SIZE           8
#define EVTQ_ADDR               0x40020000ULL
#define EVTQ_LOG2SIZE           6
#define CD_ADDR                 0x40030000ULL
#define CD2_ADDR                (CD_ADDR + CD_SIZE)
#define PT_L1_ADDR              0x40040000ULL
#define PT_L2_ADDR              0x40041000ULL
#define PT_L3_ADDR              0x40042000ULL
#define SRC_PA                  0x40100000ULL
#define DST_PA                  0x40200000ULL
/* Unused RAM; DMA to IOVA==PA there would hit it in bypass */
#define SCRATCH_PA              0x40300000ULL
/* IOVAs stay below edu's 28-bit DMA mask. */
#define SRC_IOVA                0x01000000ULL
#define DST_IOVA                0x01001000ULL
#define UNMAPPED_IOVA           0x02000000ULL   /* its L2 entry is invalid */
#define DMA_LEN                 64
/* Outside RAM and every device of virt: reads decode-abort */
#define NOT_RAM_ADDR            0x0b000000ULL

#define TLBI_BATCH              20
#define WAIT_TIMEOUT_US         (10 * G_USEC_PER_SEC)

typedef struct SmmuTest {
    QTestState *qts;
    QGenericPCIBus pcibus;
    QPCIDevice *edu;
    QPCIBar edu_bar;
    uint32_t cmdq_prod;         /* wrap bit and index */
    uint32_t evtq_log2size;
} SmmuTest;

/* ---- register access ---- */

static uint32_t smmu_readl(SmmuTest *t, uint64_t off)
{
    return qtest_readl(t->qts, SMMU_BASE + off);
}

static void smmu_writel(SmmuTest *t, uint64_t off, uint32_t val)
{
    qtest_writel(t->qts, SMMU_BASE + off, val);
}

static void smmu_writeq(SmmuTest *t, uint64_t off, uint64_t val)
{
    qtest_writeq(t->qts, SMMU_BASE + off, val);
}

/* ---- the VM ---- */

static void edu_map(SmmuTest *t)
{
    qpci_init_generic(&t->pcibus, t->qts, NULL, false);
    g_free(t->edu);
    t->edu = qpci_device_find(&t->pcibus.bus, EDU_DEVFN);
    g_assert(t->edu);
    g_assert_cmphex(qpci_config_readw(t->edu, PCI_VENDOR_ID), ==, 0x1234);
    qpci_device_enable(t->edu);
    t->edu_bar = qpci_iomap(t->edu, 0, NULL);
}

/* A VM whose accelerated SMMU has the backend @backend ("TYPE,id=ID"). */
static SmmuTest *vm_start_on(const char *backend, const char *smmu_opts)
{
    SmmuTest *t = g_new0(SmmuTest, 1);
    g_autofree char *id = g_strdup(strstr(backend, "id=") + 3);

    t->qts = qtest_initf("-M virt,gic-version=2 -cpu max -nodefaults "
                         "-object %s "
                         "-device arm-smmuv3,primary-bus=pcie.0,accel=on,"
                         "iommufd=%s,id=smmuv3.0%s "
                         "-device edu,addr=%02x.0", backend, id,
                         smmu_opts ? smmu_opts : "", EDU_SLOT);
    /* Is the SMMU where we expect it? accel=on offers stage 1 only. */
    g_assert_cmpuint(FIELD_EX32(smmu_readl(t, A_IDR0), IDR0, S1P), ==, 1);
    g_assert_cmpuint(FIELD_EX32(smmu_readl(t, A_IDR0), IDR0, S2P), ==, 0);
    edu_map(t);
    return t;
}

static SmmuTest *vm_start(const char *smmu_opts)
{
    return vm_start_on("iommufd-sim,id=sim0", smmu_opts);
}

static void vm_stop(SmmuTest *t)
{
    g_free(t->edu);
    qtest_quit(t->qts);
    g_free(t);
}

/* ---- the simulated host's view ---- */

static QDict *sim_stats(SmmuTest *t)
{
    QDict *resp = qtest_qmp(t->qts, "{'execute': 'qom-get', 'arguments': "
                            "{'path': '/objects/sim0', 'property': 'stats'}}");
    QDict *stats;

    g_assert(qdict_haskey(resp, "return"));
    stats = qobject_to(QDict, qobject_from_json(qdict_get_str(resp, "return"),
                                                &error_abort));
    g_assert(stats);
    qobject_unref(resp);
    return stats;
}

static void sim_set(SmmuTest *t, const char *prop, const char *value)
{
    qtest_qmp_assert_success(t->qts, "{'execute': 'qom-set', 'arguments': "
                             "{'path': '/objects/sim0', 'property': %s, "
                             "'value': %s}}", prop, value);
}

static int64_t stats_ioctls(QDict *st, const char *name)
{
    return qdict_get_int(qdict_get_qdict(st, "ioctls"), name);
}

static int64_t stats_forwarded(QDict *st, const char *name)
{
    QDict *fwd = qdict_get_qdict(st, "forwarded_cmds");

    return qdict_haskey(fwd, name) ? qdict_get_int(fwd, name) : 0;
}

static int64_t stats_events(QDict *st, const char *name)
{
    return qdict_get_int(qdict_get_qdict(st, "events"), name);
}

/* The bound device with physical StreamID @psid (borrowed), or NULL. */
static QDict *stats_device(QDict *st, uint32_t psid)
{
    QListEntry *e;

    QLIST_FOREACH_ENTRY(qdict_get_qlist(st, "devices"), e) {
        QDict *dev = qobject_to(QDict, qlist_entry_obj(e));

        if (qdict_get_int(dev, "psid") == psid) {
            return dev;
        }
    }
    return NULL;
}

/* The live host object @id (borrowed), or NULL. */
static QDict *stats_object(QDict *st, int64_t id)
{
    QListEntry *e;

    QLIST_FOREACH_ENTRY(qdict_get_qlist(st, "objects"), e) {
        QDict *obj = qobject_to(QDict, qlist_entry_obj(e));

        if (qdict_get_int(obj, "id") == id) {
            return obj;
        }
    }
    return NULL;
}

static uint64_t hex_in_list(QList *list, unsigned idx)
{
    QListEntry *e;
    unsigned i = 0;

    QLIST_FOREACH_ENTRY(list, e) {
        if (i++ == idx) {
            return g_ascii_strtoull(qstring_get_str(
                        qobject_to(QString, qlist_entry_obj(e))), NULL, 16);
        }
    }
    g_assert_not_reached();
}

/* Config of the physical STE the host installed for the edu device. */
static unsigned edu_phys_ste_config(QDict *st)
{
    QDict *dev = stats_device(st, EDU_PSID);

    g_assert(dev);
    return FIELD_EX64(hex_in_list(qdict_get_qlist(dev, "ste"), 0),
                      STE0, CONFIG);
}

static int64_t edu_attached_hwpt(QDict *st)
{
    QDict *dev = stats_device(st, EDU_PSID);

    g_assert(dev);
    return qdict_get_int(dev, "attached");
}

/* Config of the vSTE a nested HWPT was allocated with. */
static unsigned hwpt_vste_config(QDict *st, int64_t id)
{
    QDict *obj = stats_object(st, id);

    g_assert(obj);
    g_assert_cmpstr(qdict_get_str(obj, "type"), ==, "hwpt_nested");
    return FIELD_EX64(hex_in_list(qdict_get_qlist(obj, "vste"), 0),
                      STE0, CONFIG);
}

/* ---- guest tables ---- */

static void write_ste(SmmuTest *t, uint32_t sid, uint64_t ste0)
{
    uint64_t ste[STE_SIZE / 8] = { cpu_to_le64(ste0) };

    qtest_memwrite(t->qts, STRTAB_ADDR + sid * STE_SIZE, ste, sizeof(ste));
}

static uint64_t ste_of(unsigned config, uint64_t cd)
{
    uint64_t ste0 = FIELD_DP64(0, STE0, V, 1);


    ste0 = FIELD_DP64(ste0, STE0, CONFIG, config);
    return FIELD_DP64(ste0, STE0, S1CTXPTR, cd >> 6);
}

static void write_cd(SmmuTest *t, uint64_t addr, uint64_t ttb0)
{
    uint64_t cd[CD_SIZE / 8] = { 0 };
    uint64_t w0 = 0;

    w0 = FIELD_DP64(w0, CD0, T0SZ, CD_T0SZ_39BIT);
    w0 = FIELD_DP64(w0, CD0, TG0, 0);               /* 4K */
    w0 = FIELD_DP64(w0, CD0, EPD1, 1);
    w0 = FIELD_DP64(w0, CD0, V, 1);
    w0 = FIELD_DP64(w0, CD0, IPS, CD_IPS_48BIT);
    w0 = FIELD_DP64(w0, CD0, AA64, 1);
    w0 = FIELD_DP64(w0, CD0, R, 1);                 /* record faults */
    w0 = FIELD_DP64(w0, CD0, A, 1);
    w0 = FIELD_DP64(w0, CD0, ASID, CD_ASID);
    cd[0] = cpu_to_le64(w0);
    cd[1] = cpu_to_le64(FIELD_DP64(0, CD1, TTB0, ttb0 >> 4));
    qtest_memwrite(t->qts, addr, cd, sizeof(cd));
}

static void write_pte(SmmuTest *t, uint64_t table, unsigned idx,
                      uint64_t desc)
{
    qtest_writeq(t->qts, table + idx * 8, desc);
}

/* Map the 4K page @iova to @pa, read-write at EL0, in one L1/L2/L3 chain. */
static void map_page(SmmuTest *t, uint64_t iova, uint64_t pa)
{
    write_pte(t, PT_L1_ADDR, (iova >> 30) & 0x1ff,
              PT_L2_ADDR | PTE_TABLE | PTE_VALID);
    write_pte(t, PT_L2_ADDR, (iova >> 21) & 0x1ff,
              PT_L3_ADDR | PTE_TABLE | PTE_VALID);
    write_pte(t, PT_L3_ADDR, (iova >> 12) & 0x1ff,
              (pa & PTE_OA_MASK) | PTE_AF | PTE_AP_EL0 | PTE_TABLE |
              PTE_VALID);
}

/* Empty tables, an S1 CD over them, SRC/DST mapped. */
static void build_s1_tables(SmmuTest *t)
{
    g_autofree uint8_t *zero = g_malloc0(0x3000);

    qtest_memwrite(t->qts, PT_L1_ADDR, zero, 0x3000);
    write_cd(t, CD_ADDR, PT_L1_ADDR);
    write_cd(t, CD2_ADDR, PT_L1_ADDR);
    map_page(t, SRC_IOVA, SRC_PA);
    map_page(t, DST_IOVA, DST_PA);
}

/* ---- queues ---- */

static void cmd_post(SmmuTest *t, uint64_t cmd0, uint64_t cmd1)
{
    uint32_t mask = (1U << CMDQ_LOG2SIZE) - 1;
    uint64_t addr = CMDQ_ADDR + (t->cmdq_prod & mask) * CMD_SIZE;

    qtest_writeq(t->qts, addr, cmd0);
    qtest_writeq(t->qts, addr + 8, cmd1);
    t->cmdq_prod = (t->cmdq_prod + 1) & ((2U << CMDQ_LOG2SIZE) - 1);
}

/* Publish what was posted: the SMMU consumes it synchronously. */
static void cmd_submit(SmmuTest *t)
{
    smmu_writel(t, A_CMDQ_PROD, t->cmdq_prod);
}

/* CMDQ_CONS without ERR: the wrap bit and index */
static uint32_t cmdq_cons_index(SmmuTest *t)
{
    return smmu_readl(t, A_CMDQ_CONS) & ((2U << CMDQ_LOG2SIZE) - 1);
}

static uint64_t cmd0_of(unsigned opcode)
{
    return FIELD_DP64(0, CMD0, OPCODE, opcode);
}

static void cmd_cfgi_ste(SmmuTest *t, uint32_t sid)
{
    cmd_post(t, FIELD_DP64(cmd0_of(CMD_CFGI_STE), CMD0, SID, sid),
             FIELD_DP64(0, CMD1, LEAF, 1));
}

static void cmd_sync(SmmuTest *t)
{
    cmd_post(t, cmd0_of(CMD_SYNC), 0);
}

static void cmd_tlbi_nh_va(SmmuTest *t, uint64_t va)
{
    uint64_t cmd1 = FIELD_DP64(0, CMD1, ADDR, va >> 12);

    cmd_post(t, FIELD_DP64(cmd0_of(CMD_TLBI_NH_VA), CMD0, ASID, CD_ASID),
             FIELD_DP64(cmd1, CMD1, LEAF, 1));
}

/* Install the STE of @sid as the guest driver does, and check it went. */
static void install_ste(SmmuTest *t, uint32_t sid, uint64_t ste0)
{
    write_ste(t, sid, ste0);
    cmd_cfgi_ste(t, sid);
    cmd_sync(t);
    cmd_submit(t);
    g_assert_cmphex(cmdq_cons_index(t), ==, t->cmdq_prod);
    g_assert_cmphex(smmu_readl(t, A_GERROR) ^ smmu_readl(t, A_GERRORN),
                    ==, 0);
}

static uint32_t evtq_prod(SmmuTest *t)
{
    return smmu_readl(t, A_EVENTQ_PROD);
}

static uint32_t evtq_index_mask(SmmuTest *t)
{
    return (2U << t->evtq_log2size) - 1;
}

/*
 * Events from the host arrive through the vEVENTQ fd, which QEMU's main
 * loop reads between two qtest commands: poll EVENTQ_PROD until it is no
 * longer @old (each read is a main-loop round trip), within a deadline.
 */
static uint32_t evtq_wait_prod_change(SmmuTest *t, uint32_t old)
{
    gint64 deadline = g_get_monotonic_time() + WAIT_TIMEOUT_US;
    uint32_t prod;

    while ((prod = evtq_prod(t)) == old) {
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
    }
    return prod;
}

static void evtq_read(SmmuTest *t, uint32_t idx, uint64_t evt[4])
{
    uint32_t mask = (1U << t->evtq_log2size) - 1;
    int i;

    qtest_memread(t->qts, EVTQ_ADDR + (idx & mask) * EVT_SIZE, evt,
                  EVT_SIZE);
    for (i = 0; i < 4; i++) {
        evt[i] = le64_to_cpu(evt[i]);
    }
}

static uint32_t cr0_of(bool eventqen, bool cmdqen)
{
    uint32_t cr0 = FIELD_DP32(0, CR0, SMMUEN, 1);

    cr0 = FIELD_DP32(cr0, CR0, EVENTQEN, eventqen);
    return FIELD_DP32(cr0, CR0, CMDQEN, cmdqen);
}

/*
 * The guest driver's probe: tables and queues in RAM, then CR0. Every
 * STE starts as abort (V=1, Config=0).
 */
static void smmu_enable(SmmuTest *t, uint32_t evtq_log2size, bool eventqen)
{
    uint32_t irq_ctrl = FIELD_DP32(0, IRQ_CTRL, GERROR_IRQEN, 1);
    uint32_t sid;

    for (sid = 0; sid < (1U << STRTAB_LOG2SIZE); sid++) {
        write_ste(t, sid, ste_of(STE_CFG_ABORT, 0));
    }
    build_s1_tables(t);
    t->evtq_log2size = evtq_log2size;
    t->cmdq_prod = 0;

    smmu_writeq(t, A_STRTAB_BASE, STRTAB_ADDR);
    smmu_writel(t, A_STRTAB_BASE_CFG,
                FIELD_DP32(0, STRTAB_BASE_CFG, LOG2SIZE, STRTAB_LOG2SIZE));
    smmu_writeq(t, A_CMDQ_BASE, CMDQ_ADDR | CMDQ_LOG2SIZE);
    smmu_writel(t, A_CMDQ_PROD, 0);
    smmu_writel(t, A_CMDQ_CONS, 0);
    smmu_writeq(t, A_EVENTQ_BASE, EVTQ_ADDR | evtq_log2size);
    smmu_writel(t, A_EVENTQ_PROD, 0);
    smmu_writel(t, A_EVENTQ_CONS, 0);
    smmu_writel(t, A_IRQ_CTRL, FIELD_DP32(irq_ctrl, IRQ_CTRL, EVENTQ_IRQEN, 1));
    smmu_writel(t, A_CR0, cr0_of(eventqen, true));
    g_assert_cmphex(smmu_readl(t, A_CR0ACK), ==, cr0_of(eventqen, true));
}

/* ---- DMA by the edu device ---- */

static void edu_dma(SmmuTest *t, uint64_t src, uint64_t dst, uint64_t len,
                    bool to_pci)
{
    qpci_io_writeq(t->edu, t->edu_bar, EDU_DMA_SRC, src);
    qpci_io_writeq(t->edu, t->edu_bar, EDU_DMA_DST, dst);
    qpci_io_writeq(t->edu, t->edu_bar, EDU_DMA_CNT, len);
    qpci_io_writeq(t->edu, t->edu_bar, EDU_DMA_CMD,
                   EDU_DMA_RUN | (to_pci ? EDU_DMA_TO_PCI : 0));
    /* The transfer runs from a virtual-clock timer. */
    qtest_clock_step(t->qts, EDU_DMA_DELAY_NS);
    g_assert_cmphex(qpci_io_readq(t->edu, t->edu_bar, EDU_DMA_CMD) &
                    EDU_DMA_RUN, ==, 0);
}

/* Device reads @len bytes at @iova into its buffer. */
static void edu_dma_read(SmmuTest *t, uint64_t iova, uint64_t len)
{
    edu_dma(t, iova, EDU_BUF, len, false);
}

/* Device writes @len bytes of its buffer at @iova. */
static void edu_dma_write(SmmuTest *t, uint64_t iova, uint64_t len)
{
    edu_dma(t, EDU_BUF, iova, len, true);
}

static void fill_pattern(SmmuTest *t, uint64_t pa, uint8_t seed)
{
    uint8_t buf[DMA_LEN];
    int i;

    for (i = 0; i < DMA_LEN; i++) {
        buf[i] = seed + i;
    }
    qtest_memwrite(t->qts, pa, buf, sizeof(buf));
}

static bool has_pattern(SmmuTest *t, uint64_t pa, uint8_t seed)
{
    uint8_t buf[DMA_LEN];
    int i;

    qtest_memread(t->qts, pa, buf, sizeof(buf));
    for (i = 0; i < DMA_LEN; i++) {
        if (buf[i] != (uint8_t)(seed + i)) {
            return false;
        }
    }
    return true;
}

/*
 * A VM whose edu device is bound on the host and attached as the STE of
 * its StreamID says (@ste0), after one DMA read of SRC_IOVA.
 */
static SmmuTest *vm_with_edu_attached(const char *smmu_opts, uint64_t ste0)
{
    SmmuTest *t = vm_start(smmu_opts);

    smmu_enable(t, EVTQ_LOG2SIZE, true);
    install_ste(t, EDU_VSID, ste0);
    edu_dma_read(t, SRC_IOVA, DMA_LEN);
    return t;
}

static SmmuTest *vm_with_edu_s1(const char *smmu_opts)
{
    return vm_with_edu_attached(smmu_opts, ste_of(STE_CFG_S1, CD_ADDR));
}

/* ---- 1. STE install ---- */

static void test_ste_abort(void)
{
    SmmuTest *t = vm_with_edu_attached(NULL, ste_of(STE_CFG_BYPASS, 0));
    g_autoptr(QDict) before = sim_stats(t);
    g_autoptr(QDict) after = NULL;

    g_assert_cmpuint(edu_phys_ste_config(before), ==, STE_CFG_S2);

    install_ste(t, EDU_VSID, ste_of(STE_CFG_ABORT, 0));
    after = sim_stats(t);
    g_assert_cmpstr(qdict_get_str(stats_device(after, EDU_PSID),
                                  "attached_kind"), ==, "nested");
    g_assert_cmpint(edu_attached_hwpt(after), !=, edu_attached_hwpt(before));
    g_assert_cmpuint(hwpt_vste_config(after, edu_attached_hwpt(after)), ==,
                     STE_CFG_ABORT);
    /* The physical STE aborts: Config 0b000 */
    g_assert_cmpuint(edu_phys_ste_config(after), ==, STE_CFG_ABORT);
    vm_stop(t);
}

static void test_ste_bypass(void)
{
    SmmuTest *t = vm_with_edu_attached(NULL, ste_of(STE_CFG_ABORT, 0));
    g_autoptr(QDict) before = sim_stats(t);
    g_autoptr(QDict) after = NULL;

    g_assert_cmpuint(edu_phys_ste_config(before), ==, STE_CFG_ABORT);

    install_ste(t, EDU_VSID, ste_of(STE_CFG_BYPASS, 0));
    after = sim_stats(t);
    g_assert_cmpstr(qdict_get_str(stats_device(after, EDU_PSID),
                                  "attached_kind"), ==, "nested");
    g_assert_cmpint(edu_attached_hwpt(after), !=, edu_attached_hwpt(before));
    g_assert_cmpuint(hwpt_vste_config(after, edu_attached_hwpt(after)), ==,
                     STE_CFG_BYPASS);
    /* Guest bypass = the host's stage 2 only: Config 0b110 */
    g_assert_cmpuint(edu_phys_ste_config(after), ==, STE_CFG_S2);
    vm_stop(t);
}

static void test_ste_s1(void)
{
    SmmuTest *t = vm_with_edu_attached(NULL, ste_of(STE_CFG_ABORT, 0));
    g_autoptr(QDict) before = sim_stats(t);
    g_autoptr(QDict) after = NULL;
    QDict *hwpt;

    install_ste(t, EDU_VSID, ste_of(STE_CFG_S1, CD_ADDR));
    after = sim_stats(t);
    g_assert_cmpstr(qdict_get_str(stats_device(after, EDU_PSID),
                                  "attached_kind"), ==, "nested");
    /* A nested HWPT of the device's own, made for this vSTE */
    g_assert_null(stats_object(before, edu_attached_hwpt(after)));
    hwpt = stats_object(after, edu_attached_hwpt(after));
    g_assert_cmphex(hex_in_list(qdict_get_qlist(hwpt, "vste"), 0), ==,
                    ste_of(STE_CFG_S1, CD_ADDR));
    g_assert_cmpint(qdict_get_int(hwpt, "devices"), ==, 1);
    /* Nested: guest S1 over host S2, Config 0b111 with the CD pointer */
    g_assert_cmpuint(edu_phys_ste_config(after), ==, STE_CFG_NESTED);
    g_assert_cmphex(FIELD_EX64(hex_in_list(qdict_get_qlist(
                        stats_device(after, EDU_PSID), "ste"), 0),
                        STE0, S1CTXPTR) << 6, ==, CD_ADDR);
    vm_stop(t);
}

static void test_ste_replace_frees_nested(void)
{
    SmmuTest *t = vm_with_edu_s1(NULL);
    g_autoptr(QDict) st1 = sim_stats(t);
    g_autoptr(QDict) st2 = NULL;
    g_autoptr(QDict) st3 = NULL;
    int64_t first = edu_attached_hwpt(st1), second;

    g_assert_cmpuint(hwpt_vste_config(st1, first), ==, STE_CFG_S1);

    /* S1 -> S1 with another CD: a new nested HWPT, the old one freed */
    install_ste(t, EDU_VSID, ste_of(STE_CFG_S1, CD2_ADDR));
    st2 = sim_stats(t);
    second = edu_attached_hwpt(st2);
    g_assert_cmpint(second, !=, first);
    g_assert_cmphex(hex_in_list(qdict_get_qlist(stats_object(st2, second),
                                                "vste"), 0), ==,
                    ste_of(STE_CFG_S1, CD2_ADDR));
    g_assert_null(stats_object(st2, first));
    g_assert_cmpint(qdict_get_int(st2, "live_objects"), ==,
                    qdict_get_int(st1, "live_objects"));

    /* S1 -> abort: the shared abort HWPT, the device's own freed */
    install_ste(t, EDU_VSID, ste_of(STE_CFG_ABORT, 0));
    st3 = sim_stats(t);
    g_assert_cmpuint(hwpt_vste_config(st3, edu_attached_hwpt(st3)), ==,
                     STE_CFG_ABORT);
    g_assert_null(stats_object(st3, second));
    g_assert_cmpint(qdict_get_int(st3, "live_objects"), ==,
                    qdict_get_int(st2, "live_objects") - 1);
    vm_stop(t);
}

/* ---- 2. vDEVICE before the nested attach ---- */

static void test_vdevice_vsid(void)
{
    SmmuTest *t = vm_with_edu_s1(NULL);
    g_autoptr(QDict) st = sim_stats(t);
    QDict *dev = stats_device(st, EDU_PSID);
    QDict *vdev = stats_object(st, qdict_get_int(dev, "vdevice"));

    g_assert(vdev);
    g_assert_cmpstr(qdict_get_str(vdev, "type"), ==, "vdevice");
    /* vSID = the guest StreamID (BDF 00:04.0), not the pSID */
    g_assert_cmphex(qdict_get_int(dev, "vsid"), ==, EDU_VSID);
    g_assert_cmphex(qdict_get_int(vdev, "virt_id"), ==, EDU_VSID);
    g_assert_cmpint(qdict_get_int(vdev, "dev"), ==, qdict_get_int(dev, "id"));
    g_assert_true(qdict_get_bool(dev, "vmaster"));
    /* Ids are allocated lowest-free: the vDEVICE came first */
    g_assert_cmpint(qdict_get_int(dev, "vdevice"), <,
                    qdict_get_int(dev, "attached"));
    vm_stop(t);
}

static void test_vdevice_before_attach(void)
{
    SmmuTest *t = vm_with_edu_attached(NULL, ste_of(STE_CFG_ABORT, 0));
    g_autoptr(QDict) before = sim_stats(t);
    g_autoptr(QDict) after = NULL;
    uint32_t prod = evtq_prod(t);
    uint64_t evt[4];

    g_assert_cmpint(qdict_get_int(stats_device(before, EDU_PSID), "vdevice"),
                    ==, 0);
    /* Without a vDEVICE the nested S1 HWPT must not even be tried. */
    sim_set(t, "inject-errno", "IOMMU_VDEVICE_ALLOC,nth=1,errno=12");
    install_ste(t, EDU_VSID, ste_of(STE_CFG_S1, CD_ADDR));
    /* The host's refusal reaches the guest: C_BAD_STE for the stream. */
    g_assert_cmphex(evtq_prod(t) & evtq_index_mask(t), ==,
                    (prod + 1) & evtq_index_mask(t));
    evtq_read(t, prod, evt);
    g_assert_cmphex(FIELD_EX64(evt[0], EVT0, ID), ==, EVT_C_BAD_STE);
    g_assert_cmphex(FIELD_EX64(evt[0], EVT0, SID), ==, EDU_VSID);
    after = sim_stats(t);
    g_assert_cmpint(stats_ioctls(after, "IOMMU_VDEVICE_ALLOC") -
                    stats_ioctls(before, "IOMMU_VDEVICE_ALLOC"), ==, 1);
    g_assert_cmpint(stats_ioctls(after, "IOMMU_HWPT_ALLOC") -
                    stats_ioctls(before, "IOMMU_HWPT_ALLOC"), ==, 0);
    g_assert_cmpint(edu_attached_hwpt(after), ==, edu_attached_hwpt(before));
    g_assert_cmpuint(edu_phys_ste_config(after), ==, STE_CFG_ABORT);
    vm_stop(t);
}

/* ---- 3. invalidation batching ---- */

static void check_tlbi_forwarding(const char *smmu_opts,
                                  int64_t expect_ioctls)
{
    SmmuTest *t = vm_with_edu_s1(smmu_opts);
    g_autoptr(QDict) before = sim_stats(t);
    g_autoptr(QDict) after = NULL;
    int i;

    for (i = 0; i < TLBI_BATCH; i++) {
        cmd_tlbi_nh_va(t, SRC_IOVA + i * 0x1000);
    }
    cmd_sync(t);
    cmd_submit(t);
    g_assert_cmphex(cmdq_cons_index(t), ==, t->cmdq_prod);
    after = sim_stats(t);
    g_assert_cmpint(stats_ioctls(after, "IOMMU_HWPT_INVALIDATE") -
                    stats_ioctls(before, "IOMMU_HWPT_INVALIDATE"), ==,
                    expect_ioctls);
    g_assert_cmpint(qdict_get_int(after, "invalidate_entries") -
                    qdict_get_int(before, "invalidate_entries"), ==,
                    TLBI_BATCH);
    g_assert_cmpint(stats_forwarded(after, "TLBI_NH_VA") -
                    stats_forwarded(before, "TLBI_NH_VA"), ==, TLBI_BATCH);
    vm_stop(t);
}

static void test_tlbi_batched(void)
{
    /* N TLBIs + CMD_SYNC: one IOMMU_HWPT_INVALIDATE of N entries */
    check_tlbi_forwarding(NULL, 1);
}

static void test_tlbi_unbatched(void)
{
    /* batch-invalidations=off: one ioctl per command */
    check_tlbi_forwarding(",batch-invalidations=off", TLBI_BATCH);
}

/* ---- 4. host error at entry k ---- */

static void test_invalidate_error_stops_cmdq(void)
{
    const unsigned k = 7;
    SmmuTest *t = vm_with_edu_s1(NULL);
    g_autoptr(QDict) before = sim_stats(t);
    g_autoptr(QDict) failed = NULL;
    g_autoptr(QDict) resumed = NULL;
    g_autofree char *inject = g_strdup_printf("entry=%u,errno=%d", k, EIO);
    uint32_t start = t->cmdq_prod, cons, gerror;
    int i;

    sim_set(t, "inject-invalidate-error", inject);
    for (i = 0; i < TLBI_BATCH; i++) {
        cmd_tlbi_nh_va(t, SRC_IOVA + i * 0x1000);
    }
    cmd_sync(t);
    cmd_submit(t);

    /* The queue stops at command k with CERROR_ILL and GERROR.CMDQ_ERR. */
    cons = smmu_readl(t, A_CMDQ_CONS);
    g_assert_cmphex(cons & ((2U << CMDQ_LOG2SIZE) - 1), ==, start + k);
    g_assert_cmpuint(FIELD_EX32(cons, CMDQ_CONS, ERR), ==, CERROR_ILL);
    gerror = smmu_readl(t, A_GERROR);
    g_assert_cmpuint(FIELD_EX32(gerror ^ smmu_readl(t, A_GERRORN),
                                GERROR, CMDQ_ERR), ==, 1);
    /* The k commands before it reached the physical SMMU. */
    failed = sim_stats(t);
    g_assert_cmpint(stats_forwarded(failed, "TLBI_NH_VA") -
                    stats_forwarded(before, "TLBI_NH_VA"), ==, k);

    /* The guest acknowledges: the queue resumes at command k. */
    smmu_writel(t, A_GERRORN, gerror);
    g_assert_cmphex(cmdq_cons_index(t), ==, t->cmdq_prod);
    g_assert_cmpuint(FIELD_EX32(smmu_readl(t, A_GERROR) ^
                                smmu_readl(t, A_GERRORN), GERROR, CMDQ_ERR),
                     ==, 0);
    resumed = sim_stats(t);
    g_assert_cmpint(stats_ioctls(resumed, "IOMMU_HWPT_INVALIDATE") -
                    stats_ioctls(failed, "IOMMU_HWPT_INVALIDATE"), ==, 1);
    g_assert_cmpint(qdict_get_int(resumed, "invalidate_entries") -
                    qdict_get_int(failed, "invalidate_entries"), ==,
                    TLBI_BATCH - k);
    g_assert_cmpint(stats_forwarded(resumed, "TLBI_NH_VA") -
                    stats_forwarded(before, "TLBI_NH_VA"), ==, TLBI_BATCH);
    vm_stop(t);
}

/*
 * The guest unmaps a page, invalidates it, and a later command of the
 * same batch fails on the host: CONS moves past the TLBI, so the TLBI
 * must have taken effect. The host does not issue the entries of its
 * failing block that precede the failure (arm_vsmmu_cache_invalidate).
 */
static void test_invalidate_error_keeps_earlier(void)
{
    SmmuTest *t = vm_with_edu_s1(NULL);
    g_autoptr(QDict) st = NULL;
    uint32_t start = t->cmdq_prod;

    fill_pattern(t, SRC_PA, 0x11);
    fill_pattern(t, SCRATCH_PA, 0x77);
    fill_pattern(t, DST_PA, 0);
    /* The host's IOTLB holds SRC_IOVA -> SRC_PA; the guest remaps it. */
    map_page(t, SRC_IOVA, SCRATCH_PA);
    sim_set(t, "inject-invalidate-error", "entry=1,errno=5");
    cmd_tlbi_nh_va(t, SRC_IOVA);
    cmd_tlbi_nh_va(t, DST_IOVA);
    cmd_sync(t);
    cmd_submit(t);
    g_assert_cmphex(cmdq_cons_index(t), ==, start + 1);
    smmu_writel(t, A_GERRORN, smmu_readl(t, A_GERROR));
    g_assert_cmphex(cmdq_cons_index(t), ==, t->cmdq_prod);

    edu_dma_read(t, SRC_IOVA, DMA_LEN);
    edu_dma_write(t, DST_IOVA, DMA_LEN);
    /* The new mapping is used, not a stale IOTLB entry */
    g_assert_true(has_pattern(t, DST_PA, 0x77));
    st = sim_stats(t);
    g_assert_cmpint(qdict_get_int(st, "stale_iotlb_hits"), ==, 0);
    vm_stop(t);
}

/* ---- 5. DMA through nested translation ---- */

static void test_dma_nested(void)
{
    SmmuTest *t = vm_with_edu_s1(NULL);
    g_autoptr(QDict) before = sim_stats(t);
    g_autoptr(QDict) after = NULL;

    g_assert_cmpuint(edu_phys_ste_config(before), ==, STE_CFG_NESTED);
    fill_pattern(t, SRC_PA, 0x5a);
    fill_pattern(t, DST_PA, 0);
    fill_pattern(t, SCRATCH_PA, 0);

    edu_dma_read(t, SRC_IOVA, DMA_LEN);
    edu_dma_write(t, DST_IOVA, DMA_LEN);
    /* IOVA -> (guest S1) -> IPA = guest PA: the data is at DST_PA */
    g_assert_true(has_pattern(t, DST_PA, 0x5a));
    g_assert_true(has_pattern(t, SCRATCH_PA, 0));

    after = sim_stats(t);
    g_assert_cmpint(qdict_get_int(after, "translations"), >,
                    qdict_get_int(before, "translations"));
    g_assert_cmpint(qdict_get_int(after, "faults"), ==,
                    qdict_get_int(before, "faults"));
    g_assert_cmpint(qdict_get_int(after, "stale_iotlb_hits"), ==, 0);
    vm_stop(t);
}

/* ---- 6. DMA fault ---- */

static bool gic_evtq_irq_pending(SmmuTest *t)
{
    return qtest_readl(t->qts, GICD_BASE + GICD_ISPENDR(SMMU_EVTQ_INTID)) &
           GICD_BIT(SMMU_EVTQ_INTID);
}

static void test_dma_fault_event(void)
{
    SmmuTest *t = vm_with_edu_s1(NULL);
    uint32_t prod = evtq_prod(t);
    g_autoptr(QDict) st = NULL;
    uint64_t evt[4];

    g_assert_cmphex(prod, ==, 0);
    /* The SMMU's interrupts are edge-triggered: the GIC latches them. */
    qtest_writel(t->qts, GICD_BASE + GICD_ICFGR(SMMU_EVTQ_INTID),
                 qtest_readl(t->qts, GICD_BASE + GICD_ICFGR(SMMU_EVTQ_INTID)) |
                 GICD_ICFGR_EDGE(SMMU_EVTQ_INTID));
    qtest_writel(t->qts, GICD_BASE + GICD_ISENABLER(SMMU_EVTQ_INTID),
                 GICD_BIT(SMMU_EVTQ_INTID));
    qtest_writel(t->qts, GICD_BASE + GICD_ICPENDR(SMMU_EVTQ_INTID),
                 GICD_BIT(SMMU_EVTQ_INTID));
    g_assert_false(gic_evtq_irq_pending(t));

    /*
     * One faulting DMA of 64 bytes, one record: PROD 0 -> 1, although
     * QEMU's memory core retries the refused access in 4-byte pieces.
     */
    edu_dma_write(t, UNMAPPED_IOVA, DMA_LEN);
    g_assert_cmphex(evtq_wait_prod_change(t, prod), ==, 1);
    st = sim_stats(t);
    g_assert_cmpint(stats_events(st, "delivered"), ==, 1);

    evtq_read(t, 0, evt);
    g_assert_cmphex(FIELD_EX64(evt[0], EVT0, ID), ==, EVT_F_TRANSLATION);
    /* The host rewrote the pSID (0x101) into the guest's vSID */
    g_assert_cmphex(FIELD_EX64(evt[0], EVT0, SID), ==, EDU_VSID);
    g_assert_cmphex(evt[2], ==, UNMAPPED_IOVA);
    g_assert_true(gic_evtq_irq_pending(t));
    vm_stop(t);
}

/*
 * An emulated endpoint behind an accelerated SMMU on /dev/iommu: no host
 * IOMMU device exists for it (only VFIO devices have one), so QEMU walks
 * the guest's stage 1 itself. Its DMA is translated, a remap is seen only
 * after the TLBI (the walker's IOTLB is invalidated by the forwarded
 * commands too), and a fault is the guest's event. Nothing is opened on
 * /dev/iommu: with no VFIO device there is no host object to make.
 */
static void test_dev_iommu_emulated_walk(void)
{
    SmmuTest *t = vm_start_on("iommufd,id=if0", NULL);
    uint64_t evt[4];

    smmu_enable(t, EVTQ_LOG2SIZE, true);
    install_ste(t, EDU_VSID, ste_of(STE_CFG_S1, CD_ADDR));
    fill_pattern(t, SRC_PA, 0x3c);
    fill_pattern(t, SCRATCH_PA, 0x77);
    fill_pattern(t, DST_PA, 0);
    edu_dma_read(t, SRC_IOVA, DMA_LEN);
    edu_dma_write(t, DST_IOVA, DMA_LEN);
    g_assert_true(has_pattern(t, DST_PA, 0x3c));

    /* Remapped without a TLBI: the cached translation is still used. */
    map_page(t, SRC_IOVA, SCRATCH_PA);
    edu_dma_read(t, SRC_IOVA, DMA_LEN);
    edu_dma_write(t, DST_IOVA, DMA_LEN);
    g_assert_true(has_pattern(t, DST_PA, 0x3c));
    /* After it, the new one. */
    cmd_tlbi_nh_va(t, SRC_IOVA);
    cmd_sync(t);
    cmd_submit(t);
    g_assert_cmphex(cmdq_cons_index(t), ==, t->cmdq_prod);
    edu_dma_read(t, SRC_IOVA, DMA_LEN);
    edu_dma_write(t, DST_IOVA, DMA_LEN);
    g_assert_true(has_pattern(t, DST_PA, 0x77));

    g_assert_cmphex(evtq_prod(t), ==, 0);
    edu_dma_write(t, UNMAPPED_IOVA, DMA_LEN);
    g_assert_cmphex(evtq_wait_prod_change(t, 0), ==, 1);
    evtq_read(t, 0, evt);
    g_assert_cmphex(FIELD_EX64(evt[0], EVT0, ID), ==, EVT_F_TRANSLATION);
    g_assert_cmphex(FIELD_EX64(evt[0], EVT0, SID), ==, EDU_VSID);
    g_assert_cmphex(evt[2], ==, UNMAPPED_IOVA);
    vm_stop(t);
}

/* ---- 7. injected host event ---- */

static void test_injected_event(void)
{
    SmmuTest *t = vm_with_edu_s1(NULL);
    g_autoptr(QDict) before = sim_stats(t);
    g_autoptr(QDict) after = NULL;
    g_autofree char *ev = g_strdup_printf("psid=0x%x,event=0x%x,addr=0x%llx",
                                          EDU_PSID, EVT_F_TRANSLATION,
                                          0xdead000ULL);
    uint32_t prod = evtq_prod(t);
    uint64_t evt[4];

    sim_set(t, "inject-event", ev);
    after = sim_stats(t);
    g_assert_cmpint(stats_events(after, "delivered") -
                    stats_events(before, "delivered"), ==, 1);
    g_assert_cmphex(evtq_wait_prod_change(t, prod) & evtq_index_mask(t),
                    ==, (prod + 1) & evtq_index_mask(t));
    evtq_read(t, prod, evt);
    g_assert_cmphex(FIELD_EX64(evt[0], EVT0, ID), ==, EVT_F_TRANSLATION);
    g_assert_cmphex(FIELD_EX64(evt[0], EVT0, SID), ==, EDU_VSID);
    g_assert_cmphex(evt[2], ==, 0xdead000ULL);
    vm_stop(t);
}

/*
 * A guest EVTQ in the CMDQV window: the record's first word lands in
 * CMDQV_CONFIG (event 0x13 sets CMDQV_EN), which maps the VINTF the guest
 * enabled and takes the SMMU's mutex for the host objects. The event path
 * held that mutex across its guest write, and QEMU hung for good with the
 * BQL held; now the write completes and the CMDQV is on.
 */
static void test_evtq_into_cmdqv_window(void)
{
    SmmuTest *t = vm_with_edu_s1(",cmdqv=on");
    g_autofree char *ev = g_strdup_printf("psid=0x%x,event=0x%x,addr=0x1000",
                                          EDU_PSID, EVT_F_PERMISSION);
    gint64 end = g_get_monotonic_time() + WAIT_TIMEOUT_US;

    g_assert_cmphex(qtest_readl(t->qts, CMDQV_BASE + CMDQV_PARAM), !=, 0);
    smmu_writel(t, A_CR0, cr0_of(false, true));
    g_assert_cmphex(smmu_readl(t, A_CR0ACK), ==, cr0_of(false, true));
    smmu_writeq(t, A_EVENTQ_BASE, CMDQV_BASE | EVTQ_LOG2SIZE);
    smmu_writel(t, A_EVENTQ_PROD, 0);
    smmu_writel(t, A_EVENTQ_CONS, 0);
    smmu_writel(t, A_CR0, cr0_of(true, true));
    g_assert_cmphex(smmu_readl(t, A_CR0ACK), ==, cr0_of(true, true));
    /* VINTF0 on while the CMDQV is off: nothing is mapped yet. */
    qtest_writel(t->qts, CMDQV_BASE + VINTF0_CONFIG, 1);
    g_assert_cmphex(qtest_readl(t->qts, CMDQV_BASE + CMDQV_STATUS), ==, 0);
    g_assert_cmphex(qtest_readl(t->qts, CMDQV_BASE + VINTF0_STATUS), ==, 0);

    sim_set(t, "inject-event", ev);
    while (evtq_prod(t) == 0 && g_get_monotonic_time() < end) {
        g_usleep(1000);
    }
    g_assert_cmphex(evtq_prod(t), ==, 1);
    g_assert_cmphex(qtest_readl(t->qts, CMDQV_BASE + CMDQV_CONFIG) & 1, ==, 1);
    g_assert_cmphex(qtest_readl(t->qts, CMDQV_BASE + CMDQV_STATUS) & 1, ==, 1);
    g_assert_cmphex(qtest_readl(t->qts, CMDQV_BASE + VINTF0_STATUS) & 1, ==,
                    1);
    vm_stop(t);
}

/*
 * The host refuses one destroy during reset (EBUSY, as while an fd or a
 * child still holds the object): its parents are refused in turn. The
 * refused objects are destroyed again at the end of the teardown, so
 * nothing is left, and the guest's next bring-up (a vEVENTQ of the same
 * type on the new vIOMMU included) works.
 */
static void test_destroy_refused_at_reset(void)
{
    SmmuTest *t = vm_with_edu_s1(NULL);
    g_autoptr(QDict) before = sim_stats(t);
    g_autoptr(QDict) reset = NULL;
    g_autoptr(QDict) again = NULL;
    g_autofree char *ev = g_strdup_printf("psid=0x%x,event=0x%x,addr=0x%llx",
                                          EDU_PSID, EVT_F_TRANSLATION,
                                          0xbeef000ULL);
    uint64_t evt[4];
    uint32_t prod;

    g_assert_cmpint(qdict_get_int(before, "live_objects"), >, 0);
    sim_set(t, "inject-errno", "IOMMU_DESTROY,nth=1,errno=16");
    qtest_system_reset(t->qts);
    reset = sim_stats(t);
    g_assert_cmpint(stats_ioctls(reset, "IOMMU_DESTROY") -
                    stats_ioctls(before, "IOMMU_DESTROY"), >,
                    qdict_get_int(before, "live_objects"));
    g_assert_cmpint(qdict_get_int(reset, "live_objects"), ==, 0);

    edu_map(t);
    smmu_enable(t, EVTQ_LOG2SIZE, true);
    install_ste(t, EDU_VSID, ste_of(STE_CFG_S1, CD_ADDR));
    edu_dma_read(t, SRC_IOVA, DMA_LEN);
    prod = evtq_prod(t);
    sim_set(t, "inject-event", ev);
    g_assert_cmphex(evtq_wait_prod_change(t, prod) & evtq_index_mask(t), ==,
                    (prod + 1) & evtq_index_mask(t));
    evtq_read(t, prod, evt);
    g_assert_cmphex(evt[2], ==, 0xbeef000ULL);
    again = sim_stats(t);
    g_assert_cmpint(qdict_get_int(again, "live_objects"), ==,
                    qdict_get_int(before, "live_objects"));
    vm_stop(t);
}

/*
 * A failing ioctl has an errno from 1 to MAX_ERRNO: inject-errno and
 * inject-invalidate-error refuse anything else (errno=0 "succeeded" with
 * no output, and QEMU then polled fd 0). nth=0 disarms.
 */
static void test_inject_errno_refused(void)
{
    static const char *const bad[] = {
        "IOMMU_VEVENTQ_ALLOC,nth=1,errno=0",
        "IOMMU_VEVENTQ_ALLOC,nth=1,errno=-5",
        "IOMMU_VEVENTQ_ALLOC,nth=1,errno=-2147483648",
        "IOMMU_VEVENTQ_ALLOC,nth=1,errno=4096",
        "IOMMU_VEVENTQ_ALLOC,nth=4294967296,errno=5",
    };
    SmmuTest *t = vm_start(NULL);
    QDict *resp;
    int i;

    for (i = 0; i < ARRAY_SIZE(bad); i++) {
        resp = qtest_qmp(t->qts, "{'execute': 'qom-set', 'arguments': "
                         "{'path': '/objects/sim0', 'property': "
                         "'inject-errno', 'value': %s}}", bad[i]);
        g_assert_true(qdict_haskey(resp, "error"));
        g_assert_nonnull(strstr(qdict_get_str(qdict_get_qdict(resp, "error"),
                                              "desc"),
                                i < 4 ? "is not an errno" : "out of range"));
        qobject_unref(resp);
    }
    resp = qtest_qmp(t->qts, "{'execute': 'qom-set', 'arguments': "
                     "{'path': '/objects/sim0', 'property': "
                     "'inject-invalidate-error', 'value': 'entry=0,errno=0'}}");
    g_assert_true(qdict_haskey(resp, "error"));
    qobject_unref(resp);
    sim_set(t, "inject-errno", "IOMMU_HWPT_ALLOC,nth=1,errno=12");
    sim_set(t, "inject-errno", "IOMMU_HWPT_ALLOC,nth=0,errno=12");
    /* Nothing is armed: the guest's bring-up goes through. */
    smmu_enable(t, EVTQ_LOG2SIZE, true);
    install_ste(t, EDU_VSID, ste_of(STE_CFG_S1, CD_ADDR));
    edu_dma_read(t, SRC_IOVA, DMA_LEN);
    {
        g_autoptr(QDict) st = sim_stats(t);

        g_assert_cmpint(qdict_get_int(st, "ioctl_errors"), ==, 0);
        g_assert_cmpuint(edu_phys_ste_config(st), ==, STE_CFG_NESTED);
    }
    vm_stop(t);
}

/* ---- 8. EVTQ overflow and a disabled EVTQ ---- */

static void inject_events(SmmuTest *t, unsigned n)
{
    g_autofree char *ev = g_strdup_printf("psid=0x%x,event=0x%x,addr=0x1000",
                                          EDU_PSID, EVT_F_TRANSLATION);
    unsigned i;

    for (i = 0; i < n; i++) {
        sim_set(t, "inject-event", ev);
    }
}

static void test_evtq_overflow(void)
{
    const unsigned log2size = 1, injected = 5;
    SmmuTest *t = vm_start(NULL);
    g_autoptr(QDict) before = NULL;
    g_autoptr(QDict) after = NULL;
    gint64 deadline = g_get_monotonic_time() + WAIT_TIMEOUT_US;
    uint32_t prod;

    smmu_enable(t, log2size, true);
    install_ste(t, EDU_VSID, ste_of(STE_CFG_S1, CD_ADDR));
    edu_dma_read(t, SRC_IOVA, DMA_LEN);
    before = sim_stats(t);

    inject_events(t, injected);
    while (!FIELD_EX32(prod = evtq_prod(t), EVENTQ_PROD, OVFLG)) {
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
    }
    /* Two entries fit (wrap bit set, index 0 == CONS): the queue is full */
    g_assert_cmphex(prod & evtq_index_mask(t), ==, 1U << log2size);
    g_assert_cmphex(smmu_readl(t, A_EVENTQ_CONS), ==, 0);

    /* Every event is accounted for: in the guest queue or lost */
    after = sim_stats(t);
    g_assert_cmpint(stats_events(after, "delivered") -
                    stats_events(before, "delivered") +
                    stats_events(after, "lost") -
                    stats_events(before, "lost"), ==, injected);
    g_assert_cmpint(stats_events(after, "host_only"), ==,
                    stats_events(before, "host_only"));
    vm_stop(t);
}

/* One of the SMMU's x-events-* counters (what became of host events). */
static int64_t smmu_events(SmmuTest *t, const char *name)
{
    g_autofree char *prop = g_strdup_printf("x-events-%s", name);
    QDict *resp = qtest_qmp(t->qts, "{'execute': 'qom-get', 'arguments': "
                            "{'path': '/machine/peripheral/smmuv3.0', "
                            "'property': %s}}", prop);
    int64_t v;

    g_assert(qdict_haskey(resp, "return"));
    v = qdict_get_int(resp, "return");
    qobject_unref(resp);
    return v;
}

static void wait_written(SmmuTest *t, int64_t n)
{
    gint64 deadline = g_get_monotonic_time() + WAIT_TIMEOUT_US;

    while (smmu_events(t, "written") < n) {
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
    }
}

static void inject_storm(SmmuTest *t, unsigned count, uint64_t addr)
{
    g_autofree char *ev = g_strdup_printf("psid=0x%x,event=0x%x,addr=0x%"
                                          PRIx64 ",count=%u,step=0x1000",
                                          EDU_PSID, EVT_F_TRANSLATION, addr,
                                          count);

    sim_set(t, "inject-event", ev);
}

/*
 * A storm: count= events in one injection reach the guest EVTQ in order
 * (batched writes); once it is full the rest are dropped and the overflow
 * flagged; a storm larger than the host's vEVENTQ (as deep as the guest
 * EVTQ) loses the excess there, which the guest sees as an overflow too.
 * Every event is accounted for at each step.
 */
static void test_event_storm(void)
{
    const unsigned log2size = 8, size = 1U << log2size;
    SmmuTest *t = vm_start(NULL);
    g_autoptr(QDict) st0 = NULL;
    g_autoptr(QDict) st1 = NULL;
    g_autoptr(QDict) st2 = NULL;
    g_autofree char *bad = NULL;
    uint64_t evt[4];
    uint32_t prod, i;
    QDict *resp;

    smmu_enable(t, log2size, true);
    install_ste(t, EDU_VSID, ste_of(STE_CFG_S1, CD_ADDR));
    edu_dma_read(t, SRC_IOVA, DMA_LEN);
    st0 = sim_stats(t);

    /* 200 events: all in the guest EVTQ, in order */
    inject_storm(t, 200, 0x10000000);
    wait_written(t, 200);
    g_assert_cmphex(evtq_prod(t), ==, 200);
    for (i = 0; i < 200; i++) {
        evtq_read(t, i, evt);
        g_assert_cmphex(FIELD_EX64(evt[0], EVT0, ID), ==, EVT_F_TRANSLATION);
        g_assert_cmphex(FIELD_EX64(evt[0], EVT0, SID), ==, EDU_VSID);
        g_assert_cmphex(evt[2], ==, 0x10000000 + 0x1000ULL * i);
    }

    /* 100 more: 56 fit, 44 are dropped at the full guest EVTQ */
    inject_storm(t, 100, 0x20000000);
    wait_written(t, size);
    prod = evtq_prod(t);
    g_assert_cmphex(prod & evtq_index_mask(t), ==, size);    /* full */
    g_assert_true(FIELD_EX32(prod, EVENTQ_PROD, OVFLG));
    evtq_read(t, size - 1, evt);
    g_assert_cmphex(evt[2], ==, 0x20000000 + 0x1000ULL * 55);
    st1 = sim_stats(t);
    g_assert_cmpint(stats_events(st1, "delivered") -
                    stats_events(st0, "delivered"), ==, 300);
    g_assert_cmpint(smmu_events(t, "written"), ==, size);
    g_assert_cmpint(smmu_events(t, "dropped-full"), ==, 44);
    g_assert_cmpint(smmu_events(t, "host-overflows"), ==, 0);

    /*
     * The guest takes everything and acknowledges the overflow; then 300
     * at once into a host queue of 256: 44 lost there, one overflow.
     */
    smmu_writel(t, A_EVENTQ_CONS, prod);       /* OVACKFLG = OVFLG */
    g_assert_cmphex(smmu_readl(t, A_EVENTQ_CONS), ==, prod);
    inject_storm(t, 300, 0x30000000);
    wait_written(t, 2 * size);
    st2 = sim_stats(t);
    g_assert_cmpint(stats_events(st2, "lost") -
                    stats_events(st1, "lost"), ==, 44);
    g_assert_cmpint(stats_events(st2, "delivered") -
                    stats_events(st1, "delivered"), ==, size);
    g_assert_cmpint(smmu_events(t, "host-overflows"), ==, 1);
    g_assert_cmpint(smmu_events(t, "written") +
                    smmu_events(t, "dropped-full") +
                    smmu_events(t, "dropped-disabled") +
                    smmu_events(t, "dropped-abort"), ==,
                    stats_events(st2, "delivered") -
                    stats_events(st0, "delivered"));
    /* OVFLG toggled again: a new overflow against the acknowledged one */
    g_assert_cmphex(FIELD_EX32(evtq_prod(t), EVENTQ_PROD, OVFLG), !=,
                    FIELD_EX32(prod, EVENTQ_PROD, OVFLG));
    evtq_read(t, 2 * size - 1, evt);
    g_assert_cmphex(evt[2], ==, 0x30000000 + 0x1000ULL * (size - 1));

    /* count= is bounded */
    bad = g_strdup_printf("psid=0x%x,event=0x10,count=0", EDU_PSID);
    resp = qtest_qmp(t->qts, "{'execute': 'qom-set', 'arguments': "
                     "{'path': '/objects/sim0', 'property': 'inject-event', "
                     "'value': %s}}", bad);
    g_assert_true(qdict_haskey(resp, "error"));
    g_assert_nonnull(strstr(qdict_get_str(qdict_get_qdict(resp, "error"),
                                          "desc"), "out of range"));
    qobject_unref(resp);
    vm_stop(t);
}

/*
 * EVENTQ_BASE where nothing decodes: the record write aborts, which the
 * guest sees as GERROR.EVENTQ_ABT_ERR (it was a silent loss before).
 */
static void test_evtq_write_abort(void)
{
    SmmuTest *t = vm_start(NULL);
    gint64 deadline = g_get_monotonic_time() + WAIT_TIMEOUT_US;

    smmu_enable(t, EVTQ_LOG2SIZE, true);
    install_ste(t, EDU_VSID, ste_of(STE_CFG_S1, CD_ADDR));
    edu_dma_read(t, SRC_IOVA, DMA_LEN);
    smmu_writel(t, A_CR0, cr0_of(false, true));
    g_assert_cmphex(smmu_readl(t, A_CR0ACK), ==, cr0_of(false, true));
    smmu_writeq(t, A_EVENTQ_BASE, NOT_RAM_ADDR | EVTQ_LOG2SIZE);
    smmu_writel(t, A_CR0, cr0_of(true, true));
    g_assert_cmphex(smmu_readl(t, A_CR0ACK), ==, cr0_of(true, true));

    inject_storm(t, 3, 0x10000000);
    while (smmu_events(t, "dropped-abort") < 3) {
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
    }
    g_assert_cmphex((smmu_readl(t, A_GERROR) ^ smmu_readl(t, A_GERRORN)) &
                    R_GERROR_EVENTQ_ABT_ERR_MASK, !=, 0);
    g_assert_cmpint(smmu_events(t, "written"), ==, 0);
    g_assert_cmphex(evtq_prod(t), ==, 0);
    vm_stop(t);
}

static void test_evtq_disabled_drops(void)
{
    SmmuTest *t = vm_start(NULL);
    g_autoptr(QDict) before = NULL;
    g_autoptr(QDict) after = NULL;
    QListEntry *e;

    smmu_enable(t, EVTQ_LOG2SIZE, false);
    install_ste(t, EDU_VSID, ste_of(STE_CFG_S1, CD_ADDR));
    edu_dma_read(t, SRC_IOVA, DMA_LEN);
    before = sim_stats(t);
    /* No guest EVTQ, no vEVENTQ */
    QLIST_FOREACH_ENTRY(qdict_get_qlist(before, "objects"), e) {
        g_assert_cmpstr(qdict_get_str(qobject_to(QDict, qlist_entry_obj(e)),
                                      "type"), !=, "veventq");
    }

    inject_events(t, 1);
    after = sim_stats(t);
    g_assert_cmpint(stats_events(after, "host_only") -
                    stats_events(before, "host_only"), ==, 1);
    g_assert_cmpint(stats_events(after, "delivered"), ==,
                    stats_events(before, "delivered"));
    g_assert_cmphex(evtq_prod(t), ==, 0);
    vm_stop(t);
}

/* ---- 9. malformed guest input ---- */

static void check_bad_ste(unsigned config)
{
    SmmuTest *t = vm_with_edu_s1(NULL);
    uint32_t prod = evtq_prod(t);
    g_autoptr(QDict) st = NULL;
    uint64_t evt[4];

    install_ste(t, EDU_VSID, ste_of(config, CD_ADDR));
    /* Reported synchronously, from the CFGI_STE */
    g_assert_cmphex(evtq_prod(t) & evtq_index_mask(t), ==,
                    (prod + 1) & evtq_index_mask(t));
    evtq_read(t, prod, evt);
    g_assert_cmphex(FIELD_EX64(evt[0], EVT0, ID), ==, EVT_C_BAD_STE);
    g_assert_cmphex(FIELD_EX64(evt[0], EVT0, SID), ==, EDU_VSID);

    st = sim_stats(t);
    g_assert_cmpuint(hwpt_vste_config(st, edu_attached_hwpt(st)), ==,
                     STE_CFG_ABORT);
    g_assert_cmpuint(edu_phys_ste_config(st), ==, STE_CFG_ABORT);
    vm_stop(t);
}

static void test_bad_ste_s2(void)
{
    /* Stage 2 is the host's: Config 0b110 is ILLEGAL with IDR0.S2P = 0 */
    check_bad_ste(STE_CFG_S2);
}

static void test_bad_ste_nested(void)
{
    check_bad_ste(STE_CFG_NESTED);
}

/* Post one command: the queue must stop at it with @cerror. */
static void check_cmd_error(SmmuTest *t, uint64_t cmd0, unsigned cerror)
{
    uint32_t start = t->cmdq_prod, cons, gerror;

    cmd_post(t, cmd0, 0);
    cmd_sync(t);
    cmd_submit(t);
    cons = smmu_readl(t, A_CMDQ_CONS);
    g_assert_cmphex(cons & ((2U << CMDQ_LOG2SIZE) - 1), ==, start);
    g_assert_cmpuint(FIELD_EX32(cons, CMDQ_CONS, ERR), ==, cerror);
    gerror = smmu_readl(t, A_GERROR);
    g_assert_cmpuint(FIELD_EX32(gerror ^ smmu_readl(t, A_GERRORN),
                                GERROR, CMDQ_ERR), ==, 1);
}

static void test_illegal_opcode(void)
{
    SmmuTest *t = vm_with_edu_s1(NULL);

    check_cmd_error(t, cmd0_of(CMD_ILLEGAL), CERROR_ILL);
    vm_stop(t);
}

static void test_tlbi_s12_illegal(void)
{
    SmmuTest *t = vm_with_edu_s1(NULL);
    g_autoptr(QDict) before = sim_stats(t);
    g_autoptr(QDict) after = NULL;

    /* Stage 1 only: stage-2 invalidations do not exist for the guest */
    check_cmd_error(t, cmd0_of(CMD_TLBI_S12_VMALL), CERROR_ILL);
    after = sim_stats(t);
    g_assert_cmpint(stats_ioctls(after, "IOMMU_HWPT_INVALIDATE"), ==,
                    stats_ioctls(before, "IOMMU_HWPT_INVALIDATE"));
    vm_stop(t);
}

static void test_cmdq_base_not_ram(void)
{
    SmmuTest *t = vm_with_edu_s1(NULL);
    uint32_t cons;

    /* The guest moves its command queue, as a driver may at resume. */
    smmu_writel(t, A_CR0, cr0_of(true, false));
    smmu_writeq(t, A_CMDQ_BASE, NOT_RAM_ADDR | CMDQ_LOG2SIZE);
    smmu_writel(t, A_CMDQ_PROD, 0);
    smmu_writel(t, A_CMDQ_CONS, 0);
    smmu_writel(t, A_CR0, cr0_of(true, true));
    smmu_writel(t, A_CMDQ_PROD, 1);
    /* The fetch of command 0 aborts: CERROR_ABT, CONS stays at 0 */
    cons = smmu_readl(t, A_CMDQ_CONS);
    g_assert_cmphex(cons & ((2U << CMDQ_LOG2SIZE) - 1), ==, 0);
    g_assert_cmpuint(FIELD_EX32(cons, CMDQ_CONS, ERR), ==, CERROR_ABT);
    g_assert_cmpuint(FIELD_EX32(smmu_readl(t, A_GERROR) ^
                                smmu_readl(t, A_GERRORN), GERROR, CMDQ_ERR),
                     ==, 1);
    vm_stop(t);
}

/* ---- 10. reset ---- */

static void test_reset_releases_host(void)
{
    SmmuTest *t = vm_with_edu_s1(NULL);
    g_autoptr(QDict) st = sim_stats(t);
    g_autoptr(QDict) reset = NULL;
    g_autoptr(QDict) again = NULL;
    QListEntry *e;

    g_assert_cmpint(qdict_get_int(st, "live_objects"), >, 0);
    qtest_system_reset(t->qts);
    reset = sim_stats(t);
    g_assert_cmpint(qdict_get_int(reset, "live_objects"), ==, 0);
    QLIST_FOREACH_ENTRY(qdict_get_qlist(reset, "devices"), e) {
        QDict *dev = qobject_to(QDict, qlist_entry_obj(e));

        g_assert_cmpint(qdict_get_int(dev, "attached"), ==, 0);
        g_assert_cmpstr(qdict_get_str(dev, "attached_kind"), ==, "none");
    }

    /* The guest starts again: BARs, SMMU, tables, then DMA works. */
    edu_map(t);
    smmu_enable(t, EVTQ_LOG2SIZE, true);
    install_ste(t, EDU_VSID, ste_of(STE_CFG_S1, CD_ADDR));
    fill_pattern(t, SRC_PA, 0xa5);
    fill_pattern(t, DST_PA, 0);
    edu_dma_read(t, SRC_IOVA, DMA_LEN);
    edu_dma_write(t, DST_IOVA, DMA_LEN);
    g_assert_true(has_pattern(t, DST_PA, 0xa5));
    again = sim_stats(t);
    g_assert_cmpint(qdict_get_int(again, "live_objects"), ==,
                    qdict_get_int(st, "live_objects"));
    g_assert_cmpuint(edu_phys_ste_config(again), ==, STE_CFG_NESTED);
    vm_stop(t);
}

/* Migration is blocked, with the reason. */
static void test_migration_blocked(void)
{
    SmmuTest *t = vm_start(NULL);
    QDict *resp = qtest_qmp(t->qts, "{'execute': 'migrate', 'arguments': "
                            "{'uri': 'exec:cat > /dev/null'}}");
    QDict *err = qdict_get_qdict(resp, "error");

    g_assert(err);
    g_assert_nonnull(strstr(qdict_get_str(err, "desc"),
                            "nested translation state cannot be migrated"));
    qobject_unref(resp);
    vm_stop(t);
}

/*
 * QEMU's emulated SMMUv3 (no accel) as a host's IOMMU: with both stages
 * it must advertise S2FWB, or a Linux host on it offers no nesting
 * (IOMMU_VIOMMU_ALLOC fails with EOPNOTSUPP).
 */
static void test_emulated_nested_fwb(void)
{
    static const struct {
        const char *stage;
        unsigned s1p, s2p, fwb;
    } cases[] = {
        { "nested", 1, 1, 1 }, { "1", 1, 0, 0 }, { "2", 0, 1, 0 },
    };
    unsigned i;

    for (i = 0; i < ARRAY_SIZE(cases); i++) {
        SmmuTest t = {
            .qts = qtest_initf("-M virt -nodefaults -device arm-smmuv3,"
                               "primary-bus=pcie.0,stage=%s",
                               cases[i].stage),
        };
        uint32_t idr0 = smmu_readl(&t, A_IDR0);

        g_assert_cmpuint(FIELD_EX32(idr0, IDR0, S1P), ==, cases[i].s1p);
        g_assert_cmpuint(FIELD_EX32(idr0, IDR0, S2P), ==, cases[i].s2p);
        g_assert_cmpuint(FIELD_EX32(smmu_readl(&t, A_IDR3), IDR3, FWB), ==,
                         cases[i].fwb);
        qtest_quit(t.qts);
    }
}

/* ---- 11. realize-time errors ---- */

typedef struct RealizeCase {
    const char *name;
    const char *smmu_opts;
    const char *message;        /* NULL: must start */
    const char *second_smmu;    /* options of a second SMMU on a pxb-pcie */
    const char *device;         /* one more -device */
    const char *warning;        /* starts, with this on stderr */
    const char *object;         /* one more -object */
} RealizeCase;

static const RealizeCase realize_cases[] = {
    { "ok", "accel=on,iommufd=sim0", NULL },
    /*
     * Upstream's command line: the backend comes from the VFIO devices;
     * an emulated device behind it is translated by QEMU's own walk.
     */
    { "no-iommufd", "accel=on", NULL, NULL,
      "virtio-rng-pci,id=vrng,bus=pcie.0,disable-legacy=on,"
      "iommu_platform=on", NULL },
    /* /dev/iommu: realizes (nothing is opened before a VFIO device) */
    { "dev-iommu", "accel=on,iommufd=if0", NULL, NULL, NULL, NULL,
      "iommufd,id=if0" },
    /* ... with the CMDQV too: its window waits for the VFIO devices */
    { "dev-iommu-cmdqv", "accel=on,iommufd=if0,cmdqv=on", NULL, NULL, NULL,
      NULL, "iommufd,id=if0" },
    { "oas-52", "accel=on,iommufd=sim0,oas=52", "oas=52 is not valid\n"
      "Use 'auto' or a number up to 48" },
    { "ssidsize-21", "accel=on,iommufd=sim0,ssidsize=21",
      "ssidsize=21 is not valid\nUse 'auto' or a number up to 20" },
    { "stage-2", "accel=on,iommufd=sim0,stage=2",
      "accel=on offers stage 1 only\nDrop stage=2" },
    /* accel=off: cmdqv=on is the emulated CMDQV, which its sizes fit */
    { "cmdqv-emulated", "stage=nested,cmdqv=on,cmdqv-vintfs=64,"
      "cmdqv-vcmdqs=2", NULL },
    { "cmdqv-emulated-size", "cmdqv=on,cmdqv-vintfs=3",
      "cmdqv-vintfs=3 and cmdqv-vcmdqs=2 do not fit a Tegra241 CMDQV\n"
      "Both are powers of two: up to 64 VINTFs, and up to 128 VCMDQs" },
    { "cmdqv-emulated-too-many", "cmdqv=on,cmdqv-vintfs=64,cmdqv-vcmdqs=4",
      "cmdqv-vintfs=64 and cmdqv-vcmdqs=4 do not fit" },
    { "cmdqv-size-without-cmdqv", "cmdqv-vintfs=8",
      "cmdqv-vintfs and cmdqv-vcmdqs size the emulated CMDQV "
      "(accel=off,cmdqv=on)\nWith accel=on the host's CMDQV decides" },
    { "cmdqv-size-with-accel", "accel=on,iommufd=sim0,cmdqv-vcmdqs=4",
      "cmdqv-vintfs and cmdqv-vcmdqs size the emulated CMDQV" },
    { "iommufd-without-accel", "iommufd=sim0", "iommufd= needs accel=on\n"
      "Add accel=on" },
    /* s2fwb=off only means something with both stages emulated */
    { "s2fwb-off-nested", "stage=nested,s2fwb=off", NULL },
    { "s2fwb-off-stage-1", "stage=1,s2fwb=off",
      "s2fwb=off only applies to stage=nested\n"
      "Add stage=nested, or drop s2fwb=off" },
    { "s2fwb-off-default-stage", "s2fwb=off",
      "s2fwb=off only applies to stage=nested" },
    { "s2fwb-off-accel", "accel=on,iommufd=sim0,s2fwb=off",
      "s2fwb=off only applies to stage=nested\n"
      "With accel=on the host's SMMU decides IDR3.FWB" },
    /* The simulated CMDQV has 128 VCMDQs, however they are split */
    { "sim-vcmdqs-too-many", "accel=on,iommufd=sim0", "vcmdqs-log2=2 is out "
      "of range with vintfs-log2=6\nThe CMDQV has 128 VCMDQs in all", NULL,
      NULL, NULL, "iommufd-sim,id=sim1,vcmdqs-log2=2" },
    { "sim-vintfs-0", "accel=on,iommufd=sim0", "vintfs-log2=0 is out of "
      "range", NULL, NULL, NULL, "iommufd-sim,id=sim1,vintfs-log2=0" },
    { "sim-fewer-vintfs", "accel=on,iommufd=sim1,cmdqv=on", NULL, NULL,
      NULL, NULL, "iommufd-sim,id=sim1,vintfs-log2=2,vcmdqs-log2=5" },
    /* iommufd-sim has one physical SMMU unless smmus=N says more */
    { "two-smmus-one-instance", "accel=on,iommufd=sim0",
      "all 1 simulated SMMU instance(s) are taken\n"
      "Each accelerated arm-smmuv3 needs its own",
      "accel=on,iommufd=sim0" },
    /* one IOMMU per primary bus, one IORT identifier per SMMU */
    { "two-smmus-one-bus", "accel=on,iommufd=sim0",
      "SMMU: PCI bus pcie.0 already has an IOMMU\n"
      "Each SMMU needs a primary-bus of its own", NULL,
      "arm-smmuv3,primary-bus=pcie.0" },
    { "same-identifier", "identifier=7", "identifier=7 is another SMMU's\n"
      "It names the SMMU's IORT node and its CMDQV", "identifier=7" },
    { "other-identifiers", "identifier=7", NULL, "identifier=8", NULL,
      "only supported with pcie.0 for DT" },
    /* virtio DMA that would silently bypass the SMMU: a warning, a hint */
    { "virtio-bypass", "accel=on,iommufd=sim0", NULL, NULL,
      "virtio-rng-pci,id=vrng,bus=pcie.0,disable-legacy=on",
      "warning: virtio-rng-pci 'vrng' is behind arm-smmuv3,accel=on but "
      "its DMA bypasses the IOMMU (iommu_platform=off)\n"
      "Add iommu_platform=on" },
    { "virtio-translated", "accel=on,iommufd=sim0", NULL, NULL,
      "virtio-rng-pci,id=vrng,bus=pcie.0,disable-legacy=on,"
      "iommu_platform=on", NULL },
};

/* A file holding the HMP command "quit" (the caller unlinks it). */
static char *write_quit_script(void)
{
    g_autoptr(GError) err = NULL;
    char *path = NULL;
    int fd = g_file_open_tmp("smmuv3-accel-test-XXXXXX", &path, &err);

    g_assert_no_error(err);
    g_assert_cmpint(write(fd, "quit\n", 5), ==, 5);
    close(fd);
    return path;
}

/*
 * Start QEMU with @rc's SMMU options and an HMP monitor whose input is
 * "quit": a configuration that realizes exits 0 at once, one that does
 * not exits 1 with the error and its hint on stderr.
 */
static void test_realize(const void *opaque)
{
    const RealizeCase *rc = opaque;
    g_autofree char *quit_path = write_quit_script();
    g_autofree char *mon = g_strdup_printf("file,id=hmp,path=/dev/null,"
                                           "input-path=%s", quit_path);
    g_autofree char *dev = g_strdup_printf("arm-smmuv3,primary-bus=pcie.0,%s",
                                           rc->smmu_opts);
    g_autofree char *second = g_strdup_printf("arm-smmuv3,primary-bus=pcie.1,"
                                              "%s", rc->second_smmu ?: "");
    g_autofree char *err_out = NULL;
    g_autoptr(GError) err = NULL;
    int status;
    const char *const base[] = {
        qtest_qemu_binary(NULL), "-M", "virt", "-accel", "qtest",
        "-display", "none", "-nodefaults", "-S",
        "-object", "iommufd-sim,id=sim0", "-device", dev,
        "-chardev", mon, "-mon", "chardev=hmp,mode=readline",
    };
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    int i;

    for (i = 0; i < ARRAY_SIZE(base); i++) {
        g_ptr_array_add(argv, (gpointer)base[i]);
    }
    if (rc->object) {
        g_ptr_array_add(argv, (gpointer)"-object");
        g_ptr_array_add(argv, (gpointer)rc->object);
    }
    if (rc->device) {
        g_ptr_array_add(argv, (gpointer)"-device");
        g_ptr_array_add(argv, (gpointer)rc->device);
    }
    if (rc->second_smmu) {
        g_ptr_array_add(argv, (gpointer)"-device");
        g_ptr_array_add(argv, (gpointer)"pxb-pcie,id=pcie.1,bus_nr=8,"
                        "bus=pcie.0");
        g_ptr_array_add(argv, (gpointer)"-device");
        g_ptr_array_add(argv, second);
    }
    g_ptr_array_add(argv, NULL);

    g_assert_true(g_spawn_sync(NULL, (char **)argv->pdata, NULL,
                               G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL,
                               &err_out, &status, &err));
    g_assert_no_error(err);
    unlink(quit_path);
    g_assert_true(WIFEXITED(status));
    if (rc->message) {
        g_assert_cmpint(WEXITSTATUS(status), ==, 1);
        g_assert_nonnull(strstr(err_out, rc->message));
    } else if (rc->warning) {
        g_assert_cmpint(WEXITSTATUS(status), ==, 0);
        g_assert_nonnull(strstr(err_out, rc->warning));
    } else {
        g_assert_cmpint(WEXITSTATUS(status), ==, 0);
        g_assert_cmpstr(err_out, ==, "");
    }
}

int main(int argc, char **argv)
{
    int i;

    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/smmuv3-accel/ste/abort", test_ste_abort);
    qtest_add_func("/smmuv3-accel/dev-iommu/emulated-walk",
                   test_dev_iommu_emulated_walk);
    qtest_add_func("/smmuv3-accel/ste/bypass", test_ste_bypass);
    qtest_add_func("/smmuv3-accel/ste/s1", test_ste_s1);
    qtest_add_func("/smmuv3-accel/ste/replace-frees-nested",
                   test_ste_replace_frees_nested);
    qtest_add_func("/smmuv3-accel/vdevice/vsid", test_vdevice_vsid);
    qtest_add_func("/smmuv3-accel/vdevice/before-attach",
                   test_vdevice_before_attach);
    qtest_add_func("/smmuv3-accel/tlbi/batched", test_tlbi_batched);
    qtest_add_func("/smmuv3-accel/tlbi/unbatched", test_tlbi_unbatched);
    qtest_add_func("/smmuv3-accel/tlbi/host-error",
                   test_invalidate_error_stops_cmdq);
    qtest_add_func("/smmuv3-accel/tlbi/host-error-keeps-earlier",
                   test_invalidate_error_keeps_earlier);
    qtest_add_func("/smmuv3-accel/dma/nested", test_dma_nested);
    qtest_add_func("/smmuv3-accel/dma/fault-event", test_dma_fault_event);
    qtest_add_func("/smmuv3-accel/event/injected", test_injected_event);
    qtest_add_func("/smmuv3-accel/event/overflow", test_evtq_overflow);
    qtest_add_func("/smmuv3-accel/event/storm", test_event_storm);
    qtest_add_func("/smmuv3-accel/event/evtq-write-abort",
                   test_evtq_write_abort);
    qtest_add_func("/smmuv3-accel/event/evtq-disabled",
                   test_evtq_disabled_drops);
    qtest_add_func("/smmuv3-accel/event/evtq-into-cmdqv-window",
                   test_evtq_into_cmdqv_window);
    qtest_add_func("/smmuv3-accel/host/destroy-refused-at-reset",
                   test_destroy_refused_at_reset);
    qtest_add_func("/smmuv3-accel/host/inject-errno-refused",
                   test_inject_errno_refused);
    qtest_add_func("/smmuv3-accel/bad/ste-s2", test_bad_ste_s2);
    qtest_add_func("/smmuv3-accel/bad/ste-nested", test_bad_ste_nested);
    qtest_add_func("/smmuv3-accel/bad/opcode", test_illegal_opcode);
    qtest_add_func("/smmuv3-accel/bad/tlbi-s12", test_tlbi_s12_illegal);
    qtest_add_func("/smmuv3-accel/bad/cmdq-base", test_cmdq_base_not_ram);
    qtest_add_func("/smmuv3-accel/reset", test_reset_releases_host);
    qtest_add_func("/smmuv3-accel/emulated/nested-fwb",
                   test_emulated_nested_fwb);
    qtest_add_func("/smmuv3-accel/migration-blocked",
                   test_migration_blocked);
    for (i = 0; i < ARRAY_SIZE(realize_cases); i++) {
        g_autofree char *path = g_strdup_printf("/smmuv3-accel/realize/%s",
                                                realize_cases[i].name);

        qtest_add_data_func(path, &realize_cases[i], test_realize);
    }
    return g_test_run();
}
