/* tests/integration/daemon-testutil.c — see daemon-testutil.h. */
#include "seaftier-build.h"

#include "daemon-testutil.h"
#include "../common/s3test.h"
#include "backend/common.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

/* A failed check exits the test at once: take the daemon down with it. */
static GPid running_daemon;

static void
kill_running_daemon(void)
{
    if (running_daemon > 0) {
        kill(running_daemon, SIGKILL);
        waitpid(running_daemon, NULL, 0);
        running_daemon = 0;
    }
}

DT *
dt_setup(const char *prefix, gboolean sse_c, const char *extra_tier)
{
    char *tmpl = g_strdup_printf("seaftier-%s", prefix);
    char *dir = s3test_tmpdir(tmpl);
    g_free(tmpl);
    S3TestVariant v = { .v4 = TRUE, .path_style = TRUE, .https = TRUE, .sse_c = sse_c };
    char *conf = s3test_write_seafile_conf(dir, prefix, &v, extra_tier);
    g_free(conf);
    return dt_setup_conf(dir, TRUE);
}

DT *
dt_setup_conf(char *dir, gboolean backends)
{
    DT *dt = g_new0(DT, 1);
    dt->dir = dir;
    dt->conf_path = g_build_filename(dir, "seafile.conf", NULL);
    GError *err = NULL;
    dt->kf = g_key_file_new();
    DT_CHECK_MSG(g_key_file_load_from_file(dt->kf, dt->conf_path, G_KEY_FILE_NONE, &err), "%s",
                 err ? err->message : "");
    dt->cfg = seaftier_config_load_file(dt->conf_path, &err);
    DT_CHECK_MSG(dt->cfg, "%s", err ? err->message : "");
    for (int t = 0; t < SEAFTIER_N_TYPES; t++) {
        dt->s3[t] = seaftier_s3_new(&dt->cfg->s3[t], &err);
        DT_CHECK_MSG(dt->s3[t], "%s", err ? err->message : "");
        SeaftierS3Config plain = dt->cfg->s3[t];
        plain.sse_c_key = NULL;
        dt->plain[t] = seaftier_s3_new(&plain, &err);
        DT_CHECK_MSG(dt->plain[t], "%s", err ? err->message : "");
    }
    dt->socket_path = dt->cfg->tier.socket_path ? g_strdup(dt->cfg->tier.socket_path)
                                                : g_build_filename(dt->cfg->tier.dir, "seaftierd.sock", NULL);
    if (backends)
        dt_open_backends(dt);
    return dt;
}

void
dt_open_backends(DT *dt)
{
    GError *err = NULL;
    dt->obj[0] = obj_backend_tier_new(NULL, "commits", dt->kf, &err);
    DT_CHECK_MSG(dt->obj[0], "%s", err ? err->message : "");
    dt->obj[1] = obj_backend_tier_new(NULL, "fs", dt->kf, &err);
    DT_CHECK_MSG(dt->obj[1], "%s", err ? err->message : "");
    dt->block = block_backend_tier_new(NULL, dt->kf, &err);
    DT_CHECK_MSG(dt->block, "%s", err ? err->message : "");
    dt->tier = seaftier_obj_backend_shared(dt->obj[0])->site->tier;
}

void
dt_teardown(DT *dt)
{
    if (dt->daemon)
        dt_stop_daemon(dt, SIGTERM, 10);
    if (dt->block)
        block_backend_tier_free(dt->block);
    for (int i = 0; i < 2; i++)
        if (dt->obj[i])
            obj_backend_tier_free(dt->obj[i]);
    for (int t = 0; t < SEAFTIER_N_TYPES; t++) {
        seaftier_s3_free(dt->s3[t]);
        seaftier_s3_free(dt->plain[t]);
    }
    seaftier_config_free(dt->cfg);
    g_key_file_free(dt->kf);
    if (!g_getenv("SEAFTIER_TEST_KEEP"))
        s3test_rm_rf(dt->dir);
    g_free(dt->dir);
    g_free(dt->conf_path);
    g_free(dt->socket_path);
    g_free(dt);
}

char *
dt_request(DT *dt, const char *request)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    g_strlcpy(addr.sun_path, dt->socket_path, sizeof addr.sun_path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return NULL;
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        close(fd);
        return NULL;
    }
    char *line = g_strconcat(request, "\n", NULL);
    ssize_t sent = send(fd, line, strlen(line), MSG_NOSIGNAL);
    g_free(line);
    if (sent < 0) {
        close(fd);
        return NULL;
    }
    GString *out = g_string_new(NULL);
    char buf[4096];
    ssize_t n;
    while ((n = recv(fd, buf, sizeof buf, 0)) > 0 || (n < 0 && errno == EINTR))
        if (n > 0)
            g_string_append_len(out, buf, n);
    close(fd);
    return g_string_free(out, FALSE);
}

