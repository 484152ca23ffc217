/*
 * tests/bench/bench_scale.c — does a hit read slow down, the process grow,
 * or the tier (and seaftierd) start slower as the index grows?
 *
 *   bench_scale build SEAFILE_CONF N HOT
 *       Builds an index of N "fs" objects, HOT of them stored with data:
 *       N - HOT rows through the tier's bulk path for a bucket listing,
 *       seaftier_tier_remember_remote_batch() (REMOTE rows: S3 holds the
 *       object, no local data; what `seaftier-admin index-remote` records),
 *       in key order as a listing returns them, in transactions of 10 000
 *       rows, and between them the HOT objects (random ids)
 *       (256 bytes of text each) through seaftier_tier_store() as CLEAN
 *       copies, not durable (what a fill from S3 stores), spread evenly
 *       through the build so that their rows are scattered over the index as
 *       in a tier that grew over time. A durable note (tier_meta_set) ends
 *       the build, which makes every earlier commit durable too.
 *       Writing 10 000 000 objects through ObjBackend.write would take ~20
 *       minutes here; this path records the same rows the tier keeps for
 *       objects it knows S3 holds.
 *   bench_scale read SEAFILE_CONF N HOT LABEL
 *       In a fresh process: times seaftier_tier_open() of the index (the
 *       first open of the process, then the median of 4 more), and
 *       obj_backend_tier_new() (what seaf-server does: configuration, site
 *       and tier); then, with ram_cache_size = 0 so that every read is a
 *       disk-tier hit, reads each HOT object once (random order, untimed,
 *       the bytes checked: hot objects are objects that were read) and
 *       times BENCH_SCALE_READS (default 100 000) uniformly random
 *       ObjBackend.read of them with the default location cache (tier.h),
 *       then as many with location_cache_size = 0 (the index's key lookup
 *       on every hit). Prints RESULT scale.<LABEL>.p50_us / .p99_us (and
 *       scale.<LABEL>.index.p50_us / .p99_us for the second), .rss_bytes
 *       (VmRSS after the first reads) and its .rss_anon_bytes /
 *       .rss_file_bytes parts,
 *       .index_bytes_per_obj (SQLite files minus the object bytes stored in
 *       them, per object), .tier_open_ms (first), .tier_open_median_ms,
 *       .backend_open_ms.
 *   bench_scale daemon SEAFILE_CONF SEAFTIERD LABEL
 *       Times seaftierd (foreground) from fork+exec to its control socket
 *       answering "ping", three starts (each stopped with SIGTERM before the
 *       next); prints RESULT scale.<LABEL>.daemon_start_ms (first) and
 *       .daemon_start_median_ms.
 */
#include "seaftier-build.h"

#include "bench-util.h"
#include "tier/tier.h"

#include <seaftier/config.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define OBJ_SIZE 256
#define REMOTE_BATCH 10000
#define OPEN_REPEATS 5
#define DAEMON_STARTS 3

/* Ids of the objects stored with data: SHA-1s of "scale:<i>", the same
 * HOT ids at every index size, random over the key space. */
#define HOT_NS "scale"

static guint64
splitmix64(guint64 x)
{
    x += 0x9e3779b97f4a7c15u;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
    return x ^ (x >> 31);
}

/* The id of REMOTE row `i` of `n`: ids increase with i (a bucket listing
 * returns keys in order, so an import inserts them in key order), spread
 * over the whole key space at pseudo-random distances, so that the random
 * HOT ids fall between them. */
static void
remote_id(guint64 i, guint64 n, char out[41])
{
    guint64 slot = G_MAXUINT64 / n;
    guint64 lead = i * slot + splitmix64(i) % slot;
    guint64 t1 = splitmix64(i ^ 0x5eaf71e5u), t2 = splitmix64(i + n);
    g_snprintf(out, 41, "%016" G_GINT64_MODIFIER "x%016" G_GINT64_MODIFIER "x%08x", lead, t1,
               (guint32)t2);
}

