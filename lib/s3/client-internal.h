/*
 * lib/s3/client-internal.h — the request engine shared by the S3 operations.
 *
 * client.c owns connections, signing, retries and error mapping;
 * client-ops.c and client-multipart.c describe each S3 operation as an
 * S3Request and interpret the S3Response.
 */
#ifndef SEAFTIER_S3_CLIENT_INTERNAL_H
#define SEAFTIER_S3_CLIENT_INTERNAL_H

#include <seaftier/s3.h>
#include "s3/sign.h"

#define S3_MAX_EXTRA_HEADERS 12

typedef enum {
    S3_SSE_NONE = 0,
    S3_SSE_OBJECT = 1 << 0,       /* x-amz-server-side-encryption-customer-* */
    S3_SSE_COPY_SOURCE = 1 << 1,  /* x-amz-copy-source-server-side-encryption-customer-* */
} S3SseFlags;

typedef struct {
    const char *op;               /* "PUT", "GetObject" … for messages */
    const char *method;
    const char *key;              /* unencoded object key, NULL for the bucket itself */
    const S3Param *query;
    gsize n_query;
    S3Param headers[S3_MAX_EXTRA_HEADERS]; /* extra headers to send and sign */
    gsize n_headers;
    const void *body;
    gsize body_len;
    gboolean send_body;           /* PUT/POST with a body (possibly empty) */
    gboolean content_md5;         /* add Content-MD5 of the body */
    unsigned sse;                 /* S3SseFlags */
    gboolean head;                /* no response body expected */
    gboolean no_sse_echo;         /* S3_SSE_OBJECT sent, but no echo expected in the
                                   * answer (CreateMultipartUpload, Complete) */
} S3Request;

typedef struct {
    long status;
    GByteArray *body;
    char etag[80];
    gint64 content_length;        /* -1 if absent */
    gint64 last_modified;
    gint64 meta_ctime;
    SeaftierS3Meta meta;          /* x-amz-meta-* seaftier knows (meta.ctime = meta_ctime) */
    gboolean sse_c;
    gsize max_body;               /* the body is refused beyond this many bytes */
    gboolean too_big;             /* ... and it was */
} S3Response;

struct SeaftierS3 {
    SeaftierS3Config cfg;         /* deep copy */
    char *scheme_host;            /* "https://host:port" without the bucket */
    char *host_header;            /* Host value for path-style requests */
    char *vhost_header;           /* Host value for virtual-host requests */
    char sse_key_b64[45];
    char sse_key_md5_b64[25];
    void *share;                  /* CURLSH* (DNS + TLS session cache) */
    GMutex share_locks[8];
    GMutex pool_lock;
    GPtrArray *idle_handles;      /* CURL*, reused for keep-alive */
    SeaftierS3Stats stats;        /* updated atomically */
    gint copy_not_implemented;    /* set once CopyObject answered 501 (atomic) */
};

void s3_request_add_header(S3Request *req, const char *name, const char *value);

/* The SSE-C flags for requests carrying object data: S3_SSE_OBJECT when
 * the bucket is configured with an sse_c_key. */
unsigned s3_object_sse(const SeaftierS3 *s3);

/* Text of the metadata headers; must outlive the request it is added to. */
typedef struct {
    char ctime[24];
    char size[24];
    char crc32c[12];
} S3MetaText;

/* Adds the x-amz-meta-* headers of `meta` (NULL: none). */
void s3_request_add_meta(S3Request *req, const SeaftierS3Meta *meta, S3MetaText *text);

/* Checks that a 2xx answer's body is the XML document `root` (S3 may answer
 * 200 and report an error in the body, or the body may be cut short): FALSE
 * with SEAFTIER_S3_ERROR_INCOMPLETE (transient) naming op, bucket, key and
 * the <Error> code when there is one. */
gboolean s3_check_result(SeaftierS3 *s3, const S3Request *req, const S3Response *resp,
                         const char *root, GError **error);

/* Performs the request with retries. On success (2xx) fills `resp` (caller
 * clears it with s3_response_clear). On failure sets a named GError. */
gboolean s3_perform(SeaftierS3 *s3, const S3Request *req, S3Response *resp, GError **error);
void s3_response_clear(S3Response *resp);

/* Multipart upload of a large body (client-multipart.c). */
gboolean s3_put_multipart(SeaftierS3 *s3, const char *key, const void *data, gsize len,
                          const SeaftierS3Meta *meta, GError **error);

#endif
