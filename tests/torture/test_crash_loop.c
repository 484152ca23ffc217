/*
 * tests/torture/test_crash_loop.c — acknowledged writes survive SIGKILL of
 * the writer and of seaftierd, over and over.
 *
 * Each cycle starts a writer process (this program with "writer": several
 * threads writing commits and fs objects with need_sync and committed blocks
 * through the Seafile vtables) and seaftierd uploading, then SIGKILLs both
 * at random moments. The writer appends an object's id to an ack log (and
 * fsyncs it) only after the backend acknowledged the write, so the log is a
 * lower bound of what must survive. After every cycle, every logged object
 * must read back with its exact bytes (ids are SHA-1s of the bytes), no read
 * may return other bytes, and the index must pass PRAGMA integrity_check.
 * At the end the daemon drains and every acknowledged object is fetched
 * from S3 directly.
 */
#include "seaftier-build.h"

#include "torture-util.h"
#include "../common/s3test.h"

#include <seaftier/log.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define N_REPOS 3
#define N_THREADS 4

/* ---- the writer process ---- */

typedef struct {
    TTBackends *be;
    int ack_fd;
    int index;
    guint32 seed;
    char repos[N_REPOS][37];
} WriterCtx;

static void
ack(int fd, const char *line)
{
    /* one write() per line: O_APPEND keeps lines whole across threads */
    gsize len = strlen(line);
    if (write(fd, line, len) != (ssize_t)len || fsync(fd) != 0) {
        fprintf(stderr, "writer: cannot log an acknowledged write: %s\n", g_strerror(errno));
        _exit(4);
    }
}

static gpointer
writer_thread(gpointer data)
{
    WriterCtx *ctx = data;
    GRand *r = g_rand_new_with_seed(ctx->seed * 7919u + (guint32)ctx->index);
    GPtrArray *mine = g_ptr_array_new_with_free_func(g_free);
    static const char tc[] = "cfb";
    for (guint64 n = 0;; n++) {
        SeaftierObjType type = ctx->index < 2 ? (SeaftierObjType)ctx->index : SEAFTIER_TYPE_BLOCKS;
        const char *repo = ctx->repos[g_rand_int_range(r, 0, N_REPOS)];
        gsize len = type == SEAFTIER_TYPE_BLOCKS
                        ? (gsize)g_rand_int_range(r, 1000, g_rand_int_range(r, 0, 8) == 0 ? 200000 : 40000)
                        : (gsize)g_rand_int_range(r, 60, 9000);
        char id[41];
        guint8 *bytes = tt_make_object(r, len, g_rand_boolean(r), id);
        if (tt_be_write(ctx->be, type, repo, id, bytes, len, TRUE)) {
            char *line = g_strdup_printf("%c %s %s %zu\n", tc[type], repo, id, len);
            ack(ctx->ack_fd, line);
            g_ptr_array_add(mine, g_strdup_printf("%d %s %s", (int)type, repo, id));
            g_free(line);
        } else {
            fprintf(stderr, "writer: write %c %s/%s refused\n", tc[type], repo, id);
        }
        g_free(bytes);
        /* a steady, not saturating, rate: the daemon must get uploads done
         * between kills, and each cycle re-reads everything acknowledged */
        g_usleep((gulong)g_rand_int_range(r, 5000, 40000));
        /* read back an earlier write of this thread now and then */
        if (mine->len && n % 4 == 0) {
            const char *e = g_ptr_array_index(mine, g_rand_int_range(r, 0, (gint32)mine->len));
            int t;
            char rp[37], oid[41];
            if (sscanf(e, "%d %36s %40s", &t, rp, oid) == 3) {
                guint8 *got = NULL;
                gsize got_len = 0;
                if (!tt_be_read(ctx->be, (SeaftierObjType)t, rp, oid, &got, &got_len)) {
                    fprintf(stderr, "writer: LOST: read of acknowledged %s failed\n", e);
                    _exit(3);
                }
                if (!tt_bytes_match(oid, got, got_len)) {
                    fprintf(stderr, "writer: CORRUPT: read of %s returned other bytes\n", e);
                    _exit(3);
                }
                g_free(got);
            }
        }
    }
    return NULL;
}