static SeaftierConfig *
load_config(const char *conf, gboolean ram_tier)
{
    GError *err = NULL;
    SeaftierConfig *cfg = seaftier_config_load_file(conf, &err);
    if (!cfg)
        bench_die("%s: %s", conf, err->message);
    if (!cfg->tier.dir || !cfg->tier.dir[0])
        bench_die("%s: [tier] dir is not set", conf);
    if (!ram_tier)
        cfg->tier.ram_cache_size = 0;
    return cfg;
}

static SeaftierTier *
open_tier(SeaftierConfig *cfg)
{
    GError *err = NULL;
    SeaftierTier *tier = seaftier_tier_open(cfg, cfg->tier.dir, &err);
    if (!tier)
        bench_die("seaftier_tier_open(%s): %s", cfg->tier.dir, err->message);
    return tier;
}

static void
store_hot(SeaftierTier *tier, guint64 i)
{
    guint8 buf[OBJ_SIZE];
    char id[41];
    GError *err = NULL;
    bench_obj_id(HOT_NS, i, id);
    bench_fill_text((guint32)i, buf, sizeof buf);
    if (!seaftier_tier_store(tier, SEAFTIER_TYPE_FS, BENCH_REPO, id, buf, OBJ_SIZE,
                             SEAFTIER_STATE_CLEAN, FALSE, &err))
        bench_die("store of object %" G_GUINT64_FORMAT " (%s): %s", i, id, err->message);
}

