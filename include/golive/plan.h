/*
 * plan.h - the plan: one YAML file that describes the whole night, loaded
 * into plain C structs that remember where in the file each part was.
 *
 * The model is read-only once loaded.  Everything hangs off one arena in
 * struct gl_plan and is freed by gl_plan_free().  The format is documented
 * in docs/plan.md; the key names there are the field names here.
 */
#ifndef GOLIVE_PLAN_H
#define GOLIVE_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "golive/diag.h"
#include "golive/golive.h"

/* Where something was written: 1-based line and column, 0 = unknown. */
struct gl_pos {
    int line, col;
};

/* A reference to something else by its id, with where it was written, so
 * that an unresolved reference can be reported at its own position. */
struct gl_ref {
    const char *id; /* NULL when absent */
    struct gl_pos pos;
};

struct gl_refs {
    struct gl_ref *v;
    size_t n;
};

enum gl_role {
    GL_ROLE_LEAD = 1 << 0,
    GL_ROLE_DATA = 1 << 1,
    GL_ROLE_TESTER = 1 << 2,
    GL_ROLE_DEV = 1 << 3,
    GL_ROLE_OPS = 1 << 4,
    GL_ROLE_DUTY = 1 << 5,
};

struct gl_person {
    struct gl_pos pos;
    struct gl_ref id;
    const char *name;
    const char *contact;
    unsigned roles; /* enum gl_role bits */
};

/* A named database: "sqlite:old.db", "postgres://...", "mysql://...". */
struct gl_system {
    struct gl_pos pos;
    struct gl_ref name;
    const char *url;
    struct gl_pos url_pos;
    struct gl_refs exclude; /* tables deliberately not synced */
};

/* A table in a system, written "system.table" (the table may itself hold a
 * schema: "new.public.users"). */
struct gl_table_ref {
    struct gl_ref system;
    const char *table;
    struct gl_pos pos;
};

enum gl_sync_mode {
    GL_SYNC_TRUNCATE, /* default: empty the target, then load */
    GL_SYNC_APPEND,
    GL_SYNC_UPSERT,
    GL_SYNC_INCREMENTAL,
};

enum gl_colmap_kind {
    GL_COL_FROM,  /* a source column (a rename when names differ) */
    GL_COL_VALUE, /* a constant */
    GL_COL_EXPR,  /* an SQL expression evaluated by the source */
};

struct gl_valmap {
    const char *from, *to; /* to == NULL: maps to NULL */
    struct gl_pos pos;
};

/* How one target column is filled. */
struct gl_colmap {
    struct gl_pos pos;
    const char *target;
    enum gl_colmap_kind kind;
    const char *source;    /* GL_COL_FROM */
    const char *value;     /* GL_COL_VALUE (NULL = SQL NULL) */
    const char *expr;      /* GL_COL_EXPR */
    struct gl_valmap *map; /* value map, old -> new */
    size_t n_map;
    const char *map_else; /* value for codes not in map; NULL = reject */
    int has_default;      /* default for NULL */
    const char *dflt;
    const char *cast; /* target type name, e.g. "integer" */
    /* A zero date or infinity the target cannot hold (GL_SPECIAL):
     * GL_UNREP_REJECT (the default) makes the row a reject, GL_UNREP_NULL
     * stores NULL. */
    enum gl_unrep { GL_UNREP_REJECT, GL_UNREP_NULL } unrepresentable;
    struct gl_pos unrep_pos;
};

struct gl_sync_job {
    struct gl_pos pos;
    struct gl_ref id;
    struct gl_table_ref from; /* from.table NULL when query is used */
    const char *query;        /* a source query instead of a table */
    struct gl_table_ref to;
    struct gl_refs key;
    const char *where;
    enum gl_sync_mode mode;
    struct gl_pos mode_pos;
    const char *watermark; /* incremental mode */
    struct gl_pos watermark_pos;
    struct gl_colmap *columns;
    size_t n_columns;
    struct gl_refs ignore;
    int64_t error_limit; /* rows, or percent when error_limit_pct */
    int error_limit_pct;
    int64_t batch_size;
    int disable_constraints;
    struct gl_refs after;
    struct gl_ref owner, checker;
};

enum gl_check_type {
    GL_CHECK_COUNT,
    GL_CHECK_AGGREGATE,
    GL_CHECK_DIFF,
    GL_CHECK_SQL
};

