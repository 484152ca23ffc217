/* lib/tier/db.c — the SQLite index: schema, connection pool, statements.
 *
 * Schema (user_version 4; version 1 is created first and upgraded in place,
 * so a new index and an upgraded one are made by the same statements):
 *  objects  one row per (type, repo_id, obj_id); the index rows stay small
 *           because the bytes of inline objects live in `blobs`, so scans
 *           (eviction, upload batches, stats) never page through data.
 *  blobs    inline payloads keyed by the object's rowid (deleted with it by
 *           a trigger, so no payload can outlive its row).
 *  usage    objects/bytes/stored bytes per (type, state), kept exact by
 *           triggers in the same transaction as every change: reading the
 *           tier's size is 12 rows, not a scan of a million.
 *  meta     (version 2) small persistent notes: which types the index is
 *           complete for (and for which bucket), where an import stopped.
 * Version 2 also added the REMOTE state (3): rows without local data for
 * objects S3 holds. Version 1 code would take such a row for an object of
 * unknown state, so the version is bumped and old code refuses the index.
 * Version 3 changes no table: it is the promise that every process writing
 * the index bumps the shared commit sequence after each commit (the WAL
 * hook), on which readers keep a read snapshot open across hits (tier.c).
 * Version 2 code does not, so it must not write a version 3 index.
 * Version 4 stores canonical ids as blobs (dbid.c: an object id as its 20
 * bytes, a repo id as its 16) in `objects` and `tombstones`, which makes the
 * table row and its key index ~70 bytes smaller per object. The columns keep
 * their declared TEXT type (SQLite never converts a BLOB by affinity), and
 * an id that is not canonical stays TEXT. Version 3 code would look up text
 * ids and find nothing, so it must refuse a version 4 index (it does: it
 * knows only 3).
 * Partial indexes serve the three ordered scans: dirty by creation time
 * (uploads, oldest first), clean by access time (eviction, LRU first), and
 * deleted by retry time (remote deletes).
 *
 * The database file is created 0600 before SQLite opens it; SQLite gives its
 * -wal and -shm files the same mode. WAL mode lets readers proceed while one
 * writer commits; synchronous is chosen per transaction (FULL when anything
 * in it must be durable, NORMAL otherwise: a lost non-durable commit after a
 * power failure is allowed by the API and repaired by reads).
 */
#include "seaftier-build.h"

#include "tier/tier-private.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Writers wait this long for another process's transaction before failing. */
#define BUSY_TIMEOUT_MS 30000
/* Retry delays while another process holds the write lock: from 50 us,
 * doubling, at most 2 ms. */
#define BUSY_FIRST_US 50
#define BUSY_MAX_US 2000
/* Asked of SQLite as the memory map's size: all of the index (clamped). */
#define INDEX_MMAP_MAX 1099511627776

