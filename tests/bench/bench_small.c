/*
 * tests/bench/bench_small.c — hit reads of small objects (1 KiB and 4 KiB),
 * single thread, one latency sample per GET, for one store:
 *
 *   bench_small memcached HOST PORT [LABEL]   libmemcached over TCP
 *   bench_small redis-tcp HOST PORT [LABEL]   hiredis over TCP
 *   bench_small redis-unix PATH [LABEL]       hiredis over a unix socket
 *   bench_small fs ROOT                       Seafile's fs layout, open/read/close
 *   bench_small tier SEAFILE_CONF             ObjBackend read: RAM-tier hits, then
 *                                             disk-tier hits (ram_cache_size = 0),
 *                                             then disk-tier hits through the index
 *                                             alone (location_cache_size = 0 too)
 *
 * Every store gets the same objects (text-like; the tier stores commits as
 * Seafile writes them, without lz4, so a hit reads them raw) and the same
 * random read order.
 * Every object is read back once and compared before the timed phase, which
 * also warms caches: these are hits.
 * Prints RESULT small.<label>.<1k|4k>.p50_us / .p99_us.
 * Environment: BENCH_SMALL_OBJECTS (per size, default 10000),
 * BENCH_SMALL_READS (timed reads per size, default 100000).
 */
#include "seaftier-build.h"

#include "bench-util.h"

#include <hiredis/hiredis.h>
#include <libmemcached/memcached.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct Store Store;

/* One store under test: get returns a new buffer (g_free/free per `libc`). */
struct Store {
    const char *label;
    gboolean (*put)(Store *st, const char *id, const void *data, gsize len);
    gboolean (*get)(Store *st, const char *id, void **data, gsize *len);
    gboolean libc_free;        /* the buffer comes from malloc (free), else g_malloc */
    memcached_st *mc;
    redisContext *rc;
    const char *root;
    ObjBackend *ob;
};

static const gsize sizes[] = { 1024, 4096 };
static const char *const size_names[] = { "1k", "4k" };

static gsize n_objects = 10000;
static gsize n_reads = 100000;

/* ---- memcached ---- */

static gboolean
mc_put(Store *st, const char *id, const void *data, gsize len)
{
    return memcached_set(st->mc, id, 40, data, len, 0, 0) == MEMCACHED_SUCCESS;
}

static gboolean
mc_get(Store *st, const char *id, void **data, gsize *len)
{
    uint32_t flags = 0;
    memcached_return_t rc;
    size_t n = 0;
    char *v = memcached_get(st->mc, id, 40, &n, &flags, &rc);
    if (!v)
        return FALSE;
    *data = v;
    *len = n;
    return TRUE;
}

/* ---- redis ---- */

static gboolean
rd_put(Store *st, const char *id, const void *data, gsize len)
{
    redisReply *r = redisCommand(st->rc, "SET %b %b", id, (size_t)40, data, len);
    gboolean ok = r && r->type == REDIS_REPLY_STATUS;
    if (r)
        freeReplyObject(r);
    return ok;
}

static gboolean
rd_get(Store *st, const char *id, void **data, gsize *len)
{
    redisReply *r = redisCommand(st->rc, "GET %b", id, (size_t)40);
    if (!r || r->type != REDIS_REPLY_STRING) {
        if (r)
            freeReplyObject(r);
        return FALSE;
    }
    /* Take the bytes out of the reply as a client would keep them. */
    void *v = malloc(r->len ? r->len : 1);
    memcpy(v, r->str, r->len);
    *data = v;
    *len = r->len;
    freeReplyObject(r);
    return TRUE;
}

/* ---- Seafile's fs layout ---- */

static gboolean
fs_put(Store *st, const char *id, const void *data, gsize len)
{
    return bench_fs_write(st->root, BENCH_REPO, id, data, len, FALSE);
}

static gboolean
fs_get(Store *st, const char *id, void **data, gsize *len)
{
    return bench_fs_read(st->root, BENCH_REPO, id, data, len);
}

/* ---- seaftier's ObjBackend ---- */

static gboolean
tier_put(Store *st, const char *id, const void *data, gsize len)
{
    return st->ob->write(st->ob, BENCH_REPO, 1, id, (void *)data, (int)len, FALSE) == 0;
}

static gboolean
tier_get(Store *st, const char *id, void **data, gsize *len)
{
    int n = 0;
    if (st->ob->read(st->ob, BENCH_REPO, 1, id, data, &n) != 0)
        return FALSE;
    *len = (gsize)n;
    return TRUE;
}

/* ---- the measurement ---- */

static void
release(Store *st, void *data)
{
    if (st->libc_free)
        free(data);
    else
        g_free(data);
}

static void
load(Store *st, int si)
{
    guint8 *buf = g_malloc(sizes[si]);
    char id[41];
    for (gsize i = 0; i < n_objects; i++) {
        bench_obj_id(size_names[si], i, id);
        bench_fill_text((guint32)(i * 2 + (guint32)si), buf, sizes[si]);
        if (!st->put(st, id, buf, sizes[si]))
            bench_die("%s: storing object %s failed", st->label, id);
    }
    g_free(buf);
}

/* Reads every object once and compares it: checks the store and warms it. */
static void
verify_all(Store *st, int si)
{
    guint8 *want = g_malloc(sizes[si]);
    char id[41];
    for (gsize i = 0; i < n_objects; i++) {
        bench_obj_id(size_names[si], i, id);
        bench_fill_text((guint32)(i * 2 + (guint32)si), want, sizes[si]);
        void *got = NULL;
        gsize len = 0;
        if (!st->get(st, id, &got, &len))
            bench_die("%s: object %s cannot be read back", st->label, id);
        if (len != sizes[si] || memcmp(got, want, len) != 0)
            bench_die("%s: object %s reads back wrong (%" G_GSIZE_FORMAT " bytes)", st->label,
                      id, len);
        release(st, got);
    }
    g_free(want);
}

