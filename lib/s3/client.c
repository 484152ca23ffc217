/*
 * lib/s3/client.c — the S3 request engine: connection reuse, signing,
 * retries with backoff, and mapping of S3 answers to named errors.
 * See seaftier/s3.h for the contract and client-internal.h for the shape.
 */
#include "seaftier-build.h"

#include "s3/client-internal.h"
#include "s3/xml.h"

#include <seaftier/log.h>

#include <curl/curl.h>
#include <string.h>
#include <time.h>

G_DEFINE_QUARK(seaftier-s3-error-quark, seaftier_s3_error)

/* Backoff: the n-th retry waits between half and all of
 * min(BACKOFF_CAP, BACKOFF_BASE * 2^n) ("equal jitter"), so concurrent
 * clients spread out without ever retrying immediately. */
#define BACKOFF_BASE_MS 100
#define BACKOFF_CAP_MS 5000
#define MAX_IDLE_HANDLES 64

static void
curl_global_once(void)
{
    static gsize done = 0;
    if (g_once_init_enter(&done)) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        g_once_init_leave(&done, 1);
    }
}

static void
share_lock(CURL *handle, curl_lock_data data, curl_lock_access access, void *user)
{
    SeaftierS3 *s3 = user;
    g_mutex_lock(&s3->share_locks[(unsigned)data % G_N_ELEMENTS(s3->share_locks)]);
}

static void
share_unlock(CURL *handle, curl_lock_data data, void *user)
{
    SeaftierS3 *s3 = user;
    g_mutex_unlock(&s3->share_locks[(unsigned)data % G_N_ELEMENTS(s3->share_locks)]);
}

static void
copy_s3_config(SeaftierS3Config *dst, const SeaftierS3Config *src)
{
    *dst = *src;
    dst->section = g_strdup(src->section);
    dst->bucket = g_strdup(src->bucket);
    dst->key_id = g_strdup(src->key_id);
    dst->key = g_strdup(src->key);
    dst->aws_region = g_strdup(src->aws_region ? src->aws_region : "us-east-1");
    dst->host = g_strdup(src->host);
    dst->sse_c_key = g_strdup(src->sse_c_key);
    dst->ca_file = g_strdup(src->ca_file);
    if (dst->connect_timeout_s <= 0)
        dst->connect_timeout_s = 10;
    if (dst->low_speed_time_s <= 0)
        dst->low_speed_time_s = 30;
    if (dst->max_retries < 0)
        dst->max_retries = 0;
    if (dst->multipart_part_size < 5 * 1024 * 1024)
        dst->multipart_part_size = 64 * 1024 * 1024;
}

static void
wipe_string(char *s)
{
    if (s) {
        explicit_bzero(s, strlen(s));
        g_free(s);
    }
}

/* An IPv4 or IPv6 address (bracketed or not), as opposed to a host name. */
static gboolean
host_is_ip_literal(const char *host)
{
    gsize n = strlen(host);
    if (n > 2 && host[0] == '[' && host[n - 1] == ']') {
        char *inner = g_strndup(host + 1, n - 2);
        gboolean ip = g_hostname_is_ip_address(inner);
        g_free(inner);
        return ip;
    }
    return g_hostname_is_ip_address(host);
}

