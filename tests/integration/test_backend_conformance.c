/*
 * tests/integration/test_backend_conformance.c — Seafile's contract, checked
 * on the three backends (commits, fs: ObjBackend; blocks: BlockBackend)
 * against the real test S3 server, once over plain http and once over https
 * with virtual-host addressing and SSE-C (where Ceph cannot server-side copy).
 */
#include "seaftier-build.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <seaftier/log.h>

#include "backend-testutil.h"

static GRand *rng;

typedef struct {
    const char *name;
    S3TestVariant variant;
    BeEnv *env;
} Group;

static Group plain = { "bcp", { FALSE, FALSE, FALSE, FALSE }, NULL };
static Group secure = { "bcs", { TRUE, TRUE, TRUE, TRUE }, NULL };

static Group *current;

static int
group_setup(void **state)
{
    Group *g = current;
    *state = g;
    g->env = beenv_new(g->name, &g->variant, NULL);
    return 0;
}

static int
group_teardown(void **state)
{
    Group *g = *state;
    beenv_free(g->env);
    g->env = NULL;
    return 0;
}

static BeEnv *
env_of(void **state)
{
    return ((Group *)*state)->env;
}

static guint8 *
make_data(gsize len, gboolean compressible)
{
    guint8 *buf = g_malloc(len ? len : 1);
    if (compressible)
        fill_compressible(rng, buf, len);
    else
        fill_random(rng, buf, len);
    return buf;
}

static void
check_read(BeEnv *env, StoreKind kind, const char *repo, const char *id, const void *want,
           gsize want_len, const char *what)
{
    void *got = NULL;
    gsize got_len = 0;
    if (store_read(env, kind, repo, id, &got, &got_len) != 0)
        test_fail("%s: %s read of %s/%s failed", what, store_name(kind), repo, id);
    assert_same(what, got, got_len, want, want_len);
    g_free(got);
}

static SeaftierState
row_state(BeEnv *env, StoreKind kind, const char *repo, const char *id)
{
    SeaftierTierEntry e;
    if (!tier_row(env, kind, repo, id, &e))
        return (SeaftierState)-1;
    return e.state;
}

/* ---- round trips ---- */

typedef struct {
    StoreKind kind;
    char *repo;
    char *id;
    guint8 *data;
    gsize len;
} Written;

static void
test_roundtrip(void **state)
{
    BeEnv *env = env_of(state);
    static const gsize sizes[] = { 0, 1, 4096, 1 << 20, 8 << 20, (8 << 20) + 1 };
    GPtrArray *all = g_ptr_array_new();
    for (int kind = 0; kind < N_STORES; kind++) {
        for (guint s = 0; s < G_N_ELEMENTS(sizes); s++) {
            for (int comp = 0; comp < 2; comp++) {
                Written *w = g_new0(Written, 1);
                w->kind = (StoreKind)kind;
                w->repo = rand_repo_id(rng);
                w->id = rand_obj_id(rng);
                w->len = sizes[s];
                w->data = make_data(w->len, comp);
                assert_int_equal(store_write(env, w->kind, w->repo, w->id, w->data, w->len, TRUE),
                                 0);
                assert_int_equal(row_state(env, w->kind, w->repo, w->id), SEAFTIER_STATE_DIRTY);
                check_read(env, w->kind, w->repo, w->id, w->data, w->len, "read after write");
                assert_true(store_exists(env, w->kind, w->repo, w->id));
                /* A second write of the same id is a no-op that succeeds. */
                assert_int_equal(store_write(env, w->kind, w->repo, w->id, w->data, w->len, FALSE),
                                 0);
                if (w->kind == STORE_BLOCKS) {
                    BMetadata *md = env->blocks->stat_block(env->blocks, w->repo, 1, w->id);
                    assert_non_null(md);
                    assert_int_equal(md->size, w->len);
                    assert_string_equal(md->id, w->id);
                    g_free(md);
                }
                g_ptr_array_add(all, w);
            }
        }
    }

    beenv_flush(env);
    for (guint i = 0; i < all->len; i++) {
        Written *w = g_ptr_array_index(all, i);
        assert_int_equal(row_state(env, w->kind, w->repo, w->id), SEAFTIER_STATE_CLEAN);
        /* S3 holds the raw bytes under <repo>/<id>, as Seafile Pro lays them out. */
        GBytes *raw = s3_object(env, w->kind, w->repo, w->id);
        assert_non_null(raw);
        gsize rlen;
        const void *rdata = g_bytes_get_data(raw, &rlen);
        assert_same("S3 body", rdata, rlen, w->data, w->len);
        g_bytes_unref(raw);

        guint64 evicted = 0;
        GError *err = NULL;
        assert_true(seaftier_tier_evict_clean(beenv_shared(env)->site->tier, w->repo, &evicted, &err));
        assert_int_equal(evicted, 1);
        /* Evicted: no local copy, the row says S3 holds it. */
        assert_int_equal(row_state(env, w->kind, w->repo, w->id), SEAFTIER_STATE_REMOTE);
        check_read(env, w->kind, w->repo, w->id, w->data, w->len, "read-through after eviction");
        assert_int_equal(row_state(env, w->kind, w->repo, w->id), SEAFTIER_STATE_CLEAN);
        if (w->kind == STORE_BLOCKS) {
            /* stat of an evicted block comes from its REMOTE row: the original size. */
            assert_true(seaftier_tier_evict_clean(beenv_shared(env)->site->tier, w->repo, NULL, &err));
            BMetadata *md = env->blocks->stat_block(env->blocks, w->repo, 1, w->id);
            assert_non_null(md);
            assert_int_equal(md->size, w->len);
            g_free(md);
        }
        g_free(w->repo);
        g_free(w->id);
        g_free(w->data);
        g_free(w);
    }
    g_ptr_array_free(all, TRUE);
}

/* ---- invalid ids ---- */

static const char *const bad_repos[] = {
    NULL, "", "not-a-uuid", "../../../../etc/passwd",
    "0b8f6e0c-1f3e-4c5a-9a8b-7c6d5e4f3a2",      /* 35 chars */
    "0b8f6e0c-1f3e-4c5a-9a8b-7c6d5e4f3a2b0",    /* 37 chars */
    "0b8f6e0c-1f3e-4c5a-9a8b/7c6d5e4f3a2b",
    "0b8f6e0c-1f3e-4c5a-9a8b-7c6d5e4f3a2\n",
    "0b8f6e0c01f3e04c5a09a8b07c6d5e4f3a2b",
    "0b8f6e0c-1f3e-4c5a-9a8b-7c6d5e4f3a2g",
};

