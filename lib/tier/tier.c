/* lib/tier/tier.c — opening the tier, reads, stores, deletes, lookups.
 *
 * Read path: RAM tier (ram.c) → location cache (loc.c: the inline blob by
 * its row id, or the object file, without the index's key lookup) → index
 * row (+ inline blob, one statement) or object file → decode → CRC32C check
 * → RAM tier and location cache. A damaged or missing copy
 * is never returned: clean copies are dropped so the caller re-fetches them,
 * dirty ones are reported loudly and kept for an operator.
 *
 * Cross-process RAM coherence: <dir>/epoch is a shared memory counter that
 * every delete bumps after its transaction commits. A RAM entry remembers the
 * epoch read before its bytes were validated; a hit on an entry older than
 * the current epoch re-checks the index once (a delete elsewhere happened
 * since), so another process's delete is never hidden by our RAM copy. The
 * location cache drops what it learnt under an older epoch (loc.h).
 *
 * Read snapshot: a disk hit on a fresh SQLite read transaction costs a WAL
 * read-mark lock and unlock (two fcntl) and an fstat. The same map holds a
 * commit sequence that the WAL hook of every connection, in every process,
 * bumps after each commit (schema 3: older code, which does not bump it,
 * refuses the index). One connection keeps its read transaction open across
 * hits while the sequence has not moved — what it sees is then exactly what
 * a new transaction would see — for at most SNAPSHOT_MAX_US, and never while
 * the WAL is past SNAPSHOT_WAL_PAGES: an open reader keeps the WAL from
 * being checkpointed past it and from restarting, so a snapshot must not
 * outlive its use (the background thread ends an idle one).
 */
#include "seaftier-build.h"

#include "tier/tier-private.h"
#include "tier/codec.h"
#include "tier/crc32c.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define EPOCH_FILE "epoch"
#define EPOCH_MAP_LEN 4096
/* Offsets in that map: the delete epoch at 0, then (each on its own cache
 * line) the commit sequence and the WAL size after the last commit. */
#define COMMIT_SEQ_OFFSET 64
#define WAL_PAGES_OFFSET 128
/* A snapshot is not kept while the WAL is this long (pages): it would stop
 * the checkpoint that brings it back. */
#define SNAPSHOT_WAL_PAGES 1000

static const char *const read_sql =
    "SELECT " TIER_ROW_COLS_O ", b.data"
    " FROM objects o LEFT JOIN blobs b ON b.id = o.id"
    " WHERE o.type = ?1 AND o.repo_id = ?2 AND o.obj_id = ?3";

/* ---- open / close ---- */

static gboolean
make_private_dir(const char *path, GError **error)
{
    if (g_mkdir_with_parents(path, 0700) != 0) {
        g_set_error(error, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_IO,
                    "cannot create tier directory %s: %s", path, g_strerror(errno));
        return FALSE;
    }
    return TRUE;
}

