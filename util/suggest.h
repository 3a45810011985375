/*
 * suggest.h - "did you mean" hints for misspelt keys and ids.
 */
#ifndef GOLIVE_SUGGEST_H
#define GOLIVE_SUGGEST_H

#include <stddef.h>

/* Edit distance (insert, delete, substitute, swap of neighbours) between a
 * and b, or a large number when either is longer than 64 bytes. */
size_t gl_edit_distance(const char *a, const char *b);

/* The candidate closest to word, when it is close enough to be a likely
 * typo (distance at most a third of the word's length, at least 1); NULL
 * otherwise.  Returns one of the candidate pointers. */
const char *gl_suggest(const char *word, const char *const *cands, size_t n);

#endif
