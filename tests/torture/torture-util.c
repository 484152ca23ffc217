/* tests/torture/torture-util.c — see torture-util.h. */
#include "seaftier-build.h"

#include "torture-util.h"
#include "../common/s3test.h"
#include "tier/tier-private.h"     /* the index's id functions */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static void (*fail_func)(void *);
static void *fail_data;

void
tt_at_fail(void (*func)(void *), void *data)
{
    fail_func = func;
    fail_data = data;
}

void
tt_fail_cleanup(void)
{
    void (*f)(void *) = fail_func;
    fail_func = NULL;
    if (f)
        f(fail_data);
}

double
tt_scale(void)
{
    const char *s = g_getenv("SEAFTIER_TORTURE_SCALE");
    if (s && *s) {
        double v = g_ascii_strtod(s, NULL);
        if (v > 0.0)
            return v;
    }
#if defined(__SANITIZE_ADDRESS__)
    return 0.5;
#else
    return 1.0;
#endif
}

int
tt_scaled(int n, int min)
{
    int v = (int)(n * tt_scale() + 0.5);
    return v < min ? min : v;
}

char *
tt_write_conf(const char *dir, const TTConfOpts *opts, char *buckets[3])
{
    static const char *const sections[] = { "commit_object_backend", "fs_object_backend",
                                            "block_backend" };
    static const char *const suffixes[] = { "c", "f", "b" };
    const S3TestServer *srv = s3test_server();
    GString *conf = g_string_new("# written by tests/torture/torture-util.c\n");
    for (int i = 0; i < 3; i++) {
        char *prefix = g_strdup_printf("%s%s", opts->bucket_prefix ? opts->bucket_prefix : "tt",
                                       suffixes[i]);
        char *bucket = s3test_new_bucket(prefix);
        g_string_append_printf(conf,
                               "[%s]\nname = s3\nbucket = %s\nkey_id = %s\nkey = %s\n"
                               "use_v4_signature = true\nuse_https = %s\naws_region = us-east-1\n"
                               "host = 127.0.0.1:%d\npath_style_request = true\n%s%s",
                               sections[i], bucket, srv->access_key, srv->secret_key,
                               opts->https ? "true" : "false",
                               opts->port ? opts->port : opts->https ? srv->https_port : srv->http_port,
                               opts->sse_c ? "sse_c_key = " : "",
                               opts->sse_c ? s3test_sse_c_key() : "");
        if (opts->sse_c)
            g_string_append_c(conf, '\n');
        if (opts->https)
            g_string_append_printf(conf, "ca_file = %s\n", srv->ca_file);
        if (opts->extra_s3)
            g_string_append(conf, opts->extra_s3);
        g_string_append_c(conf, '\n');
        if (buckets)
            buckets[i] = bucket;
        else
            g_free(bucket);
        g_free(prefix);
    }
    char *tier = opts->tier_dir ? g_strdup(opts->tier_dir) : g_build_filename(dir, "tier", NULL);
    g_string_append_printf(conf, "[tier]\ndir = %s\n%s", tier,
                           opts->extra_tier ? opts->extra_tier : "");
    g_free(tier);
    char *path = g_build_filename(dir, "seafile.conf", NULL);
    GError *err = NULL;
    TT_CHECK_MSG(g_file_set_contents(path, conf->str, (gssize)conf->len, &err), "%s",
                 err->message);
    g_string_free(conf, TRUE);
    return path;
}

GKeyFile *
tt_load_kf(const char *conf_path)
{
    GKeyFile *kf = g_key_file_new();
    GError *err = NULL;
    TT_CHECK_MSG(g_key_file_load_from_file(kf, conf_path, G_KEY_FILE_NONE, &err), "%s",
                 err->message);
    return kf;
}

SeaftierConfig *
tt_load_cfg(const char *conf_path)
{
    GError *err = NULL;
    SeaftierConfig *cfg = seaftier_config_load_file(conf_path, &err);
    TT_CHECK_MSG(cfg != NULL, "%s", err->message);
    return cfg;
}

