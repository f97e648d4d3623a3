/*
 * grow_heap.c — GP 0.8.0's grow_heap host call (id 1, SPEC-0.8.md §5.2),
 * served by the library on every engine through the handle's heap
 * operations (hostcall.h).
 *
 * The paper states it with a = the first read-write page, c = the number of
 * writable pages in [a, b) and b = the limit page:
 *
 *   g = 100 + 10 * max(0, r7 - a - c);  h = max(a, r7)
 *   gas < 100             -> out of gas, nothing changed
 *   h <= b and gas >= g   -> gas -= g; pages a..h-1 writable; r7 = max(a + c, h)
 *   otherwise             -> gas -= 100; r7 = a + c
 *
 * Here the read-write region is [a, end) with end = the run's break rounded
 * up to a page (pages below the break are writable on every engine, and
 * nothing above it is until grow_heap moves it), so a + c = end, and a only
 * appears through a <= end <= b. That reduces the rule to end and b:
 * max(a, r7) <= b  <=>  r7 <= b  <=>  max(end, r7) <= b (as a <= end <= b);
 * pages a..h-1 writable = pages end..r7-1 made writable (those below end
 * already are); max(a + c, h) = max(end, r7). The loader's break and limit
 * (pvm_stdprog.c, nub_capbuild_stdprog_isa) are the paper's a + c and b in
 * bytes: end of the rw data + heap pages, and one zone below the stack.
 *
 * A program without a heap (break 0: a raw program published without one)
 * has end = b = 0: every call charges 100 and answers 0.
 */
#include "hostcall.h"

#define PAGE          4096u
#define BASE_GAS      100
#define GAS_PER_PAGE  10
#define PAGE_INDEX(a) ((uint64_t)(a) / PAGE)
#define PAGE_ROUND(a) (((uint64_t)(a) + PAGE - 1) / PAGE)

nub_status nub__grow_heap(struct nub_host_call *call, enum nub_host_action *action)
{
    *action = NUB_HOST_CONTINUE;
    if (call->gas < BASE_GAS) {
        *action = NUB_HOST_OUT_OF_GAS; /* gas and everything else unchanged */
        return NUB_OK;
    }
    uint32_t top = 0, limit = 0;
    call->memory->heap(call->memory_self, &top, &limit);
    uint64_t end = top ? PAGE_ROUND(top) : 0;
    uint64_t b = top ? PAGE_INDEX(limit) : 0;
    if (b < end)
        b = end; /* a break above its limit (only a lying guest): no growth */
    uint64_t want = call->regs[7];
    /* want <= b < 2^20 whenever the cost matters: no overflow below. */
    if (want <= b) {
        int64_t cost = BASE_GAS + (want > end ? GAS_PER_PAGE * (int64_t)(want - end) : 0);
        if (call->gas >= cost) {
            if (want > end) {
                nub_status s = call->memory->grow_heap(call->memory_self, (uint32_t)(want * PAGE));
                if (s != NUB_OK)
                    return s; /* the engine could not map pages: the call fails */
                end = want;
            }
            call->gas -= cost;
            call->regs[7] = end;
            return NUB_OK;
        }
    }
    call->gas -= BASE_GAS;
    call->regs[7] = end;
    return NUB_OK;
}
