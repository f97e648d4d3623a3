/*
 * reloc_prog.c — a C program that makes the compiler and linker produce
 * every kind of code and data reference rv2pvm handles: direct calls
 * (auipc+jalr resolved by the assembler), function addresses taken with
 * lui/addi (R_RISCV_HI20/LO12_I on code), function-pointer tables in
 * .rodata and .data (R_RISCV_64), switch jump tables (R_RISCV_32), data
 * loads/stores (HI20/LO12_I/LO12_S on data), .bss, indirect and tail calls,
 * recursion, libc calls, several endpoints and a host call. Built with
 * nub-cc (medlow and medany) and natively; the test compares the two.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__riscv)
#include <nub_pvm.h>
#define EXPORT(k, fn) NUB_EXPORT(k, fn)
#else
#define EXPORT(k, fn)
#endif

typedef uint64_t u64;
typedef u64 (*unary_fn)(u64);

__attribute__((noinline)) static u64 f_add(u64 x)
{
    return x + 11;
}
__attribute__((noinline)) static u64 f_mul(u64 x)
{
    return x * 3;
}
__attribute__((noinline)) u64 f_xor(u64 x);
__attribute__((noinline)) u64 f_xor(u64 x)
{
    return x ^ 0x5A;
}

const unary_fn table_ro[3] = {f_add, f_mul, f_xor};
unary_fn table_rw[3] = {f_mul, f_xor, f_add};
u64 counter;          /* .bss */
u64 data_word = 1234; /* .data */
static const char text[] = "nub-cc";

__attribute__((noinline)) static u64 switchy(u64 x)
{
    switch (x % 9) {
    case 0:
        return x + 3;
    case 1:
        return x * 7;
    case 2:
        return x - 100;
    case 3:
        return x << 3;
    case 4:
        return x >> 2;
    case 5:
        return ~x;
    case 6:
        return x ^ 0xFFFF;
    case 7:
        return x | 0x1000;
    default:
        return 42;
    }
}

__attribute__((noinline)) static u64 call_through(unary_fn f, u64 x)
{
    return f(x);
}

__attribute__((noinline)) static int is_odd(u64 n);
__attribute__((noinline)) static int is_even(u64 n)
{
    return n == 0 ? 1 : is_odd(n - 1);
}
__attribute__((noinline)) static int is_odd(u64 n)
{
    return n == 0 ? 0 : is_even(n - 1);
}

u64 ep_main(u64 sel, u64 x);
u64 ep_main(u64 sel, u64 x)
{
    unary_fn chosen = (sel & 1) ? f_mul : f_add; /* lui/addi of code addresses */
    u64 r = call_through(chosen, x);
    r += table_ro[sel % 3](x);
    r += table_rw[(sel + 1) % 3](r);
    r += switchy(x + sel);
    data_word += r;
    r ^= data_word;
    r += (u64)text[sel % 6];
    return r;
}
EXPORT(0, ep_main);

u64 ep_second(u64 x);
u64 ep_second(u64 x)
{
    return 2 * x + 1;
}
EXPORT(1, ep_second);

/* Endpoint 2 is left unused: its slot traps. */

u64 ep_recursion(u64 n);
u64 ep_recursion(u64 n)
{
    n %= 200;
    return (u64)is_even(n) * 1000 + (u64)is_odd(n + 1);
}
EXPORT(3, ep_recursion);

u64 ep_bss(u64 n);
u64 ep_bss(u64 n)
{
    for (u64 i = 0; i < (n % 50); i++)
        counter += i;
    return counter;
}
EXPORT(4, ep_bss);

u64 ep_memfns(u64 x, u64 len);
u64 ep_memfns(u64 x, u64 len)
{
    uint8_t a[96], b[96];
    len = len % 64 + 1;
    memset(a, (int)(x & 0xFF), len);
    memset(b, 0, sizeof b);
    memcpy(b + 3, a, len);
    memmove(b + 1, b + 3, len); /* overlapping, forward */
    memmove(b + 5, b + 1, len); /* overlapping, backward */
    u64 sum = (u64)memcmp(a, b + 5, len) + 7;
    for (u64 i = 0; i < sizeof b; i++)
        sum = sum * 31 + b[i];
    return sum;
}
EXPORT(5, ep_memfns);

u64 ep_tail(u64 x);
u64 ep_tail(u64 x)
{
    return table_rw[x % 3](x + 1); /* an indirect tail call */
}
EXPORT(6, ep_tail);

#if defined(__riscv)
/* A host call: the run stops at the ecalli with the arguments in r7..r12. */
u64 ep_host(u64 x);
u64 ep_host(u64 x)
{
    return NUB_ECALLI(77, x, 2, 3, 4, 5, 6) + 1;
}
EXPORT(7, ep_host);

/* Returns a {pointer, length} pair in r7/r8: the SPEC §11.4 output. */
struct nub_output ep_output(u64 x);
struct nub_output ep_output(u64 x)
{
    static char buf[16];
    for (int i = 0; i < 16; i++)
        buf[i] = (char)('a' + (x + (u64)i) % 26);
    return (struct nub_output){buf, 16};
}
EXPORT(8, ep_output);
#endif
