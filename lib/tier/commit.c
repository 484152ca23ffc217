/* lib/tier/commit.c — group commit of stores.
 *
 * Leader/follower: a storing thread queues its entry; if no commit is in
 * progress it becomes the leader, takes everything queued, and applies it in
 * one transaction (synchronous=FULL if any entry is durable, so one WAL fsync
 * covers all of them); threads arriving meanwhile wait and form the next
 * batch. One thread alone pays exactly one fsync; N threads share them.
 * Object files were written (and fsynced) by their own threads in parallel;
 * the leader fsyncs each distinct directory once before the index commits,
 * so a committed row never names a file whose directory entry is not durable.
 *
 * Forming full batches: a leader that commits as soon as it leads splits N
 * synchronous writers into two halves taking turns (one half commits while
 * the other, just released, comes back and queues), so every fsync carries
 * N/2 stores. A new leader therefore first waits for the stores already on
 * their way (`preparing`) and for the writers its predecessor has just
 * released (`returning`: each store's arrival takes one off), bounded by half
 * the last commit's duration: a writer that does not come back costs the
 * batch at most that, one that does saves a whole commit. A lone writer is
 * its own returning writer, so it never waits.
 *
 * Limits are checked inside the transaction, against the usage table, so two
 * processes cannot both squeeze in past max_size.
 */
#include "seaftier-build.h"

#include "tier/tier-private.h"

#include <string.h>

/* How long a new leader waits for stores on their way: half the last
 * commit's duration, within these bounds; and the batch size at which it
 * stops waiting. */
#define GATHER_MIN_US 200
#define GATHER_MAX_US 2000
#define GATHER_MAX 256

