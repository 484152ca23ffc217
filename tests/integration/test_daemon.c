/*
 * tests/integration/test_daemon.c — seaftierd and the library in separate
 * processes against the real test S3 server (Ceph RGW, or Swift's s3api with
 * SEAFTIER_S3_SERVER=swift: SSE-C only where the server honours it):
 *  - objects written through the Seafile backends (this process) are
 *    uploaded by the daemon (another process): each is in S3 with the right
 *    bytes, SSE-C encrypted (read back with the key, refused without it),
 *    and its row ends clean;
 *  - a nudge starts an upload within milliseconds (not the 1 s timer);
 *  - deletes through the backends are carried to S3 and forgotten;
 *  - metrics, status and ping answer on the control socket, and on HTTP;
 *  - a bucket that fails the write probe gets no uploads: its objects stay
 *    dirty with no attempts, the other buckets go on;
 *  - SIGTERM exits promptly with status 0.
 */
#include "seaftier-build.h"

#include "daemon-testutil.h"
#include "../common/s3test.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>
#include <sys/wait.h>

#define N_PER_TYPE 40

typedef struct {
    SeaftierObjType type;
    char repo[37];
    char id[41];
    guint8 *data;
    gsize len;
} Obj;

static void
check_in_s3(DT *dt, const Obj *o, gboolean sse_c)
{
    char *key = g_strconcat(o->repo, "/", o->id, NULL);
    void *back = NULL;
    gsize len = 0;
    GError *err = NULL;
    DT_CHECK_MSG(seaftier_s3_get(dt->s3[o->type], key, &back, &len, &err), "GET %s: %s", key,
                 err ? err->message : "");
    DT_CHECK_MSG(len == o->len && memcmp(back, o->data, len) == 0, "%s: bytes differ", key);
    g_free(back);
    if (sse_c) {
        /* Without the key the server must refuse to hand the object out. */
        DT_CHECK_MSG(!seaftier_s3_get(dt->plain[o->type], key, &back, &len, &err),
                     "%s readable without the SSE-C key", key);
        DT_CHECK_MSG(g_error_matches(err, SEAFTIER_S3_ERROR, SEAFTIER_S3_ERROR_SSE_C_MISMATCH) ||
                     g_error_matches(err, SEAFTIER_S3_ERROR, SEAFTIER_S3_ERROR_INVALID_REQUEST) ||
                     g_error_matches(err, SEAFTIER_S3_ERROR, SEAFTIER_S3_ERROR_ACCESS_DENIED),
                     "%s without key: unexpected error %s", key, err->message);
        g_clear_error(&err);
        SeaftierS3ObjectInfo info;
        DT_CHECK(seaftier_s3_head(dt->s3[o->type], key, &info, &err));
        DT_CHECK_MSG(info.sse_c, "%s: HEAD does not report SSE-C", key);
        DT_CHECK_MSG(info.ctime > 0, "%s: no x-amz-meta-ctime", key);
    }
    SeaftierTierEntry e;
    DT_CHECK(seaftier_tier_lookup(dt->tier, o->type, o->repo, o->id, &e, &err));
    DT_CHECK_MSG(e.state == SEAFTIER_STATE_CLEAN, "%s is %s, not clean", key, seaftier_state_name(e.state));
    g_free(key);
}

