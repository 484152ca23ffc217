/*
 * lib/tier/tier-private.h — the tier's internals shared by its files.
 *
 * Locking scheme (documented here because every file relies on it):
 *  - SQLite connections live in a per-tier pool (db.c). A thread borrows one
 *    for the duration of one operation and gives it back, so a connection is
 *    never used by two threads at once (connections are opened NOMUTEX).
 *  - Every write is one BEGIN IMMEDIATE transaction: SQLite serializes writers
 *    across threads and processes, and the index is the only source of truth.
 *  - Durable stores go through the group committer (commit.c): one
 *    transaction and one WAL fsync for every store queued meanwhile.
 *  - Object files are created before their row commits and removed only after
 *    the row that named them is gone. Each stored version has its own file
 *    name (the row's generation is part of it), so a concurrent delete of an
 *    older version can never remove a newer one.
 */
#ifndef SEAFTIER_TIER_PRIVATE_H
#define SEAFTIER_TIER_PRIVATE_H

#include "tier/tier.h"
#include "tier/ram.h"
#include "tier/loc.h"

#include <seaftier/log.h>
#include <sqlite3.h>
#include <sys/uio.h>

#define SEAFTIER_SCHEMA_VERSION 4

/* Counters shared between threads (64-bit, lock-free). */
#define TIER_LOAD(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define TIER_STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define TIER_ADD(p, v) __atomic_add_fetch((p), (v), __ATOMIC_RELAXED)

/* Where an object's bytes live. */
#define LOC_INLINE 0      /* in the blobs table, keyed by the object's rowid */
#define LOC_FILE 1        /* in objects/<type>/<repo>/<id[0:2]>/<id[2:]>.<gen> */

/* An access time is written back only when the recorded one is older than
 * the granularity (atime.c): reads of hot objects must not become index
 * writes. The granularity is a fraction of the eviction horizon (the age of
 * the oldest clean object's access), between these bounds; each write is a
 * random page of the index, and the order eviction follows needs no finer. */
#define ATIME_GRANULARITY_MIN_S 60
#define ATIME_GRANULARITY_MAX_S 86400
#define ATIME_HORIZON_FRACTION 64
/* The horizon is looked up again (one indexed min()) at most this often. */
#define ATIME_HORIZON_REFRESH_US (60 * G_USEC_PER_SEC)
/* Pending access times are flushed after this many or this long. */
#define ATIME_FLUSH_COUNT 1024
#define ATIME_FLUSH_US (5 * G_USEC_PER_SEC)
/* Beyond this many pending (a flush keeps failing), new ones are dropped. */
#define ATIME_PENDING_MAX 65536
/* Idle SQLite connections kept per tier; more are closed when returned. */
#define POOL_MAX_IDLE 16

/* Counters persisted in the `counters` table (names in evict.c). */
typedef enum {
    TIER_RAM_HITS, TIER_DISK_HITS, TIER_MISSES, TIER_BYTES_READ, TIER_BYTES_WRITTEN,
    TIER_LOCATED_HITS,
    TIER_N_COUNTERS
} TierCounter;
/* How often the background thread adds this process's counts to the table. */
#define COUNTERS_FLUSH_US (5 * G_USEC_PER_SEC)

typedef struct TierConn {
    struct SeaftierTier *tier;
    sqlite3 *db;
    GHashTable *stmts;      /* SQL literal (by address) -> sqlite3_stmt*, prepared once */
    int sync_full;          /* current PRAGMA synchronous: 1 FULL, 0 NORMAL, -1 unknown */
    gboolean defer_checkpoint;  /* a group-commit leader checkpoints later itself */
    gint64 busy_since_us;   /* when the current wait for another writer began (db.c) */
} TierConn;

typedef struct TierCommitBatch TierCommitBatch;    /* commit.c */

