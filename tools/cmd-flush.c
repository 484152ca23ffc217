/* tools/cmd-flush.c — `seaftier-admin flush`: upload every dirty object now.
 *
 * When seaftierd runs, the flush runs inside it (its uploader, its in-flight
 * bookkeeping) and this command only shows the progress it streams; when no
 * daemon answers on the control socket, the same flush job
 * (lib/sync/flush-job.c) runs here. Either way the exit code says whether
 * everything got uploaded, and each failure is named. */
#include "seaftier-build.h"

#include "admin.h"
#include "progress.h"
#include "sync/probe.h"
#include "sync/sync.h"

#include <seaftier/log.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_FAILURES_SHOWN 20

typedef struct {
    AdminProgress bar;
    gboolean json;
    GString *failures_json;
    guint64 failures;
    gboolean first_failure;
} FlushUi;

static void
ui_failure(FlushUi *ui, const char *type, const char *repo_id, const char *obj_id, const char *msg)
{
    ui->failures++;
    if (ui->json) {
        g_string_append(ui->failures_json, ui->failures > 1 ? ",{" : "{");
        seaftier_json_key(ui->failures_json, "type", TRUE);
        seaftier_json_string(ui->failures_json, type);
        seaftier_json_key(ui->failures_json, "repo_id", FALSE);
        seaftier_json_string(ui->failures_json, repo_id);
        seaftier_json_key(ui->failures_json, "obj_id", FALSE);
        seaftier_json_string(ui->failures_json, obj_id);
        seaftier_json_key(ui->failures_json, "error", FALSE);
        seaftier_json_string(ui->failures_json, msg);
        g_string_append_c(ui->failures_json, '}');
        return;
    }
    if (ui->failures <= MAX_FAILURES_SHOWN) {
        char *line = g_strdup_printf("FAILED %s %s/%s: %s", type, repo_id, obj_id, msg);
        admin_progress_message(&ui->bar, line);
        g_free(line);
    } else if (ui->failures == MAX_FAILURES_SHOWN + 1) {
        admin_progress_message(&ui->bar, "(more failures not shown; `seaftier-admin ls --state dirty` "
                                         "lists them with their last error)");
    }
}

/* ---- through the daemon ---- */

static int
flush_via_daemon(int fd, int type, const char *repo_id, int timeout_s, FlushUi *ui,
                 SeaftierFlushProgress *res, gboolean *timed_out)
{
    char *req = g_strdup_printf("flush %s %s\n", type >= 0 ? seaftier_type_name(type) : "-",
                                repo_id ? repo_id : "");
    gsize len = strlen(req);
    gboolean sent = send(fd, req, len, MSG_NOSIGNAL) == (ssize_t)len;
    g_free(req);
    if (!sent)
        return -1;
    gint64 deadline = timeout_s > 0 ? g_get_monotonic_time() + (gint64)timeout_s * G_USEC_PER_SEC : 0;
    GString *buf = g_string_new(NULL);
    int result = -1;
    char *line;
    while ((line = admin_read_line(fd, buf, deadline, timed_out))) {
        if (g_str_has_prefix(line, "progress ")) {
            guint64 v[6] = { 0 };
            if (sscanf(line + 9, "%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
                       " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT,
                       &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) == 6) {
                res->done_objects = v[0];
                res->total_objects = v[1];
                res->done_bytes = v[2];
                res->total_bytes = v[3];
                res->failed_objects = v[4];
                admin_progress_update(&ui->bar, v[0], v[1], v[2], v[3], v[4], (gint64)v[5], FALSE);
            }
        } else if (g_str_has_prefix(line, "failed ")) {
            char **f = g_strsplit(line + 7, " ", 4);
            if (f[0] && f[1] && f[2])
                ui_failure(ui, f[0], f[1], f[2], f[3] ? f[3] : "");
            g_strfreev(f);
        } else if (g_str_has_prefix(line, "done ")) {
            guint64 done = 0, total = 0, failed = 0;
            if (sscanf(line + 5, "%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT,
                       &done, &total, &failed) == 3) {
                res->done_objects = done;
                res->total_objects = total;
                res->failed_objects = failed;
                result = 0;
            }
            g_free(line);
            break;
        } else if (g_str_has_prefix(line, "error ")) {
            admin_error("flush", "seaftierd: %s", line + 6);
            result = -2;
            g_free(line);
            break;
        }
        g_free(line);
    }
    g_string_free(buf, TRUE);
    return result;
}

/* ---- by ourselves ---- */

typedef struct {
    FlushUi *ui;
} LocalCtx;