double
dt_metric(DT *dt, const char *name, const char *labels)
{
    char *text = dt_request(dt, "metrics");
    double v = -1;
    if (text) {
        char *prefix = labels ? g_strdup_printf("%s{%s} ", name, labels) : g_strdup_printf("%s ", name);
        for (char *l = text; l && *l; ) {
            char *nl = strchr(l, '\n');
            if (g_str_has_prefix(l, prefix)) {
                v = g_ascii_strtod(l + strlen(prefix), NULL);
                break;
            }
            l = nl ? nl + 1 : NULL;
        }
        g_free(prefix);
    }
    g_free(text);
    return v;
}

void
dt_start_daemon(DT *dt, ...)
{
    DT_CHECK(!dt->daemon);
    GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(argv, g_build_filename(SEAFTIER_BUILDDIR, "daemon", "seaftierd", NULL));
    g_ptr_array_add(argv, g_strdup("-f"));
    g_ptr_array_add(argv, g_strdup("-c"));
    g_ptr_array_add(argv, g_strdup(dt->dir));
    g_ptr_array_add(argv, g_strdup("--log-file"));
    g_ptr_array_add(argv, g_build_filename(dt->dir, "seaftierd.log", NULL));
    g_ptr_array_add(argv, g_strdup("--log-level"));
    g_ptr_array_add(argv, g_strdup("debug"));
    va_list ap;
    va_start(ap, dt);
    const char *a;
    while ((a = va_arg(ap, const char *)))
        g_ptr_array_add(argv, g_strdup(a));
    va_end(ap);
    g_ptr_array_add(argv, NULL);
    GError *err = NULL;
    DT_CHECK_MSG(g_spawn_async(NULL, (char **)argv->pdata, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL,
                               NULL, &dt->daemon, &err), "%s", err ? err->message : "");
    g_ptr_array_free(argv, TRUE);
    static gboolean registered;
    if (!registered) {
        atexit(kill_running_daemon);
        registered = TRUE;
    }
    running_daemon = dt->daemon;
    for (int i = 0; i < 200; i++) {
        char *pong = dt_request(dt, "ping");
        gboolean up = pong && g_str_has_prefix(pong, "pong ");
        g_free(pong);
        if (up)
            return;
        int status;
        if (waitpid(dt->daemon, &status, WNOHANG) == dt->daemon) {
            dt->daemon = 0;
            running_daemon = 0;
            char *log = NULL;
            char *lp = g_build_filename(dt->dir, "seaftierd.log", NULL);
            g_file_get_contents(lp, &log, NULL, NULL);
            g_free(lp);
            DT_CHECK_MSG(FALSE, "seaftierd exited at start (status %d); log:\n%s", status, log);
        }
        g_usleep(50000);
    }
    DT_CHECK_MSG(FALSE, "seaftierd did not answer on %s within 10 s", dt->socket_path);
}

int
dt_stop_daemon(DT *dt, int sig, int timeout_s)
{
    if (!dt->daemon)
        return -1;
    kill(dt->daemon, sig);
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_s * G_USEC_PER_SEC;
    int status = -1;
    for (;;) {
        pid_t r = waitpid(dt->daemon, &status, WNOHANG);
        if (r == dt->daemon)
            break;
        if (g_get_monotonic_time() > deadline) {
            kill(dt->daemon, SIGKILL);
            waitpid(dt->daemon, NULL, 0);
            status = -1;
            break;
        }
        g_usleep(20000);
    }
    g_spawn_close_pid(dt->daemon);
    dt->daemon = 0;
    running_daemon = 0;
    return status;
}

void
dt_random_repo(char out[37])
{
    char *u = g_uuid_string_random();
    g_strlcpy(out, u, 37);
    g_free(u);
}

void
dt_random_obj(char out[41])
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 40; i++)
        out[i] = hex[g_random_int_range(0, 16)];
    out[40] = 0;
}

guint8 *
dt_random_bytes(gsize len)
{
    guint8 *b = g_malloc(len ? len : 1);
    for (gsize i = 0; i < len; i++)
        b[i] = (guint8)g_random_int_range(0, 256);
    return b;
}

