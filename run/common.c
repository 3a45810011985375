/*
 * common.c - helpers shared by the run's modules (see common.h).
 */
#include "common.h"

#include <stdio.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/clock.h"

int gl_run_has_role(const struct gl_plan *p, const char *person, unsigned role)
{
    const struct gl_person *pe = person ? gl_plan_person(p, person) : NULL;

    return pe && (pe->roles & role);
}

const char *gl_run_names_with(const struct gl_plan *p, unsigned role, char *buf,
                              size_t n)
{
    size_t i, o = 0;

    buf[0] = '\0';
    for (i = 0; i < p->n_people && o < n; i++)
        if (p->people[i].roles & role)
            o += (size_t)snprintf(buf + o, n - o, "%s%s", o ? ", " : "",
                                  p->people[i].id.id);
    if (!buf[0])
        snprintf(buf, n, "nobody has the role");
    return buf;
}

int gl_run_event(gl_store *s, const struct gl_actor *who, const char *kind,
                 json_t *payload, int64_t *seq, struct gl_err *err)
{
    char *text =
        payload ? json_dumps(payload, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    int64_t dummy;
    int rc;

    json_decref(payload);
    if (!text)
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    rc = gl_store_event(s, who, kind, text, seq ? seq : &dummy, err);
    free(text);
    return rc;
}

int gl_run_task_gone(int64_t pid, int64_t pgid, const char *host)
{
    if (!gl_run_pid_gone(pid, host)) /* also: another host's */
        return 0;
    if (pgid <= 0)
        return 1;
    /* the supervisor is gone; its command's process group may live on */
    return kill(-(pid_t)pgid, 0) != 0 && errno == ESRCH;
}

int gl_run_pid_gone(int64_t pid, const char *host)
{
    char here[256] = "";

    if (pid <= 0 || !host || !*host)
        return 0;
    gethostname(here, sizeof(here) - 1);
    if (strcmp(here, host))
        return 0;
    return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

int gl_run_text_ok(const char *what, const char *text, size_t max,
                   int multiline, struct gl_err *err)
{
    const unsigned char *c;
    json_t *utf8;
    size_t len = strlen(text);

    if (len > max)
        return gl_err_set(err, GL_EUSAGE, "%s is at most %zu bytes, not %zu",
                          what, max, len);
    for (c = (const unsigned char *)text; *c; c++)
        if ((*c < 0x20 && !(multiline && (*c == '\n' || *c == '\t'))) ||
            *c == 0x7f)
            return gl_err_set(err, GL_EUSAGE,
                              "%s holds a control character (byte %zu): "
                              "%s",
                              what, (size_t)(c - (const unsigned char *)text),
                              multiline ? "only newlines and tabs may be in it"
                                        : "it is one line of text");
    /* jansson takes UTF-8 only: say so, rather than fail on the event */
    if (!(utf8 = json_string(text)))
        return gl_err_set(err, GL_EUSAGE, "%s is not UTF-8 text", what);
    json_decref(utf8);
    return GL_OK;
}

int gl_run_no_note(const char *note)
{
    if (!note)
        return 1;
    while (*note == ' ' || *note == '\t' || *note == '\n' || *note == '\r')
        note++;
    return !*note;
}