static const char *const bad_ids[] = {
    NULL, "", "../../../../../../../../../../etc/passwd00",
    "0123456789abcdef0123456789abcdef0123456",      /* 39 */
    "0123456789abcdef0123456789abcdef012345678",    /* 41 */
    "0123456789ABCDEF0123456789abcdef01234567",     /* uppercase */
    "0123456789abcdef0123456789abcdef0123456g",
    "0123456789abcdef0123456789abcdef012345/7",
    "0123456789abcdef0123456789abcdef0123456\x80",
};

static gboolean
count_row(const SeaftierTierEntry *entry, void *user_data)
{
    (*(guint *)user_data)++;
    return TRUE;
}

static guint
tier_rows(BeEnv *env, StoreKind kind, const char *repo)
{
    guint n = 0;
    GError *err = NULL;
    if (!seaftier_tier_foreach(beenv_shared(env)->site->tier, store_type(kind), repo, 7u, count_row,
                               &n, &err))
        test_fail("tier foreach: %s", err->message);
    return n;
}

static gboolean
never_called(const char *repo_id, int version, const char *obj_id, void *user_data)
{
    test_fail("foreach called back for an invalid repo id");
}

static void
check_rejected(BeEnv *env, StoreKind kind, const char *repo, const char *id,
               const char *good_repo)
{
    static const char data[] = "payload";
    void *out = NULL;
    gsize out_len = 0;
    assert_int_equal(store_write(env, kind, repo, id, data, sizeof data, TRUE), -1);
    assert_int_equal(store_write(env, kind, repo, id, data, sizeof data, FALSE), -1);
    assert_int_equal(store_read(env, kind, repo, id, &out, &out_len), -1);
    assert_false(store_exists(env, kind, repo, id));
    store_delete(env, kind, repo, id);
    if (kind == STORE_BLOCKS)
        assert_int_equal(store_delete(env, kind, repo, id), -1);
    assert_int_equal(store_copy(env, kind, repo, good_repo, id), -1);
    assert_int_equal(store_copy(env, kind, good_repo, repo, id), -1);
    if (kind == STORE_BLOCKS) {
        BlockBackend *b = env->blocks;
        assert_null(b->open_block(b, repo, 1, id, BLOCK_READ));
        assert_null(b->open_block(b, repo, 1, id, BLOCK_WRITE));
        assert_null(b->stat_block(b, repo, 1, id));
    }
}

static void
test_invalid_ids(void **state)
{
    BeEnv *env = env_of(state);
    char *good_repo = rand_repo_id(rng);
    char *good_id = rand_obj_id(rng);
    for (int kind = 0; kind < N_STORES; kind++) {
        for (guint r = 0; r < G_N_ELEMENTS(bad_repos); r++) {
            check_rejected(env, (StoreKind)kind, bad_repos[r], good_id, good_repo);
            if (kind == STORE_BLOCKS) {
                assert_int_equal(env->blocks->foreach_block(env->blocks, bad_repos[r], 1,
                                                            never_called, NULL), -1);
            } else {
                ObjBackend *b = kind == STORE_COMMITS ? env->commits : env->fs;
                assert_int_equal(b->foreach_obj(b, bad_repos[r], 1, never_called, NULL), -1);
            }
            assert_int_equal(store_remove_store(env, (StoreKind)kind, bad_repos[r], NULL, NULL),
                             -1);
        }
        for (guint i = 0; i < G_N_ELEMENTS(bad_ids); i++)
            check_rejected(env, (StoreKind)kind, good_repo, bad_ids[i], good_repo);
        /* Nothing was created anywhere under the valid half. */
        assert_int_equal(tier_rows(env, (StoreKind)kind, good_repo), 0);
        assert_int_equal(s3_count(env, (StoreKind)kind, good_repo), 0);
    }
    /* An unknown object type is refused by the constructor. */
    GError *err = NULL;
    assert_null(obj_backend_tier_new(env->dir, "blocks", env->kf, &err));
    assert_non_null(err);
    g_clear_error(&err);
    assert_null(obj_backend_tier_new(env->dir, NULL, env->kf, &err));
    g_clear_error(&err);
    g_free(good_repo);
    g_free(good_id);
}

/* ---- missing objects ---- */

static void
test_missing(void **state)
{
    BeEnv *env = env_of(state);
    for (int k = 0; k < N_STORES; k++) {
        StoreKind kind = (StoreKind)k;
        char *repo = rand_repo_id(rng), *other = rand_repo_id(rng), *id = rand_obj_id(rng);
        void *out = NULL;
        gsize out_len = 0;
        assert_int_equal(store_read(env, kind, repo, id, &out, &out_len), -1);
        assert_false(store_exists(env, kind, repo, id));
        assert_int_equal(store_copy(env, kind, repo, other, id), -1);
        assert_false(store_exists(env, kind, other, id));
        if (kind == STORE_BLOCKS) {
            assert_null(env->blocks->open_block(env->blocks, repo, 1, id, BLOCK_READ));
            assert_null(env->blocks->stat_block(env->blocks, repo, 1, id));
        }
        GHashTable *ids;
        assert_int_equal(store_foreach(env, kind, repo, &ids, NULL), 0);
        assert_int_equal(g_hash_table_size(ids), 0);
        g_hash_table_destroy(ids);
        guint64 last = 99;
        assert_int_equal(store_remove_store(env, kind, repo, &last, NULL), 0);
        assert_int_equal(last, 0);
        /* Deleting a missing object is harmless and leaves it missing. */
        assert_int_equal(store_delete(env, kind, repo, id), 0);
        assert_false(store_exists(env, kind, repo, id));
        assert_int_equal(store_read(env, kind, repo, id, &out, &out_len), -1);
        g_free(repo);
        g_free(other);
        g_free(id);
    }
}

/* ---- block handle misuse ---- */