SeaftierS3 *
seaftier_s3_new(const SeaftierS3Config *cfg, GError **error)
{
    if (!cfg || !cfg->bucket || !cfg->key_id || !cfg->key) {
        g_set_error(error, SEAFTIER_S3_ERROR, SEAFTIER_S3_ERROR_INVALID_REQUEST,
                    "S3 client: bucket, key_id and key are required");
        return NULL;
    }
    curl_global_once();
    SeaftierS3 *s3 = g_new0(SeaftierS3, 1);
    copy_s3_config(&s3->cfg, cfg);
    if (s3->cfg.sse_c_key &&
        !s3_sse_c_values(s3->cfg.sse_c_key, s3->sse_key_b64, s3->sse_key_md5_b64)) {
        g_set_error(error, SEAFTIER_S3_ERROR, SEAFTIER_S3_ERROR_INVALID_REQUEST,
                    "[%s] sse_c_key must be exactly 32 characters",
                    cfg->section ? cfg->section : "s3");
        seaftier_s3_free(s3);
        return NULL;
    }
    seaftier_log_add_secret(s3->cfg.key);
    seaftier_log_add_secret(s3->cfg.sse_c_key);
    if (s3->cfg.sse_c_key)
        seaftier_log_add_secret(s3->sse_key_b64);

    const char *host = s3->cfg.host;
    char *aws_host = NULL;
    if (!host) {
        /* AWS: the regional endpoint works for both signature versions. */
        aws_host = g_str_equal(s3->cfg.aws_region, "us-east-1")
                       ? g_strdup("s3.amazonaws.com")
                       : g_strdup_printf("s3.%s.amazonaws.com", s3->cfg.aws_region);
        host = aws_host;
    }
    /* the config keeps IPv6 literals bracketed ("[::1]"); bracket bare ones too */
    gboolean v6 = host[0] != '[' && strchr(host, ':') != NULL;
    if (!s3->cfg.path_style_request && host_is_ip_literal(host)) {
        /* <bucket>.<ip> is no host name: use path style, as botocore does */
        seaftier_debug("[%s] host %s is an IP address: using path-style requests",
                       s3->cfg.section ? s3->cfg.section : "s3", host);
        s3->cfg.path_style_request = TRUE;
    }
    char *hostport = s3->cfg.port > 0
                         ? g_strdup_printf(v6 ? "[%s]:%d" : "%s:%d", host, s3->cfg.port)
                         : g_strdup_printf(v6 ? "[%s]" : "%s", host);
    s3->scheme_host = g_strdup_printf("%s://%s", s3->cfg.use_https ? "https" : "http", hostport);
    s3->host_header = g_strdup(hostport);
    s3->vhost_header = g_strdup_printf("%s.%s", s3->cfg.bucket, hostport);
    g_free(hostport);
    g_free(aws_host);

    s3->share = curl_share_init();
    curl_share_setopt(s3->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(s3->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    curl_share_setopt(s3->share, CURLSHOPT_LOCKFUNC, share_lock);
    curl_share_setopt(s3->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
    curl_share_setopt(s3->share, CURLSHOPT_USERDATA, s3);
    for (guint i = 0; i < G_N_ELEMENTS(s3->share_locks); i++)
        g_mutex_init(&s3->share_locks[i]);
    g_mutex_init(&s3->pool_lock);
    s3->idle_handles = g_ptr_array_new();
    return s3;
}

void
seaftier_s3_free(SeaftierS3 *s3)
{
    if (!s3)
        return;
    if (s3->idle_handles) {
        for (guint i = 0; i < s3->idle_handles->len; i++)
            curl_easy_cleanup(s3->idle_handles->pdata[i]);
        g_ptr_array_free(s3->idle_handles, TRUE);
    }
    if (s3->share)
        curl_share_cleanup(s3->share);
    for (guint i = 0; i < G_N_ELEMENTS(s3->share_locks); i++)
        g_mutex_clear(&s3->share_locks[i]);
    g_mutex_clear(&s3->pool_lock);
    g_free(s3->cfg.section);
    g_free(s3->cfg.bucket);
    g_free(s3->cfg.key_id);
    wipe_string(s3->cfg.key);
    g_free(s3->cfg.aws_region);
    g_free(s3->cfg.host);
    wipe_string(s3->cfg.sse_c_key);
    g_free(s3->cfg.ca_file);
    explicit_bzero(s3->sse_key_b64, sizeof s3->sse_key_b64);
    g_free(s3->scheme_host);
    g_free(s3->host_header);
    g_free(s3->vhost_header);
    g_free(s3);
}

gboolean
seaftier_s3_uses_path_style(const SeaftierS3 *s3)
{
    return s3->cfg.path_style_request;
}

const char *
seaftier_s3_bucket(const SeaftierS3 *s3)
{
    return s3->cfg.bucket;
}

const char *
seaftier_s3_op_name(SeaftierS3Op op)
{
    static const char *const names[SEAFTIER_S3_N_OPS] = {
        "head", "get", "put", "delete", "post", "list",
    };
    return (unsigned)op < SEAFTIER_S3_N_OPS ? names[op] : "unknown";
}

/* The operation a request counts as (see SeaftierS3Op). */
static SeaftierS3Op
request_op(const S3Request *req)
{
    if (req->head)
        return SEAFTIER_S3_OP_HEAD;
    if (g_str_equal(req->method, "PUT"))
        return SEAFTIER_S3_OP_PUT;
    if (g_str_equal(req->method, "POST"))
        return SEAFTIER_S3_OP_POST;
    if (g_str_equal(req->method, "DELETE"))
        return SEAFTIER_S3_OP_DELETE;
    return req->key ? SEAFTIER_S3_OP_GET : SEAFTIER_S3_OP_LIST;
}

void
seaftier_s3_get_stats(SeaftierS3 *s3, SeaftierS3Stats *stats)
{
    for (int i = 0; i < SEAFTIER_S3_N_OPS; i++)
        stats->by_op[i] = __atomic_load_n(&s3->stats.by_op[i], __ATOMIC_RELAXED);
    stats->requests = __atomic_load_n(&s3->stats.requests, __ATOMIC_RELAXED);
    stats->retries = __atomic_load_n(&s3->stats.retries, __ATOMIC_RELAXED);
    stats->failures = __atomic_load_n(&s3->stats.failures, __ATOMIC_RELAXED);
    stats->bytes_sent = __atomic_load_n(&s3->stats.bytes_sent, __ATOMIC_RELAXED);
    stats->bytes_received = __atomic_load_n(&s3->stats.bytes_received, __ATOMIC_RELAXED);
}

gboolean
seaftier_s3_error_is_transient(const GError *error)
{
    if (!error || error->domain != SEAFTIER_S3_ERROR)
        return FALSE;
    switch (error->code) {
    case SEAFTIER_S3_ERROR_SLOW_DOWN:
    case SEAFTIER_S3_ERROR_SERVER:
    case SEAFTIER_S3_ERROR_NETWORK:
    case SEAFTIER_S3_ERROR_TIMEOUT:
    case SEAFTIER_S3_ERROR_INTEGRITY:
    case SEAFTIER_S3_ERROR_INCOMPLETE:
        return TRUE;
    default:
        return FALSE;
    }
}

void
s3_request_add_header(S3Request *req, const char *name, const char *value)
{
    g_assert(req->n_headers < S3_MAX_EXTRA_HEADERS);
    req->headers[req->n_headers].name = name;
    req->headers[req->n_headers].value = value;
    req->n_headers++;
}

unsigned
s3_object_sse(const SeaftierS3 *s3)
{
    return s3->cfg.sse_c_key ? S3_SSE_OBJECT : S3_SSE_NONE;
}

void
s3_request_add_meta(S3Request *req, const SeaftierS3Meta *meta, S3MetaText *text)
{
    if (!meta)
        return;
    if (meta->ctime > 0) {
        g_snprintf(text->ctime, sizeof text->ctime, "%" G_GINT64_FORMAT, meta->ctime);
        s3_request_add_header(req, "x-amz-meta-ctime", text->ctime);
    }
    if (meta->has_size) {
        g_snprintf(text->size, sizeof text->size, "%" G_GUINT64_FORMAT, meta->size);
        s3_request_add_header(req, "x-amz-meta-seaftier-size", text->size);
    }
    if (meta->has_crc32c) {
        g_snprintf(text->crc32c, sizeof text->crc32c, "%08x", meta->crc32c);
        s3_request_add_header(req, "x-amz-meta-seaftier-crc32c", text->crc32c);
    }
}

void
s3_response_clear(S3Response *resp)
{
    if (resp->body)
        g_byte_array_unref(resp->body);
    memset(resp, 0, sizeof *resp);
}

/* ---------------------------------------------------------------- handles */

static CURL *
take_handle(SeaftierS3 *s3)
{
    CURL *h = NULL;
    g_mutex_lock(&s3->pool_lock);
    if (s3->idle_handles->len > 0)
        h = g_ptr_array_steal_index_fast(s3->idle_handles, s3->idle_handles->len - 1);
    g_mutex_unlock(&s3->pool_lock);
    if (h)
        curl_easy_reset(h);   /* keeps the live connection and caches */
    else
        h = curl_easy_init();
    return h;
}

static void
return_handle(SeaftierS3 *s3, CURL *h, gboolean reusable)
{
    if (reusable) {
        g_mutex_lock(&s3->pool_lock);
        if (s3->idle_handles->len < MAX_IDLE_HANDLES) {
            g_ptr_array_add(s3->idle_handles, h);
            h = NULL;
        }
        g_mutex_unlock(&s3->pool_lock);
    }
    if (h)
        curl_easy_cleanup(h);
}

/* ---------------------------------------------------------------- one try */

typedef struct {
    const guint8 *data;
    gsize len;
    gsize pos;
} UploadCursor;

static size_t
read_body(char *buf, size_t size, size_t nitems, void *user)
{
    UploadCursor *c = user;
    size_t n = MIN(size * nitems, c->len - c->pos);
    memcpy(buf, c->data + c->pos, n);
    c->pos += n;
    return n;
}

static int
seek_body(void *user, curl_off_t offset, int origin)
{
    UploadCursor *c = user;
    if (origin != SEEK_SET || offset < 0 || (gsize)offset > c->len)
        return CURL_SEEKFUNC_FAIL;
    c->pos = (gsize)offset;
    return CURL_SEEKFUNC_OK;
}

static size_t
write_body(char *ptr, size_t size, size_t nmemb, void *user)
{
    S3Response *resp = user;
    gsize n = size * nmemb;
    /* Also without a Content-Length (which CURLOPT_MAXFILESIZE checks up
     * front): a hostile or broken answer must not fill memory. */
    if (n > resp->max_body - MIN(resp->max_body, resp->body->len)) {
        resp->too_big = TRUE;
        return 0;       /* curl fails the transfer with CURLE_WRITE_ERROR */
    }
    g_byte_array_append(resp->body, (const guint8 *)ptr, (guint)n);
    return n;
}

/* An object's bytes (as opposed to an XML answer). */
static gboolean
is_object_get(const S3Request *req)
{
    return req->key && !req->head && g_str_equal(req->method, "GET") && req->n_query == 0;
}

static gboolean
header_is(const char *line, gsize len, const char *name, const char **value, gsize *vlen)
{
    gsize n = strlen(name);
    if (len <= n || g_ascii_strncasecmp(line, name, n) != 0 || line[n] != ':')
        return FALSE;
    const char *v = line + n + 1, *end = line + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
        end--;
    *value = v;
    *vlen = (gsize)(end - v);
    return TRUE;
}

static size_t
read_header(char *line, size_t size, size_t nitems, void *user)
{
    S3Response *resp = user;
    gsize len = size * nitems;
    const char *v;
    gsize vlen;
    char tmp[128];

    if (len > 5 && strncmp(line, "HTTP/", 5) == 0) {
        /* a new response (after a 100 Continue or redirect): forget the old headers */
        resp->etag[0] = '\0';
        resp->content_length = -1;
        resp->sse_c = FALSE;
        resp->meta_ctime = 0;
        memset(&resp->meta, 0, sizeof resp->meta);
        resp->last_modified = 0;
        return len;
    }
    if (header_is(line, len, "ETag", &v, &vlen)) {
        if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"') {
            v++;
            vlen -= 2;
        }
        g_strlcpy(resp->etag, v, MIN(vlen + 1, sizeof resp->etag));
    } else if (header_is(line, len, "Content-Length", &v, &vlen) && vlen < sizeof tmp) {
        memcpy(tmp, v, vlen);
        tmp[vlen] = '\0';
        resp->content_length = g_ascii_strtoll(tmp, NULL, 10);
    } else if (header_is(line, len, "x-amz-meta-ctime", &v, &vlen) && vlen < sizeof tmp) {
        memcpy(tmp, v, vlen);
        tmp[vlen] = '\0';
        resp->meta_ctime = g_ascii_strtoll(tmp, NULL, 10);
        resp->meta.ctime = resp->meta_ctime;
    } else if (header_is(line, len, "x-amz-meta-seaftier-size", &v, &vlen) && vlen < sizeof tmp) {
        memcpy(tmp, v, vlen);
        tmp[vlen] = '\0';
        char *end = NULL;
        guint64 n = g_ascii_strtoull(tmp, &end, 10);
        if (end && end != tmp && *end == '\0') {
            resp->meta.has_size = TRUE;
            resp->meta.size = n;
        }
    } else if (header_is(line, len, "x-amz-meta-seaftier-crc32c", &v, &vlen) && vlen < sizeof tmp) {
        memcpy(tmp, v, vlen);
        tmp[vlen] = '\0';
        char *end = NULL;
        guint64 n = g_ascii_strtoull(tmp, &end, 16);
        if (vlen == 8 && end && *end == '\0') {
            resp->meta.has_crc32c = TRUE;
            resp->meta.crc32c = (guint32)n;
        }
    } else if (header_is(line, len, "Last-Modified", &v, &vlen) && vlen < sizeof tmp) {
        memcpy(tmp, v, vlen);
        tmp[vlen] = '\0';
        time_t t = curl_getdate(tmp, NULL);
        resp->last_modified = t > 0 ? (gint64)t : 0;
    } else if (header_is(line, len, "x-amz-server-side-encryption-customer-algorithm", &v, &vlen)) {
        resp->sse_c = TRUE;
    }
    return len;
}

/* Builds the URL path as sent (encoded) and the V2 resource. */
static void
build_paths(SeaftierS3 *s3, const S3Request *req, char **path, char **v2_resource)
{
    char *enc_key = req->key ? s3_uri_encode(req->key, FALSE) : g_strdup("");
    if (s3->cfg.path_style_request)
        *path = g_strdup_printf("/%s/%s", s3->cfg.bucket, enc_key);
    else
        *path = g_strdup_printf("/%s", enc_key);
    *v2_resource = g_strdup_printf("/%s/%s", s3->cfg.bucket, enc_key);
    g_free(enc_key);
}

static char *
build_query_string(const S3Request *req)
{
    GString *q = g_string_new(NULL);
    for (gsize i = 0; i < req->n_query; i++) {
        char *n = s3_uri_encode(req->query[i].name, TRUE);
        g_string_append_c(q, i == 0 ? '?' : '&');
        g_string_append(q, n);
        if (req->query[i].value) {
            char *v = s3_uri_encode(req->query[i].value, TRUE);
            g_string_append_printf(q, "=%s", v);
            g_free(v);
        }
        g_free(n);
    }
    return g_string_free(q, FALSE);
}

typedef struct {
    CURLcode curl_code;
    char curl_msg[CURL_ERROR_SIZE];
} TryResult;

/* One attempt: signs with the current time and the body's digests `dg`
 * (computed once for all attempts), sends, fills resp. Returns the CURLcode;
 * HTTP status in resp->status. */
static void
perform_once(SeaftierS3 *s3, const S3Request *req, const S3BodyDigests *dg, S3Response *resp,
             TryResult *res)
{
    S3Param headers[S3_MAX_EXTRA_HEADERS + 12];
    gsize nh = 0;
    char amz_date[17], http_date[30];
    gint64 now = g_get_real_time() / G_USEC_PER_SEC;
    char *path, *resource;
    build_paths(s3, req, &path, &resource);
    char *query = build_query_string(req);
    const char *host = s3->cfg.path_style_request ? s3->host_header : s3->vhost_header;

    headers[nh++] = (S3Param){ "Host", host };
    if (dg->content_md5[0])
        headers[nh++] = (S3Param){ "Content-MD5", dg->content_md5 };
    for (gsize i = 0; i < req->n_headers; i++)
        headers[nh++] = req->headers[i];
    if (req->send_body && !req->head) {
        gboolean has_type = FALSE;
        for (gsize i = 0; i < req->n_headers; i++)
            has_type = has_type || g_ascii_strcasecmp(req->headers[i].name, "Content-Type") == 0;
        /* curl would add a form Content-Type to POSTs; V2 signs the type, so set it */
        if (!has_type)
            headers[nh++] = (S3Param){ "Content-Type", "application/octet-stream" };
    }
    if (req->sse & S3_SSE_OBJECT) {
        headers[nh++] = (S3Param){ "x-amz-server-side-encryption-customer-algorithm", "AES256" };
        headers[nh++] = (S3Param){ "x-amz-server-side-encryption-customer-key", s3->sse_key_b64 };
        headers[nh++] = (S3Param){ "x-amz-server-side-encryption-customer-key-MD5", s3->sse_key_md5_b64 };
    }
    if (req->sse & S3_SSE_COPY_SOURCE) {
        headers[nh++] = (S3Param){ "x-amz-copy-source-server-side-encryption-customer-algorithm", "AES256" };
        headers[nh++] = (S3Param){ "x-amz-copy-source-server-side-encryption-customer-key", s3->sse_key_b64 };
        headers[nh++] = (S3Param){ "x-amz-copy-source-server-side-encryption-customer-key-MD5", s3->sse_key_md5_b64 };
    }
    char *auth;
    if (s3->cfg.use_v4_signature) {
        s3_format_amz_date(now, amz_date);
        headers[nh++] = (S3Param){ "x-amz-date", amz_date };
        headers[nh++] = (S3Param){ "x-amz-content-sha256", dg->payload_hash };
        S3SignInput in = { req->method, path, req->query, req->n_query, headers, nh,
                           dg->payload_hash };
        auth = s3_v4_authorization(&in, s3->cfg.key_id, s3->cfg.key, s3->cfg.aws_region, "s3", amz_date);
    } else {
        s3_format_http_date(now, http_date);
        headers[nh++] = (S3Param){ "Date", http_date };
        S3SignInput in = { req->method, path, req->query, req->n_query, headers, nh, NULL };
        auth = s3_v2_authorization(&in, resource, s3->cfg.key_id, s3->cfg.key);
    }

    struct curl_slist *hl = NULL;
    for (gsize i = 0; i < nh; i++) {
        char *line = g_strdup_printf("%s: %s", headers[i].name, headers[i].value);
        hl = curl_slist_append(hl, line);
        explicit_bzero(line, strlen(line));
        g_free(line);
    }
    char *auth_line = g_strdup_printf("Authorization: %s", auth);
    hl = curl_slist_append(hl, auth_line);
    hl = curl_slist_append(hl, "Expect:");       /* no 100-continue round trip */
    if (!req->send_body)
        hl = curl_slist_append(hl, "Content-Type:");
    g_free(auth_line);
    g_free(auth);

    char *url = g_strdup_printf("%s://%s%s%s", s3->cfg.use_https ? "https" : "http", host, path, query);
    CURL *h = take_handle(s3);
    UploadCursor cursor = { req->body, req->body_len, 0 };

    memset(resp, 0, sizeof *resp);
    resp->body = g_byte_array_new();
    resp->content_length = -1;
    resp->max_body = is_object_get(req) ? SEAFTIER_S3_MAX_OBJECT_BODY : SEAFTIER_S3_MAX_XML_BODY;
    res->curl_msg[0] = '\0';

    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(h, CURLOPT_SHARE, s3->share);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)s3->cfg.connect_timeout_s);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1024L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)s3->cfg.low_speed_time_s);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, res->curl_msg);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, resp);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, read_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, resp);
    /* The key is signed as given: curl must not squash "." or ".."
     * segments out of the path it sends. */
    curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)resp->max_body);
    /* virtual-host names like bucket.localhost must resolve (curl does *.localhost itself) */
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    if (s3->cfg.use_https && s3->cfg.ca_file)
        curl_easy_setopt(h, CURLOPT_CAINFO, s3->cfg.ca_file);

    if (req->head) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (g_str_equal(req->method, "PUT")) {
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, read_body);
        curl_easy_setopt(h, CURLOPT_READDATA, &cursor);
        curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, seek_body);
        curl_easy_setopt(h, CURLOPT_SEEKDATA, &cursor);
        curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)req->body_len);
    } else if (g_str_equal(req->method, "POST")) {
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body ? (const char *)req->body : "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
    } else if (!g_str_equal(req->method, "GET")) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
    }

    res->curl_code = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
    __atomic_add_fetch(&s3->stats.requests, 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&s3->stats.by_op[request_op(req)], 1, __ATOMIC_RELAXED);
    if (req->send_body)
        __atomic_add_fetch(&s3->stats.bytes_sent, req->body_len, __ATOMIC_RELAXED);
    __atomic_add_fetch(&s3->stats.bytes_received, resp->body->len, __ATOMIC_RELAXED);
    return_handle(s3, h, res->curl_code == CURLE_OK);

    /* the header list held the SSE-C key */
    for (struct curl_slist *l = hl; l; l = l->next)
        explicit_bzero(l->data, strlen(l->data));
    curl_slist_free_all(hl);
    g_free(url);
    g_free(query);
    g_free(path);
    g_free(resource);
}

