/*
 * num.c - whole numbers read one way everywhere (see num.h).
 */
#include "util/num.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>

int gl_int_parse(const char *s, int64_t *out)
{
    char *end;
    long long n;

    if (!s)
        return -1;
    /* strtoll also skips blanks and takes a sign: only digits, after one
     * optional sign, are a number here */
    if (!isdigit((unsigned char)s[*s == '+' || *s == '-']))
        return -1;
    errno = 0;
    n = strtoll(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = (int64_t)n;
    return 0;
}