typedef struct TierCommitQueue {
    GMutex lock;
    GCond arrived;          /* an entry was queued (for a leader gathering a batch) */
    TierCommitBatch *pending;   /* entries waiting for a leader */
    gboolean leader_active;
    gboolean gathering;     /* the leader waits on `arrived` */
    gint preparing;         /* atomic: stores between their index check and queueing */
    gint returning;         /* atomic: writers of the last batch not yet back (commit.c) */
    gint64 last_commit_us;  /* duration of the last batch's commit, under lock */
} TierCommitQueue;

struct SeaftierTier {
    const SeaftierConfig *cfg;
    char *dir;
    char *db_path;
    char *objects_dir;
    char *tmp_dir;
    char *nudge_path;
    guint64 inline_max;
    guint64 max_size;
    guint64 min_free_space;
    int high_watermark;
    int low_watermark;
    gboolean compression;

    GMutex pool_lock;
    GPtrArray *pool;        /* idle TierConn* */

    TierRam *ram;
    TierLoc *loc;                /* location cache (loc.h); NULL when off */
    TierCommitQueue commit;

    GMutex atime_lock;
    GHashTable *atime_pending;   /* rowid (gint64*) -> atime (gint64) */
    gint64 atime_last_flush;     /* monotonic us */
    gint64 atime_granularity_s;  /* (atomic) see ATIME_GRANULARITY_MIN_S */
    gint64 atime_horizon_checked; /* monotonic us, under atime_lock */

    /* Read/write counters of this process (atomic), in TierCounter order;
     * the background thread adds what is not yet flushed to the shared
     * `counters` table, so stats report the totals of every process. */
    guint64 counters[TIER_N_COUNTERS];
    guint64 counters_flushed[TIER_N_COUNTERS];   /* under counters_lock */
    GMutex counters_lock;
    gint counters_started;                       /* atomic: background thread asked for */
    gint64 last_nudge;                      /* monotonic us, atomic */
    gint64 last_full_warning;               /* monotonic us, atomic */
    int nudge_fd;

    gint64 used_cached;          /* clean+dirty stored bytes after our last commit, atomic */
    gint64 fs_free_cached;       /* bytes, atomic */
    gint64 fs_free_checked;      /* monotonic us of that figure, atomic */
    /* The background thread (evict.c): one thread, started on first need,
     * joined at close (a pool's idle threads would outlive the tier). */
    GMutex evict_lock;
    GCond evict_cond;
    GThread *evict_thread;
    gboolean evict_requested;    /* under evict_lock */
    gboolean atime_requested;    /* under evict_lock */
    gboolean closing;            /* under evict_lock */

    /* WAL checkpoints (checkpoint.c) */
    gint64 wal_pages;            /* WAL size after this process's last commit, atomic */
    gint64 ckpt_pages;           /* WAL size at the last checkpoint started, atomic */

    /* Directories under objects/ whose own entry (in their parent) this
     * process has fsynced: a durable store syncs the rest of its path once. */
    GMutex dirs_lock;
    GHashTable *durable_dirs;    /* char* path, under dirs_lock */

    /* Bucket each type's index is known complete for (remote.c), NULL while
     * not known: under meta_lock. */
    GMutex meta_lock;
    char *complete_bucket[SEAFTIER_N_TYPES];

    /* Taken around the write transactions threads make outside the group
     * committer — marking rows clean (upload.c), recording REMOTE rows
     * (remote.c): threads of one process (16 upload workers, migrate's jobs)
     * take turns here instead of colliding on SQLite's write lock and waiting
     * in its busy handler. */
    GMutex direct_write_lock;

    /* Uploaded entries waiting to be marked clean (upload.c): the caller
     * that finds no batch running marks all queued in one transaction. */
    GMutex mark_lock;
    GCond mark_cond;
    GPtrArray *mark_queue;       /* MarkRequest*, under mark_lock */
    gboolean mark_running;       /* a batch is being marked, under mark_lock */

    guint64 *epoch;              /* shared (mmap) counter bumped after deletes */
    gsize epoch_map_len;
    /* In the same shared map, each on its own cache line: */
    guint64 *commit_seq;         /* bumped after every commit to the index */
    gint64 *shared_wal_pages;    /* WAL size after the last commit of any process */

