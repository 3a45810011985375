/*
 * web.h - the web interface's files, embedded at build time
 * (tools/embed-web.py writes the table from web/).
 */
#ifndef GOLIVE_SERVE_WEB_H
#define GOLIVE_SERVE_WEB_H

#include <stddef.h>

struct sv_web_file {
    const char *name; /* "app.js" */
    const char *type; /* its Content-Type */
    const unsigned char *data;
    size_t len;
    const char *sha256; /* hex, of data: the ETag */
};

/* Ends with {NULL}. */
extern const struct sv_web_file sv_web_files[];

#endif
