/*
 * tests/common/s3test.h — what integration tests need to talk to one of the
 * project's real test S3 servers on 127.0.0.1, started on demand:
 *   SEAFTIER_S3_SERVER=rgw (the default)  Ceph RGW, tests/s3server/ensure-rgw.sh
 *   SEAFTIER_S3_SERVER=swift              OpenStack Swift + s3api, ensure-swift.sh
 * If the server cannot be had, these functions print why and exit(1):
 * integration tests fail, they never skip.
 */
#ifndef SEAFTIER_TEST_S3TEST_H
#define SEAFTIER_TEST_S3TEST_H

#include <glib.h>
#include <seaftier/config.h>

typedef enum {
    S3TEST_RGW,
    S3TEST_SWIFT,
} S3TestServerKind;

typedef struct {
    S3TestServerKind kind;
    const char *name;        /* "Ceph RGW", "OpenStack Swift (s3api)" for messages */
    gboolean honours_sse_c;  /* FALSE: Swift's s3api ignores SSE-C and stores plaintext */
    char *http_endpoint;     /* http://127.0.0.1:PORT */
    char *https_endpoint;    /* https://127.0.0.1:PORT */
    int http_port;
    int https_port;
    char *ca_file;           /* the server's self-signed certificate */
    char *access_key;
    char *secret_key;
    char *dns_name;          /* virtual-host base: buckets are <bucket>.<dns_name> */
} S3TestServer;

/* The server chosen by SEAFTIER_S3_SERVER (started on first call, then
 * cached for the process). An unknown value is fatal. */
const S3TestServer *s3test_server(void);

/* One client configuration variant. */
typedef struct {
    gboolean v4;            /* signature V4 (else V2) */
    gboolean path_style;    /* path-style (else virtual-host: <bucket>.localhost) */
    gboolean https;         /* https with the server's CA (else http) */
    gboolean sse_c;         /* SSE-C with s3test_sse_c_key() */
} S3TestVariant;

/* A 32-character SSE-C key used by the tests (and a different one). */
const char *s3test_sse_c_key(void);
const char *s3test_other_sse_c_key(void);

/* Builds a SeaftierS3Config for `bucket` and `variant` (small timeouts and
 * retries suited to tests). Free with s3test_config_free(). */
SeaftierS3Config *s3test_config(const char *bucket, const S3TestVariant *variant);
void s3test_config_free(SeaftierS3Config *cfg);

/* A fresh bucket name "<prefix>-<pid>-<counter>-<random>" (valid S3 name),
 * created on the server. */
char *s3test_new_bucket(const char *prefix);

/* Writes <dir>/seafile.conf with the three backend sections pointing at
 * new buckets "<prefix>-commits/-fs/-blocks" (created), the given variant,
 * and a [tier] section with dir=<dir>/tier plus `extra_tier_lines` (may be
 * NULL, e.g. "max_size = 1M\n"). Returns the path (g_free). */
char *s3test_write_seafile_conf(const char *dir, const char *bucket_prefix,
                                const S3TestVariant *variant, const char *extra_tier_lines);

/* A new temporary directory (removed with s3test_rm_rf). */
char *s3test_tmpdir(const char *prefix);
void s3test_rm_rf(const char *path);

#endif