    /* The read snapshot (tier.c): one connection whose read transaction
     * stays open across disk hits while no commit happened anywhere, so a
     * hit takes no lock. Under snap_lock (readers only try it). */
    GMutex snap_lock;
    TierConn *snap_conn;
    gboolean snap_open;
    guint64 snap_seq;            /* commit_seq read before the snapshot began */
    gint64 snap_started;         /* monotonic microseconds */
    gboolean snap_watched;       /* the background thread polls it (held at its last look) */
};

/* Row fields a read or a mutation needs. */
typedef struct {
    gint64 rowid;
    SeaftierState state;
    guint64 size, stored_size;
    int codec;
    guint32 checksum;
    int location;
    gint64 generation;
    gint64 atime;
    gboolean uploaded;
    gboolean synced;
} TierRow;

/* ids.c — INVALID_ID errors naming the bad value (escaped, truncated). */
gboolean seaftier_tier_check_repo(const char *repo_id, GError **error);
gboolean seaftier_tier_check_type(int type, GError **error);
gboolean seaftier_tier_check_ids(SeaftierObjType type, const char *repo_id, const char *obj_id,
                                 GError **error);
const char *seaftier_tier_type_dir(SeaftierObjType type);
gint64 seaftier_tier_new_generation(void);
gint64 seaftier_tier_now(void);

/* db.c */
gboolean seaftier_tier_db_init(SeaftierTier *tier, GError **error);
TierConn *seaftier_tier_conn_get(SeaftierTier *tier, GError **error);
void seaftier_tier_conn_put(SeaftierTier *tier, TierConn *conn);
void seaftier_tier_pool_free(SeaftierTier *tier);
/* The prepared (and reset) statement for `sql`, which must be a string with
 * static storage (a literal): statements are cached by its address. */
sqlite3_stmt *seaftier_tier_stmt(TierConn *conn, const char *sql, GError **error);
gboolean seaftier_tier_exec(TierConn *conn, const char *sql, GError **error);
gboolean seaftier_tier_begin(TierConn *conn, gboolean full_sync, GError **error);
gboolean seaftier_tier_commit(TierConn *conn, GError **error);
void seaftier_tier_rollback(TierConn *conn);
/* A checkpoint on `conn` (no open transaction), guarded when the SQLite in
 * use needs it (checkpoint.c) by another connection of the pool. */
void seaftier_tier_checkpoint_now(SeaftierTier *tier, TierConn *conn);
void seaftier_tier_sql_error(GError **error, TierConn *conn, int rc, const char *what);
/* The columns a TierRow is read from, in the order
 * seaftier_tier_row_from_stmt expects them (from column 0). */
#define TIER_ROW_COLS "id, state, size, stored_size, codec, checksum, location, generation, " \
    "atime, uploaded, synced"
#define TIER_ROW_COLS_O "o.id, o.state, o.size, o.stored_size, o.codec, o.checksum, o.location, " \
    "o.generation, o.atime, o.uploaded, o.synced"
/* Fills `row` from a statement selecting TIER_ROW_COLS first. */
void seaftier_tier_row_from_stmt(sqlite3_stmt *stmt, TierRow *row);
/* Row lookup by key on `conn`: TRUE with *row filled, FALSE with no error
 * when absent. */
gboolean seaftier_tier_find_row(TierConn *conn, SeaftierObjType type, const char *repo_id,
                                const char *obj_id, TierRow *row, GError **error);
#define TIER_ENTRY_COLS "type, repo_id, obj_id, state, size, stored_size, codec, checksum, " \
    "created, atime, attempts, retry_at, generation, uploaded, last_error, id, location"
#define TIER_ENTRY_COLS_O "o.type, o.repo_id, o.obj_id, o.state, o.size, o.stored_size, o.codec," \
    " o.checksum, o.created, o.atime, o.attempts, o.retry_at, o.generation, o.uploaded," \
    " o.last_error, o.id, o.location"