static const char *const schema_v1_sql =
    "CREATE TABLE objects ("
    " id INTEGER PRIMARY KEY,"
    " type INTEGER NOT NULL,"
    " repo_id TEXT NOT NULL,"
    " obj_id TEXT NOT NULL,"
    " state INTEGER NOT NULL,"
    " size INTEGER NOT NULL,"
    " stored_size INTEGER NOT NULL,"
    " codec INTEGER NOT NULL,"
    " checksum INTEGER NOT NULL,"
    " location INTEGER NOT NULL,"        /* 0 inline (blobs), 1 file */
    " created INTEGER NOT NULL,"
    " atime INTEGER NOT NULL,"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " retry_at INTEGER NOT NULL DEFAULT 0,"
    " generation INTEGER NOT NULL,"
    " uploaded INTEGER NOT NULL DEFAULT 0,"
    " synced INTEGER NOT NULL DEFAULT 1,"  /* committed with synchronous=FULL */
    " last_error TEXT NOT NULL DEFAULT '');"
    "CREATE UNIQUE INDEX objects_key ON objects(type, repo_id, obj_id);"
    "CREATE INDEX objects_dirty ON objects(created) WHERE state = 1;"
    "CREATE INDEX objects_lru ON objects(atime) WHERE state = 0;"
    "CREATE INDEX objects_deleted ON objects(retry_at) WHERE state = 2;"
    "CREATE TABLE blobs (id INTEGER PRIMARY KEY, data BLOB NOT NULL);"
    "CREATE TABLE usage ("
    " type INTEGER NOT NULL, state INTEGER NOT NULL,"
    " objects INTEGER NOT NULL DEFAULT 0, bytes INTEGER NOT NULL DEFAULT 0,"
    " stored_bytes INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY (type, state));"
    "INSERT INTO usage (type, state) VALUES (0,0),(0,1),(0,2),(1,0),(1,1),(1,2),(2,0),(2,1),(2,2);"
    "CREATE TRIGGER objects_ins AFTER INSERT ON objects BEGIN"
    " UPDATE usage SET objects = objects + 1, bytes = bytes + NEW.size,"
    "  stored_bytes = stored_bytes + NEW.stored_size WHERE type = NEW.type AND state = NEW.state;"
    " END;"
    "CREATE TRIGGER objects_del AFTER DELETE ON objects BEGIN"
    " UPDATE usage SET objects = objects - 1, bytes = bytes - OLD.size,"
    "  stored_bytes = stored_bytes - OLD.stored_size WHERE type = OLD.type AND state = OLD.state;"
    " DELETE FROM blobs WHERE id = OLD.id;"
    " END;"
    "CREATE TRIGGER objects_upd AFTER UPDATE OF type, state, size, stored_size ON objects BEGIN"
    " UPDATE usage SET objects = objects - 1, bytes = bytes - OLD.size,"
    "  stored_bytes = stored_bytes - OLD.stored_size WHERE type = OLD.type AND state = OLD.state;"
    " UPDATE usage SET objects = objects + 1, bytes = bytes + NEW.size,"
    "  stored_bytes = stored_bytes + NEW.stored_size WHERE type = NEW.type AND state = NEW.state;"
    " END;";

/* Version 1 → 2: the REMOTE state's usage rows and the meta table. Run in
 * the transaction that sets user_version, so an upgrade is all or nothing. */
static const char *const upgrade_v2_sql =
    "INSERT OR IGNORE INTO usage (type, state) VALUES (0,3),(1,3),(2,3);"
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;";

/* Runs one statement of the upgrade and adds the rows it changed to
 * *changed (when given). */
static gboolean
upgrade_step(TierConn *conn, const char *sql, gint64 *changed, GError **error)
{
    if (!seaftier_tier_exec(conn, sql, error))
        return FALSE;
    if (changed)
        *changed += sqlite3_changes64(conn->db);
    return TRUE;
}

/* Version 3 → 4: every id to the index's binary form (tier_id(), dbid.c), in
 * `objects` and `tombstones`. The key indexes are dropped and built again
 * after the rows are rewritten (one sorted build instead of a delete and an
 * insert per row); the encoding is injective, so the unique key cannot
 * collide. The usage triggers do not fire: they watch type, state and sizes
 * only. Runs in the transaction that sets user_version: all or nothing. */
