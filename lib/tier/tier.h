/*
 * lib/tier/tier.h — the local tier: objects on local disk, indexed in SQLite,
 * compressed with lz4, with an in-process RAM tier in front.
 *
 * Used by the Seafile backends (lib/backend-*.c), by seaftierd and by
 * seaftier-admin. Several processes may open the same tier directory at once
 * (seaf-server, the daemon, the admin tool); they share the SQLite index (WAL)
 * and the object files. Any of them may die at any instruction.
 *
 * Invariants:
 *  - fs objects and blocks are content-addressed (their id is the hash of
 *    their bytes). Commits are not: Seafile hashes a commit's root, creator,
 *    description and second, so two commits of one second share an id. A
 *    write of other bytes under a held id is a new version that replaces
 *    the old one (Seafile's own backends keep the last write); the same
 *    bytes again are a no-op.
 *  - A DIRTY object exists nowhere but here: it is never evicted, and it only
 *    becomes CLEAN through tier_mark_clean() after S3 confirmed the PUT.
 *  - A DELETED row has no local data; it stands for a remote delete that is
 *    still to be carried to S3, and makes reads answer "not found" instead of
 *    re-fetching the object from S3.
 *  - A REMOTE row has no local data either; it records that S3 holds the
 *    object (an evicted clean copy, an object found by a HEAD or a listing).
 *    Reads answer NOT_FOUND (the caller fetches from S3, as for a miss), so
 *    the index can say "S3 has it" without a request.
 *  - When the index is marked complete for a type (seaftier_tier_set_complete),
 *    every object of that type S3 holds has a row: no row means "not in S3".
 *  - tier_read() never returns bytes whose checksum does not match.
 *  - Ids are validated here too (seaftier_valid_repo_id/obj_id) before any
 *    path or SQL use.
 */
#ifndef SEAFTIER_TIER_H
#define SEAFTIER_TIER_H

#include <glib.h>
#include <seaftier/config.h>

typedef struct SeaftierTier SeaftierTier;

#define SEAFTIER_TIER_ERROR (seaftier_tier_error_quark())
GQuark seaftier_tier_error_quark(void);

typedef enum {
    SEAFTIER_TIER_ERROR_NOT_FOUND,   /* not in the tier (may still be in S3) */
    SEAFTIER_TIER_ERROR_DELETED,     /* deleted; remote delete pending: do not re-fetch */
    SEAFTIER_TIER_ERROR_CORRUPT,     /* local copy failed its checksum (a clean one was dropped) */
    SEAFTIER_TIER_ERROR_FULL,        /* no room: dirty data fills the tier or the disk is at its floor */
    SEAFTIER_TIER_ERROR_INVALID_ID,  /* repo or object id malformed */
    SEAFTIER_TIER_ERROR_IO,          /* file system or SQLite failure */
} SeaftierTierErrorCode;

typedef enum {
    SEAFTIER_STATE_CLEAN = 0,        /* an identical copy is in S3; may be evicted */
    SEAFTIER_STATE_DIRTY = 1,        /* only here: must be uploaded, never evicted */
    SEAFTIER_STATE_DELETED = 2,      /* no local data; remote delete pending */
    SEAFTIER_STATE_REMOTE = 3,       /* no local data; S3 holds it (evicted, or seen there) */
} SeaftierState;
#define SEAFTIER_N_STATES 4

/* "clean", "dirty", "deleted", "remote" */
const char *seaftier_state_name(SeaftierState state);
gboolean seaftier_state_from_name(const char *name, SeaftierState *state);

/* TRUE for a 36-char UUID (8-4-4-4-12 hex, either case). */
gboolean seaftier_valid_repo_id(const char *repo_id);
/* TRUE for exactly 40 lowercase hex characters. */
gboolean seaftier_valid_obj_id(const char *obj_id);

/* Everything the index knows about one object. */
typedef struct {
    SeaftierObjType type;
    char repo_id[37];
    char obj_id[41];
    SeaftierState state;
    guint64 size;            /* original bytes */
    guint64 stored_size;     /* bytes on disk after compression (0 for DELETED, REMOTE) */
    int codec;               /* 0 raw, 1 lz4 (inline); files: 2 pieces (each raw or lz4) */
    guint32 checksum;        /* CRC32C of the original bytes */
    gint64 created;          /* unix seconds */
    gint64 atime;            /* last access, unix seconds (updated lazily) */
    int attempts;            /* failed upload/delete attempts */
    gint64 retry_at;         /* not before this unix time (backoff), 0 = now */
    gint64 generation;       /* changes each time the row is (re)written */
    gboolean uploaded;       /* a copy was (or may have been) in S3 at some time */
    char last_error[256];    /* last upload/delete error, "" if none */
} SeaftierTierEntry;

