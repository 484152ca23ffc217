/*
 * lib/sync/remote.h — what the sync engine needs from an object store: a
 * table of operations (like Seafile's ObjBackend or curl's per-protocol
 * handlers) behind which S3 is one implementation (remote-s3.c). A second
 * S3 target, or a read-only source such as Seafile's fs layout for a
 * migration, is one more table; the engine never calls a store directly.
 *
 * Keys are "<repo_id>/<obj_id>" (seaftier_remote_key), exactly as Seafile
 * stores objects. Errors are GErrors of the implementation's domain;
 * `classify` maps them to the classes the engine acts on, so that the
 * decision is taken once, by the code that knows the store's errors.
 *
 * Thread-safety: every operation may be called from any number of threads.
 */
#ifndef SEAFTIER_SYNC_REMOTE_H
#define SEAFTIER_SYNC_REMOTE_H

#include <glib.h>
#include <seaftier/config.h>

typedef struct SeaftierRemote SeaftierRemote;

/* How the engine treats a failed request. */
typedef enum {
    SEAFTIER_REMOTE_ERR_NOT_FOUND,   /* the object (not the bucket) is missing */
    SEAFTIER_REMOTE_ERR_TRANSIENT,   /* network, timeout, 5xx, throttling: retry soon */
    SEAFTIER_REMOTE_ERR_PERMANENT,   /* this object's request is refused: retry rarely */
    SEAFTIER_REMOTE_ERR_BUCKET,      /* the whole bucket refuses us (no bucket, bad secret,
                                      * access denied): stop writing until it passes a probe */
} SeaftierRemoteErrorClass;

/* What the engine stores beside the bytes, and checks when it reads them
 * back. Absent values (from objects written by Seafile itself or by older
 * versions) are not checked. */
typedef struct {
    gint64 ctime;                    /* creation time, unix s; 0 = absent */
    gboolean has_size;
    guint64 size;                    /* the object's length */
    gboolean has_crc32c;
    guint32 crc32c;                  /* CRC32C of the bytes */
} SeaftierRemoteMeta;

typedef struct {
    guint64 size;
    gint64 mtime;                    /* 0 if unknown */
    SeaftierRemoteMeta meta;
} SeaftierRemoteInfo;

/* One listed key; return FALSE from the callback to stop (not an error). */
typedef gboolean (*SeaftierRemoteListFunc)(const char *key, guint64 size, void *user_data);

typedef struct {
    const char *kind;                /* "s3", for messages */
    /* Stores the bytes with their metadata. */
    gboolean (*put)(SeaftierRemote *r, const char *key, const void *data, gsize len,
                    const SeaftierRemoteMeta *meta, GError **error);
    /* Reads the whole object and its metadata (`meta` may be NULL). */
    gboolean (*get)(SeaftierRemote *r, const char *key, void **data, gsize *len,
                    SeaftierRemoteMeta *meta, GError **error);
    /* Size and metadata without the bytes; `info` may be NULL. */
    gboolean (*head)(SeaftierRemote *r, const char *key, SeaftierRemoteInfo *info,
                     GError **error);
    /* Deletes keys; a missing key is deleted. Keys that failed are appended
     * to `failed` (char*, g_free) and make the call return FALSE; a request
     * that failed as a whole sets `error` and appends nothing. */
    gboolean (*delete_many)(SeaftierRemote *r, const char *const *keys, guint n_keys,
                            GPtrArray *failed, GError **error);
    /* Every key under `prefix`. */
    gboolean (*list)(SeaftierRemote *r, const char *prefix, SeaftierRemoteListFunc func,
                     void *user_data, GError **error);
    /* Copies within the store, keeping the metadata. */
    gboolean (*copy)(SeaftierRemote *r, const char *src_key, const char *dst_key,
                     GError **error);
    /* The class of an error this remote returned. */
    SeaftierRemoteErrorClass (*classify)(const GError *error);
    /* For the probe: after its object was written and read back, proves what
     * the configuration promises about how the remote stores it (S3 with
     * SSE-C: the object cannot be read without the key). */
    gboolean (*prove_storage)(SeaftierRemote *r, const char *key, GError **error);
    /* For the probe: TRUE when a PUT that failed with `error` may still have
     * stored the object (it is then removed). */
    gboolean (*failed_put_stored)(const GError *error);
    /* What an operator should do about `error` during `op` ("PUT", "GET",
     * "DELETE", "HEAD", "list"). A static string, never a secret. */
    const char *(*advice)(SeaftierRemote *r, const GError *error, const char *op);
    /* "bucket NAME" or similar, for messages. */
    const char *(*name)(SeaftierRemote *r);
    void (*free)(SeaftierRemote *r);
} SeaftierRemoteOps;

struct SeaftierRemote {
    const SeaftierRemoteOps *ops;
};

/* "<repo_id>/<obj_id>": the one key builder for objects in a remote. */
char *seaftier_remote_key(const char *repo_id, const char *obj_id);

/* Metadata of `len` bytes created at `ctime` (size and CRC32C filled in). */
void seaftier_remote_meta_for(SeaftierRemoteMeta *meta, const void *data, gsize len,
                              gint64 ctime);

/* Checks bytes read back against the metadata stored with them. FALSE with
 * SEAFTIER_REMOTE_ERROR_INTEGRITY naming `what` (the object) on a mismatch. */
gboolean seaftier_remote_meta_verify(const SeaftierRemoteMeta *meta, const void *data, gsize len,
                                     const char *what, GError **error);

#define SEAFTIER_REMOTE_ERROR (seaftier_remote_error_quark())
GQuark seaftier_remote_error_quark(void);
typedef enum {
    SEAFTIER_REMOTE_ERROR_INTEGRITY,     /* bytes read differ from the recorded size/CRC32C */
    SEAFTIER_REMOTE_ERROR_PARTIAL,       /* a batch request reported this key as failed */
} SeaftierRemoteErrorCode;

/* The class of any error met while syncing: the remote's own classification
 * for its errors, TRANSIENT for an integrity mismatch (a proxy or network
 * fault; the next attempt may pass) and for anything else. NULL remote:
 * not a remote error. */
SeaftierRemoteErrorClass seaftier_remote_classify(SeaftierRemote *r, const GError *error);

/* Dispatchers, so callers read as plain calls. */
gboolean seaftier_remote_put(SeaftierRemote *r, const char *key, const void *data, gsize len,
                             const SeaftierRemoteMeta *meta, GError **error);
gboolean seaftier_remote_get(SeaftierRemote *r, const char *key, void **data, gsize *len,
                             SeaftierRemoteMeta *meta, GError **error);
gboolean seaftier_remote_head(SeaftierRemote *r, const char *key, SeaftierRemoteInfo *info,
                              GError **error);
gboolean seaftier_remote_delete_many(SeaftierRemote *r, const char *const *keys, guint n_keys,
                                     GPtrArray *failed, GError **error);
gboolean seaftier_remote_list(SeaftierRemote *r, const char *prefix, SeaftierRemoteListFunc func,
                              void *user_data, GError **error);
gboolean seaftier_remote_copy(SeaftierRemote *r, const char *src_key, const char *dst_key,
                              GError **error);
gboolean seaftier_remote_prove_storage(SeaftierRemote *r, const char *key, GError **error);
gboolean seaftier_remote_failed_put_stored(SeaftierRemote *r, const GError *error);
const char *seaftier_remote_advice(SeaftierRemote *r, const GError *error, const char *op);
const char *seaftier_remote_name(SeaftierRemote *r);
/* NULL is a no-op. */
void seaftier_remote_free(SeaftierRemote *r);

#endif
