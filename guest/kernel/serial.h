/* serial.h — COM1 console output (the host assembles lines). */
#ifndef NUB_KERNEL_SERIAL_H
#define NUB_KERNEL_SERIAL_H

#include <stdint.h>

void nub_serial_write(const char *s);
void nub_serial_write_hex(uint64_t v);

#endif /* NUB_KERNEL_SERIAL_H */