static void
test_upload_delete(void)
{
    gboolean sse_c = s3test_server()->honours_sse_c;
    DT *dt = dt_setup("dmn", sse_c, "upload_concurrency = 6\n");
    dt_start_daemon(dt, "--metrics-port", "0", NULL);

    /* Nudge latency: each object alone, the daemon idle in between. */
    char repo[37];
    dt_random_repo(repo);
    gint64 total_us = 0;
    const int singles = 5;
    for (int i = 0; i < singles; i++) {
        char id[41];
        dt_random_obj(id);
        guint8 *data = dt_random_bytes(1000);
        g_usleep(150000);
        gint64 t0 = g_get_monotonic_time();
        dt_write(dt, SEAFTIER_TYPE_COMMITS, repo, id, data, 1000);
        DT_CHECK(dt_wait_settled(dt, FALSE, 10));
        total_us += g_get_monotonic_time() - t0;
        g_free(data);
    }
    g_printerr("mean write-to-clean latency: %.1f ms\n", total_us / 1000.0 / singles);
    /* The fallback timer fires once a second (mean 500 ms); a nudge is ms. */
    DT_CHECK_MSG(total_us / singles < 250000, "uploads are not started by the nudge (mean %.0f ms)",
                 total_us / 1000.0 / singles);

    /* Many objects of every type, several repos, sizes up to 1 MiB. */
    GPtrArray *objs = g_ptr_array_new();
    for (int t = 0; t < SEAFTIER_N_TYPES; t++) {
        for (int i = 0; i < N_PER_TYPE; i++) {
            Obj *o = g_new0(Obj, 1);
            o->type = t;
            if (i % 10 == 0)
                dt_random_repo(repo);
            memcpy(o->repo, repo, sizeof repo);
            dt_random_obj(o->id);
            o->len = t == SEAFTIER_TYPE_BLOCKS ? (gsize)g_random_int_range(1, 1 << 20) :
                     (gsize)g_random_int_range(1, 8192);
            o->data = dt_random_bytes(o->len);
            dt_write(dt, t, o->repo, o->id, o->data, o->len);
            g_ptr_array_add(objs, o);
        }
    }
    DT_CHECK_MSG(dt_wait_settled(dt, FALSE, 60), "still %" G_GUINT64_FORMAT " dirty after 60 s",
                 dt_count(dt, SEAFTIER_STATE_DIRTY));
    for (guint i = 0; i < objs->len; i++)
        check_in_s3(dt, g_ptr_array_index(objs, i), sse_c);
    double ok = dt_metric(dt, "seaftier_uploads_ok_total", NULL);
    DT_CHECK_MSG(ok >= objs->len + singles, "uploads_ok_total %.0f < %u", ok, objs->len + singles);
    DT_CHECK(dt_metric(dt, "seaftier_dirty_objects", NULL) == 0);

    /* status is JSON with the three backends probed ok. */
    char *status = dt_request(dt, "status");
    DT_CHECK(status && dt_json(status, "all(d[\"backends\"][t][\"state\"] == \"ok\" for t in "
                                       "(\"commits\",\"fs\",\"blocks\")) and d[\"uploads_ok\"] >= 100"));
    g_free(status);

    /* Deletes: half of the objects, through the backends. */
    for (guint i = 0; i < objs->len; i += 2) {
        Obj *o = g_ptr_array_index(objs, i);
        dt_delete(dt, o->type, o->repo, o->id);
    }
    DT_CHECK_MSG(dt_wait_settled(dt, TRUE, 30), "still %" G_GUINT64_FORMAT " pending deletes",
                 dt_count(dt, SEAFTIER_STATE_DELETED));
    for (guint i = 0; i < objs->len; i++) {
        Obj *o = g_ptr_array_index(objs, i);
        char *key = g_strconcat(o->repo, "/", o->id, NULL);
        GError *err = NULL;
        gboolean there = seaftier_s3_head(dt->s3[o->type], key, NULL, &err);
        if (i % 2 == 0) {
            DT_CHECK_MSG(!there && g_error_matches(err, SEAFTIER_S3_ERROR, SEAFTIER_S3_ERROR_NOT_FOUND),
                         "%s still in S3 after delete", key);
            SeaftierTierEntry e;
            GError *lerr = NULL;
            DT_CHECK_MSG(!seaftier_tier_lookup(dt->tier, o->type, o->repo, o->id, &e, &lerr) && !lerr,
                         "%s: deleted row not forgotten", key);
        } else {
            DT_CHECK_MSG(there, "%s missing from S3", key);
        }
        g_clear_error(&err);
        g_free(key);
    }
    DT_CHECK(dt_metric(dt, "seaftier_deletes_ok_total", NULL) >= objs->len / 2);

    dt_stop_daemon(dt, SIGTERM, 10);

    /* SIGTERM when idle: exit 0 within a few seconds (ASan also checks leaks). */
    dt_start_daemon(dt, NULL);
    gint64 t0 = g_get_monotonic_time();
    int st = dt_stop_daemon(dt, SIGTERM, 10);
    DT_CHECK_MSG(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "seaftierd exit status %d", st);
    DT_CHECK((g_get_monotonic_time() - t0) < 5 * G_USEC_PER_SEC);

    for (guint i = 0; i < objs->len; i++) {
        Obj *o = g_ptr_array_index(objs, i);
        g_free(o->data);
        g_free(o);
    }
    g_ptr_array_free(objs, TRUE);
    dt_teardown(dt);
}

