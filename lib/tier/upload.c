/* lib/tier/upload.c — what the uploader (seaftierd, seaftier-admin flush)
 * needs: batches of dirty and deleted rows, and recording their outcome.
 *
 * Outcomes are matched on the row's generation, so an upload or delete that
 * raced with a re-write or delete of the same id never overwrites the newer
 * state. None of these commits needs an fsync: losing one to a power failure
 * only repeats an upload or a remote delete.
 */
#include "seaftier-build.h"

#include "tier/tier-private.h"

#include <string.h>

static void
entry_free(gpointer p)
{
    g_free(p);
}

static GPtrArray *
collect(SeaftierTier *tier, const char *sql, int type, const char *repo_id, gint64 created_before,
        int limit, GError **error)
{
    TierIdKey repo_key;
    TierConn *conn = seaftier_tier_conn_get(tier, error);
    if (!conn)
        return NULL;
    sqlite3_stmt *stmt = seaftier_tier_stmt(conn, sql, error);
    if (!stmt) {
        seaftier_tier_conn_put(tier, conn);
        return NULL;
    }
    sqlite3_bind_int64(stmt, 1, created_before);
    sqlite3_bind_int64(stmt, 2, seaftier_tier_now());
    if (type >= 0)
        sqlite3_bind_int(stmt, 3, type);
    if (repo_id)
        seaftier_tier_bind_id(stmt, 4, repo_id, &repo_key);
    sqlite3_bind_int(stmt, 5, limit > 0 ? limit : 0);
    GPtrArray *out = g_ptr_array_new_with_free_func(entry_free);
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        SeaftierTierEntry *e = g_new(SeaftierTierEntry, 1);
        seaftier_tier_entry_from_stmt(stmt, 0, e);
        g_ptr_array_add(out, e);
    }
    if (rc != SQLITE_DONE) {
        seaftier_tier_sql_error(error, conn, rc, "listing a batch");
        g_ptr_array_free(out, TRUE);
        out = NULL;
    }
    sqlite3_reset(stmt);
    seaftier_tier_conn_put(tier, conn);
    return out;
}

/* The batches come from the partial indexes objects_dirty (creation order)
 * and objects_deleted (retry order), which hold only the rows in question.
 * A type filter is written "+type" so that it is not an index term: with
 * "type = ?" SQLite's planner (no statistics) prefers objects_key (type,
 * repo_id, obj_id), i.e. reads every row of the type - a third of the index
 * - and sorts them, once per batch; seaftierd asks for one after every
 * upload, so that scan was half of its CPU time beside seaf-server. With a
 * repo the key index is kept: it reads that repo's rows only. */
const char *
seaftier_tier_batch_sql(SeaftierState state, int type, gboolean with_repo)
{
    static const char *const dirty[4] = {
        "SELECT " TIER_ENTRY_COLS " FROM objects WHERE state = 1 AND created <= ?1"
        " AND retry_at <= ?2 ORDER BY created, id LIMIT ?5",
        "SELECT " TIER_ENTRY_COLS " FROM objects WHERE state = 1 AND created <= ?1"
        " AND retry_at <= ?2 AND +type = ?3 ORDER BY created, id LIMIT ?5",
        "SELECT " TIER_ENTRY_COLS " FROM objects WHERE state = 1 AND created <= ?1"
        " AND retry_at <= ?2 AND repo_id = ?4 ORDER BY created, id LIMIT ?5",
        "SELECT " TIER_ENTRY_COLS " FROM objects WHERE state = 1 AND created <= ?1"
        " AND retry_at <= ?2 AND type = ?3 AND repo_id = ?4 ORDER BY created, id LIMIT ?5",
    };
    static const char *const deleted[2] = {
        "SELECT " TIER_ENTRY_COLS " FROM objects WHERE state = 2 AND retry_at <= ?2"
        " AND ?1 = ?1 ORDER BY retry_at, id LIMIT ?5",
        "SELECT " TIER_ENTRY_COLS " FROM objects WHERE state = 2 AND retry_at <= ?2"
        " AND +type = ?3 AND ?1 = ?1 ORDER BY retry_at, id LIMIT ?5",
    };
    if (state == SEAFTIER_STATE_DELETED)
        return deleted[type >= 0 ? 1 : 0];
    g_return_val_if_fail(state == SEAFTIER_STATE_DIRTY, NULL);
    return dirty[(type >= 0 ? 1 : 0) | (with_repo ? 2 : 0)];
}