static gboolean
upgrade_v4(TierConn *conn, const char *db_path, GError **error)
{
    gint64 started = g_get_monotonic_time();
    gint64 objects = 0, tombstones = 0;
    gboolean ok =
        upgrade_step(conn, "DROP INDEX objects_key", NULL, error) &&
        upgrade_step(conn, "UPDATE objects SET repo_id = tier_id(repo_id),"
                           " obj_id = tier_id(obj_id)", &objects, error) &&
        upgrade_step(conn, "CREATE UNIQUE INDEX objects_key ON objects(type, repo_id, obj_id)",
                     NULL, error) &&
        upgrade_step(conn, "DROP INDEX tombstones_key", NULL, error) &&
        upgrade_step(conn, "UPDATE tombstones SET repo_id = tier_id(repo_id),"
                           " obj_id = tier_id(obj_id)", &tombstones, error) &&
        upgrade_step(conn, "CREATE INDEX tombstones_key ON tombstones(type, repo_id, obj_id, seq)",
                     NULL, error);
    if (ok)
        seaftier_info("tier index %s: %" G_GINT64_FORMAT " object rows and %" G_GINT64_FORMAT
                      " tombstones converted to binary ids in %.1f s", db_path, objects,
                      tombstones, (double)(g_get_monotonic_time() - started) / G_USEC_PER_SEC);
    else
        g_prefix_error(error, "upgrading tier index %s to schema 4: ", db_path);
    return ok;
}

void
seaftier_tier_sql_error(GError **error, TierConn *conn, int rc, const char *what)
{
    int code = SEAFTIER_TIER_ERROR_IO;
    if (rc == SQLITE_FULL)
        code = SEAFTIER_TIER_ERROR_FULL;
    g_set_error(error, SEAFTIER_TIER_ERROR, code, "tier index %s: %s (%s)", what,
                conn && conn->db ? sqlite3_errmsg(conn->db) : sqlite3_errstr(rc),
                sqlite3_errstr(rc));
}

static void
finalize_stmt(gpointer stmt)
{
    sqlite3_finalize(stmt);
}

static void
conn_free(TierConn *conn)
{
    if (!conn)
        return;
    if (conn->stmts)
        g_hash_table_destroy(conn->stmts);
    sqlite3_close_v2(conn->db);
    g_free(conn);
}

/* Called by SQLite while another process holds the lock it needs. SQLite's
 * own handler (sqlite3_busy_timeout) sleeps 1, 2, 5, 10 ... 100 ms between
 * attempts, so a seaf-server store meeting one of seaftierd's sub-millisecond
 * mark-clean transactions slept a millisecond or more. The tier's write
 * transactions are short: retry after 50 us, doubling up to 2 ms, until
 * BUSY_TIMEOUT_MS have passed (then SQLITE_BUSY reaches the caller). */
static int
busy_wait(void *arg, int attempt)
{
    TierConn *conn = arg;
    gint64 now = g_get_monotonic_time();
    if (attempt == 0)
        conn->busy_since_us = now;
    else if (now - conn->busy_since_us > (gint64)BUSY_TIMEOUT_MS * 1000)
        return 0;
    g_usleep(attempt < 6 ? (gulong)BUSY_FIRST_US << attempt : BUSY_MAX_US);
    return 1;
}