/* Deletes and re-writes racing with the uploads: every object ends in the
 * state its last operation asks for, in the tier and in S3 (the in-flight
 * exclusion keeps a DELETE from being overtaken by an older PUT). */
static void
test_races(void)
{
    DT *dt = dt_setup("dmx", FALSE, "upload_concurrency = 8\n");
    enum { N_RACE = 600 };
    Obj *objs = g_new0(Obj, N_RACE);
    char repo[37];
    dt_random_repo(repo);
    for (int i = 0; i < N_RACE; i++) {
        objs[i].type = (SeaftierObjType)(i % SEAFTIER_N_TYPES);
        memcpy(objs[i].repo, repo, sizeof repo);
        dt_random_obj(objs[i].id);
        objs[i].len = 2048 + (gsize)i;
        objs[i].data = dt_random_bytes(objs[i].len);
        dt_write(dt, objs[i].type, objs[i].repo, objs[i].id, objs[i].data, objs[i].len);
    }
    dt_start_daemon(dt, NULL);
    /* While the daemon works through the backlog: delete every third
     * object, and write every ninth again right after its delete. */
    for (int i = 0; i < N_RACE; i += 3) {
        dt_delete(dt, objs[i].type, objs[i].repo, objs[i].id);
        if (i % 9 == 0)
            dt_write(dt, objs[i].type, objs[i].repo, objs[i].id, objs[i].data, objs[i].len);
        g_usleep(2000);
    }
    DT_CHECK_MSG(dt_wait_settled(dt, TRUE, 90), "not settled: %" G_GUINT64_FORMAT " dirty, %"
                 G_GUINT64_FORMAT " deleted", dt_count(dt, SEAFTIER_STATE_DIRTY),
                 dt_count(dt, SEAFTIER_STATE_DELETED));
    for (int i = 0; i < N_RACE; i++) {
        gboolean gone = i % 3 == 0 && i % 9 != 0;
        char *key = g_strconcat(objs[i].repo, "/", objs[i].id, NULL);
        GError *err = NULL;
        SeaftierTierEntry e;
        gboolean row = seaftier_tier_lookup(dt->tier, objs[i].type, objs[i].repo, objs[i].id, &e, NULL);
        if (gone) {
            DT_CHECK_MSG(!seaftier_s3_head(dt->s3[objs[i].type], key, NULL, &err) &&
                         g_error_matches(err, SEAFTIER_S3_ERROR, SEAFTIER_S3_ERROR_NOT_FOUND),
                         "%s was deleted but S3 still has it", key);
            DT_CHECK_MSG(!row, "%s: deleted, but the tier still has a %s row", key,
                         seaftier_state_name(e.state));
            g_clear_error(&err);
        } else {
            DT_CHECK_MSG(row && e.state == SEAFTIER_STATE_CLEAN, "%s: not clean", key);
            check_in_s3(dt, &objs[i], FALSE);
        }
        g_free(key);
    }
    int st = dt_stop_daemon(dt, SIGTERM, 10);
    DT_CHECK_MSG(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "seaftierd exit status %d", st);
    for (int i = 0; i < N_RACE; i++)
        g_free(objs[i].data);
    g_free(objs);
    dt_teardown(dt);
}

/* A tier much smaller than what is written: the daemon uploads and evicts
 * (alongside the library's own eviction) until the tier is under its
 * watermark, and every object still reads back right (from S3 if evicted). */