struct gl_check {
    struct gl_pos pos;
    struct gl_ref id;
    enum gl_check_type type;
    struct gl_ref job; /* count, aggregate, diff */
    const char *where; /* overrides the job's where on both sides */
    const char *source_where, *target_where;
    int64_t tolerance;         /* count: allowed |source - target| */
    struct gl_refs columns;    /* aggregate / diff: the columns to compare */
    struct gl_refs aggregates; /* aggregate: sum min max nulls distinct */
    struct gl_ref system;      /* sql: where the query runs */
    const char *sql;
    const char *expect;    /* sql: the expected single value */
    struct gl_ref compare; /* sql: or the same query on this system */
    struct gl_ref owner;
};

struct gl_wf_state {
    struct gl_pos pos;
    struct gl_ref name;
    int editable;            /* a user may edit the record in this state */
    int rejection;           /* records here were rejected */
    struct gl_refs requires; /* fields a record needs in this state */
};

struct gl_wf_transition {
    struct gl_pos pos;
    struct gl_ref from, to;
    const char *action;
    struct gl_refs roles;
    struct gl_refs requires;
};

/* A field a state or transition may require: a column of the workflow's
 * table, or (with table set) a column of a child table whose key columns
 * point at the record's key. */
struct gl_wf_field {
    struct gl_pos pos;
    struct gl_ref name;
    const char *table;  /* child table, in the workflow table's system */
    struct gl_refs key; /* child columns matching the record's key */
    const char *column; /* the child's column that must be set */
    const char *where;  /* which child rows count */
};

struct gl_workflow {
    struct gl_pos pos;
    struct gl_ref name;
    struct gl_table_ref table; /* binding to the new system; optional */
    struct gl_refs key;
    const char *state_column;
    struct gl_wf_state *states;
    size_t n_states;
    struct gl_ref initial;
    struct gl_refs terminal;
    struct gl_wf_transition *transitions;
    size_t n_transitions;
    struct gl_ref job; /* the sync job whose value map feeds the states */
    struct gl_wf_field *fields;
    size_t n_fields;
};

enum gl_stage {
    GL_STAGE_PREPARE,
    GL_STAGE_SYNC,
    GL_STAGE_RELEASE,
    GL_STAGE_VERIFY,
    GL_STAGE_HYPERCARE,
    GL_STAGE_ROLLBACK,
    GL_STAGE_COUNT
};

struct gl_task {
    struct gl_pos pos;
    struct gl_ref id;
    const char *title;
    enum gl_stage stage;
    struct gl_pos stage_pos;
    struct gl_ref owner, checker;
    struct gl_refs depends_on;
    int has_at;
    int64_t at; /* seconds from T0 (absolute times are converted) */
    struct gl_pos at_pos;
    int has_duration;
    int64_t duration; /* seconds */
    const char *run;  /* "sync JOB", "check CHECK" or "shell CMD" */
    struct gl_pos run_pos;
    int64_t timeout; /* seconds, 0 = none */
    const char *notes;
    int decides_go; /* 'decides: go': the go / no-go decision */
    struct gl_pos decides_pos;
};

struct gl_scenario {
    struct gl_pos pos;
    struct gl_ref id;
    const char *area, *title;
    int priority; /* 0..3 for P0..P3 */
    int64_t risk; /* defects found in earlier testing */
    struct gl_ref assignee;
    struct gl_ref samples_system;
    const char *samples_query;
    struct gl_ref workflow;
    int has_duration;
    int64_t duration; /* seconds: how long it takes, before a tester has a
                         pace of their own (the forecast) */
};

enum gl_gate_kind {
    GL_GATE_NO_OPEN_BLOCKERS,
    GL_GATE_ALL_CHECKS_PASSED,
    GL_GATE_P0_SCENARIOS_PASSED,
    GL_GATE_TASKS_CHECKED,    /* refs: task ids */
    GL_GATE_CHECKS_PASSED,    /* refs: check ids */
    GL_GATE_SCENARIOS_PASSED, /* refs: scenario ids */
    GL_GATE_MAX_OPEN_DEFECTS, /* severity + count */
};

struct gl_gate_rule {
    struct gl_pos pos;
    enum gl_gate_kind kind;
    struct gl_refs refs;
    const char *severity;
    int64_t count;
};

