/*
 * lib/s3/client-ops.c — the S3 operations of seaftier/s3.h, each described
 * as an S3Request for the engine in client.c.
 */
#include "seaftier-build.h"

#include "s3/client-internal.h"
#include "s3/xml.h"

#include <seaftier/log.h>

#include <string.h>

#define DELETE_BATCH_MAX 1000

static gboolean
check_key(const SeaftierS3 *s3, const char *op, const char *key, GError **error)
{
    if (!key || !*key || strlen(key) > 1024) {
        g_set_error(error, SEAFTIER_S3_ERROR, SEAFTIER_S3_ERROR_INVALID_REQUEST,
                    "%s %s: invalid object key", op, s3->cfg.bucket);
        return FALSE;
    }
    return TRUE;
}

gboolean
seaftier_s3_put(SeaftierS3 *s3, const char *key, const void *data, gsize len, gint64 ctime,
                GError **error)
{
    SeaftierS3Meta meta = { .ctime = ctime };
    return seaftier_s3_put_meta(s3, key, data, len, &meta, error);
}

gboolean
seaftier_s3_put_meta(SeaftierS3 *s3, const char *key, const void *data, gsize len,
                     const SeaftierS3Meta *meta, GError **error)
{
    if (!check_key(s3, "PutObject", key, error))
        return FALSE;
    if (len > s3->cfg.multipart_part_size)
        return s3_put_multipart(s3, key, data, len, meta, error);

    S3MetaText meta_text;
    S3Request req = { .op = "PutObject", .method = "PUT", .key = key, .body = data,
                      .body_len = len, .send_body = TRUE, .content_md5 = TRUE,
                      .sse = s3_object_sse(s3) };
    s3_request_add_meta(&req, meta, &meta_text);
    S3Response resp;
    if (!s3_perform(s3, &req, &resp, error))
        return FALSE;
    s3_response_clear(&resp);
    return TRUE;
}

static gboolean
get_common(SeaftierS3 *s3, const char *key, const char *range, void **data, gsize *len,
           SeaftierS3Meta *meta, GError **error)
{
    if (!check_key(s3, "GetObject", key, error))
        return FALSE;
    S3Request req = { .op = "GetObject", .method = "GET", .key = key, .sse = s3_object_sse(s3) };
    if (range)
        s3_request_add_header(&req, "Range", range);
    S3Response resp;
    if (!s3_perform(s3, &req, &resp, error))
        return FALSE;
    if (resp.content_length >= 0 && (guint64)resp.content_length != resp.body->len) {
        g_set_error(error, SEAFTIER_S3_ERROR, SEAFTIER_S3_ERROR_INCOMPLETE,
                    "GetObject %s/%s: got %u bytes, Content-Length said %" G_GINT64_FORMAT,
                    s3->cfg.bucket, key, resp.body->len, resp.content_length);
        s3_response_clear(&resp);
        return FALSE;
    }
    *len = resp.body->len;
    if (meta)
        *meta = resp.meta;
    *data = g_byte_array_free(resp.body, FALSE);
    resp.body = NULL;
    s3_response_clear(&resp);
    return TRUE;
}

gboolean
seaftier_s3_get(SeaftierS3 *s3, const char *key, void **data, gsize *len, GError **error)
{
    return get_common(s3, key, NULL, data, len, NULL, error);
}

gboolean
seaftier_s3_get_meta(SeaftierS3 *s3, const char *key, void **data, gsize *len,
                     SeaftierS3Meta *meta, GError **error)
{
    return get_common(s3, key, NULL, data, len, meta, error);
}

gboolean
seaftier_s3_get_range(SeaftierS3 *s3, const char *key, guint64 offset, guint64 length,
                      void **data, gsize *len, GError **error)
{
    if (length == 0) {
        *data = g_malloc(1);
        *len = 0;
        return TRUE;
    }
    char range[64];
    g_snprintf(range, sizeof range, "bytes=%" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT, offset,
               offset + length - 1);
    return get_common(s3, key, range, data, len, NULL, error);
}

