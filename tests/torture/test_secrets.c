/*
 * tests/torture/test_secrets.c — secrets never leave the configuration.
 *
 * With debug logging everywhere (SEAFTIER_LOG_LEVEL=debug, [tier] log_level
 * = debug, seaftierd --log-level debug), over https with SSE-C: a full cycle
 * (writes of every type including a multipart block, upload by seaftierd,
 * eviction, reads through S3, copy, delete) and every seaftier-admin command
 * (plain and --json, and a check with the wrong SSE-C key that must report
 * findings). The S3 secret key, the SSE-C key and its base64 form must
 * appear in no log, no output and no file of the tier (the SQLite index and
 * its WAL included). The tier's files are 0600 inside 0700 directories.
 */
#include "seaftier-build.h"

#include "torture-util.h"
#include "../common/s3test.h"

#include <seaftier/log.h>

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

static GPid daemon_pid;
static GPtrArray *secrets;      /* the strings that must never appear */

static void
cleanup(void *data)
{
    (void)data;
    if (daemon_pid)
        tt_kill_wait(daemon_pid, SIGKILL, 5);
    daemon_pid = 0;
}

static const char *
leaked(const void *data, gsize len)
{
    for (guint i = 0; i < secrets->len; i++) {
        const char *s = g_ptr_array_index(secrets, i);
        if (len >= strlen(s) && memmem(data, len, s, strlen(s)))
            return s;
    }
    return NULL;
}

static void
assert_clean_text(const char *what, const char *text)
{
    const char *s = text ? leaked(text, strlen(text)) : NULL;
    TT_CHECK_MSG(s == NULL, "a secret (%.4s…) appears in %s", s, what);
}

/* Every file under `dir` (recursively): no secret inside; tier files 0600
 * and directories 0700 when `modes`. Returns the number of files read. */
static guint
scan_tree(const char *dir, gboolean modes, guint64 *bytes)
{
    struct stat st;
    TT_CHECK(lstat(dir, &st) == 0);
    if (modes)
        TT_CHECK_MSG((st.st_mode & 0777) == 0700, "%s has mode %o, not 0700", dir, st.st_mode & 0777);
    GDir *d = g_dir_open(dir, 0, NULL);
    TT_CHECK(d != NULL);
    guint n = 0;
    const char *name;
    while ((name = g_dir_read_name(d))) {
        char *path = g_build_filename(dir, name, NULL);
        TT_CHECK(lstat(path, &st) == 0);
        if (S_ISDIR(st.st_mode)) {
            n += scan_tree(path, modes, bytes);
        } else if (S_ISREG(st.st_mode)) {
            if (modes)
                TT_CHECK_MSG((st.st_mode & 0777) == 0600, "%s has mode %o, not 0600", path,
                             st.st_mode & 0777);
            gsize len = 0;
            char *data = tt_slurp(path, &len);
            TT_CHECK_MSG(data != NULL, "cannot read %s", path);
            const char *s = leaked(data, len);
            TT_CHECK_MSG(s == NULL, "a secret (%.4s…) is stored in %s", s, path);
            *bytes += len;
            g_free(data);
            n++;
        } else if (S_ISSOCK(st.st_mode) && modes) {
            TT_CHECK_MSG((st.st_mode & 0077) == 0, "socket %s has mode %o", path, st.st_mode & 0777);
        }
        g_free(path);
    }
    g_dir_close(d);
    return n;
}

/* Runs seaftier-admin with debug logging; checks its output; returns the
 * exit code. */
static int
admin(const char *conf_dir, guint *runs, ...)
{
    GPtrArray *argv = g_ptr_array_new();
    g_ptr_array_add(argv, (char *)tt_admin());
    va_list ap;
    va_start(ap, runs);
    const char *a;
    while ((a = va_arg(ap, const char *)))
        g_ptr_array_add(argv, (char *)a);
    va_end(ap);
    g_ptr_array_add(argv, "-c");
    g_ptr_array_add(argv, (char *)conf_dir);
    g_ptr_array_add(argv, NULL);
    char *out = NULL, *err = NULL;
    int rc = tt_run((char **)argv->pdata, &out, &err);
    char *what = g_strjoinv(" ", (char **)argv->pdata + 1);
    char *w_out = g_strdup_printf("the output of seaftier-admin %s", what);
    assert_clean_text(w_out, out);
    assert_clean_text(w_out, err);
    TT_CHECK_MSG(rc >= 0 && rc <= 2, "seaftier-admin %s: exit %d: %s", what, rc, err);
    (*runs)++;
    if (g_getenv("SEAFTIER_TORTURE_VERBOSE"))
        g_printerr("== seaftier-admin %s -> %d\n%s%s", what, rc, out, err);
    g_free(w_out);
    g_free(what);
    g_free(out);
    g_free(err);
    g_ptr_array_free(argv, TRUE);
    return rc;
}