/* ---------------------------------------------------------------- errors */

typedef enum { VERDICT_OK, VERDICT_RETRY, VERDICT_FAIL } Verdict;

static gboolean
curl_code_transient(CURLcode c)
{
    switch (c) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:     /* also a reset during the handshake */
        return TRUE;
    default:
        return FALSE;
    }
}

static const char *
key_or_bucket(const S3Request *req)
{
    return req->key ? req->key : "(bucket)";
}

/* Decides what an answer means and, for failures, builds the named error. */
static Verdict
judge(SeaftierS3 *s3, const S3Request *req, const S3Response *resp, const TryResult *res,
      GError **error)
{
    const char *bucket = s3->cfg.bucket;
    const char *op = req->op;

    if (resp->too_big ||
        (res->curl_code == CURLE_FILESIZE_EXCEEDED && resp->status >= 200 && resp->status < 300)) {
        g_set_error(error, SEAFTIER_S3_ERROR, SEAFTIER_S3_ERROR_BAD_RESPONSE,
                    "%s %s/%s: HTTP %ld answer larger than %" G_GSIZE_FORMAT " bytes refused",
                    op, bucket, key_or_bucket(req), resp->status, resp->max_body);
        return VERDICT_FAIL;
    }
    if (res->curl_code != CURLE_OK) {
        int code = res->curl_code == CURLE_OPERATION_TIMEDOUT ? SEAFTIER_S3_ERROR_TIMEOUT
                                                              : SEAFTIER_S3_ERROR_NETWORK;
        const char *hint = "";
        if (res->curl_code == CURLE_PEER_FAILED_VERIFICATION || res->curl_code == CURLE_SSL_CACERT_BADFILE)
            hint = " (the server's certificate is not trusted: set ca_file to its CA bundle)";
        g_set_error(error, SEAFTIER_S3_ERROR, code, "%s %s/%s: %s%s", op, bucket, key_or_bucket(req),
                    res->curl_msg[0] ? res->curl_msg : curl_easy_strerror(res->curl_code), hint);
        return curl_code_transient(res->curl_code) ? VERDICT_RETRY : VERDICT_FAIL;
    }
    if (resp->status >= 200 && resp->status < 300) {
        /* A server that honours SSE-C echoes the algorithm on every answer
         * about object data; one that answers 2xx without it ignored the key
         * (OpenStack Swift's s3api does, and stores plaintext). */
        if ((req->sse & S3_SSE_OBJECT) && !req->no_sse_echo && !resp->sse_c) {
            g_set_error(error, SEAFTIER_S3_ERROR, SEAFTIER_S3_ERROR_SSE_C_IGNORED,
                        "%s %s/%s: HTTP %ld without the "
                        "x-amz-server-side-encryption-customer-algorithm echo: the server ignored "
                        "SSE-C (stores plaintext: SSE-C not honoured by this server)",
                        op, bucket, key_or_bucket(req), resp->status);
            return VERDICT_FAIL;
        }
        /* An object is cached as it came: its body counts only when proven
         * complete. Without Content-Length, a connection closed mid-body
         * looks exactly like the end of the body. */
        if (is_object_get(req) &&
            (resp->content_length < 0 || (guint64)resp->content_length != resp->body->len)) {
            if (resp->content_length < 0)
                g_set_error(error, SEAFTIER_S3_ERROR, SEAFTIER_S3_ERROR_INCOMPLETE,
                            "%s %s/%s: HTTP %ld without Content-Length (%u bytes received): "
                            "the body cannot be proven complete", op, bucket,
                            key_or_bucket(req), resp->status, resp->body->len);
            else
                g_set_error(error, SEAFTIER_S3_ERROR, SEAFTIER_S3_ERROR_INCOMPLETE,
                            "%s %s/%s: got %u bytes, Content-Length said %" G_GINT64_FORMAT,
                            op, bucket, key_or_bucket(req), resp->body->len,
                            resp->content_length);
            return VERDICT_RETRY;
        }
        return VERDICT_OK;
    }

    S3XmlError xe = { 0 };
    if (resp->body && resp->body->len > 0)
        s3_xml_parse_error((const char *)resp->body->data, resp->body->len, &xe, NULL);
    const char *code = xe.code ? xe.code : "";
    long st = resp->status;
    int ecode;
    Verdict verdict = VERDICT_FAIL;
    const char *hint = "";

    if (st == 404) {
        ecode = g_str_equal(code, "NoSuchBucket") ? SEAFTIER_S3_ERROR_NO_SUCH_BUCKET
                                                  : SEAFTIER_S3_ERROR_NOT_FOUND;
        if (ecode == SEAFTIER_S3_ERROR_NO_SUCH_BUCKET)
            hint = " (create the bucket or fix `bucket` in seafile.conf)";
    } else if (st == 403 && g_str_equal(code, "RequestTimeTooSkewed")) {
        ecode = SEAFTIER_S3_ERROR_ACCESS_DENIED;
        hint = " (the clock of this host is off: fix NTP)";
        verdict = VERDICT_RETRY;     /* re-signed with a fresh date on the next try */
    } else if (st == 403 && g_str_equal(code, "SignatureDoesNotMatch")) {
        ecode = SEAFTIER_S3_ERROR_SIGNATURE;
        hint = " (the secret `key` is wrong for this key_id, or a proxy altered the request)";
    } else if (st == 403) {
        ecode = SEAFTIER_S3_ERROR_ACCESS_DENIED;
        hint = g_str_equal(code, "InvalidAccessKeyId") ? " (key_id is unknown to the server)"
                                                       : " (check key_id/key and the bucket policy)";
    } else if (st == 400 && g_str_equal(code, "BadDigest")) {
        ecode = SEAFTIER_S3_ERROR_INTEGRITY;
        verdict = VERDICT_RETRY;     /* the body was damaged on the way */
    } else if (st == 400 && g_str_equal(code, "RequestTimeout")) {
        ecode = SEAFTIER_S3_ERROR_TIMEOUT;
        verdict = VERDICT_RETRY;
    } else if (st == 400 && (req->sse & (S3_SSE_OBJECT | S3_SSE_COPY_SOURCE)) &&
               !g_str_equal(req->method, "PUT") && !g_str_equal(req->method, "POST")) {
        ecode = SEAFTIER_S3_ERROR_SSE_C_MISMATCH;
        hint = " (the object is encrypted with a different sse_c_key, or is not SSE-C encrypted)";
    } else if (st == 400 && !(req->sse & S3_SSE_OBJECT) &&
               (g_str_equal(req->method, "GET") || req->head) && req->key &&
               (g_str_equal(code, "InvalidRequest") || g_str_equal(code, "InvalidArgument") || !*code)) {
        ecode = SEAFTIER_S3_ERROR_SSE_C_MISMATCH;
        hint = " (the object is SSE-C encrypted: configure its sse_c_key)";
    } else if (st == 400) {
        ecode = SEAFTIER_S3_ERROR_INVALID_REQUEST;
    } else if (st == 408 || st == 429) {
        ecode = SEAFTIER_S3_ERROR_SLOW_DOWN;
        verdict = VERDICT_RETRY;
    } else if (st == 501) {
        ecode = SEAFTIER_S3_ERROR_NOT_IMPLEMENTED;
    } else if (st == 503 && (g_str_equal(code, "SlowDown") || !*code)) {
        ecode = SEAFTIER_S3_ERROR_SLOW_DOWN;
        verdict = VERDICT_RETRY;
    } else if (st >= 500) {
        ecode = SEAFTIER_S3_ERROR_SERVER;
        verdict = VERDICT_RETRY;
    } else {
        ecode = SEAFTIER_S3_ERROR_OTHER;
    }
    g_set_error(error, SEAFTIER_S3_ERROR, ecode, "%s %s/%s: HTTP %ld%s%s%s%s%s", op, bucket,
                key_or_bucket(req), st, *code ? " " : "", code,
                xe.message && *xe.message ? ": " : "", xe.message ? xe.message : "", hint);
    s3_xml_error_clear(&xe);
    return verdict;
}