static void
measure(Store *st, int si)
{
    /* Ids up front, so that the loop times only the GET. */
    BenchId *ids = bench_ids(size_names[si], n_objects);
    GRand *r = g_rand_new_with_seed(42 + (guint32)si);
    BenchSamples *s = bench_samples_new(n_reads);
    for (gsize k = 0; k < n_reads; k++) {
        const char *id = ids[g_rand_int_range(r, 0, (gint32)n_objects)].s;
        void *data = NULL;
        gsize len = 0;
        guint64 t0 = bench_now_ns();
        gboolean ok = st->get(st, id, &data, &len);
        guint64 t1 = bench_now_ns();
        if (!ok || len != sizes[si])
            bench_die("%s: read of %s failed during the timed phase", st->label, id);
        release(st, data);
        bench_samples_add(s, t1 - t0);
    }
    char prefix[128];
    g_snprintf(prefix, sizeof prefix, "small.%s.%s", st->label, size_names[si]);
    bench_result_latency(prefix, s);
    bench_samples_free(s);
    g_rand_free(r);
    g_free(ids);
}

static void
run(Store *st, gboolean do_load)
{
    for (int si = 0; si < 2; si++) {
        if (do_load)
            load(st, si);
    }
    bench_sync();
    for (int si = 0; si < 2; si++) {
        verify_all(st, si);
        measure(st, si);
    }
}

static gsize
env_size(const char *name, gsize dflt)
{
    const char *v = g_getenv(name);
    return v && *v ? (gsize)g_ascii_strtoull(v, NULL, 10) : dflt;
}

static void
usage(void)
{
    fprintf(stderr, "usage: bench_small memcached HOST PORT [LABEL] | redis-tcp HOST PORT [LABEL]"
                    " | redis-unix PATH [LABEL] | fs ROOT | tier SEAFILE_CONF\n");
    exit(2);
}

int
main(int argc, char **argv)
{
    if (argc < 3)
        usage();
    n_objects = env_size("BENCH_SMALL_OBJECTS", n_objects);
    n_reads = env_size("BENCH_SMALL_READS", n_reads);
    if (n_objects == 0 || n_reads == 0)
        bench_die("BENCH_SMALL_OBJECTS and BENCH_SMALL_READS must be positive");
    Store st = { 0 };
    const char *mode = argv[1];

    if (g_str_equal(mode, "memcached") && argc >= 4) {
        st.label = argc >= 5 ? argv[4] : "memcached";
        st.mc = memcached_create(NULL);
        /* The peer's best case: no Nagle delay on loopback. */
        memcached_behavior_set(st.mc, MEMCACHED_BEHAVIOR_TCP_NODELAY, 1);
        if (memcached_server_add(st.mc, argv[2], (in_port_t)atoi(argv[3])) != MEMCACHED_SUCCESS)
            bench_die("memcached_server_add %s:%s failed", argv[2], argv[3]);
        st.put = mc_put;
        st.get = mc_get;
        st.libc_free = TRUE;
        run(&st, TRUE);
        memcached_free(st.mc);
    } else if ((g_str_equal(mode, "redis-tcp") && argc >= 4) ||
               g_str_equal(mode, "redis-unix")) {
        gboolean tcp = g_str_equal(mode, "redis-tcp");
        st.label = tcp ? (argc >= 5 ? argv[4] : "redis_tcp") : (argc >= 4 ? argv[3] : "redis_unix");
        st.rc = tcp ? redisConnect(argv[2], atoi(argv[3])) : redisConnectUnix(argv[2]);
        if (!st.rc || st.rc->err)
            bench_die("cannot connect to redis at %s: %s", argv[2],
                      st.rc ? st.rc->errstr : "out of memory");
        st.put = rd_put;
        st.get = rd_get;
        st.libc_free = TRUE;
        run(&st, TRUE);
        redisFree(st.rc);
    } else if (g_str_equal(mode, "fs")) {
        st.label = "fs";
        st.root = argv[2];
        st.put = fs_put;
        st.get = fs_get;
        bench_fs_mkdirs(st.root, BENCH_REPO);
        run(&st, TRUE);
    } else if (g_str_equal(mode, "tier")) {
        st.put = tier_put;
        st.get = tier_get;
        /* RAM tier (default size) in front of the disk tier. */
        GKeyFile *kf = bench_load_conf(argv[2], NULL);
        st.label = "tier_ram";
        st.ob = bench_obj_backend(kf, "commits");
        run(&st, TRUE);
        obj_backend_tier_free(st.ob);
        g_key_file_free(kf);
        /* Same tier reopened without a RAM tier: every hit is a disk-tier hit
         * (through the location cache, as configured by default)... */
        kf = bench_load_conf(argv[2], "ram_cache_size", "0", NULL);
        st.label = "tier_disk";
        st.ob = bench_obj_backend(kf, "commits");
        run(&st, FALSE);
        obj_backend_tier_free(st.ob);
        g_key_file_free(kf);
        /* ...and without it: every hit looks its key up in the index. */
        kf = bench_load_conf(argv[2], "ram_cache_size", "0", "location_cache_size", "0", NULL);
        st.label = "tier_disk_index";
        st.ob = bench_obj_backend(kf, "commits");
        run(&st, FALSE);
        obj_backend_tier_free(st.ob);
        g_key_file_free(kf);
    } else {
        usage();
    }
    return 0;
}
