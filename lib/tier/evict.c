/* lib/tier/evict.c — limits, eviction and accounting.
 *
 * Used bytes are the stored (compressed) bytes of clean and dirty objects,
 * read from the trigger-maintained `usage` table (9 rows), never summed
 * over the objects. Eviction works in chunks: each chunk is one IMMEDIATE
 * transaction that re-reads the usage, picks least-recently-used CLEAN rows
 * (partial index on atime) and turns them into REMOTE rows (no local data;
 * the index keeps knowing that S3 holds them); files are unlinked after the
 * commit. Several evictors (the library's background thread, seaftierd,
 * seaftier-admin) therefore never fight: each chunk sees what the others
 * already removed and stops at the low watermark. DIRTY rows are never
 * candidates.
 */
#include "seaftier-build.h"

#include "tier/tier-private.h"

#include <string.h>

#define EVICT_CHUNK 256

typedef struct {
    gint64 rowid;
    SeaftierObjType type;
    char repo_id[37];
    char obj_id[41];
    guint64 stored_size;
    int location;
    gint64 generation;
} Victim;

#define VICTIM_COLS "id, type, repo_id, obj_id, stored_size, location, generation"

static void
victim_from_stmt(sqlite3_stmt *stmt, Victim *v)
{
    v->rowid = sqlite3_column_int64(stmt, 0);
    v->type = (SeaftierObjType)sqlite3_column_int(stmt, 1);
    seaftier_tier_column_id(stmt, 2, v->repo_id, sizeof(v->repo_id));
    seaftier_tier_column_id(stmt, 3, v->obj_id, sizeof(v->obj_id));
    v->stored_size = (guint64)sqlite3_column_int64(stmt, 4);
    v->location = sqlite3_column_int(stmt, 5);
    v->generation = sqlite3_column_int64(stmt, 6);
}

/* Turns the victims' rows (still CLEAN) into REMOTE rows inside the open
 * transaction: the local copy goes (inline bytes here, files after the
 * commit), the row stays, so the index still knows that S3 holds the object
 * and exists() needs no request. A new generation, so nothing that read the
 * CLEAN row can take the REMOTE one for it. */
static gboolean
delete_victims(TierConn *conn, GArray *victims, GError **error)
{
    sqlite3_stmt *stmt = seaftier_tier_stmt(conn,
        "UPDATE objects SET state = 3, stored_size = 0, codec = 0, location = 0, synced = 1,"
        " uploaded = 1, generation = ?3 WHERE id = ?1 AND generation = ?2 AND state = 0", error);
    if (!stmt)
        return FALSE;
    for (guint i = 0; i < victims->len; i++) {
        Victim *v = &g_array_index(victims, Victim, i);
        sqlite3_bind_int64(stmt, 1, v->rowid);
        sqlite3_bind_int64(stmt, 2, v->generation);
        sqlite3_bind_int64(stmt, 3, seaftier_tier_new_generation());
        int rc = sqlite3_step(stmt);
        sqlite3_reset(stmt);
        if (rc != SQLITE_DONE) {
            seaftier_tier_sql_error(error, conn, rc, "evicting");
            return FALSE;
        }
        if (v->location != LOC_INLINE || sqlite3_changes(conn->db) == 0)
            continue;
        sqlite3_stmt *blob = seaftier_tier_stmt(conn, "DELETE FROM blobs WHERE id = ?1", error);
        if (!blob)
            return FALSE;
        sqlite3_bind_int64(blob, 1, v->rowid);
        rc = sqlite3_step(blob);
        sqlite3_reset(blob);
        if (rc != SQLITE_DONE) {
            seaftier_tier_sql_error(error, conn, rc, "evicting inline data");
            return FALSE;
        }
    }
    return TRUE;
}

static void
forget_victims(SeaftierTier *tier, GArray *victims)
{
    for (guint i = 0; i < victims->len; i++) {
        Victim *v = &g_array_index(victims, Victim, i);
        seaftier_tier_forget_data(tier, v->type, v->repo_id, v->obj_id, v->location,
                                  v->generation);
    }
}

