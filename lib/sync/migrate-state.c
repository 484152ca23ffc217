/* lib/sync/migrate-state.c — see migrate-state.h. */
#include "seaftier-build.h"

#include "sync/migrate-state.h"

#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>

#define BATCH_RECORDS 64
#define BATCH_US (200 * 1000)

struct SeaftierMigrateState {
    sqlite3 *db;
    char *path;
    GMutex lock;                /* guards everything below */
    sqlite3_stmt *insert;
    GHashTable *done;           /* "<type>/<key>" of every confirmed object */
    guint pending;              /* records in the open transaction */
    gint64 batch_started_us;
};

static gboolean
db_error(SeaftierMigrateState *st, const char *what, GError **error)
{
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_IO, "migration state %s: %s: %s", st->path,
                what, sqlite3_errmsg(st->db));
    return FALSE;
}

static char *
done_key(SeaftierObjType type, const char *key)
{
    return g_strdup_printf("%d/%s", (int)type, key);
}

static gboolean
load(SeaftierMigrateState *st, const char *job, GError **error)
{
    const char *schema =
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
        "CREATE TABLE IF NOT EXISTS job(description TEXT NOT NULL);"
        "CREATE TABLE IF NOT EXISTS done(type INTEGER NOT NULL, key TEXT NOT NULL,"
        " size INTEGER NOT NULL, confirmed INTEGER NOT NULL, PRIMARY KEY(type, key)) WITHOUT ROWID;";
    if (sqlite3_exec(st->db, schema, NULL, NULL, NULL) != SQLITE_OK)
        return db_error(st, "cannot create the tables", error);
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db, "SELECT description FROM job", -1, &s, NULL) != SQLITE_OK)
        return db_error(st, "cannot read the job", error);
    char *recorded = sqlite3_step(s) == SQLITE_ROW
                         ? g_strdup((const char *)sqlite3_column_text(s, 0)) : NULL;
    sqlite3_finalize(s);
    if (recorded && strcmp(recorded, job) != 0) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_EXIST,
                    "migration state %s belongs to another job (\"%s\", not \"%s\"): use another "
                    "--state file, or remove this one to start over", st->path, recorded, job);
        g_free(recorded);
        return FALSE;
    }
    if (!recorded) {
        if (sqlite3_prepare_v2(st->db, "INSERT INTO job VALUES (?)", -1, &s, NULL) != SQLITE_OK)
            return db_error(st, "cannot record the job", error);
        sqlite3_bind_text(s, 1, job, -1, SQLITE_STATIC);
        int rc = sqlite3_step(s);
        sqlite3_finalize(s);
        if (rc != SQLITE_DONE)
            return db_error(st, "cannot record the job", error);
    }
    g_free(recorded);
    if (sqlite3_prepare_v2(st->db, "SELECT type, key FROM done", -1, &s, NULL) != SQLITE_OK)
        return db_error(st, "cannot read the confirmed objects", error);
    while (sqlite3_step(s) == SQLITE_ROW)
        g_hash_table_add(st->done, done_key(sqlite3_column_int(s, 0),
                                            (const char *)sqlite3_column_text(s, 1)));
    sqlite3_finalize(s);
    if (sqlite3_prepare_v2(st->db, "INSERT OR REPLACE INTO done VALUES (?, ?, ?, ?)", -1,
                           &st->insert, NULL) != SQLITE_OK)
        return db_error(st, "cannot prepare", error);
    return TRUE;
}

SeaftierMigrateState *
seaftier_migrate_state_open(const char *path, const char *job, GError **error)
{
    SeaftierMigrateState *st = g_new0(SeaftierMigrateState, 1);
    st->path = g_strdup(path);
    st->done = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_mutex_init(&st->lock);
    mode_t old = umask(077);
    int rc = sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                             SQLITE_OPEN_FULLMUTEX, NULL);
    umask(old);
    if (rc != SQLITE_OK) {
        if (st->db)
            db_error(st, "cannot open", error);
        else
            g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_IO, "migration state %s: cannot open",
                        path);
    } else {
        sqlite3_busy_timeout(st->db, 5000);
        if (load(st, job, error))
            return st;
    }
    sqlite3_finalize(st->insert);
    sqlite3_close(st->db);
    g_hash_table_destroy(st->done);
    g_mutex_clear(&st->lock);
    g_free(st->path);
    g_free(st);
    return NULL;
}

gboolean
seaftier_migrate_state_is_done(SeaftierMigrateState *st, SeaftierObjType type, const char *key)
{
    char *k = done_key(type, key);
    g_mutex_lock(&st->lock);
    gboolean done = g_hash_table_contains(st->done, k);
    g_mutex_unlock(&st->lock);
    g_free(k);
    return done;
}

static gboolean
commit_locked(SeaftierMigrateState *st, GError **error)
{
    if (st->pending == 0)
        return TRUE;
    st->pending = 0;
    if (sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        return db_error(st, "cannot commit", error);
    return TRUE;
}

gboolean
seaftier_migrate_state_mark_done(SeaftierMigrateState *st, SeaftierObjType type, const char *key,
                                 guint64 size, GError **error)
{
    gboolean ok = TRUE;
    g_mutex_lock(&st->lock);
    if (st->pending == 0) {
        if (sqlite3_exec(st->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
            ok = db_error(st, "cannot begin", error);
            goto out;
        }
        st->batch_started_us = g_get_monotonic_time();
    }
    sqlite3_reset(st->insert);
    sqlite3_bind_int(st->insert, 1, (int)type);
    sqlite3_bind_text(st->insert, 2, key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st->insert, 3, (sqlite3_int64)size);
    sqlite3_bind_int64(st->insert, 4, g_get_real_time() / G_USEC_PER_SEC);
    st->pending++;
    if (sqlite3_step(st->insert) != SQLITE_DONE) {
        ok = db_error(st, "cannot record a confirmed object", error);
        goto out;
    }
    g_hash_table_add(st->done, done_key(type, key));
    if (st->pending >= BATCH_RECORDS || g_get_monotonic_time() - st->batch_started_us >= BATCH_US)
        ok = commit_locked(st, error);
out:
    g_mutex_unlock(&st->lock);
    return ok;
}

guint64
seaftier_migrate_state_count(SeaftierMigrateState *st)
{
    g_mutex_lock(&st->lock);
    guint64 n = g_hash_table_size(st->done);
    g_mutex_unlock(&st->lock);
    return n;
}

gboolean
seaftier_migrate_state_close(SeaftierMigrateState *st, GError **error)
{
    if (!st)
        return TRUE;
    g_mutex_lock(&st->lock);
    gboolean ok = commit_locked(st, error);
    g_mutex_unlock(&st->lock);
    sqlite3_finalize(st->insert);
    sqlite3_close(st->db);
    g_hash_table_destroy(st->done);
    g_mutex_clear(&st->lock);
    g_free(st->path);
    g_free(st);
    return ok;
}