static void
build(const char *conf, guint64 n, guint64 hot)
{
    SeaftierConfig *cfg = load_config(conf, FALSE);
    SeaftierTier *tier = open_tier(cfg);
    guint64 remote = n - hot, hot_done = 0;
    SeaftierTierRemoteObject *objs = g_new(SeaftierTierRemoteObject, REMOTE_BATCH);
    BenchId *ids = g_new(BenchId, REMOTE_BATCH);
    GError *err = NULL;
    guint64 t0 = bench_now_ns();
    for (guint64 r = 0; r < remote;) {
        guint batch = (guint)MIN((guint64)REMOTE_BATCH, remote - r);
        for (guint k = 0; k < batch; k++) {
            remote_id(r + k, remote, ids[k].s);
            objs[k] = (SeaftierTierRemoteObject){ BENCH_REPO, ids[k].s, OBJ_SIZE };
        }
        SeaftierTierFillTicket ticket;
        guint added = 0;
        if (!seaftier_tier_fill_ticket(tier, &ticket, &err) ||
            !seaftier_tier_remember_remote_batch(tier, SEAFTIER_TYPE_FS, objs, batch, &ticket,
                                                 &added, &err))
            bench_die("remember_remote_batch at row %" G_GUINT64_FORMAT ": %s", r, err->message);
        if (added != batch)
            bench_die("remember_remote_batch added %u of %u rows (an index that was not empty?)",
                      added, batch);
        r += batch;
        /* The hot objects keep pace with the REMOTE rows. */
        guint64 due = (guint64)((double)hot * (double)r / (double)remote);
        for (; hot_done < due; hot_done++)
            store_hot(tier, hot_done);
    }
    for (; hot_done < hot; hot_done++)
        store_hot(tier, hot_done);
    if (!seaftier_tier_meta_set(tier, "bench-scale-built", "1", &err))
        bench_die("tier_meta_set: %s", err->message);
    guint64 t1 = bench_now_ns();
    fprintf(stderr,
            "bench_scale: indexed %" G_GUINT64_FORMAT " objects (%" G_GUINT64_FORMAT
            " REMOTE rows through seaftier_tier_remember_remote_batch, %" G_GUINT64_FORMAT
            " stored CLEAN through seaftier_tier_store) in %.1f s (%.0f rows/s)\n",
            n, remote, hot, (double)(t1 - t0) / 1e9, (double)n / ((double)(t1 - t0) / 1e9));
    seaftier_tier_close(tier);
    seaftier_config_free(cfg);
    g_free(objs);
    g_free(ids);
    bench_sync();
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double
median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void
result(const char *label, const char *what, double value, const char *unit)
{
    char key[160];
    g_snprintf(key, sizeof key, "scale.%s.%s", label, what);
    bench_result(key, value, unit);
}

/* Times opening the index: the first open of this process is what a
 * starting seaf-server or seaftierd pays. */
static void
time_opens(const char *conf, const char *label)
{
    SeaftierConfig *cfg = load_config(conf, FALSE);
    double ms[OPEN_REPEATS];
    for (int i = 0; i < OPEN_REPEATS; i++) {
        guint64 t0 = bench_now_ns();
        SeaftierTier *tier = open_tier(cfg);
        guint64 t1 = bench_now_ns();
        seaftier_tier_close(tier);
        ms[i] = (double)(t1 - t0) / 1e6;
    }
    result(label, "tier_open_ms", ms[0], "ms");
    result(label, "tier_open_median_ms", median(ms + 1, OPEN_REPEATS - 1), "ms");
    seaftier_config_free(cfg);
}

/* Reads hot object order[k] for every k, untimed, checking the bytes. */
static void
read_each_once(ObjBackend *ob, const BenchId *ids, const guint64 *order, guint64 hot)
{
    guint8 want[OBJ_SIZE];
    for (guint64 k = 0; k < hot; k++) {
        void *data = NULL;
        int len = 0;
        if (ob->read(ob, BENCH_REPO, 1, ids[order[k]].s, &data, &len) != 0 || len != OBJ_SIZE)
            bench_die("read of object %" G_GUINT64_FORMAT " (%s) failed", order[k],
                      ids[order[k]].s);
        bench_fill_text((guint32)order[k], want, sizeof want);
        if (memcmp(data, want, OBJ_SIZE) != 0)
            bench_die("object %s reads back wrong", ids[order[k]].s);
        g_free(data);
    }
}

/* `reads` timed ObjBackend.read of uniformly random hot objects; prints
 * <key>.p50_us and the other latency figures (nothing when key is NULL: a
 * warm-up). */
static void
timed_reads(ObjBackend *ob, const BenchId *ids, guint64 hot, gsize reads, GRand *r,
            const char *key)
{
    BenchSamples *s = bench_samples_new(reads);
    for (gsize k = 0; k < reads; k++) {
        guint64 i = (guint64)g_rand_int_range(r, 0, (gint32)hot);
        void *data = NULL;
        int len = 0;
        guint64 a = bench_now_ns();
        int rc = ob->read(ob, BENCH_REPO, 1, ids[i].s, &data, &len);
        guint64 b = bench_now_ns();
        if (rc != 0 || len != OBJ_SIZE)
            bench_die("read of object %" G_GUINT64_FORMAT " (%s) failed", i, ids[i].s);
        bench_samples_add(s, b - a);
        g_free(data);
    }
    if (key)
        bench_result_latency(key, s);
    bench_samples_free(s);
}

static void
read_phase(const char *conf, guint64 n, guint64 hot, const char *label)
{
    gsize reads = 100000;
    const char *v = g_getenv("BENCH_SCALE_READS");
    if (v && *v)
        reads = MAX((gsize)g_ascii_strtoull(v, NULL, 10), 100);

    time_opens(conf, label);
    GKeyFile *kf = bench_load_conf(conf, "ram_cache_size", "0", NULL);
    guint64 t0 = bench_now_ns();
    ObjBackend *ob = bench_obj_backend(kf, "fs");
    guint64 t1 = bench_now_ns();
    result(label, "backend_open_ms", (double)(t1 - t0) / 1e6, "ms");

    BenchId *ids = bench_ids(HOT_NS, hot);
    /* Hot objects are objects that were read: each once first, in random
     * order, untimed, its contents checked. A first read in a minute notes
     * the object's access time, which the tier's background thread writes
     * to the index (at most 64 Ki pending; more are dropped) — random row
     * updates, far dearer in a large index. Two passes, each ended by
     * closing the backend (which writes what is pending), leave them fresh,
     * so the third pass and the timed reads run without that writing, at
     * every index size. (The backends of one process share one tier, opened
     * with the first one's configuration: each is closed before the next.) */
    GRand *r = g_rand_new_with_seed(7);
    guint64 *order = g_new(guint64, hot);
    for (guint64 i = 0; i < hot; i++)
        order[i] = i;
    for (guint64 i = hot - 1; i > 0; i--) {
        guint64 j = (guint64)g_rand_int_range(r, 0, (gint32)(i + 1)), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    for (int pass = 0; pass < 2; pass++) {
        read_each_once(ob, ids, order, hot);
        obj_backend_tier_free(ob);
        ob = bench_obj_backend(kf, "fs");
    }
    read_each_once(ob, ids, order, hot);
    g_free(order);
    char key[128];
    g_snprintf(key, sizeof key, "scale.%s", label);
    timed_reads(ob, ids, hot, reads, r, key);

    /* Anonymous memory is what the process holds; file-backed pages are
     * SQLite's memory map of the index (reclaimable page cache). */
    BenchRss rss;
    bench_rss(&rss);
    result(label, "rss_bytes", (double)rss.rss, "bytes");
    result(label, "rss_anon_bytes", (double)rss.anon, "bytes");
    result(label, "rss_file_bytes", (double)rss.file, "bytes");

    /* The same reads through the index alone (no location cache), in the
     * same process: what a hit on an object no cache remembers costs. */
    GKeyFile *kf_index = bench_load_conf(conf, "ram_cache_size", "0", "location_cache_size", "0",
                                         NULL);
    obj_backend_tier_free(ob);
    g_key_file_free(kf);
    ObjBackend *ob_index = bench_obj_backend(kf_index, "fs");
    g_snprintf(key, sizeof key, "scale.%s.index", label);
    timed_reads(ob_index, ids, hot, reads / 4, r, NULL);
    timed_reads(ob_index, ids, hot, reads, r, key);
    obj_backend_tier_free(ob_index);
    g_key_file_free(kf_index);

    /* The SQLite files hold the index and the inline objects; the tier's
     * accounting says how many of those bytes are object data. */
    SeaftierConfig *cfg = load_config(conf, FALSE);
    SeaftierTier *tier = open_tier(cfg);
    SeaftierTierStats st;
    GError *err = NULL;
    if (!seaftier_tier_stats(tier, &st, &err))
        bench_die("tier stats: %s", err->message);
    guint64 with_data = st.objects[SEAFTIER_TYPE_FS][SEAFTIER_STATE_CLEAN] +
                        st.objects[SEAFTIER_TYPE_FS][SEAFTIER_STATE_DIRTY];
    guint64 rows = with_data + st.objects[SEAFTIER_TYPE_FS][SEAFTIER_STATE_REMOTE];
    if (with_data != hot || rows != n)
        bench_die("the tier indexes %" G_GUINT64_FORMAT " fs objects (%" G_GUINT64_FORMAT
                  " with data), expected %" G_GUINT64_FORMAT " (%" G_GUINT64_FORMAT ")",
                  rows, with_data, n, hot);
    guint64 stored = st.stored_bytes[SEAFTIER_TYPE_FS][SEAFTIER_STATE_CLEAN] +
                     st.stored_bytes[SEAFTIER_TYPE_FS][SEAFTIER_STATE_DIRTY];
    guint64 files = bench_files_size(seaftier_tier_dir(tier), "index.db");
    result(label, "index_bytes_per_obj", files > stored ? (double)(files - stored) / (double)n : 0.0,
           "bytes");
    seaftier_tier_close(tier);
    seaftier_config_free(cfg);

    g_rand_free(r);
    g_free(ids);
}

/* ---- seaftierd start ---- */

static pid_t daemon_pid = -1;

static void
kill_daemon(void)
{
    if (daemon_pid > 0) {
        kill(daemon_pid, SIGKILL);
        waitpid(daemon_pid, NULL, 0);
        daemon_pid = -1;
    }
}

/* TRUE when the control socket answers "ping" with "pong <pid>". */
static gboolean
ping(const char *socket_path)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        bench_die("socket: %s", g_strerror(errno));
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    g_strlcpy(sun.sun_path, socket_path, sizeof sun.sun_path);
    gboolean ok = FALSE;
    if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0 && write(fd, "ping\n", 5) == 5) {
        char buf[64];
        ssize_t got = read(fd, buf, sizeof buf - 1);
        ok = got >= 4 && memcmp(buf, "pong", 4) == 0;
    }
    close(fd);
    return ok;
}