SeaftierS3 *
tt_s3_direct(const SeaftierConfig *cfg, SeaftierObjType type)
{
    SeaftierS3Config c = cfg->s3[type];
    c.port = c.use_https ? s3test_server()->https_port : s3test_server()->http_port;
    c.host = "127.0.0.1";
    GError *err = NULL;
    SeaftierS3 *s3 = seaftier_s3_new(&c, &err);
    TT_CHECK_MSG(s3 != NULL, "%s", err->message);
    return s3;
}

void
tt_sha1_hex(const void *data, gsize len, char out[41])
{
    char *hex = g_compute_checksum_for_data(G_CHECKSUM_SHA1, data, len);
    memcpy(out, hex, 41);
    g_free(hex);
}

guint8 *
tt_make_object(GRand *r, gsize len, gboolean compressible, char id[41])
{
    guint8 *data = g_malloc(len ? len : 1);
    static const char *const words[] = { "seafile ", "commit ", "tier ", "block ", "{\"k\":1} ",
                                         "00000000 " };
    gsize i = 0;
    /* a random prefix makes every object distinct even when compressible */
    for (; i < len && i < 16; i++)
        data[i] = (guint8)g_rand_int(r);
    if (compressible) {
        while (i < len) {
            const char *w = words[g_rand_int_range(r, 0, G_N_ELEMENTS(words))];
            for (; *w && i < len; w++)
                data[i++] = (guint8)*w;
        }
    } else {
        for (; i < len; i++)
            data[i] = (guint8)g_rand_int(r);
    }
    tt_sha1_hex(data, len, id);
    return data;
}

void
tt_random_repo(GRand *r, char out[37])
{
    guint32 w[4];
    for (int i = 0; i < 4; i++)
        w[i] = g_rand_int(r);
    g_snprintf(out, 37, "%08x-%04x-4%03x-8%03x-%04x%08x", w[0], w[1] >> 16, w[1] & 0xfff,
               w[2] >> 20, w[2] & 0xffff, w[3]);
}

gboolean
tt_bytes_match(const char *obj_id, const void *data, gsize len)
{
    char got[41];
    tt_sha1_hex(data, len, got);
    return strcmp(got, obj_id) == 0;
}

TTBackends *
tt_backends_open(const char *conf_path)
{
    GKeyFile *kf = tt_load_kf(conf_path);
    TTBackends *be = g_new0(TTBackends, 1);
    GError *err = NULL;
    be->obj[0] = obj_backend_tier_new(NULL, "commits", kf, &err);
    TT_CHECK_MSG(be->obj[0] != NULL, "%s", err->message);
    be->obj[1] = obj_backend_tier_new(NULL, "fs", kf, &err);
    TT_CHECK_MSG(be->obj[1] != NULL, "%s", err->message);
    be->block = block_backend_tier_new(NULL, kf, &err);
    TT_CHECK_MSG(be->block != NULL, "%s", err->message);
    g_key_file_free(kf);
    return be;
}

void
tt_backends_close(TTBackends *be)
{
    if (!be)
        return;
    obj_backend_tier_free(be->obj[0]);
    obj_backend_tier_free(be->obj[1]);
    block_backend_tier_free(be->block);
    g_free(be);
}

gboolean
tt_be_write(TTBackends *be, SeaftierObjType type, const char *repo, const char *id,
            const void *data, gsize len, gboolean need_sync)
{
    if (type != SEAFTIER_TYPE_BLOCKS) {
        ObjBackend *o = be->obj[type];
        return o->write(o, repo, 1, id, (void *)data, (int)len, need_sync) == 0;
    }
    BlockBackend *b = be->block;
    BHandle *h = b->open_block(b, repo, 1, id, BLOCK_WRITE);
    if (!h)
        return FALSE;
    gboolean ok = TRUE;
    const guint8 *p = data;
    gsize left = len;
    while (ok && left > 0) {
        int chunk = (int)MIN(left, (gsize)65536);
        ok = b->write_block(b, h, p, chunk) == chunk;
        p += chunk;
        left -= (gsize)chunk;
    }
    ok = ok && b->commit_block(b, h) == 0;
    if (b->close_block(b, h) != 0)
        ok = FALSE;
    b->block_handle_free(b, h);
    return ok;
}

