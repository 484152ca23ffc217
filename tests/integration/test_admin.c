/*
 * tests/integration/test_admin.c — seaftier-admin against the real test S3
 * server: every subcommand's text and JSON output and exit code, flush with
 * and without the daemon and with an unreachable server, and check's
 * detection of a bad bucket name, a missing bucket, a wrong secret key, a
 * wrong SSE-C key and a mixed encrypted/unencrypted bucket.
 */
#include "seaftier-build.h"

#include "daemon-testutil.h"
#include "../common/s3test.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define N 8

static char repo[37];
static char ids[SEAFTIER_N_TYPES][N][41];

/* A copy of dt's seafile.conf in a new directory with `section`.`key` set
 * to `value` (several triples, NULL-terminated). Returns the directory. */
static char *
conf_variant(DT *dt, ...)
{
    GKeyFile *kf = g_key_file_new();
    DT_CHECK(g_key_file_load_from_file(kf, dt->conf_path, G_KEY_FILE_NONE, NULL));
    va_list ap;
    va_start(ap, dt);
    const char *section;
    while ((section = va_arg(ap, const char *))) {
        const char *key = va_arg(ap, const char *);
        const char *value = va_arg(ap, const char *);
        g_key_file_set_string(kf, section, key, value);
    }
    va_end(ap);
    char *dir = s3test_tmpdir("seaftier-admv");
    char *tier = g_build_filename(dir, "tier", NULL);
    g_key_file_set_string(kf, "tier", "dir", tier);
    char *path = g_build_filename(dir, "seafile.conf", NULL);
    DT_CHECK(g_key_file_save_to_file(kf, path, NULL));
    g_free(path);
    g_free(tier);
    g_key_file_free(kf);
    return dir;
}

static void
write_objects(DT *dt)
{
    dt_random_repo(repo);
    for (int t = 0; t < SEAFTIER_N_TYPES; t++)
        for (int i = 0; i < N; i++) {
            dt_random_obj(ids[t][i]);
            gsize len = (gsize)(1000 + 500 * i);
            guint8 *data = dt_random_bytes(len);
            dt_write(dt, t, repo, ids[t][i], data, len);
            g_free(data);
        }
}