static gboolean
read_used(TierConn *conn, guint64 *clean, guint64 *dirty, GError **error)
{
    sqlite3_stmt *stmt = seaftier_tier_stmt(conn,
        "SELECT state, SUM(stored_bytes) FROM usage WHERE state IN (0, 1) GROUP BY state", error);
    if (!stmt)
        return FALSE;
    *clean = *dirty = 0;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        guint64 v = (guint64)MAX(sqlite3_column_int64(stmt, 1), 0);
        *(sqlite3_column_int(stmt, 0) == SEAFTIER_STATE_DIRTY ? dirty : clean) = v;
    }
    sqlite3_reset(stmt);
    if (rc != SQLITE_DONE) {
        seaftier_tier_sql_error(error, conn, rc, "reading usage");
        return FALSE;
    }
    return TRUE;
}

/* Selects victims with `sql` (LIMIT EVICT_CHUNK; ?1 = repo_id, ?2 = type,
 * ?3 = the last obj_id of the previous chunk, each when given) and
 * keeps them until `need` stored bytes are covered (all of them if need is
 * G_MAXUINT64). */
static gboolean
pick_victims(TierConn *conn, const char *sql, const char *repo_id, int type, const char *after,
             guint64 need, GArray *out, GError **error)
{
    sqlite3_stmt *stmt = seaftier_tier_stmt(conn, sql, error);
    if (!stmt)
        return FALSE;
    TierIdKey repo_key, after_key;
    if (repo_id)
        seaftier_tier_bind_id(stmt, 1, repo_id, &repo_key);
    if (type >= 0)
        sqlite3_bind_int(stmt, 2, type);
    if (after)
        seaftier_tier_bind_id(stmt, 3, after, &after_key);
    guint64 sum = 0;
    int rc = SQLITE_DONE;
    while (sum < need && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        Victim v;
        victim_from_stmt(stmt, &v);
        g_array_append_val(out, v);
        sum += v.stored_size;
    }
    if (sum < need && rc != SQLITE_DONE) {
        sqlite3_reset(stmt);
        seaftier_tier_sql_error(error, conn, rc, "choosing objects to evict");
        return FALSE;
    }
    sqlite3_reset(stmt);
    return TRUE;
}

gboolean
seaftier_tier_evict(SeaftierTier *tier, guint64 *evicted_objects, guint64 *evicted_bytes,
                    GError **error)
{
    guint64 objects = 0, bytes = 0;
    gboolean started = FALSE, ok = TRUE;
    seaftier_tier_atime_flush(tier);
    GArray *victims = g_array_new(FALSE, FALSE, sizeof(Victim));
    for (;;) {
        guint64 fs_free = seaftier_tier_fs_free(tier, TRUE);
        TierConn *conn = seaftier_tier_conn_get(tier, error);
        if (!conn) {
            ok = FALSE;
            break;
        }
        guint64 clean, dirty;
        if (!seaftier_tier_begin(conn, TRUE, error) || !read_used(conn, &clean, &dirty, error)) {
            seaftier_tier_conn_put(tier, conn);
            ok = FALSE;
            break;
        }
        guint64 used = clean + dirty;
        TIER_STORE(&tier->used_cached, (gint64)used);
        guint64 high = tier->max_size / 100 * (guint64)tier->high_watermark;
        guint64 low = tier->max_size / 100 * (guint64)tier->low_watermark;
        /* Start above the high watermark; once started, go down to the low one. */
        gboolean over = tier->max_size && used > (started ? low : high);
        gboolean at_floor = tier->min_free_space && fs_free < tier->min_free_space;
        if ((!over && !at_floor) || clean == 0) {
            seaftier_tier_rollback(conn);
            seaftier_tier_conn_put(tier, conn);
            break;
        }
        started = TRUE;
        guint64 need = over ? used - low : 0;
        if (at_floor)
            need = MAX(need, tier->min_free_space - fs_free);
        g_array_set_size(victims, 0);
        ok = pick_victims(conn, "SELECT " VICTIM_COLS " FROM objects WHERE state = 0"
                                " ORDER BY atime, id LIMIT 256", NULL, -1, NULL, need, victims,
                            error) &&
             delete_victims(conn, victims, error) && seaftier_tier_commit(conn, error);
        if (!ok) {
            seaftier_tier_rollback(conn);
            seaftier_tier_conn_put(tier, conn);
            break;
        }
        forget_victims(tier, victims);
        guint64 chunk_bytes = 0;
        for (guint i = 0; i < victims->len; i++)
            chunk_bytes += g_array_index(victims, Victim, i).stored_size;
        bytes += chunk_bytes;
        objects += victims->len;
        TIER_STORE(&tier->used_cached, (gint64)(used - MIN(used, chunk_bytes)));
        seaftier_tier_conn_put(tier, conn);
        if (victims->len == 0)
            break;
    }
    g_array_free(victims, TRUE);
    if (objects)
        seaftier_info("evicted %" G_GUINT64_FORMAT " clean objects (%" G_GUINT64_FORMAT
                      " bytes) from tier %s", objects, bytes, tier->dir);
    if (evicted_objects)
        *evicted_objects = objects;
    if (evicted_bytes)
        *evicted_bytes = bytes;
    return ok;
}

