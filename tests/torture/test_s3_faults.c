/*
 * tests/torture/test_s3_faults.c — everything completes correctly while S3
 * misbehaves.
 *
 * The configuration points at tests/torture/faultproxy.py, which sits in
 * front of the real RGW and, for a share of the requests (20% unless
 * SEAFTIER_FAULT_RATE says otherwise), answers 500 or 503 SlowDown itself,
 * resets the connection before or after forwarding, stalls mid-body or
 * answers slowly. Through it:
 *  - the client's retries are bounded (max_retries + 1 requests) and backed
 *    off (each pause at least half of 100 ms * 2^n);
 *  - seaftierd uploads a first batch and the library flush a second one;
 *    every object the index calls clean is fetched from RGW directly
 *    (bypassing the proxy) with its exact bytes, during and after uploads;
 *  - evicted objects are read through S3 with their exact bytes;
 *  - deletes reach S3; listings (small pages) give exactly the live set;
 *  - at the end every live object is in S3 with its bytes: lost = 0.
 */
#include "seaftier-build.h"

#include "torture-util.h"
#include "../common/s3test.h"
#include "backend/common.h"
#include "tier/tier.h"

#include <seaftier/log.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

typedef struct {
    SeaftierObjType type;
    char repo[37];
    char id[41];
    gsize len;
    gboolean deleted;
} Obj;

static GPid daemon_pid;
static TTProxy *proxy, *proxy0;

static void
cleanup(void *data)
{
    (void)data;
    if (daemon_pid)
        tt_kill_wait(daemon_pid, SIGKILL, 5);
    daemon_pid = 0;
    tt_proxy_stop(proxy);
    tt_proxy_stop(proxy0);
    proxy = proxy0 = NULL;
}

static char *
key_of(const Obj *o)
{
    return g_strdup_printf("%s/%s", o->repo, o->id);
}

/* ---- retries are bounded and backed off ---- */

typedef struct {
    const char *fault;
    int expect_code;
} RetryCase;

static void
check_retries(const SeaftierConfig *cfg, const char *dir)
{
    static const RetryCase cases[] = {
        { "503", SEAFTIER_S3_ERROR_SLOW_DOWN },
        { "500", SEAFTIER_S3_ERROR_SERVER },
        { "reset", SEAFTIER_S3_ERROR_NETWORK },
    };
    const int max_retries = 3;
    for (gsize c = 0; c < G_N_ELEMENTS(cases); c++) {
        proxy0 = tt_proxy_start(dir, "--rate", "1", "--faults", cases[c].fault, NULL);
        SeaftierS3Config sc = cfg->s3[SEAFTIER_TYPE_FS];
        sc.port = proxy0->port;
        sc.max_retries = max_retries;
        GError *err = NULL;
        SeaftierS3 *s3 = seaftier_s3_new(&sc, &err);
        TT_CHECK(s3 != NULL);
        char *key = g_strdup_printf("retry-%s/object", cases[c].fault);
        double t0 = tt_now_ms();
        gboolean ok = seaftier_s3_put(s3, key, "x", 1, 0, &err);
        double took = tt_now_ms() - t0;
        TT_CHECK_MSG(!ok, "PUT through a proxy failing every request succeeded");
        TT_CHECK_MSG(err->code == cases[c].expect_code, "fault %s gave error %d: %s", cases[c].fault,
                     err->code, err->message);
        TT_CHECK_MSG(strstr(err->message, sc.bucket) && strstr(err->message, key),
                     "the error does not name the bucket and key: %s", err->message);
        /* the proxy's log: one line per request with its time */
        char *log = tt_slurp(proxy0->log_path, NULL);
        TT_CHECK(log != NULL);
        char **lines = g_strsplit(log, "\n", -1);
        double times[64];
        int n = 0;
        for (char **l = lines; *l && n < 64; l++)
            if (strstr(*l, key))
                times[n++] = g_ascii_strtod(*l, NULL);
        g_strfreev(lines);
        g_free(log);
        TT_CHECK_MSG(n == max_retries + 1, "fault %s: %d requests for one PUT with max_retries %d",
                     cases[c].fault, n, max_retries);
        printf("retries (%s): %d requests, pauses", cases[c].fault, n);
        for (int i = 1; i < n; i++) {
            double gap = times[i] - times[i - 1];
            double min_gap = 50.0 * (1 << (i - 1));    /* half of 100 ms * 2^(i-1) */
            printf(" %.0f", gap);
            TT_CHECK_MSG(gap >= min_gap * 0.9, "fault %s: retry %d came after %.1f ms (< %.0f ms)",
                         cases[c].fault, i, gap, min_gap);
        }
        printf(" ms, gave up after %.0f ms: %s\n", took, err->message);
        TT_CHECK_MSG(took < 10000, "gave up only after %.0f ms", took);
        g_error_free(err);
        g_free(key);
        seaftier_s3_free(s3);
        tt_proxy_stop(proxy0);
        proxy0 = NULL;
    }
}

