/* lib/s3/sign.c — see sign.h: AWS Signature V2 and V4 for S3, and the small
 * hashing/encoding/date helpers the client shares with them.
 *
 * Everything here is a pure function of its arguments (no clock, no global
 * state), so it is safe to call from any number of threads at once. Returned
 * strings are newly allocated; free them with g_free(). Key material derived
 * from the secret is wiped from the stack before returning. */
#include "seaftier-build.h"

#include "s3/sign.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define SHA256_LEN 32
#define SHA1_LEN 20
#define MD5_LEN 16

static const char hex_digits[] = "0123456789abcdef";

/* ------------------------------------------------------------------ */
/* digests, HMAC, encodings                                            */
/* ------------------------------------------------------------------ */

/* OpenSSL only fails these one-shot calls when it cannot allocate or the
 * default provider is missing: neither is recoverable by the caller (GLib
 * aborts on OOM too), and a signature silently left empty would only turn
 * into a confusing 403 later. */
static void
digest_or_die(const EVP_MD *md, const char *what, const void *data, gsize len,
              unsigned char *out)
{
    unsigned int out_len = 0;
    if (!EVP_Digest(data, len, out, &out_len, md, NULL))
        g_error("OpenSSL %s digest failed", what);
}

static void
hmac_or_die(const EVP_MD *md, const char *what, const void *key, gsize key_len,
            const void *data, gsize len, unsigned char *out)
{
    unsigned int out_len = 0;
    if (key_len > G_MAXINT || !HMAC(md, key, (int)key_len, data, len, out, &out_len))
        g_error("OpenSSL HMAC-%s failed", what);
}

static void
hex_encode(const unsigned char *in, gsize len, char *out)
{
    for (gsize i = 0; i < len; i++) {
        out[2 * i] = hex_digits[in[i] >> 4];
        out[2 * i + 1] = hex_digits[in[i] & 0x0f];
    }
    out[2 * len] = '\0';
}

/* Standard base64 (with padding) straight into `out`, which must hold
 * 4 * ceil(len / 3) + 1 bytes. EVP_EncodeBlock avoids a heap copy, which
 * matters when the input is a secret. */
static void
base64_into(const unsigned char *in, gsize len, char *out)
{
    EVP_EncodeBlock((unsigned char *)out, in, (int)len);
}

void
s3_sha256_hex(const void *data, gsize len, char out[65])
{
    unsigned char md[SHA256_LEN];
    digest_or_die(EVP_sha256(), "SHA-256", data, len, md);
    hex_encode(md, sizeof md, out);
}

void
s3_md5_base64(const void *data, gsize len, char out[25])
{
    unsigned char md[MD5_LEN];
    digest_or_die(EVP_md5(), "MD5", data, len, md);
    base64_into(md, sizeof md, out);
}

/* Pieces of a body hashed by both digests in turn: small enough that the
 * second digest reads the piece from the CPU cache the first one loaded. */
#define DIGEST_PIECE (32 * 1024)

static EVP_MD_CTX *
digest_start(const EVP_MD *md, const char *what)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx || !EVP_DigestInit_ex(ctx, md, NULL))
        g_error("OpenSSL %s digest failed", what);
    return ctx;
}

static void
digest_finish(EVP_MD_CTX *ctx, const char *what, unsigned char *out)
{
    unsigned int out_len = 0;
    if (!EVP_DigestFinal_ex(ctx, out, &out_len))
        g_error("OpenSSL %s digest failed", what);
    EVP_MD_CTX_free(ctx);
}

/* MD5 and SHA-256 of the same bytes in one pass. */
static void
md5_and_sha256(const void *data, gsize len, unsigned char md5[MD5_LEN],
               unsigned char sha[SHA256_LEN])
{
    EVP_MD_CTX *m = digest_start(EVP_md5(), "MD5");
    EVP_MD_CTX *h = digest_start(EVP_sha256(), "SHA-256");
    const unsigned char *p = data;
    for (gsize off = 0; off < len; off += DIGEST_PIECE) {
        gsize n = MIN(DIGEST_PIECE, len - off);
        if (!EVP_DigestUpdate(m, p + off, n) || !EVP_DigestUpdate(h, p + off, n))
            g_error("OpenSSL MD5/SHA-256 digest failed");
    }
    digest_finish(m, "MD5", md5);
    digest_finish(h, "SHA-256", sha);
}