gboolean
s3_check_result(SeaftierS3 *s3, const S3Request *req, const S3Response *resp, const char *root,
                GError **error)
{
    const char *body = resp->body ? (const char *)resp->body->data : "";
    gsize len = resp->body ? resp->body->len : 0;
    GError *err = NULL;
    if (s3_xml_check_root(body, len, root, &err))
        return TRUE;
    S3XmlError xe = { 0 };
    if (len > 0 && s3_xml_parse_error(body, len, &xe, NULL) && xe.code)
        g_set_error(error, SEAFTIER_S3_ERROR, SEAFTIER_S3_ERROR_INCOMPLETE,
                    "%s %s/%s: HTTP %ld with an error in its body: %s%s%s (retry)", req->op,
                    s3->cfg.bucket, key_or_bucket(req), resp->status, xe.code,
                    xe.message && *xe.message ? ": " : "", xe.message ? xe.message : "");
    else
        g_set_error(error, SEAFTIER_S3_ERROR, SEAFTIER_S3_ERROR_INCOMPLETE,
                    "%s %s/%s: HTTP %ld with an incomplete or unreadable body (%s; retry)",
                    req->op, s3->cfg.bucket, key_or_bucket(req), resp->status, err->message);
    s3_xml_error_clear(&xe);
    g_clear_error(&err);
    return FALSE;
}