/* Opens (creating when needed, 0700 dir, 0600 files) the tier in `dir`.
 * `cfg` supplies the [tier] limits; it must outlive the tier. */
SeaftierTier *seaftier_tier_open(const SeaftierConfig *cfg, const char *dir, GError **error);

/* Closes the tier; everything acknowledged as durable is already on disk. */
void seaftier_tier_close(SeaftierTier *tier);

/* The tier directory. */
const char *seaftier_tier_dir(const SeaftierTier *tier);

/* Reads an object (RAM tier, then disk: through the location cache when it
 * remembers where the object is, else through the index), verifying its
 * checksum.
 * FALSE with NOT_FOUND, DELETED, CORRUPT or IO. *data is g_free'd by the caller. */
gboolean seaftier_tier_read(SeaftierTier *tier, SeaftierObjType type, const char *repo_id,
                            const char *obj_id, void **data, gsize *len, GError **error);

/* Streaming reads: an object handed over in parts into the caller's
 * buffers, each part checked before it is handed over (a file is checked
 * piece by piece, 64 KiB of original bytes each; other copies are read and
 * checked whole at open). For the block backend's open/read/close. */
typedef struct _SeaftierTierStream SeaftierTierStream;

/* Opens a stream over an object of the tier: NULL with the errors of
 * seaftier_tier_read (NOT_FOUND, DELETED, CORRUPT, IO) when it cannot be
 * read. The stream keeps its file open: an eviction or a delete meanwhile
 * does not disturb it. Not thread-safe (one reader at a time). */
SeaftierTierStream *seaftier_tier_stream_open(SeaftierTier *tier, SeaftierObjType type,
                                              const char *repo_id, const char *obj_id,
                                              GError **error);

/* Reads up to `len` bytes at the stream's position into `buf`: the count
 * (0 at the end), or -1 with an error. Every byte counted was checked
 * against its CRC32C. A damaged piece fails the read with CORRUPT (or
 * NOT_FOUND for a lost non-durable write) after a log line naming the
 * object and the piece, and is handled as tier_read handles a damaged copy
 * (a clean copy is dropped); bytes before it in the same call are returned
 * first, and every later read fails. IO on a read error of the disk. */
gssize seaftier_tier_stream_read(SeaftierTierStream *s, void *buf, gsize len, GError **error);

/* The object's size, and the offset of the next byte to read. */
guint64 seaftier_tier_stream_size(const SeaftierTierStream *s);
guint64 seaftier_tier_stream_pos(const SeaftierTierStream *s);

/* After a failed read: TRUE when S3 holds (or may hold) the object (its row
 * was CLEAN, or it was uploaded before), so the caller may fetch it and go
 * on from seaftier_tier_stream_pos() once seaftier_tier_stream_matches()
 * says the fetched bytes are the ones being served. */
gboolean seaftier_tier_stream_refetchable(const SeaftierTierStream *s);
/* TRUE when `data` has the size and CRC32C of the copy being streamed. */
gboolean seaftier_tier_stream_matches(const SeaftierTierStream *s, const void *data, gsize len);

/* Closes the stream (NULL is fine). */
void seaftier_tier_stream_close(SeaftierTierStream *s);

/* Index lookup without data. FALSE (no error) when there is no row. */
gboolean seaftier_tier_lookup(SeaftierTier *tier, SeaftierObjType type, const char *repo_id,
                              const char *obj_id, SeaftierTierEntry *entry, GError **error);