static int
writer_main(const char *conf, const char *ack_path, guint32 seed)
{
    WriterCtx ctx[N_THREADS];
    TTBackends *be = tt_backends_open(conf);
    int fd = open(ack_path, O_WRONLY | O_APPEND | O_CREAT, 0600);
    if (fd < 0) {
        fprintf(stderr, "writer: %s: %s\n", ack_path, g_strerror(errno));
        return 2;
    }
    GRand *rr = g_rand_new_with_seed(seed);       /* same repos in every cycle */
    char repos[N_REPOS][37];
    for (int i = 0; i < N_REPOS; i++)
        tt_random_repo(rr, repos[i]);
    GRand *cr = g_rand_new();                     /* fresh objects in every cycle */
    GThread *threads[N_THREADS];
    for (int i = 0; i < N_THREADS; i++) {
        ctx[i] = (WriterCtx){ .be = be, .ack_fd = fd, .index = i, .seed = g_rand_int(cr) };
        memcpy(ctx[i].repos, repos, sizeof repos);
        threads[i] = g_thread_new("writer", writer_thread, &ctx[i]);
    }
    for (int i = 0; i < N_THREADS; i++)
        g_thread_join(threads[i]);   /* never: the parent kills us */
    return 0;
}

/* ---- the parent ---- */

typedef struct {
    SeaftierObjType type;
    char repo[37];
    char id[41];
    gsize len;
} Acked;

static GPid writer_pid, daemon_pid;

static void
kill_children(void *data)
{
    (void)data;
    if (writer_pid)
        tt_kill_wait(writer_pid, SIGKILL, 5);
    if (daemon_pid)
        tt_kill_wait(daemon_pid, SIGKILL, 5);
    writer_pid = daemon_pid = 0;
}

/* Reads the ack log; only whole lines count (a line cut by SIGKILL was
 * never fsynced as acknowledged). */
static GArray *
read_acks(const char *path, GHashTable *seen, GArray *acks)
{
    gsize len = 0;
    char *text = tt_slurp(path, &len);
    if (!text)
        return acks;
    char *p = text;
    char *nl;
    while ((nl = memchr(p, '\n', (gsize)(text + len - p)))) {
        *nl = '\0';
        char t;
        Acked a = { 0 };
        if (sscanf(p, "%c %36s %40s %zu", &t, a.repo, a.id, &a.len) == 4 && strchr("cfb", t)) {
            a.type = t == 'c' ? SEAFTIER_TYPE_COMMITS : t == 'f' ? SEAFTIER_TYPE_FS : SEAFTIER_TYPE_BLOCKS;
            char *key = g_strdup_printf("%d/%s/%s", (int)a.type, a.repo, a.id);
            if (!g_hash_table_contains(seen, key)) {
                g_hash_table_add(seen, key);
                g_array_append_val(acks, a);
            } else {
                g_free(key);
            }
        } else {
            TT_CHECK_MSG(FALSE, "malformed ack line \"%s\"", p);
        }
        p = nl + 1;
    }
    g_free(text);
    return acks;
}

static void
sleep_ms(int ms)
{
    g_usleep((gulong)ms * 1000);
}

