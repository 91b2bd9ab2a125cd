/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What one read() of a host vEVENTQ returned, split into its records.
 *
 * The kernel's format (linux/iommufd.h): each record is a struct
 * iommufd_vevent_header and, unless the header says LOST_EVENTS, a
 * payload of the queue type's size; read() hands out whole records only.
 * Header sequence numbers run from 0 to INT_MAX and wrap to 0; a number
 * that does not follow the previous one means records were lost.
 *
 * Used by the accelerated SMMUv3 (ARM_SMMUV3 events) and the Tegra241
 * CMDQV (VCMDQ error maps). Standalone (the C library and linux/iommufd.h
 * only), so that tests/fuzz/fuzz-vevent.c can take it on its own.
 */
#ifndef HW_ARM_SMMUV3_ACCEL_VEVENT_H
#define HW_ARM_SMMUV3_ACCEL_VEVENT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <linux/iommufd.h>

typedef struct VeventCursor {
    const uint8_t *buf;
    size_t len;
    size_t off;
    size_t payload;             /* the queue type's record size */
} VeventCursor;

typedef enum VeventKind {
    VEVENT_END,                 /* no whole record left */
    VEVENT_RECORD,              /* *payload: cursor->payload bytes */
    VEVENT_LOST,                /* the host queue overflowed here */
} VeventKind;

/* Sequence tracking across reads: valid once a header has been seen. */
typedef struct VeventSeq {
    bool valid;
    uint32_t next;
} VeventSeq;

static inline void vevent_cursor_init(VeventCursor *c, const void *buf,
                                      size_t len, size_t payload)
{
    c->buf = buf;
    c->len = len;
    c->off = 0;
    c->payload = payload;
}

/*
 * The next record: its kind, header sequence number in *@seq, and for
 * VEVENT_RECORD its payload (unaligned, little-endian fields) in
 * *@payload. A trailing partial record (which the kernel never returns)
 * ends the buffer.
 */
static inline VeventKind vevent_next(VeventCursor *c, uint32_t *seq,
                                     const uint8_t **payload)
{
    struct iommufd_vevent_header hdr;

    if (c->len - c->off < sizeof(hdr)) {
        c->off = c->len;
        return VEVENT_END;
    }
    memcpy(&hdr, c->buf + c->off, sizeof(hdr));
    c->off += sizeof(hdr);
    *seq = hdr.sequence;
    if (hdr.flags & IOMMU_VEVENTQ_FLAG_LOST_EVENTS) {
        return VEVENT_LOST;
    }
    if (c->len - c->off < c->payload) {
        c->off = c->len;
        return VEVENT_END;
    }
    *payload = c->buf + c->off;
    c->off += c->payload;
    return VEVENT_RECORD;
}

/*
 * Account header sequence @seq of a record (@lost: a LOST_EVENTS header).
 * True if records were lost before it: the host said so, or @seq does not
 * follow the previous header's.
 */
static inline bool vevent_seq_lost(VeventSeq *s, uint32_t seq, bool lost)
{
    bool gap = s->valid && seq != s->next;

    s->valid = true;
    s->next = (seq + 1) & INT32_MAX;
    return lost || gap;
}

#endif