gboolean
tt_be_read(TTBackends *be, SeaftierObjType type, const char *repo, const char *id,
           guint8 **data, gsize *len)
{
    *data = NULL;
    *len = 0;
    if (type != SEAFTIER_TYPE_BLOCKS) {
        ObjBackend *o = be->obj[type];
        void *d = NULL;
        int l = 0;
        if (o->read(o, repo, 1, id, &d, &l) != 0)
            return FALSE;
        *data = d;
        *len = (gsize)l;
        return TRUE;
    }
    BlockBackend *b = be->block;
    BHandle *h = b->open_block(b, repo, 1, id, BLOCK_READ);
    if (!h)
        return FALSE;
    GByteArray *buf = g_byte_array_new();
    guint8 tmp[65536];
    int n;
    while ((n = b->read_block(b, h, tmp, sizeof tmp)) > 0)
        g_byte_array_append(buf, tmp, (guint)n);
    b->close_block(b, h);
    b->block_handle_free(b, h);
    if (n < 0) {
        g_byte_array_free(buf, TRUE);
        return FALSE;
    }
    *len = buf->len;
    *data = g_byte_array_free(buf, FALSE);
    return TRUE;
}

/* The environment of the programs the tests run (seaftierd, seaftier-admin):
 * under ASan without leak detection. Their leaks are for their own tests
 * (tests/integration/test_admin, test_daemon) to catch; here a leak report
 * at exit would turn into an exit status that says nothing about what
 * these tests check. */
static char **
child_env(void)
{
    char **env = g_get_environ();
    const char *asan = g_environ_getenv(env, "ASAN_OPTIONS");
    char *opts = g_strdup_printf("%s%sdetect_leaks=0", asan ? asan : "", asan && *asan ? ":" : "");
    env = g_environ_setenv(env, "ASAN_OPTIONS", opts, TRUE);
    g_free(opts);
    return env;
}

static void
child_setup_log(gpointer data)
{
    const char *log_path = data;
    if (!log_path)
        return;
    int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd >= 0) {
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        close(fd);
    }
}

GPid
tt_spawn(char **argv, const char *log_path)
{
    GPid pid = 0;
    GError *err = NULL;
    char **env = child_env();
    TT_CHECK_MSG(g_spawn_async(NULL, argv, env, G_SPAWN_DO_NOT_REAP_CHILD, child_setup_log,
                               (gpointer)log_path, &pid, &err),
                 "spawning %s: %s", argv[0], err->message);
    g_strfreev(env);
    return pid;
}

const char *
tt_seaftierd(void)
{
    return SEAFTIER_BUILDDIR "/daemon/seaftierd";
}

const char *
tt_admin(void)
{
    return SEAFTIER_BUILDDIR "/tools/seaftier-admin";
}

GPid
tt_spawn_daemon(const char *conf_dir, const char *log_path, ...)
{
    GPtrArray *argv = g_ptr_array_new();
    g_ptr_array_add(argv, (char *)tt_seaftierd());
    g_ptr_array_add(argv, "-f");
    g_ptr_array_add(argv, "-c");
    g_ptr_array_add(argv, (char *)conf_dir);
    if (log_path) {
        g_ptr_array_add(argv, "--log-file");
        g_ptr_array_add(argv, (char *)log_path);
    }
    va_list ap;
    va_start(ap, log_path);
    const char *a;
    while ((a = va_arg(ap, const char *)))
        g_ptr_array_add(argv, (char *)a);
    va_end(ap);
    g_ptr_array_add(argv, NULL);
    GPid pid = tt_spawn((char **)argv->pdata, log_path);
    g_ptr_array_free(argv, TRUE);
    return pid;
}

