/* shim/assert.h — for xxhash.h: static_assert only; runtime asserts are off. */
#ifndef NUB_KERNEL_SHIM_ASSERT_H
#define NUB_KERNEL_SHIM_ASSERT_H

#define static_assert _Static_assert
#define assert(c) ((void)0)

#endif
