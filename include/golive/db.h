/*
 * db.h - the connector interface: one const table of function pointers per
 * database engine (in the manner of SQLite's VFS), and the typed values that
 * travel between engines.
 *
 * Drivers: SQLite (db/sqlite.c), PostgreSQL (db/postgres.c, libpq),
 * MySQL / MariaDB (db/mysql.c, libmariadb).  gl_db_open() picks one by the
 * URL's scheme.  Engines above this layer (sync, recon, flow) speak only
 * this interface; quoting of identifiers and values is the driver's, per
 * dialect.
 */
#ifndef GOLIVE_DB_H
#define GOLIVE_DB_H

#include <stddef.h>
#include <stdint.h>

#include "golive/golive.h"

struct gl_buf;

/* ---- values ---------------------------------------------------------- */

enum gl_vtype {
    GL_NULL,
    GL_INT,         /* i */
    GL_NUMERIC,     /* s/len: canonical decimal text, e.g. "-12.50" */
    GL_FLOAT,       /* f */
    GL_TEXT,        /* s/len: UTF-8 */
    GL_BYTES,       /* s/len: raw bytes */
    GL_DATE,        /* i: days since 1970-01-01 */
    GL_TIME,        /* i: microseconds since midnight */
    GL_TIMESTAMP,   /* i: microseconds since 1970-01-01T00:00, no zone */
    GL_TIMESTAMPTZ, /* i: microseconds since the epoch, UTC */
    GL_BOOL,        /* i: 0 or 1 */
    /* A date or time that one engine has and the others lack: MariaDB's
     * zero dates ("0000-00-00", "2019-00-10 00:00:00"), PostgreSQL's
     * "infinity" / "-infinity".  s/len: the text as the engine spells it;
     * i: the column's type (GL_DATE, GL_TIMESTAMP, ...).  A value, never
     * an error: sync fits it or rejects it (sync/convert.c), diff compares
     * it as its text. */
    GL_SPECIAL,
};

/* One value.  s points into memory owned by whoever produced the value (a
 * cursor's current row, a converter's buffer): valid until that owner
 * moves on. */
struct gl_value {
    enum gl_vtype type;
    int64_t i;
    double f;
    const char *s;
    size_t len;
};

const char *gl_vtype_name(enum gl_vtype t);

/* Append v as canonical text to out: integers and numerics in decimal,
 * floats with 17 significant digits, timestamps ISO 8601 with
 * microseconds ("Z" for TIMESTAMPTZ), booleans true/false, bytes as hex.
 * NULL appends nothing (callers check the type).  0 or -1 (memory). */
int gl_value_text(const struct gl_value *v, struct gl_buf *out);

/* Whether a date / time text is one of the values some engines have and
 * others lack (see GL_SPECIAL): a zero date or a zero month or day
 * ("0000-00-00", "2019-00-10 00:00:00"), "infinity", "-infinity". */
int gl_is_special_text(const char *s, size_t len);

/* The kinds of GL_SPECIAL values, by their text (0: none of them). */
enum gl_special_kind {
    GL_SP_NONE,
    GL_SP_INFINITY, /* PostgreSQL's infinity, -infinity */
    GL_SP_ZERO,     /* MariaDB's zero dates, zero months and days */
    GL_SP_PG_DATE,  /* PostgreSQL dates / timestamps BC or past 9999:
                     * '0044-03-15 BC', '12345-06-07 10:00:00' */
    GL_SP_LONG_TIME /* MariaDB TIME outside 00:00-24:00: '-00:00:01',
                     * '838:59:59', '-12:00:00.5' */
};
enum gl_special_kind gl_special_kind(const char *s, size_t len);

/* Whether a column of type col_type (GL_NULL: the value's own type) in
 * an engine named engine ("postgres", "mysql", "sqlite") holds the
 * GL_SPECIAL value v as it is. */
int gl_special_fits(const struct gl_value *v, const char *engine,
                    enum gl_vtype col_type);

/* ---- tables ---------------------------------------------------------- */

struct gl_column {
    char *name;
    char *decl_type;    /* as the database declares it: "numeric(12,2)" */
    enum gl_vtype type; /* how its values arrive */
    int nullable;
    int has_default;      /* a default or an identity / auto increment */
    int identity;         /* identity, serial or auto increment */
    int length;           /* character length, -1 when none */
    int precision, scale; /* numeric(p,s), -1 when none */
};

struct gl_table_desc {
    char *name;
    struct gl_column *cols;
    size_t ncols;
    size_t *pk; /* indexes into cols */
    size_t npk;
};

void gl_table_desc_release(struct gl_table_desc *t);

