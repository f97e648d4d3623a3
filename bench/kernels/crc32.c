/*
 * crc32.c — CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320) with a
 * 256-entry table, over n passes of a 16 KiB pseudo-random buffer.
 * Self-check: CRC-32("123456789") = 0xCBF43926.
 */
#include "kernel.h"

#define CRC_BUF_LEN 16384u

static uint32_t crc_table[256];
static uint8_t crc_buf[CRC_BUF_LEN];

static void make_table(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
        crc_table[i] = c;
    }
}

static uint32_t crc_update(uint32_t crc, const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        crc = crc_table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
    return crc;
}

uint64_t kernel_crc32(uint64_t n);
uint64_t kernel_crc32(uint64_t n)
{
    static const uint8_t check[9] = {'1', '2', '3', '4', '5', '6', '7', '8', '9'};
    make_table();
    if ((crc_update(0xFFFFFFFFu, check, sizeof check) ^ 0xFFFFFFFFu) != 0xCBF43926u)
        return KERNEL_SELF_CHECK_FAILED(7);
    uint64_t seed = 0x243F6A8885A308D3ull;
    for (uint32_t i = 0; i < CRC_BUF_LEN; i += 8) {
        uint64_t r = kernel_rand(&seed);
        for (int k = 0; k < 8; k++)
            crc_buf[i + k] = (uint8_t)(r >> (8 * k));
    }
    uint32_t crc = 0xFFFFFFFFu;
    for (uint64_t pass = 0; pass < n; pass++)
        crc = crc_update(crc, crc_buf, CRC_BUF_LEN);
    return crc ^ 0xFFFFFFFFu;
}
KERNEL_ENTRY(kernel_crc32);
