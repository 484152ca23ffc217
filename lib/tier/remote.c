/* lib/tier/remote.c — what the index knows about S3 beyond local copies:
 * REMOTE rows (objects S3 holds, seen by a HEAD or a listing), whether the
 * index of a type is complete for its bucket, and small persistent notes.
 *
 * Completeness is a note `complete/<type>` whose value is the bucket name:
 * the index of that type has a row for every object that bucket holds. It is
 * only ever set by someone who proved it (an empty bucket, or a finished
 * import of its listing) and is read on every exists() of an unknown id, so
 * a TRUE answer is cached in the tier handle (an operator who unmarks it
 * restarts the processes that use it, as for any configuration change).
 */
#include "seaftier-build.h"

#include "tier/tier-private.h"

#include <string.h>

/* The key of the completeness note of `type` (static storage). */
static const char *
complete_key(SeaftierObjType type)
{
    static const char *const keys[SEAFTIER_N_TYPES] = {
        "complete/commits", "complete/fs", "complete/blocks",
    };
    return keys[type];
}

static gboolean
meta_get_on(TierConn *conn, const char *key, char **value, GError **error)
{
    *value = NULL;
    sqlite3_stmt *stmt = seaftier_tier_stmt(conn, "SELECT value FROM meta WHERE key = ?1", error);
    if (!stmt)
        return FALSE;
    sqlite3_bind_text(stmt, 1, key, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        *value = g_strdup((const char *)sqlite3_column_text(stmt, 0));
    else if (rc != SQLITE_DONE)
        seaftier_tier_sql_error(error, conn, rc, "reading a note");
    sqlite3_reset(stmt);
    return rc == SQLITE_ROW || rc == SQLITE_DONE;
}

gboolean
seaftier_tier_meta_get(SeaftierTier *tier, const char *key, char **value, GError **error)
{
    *value = NULL;
    TierConn *conn = seaftier_tier_conn_get(tier, error);
    if (!conn)
        return FALSE;
    gboolean ok = meta_get_on(conn, key, value, error);
    seaftier_tier_conn_put(tier, conn);
    return ok;
}

gboolean
seaftier_tier_meta_set(SeaftierTier *tier, const char *key, const char *value, GError **error)
{
    TierConn *conn = seaftier_tier_conn_get(tier, error);
    if (!conn)
        return FALSE;
    GError *err = NULL;
    gboolean ok = seaftier_tier_begin(conn, TRUE, &err);
    sqlite3_stmt *stmt = !ok ? NULL : seaftier_tier_stmt(conn, value
        ? "INSERT INTO meta (key, value) VALUES (?1, ?2)"
          " ON CONFLICT (key) DO UPDATE SET value = excluded.value"
        : "DELETE FROM meta WHERE key = ?1", &err);
    if (stmt) {
        sqlite3_bind_text(stmt, 1, key, -1, SQLITE_TRANSIENT);
        if (value)
            sqlite3_bind_text(stmt, 2, value, -1, SQLITE_TRANSIENT);
        int rc = sqlite3_step(stmt);
        sqlite3_reset(stmt);
        if (rc != SQLITE_DONE)
            seaftier_tier_sql_error(&err, conn, rc, "writing a note");
        ok = rc == SQLITE_DONE && seaftier_tier_commit(conn, &err);
    } else {
        ok = FALSE;
    }
    if (!ok)
        seaftier_tier_rollback(conn);
    seaftier_tier_conn_put(tier, conn);
    if (!ok)
        g_propagate_prefixed_error(error, err, "tier %s, note %s: ", tier->dir, key);
    return ok;
}

gboolean
seaftier_tier_is_complete(SeaftierTier *tier, SeaftierObjType type, const char *bucket,
                          gboolean *complete, GError **error)
{
    *complete = FALSE;
    if (!seaftier_tier_check_type((int)type, error))
        return FALSE;
    g_mutex_lock(&tier->meta_lock);
    gboolean cached = tier->complete_bucket[type] &&
                      strcmp(tier->complete_bucket[type], bucket) == 0;
    g_mutex_unlock(&tier->meta_lock);
    if (cached) {
        *complete = TRUE;
        return TRUE;
    }
    char *value = NULL;
    if (!seaftier_tier_meta_get(tier, complete_key(type), &value, error))
        return FALSE;
    if (value && strcmp(value, bucket) == 0) {
        *complete = TRUE;
        g_mutex_lock(&tier->meta_lock);
        g_free(tier->complete_bucket[type]);
        tier->complete_bucket[type] = value;
        value = NULL;
        g_mutex_unlock(&tier->meta_lock);
    }
    g_free(value);
    return TRUE;
}

gboolean
seaftier_tier_set_complete(SeaftierTier *tier, SeaftierObjType type, const char *bucket,
                           gboolean complete, GError **error)
{
    if (!seaftier_tier_check_type((int)type, error))
        return FALSE;
    /* A durable (FULL) commit: it also makes every REMOTE row committed
     * before it durable (one WAL, written in order). */
    if (!seaftier_tier_meta_set(tier, complete_key(type), complete ? bucket : NULL, error))
        return FALSE;
    g_mutex_lock(&tier->meta_lock);
    g_clear_pointer(&tier->complete_bucket[type], g_free);
    if (complete)
        tier->complete_bucket[type] = g_strdup(bucket);
    g_mutex_unlock(&tier->meta_lock);
    return TRUE;
}

void
seaftier_tier_meta_clear(SeaftierTier *tier)
{
    for (int t = 0; t < SEAFTIER_N_TYPES; t++)
        g_clear_pointer(&tier->complete_bucket[t], g_free);
}

/* Inserts one row inside the open transaction when the key has no row:
 * REMOTE, or — when a delete of the key was carried out and forgotten since
 * `ticket` (checked only when `check_tombstones`: some delete was forgotten
 * since the ticket) — DELETED with `uploaded` set, a pending S3 delete. The
 * caller's PUT (migrate, a direct write, a copy) may have landed after that
 * DELETE, or its listing may predate it; either way S3 must end without the
 * object, and seaftierd's delete pass sends the DELETE again (a no-op when
 * it is gone already). The unique key decides "has no row" inside the
 * INSERT itself, so a listing costs one statement per object, not a lookup
 * and then an insert. */
static gboolean
remember_one(TierConn *conn, SeaftierObjType type, const SeaftierTierRemoteObject *o,
             const SeaftierTierFillTicket *ticket, gboolean check_tombstones, gint64 now,
             guint *added, GError **error)
{
    TierIdKey repo_key, obj_key;
    if (check_tombstones) {
        int valid = seaftier_tier_ticket_valid(conn, ticket, type, o->repo_id, o->obj_id, error);
        if (valid < 0)
            return FALSE;
        if (valid == 0 && seaftier_tier_ticket_expired(ticket))
            return TRUE;            /* proves nothing: record nothing */
        if (valid == 0)             /* size 0, as a delete of a key never seen */
            return seaftier_tier_insert_deleted_row(conn, type, o->repo_id, o->obj_id, 0, TRUE,
                                                    now, TRUE, NULL, error);
    }
    sqlite3_stmt *stmt = seaftier_tier_stmt(conn,
        "INSERT INTO objects (type, repo_id, obj_id, state, size, stored_size, codec, checksum,"
        " location, created, atime, generation, uploaded, synced)"
        " VALUES (?1, ?2, ?3, 3, ?4, 0, 0, 0, 0, ?5, ?5, ?6, 1, 1)"
        " ON CONFLICT (type, repo_id, obj_id) DO NOTHING", error);
    if (!stmt)
        return FALSE;
    sqlite3_bind_int(stmt, 1, type);
    seaftier_tier_bind_id(stmt, 2, o->repo_id, &repo_key);
    seaftier_tier_bind_id(stmt, 3, o->obj_id, &obj_key);
    sqlite3_bind_int64(stmt, 4, (gint64)o->size);
    sqlite3_bind_int64(stmt, 5, now);
    sqlite3_bind_int64(stmt, 6, seaftier_tier_new_generation());
    int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    if (rc != SQLITE_DONE) {
        seaftier_tier_sql_error(error, conn, rc, "recording an object S3 holds");
        return FALSE;
    }
    if (sqlite3_changes(conn->db) > 0)
        (*added)++;
    return TRUE;
}

/* Whether a delete was forgotten since `ticket` (the tombstone sequence
 * moved), read inside the batch's write transaction, so no forget can
 * happen between this answer and the inserts: when none was, no key of the
 * batch needs its own tombstone check. -1 on error. */
static int
forgotten_since(TierConn *conn, const SeaftierTierFillTicket *ticket, GError **error)
{
    sqlite3_stmt *stmt = seaftier_tier_stmt(conn,
        "SELECT seq FROM sqlite_sequence WHERE name = 'tombstones'", error);
    if (!stmt)
        return -1;
    int rc = sqlite3_step(stmt);
    gint64 seq = rc == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : 0;
    sqlite3_reset(stmt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        seaftier_tier_sql_error(error, conn, rc, "reading the forgotten deletes");
        return -1;
    }
    return seq != ticket->seq;
}

static gboolean
remember_batch(SeaftierTier *tier, SeaftierObjType type, const SeaftierTierRemoteObject *objects,
               guint n, const SeaftierTierFillTicket *ticket, gboolean durable, guint *added,
               GError **error)
{
    guint count = 0;
    if (added)
        *added = 0;
    if (!seaftier_tier_check_type((int)type, error))
        return FALSE;
    for (guint i = 0; i < n; i++)
        if (!seaftier_tier_check_ids(type, objects[i].repo_id, objects[i].obj_id, error))
            return FALSE;
    if (n == 0)
        return TRUE;
    TierConn *conn = seaftier_tier_conn_get(tier, error);
    if (!conn)
        return FALSE;
    GError *err = NULL;
    gint64 now = seaftier_tier_now();
    g_mutex_lock(&tier->direct_write_lock);
    gboolean ok = seaftier_tier_begin(conn, durable, &err);
    int check = ok ? forgotten_since(conn, ticket, &err) : -1;
    /* No forget since the ticket: one check of the first key then says
     * whether the ticket itself is still good (a refusal can only be its
     * age), and no other key needs one. */
    int usable = check == 0 ? seaftier_tier_ticket_valid(conn, ticket, type, objects[0].repo_id,
                                                         objects[0].obj_id, &err)
                            : 1;
    ok = check >= 0 && usable >= 0;
    for (guint i = 0; ok && usable && i < n; i++)
        ok = remember_one(conn, type, &objects[i], ticket, check == 1, now, &count, &err);
    if (ok)
        ok = seaftier_tier_commit(conn, &err);
    else
        seaftier_tier_rollback(conn);
    g_mutex_unlock(&tier->direct_write_lock);
    seaftier_tier_conn_put(tier, conn);
    if (!ok) {
        g_propagate_prefixed_error(error, err, "tier %s: recording %u %s objects S3 holds: ",
                                   tier->dir, n, seaftier_tier_type_dir(type));
        return FALSE;
    }
    if (added)
        *added = count;
    return TRUE;
}

gboolean
seaftier_tier_remember_remote_batch(SeaftierTier *tier, SeaftierObjType type,
                                    const SeaftierTierRemoteObject *objects, guint n,
                                    const SeaftierTierFillTicket *ticket, guint *added,
                                    GError **error)
{
    return remember_batch(tier, type, objects, n, ticket, FALSE, added, error);
}

gboolean
seaftier_tier_remember_remote(SeaftierTier *tier, SeaftierObjType type, const char *repo_id,
                              const char *obj_id, guint64 size,
                              const SeaftierTierFillTicket *ticket, GError **error)
{
    SeaftierTierRemoteObject o = { .repo_id = repo_id, .obj_id = obj_id, .size = size };
    return remember_batch(tier, type, &o, 1, ticket, TRUE, NULL, error);
}
