/*
 * sha256.c - a thin wrapper over OpenSSL's EVP digests.
 */
#include "sha256.h"

#include <openssl/evp.h>

/* struct gl_sha256 is never defined: the handle is the EVP_MD_CTX itself. */

static void to_hex(const unsigned char *md, unsigned len, char *hex)
{
    static const char digits[] = "0123456789abcdef";
    unsigned i;

    for (i = 0; i < len; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    hex[2 * len] = '\0';
}

struct gl_sha256 *gl_sha256_new(void)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();

    if (!ctx)
        return NULL;
    if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(ctx);
        return NULL;
    }
    return (struct gl_sha256 *)ctx;
}

int gl_sha256_update(struct gl_sha256 *c, const void *data, size_t n)
{
    return EVP_DigestUpdate((EVP_MD_CTX *)c, data, n) == 1 ? 0 : -1;
}

int gl_sha256_final(struct gl_sha256 *c, char hex[GL_SHA256_HEX])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    int ret = -1;

    if (hex && EVP_DigestFinal_ex((EVP_MD_CTX *)c, md, &len) == 1 &&
        len == 32) {
        to_hex(md, len, hex);
        ret = 0;
    }
    EVP_MD_CTX_free((EVP_MD_CTX *)c);
    return ret;
}

int gl_sha256_hex(const void *data, size_t n, char hex[GL_SHA256_HEX])
{
    struct gl_sha256 *c = gl_sha256_new();

    if (!c)
        return -1;
    if (gl_sha256_update(c, data, n)) {
        gl_sha256_final(c, NULL);
        return -1;
    }
    return gl_sha256_final(c, hex);
}