static TierConn *
conn_open(SeaftierTier *tier, GError **error)
{
    TierConn *conn = g_new0(TierConn, 1);
    conn->sync_full = -1;
    conn->tier = tier;
    int rc = sqlite3_open_v2(tier->db_path, &conn->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                             seaftier_tier_map_vfs());
    if (rc != SQLITE_OK) {
        g_set_error(error, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_IO,
                    "cannot open tier index %s: %s", tier->db_path,
                    conn->db ? sqlite3_errmsg(conn->db) : sqlite3_errstr(rc));
        conn_free(conn);
        return NULL;
    }
    seaftier_tier_checkpoint_attach(tier, conn->db);
    rc = seaftier_tier_register_id_sql(conn->db);
    if (rc != SQLITE_OK) {
        seaftier_tier_sql_error(error, conn, rc, "registering its id functions");
        conn_free(conn);
        return NULL;
    }
    /* The WAL outlives the last connection (and keeps its size: no
     * journal_size_limit), so a process that opens the tier again writes
     * its commits over blocks the file already has. An fdatasync of a
     * growing file must also write its inode (size, blocks): 4 KiB append +
     * fdatasync measured p50 ~540 us here against ~210 us for an overwrite,
     * 8 interleaved rounds. Without this every process start paid that for
     * the WAL's whole first cycle (1000-4000 pages). The price is a recovery
     * read of the last cycle's frames at the first open (1.3-2.1 ms for a
     * 16 MiB WAL, measured). */
    int persist = 1;
    sqlite3_file_control(conn->db, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
    conn->stmts = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, finalize_stmt);
    sqlite3_extended_result_codes(conn->db, 1);
    sqlite3_busy_handler(conn->db, busy_wait, conn);
    /* No auto_vacuum: its pointer-map page is one more WAL frame in every
     * commit (measured ~20% fewer durable stores/s with it). Pages freed by
     * deletes and evictions stay in the index's free list and are reused by
     * the next inline objects, so the file does not keep growing; disk space
     * at the free-space floor comes back from evicted object files. */
    if (!seaftier_tier_exec(conn, "PRAGMA journal_mode=WAL", error) ||
        !seaftier_tier_exec(conn, "PRAGMA foreign_keys=OFF", error)) {
        conn_free(conn);
        return NULL;
    }
    /* Reads through a memory map skip one pread (syscall + copy) per page:
     * disk hits measured ~25% faster. The whole index is mapped (SQLite
     * clamps the size to its compile-time maximum, 2 GiB in Debian's build):
     * a map smaller than the index sends every lookup that leaves it back to
     * pread, which is what made hits at 1 000 000 objects 2-3x slower than
     * at 10 000. The map is file-backed page cache, not the process's own
     * memory: the kernel may drop its pages at any time, and the
     * process's anonymous memory does not grow with the index. */
    if (!seaftier_tier_exec(conn, "PRAGMA mmap_size=" G_STRINGIFY(INDEX_MMAP_MAX), error)) {
        conn_free(conn);
        return NULL;
    }
    return conn;
}

TierConn *
seaftier_tier_conn_get(SeaftierTier *tier, GError **error)
{
    TierConn *conn = NULL;
    g_mutex_lock(&tier->pool_lock);
    if (tier->pool->len)
        conn = g_ptr_array_steal_index_fast(tier->pool, tier->pool->len - 1);
    g_mutex_unlock(&tier->pool_lock);
    return conn ? conn : conn_open(tier, error);
}

void
seaftier_tier_conn_put(SeaftierTier *tier, TierConn *conn)
{
    if (!conn)
        return;
    /* A connection must come back without an open transaction. */
    if (!sqlite3_get_autocommit(conn->db))
        seaftier_tier_rollback(conn);
    g_mutex_lock(&tier->pool_lock);
    gboolean keep = tier->pool->len < POOL_MAX_IDLE;
    if (keep)
        g_ptr_array_add(tier->pool, conn);
    g_mutex_unlock(&tier->pool_lock);
    if (!keep)
        conn_free(conn);    /* a burst of threads is over: don't hoard page caches */
}

void
seaftier_tier_pool_free(SeaftierTier *tier)
{
    if (!tier->pool)
        return;
    for (guint i = 0; i < tier->pool->len; i++)
        conn_free(tier->pool->pdata[i]);
    g_ptr_array_free(tier->pool, TRUE);
    tier->pool = NULL;
}

sqlite3_stmt *
seaftier_tier_stmt(TierConn *conn, const char *sql, GError **error)
{
    sqlite3_stmt *stmt = g_hash_table_lookup(conn->stmts, sql);
    if (stmt) {
        sqlite3_reset(stmt);
        sqlite3_clear_bindings(stmt);
        return stmt;
    }
    int rc = sqlite3_prepare_v3(conn->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL);
    if (rc != SQLITE_OK) {
        seaftier_tier_sql_error(error, conn, rc, "prepare");
        return NULL;
    }
    g_hash_table_insert(conn->stmts, (gpointer)sql, stmt);
    return stmt;
}

