/* tests/common/s3test.c — see s3test.h. */
#include "seaftier-build.h"

#include "s3test.h"

#include <seaftier/s3.h>

#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static S3TestServer server;
static GMutex server_lock;
static gboolean server_ready;

static void
die(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

static void
die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "s3test: FATAL: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(1);
}

static int
port_of(const char *url)
{
    const char *colon = strrchr(url, ':');
    return colon ? atoi(colon + 1) : 0;
}

const S3TestServer *
s3test_server(void)
{
    g_mutex_lock(&server_lock);
    if (server_ready) {
        g_mutex_unlock(&server_lock);
        return &server;
    }
    const char *choice = g_getenv("SEAFTIER_S3_SERVER");
    const char *prefix;
    if (!choice || !*choice || g_str_equal(choice, "rgw")) {
        server.kind = S3TEST_RGW;
        server.name = "Ceph RGW";
        server.honours_sse_c = TRUE;
        prefix = "RGW_";
    } else if (g_str_equal(choice, "swift")) {
        server.kind = S3TEST_SWIFT;
        server.name = "OpenStack Swift (s3api)";
        server.honours_sse_c = FALSE;
        prefix = "SWIFT_";
    } else {
        die("SEAFTIER_S3_SERVER=%s: unknown test S3 server (rgw or swift)", choice);
    }
    char *script_name = g_strdup_printf("ensure-%s.sh", server.kind == S3TEST_RGW ? "rgw" : "swift");
    char *script = g_build_filename(SEAFTIER_SRCDIR, "tests", "s3server", script_name, NULL);
    g_free(script_name);
    char *argv[] = { script, NULL };
    char *out = NULL, *err = NULL;
    int status = 0;
    GError *gerr = NULL;
    if (!g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status, &gerr))
        die("cannot run %s: %s", script, gerr->message);
    if (!g_spawn_check_wait_status(status, NULL))
        die("%s failed (the test S3 server could not be started):\n%s", script, err);

    char **lines = g_strsplit(out, "\n", -1);
    for (char **l = lines; *l; l++) {
        char *eq = strchr(*l, '=');
        if (!eq || !g_str_has_prefix(*l, prefix))
            continue;
        *eq = '\0';
        const char *name = *l + strlen(prefix);
        const char *v = eq + 1;
        if (g_str_equal(name, "ENDPOINT"))
            server.http_endpoint = g_strdup(v);
        else if (g_str_equal(name, "SSL_ENDPOINT"))
            server.https_endpoint = g_strdup(v);
        else if (g_str_equal(name, "CA_BUNDLE"))
            server.ca_file = g_strdup(v);
        else if (g_str_equal(name, "ACCESS_KEY"))
            server.access_key = g_strdup(v);
        else if (g_str_equal(name, "DNS_NAME"))
            server.dns_name = g_strdup(v);
        else if (g_str_equal(name, "SECRET_KEY"))
            server.secret_key = g_strdup(v);
    }
    g_strfreev(lines);
    if (!server.http_endpoint || !server.https_endpoint || !server.ca_file || !server.access_key ||
        !server.secret_key || !server.dns_name)
        die("%s printed an incomplete environment:\n%s", script, out);
    server.http_port = port_of(server.http_endpoint);
    server.https_port = port_of(server.https_endpoint);
    g_free(out);
    g_free(err);
    g_free(script);
    server_ready = TRUE;
    g_mutex_unlock(&server_lock);
    return &server;
}

const char *
s3test_sse_c_key(void)
{
    return "seaftier-test-sse-c-key-32-bytes";
}

const char *
s3test_other_sse_c_key(void)
{
    return "another-sse-c-key-of-32-bytes!!!";
}

SeaftierS3Config *
s3test_config(const char *bucket, const S3TestVariant *variant)
{
    const S3TestServer *srv = s3test_server();
    SeaftierS3Config *cfg = g_new0(SeaftierS3Config, 1);
    cfg->section = g_strdup("block_backend");
    cfg->bucket = g_strdup(bucket);
    cfg->key_id = g_strdup(srv->access_key);
    cfg->key = g_strdup(srv->secret_key);
    cfg->use_v4_signature = variant->v4;
    cfg->use_https = variant->https;
    cfg->aws_region = g_strdup("us-east-1");
    /* virtual-host requests go to <bucket>.s3.localhost (see ensure-*.sh) */
    cfg->host = g_strdup(variant->path_style ? "127.0.0.1" : srv->dns_name);
    cfg->port = variant->https ? srv->https_port : srv->http_port;
    cfg->sse_c_key = variant->sse_c ? g_strdup(s3test_sse_c_key()) : NULL;
    cfg->path_style_request = variant->path_style;
    cfg->ca_file = variant->https ? g_strdup(srv->ca_file) : NULL;
    cfg->connect_timeout_s = 5;
    cfg->low_speed_time_s = 10;
    cfg->max_retries = 3;
    cfg->multipart_part_size = 64 * 1024 * 1024;
    return cfg;
}

