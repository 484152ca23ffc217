/*
 * seaftier/backend.h — Seafile's object and block backend vtables, served
 * from seaftier's local tier in front of S3.
 *
 * The structs below have exactly the layout of seafile-server's
 * common/obj-backend.h and common/block-backend.h (same members, same order,
 * same signatures), so seaf-server can use them unchanged: a seaf-server
 * build only swaps the constructor it calls.
 *
 * Hooking into seaf-server (common/obj-store.c and common/block-mgr.c):
 *
 *     GError *err = NULL;
 *     bend = obj_backend_tier_new(seaf->seaf_dir, obj_type, seaf->config, &err);
 *     if (!bend) { seaf_warning("seaftier: %s\n", err->message); g_error_free(err); }
 *
 *     bend = block_backend_tier_new(seaf->seaf_dir, seaf->config, &err);
 *
 * (Seafile's own constructors take no GError; ours add it as the last
 * parameter, and it may be NULL.) If seaf-server already includes its own
 * obj-backend.h and/or block-backend.h, define SEAFTIER_SEAFILE_TYPES_DEFINED
 * before including this header so the shared typedefs are not repeated. The
 * prototypes below name the structs by tag (struct ObjBackend, struct
 * BlockBackend), declared here, so common/obj-store.c (which includes only
 * obj-backend.h) and common/block-mgr.c (only block-backend.h) both compile.
 *
 * Semantics (details in the function comments of lib/backend-*.c):
 *  - Every entry point validates repo/store ids (UUID) and object/block ids
 *    (40 lowercase hex) before anything else; a bad id is refused (-1, NULL
 *    or FALSE) with a log line, and nothing is created.
 *  - write/commit_block store the object in the tier as dirty (durable before
 *    returning when need_sync, always for blocks) and wake seaftierd, which
 *    uploads it; in [tier] mode = write_through they PUT to S3 first.
 *  - reads are served from the tier, else fetched from S3 (concurrent misses
 *    of one object share one GET) and kept as a clean copy.
 *  - when dirty data fills the tier, a write waits (up to 5 s, waking
 *    seaftierd and evicting clean objects), then uploads the object itself
 *    before acknowledging it (logged, rate-limited); it fails only when S3
 *    refuses too. Acknowledged writes are never dropped.
 *  - exists() answers from the index, else with a HEAD; when S3 cannot
 *    answer it says "absent" (logged as an error): Seafile then sends and
 *    writes the data again, which is harmless, while a wrong "present"
 *    would let it skip data that is missing.
 *  - delete/remove_block remove the local copy at once and leave a pending
 *    remote delete for seaftierd; a deleted object is never re-fetched.
 *    remove_store deletes in S3 itself (DeleteObjects, 1000 keys a request)
 *    and calls the progress callback as objects go.
 *  - foreach lists the union of S3 (ListObjectsV2 on "<repo_id>/") and the
 *    tier's live rows, each id once, without deleted ones; it fails (-1)
 *    rather than return a partial list when S3 cannot be listed.
 *
 * All backends of one process that use the same tier directory share one
 * tier and one set of S3 clients (reference counted).
 */
#ifndef SEAFTIER_BACKEND_H
#define SEAFTIER_BACKEND_H

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

#ifndef SEAFTIER_SEAFILE_TYPES_DEFINED
#define SEAFTIER_SEAFILE_TYPES_DEFINED

/* ---- from seafile-server common/obj-store.h ---- */

/* Called for each object by foreach_obj; return FALSE to stop. */
typedef gboolean (*SeafObjFunc)(const char *repo_id, int version, const char *obj_id,
                                void *user_data);

/* Called by remove_store as objects go, with the running count. */
typedef void (*SeafObjProgressFunc)(const char *store_id, guint64 removed_count,
                                    void *user_data);

/* ---- from seafile-server common/block.h ---- */

typedef struct _BMetadata BlockMetadata;
typedef struct _BMetadata BMetadata;

struct _BMetadata {
    char id[41];
    uint32_t size;
};

/* Opaque block handle. */
typedef struct _BHandle BlockHandle;
typedef struct _BHandle BHandle;

enum {
    BLOCK_READ,
    BLOCK_WRITE,
};

