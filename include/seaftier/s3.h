/*
 * seaftier/s3.h — a small S3 client for one bucket (one Seafile backend section).
 *
 * Speaks path-style or virtual-host style, http or https, signature V2 or V4,
 * with SSE-C on every request that carries object data. Connections are
 * reused (one curl easy handle per thread, a shared DNS/TLS-session cache);
 * transient failures (5xx, SlowDown, timeouts, resets, 408/429,
 * RequestTimeTooSkewed) are retried with exponential backoff and jitter up to
 * max_retries; everything else fails at once with a named error.
 *
 * Thread-safety: one SeaftierS3 may be used from any number of threads.
 * Keys are passed unencoded ("<repo_id>/<obj_id>"); the client encodes them.
 */
#ifndef SEAFTIER_S3_H
#define SEAFTIER_S3_H

#include <glib.h>
#include <seaftier/config.h>

G_BEGIN_DECLS

typedef struct SeaftierS3 SeaftierS3;

#define SEAFTIER_S3_ERROR (seaftier_s3_error_quark())
GQuark seaftier_s3_error_quark(void);

/* Error codes; the GError message always names the operation, bucket, key
 * and the S3 code/HTTP status, and says what to do for the actionable ones. */
typedef enum {
    SEAFTIER_S3_ERROR_NOT_FOUND,          /* 404 NoSuchKey, bare 404 on HEAD */
    SEAFTIER_S3_ERROR_NO_SUCH_BUCKET,     /* 404 NoSuchBucket */
    SEAFTIER_S3_ERROR_ACCESS_DENIED,      /* 403 AccessDenied, InvalidAccessKeyId */
    SEAFTIER_S3_ERROR_SIGNATURE,          /* 403 SignatureDoesNotMatch: wrong secret key */
    SEAFTIER_S3_ERROR_SSE_C_MISMATCH,     /* 400 on an SSE-C read: key wrong/missing/not encrypted */
    SEAFTIER_S3_ERROR_INVALID_REQUEST,    /* other 400s (InvalidRequest, InvalidArgument …) */
    SEAFTIER_S3_ERROR_NOT_IMPLEMENTED,    /* 501 NotImplemented (e.g. Ceph copy of SSE-C) */
    SEAFTIER_S3_ERROR_SLOW_DOWN,          /* 503 SlowDown after all retries */
    SEAFTIER_S3_ERROR_SERVER,             /* other 5xx after all retries */
    SEAFTIER_S3_ERROR_NETWORK,            /* connect/reset/DNS/TLS after all retries */
    SEAFTIER_S3_ERROR_TIMEOUT,            /* connect or low-speed timeout after all retries */
    SEAFTIER_S3_ERROR_BAD_RESPONSE,       /* unparseable XML, missing fields, wrong length */
    SEAFTIER_S3_ERROR_INTEGRITY,          /* BadDigest / Content-MD5 mismatch */
    SEAFTIER_S3_ERROR_OTHER,              /* any other 4xx */
    SEAFTIER_S3_ERROR_SSE_C_IGNORED,      /* 2xx to an SSE-C request without the
                                           * x-amz-server-side-encryption-customer-algorithm
                                           * echo: the server stores plaintext (Swift's s3api) */
    SEAFTIER_S3_ERROR_INCOMPLETE,         /* a 2xx not proven complete: an object body without
                                           * Content-Length or shorter than it, a 200 whose body
                                           * is an <Error> (CompleteMultipartUpload, CopyObject)
                                           * or is cut short; the work may not be done: retry */
} SeaftierS3ErrorCode;

/* Largest response body accepted: an object (GET) and any other answer
 * (XML). A larger one fails the request (BAD_RESPONSE) instead of filling
 * memory. */
#define SEAFTIER_S3_MAX_OBJECT_BODY ((gsize)1 << 30)
#define SEAFTIER_S3_MAX_XML_BODY ((gsize)64 << 20)

/* TRUE for errors worth retrying soon (network, timeout, 5xx, SlowDown,
 * incomplete answers). */
gboolean seaftier_s3_error_is_transient(const GError *error);

/* Creates a client for the bucket of `cfg` (copied; `cfg` may be freed after).
 * Does no network I/O. */
SeaftierS3 *seaftier_s3_new(const SeaftierS3Config *cfg, GError **error);
void seaftier_s3_free(SeaftierS3 *s3);

/* The bucket name, for messages. */
const char *seaftier_s3_bucket(const SeaftierS3 *s3);

/* TRUE when requests name the bucket in the path (/<bucket>/<key>): either
 * path_style_request is set, or `host` is an IP address, where a virtual
 * host <bucket>.<ip> cannot resolve (botocore and Seafile's own S3 reader
 * fall back to path style for IP hosts the same way). */
gboolean seaftier_s3_uses_path_style(const SeaftierS3 *s3);

/* User metadata stored with an object: x-amz-meta-ctime (Seafile's own),
 * x-amz-meta-seaftier-size and x-amz-meta-seaftier-crc32c (8 lowercase hex
 * digits) that seaftier records so a read can be checked end to end. */
typedef struct {
    gint64 ctime;           /* 0: absent */
    gboolean has_size;
    guint64 size;
    gboolean has_crc32c;
    guint32 crc32c;
} SeaftierS3Meta;

