/* reject_float.c — floating point: RV64E without F/D needs soft-float
 * helpers the tiny libc does not have, so linking fails with a clear
 * message (test toolchain_reject_float). */
#include <nub_pvm.h>

double scale(double x);
double scale(double x)
{
    return x * 1.5;
}
NUB_EXPORT(0, scale);