gboolean
seaftier_tier_exec(TierConn *conn, const char *sql, GError **error)
{
    char *msg = NULL;
    int rc = sqlite3_exec(conn->db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        g_set_error(error, SEAFTIER_TIER_ERROR,
                    rc == SQLITE_FULL ? SEAFTIER_TIER_ERROR_FULL : SEAFTIER_TIER_ERROR_IO,
                    "tier index: \"%.60s\" failed: %s", sql, msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        return FALSE;
    }
    return TRUE;
}

gboolean
seaftier_tier_begin(TierConn *conn, gboolean full_sync, GError **error)
{
    int want = full_sync ? 1 : 0;
    if (conn->sync_full != want) {
        if (!seaftier_tier_exec(conn, full_sync ? "PRAGMA synchronous=FULL"
                                                : "PRAGMA synchronous=NORMAL", error))
            return FALSE;
        conn->sync_full = want;
    }
    sqlite3_stmt *stmt = seaftier_tier_stmt(conn, "BEGIN IMMEDIATE", error);
    if (!stmt)
        return FALSE;
    int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    if (rc != SQLITE_DONE) {
        seaftier_tier_sql_error(error, conn, rc, "begin transaction");
        return FALSE;
    }
    return TRUE;
}

gboolean
seaftier_tier_commit(TierConn *conn, GError **error)
{
    sqlite3_stmt *stmt = seaftier_tier_stmt(conn, "COMMIT", error);
    if (!stmt) {
        seaftier_tier_rollback(conn);
        return FALSE;
    }
    int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    if (rc != SQLITE_DONE) {
        seaftier_tier_sql_error(error, conn, rc, "commit");
        seaftier_tier_rollback(conn);
        return FALSE;
    }
    if (!conn->defer_checkpoint && seaftier_tier_checkpoint_due(conn->tier, FALSE))
        seaftier_tier_checkpoint_run(conn->tier, conn);
    return TRUE;
}

void
seaftier_tier_rollback(TierConn *conn)
{
    if (!sqlite3_get_autocommit(conn->db))
        sqlite3_exec(conn->db, "ROLLBACK", NULL, NULL, NULL);
}

void
seaftier_tier_row_from_stmt(sqlite3_stmt *stmt, TierRow *row)
{
    row->rowid = sqlite3_column_int64(stmt, 0);
    row->state = (SeaftierState)sqlite3_column_int(stmt, 1);
    row->size = (guint64)sqlite3_column_int64(stmt, 2);
    row->stored_size = (guint64)sqlite3_column_int64(stmt, 3);
    row->codec = sqlite3_column_int(stmt, 4);
    row->checksum = (guint32)sqlite3_column_int64(stmt, 5);
    row->location = sqlite3_column_int(stmt, 6);
    row->generation = sqlite3_column_int64(stmt, 7);
    row->atime = sqlite3_column_int64(stmt, 8);
    row->uploaded = sqlite3_column_int(stmt, 9) != 0;
    row->synced = sqlite3_column_int(stmt, 10) != 0;
}

gboolean
seaftier_tier_find_row(TierConn *conn, SeaftierObjType type, const char *repo_id,
                       const char *obj_id, TierRow *row, GError **error)
{
    sqlite3_stmt *stmt = seaftier_tier_stmt(conn,
        "SELECT " TIER_ROW_COLS " FROM objects WHERE type = ?1 AND repo_id = ?2 AND obj_id = ?3",
        error);
    if (!stmt)
        return FALSE;
    TierIdKey repo_key, obj_key;
    sqlite3_bind_int(stmt, 1, type);
    seaftier_tier_bind_id(stmt, 2, repo_id, &repo_key);
    seaftier_tier_bind_id(stmt, 3, obj_id, &obj_key);
    int rc = sqlite3_step(stmt);
    gboolean found = FALSE;
    if (rc == SQLITE_ROW) {
        seaftier_tier_row_from_stmt(stmt, row);
        found = TRUE;
    } else if (rc != SQLITE_DONE) {
        seaftier_tier_sql_error(error, conn, rc, "lookup");
    }
    sqlite3_reset(stmt);
    return found;
}

void
seaftier_tier_entry_from_stmt(sqlite3_stmt *stmt, int col, SeaftierTierEntry *e)
{
    memset(e, 0, sizeof(*e));
    e->type = (SeaftierObjType)sqlite3_column_int(stmt, col + 0);
    seaftier_tier_column_id(stmt, col + 1, e->repo_id, sizeof(e->repo_id));
    seaftier_tier_column_id(stmt, col + 2, e->obj_id, sizeof(e->obj_id));
    e->state = (SeaftierState)sqlite3_column_int(stmt, col + 3);
    e->size = (guint64)sqlite3_column_int64(stmt, col + 4);
    e->stored_size = (guint64)sqlite3_column_int64(stmt, col + 5);
    e->codec = sqlite3_column_int(stmt, col + 6);
    e->checksum = (guint32)sqlite3_column_int64(stmt, col + 7);
    e->created = sqlite3_column_int64(stmt, col + 8);
    e->atime = sqlite3_column_int64(stmt, col + 9);
    e->attempts = sqlite3_column_int(stmt, col + 10);
    e->retry_at = sqlite3_column_int64(stmt, col + 11);
    e->generation = sqlite3_column_int64(stmt, col + 12);
    e->uploaded = sqlite3_column_int(stmt, col + 13) != 0;
    const unsigned char *err = sqlite3_column_text(stmt, col + 14);
    g_strlcpy(e->last_error, err ? (const char *)err : "", sizeof(e->last_error));
}

/* Creates an empty index.db, 0600 (SQLite gives -wal and -shm the same
 * mode), when there is none. Never through an fd of index.db itself: on
 * Linux, closing any fd of a file drops every POSIX lock this process holds
 * on it, including those of SQLite connections of another tier handle on
 * the same directory, and another process could then checkpoint and remove
 * the WAL under them. So an empty file is made in tmp/ and linked into
 * place (link() fails with EEXIST when another opener was first). */
static gboolean
create_db_file(SeaftierTier *tier, GError **error)
{
    struct stat st;
    if (stat(tier->db_path, &st) == 0)
        return TRUE;
    if (errno != ENOENT) {
        g_set_error(error, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_IO,
                    "cannot stat tier index %s: %s", tier->db_path, g_strerror(errno));
        return FALSE;
    }
    char *tmp = g_strdup_printf("%s/%d-%08x.tmp", tier->tmp_dir, (int)getpid(), g_random_int());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    gboolean ok = fd >= 0;
    if (ok) {
        close(fd);
        ok = link(tmp, tier->db_path) == 0 || errno == EEXIST;
        int saved = errno;
        unlink(tmp);
        errno = saved;
    }
    if (!ok)
        g_set_error(error, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_IO,
                    "cannot create tier index %s: %s", tier->db_path, g_strerror(errno));
    g_free(tmp);
    return ok;
}

/* After the conversion to schema 4, once: the shorter rows were rewritten
 * in place, so the table's pages stay as full as the text ids left them
 * (1 000 000 rows: 245 MB with 48 MB free, where a new index holds them in
 * 156 MB; lookups touch more pages). VACUUM packs them (~1 s per million
 * rows here) and the checkpoint gives back the WAL that the conversion and
 * VACUUM grew (persistent, it keeps its size otherwise). Best effort: another
 * process on the index makes it fail, and the index is correct either way. */
static void
compact_after_upgrade(TierConn *conn, const char *db_path)
{
    gint64 started = g_get_monotonic_time();
    if (sqlite3_exec(conn->db, "VACUUM", NULL, NULL, NULL) != SQLITE_OK) {
        seaftier_warning("tier index %s: not compacted after the upgrade: %s", db_path,
                         sqlite3_errmsg(conn->db));
    } else {
        seaftier_info("tier index %s: compacted in %.1f s", db_path,
                      (double)(g_get_monotonic_time() - started) / G_USEC_PER_SEC);
    }
    if (sqlite3_exec(conn->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL) != SQLITE_OK)
        seaftier_warning("tier index %s: no checkpoint after the upgrade: %s", db_path,
                         sqlite3_errmsg(conn->db));
}

gboolean
seaftier_tier_db_init(SeaftierTier *tier, GError **error)
{
    if (!create_db_file(tier, error))
        return FALSE;

    TierConn *conn = conn_open(tier, error);
    if (!conn)
        return FALSE;
    gboolean ok = FALSE;
    if (!seaftier_tier_begin(conn, TRUE, error))
        goto out;
    sqlite3_stmt *stmt = seaftier_tier_stmt(conn, "PRAGMA user_version", error);
    if (!stmt)
        goto out;
    int version = sqlite3_step(stmt) == SQLITE_ROW ? sqlite3_column_int(stmt, 0) : -1;
    sqlite3_reset(stmt);
    if (version == 0) {
        if (!seaftier_tier_exec(conn, schema_v1_sql, error))
            goto out;
        seaftier_info("created tier index %s", tier->db_path);
    } else if (version < 0 || version > SEAFTIER_SCHEMA_VERSION) {
        g_set_error(error, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_IO,
                    "tier index %s has schema version %d; this seaftier knows only %d",
                    tier->db_path, version, SEAFTIER_SCHEMA_VERSION);
        goto out;
    }
    if (version < 2) {
        if (!seaftier_tier_exec(conn, upgrade_v2_sql, error))
            goto out;
        if (version == 1)
            seaftier_info("upgraded tier index %s from schema 1 to 2", tier->db_path);
    }
    /* Added to schema 1 compatibly (older versions ignore it): the read
     * counters of all processes, persisted by each every few seconds. */
    if (!seaftier_tier_exec(conn, "CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY,"
                                  " value INTEGER NOT NULL) WITHOUT ROWID", error))
        goto out;
    /* Also added compatibly: deletes carried to S3 and forgotten, which
     * read-through fills check before they store (tombstone.c). Created
     * before the upgrade to 4, which converts its ids too. */
    if (!seaftier_tier_exec(conn, "CREATE TABLE IF NOT EXISTS tombstones ("
                                  " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
                                  " type INTEGER NOT NULL, repo_id TEXT NOT NULL,"
                                  " obj_id TEXT NOT NULL, forgotten INTEGER NOT NULL);"
                                  "CREATE INDEX IF NOT EXISTS tombstones_key"
                                  " ON tombstones(type, repo_id, obj_id, seq);"
                                  "CREATE INDEX IF NOT EXISTS tombstones_age"
                                  " ON tombstones(forgotten)", error))
        goto out;
    /* (2 → 3: nothing to change in the tables) */
    if (version >= 1 && version < 4 && !upgrade_v4(conn, tier->db_path, error))
        goto out;
    if (version >= 1 && version < SEAFTIER_SCHEMA_VERSION)
        seaftier_info("tier index %s: schema %d is now %d", tier->db_path, version,
                      SEAFTIER_SCHEMA_VERSION);
    if (version != SEAFTIER_SCHEMA_VERSION) {
        char *set = g_strdup_printf("PRAGMA user_version=%d", SEAFTIER_SCHEMA_VERSION);
        gboolean set_ok = seaftier_tier_exec(conn, set, error);
        g_free(set);
        if (!set_ok)
            goto out;
    }
    ok = seaftier_tier_commit(conn, error);
    if (ok && version >= 1 && version < 4)
        compact_after_upgrade(conn, tier->db_path);
out:
    if (!ok)
        seaftier_tier_rollback(conn);
    seaftier_tier_conn_put(tier, conn);
    return ok;
}