/* One chunk in its own IMMEDIATE transaction: picks victims (see
 * pick_victims), deletes their rows and, once committed, their data. */
static gboolean
evict_chunk(SeaftierTier *tier, const char *sql, const char *repo_id, int type, const char *after,
            guint64 need, GArray *victims, GError **error)
{
    g_array_set_size(victims, 0);
    TierConn *conn = seaftier_tier_conn_get(tier, error);
    if (!conn)
        return FALSE;
    gboolean ok = seaftier_tier_begin(conn, TRUE, error) &&
                  pick_victims(conn, sql, repo_id, type, after, need, victims, error) &&
                  delete_victims(conn, victims, error) && seaftier_tier_commit(conn, error);
    if (!ok)
        seaftier_tier_rollback(conn);
    seaftier_tier_conn_put(tier, conn);
    if (ok)
        forget_victims(tier, victims);
    return ok;
}

gboolean
seaftier_tier_evict_for_room(SeaftierTier *tier, guint64 need, guint64 *evicted_objects,
                             guint64 *evicted_bytes, GError **error)
{
    guint64 objects = 0, bytes = 0;
    gboolean ok = TRUE;
    GArray *victims = g_array_new(FALSE, FALSE, sizeof(Victim));
    while (ok && bytes < need) {
        /* Deleting rows needs a few WAL frames itself: on a full disk this
         * may fail too, which the caller reports. */
        ok = evict_chunk(tier, "SELECT " VICTIM_COLS " FROM objects WHERE state = 0"
                               " ORDER BY atime, id LIMIT 256", NULL, -1, NULL, need - bytes,
                         victims, error);
        if (!ok || victims->len == 0)
            break;
        for (guint i = 0; i < victims->len; i++)
            bytes += g_array_index(victims, Victim, i).stored_size;
        objects += victims->len;
    }
    g_array_free(victims, TRUE);
    if (objects) {
        TIER_STORE(&tier->fs_free_checked, 0);  /* the cached free space is stale now */
        seaftier_warning("file system of tier %s is full: evicted %" G_GUINT64_FORMAT
                         " clean objects (%" G_GUINT64_FORMAT " bytes) to make room", tier->dir,
                         objects, bytes);
    }
    if (evicted_objects)
        *evicted_objects = objects;
    if (evicted_bytes)
        *evicted_bytes = bytes;
    return ok;
}

gboolean
seaftier_tier_evict_clean(SeaftierTier *tier, const char *repo_id, guint64 *evicted_objects,
                          GError **error)
{
    if (repo_id && !seaftier_tier_check_repo(repo_id, error))
        return FALSE;
    /* Within a repo, each chunk seeks past the previous one in key order,
     * so dirty rows are passed over once, not once per chunk; without a
     * repo the partial LRU index holds clean rows only. */
    const char *sql = repo_id
        ? "SELECT " VICTIM_COLS " FROM objects WHERE type = ?2 AND repo_id = ?1"
          " AND obj_id > ?3 AND state = 0 ORDER BY obj_id LIMIT 256"
        : "SELECT " VICTIM_COLS " FROM objects WHERE state = 0 LIMIT 256";
    guint64 objects = 0;
    gboolean ok = TRUE;
    GArray *victims = g_array_new(FALSE, FALSE, sizeof(Victim));
    for (int type = repo_id ? 0 : -1; ok && type < (repo_id ? SEAFTIER_N_TYPES : 0); type++) {
        char after[41] = "";
        do {
            ok = evict_chunk(tier, sql, repo_id, type, repo_id ? after : NULL, G_MAXUINT64,
                             victims, error);
            if (ok) {
                objects += victims->len;
                if (victims->len)
                    memcpy(after, g_array_index(victims, Victim, victims->len - 1).obj_id,
                           sizeof(after));
            }
        } while (ok && victims->len == EVICT_CHUNK);
    }
    g_array_free(victims, TRUE);
    if (evicted_objects)
        *evicted_objects = objects;
    return ok;
}