static void
test_eviction(void)
{
    DT *dt = dt_setup("dme", FALSE, "max_size = 1M\nhigh_watermark = 80\nlow_watermark = 50\n"
                                    "min_free_space = 0\ncompression = false\n");
    dt_start_daemon(dt, NULL);
    enum { N_EV = 48 };
    Obj *objs = g_new0(Obj, N_EV);
    char repo[37];
    dt_random_repo(repo);
    for (int i = 0; i < N_EV; i++) {
        objs[i].type = SEAFTIER_TYPE_BLOCKS;
        memcpy(objs[i].repo, repo, sizeof repo);
        dt_random_obj(objs[i].id);
        objs[i].len = 64 * 1024;
        objs[i].data = dt_random_bytes(objs[i].len);
        dt_write(dt, objs[i].type, objs[i].repo, objs[i].id, objs[i].data, objs[i].len);
    }
    DT_CHECK(dt_wait_settled(dt, FALSE, 60));
    SeaftierTierStats st;
    gint64 deadline = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
    do {
        g_usleep(100000);
        DT_CHECK(seaftier_tier_stats(dt->tier, &st, NULL));
    } while (st.used_bytes > st.max_size / 100 * 80 && g_get_monotonic_time() < deadline);
    DT_CHECK_MSG(st.used_bytes <= st.max_size / 100 * 80, "tier uses %" G_GUINT64_FORMAT " of %"
                 G_GUINT64_FORMAT " bytes after uploads", st.used_bytes, st.max_size);
    DT_CHECK(st.objects[SEAFTIER_TYPE_BLOCKS][SEAFTIER_STATE_CLEAN] < N_EV);
    for (int i = 0; i < N_EV; i++) {
        /* In S3 with the right bytes, and readable through the backend
         * (from the tier, or fetched again when evicted). */
        char *key = g_strconcat(objs[i].repo, "/", objs[i].id, NULL);
        void *back = NULL;
        gsize len = 0;
        DT_CHECK_MSG(seaftier_s3_get(dt->s3[SEAFTIER_TYPE_BLOCKS], key, &back, &len, NULL), "%s", key);
        DT_CHECK(len == objs[i].len && memcmp(back, objs[i].data, len) == 0);
        g_free(back);
        g_free(key);
        BHandle *h = dt->block->open_block(dt->block, objs[i].repo, 1, objs[i].id, BLOCK_READ);
        DT_CHECK(h);
        guint8 *buf = g_malloc(objs[i].len + 1);
        gsize got = 0;
        int n;
        while ((n = dt->block->read_block(dt->block, h, buf + got, (int)(objs[i].len + 1 - got))) > 0)
            got += (gsize)n;
        DT_CHECK(n == 0 && got == objs[i].len && memcmp(buf, objs[i].data, got) == 0);
        dt->block->close_block(dt->block, h);
        dt->block->block_handle_free(dt->block, h);
        g_free(buf);
    }
    int st_exit = dt_stop_daemon(dt, SIGTERM, 10);
    DT_CHECK_MSG(st_exit != -1 && WIFEXITED(st_exit) && WEXITSTATUS(st_exit) == 0, "exit status %d", st_exit);
    for (int i = 0; i < N_EV; i++)
        g_free(objs[i].data);
    g_free(objs);
    dt_teardown(dt);
}

/* The HTTP endpoint answers GET /metrics on loopback. */
static void
test_http_metrics(void)
{
    DT *dt = dt_setup("dmh", FALSE, NULL);
    /* Find a free port by binding 0, then hand it to the daemon. */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t alen = sizeof a;
    DT_CHECK(bind(s, (struct sockaddr *)&a, sizeof a) == 0);
    DT_CHECK(getsockname(s, (struct sockaddr *)&a, &alen) == 0);
    int port = ntohs(a.sin_port);
    close(s);
    char *port_s = g_strdup_printf("%d", port);
    dt_start_daemon(dt, "--metrics-port", port_s, NULL);
    char *cmd = g_strdup_printf("curl -s -f http://127.0.0.1:%d/metrics", port);
    char *out = NULL;
    int status = 0;
    DT_CHECK(g_spawn_command_line_sync(cmd, &out, NULL, &status, NULL));
    DT_CHECK_MSG(status == 0 && strstr(out, "# TYPE seaftier_uploads_ok_total counter") &&
                 strstr(out, "seaftier_tier_objects{type=\"blocks\",state=\"dirty\"}"),
                 "GET /metrics: %s", out);
    g_free(out);
    g_free(cmd);
    cmd = g_strdup_printf("curl -s -o /dev/null -w %%{http_code} http://127.0.0.1:%d/other", port);
    DT_CHECK(g_spawn_command_line_sync(cmd, &out, NULL, &status, NULL));
    DT_CHECK_MSG(strcmp(out, "404") == 0, "GET /other: %s", out);
    g_free(out);
    g_free(cmd);
    g_free(port_s);
    dt_teardown(dt);
}