void
seaftier_tier_commit_prepare(SeaftierTier *tier)
{
    TierCommitQueue *q = &tier->commit;
    /* preparing first: a leader never sees this store in neither count */
    g_atomic_int_inc(&q->preparing);
    gint r = g_atomic_int_get(&q->returning);
    while (r > 0 && !__atomic_compare_exchange_n(&q->returning, &r, r - 1, FALSE,
                                                 __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        ;
}

void
seaftier_tier_commit_resume(SeaftierTier *tier)
{
    g_atomic_int_inc(&tier->commit.preparing);
}

void
seaftier_tier_commit_abandon(SeaftierTier *tier)
{
    g_atomic_int_add(&tier->commit.preparing, -1);
}

/* A batch: the entries one transaction commits, and the condition its
 * waiting writers sleep on, so that a finished batch wakes its own writers
 * only (not those already queued for the next one) and hands the lead to
 * one writer of the next. Freed by the last of its writers to leave. */
struct TierCommitBatch {
    GPtrArray *entries;     /* TierCommitEntry* */
    GCond done;
    guint refs;             /* writers queued in it and not yet returned; under lock */
};

static TierCommitBatch *
batch_new(void)
{
    TierCommitBatch *b = g_new0(TierCommitBatch, 1);
    b->entries = g_ptr_array_new();
    g_cond_init(&b->done);
    return b;
}

static void
batch_free(TierCommitBatch *b)
{
    g_ptr_array_free(b->entries, TRUE);
    g_cond_clear(&b->done);
    g_free(b);
}

void
seaftier_tier_commit_init(SeaftierTier *tier)
{
    g_mutex_init(&tier->commit.lock);
    g_cond_init(&tier->commit.arrived);
    tier->commit.pending = batch_new();
}

guint
seaftier_tier_commit_pending(SeaftierTier *tier)
{
    g_mutex_lock(&tier->commit.lock);
    guint n = tier->commit.pending->entries->len;
    g_mutex_unlock(&tier->commit.lock);
    return n;
}

void
seaftier_tier_commit_clear(SeaftierTier *tier)
{
    if (!tier->commit.pending)
        return;
    batch_free(tier->commit.pending);
    tier->commit.pending = NULL;
    g_mutex_clear(&tier->commit.lock);
    g_cond_clear(&tier->commit.arrived);
}

typedef struct {
    guint64 dirty;      /* stored bytes of DIRTY objects */
    guint64 clean;
} Usage;

static gboolean
read_usage(TierConn *conn, Usage *u, GError **error)
{
    sqlite3_stmt *stmt = seaftier_tier_stmt(conn,
        "SELECT state, SUM(stored_bytes) FROM usage WHERE state IN (0, 1) GROUP BY state", error);
    if (!stmt)
        return FALSE;
    memset(u, 0, sizeof(*u));
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        guint64 v = (guint64)MAX(sqlite3_column_int64(stmt, 1), 0);
        if (sqlite3_column_int(stmt, 0) == SEAFTIER_STATE_DIRTY)
            u->dirty = v;
        else
            u->clean = v;
    }
    sqlite3_reset(stmt);
    if (rc != SQLITE_DONE) {
        seaftier_tier_sql_error(error, conn, rc, "reading usage");
        return FALSE;
    }
    return TRUE;
}

static gboolean
fits(SeaftierTier *tier, TierCommitEntry *e, const Usage *u)
{
    if (tier->max_size == 0 || u->dirty + e->stored_size <= tier->max_size)
        return TRUE;
    char *dirty = g_format_size_full(u->dirty, G_FORMAT_SIZE_IEC_UNITS);
    char *max = g_format_size_full(tier->max_size, G_FORMAT_SIZE_IEC_UNITS);
    e->over_limit = TRUE;
    g_set_error(&e->error, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_FULL,
                "tier %s is full: dirty data not yet uploaded (%s) plus %s %s/%s "
                "(%" G_GUINT64_FORMAT " bytes) would exceed max_size %s",
                tier->dir, dirty, seaftier_tier_type_dir(e->type), e->repo_id, e->obj_id,
                e->stored_size, max);
    g_free(dirty);
    g_free(max);
    return FALSE;
}

static gboolean
step_done(TierConn *conn, sqlite3_stmt *stmt, const char *what, GError **error)
{
    int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    if (rc != SQLITE_DONE) {
        seaftier_tier_sql_error(error, conn, rc, what);
        return FALSE;
    }
    return TRUE;
}

/* Binds the columns that describe a stored copy, numbered alike in every
 * statement that writes one: ?5 size … ?9 location, ?11 generation, ?12 synced.
 * `synced` promises that the copy survives a power failure: an inline copy
 * is durable with a FULL commit, a file only when it was fdatasynced too
 * (a non-durable store that shares a FULL batch with a durable one is not). */
static void
bind_copy_columns(sqlite3_stmt *stmt, const TierCommitEntry *e, gboolean full)
{
    gboolean synced = full && (e->location == LOC_INLINE || e->durable);
    sqlite3_bind_int64(stmt, 5, (gint64)e->size);
    sqlite3_bind_int64(stmt, 6, (gint64)e->stored_size);
    sqlite3_bind_int(stmt, 7, e->codec);
    sqlite3_bind_int64(stmt, 8, e->checksum);
    sqlite3_bind_int(stmt, 9, e->location);
    sqlite3_bind_int64(stmt, 11, e->generation);
    sqlite3_bind_int(stmt, 12, synced ? 1 : 0);
}

static gboolean
put_blob(TierConn *conn, TierCommitEntry *e, GError **error)
{
    sqlite3_stmt *stmt = seaftier_tier_stmt(conn,
        "INSERT OR REPLACE INTO blobs (id, data) VALUES (?1, ?2)", error);
    if (!stmt)
        return FALSE;
    sqlite3_bind_int64(stmt, 1, e->rowid);
    /* A NULL pointer would bind SQL NULL; an empty object is an empty blob. */
    static const char empty[1];
    sqlite3_bind_blob64(stmt, 2, e->stored_size ? e->blob : empty, e->stored_size, SQLITE_STATIC);
    return step_done(conn, stmt, "storing inline data", error);
}

/* One statement per conflict behaviour: the statement cache keys on the
 * SQL's address. ?7 synced. */
#define DELETED_ROW_INSERT \
    "INSERT INTO objects (type, repo_id, obj_id, state, size, stored_size, codec, checksum," \
    " location, created, atime, generation, uploaded, synced)" \
    " VALUES (?1, ?2, ?3, 2, ?4, 0, 0, 0, 0, ?5, ?5, ?6, 1, ?7)"

gboolean
seaftier_tier_insert_deleted_row(TierConn *conn, SeaftierObjType type, const char *repo_id,
                                 const char *obj_id, guint64 size, gboolean synced, gint64 now,
                                 gboolean if_absent, gint64 *rowid, GError **error)
{
    TierIdKey repo_key, obj_key;
    sqlite3_stmt *stmt = seaftier_tier_stmt(conn, if_absent
        ? DELETED_ROW_INSERT " ON CONFLICT (type, repo_id, obj_id) DO NOTHING"
        : DELETED_ROW_INSERT, error);
    if (!stmt)
        return FALSE;
    sqlite3_bind_int(stmt, 1, type);
    seaftier_tier_bind_id(stmt, 2, repo_id, &repo_key);
    seaftier_tier_bind_id(stmt, 3, obj_id, &obj_key);
    sqlite3_bind_int64(stmt, 4, (gint64)size);
    sqlite3_bind_int64(stmt, 5, now);
    sqlite3_bind_int64(stmt, 6, seaftier_tier_new_generation());
    sqlite3_bind_int(stmt, 7, synced ? 1 : 0);
    int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    if (rc != SQLITE_DONE) {
        char *what = g_strdup_printf("recording a pending S3 delete of %s/%s/%s",
                                     seaftier_tier_type_dir(type), repo_id, obj_id);
        seaftier_tier_sql_error(error, conn, rc, what);
        g_free(what);
        return FALSE;
    }
    if (rowid)
        *rowid = sqlite3_changes(conn->db) > 0 ? sqlite3_last_insert_rowid(conn->db) : 0;
    return TRUE;
}

/* A delete: the row becomes DELETED (inserted when the tier never saw the
 * id: S3 may hold it, so a remote delete is recorded), its local copy goes
 * (inline bytes here, a file by the caller after the commit). Even a dirty
 * row never uploaded in this row's life may have a copy in S3 (an evicted
 * clean copy written again, a direct PUT with a full tier, a rewrite over a
 * pending delete): the tier never sees S3, so it can never prove the key
 * absent, and always records the remote delete (a DELETE of a missing key
 * is one cheap request). */
static gboolean
apply_delete(TierConn *conn, TierCommitEntry *e, const TierRow *row, gboolean found, Usage *u,
             gint64 now, GError **error)
{
    sqlite3_stmt *stmt;
    if (!found) {
        /* Size 0: the tier never knew it. Synced: a delete commits FULL. */
        if (!seaftier_tier_insert_deleted_row(conn, e->type, e->repo_id, e->obj_id, 0, TRUE, now,
                                              FALSE, &e->rowid, error))
            return FALSE;
        e->applied = TRUE;
        return TRUE;
    }
    e->rowid = row->rowid;
    if (row->state == SEAFTIER_STATE_DELETED)
        return TRUE;        /* the remote delete is already pending */
    stmt = seaftier_tier_stmt(conn,
        "UPDATE objects SET state = 2, stored_size = 0, location = 0, generation = ?2,"
        " uploaded = 1, attempts = 0, retry_at = 0, last_error = '', atime = ?3"
        " WHERE id = ?1", error);
    if (!stmt)
        return FALSE;
    sqlite3_bind_int64(stmt, 1, row->rowid);
    sqlite3_bind_int64(stmt, 2, seaftier_tier_new_generation());
    sqlite3_bind_int64(stmt, 3, now);
    if (!step_done(conn, stmt, "deleting an object", error))
        return FALSE;
    if (row->location == LOC_INLINE && row->state != SEAFTIER_STATE_REMOTE) {
        stmt = seaftier_tier_stmt(conn, "DELETE FROM blobs WHERE id = ?1", error);
        if (!stmt)
            return FALSE;
        sqlite3_bind_int64(stmt, 1, row->rowid);
        if (!step_done(conn, stmt, "deleting inline data", error))
            return FALSE;
    }
    if (row->state == SEAFTIER_STATE_DIRTY)
        u->dirty -= MIN(u->dirty, row->stored_size);
    else if (row->state == SEAFTIER_STATE_CLEAN)
        u->clean -= MIN(u->clean, row->stored_size);
    e->applied = TRUE;
    e->data_gone = TRUE;
    e->gone_location = row->location;
    e->gone_generation = row->generation;
    return TRUE;
}

/* FALSE only for a failure of the whole transaction; per-entry outcomes
 * (FULL) go to e->error. */
static gboolean
apply_entry(SeaftierTier *tier, TierConn *conn, TierCommitEntry *e, gboolean full, Usage *u,
            gint64 now, GError **error)
{
    TierIdKey repo_key, obj_key;
    TierRow row;
    GError *err = NULL;
    gboolean found = seaftier_tier_find_row(conn, e->type, e->repo_id, e->obj_id, &row, &err);
    if (err) {
        g_propagate_error(error, err);
        return FALSE;
    }
    if (e->kind == COMMIT_DELETE)
        return apply_delete(conn, e, &row, found, u, now, error);
    sqlite3_stmt *stmt;

    /* A durable store meeting a dirty file never fdatasynced (a concurrent
     * non-durable store of the same id won): its own, synced, copy replaces
     * that file, which the FULL commit alone could not make durable. */
    gboolean replace_unsynced = found && e->kind == COMMIT_STORE && e->durable &&
                                row.state == SEAFTIER_STATE_DIRTY && !row.synced &&
                                row.location == LOC_FILE;
    gboolean repair = found && e->kind == COMMIT_STORE && row.state == SEAFTIER_STATE_DIRTY &&
                      ((e->repair_generation && row.generation == e->repair_generation) ||
                       replace_unsynced);
    if (repair) {
        /* The same bytes again (content addressing) for a dirty row whose
         * copy is missing, damaged or unsynced: the row takes the new copy
         * and stays dirty; the caller removes the old file. */
        stmt = seaftier_tier_stmt(conn,
            "UPDATE objects SET size = ?5, stored_size = ?6, codec = ?7, checksum = ?8,"
            " location = ?9, generation = ?11, synced = ?12 WHERE id = ?1", error);
        if (!stmt)
            return FALSE;
        sqlite3_bind_int64(stmt, 1, row.rowid);
        bind_copy_columns(stmt, e, full);
        if (!step_done(conn, stmt, "repairing an object", error))
            return FALSE;
        e->rowid = row.rowid;
        if (e->location == LOC_INLINE && !put_blob(conn, e, error))
            return FALSE;
        e->applied = TRUE;
        e->replaced_generation = row.location == LOC_FILE ? row.generation : 0;
        u->dirty = u->dirty - MIN(u->dirty, row.stored_size) + e->stored_size;
        return TRUE;
    }
    gboolean present = found && (row.state == SEAFTIER_STATE_CLEAN ||
                                 row.state == SEAFTIER_STATE_DIRTY);
    /* A write of other bytes than the row's (see store.c): the row takes the
     * new version below. Judged on the row as it is now, so that of two
     * writers the last one wins, and the same bytes again stay a no-op. */
    gboolean new_version = present && e->kind == COMMIT_STORE && e->new_version_of &&
                           (row.size != e->size || row.checksum != e->checksum);
    if (e->kind == COMMIT_SYNC || (present && !new_version)) {
        /* Already present: a durable store only needs the row's commit to be
         * on stable storage, which this FULL transaction guarantees — and,
         * for a file, that file synced: the one the caller synced must
         * still be the row's (COMMIT_SYNC names it by generation). */
        if (found && e->durable && row.state == SEAFTIER_STATE_DIRTY && !row.synced &&
            row.location == LOC_FILE &&
            (e->kind != COMMIT_SYNC || row.generation != e->generation)) {
            e->stale = TRUE;
            e->rowid = row.rowid;
            return TRUE;
        }
        if (found && e->durable && row.state == SEAFTIER_STATE_DIRTY && !row.synced) {
            stmt = seaftier_tier_stmt(conn, "UPDATE objects SET synced = 1 WHERE id = ?1", error);
            if (!stmt)
                return FALSE;
            sqlite3_bind_int64(stmt, 1, row.rowid);
            if (!step_done(conn, stmt, "marking synced", error))
                return FALSE;
        }
        e->rowid = found ? row.rowid : 0;
        return TRUE;
    }
    if (found && row.state == SEAFTIER_STATE_DELETED && e->state == SEAFTIER_STATE_CLEAN) {
        e->rowid = row.rowid;       /* a CLEAN fill never undoes a delete */
        return TRUE;
    }
    if (!found && e->ticket && e->state == SEAFTIER_STATE_CLEAN) {
        /* A fill whose object was deleted (and the delete forgotten) since
         * its ticket: storing it would bring the object back. */
        int valid = seaftier_tier_ticket_valid(conn, e->ticket, e->type, e->repo_id, e->obj_id,
                                               error);
        if (valid < 0)
            return FALSE;
        if (valid == 0)
            return TRUE;
    }
    if (!fits(tier, e, u))
        return TRUE;
    if (new_version) {
        if (row.state == SEAFTIER_STATE_DIRTY)
            u->dirty -= MIN(u->dirty, row.stored_size);
        else
            u->clean -= MIN(u->clean, row.stored_size);
    }

    if (!found) {
        stmt = seaftier_tier_stmt(conn,
            "INSERT INTO objects (type, repo_id, obj_id, state, size, stored_size, codec,"
            " checksum, location, created, atime, generation, uploaded, synced)"
            " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, ?11, 0, ?12)", error);
        if (!stmt)
            return FALSE;
        sqlite3_bind_int(stmt, 1, e->type);
        seaftier_tier_bind_id(stmt, 2, e->repo_id, &repo_key);
        seaftier_tier_bind_id(stmt, 3, e->obj_id, &obj_key);
        sqlite3_bind_int(stmt, 4, e->state);
    } else {
        /* DIRTY over DELETED: the object lives again; `uploaded` stays, as
         * S3 may still hold the (identical) old copy. CLEAN (a fill) or
         * DIRTY over REMOTE: the local copy comes back. */
        stmt = seaftier_tier_stmt(conn,
            "UPDATE objects SET state = ?4, size = ?5, stored_size = ?6, codec = ?7,"
            " checksum = ?8, location = ?9, created = ?10, atime = ?10, generation = ?11,"
            " synced = ?12, attempts = 0, retry_at = 0, last_error = '' WHERE id = ?1", error);
        if (!stmt)
            return FALSE;
        sqlite3_bind_int64(stmt, 1, row.rowid);
        sqlite3_bind_int(stmt, 4, e->state);
    }
    bind_copy_columns(stmt, e, full);
    sqlite3_bind_int64(stmt, 10, now);
    if (!step_done(conn, stmt,
                   found ? "re-storing an object without local data" : "inserting an object",
                   error))
        return FALSE;
    e->rowid = found ? row.rowid : sqlite3_last_insert_rowid(conn->db);
    if (e->location == LOC_INLINE && !put_blob(conn, e, error))
        return FALSE;
    if (new_version && row.location == LOC_INLINE && e->location != LOC_INLINE) {
        stmt = seaftier_tier_stmt(conn, "DELETE FROM blobs WHERE id = ?1", error);
        if (!stmt)
            return FALSE;
        sqlite3_bind_int64(stmt, 1, row.rowid);
        if (!step_done(conn, stmt, "dropping a replaced inline copy", error))
            return FALSE;
    }
    if (new_version && row.location == LOC_FILE)
        e->replaced_generation = row.generation;
    e->applied = TRUE;
    if (e->state == SEAFTIER_STATE_DIRTY)
        u->dirty += e->stored_size;
    else
        u->clean += e->stored_size;
    return TRUE;
}

static void
fail_all(GPtrArray *batch, const GError *err)
{
    for (guint i = 0; i < batch->len; i++) {
        TierCommitEntry *e = batch->pdata[i];
        e->applied = FALSE;
        if (!e->error)
            e->error = g_error_copy(err);
    }
}

static void
run_batch(SeaftierTier *tier, GPtrArray *batch)
{
    gboolean full = FALSE;
    GHashTable *synced_dirs = NULL;
    GError *err = NULL;

    for (guint i = 0; i < batch->len; i++) {
        TierCommitEntry *e = batch->pdata[i];
        full = full || e->durable;
        if (!e->durable || !e->file_dir)
            continue;
        if (!synced_dirs)
            synced_dirs = g_hash_table_new(g_str_hash, g_str_equal);
        if (g_hash_table_contains(synced_dirs, e->file_dir))
            continue;
        if (seaftier_tier_fsync_path(e->file_dir, TRUE, &e->error))
            g_hash_table_add(synced_dirs, (gpointer)e->file_dir);
    }
    if (synced_dirs)
        g_hash_table_destroy(synced_dirs);

    TierConn *conn = seaftier_tier_conn_get(tier, &err);
    if (!conn) {
        fail_all(batch, err);
        g_error_free(err);
        return;
    }
    conn->defer_checkpoint = TRUE;     /* done by the leader, see commit_entry */
    Usage u;
    gint64 now = seaftier_tier_now();
    gboolean ok = seaftier_tier_begin(conn, full, &err) && read_usage(conn, &u, &err);
    for (guint i = 0; ok && i < batch->len; i++) {
        TierCommitEntry *e = batch->pdata[i];
        if (!e->error)
            ok = apply_entry(tier, conn, e, full, &u, now, &err);
    }
    if (ok)
        ok = seaftier_tier_commit(conn, &err);
    if (!ok) {
        seaftier_tier_rollback(conn);
        fail_all(batch, err);
        g_error_free(err);
    } else {
        TIER_STORE(&tier->used_cached, (gint64)(u.dirty + u.clean));
    }
    conn->defer_checkpoint = FALSE;
    /* A WAL far past its threshold is checkpointed before the batch is
     * released, while no other batch of this process can commit. */
    if (seaftier_tier_checkpoint_due(tier, TRUE))
        seaftier_tier_checkpoint_now(tier, conn);
    seaftier_tier_conn_put(tier, conn);
}

static void
checkpoint_after_batch(SeaftierTier *tier)
{
    if (!seaftier_tier_checkpoint_due(tier, FALSE))
        return;
    GError *err = NULL;
    TierConn *conn = seaftier_tier_conn_get(tier, &err);
    if (!conn) {
        seaftier_debug("checkpoint of %s: %s", tier->db_path, err->message);
        g_error_free(err);
        return;
    }
    seaftier_tier_checkpoint_now(tier, conn);
    seaftier_tier_conn_put(tier, conn);
}

/* Queues `entries`, then waits until a batch holding them committed,
 * leading batches while none is in progress. All are queued under one
 * lock hold, so one leader takes them together. */
static void
commit_queued(SeaftierTier *tier, TierCommitEntry **entries, guint n, gboolean announced)
{
    TierCommitQueue *q = &tier->commit;
    g_mutex_lock(&q->lock);
    TierCommitBatch *mine = q->pending;
    mine->refs++;
    for (guint i = 0; i < n; i++) {
        entries[i]->announced = announced;
        g_ptr_array_add(mine->entries, entries[i]);
    }
    if (announced)
        g_atomic_int_add(&q->preparing, -(gint)n);
    /* (a GCond call is a system call even with nobody waiting) */
    if (q->gathering)
        g_cond_signal(&q->arrived);
    TierCommitEntry *last = entries[n - 1];
    while (!last->done) {
        if (q->leader_active) {
            g_cond_wait(&mine->done, &q->lock);
            continue;
        }
        /* No leader and not done: `mine` has not been taken yet. */
        g_assert(mine == q->pending);
        q->leader_active = TRUE;
        /* Stores that are about to queue, and writers just released by the
         * previous batch, would otherwise wait for a whole commit after this
         * one: give them a moment to join (PostgreSQL's commit_delay idea;
         * see the head of this file). */
        gint64 deadline = g_get_monotonic_time() +
                          CLAMP(q->last_commit_us / 2, GATHER_MIN_US, GATHER_MAX_US);
        q->gathering = TRUE;
        while ((g_atomic_int_get(&q->preparing) > 0 || g_atomic_int_get(&q->returning) > 0) &&
               mine->entries->len < GATHER_MAX &&
               g_cond_wait_until(&q->arrived, &q->lock, deadline))
            ;
        q->gathering = FALSE;
        q->pending = batch_new();
        g_mutex_unlock(&q->lock);

        gint64 commit_start = g_get_monotonic_time();
        run_batch(tier, mine->entries);
        gint64 commit_end = g_get_monotonic_time();

        g_mutex_lock(&q->lock);
        gint writers = 0;
        for (guint i = 0; i < mine->entries->len; i++) {
            TierCommitEntry *e = mine->entries->pdata[i];
            writers += e->announced ? 1 : 0;
            e->done = TRUE;     /* e may be gone as soon as the lock is released */
        }
        q->last_commit_us = commit_end - commit_start;
        g_atomic_int_set(&q->returning, writers);
        q->leader_active = FALSE;
        if (mine->refs > 1)     /* writers of this batch besides this one */
            g_cond_broadcast(&mine->done);
        /* One writer of the next batch leads it (later arrivals lead
         * themselves when they find no leader). */
        if (q->pending->refs > 0)
            g_cond_signal(&q->pending->done);
        /* The routine checkpoint: after the batch is released, paid by
         * this caller alone while the next batch commits. */
        g_mutex_unlock(&q->lock);
        checkpoint_after_batch(tier);
        g_mutex_lock(&q->lock);
    }
    if (--mine->refs == 0)
        batch_free(mine);   /* taken and committed: never q->pending any more */
    g_mutex_unlock(&q->lock);
}

gboolean
seaftier_tier_commit_entry(SeaftierTier *tier, TierCommitEntry *entry, GError **error)
{
    commit_queued(tier, &entry, 1, TRUE);
    if (entry->error) {
        g_propagate_error(error, entry->error);
        entry->error = NULL;
        return FALSE;
    }
    return TRUE;
}

void
seaftier_tier_commit_entries(SeaftierTier *tier, TierCommitEntry **entries, guint n)
{
    if (n > 0)
        commit_queued(tier, entries, n, FALSE);
}
