/*
 * num.h - whole numbers as people write them, read one way everywhere: an
 * option's value (src/parse-options.c), a number in the plan
 * (plan/load.c), a query parameter of the API (serve/).
 */
#ifndef GOLIVE_UTIL_NUM_H
#define GOLIVE_UTIL_NUM_H

#include <stdint.h>

/* The whole of s as a decimal int64 into *out: an optional sign ('+' or
 * '-', as strtoll and YAML take it) then digits only; no blanks, no
 * second sign, no base prefix, nothing after, nothing past int64.  0, or
 * -1 (*out untouched) when s is not such a number. */
int gl_int_parse(const char *s, int64_t *out);

#endif