/* Fills `entry` from a statement selecting TIER_ENTRY_COLS from column `col`. */
void seaftier_tier_entry_from_stmt(sqlite3_stmt *stmt, int col, SeaftierTierEntry *entry);

/* dbid.c — ids as the index stores them (schema 4): a canonical object id
 * (40 lowercase hex) as 20 bytes, a canonical repo id (lowercase UUID) as
 * 16, any other string as its text. Every statement binds and reads ids
 * through these. */
#define TIER_ID_MAX_BYTES 20
/* Room for one encoded id; must outlive the statement's next step/reset,
 * because the blob is bound without a copy. */
typedef struct {
    unsigned char bytes[TIER_ID_MAX_BYTES];
} TierIdKey;
/* The binary form of `id` (`len` bytes) in `out`: 20 or 16, or 0 when the
 * id is not canonical and is stored as text. */
int seaftier_tier_id_encode(const char *id, gsize len, unsigned char out[TIER_ID_MAX_BYTES]);
/* The string a 20- or 16-byte binary id stands for, NUL-terminated, in
 * `out` (at least 41 or 37 bytes); FALSE for any other length or room. */
gboolean seaftier_tier_id_decode(const unsigned char *bytes, gsize len, char *out,
                                 gsize out_size);
/* Binds `id` (a NUL-terminated string) as parameter `param` in the index's
 * form, using `key` as the blob's storage; returns SQLite's result code. */
int seaftier_tier_bind_id(sqlite3_stmt *stmt, int param, const char *id, TierIdKey *key);
/* Copies the id string in column `col` into `out` (truncated to out_size);
 * FALSE (and "") when the column is NULL or a blob that is not an id. */
gboolean seaftier_tier_column_id(sqlite3_stmt *stmt, int col, char *out, gsize out_size);
/* Registers the SQL functions tier_id(text) (the index's form of an id) and
 * tier_id_text(x) (back to the string) on `db`; SQLite's result code. The
 * tier's connections have them; so must any other connection that writes
 * SQL text naming ids (tests, the schema upgrade). */
int seaftier_tier_register_id_sql(sqlite3 *db);

/* mapvfs.c: the name of the SQLite VFS the tier opens its index with (the
 * unix VFS, with one map of the index per process kept across read
 * transactions), registered on first use; NULL when it cannot be (the
 * default VFS is used then). */
const char *seaftier_tier_map_vfs(void);

/* upload.c: the SQL of seaftier_tier_dirty_batch (state DIRTY) and
 * seaftier_tier_deleted_batch (DELETED) for a type (>= 0) or all (-1), with a
 * repo_id filter or not (DIRTY only); parameters ?1 created_before, ?2 now,
 * ?3 type, ?4 repo_id, ?5 limit. */
const char *seaftier_tier_batch_sql(SeaftierState state, int type, gboolean with_repo);

/* objfile.c */
char *seaftier_tier_file_path(const SeaftierTier *tier, SeaftierObjType type, const char *repo_id,
                              const char *obj_id, gint64 generation);
/* Writes the file `path` (the iovecs: a whole object file, header first)
 * through a temporary file and a rename; `durable`: fdatasync before the
 * rename, and every directory above made durable (the object's own directory
 * is left to the group committer). */
gboolean seaftier_tier_file_write(SeaftierTier *tier, const char *path, const struct iovec *iov,
                                  int iov_n, gboolean durable, GError **error);
/* Reads and decodes a file of either format into a new buffer of `size`
 * bytes. Returns 1 on success, 0 when the file is missing, -1 when it is
 * damaged (*problem set), -2 on an I/O error (error set). When *crc_done,
 * *crc is the CRC32C of the data, computed while reading (a piece file:
 * `checksum`, which every piece was checked against). */
int seaftier_tier_file_read(const char *path, int codec, guint64 size, guint32 checksum,
                            guint64 stored_size, void **data, guint32 *crc, gboolean *crc_done,
                            const char **problem, GError **error);