/* A bucket that fails the start-up probe gets no uploads at all. */
static void
test_refused_bucket(void)
{
    char *dir = s3test_tmpdir("seaftier-dmr");
    S3TestVariant v = { .v4 = TRUE, .path_style = TRUE, .https = TRUE,
                        .sse_c = s3test_server()->honours_sse_c };
    char *conf = s3test_write_seafile_conf(dir, "dmr", &v, NULL);
    /* Point [block_backend] at a bucket that does not exist. */
    GKeyFile *kf = g_key_file_new();
    DT_CHECK(g_key_file_load_from_file(kf, conf, G_KEY_FILE_KEEP_COMMENTS, NULL));
    char *missing = g_strdup_printf("seaftier-missing-%d-%08x", (int)getpid(), g_random_int());
    g_key_file_set_string(kf, "block_backend", "bucket", missing);
    DT_CHECK(g_key_file_save_to_file(kf, conf, NULL));
    g_key_file_free(kf);
    g_free(conf);
    DT *dt = dt_setup_conf(dir, TRUE);
    dt_start_daemon(dt, NULL);

    char repo[37], bid[41], cid[41];
    dt_random_repo(repo);
    dt_random_obj(bid);
    dt_random_obj(cid);
    dt_write(dt, SEAFTIER_TYPE_BLOCKS, repo, bid, "block", 5);
    dt_write(dt, SEAFTIER_TYPE_COMMITS, repo, cid, "commit", 6);
    gint64 deadline = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
    SeaftierTierEntry e;
    while (g_get_monotonic_time() < deadline) {
        DT_CHECK(seaftier_tier_lookup(dt->tier, SEAFTIER_TYPE_COMMITS, repo, cid, &e, NULL));
        if (e.state == SEAFTIER_STATE_CLEAN)
            break;
        g_usleep(50000);
    }
    DT_CHECK_MSG(e.state == SEAFTIER_STATE_CLEAN, "the commit was not uploaded");
    char *status = NULL;
    deadline = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
    do {
        g_free(status);
        g_usleep(100000);
        status = dt_request(dt, "status");
    } while (g_get_monotonic_time() < deadline &&
             !dt_json(status, "d[\"backends\"][\"blocks\"][\"state\"] == \"refused\""));
    DT_CHECK(dt_json(status, "d[\"backends\"][\"blocks\"][\"state\"] == \"refused\" and "
                             "\"does not exist\" in d[\"backends\"][\"blocks\"][\"message\"] and "
                             "d[\"backends\"][\"commits\"][\"state\"] == \"ok\""));
    g_free(status);
    g_usleep(1500000);   /* a few scheduler ticks */
    DT_CHECK(seaftier_tier_lookup(dt->tier, SEAFTIER_TYPE_BLOCKS, repo, bid, &e, NULL));
    DT_CHECK_MSG(e.state == SEAFTIER_STATE_DIRTY && e.attempts == 0,
                 "block state %s, %d attempts: the refused bucket was written to",
                 seaftier_state_name(e.state), e.attempts);
    DT_CHECK(dt_metric(dt, "seaftier_backend_up", NULL) == -1);
    char *labels = g_strdup_printf("type=\"blocks\",bucket=\"%s\",state=\"refused\"", missing);
    DT_CHECK(dt_metric(dt, "seaftier_backend_up", labels) == 0);
    g_free(labels);
    /* The log says loudly why nothing is uploaded, without secrets. */
    char *log = NULL;
    char *lp = g_build_filename(dt->dir, "seaftierd.log", NULL);
    DT_CHECK(g_file_get_contents(lp, &log, NULL, NULL));
    DT_CHECK(strstr(log, "NOT uploading blocks objects") != NULL);
    DT_CHECK(strstr(log, s3test_sse_c_key()) == NULL && strstr(log, dt->cfg->s3[0].key) == NULL);
    g_free(log);
    g_free(lp);

    /* The commits bucket disappears while the daemon runs: the first failed
     * upload pauses the bucket (no failure per object piling up) until its
     * probe passes again. */
    const S3TestServer *srv = s3test_server();
    char *cmd = g_strdup_printf("env AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s AWS_DEFAULT_REGION=us-east-1 "
                                "AWS_CONFIG_FILE=/dev/null aws s3 rb --force --endpoint-url %s --ca-bundle %s s3://%s",
                                srv->access_key, srv->secret_key, srv->https_endpoint, srv->ca_file,
                                dt->cfg->s3[SEAFTIER_TYPE_COMMITS].bucket);
    char *aws_out = NULL, *aws_err = NULL;
    int aws_status = 0;
    DT_CHECK(g_spawn_command_line_sync(cmd, &aws_out, &aws_err, &aws_status, NULL));
    DT_CHECK_MSG(g_spawn_check_wait_status(aws_status, NULL), "aws s3 rb: %s%s", aws_out, aws_err);
    g_free(cmd);
    g_free(aws_out);
    g_free(aws_err);
    char c2[41], c3[41];
    dt_random_obj(c2);
    dt_random_obj(c3);
    dt_write(dt, SEAFTIER_TYPE_COMMITS, repo, c2, "second", 6);
    deadline = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
    status = NULL;
    do {
        g_free(status);
        g_usleep(100000);
        status = dt_request(dt, "status");
    } while (g_get_monotonic_time() < deadline &&
             !dt_json(status, "d[\"backends\"][\"commits\"][\"state\"] == \"refused\""));
    DT_CHECK(dt_json(status, "d[\"backends\"][\"commits\"][\"state\"] == \"refused\" and "
                             "\"does not exist\" in d[\"backends\"][\"commits\"][\"message\"]"));
    g_free(status);
    dt_write(dt, SEAFTIER_TYPE_COMMITS, repo, c3, "third", 5);
    g_usleep(1500000);
    DT_CHECK(seaftier_tier_lookup(dt->tier, SEAFTIER_TYPE_COMMITS, repo, c2, &e, NULL));
    DT_CHECK_MSG(e.state == SEAFTIER_STATE_DIRTY && e.attempts == 1, "c2: %s, %d attempts",
                 seaftier_state_name(e.state), e.attempts);
    DT_CHECK(seaftier_tier_lookup(dt->tier, SEAFTIER_TYPE_COMMITS, repo, c3, &e, NULL));
    DT_CHECK_MSG(e.state == SEAFTIER_STATE_DIRTY && e.attempts == 0, "c3: %s, %d attempts",
                 seaftier_state_name(e.state), e.attempts);

    int st = dt_stop_daemon(dt, SIGTERM, 10);
    DT_CHECK_MSG(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "seaftierd exit status %d", st);
    g_free(missing);
    dt_teardown(dt);
}

