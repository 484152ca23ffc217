/*
 * lib/s3/client-multipart.c — multipart upload for bodies above
 * multipart_part_size: initiate, upload parts (each with Content-MD5 and
 * SSE-C), complete; abort on any failure so no parts linger in the bucket.
 */
#include "seaftier-build.h"

#include "s3/client-internal.h"
#include "s3/xml.h"

#include <seaftier/log.h>

#include <string.h>

static char *
initiate(SeaftierS3 *s3, const char *key, const SeaftierS3Meta *meta, GError **error)
{
    S3MetaText meta_text;
    S3Param query[] = { { "uploads", NULL } };
    S3Request req = { .op = "CreateMultipartUpload", .method = "POST", .key = key,
                      .query = query, .n_query = 1, .send_body = TRUE, .body = "",
                      .body_len = 0, .sse = s3_object_sse(s3), .no_sse_echo = TRUE };
    s3_request_add_meta(&req, meta, &meta_text);
    S3Response resp;
    if (!s3_perform(s3, &req, &resp, error))
        return NULL;
    char *id = s3_xml_parse_upload_id((const char *)resp.body->data, resp.body->len, error);
    s3_response_clear(&resp);
    if (!id)
        g_prefix_error(error, "CreateMultipartUpload %s/%s: ", s3->cfg.bucket, key);
    return id;
}

static char *
upload_part(SeaftierS3 *s3, const char *key, const char *upload_id, guint part_no,
            const guint8 *data, gsize len, GError **error)
{
    char part_str[16];
    g_snprintf(part_str, sizeof part_str, "%u", part_no);
    S3Param query[] = { { "partNumber", part_str }, { "uploadId", upload_id } };
    S3Request req = { .op = "UploadPart", .method = "PUT", .key = key, .query = query,
                      .n_query = 2, .body = data, .body_len = len, .send_body = TRUE,
                      .content_md5 = TRUE, .sse = s3_object_sse(s3) };
    S3Response resp;
    if (!s3_perform(s3, &req, &resp, error))
        return NULL;
    char *etag = resp.etag[0] ? g_strdup_printf("\"%s\"", resp.etag) : NULL;
    s3_response_clear(&resp);
    if (!etag)
        g_set_error(error, SEAFTIER_S3_ERROR, SEAFTIER_S3_ERROR_BAD_RESPONSE,
                    "UploadPart %s/%s part %u: no ETag in the answer", s3->cfg.bucket, key, part_no);
    return etag;
}

static gboolean
complete(SeaftierS3 *s3, const char *key, const char *upload_id, GPtrArray *etags, GError **error)
{
    char *body = s3_xml_build_complete((const char *const *)etags->pdata, etags->len);
    S3Param query[] = { { "uploadId", upload_id } };
    S3Request req = { .op = "CompleteMultipartUpload", .method = "POST", .key = key,
                      .query = query, .n_query = 1, .body = body, .body_len = strlen(body),
                      .send_body = TRUE, .sse = s3_object_sse(s3), .no_sse_echo = TRUE };
    s3_request_add_header(&req, "Content-Type", "application/xml");
    S3Response resp;
    gboolean ok = s3_perform(s3, &req, &resp, error);
    g_free(body);
    if (!ok)
        return FALSE;
    /* S3 may answer 200 and still report an error in the body */
    ok = s3_check_result(s3, &req, &resp, "CompleteMultipartUploadResult", error);
    s3_response_clear(&resp);
    return ok;
}

static void
abort_upload(SeaftierS3 *s3, const char *key, const char *upload_id)
{
    S3Param query[] = { { "uploadId", upload_id } };
    S3Request req = { .op = "AbortMultipartUpload", .method = "DELETE", .key = key,
                      .query = query, .n_query = 1 };
    S3Response resp;
    GError *err = NULL;
    if (s3_perform(s3, &req, &resp, &err))
        s3_response_clear(&resp);
    else {
        seaftier_warning("could not abort multipart upload of %s/%s: %s", s3->cfg.bucket, key,
                         err->message);
        g_error_free(err);
    }
}

gboolean
s3_put_multipart(SeaftierS3 *s3, const char *key, const void *data, gsize len,
                 const SeaftierS3Meta *meta,
                 GError **error)
{
    char *upload_id = initiate(s3, key, meta, error);
    if (!upload_id)
        return FALSE;
    GPtrArray *etags = g_ptr_array_new_with_free_func(g_free);
    gsize part = s3->cfg.multipart_part_size;
    gboolean ok = TRUE;
    for (gsize off = 0; ok && off < len; off += part) {
        char *etag = upload_part(s3, key, upload_id, etags->len + 1, (const guint8 *)data + off,
                                 MIN(part, len - off), error);
        if (etag)
            g_ptr_array_add(etags, etag);
        else
            ok = FALSE;
    }
    if (ok)
        ok = complete(s3, key, upload_id, etags, error);
    if (!ok)
        abort_upload(s3, key, upload_id);
    g_ptr_array_free(etags, TRUE);
    g_free(upload_id);
    return ok;
}