gboolean seaftier_tier_fsync_path(const char *path, gboolean directory, GError **error);
/* Makes every directory entry on the path from objects/ down to `dir` durable
 * (each directory this process has not synced yet is fsynced in its parent);
 * `dir`'s own entries are left to the caller. */
gboolean seaftier_tier_sync_dir_path(SeaftierTier *tier, const char *dir, GError **error);
void seaftier_tier_file_remove(const char *path);
/* Removes the data of rows already deleted from the index (file, RAM
 * copy); the caller bumps the epoch to tell other processes. */
void seaftier_tier_forget_data(SeaftierTier *tier, SeaftierObjType type, const char *repo_id,
                               const char *obj_id, int location, gint64 generation);
void seaftier_tier_tmp_cleanup(SeaftierTier *tier);
guint64 seaftier_tier_fs_free(SeaftierTier *tier, gboolean fresh);

/* commit.c */
/* COMMIT_DELETE: the row becomes (or is inserted) DELETED; always durable,
 * so the batch that holds it commits FULL before seaftierd can see it. */
typedef enum { COMMIT_STORE, COMMIT_SYNC, COMMIT_DELETE } TierCommitKind;
typedef struct {
    TierCommitKind kind;
    SeaftierObjType type;
    const char *repo_id, *obj_id;
    SeaftierState state;
    gboolean durable;
    guint64 size, stored_size;
    int codec;
    guint32 checksum;
    int location;
    gint64 generation;
    const void *blob;        /* inline payload */
    const char *file_dir;    /* directory to fsync before commit (durable file stores) */
    gint64 repair_generation; /* replace this DIRTY version, whose copy is missing or damaged */
    /* a write of other bytes under this id (a Seafile commit id is not a hash
     * of the commit's bytes): replaces this CLEAN or DIRTY version */
    gint64 new_version_of;
    /* COMMIT_STORE of a CLEAN fill: not applied when a delete happened since */
    const SeaftierTierFillTicket *ticket;
    /* results */
    gboolean over_limit;     /* e->error is FULL because of max_size, not the disk */
    gboolean announced;      /* queued by seaftier_tier_commit_entry (a writer waiting) */
    gboolean done;
    gboolean applied;        /* the row now holds this version */
    gboolean stale;          /* COMMIT_SYNC: the row holds another unsynced file now */
    gint64 replaced_generation; /* applied over this version's file: remove it */
    /* COMMIT_DELETE: the local copy the delete took away (its data is
     * removed by the caller once the batch committed) */
    gboolean data_gone;
    int gone_location;
    gint64 gone_generation;
    gint64 rowid;
    GError *error;
} TierCommitEntry;
/* Queues `entry` and returns once a transaction containing it committed
 * (or failed). The caller announced it with seaftier_tier_commit_prepare(). */
gboolean seaftier_tier_commit_entry(SeaftierTier *tier, TierCommitEntry *entry, GError **error);
/* Queues `n` entries together (they commit in one transaction, with
 * whatever else is queued) and returns once it committed or failed; the
 * outcome of each is in its `error`. Not announced beforehand. */
void seaftier_tier_commit_entries(SeaftierTier *tier, TierCommitEntry **entries, guint n);
/* Tells the committer that a store is on its way (compressing, writing
 * its file): a leader waits a little for such stores to join its batch. */
void seaftier_tier_commit_prepare(SeaftierTier *tier);
/* Announces again a store that abandoned its announcement for a long step
 * (writing its file): unlike prepare, not a new arrival. */