/* Index of a column by name (exact, then case-insensitive), or -1. */
int gl_table_col(const struct gl_table_desc *t, const char *name);

/* ---- connections ----------------------------------------------------- */

struct gl_db;     /* a connection: a driver's struct with this one first */
struct gl_cursor; /* a streaming query */
struct gl_loader; /* a bulk load into one table */

struct gl_load_opts {
    const char *table;
    const char *const *cols; /* target columns, in row order */
    size_t ncols;
    const char *const *key; /* for upsert: the conflict key columns */
    size_t nkey;
    int upsert; /* insert or update by key */
};

/* A driver.  Every method returns GL_OK or a code with a message in err
 * naming the database (never its password).  Optional methods may be NULL;
 * callers check. */
struct gl_db_driver {
    const char *name; /* "sqlite", "postgres", "mysql" */

    /* Connect.  url has had ${VAR} substituted; base_dir resolves relative
     * SQLite paths.  The session uses UTC for time zones. */
    int (*open)(const char *url, const char *base_dir, struct gl_db **out,
                struct gl_err *err);
    void (*close)(struct gl_db *db);

    /* Columns, declared types, nullability, defaults and primary key of a
     * table ("schema.table" allowed).  GL_ENOTFOUND when it does not
     * exist.  The caller releases out. */
    int (*describe)(struct gl_db *db, const char *table,
                    struct gl_table_desc *out, struct gl_err *err);

    /* Names of the user tables (malloc'd array of malloc'd strings). */
    int (*tables)(struct gl_db *db, char ***names, size_t *n,
                  struct gl_err *err);

    /* Run a query and stream its rows without holding them all. */
    int (*query)(struct gl_db *db, const char *sql, struct gl_cursor **out,
                 struct gl_err *err);
    /* The next row: *row points at ncols values owned by the cursor, valid
     * until the next call.  Returns 1 with a row, 0 at the end, or a
     * negative gl_code (as -code) with err set. */
    int (*next)(struct gl_cursor *c, const struct gl_value **row,
                struct gl_err *err);
    size_t (*ncols)(struct gl_cursor *c);
    const char *(*col_name)(struct gl_cursor *c, size_t i);
    void (*cursor_close)(struct gl_cursor *c);

    /* Statements without results, and transactions. */
    int (*exec)(struct gl_db *db, const char *sql, struct gl_err *err);
    int (*begin)(struct gl_db *db, struct gl_err *err);
    int (*commit)(struct gl_db *db, struct gl_err *err);
    void (*rollback)(struct gl_db *db);

    /* Bulk load inside the current transaction through the engine's
     * fastest path.  Rows may be buffered; load_finish sends what is left
     * and reports the first error (a failed load leaves the transaction to
     * be rolled back).  load_close frees, finished or not. */
    int (*load_begin)(struct gl_db *db, const struct gl_load_opts *o,
                      struct gl_loader **out, struct gl_err *err);
    int (*load_row)(struct gl_loader *l, const struct gl_value *row,
                    struct gl_err *err);
    int (*load_finish)(struct gl_loader *l, struct gl_err *err);
    void (*load_close)(struct gl_loader *l);

    /* Optional: the tables that table's foreign keys reference (malloc'd
     * array of malloc'd names; the table itself is left out). */
    int (*references)(struct gl_db *db, const char *table, char ***names,
                      size_t *n, struct gl_err *err);

    /* Optional: turn table's foreign-key checks and triggers off (on = 0)
     * for this connection's loads, or on again (on = 1). */
    int (*constraints)(struct gl_db *db, const char *table, int on,
                       struct gl_err *err);

    /* Optional: how many rows of table violate one of its foreign keys. */
    int (*fk_violations)(struct gl_db *db, const char *table, int64_t *n,
                         struct gl_err *err);

    /* Optional: after loading explicit ids, move the table's sequence /
     * identity / auto-increment counter past the highest value of column
     * (NULL where the engine needs nothing). */
    int (*reset_identity)(struct gl_db *db, const char *table,
                          const char *column, struct gl_err *err);

    /* Optional: take the exclusive lock called name (letters, digits,
     * '-', '_', '.') for the rest of this connection's life, without
     * waiting: a PostgreSQL advisory lock (per database), MariaDB's
     * GET_LOCK (named after the database too), a lock file beside an
     * SQLite database (not SQLite's own locks, which would block the
     * loads).  GL_EREFUSED when another connection or process holds it;
     * closing the connection (or the process dying) lets it go. */
    int (*lock)(struct gl_db *db, const char *name, struct gl_err *err);