gboolean
seaftier_tier_evict_one(SeaftierTier *tier, SeaftierObjType type, const char *repo_id,
                        const char *obj_id, GError **error)
{
    if (!seaftier_tier_check_ids(type, repo_id, obj_id, error))
        return FALSE;
    TierConn *conn = seaftier_tier_conn_get(tier, error);
    if (!conn)
        return FALSE;
    GError *err = NULL;
    TierRow row;
    gboolean ok = seaftier_tier_begin(conn, TRUE, &err);
    gboolean found = ok && seaftier_tier_find_row(conn, type, repo_id, obj_id, &row, &err);
    ok = ok && !err;
    GArray *victims = g_array_new(FALSE, FALSE, sizeof(Victim));
    if (ok && found && row.state == SEAFTIER_STATE_CLEAN) {
        Victim v = { .rowid = row.rowid, .type = type, .stored_size = row.stored_size,
                     .location = row.location, .generation = row.generation };
        g_strlcpy(v.repo_id, repo_id, sizeof(v.repo_id));
        g_strlcpy(v.obj_id, obj_id, sizeof(v.obj_id));
        g_array_append_val(victims, v);
        ok = delete_victims(conn, victims, &err);
    }
    if (ok)
        ok = seaftier_tier_commit(conn, &err);
    else
        seaftier_tier_rollback(conn);
    seaftier_tier_conn_put(tier, conn);
    if (ok)
        forget_victims(tier, victims);
    g_array_free(victims, TRUE);
    if (!ok) {
        g_propagate_prefixed_error(error, err, "evicting %s/%s/%s: ",
                                   seaftier_tier_type_dir(type), repo_id, obj_id);
        return FALSE;
    }
    if (!found || row.state == SEAFTIER_STATE_REMOTE) {
        g_set_error(error, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_NOT_FOUND,
                    "%s/%s/%s %s", seaftier_tier_type_dir(type), repo_id, obj_id,
                    found ? "has no local copy (already evicted)" : "is not in the tier");
        return FALSE;
    }
    return TRUE;
}

/* ---- read/write counters shared by all processes ---- */

static const char *const counter_names[TIER_N_COUNTERS] = {
    "ram_hits", "disk_hits", "misses", "bytes_read", "bytes_written", "located_hits",
};

void
seaftier_tier_count(SeaftierTier *tier, TierCounter which, guint64 n)
{
    TIER_ADD(&tier->counters[which], n);
    /* One atomic load per call once the thread is running. */
    if (!g_atomic_int_get(&tier->counters_started) &&
        g_atomic_int_compare_and_exchange(&tier->counters_started, 0, 1))
        seaftier_tier_background_request(tier, FALSE, FALSE);
}

