/*
 * nubbench — nub's benchmark figures, one JSON object per line.
 *
 * usage: nubbench [--quick] [--only GROUP]...
 * Groups are listed in figures.def (fig_<group>.c each).
 */
#include "nubbench.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define NUBBENCH_GROUP(name) int fig_##name(const struct nubbench_options *opt);
#include "figures.def"
#undef NUBBENCH_GROUP

struct group {
    const char *name;
    int (*run)(const struct nubbench_options *opt);
};

static const struct group groups[] = {
#define NUBBENCH_GROUP(name) {#name, fig_##name},
#include "figures.def"
#undef NUBBENCH_GROUP
};

void nubbench_emit(const char *name, double value, const char *unit)
{
    printf("{\"name\": \"%s\", \"value\": %.6g, \"unit\": \"%s\"}\n", name, value, unit);
    fflush(stdout);
}

uint64_t nubbench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    struct nubbench_options opt = {0};
    const char *only[16];
    int only_count = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            opt.quick = true;
        } else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc && only_count < 16) {
            only[only_count++] = argv[++i];
        } else {
            fprintf(stderr, "usage: nubbench [--quick] [--only GROUP]...\ngroups:");
            for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++)
                fprintf(stderr, " %s", groups[g].name);
            fprintf(stderr, "\n");
            return 2;
        }
    }
    int failed = 0;
    for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
        bool wanted = only_count == 0;
        for (int k = 0; k < only_count; k++)
            wanted |= strcmp(only[k], groups[g].name) == 0;
        if (wanted && groups[g].run(&opt) != 0) {
            fprintf(stderr, "nubbench: group %s failed\n", groups[g].name);
            failed = 1;
        }
    }
    return failed;
}