gboolean
seaftier_s3_head(SeaftierS3 *s3, const char *key, SeaftierS3ObjectInfo *info, GError **error)
{
    if (!check_key(s3, "HeadObject", key, error))
        return FALSE;
    S3Request req = { .op = "HeadObject", .method = "HEAD", .key = key, .head = TRUE,
                      .sse = s3_object_sse(s3) };
    S3Response resp;
    if (!s3_perform(s3, &req, &resp, error))
        return FALSE;
    if (info) {
        memset(info, 0, sizeof *info);
        info->size = resp.content_length > 0 ? (guint64)resp.content_length : 0;
        info->mtime = resp.last_modified;
        info->ctime = resp.meta_ctime;
        info->meta = resp.meta;
        info->sse_c = resp.sse_c;
        g_strlcpy(info->etag, resp.etag, sizeof info->etag);
    }
    s3_response_clear(&resp);
    return TRUE;
}

gboolean
seaftier_s3_delete(SeaftierS3 *s3, const char *key, GError **error)
{
    if (!check_key(s3, "DeleteObject", key, error))
        return FALSE;
    S3Request req = { .op = "DeleteObject", .method = "DELETE", .key = key };
    S3Response resp;
    GError *err = NULL;
    if (!s3_perform(s3, &req, &resp, &err)) {
        /* S3 answers 204 for a missing key; some servers say 404: same outcome */
        if (g_error_matches(err, SEAFTIER_S3_ERROR, SEAFTIER_S3_ERROR_NOT_FOUND)) {
            g_error_free(err);
            return TRUE;
        }
        g_propagate_error(error, err);
        return FALSE;
    }
    s3_response_clear(&resp);
    return TRUE;
}

gboolean
seaftier_s3_list_page(SeaftierS3 *s3, const char *prefix, const char *token, int max_keys,
                      SeaftierS3ListPage **page, GError **error)
{
    char max_str[16];
    S3Param query[4];
    gsize nq = 0;
    query[nq++] = (S3Param){ "list-type", "2" };
    if (prefix && *prefix)
        query[nq++] = (S3Param){ "prefix", prefix };
    if (token)
        query[nq++] = (S3Param){ "continuation-token", token };
    if (max_keys > 0) {
        g_snprintf(max_str, sizeof max_str, "%d", max_keys);
        query[nq++] = (S3Param){ "max-keys", max_str };
    }
    S3Request req = { .op = "ListObjectsV2", .method = "GET", .query = query, .n_query = nq };
    S3Response resp;
    if (!s3_perform(s3, &req, &resp, error))
        return FALSE;
    gboolean ok = s3_xml_parse_list_v2((const char *)resp.body->data, resp.body->len, page, error);
    s3_response_clear(&resp);
    if (!ok)
        g_prefix_error(error, "ListObjectsV2 %s/%s: ", s3->cfg.bucket, prefix ? prefix : "");
    return ok;
}

void
seaftier_s3_list_page_free(SeaftierS3ListPage *page)
{
    if (!page)
        return;
    if (page->entries)
        g_ptr_array_free(page->entries, TRUE);
    g_free(page->next_token);
    g_free(page);
}

gboolean
seaftier_s3_list(SeaftierS3 *s3, const char *prefix, int max_keys, SeaftierS3ListFunc func,
                 void *user_data, GError **error)
{
    char *token = NULL;
    do {
        SeaftierS3ListPage *page = NULL;
        if (!seaftier_s3_list_page(s3, prefix, token, max_keys, &page, error)) {
            g_free(token);
            return FALSE;
        }
        g_free(token);
        token = g_steal_pointer(&page->next_token);
        gboolean go_on = TRUE;
        for (guint i = 0; go_on && i < page->entries->len; i++)
            go_on = func(page->entries->pdata[i], user_data);
        seaftier_s3_list_page_free(page);
        if (!go_on) {
            g_free(token);
            return TRUE;
        }
    } while (token);
    return TRUE;
}