GPtrArray *
seaftier_tier_dirty_batch(SeaftierTier *tier, int type, const char *repo_id, int limit,
                          gint64 created_before, GError **error)
{
    if ((type >= 0 && !seaftier_tier_check_type(type, error)) ||
        (repo_id && !seaftier_tier_check_repo(repo_id, error)))
        return NULL;
    return collect(tier, seaftier_tier_batch_sql(SEAFTIER_STATE_DIRTY, type, repo_id != NULL),
                   type, repo_id, created_before, limit, error);
}

GPtrArray *
seaftier_tier_deleted_batch(SeaftierTier *tier, int type, int limit, GError **error)
{
    if (type >= 0 && !seaftier_tier_check_type(type, error))
        return NULL;
    return collect(tier, seaftier_tier_batch_sql(SEAFTIER_STATE_DELETED, type, FALSE), type, NULL,
                   0, limit, error);
}

/* Runs `sql` (parameters ?1 type, ?2 repo, ?3 obj, ?4 generation, ?5 and ?6
 * free) in its own transaction; returns the number of rows changed or -1. */
static int
update_entry(SeaftierTier *tier, const SeaftierTierEntry *entry, const char *sql,
             const char *text5, gint64 int6, const char *what, GError **error)
{
    TierIdKey repo_key, obj_key;
    if (!seaftier_tier_check_ids(entry->type, entry->repo_id, entry->obj_id, error))
        return -1;
    TierConn *conn = seaftier_tier_conn_get(tier, error);
    if (!conn)
        return -1;
    GError *err = NULL;
    int changed = -1;
    sqlite3_stmt *stmt = NULL;
    if (seaftier_tier_begin(conn, FALSE, &err) && (stmt = seaftier_tier_stmt(conn, sql, &err))) {
        sqlite3_bind_int(stmt, 1, entry->type);
        seaftier_tier_bind_id(stmt, 2, entry->repo_id, &repo_key);
        seaftier_tier_bind_id(stmt, 3, entry->obj_id, &obj_key);
        sqlite3_bind_int64(stmt, 4, entry->generation);
        if (text5)
            sqlite3_bind_text(stmt, 5, text5, -1, SQLITE_STATIC);
        sqlite3_bind_int64(stmt, 6, int6);
        int rc = sqlite3_step(stmt);
        sqlite3_reset(stmt);
        if (rc == SQLITE_DONE) {
            changed = sqlite3_changes(conn->db);
            if (!seaftier_tier_commit(conn, &err))
                changed = -1;
        } else {
            seaftier_tier_sql_error(&err, conn, rc, what);
        }
    }
    if (changed < 0) {
        seaftier_tier_rollback(conn);
        g_propagate_prefixed_error(error, err, "%s %s/%s/%s: ", what,
                                   seaftier_tier_type_dir(entry->type), entry->repo_id,
                                   entry->obj_id);
    }
    seaftier_tier_conn_put(tier, conn);
    return changed;
}

static gboolean
step_done(TierConn *conn, sqlite3_stmt *stmt, GError **error)
{
    int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    if (rc != SQLITE_DONE) {
        seaftier_tier_sql_error(error, conn, rc, "update");
        return FALSE;
    }
    return TRUE;
}

