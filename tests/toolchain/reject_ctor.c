/* reject_ctor.c — a constructor: nothing on the PVM would run it, so
 * nub-cc must refuse the program (test toolchain_reject_ctor). */
#include <nub_pvm.h>

static volatile unsigned long value;

__attribute__((constructor)) static void init(void)
{
    value = 5;
}

unsigned long run(void);
unsigned long run(void)
{
    return value;
}
NUB_EXPORT(0, run);