typedef gboolean (*SeafBlockFunc)(const char *store_id, int version, const char *block_id,
                                  void *user_data);

typedef void (*SeafBlockProgressFunc)(const char *store_id, guint64 removed_count,
                                      void *user_data);

/* ---- from seafile-server common/obj-backend.h ---- */

typedef struct ObjBackend ObjBackend;

struct ObjBackend {
    int (*read)(ObjBackend *bend, const char *repo_id, int version, const char *obj_id,
                void **data, int *len);

    int (*write)(ObjBackend *bend, const char *repo_id, int version, const char *obj_id,
                 void *data, int len, gboolean need_sync);

    gboolean (*exists)(ObjBackend *bend, const char *repo_id, int version, const char *obj_id);

    void (*delete)(ObjBackend *bend, const char *repo_id, int version, const char *obj_id);

    int (*foreach_obj)(ObjBackend *bend, const char *repo_id, int version, SeafObjFunc process,
                       void *user_data);

    int (*copy)(ObjBackend *bend, const char *src_repo_id, int src_version,
                const char *dst_repo_id, int dst_version, const char *obj_id);

    int (*remove_store)(ObjBackend *bend, const char *store_id, SeafObjProgressFunc progress_cb,
                        void *user_data);

    void *priv;
};

/* ---- from seafile-server common/block-backend.h ---- */

typedef struct BlockBackend BlockBackend;

struct BlockBackend {
    BHandle *(*open_block)(BlockBackend *bend, const char *store_id, int version,
                           const char *block_id, int rw_type);

    int (*read_block)(BlockBackend *bend, BHandle *handle, void *buf, int len);

    int (*write_block)(BlockBackend *bend, BHandle *handle, const void *buf, int len);

    int (*commit_block)(BlockBackend *bend, BHandle *handle);

    int (*close_block)(BlockBackend *bend, BHandle *handle);

    int (*exists)(BlockBackend *bend, const char *store_id, int version, const char *block_id);

    int (*remove_block)(BlockBackend *bend, const char *store_id, int version,
                        const char *block_id);

    BMetadata *(*stat_block)(BlockBackend *bend, const char *store_id, int version,
                             const char *block_id);

    BMetadata *(*stat_block_by_handle)(BlockBackend *bend, BHandle *handle);

    void (*block_handle_free)(BlockBackend *bend, BHandle *handle);

    int (*foreach_block)(BlockBackend *bend, const char *store_id, int version,
                         SeafBlockFunc process, void *user_data);

    int (*copy)(BlockBackend *bend, const char *src_store_id, int src_version,
                const char *dst_store_id, int dst_version, const char *block_id);

    /* Only valid for version 1 repo. Remove all blocks for the repo. */
    int (*remove_store)(BlockBackend *bend, const char *store_id,
                        SeafBlockProgressFunc progress_cb, void *user_data);

    void *be_priv;      /* backend private field */
};

#endif /* SEAFTIER_SEAFILE_TYPES_DEFINED */

/* Complete above, or in seafile-server's headers, or (for the one a host
 * file did not include) left incomplete: the prototypes only take pointers. */
struct ObjBackend;
struct BlockBackend;

/*
 * Creates the object backend for `obj_type` ("commits" or "fs") from
 * seaf-server's parsed seafile.conf (`config`, not modified or kept).
 * The tier lives in [tier] dir, or in <seaf_dir>/seaftier when that key is
 * unset (seaf_dir may be NULL only when [tier] dir is set).
 * Returns NULL with `error` set (naming the section/key/value at fault) when
 * the configuration is invalid or the tier cannot be opened.
 */
struct ObjBackend *obj_backend_tier_new(const char *seaf_dir, const char *obj_type,
                                        GKeyFile *config, GError **error);

/* Frees an object backend; the shared tier is closed with its last user.
 * Everything acknowledged as durable is already on disk. NULL is a no-op. */
void obj_backend_tier_free(struct ObjBackend *bend);

/*
 * Creates the block backend; same configuration rules as
 * obj_backend_tier_new().
 */
struct BlockBackend *block_backend_tier_new(const char *seaf_dir, GKeyFile *config,
                                            GError **error);

/* Frees a block backend. Handles still open must have been freed before. */
void block_backend_tier_free(struct BlockBackend *bend);

G_END_DECLS

#endif