/* Stores an object as DIRTY (a write from Seafile) or CLEAN (a fill from S3).
 * `durable`: the data and its index row are on stable storage when this
 * returns (concurrent durable stores share fsyncs: group commit).
 * An object already present (clean or dirty) with the same bytes (size and
 * CRC32C) is left as it is (cheap no-op); a DIRTY store of other bytes
 * replaces it as a new DIRTY version (a new generation, uploaded again),
 * except that a DIRTY store over a DELETED row makes it DIRTY again; a CLEAN
 * store over a DELETED row does nothing (the delete wins). A DIRTY store
 * over a DIRTY row reads the existing copy back: a copy that is missing,
 * short or fails its checksum is replaced by the new bytes, durably. A
 * durable store over a dirty row written without `durable` syncs that
 * copy (or replaces it with its own synced one) before returning.
 * FULL when dirty data leaves no room; the caller decides (wait, write-through).
 *
 * Limits in detail: FULL is returned when the stored (compressed) bytes of
 * DIRTY objects plus this object would exceed max_size — for a CLEAN fill
 * too, since clean data could not stay — or when the file system is below
 * min_free_space even after evicting every clean object. Nothing is written
 * then, nothing already stored is touched, and a warning is logged (at most
 * every 10 s). The Seafile backends either wait for the uploader to make
 * room (backpressure) or upload the object themselves (write-through); a
 * clean fill that gets FULL is simply not cached. When the file system itself
 * runs out (ENOSPC, SQLITE_FULL: no floor set, or other data filled it), the
 * store evicts least-recently-used CLEAN objects (its size plus 1 MiB) and
 * is retried once before failing with FULL. A successful store above
 * the high watermark wakes a background eviction thread of this process.
 * Objects up to cfg->tier.inline_max bytes live inside the index, larger ones
 * in their own file; blocks are compressed when it saves >= 1/4 (codec.h),
 * commits and fs objects are stored as Seafile writes them (store.c says why). */
gboolean seaftier_tier_store(SeaftierTier *tier, SeaftierObjType type, const char *repo_id,
                             const char *obj_id, const void *data, gsize len,
                             SeaftierState state, gboolean durable, GError **error);

/* A read-through fill's ticket: taken before the object is fetched from S3
 * (or, for the clean copy cached after a PUT or a server-side copy, before
 * that request), and shown when the fetched bytes are stored. */
typedef struct {
    gint64 seq;              /* the last forgotten delete when it was taken */
    gint64 taken;            /* unix seconds */
} SeaftierTierFillTicket;

/* Takes a fill ticket (one index read). */
gboolean seaftier_tier_fill_ticket(SeaftierTier *tier, SeaftierTierFillTicket *ticket,
                                   GError **error);

/* Stores bytes fetched from S3 as CLEAN (not durable: S3 has them), like
 * seaftier_tier_store(..., SEAFTIER_STATE_CLEAN, FALSE, ...), unless the
 * object was deleted since `ticket` was taken: a DELETED row, or a delete
 * that seaftierd already carried to S3 and forgot (a tombstone newer than
 * the ticket), or a ticket older than an hour. Then nothing is stored and
 * TRUE is returned: the caller serves its bytes without caching them.
 * Every fill from S3 goes through here; a CLEAN seaftier_tier_store() is
 * the same with a ticket taken at the call, so it cannot see a delete
 * carried out while the caller's request was in flight. */
gboolean seaftier_tier_store_fill(SeaftierTier *tier, SeaftierObjType type, const char *repo_id,
                                  const char *obj_id, const void *data, gsize len,
                                  const SeaftierTierFillTicket *ticket, GError **error);

/* Records that S3 holds the object (seen by a HEAD, a listing or the
 * caller's own PUT, which the caller started after taking `ticket`) as a
 * REMOTE row of `size` bytes, when the index has no row for it. When a
 * delete of it was carried out and forgotten since the ticket, the row is
 * DELETED instead (a pending S3 delete): the PUT may have landed after that
 * DELETE, and the object must not stay in S3 unknown to the index. A ticket
 * too old to prove anything records nothing. Any existing row is left as it
 * is. Durable when it returns: in a complete index a lost REMOTE row would
 * make an object S3 holds look absent. */
gboolean seaftier_tier_remember_remote(SeaftierTier *tier, SeaftierObjType type,
                                       const char *repo_id, const char *obj_id, guint64 size,
                                       const SeaftierTierFillTicket *ticket, GError **error);

/* One object of a listing. */
typedef struct {
    const char *repo_id;
    const char *obj_id;
    guint64 size;
} SeaftierTierRemoteObject;

/* seaftier_tier_remember_remote for `n` objects in one transaction (a page
 * of a bucket listing, requested after `ticket` was taken); *added (may be
 * NULL) counts the REMOTE rows inserted. All ids are checked first. Not durable by
 * itself: an import marks the index complete last, with a durable commit
 * that makes every earlier one durable too (one WAL, in order). */
