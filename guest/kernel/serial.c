/*
 * serial.c — console output on COM1. The host's UART is always ready, so
 * the line-status register is not polled: one `out` (one exit) per byte.
 * Only used when the host listens (NUB_BOOT_FLAG_CONSOLE), never per call.
 */
#include "serial.h"

#include "nub_rpc.h"
#include "x86.h"

void nub_serial_write(const char *s)
{
    for (; *s; s++)
        x86_outb(NUB_PORT_COM1, (uint8_t)*s);
}

void nub_serial_write_hex(uint64_t v)
{
    char buf[19] = "0x";
    for (int i = 0; i < 16; i++)
        buf[2 + i] = "0123456789abcdef"[(v >> (60 - 4 * i)) & 0xF];
    buf[18] = 0;
    nub_serial_write(buf);
}
