/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The libFuzzer entry point of fuzz-vevent.c (-Wmissing-prototypes). */
#ifndef TESTS_FUZZ_VEVENT_H
#define TESTS_FUZZ_VEVENT_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