static void
test_handle_misuse(void **state)
{
    BeEnv *env = env_of(state);
    BlockBackend *b = env->blocks;
    char *repo = rand_repo_id(rng), *id = rand_obj_id(rng), *id2 = rand_obj_id(rng);
    guint8 data[5000], buf[100];
    fill_random(rng, data, sizeof data);

    BHandle *w = b->open_block(b, repo, 1, id, BLOCK_WRITE);
    assert_non_null(w);
    assert_int_equal(b->read_block(b, w, buf, sizeof buf), -1);        /* read on write handle */
    assert_int_equal(b->write_block(b, w, data, 3000), 3000);
    assert_int_equal(b->write_block(b, w, data + 3000, 2000), 2000);
    assert_int_equal(b->write_block(b, w, data, -1), -1);
    BMetadata *md = b->stat_block_by_handle(b, w);
    assert_non_null(md);
    assert_int_equal(md->size, sizeof data);
    g_free(md);
    assert_false(b->exists(b, repo, 1, id));                            /* invisible before commit */
    assert_int_equal(b->close_block(b, w), 0);
    assert_int_equal(b->close_block(b, w), -1);                         /* close twice */
    assert_int_equal(b->write_block(b, w, data, 10), -1);               /* write after close */
    assert_int_equal(b->commit_block(b, w), 0);                         /* Seafile commits after close */
    assert_int_equal(b->commit_block(b, w), -1);                        /* commit twice */
    b->block_handle_free(b, w);
    assert_true(b->exists(b, repo, 1, id));

    BHandle *r = b->open_block(b, repo, 1, id, BLOCK_READ);
    assert_non_null(r);
    assert_int_equal(b->write_block(b, r, data, 10), -1);               /* write on read handle */
    assert_int_equal(b->commit_block(b, r), -1);                        /* commit of read handle */
    assert_int_equal(b->read_block(b, r, buf, sizeof buf), (int)sizeof buf);
    assert_memory_equal(buf, data, sizeof buf);
    assert_int_equal(b->close_block(b, r), 0);
    assert_int_equal(b->read_block(b, r, buf, sizeof buf), -1);         /* read after close */
    b->block_handle_free(b, r);

    /* Free without commit discards the block. */
    w = b->open_block(b, repo, 1, id2, BLOCK_WRITE);
    assert_non_null(w);
    assert_int_equal(b->write_block(b, w, data, sizeof data), (int)sizeof data);
    assert_int_equal(b->close_block(b, w), 0);
    b->block_handle_free(b, w);
    assert_false(b->exists(b, repo, 1, id2));
    assert_null(b->open_block(b, repo, 1, id2, BLOCK_READ));
    assert_int_equal((int)row_state(env, STORE_BLOCKS, repo, id2), -1);

    assert_null(b->open_block(b, repo, 1, id, 7));                      /* unknown mode */
    assert_int_equal(b->read_block(b, NULL, buf, 1), -1);
    assert_int_equal(b->commit_block(b, NULL), -1);
    assert_null(b->stat_block_by_handle(b, NULL));
    b->block_handle_free(b, NULL);
    g_free(repo);
    g_free(id);
    g_free(id2);
}

/* ---- delete ---- */

static void
test_delete(void **state)
{
    BeEnv *env = env_of(state);
    for (int k = 0; k < N_STORES; k++) {
        StoreKind kind = (StoreKind)k;
        char *repo = rand_repo_id(rng), *dirty = rand_obj_id(rng), *clean = rand_obj_id(rng);
        guint8 a[3000], c[2000];
        fill_random(rng, a, sizeof a);
        fill_compressible(rng, c, sizeof c);
        assert_int_equal(store_write(env, kind, repo, clean, c, sizeof c, TRUE), 0);
        beenv_flush(env);
        assert_int_equal(store_write(env, kind, repo, dirty, a, sizeof a, TRUE), 0);

        /* A dirty object never uploaded simply goes. */
        assert_int_equal(store_delete(env, kind, repo, dirty), 0);
        assert_false(store_exists(env, kind, repo, dirty));
        void *out = NULL;
        gsize out_len;
        assert_int_equal(store_read(env, kind, repo, dirty, &out, &out_len), -1);

        /* A clean one leaves a pending delete; S3 still has the object, but
         * nothing may bring it back. */
        assert_int_equal(store_delete(env, kind, repo, clean), 0);
        assert_int_equal(row_state(env, kind, repo, clean), SEAFTIER_STATE_DELETED);
        GBytes *still = s3_object(env, kind, repo, clean);
        assert_non_null(still);
        g_bytes_unref(still);
        assert_false(store_exists(env, kind, repo, clean));
        assert_int_equal(store_read(env, kind, repo, clean, &out, &out_len), -1);
        if (kind == STORE_BLOCKS)
            assert_null(env->blocks->stat_block(env->blocks, repo, 1, clean));
        GHashTable *ids;
        assert_int_equal(store_foreach(env, kind, repo, &ids, NULL), 0);
        assert_int_equal(g_hash_table_size(ids), 0);
        g_hash_table_destroy(ids);

        beenv_flush(env);
        assert_null(s3_object(env, kind, repo, clean));
        assert_int_equal((int)row_state(env, kind, repo, clean), -1);

        /* Written again after the delete: back for good. */
        assert_int_equal(store_write(env, kind, repo, clean, c, sizeof c, FALSE), 0);
        check_read(env, kind, repo, clean, c, sizeof c, "rewrite after delete");
        beenv_flush(env);
        GBytes *back = s3_object(env, kind, repo, clean);
        assert_non_null(back);
        g_bytes_unref(back);
        g_free(repo);
        g_free(dirty);
        g_free(clean);
    }
}

/* ---- copy ---- */

/* S3 requests of every type sent so far by this environment's clients. */
static guint64
requests_sent(BeEnv *env)
{
    guint64 n = 0;
    for (int t = 0; t < SEAFTIER_N_TYPES; t++) {
        SeaftierS3Stats st;
        seaftier_s3_get_stats(beenv_shared(env)->site->s3[t], &st);
        n += st.requests;
    }
    return n;
}

