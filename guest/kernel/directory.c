/* directory.c — the cap directory (filled in by PUT_CAP). */
#include "kernel.h"

struct nub_cap_directory {
    uint64_t type_id;   /* NUB_DIRECTORY_TYPE_ID */
    uint64_t cap_count; /* caps stored */
    uint64_t cap_bytes; /* wire bytes stored */
};

struct nub_cap_directory nub_kernel_directory = {.type_id = NUB_DIRECTORY_TYPE_ID};