static int
count_lines(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static void
test_local_commands(void)
{
    DT *dt = dt_setup("adm", TRUE, NULL);
    write_objects(dt);
    char *out, *err;
    char expr[512];

    /* usage errors → 2, --help → 0 */
    DT_CHECK(dt_admin(dt, NULL, NULL, "status", "--bogus", NULL) == 2);
    DT_CHECK(dt_admin(dt, &out, NULL, "flush", "--help", NULL) == 0);
    DT_CHECK(strstr(out, "--timeout") != NULL);
    g_free(out);
    DT_CHECK(dt_admin(dt, NULL, NULL, "ls", "--state", "sleepy", NULL) == 2);

    /* status, no daemon */
    DT_CHECK(dt_admin(dt, &out, NULL, "status", NULL) == 0);
    DT_CHECK(strstr(out, "seaftierd: NOT running") && strstr(out, "upload backlog: 24 objects"));
    g_free(out);
    DT_CHECK(dt_admin(dt, &out, NULL, "status", "--json", NULL) == 0);
    DT_CHECK(dt_json(out, "d[\"daemon_running\"] == False and d[\"dirty_objects\"] == 24 and "
                          "all(d[\"types\"][t][\"dirty\"][\"objects\"] == 8 for t in d[\"types\"]) and "
                          "d[\"oldest_dirty_age_seconds\"] >= 0 and d[\"max_size\"] > 0"));
    g_free(out);

    /* ls */
    DT_CHECK(dt_admin(dt, &out, NULL, "ls", "--state", "dirty", "--json", NULL) == 0);
    DT_CHECK(dt_json(out, "len(d) == 24 and all(r[\"state\"] == \"dirty\" for r in d)"));
    g_free(out);
    DT_CHECK(dt_admin(dt, &out, NULL, "ls", "--type", "blocks", NULL) == 0);
    DT_CHECK(count_lines(out, "\nblocks") + g_str_has_prefix(out, "blocks") == N);
    g_free(out);
    DT_CHECK(dt_admin(dt, &out, NULL, "ls", "--repo", repo, "--limit", "5", "--json", NULL) == 0);
    DT_CHECK(dt_json(out, "len(d) == 5"));
    g_free(out);

    /* inspect */
    DT_CHECK(dt_admin(dt, &out, NULL, "inspect", "blocks", repo, ids[2][3], "--json", NULL) == 0);
    g_snprintf(expr, sizeof expr, "d[\"local\"][\"state\"] == \"dirty\" and d[\"local\"][\"size\"] == 2500 "
               "and d[\"local\"][\"obj_id\"] == \"%s\"", ids[2][3]);
    DT_CHECK(dt_json(out, expr));
    g_free(out);
    DT_CHECK(dt_admin(dt, &out, NULL, "inspect", "fs", repo, ids[1][0], NULL) == 0);
    DT_CHECK(strstr(out, "state:       dirty") && strstr(out, "size:        1000 bytes"));
    g_free(out);
    char missing[41];
    dt_random_obj(missing);
    DT_CHECK(dt_admin(dt, NULL, NULL, "inspect", "fs", repo, missing, NULL) == 1);
    DT_CHECK(dt_admin(dt, NULL, NULL, "inspect", "fs", repo, "NOTHEX", NULL) == 2);

    /* flush without a daemon */
    DT_CHECK(dt_admin(dt, &out, &err, "flush", NULL) == 0);
    DT_CHECK(strstr(out, "24 objects uploaded") && strstr(err, "flush: 24/24 objects"));
    g_free(out);
    g_free(err);
    DT_CHECK(dt_count(dt, SEAFTIER_STATE_DIRTY) == 0 && dt_count(dt, SEAFTIER_STATE_CLEAN) == 24);
    DT_CHECK(dt_admin(dt, &out, NULL, "flush", "--json", NULL) == 0);
    DT_CHECK(dt_json(out, "d[\"ok\"] and d[\"total\"] == 0 and not d[\"via_daemon\"]"));
    g_free(out);
    DT_CHECK(dt_admin(dt, &out, NULL, "inspect", "commits", repo, ids[0][1], "--remote", "--json", NULL) == 0);
    DT_CHECK(dt_json(out, "d[\"local\"][\"state\"] == \"clean\" and d[\"remote\"][\"size\"] == 1500 and "
                          "d[\"remote\"][\"sse_c\"]"));
    g_free(out);

    /* verify */
    DT_CHECK(dt_admin(dt, &out, NULL, "verify", "--remote", "--json", NULL) == 0);
    DT_CHECK(dt_json(out, "d[\"checked\"] == 24 and d[\"remote_checked\"] == 24 and d[\"problem_count\"] == 0"));
    g_free(out);
    /* A clean object S3 lost is found by verify --remote. */
    char *key = g_strconcat(repo, "/", ids[1][2], NULL);
    DT_CHECK(seaftier_s3_delete(dt->s3[1], key, NULL));
    DT_CHECK(dt_admin(dt, &out, NULL, "verify", "--remote", NULL) == 1);
    DT_CHECK(strstr(out, "PROBLEM (remote) fs") && strstr(out, ids[1][2]));
    g_free(out);

    /* evict, warmup */
    DT_CHECK(dt_admin(dt, &out, NULL, "evict", "--json", NULL) == 0);
    DT_CHECK(dt_json(out, "d[\"evicted_objects\"] == 0"));
    g_free(out);
    DT_CHECK(dt_admin(dt, &out, NULL, "evict", "--repo", repo, NULL) == 0);
    DT_CHECK(strstr(out, "evicted 24 clean objects"));
    g_free(out);
    DT_CHECK(dt_count(dt, SEAFTIER_STATE_CLEAN) == 0);
    DT_CHECK(dt_admin(dt, &out, &err, "warmup", repo, "--json", NULL) == 0);
    DT_CHECK(dt_json(out, "d[\"listed\"] == 23 and d[\"fetched\"] == 23 and d[\"failed\"] == 0"));
    g_free(out);
    g_free(err);
    DT_CHECK(dt_admin(dt, &out, &err, "warmup", repo, "--type", "blocks", NULL) == 0);
    DT_CHECK(strstr(out, "8 objects in S3, 0 fetched, 8 already in the tier"));
    g_free(out);
    g_free(err);
    DT_CHECK(dt_count(dt, SEAFTIER_STATE_CLEAN) == 23);
    DT_CHECK(dt_admin(dt, &out, NULL, "evict", "--all-clean", "--json", NULL) == 0);
    DT_CHECK(dt_json(out, "d[\"evicted_objects\"] == 23"));
    g_free(out);
    g_free(key);

    /* check on a good configuration */
    DT_CHECK(dt_admin(dt, &out, NULL, "check", NULL) == 0);
    DT_CHECK(strstr(out, "check: all ok") && count_lines(out, "probe: PUT/GET/DELETE with SSE-C ok") == 3);
    g_free(out);
    DT_CHECK(dt_admin(dt, &out, NULL, "check", "--json", NULL) == 0);
    DT_CHECK(dt_json(out, "d[\"ok\"] and all(b[\"probe_ok\"] and b[\"sse_c\"] and b[\"unencrypted\"] == 0 "
                          "for b in d[\"backends\"].values()) and d[\"backends\"][\"blocks\"][\"sampled\"] == 8"));
    g_free(out);

    /* check: an IP address as host with path_style_request = false is
     * addressed path style (<bucket>.127.0.0.1 cannot resolve), and says so */
    char *ipdir = conf_variant(dt, "commit_object_backend", "path_style_request", "false",
                               "fs_object_backend", "path_style_request", "false",
                               "block_backend", "path_style_request", "false", NULL);
    DT *ipv = dt_setup_conf(ipdir, FALSE);
    DT_CHECK(dt_admin(ipv, &out, NULL, "check", NULL) == 0);
    DT_CHECK_MSG(strstr(out, "check: all ok") && count_lines(out, "path style: host is an IP address") == 3,
                 "%s", out);
    g_free(out);
    dt_teardown(ipv);

    /* check --create-missing: the missing bucket is created, then probed;
     * the buckets that exist are left as they are */
    char *fresh = g_strdup_printf("seaftier-adm-create-%d-%08x", (int)getpid(), g_random_int());
    char *cdir = conf_variant(dt, "commit_object_backend", "bucket", fresh, NULL);
    DT *cv = dt_setup_conf(cdir, FALSE);
    DT_CHECK(dt_admin(cv, &out, NULL, "check", "--create-missing", NULL) == 0);
    DT_CHECK_MSG(strstr(out, "was missing: created") && strstr(out, fresh) && strstr(out, "check: all ok") &&
                 count_lines(out, "was missing: created") == 1, "%s", out);
    g_free(out);
    DT_CHECK(dt_admin(cv, &out, NULL, "check", "--create-missing", "--json", NULL) == 0);
    DT_CHECK(dt_json(out, "d[\"ok\"] and not any(b[\"created\"] for b in d[\"backends\"].values()) and "
                          "d[\"backends\"][\"commits\"][\"probe_ok\"]"));
    g_free(out);
    dt_teardown(cv);
    g_free(fresh);

    /* check: the Go file server is on → warned (it bypasses the tier), not a problem */
    cdir = conf_variant(dt, "fileserver", "use_go_fileserver", "true", NULL);
    cv = dt_setup_conf(cdir, FALSE);
    DT_CHECK(dt_admin(cv, &out, NULL, "check", "--config-only", NULL) == 0);
    DT_CHECK_MSG(strstr(out, "warning: the Go file server is on ([fileserver] use_go_fileserver = true)") &&
                 strstr(out, "bypass seaftier"), "%s", out);
    g_free(out);
    DT_CHECK(dt_admin(cv, &out, NULL, "check", "--config-only", "--json", NULL) == 0);
    DT_CHECK(dt_json(out, "any(\"Go file server\" in w for w in d[\"config\"][\"warnings\"])"));
    g_free(out);
    g_setenv("ENABLE_GO_FILESERVER", "false", TRUE);     /* the environment wins, as in seaf-server */
    DT_CHECK(dt_admin(cv, &out, NULL, "check", "--config-only", NULL) == 0);
    DT_CHECK_MSG(!strstr(out, "Go file server"), "%s", out);
    g_free(out);
    g_unsetenv("ENABLE_GO_FILESERVER");
    dt_teardown(cv);
    DT_CHECK(dt_admin(dt, &out, NULL, "check", "--config-only", NULL) == 0);
    DT_CHECK(!strstr(out, "Go file server"));
    g_free(out);

    /* check: a wrong SSE-C key for the data in the buckets */
    char *dir = conf_variant(dt, "commit_object_backend", "sse_c_key", s3test_other_sse_c_key(),
                             "fs_object_backend", "sse_c_key", s3test_other_sse_c_key(),
                             "block_backend", "sse_c_key", s3test_other_sse_c_key(), NULL);
    DT *v = dt_setup_conf(dir, FALSE);
    DT_CHECK(dt_admin(v, &out, NULL, "check", "--json", NULL) == 1);
    DT_CHECK(dt_json(out, "not d[\"ok\"] and d[\"backends\"][\"blocks\"][\"other_key\"] == 8 and "
                          "d[\"backends\"][\"blocks\"][\"probe_ok\"]"));
    DT_CHECK(strstr(out, s3test_other_sse_c_key()) == NULL && strstr(out, s3test_sse_c_key()) == NULL);
    g_free(out);
    dt_teardown(v);

    /* check: a mixed bucket (an unencrypted object among SSE-C ones) */
    char *plain_key = g_strconcat(repo, "/", "0123456789012345678901234567890123456789", NULL);
    DT_CHECK(seaftier_s3_put(dt->plain[2], plain_key, "plain", 5, 0, NULL));
    DT_CHECK(dt_admin(dt, &out, NULL, "check", NULL) == 1);
    DT_CHECK(strstr(out, "readable WITHOUT the SSE-C key") && strstr(out, "mixed encrypted and unencrypted"));
    g_free(out);
    DT_CHECK(dt_admin(dt, &out, NULL, "check", "--json", NULL) == 1);
    DT_CHECK(dt_json(out, "d[\"backends\"][\"blocks\"][\"unencrypted\"] == 1 and "
                          "d[\"backends\"][\"commits\"][\"ok\"] and not d[\"backends\"][\"blocks\"][\"ok\"]"));
    g_free(out);
    g_free(plain_key);

    /* check: wrong secret key → signature refused, named, secret not printed */
    dir = conf_variant(dt, "fs_object_backend", "key", "ThisIsNotTheSecretKey0123456789abcdefghij", NULL);
    v = dt_setup_conf(dir, FALSE);
    DT_CHECK(dt_admin(v, &out, &err, "check", NULL) == 1);
    DT_CHECK(strstr(out, "PROBLEM") && strstr(out, "secret key (`key`) is wrong"));
    DT_CHECK(!strstr(out, "ThisIsNotTheSecretKey") && !strstr(err, "ThisIsNotTheSecretKey"));
    g_free(out);
    g_free(err);
    dt_teardown(v);

    /* check: a bucket that does not exist */
    dir = conf_variant(dt, "commit_object_backend", "bucket", "seaftier-no-such-bucket-here", NULL);
    v = dt_setup_conf(dir, FALSE);
    DT_CHECK(dt_admin(v, &out, NULL, "check", "--json", NULL) == 1);
    DT_CHECK(dt_json(out, "not d[\"backends\"][\"commits\"][\"probe_ok\"] and "
                          "\"does not exist\" in d[\"backends\"][\"commits\"][\"findings\"][0][\"advice\"] and "
                          "d[\"backends\"][\"fs\"][\"ok\"]"));
    g_free(out);
    dt_teardown(v);

    /* check: a bucket name S3 does not allow → configuration error, exit 2 */
    dir = conf_variant(dt, "block_backend", "bucket", "Bad_Bucket", NULL);
    v = g_new0(DT, 1);
    v->dir = dir;
    v->conf_path = g_build_filename(dir, "seafile.conf", NULL);
    DT_CHECK(dt_admin(v, &out, NULL, "check", NULL) == 2);
    DT_CHECK(strstr(out, "config: ERROR") && strstr(out, "Bad_Bucket") && strstr(out, "block_backend"));
    g_free(out);
    DT_CHECK(dt_admin(v, &out, NULL, "check", "--json", NULL) == 2);
    DT_CHECK(dt_json(out, "not d[\"ok\"] and \"Bad_Bucket\" in d[\"config\"][\"error\"]"));
    g_free(out);
    DT_CHECK(dt_admin(v, NULL, NULL, "status", NULL) == 2);
    s3test_rm_rf(v->dir);
    g_free(v->dir);
    g_free(v->conf_path);
    g_free(v);

    /* check: problems in several sections → all listed at once, before any probe */
    dir = conf_variant(dt, "block_backend", "bucket", "Bad_Bucket", "fs_object_backend", "use_https", "maybe",
                       "tier", "max_size", "lots", NULL);
    v = g_new0(DT, 1);
    v->dir = dir;
    v->conf_path = g_build_filename(dir, "seafile.conf", NULL);
    DT_CHECK(dt_admin(v, &out, NULL, "check", NULL) == 2);
    DT_CHECK_MSG(strstr(out, "config: ERROR: 3 problems") && count_lines(out, "PROBLEM: ") == 3 &&
                 strstr(out, "[block_backend] bucket") && strstr(out, "[fs_object_backend] use_https") &&
                 strstr(out, "[tier] max_size") && !strstr(out, "probe"), "%s", out);
    g_free(out);
    DT_CHECK(dt_admin(v, &out, NULL, "check", "--json", NULL) == 2);
    DT_CHECK(dt_json(out, "not d[\"ok\"] and len(d[\"config\"][\"problems\"]) == 3"));
    g_free(out);
    s3test_rm_rf(v->dir);
    g_free(v->dir);
    g_free(v->conf_path);
    g_free(v);

    dt_teardown(dt);
}

static void
test_flush_unreachable(void)
{
    DT *dt = dt_setup("adu", FALSE, NULL);
    /* Nothing listens on port 1; no retries so the test stays quick. */
    char *dir = conf_variant(dt, "commit_object_backend", "host", "127.0.0.1:1",
                             "commit_object_backend", "max_retries", "0",
                             "commit_object_backend", "use_https", "false", NULL);
    dt_teardown(dt);
    dt = dt_setup_conf(dir, TRUE);
    write_objects(dt);
    char *out, *err;
    DT_CHECK(dt_admin(dt, &out, &err, "flush", "--type", "commits", NULL) == 1);
    DT_CHECK(strstr(out, "8 of 8 objects could not be uploaded"));
    DT_CHECK(count_lines(err, "FAILED commits ") == N && strstr(err, ids[0][0]));
    g_free(out);
    g_free(err);
    DT_CHECK(dt_admin(dt, &out, NULL, "flush", "--json", NULL) == 1);
    DT_CHECK(dt_json(out, "not d[\"ok\"] and d[\"total\"] == 24 and d[\"failed\"] == 8 and d[\"uploaded\"] == 16 "
                          "and all(f[\"type\"] == \"commits\" for f in d[\"failures\"])"));
    g_free(out);
    DT_CHECK(dt_admin(dt, &out, NULL, "ls", "--state", "dirty", "--json", NULL) == 0);
    DT_CHECK(dt_json(out, "len(d) == 8 and all(r[\"attempts\"] == 2 and r[\"last_error\"] for r in d)"));
    g_free(out);
    DT_CHECK(dt_admin(dt, &out, NULL, "status", NULL) == 0);
    DT_CHECK(strstr(out, "recent errors:") && strstr(out, "2 attempts"));
    g_free(out);
    dt_teardown(dt);
}

static void
test_flush_via_daemon(void)
{
    /* A long upload_delay keeps the daemon from uploading by itself. */
    DT *dt = dt_setup("add", FALSE, "upload_delay = 3600000\n");
    write_objects(dt);
    dt_start_daemon(dt, NULL);
    g_usleep(1500000);
    DT_CHECK(dt_count(dt, SEAFTIER_STATE_DIRTY) == 24);
    char *out, *err;
    DT_CHECK(dt_admin(dt, &out, NULL, "status", "--json", NULL) == 0);
    DT_CHECK(dt_json(out, "d[\"daemon_running\"] and d[\"daemon\"][\"backends\"][\"fs\"][\"state\"] == \"ok\""));
    g_free(out);
    DT_CHECK(dt_admin(dt, &out, NULL, "status", NULL) == 0);
    DT_CHECK(strstr(out, "seaftierd: running (pid "));
    g_free(out);
    DT_CHECK(dt_admin(dt, &out, &err, "flush", "--type", "fs", "--repo", repo, NULL) == 0);
    DT_CHECK(strstr(out, "8 objects uploaded or already clean (by seaftierd)"));
    g_free(out);
    g_free(err);
    DT_CHECK(dt_count(dt, SEAFTIER_STATE_DIRTY) == 16);
    DT_CHECK(dt_admin(dt, &out, NULL, "flush", "--json", NULL) == 0);
    DT_CHECK(dt_json(out, "d[\"ok\"] and d[\"via_daemon\"] and d[\"total\"] == 16 and d[\"uploaded\"] == 16"));
    g_free(out);
    DT_CHECK(dt_count(dt, SEAFTIER_STATE_DIRTY) == 0);
    dt_teardown(dt);
}

int
main(void)
{
    g_printerr("== local commands and check\n");
    test_local_commands();
    g_printerr("== flush with an unreachable server\n");
    test_flush_unreachable();
    g_printerr("== flush through the daemon\n");
    test_flush_via_daemon();
    g_printerr("admin tests passed\n");
    return 0;
}