static void
test_copy(void **state)
{
    BeEnv *env = env_of(state);
    for (int k = 0; k < N_STORES; k++) {
        StoreKind kind = (StoreKind)k;
        char *src = rand_repo_id(rng), *dst = rand_repo_id(rng);
        char *d = rand_obj_id(rng), *c = rand_obj_id(rng), *e = rand_obj_id(rng);
        char *p = rand_obj_id(rng);
        gsize n = 70000;
        guint8 *dd = make_data(n, FALSE), *cd = make_data(n, TRUE), *ed = make_data(n, FALSE);
        guint8 *pd = make_data(n, TRUE);

        /* Dirty source: copied locally, the copy is dirty. */
        assert_int_equal(store_write(env, kind, src, d, dd, n, TRUE), 0);
        assert_int_equal(store_copy(env, kind, src, dst, d), 0);
        assert_int_equal(row_state(env, kind, dst, d), SEAFTIER_STATE_DIRTY);
        check_read(env, kind, dst, d, dd, n, "copy of a dirty object");

        /* Clean source that is only in S3: server-side copy (or GET+PUT). */
        assert_int_equal(store_write(env, kind, src, c, cd, n, TRUE), 0);
        /* Clean and cached source. */
        assert_int_equal(store_write(env, kind, src, e, ed, n, TRUE), 0);
        /* A destination with a pending delete must come back for good. */
        assert_int_equal(store_write(env, kind, src, p, pd, n, TRUE), 0);
        assert_int_equal(store_write(env, kind, dst, p, pd, n, TRUE), 0);
        beenv_flush(env);
        assert_int_equal(store_delete(env, kind, dst, p), 0);
        assert_true(seaftier_tier_evict_one(beenv_shared(env)->site->tier, store_type(kind), src, c,
                                            NULL));
        assert_int_equal(row_state(env, kind, src, c), SEAFTIER_STATE_REMOTE);

        assert_int_equal(store_copy(env, kind, src, dst, c), 0);
        /* The index knows the copy without a local one (a complete index
         * answers exists() from its rows). */
        assert_int_equal(row_state(env, kind, dst, c), SEAFTIER_STATE_REMOTE);
        GBytes *raw = s3_object(env, kind, dst, c);
        assert_non_null(raw);
        gsize rlen;
        const void *rdata = g_bytes_get_data(raw, &rlen);
        assert_same("S3 copy", rdata, rlen, cd, n);
        g_bytes_unref(raw);
        check_read(env, kind, dst, c, cd, n, "copy of a clean object");

        /* A cached clean source is copied from its local copy: a dirty
         * store (write-back), no request to S3 until the uploader's PUT. */
        guint64 sent = requests_sent(env);
        assert_int_equal(store_copy(env, kind, src, dst, e), 0);
        assert_int_equal(requests_sent(env) - sent, 0);
        assert_int_equal(row_state(env, kind, dst, e), SEAFTIER_STATE_DIRTY);
        check_read(env, kind, dst, e, ed, n, "copy of a cached clean object");

        assert_int_equal(store_copy(env, kind, src, dst, p), 0);
        check_read(env, kind, dst, p, pd, n, "copy over a pending delete");
        beenv_flush(env);
        raw = s3_object(env, kind, dst, e);
        assert_non_null(raw);
        assert_same("uploaded copy", g_bytes_get_data(raw, NULL), g_bytes_get_size(raw), ed, n);
        g_bytes_unref(raw);
        raw = s3_object(env, kind, dst, p);
        assert_non_null(raw);
        g_bytes_unref(raw);
        check_read(env, kind, dst, d, dd, n, "dirty copy after flush");

        /* Copying onto an existing object is a no-op that succeeds. */
        assert_int_equal(store_copy(env, kind, src, dst, d), 0);
        g_free(src);
        g_free(dst);
        g_free(d);
        g_free(c);
        g_free(e);
        g_free(p);
        g_free(dd);
        g_free(cd);
        g_free(ed);
        g_free(pd);
    }
}

/* ---- foreach ---- */

static gboolean
stop_at_first(const char *repo_id, int version, const char *obj_id, void *user_data)
{
    (*(int *)user_data)++;
    return FALSE;
}

static void
test_foreach_union(void **state)
{
    BeEnv *env = env_of(state);
    for (int k = 0; k < N_STORES; k++) {
        StoreKind kind = (StoreKind)k;
        char *repo = rand_repo_id(rng), *other = rand_repo_id(rng);
        char *ids[8];
        guint8 data[1500];
        for (int i = 0; i < 8; i++) {
            ids[i] = rand_obj_id(rng);
            fill_random(rng, data, sizeof data);
            assert_int_equal(store_write(env, kind, repo, ids[i], data, sizeof data, TRUE), 0);
        }
        assert_int_equal(store_write(env, kind, other, ids[0], data, sizeof data, TRUE), 0);
        beenv_flush(env);
        /* 0,1: clean (local + S3); 2,3: only in S3; 4: deleted (pending);
         * 5: deleted and carried out; 6,7: dirty only (written after flush). */
        SeaftierTier *tier = beenv_shared(env)->site->tier;
        assert_true(seaftier_tier_evict_one(tier, store_type(kind), repo, ids[2], NULL));
        assert_true(seaftier_tier_evict_one(tier, store_type(kind), repo, ids[3], NULL));
        assert_int_equal(store_delete(env, kind, repo, ids[5]), 0);
        beenv_flush(env);
        assert_int_equal(store_delete(env, kind, repo, ids[4]), 0);
        for (int i = 6; i < 8; i++) {
            assert_int_equal(store_delete(env, kind, repo, ids[i]), 0);
            beenv_flush(env);
            fill_random(rng, data, sizeof data);
            assert_int_equal(store_write(env, kind, repo, ids[i], data, sizeof data, TRUE), 0);
            assert_int_equal(row_state(env, kind, repo, ids[i]), SEAFTIER_STATE_DIRTY);
            assert_null(s3_object(env, kind, repo, ids[i]));
        }

        GHashTable *seen;
        guint calls = 0;
        assert_int_equal(store_foreach(env, kind, repo, &seen, &calls), 0);
        assert_int_equal(calls, 6);
        assert_int_equal(g_hash_table_size(seen), 6);
        for (int i = 0; i < 8; i++)
            assert_int_equal(g_hash_table_contains(seen, ids[i]), i != 4 && i != 5);
        g_hash_table_destroy(seen);

        int called = 0;
        int ret = kind == STORE_BLOCKS
                      ? env->blocks->foreach_block(env->blocks, repo, 1, stop_at_first, &called)
                      : (kind == STORE_COMMITS ? env->commits : env->fs)
                            ->foreach_obj(kind == STORE_COMMITS ? env->commits : env->fs, repo, 1,
                                          stop_at_first, &called);
        assert_int_equal(ret, 0);
        assert_int_equal(called, 1);
        for (int i = 0; i < 8; i++)
            g_free(ids[i]);
        g_free(repo);
        g_free(other);
    }
}

/* ---- remove_store ---- */