static void
daemon_phase(const char *conf, const char *seaftierd, const char *label)
{
    SeaftierConfig *cfg = load_config(conf, TRUE);
    char *sock = cfg->tier.socket_path && cfg->tier.socket_path[0]
                     ? g_strdup(cfg->tier.socket_path)
                     : g_build_filename(cfg->tier.dir, "seaftierd.sock", NULL);
    char *conf_dir = g_path_get_dirname(conf);
    char *log = g_build_filename(conf_dir, "seaftierd-start.log", NULL);
    atexit(kill_daemon);
    double ms[DAEMON_STARTS];
    for (int i = 0; i < DAEMON_STARTS; i++) {
        guint64 t0 = bench_now_ns();
        daemon_pid = fork();
        if (daemon_pid < 0)
            bench_die("fork: %s", g_strerror(errno));
        if (daemon_pid == 0) {
            execl(seaftierd, seaftierd, "-f", "-c", conf_dir, "--log-file", log, (char *)NULL);
            _exit(127);
        }
        guint64 deadline = t0 + 30 * (guint64)1000000000;
        for (;;) {
            if (ping(sock))
                break;
            int status;
            if (waitpid(daemon_pid, &status, WNOHANG) == daemon_pid) {
                daemon_pid = -1;
                bench_die("seaftierd exited during start-up (status %d); see %s", status, log);
            }
            if (bench_now_ns() > deadline)
                bench_die("seaftierd did not answer on %s within 30 s; see %s", sock, log);
            g_usleep(200);
        }
        guint64 t1 = bench_now_ns();
        ms[i] = (double)(t1 - t0) / 1e6;
        kill(daemon_pid, SIGTERM);
        int status;
        if (waitpid(daemon_pid, &status, 0) != daemon_pid)
            bench_die("waitpid(seaftierd): %s", g_strerror(errno));
        daemon_pid = -1;
    }
    result(label, "daemon_start_ms", ms[0], "ms");
    result(label, "daemon_start_median_ms", median(ms, DAEMON_STARTS), "ms");
    g_free(sock);
    g_free(conf_dir);
    g_free(log);
    seaftier_config_free(cfg);
}