static void
local_progress(const SeaftierFlushProgress *p, void *user_data)
{
    LocalCtx *lc = user_data;
    admin_progress_update(&lc->ui->bar, p->done_objects, p->total_objects, p->done_bytes,
                          p->total_bytes, p->failed_objects,
                          (g_get_monotonic_time() - p->started_us) / 1000, FALSE);
}

static void
local_failed(SeaftierObjType type, const char *repo_id, const char *obj_id, const char *message,
             void *user_data)
{
    LocalCtx *lc = user_data;
    ui_failure(lc->ui, seaftier_type_name(type), repo_id, obj_id, message);
}

typedef struct {
    GMutex lock;
    GCond cond;
    gboolean finished;
    gint64 deadline;
    gint cancel;
} Watchdog;

static gpointer
watchdog_main(gpointer data)
{
    Watchdog *w = data;
    g_mutex_lock(&w->lock);
    while (!w->finished) {
        if (!g_cond_wait_until(&w->cond, &w->lock, w->deadline)) {
            g_atomic_int_set(&w->cancel, 1);
            break;
        }
    }
    g_mutex_unlock(&w->lock);
    return NULL;
}

/* The write probe seaftierd runs before any upload (lib/sync/probe.c): a
 * bucket that refuses it, e.g. one that would store plaintext although
 * sse_c_key is set, gets no object. A transient failure is left to the
 * uploads themselves. */
static void
probe_buckets(SeaftierSite *env, int type, char *refused[SEAFTIER_N_TYPES])
{
    for (int t = 0; t < SEAFTIER_N_TYPES; t++) {
        if (type >= 0 && type != t)
            continue;
        char *msg = NULL;
        const char *advice = NULL;
        if (seaftier_probe_remote(env->remote[t], &msg, &advice) == SEAFTIER_PROBE_REFUSED)
            refused[t] = g_strdup_printf("not uploaded: %s; what to do: %s", msg,
                                         advice ? advice : "see the error");
        g_free(msg);
    }
}

static int
flush_local(SeaftierSite *env, int type, const char *repo_id, int timeout_s, FlushUi *ui,
            SeaftierFlushProgress *res, gboolean *timed_out)
{
    SeaftierSync *sync = seaftier_site_sync(env);
    LocalCtx lc = { .ui = ui };
    Watchdog w = { .deadline = g_get_monotonic_time() + (gint64)timeout_s * G_USEC_PER_SEC };
    g_mutex_init(&w.lock);
    g_cond_init(&w.cond);
    GThread *wt = timeout_s > 0 ? g_thread_new("flush-timeout", watchdog_main, &w) : NULL;
    SeaftierFlushOptions opts = {
        .type = type, .repo_id = repo_id, .cancel = &w.cancel,
        .progress = local_progress, .failed = local_failed, .user_data = &lc,
    };
    char *refused[SEAFTIER_N_TYPES] = { NULL };
    probe_buckets(env, type, refused);
    for (int t = 0; t < SEAFTIER_N_TYPES; t++)
        opts.refused[t] = refused[t];
    GError *err = NULL;
    gboolean ok = seaftier_sync_flush(sync, &opts, res, &err);
    for (int t = 0; t < SEAFTIER_N_TYPES; t++)
        g_free(refused[t]);
    if (wt) {
        g_mutex_lock(&w.lock);
        w.finished = TRUE;
        g_cond_signal(&w.cond);
        g_mutex_unlock(&w.lock);
        g_thread_join(wt);
    }
    *timed_out = g_atomic_int_get(&w.cancel) != 0;
    g_cond_clear(&w.cond);
    g_mutex_clear(&w.lock);
    if (!ok) {
        admin_error("flush", "%s", err->message);
        g_error_free(err);
        return -2;
    }
    return 0;
}