/* Marks one uploaded entry inside the open transaction. */
static gboolean
mark_one(TierConn *conn, const SeaftierTierEntry *entry, GError **error)
{
    TierRow row;
    sqlite3_stmt *stmt = NULL;
    GError *err = NULL;
    gboolean found = seaftier_tier_find_row(conn, entry->type, entry->repo_id, entry->obj_id,
                                            &row, &err);
    if (err) {
        g_propagate_error(error, err);
        return FALSE;
    }
    if (!found) {
        /* Deleted before it was ever uploaded (its row went away): S3 now
         * holds a copy nobody wants, so record the remote delete. Not synced:
         * marks commit without an fsync. */
        return seaftier_tier_insert_deleted_row(conn, entry->type, entry->repo_id, entry->obj_id,
                                                entry->size, FALSE, seaftier_tier_now(), FALSE,
                                                NULL, error);
    }
    if (row.state == SEAFTIER_STATE_DIRTY && row.generation == entry->generation) {
        stmt = seaftier_tier_stmt(conn,
            "UPDATE objects SET state = 0, uploaded = 1, attempts = 0, retry_at = 0,"
            " last_error = '' WHERE id = ?1", error);
        if (!stmt)
            return FALSE;
        sqlite3_bind_int64(stmt, 1, row.rowid);
    } else if (!row.uploaded) {
        /* Re-written or deleted meanwhile: the row stays as it is, but S3
         * holds a copy now, which a pending or later delete must remove. */
        stmt = seaftier_tier_stmt(conn, "UPDATE objects SET uploaded = 1 WHERE id = ?1", error);
        if (!stmt)
            return FALSE;
        sqlite3_bind_int64(stmt, 1, row.rowid);
    }
    return !stmt || step_done(conn, stmt, error);
}

/* One caller of seaftier_tier_mark_clean waiting for its entry's outcome. */
typedef struct {
    const SeaftierTierEntry *entry;
    GError *error;
    gboolean done;
} MarkRequest;

/* Marks every request of `batch` in one transaction (no fsync: see the head
 * of this file). A failure of the transaction is every request's failure. */
static void
mark_batch(SeaftierTier *tier, GPtrArray *batch)
{
    GError *err = NULL;
    TierConn *conn = seaftier_tier_conn_get(tier, &err);
    if (conn) {
        g_mutex_lock(&tier->direct_write_lock);
        gboolean ok = seaftier_tier_begin(conn, FALSE, &err);
        for (guint i = 0; ok && i < batch->len; i++)
            ok = mark_one(conn, ((MarkRequest *)batch->pdata[i])->entry, &err);
        if (ok)
            seaftier_tier_commit(conn, &err);
        else
            seaftier_tier_rollback(conn);
        g_mutex_unlock(&tier->direct_write_lock);
        seaftier_tier_conn_put(tier, conn);
    }
    for (guint i = 0; err && i < batch->len; i++) {
        MarkRequest *r = batch->pdata[i];
        g_set_error(&r->error, err->domain, err->code, "marking %s/%s/%s clean: %s",
                    seaftier_tier_type_dir(r->entry->type), r->entry->repo_id, r->entry->obj_id,
                    err->message);
    }
    g_clear_error(&err);
}

/* Concurrent uploads finish at about the same time: the first caller to
 * find no batch running marks every entry queued by then in one
 * transaction (and a single WAL append); the others wait for it. At 16
 * uploads in flight that is several rows per write transaction instead of
 * one, and fewer commits for other processes' readers to notice. */
static gboolean
mark_clean_once(SeaftierTier *tier, const SeaftierTierEntry *entry, GError **error)
{
    MarkRequest req = { .entry = entry };
    g_mutex_lock(&tier->mark_lock);
    g_ptr_array_add(tier->mark_queue, &req);
    while (!req.done) {
        if (tier->mark_running) {
            g_cond_wait(&tier->mark_cond, &tier->mark_lock);
            continue;
        }
        tier->mark_running = TRUE;
        GPtrArray *batch = tier->mark_queue;
        tier->mark_queue = g_ptr_array_new();
        g_mutex_unlock(&tier->mark_lock);
        mark_batch(tier, batch);
        g_mutex_lock(&tier->mark_lock);
        for (guint i = 0; i < batch->len; i++)
            ((MarkRequest *)batch->pdata[i])->done = TRUE;
        g_ptr_array_free(batch, TRUE);
        tier->mark_running = FALSE;
        g_cond_broadcast(&tier->mark_cond);
    }
    g_mutex_unlock(&tier->mark_lock);
    if (req.error) {
        g_propagate_error(error, req.error);
        return FALSE;
    }
    return TRUE;
}