int
main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "writer") == 0)
        return writer_main(argv[2], argv[3], (guint32)strtoul(argv[4], NULL, 10));

    int cycles = MAX(50, tt_scaled(50, 50));
    if (g_getenv("SEAFTIER_TORTURE_CYCLES"))
        cycles = atoi(g_getenv("SEAFTIER_TORTURE_CYCLES"));
    int run_ms = tt_scaled(900, 300);
    char *dir = s3test_tmpdir("tt-crash");
    TTConfOpts opts = { .bucket_prefix = "ttcrash", .extra_tier = "log_level = warning\n" };
    seaftier_log_set_level(SEAFTIER_LOG_WARNING);
    char *conf = tt_write_conf(dir, &opts, NULL);
    char *tier_dir = g_build_filename(dir, "tier", NULL);
    char *db = g_build_filename(tier_dir, "index.db", NULL);
    char *ack_path = g_build_filename(dir, "acks.log", NULL);
    char *daemon_log = g_build_filename(dir, "seaftierd.log", NULL);
    char *writer_log = g_build_filename(dir, "writer.log", NULL);
    char *seed = g_strdup_printf("%u", g_random_int());
    char *self = g_file_read_link("/proc/self/exe", NULL);
    TT_CHECK(self != NULL);
    tt_at_fail(kill_children, NULL);
    GRand *r = g_rand_new();

    GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    GArray *acks = g_array_new(FALSE, FALSE, sizeof(Acked));
    int daemon_killed_running = 0;
    double verify_ms = 0;
    printf("crash loop: %d cycles, ~%d ms each, tier %s\n", cycles, run_ms, tier_dir);
    for (int c = 0; c < cycles; c++) {
        char *wargv[] = { self, "writer", conf, ack_path, seed, NULL };
        gboolean daemon_first = g_rand_boolean(r);
        if (daemon_first)
            daemon_pid = tt_spawn_daemon(dir, daemon_log, "--log-level", "info", NULL);
        writer_pid = tt_spawn(wargv, writer_log);
        if (!daemon_first) {
            sleep_ms(g_rand_int_range(r, 0, 200));
            daemon_pid = tt_spawn_daemon(dir, daemon_log, "--log-level", "info", NULL);
        }
        sleep_ms(g_rand_int_range(r, run_ms / 3, run_ms));
        /* kill both at random moments, in random order */
        GPid *first = g_rand_boolean(r) ? &writer_pid : &daemon_pid;
        GPid *second = first == &writer_pid ? &daemon_pid : &writer_pid;
        int st_first = tt_kill_wait(*first, SIGKILL, 10);
        *first = 0;
        sleep_ms(g_rand_int_range(r, 0, 250));
        int st_second = tt_kill_wait(*second, SIGKILL, 10);
        *second = 0;
        int wst = first == &writer_pid ? st_first : st_second;
        int dst = first == &daemon_pid ? st_first : st_second;
        TT_CHECK_MSG(WIFSIGNALED(wst) && WTERMSIG(wst) == SIGKILL,
                     "cycle %d: the writer ended by itself (status 0x%x): see %s", c, wst, writer_log);
        if (WIFSIGNALED(dst) && WTERMSIG(dst) == SIGKILL)
            daemon_killed_running++;
        else
            TT_CHECK_MSG(FALSE, "cycle %d: seaftierd ended by itself (status 0x%x): see %s", c, dst,
                         daemon_log);

        /* every acknowledged object, with its bytes */
        read_acks(ack_path, seen, acks);
        double t0 = tt_now_ms();
        TTBackends *be = tt_backends_open(conf);
        for (guint i = 0; i < acks->len; i++) {
            Acked *a = &g_array_index(acks, Acked, i);
            guint8 *data = NULL;
            gsize len = 0;
            TT_CHECK_MSG(tt_be_read(be, a->type, a->repo, a->id, &data, &len),
                         "cycle %d: LOST acknowledged %s %s/%s", c, seaftier_type_name(a->type),
                         a->repo, a->id);
            TT_CHECK_MSG(len == a->len && tt_bytes_match(a->id, data, len),
                         "cycle %d: CORRUPT read of %s %s/%s (%zu bytes, expected %zu)", c,
                         seaftier_type_name(a->type), a->repo, a->id, len, a->len);
            g_free(data);
        }
        tt_backends_close(be);
        char *msg = NULL;
        TT_CHECK_MSG(tt_integrity_check(db, &msg), "cycle %d: integrity_check: %s", c, msg);
        g_free(msg);
        verify_ms += tt_now_ms() - t0;
        if ((c + 1) % 10 == 0)
            printf("  cycle %d: %u acknowledged, %" G_GINT64_FORMAT " dirty\n", c + 1, acks->len,
                   tt_dirty_count(tier_dir));
        fflush(stdout);
    }

    /* drain: S3 must hold every acknowledged object */
    gint64 dirty_before = tt_dirty_count(tier_dir);
    double t0 = tt_now_ms();
    daemon_pid = tt_spawn_daemon(dir, daemon_log, NULL);
    TT_CHECK_MSG(tt_wait_drained(tier_dir, FALSE, tt_scaled(180, 120)),
                 "seaftierd did not drain %" G_GINT64_FORMAT " dirty objects (left %" G_GINT64_FORMAT
                 "): see %s", dirty_before, tt_dirty_count(tier_dir), daemon_log);
    double drain_ms = tt_now_ms() - t0;
    int st = tt_daemon_term(daemon_pid, tier_dir);
    daemon_pid = 0;
    TT_CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "seaftierd SIGTERM exit status 0x%x", st);

    SeaftierConfig *cfg = tt_load_cfg(conf);
    SeaftierS3 *s3[3];
    for (int t = 0; t < 3; t++)
        s3[t] = tt_s3_direct(cfg, (SeaftierObjType)t);
    guint lost = 0, per_type[3] = { 0 };
    for (guint i = 0; i < acks->len; i++) {
        Acked *a = &g_array_index(acks, Acked, i);
        char *key = g_strdup_printf("%s/%s", a->repo, a->id);
        void *data = NULL;
        gsize len = 0;
        GError *err = NULL;
        if (!seaftier_s3_get(s3[a->type], key, &data, &len, &err)) {
            g_printerr("LOST in S3: %s %s: %s\n", seaftier_type_name(a->type), key, err->message);
            g_error_free(err);
            lost++;
        } else if (len != a->len || !tt_bytes_match(a->id, data, len)) {
            g_printerr("CORRUPT in S3: %s %s (%zu bytes)\n", seaftier_type_name(a->type), key, len);
            lost++;
        }
        per_type[a->type]++;
        g_free(data);
        g_free(key);
    }
    char *msg = NULL;
    TT_CHECK_MSG(tt_integrity_check(db, &msg), "final integrity_check: %s", msg);
    g_free(msg);

    printf("crash loop: cycles %d, daemon killed while running %d, objects acknowledged %u "
           "(commits %u, fs %u, blocks %u), dirty at end of loop %" G_GINT64_FORMAT
           ", drained in %.1f s, verify %.0f ms/cycle, lost %u\n",
           cycles, daemon_killed_running, acks->len, per_type[0], per_type[1], per_type[2],
           dirty_before, drain_ms / 1000.0, verify_ms / cycles, lost);
    TT_CHECK_MSG(acks->len >= (guint)cycles, "too few acknowledged writes (%u) to prove anything",
                 acks->len);
    TT_CHECK(lost == 0);

    for (int t = 0; t < 3; t++)
        seaftier_s3_free(s3[t]);
    seaftier_config_free(cfg);
    g_array_free(acks, TRUE);
    g_hash_table_destroy(seen);
    g_rand_free(r);
    tt_empty_buckets(conf);
    if (!g_getenv("SEAFTIER_TORTURE_KEEP"))
        s3test_rm_rf(dir);
    g_free(self);
    g_free(seed);
    g_free(writer_log);
    g_free(daemon_log);
    g_free(ack_path);
    g_free(db);
    g_free(tier_dir);
    g_free(conf);
    g_free(dir);
    return 0;
}