gboolean seaftier_tier_remember_remote_batch(SeaftierTier *tier, SeaftierObjType type,
                                             const SeaftierTierRemoteObject *objects, guint n,
                                             const SeaftierTierFillTicket *ticket, guint *added,
                                             GError **error);

/* ---- completeness of the index ----
 * The index of a type is COMPLETE for a bucket when every object of that type
 * the bucket holds has a row (DIRTY, CLEAN, REMOTE or DELETED): then an id
 * without a row is not in S3, and the backends answer exists() without a
 * request. It holds only while nobody but tiers on this index writes the
 * bucket; the caller (the site's configuration) decides whether to rely on it.
 * The flag names the bucket, so pointing the type at another bucket makes the
 * index incomplete again. */

/* Whether the index of `type` is complete for `bucket`. Once TRUE it is
 * remembered by this tier handle (no index read on later calls). */
gboolean seaftier_tier_is_complete(SeaftierTier *tier, SeaftierObjType type, const char *bucket,
                                   gboolean *complete, GError **error);

/* Marks (or, with complete = FALSE, unmarks) the index of `type` complete for
 * `bucket`; durable when it returns. */
gboolean seaftier_tier_set_complete(SeaftierTier *tier, SeaftierObjType type, const char *bucket,
                                    gboolean complete, GError **error);

/* A small persistent key/value note in the index (for example where an
 * import of a bucket listing stopped). *value is NULL when unset; g_free it. */
gboolean seaftier_tier_meta_get(SeaftierTier *tier, const char *key, char **value,
                                GError **error);
/* Sets (value != NULL) or removes a note; durable when it returns. */
gboolean seaftier_tier_meta_set(SeaftierTier *tier, const char *key, const char *value,
                                GError **error);

/* Deletes an object locally at once (data, file, RAM copy) and always
 * leaves a DELETED row: the pending remote delete, which also makes reads
 * answer DELETED instead of fetching the object back from S3.
 * Rule: a row is forgotten only once S3 confirmed the delete
 * (tier_forget_deleted). The tier never observes S3, so it can never prove
 * that S3 holds no copy — not even for a dirty row whose `uploaded` is 0:
 * the same content-addressed id may have been uploaded before (a clean copy
 * evicted and written again, a write-through PUT with a full tier, a rewrite
 * over a pending delete). Deleting an absent or already DELETED object
 * records (or keeps) the remote delete; deleting twice is harmless.
 * The DELETED row is on stable storage when this returns (seaftierd may
 * send the S3 DELETE at once; a row coming back after a power failure
 * would then name an object S3 no longer has). Concurrent deletes (and
 * stores) share one FULL commit: the tier's group committer. */
gboolean seaftier_tier_delete(SeaftierTier *tier, SeaftierObjType type, const char *repo_id,
                              const char *obj_id, GError **error);
/* seaftier_tier_delete for `n` objects of one repo, many rows per FULL
 * transaction (one WAL fsync for hundreds of deletes; concurrent deletes
 * of other callers share them too). Every id is checked first; on failure
 * the deletes of earlier transactions stand (each is durable), and error
 * names the first object that could not be deleted. */
gboolean seaftier_tier_delete_many(SeaftierTier *tier, SeaftierObjType type, const char *repo_id,
                                   const char *const *obj_ids, guint n, GError **error);

/* Calls `func` for every row of `type` (and of `repo_id` when not NULL) whose
 * state is in `state_mask` (bit 1<<state). Stops when func returns FALSE. */
typedef gboolean (*SeaftierTierFunc)(const SeaftierTierEntry *entry, void *user_data);
gboolean seaftier_tier_foreach(SeaftierTier *tier, SeaftierObjType type, const char *repo_id,
                               unsigned state_mask, SeaftierTierFunc func, void *user_data,
                               GError **error);

/* ---- for the uploader (seaftierd, seaftier-admin flush) ---- */

/* Up to `limit` DIRTY entries (SeaftierTierEntry*), oldest first, created at
 * or before `created_before` and with retry_at <= now. Filter by type/repo
 * when type >= 0 / repo_id != NULL. */
GPtrArray *seaftier_tier_dirty_batch(SeaftierTier *tier, int type, const char *repo_id,
                                     int limit, gint64 created_before, GError **error);