struct gl_plan {
    const char *file; /* as given by the caller */
    const char *dir;  /* folder of the file, for relative sqlite: paths */
    const char *cutover;
    const char *title;
    int64_t switch_at; /* epoch seconds */
    int switch_offset; /* minutes east of UTC, as written */
    struct gl_pos switch_pos;

    struct gl_person *people;
    size_t n_people;
    struct gl_system *systems;
    size_t n_systems;
    struct gl_sync_job *sync;
    size_t n_sync;
    struct gl_check *checks;
    size_t n_checks;
    struct gl_workflow *workflows;
    size_t n_workflows;
    struct gl_task *tasks; /* including rollback tasks written inline */
    size_t n_tasks;
    struct gl_scenario *scenarios;
    size_t n_scenarios;
    struct gl_gate_rule *gates_go;
    size_t n_gates_go;
    struct gl_refs rollback; /* task ids in the order written */
    /* the verification forecast: a scenario's time before a tester has a
     * pace (default 15m), a fix's before a defect was fixed (default 1h) */
    int64_t scenario_duration, fix_duration;

    void *priv; /* the arena; internal */
};

/* Load a plan from text (len bytes).  file names it in diagnostics and
 * locates relative paths.  Problems of syntax, types, unknown and missing
 * keys go to d.  Returns the plan (the caller frees it with gl_plan_free)
 * even when d holds errors, as long as the text was YAML at all, so that
 * further checks can run; NULL when the text is not YAML or memory ran out
 * (then d says why). */
struct gl_plan *gl_plan_parse(const char *file, const char *text, size_t len,
                              struct gl_diags *d);

/* The plan's YAML tree in a compact binary form (plan/ytree.h), which
 * gl_plan_parse_packed loads again without parsing YAML: the state store
 * keeps it beside the plan's text so that reading a run of thousands of
 * tasks is fast.  gl_plan_pack appends the form of text to out: 0, or -1
 * when the text is not YAML or memory ran out.  gl_plan_parse_packed
 * returns NULL when blob is not a well-formed packed tree (the caller
 * parses the text instead) and otherwise what gl_plan_parse returns for
 * the text the blob was packed from. */
struct gl_buf;
int gl_plan_pack(const char *text, size_t len, struct gl_buf *out);
struct gl_plan *gl_plan_parse_packed(const char *file, const void *blob,
                                     size_t len, struct gl_diags *d);

/* Read file and gl_plan_parse it.  NULL with err set (GL_EIO) when the file
 * cannot be read; NULL with err GL_EPLAN when it is not YAML. */
struct gl_plan *gl_plan_load(const char *file, struct gl_diags *d,
                             struct gl_err *err);

/* The static completeness checks (docs/plan.md, "validate"): references,
 * owners and checkers, cycles, times, keys, workflows, passwords.  Adds to d.
 */
void gl_plan_check(const struct gl_plan *p, struct gl_diags *d);

void gl_plan_free(struct gl_plan *p);

/* Lookups by id; NULL when absent. */
const struct gl_person *gl_plan_person(const struct gl_plan *p, const char *id);
const struct gl_task *gl_plan_task(const struct gl_plan *p, const char *id);
const struct gl_sync_job *gl_plan_job(const struct gl_plan *p, const char *id);
const struct gl_system *gl_plan_system(const struct gl_plan *p,
                                       const char *name);

/* The tasks as a graph, built in time linear in tasks + dependencies:
 * task i depends on dep[first[i]] .. dep[first[i + 1] - 1] (ids that name
 * no task are left out); order[0 .. n_order) lists the tasks that are on
 * no cycle, each after every task it depends on. */
struct gl_task_graph {
    size_t n;
    size_t *first, *dep, *order, n_order;
    size_t *slot, n_slot; /* hash of the ids: index + 1, 0 = empty */
    const struct gl_plan *p;
};

/* Build g over p's tasks (p must outlive g).  GL_OK or GL_ENOMEM. */
int gl_task_graph_build(struct gl_task_graph *g, const struct gl_plan *p);
/* The index of task id, or -1 (constant time on average). */
long gl_task_graph_find(const struct gl_task_graph *g, const char *id);
void gl_task_graph_release(struct gl_task_graph *g);

/* Names of stages and roles as the plan spells them. */
const char *gl_stage_name(enum gl_stage s);
const char *gl_role_name(enum gl_role r);

#endif