static gboolean
map_epoch(SeaftierTier *tier, GError **error)
{
    char *path = g_build_filename(tier->dir, EPOCH_FILE, NULL);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    struct stat st;
    gboolean ok = fd >= 0 && fstat(fd, &st) == 0 &&
                  (st.st_size >= EPOCH_MAP_LEN || ftruncate(fd, EPOCH_MAP_LEN) == 0);
    void *map = ok ? mmap(NULL, EPOCH_MAP_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
                   : MAP_FAILED;
    if (map == MAP_FAILED) {
        g_set_error(error, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_IO,
                    "cannot map %s: %s", path, g_strerror(errno));
        ok = FALSE;
    } else {
        tier->epoch = map;
        tier->commit_seq = (guint64 *)((char *)map + COMMIT_SEQ_OFFSET);
        tier->shared_wal_pages = (gint64 *)((char *)map + WAL_PAGES_OFFSET);
        tier->epoch_map_len = EPOCH_MAP_LEN;
    }
    if (fd >= 0)
        close(fd);
    g_free(path);
    return ok;
}

guint64
seaftier_tier_epoch(SeaftierTier *tier)
{
    return __atomic_load_n(tier->epoch, __ATOMIC_ACQUIRE);
}

void
seaftier_tier_bump_epoch(SeaftierTier *tier)
{
    __atomic_add_fetch(tier->epoch, 1, __ATOMIC_RELEASE);
}

void
seaftier_tier_note_commit(SeaftierTier *tier, int wal_pages)
{
    if (!tier->commit_seq)
        return;         /* (the map comes before the first commit; never reached) */
    __atomic_store_n(tier->shared_wal_pages, (gint64)wal_pages, __ATOMIC_RELAXED);
    __atomic_add_fetch(tier->commit_seq, 1, __ATOMIC_RELEASE);
}

/* ---- the read snapshot ---- */

/* Ends the open read transaction. Under snap_lock. */
static void
snapshot_end(SeaftierTier *tier)
{
    if (!tier->snap_open)
        return;
    tier->snap_open = FALSE;
    GError *err = NULL;
    sqlite3_stmt *stmt = seaftier_tier_stmt(tier->snap_conn, "ROLLBACK", &err);
    if (stmt) {
        sqlite3_step(stmt);
        sqlite3_reset(stmt);
    }
    g_clear_error(&err);
    seaftier_tier_rollback(tier->snap_conn);    /* (no-op unless the above failed) */
}

/* The snapshot connection, locked, inside a read transaction that sees
 * every commit made before this call: kept when no commit happened since it
 * began (and it is young), else begun now. NULL when another thread has it
 * or it cannot be had: the caller then takes a connection from the pool. */
static TierConn *
snapshot_get(SeaftierTier *tier)
{
    if (!g_mutex_trylock(&tier->snap_lock))
        return NULL;
    /* Read before the transaction begins: a commit counted in `seq` is
     * already in the WAL, so the snapshot sees it. */
    guint64 seq = __atomic_load_n(tier->commit_seq, __ATOMIC_ACQUIRE);
    gint64 now = g_get_monotonic_time();
    if (tier->snap_open && (seq != tier->snap_seq || now - tier->snap_started > SNAPSHOT_MAX_US))
        snapshot_end(tier);
    if (!tier->snap_conn)
        tier->snap_conn = seaftier_tier_conn_get(tier, NULL);
    if (tier->snap_conn && !tier->snap_open) {
        /* BEGIN (deferred) takes no lock; the first SELECT starts the read
         * transaction, after `seq` was read. */
        sqlite3_stmt *stmt = seaftier_tier_stmt(tier->snap_conn, "BEGIN", NULL);
        int rc = stmt ? sqlite3_step(stmt) : SQLITE_ERROR;
        if (stmt)
            sqlite3_reset(stmt);
        if (rc == SQLITE_DONE) {
            tier->snap_open = TRUE;
            tier->snap_seq = seq;
            tier->snap_started = now;
            if (!tier->snap_watched)
                seaftier_tier_background_request(tier, FALSE, FALSE);   /* to end it if idle */
        }
    }
    if (!tier->snap_open) {
        g_mutex_unlock(&tier->snap_lock);
        return NULL;
    }
    return tier->snap_conn;
}

/* Gives the snapshot connection back; its transaction stays open unless
 * `keep` is FALSE (an error happened on it) or the WAL is long. */
static void
snapshot_put(SeaftierTier *tier, gboolean keep)
{
    if (!keep || TIER_LOAD(tier->shared_wal_pages) >= SNAPSHOT_WAL_PAGES)
        snapshot_end(tier);
    g_mutex_unlock(&tier->snap_lock);
}

gboolean
seaftier_tier_snapshot_release(SeaftierTier *tier, gboolean all)
{
    if (all)
        g_mutex_lock(&tier->snap_lock);
    else if (!g_mutex_trylock(&tier->snap_lock))
        return TRUE;        /* in use: looked at again later */
    if (tier->snap_open &&
        (all || g_get_monotonic_time() - tier->snap_started > SNAPSHOT_MAX_US))
        snapshot_end(tier);
    if (all && tier->snap_conn) {
        seaftier_tier_conn_put(tier, tier->snap_conn);
        tier->snap_conn = NULL;
    }
    gboolean held = tier->snap_open;
    tier->snap_watched = held;
    g_mutex_unlock(&tier->snap_lock);
    return held;
}

/* A connection for one read: the snapshot's when free, else the pool's. */
static TierConn *
read_conn_get(SeaftierTier *tier, gboolean *snap, GError **error)
{
    TierConn *conn = snapshot_get(tier);
    *snap = conn != NULL;
    return conn ? conn : seaftier_tier_conn_get(tier, error);
}

static void
read_conn_put(SeaftierTier *tier, TierConn *conn, gboolean snap, gboolean ok)
{
    if (snap)
        snapshot_put(tier, ok);
    else
        seaftier_tier_conn_put(tier, conn);
}

/* The tier directory's entries (objects/, tmp/, index.db) and, when it was
 * just created, its own entry are made durable once per open: object
 * files' paths start there (see seaftier_tier_sync_dir_path in objfile.c). */
static gboolean
sync_tier_dir(SeaftierTier *tier, gboolean existed, GError **error)
{
    if (!seaftier_tier_fsync_path(tier->dir, TRUE, error))
        return FALSE;
    if (existed)
        return TRUE;
    char *parent = g_path_get_dirname(tier->dir);
    gboolean ok = seaftier_tier_fsync_path(parent, TRUE, error);
    g_free(parent);
    return ok;
}

SeaftierTier *
seaftier_tier_open(const SeaftierConfig *cfg, const char *dir, GError **error)
{
    g_return_val_if_fail(cfg != NULL && dir != NULL, NULL);
    SeaftierTier *tier = g_new0(SeaftierTier, 1);
    const SeaftierTierConfig *tc = &cfg->tier;
    tier->cfg = cfg;
    tier->dir = g_strdup(dir);
    tier->db_path = g_build_filename(dir, "index.db", NULL);
    tier->objects_dir = g_build_filename(dir, "objects", NULL);
    tier->tmp_dir = g_build_filename(dir, "tmp", NULL);
    tier->nudge_path = g_build_filename(dir, "seaftierd.nudge", NULL);
    tier->inline_max = tc->inline_max;
    tier->max_size = tc->max_size;
    tier->min_free_space = tc->min_free_space;
    tier->high_watermark = tc->high_watermark > 0 && tc->high_watermark <= 100 ? tc->high_watermark : 90;
    tier->low_watermark = tc->low_watermark > 0 && tc->low_watermark <= tier->high_watermark
                              ? tc->low_watermark : MIN(80, tier->high_watermark);
    tier->compression = tc->compression;
    tier->nudge_fd = -1;
    tier->pool = g_ptr_array_new();
    g_mutex_init(&tier->pool_lock);
    g_mutex_init(&tier->atime_lock);
    g_mutex_init(&tier->evict_lock);
    g_mutex_init(&tier->counters_lock);
    g_cond_init(&tier->evict_cond);
    tier->atime_pending = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    tier->atime_last_flush = g_get_monotonic_time();
    seaftier_tier_commit_init(tier);
    tier->ram = seaftier_ram_new(tc->ram_cache_size, tier->inline_max);
    tier->loc = seaftier_loc_new(tc->location_cache_size);
    g_mutex_init(&tier->dirs_lock);
    g_mutex_init(&tier->meta_lock);
    g_mutex_init(&tier->direct_write_lock);
    g_mutex_init(&tier->mark_lock);
    g_cond_init(&tier->mark_cond);
    tier->mark_queue = g_ptr_array_new();
    g_mutex_init(&tier->snap_lock);
    tier->durable_dirs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

    gboolean existed = g_file_test(dir, G_FILE_TEST_IS_DIR);
    if (!make_private_dir(dir, error) || !make_private_dir(tier->objects_dir, error) ||
        !make_private_dir(tier->tmp_dir, error) || !map_epoch(tier, error) ||
        !seaftier_tier_db_init(tier, error) || !sync_tier_dir(tier, existed, error)) {
        seaftier_tier_close(tier);
        return NULL;
    }
    seaftier_tier_tmp_cleanup(tier);
    seaftier_tier_atime_horizon_refresh(tier);   /* before the first read notes one */
    tier->nudge_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    return tier;
}

void
seaftier_tier_close(SeaftierTier *tier)
{
    if (!tier)
        return;
    seaftier_tier_background_stop(tier);
    if (tier->pool)
        seaftier_tier_snapshot_release(tier, TRUE);
    if (tier->pool && tier->epoch) {
        seaftier_tier_atime_flush(tier);
        seaftier_tier_counters_flush(tier);
    }
    seaftier_tier_pool_free(tier);
    seaftier_ram_free(tier->ram);
    seaftier_loc_free(tier->loc);
    seaftier_tier_commit_clear(tier);
    if (tier->epoch)
        munmap(tier->epoch, tier->epoch_map_len);
    if (tier->nudge_fd >= 0)
        close(tier->nudge_fd);
    g_hash_table_destroy(tier->atime_pending);
    g_hash_table_destroy(tier->durable_dirs);
    g_mutex_clear(&tier->dirs_lock);
    seaftier_tier_meta_clear(tier);
    g_mutex_clear(&tier->meta_lock);
    g_mutex_clear(&tier->direct_write_lock);
    g_mutex_clear(&tier->mark_lock);
    g_cond_clear(&tier->mark_cond);
    if (tier->mark_queue)
        g_ptr_array_free(tier->mark_queue, TRUE);
    g_mutex_clear(&tier->snap_lock);
    g_mutex_clear(&tier->atime_lock);
    g_mutex_clear(&tier->pool_lock);
    g_mutex_clear(&tier->evict_lock);
    g_mutex_clear(&tier->counters_lock);
    g_cond_clear(&tier->evict_cond);
    g_free(tier->dir);
    g_free(tier->db_path);
    g_free(tier->objects_dir);
    g_free(tier->tmp_dir);
    g_free(tier->nudge_path);
    g_free(tier);
}

const char *
seaftier_tier_dir(const SeaftierTier *tier)
{
    return tier->dir;
}

/* ---- lazy access times (atime.c), flushed by the background thread ---- */

static void
note_access(SeaftierTier *tier, gint64 rowid, gint64 row_atime)
{
    if (seaftier_tier_note_access(tier, rowid, row_atime))
        seaftier_tier_background_request(tier, FALSE, TRUE);
}

/* ---- loading and checking data ---- */

int
seaftier_tier_load(SeaftierTier *tier, SeaftierObjType type, const char *repo_id,
                   const char *obj_id, const TierRow *row, const void *blob, gsize blob_len,
                   void **data, const char **problem, GError **error)
{
    void *out = NULL;
    guint32 crc = 0;
    gboolean crc_done = FALSE;
    if (row->location == LOC_INLINE) {
        if (blob_len == G_MAXSIZE)
            return 0;
        if (blob_len != row->stored_size) {
            *problem = "inline data size differs from the index";
            return -1;
        }
        out = g_malloc(row->size ? row->size : 1);
        if (!seaftier_codec_decode(row->codec, blob, blob_len, out, row->size, problem)) {
            g_free(out);
            return -1;
        }
    } else {
        char *path = seaftier_tier_file_path(tier, type, repo_id, obj_id, row->generation);
        int r = seaftier_tier_file_read(path, row->codec, row->size, row->checksum,
                                        row->stored_size, &out, &crc, &crc_done, problem, error);
        g_free(path);
        if (r != 1)
            return r;
    }
    if (!crc_done)
        crc = seaftier_crc32c(0, out, row->size);
    if (crc != row->checksum) {
        *problem = "CRC32C checksum mismatch";
        g_free(out);
        return -1;
    }
    *data = out;
    return 1;
}

/* Drops the row of a bad copy if it still holds `row`'s version, in a
 * transaction of its own: a CLEAN row goes (S3 has the object); a lost
 * non-durable DIRTY row goes too, or becomes REMOTE when S3 may hold the
 * same (content-addressed) object from before it (`uploaded`: a write over
 * an evicted or deleted row), so the index does not answer "absent" for it.
 * FULL for a file: the row must be gone before the file is. TRUE when it
 * was dropped. */
static gboolean
drop_bad_row(SeaftierTier *tier, const TierRow *row, GError **error)
{
    TierConn *conn = seaftier_tier_conn_get(tier, error);
    if (!conn)
        return FALSE;
    gboolean ok = seaftier_tier_begin(conn, row->location == LOC_FILE, error);
    const char *sql;
    if (row->state == SEAFTIER_STATE_CLEAN)
        sql = "DELETE FROM objects WHERE id = ?1 AND generation = ?2 AND state = 0";
    else if (!row->uploaded)
        sql = "DELETE FROM objects WHERE id = ?1 AND generation = ?2 AND state = 1 AND synced = 0";
    else
        sql = "UPDATE objects SET state = 3, stored_size = 0, codec = 0, location = 0, synced = 1,"
              " attempts = 0, retry_at = 0, last_error = '', generation = ?3"
              " WHERE id = ?1 AND generation = ?2 AND state = 1 AND synced = 0";
    sqlite3_stmt *stmt = ok ? seaftier_tier_stmt(conn, sql, error) : NULL;
    gboolean dropped = FALSE;
    if (stmt) {
        sqlite3_bind_int64(stmt, 1, row->rowid);
        sqlite3_bind_int64(stmt, 2, row->generation);
        if (row->state != SEAFTIER_STATE_CLEAN && row->uploaded)
            sqlite3_bind_int64(stmt, 3, seaftier_tier_new_generation());
        int rc = sqlite3_step(stmt);
        sqlite3_reset(stmt);
        if (rc != SQLITE_DONE)
            seaftier_tier_sql_error(error, conn, rc, "dropping a bad copy");
        dropped = rc == SQLITE_DONE && sqlite3_changes(conn->db) > 0;
        ok = rc == SQLITE_DONE;
    } else {
        ok = FALSE;
    }
    if (ok && dropped && row->location == LOC_INLINE) {
        /* (a deleted row's trigger removes its blob; a REMOTE one keeps none) */
        sqlite3_stmt *b = seaftier_tier_stmt(conn, "DELETE FROM blobs WHERE id = ?1", error);
        ok = b != NULL;
        if (b) {
            sqlite3_bind_int64(b, 1, row->rowid);
            int rc = sqlite3_step(b);
            sqlite3_reset(b);
            if (rc != SQLITE_DONE) {
                seaftier_tier_sql_error(error, conn, rc, "dropping a bad copy");
                ok = FALSE;
            }
        }
    }
    /* The caller bumps the epoch after the commit; this bump, before it,
     * makes every location cache entry naming the row id dead before the
     * id can be given to another object (loc.h). */
    if (ok && dropped)
        seaftier_tier_bump_epoch(tier);
    ok = ok && seaftier_tier_commit(conn, error);
    if (!ok)
        seaftier_tier_rollback(conn);
    seaftier_tier_conn_put(tier, conn);
    return ok && dropped;
}

void
seaftier_tier_bad_copy(SeaftierTier *tier, SeaftierObjType type, const char *repo_id,
                       const char *obj_id, const TierRow *row, gboolean missing,
                       const char *problem, GError **error)
{
    const char *tname = seaftier_tier_type_dir(type);
    const char *what = row->location == LOC_FILE ? "file" : "inline copy";
    const char *how = missing ? "missing" : "corrupt";
    if (row->state != SEAFTIER_STATE_CLEAN && row->synced) {
        /* Durable: the bytes were acknowledged as surviving anything; never
         * dropped silently. */
        seaftier_error("DIRTY object %s/%s/%s in tier %s: local %s is %s%s%s; it was never "
                       "uploaded, so no other copy exists. Kept for an operator "
                       "(seaftier-admin inspect/verify).", tname, repo_id, obj_id, tier->dir,
                       what, how, problem ? ": " : "", problem ? problem : "");
        g_set_error(error, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_CORRUPT,
                    "dirty object %s/%s/%s: local %s is %s%s%s (not uploaded yet)", tname,
                    repo_id, obj_id, what, how, problem ? ": " : "", problem ? problem : "");
        return;
    }
    gboolean lost_write = row->state != SEAFTIER_STATE_CLEAN;
    GError *err = NULL;
    gboolean dropped = drop_bad_row(tier, row, &err);
    if (dropped) {
        if (lost_write)
            /* A store acknowledged without durability (need_sync off) whose
             * row reached the disk (another store's FULL commit synced the
             * WAL) but whose bytes did not: a power cut lost the write, as
             * it may. Retrying its upload could never succeed. */
            seaftier_warning("DIRTY object %s/%s/%s in tier %s: local %s is %s%s%s and was "
                             "never synced: a non-durable write lost by a crash; its row was "
                             "dropped%s", tname, repo_id, obj_id, tier->dir, what, how,
                             problem ? ": " : "", problem ? problem : "",
                             row->uploaded ? " (S3 may hold the object from before: kept as "
                                             "REMOTE)" : "");
        else
            seaftier_warning("clean object %s/%s/%s in tier %s: local %s is %s%s%s; dropped, "
                             "it will be fetched again from S3", tname, repo_id, obj_id,
                             tier->dir, what, how, problem ? ": " : "", problem ? problem : "");
        seaftier_tier_forget_data(tier, type, repo_id, obj_id, row->location, row->generation);
        seaftier_tier_bump_epoch(tier);
    } else if (err) {
        seaftier_warning("could not drop %s object %s/%s/%s (local %s %s): %s",
                         lost_write ? "lost dirty" : "clean", tname, repo_id, obj_id, what, how,
                         err->message);
        g_clear_error(&err);
    }
    /* (not dropped without an error: the row changed meanwhile — a newer
     * version, to be read again) */
    if (missing || lost_write)
        g_set_error(error, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_NOT_FOUND,
                    "%s/%s/%s: local %s was %s%s", tname, repo_id, obj_id, what, how,
                    lost_write ? " (a non-durable write lost by a crash) and has been dropped"
                               : " and has been dropped");
    else
        g_set_error(error, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_CORRUPT,
                    "%s/%s/%s: local copy was corrupt (%s) and has been dropped", tname, repo_id,
                    obj_id, problem ? problem : "?");
}

/* ---- read ---- */

/* A RAM entry older than the shared epoch is re-checked against the index. */
static gboolean
ram_entry_valid(SeaftierTier *tier, SeaftierObjType type, const char *repo_id,
                const char *obj_id)
{
    GError *err = NULL;
    TierConn *conn = seaftier_tier_conn_get(tier, &err);
    if (!conn) {
        g_clear_error(&err);
        return FALSE;
    }
    TierRow row;
    gboolean found = seaftier_tier_find_row(conn, type, repo_id, obj_id, &row, &err);
    seaftier_tier_conn_put(tier, conn);
    g_clear_error(&err);
    return found && row.state != SEAFTIER_STATE_DELETED;
}

/* What every disk hit does once its bytes `out` (NULL for a stream) were
 * checked: counts it, keeps a small object in the RAM tier (its access time
 * noted at `atime_mark` or now) and hands it to the caller. */
static void
disk_hit_served(SeaftierTier *tier, SeaftierObjType type, const char *repo_id,
                const char *obj_id, void *out, guint64 size, gint64 rowid, gint64 atime_mark,
                guint64 epoch, void **data, gsize *len)
{
    seaftier_tier_count(tier, TIER_DISK_HITS, 1);
    seaftier_tier_count(tier, TIER_BYTES_READ, size);
    if (out && tier->ram && size <= tier->inline_max)
        seaftier_ram_put(tier->ram, type, repo_id, obj_id, out, size, rowid, epoch,
                         MAX(atime_mark, seaftier_tier_now()));
    *data = out;
    *len = size;
}

/* A disk hit through the location cache (loc.h): the inline blob by its row
 * id, or the object file of the cached generation, checked as any read is.
 * 1 read; 0 not (no entry, or anything else than a clean read: the index
 * path then looks, and alone decides that a copy is damaged). */
static int
read_located(SeaftierTier *tier, SeaftierObjType type, const char *repo_id, const char *obj_id,
             guint64 epoch, gboolean streaming, void **data, gsize *len)
{
    TierLocation at;
    if (!seaftier_loc_get(tier->loc, type, repo_id, obj_id, epoch, &at) ||
        (streaming && at.codec == SEAFTIER_CODEC_PIECES))
        return 0;
    TierRow row = { .rowid = at.rowid, .size = at.size, .stored_size = at.stored_size,
                    .codec = at.codec, .checksum = at.checksum, .location = at.location,
                    .generation = at.generation, .atime = at.atime_mark };
    const char *problem = NULL;
    GError *err = NULL;
    void *out = NULL;
    int r = 0;
    if (row.location == LOC_INLINE) {
        gboolean snap;
        TierConn *conn = read_conn_get(tier, &snap, &err);
        sqlite3_stmt *stmt = conn ? seaftier_tier_stmt(conn, "SELECT data FROM blobs WHERE id = ?1",
                                                       &err) : NULL;
        if (stmt) {
            sqlite3_bind_int64(stmt, 1, row.rowid);
            if (sqlite3_step(stmt) == SQLITE_ROW)
                r = seaftier_tier_load(tier, type, repo_id, obj_id, &row,
                                       sqlite3_column_blob(stmt, 0),
                                       (gsize)sqlite3_column_bytes(stmt, 0), &out, &problem, &err);
            sqlite3_reset(stmt);
        }
        if (conn)
            read_conn_put(tier, conn, snap, stmt != NULL);
    } else {
        r = seaftier_tier_load(tier, type, repo_id, obj_id, &row, NULL, 0, &out, &problem, &err);
    }
    g_clear_error(&err);
    /* The epoch read again after the data: a delete (or a row id freed, which
     * bumps it before its commit) since the entry's fill is not read through. */
    if (r != 1 || seaftier_tier_epoch(tier) != epoch) {
        if (r == 1)
            g_free(out);
        seaftier_loc_remove(tier->loc, type, repo_id, obj_id);
        return 0;
    }
    seaftier_tier_count(tier, TIER_LOCATED_HITS, 1);
    gint64 now = seaftier_tier_now();
    if (now - at.atime_mark >= seaftier_tier_atime_granularity(tier)) {
        note_access(tier, row.rowid, at.atime_mark);
        seaftier_loc_touch(tier->loc, type, repo_id, obj_id, now);
    }
    disk_hit_served(tier, type, repo_id, obj_id, out, row.size, row.rowid, at.atime_mark, epoch,
                    data, len);
    return 1;
}

/* 1 found, 0 retry (the row changed under us), -1 error set. */
static int
read_disk(SeaftierTier *tier, SeaftierObjType type, const char *repo_id, const char *obj_id,
          guint64 epoch, void **data, gsize *len, SeaftierTierStream **stream, GError **error)
{
    TierIdKey repo_key, obj_key;
    gboolean snap;
    TierConn *conn = read_conn_get(tier, &snap, error);
    if (!conn)
        return -1;
    sqlite3_stmt *stmt = seaftier_tier_stmt(conn, read_sql, error);
    if (!stmt) {
        read_conn_put(tier, conn, snap, FALSE);
        return -1;
    }
    /* (the ids were checked: their lengths are known) */
    sqlite3_bind_int(stmt, 1, type);
    seaftier_tier_bind_id(stmt, 2, repo_id, &repo_key);
    seaftier_tier_bind_id(stmt, 3, obj_id, &obj_key);
    int rc = sqlite3_step(stmt);
    if (rc != SQLITE_ROW) {
        if (rc == SQLITE_DONE) {
            seaftier_tier_count(tier, TIER_MISSES, 1);
            g_set_error(error, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_NOT_FOUND,
                        "%s/%s/%s is not in the tier", seaftier_tier_type_dir(type), repo_id,
                        obj_id);
        } else {
            seaftier_tier_sql_error(error, conn, rc, "read");
        }
        sqlite3_reset(stmt);
        read_conn_put(tier, conn, snap, rc == SQLITE_DONE);
        return -1;
    }
    TierRow row;
    seaftier_tier_row_from_stmt(stmt, &row);
    if (row.state == SEAFTIER_STATE_DELETED) {
        sqlite3_reset(stmt);
        read_conn_put(tier, conn, snap, TRUE);
        seaftier_tier_count(tier, TIER_MISSES, 1);
        g_set_error(error, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_DELETED,
                    "%s/%s/%s was deleted (remote delete pending)", seaftier_tier_type_dir(type),
                    repo_id, obj_id);
        return -1;
    }
    if (row.state == SEAFTIER_STATE_REMOTE) {
        /* Evicted (or only seen in S3): a miss, which the caller fills. */
        sqlite3_reset(stmt);
        read_conn_put(tier, conn, snap, TRUE);
        seaftier_tier_count(tier, TIER_MISSES, 1);
        g_set_error(error, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_NOT_FOUND,
                    "%s/%s/%s is in S3 only", seaftier_tier_type_dir(type), repo_id, obj_id);
        return -1;
    }
    const char *problem = NULL;
    void *out = NULL;
    int r;
    if (row.location == LOC_INLINE) {
        gsize blob_len = G_MAXSIZE;
        const void *blob = NULL;
        if (sqlite3_column_type(stmt, 11) != SQLITE_NULL) {
            blob = sqlite3_column_blob(stmt, 11);
            blob_len = (gsize)sqlite3_column_bytes(stmt, 11);
        }
        r = seaftier_tier_load(tier, type, repo_id, obj_id, &row, blob, blob_len, &out,
                               &problem, error);
        sqlite3_reset(stmt);
        read_conn_put(tier, conn, snap, TRUE);
    } else {
        sqlite3_reset(stmt);
        read_conn_put(tier, conn, snap, TRUE);
        if (stream && row.codec == SEAFTIER_CODEC_PIECES)
            r = seaftier_tier_stream_open_file(tier, type, repo_id, obj_id, &row, stream,
                                               &problem, error);
        else
            r = seaftier_tier_load(tier, type, repo_id, obj_id, &row, NULL, 0, &out, &problem,
                                   error);
        if (r == 0) {
            /* An eviction or delete may have removed the file after we read
             * the row: only a row that still names it means damage. */
            GError *err = NULL;
            TierRow now;
            conn = seaftier_tier_conn_get(tier, error);
            if (!conn)
                return -1;
            gboolean found = seaftier_tier_find_row(conn, type, repo_id, obj_id, &now, &err);
            seaftier_tier_conn_put(tier, conn);
            if (err) {
                g_propagate_error(error, err);
                return -1;
            }
            if (!found || now.generation != row.generation || now.state != row.state)
                return 0;
        }
    }
    if (r == -2)
        return -1;
    if (r != 1) {
        seaftier_tier_bad_copy(tier, type, repo_id, obj_id, &row, r == 0, problem, error);
        return -1;
    }
    note_access(tier, row.rowid, row.atime);
    TierLocation where = { .rowid = row.rowid, .generation = row.generation, .size = row.size,
                           .stored_size = row.stored_size, .checksum = row.checksum,
                           .codec = row.codec, .location = row.location,
                           .atime_mark = MAX(row.atime, seaftier_tier_now()) };
    seaftier_loc_put(tier->loc, type, repo_id, obj_id, epoch, &where);
    disk_hit_served(tier, type, repo_id, obj_id, out, row.size, row.rowid, row.atime, epoch,
                    data, len);
    return 1;
}

gboolean
seaftier_tier_read(SeaftierTier *tier, SeaftierObjType type, const char *repo_id,
                   const char *obj_id, void **data, gsize *len, GError **error)
{
    return seaftier_tier_read_or_stream(tier, type, repo_id, obj_id, data, len, NULL, error);
}

gboolean
seaftier_tier_read_or_stream(SeaftierTier *tier, SeaftierObjType type, const char *repo_id,
                             const char *obj_id, void **data, gsize *len,
                             SeaftierTierStream **stream, GError **error)
{
    if (stream)
        *stream = NULL;
    if (!seaftier_tier_check_ids(type, repo_id, obj_id, error))
        return FALSE;
    guint64 epoch = seaftier_tier_epoch(tier);
    gint64 rowid, mark;
    guint64 entry_epoch;
    void *ram_data;
    gsize ram_len;
    if (seaftier_ram_get(tier->ram, type, repo_id, obj_id, &ram_data, &ram_len, &rowid,
                         &entry_epoch, &mark)) {
        if (entry_epoch >= epoch || ram_entry_valid(tier, type, repo_id, obj_id)) {
            gint64 now = seaftier_tier_now();
            if (now - mark >= seaftier_tier_atime_granularity(tier)) {
                note_access(tier, rowid, mark);
                seaftier_ram_touch(tier->ram, type, repo_id, obj_id, epoch, now);
            } else if (entry_epoch < epoch) {
                seaftier_ram_touch(tier->ram, type, repo_id, obj_id, epoch, mark);
            }
            seaftier_tier_count(tier, TIER_RAM_HITS, 1);
            seaftier_tier_count(tier, TIER_BYTES_READ, ram_len);
            *data = ram_data;
            *len = ram_len;
            return TRUE;
        }
        g_free(ram_data);
        seaftier_ram_remove(tier->ram, type, repo_id, obj_id);
    }
    if (read_located(tier, type, repo_id, obj_id, epoch, stream != NULL, data, len))
        return TRUE;
    for (int attempt = 0; attempt < 3; attempt++) {
        int r = read_disk(tier, type, repo_id, obj_id, epoch, data, len, stream, error);
        if (r != 0)
            return r == 1;
    }
    g_set_error(error, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_NOT_FOUND,
                "%s/%s/%s is not in the tier (removed while being read)",
                seaftier_tier_type_dir(type), repo_id, obj_id);
    return FALSE;
}

gboolean
seaftier_tier_lookup(SeaftierTier *tier, SeaftierObjType type, const char *repo_id,
                     const char *obj_id, SeaftierTierEntry *entry, GError **error)
{
    TierIdKey repo_key, obj_key;
    if (!seaftier_tier_check_ids(type, repo_id, obj_id, error))
        return FALSE;
    TierConn *conn = seaftier_tier_conn_get(tier, error);
    if (!conn)
        return FALSE;
    sqlite3_stmt *stmt = seaftier_tier_stmt(conn,
        "SELECT " TIER_ENTRY_COLS " FROM objects WHERE type = ?1 AND repo_id = ?2 AND obj_id = ?3",
        error);
    gboolean found = FALSE;
    if (stmt) {
        sqlite3_bind_int(stmt, 1, type);
        seaftier_tier_bind_id(stmt, 2, repo_id, &repo_key);
        seaftier_tier_bind_id(stmt, 3, obj_id, &obj_key);
        int rc = sqlite3_step(stmt);
        if (rc == SQLITE_ROW) {
            if (entry)
                seaftier_tier_entry_from_stmt(stmt, 0, entry);
            found = TRUE;
        } else if (rc != SQLITE_DONE) {
            seaftier_tier_sql_error(error, conn, rc, "lookup");
        }
        sqlite3_reset(stmt);
    }
    seaftier_tier_conn_put(tier, conn);
    return found;
}