/* ---- every clean row has a real copy in S3 ---- */

static gboolean
collect_entry(const SeaftierTierEntry *e, void *user_data)
{
    g_array_append_val((GArray *)user_data, *e);
    return TRUE;
}

static guint
check_clean_rows(SeaftierTier *tier, SeaftierS3 *direct[3], const char *when)
{
    guint checked = 0;
    for (int t = 0; t < 3; t++) {
        GArray *rows = g_array_new(FALSE, FALSE, sizeof(SeaftierTierEntry));
        GError *err = NULL;
        TT_CHECK_MSG(seaftier_tier_foreach(tier, (SeaftierObjType)t, NULL, 1u << SEAFTIER_STATE_CLEAN,
                                           collect_entry, rows, &err),
                     "%s", err->message);
        for (guint i = 0; i < rows->len; i++) {
            SeaftierTierEntry *e = &g_array_index(rows, SeaftierTierEntry, i);
            char *key = g_strdup_printf("%s/%s", e->repo_id, e->obj_id);
            void *data = NULL;
            gsize len = 0;
            TT_CHECK_MSG(seaftier_s3_get(direct[t], key, &data, &len, &err),
                         "%s: %s %s is clean in the index but not in S3: %s", when,
                         seaftier_type_name((SeaftierObjType)t), key, err->message);
            TT_CHECK_MSG(len == e->size && tt_bytes_match(e->obj_id, data, len),
                         "%s: %s %s is clean but S3 holds other bytes", when,
                         seaftier_type_name((SeaftierObjType)t), key);
            g_free(data);
            g_free(key);
            checked++;
        }
        g_array_free(rows, TRUE);
    }
    return checked;
}

/* ---- listings ---- */

static gboolean
add_key(const SeaftierS3ListEntry *e, void *user_data)
{
    g_hash_table_add(user_data, g_strdup(e->key));
    return TRUE;
}

static gboolean
add_obj(const char *repo_id, int version, const char *obj_id, void *user_data)
{
    (void)version;
    g_hash_table_add(user_data, g_strdup_printf("%s/%s", repo_id, obj_id));
    return TRUE;
}