void
seaftier_tier_counters_flush(SeaftierTier *tier)
{
    g_mutex_lock(&tier->counters_lock);
    guint64 delta[TIER_N_COUNTERS];
    gboolean any = FALSE;
    for (int i = 0; i < TIER_N_COUNTERS; i++) {
        delta[i] = TIER_LOAD(&tier->counters[i]) - tier->counters_flushed[i];
        any |= delta[i] != 0;
    }
    if (!any) {
        g_mutex_unlock(&tier->counters_lock);
        return;
    }
    GError *err = NULL;
    TierConn *conn = seaftier_tier_conn_get(tier, &err);
    gboolean ok = conn && seaftier_tier_begin(conn, FALSE, &err);
    sqlite3_stmt *stmt = ok ? seaftier_tier_stmt(conn,
        "INSERT INTO counters (name, value) VALUES (?1, ?2)"
        " ON CONFLICT (name) DO UPDATE SET value = value + excluded.value", &err) : NULL;
    ok = stmt != NULL;
    for (int i = 0; ok && i < TIER_N_COUNTERS; i++) {
        if (!delta[i])
            continue;
        sqlite3_bind_text(stmt, 1, counter_names[i], -1, SQLITE_STATIC);
        sqlite3_bind_int64(stmt, 2, (gint64)delta[i]);
        int rc = sqlite3_step(stmt);
        sqlite3_reset(stmt);
        if (rc != SQLITE_DONE) {
            seaftier_tier_sql_error(&err, conn, rc, "adding to the read counters");
            ok = FALSE;
        }
    }
    if (ok)
        ok = seaftier_tier_commit(conn, &err);
    if (ok) {
        for (int i = 0; i < TIER_N_COUNTERS; i++)
            tier->counters_flushed[i] += delta[i];
    } else {
        /* Kept in memory and added by the next flush. */
        seaftier_debug("read counters of tier %s not persisted yet: %s", tier->dir,
                       err ? err->message : "?");
        if (conn)
            seaftier_tier_rollback(conn);
        g_clear_error(&err);
    }
    seaftier_tier_conn_put(tier, conn);
    g_mutex_unlock(&tier->counters_lock);
}

/* Reads the persisted totals inside the caller's read transaction and adds
 * this process's counts not flushed yet. */
static gboolean
read_counters(SeaftierTier *tier, TierConn *conn, guint64 out[TIER_N_COUNTERS], GError **error)
{
    sqlite3_stmt *stmt = seaftier_tier_stmt(conn, "SELECT name, value FROM counters", error);
    if (!stmt)
        return FALSE;
    memset(out, 0, sizeof(guint64) * TIER_N_COUNTERS);
    g_mutex_lock(&tier->counters_lock);
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(stmt, 0);
        for (int i = 0; name && i < TIER_N_COUNTERS; i++)
            if (strcmp(name, counter_names[i]) == 0)
                out[i] = (guint64)MAX(sqlite3_column_int64(stmt, 1), 0);
    }
    sqlite3_reset(stmt);
    for (int i = 0; i < TIER_N_COUNTERS; i++)
        out[i] += TIER_LOAD(&tier->counters[i]) - tier->counters_flushed[i];
    g_mutex_unlock(&tier->counters_lock);
    if (rc != SQLITE_DONE) {
        seaftier_tier_sql_error(error, conn, rc, "reading the read counters");
        return FALSE;
    }
    return TRUE;
}

/* The background thread of this process: evictions after stores crossed
 * the high watermark, access-time flushes and, every few seconds, the
 * counters, so that neither a store nor a read ever waits for them; and,
 * while a read snapshot is open, its end once it is idle (tier.c).
 * Started on first need, joined at close. */
static gpointer
background_main(gpointer data)
{
    SeaftierTier *tier = data;
    gint64 counters_due = g_get_monotonic_time() + COUNTERS_FLUSH_US;
    gboolean snapshot_held = FALSE;
    g_mutex_lock(&tier->evict_lock);
    for (;;) {
        while (!tier->evict_requested && !tier->atime_requested && !tier->closing) {
            gint64 due = snapshot_held
                             ? MIN(counters_due, g_get_monotonic_time() + SNAPSHOT_MAX_US)
                             : counters_due;
            if (!g_cond_wait_until(&tier->evict_cond, &tier->evict_lock, due))
                break;
            if (!snapshot_held)
                break;      /* a snapshot began (or a request came): look */
        }
        if (tier->closing)
            break;      /* the close flushes what is left */
        gboolean evict = tier->evict_requested, atime = tier->atime_requested;
        tier->evict_requested = tier->atime_requested = FALSE;
        g_mutex_unlock(&tier->evict_lock);
        snapshot_held = seaftier_tier_snapshot_release(tier, FALSE);
        if (g_get_monotonic_time() >= counters_due) {
            seaftier_tier_counters_flush(tier);
            counters_due = g_get_monotonic_time() + COUNTERS_FLUSH_US;
        }
        if (atime && !evict)
            seaftier_tier_atime_flush(tier);
        GError *err = NULL;
        if (evict && !seaftier_tier_evict(tier, NULL, NULL, &err)) {   /* flushes atimes first */
            seaftier_warning("background eviction in %s failed: %s", tier->dir, err->message);
            g_error_free(err);
        }
        g_mutex_lock(&tier->evict_lock);
    }
    g_mutex_unlock(&tier->evict_lock);
    return NULL;
}