int
admin_cmd_flush(int argc, char **argv)
{
    AdminCommon common = { 0 };
    char *type_name = NULL, *repo_id = NULL;
    int timeout_s = 0;
    gboolean no_daemon = FALSE;
    const GOptionEntry entries[] = {
        { "type", 't', 0, G_OPTION_ARG_STRING, &type_name, "Only this type (commits, fs, blocks)", "T" },
        { "repo", 'r', 0, G_OPTION_ARG_STRING, &repo_id, "Only this library (repo id)", "R" },
        { "timeout", 0, 0, G_OPTION_ARG_INT, &timeout_s, "Give up after S seconds (exit 1)", "S" },
        { "no-daemon", 0, 0, G_OPTION_ARG_NONE, &no_daemon,
          "Upload from this process even if seaftierd runs", NULL },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    int rc = ADMIN_EXIT_USAGE;
    SeaftierSite *env = NULL;
    FlushUi ui = { .failures_json = g_string_new(NULL) };
    if (!admin_parse(&argc, &argv, "flush", NULL,
                     "Uploads every dirty object now: through seaftierd when it runs, else from\n"
                     "this process. Exits 1 and names each object that could not be uploaded.",
                     entries, TRUE, &common))
        goto out;
    int type = -1;
    if (!admin_type_filter("flush", type_name, &type))
        goto out;
    if (!admin_repo_filter("flush", repo_id))
        goto out;
    if (argc > 1 || timeout_s < 0) {
        admin_error("flush", argc > 1 ? "unexpected argument \"%s\"" : "--timeout must be >= 0%s",
                    argc > 1 ? argv[1] : "");
        goto out;
    }
    env = admin_open(&common, FALSE, FALSE, &rc);
    if (!env)
        goto out;
    ui.json = common.json;
    admin_progress_init(&ui.bar, "flush", common.json);

    SeaftierFlushProgress res = { 0 };
    gboolean timed_out = FALSE, via_daemon = FALSE;
    int r = -1;
    int fd = no_daemon ? -1 : admin_daemon_connect(env->socket_path);
    if (fd >= 0) {
        via_daemon = TRUE;
        r = flush_via_daemon(fd, type, repo_id, timeout_s, &ui, &res, &timed_out);
        close(fd);
        if (r == -1 && !timed_out) {
            admin_error("flush", "seaftierd closed the connection before the flush ended");
            r = -2;
        }
    } else {
        if (!g_file_test(env->tier_dir, G_FILE_TEST_IS_DIR)) {
            admin_error("flush", "the tier directory %s does not exist", env->tier_dir);
            rc = ADMIN_EXIT_PROBLEMS;
            goto out;
        }
        GError *err = NULL;
        if (!seaftier_site_open_tier(env, FALSE, &err) || !seaftier_site_open_remotes(env, &err)) {
            admin_error("flush", "%s", err->message);
            g_error_free(err);
            rc = ADMIN_EXIT_PROBLEMS;
            goto out;
        }
        r = flush_local(env, type, repo_id, timeout_s, &ui, &res, &timed_out);
    }
    gint64 elapsed_ms = res.started_us ? (g_get_monotonic_time() - res.started_us) / 1000 : 0;
    if (r == 0 || timed_out)
        admin_progress_update(&ui.bar, res.done_objects, res.total_objects, res.done_bytes,
                              res.total_bytes, res.failed_objects, elapsed_ms, TRUE);
    guint64 not_done = res.total_objects - MIN(res.total_objects, res.done_objects);
    gboolean success = r == 0 && !timed_out && not_done == 0 && res.failed_objects == 0;
    if (common.json) {
        GString *out = g_string_new("{");
        seaftier_json_key(out, "via_daemon", TRUE);
        g_string_append(out, via_daemon ? "true" : "false");
        seaftier_json_key(out, "total", FALSE);
        g_string_append_printf(out, "%" G_GUINT64_FORMAT, res.total_objects);
        seaftier_json_key(out, "uploaded", FALSE);
        g_string_append_printf(out, "%" G_GUINT64_FORMAT, res.done_objects);
        seaftier_json_key(out, "failed", FALSE);
        g_string_append_printf(out, "%" G_GUINT64_FORMAT, res.failed_objects);
        seaftier_json_key(out, "timed_out", FALSE);
        g_string_append(out, timed_out ? "true" : "false");
        seaftier_json_key(out, "ok", FALSE);
        g_string_append(out, success ? "true" : "false");
        seaftier_json_key(out, "failures", FALSE);
        g_string_append_printf(out, "[%s]}", ui.failures_json->str);
        printf("%s\n", out->str);
        g_string_free(out, TRUE);
    } else if (success) {
        printf("flush: %" G_GUINT64_FORMAT " objects uploaded or already clean%s\n",
               res.done_objects, via_daemon ? " (by seaftierd)" : "");
    } else if (timed_out) {
        printf("flush: timed out after %d s: %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
               " objects uploaded, %" G_GUINT64_FORMAT " failed\n", timeout_s, res.done_objects,
               res.total_objects, res.failed_objects);
    } else if (r == 0) {
        printf("flush: %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " objects could not be uploaded "
               "(they stay dirty and are retried)\n", not_done, res.total_objects);
    }
    rc = success ? ADMIN_EXIT_OK : ADMIN_EXIT_PROBLEMS;
out:
    g_string_free(ui.failures_json, TRUE);
    seaftier_site_free(env);
    admin_common_clear(&common);
    g_free(type_name);
    g_free(repo_id);
    return rc;
}