/* TRUE while `pid` runs (a zombie counts as gone: the daemon is not our
 * child, and PID 1 in a container may be slow to reap it). */
static gboolean
process_alive(GPid pid)
{
    if (kill(pid, 0) != 0)
        return FALSE;
    char *path = g_strdup_printf("/proc/%d/stat", (int)pid);
    char *text = NULL;
    gboolean alive = TRUE;
    if (g_file_get_contents(path, &text, NULL, NULL)) {
        const char *p = strrchr(text, ')');
        alive = !(p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X'));
    }
    g_free(text);
    g_free(path);
    return alive;
}

/* Background mode: the parent returns once the daemon is ready, the pid
 * file names it, SIGHUP reopens the log, a second daemon on the same tier is
 * refused with a message, and SIGTERM removes the pid file. */
static void
test_background(void)
{
    DT *dt = dt_setup("dmb", FALSE, NULL);
    char *pidfile = g_build_filename(dt->dir, "seaftierd.pid", NULL);
    char *logfile = g_build_filename(dt->dir, "bg.log", NULL);
    char *daemon = g_build_filename(SEAFTIER_BUILDDIR, "daemon", "seaftierd", NULL);
    char *argv[] = { daemon, "-c", dt->dir, "--pid-file", pidfile, "--log-file", logfile, NULL };
    int status = 0;
    char *out = NULL, *err = NULL;
    DT_CHECK(g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status, NULL));
    DT_CHECK_MSG(g_spawn_check_wait_status(status, NULL), "background start failed: %s", err);
    g_free(out);
    g_free(err);
    char *text = NULL;
    DT_CHECK(g_file_get_contents(pidfile, &text, NULL, NULL));
    GPid pid = (GPid)atoi(text);
    g_free(text);
    DT_CHECK(pid > 1 && kill(pid, 0) == 0);
    char *pong = dt_request(dt, "ping");
    char *expect = g_strdup_printf("pong %d\n", (int)pid);
    DT_CHECK_MSG(pong && strcmp(pong, expect) == 0, "ping answered %s", pong ? pong : "nothing");
    g_free(pong);
    g_free(expect);

    /* A second daemon on the same tier: the parent reports why and exits 1. */
    char *log2 = g_build_filename(dt->dir, "second.log", NULL);
    char *argv2[] = { daemon, "-c", dt->dir, "--log-file", log2, NULL };
    DT_CHECK(g_spawn_sync(NULL, argv2, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status, NULL));
    DT_CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 1 &&
                 strstr(err, "another seaftierd already serves this tier"),
                 "second daemon: status %d, stderr %s", status, err);
    g_free(out);
    g_free(err);
    g_free(log2);

    /* SIGHUP after rotation: a new log file appears. */
    char *rotated = g_strconcat(logfile, ".1", NULL);
    DT_CHECK(rename(logfile, rotated) == 0);
    kill(pid, SIGHUP);
    gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
    while (!g_file_test(logfile, G_FILE_TEST_EXISTS) && g_get_monotonic_time() < deadline)
        g_usleep(20000);
    DT_CHECK_MSG(g_file_test(logfile, G_FILE_TEST_EXISTS), "SIGHUP did not reopen the log");
    g_free(rotated);

    /* A broken configuration fails in the foreground, exit 2. */
    char *bad = g_build_filename(dt->dir, "nowhere", NULL);
    char *argv3[] = { daemon, "-c", bad, NULL };
    DT_CHECK(g_spawn_sync(NULL, argv3, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status, NULL));
    DT_CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 2 && strstr(err, "seafile.conf"),
                 "bad config dir: status %d, stderr %s", status, err);
    g_free(out);
    g_free(err);
    g_free(bad);

    kill(pid, SIGTERM);
    deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    while (process_alive(pid) && g_get_monotonic_time() < deadline)
        g_usleep(20000);
    DT_CHECK_MSG(!process_alive(pid), "the background daemon did not exit on SIGTERM");
    DT_CHECK_MSG(!g_file_test(pidfile, G_FILE_TEST_EXISTS), "pid file left behind");
    g_free(daemon);
    g_free(pidfile);
    g_free(logfile);
    dt_teardown(dt);
}

int
main(void)
{
    g_printerr("== background mode, pid file, SIGHUP\n");
    test_background();
    g_printerr("== upload, nudge, delete\n");
    test_upload_delete();
    g_printerr("== deletes and re-writes racing with uploads\n");
    test_races();
    g_printerr("== eviction under a small tier\n");
    test_eviction();
    g_printerr("== HTTP metrics\n");
    test_http_metrics();
    g_printerr("== refused bucket\n");
    test_refused_bucket();
    g_printerr("all daemon tests passed\n");
    return 0;
}
