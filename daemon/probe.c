/* daemon/probe.c — see probe.h. */
#include "config.h"

#include "probe.h"

#include <seaftier/log.h>

#include <string.h>
#include <unistd.h>

const char *
seaftier_probe_advice(const GError *error, const SeaftierS3Config *cfg, const char *op)
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
        if (put && cfg->sse_c_key)
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
        if (cfg->sse_c_key)
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

static SeaftierProbeResult
probe_failed(const GError *err, const SeaftierS3Config *cfg, const char *op, const char *key,
             char **message, const char **advice)
{
    *message = g_strdup_printf("probe %s of %s in bucket %s failed: %s", op, key, cfg->bucket,
                               err->message);
    if (advice)
        *advice = seaftier_probe_advice(err, cfg, op);
    return seaftier_s3_error_is_transient(err) ? SEAFTIER_PROBE_TRANSIENT : SEAFTIER_PROBE_REFUSED;
}

static void
delete_probe_object(SeaftierS3 *s3, const char *key)
{
    GError *err = NULL;
    if (!seaftier_s3_delete(s3, key, &err)) {
        seaftier_warning("probe: cannot delete %s from bucket %s: %s", key, seaftier_s3_bucket(s3),
                         err->message);
        g_error_free(err);
    }
}

SeaftierProbeResult
seaftier_probe_bucket(SeaftierS3 *s3, const SeaftierS3Config *cfg, char **message,
                      const char **advice)
{
    *message = NULL;
    if (advice)
        *advice = NULL;
    char host[64] = "";
    if (gethostname(host, sizeof host - 1) != 0)
        g_strlcpy(host, "host", sizeof host);
    for (char *p = host; *p; p++)
        if (!g_ascii_isalnum(*p) && *p != '-' && *p != '.')
            *p = '_';
    char *key = g_strdup_printf(SEAFTIER_PROBE_PREFIX "%s-%d-%08x", host, (int)getpid(),
                                g_random_int());
    guint8 body[64];
    for (gsize i = 0; i < sizeof body; i += 4) {
        guint32 r = g_random_int();
        memcpy(body + i, &r, 4);
    }
    GError *err = NULL;
    SeaftierProbeResult res = SEAFTIER_PROBE_OK;
    void *back = NULL;
    gsize back_len = 0;
    if (!seaftier_s3_put(s3, key, body, sizeof body, g_get_real_time() / G_USEC_PER_SEC, &err)) {
        res = probe_failed(err, cfg, "PUT", key, message, advice);
        /* the server took the object, in plaintext: do not leave it there */
        if (g_error_matches(err, SEAFTIER_S3_ERROR, SEAFTIER_S3_ERROR_SSE_C_IGNORED))
            delete_probe_object(s3, key);
        goto out;
    }
    if (!seaftier_s3_get(s3, key, &back, &back_len, &err)) {
        res = probe_failed(err, cfg, "GET", key, message, advice);
    } else if (back_len != sizeof body || memcmp(back, body, sizeof body) != 0) {
        *message = g_strdup_printf("probe GET of %s in bucket %s returned other bytes than were "
                                   "written (%zu bytes instead of %zu): the server or a proxy "
                                   "alters objects", key, cfg->bucket, back_len, sizeof body);
        if (advice)
            *advice = "check proxies between seaftier and the server, and the server itself";
        res = SEAFTIER_PROBE_REFUSED;
    } else if (cfg->sse_c_key && !seaftier_s3_prove_sse_c_enforced(s3, key, &err)) {
        /* an echo proves nothing about storage: the object must also be
         * unreadable without the key */
        res = probe_failed(err, cfg, "GET without the SSE-C key", key, message, advice);
    }
    g_free(back);
    GError *derr = NULL;
    if (!seaftier_s3_delete(s3, key, &derr)) {
        if (res == SEAFTIER_PROBE_OK)
            res = probe_failed(derr, cfg, "DELETE", key, message, advice);
        g_error_free(derr);
    }
out:
    g_clear_error(&err);
    g_free(key);
    return res;
}