void seaftier_tier_commit_resume(SeaftierTier *tier);
void seaftier_tier_commit_abandon(SeaftierTier *tier);
/* Entries queued and not yet taken by a leader (tests watch batches form). */
guint seaftier_tier_commit_pending(SeaftierTier *tier);
void seaftier_tier_commit_init(SeaftierTier *tier);
void seaftier_tier_commit_clear(SeaftierTier *tier);
/* Inserts, in the caller's open transaction, the DELETED row of a key: a
 * pending S3 delete, which seaftierd's delete pass sends (at once: attempts,
 * retry_at and last_error keep their defaults) and forgets once S3 confirmed
 * it. The row has no local copy (stored_size, codec, checksum, location 0)
 * and `uploaded` set, because S3 may hold the object (a DELETE of a missing
 * key is one cheap request); created and atime are `now`, the generation a
 * new one. `size` is the size the row reports (counted in the usage of
 * DELETED rows); `synced` says whether the caller's transaction commits FULL.
 * Without `if_absent` the caller knows the key has no row (another one is an
 * error of the unique key); with it, a row the key already has stays as it
 * is and nothing is inserted. *rowid (when not NULL): the new row's id, 0
 * when nothing was inserted. The error names the object. */
gboolean seaftier_tier_insert_deleted_row(TierConn *conn, SeaftierObjType type,
                                          const char *repo_id, const char *obj_id, guint64 size,
                                          gboolean synced, gint64 now, gboolean if_absent,
                                          gint64 *rowid, GError **error);

/* tombstone.c */
/* Records, in the caller's transaction, that the DELETED row of this key
 * was forgotten (S3 confirmed the delete); prunes old tombstones. */
gboolean seaftier_tier_tombstone_add(TierConn *conn, SeaftierObjType type, const char *repo_id,
                                     const char *obj_id, GError **error);
/* In the caller's transaction: 1 when no delete of the key was forgotten
 * since `ticket` (and the ticket is recent), 0 otherwise, -1 on error. */
int seaftier_tier_ticket_valid(TierConn *conn, const SeaftierTierFillTicket *ticket,
                               SeaftierObjType type, const char *repo_id, const char *obj_id,
                               GError **error);
/* Whether `ticket` is too old to prove anything (then every key refuses it,
 * deleted or not). */
gboolean seaftier_tier_ticket_expired(const SeaftierTierFillTicket *ticket);

/* atime.c */
/* Notes an access to row `rowid` (whose recorded atime is `row_atime`) for
 * the next flush; TRUE when a flush is due (the caller asks the background
 * thread: seaftier_tier_background_request). */
gboolean seaftier_tier_note_access(SeaftierTier *tier, gint64 rowid, gint64 row_atime);
/* Writes the pending access times in one transaction. */
void seaftier_tier_atime_flush(SeaftierTier *tier);
/* Seconds an access time is left alone once recorded: a fraction of the
 * eviction horizon, ATIME_GRANULARITY_MIN_S .. ATIME_GRANULARITY_MAX_S. */
gint64 seaftier_tier_atime_granularity(SeaftierTier *tier);
/* Looks the eviction horizon up and sets the granularity from it: at open,
 * then by the flush at most every ATIME_HORIZON_REFRESH_US. */
void seaftier_tier_atime_horizon_refresh(SeaftierTier *tier);

/* tier.c */
/* Handles a row whose data is missing or damaged: a CLEAN row is dropped
 * (only if it still has `generation`); a DIRTY row never synced is a
 * non-durable write lost by a crash: dropped too (REMOTE when `uploaded`
 * says S3 may hold the object from before), logged naming it; a synced
 * DIRTY row is logged as an error and kept. Sets `error` for the caller:
 * NOT_FOUND (missing, or a lost write) or CORRUPT. */
void seaftier_tier_bad_copy(SeaftierTier *tier, SeaftierObjType type, const char *repo_id,
                            const char *obj_id, const TierRow *row, gboolean missing,
                            const char *problem, GError **error);
/* Loads and verifies the data of `row`; `blob` is the inline payload when
 * the caller already has it. Returns 1 ok, 0 missing, -1 damaged (*problem),
 * -2 I/O error. */
/* stream.c: a stream over the piece file of `row` (seaftier_tier_file_read's
 * return codes). */
int seaftier_tier_stream_open_file(SeaftierTier *tier, SeaftierObjType type, const char *repo_id,
                                   const char *obj_id, const TierRow *row,
                                   SeaftierTierStream **stream, const char **problem,
                                   GError **error);
