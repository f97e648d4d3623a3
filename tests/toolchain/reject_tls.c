/* reject_tls.c — thread-local storage (tp-relative) has no PVM meaning:
 * nub-cc must refuse it (test toolchain_reject_tls). */
#include <nub_pvm.h>

_Thread_local unsigned long value = 3;

void set(unsigned long x);
void set(unsigned long x)
{
    value = x;
}
NUB_EXPORT(0, set);
