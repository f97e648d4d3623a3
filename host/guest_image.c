/* guest_image.c — the kernel image embedded by the generated guest_image.S. */
#include "sandbox_int.h"

extern const uint8_t nub_guest_image_start[];
extern const uint8_t nub_guest_image_end[];

struct nub_guest_image nub__embedded_guest_image(void)
{
    return (struct nub_guest_image){
        .bytes = nub_guest_image_start,
        .len = (size_t)(nub_guest_image_end - nub_guest_image_start),
    };
}
