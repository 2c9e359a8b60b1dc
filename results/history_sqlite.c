/* SPDX-License-Identifier: MIT */
/*
 * history_sqlite - the SQLite engine of the results history (the default: one file that a CI
 * cache can keep); see history_db.h.
 *
 * Statements are prepared once per connection and kept, keyed by the address of their SQL text
 * (history.c passes string constants): adding a thousand reports runs the same few statements
 * tens of thousands of times. SQLite numbers parameters ?1, ?2, ...; the shared SQL's $1, $2
 * are rewritten to that once, when a statement is first prepared.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "errbuf.h"
#include "history_db.h"

#define STMT_CACHE 16

struct sqlite_conn {
    sqlite3 *db;
    struct {
        const char *sql;
        sqlite3_stmt *stmt;
    } cache[STMT_CACHE];
};

static int sqlite_open(const char *url, int create, void **connp, char *err, size_t errlen)
{
    const char *path = strncmp(url, "sqlite:", 7) ? url : url + 7;
    int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
    struct sqlite_conn *c = calloc(1, sizeof(*c));
    int rc;

    if (!c)
        return errbuf_set(err, errlen, -ENOMEM, "out of memory");
    rc = sqlite3_open_v2(path, &c->db, flags, NULL);
    if (rc != SQLITE_OK) {
        if (rc == SQLITE_CANTOPEN && !create)
            errbuf_set(err, errlen, -ENOENT,
                       "%s: no history database there (add reports first with 'burette history "
                       "add --db %s REPORT...')",
                       path, path);
        else
            errbuf_set(err, errlen, -EIO, "%s: cannot open the SQLite database: %s", path,
                       c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
        sqlite3_close(c->db);
        free(c);
        return -EIO;
    }
    /* Another writer (a second CI job on the same cache) waits instead of failing at once. */
    sqlite3_busy_timeout(c->db, 10000);
    *connp = c;
    return 0;
}

static void sqlite_close(void *conn)
{
    struct sqlite_conn *c = conn;

    if (!c)
        return;
    for (size_t i = 0; i < STMT_CACHE; i++)
        sqlite3_finalize(c->cache[i].stmt);
    sqlite3_close(c->db);
    free(c);
}

static int sqlite_script(void *conn, const char *sql, char *err, size_t errlen)
{
    struct sqlite_conn *c = conn;
    char *msg = NULL;

    if (sqlite3_exec(c->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        errbuf_set(err, errlen, -EIO, "SQLite: %s", msg ? msg : sqlite3_errmsg(c->db));
        sqlite3_free(msg);
        return -EIO;
    }
    return 0;
}

static sqlite3_stmt *prepared(struct sqlite_conn *c, const char *sql, char *err, size_t errlen)
{
    size_t slot = STMT_CACHE;
    sqlite3_stmt *stmt = NULL;
    char *text;

    for (size_t i = 0; i < STMT_CACHE; i++) {
        if (c->cache[i].sql == sql)
            return c->cache[i].stmt;
        if (!c->cache[i].sql && slot == STMT_CACHE)
            slot = i;
    }
    text = strdup(sql);
    if (!text) {
        errbuf_set(err, errlen, -ENOMEM, "out of memory");
        return NULL;
    }
    for (char *p = text; *p; p++)
        if (*p == '$')
            *p = '?';
    if (sqlite3_prepare_v2(c->db, text, -1, &stmt, NULL) != SQLITE_OK) {
        errbuf_set(err, errlen, -EIO, "SQLite: %s", sqlite3_errmsg(c->db));
        stmt = NULL;
    } else if (slot < STMT_CACHE) {
        c->cache[slot].sql = sql;
        c->cache[slot].stmt = stmt;
    }
    free(text);
    return stmt;
}

static int sqlite_query(void *conn, const char *sql, const struct hdb_param *params, int nparams,
                        hdb_row_fn fn, void *ctx, char *err, size_t errlen)
{
    struct sqlite_conn *c = conn;
    sqlite3_stmt *stmt = prepared(c, sql, err, errlen);
    struct hdb_row row = {&hdb_sqlite, NULL, 0};
    bool cached = false;
    int rc = 0, step;

    if (!stmt)
        return -EIO;
    for (size_t i = 0; i < STMT_CACHE; i++)
        cached |= c->cache[i].stmt == stmt;
    for (int i = 0; i < nparams && !rc; i++) {
        const struct hdb_param *p = &params[i];

        switch (p->type) {
        case HDB_NULL:
            rc = sqlite3_bind_null(stmt, i + 1);
            break;
        case HDB_TEXT:
            rc = sqlite3_bind_text(stmt, i + 1, p->text, -1, SQLITE_TRANSIENT);
            break;
        case HDB_INT:
            rc = sqlite3_bind_int64(stmt, i + 1, p->i);
            break;
        case HDB_REAL:
            rc = isfinite(p->d) ? sqlite3_bind_double(stmt, i + 1, p->d)
                                : sqlite3_bind_null(stmt, i + 1);
            break;
        }
    }
    if (rc != SQLITE_OK) {
        rc = errbuf_set(err, errlen, -EIO, "SQLite: %s", sqlite3_errmsg(c->db));
        goto out;
    }
    row.impl = stmt;
    while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (fn && (rc = fn(&row, ctx)))
            goto out;
        row.index++;
    }
    if (step != SQLITE_DONE)
        rc = errbuf_set(err, errlen, -EIO, "SQLite: %s", sqlite3_errmsg(c->db));
out:
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    if (!cached)
        sqlite3_finalize(stmt);
    return rc;
}

static const char *sqlite_text(const struct hdb_row *row, int col)
{
    return (const char *)sqlite3_column_text(row->impl, col);
}

static long long sqlite_integer(const struct hdb_row *row, int col)
{
    return sqlite3_column_int64(row->impl, col);
}

static double sqlite_real(const struct hdb_row *row, int col)
{
    if (sqlite3_column_type(row->impl, col) == SQLITE_NULL)
        return NAN;
    return sqlite3_column_double(row->impl, col);
}

const struct hdb_ops hdb_sqlite = {
    .name = "SQLite",
    .id_column = "INTEGER PRIMARY KEY",
    .open = sqlite_open,
    .close = sqlite_close,
    .script = sqlite_script,
    .query = sqlite_query,
    .text = sqlite_text,
    .integer = sqlite_integer,
    .real = sqlite_real,
};