static void
check_lists(GArray *objs, char repos[][37], int n_repos, SeaftierS3 *via_proxy[3], TTBackends *be)
{
    for (int t = 0; t < 3; t++) {
        for (int r = 0; r < n_repos; r++) {
            GHashTable *want = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
            for (guint i = 0; i < objs->len; i++) {
                Obj *o = &g_array_index(objs, Obj, i);
                if ((int)o->type == t && strcmp(o->repo, repos[r]) == 0 && !o->deleted)
                    g_hash_table_add(want, key_of(o));
            }
            GHashTable *listed = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
            GHashTable *walked = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
            char *prefix = g_strdup_printf("%s/", repos[r]);
            GError *err = NULL;
            TT_CHECK_MSG(seaftier_s3_list(via_proxy[t], prefix, 7, add_key, listed, &err),
                         "listing %s: %s", prefix, err->message);
            int rc = t == SEAFTIER_TYPE_BLOCKS
                         ? be->block->foreach_block(be->block, repos[r], 1, (SeafBlockFunc)add_obj, walked)
                         : be->obj[t]->foreach_obj(be->obj[t], repos[r], 1, add_obj, walked);
            TT_CHECK_MSG(rc == 0, "foreach %s %s failed", seaftier_type_name((SeaftierObjType)t),
                         repos[r]);
            GHashTable *sets[] = { listed, walked };
            const char *names[] = { "S3 listing", "foreach" };
            for (int s = 0; s < 2; s++) {
                TT_CHECK_MSG(g_hash_table_size(sets[s]) == g_hash_table_size(want),
                             "%s of %s %s: %u keys, expected %u", names[s],
                             seaftier_type_name((SeaftierObjType)t), repos[r],
                             g_hash_table_size(sets[s]), g_hash_table_size(want));
                GHashTableIter it;
                gpointer k;
                g_hash_table_iter_init(&it, want);
                while (g_hash_table_iter_next(&it, &k, NULL))
                    TT_CHECK_MSG(g_hash_table_contains(sets[s], k), "%s misses %s", names[s],
                                 (char *)k);
            }
            g_free(prefix);
            g_hash_table_destroy(listed);
            g_hash_table_destroy(walked);
            g_hash_table_destroy(want);
        }
    }
}

static void
write_batch(TTBackends *be, GRand *r, char repos[][37], int n_repos, int n, GArray *objs)
{
    for (int i = 0; i < n; i++) {
        Obj o = { .type = (SeaftierObjType)(i % 3) };
        memcpy(o.repo, repos[i % n_repos], 37);
        o.len = o.type == SEAFTIER_TYPE_BLOCKS ? (gsize)g_rand_int_range(r, 1000, 200000)
                                               : (gsize)g_rand_int_range(r, 50, 8000);
        guint8 *data = tt_make_object(r, o.len, g_rand_boolean(r), o.id);
        TT_CHECK_MSG(tt_be_write(be, o.type, o.repo, o.id, data, o.len, TRUE),
                     "write of %s %s/%s refused", seaftier_type_name(o.type), o.repo, o.id);
        g_free(data);
        g_array_append_val(objs, o);
    }
}

