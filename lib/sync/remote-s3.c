/* lib/sync/remote-s3.c — see remote-s3.h. */
#include "seaftier-build.h"

#include "sync/remote-s3.h"

#include <string.h>

typedef struct {
    SeaftierRemote base;
    SeaftierS3 *s3;
    char *name;                  /* "bucket NAME" */
    gboolean sse_c;              /* what the advice needs of the configuration */
} RemoteS3;

static SeaftierS3 *
client(SeaftierRemote *r)
{
    return ((RemoteS3 *)r)->s3;
}

static void
to_s3_meta(const SeaftierRemoteMeta *in, SeaftierS3Meta *out)
{
    out->ctime = in->ctime;
    out->has_size = in->has_size;
    out->size = in->size;
    out->has_crc32c = in->has_crc32c;
    out->crc32c = in->crc32c;
}

static void
from_s3_meta(const SeaftierS3Meta *in, SeaftierRemoteMeta *out)
{
    out->ctime = in->ctime;
    out->has_size = in->has_size;
    out->size = in->size;
    out->has_crc32c = in->has_crc32c;
    out->crc32c = in->crc32c;
}

static gboolean
s3r_put(SeaftierRemote *r, const char *key, const void *data, gsize len,
        const SeaftierRemoteMeta *meta, GError **error)
{
    SeaftierS3Meta m = { 0 };
    if (meta)
        to_s3_meta(meta, &m);
    return seaftier_s3_put_meta(client(r), key, data, len, &m, error);
}

static gboolean
s3r_get(SeaftierRemote *r, const char *key, void **data, gsize *len, SeaftierRemoteMeta *meta,
        GError **error)
{
    SeaftierS3Meta m = { 0 };
    if (!seaftier_s3_get_meta(client(r), key, data, len, &m, error))
        return FALSE;
    if (meta)
        from_s3_meta(&m, meta);
    return TRUE;
}

static gboolean
s3r_head(SeaftierRemote *r, const char *key, SeaftierRemoteInfo *info, GError **error)
{
    SeaftierS3ObjectInfo oi;
    if (!seaftier_s3_head(client(r), key, &oi, error))
        return FALSE;
    if (info) {
        memset(info, 0, sizeof *info);
        info->size = oi.size;
        info->mtime = oi.mtime;
        from_s3_meta(&oi.meta, &info->meta);
    }
    return TRUE;
}

static gboolean
s3r_delete_many(SeaftierRemote *r, const char *const *keys, guint n_keys, GPtrArray *failed,
                GError **error)
{
    /* One key: a plain DELETE is one request without an XML body to sign. */
    if (n_keys == 1)
        return seaftier_s3_delete(client(r), keys[0], error);
    return seaftier_s3_delete_many(client(r), keys, n_keys, failed, error);
}

typedef struct {
    SeaftierRemoteListFunc func;
    void *user_data;
} ListAdapter;

static gboolean
list_one(const SeaftierS3ListEntry *entry, void *user_data)
{
    ListAdapter *a = user_data;
    return a->func(entry->key, entry->size, a->user_data);
}

static gboolean
s3r_list(SeaftierRemote *r, const char *prefix, SeaftierRemoteListFunc func, void *user_data,
         GError **error)
{
    ListAdapter a = { func, user_data };
    return seaftier_s3_list(client(r), prefix, 0, list_one, &a, error);
}

static gboolean
s3r_copy(SeaftierRemote *r, const char *src_key, const char *dst_key, GError **error)
{
    return seaftier_s3_copy(client(r), src_key, dst_key, error);
}

SeaftierRemoteErrorClass
seaftier_remote_s3_classify(const GError *error)
{
    if (!error || error->domain != SEAFTIER_S3_ERROR)
        return SEAFTIER_REMOTE_ERR_TRANSIENT;
    switch ((SeaftierS3ErrorCode)error->code) {
    case SEAFTIER_S3_ERROR_NOT_FOUND:
        return SEAFTIER_REMOTE_ERR_NOT_FOUND;
    case SEAFTIER_S3_ERROR_NO_SUCH_BUCKET:
    case SEAFTIER_S3_ERROR_SIGNATURE:
    case SEAFTIER_S3_ERROR_ACCESS_DENIED:
    /* the server stores plaintext: no further object may go there */
    case SEAFTIER_S3_ERROR_SSE_C_IGNORED:
        return SEAFTIER_REMOTE_ERR_BUCKET;
    default:
        return seaftier_s3_error_is_transient(error) ? SEAFTIER_REMOTE_ERR_TRANSIENT
                                                     : SEAFTIER_REMOTE_ERR_PERMANENT;
    }
}

