/* shim/limits.h — for xxhash.h: the limits it tests, from the compiler's
 * predefined macros (gcc's own <limits.h> pulls in the C library's, which
 * the freestanding kernel build does not see). */
#ifndef NUB_KERNEL_SHIM_LIMITS_H
#define NUB_KERNEL_SHIM_LIMITS_H

#define CHAR_BIT   __CHAR_BIT__
#define UINT_MAX   (__INT_MAX__ * 2U + 1U)
#define ULONG_MAX  (__LONG_MAX__ * 2UL + 1UL)
#define ULLONG_MAX (__LONG_LONG_MAX__ * 2ULL + 1ULL)

#endif