int
main(void)
{
    const char *rate = g_getenv("SEAFTIER_FAULT_RATE") ? g_getenv("SEAFTIER_FAULT_RATE") : "0.2";
    char *dir = s3test_tmpdir("tt-faults");
    tt_at_fail(cleanup, NULL);
    seaftier_log_set_level(SEAFTIER_LOG_ERROR);

    proxy = tt_proxy_start(dir, "--rate", rate, "--faults", "500,503,reset,reset-after,stall,slow",
                           "--stall-seconds", "2", "--slow-seconds", "0.3", NULL);
    TTConfOpts opts = {
        .port = proxy->port,
        .bucket_prefix = "ttfault",
        .extra_s3 = "max_retries = 8\nlow_speed_time = 1\nconnect_timeout = 2\n",
        .extra_tier = "log_level = error\nupload_concurrency = 8\nram_cache_size = 0\n",
    };
    char *conf = tt_write_conf(dir, &opts, NULL);
    SeaftierConfig *cfg = tt_load_cfg(conf);
    char *daemon_log = g_build_filename(dir, "seaftierd.log", NULL);

    check_retries(cfg, dir);

    SeaftierS3 *direct[3], *via_proxy[3];
    for (int t = 0; t < 3; t++) {
        direct[t] = tt_s3_direct(cfg, (SeaftierObjType)t);
        GError *err = NULL;
        via_proxy[t] = seaftier_s3_new(&cfg->s3[t], &err);
        TT_CHECK(via_proxy[t] != NULL);
    }
    GError *err = NULL;

    GRand *r = g_rand_new();
    char repos[2][37];
    for (int i = 0; i < 2; i++)
        tt_random_repo(r, repos[i]);
    GArray *objs = g_array_new(FALSE, FALSE, sizeof(Obj));
    /* The backends' own tier and clients: a second SeaftierTier on the same
     * index in one process is not something seaf-server does. */
    TTBackends *be = tt_backends_open(conf);
    SeaftierBackendShared *sh = seaftier_obj_backend_shared(be->obj[0]);
    SeaftierTier *tier = sh->site->tier;
    int n1 = tt_scaled(120, 30), n2 = tt_scaled(60, 15);

    /* 1. the daemon uploads through the faults */
    double t0 = tt_now_ms();
    daemon_pid = tt_spawn_daemon(dir, daemon_log, "--log-level", "info", NULL);
    write_batch(be, r, repos, 2, n1, objs);
    guint clean_checks = 0;
    for (int i = 0; i < 2; i++) {
        g_usleep(700000);
        clean_checks += check_clean_rows(tier, direct, "while the daemon uploads");
    }
    TT_CHECK_MSG(tt_wait_drained(cfg->tier.dir, FALSE, 120),
                 "seaftierd did not upload everything through the faults: %" G_GINT64_FORMAT
                 " dirty left, see %s", tt_dirty_count(cfg->tier.dir), daemon_log);
    double daemon_ms = tt_now_ms() - t0;
    clean_checks += check_clean_rows(tier, direct, "after the daemon uploaded");
    int st = tt_daemon_term(daemon_pid, cfg->tier.dir);
    daemon_pid = 0;
    TT_CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "seaftierd exit status 0x%x", st);

    /* 2. the sync engine's flush job (seaftier-admin flush without a daemon)
     * uploads through the faults */
    write_batch(be, r, repos, 2, n2, objs);
    t0 = tt_now_ms();
    int flush_rounds = 0;
    while (tt_dirty_count(cfg->tier.dir) > 0) {
        TT_CHECK_MSG(++flush_rounds <= 5, "library flush still leaves %" G_GINT64_FORMAT " dirty",
                     tt_dirty_count(cfg->tier.dir));
        SeaftierFlushOptions fopts = { .type = -1 };
        SeaftierFlushProgress fp;
        if (!seaftier_sync_flush(sh->sync, &fopts, &fp, &err)) {
            printf("flush round %d: %s\n", flush_rounds, err->message);
            g_clear_error(&err);
        } else if (fp.failed_objects > 0) {
            printf("flush round %d: %" G_GUINT64_FORMAT " uploads failed\n", flush_rounds,
                   fp.failed_objects);
        }
    }
    double flush_ms = tt_now_ms() - t0;
    clean_checks += check_clean_rows(tier, direct, "after the library flush");

    /* 3. reads through S3 after eviction */
    guint64 evicted = 0;
    TT_CHECK_MSG(seaftier_tier_evict_clean(tier, NULL, &evicted, &err), "%s", err->message);
    TT_CHECK_MSG(evicted == objs->len, "evicted %" G_GUINT64_FORMAT " of %u clean objects", evicted,
                 objs->len);
    t0 = tt_now_ms();
    for (guint i = 0; i < objs->len; i++) {
        Obj *o = &g_array_index(objs, Obj, i);
        guint8 *data = NULL;
        gsize len = 0;
        TT_CHECK_MSG(tt_be_read(be, o->type, o->repo, o->id, &data, &len),
                     "read-through of %s %s/%s failed", seaftier_type_name(o->type), o->repo, o->id);
        TT_CHECK_MSG(len == o->len && tt_bytes_match(o->id, data, len),
                     "read-through of %s %s/%s returned other bytes", seaftier_type_name(o->type),
                     o->repo, o->id);
        g_free(data);
    }
    double read_ms = tt_now_ms() - t0;

    /* 4. deletes reach S3 */
    guint n_deleted = 0;
    for (guint i = 1; i < objs->len; i += 4) {    /* every type: the types rotate by 3 */
        Obj *o = &g_array_index(objs, Obj, i);
        if (o->type == SEAFTIER_TYPE_BLOCKS)
            TT_CHECK(be->block->remove_block(be->block, o->repo, 1, o->id) == 0);
        else
            be->obj[o->type]->delete(be->obj[o->type], o->repo, 1, o->id);
        o->deleted = TRUE;
        n_deleted++;
    }
    char *db = g_build_filename(cfg->tier.dir, "index.db", NULL);
    int delete_rounds = 0;
    while (tt_sql_int(db, "SELECT count(*) FROM objects WHERE state = 2") > 0) {
        TT_CHECK_MSG(++delete_rounds <= 5, "remote deletes still pending");
        if (!seaftier_sync_flush_deletes(sh->sync, -1, FALSE, NULL, NULL, &err)) {
            printf("delete round %d: %s\n", delete_rounds, err->message);
            g_clear_error(&err);
        }
    }
    for (guint i = 0; i < objs->len; i++) {
        Obj *o = &g_array_index(objs, Obj, i);
        if (!o->deleted)
            continue;
        char *key = key_of(o);
        TT_CHECK_MSG(!seaftier_s3_head(direct[o->type], key, NULL, &err) &&
                         err->code == SEAFTIER_S3_ERROR_NOT_FOUND,
                     "deleted %s %s is still in S3", seaftier_type_name(o->type), key);
        g_clear_error(&err);
        g_free(key);
    }

    /* 5. listings through the faults */
    check_lists(objs, repos, 2, via_proxy, be);

    /* 6. nothing lost */
    guint lost = 0, live = 0;
    for (guint i = 0; i < objs->len; i++) {
        Obj *o = &g_array_index(objs, Obj, i);
        if (o->deleted)
            continue;
        live++;
        char *key = key_of(o);
        void *data = NULL;
        gsize len = 0;
        if (!seaftier_s3_get(direct[o->type], key, &data, &len, &err)) {
            g_printerr("LOST: %s %s: %s\n", seaftier_type_name(o->type), key, err->message);
            g_clear_error(&err);
            lost++;
        } else if (len != o->len || !tt_bytes_match(o->id, data, len)) {
            g_printerr("CORRUPT in S3: %s %s\n", seaftier_type_name(o->type), key);
            lost++;
        }
        g_free(data);
        g_free(key);
    }
    char *msg = NULL;
    TT_CHECK_MSG(tt_integrity_check(db, &msg), "integrity_check: %s", msg);
    g_free(msg);

    gint64 requests = tt_proxy_stat(proxy, "requests"), faults = tt_proxy_stat(proxy, "faults");
    printf("s3 faults: rate %s, requests %" G_GINT64_FORMAT ", faults injected %" G_GINT64_FORMAT
           " (500: %" G_GINT64_FORMAT ", 503: %" G_GINT64_FORMAT ", reset: %" G_GINT64_FORMAT
           ", reset-after: %" G_GINT64_FORMAT ", stall: %" G_GINT64_FORMAT ", slow: %" G_GINT64_FORMAT
           ")\n",
           rate, requests, faults, tt_proxy_stat(proxy, "fault_500"), tt_proxy_stat(proxy, "fault_503"),
           tt_proxy_stat(proxy, "fault_reset"), tt_proxy_stat(proxy, "fault_reset-after"),
           tt_proxy_stat(proxy, "fault_stall"), tt_proxy_stat(proxy, "fault_slow"));
    printf("s3 faults: objects %u (daemon %d in %.1f s, library flush %d in %.1f s / %d rounds), "
           "read-through %u in %.1f s, deleted %u, clean rows checked in RGW %u, objects lost %u\n",
           objs->len, n1, daemon_ms / 1000, n2, flush_ms / 1000, flush_rounds, objs->len,
           read_ms / 1000, n_deleted, clean_checks, lost);
    TT_CHECK(faults > 0);
    TT_CHECK(lost == 0);
    (void)live;

    tt_backends_close(be);
    for (int t = 0; t < 3; t++) {
        seaftier_s3_free(direct[t]);
        seaftier_s3_free(via_proxy[t]);
    }
    tt_proxy_stop(proxy);
    proxy = NULL;
    seaftier_config_free(cfg);
    g_array_free(objs, TRUE);
    g_rand_free(r);
    tt_empty_buckets(conf);
    if (!g_getenv("SEAFTIER_TORTURE_KEEP"))
        s3test_rm_rf(dir);
    g_free(db);
    g_free(daemon_log);
    g_free(conf);
    g_free(dir);
    return 0;
}