/* Stores `len` bytes at `key` with Content-MD5 (and SSE-C when configured).
 * `ctime` > 0 adds x-amz-meta-ctime. Bodies above multipart_part_size are
 * uploaded with multipart upload (aborted on failure). */
gboolean seaftier_s3_put(SeaftierS3 *s3, const char *key, const void *data, gsize len,
                         gint64 ctime, GError **error);

/* seaftier_s3_put with the metadata of `meta` (NULL: none). */
gboolean seaftier_s3_put_meta(SeaftierS3 *s3, const char *key, const void *data, gsize len,
                              const SeaftierS3Meta *meta, GError **error);

/* Reads the whole object into a newly allocated buffer (*data, g_free). */
gboolean seaftier_s3_get(SeaftierS3 *s3, const char *key, void **data, gsize *len,
                         GError **error);

/* seaftier_s3_get that also returns the object's metadata (`meta` may be NULL). */
gboolean seaftier_s3_get_meta(SeaftierS3 *s3, const char *key, void **data, gsize *len,
                              SeaftierS3Meta *meta, GError **error);

/* Reads `length` bytes from `offset` (a Range request). The result may be
 * shorter at the end of the object. */
gboolean seaftier_s3_get_range(SeaftierS3 *s3, const char *key, guint64 offset, guint64 length,
                               void **data, gsize *len, GError **error);

typedef struct {
    guint64 size;
    gint64 mtime;           /* Last-Modified, seconds since the epoch, 0 if absent */
    gint64 ctime;           /* x-amz-meta-ctime, 0 if absent */
    char etag[80];          /* without quotes */
    gboolean sse_c;         /* the server says the object is SSE-C encrypted */
    SeaftierS3Meta meta;    /* user metadata (meta.ctime == ctime) */
} SeaftierS3ObjectInfo;

/* HEAD. Missing object: FALSE with SEAFTIER_S3_ERROR_NOT_FOUND. `info` may be NULL. */
gboolean seaftier_s3_head(SeaftierS3 *s3, const char *key, SeaftierS3ObjectInfo *info,
                          GError **error);

/* DELETE. Deleting a missing key succeeds (S3 answers 204). */
gboolean seaftier_s3_delete(SeaftierS3 *s3, const char *key, GError **error);

typedef struct {
    char *key;
    guint64 size;
} SeaftierS3ListEntry;

typedef struct {
    GPtrArray *entries;         /* SeaftierS3ListEntry* */
    char *next_token;           /* continuation token, NULL on the last page */
} SeaftierS3ListPage;

/* ListObjectsV2 of keys starting with `prefix`, one page. `token` is NULL
 * for the first page; `max_keys` 0 means the server's default (1000). */
gboolean seaftier_s3_list_page(SeaftierS3 *s3, const char *prefix, const char *token,
                               int max_keys, SeaftierS3ListPage **page, GError **error);
void seaftier_s3_list_page_free(SeaftierS3ListPage *page);

/* Called for every key under a prefix; return FALSE to stop early. */
typedef gboolean (*SeaftierS3ListFunc)(const SeaftierS3ListEntry *entry, void *user_data);

/* Lists every key under `prefix`, following continuation tokens. */
gboolean seaftier_s3_list(SeaftierS3 *s3, const char *prefix, int max_keys,
                          SeaftierS3ListFunc func, void *user_data, GError **error);

/* DeleteObjects in batches of at most 1000 keys (Content-MD5 signed).
 * Keys S3 reports as failed are appended to `failed` (char*, may be NULL)
 * and make the call return FALSE. */
gboolean seaftier_s3_delete_many(SeaftierS3 *s3, const char *const *keys, guint n_keys,
                                 GPtrArray *failed, GError **error);

/* Server-side copy within the bucket, with the SSE-C copy-source headers
 * when configured. Falls back to GET + PUT when the server answers 501
 * NotImplemented (Ceph cannot copy SSE-C objects); the 501 is remembered by
 * this client, so later copies go straight to GET + PUT (two requests). */
gboolean seaftier_s3_copy(SeaftierS3 *s3, const char *src_key, const char *dst_key,
                          GError **error);

/* Creates the client's bucket (PUT Bucket); an existing bucket owned by the
 * same user is success. For setup scripts, tests and `seaftier-admin`. */
gboolean seaftier_s3_create_bucket(SeaftierS3 *s3, GError **error);

/* Proves that the server enforces SSE-C on `key` (an object this client wrote
 * with its sse_c_key): a GET without the SSE-C headers must be refused. TRUE
 * when it is; FALSE with SEAFTIER_S3_ERROR_SSE_C_IGNORED when the object is
 * served without the key (the server stored it in plaintext), or with the
 * GET's own error. Only meaningful for a client configured with sse_c_key
 * (otherwise fails with SEAFTIER_S3_ERROR_INVALID_REQUEST). */
gboolean seaftier_s3_prove_sse_c_enforced(SeaftierS3 *s3, const char *key, GError **error);

/* Counters since creation, for metrics. */
typedef struct {
    guint64 requests;
    guint64 retries;
    guint64 failures;
    guint64 bytes_sent;
    guint64 bytes_received;
} SeaftierS3Stats;
void seaftier_s3_get_stats(SeaftierS3 *s3, SeaftierS3Stats *stats);

G_END_DECLS

#endif
