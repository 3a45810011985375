/*
 * golive.h - the library's shared vocabulary: result codes and the error
 * context that carries a message from deep inside the library up to the CLI.
 *
 * Every library function that can fail returns an int code (GL_OK = 0) and,
 * when given a struct gl_err, leaves a message there.  Only src/ prints.
 */
#ifndef GOLIVE_GOLIVE_H
#define GOLIVE_GOLIVE_H

#include <stdarg.h>
#include <stddef.h>

#define GOLIVE_VERSION "0.1.0"

/* One table of codes; gl_code_name() gives each a short name. */
enum gl_code {
    GL_OK = 0,
    GL_ENOMEM,    /* out of memory or a size cap reached */
    GL_EUSAGE,    /* bad arguments */
    GL_EIO,       /* a file could not be read or written */
    GL_EPLAN,     /* the plan has errors (details in a gl_diags) */
    GL_ESTORE,    /* the state store failed (SQLite error) */
    GL_ECORRUPT,  /* the store's audit chain or contents do not verify */
    GL_EREFUSED,  /* not now: the message says what must happen first (a
                     rule about who asks is GL_EDENIED) */
    GL_ENOTFOUND, /* no such object (run, task, file) */
    GL_EINTERNAL, /* a bug: an invariant did not hold */
    GL_EDENIED,   /* refused for who asks: the message says who may */
};

/* The error context.  msg is always NUL-terminated, empty when code == 0. */
struct gl_err {
    int code;
    char msg[1024];
};

/* Record code and a printf-style message in err (err may be NULL).
 * Returns code, so that `return gl_err_set(err, GL_EIO, ...)` reads well. */
int gl_err_set(struct gl_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Reset err to "no error". */
void gl_err_clear(struct gl_err *err);

/* Short stable name of a code, e.g. "io" for GL_EIO. */
const char *gl_code_name(int code);

#endif
