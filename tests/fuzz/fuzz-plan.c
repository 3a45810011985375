/*
 * fuzz-plan.c - libFuzzer target for the plan loader and the static checks:
 * any bytes in, diagnostics out, never a crash, a leak or undefined
 * behaviour.  Built and run by `make fuzz` (clang).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "golive/plan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct gl_diags d;
    struct gl_plan *p;

    memset(&d, 0, sizeof(d));
    d.file = "fuzz.yaml";
    p = gl_plan_parse("fuzz.yaml", (const char *)data, size, &d);
    if (p) {
        gl_plan_check(p, &d);
        gl_plan_free(p);
    }
    gl_diags_sort(&d);
    gl_diags_release(&d);
    return 0;
}
