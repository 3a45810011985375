/*
 * sha256.h - SHA-256 through OpenSSL's EVP interface (libcrypto), used for
 * the plan's fingerprint and the audit chain of events.
 */
#ifndef GOLIVE_SHA256_H
#define GOLIVE_SHA256_H

#include <stddef.h>

#define GL_SHA256_HEX 65 /* 64 hex digits and a NUL */

struct gl_sha256; /* opaque incremental context */

/* Hash data in one call; hex gets 64 lowercase hex digits. 0 or -1. */
int gl_sha256_hex(const void *data, size_t n, char hex[GL_SHA256_HEX]);

/* Incremental use: new, update..., final (which frees the context).
 * new returns NULL on failure; update and final return 0 or -1.  final must
 * be called exactly once on every context that new returned, even after an
 * update failed (then with hex == NULL, to free it). */
struct gl_sha256 *gl_sha256_new(void);
int gl_sha256_update(struct gl_sha256 *c, const void *data, size_t n);
int gl_sha256_final(struct gl_sha256 *c, char hex[GL_SHA256_HEX]);

#endif
