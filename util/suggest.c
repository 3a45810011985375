/*
 * suggest.c - optimal string alignment distance for typo hints.
 */
#include "suggest.h"

#include <string.h>

#define MAXLEN 64

size_t gl_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), i, j;
    size_t d[MAXLEN + 1][MAXLEN + 1];

    if (la > MAXLEN || lb > MAXLEN)
        return (size_t)-1 / 2;
    for (i = 0; i <= la; i++)
        d[i][0] = i;
    for (j = 0; j <= lb; j++)
        d[0][j] = j;
    for (i = 1; i <= la; i++) {
        for (j = 1; j <= lb; j++) {
            size_t cost = a[i - 1] != b[j - 1];
            size_t best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < best)
                best = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
                a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    }
    return d[la][lb];
}

const char *gl_suggest(const char *word, const char *const *cands, size_t n)
{
    size_t i, best = (size_t)-1, limit = strlen(word) / 3;
    const char *hit = NULL;

    if (limit < 1)
        limit = 1;
    for (i = 0; i < n; i++) {
        size_t dist;
        if (!cands[i])
            continue;
        dist = gl_edit_distance(word, cands[i]);
        if (dist <= limit && dist < best) {
            best = dist;
            hit = cands[i];
        }
    }
    return hit;
}