void
dt_write(DT *dt, SeaftierObjType type, const char *repo_id, const char *obj_id, const void *data,
         gsize len)
{
    if (type == SEAFTIER_TYPE_BLOCKS) {
        BHandle *h = dt->block->open_block(dt->block, repo_id, 1, obj_id, BLOCK_WRITE);
        DT_CHECK(h);
        DT_CHECK(dt->block->write_block(dt->block, h, data, (int)len) == (int)len);
        DT_CHECK(dt->block->commit_block(dt->block, h) == 0);
        DT_CHECK(dt->block->close_block(dt->block, h) == 0);
        dt->block->block_handle_free(dt->block, h);
        return;
    }
    ObjBackend *b = dt->obj[type];
    DT_CHECK(b->write(b, repo_id, 1, obj_id, (void *)data, (int)len, TRUE) == 0);
}

void
dt_delete(DT *dt, SeaftierObjType type, const char *repo_id, const char *obj_id)
{
    if (type == SEAFTIER_TYPE_BLOCKS) {
        DT_CHECK(dt->block->remove_block(dt->block, repo_id, 1, obj_id) == 0);
        return;
    }
    dt->obj[type]->delete(dt->obj[type], repo_id, 1, obj_id);
}

guint64
dt_count(DT *dt, SeaftierState state)
{
    SeaftierTierStats st;
    GError *err = NULL;
    DT_CHECK_MSG(seaftier_tier_stats(dt->tier, &st, &err), "%s", err ? err->message : "");
    guint64 n = 0;
    for (int t = 0; t < SEAFTIER_N_TYPES; t++)
        n += st.objects[t][state];
    return n;
}

gboolean
dt_wait_settled(DT *dt, gboolean deletes_too, int timeout_s)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_s * G_USEC_PER_SEC;
    while (g_get_monotonic_time() < deadline) {
        if (dt_count(dt, SEAFTIER_STATE_DIRTY) == 0 &&
            (!deletes_too || dt_count(dt, SEAFTIER_STATE_DELETED) == 0))
            return TRUE;
        g_usleep(20000);
    }
    return FALSE;
}

int
dt_admin(DT *dt, char **out, char **err_out, ...)
{
    GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(argv, g_build_filename(SEAFTIER_BUILDDIR, "tools", "seaftier-admin", NULL));
    va_list ap;
    va_start(ap, err_out);
    const char *a = va_arg(ap, const char *);
    DT_CHECK(a);
    g_ptr_array_add(argv, g_strdup(a));             /* the subcommand */
    g_ptr_array_add(argv, g_strdup("-c"));
    g_ptr_array_add(argv, g_strdup(dt->dir));
    while ((a = va_arg(ap, const char *)))
        g_ptr_array_add(argv, g_strdup(a));
    va_end(ap);
    g_ptr_array_add(argv, NULL);
    char *o = NULL, *e = NULL;
    int status = 0;
    GError *err = NULL;
    DT_CHECK_MSG(g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, &o, &e,
                              &status, &err), "%s", err ? err->message : "");
    GString *cmd = g_string_new(NULL);
    for (guint i = 1; i + 1 < argv->len; i++)
        g_string_append_printf(cmd, " %s", (char *)g_ptr_array_index(argv, i));
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    g_printerr("$ seaftier-admin%s  -> exit %d\n%s%s", cmd->str, code, o, e);
    g_string_free(cmd, TRUE);
    g_ptr_array_free(argv, TRUE);
    if (out)
        *out = o;
    else
        g_free(o);
    if (err_out)
        *err_out = e;
    else
        g_free(e);
    return code;
}

gboolean
dt_json(const char *text, const char *expr)
{
    char *code = g_strdup_printf("import json,sys\nd=json.loads(sys.stdin.read())\n"
                                 "sys.exit(0 if (%s) else 1)\n", expr);
    char *tmp = NULL;
    GError *err = NULL;
    int fd = g_file_open_tmp("seaftier-json-XXXXXX", &tmp, &err);
    DT_CHECK_MSG(fd >= 0, "%s", err ? err->message : "");
    DT_CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    char *cmd = g_strdup_printf("python3 -c '%s' < '%s'", code, tmp);
    int status = system(cmd);
    unlink(tmp);
    g_free(tmp);
    g_free(cmd);
    gboolean ok = status == 0;
    if (!ok)
        g_printerr("JSON check failed: %s\non: %s\n", expr, text);
    g_free(code);
    return ok;
}