gboolean
seaftier_tier_mark_clean(SeaftierTier *tier, const SeaftierTierEntry *entry, GError **error)
{
    if (!seaftier_tier_check_ids(entry->type, entry->repo_id, entry->obj_id, error))
        return FALSE;
    GError *err = NULL;
    if (mark_clean_once(tier, entry, &err))
        return TRUE;
    if (!g_error_matches(err, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_FULL)) {
        g_propagate_error(error, err);
        return FALSE;
    }
    /* The index cannot grow (ENOSPC, seen with min_free_space = 0): if this
     * stayed so, the uploader would upload the same objects forever and
     * nothing would ever become evictable. Clean objects can go at once. */
    guint64 objects = 0;
    GError *everr = NULL;
    if (!seaftier_tier_evict_for_room(tier, TIER_FULL_ROOM, &objects, NULL, &everr)) {
        g_propagate_prefixed_error(error, err, "the file system of tier %s is full and evicting "
                                   "clean objects failed too (%s): ", tier->dir, everr->message);
        g_error_free(everr);
        return FALSE;
    }
    if (objects == 0) {
        g_propagate_prefixed_error(error, err, "the file system of tier %s is full and no clean "
                                   "object is left to evict (free space on it, or set "
                                   "min_free_space): ", tier->dir);
        return FALSE;
    }
    g_clear_error(&err);
    if (mark_clean_once(tier, entry, &err))
        return TRUE;
    g_propagate_prefixed_error(error, err, "the file system of tier %s is full even after "
                               "evicting %" G_GUINT64_FORMAT " clean objects: ", tier->dir,
                               objects);
    return FALSE;
}

gboolean
seaftier_tier_record_failure(SeaftierTier *tier, const SeaftierTierEntry *entry,
                             const char *message, gint64 retry_at, GError **error)
{
    char *msg = g_utf8_make_valid(message ? message : "", -1);
    if (strlen(msg) > 255)
        msg[g_utf8_find_prev_char(msg, msg + 255) - msg] = '\0';
    int n = update_entry(tier, entry,
        "UPDATE objects SET attempts = attempts + 1, last_error = ?5, retry_at = ?6"
        " WHERE type = ?1 AND repo_id = ?2 AND obj_id = ?3 AND generation = ?4",
        msg, retry_at, "recording a failure of", error);
    g_free(msg);
    return n >= 0;
}

gboolean
seaftier_tier_forget_deleted(SeaftierTier *tier, const SeaftierTierEntry *entry, GError **error)
{
    TierIdKey repo_key, obj_key;
    if (!seaftier_tier_check_ids(entry->type, entry->repo_id, entry->obj_id, error))
        return FALSE;
    TierConn *conn = seaftier_tier_conn_get(tier, error);
    if (!conn)
        return FALSE;
    GError *err = NULL;
    gboolean ok = seaftier_tier_begin(conn, FALSE, &err);
    sqlite3_stmt *stmt = ok ? seaftier_tier_stmt(conn,
        "DELETE FROM objects WHERE type = ?1 AND repo_id = ?2 AND obj_id = ?3"
        " AND generation = ?4 AND state = 2", &err) : NULL;
    ok = stmt != NULL;
    if (ok) {
        sqlite3_bind_int(stmt, 1, entry->type);
        seaftier_tier_bind_id(stmt, 2, entry->repo_id, &repo_key);
        seaftier_tier_bind_id(stmt, 3, entry->obj_id, &obj_key);
        sqlite3_bind_int64(stmt, 4, entry->generation);
        ok = step_done(conn, stmt, &err);
    }
    /* A fill that started before this (its GET may still be answered with
     * the old bytes) must find out that the object is gone: the tombstone
     * goes in the same transaction as the row. */
    if (ok && sqlite3_changes(conn->db) > 0)
        ok = seaftier_tier_tombstone_add(conn, entry->type, entry->repo_id, entry->obj_id, &err);
    if (ok)
        ok = seaftier_tier_commit(conn, &err);
    else
        seaftier_tier_rollback(conn);
    seaftier_tier_conn_put(tier, conn);
    if (!ok)
        g_propagate_prefixed_error(error, err, "forgetting the delete of %s/%s/%s: ",
                                   seaftier_tier_type_dir(entry->type), entry->repo_id,
                                   entry->obj_id);
    return ok;
}