static void
test_remove_store(void **state)
{
    BeEnv *env = env_of(state);
    for (int k = 0; k < N_STORES; k++) {
        StoreKind kind = (StoreKind)k;
        char *repo = rand_repo_id(rng), *keep = rand_repo_id(rng);
        char *ids[10];
        guint8 data[2000];
        for (int i = 0; i < 10; i++) {
            ids[i] = rand_obj_id(rng);
            if (i == 3)
                beenv_flush(env);
            fill_random(rng, data, sizeof data);
            assert_int_equal(store_write(env, kind, repo, ids[i], data, sizeof data, TRUE), 0);
        }
        assert_int_equal(store_write(env, kind, keep, ids[0], data, sizeof data, TRUE), 0);
        beenv_flush(env);
        /* 0-2: dirty at first, now clean; 3-5 clean; 6-8 only in S3;
         * 9 deleted with the remote delete pending. And three new dirty. */
        SeaftierTier *tier = beenv_shared(env)->site->tier;
        for (int i = 6; i < 9; i++)
            assert_true(seaftier_tier_evict_one(tier, store_type(kind), repo, ids[i], NULL));
        assert_int_equal(store_delete(env, kind, repo, ids[9]), 0);
        char *fresh[3];
        for (int i = 0; i < 3; i++) {
            fresh[i] = rand_obj_id(rng);
            assert_int_equal(store_write(env, kind, repo, fresh[i], data, sizeof data, TRUE), 0);
        }

        guint64 last = 0;
        guint calls = 0;
        assert_int_equal(store_remove_store(env, kind, repo, &last, &calls), 0);
        /* 9 live objects + 3 dirty ones + the one S3 still held for 9. */
        assert_int_equal(last, 13);
        assert_true(calls >= 1);
        assert_int_equal(s3_count(env, kind, repo), 0);
        assert_int_equal(tier_rows(env, kind, repo), 0);
        for (int i = 0; i < 10; i++)
            assert_false(store_exists(env, kind, repo, ids[i]));
        GHashTable *seen;
        assert_int_equal(store_foreach(env, kind, repo, &seen, NULL), 0);
        assert_int_equal(g_hash_table_size(seen), 0);
        g_hash_table_destroy(seen);
        assert_true(store_exists(env, kind, keep, ids[0]));
        assert_int_equal(s3_count(env, kind, keep), 1);

        /* The repo can be used again afterwards. */
        assert_int_equal(store_write(env, kind, repo, ids[0], data, sizeof data, TRUE), 0);
        check_read(env, kind, repo, ids[0], data, sizeof data, "write after remove_store");
        for (int i = 0; i < 10; i++)
            g_free(ids[i]);
        for (int i = 0; i < 3; i++)
            g_free(fresh[i]);
        g_free(repo);
        g_free(keep);
    }
}

/* ---- single-flight ---- */

typedef struct {
    BeEnv *env;
    const char *repo, *id;
    const guint8 *want;
    gsize len;
    GMutex lock;
    GCond go;
    gboolean started;
    int ok;
} Crowd;

static gpointer
crowd_reader(gpointer p)
{
    Crowd *c = p;
    g_mutex_lock(&c->lock);
    while (!c->started)
        g_cond_wait(&c->go, &c->lock);
    g_mutex_unlock(&c->lock);
    void *got = NULL;
    gsize n = 0;
    if (store_read(c->env, STORE_BLOCKS, c->repo, c->id, &got, &n) == 0 && n == c->len &&
        memcmp(got, c->want, n) == 0)
        g_atomic_int_inc(&c->ok);
    g_free(got);
    return NULL;
}

static void
test_single_flight(void **state)
{
    BeEnv *env = env_of(state);
    char *repo = rand_repo_id(rng), *id = rand_obj_id(rng);
    gsize n = 8 << 20;
    guint8 *data = make_data(n, FALSE);
    assert_int_equal(store_write(env, STORE_BLOCKS, repo, id, data, n, TRUE), 0);
    beenv_flush(env);
    assert_true(seaftier_tier_evict_clean(beenv_shared(env)->site->tier, repo, NULL, NULL));

    SeaftierS3Stats before, after;
    seaftier_s3_get_stats(beenv_shared(env)->site->s3[SEAFTIER_TYPE_BLOCKS], &before);
    Crowd c;
    memset(&c, 0, sizeof c);
    c.env = env;
    c.repo = repo;
    c.id = id;
    c.want = data;
    c.len = n;
    g_mutex_init(&c.lock);
    g_cond_init(&c.go);
    GThread *threads[8];
    for (int i = 0; i < 8; i++)
        threads[i] = g_thread_new("reader", crowd_reader, &c);
    g_usleep(50000);
    g_mutex_lock(&c.lock);
    c.started = TRUE;
    g_cond_broadcast(&c.go);
    g_mutex_unlock(&c.lock);
    for (int i = 0; i < 8; i++)
        g_thread_join(threads[i]);
    seaftier_s3_get_stats(beenv_shared(env)->site->s3[SEAFTIER_TYPE_BLOCKS], &after);
    assert_int_equal(c.ok, 8);
    /* Eight concurrent misses of one block: one GET. */
    assert_int_equal(after.requests - before.requests, 1);
    g_mutex_clear(&c.lock);
    g_cond_clear(&c.go);
    g_free(data);
    g_free(repo);
    g_free(id);
}

/* ---- concurrency ---- */

#define CC_IDS 16
#define CC_THREADS 6

typedef struct {
    BeEnv *env;
    char *repo[2];
    char *ids[CC_IDS];
    guint8 *data[CC_IDS];
    gsize len[CC_IDS];
    guint32 seeds[CC_THREADS];
    gint wrong;             /* reads that returned other bytes than written */
    gint failed_writes;
    gint stop;
} Concurrent;

typedef struct {
    Concurrent *cc;
    int index;
} Worker;

static gpointer
cc_worker(gpointer p)
{
    Worker *w = p;
    Concurrent *cc = w->cc;
    GRand *r = g_rand_new_with_seed(cc->seeds[w->index]);
    for (int op = 0; op < 250; op++) {
        StoreKind kind = g_rand_boolean(r) ? STORE_BLOCKS : STORE_FS;
        int i = g_rand_int_range(r, 0, CC_IDS);
        const char *repo = cc->repo[g_rand_int_range(r, 0, 2)];
        int what = g_rand_int_range(r, 0, 10);
        if (what < 4) {
            if (store_write(cc->env, kind, repo, cc->ids[i], cc->data[i], cc->len[i],
                            g_rand_boolean(r)) != 0)
                g_atomic_int_inc(&cc->failed_writes);
        } else if (what < 8) {
            void *got = NULL;
            gsize n = 0;
            if (store_read(cc->env, kind, repo, cc->ids[i], &got, &n) == 0 &&
                (n != cc->len[i] || memcmp(got, cc->data[i], n) != 0))
                g_atomic_int_inc(&cc->wrong);
            g_free(got);
        } else if (what < 9) {
            store_delete(cc->env, kind, repo, cc->ids[i]);
        } else {
            store_exists(cc->env, kind, repo, cc->ids[i]);
        }
    }
    g_rand_free(r);
    return NULL;
}

