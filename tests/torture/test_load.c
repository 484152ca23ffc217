/*
 * tests/torture/test_load.c — a mixed workload while seaftierd uploads and
 * evicts.
 *
 * 8 threads for ~20 s (SEAFTIER_TORTURE_SCALE), each paced to a steady rate:
 * 80% reads of a hot set of objects (every read checked against its id),
 * 20% durable writes of new objects, through the Seafile vtables; the tier
 * has a small max_size, so seaftierd must upload and evict all along and
 * hot objects come back from S3 now and then. No operation may fail or
 * return other bytes. Prints throughput and p50/p99/max latency per kind;
 * at the end the daemon drains and S3 holds every written object.
 */
#include "seaftier-build.h"

#include "torture-util.h"
#include "../common/s3test.h"

#include <seaftier/log.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define N_THREADS 8
#define N_HOT 120
#define OPS_PER_THREAD_PER_S 150

typedef struct {
    SeaftierObjType type;
    char repo[37];
    char id[41];
    gsize len;
} Obj;

typedef struct {
    TTBackends *be;
    const Obj *hot;
    int index;
    gint64 deadline;
    GArray *read_us, *write_us;     /* double */
    GArray *written;                /* Obj */
    guint errors;
    char repo[37];
} Worker;

static GPid daemon_pid;

static void
cleanup(void *data)
{
    (void)data;
    if (daemon_pid)
        tt_kill_wait(daemon_pid, SIGKILL, 5);
    daemon_pid = 0;
}

static gsize
size_for(GRand *r, SeaftierObjType type)
{
    return type == SEAFTIER_TYPE_BLOCKS ? (gsize)g_rand_int_range(r, 8000, 40000)
                                        : (gsize)g_rand_int_range(r, 200, 6000);
}

static gpointer
worker_main(gpointer data)
{
    Worker *w = data;
    GRand *r = g_rand_new();
    gint64 period = G_USEC_PER_SEC / OPS_PER_THREAD_PER_S;
    gint64 next = g_get_monotonic_time();
    while (g_get_monotonic_time() < w->deadline) {
        if (g_rand_int_range(r, 0, 100) < 80) {
            /* skewed: half of the reads go to a tenth of the hot set */
            int i = g_rand_boolean(r) ? g_rand_int_range(r, 0, N_HOT / 10) : g_rand_int_range(r, 0, N_HOT);
            const Obj *o = &w->hot[i];
            guint8 *got = NULL;
            gsize len = 0;
            gint64 t0 = g_get_monotonic_time();
            gboolean ok = tt_be_read(w->be, o->type, o->repo, o->id, &got, &len);
            double us = (double)(g_get_monotonic_time() - t0);
            if (!ok || len != o->len || !tt_bytes_match(o->id, got, len)) {
                g_printerr("read %s %s/%s: %s\n", seaftier_type_name(o->type), o->repo, o->id,
                           ok ? "OTHER BYTES" : "failed");
                w->errors++;
            }
            g_array_append_val(w->read_us, us);
            g_free(got);
        } else {
            Obj o = { .type = (SeaftierObjType)g_rand_int_range(r, 0, 3) };
            memcpy(o.repo, w->repo, 37);
            o.len = size_for(r, o.type);
            guint8 *bytes = tt_make_object(r, o.len, g_rand_boolean(r), o.id);
            gint64 t0 = g_get_monotonic_time();
            gboolean ok = tt_be_write(w->be, o.type, o.repo, o.id, bytes, o.len, TRUE);
            double us = (double)(g_get_monotonic_time() - t0);
            if (!ok) {
                g_printerr("write %s %s/%s failed\n", seaftier_type_name(o.type), o.repo, o.id);
                w->errors++;
            } else {
                g_array_append_val(w->written, o);
            }
            g_array_append_val(w->write_us, us);
            g_free(bytes);
        }
        next += period;
        gint64 now = g_get_monotonic_time();
        if (next > now)
            g_usleep((gulong)(next - now));
        else if (now - next > G_USEC_PER_SEC)
            next = now;     /* fell behind: do not burst to catch up */
    }
    g_rand_free(r);
    return NULL;
}