int
tt_kill_wait(GPid pid, int sig, int timeout_s)
{
    if (pid <= 0)
        return -1;
    if (sig)
        kill(pid, sig);
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_s * G_USEC_PER_SEC;
    for (;;) {
        int status = 0;
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return status;
        if (r < 0 && errno != EINTR)
            return -1;
        if (g_get_monotonic_time() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return -1;
        }
        g_usleep(5000);
    }
}

static gboolean
ping_once(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof sa.sun_path)
        return FALSE;
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return FALSE;
    gboolean ok = FALSE;
    struct timeval tv = { .tv_sec = 2 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0 && write(fd, "ping\n", 5) == 5) {
        char buf[64] = { 0 };
        ssize_t n = read(fd, buf, sizeof buf - 1);
        ok = n > 0 && g_str_has_prefix(buf, "pong");
    }
    close(fd);
    return ok;
}

gboolean
tt_daemon_ready(const char *tier_dir, int timeout_s)
{
    char *path = g_build_filename(tier_dir, "seaftierd.sock", NULL);
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_s * G_USEC_PER_SEC;
    gboolean ok;
    while (!(ok = ping_once(path)) && g_get_monotonic_time() < deadline)
        g_usleep(20000);
    g_free(path);
    return ok;
}

int
tt_daemon_term(GPid pid, const char *tier_dir)
{
    TT_CHECK_MSG(tt_daemon_ready(tier_dir, 15), "seaftierd (pid %d) does not answer on %s/seaftierd.sock",
                 (int)pid, tier_dir);
    return tt_kill_wait(pid, SIGTERM, 15);
}

int
tt_run(char **argv, char **out, char **err)
{
    int status = 0;
    GError *gerr = NULL;
    char **env = child_env();
    TT_CHECK_MSG(g_spawn_sync(NULL, argv, env, G_SPAWN_SEARCH_PATH, NULL, NULL, out, err, &status,
                              &gerr),
                 "running %s: %s", argv[0], gerr->message);
    g_strfreev(env);
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    return -1;
}

sqlite3 *
tt_open_index(const char *db_path, gboolean readonly)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(db_path, &db, readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE,
                             NULL);
    TT_CHECK_MSG(rc == SQLITE_OK, "opening %s: %s", db_path, db ? sqlite3_errmsg(db) : "?");
    sqlite3_busy_timeout(db, 10000);
    TT_CHECK(seaftier_tier_register_id_sql(db) == SQLITE_OK);
    return db;
}

static sqlite3 *
open_db(const char *db_path)
{
    return tt_open_index(db_path, FALSE);
}

gboolean
tt_integrity_check(const char *db_path, char **msg)
{
    sqlite3 *db = open_db(db_path);
    sqlite3_stmt *st = NULL;
    TT_CHECK(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) == SQLITE_OK);
    GString *all = g_string_new(NULL);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        g_string_append_printf(all, "%s%s", all->len ? "; " : "",
                               (const char *)sqlite3_column_text(st, 0));
    if (rc != SQLITE_DONE)
        g_string_append_printf(all, "%sstep: %s", all->len ? "; " : "", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    sqlite3_close(db);
    gboolean ok = strcmp(all->str, "ok") == 0;
    if (msg)
        *msg = g_string_free(all, FALSE);
    else
        g_string_free(all, TRUE);
    return ok;
}

