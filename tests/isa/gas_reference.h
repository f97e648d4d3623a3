/*
 * gas_reference.h — a literal transcription of SPEC-0.8.md §3.2 for tests.
 */
#ifndef NUB_TEST_GAS_REFERENCE_H
#define NUB_TEST_GAS_REFERENCE_H

#include "pvm_gas.h"

/* The block cost of items[0..n) (at most 4096 entries; the last ends the block). */
uint32_t gas_reference_cost(const struct pvm_gas_item *items, size_t n);

#endif
