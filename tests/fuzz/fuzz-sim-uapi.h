/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The libFuzzer entry point of fuzz-sim-uapi.c (-Wmissing-prototypes). */
#ifndef TESTS_FUZZ_SIM_UAPI_H
#define TESTS_FUZZ_SIM_UAPI_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