static gboolean
delete_batch(SeaftierS3 *s3, const char *const *keys, guint n, GPtrArray *failed, GError **error)
{
    char *body = s3_xml_build_delete(keys, n);
    S3Param query[] = { { "delete", NULL } };
    S3Request req = { .op = "DeleteObjects", .method = "POST", .query = query, .n_query = 1,
                      .body = body, .body_len = strlen(body), .send_body = TRUE,
                      .content_md5 = TRUE };
    s3_request_add_header(&req, "Content-Type", "application/xml");
    S3Response resp;
    gboolean ok = s3_perform(s3, &req, &resp, error);
    g_free(body);
    if (!ok)
        return FALSE;
    GPtrArray *bad = g_ptr_array_new_with_free_func(g_free);
    char *first_code = NULL;
    ok = s3_xml_parse_delete_result((const char *)resp.body->data, resp.body->len, bad,
                                    &first_code, error);
    s3_response_clear(&resp);
    if (!ok)
        g_prefix_error(error, "DeleteObjects %s (%u keys from %s): ", s3->cfg.bucket, n, keys[0]);
    if (ok && bad->len > 0) {
        g_set_error(error, SEAFTIER_S3_ERROR, SEAFTIER_S3_ERROR_OTHER,
                    "DeleteObjects %s: %u of %u keys failed (first: %s, %s)", s3->cfg.bucket,
                    bad->len, n, (char *)bad->pdata[0], first_code ? first_code : "?");
        ok = FALSE;
    }
    for (guint i = 0; failed && i < bad->len; i++)
        g_ptr_array_add(failed, g_strdup(bad->pdata[i]));
    g_ptr_array_free(bad, TRUE);
    g_free(first_code);
    return ok;
}

gboolean
seaftier_s3_delete_many(SeaftierS3 *s3, const char *const *keys, guint n_keys, GPtrArray *failed,
                        GError **error)
{
    gboolean ok = TRUE;
    for (guint i = 0; i < n_keys; i += DELETE_BATCH_MAX) {
        guint n = MIN(DELETE_BATCH_MAX, n_keys - i);
        GError *err = NULL;
        if (!delete_batch(s3, keys + i, n, failed, &err)) {
            if (ok)
                g_propagate_error(error, err);
            else
                g_error_free(err);
            ok = FALSE;
        }
    }
    return ok;
}

/* GET + PUT: two requests (the GET's answer carries the ctime metadata). */
static gboolean
copy_by_get_put(SeaftierS3 *s3, const char *src_key, const char *dst_key, GError **error)
{
    void *data = NULL;
    gsize len = 0;
    SeaftierS3Meta meta = { 0 };
    if (!seaftier_s3_get_meta(s3, src_key, &data, &len, &meta, error))
        return FALSE;
    gboolean ok = seaftier_s3_put_meta(s3, dst_key, data, len, &meta, error);
    g_free(data);
    return ok;
}