gint64
tt_sql_int(const char *db_path, const char *sql)
{
    sqlite3 *db = open_db(db_path);
    sqlite3_stmt *st = NULL;
    TT_CHECK_MSG(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s (%d)", sql,
                 sqlite3_errmsg(db), sqlite3_extended_errcode(db));
    int rc = sqlite3_step(st);
    TT_CHECK_MSG(rc == SQLITE_ROW, "%s: %s", sql, sqlite3_errmsg(db));
    gint64 v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

void
tt_sql_exec(const char *db_path, const char *sql)
{
    sqlite3 *db = open_db(db_path);
    char *emsg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &emsg);
    TT_CHECK_MSG(rc == SQLITE_OK, "%s: %s", sql, emsg ? emsg : "?");
    sqlite3_close(db);
}

gboolean
tt_sql_flip_blob_byte(const char *db_path, const char *obj_id)
{
    sqlite3 *db = open_db(db_path);
    sqlite3_stmt *st = NULL;
    TT_CHECK(sqlite3_prepare_v2(db, "SELECT b.id, b.data FROM blobs b JOIN objects o ON o.id = b.id "
                                    "WHERE o.obj_id = tier_id(?1)", -1, &st, NULL) == SQLITE_OK);
    sqlite3_bind_text(st, 1, obj_id, -1, SQLITE_STATIC);
    gboolean found = sqlite3_step(st) == SQLITE_ROW;
    gint64 id = 0;
    GBytes *copy = NULL;
    if (found) {
        id = sqlite3_column_int64(st, 0);
        copy = g_bytes_new(sqlite3_column_blob(st, 1), (gsize)sqlite3_column_bytes(st, 1));
    }
    sqlite3_finalize(st);
    if (found && g_bytes_get_size(copy) > 0) {
        gsize len = 0;
        guint8 *data = g_bytes_unref_to_data(copy, &len);
        data[len / 2] ^= 0x5a;
        TT_CHECK(sqlite3_prepare_v2(db, "UPDATE blobs SET data = ?1 WHERE id = ?2", -1, &st, NULL) ==
                 SQLITE_OK);
        sqlite3_bind_blob(st, 1, data, (int)len, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, id);
        TT_CHECK_MSG(sqlite3_step(st) == SQLITE_DONE, "%s", sqlite3_errmsg(db));
        sqlite3_finalize(st);
        g_free(data);
    } else if (copy) {
        g_bytes_unref(copy);
        found = FALSE;
    }
    sqlite3_close(db);
    return found;
}

gint64
tt_dirty_count(const char *tier_dir)
{
    char *db = g_build_filename(tier_dir, "index.db", NULL);
    gint64 n = tt_sql_int(db, "SELECT count(*) FROM objects WHERE state = 1");
    g_free(db);
    return n;
}

gboolean
tt_wait_drained(const char *tier_dir, gboolean deletes, int timeout_s)
{
    char *db = g_build_filename(tier_dir, "index.db", NULL);
    const char *sql = deletes ? "SELECT count(*) FROM objects WHERE state IN (1, 2)"
                              : "SELECT count(*) FROM objects WHERE state = 1";
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_s * G_USEC_PER_SEC;
    gboolean ok = FALSE;
    while (!(ok = tt_sql_int(db, sql) == 0) && g_get_monotonic_time() < deadline)
        g_usleep(100000);
    g_free(db);
    return ok;
}

char *
tt_slurp(const char *path, gsize *len)
{
    char *text = NULL;
    gsize l = 0;
    if (!g_file_get_contents(path, &text, &l, NULL))
        return NULL;
    if (len)
        *len = l;
    return text;
}

double
tt_now_ms(void)
{
    return (double)g_get_monotonic_time() / 1000.0;
}

static gboolean
collect_key(const SeaftierS3ListEntry *e, void *user_data)
{
    g_ptr_array_add(user_data, g_strdup(e->key));
    return TRUE;
}

