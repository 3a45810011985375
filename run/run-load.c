/*
 * run-load.c - the run's record and its own copy of the plan, as every
 * surface opens them (the CLI's commands, the server's requests).
 */
#include <string.h>

#include "golive/diag.h"
#include "golive/plan.h"
#include "golive/store.h"

int gl_run_load(gl_store *s, int for_change, struct gl_run_info *info,
                struct gl_plan **plan, struct gl_err *err)
{
    struct gl_diags d;
    int rc;

    *plan = NULL;
    memset(&d, 0, sizeof(d));
    if ((rc = gl_store_run_info(s, info, err)))
        return rc;
    d.file = info->plan_path;
    /* The text's SHA-256 is its event's (gl_store_run_info checked it).
     * What only reads loads the plan from its packed tree (no YAML to
     * parse: fast for thousands of tasks); what changes the run parses
     * that text itself (the tree is a cache, checked only by 'audit
     * verify'), and keeps its tree when the store has none yet (a store
     * made before schema 8). */
    if (!for_change && gl_store_plan_tree(s, info)) {
        *plan = gl_plan_parse_packed(info->plan_path, info->plan_tree,
                                     info->plan_tree_len, &d);
        if (*plan && d.n_errors) {
            /* the run's plan loads without errors (run start and amend
             * refuse one that does not): a tree that gives errors is
             * not that plan's */
            gl_plan_free(*plan);
            *plan = NULL;
        }
        gl_diags_release(&d);
        memset(&d, 0, sizeof(d));
        d.file = info->plan_path;
    }
    if (!*plan) {
        *plan =
            gl_plan_parse(info->plan_path, info->plan_text, info->plan_len, &d);
        if (*plan && for_change && !gl_store_plan_tree_kept(s, info)) {
            struct gl_err ignored;
            /* only a cache: what was asked goes on without it */
            (void)gl_store_plan_tree_put(s, info->plan_version,
                                         info->plan_sha256, info->plan_text,
                                         info->plan_len, &ignored);
        }
    }
    gl_diags_release(&d);
    if (!*plan)
        return gl_err_set(err, GL_EPLAN, "the run's plan cannot be read");
    return GL_OK;
}