const char *
seaftier_remote_s3_advice(const GError *error, gboolean sse_c, const char *op)
{
    if (!error || error->domain != SEAFTIER_S3_ERROR)
        return "check the tier and the configuration";
    gboolean put = strcmp(op, "PUT") == 0;
    switch ((SeaftierS3ErrorCode)error->code) {
    case SEAFTIER_S3_ERROR_NO_SUCH_BUCKET:
        return "the bucket does not exist: create it, or fix `bucket` in this section";
    case SEAFTIER_S3_ERROR_SIGNATURE:
        return "the server rejects our signature: the secret key (`key`) is wrong for `key_id`, "
               "or use_v4_signature/aws_region do not match the server";
    case SEAFTIER_S3_ERROR_ACCESS_DENIED:
        if (put && sse_c)
            return "the bucket refuses this write: `key_id` may lack s3:PutObject, or a bucket "
                   "policy denies SSE-C uploads (remove that policy statement or the sse_c_key "
                   "setting, consistently with the data already in the bucket)";
        return "access denied: check `key_id`/`key` and the bucket's policy for this user";
    case SEAFTIER_S3_ERROR_SSE_C_MISMATCH:
        if (put)
            return "the server refuses SSE-C writes: SSE-C needs use_https = true (or a server "
                   "that allows SSE-C over http)";
        return "SSE-C key mismatch: the object is encrypted with another key, or not encrypted: "
               "check sse_c_key";
    case SEAFTIER_S3_ERROR_INVALID_REQUEST:
        if (sse_c)
            return "the server refuses the request; with SSE-C it must be sent over https "
                   "(use_https = true) and the server must support SSE-C";
        return "the server refuses the request: check aws_region, use_v4_signature and "
               "path_style_request";
    case SEAFTIER_S3_ERROR_NETWORK:
    case SEAFTIER_S3_ERROR_TIMEOUT:
        return "cannot reach the server: check `host` (and port), use_https, ca_file and the network";
    case SEAFTIER_S3_ERROR_SLOW_DOWN:
    case SEAFTIER_S3_ERROR_SERVER:
        return "the server fails: look at its health, the request will be retried";
    case SEAFTIER_S3_ERROR_NOT_IMPLEMENTED:
        return "the server does not implement this operation";
    case SEAFTIER_S3_ERROR_SSE_C_IGNORED:
        return "this server stores plaintext: SSE-C not honoured by this server (OpenStack "
               "Swift's s3api accepts the SSE-C headers and ignores them); seaftier uploads "
               "nothing to this bucket: use a server that implements SSE-C, or remove "
               "sse_c_key consistently with the data already in the bucket";
    default:
        return "see the error above";
    }
}

static gboolean
s3r_prove_storage(SeaftierRemote *r, const char *key, GError **error)
{
    /* An SSE-C echo proves nothing about storage: the object must also be
     * unreadable without the key. */
    if (!((RemoteS3 *)r)->sse_c)
        return TRUE;
    return seaftier_s3_prove_sse_c_enforced(client(r), key, error);
}

static gboolean
s3r_failed_put_stored(const GError *error)
{
    /* The server took the object, in plaintext. */
    return g_error_matches(error, SEAFTIER_S3_ERROR, SEAFTIER_S3_ERROR_SSE_C_IGNORED);
}

static const char *
s3r_advice(SeaftierRemote *r, const GError *error, const char *op)
{
    return seaftier_remote_s3_advice(error, ((RemoteS3 *)r)->sse_c, op);
}

static const char *
s3r_name(SeaftierRemote *r)
{
    return ((RemoteS3 *)r)->name;
}

static void
s3r_free(SeaftierRemote *r)
{
    RemoteS3 *rs = (RemoteS3 *)r;
    seaftier_s3_free(rs->s3);
    g_free(rs->name);
    g_free(rs);
}

static const SeaftierRemoteOps s3_ops = {
    .kind = "s3",
    .put = s3r_put,
    .get = s3r_get,
    .head = s3r_head,
    .delete_many = s3r_delete_many,
    .list = s3r_list,
    .copy = s3r_copy,
    .classify = seaftier_remote_s3_classify,
    .prove_storage = s3r_prove_storage,
    .failed_put_stored = s3r_failed_put_stored,
    .advice = s3r_advice,
    .name = s3r_name,
    .free = s3r_free,
};

SeaftierRemote *
seaftier_remote_s3_new(const SeaftierS3Config *cfg, GError **error)
{
    SeaftierS3 *s3 = seaftier_s3_new(cfg, error);
    if (!s3)
        return NULL;
    RemoteS3 *rs = g_new0(RemoteS3, 1);
    rs->base.ops = &s3_ops;
    rs->s3 = s3;
    rs->sse_c = cfg->sse_c_key != NULL;
    rs->name = g_strdup_printf("bucket %s", cfg->bucket);
    return &rs->base;
}

SeaftierS3 *
seaftier_remote_s3_client(SeaftierRemote *r)
{
    return r && r->ops == &s3_ops ? client(r) : NULL;
}