gboolean
seaftier_s3_copy(SeaftierS3 *s3, const char *src_key, const char *dst_key, GError **error)
{
    if (!check_key(s3, "CopyObject", src_key, error) || !check_key(s3, "CopyObject", dst_key, error))
        return FALSE;
    char *enc = s3_uri_encode(src_key, FALSE);
    char *source = g_strdup_printf("/%s/%s", s3->cfg.bucket, enc);
    g_free(enc);
    if (g_atomic_int_get(&s3->copy_not_implemented)) {
        g_free(source);
        return copy_by_get_put(s3, src_key, dst_key, error);
    }
    unsigned sse = s3->cfg.sse_c_key ? (S3_SSE_OBJECT | S3_SSE_COPY_SOURCE) : S3_SSE_NONE;
    S3Request req = { .op = "CopyObject", .method = "PUT", .key = dst_key, .send_body = TRUE,
                      .body = "", .body_len = 0, .sse = sse };
    s3_request_add_header(&req, "x-amz-copy-source", source);
    S3Response resp;
    GError *err = NULL;
    gboolean ok = s3_perform(s3, &req, &resp, &err);
    g_free(source);
    if (ok) {
        /* a 200 may carry an <Error> (or be cut short): the copy may not exist */
        ok = s3_check_result(s3, &req, &resp, "CopyObjectResult", &err);
        s3_response_clear(&resp);
        if (!ok)
            g_prefix_error(&err, "copy from %s: ", src_key);
    }
    if (!ok && g_error_matches(err, SEAFTIER_S3_ERROR, SEAFTIER_S3_ERROR_SSE_C_IGNORED)) {
        /* the copy may be plaintext: rewrite it with a PUT, which either
         * honours SSE-C or fails with the same named error */
        seaftier_warning("%s; rewriting the copy by GET + PUT", err->message);
        g_clear_error(&err);
        return copy_by_get_put(s3, src_key, dst_key, error);
    }
    if (!ok && g_error_matches(err, SEAFTIER_S3_ERROR, SEAFTIER_S3_ERROR_NOT_IMPLEMENTED)) {
        /* Ceph 16 cannot copy SSE-C objects server-side; it will not learn
         * to while this client lives: skip the doomed request from now on */
        g_atomic_int_set(&s3->copy_not_implemented, 1);
        seaftier_debug("CopyObject %s/%s: server cannot copy (%s); copying by GET + PUT",
                       s3->cfg.bucket, src_key, err->message);
        g_clear_error(&err);
        return copy_by_get_put(s3, src_key, dst_key, error);
    }
    if (!ok) {
        g_propagate_error(error, err);
        return FALSE;
    }
    if (s3->cfg.sse_c_key) {
        /* Some servers (Ceph) accept destination SSE-C headers on a copy and
         * store the result unencrypted. Never rely on copy for encryption:
         * if the copy is readable without the key, rewrite it by GET + PUT. */
        S3Request probe = { .op = "HeadObject", .method = "HEAD", .key = dst_key, .head = TRUE };
        GError *perr = NULL;
        if (s3_perform(s3, &probe, &resp, &perr)) {
            s3_response_clear(&resp);
            seaftier_warning("CopyObject %s/%s: the server stored the copy unencrypted; "
                             "rewriting it with SSE-C", s3->cfg.bucket, dst_key);
            return copy_by_get_put(s3, src_key, dst_key, error);
        }
        g_clear_error(&perr);
    }
    return TRUE;
}

gboolean
seaftier_s3_prove_sse_c_enforced(SeaftierS3 *s3, const char *key, GError **error)
{
    if (!check_key(s3, "GetObject", key, error))
        return FALSE;
    if (!s3->cfg.sse_c_key) {
        g_set_error(error, SEAFTIER_S3_ERROR, SEAFTIER_S3_ERROR_INVALID_REQUEST,
                    "GetObject %s/%s: no sse_c_key configured, nothing to prove", s3->cfg.bucket, key);
        return FALSE;
    }
    S3Request req = { .op = "GetObject (without the SSE-C key)", .method = "GET", .key = key };
    S3Response resp;
    GError *err = NULL;
    if (s3_perform(s3, &req, &resp, &err)) {
        s3_response_clear(&resp);
        g_set_error(error, SEAFTIER_S3_ERROR, SEAFTIER_S3_ERROR_SSE_C_IGNORED,
                    "GetObject %s/%s without the SSE-C key was answered with the object: the "
                    "server ignored SSE-C (stores plaintext: SSE-C not honoured by this server)",
                    s3->cfg.bucket, key);
        return FALSE;
    }
    if (g_error_matches(err, SEAFTIER_S3_ERROR, SEAFTIER_S3_ERROR_SSE_C_MISMATCH)) {
        g_error_free(err);
        return TRUE;
    }
    g_propagate_error(error, err);
    return FALSE;
}

gboolean
seaftier_s3_create_bucket(SeaftierS3 *s3, GError **error)
{
    S3Request req = { .op = "CreateBucket", .method = "PUT", .key = NULL, .send_body = TRUE,
                      .body = "", .body_len = 0 };
    S3Response resp;
    GError *err = NULL;
    if (!s3_perform(s3, &req, &resp, &err)) {
        if (err->domain == SEAFTIER_S3_ERROR && strstr(err->message, "BucketAlreadyOwnedByYou")) {
            g_error_free(err);
            return TRUE;
        }
        g_propagate_error(error, err);
        return FALSE;
    }
    s3_response_clear(&resp);
    return TRUE;
}