static gpointer
cc_background(gpointer p)
{
    Concurrent *cc = p;
    SeaftierBackendShared *sh = beenv_shared(cc->env);
    while (!g_atomic_int_get(&cc->stop)) {
        seaftier_sync_flush_all(sh->sync, NULL);
        seaftier_tier_evict_clean(sh->site->tier, NULL, NULL, NULL);
        g_usleep(20000);
    }
    return NULL;
}

/* Writers, readers, deleters, an uploader and an evictor on the same few
 * objects at once: no read may ever return other bytes than the id's, no
 * write may fail, and afterwards every object written again reads back. */
static void
test_concurrent(void **state)
{
    BeEnv *env = env_of(state);
    Concurrent cc;
    memset(&cc, 0, sizeof cc);
    cc.env = env;
    cc.repo[0] = rand_repo_id(rng);
    cc.repo[1] = rand_repo_id(rng);
    for (int i = 0; i < CC_IDS; i++) {
        cc.ids[i] = rand_obj_id(rng);
        cc.len[i] = (gsize)g_rand_int_range(rng, 0, i % 4 == 0 ? 400000 : 20000);
        cc.data[i] = make_data(cc.len[i], i % 2);
    }
    for (int t = 0; t < CC_THREADS; t++)
        cc.seeds[t] = g_rand_int(rng);
    GThread *bg = g_thread_new("flusher", cc_background, &cc);
    GThread *threads[CC_THREADS];
    Worker workers[CC_THREADS];
    for (int t = 0; t < CC_THREADS; t++) {
        workers[t].cc = &cc;
        workers[t].index = t;
        threads[t] = g_thread_new("worker", cc_worker, &workers[t]);
    }
    for (int t = 0; t < CC_THREADS; t++)
        g_thread_join(threads[t]);
    g_atomic_int_set(&cc.stop, 1);
    g_thread_join(bg);
    assert_int_equal(cc.wrong, 0);
    assert_int_equal(cc.failed_writes, 0);

    for (int k = 0; k < 2; k++) {
        StoreKind kind = k ? STORE_BLOCKS : STORE_FS;
        for (int i = 0; i < CC_IDS; i++) {
            assert_int_equal(store_write(env, kind, cc.repo[0], cc.ids[i], cc.data[i], cc.len[i],
                                         TRUE), 0);
            check_read(env, kind, cc.repo[0], cc.ids[i], cc.data[i], cc.len[i],
                       "read after the concurrent phase");
        }
    }
    beenv_flush(env);
    for (int i = 0; i < CC_IDS; i++) {
        GBytes *raw = s3_object(env, STORE_BLOCKS, cc.repo[0], cc.ids[i]);
        assert_non_null(raw);
        gsize rlen;
        const void *rdata = g_bytes_get_data(raw, &rlen);
        assert_same("S3 after the concurrent phase", rdata, rlen, cc.data[i], cc.len[i]);
        g_bytes_unref(raw);
        g_free(cc.ids[i]);
        g_free(cc.data[i]);
    }
    g_free(cc.repo[0]);
    g_free(cc.repo[1]);
}

/* ---- corrupt local copies ---- */

/* The tier's file for an object: <tier>/objects/.../<id[0:2]>/<id[2:]>.<gen>. */
static char *
find_object_file(const char *dir, const char *id)
{
    GDir *d = g_dir_open(dir, 0, NULL);
    if (!d)
        return NULL;
    char *found = NULL;
    const char *name;
    while (!found && (name = g_dir_read_name(d))) {
        char *path = g_build_filename(dir, name, NULL);
        if (g_file_test(path, G_FILE_TEST_IS_DIR))
            found = find_object_file(path, id);
        else if (g_str_has_prefix(name, id + 2) && name[38] == '.')
            found = g_strdup(path);
        if (found != path)
            g_free(path);
    }
    g_dir_close(d);
    return found;
}

static void
flip_byte(const char *path, gsize at)
{
    char *contents;
    gsize len;
    GError *err = NULL;
    if (!g_file_get_contents(path, &contents, &len, &err))
        test_fail("reading %s: %s", path, err->message);
    assert_true(at < len);
    contents[at] ^= 0x5a;
    if (!g_file_set_contents(path, contents, (gssize)len, &err))
        test_fail("writing %s: %s", path, err->message);
    g_free(contents);
}

static void
test_corrupt_copy(void **state)
{
    BeEnv *env = env_of(state);
    char *repo = rand_repo_id(rng), *clean = rand_obj_id(rng), *dirty = rand_obj_id(rng);
    gsize n = 1 << 20;
    guint8 *cd = make_data(n, FALSE), *dd = make_data(n, FALSE);
    assert_int_equal(store_write(env, STORE_BLOCKS, repo, clean, cd, n, TRUE), 0);
    beenv_flush(env);
    assert_int_equal(store_write(env, STORE_BLOCKS, repo, dirty, dd, n, TRUE), 0);
    /* A restart empties the RAM tier: the next reads come from disk. */
    beenv_close(env);
    char *objects = g_build_filename(env->dir, "tier", "objects", NULL);
    char *cpath = find_object_file(objects, clean), *dpath = find_object_file(objects, dirty);
    if (!cpath || !dpath)
        test_fail("cannot find the tier's files for %s and %s under %s", clean, dirty, objects);
    flip_byte(cpath, n / 2);
    flip_byte(dpath, n / 2);
    beenv_open(env);

    /* A corrupt clean copy is dropped and fetched again from S3. */
    check_read(env, STORE_BLOCKS, repo, clean, cd, n, "read of a corrupt clean copy");
    assert_int_equal(row_state(env, STORE_BLOCKS, repo, clean), SEAFTIER_STATE_CLEAN);
    check_read(env, STORE_BLOCKS, repo, clean, cd, n, "read after the refetch");
    /* A corrupt dirty copy exists nowhere else: an error, never wrong bytes. */
    void *out = NULL;
    gsize out_len = 0;
    assert_int_equal(store_read(env, STORE_BLOCKS, repo, dirty, &out, &out_len), -1);
    g_free(cpath);
    g_free(dpath);
    g_free(objects);
    g_free(cd);
    g_free(dd);
    g_free(repo);
    g_free(clean);
    g_free(dirty);
}