void
s3test_config_free(SeaftierS3Config *cfg)
{
    if (!cfg)
        return;
    g_free(cfg->section);
    g_free(cfg->bucket);
    g_free(cfg->key_id);
    g_free(cfg->key);
    g_free(cfg->aws_region);
    g_free(cfg->host);
    g_free(cfg->sse_c_key);
    g_free(cfg->ca_file);
    g_free(cfg);
}

static void
create_bucket(const char *bucket)
{
    S3TestVariant v = { .v4 = TRUE, .path_style = TRUE };
    SeaftierS3Config *cfg = s3test_config(bucket, &v);
    GError *err = NULL;
    SeaftierS3 *s3 = seaftier_s3_new(cfg, &err);
    if (!s3 || !seaftier_s3_create_bucket(s3, &err))
        die("cannot create bucket %s: %s", bucket, err ? err->message : "?");
    seaftier_s3_free(s3);
    s3test_config_free(cfg);
}

char *
s3test_new_bucket(const char *prefix)
{
    static gint counter;
    char *name = g_strdup_printf("%s-%d-%d-%08x", prefix, (int)getpid(),
                                 g_atomic_int_add(&counter, 1), g_random_int());
    char *lower = g_ascii_strdown(name, -1);
    g_free(name);
    if (strlen(lower) > 63)
        lower[63] = '\0';
    create_bucket(lower);
    return lower;
}

char *
s3test_write_seafile_conf(const char *dir, const char *bucket_prefix, const S3TestVariant *variant,
                          const char *extra_tier_lines)
{
    static const char *const sections[] = { "commit_object_backend", "fs_object_backend", "block_backend" };
    static const char *const suffixes[] = { "commits", "fs", "blocks" };
    const S3TestServer *srv = s3test_server();
    GString *conf = g_string_new("# written by tests/common/s3test.c\n");
    for (int i = 0; i < 3; i++) {
        char *prefix = g_strdup_printf("%s-%s", bucket_prefix, suffixes[i]);
        char *bucket = s3test_new_bucket(prefix);
        g_string_append_printf(conf,
                               "[%s]\nname = s3\nbucket = %s\nkey_id = %s\nkey = %s\n"
                               "use_v4_signature = %s\nuse_https = %s\naws_region = us-east-1\n"
                               "host = %s:%d\npath_style_request = %s\n"
                               "connect_timeout = 5\nmax_retries = 3\n",
                               sections[i], bucket, srv->access_key, srv->secret_key,
                               variant->v4 ? "true" : "false", variant->https ? "true" : "false",
                               variant->path_style ? "127.0.0.1" : srv->dns_name,
                               variant->https ? srv->https_port : srv->http_port,
                               variant->path_style ? "true" : "false");
        if (variant->https)
            g_string_append_printf(conf, "ca_file = %s\n", srv->ca_file);
        if (variant->sse_c)
            g_string_append_printf(conf, "sse_c_key = %s\n", s3test_sse_c_key());
        g_string_append_c(conf, '\n');
        g_free(bucket);
        g_free(prefix);
    }
    g_string_append_printf(conf, "[tier]\ndir = %s/tier\n%s", dir, extra_tier_lines ? extra_tier_lines : "");
    char *path = g_build_filename(dir, "seafile.conf", NULL);
    GError *err = NULL;
    if (!g_file_set_contents(path, conf->str, (gssize)conf->len, &err))
        die("cannot write %s: %s", path, err->message);
    g_string_free(conf, TRUE);
    return path;
}

char *
s3test_tmpdir(const char *prefix)
{
    char *templ = g_strdup_printf("%s-XXXXXX", prefix);
    GError *err = NULL;
    char *dir = g_dir_make_tmp(templ, &err);
    if (!dir)
        die("cannot make a temporary directory: %s", err->message);
    g_free(templ);
    return dir;
}

void
s3test_rm_rf(const char *path)
{
    if (!path || !g_path_is_absolute(path) || strlen(path) < 6)
        return;
    char *argv[] = { "rm", "-rf", "--", (char *)path, NULL };
    g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
}
