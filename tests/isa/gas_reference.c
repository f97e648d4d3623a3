/*
 * gas_reference.c — SPEC-0.8.md §3.2 transcribed literally: one loop
 * iteration per decode or start, every cycle stepped, the reorder buffer as
 * a plain list. Slow and obvious, it is the oracle the engine's event-driven
 * evaluation (guest/pvm/pvm_gas.c) is compared with.
 */
#include "gas_reference.h"

#include <string.h>

enum { DEC, WAIT, EXE, FIN, RET };

struct ref_entry {
    int state;
    unsigned left;
    uint8_t units;
    size_t deps[2];
    unsigned ndeps;
};

static unsigned unit(uint8_t u, int k)
{
    return k == 0 ? (u & 3u) : (u >> (k + 1)) & 1u;
}

uint32_t gas_reference_cost(const struct pvm_gas_item *items, size_t n)
{
    static struct ref_entry rob[4096];
    size_t count = 0, at = 0;
    long writer[16];
    for (int r = 0; r < 16; r++)
        writer[r] = -1;
    unsigned avail[5] = {4, 4, 4, 1, 1};
    int d = 4, e = 5;
    unsigned long cycles = 0;
    bool have = at < n;
    for (;;) {
        size_t live = 0;
        for (size_t j = 0; j < count; j++)
            live += rob[j].state != RET;
        if (have) {
            const struct pvm_gas_item *it = &items[at];
            if (it->dec <= d && live < 32 && count < 4096) {
                if (it->is_move) {
                    writer[it->move_to] = writer[it->move_from];
                    d -= 1;
                    at++;
                    have = at < n;
                    continue;
                }
                struct ref_entry *x = &rob[count];
                memset(x, 0, sizeof(*x));
                for (int r = 0; r < 16; r++)
                    if ((it->src >> r) & 1u && writer[r] >= 0 && x->ndeps < 2)
                        x->deps[x->ndeps++] = (size_t)writer[r];
                for (int r = 0; r < 16; r++)
                    if ((it->dst >> r) & 1u)
                        writer[r] = (long)count;
                x->state = DEC;
                x->left = it->lat;
                x->units = it->units;
                count++;
                d -= it->dec;
                have = !it->ends_block && ++at < n;
                continue;
            }
        }
        size_t j = 0;
        for (; j < count; j++) {
            struct ref_entry *x = &rob[j];
            if (x->state != WAIT)
                continue;
            bool fits = true;
            for (int k = 0; k < 5; k++)
                fits = fits && unit(x->units, k) <= avail[k];
            for (unsigned k = 0; k < x->ndeps; k++)
                fits = fits && rob[x->deps[k]].left == 0;
            if (fits)
                break;
        }
        if (j < count && e > 0) {
            rob[j].state = EXE;
            for (int k = 0; k < 5; k++)
                avail[k] -= unit(rob[j].units, k);
            e -= 1;
            continue;
        }
        if (!have && live == 0)
            break;
        for (size_t i = 0; i < count; i++)
            if (rob[i].state == EXE && rob[i].left == 1)
                for (int k = 0; k < 5; k++)
                    avail[k] += unit(rob[i].units, k);
        bool done_before = true;
        for (size_t i = 0; i < count; i++) {
            int old = rob[i].state;
            done_before = done_before && (old == FIN || old == RET);
            if (done_before)
                rob[i].state = RET;
            else if (old == DEC)
                rob[i].state = WAIT;
            else if (old == EXE && rob[i].left == 0)
                rob[i].state = FIN;
            if (old == EXE && rob[i].left > 0)
                rob[i].left -= 1;
        }
        cycles += 1;
        d = 4;
        e = 5;
    }
    return cycles > 4 ? (uint32_t)(cycles - 3) : 1;
}