/* Reads a block through open_block / read_block in `chunk`-byte calls until
 * the end or a failure; returns read_block's last answer (0 or -1) and the
 * bytes served in *out. */
static int
read_block_chunks(BeEnv *env, const char *repo, const char *id, gsize chunk, GByteArray *out)
{
    BlockBackend *b = env->blocks;
    BHandle *h = b->open_block(b, repo, 1, id, BLOCK_READ);
    if (!h)
        test_fail("open_block %s/%s failed", repo, id);
    guint8 *buf = g_malloc(chunk);
    int n;
    while ((n = b->read_block(b, h, buf, (int)chunk)) > 0)
        g_byte_array_append(out, buf, (guint)n);
    assert_int_equal(b->close_block(b, h), 0);
    b->block_handle_free(b, h);
    g_free(buf);
    return n;
}

/* A damaged piece found in the middle of a streamed read (the file's piece
 * table is intact, so open_block serves from the tier): an uploaded block is
 * fetched again from S3 and the read goes on at the same offset, the bytes
 * identical; a dirty one fails after serving only the verified bytes before
 * the piece. */
static void
test_corrupt_piece_mid_read(void **state)
{
    BeEnv *env = env_of(state);
    static const gsize chunks[] = { 4095, 65537 };
    for (gsize c = 0; c < G_N_ELEMENTS(chunks); c++) {
        char *repo = rand_repo_id(rng), *clean = rand_obj_id(rng), *dirty = rand_obj_id(rng);
        gsize n = (3 << 20) + 1000;
        guint8 *cd = make_data(n, c == 0), *dd = make_data(n, c == 0);
        assert_int_equal(store_write(env, STORE_BLOCKS, repo, clean, cd, n, TRUE), 0);
        beenv_flush(env);
        assert_int_equal(store_write(env, STORE_BLOCKS, repo, dirty, dd, n, TRUE), 0);
        beenv_close(env);
        char *objects = g_build_filename(env->dir, "tier", "objects", NULL);
        char *cpath = find_object_file(objects, clean), *dpath = find_object_file(objects, dirty);
        if (!cpath || !dpath)
            test_fail("cannot find the tier's files for %s and %s under %s", clean, dirty,
                      objects);
        /* a byte near the end of each file: in its last pieces */
        GStatBuf st;
        assert_int_equal(g_stat(cpath, &st), 0);
        flip_byte(cpath, (gsize)st.st_size - 3000);
        assert_int_equal(g_stat(dpath, &st), 0);
        flip_byte(dpath, (gsize)st.st_size - 3000);
        beenv_open(env);

        GByteArray *got = g_byte_array_new();
        assert_int_equal(read_block_chunks(env, repo, clean, chunks[c], got), 0);
        assert_same("streamed read of a clean block with a damaged piece", got->data, got->len,
                    cd, n);
        assert_int_equal(row_state(env, STORE_BLOCKS, repo, clean), SEAFTIER_STATE_CLEAN);
        g_byte_array_set_size(got, 0);
        assert_int_equal(read_block_chunks(env, repo, clean, chunks[c], got), 0);
        assert_same("read of the refetched copy", got->data, got->len, cd, n);

        g_byte_array_set_size(got, 0);
        assert_int_equal(read_block_chunks(env, repo, dirty, chunks[c], got), -1);
        /* most of the block was served before the damaged piece, all of it right */
        assert_true(got->len > n / 2 && got->len < n);
        assert_memory_equal(got->data, dd, got->len);
        assert_int_equal(row_state(env, STORE_BLOCKS, repo, dirty), SEAFTIER_STATE_DIRTY);
        /* Seafile writing the block again repairs it (and lets later flushes pass). */
        assert_int_equal(store_write(env, STORE_BLOCKS, repo, dirty, dd, n, TRUE), 0);
        g_byte_array_set_size(got, 0);
        assert_int_equal(read_block_chunks(env, repo, dirty, chunks[c], got), 0);
        assert_same("read of the rewritten dirty block", got->data, got->len, dd, n);
        g_byte_array_unref(got);
        g_free(cpath);
        g_free(dpath);
        g_free(objects);
        g_free(cd);
        g_free(dd);
        g_free(repo);
        g_free(clean);
        g_free(dirty);
    }
}

/* ---- write-through mode ---- */

static void
test_write_through(void **state)
{
    Group *g = *state;
    BeEnv *env = beenv_new("bwt", &g->variant, "mode = write_through\n");
    for (int k = 0; k < N_STORES; k++) {
        StoreKind kind = (StoreKind)k;
        char *repo = rand_repo_id(rng), *id = rand_obj_id(rng);
        guint8 data[10000];
        fill_random(rng, data, sizeof data);
        assert_int_equal(store_write(env, kind, repo, id, data, sizeof data, TRUE), 0);
        /* In S3 before the write returned; the local copy is clean. */
        GBytes *raw = s3_object(env, kind, repo, id);
        assert_non_null(raw);
        g_bytes_unref(raw);
        assert_int_equal(row_state(env, kind, repo, id), SEAFTIER_STATE_CLEAN);
        check_read(env, kind, repo, id, data, sizeof data, "write-through read");

        /* A copy of it (cached clean) is one PUT of the local copy: no
         * server-side copy, no GET. */
        char *other = rand_repo_id(rng);
        SeaftierS3Stats before, after;
        seaftier_s3_get_stats(beenv_shared(env)->site->s3[store_type(kind)], &before);
        guint64 sent = requests_sent(env);
        assert_int_equal(store_copy(env, kind, repo, other, id), 0);
        seaftier_s3_get_stats(beenv_shared(env)->site->s3[store_type(kind)], &after);
        assert_int_equal(requests_sent(env) - sent, 1);
        assert_int_equal(after.by_op[SEAFTIER_S3_OP_PUT] - before.by_op[SEAFTIER_S3_OP_PUT], 1);
        raw = s3_object(env, kind, other, id);
        assert_non_null(raw);
        assert_same("write-through copy", g_bytes_get_data(raw, NULL), g_bytes_get_size(raw),
                    data, sizeof data);
        g_bytes_unref(raw);
        assert_int_equal(row_state(env, kind, other, id), SEAFTIER_STATE_CLEAN);
        g_free(other);

        /* Deleted, then written again before the delete reached S3: the
         * pending delete must not remove the new copy. */
        assert_int_equal(store_delete(env, kind, repo, id), 0);
        assert_int_equal(store_write(env, kind, repo, id, data, sizeof data, TRUE), 0);
        beenv_flush(env);
        raw = s3_object(env, kind, repo, id);
        assert_non_null(raw);
        g_bytes_unref(raw);
        check_read(env, kind, repo, id, data, sizeof data, "write-through rewrite");
        g_free(repo);
        g_free(id);
    }
    beenv_free(env);
}