void
seaftier_tier_background_request(SeaftierTier *tier, gboolean evict, gboolean atime)
{
    g_mutex_lock(&tier->evict_lock);
    if (!tier->closing) {
        tier->evict_requested |= evict;
        tier->atime_requested |= atime;
        if (!tier->evict_thread)
            tier->evict_thread = g_thread_new("seaftier-bg", background_main, tier);
        g_cond_signal(&tier->evict_cond);
    }
    g_mutex_unlock(&tier->evict_lock);
}

void
seaftier_tier_maybe_evict(SeaftierTier *tier)
{
    guint64 used = (guint64)TIER_LOAD(&tier->used_cached);
    gboolean over = tier->max_size &&
                    used > tier->max_size / 100 * (guint64)tier->high_watermark;
    gboolean at_floor = tier->min_free_space &&
                        seaftier_tier_fs_free(tier, FALSE) < tier->min_free_space;
    if (over || at_floor)
        seaftier_tier_background_request(tier, TRUE, FALSE);
}

void
seaftier_tier_background_stop(SeaftierTier *tier)
{
    g_mutex_lock(&tier->evict_lock);
    tier->closing = TRUE;
    g_cond_signal(&tier->evict_cond);
    GThread *t = tier->evict_thread;
    tier->evict_thread = NULL;
    g_mutex_unlock(&tier->evict_lock);
    if (t)
        g_thread_join(t);
}

gboolean
seaftier_tier_stats(SeaftierTier *tier, SeaftierTierStats *stats, GError **error)
{
    memset(stats, 0, sizeof(*stats));
    TierConn *conn = seaftier_tier_conn_get(tier, error);
    if (!conn)
        return FALSE;
    gboolean ok = FALSE;
    /* One read transaction, so the figures are consistent with each other. */
    if (!seaftier_tier_exec(conn, "BEGIN", error))
        goto out;
    sqlite3_stmt *stmt = seaftier_tier_stmt(conn,
        "SELECT type, state, objects, bytes, stored_bytes FROM usage", error);
    if (!stmt)
        goto out;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        int t = sqlite3_column_int(stmt, 0), s = sqlite3_column_int(stmt, 1);
        if (t < 0 || t >= SEAFTIER_N_TYPES || s < 0 || s >= SEAFTIER_N_STATES)
            continue;
        stats->objects[t][s] = (guint64)sqlite3_column_int64(stmt, 2);
        stats->bytes[t][s] = (guint64)sqlite3_column_int64(stmt, 3);
        stats->stored_bytes[t][s] = (guint64)sqlite3_column_int64(stmt, 4);
        if (s == SEAFTIER_STATE_CLEAN || s == SEAFTIER_STATE_DIRTY)
            stats->used_bytes += stats->stored_bytes[t][s];
    }
    sqlite3_reset(stmt);
    if (rc != SQLITE_DONE) {
        seaftier_tier_sql_error(error, conn, rc, "reading usage");
        goto out;
    }
    stmt = seaftier_tier_stmt(conn, "SELECT MIN(created) FROM objects WHERE state = 1", error);
    if (!stmt)
        goto out;
    if ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
        stats->oldest_dirty = sqlite3_column_int64(stmt, 0);
    sqlite3_reset(stmt);
    if (rc != SQLITE_ROW) {
        seaftier_tier_sql_error(error, conn, rc, "reading the oldest dirty object");
        goto out;
    }
    guint64 counts[TIER_N_COUNTERS];
    if (!read_counters(tier, conn, counts, error))
        goto out;
    stats->ram_hits = counts[TIER_RAM_HITS];
    stats->disk_hits = counts[TIER_DISK_HITS];
    stats->located_hits = counts[TIER_LOCATED_HITS];
    stats->misses = counts[TIER_MISSES];
    stats->bytes_read = counts[TIER_BYTES_READ];
    stats->bytes_written = counts[TIER_BYTES_WRITTEN];
    ok = TRUE;
out:
    seaftier_tier_rollback(conn);
    seaftier_tier_conn_put(tier, conn);
    stats->max_size = tier->max_size;
    stats->fs_free_bytes = seaftier_tier_fs_free(tier, TRUE);
    return ok;
}
