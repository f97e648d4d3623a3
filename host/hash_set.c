/* hash_set.c — the host's own record of the cap hashes it published. */
#include "sandbox_int.h"

#include <stdlib.h>
#include <string.h>

static const uint8_t empty_slot[NUB_CAP_HASH_BYTES];

static size_t slot_of(const uint8_t *hash, size_t capacity)
{
    uint64_t h;
    memcpy(&h, hash, sizeof h); /* BLAKE2b output: already uniformly distributed */
    return (size_t)h & (capacity - 1);
}

static void insert(uint8_t (*slots)[NUB_CAP_HASH_BYTES], size_t capacity, const uint8_t *hash)
{
    for (size_t i = slot_of(hash, capacity);; i = (i + 1) & (capacity - 1)) {
        if (memcmp(slots[i], empty_slot, NUB_CAP_HASH_BYTES) == 0) {
            memcpy(slots[i], hash, NUB_CAP_HASH_BYTES);
            return;
        }
    }
}

int nub__hash_set_has(const struct nub_hash_set *set, const uint8_t *hash)
{
    if (set->capacity == 0 || memcmp(hash, empty_slot, NUB_CAP_HASH_BYTES) == 0)
        return 0;
    for (size_t i = slot_of(hash, set->capacity);; i = (i + 1) & (set->capacity - 1)) {
        if (memcmp(set->slots[i], empty_slot, NUB_CAP_HASH_BYTES) == 0)
            return 0;
        if (memcmp(set->slots[i], hash, NUB_CAP_HASH_BYTES) == 0)
            return 1;
    }
}

int nub__hash_set_add(struct nub_hash_set *set, const uint8_t *hash)
{
    /* The all-zero hash cannot be stored (it marks empty slots); BLAKE2b
     * never produces it in practice. */
    if (memcmp(hash, empty_slot, NUB_CAP_HASH_BYTES) == 0 || nub__hash_set_has(set, hash))
        return 0;
    if ((set->count + 1) * 2 > set->capacity) {
        size_t capacity = set->capacity ? set->capacity * 2 : 64;
        uint8_t(*slots)[NUB_CAP_HASH_BYTES] = calloc(capacity, NUB_CAP_HASH_BYTES);
        if (!slots)
            return -1;
        for (size_t i = 0; i < set->capacity; i++)
            if (memcmp(set->slots[i], empty_slot, NUB_CAP_HASH_BYTES) != 0)
                insert(slots, capacity, set->slots[i]);
        free(set->slots);
        set->slots = slots;
        set->capacity = capacity;
    }
    insert(set->slots, set->capacity, hash);
    set->count++;
    return 0;
}

void nub__hash_set_remove(struct nub_hash_set *set, const uint8_t *hash)
{
    if (!nub__hash_set_has(set, hash))
        return;
    size_t mask = set->capacity - 1, i = slot_of(hash, set->capacity);
    while (memcmp(set->slots[i], hash, NUB_CAP_HASH_BYTES) != 0)
        i = (i + 1) & mask;
    /* Backward-shift deletion: move later entries of the probe run into the
     * hole when their home slot does not lie between the hole and them. */
    for (size_t j = (i + 1) & mask;; j = (j + 1) & mask) {
        if (memcmp(set->slots[j], empty_slot, NUB_CAP_HASH_BYTES) == 0)
            break;
        size_t home = slot_of(set->slots[j], set->capacity);
        int between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!between) {
            memcpy(set->slots[i], set->slots[j], NUB_CAP_HASH_BYTES);
            i = j;
        }
    }
    memset(set->slots[i], 0, NUB_CAP_HASH_BYTES);
    set->count--;
}

void nub__hash_set_free(struct nub_hash_set *set)
{
    free(set->slots);
    set->slots = NULL;
    set->capacity = set->count = 0;
}

int nub__hash_set_copy(struct nub_hash_set *to, const struct nub_hash_set *from)
{
    uint8_t(*slots)[NUB_CAP_HASH_BYTES] = NULL;
    if (from->capacity) {
        slots = malloc(from->capacity * NUB_CAP_HASH_BYTES);
        if (!slots)
            return -1;
        memcpy(slots, from->slots, from->capacity * NUB_CAP_HASH_BYTES);
    }
    free(to->slots);
    to->slots = slots;
    to->capacity = from->capacity;
    to->count = from->count;
    return 0;
}