int
main(void)
{
    tt_at_fail(cleanup, NULL);
    g_setenv("SEAFTIER_LOG_LEVEL", "debug", TRUE);
    const S3TestServer *srv = s3test_server();
    secrets = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(secrets, g_strdup(srv->secret_key));
    g_ptr_array_add(secrets, g_strdup(s3test_sse_c_key()));
    g_ptr_array_add(secrets, g_base64_encode((const guchar *)s3test_sse_c_key(), 32));
    g_ptr_array_add(secrets, g_strdup(s3test_other_sse_c_key()));
    g_ptr_array_add(secrets, g_base64_encode((const guchar *)s3test_other_sse_c_key(), 32));

    char *dir = s3test_tmpdir("tt-secrets");
    char *lib_log = g_build_filename(dir, "lib.log", NULL);
    char *daemon_log = g_build_filename(dir, "seaftierd.log", NULL);
    TTConfOpts opts = {
        .https = TRUE, .sse_c = TRUE, .bucket_prefix = "ttsecret",
        .extra_tier = "log_level = debug\n", .extra_s3 = "multipart_part_size = 5M\n",
    };
    char *conf = tt_write_conf(dir, &opts, NULL);
    char *tier_dir = g_build_filename(dir, "tier", NULL);
    GError *err = NULL;
    TT_CHECK_MSG(seaftier_log_to_file(lib_log, &err), "%s", err->message);
    seaftier_log_set_level(SEAFTIER_LOG_DEBUG);

    /* the write / upload / read cycle */
    GRand *r = g_rand_new();
    char repo[37], repo2[37];
    tt_random_repo(r, repo);
    tt_random_repo(r, repo2);
    TTBackends *be = tt_backends_open(conf);
    char ids[7][41];
    gsize lens[7];
    SeaftierObjType types[7];
    for (int i = 0; i < 7; i++) {
        types[i] = (SeaftierObjType)(i % 3);
        lens[i] = i == 2 ? 6 * 1024 * 1024 + 123 : (gsize)g_rand_int_range(r, 100, 100000);
        guint8 *data = tt_make_object(r, lens[i], i % 2, ids[i]);
        TT_CHECK(tt_be_write(be, types[i], repo, ids[i], data, lens[i], TRUE));
        g_free(data);
    }
    daemon_pid = tt_spawn_daemon(dir, daemon_log, "--log-level", "debug", NULL);
    TT_CHECK_MSG(tt_wait_drained(tier_dir, FALSE, 60), "seaftierd did not upload: see %s", daemon_log);

    guint runs = 0;
    /* every admin command while the daemon runs, then without it */
    for (int with_daemon = 1; with_daemon >= 0; with_daemon--) {
        TT_CHECK(admin(dir, &runs, "status", NULL) == 0);
        TT_CHECK(admin(dir, &runs, "status", "--json", NULL) == 0);
        TT_CHECK(admin(dir, &runs, "flush", NULL) == 0);
        TT_CHECK(admin(dir, &runs, "flush", "--json", NULL) == 0);
        TT_CHECK(admin(dir, &runs, "ls", NULL) == 0);
        TT_CHECK(admin(dir, &runs, "ls", "--json", NULL) == 0);
        for (int i = 0; i < 3; i++) {
            TT_CHECK(admin(dir, &runs, "inspect", seaftier_type_name(types[i]), repo, ids[i], NULL) == 0);
            TT_CHECK(admin(dir, &runs, "inspect", "--remote", "--json", seaftier_type_name(types[i]), repo,
                           ids[i], NULL) == 0);
        }
        TT_CHECK(admin(dir, &runs, "verify", NULL) == 0);
        TT_CHECK(admin(dir, &runs, "verify", "--remote", NULL) == 0);
        TT_CHECK(admin(dir, &runs, "verify", "--remote", "--json", NULL) == 0);
        TT_CHECK(admin(dir, &runs, "check", NULL) == 0);
        TT_CHECK(admin(dir, &runs, "check", "--json", NULL) == 0);
        TT_CHECK(admin(dir, &runs, "check", "--config-only", NULL) == 0);
        TT_CHECK(admin(dir, &runs, "evict", NULL) == 0);
        TT_CHECK(admin(dir, &runs, "evict", "--repo", repo, NULL) == 0);
        TT_CHECK(admin(dir, &runs, "evict", "--all-clean", NULL) == 0);
        TT_CHECK(admin(dir, &runs, "warmup", repo, NULL) == 0);
        TT_CHECK(admin(dir, &runs, "evict", "--all-clean", "--json", NULL) == 0);
        TT_CHECK(admin(dir, &runs, "warmup", "--json", repo, NULL) == 0);
        admin(dir, &runs, "--help", NULL);
        admin(dir, &runs, "inspect", "commits", "bad-repo", "bad-id", NULL);   /* usage error */
        if (with_daemon) {
            int st = tt_daemon_term(daemon_pid, tier_dir);
            daemon_pid = 0;
            TT_CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "seaftierd exit 0x%x", st);
        }
    }

    /* reads through S3, a copy and a delete */
    TT_CHECK(admin(dir, &runs, "evict", "--all-clean", NULL) == 0);
    for (int i = 0; i < 7; i++) {
        guint8 *data = NULL;
        gsize len = 0;
        TT_CHECK_MSG(tt_be_read(be, types[i], repo, ids[i], &data, &len) && len == lens[i] &&
                         tt_bytes_match(ids[i], data, len),
                     "read-through of %s", ids[i]);
        g_free(data);
    }
    TT_CHECK(be->obj[1]->copy(be->obj[1], repo, 1, repo2, 1, ids[1]) == 0);
    TT_CHECK(be->block->copy(be->block, repo, 1, repo2, 1, ids[2]) == 0);
    be->obj[0]->delete(be->obj[0], repo, 1, ids[0]);
    daemon_pid = tt_spawn_daemon(dir, daemon_log, "--log-level", "debug", NULL);
    TT_CHECK_MSG(tt_wait_drained(tier_dir, TRUE, 60), "seaftierd did not carry the delete");
    int st = tt_daemon_term(daemon_pid, tier_dir);
    daemon_pid = 0;
    TT_CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "seaftierd exit 0x%x", st);
    tt_backends_close(be);

    /* a configuration with the wrong SSE-C key: findings, still no secret */
    char *wrong_dir = g_build_filename(dir, "wrong", NULL);
    TT_CHECK(g_mkdir_with_parents(wrong_dir, 0700) == 0);
    char *text = tt_slurp(conf, NULL);
    char **parts = g_strsplit(text, s3test_sse_c_key(), -1);
    char *wrong_text = g_strjoinv(s3test_other_sse_c_key(), parts);
    char *wrong_conf = g_build_filename(wrong_dir, "seafile.conf", NULL);
    TT_CHECK(g_file_set_contents(wrong_conf, wrong_text, -1, NULL));
    int rc = admin(wrong_dir, &runs, "check", NULL);
    TT_CHECK_MSG(rc == 1, "check with the wrong SSE-C key: exit %d (expected 1: findings)", rc);
    admin(wrong_dir, &runs, "check", "--json", NULL);
    admin(wrong_dir, &runs, "inspect", "--remote", "fs", repo, ids[1], NULL);
    admin(wrong_dir, &runs, "verify", "--remote", NULL);

    /* the logs and the tier */
    gsize len = 0;
    char *log = tt_slurp(lib_log, &len);
    TT_CHECK(log != NULL && len > 0);
    TT_CHECK(seaftier_log_get_level() == SEAFTIER_LOG_DEBUG);
    assert_clean_text("the library's debug log", log);
    g_free(log);
    log = tt_slurp(daemon_log, &len);
    TT_CHECK(log != NULL && len > 0);
    TT_CHECK_MSG(strstr(log, "debug"), "no debug line in the daemon log");
    assert_clean_text("the daemon's debug log", log);
    g_free(log);
    guint64 bytes = 0;
    guint files = scan_tree(tier_dir, TRUE, &bytes);
    guint64 other_bytes = 0;
    char *wrong_tier = g_build_filename(wrong_dir, "tier", NULL);
    if (g_file_test(wrong_tier, G_FILE_TEST_IS_DIR))
        files += scan_tree(wrong_tier, TRUE, &other_bytes);
    printf("secrets: 1 write/upload/evict/read/copy/delete cycle, %u seaftier-admin runs, library "
           "and daemon debug logs, %u tier files (%" G_GUINT64_FORMAT " bytes, index and WAL "
           "included): no secret key, no SSE-C key, no base64 of it; files 0600, dirs 0700\n",
           runs, files, bytes + other_bytes);

    seaftier_log_to_file(NULL, NULL);
    g_free(wrong_tier);
    g_free(wrong_conf);
    g_free(wrong_text);
    g_strfreev(parts);
    g_free(text);
    g_free(wrong_dir);
    g_rand_free(r);
    g_free(tier_dir);
    g_free(daemon_log);
    g_free(lib_log);
    tt_empty_buckets(conf);
    g_free(conf);
    if (!g_getenv("SEAFTIER_TORTURE_KEEP"))
        s3test_rm_rf(dir);
    g_free(dir);
    g_ptr_array_free(secrets, TRUE);
    return 0;
}
