/* SPDX-License-Identifier: MIT */
/*
 * history_db - the two database engines behind the results history, one small interface
 *
 * history.c speaks SQL that both SQLite and PostgreSQL accept (ON CONFLICT ... DO NOTHING,
 * RETURNING, numbered parameters written $1, $2, ...) through these few calls, so every command
 * runs the same statements on both and the schema is the same table for table, column for
 * column. An engine only connects, runs a statement with typed parameters and hands back rows.
 *
 * Rows are read inside the callback only: a row's text lives until the callback returns.
 */
#ifndef BURETTE_HISTORY_DB_H
#define BURETTE_HISTORY_DB_H

#include <stddef.h>

enum hdb_type { HDB_NULL, HDB_TEXT, HDB_INT, HDB_REAL };

struct hdb_param {
    enum hdb_type type;
    const char *text;
    long long i;
    double d;
};

/* A text parameter; a NULL string binds SQL NULL. */
static inline struct hdb_param hdb_text_param(const char *s)
{
    return (struct hdb_param){.type = s ? HDB_TEXT : HDB_NULL, .text = s};
}

#define HDB_TEXTP(s) hdb_text_param(s)
#define HDB_INTP(v)  ((struct hdb_param){.type = HDB_INT, .i = (v)})

struct hdb_ops;

/* One result row, valid during the row callback only. */
struct hdb_row {
    const struct hdb_ops *ops;
    void *impl;
    int index;
};

typedef int (*hdb_row_fn)(const struct hdb_row *row, void *ctx);

struct hdb_ops {
    const char *name;
    /* Column type of a generated row id, the one place where the dialects differ. */
    const char *id_column;
    int (*open)(const char *url, int create, void **conn, char *err, size_t errlen);
    void (*close)(void *conn);
    /* Several statements, no parameters, no rows (schema, BEGIN, COMMIT). */
    int (*script)(void *conn, const char *sql, char *err, size_t errlen);
    /* One statement; @fn (may be NULL) is called per row and stops the query by returning
     * non-zero, which query() then returns. */
    int (*query)(void *conn, const char *sql, const struct hdb_param *params, int nparams,
                 hdb_row_fn fn, void *ctx, char *err, size_t errlen);
    const char *(*text)(const struct hdb_row *row, int col);  /* NULL for SQL NULL */
    long long (*integer)(const struct hdb_row *row, int col); /* 0 for NULL */
    double (*real)(const struct hdb_row *row, int col);       /* NAN for NULL */
};

extern const struct hdb_ops hdb_sqlite;
extern const struct hdb_ops hdb_postgres;

#endif /* BURETTE_HISTORY_DB_H */