void
s3_body_digests(const void *body, gsize len, gboolean send_body, gboolean want_md5,
                gboolean v4, gboolean over_tls, S3BodyDigests *out)
{
    out->content_md5[0] = '\0';
    out->payload_hash[0] = '\0';
    if (!send_body) {
        body = "";
        len = 0;
    }
    gboolean md5 = send_body && want_md5;
    gboolean unsigned_payload = v4 && md5 && len > 0 && over_tls;
    gboolean sha = v4 && !unsigned_payload;
    if (md5 && sha) {
        unsigned char m[MD5_LEN], h[SHA256_LEN];
        md5_and_sha256(body, len, m, h);
        base64_into(m, sizeof m, out->content_md5);
        hex_encode(h, sizeof h, out->payload_hash);
        return;
    }
    if (md5)
        s3_md5_base64(body, len, out->content_md5);
    if (sha)
        s3_sha256_hex(body, len, out->payload_hash);
    else if (unsigned_payload)
        g_strlcpy(out->payload_hash, "UNSIGNED-PAYLOAD", sizeof out->payload_hash);
}

gboolean
s3_sse_c_values(const char *key, char key_b64[45], char key_md5_b64[25])
{
    if (!key || strlen(key) != 32)
        return FALSE;
    unsigned char md[MD5_LEN];
    base64_into((const unsigned char *)key, 32, key_b64);
    digest_or_die(EVP_md5(), "MD5", key, 32, md);
    base64_into(md, sizeof md, key_md5_b64);
    return TRUE;
}

char *
s3_uri_encode(const char *s, gboolean encode_slash)
{
    g_return_val_if_fail(s != NULL, NULL);
    GString *out = g_string_sized_new(strlen(s) + 16);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char c = *p;
        if (g_ascii_isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
            (c == '/' && !encode_slash)) {
            g_string_append_c(out, (char)c);
        } else {
            /* SigV4 wants uppercase hex here, unlike the lowercase digests */
            g_string_append_printf(out, "%%%02X", c);
        }
    }
    return g_string_free(out, FALSE);
}

/* ------------------------------------------------------------------ */
/* dates                                                               */
/* ------------------------------------------------------------------ */

/* HTTP dates must use the English names whatever the process locale is,
 * so strftime's %a/%b are not an option. */