void
tt_empty_buckets(const char *conf_path)
{
    SeaftierConfig *cfg = tt_load_cfg(conf_path);
    for (int t = 0; t < SEAFTIER_N_TYPES; t++) {
        SeaftierS3 *s3 = tt_s3_direct(cfg, (SeaftierObjType)t);
        GPtrArray *keys = g_ptr_array_new_with_free_func(g_free);
        GError *err = NULL;
        if (!seaftier_s3_list(s3, NULL, 1000, collect_key, keys, &err) ||
            (keys->len && !seaftier_s3_delete_many(s3, (const char *const *)keys->pdata, keys->len,
                                                   NULL, &err))) {
            g_printerr("warning: cannot empty bucket %s: %s\n", seaftier_s3_bucket(s3),
                       err ? err->message : "?");
            g_clear_error(&err);
        }
        g_ptr_array_free(keys, TRUE);
        seaftier_s3_free(s3);
    }
    seaftier_config_free(cfg);
}

/* ---- the fault proxy ---- */

TTProxy *
tt_proxy_start(const char *dir, ...)
{
    TTProxy *p = g_new0(TTProxy, 1);
    static int n;
    n++;
    p->stats_path = g_strdup_printf("%s/proxy%d.stats", dir, n);
    p->log_path = g_strdup_printf("%s/proxy%d.log", dir, n);
    char *port_path = g_strdup_printf("%s/proxy%d.port", dir, n);
    char *upstream = g_strdup_printf("%d", s3test_server()->http_port);
    char *script = g_build_filename(SEAFTIER_SRCDIR, "tests", "torture", "faultproxy.py", NULL);
    GPtrArray *argv = g_ptr_array_new();
    g_ptr_array_add(argv, "python3");
    g_ptr_array_add(argv, script);
    g_ptr_array_add(argv, "--upstream-port");
    g_ptr_array_add(argv, upstream);
    g_ptr_array_add(argv, "--port-file");
    g_ptr_array_add(argv, port_path);
    g_ptr_array_add(argv, "--stats");
    g_ptr_array_add(argv, p->stats_path);
    g_ptr_array_add(argv, "--log");
    g_ptr_array_add(argv, p->log_path);
    va_list ap;
    va_start(ap, dir);
    const char *a;
    while ((a = va_arg(ap, const char *)))
        g_ptr_array_add(argv, (char *)a);
    va_end(ap);
    g_ptr_array_add(argv, NULL);
    GError *err = NULL;
    TT_CHECK_MSG(g_spawn_async(NULL, (char **)argv->pdata, NULL,
                               G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_SEARCH_PATH, NULL, NULL,
                               &p->pid, &err),
                 "starting the fault proxy: %s", err->message);
    g_ptr_array_free(argv, TRUE);
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    while (g_get_monotonic_time() < deadline) {
        char *text = tt_slurp(port_path, NULL);
        if (text && strchr(text, '\n')) {
            p->port = atoi(text);
            g_free(text);
            break;
        }
        g_free(text);
        int status;
        TT_CHECK_MSG(waitpid(p->pid, &status, WNOHANG) == 0, "the fault proxy exited at start");
        g_usleep(20000);
    }
    TT_CHECK_MSG(p->port > 0, "the fault proxy did not report its port within 10 s");
    g_free(port_path);
    g_free(upstream);
    g_free(script);
    return p;
}

gint64
tt_proxy_stat(TTProxy *p, const char *name)
{
    /* the proxy rewrites the file atomically after every request:
     * "name value" lines */
    char *text = tt_slurp(p->stats_path, NULL);
    if (!text)
        return 0;
    gint64 v = 0;
    char **lines = g_strsplit(text, "\n", -1);
    for (char **l = lines; *l; l++) {
        char **kv = g_strsplit(*l, " ", 2);
        if (kv[0] && kv[1] && strcmp(kv[0], name) == 0)
            v = g_ascii_strtoll(kv[1], NULL, 10);
        g_strfreev(kv);
    }
    g_strfreev(lines);
    g_free(text);
    return v;
}

void
tt_proxy_stop(TTProxy *p)
{
    if (!p)
        return;
    tt_kill_wait(p->pid, SIGTERM, 5);
    g_free(p->stats_path);
    g_free(p->log_path);
    g_free(p);
}
