/*
 * err.c - the error context (struct gl_err) and the table of code names.
 */
#include "golive/golive.h"

#include <stdio.h>
#include <string.h>

static const char *const code_names[] = {
    [GL_OK] = "ok",
    [GL_ENOMEM] = "nomem",
    [GL_EUSAGE] = "usage",
    [GL_EIO] = "io",
    [GL_EPLAN] = "plan",
    [GL_ESTORE] = "store",
    [GL_ECORRUPT] = "corrupt",
    [GL_EREFUSED] = "refused",
    [GL_ENOTFOUND] = "notfound",
    [GL_EINTERNAL] = "internal",
    [GL_EDENIED] = "denied",
};

int gl_err_set(struct gl_err *err, int code, const char *fmt, ...)
{
    va_list ap;

    if (!err)
        return code;
    err->code = code;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    return code;
}

void gl_err_clear(struct gl_err *err)
{
    if (!err)
        return;
    err->code = GL_OK;
    err->msg[0] = '\0';
}

const char *gl_code_name(int code)
{
    if (code < 0 || (size_t)code >= sizeof(code_names) / sizeof(code_names[0]))
        return "unknown";
    return code_names[code];
}