    /* Optional: append an ORDER BY expression that sorts the text column
     * quoted by its bytes (binary collation), whatever the column's own
     * collation; NULL when the engine sorts that way already. */
    int (*order_bytes)(const char *quoted, struct gl_buf *out);

    /* Append "a differs from b", NULLs included (NULL differs from a
     * value, equals NULL): IS NOT, IS DISTINCT FROM, NOT <=>. */
    int (*not_same)(const char *a, const char *b, struct gl_buf *out);

    /* Quote an identifier ("a.b" is schema and name) or a value as a
     * literal of this dialect, appending to out. */
    int (*quote_ident)(const char *ident, struct gl_buf *out);
    int (*quote_value)(struct gl_db *db, const struct gl_value *v,
                       struct gl_buf *out);

    /* Run statements that change things, as written, outside a cursor and
     * in autocommit (`golive db exec`).  *affected: the rows they changed
     * as the engine counts them, or -1 when it does not say (DDL, and
     * PostgreSQL's TRUNCATE). */
    int (*change)(struct gl_db *db, const char *sql, int64_t *affected,
                  struct gl_err *err);
    /* Append v as a literal for a script run later in any session of this
     * engine (fix SQL): it means the same value whatever the session's
     * time zone, date style, SQL mode or standard_conforming_strings.
     * col_type is the type of the column it goes into (values are fitted
     * to it by the caller: a TIMESTAMPTZ column gets GL_TIMESTAMPTZ).
     * 0, 1 when the engine has no literal for the value (a zero date in
     * PostgreSQL, NaN in MariaDB: out is left as it was), -1 (memory). */
    int (*script_value)(const struct gl_value *v, enum gl_vtype col_type,
                        struct gl_buf *out);
};

struct gl_db {
    const struct gl_db_driver *drv;
    char *label; /* the URL without its password, for messages */
    /* Set by a caller that reads one query at a time on this connection
     * and runs nothing else while it is open: a driver may then stream
     * the rows (PostgreSQL: COPY TO STDOUT instead of a cursor's FETCH
     * round trips). */
    int stream;
};

extern const struct gl_db_driver gl_sqlite_driver;
extern const struct gl_db_driver gl_postgres_driver;
extern const struct gl_db_driver gl_mysql_driver;

/* Initialise the client libraries once, before any thread opens a
 * connection.  Idempotent. */
void gl_db_global_init(void);

/* Substitute ${VAR} from the environment (GL_EUSAGE naming an unset one),
 * pick the driver by scheme and connect.  base_dir: the plan's folder. */
int gl_db_open(const char *url, const char *base_dir, struct gl_db **out,
               struct gl_err *err);
void gl_db_close(struct gl_db *db);

/* url with ${VAR} replaced; malloc'd, caller frees.  NULL with err set. */
char *gl_db_expand_url(const char *url, struct gl_err *err);

/* url with any password replaced by "***"; malloc'd, caller frees. */
char *gl_db_redact_url(const char *url);

/* When url holds a password written out (not a ${VAR}): *templ gets url
 * with it replaced by ${var}, *password the password (percent-decoded:
 * what the variable must hold), both malloc'd, and 1 is returned.  0 when
 * url holds no literal password, -1 out of memory. */
int gl_db_url_lift_password(const char *url, const char *var, char **templ,
                            char **password);

/* Quote ident with the quote character q ('"' or '`'), each part of
 * "schema.table" apart, doubling q inside.  For drivers.  0 or -1. */
int gl_quote_ident_with(const char *ident, char q, struct gl_buf *out);

/* Convenience: the first column of every row of a query, as text
 * (malloc'd array of malloc'd strings; NULLs are skipped). */
int gl_db_query_strings(struct gl_db *db, const char *sql, char ***out,
                        size_t *n, struct gl_err *err);

/* Rows of table whose columns cols[0..n) are all set but match no row of
 * reftable's refcols: the orphans of one foreign key.  Identifiers are
 * quoted by the driver. */
int gl_db_count_orphans(struct gl_db *db, const char *table,
                        const char *reftable, char *const *cols,
                        char *const *refcols, size_t n, int64_t *count,
                        struct gl_err *err);

/* Whether a column of type col_type in db's engine holds the GL_SPECIAL
 * value v as it is: PostgreSQL's date and timestamp columns hold its
 * infinities, a text column holds any as its text; nothing holds a zero
 * date (golive's MariaDB session is strict). */
int gl_db_holds_special(const struct gl_db *db, const struct gl_value *v,
                        enum gl_vtype col_type);

/* Convenience: one integer from a query (count(*) and the like). */
int gl_db_query_int(struct gl_db *db, const char *sql, int64_t *out,
                    struct gl_err *err);

#endif