static int
cmp_double(gconstpointer a, gconstpointer b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void
print_latency(const char *kind, GArray *all, double seconds)
{
    g_array_sort(all, cmp_double);
    guint n = all->len;
    TT_CHECK(n > 0);
    double p50 = g_array_index(all, double, n / 2);
    double p99 = g_array_index(all, double, (guint)((n - 1) * 0.99));
    double max = g_array_index(all, double, n - 1);
    printf("load: %-6s %7u ops, %8.0f ops/s, p50 %8.0f us, p99 %8.0f us, max %8.0f us\n", kind, n,
           n / seconds, p50, p99, max);
}

/* A number from `seaftier-admin status --json`'s daemon section. */
static double
status_number(const char *json, const char *name)
{
    char *pat = g_strdup_printf("\"%s\":", name);
    const char *p = strstr(json, pat);
    double v = p ? g_ascii_strtod(p + strlen(pat), NULL) : -1;
    g_free(pat);
    return v;
}

int
main(void)
{
    tt_at_fail(cleanup, NULL);
    seaftier_log_set_level(SEAFTIER_LOG_WARNING);
    double seconds = 20.0 * tt_scale();
    if (seconds < 5)
        seconds = 5;
    char *dir = s3test_tmpdir("tt-load");
    TTConfOpts opts = {
        .bucket_prefix = "ttload",
        .extra_tier = "max_size = 3M\nram_cache_size = 1M\nupload_concurrency = 16\nlog_level = warning\n",
    };
    char *conf = tt_write_conf(dir, &opts, NULL);
    char *tier_dir = g_build_filename(dir, "tier", NULL);
    char *daemon_log = g_build_filename(dir, "seaftierd.log", NULL);
    TTBackends *be = tt_backends_open(conf);
    GRand *r = g_rand_new();

    /* the hot set, uploaded before the run */
    Obj *hot = g_new0(Obj, N_HOT);
    char hot_repo[37];
    tt_random_repo(r, hot_repo);
    for (int i = 0; i < N_HOT; i++) {
        hot[i].type = (SeaftierObjType)(i % 3);
        memcpy(hot[i].repo, hot_repo, 37);
        hot[i].len = size_for(r, hot[i].type);
        guint8 *bytes = tt_make_object(r, hot[i].len, i % 2, hot[i].id);
        TT_CHECK(tt_be_write(be, hot[i].type, hot[i].repo, hot[i].id, bytes, hot[i].len, TRUE));
        g_free(bytes);
    }
    daemon_pid = tt_spawn_daemon(dir, daemon_log, NULL);
    TT_CHECK_MSG(tt_wait_drained(tier_dir, FALSE, 60), "the hot set was not uploaded");

    Worker w[N_THREADS];
    GThread *threads[N_THREADS];
    gint64 start = g_get_monotonic_time();
    for (int i = 0; i < N_THREADS; i++) {
        w[i] = (Worker){ .be = be, .hot = hot, .index = i,
                         .deadline = start + (gint64)(seconds * G_USEC_PER_SEC),
                         .read_us = g_array_new(FALSE, FALSE, sizeof(double)),
                         .write_us = g_array_new(FALSE, FALSE, sizeof(double)),
                         .written = g_array_new(FALSE, FALSE, sizeof(Obj)) };
        tt_random_repo(r, w[i].repo);
        threads[i] = g_thread_new("load", worker_main, &w[i]);
    }
    /* watch the tier while the load runs */
    char *db = g_build_filename(tier_dir, "index.db", NULL);
    gint64 max_dirty = 0, max_used = 0;
    while (g_get_monotonic_time() < start + (gint64)(seconds * G_USEC_PER_SEC)) {
        g_usleep(500000);
        max_dirty = MAX(max_dirty, tt_sql_int(db, "SELECT count(*) FROM objects WHERE state = 1"));
        max_used = MAX(max_used, tt_sql_int(db, "SELECT coalesce(sum(stored_bytes), 0) FROM usage "
                                                "WHERE state IN (0, 1)"));
    }
    for (int i = 0; i < N_THREADS; i++)
        g_thread_join(threads[i]);
    double elapsed = (double)(g_get_monotonic_time() - start) / G_USEC_PER_SEC;

    GArray *reads = g_array_new(FALSE, FALSE, sizeof(double));
    GArray *writes = g_array_new(FALSE, FALSE, sizeof(double));
    GArray *written = g_array_new(FALSE, FALSE, sizeof(Obj));
    guint errors = 0;
    for (int i = 0; i < N_THREADS; i++) {
        g_array_append_vals(reads, w[i].read_us->data, w[i].read_us->len);
        g_array_append_vals(writes, w[i].write_us->data, w[i].write_us->len);
        g_array_append_vals(written, w[i].written->data, w[i].written->len);
        errors += w[i].errors;
        g_array_free(w[i].read_us, TRUE);
        g_array_free(w[i].write_us, TRUE);
        g_array_free(w[i].written, TRUE);
    }
    guint total = reads->len + writes->len;

    char *argv[] = { (char *)tt_admin(), "status", "--json", "-c", dir, NULL };
    char *out = NULL;
    TT_CHECK(tt_run(argv, &out, NULL) == 0);
    double evicted = status_number(out, "evicted_objects");
    double uploads = status_number(out, "uploads_ok");
    g_free(out);
    TT_CHECK_MSG(tt_wait_drained(tier_dir, FALSE, 120), "seaftierd did not drain after the load: %"
                 G_GINT64_FORMAT " dirty", tt_dirty_count(tier_dir));
    int st = tt_daemon_term(daemon_pid, tier_dir);
    daemon_pid = 0;
    TT_CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "seaftierd exit 0x%x", st);

    /* S3 holds every written object */
    SeaftierConfig *cfg = tt_load_cfg(conf);
    SeaftierS3 *s3[3];
    for (int t = 0; t < 3; t++)
        s3[t] = tt_s3_direct(cfg, (SeaftierObjType)t);
    guint lost = 0;
    for (guint i = 0; i < written->len; i++) {
        Obj *o = &g_array_index(written, Obj, i);
        char *key = g_strdup_printf("%s/%s", o->repo, o->id);
        void *data = NULL;
        gsize len = 0;
        GError *err = NULL;
        if (!seaftier_s3_get(s3[o->type], key, &data, &len, &err)) {
            g_printerr("LOST: %s %s: %s\n", seaftier_type_name(o->type), key, err->message);
            g_error_free(err);
            lost++;
        } else if (len != o->len || !tt_bytes_match(o->id, data, len)) {
            g_printerr("CORRUPT in S3: %s\n", key);
            lost++;
        }
        g_free(data);
        g_free(key);
    }

    printf("load: %d threads, %.1f s, 80%% reads of %d hot objects / 20%% durable writes, max_size 3 MiB\n",
           N_THREADS, elapsed, N_HOT);
    printf("load: total  %7u ops, %8.0f ops/s, errors %u\n", total, total / elapsed, errors);
    print_latency("reads", reads, elapsed);
    print_latency("writes", writes, elapsed);
    /* nothing was deleted: every object missing from the index was evicted
     * (by the daemon or by a writer making room) */
    gint64 gone = (gint64)(N_HOT + written->len) - tt_sql_int(db, "SELECT count(*) FROM objects");
    printf("load: daemon uploaded %.0f and evicted %.0f objects during the run (%" G_GINT64_FORMAT
           " of %u objects evicted in all); peak dirty %" G_GINT64_FORMAT ", peak used %" G_GINT64_FORMAT
           " bytes; S3 holds %u of %u written (lost %u)\n",
           uploads, evicted, gone, N_HOT + written->len, max_dirty, max_used, written->len - lost,
           written->len, lost);
    TT_CHECK(errors == 0);
    TT_CHECK(lost == 0);
    TT_CHECK_MSG(gone > 0, "nothing was evicted: the run did not exercise eviction");

    for (int t = 0; t < 3; t++)
        seaftier_s3_free(s3[t]);
    seaftier_config_free(cfg);
    tt_backends_close(be);
    tt_empty_buckets(conf);
    if (!g_getenv("SEAFTIER_TORTURE_KEEP"))
        s3test_rm_rf(dir);
    g_array_free(reads, TRUE);
    g_array_free(writes, TRUE);
    g_array_free(written, TRUE);
    g_free(hot);
    g_rand_free(r);
    g_free(db);
    g_free(daemon_log);
    g_free(tier_dir);
    g_free(conf);
    g_free(dir);
    return 0;
}