/* ---- a commit written again with other bytes ---- */

/* Seafile's commit ids hash root, creator, description and second, not the
 * bytes: two commits of one second (two password changes, say) share an id,
 * and Seafile's own backends keep the last write. So must the tier, locally
 * and in S3, in both modes — even when the first version was evicted. */
static void
test_commit_rewritten(void **state)
{
    Group *g = *state;
    for (int through = 0; through < 2; through++) {
        BeEnv *env = beenv_new("brw", &g->variant, through ? "mode = write_through\n" : NULL);
        for (int evict_first = 0; evict_first < 2; evict_first++) {
            char *repo = rand_repo_id(rng), *id = rand_obj_id(rng);
            guint8 first[600], second[640];
            fill_random(rng, first, sizeof first);
            fill_random(rng, second, sizeof second);
            assert_int_equal(store_write(env, STORE_COMMITS, repo, id, first, sizeof first, TRUE),
                             0);
            beenv_flush(env);
            if (evict_first) {
                GError *err = NULL;
                assert_true(seaftier_tier_evict_one(beenv_shared(env)->site->tier,
                                                    SEAFTIER_TYPE_COMMITS, repo, id, &err));
                assert_int_equal(row_state(env, STORE_COMMITS, repo, id), SEAFTIER_STATE_REMOTE);
            }
            assert_int_equal(store_write(env, STORE_COMMITS, repo, id, second, sizeof second,
                                         TRUE), 0);
            check_read(env, STORE_COMMITS, repo, id, second, sizeof second, "rewritten commit");
            beenv_flush(env);
            assert_int_equal(row_state(env, STORE_COMMITS, repo, id), SEAFTIER_STATE_CLEAN);
            GBytes *raw = s3_object(env, STORE_COMMITS, repo, id);
            assert_non_null(raw);
            assert_same("rewritten commit in S3", g_bytes_get_data(raw, NULL),
                        g_bytes_get_size(raw), second, sizeof second);
            g_bytes_unref(raw);
            check_read(env, STORE_COMMITS, repo, id, second, sizeof second,
                       "rewritten commit after upload");
            g_free(repo);
            g_free(id);
        }
        beenv_free(env);
    }
}

/* ---- S3 unreachable ---- */

static void
test_s3_unreachable(void **state)
{
    Group *g = *state;
    /* Same config, every section pointed at a port nobody listens on. */
    BeEnv *env = beenv_new("bdown", &g->variant, NULL);
    beenv_close(env);
    static const char *const sections[] = { "commit_object_backend", "fs_object_backend",
                                            "block_backend" };
    for (int i = 0; i < 3; i++) {
        g_key_file_set_string(env->kf, sections[i], "host", "127.0.0.1:9");
        g_key_file_set_string(env->kf, sections[i], "max_retries", "1");
        g_key_file_set_string(env->kf, sections[i], "path_style_request", "true");
    }
    /* Shared buckets: the index never answers "absent" alone, so unknown ids
     * and listings need S3 (test_backend_index covers the complete index). */
    g_key_file_set_string(env->kf, "tier", "authoritative_index", "off");
    beenv_open(env);
    for (int k = 0; k < N_STORES; k++) {
        StoreKind kind = (StoreKind)k;
        char *repo = rand_repo_id(rng), *id = rand_obj_id(rng), *id2 = rand_obj_id(rng);
        guint8 data[3000];
        fill_random(rng, data, sizeof data);
        /* Unknown: "absent" (Seafile then re-sends the data), never an error. */
        assert_false(store_exists(env, kind, repo, id));
        void *out = NULL;
        gsize n;
        assert_int_equal(store_read(env, kind, repo, id, &out, &n), -1);
        /* Write-back keeps working without S3. */
        assert_int_equal(store_write(env, kind, repo, id2, data, sizeof data, TRUE), 0);
        check_read(env, kind, repo, id2, data, sizeof data, "offline read");
        assert_true(store_exists(env, kind, repo, id2));
        GHashTable *seen;
        assert_int_equal(store_foreach(env, kind, repo, &seen, NULL), -1);
        g_hash_table_destroy(seen);
        g_free(repo);
        g_free(id);
        g_free(id2);
    }
    beenv_free(env);
}

int
main(void)
{
    guint32 seed = (guint32)g_get_real_time();
    const char *env_seed = g_getenv("SEAFTIER_TEST_SEED");
    if (env_seed)
        seed = (guint32)strtoul(env_seed, NULL, 0);
    printf("# SEAFTIER_TEST_SEED=%u\n", seed);
    rng = g_rand_new_with_seed(seed);
    /* Quiet by default (the expected refusals log warnings); the
     * environment also wins over [tier] log_level in the backends. */
    g_setenv("SEAFTIER_LOG_LEVEL", "error", FALSE);

    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_invalid_ids),
        cmocka_unit_test(test_missing),
        cmocka_unit_test(test_handle_misuse),
        cmocka_unit_test(test_delete),
        cmocka_unit_test(test_copy),
        cmocka_unit_test(test_foreach_union),
        cmocka_unit_test(test_remove_store),
        cmocka_unit_test(test_single_flight),
        cmocka_unit_test(test_corrupt_piece_mid_read),
        cmocka_unit_test(test_corrupt_copy),
        cmocka_unit_test(test_concurrent),
        cmocka_unit_test(test_write_through),
        cmocka_unit_test(test_commit_rewritten),
        cmocka_unit_test(test_s3_unreachable),
    };
    int failed = 0;
    current = &plain;
    failed += cmocka_run_group_tests_name("backend conformance (V2, http, virtual-host)", tests,
                                          group_setup, group_teardown);
    /* SSE-C where the server honours it (test_sse_c_proof covers the others) */
    secure.variant.sse_c = s3test_server()->honours_sse_c;
    current = &secure;
    failed += cmocka_run_group_tests_name(secure.variant.sse_c
                                              ? "backend conformance (V4, https, path-style, SSE-C)"
                                              : "backend conformance (V4, https, path-style)",
                                          tests, group_setup, group_teardown);
    g_rand_free(rng);
    if (failed)
        printf("# failed with SEAFTIER_TEST_SEED=%u\n", seed);
    return failed ? 1 : 0;
}
