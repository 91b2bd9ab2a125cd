/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target: the device models' vEVENTQ reader
 * (hw/arm/smmuv3-accel-vevent.h) on whatever a host read() could return:
 * fuzzed headers, flags, sequence numbers (wrapping, gaps, repeats), LOST
 * headers and reads that end inside a record, of both queue types
 * (ARM_SMMUV3 events, Tegra241 CMDQV error maps).
 *
 * Each read is copied into a buffer of exactly its size, so that ASan
 * sees any access past it, and the reader is checked against a
 * reference written here from the kernel's format: the same records, in
 * the same order, at the same offsets, and the same losses reported.
 */
#include <stdio.h>
#include <stdlib.h>
#include "../../hw/arm/smmuv3-accel-vevent.h"
#include "fuzz-vevent.h"

static uint32_t le32_at(const uint8_t *p)
{
    return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static void fail(const char *what, size_t off)
{
    fprintf(stderr, "fuzz-vevent: %s at offset %zu\n", what, off);
    abort();
}

/* One read of @len bytes; @seq and @ref carry the sequence across reads. */
static void one_read(const uint8_t *data, size_t len, size_t payload,
                     VeventSeq *seq, VeventSeq *ref)
{
    uint8_t *buf = malloc(len ? len : 1);
    const uint8_t *pl = NULL;
    VeventCursor cur;
    VeventKind kind;
    size_t off = 0;
    uint32_t s;

    memcpy(buf, data, len);
    vevent_cursor_init(&cur, buf, len, payload);
    for (;;) {
        /* the reference: header, then a payload unless LOST */
        VeventKind want = VEVENT_END;
        uint32_t want_seq = 0;
        size_t want_pl = 0;
        bool gap, want_gap;

        if (len - off >= 8) {
            want_seq = le32_at(buf + off + 4);
            if (le32_at(buf + off) & IOMMU_VEVENTQ_FLAG_LOST_EVENTS) {
                want = VEVENT_LOST;
                off += 8;
            } else if (len - off - 8 >= payload) {
                want = VEVENT_RECORD;
                want_pl = off + 8;
                off += 8 + payload;
            }
        }
        kind = vevent_next(&cur, &s, &pl);
        if (kind != want) {
            fail("record kind differs", off);
        }
        if (kind == VEVENT_END) {
            break;
        }
        if (s != want_seq) {
            fail("sequence differs", off);
        }
        if (kind == VEVENT_RECORD && pl != buf + want_pl) {
            fail("payload offset differs", off);
        }
        if (cur.off != off || cur.off > len) {
            fail("cursor position differs", off);
        }
        want_gap = want == VEVENT_LOST || (ref->valid && s != ref->next);
        ref->valid = true;
        ref->next = (s + 1) % 0x80000000u;
        gap = vevent_seq_lost(seq, s, kind == VEVENT_LOST);
        if (gap != want_gap || seq->next != ref->next) {
            fail("loss accounting differs", off);
        }
    }
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    VeventSeq seq = { 0 }, ref = { 0 };
    size_t payload, off = 1;

    if (!size) {
        return 0;
    }
    payload = data[0] & 1 ? sizeof(struct iommu_vevent_tegra241_cmdqv)
                          : sizeof(struct iommu_vevent_arm_smmuv3);
    while (off < size) {
        size_t len = data[off++];

        len = len < size - off ? len : size - off;
        one_read(data + off, len, payload, &seq, &ref);
        off += len;
    }
    return 0;
}