/* After S3 confirmed the PUT of `entry`: marks it CLEAN if the row is still
 * DIRTY with the same generation; if it has become DELETED meanwhile, notes
 * that the remote copy exists (uploaded) so the delete is carried to S3.
 * If the index cannot grow (disk full), CLEAN objects are evicted to make
 * room and the update is retried once; FULL (saying what to do) when no
 * clean object was left or it still does not fit. */
gboolean seaftier_tier_mark_clean(SeaftierTier *tier, const SeaftierTierEntry *entry,
                                  GError **error);

/* Records a failed upload or remote delete: attempts+1, last_error, and no
 * retry before `retry_at`. */
gboolean seaftier_tier_record_failure(SeaftierTier *tier, const SeaftierTierEntry *entry,
                                      const char *message, gint64 retry_at, GError **error);

/* Up to `limit` DELETED entries whose retry_at <= now. */
GPtrArray *seaftier_tier_deleted_batch(SeaftierTier *tier, int type, int limit, GError **error);

/* After S3 confirmed the delete: removes the DELETED row if it still has
 * the same generation (a re-write meanwhile keeps the new row). */
gboolean seaftier_tier_forget_deleted(SeaftierTier *tier, const SeaftierTierEntry *entry,
                                      GError **error);

/* Wakes the daemon (a datagram on <dir>/seaftierd.nudge; no-op if no daemon). */
void seaftier_tier_nudge(SeaftierTier *tier);
/* Path of the nudge socket the daemon binds. Returns a new string. */
char *seaftier_tier_nudge_path(const SeaftierTier *tier);

/* ---- eviction and accounting ---- */

typedef struct {
    guint64 objects[SEAFTIER_N_TYPES][SEAFTIER_N_STATES];   /* [type][state] */
    guint64 bytes[SEAFTIER_N_TYPES][SEAFTIER_N_STATES];     /* original bytes */
    guint64 stored_bytes[SEAFTIER_N_TYPES][SEAFTIER_N_STATES];
    gint64 oldest_dirty;                    /* created of the oldest dirty object, 0 if none */
    guint64 used_bytes;                     /* stored bytes counted against max_size */
    guint64 max_size;
    guint64 fs_free_bytes;                  /* free space on the tier's file system */
    /* Reads and stores of every process that opened this tier: each adds its
     * counts to the index every few seconds and at close (this process's
     * are included up to now). Reads themselves never write the index. */
    guint64 ram_hits, disk_hits, misses;
    guint64 located_hits;                   /* disk hits through the location cache (of disk_hits) */
    guint64 bytes_read;                     /* bytes returned by hits */
    guint64 bytes_written;                  /* original bytes newly stored */
} SeaftierTierStats;
gboolean seaftier_tier_stats(SeaftierTier *tier, SeaftierTierStats *stats, GError **error);

/* When the tier is above its high watermark or the file system below its
 * free-space floor, evicts least-recently-used CLEAN objects until the tier is
 * at its low watermark and above the floor. Safe to run from several
 * processes at once. Reports what it removed. */
gboolean seaftier_tier_evict(SeaftierTier *tier, guint64 *evicted_objects,
                             guint64 *evicted_bytes, GError **error);

/* Eviction turns a CLEAN row into a REMOTE one (its data goes, its row and
 * size stay), so the index still knows that S3 holds the object. */

/* Evicts the CLEAN objects of one repo (any type), or all CLEAN objects when
 * repo_id is NULL. */
gboolean seaftier_tier_evict_clean(SeaftierTier *tier, const char *repo_id,
                                   guint64 *evicted_objects, GError **error);

/* Evicts one CLEAN object; FALSE with NOT_FOUND if absent or REMOTE (no
 * local copy), no-op for DIRTY and DELETED rows. */
gboolean seaftier_tier_evict_one(SeaftierTier *tier, SeaftierObjType type,
                                 const char *repo_id, const char *obj_id, GError **error);

/* Checks every local copy's checksum (and SQLite's integrity_check).
 * Corrupt CLEAN copies are dropped; corrupt DIRTY ones are reported loudly
 * and kept for an operator. `func` (may be NULL) is called for each problem. */
typedef void (*SeaftierTierProblemFunc)(const SeaftierTierEntry *entry, const char *problem,
                                        void *user_data);
gboolean seaftier_tier_verify(SeaftierTier *tier, SeaftierTierProblemFunc func, void *user_data,
                              guint64 *checked, guint64 *problems, GError **error);

#endif
