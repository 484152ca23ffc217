/*
 * lib/backend/common.h — what the object and block backends share: the
 * per-process registry of open sites (one SeaftierSite — tier, remotes,
 * sync engine — per tier directory, reference counted), and the object
 * operations both vtables are thin wrappers around (over the tier for local
 * state and the sync engine for everything remote; see README.md).
 *
 * Invariants kept here:
 *  - ids are validated before anything else (a bad id never reaches the
 *    tier, a key or a log line unescaped);
 *  - a DELETED row is final for reads: no S3 fetch may resurrect it;
 *  - an acknowledged write is either in the tier as DIRTY (durable when
 *    asked) or confirmed by S3 — never dropped when the tier is full;
 *  - concurrent misses of one object share one GET (single-flight).
 *
 * Internal to libseaftier (and its tests); seaf-server uses backend.h.
 */
#ifndef SEAFTIER_BACKEND_COMMON_H
#define SEAFTIER_BACKEND_COMMON_H

#include <glib.h>
#include <seaftier/backend.h>
#include <seaftier/config.h>
#include "site.h"

typedef struct SeaftierBackendShared SeaftierBackendShared;

#define SEAFTIER_BACKEND_ID_STRIPES 64

struct SeaftierBackendShared {
    SeaftierSite *site;                 /* registry key: site->tier_dir */
    SeaftierSync *sync;                 /* site's engine: direct PUTs, read-through GETs */
    int refcount;                       /* guarded by the registry lock */
    GMutex fetch_lock;
    GHashTable *inflight;               /* "type/repo/obj" -> in-flight fetch */
    gint full_wait_ms;                  /* backpressure budget when the tier is full */
    gint bypass_since_s;                /* monotonic s of the last wait that ended full */
    gint direct_logged_s;               /* monotonic s of the last "uploading directly" log */
    gint direct_unreported;             /* direct uploads since that log line */
    /* Writes of an id hold its stripe shared, deletes exclusive: a delete's
     * two steps (see seaftier_be_delete) never interleave with a write of
     * the same object in this process. */
    GRWLock id_locks[SEAFTIER_BACKEND_ID_STRIPES];
};

/* Default time a write waits for room (nudging seaftierd and evicting) when
 * dirty data fills the tier, before it falls back to a direct PUT. */
#define SEAFTIER_BACKEND_FULL_WAIT_MS 5000
/* After a wait ended full, how long later writes go to S3 without waiting;
 * also the period of the warning about it. */
#define SEAFTIER_BACKEND_BYPASS_S 10

/* Returns the shared state for the tier configured by `config` (opening the
 * site — configuration, tier, remotes — on first use), with a new reference. */
SeaftierBackendShared *seaftier_backend_shared_get(const char *seaf_dir, GKeyFile *config,
                                                   GError **error);
/* Drops a reference; the last one closes the tier and frees the clients. */
void seaftier_backend_shared_unref(SeaftierBackendShared *sh);

/* The shared state behind a backend (for tests and tools). */
SeaftierBackendShared *seaftier_obj_backend_shared(ObjBackend *bend);
SeaftierBackendShared *seaftier_block_backend_shared(BlockBackend *bend);
/* The object type an object backend serves. */
SeaftierObjType seaftier_obj_backend_type(ObjBackend *bend);

/* Writes `id` into `buf` for a log line: NULL as "(null)", non-printable
 * bytes escaped, truncated to 48 input bytes. Returns buf. */
const char *seaftier_be_id_for_log(const char *id, char buf[256]);

/* TRUE when `repo_id` is a valid UUID; otherwise logs it as an invalid
 * `what` id ("repo", "store") for operation `op` and returns FALSE. */
gboolean seaftier_be_check_repo_id(const char *op, const char *what, const char *repo_id);

/* TRUE when both ids are valid; otherwise logs which one is bad (for
 * operation `op`) and returns FALSE. */
gboolean seaftier_be_check_ids(const char *op, const char *repo_id, const char *obj_id);

/* Reads an object: tier, else S3 (single-flight) then stored clean.
 * Returns FALSE for missing, deleted or failed (logged). */
gboolean seaftier_be_read(SeaftierBackendShared *sh, SeaftierObjType type, const char *repo_id,
                          const char *obj_id, void **data, gsize *len);
/* The rest of seaftier_be_read after the tier could not serve the object
 * (`err`, from the tier, taken over): DELETED fails, anything else is
 * fetched from S3 (single-flight) and stored clean. */
gboolean seaftier_be_read_after_miss(SeaftierBackendShared *sh, SeaftierObjType type,
                                     const char *repo_id, const char *obj_id, GError *err,
                                     void **data, gsize *len);

/* Writes an object per the configured mode (write-back: dirty, durable when
 * need_sync; write-through: PUT then cached). Returns FALSE (logged) only
 * when the object could be stored neither in the tier nor in S3. */
gboolean seaftier_be_write(SeaftierBackendShared *sh, SeaftierObjType type, const char *repo_id,
                           const char *obj_id, const void *data, gsize len, gboolean need_sync);

/* Existence: the index, else HEAD. An S3 error that persists answers FALSE
 * (see the comment in common.c for why that is the safe answer). */
gboolean seaftier_be_exists(SeaftierBackendShared *sh, SeaftierObjType type, const char *repo_id,
                            const char *obj_id);

/* The original size of an object (index, else HEAD). FALSE when missing,
 * deleted or unknown because of an error. */
gboolean seaftier_be_size(SeaftierBackendShared *sh, SeaftierObjType type, const char *repo_id,
                          const char *obj_id, guint64 *size);

/* Deletes locally and records the pending remote delete; nudges seaftierd. */
gboolean seaftier_be_delete(SeaftierBackendShared *sh, SeaftierObjType type, const char *repo_id,
                            const char *obj_id);

/* foreach over the union of S3's listing and the tier's live rows, minus
 * deleted ones, each id once. `func` returns FALSE to stop (not an error). */
typedef gboolean (*SeaftierBeForeachFunc)(const char *repo_id, const char *obj_id,
                                          void *user_data);
gboolean seaftier_be_foreach(SeaftierBackendShared *sh, SeaftierObjType type, const char *repo_id,
                             SeaftierBeForeachFunc func, void *user_data);

/* Copies an object to another repo. */
gboolean seaftier_be_copy(SeaftierBackendShared *sh, SeaftierObjType type, const char *src_repo_id,
                          const char *dst_repo_id, const char *obj_id);

/* Removes every object of a repo, locally and in S3. */
typedef void (*SeaftierBeProgressFunc)(const char *store_id, guint64 removed, void *user_data);
gboolean seaftier_be_remove_store(SeaftierBackendShared *sh, SeaftierObjType type,
                                  const char *store_id, SeaftierBeProgressFunc progress,
                                  void *user_data);

#endif