/* tier_read, except that a piece file is opened as *stream (when `stream` is
 * not NULL) instead of being read whole: TRUE with either *stream or *data. */
gboolean seaftier_tier_read_or_stream(SeaftierTier *tier, SeaftierObjType type,
                                      const char *repo_id, const char *obj_id, void **data,
                                      gsize *len, SeaftierTierStream **stream, GError **error);
int seaftier_tier_load(SeaftierTier *tier, SeaftierObjType type, const char *repo_id,
                       const char *obj_id, const TierRow *row, const void *blob, gsize blob_len,
                       void **data, const char **problem, GError **error);
void seaftier_tier_bump_epoch(SeaftierTier *tier);
/* Called after every commit to the index (the WAL hook, checkpoint.c) with
 * the WAL's size: ends every process's read snapshot. */
void seaftier_tier_note_commit(SeaftierTier *tier, int wal_pages);
/* Ends the read snapshot if it is older than its limit (all: any age);
 * TRUE while one is still held. For the background thread and close. */
gboolean seaftier_tier_snapshot_release(SeaftierTier *tier, gboolean all);
/* How long a read snapshot may stay open, and so how often the background
 * thread looks at it while one is held. */
#define SNAPSHOT_MAX_US (100 * 1000)
guint64 seaftier_tier_epoch(SeaftierTier *tier);

/* remote.c — frees the cached completeness at close. */
void seaftier_tier_meta_clear(SeaftierTier *tier);

/* checkpoint.c */
void seaftier_tier_checkpoint_attach(SeaftierTier *tier, sqlite3 *db);
/* After a commit: TRUE when the caller should checkpoint the WAL now — it
 * has grown by another 1000 pages (that step is then claimed by this
 * caller), or it is past 4000 pages; only the latter if `urgent_only`. */
gboolean seaftier_tier_checkpoint_due(SeaftierTier *tier, gboolean urgent_only);
/* TRUE when the SQLite in use has the WAL-reset bug (checkpoint.c), so that
 * checkpoints need a guard connection holding the write lock. */
gboolean seaftier_tier_checkpoint_needs_guard(void);
/* A PASSIVE checkpoint on `conn` (no open transaction), while `guard` (another
 * connection without an open transaction, or NULL when no guard is needed)
 * holds the index's write lock. db.c's seaftier_tier_checkpoint_now supplies
 * the guard. */
void seaftier_tier_checkpoint_run(SeaftierTier *tier, TierConn *conn, TierConn *guard);

/* evict.c */
/* Wakes the background evictor when the tier is above its high watermark
 * or the disk below its floor (cheap: cached figures). */
void seaftier_tier_maybe_evict(SeaftierTier *tier);
/* Counts `n` for `which` in this process (no index write: the background
 * thread, started here on first use, persists the counts). */
void seaftier_tier_count(SeaftierTier *tier, TierCounter which, guint64 n);
/* Adds the counts not yet persisted to the `counters` table (background
 * thread, close). */
void seaftier_tier_counters_flush(SeaftierTier *tier);
/* Room the tier makes, beyond the object itself, when the file system said
 * ENOSPC / SQLITE_FULL: enough for the WAL frames of a few transactions. */
#define TIER_FULL_ROOM (1024 * 1024)
/* The disk is full (ENOSPC or SQLITE_FULL) although no floor or limit said
 * so: evicts least-recently-used CLEAN objects until their stored bytes
 * cover `need`, watermarks notwithstanding. *objects = 0 when nothing clean
 * was left. Logs what it removed. */
gboolean seaftier_tier_evict_for_room(SeaftierTier *tier, guint64 need, guint64 *objects,
                                      guint64 *bytes, GError **error);
/* Asks the background thread for an eviction and/or an access-time flush. */
void seaftier_tier_background_request(SeaftierTier *tier, gboolean evict, gboolean atime);
void seaftier_tier_background_stop(SeaftierTier *tier);

#endif
