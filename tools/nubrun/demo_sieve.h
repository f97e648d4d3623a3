/*
 * demo_sieve.h — the built-in demo program of nubrun.
 *
 * demo_sieve.pvmasm (this folder) is assembled by pvmasm at build time into
 * demo_sieve_blob.c (in the build tree), which defines the blob below.
 * The program counts the primes below N = phi7 using a byte array it gets
 * from sbrk, and returns the count in phi7.
 */
#ifndef NUBRUN_DEMO_SIEVE_H
#define NUBRUN_DEMO_SIEVE_H

#include <stddef.h>
#include <stdint.h>

#define NUBRUN_DEMO_SIEVE_DEFAULT_N 100000u

extern const uint8_t nubrun_demo_sieve_blob[];
extern const size_t nubrun_demo_sieve_blob_len;

#endif /* NUBRUN_DEMO_SIEVE_H */