static const char *const wday_names[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
static const char *const month_names[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

void
s3_format_amz_date(gint64 t, char out[17])
{
    GDateTime *dt = g_date_time_new_from_unix_utc(t);
    out[0] = '\0';
    g_return_if_fail(dt != NULL);   /* only outside years 1..9999 */
    g_snprintf(out, 17, "%04d%02d%02dT%02d%02d%02dZ",
               g_date_time_get_year(dt), g_date_time_get_month(dt),
               g_date_time_get_day_of_month(dt), g_date_time_get_hour(dt),
               g_date_time_get_minute(dt), g_date_time_get_second(dt));
    g_date_time_unref(dt);
}

void
s3_format_http_date(gint64 t, char out[30])
{
    GDateTime *dt = g_date_time_new_from_unix_utc(t);
    out[0] = '\0';
    g_return_if_fail(dt != NULL);
    g_snprintf(out, 30, "%s, %02d %s %04d %02d:%02d:%02d GMT",
               wday_names[g_date_time_get_day_of_week(dt) - 1],
               g_date_time_get_day_of_month(dt),
               month_names[g_date_time_get_month(dt) - 1],
               g_date_time_get_year(dt), g_date_time_get_hour(dt),
               g_date_time_get_minute(dt), g_date_time_get_second(dt));
    g_date_time_unref(dt);
}

/* ------------------------------------------------------------------ */
/* header canonicalization shared by V2 and V4                         */
/* ------------------------------------------------------------------ */

typedef struct {
    char *name;     /* lowercase */
    char *value;    /* trimmed (V4: inner blank runs collapsed); duplicates joined by ',' */
    gsize order;    /* position in the input, to keep duplicates in the order sent */
} CanonHeader;

static gboolean
is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Trims blanks at both ends; with `collapse`, each inner run of blanks
 * becomes one space (SigV4 "Trimall"). SigV2 only trims. */
static char *
canon_value(const char *v, gboolean collapse)
{
    if (!v)
        return g_strdup("");
    while (is_blank(*v))
        v++;
    gsize len = strlen(v);
    while (len > 0 && is_blank(v[len - 1]))
        len--;
    GString *out = g_string_sized_new(len + 1);
    for (gsize i = 0; i < len; i++) {
        if (collapse && is_blank(v[i])) {
            while (i + 1 < len && is_blank(v[i + 1]))
                i++;
            g_string_append_c(out, ' ');
        } else {
            g_string_append_c(out, v[i]);
        }
    }
    return g_string_free(out, FALSE);
}

static int
canon_header_cmp(const void *a, const void *b)
{
    const CanonHeader *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (c != 0)
        return c;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* Lowercases names, canonicalizes values, sorts by name and merges repeated
 * names into one entry with comma-joined values (in the order sent).
 * `filter` (may be NULL) selects which headers take part. Returns a GArray
 * of CanonHeader; free with canon_headers_free(). */
static GArray *
canon_headers(const S3Param *headers, gsize n, gboolean collapse,
              gboolean (*filter)(const char *lower_name))
{
    GArray *all = g_array_sized_new(FALSE, FALSE, sizeof(CanonHeader), (guint)n);
    for (gsize i = 0; i < n; i++) {
        if (!headers[i].name)
            continue;
        char *name = g_ascii_strdown(headers[i].name, -1);
        if (filter && !filter(name)) {
            g_free(name);
            continue;
        }
        CanonHeader h = { name, canon_value(headers[i].value, collapse), i };
        g_array_append_val(all, h);
    }
    g_array_sort(all, canon_header_cmp);

    GArray *merged = g_array_sized_new(FALSE, FALSE, sizeof(CanonHeader), all->len);
    for (guint i = 0; i < all->len; i++) {
        CanonHeader *h = &g_array_index(all, CanonHeader, i);
        CanonHeader *last = merged->len ? &g_array_index(merged, CanonHeader, merged->len - 1) : NULL;
        if (last && strcmp(last->name, h->name) == 0) {
            char *joined = g_strconcat(last->value, ",", h->value, NULL);
            g_free(last->value);
            last->value = joined;
            g_free(h->name);
            g_free(h->value);
        } else {
            g_array_append_val(merged, *h);
        }
    }
    g_array_free(all, TRUE);
    return merged;
}

static void
canon_headers_free(GArray *a)
{
    for (guint i = 0; i < a->len; i++) {
        CanonHeader *h = &g_array_index(a, CanonHeader, i);
        g_free(h->name);
        g_free(h->value);
    }
    g_array_free(a, TRUE);
}

/* ------------------------------------------------------------------ */
/* Signature Version 4                                                 */
/* ------------------------------------------------------------------ */

typedef struct {
    char *name;     /* URI-encoded */
    char *value;    /* URI-encoded; "" for a bare sub-resource */
} EncParam;

static int
enc_param_cmp(const void *a, const void *b)
{
    const EncParam *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c != 0 ? c : strcmp(x->value, y->value);
}

static void
append_canonical_query(GString *out, const S3Param *query, gsize n)
{
    EncParam *p = g_new0(EncParam, n ? n : 1);
    gsize k = 0;
    for (gsize i = 0; i < n; i++) {
        if (!query[i].name)
            continue;
        p[k].name = s3_uri_encode(query[i].name, TRUE);
        p[k].value = s3_uri_encode(query[i].value ? query[i].value : "", TRUE);
        k++;
    }
    qsort(p, k, sizeof *p, enc_param_cmp);
    for (gsize i = 0; i < k; i++) {
        if (i)
            g_string_append_c(out, '&');
        g_string_append_printf(out, "%s=%s", p[i].name, p[i].value);
        g_free(p[i].name);
        g_free(p[i].value);
    }
    g_free(p);
}

static void
append_signed_headers(GString *out, GArray *hdrs)
{
    for (guint i = 0; i < hdrs->len; i++) {
        if (i)
            g_string_append_c(out, ';');
        g_string_append(out, g_array_index(hdrs, CanonHeader, i).name);
    }
}

char *
s3_v4_signed_headers(const S3SignInput *in)
{
    g_return_val_if_fail(in != NULL, NULL);
    GArray *hdrs = canon_headers(in->headers, in->n_headers, TRUE, NULL);
    GString *out = g_string_new(NULL);
    append_signed_headers(out, hdrs);
    canon_headers_free(hdrs);
    return g_string_free(out, FALSE);
}

char *
s3_v4_canonical_request(const S3SignInput *in)
{
    g_return_val_if_fail(in != NULL && in->method != NULL && in->payload_hash != NULL, NULL);
    GString *out = g_string_sized_new(512);
    g_string_append(out, in->method);
    g_string_append_c(out, '\n');
    /* S3 signs the path exactly as sent: no normalisation, no second encoding */
    g_string_append(out, in->path && *in->path ? in->path : "/");
    g_string_append_c(out, '\n');
    append_canonical_query(out, in->query, in->n_query);
    g_string_append_c(out, '\n');

    GArray *hdrs = canon_headers(in->headers, in->n_headers, TRUE, NULL);
    for (guint i = 0; i < hdrs->len; i++) {
        CanonHeader *h = &g_array_index(hdrs, CanonHeader, i);
        g_string_append_printf(out, "%s:%s\n", h->name, h->value);
    }
    g_string_append_c(out, '\n');
    append_signed_headers(out, hdrs);
    canon_headers_free(hdrs);
    g_string_append_c(out, '\n');
    g_string_append(out, in->payload_hash);
    return g_string_free(out, FALSE);
}

char *
s3_v4_string_to_sign(const char *amz_date, const char *region, const char *service,
                     const char *canonical_request)
{
    g_return_val_if_fail(amz_date != NULL && strlen(amz_date) >= 8, NULL);
    g_return_val_if_fail(region != NULL && service != NULL && canonical_request != NULL, NULL);
    char creq_hash[65];
    s3_sha256_hex(canonical_request, strlen(canonical_request), creq_hash);
    return g_strdup_printf("AWS4-HMAC-SHA256\n%s\n%.8s/%s/%s/aws4_request\n%s",
                           amz_date, amz_date, region, service, creq_hash);
}

char *
s3_v4_signature(const char *secret, const char *date_yyyymmdd, const char *region,
                const char *service, const char *string_to_sign)
{
    g_return_val_if_fail(secret != NULL && date_yyyymmdd != NULL && region != NULL, NULL);
    g_return_val_if_fail(service != NULL && string_to_sign != NULL, NULL);

    char *k_secret = g_strconcat("AWS4", secret, NULL);
    unsigned char k_date[SHA256_LEN], k_region[SHA256_LEN], k_service[SHA256_LEN];
    unsigned char k_signing[SHA256_LEN], sig[SHA256_LEN];
    const EVP_MD *md = EVP_sha256();

    hmac_or_die(md, "SHA256", k_secret, strlen(k_secret), date_yyyymmdd, strlen(date_yyyymmdd), k_date);
    hmac_or_die(md, "SHA256", k_date, sizeof k_date, region, strlen(region), k_region);
    hmac_or_die(md, "SHA256", k_region, sizeof k_region, service, strlen(service), k_service);
    hmac_or_die(md, "SHA256", k_service, sizeof k_service, "aws4_request", strlen("aws4_request"),
                k_signing);
    hmac_or_die(md, "SHA256", k_signing, sizeof k_signing, string_to_sign, strlen(string_to_sign),
                sig);

    OPENSSL_cleanse(k_secret, strlen(k_secret));
    g_free(k_secret);
    OPENSSL_cleanse(k_date, sizeof k_date);
    OPENSSL_cleanse(k_region, sizeof k_region);
    OPENSSL_cleanse(k_service, sizeof k_service);
    OPENSSL_cleanse(k_signing, sizeof k_signing);

    char *hex = g_malloc(2 * SHA256_LEN + 1);
    hex_encode(sig, sizeof sig, hex);
    return hex;
}

char *
s3_v4_authorization(const S3SignInput *in, const char *key_id, const char *secret,
                    const char *region, const char *service, const char *amz_date)
{
    g_return_val_if_fail(in != NULL && key_id != NULL && secret != NULL, NULL);
    g_return_val_if_fail(region != NULL && service != NULL, NULL);
    g_return_val_if_fail(amz_date != NULL && strlen(amz_date) >= 8, NULL);

    char date[9];
    memcpy(date, amz_date, 8);
    date[8] = '\0';

    char *creq = s3_v4_canonical_request(in);
    g_return_val_if_fail(creq != NULL, NULL);
    char *sts = s3_v4_string_to_sign(amz_date, region, service, creq);
    char *sig = s3_v4_signature(secret, date, region, service, sts);
    char *signed_headers = s3_v4_signed_headers(in);
    char *auth = g_strdup_printf("AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/aws4_request, "
                                 "SignedHeaders=%s, Signature=%s",
                                 key_id, date, region, service, signed_headers, sig);
    g_free(creq);
    g_free(sts);
    g_free(sig);
    g_free(signed_headers);
    return auth;
}

/* ------------------------------------------------------------------ */
/* Signature Version 2                                                 */
/* ------------------------------------------------------------------ */

/* The query parameters that V2 includes in the CanonicalizedResource
 * (S3 developer guide, "Constructing the CanonicalizedResource element",
 * plus the ones S3 and RGW added later). Anything else, e.g. prefix,
 * max-keys, list-type or continuation-token, is not signed. */
static const char *const v2_subresources[] = {
    "acl", "cors", "delete", "lifecycle", "location", "logging", "notification",
    "partNumber", "policy", "requestPayment", "tagging", "torrent", "uploadId",
    "uploads", "versionId", "versioning", "versions", "website",
    "response-cache-control", "response-content-disposition",
    "response-content-encoding", "response-content-language",
    "response-content-type", "response-expires",
};

static gboolean
is_v2_subresource(const char *name)
{
    for (gsize i = 0; i < G_N_ELEMENTS(v2_subresources); i++)
        if (strcmp(name, v2_subresources[i]) == 0)
            return TRUE;
    return FALSE;
}

static int
param_cmp(const void *a, const void *b)
{
    const S3Param *x = *(const S3Param *const *)a, *y = *(const S3Param *const *)b;
    int c = strcmp(x->name, y->name);
    if (c != 0)
        return c;
    return g_strcmp0(x->value, y->value);
}

static gboolean
is_amz_header(const char *lower_name)
{
    return g_str_has_prefix(lower_name, "x-amz-");
}

static gboolean
is_v2_positional(const char *lower_name)
{
    return strcmp(lower_name, "content-md5") == 0 || strcmp(lower_name, "content-type") == 0 ||
           strcmp(lower_name, "date") == 0 || strcmp(lower_name, "x-amz-date") == 0;
}

static const char *
find_canon(GArray *hdrs, const char *lower_name)
{
    for (guint i = 0; i < hdrs->len; i++) {
        CanonHeader *h = &g_array_index(hdrs, CanonHeader, i);
        if (strcmp(h->name, lower_name) == 0)
            return h->value;
    }
    return NULL;
}

char *
s3_v2_string_to_sign(const S3SignInput *in, const char *resource_path)
{
    g_return_val_if_fail(in != NULL && in->method != NULL && resource_path != NULL, NULL);
    GString *out = g_string_sized_new(256);

    GArray *pos = canon_headers(in->headers, in->n_headers, FALSE, is_v2_positional);
    const char *md5 = find_canon(pos, "content-md5");
    const char *type = find_canon(pos, "content-type");
    /* with x-amz-date the server ignores Date; x-amz-date is then signed
     * as one of the amz headers below */
    const char *date = find_canon(pos, "x-amz-date") ? NULL : find_canon(pos, "date");
    g_string_append_printf(out, "%s\n%s\n%s\n%s\n", in->method, md5 ? md5 : "",
                           type ? type : "", date ? date : "");
    canon_headers_free(pos);

    GArray *amz = canon_headers(in->headers, in->n_headers, FALSE, is_amz_header);
    for (guint i = 0; i < amz->len; i++) {
        CanonHeader *h = &g_array_index(amz, CanonHeader, i);
        g_string_append_printf(out, "%s:%s\n", h->name, h->value);
    }
    canon_headers_free(amz);

    g_string_append(out, resource_path);
    const S3Param **sub = g_new0(const S3Param *, in->n_query ? in->n_query : 1);
    gsize n_sub = 0;
    for (gsize i = 0; i < in->n_query; i++)
        if (in->query[i].name && is_v2_subresource(in->query[i].name))
            sub[n_sub++] = &in->query[i];
    qsort(sub, n_sub, sizeof *sub, param_cmp);
    for (gsize i = 0; i < n_sub; i++) {
        /* V2 signs sub-resource values as they are, not URI-encoded */
        g_string_append_c(out, i == 0 ? '?' : '&');
        g_string_append(out, sub[i]->name);
        if (sub[i]->value)
            g_string_append_printf(out, "=%s", sub[i]->value);
    }
    g_free(sub);
    return g_string_free(out, FALSE);
}

char *
s3_v2_authorization(const S3SignInput *in, const char *resource_path,
                    const char *key_id, const char *secret)
{
    g_return_val_if_fail(key_id != NULL && secret != NULL, NULL);
    char *sts = s3_v2_string_to_sign(in, resource_path);
    g_return_val_if_fail(sts != NULL, NULL);

    unsigned char mac[SHA1_LEN];
    char b64[4 * ((SHA1_LEN + 2) / 3) + 1];
    hmac_or_die(EVP_sha1(), "SHA1", secret, strlen(secret), sts, strlen(sts), mac);
    base64_into(mac, sizeof mac, b64);
    g_free(sts);
    return g_strdup_printf("AWS %s:%s", key_id, b64);
}