static guint64
parse_count(const char *s, const char *what)
{
    char *end = NULL;
    guint64 v = g_ascii_strtoull(s, &end, 10);
    if (!end || *end || v == 0 || v > G_MAXINT32)
        bench_die("bad %s \"%s\"", what, s);
    return v;
}

int
main(int argc, char **argv)
{
    if (argc == 5 && g_str_equal(argv[1], "build")) {
        guint64 n = parse_count(argv[3], "N"), hot = parse_count(argv[4], "HOT");
        if (hot > n)
            bench_die("HOT (%" G_GUINT64_FORMAT ") exceeds N (%" G_GUINT64_FORMAT ")", hot, n);
        build(argv[2], n, hot);
        return 0;
    }
    if (argc == 6 && g_str_equal(argv[1], "read")) {
        guint64 n = parse_count(argv[3], "N"), hot = parse_count(argv[4], "HOT");
        if (hot > n)
            bench_die("HOT exceeds N");
        read_phase(argv[2], n, hot, argv[5]);
        return 0;
    }
    if (argc == 5 && g_str_equal(argv[1], "daemon")) {
        daemon_phase(argv[2], argv[3], argv[4]);
        return 0;
    }
    fprintf(stderr, "usage: bench_scale build SEAFILE_CONF N HOT | read SEAFILE_CONF N HOT LABEL"
                    " | daemon SEAFILE_CONF SEAFTIERD LABEL\n");
    return 2;
}
