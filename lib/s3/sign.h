/*
 * lib/s3/sign.h — AWS request signing, Signature Version 2 and Version 4,
 * as pure functions (no I/O, no clock): the caller supplies the date.
 *
 * A request is described once (S3SignInput) and both schemes derive what
 * they need from it. Header names may be given in any case; values are
 * trimmed and inner runs of spaces collapsed as the specs require.
 */
#ifndef SEAFTIER_S3_SIGN_H
#define SEAFTIER_S3_SIGN_H

#include <glib.h>

typedef struct {
    const char *name;
    const char *value;      /* NULL for a bare sub-resource such as "uploads" */
} S3Param;

typedef struct {
    const char *method;         /* "GET", "PUT", … */
    const char *path;           /* absolute path as sent on the wire, already
                                   URI-encoded, e.g. "/bucket/a%20b" or "/a%20b" */
    const S3Param *query;       /* raw (unencoded) query parameters, any order */
    gsize n_query;
    const S3Param *headers;     /* headers as sent: must include Host, and for V4
                                   x-amz-date and x-amz-content-sha256 */
    gsize n_headers;
    const char *payload_hash;   /* V4: hex SHA-256 of the body or "UNSIGNED-PAYLOAD" */
} S3SignInput;

/* URI-encodes `s` the way S3/SigV4 requires: unreserved characters
 * (A-Z a-z 0-9 - _ . ~) pass, everything else becomes %XX (uppercase hex);
 * '/' passes unless `encode_slash`. Returns a new string. */
char *s3_uri_encode(const char *s, gboolean encode_slash);

/* ---- Signature Version 4 ---- */

/* The canonical request (method, canonical URI, canonical query string,
 * canonical headers, signed headers, payload hash). `path` is used as given
 * (S3 does not normalise or double-encode). */
char *s3_v4_canonical_request(const S3SignInput *in);

/* "host;x-amz-content-sha256;x-amz-date" — sorted lowercase header names. */
char *s3_v4_signed_headers(const S3SignInput *in);

/* "AWS4-HMAC-SHA256\n<amz_date>\n<scope>\n<hex sha256(canonical request)>",
 * scope = "<yyyymmdd>/<region>/<service>/aws4_request". */
char *s3_v4_string_to_sign(const char *amz_date, const char *region, const char *service,
                            const char *canonical_request);

/* Hex signature of `string_to_sign` with the key derived from `secret`. */
char *s3_v4_signature(const char *secret, const char *date_yyyymmdd, const char *region,
                      const char *service, const char *string_to_sign);

/* The full Authorization header value:
 * "AWS4-HMAC-SHA256 Credential=<key_id>/<scope>, SignedHeaders=…, Signature=…".
 * `amz_date` is "yyyymmddThhmmssZ" and must equal the x-amz-date header. */
char *s3_v4_authorization(const S3SignInput *in, const char *key_id, const char *secret,
                          const char *region, const char *service, const char *amz_date);

/* ---- Signature Version 2 ---- */

/* The V2 string to sign: VERB \n Content-MD5 \n Content-Type \n Date \n
 * canonicalized x-amz- headers, canonicalized resource. `resource_path` is
 * "/bucket/key" (bucket included even for virtual-host requests), URI-encoded
 * as sent; the sub-resources of `in->query` that V2 signs (acl, delete,
 * uploads, uploadId, partNumber, versionId, response-* …) are appended,
 * sorted. When an x-amz-date header is present the Date line is empty. */
char *s3_v2_string_to_sign(const S3SignInput *in, const char *resource_path);

/* "AWS <key_id>:<base64 hmac-sha1(secret, string_to_sign)>". */
char *s3_v2_authorization(const S3SignInput *in, const char *resource_path,
                          const char *key_id, const char *secret);

/* ---- helpers shared by the client ---- */

/* Lowercase hex SHA-256 of data (65 bytes incl. NUL written to out). */
void s3_sha256_hex(const void *data, gsize len, char out[65]);
/* Base64 of the MD5 of data (25 bytes incl. NUL written to out). */
void s3_md5_base64(const void *data, gsize len, char out[25]);
/* "yyyymmddThhmmssZ" (17 bytes) and RFC 1123 "Wed, 25 Nov 2026 13:00:00 GMT" (30 bytes) for `t`. */
void s3_format_amz_date(gint64 t, char out[17]);
void s3_format_http_date(gint64 t, char out[30]);

/* What a request body is signed and checked with. */
typedef struct {
    char content_md5[25];       /* base64 MD5 of the body; "" when none is sent */
    char payload_hash[65];      /* V4 x-amz-content-sha256: hex SHA-256 or
                                 * "UNSIGNED-PAYLOAD"; "" for V2 */
} S3BodyDigests;

/* Decides and computes the digests of a request body (`send_body`: the
 * request has one, possibly empty):
 *  - Content-MD5 when `want_md5` and there is a body;
 *  - for V4 (`v4`), "UNSIGNED-PAYLOAD" when a non-empty body travels over
 *    TLS (`over_tls`) with a Content-MD5: TLS protects it in transit and S3
 *    checks the MD5 against what it stores, so a second full-body hash would
 *    only cost CPU (what awscli does over https); otherwise the hex SHA-256
 *    of the body, or of "" without one.
 * When both digests are needed they are computed in one pass over the body,
 * piece by cache-sized piece, so a large body is read from memory once. */
void s3_body_digests(const void *body, gsize len, gboolean send_body, gboolean want_md5,
                     gboolean v4, gboolean over_tls, S3BodyDigests *out);

/* SSE-C header values for a 32-byte key: base64(key) and base64(md5(key)).
 * Returns FALSE when the key is not exactly 32 bytes. */
gboolean s3_sse_c_values(const char *key, char key_b64[45], char key_md5_b64[25]);

#endif