static void
backoff_sleep(int attempt)
{
    gint64 ceiling = BACKOFF_BASE_MS << MIN(attempt, 10);
    if (ceiling > BACKOFF_CAP_MS)
        ceiling = BACKOFF_CAP_MS;
    gint64 ms = ceiling / 2 + g_random_int_range(0, (gint32)(ceiling / 2 + 1));
    g_usleep((gulong)(ms * 1000));
}

gboolean
s3_perform(SeaftierS3 *s3, const S3Request *req, S3Response *resp, GError **error)
{
    /* Content-MD5 and the V4 payload hash (UNSIGNED-PAYLOAD over https with
     * a Content-MD5): one pass over the body, once for all attempts. */
    S3BodyDigests dg;
    s3_body_digests(req->body ? req->body : "", req->body ? req->body_len : 0, req->send_body,
                    req->content_md5, s3->cfg.use_v4_signature, s3->cfg.use_https, &dg);
    for (int attempt = 0;; attempt++) {
        TryResult res;
        GError *err = NULL;
        perform_once(s3, req, &dg, resp, &res);
        Verdict v = judge(s3, req, resp, &res, &err);
        if (v == VERDICT_OK)
            return TRUE;
        if (v == VERDICT_RETRY && attempt < s3->cfg.max_retries) {
            seaftier_debug("S3 retry %d/%d: %s", attempt + 1, s3->cfg.max_retries, err->message);
            __atomic_add_fetch(&s3->stats.retries, 1, __ATOMIC_RELAXED);
            g_error_free(err);
            s3_response_clear(resp);
            backoff_sleep(attempt);
            continue;
        }
        __atomic_add_fetch(&s3->stats.failures, 1, __ATOMIC_RELAXED);
        s3_response_clear(resp);
        g_propagate_error(error, err);
        return FALSE;
    }
}
