/* tests/integration/backend-testutil.c — see backend-testutil.h. */
#include "seaftier-build.h"

#include "backend-testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *fail_context;

void
test_set_context(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_free(fail_context);
    fail_context = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    /* SEAFTIER_MODEL_TRACE: every step, to replay a failing seed by eye. */
    if (g_getenv("SEAFTIER_MODEL_TRACE"))
        fprintf(stderr, "# %s\n", fail_context);
}

void
test_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (fail_context)
        fprintf(stderr, "FAIL (%s): ", fail_context);
    else
        fprintf(stderr, "FAIL: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    fflush(stderr);
    abort();
}

BeEnv *
beenv_new(const char *prefix, const S3TestVariant *variant, const char *extra_tier)
{
    BeEnv *env = beenv_prepare(prefix, variant, extra_tier);
    beenv_open(env);
    return env;
}

BeEnv *
beenv_prepare(const char *prefix, const S3TestVariant *variant, const char *extra_tier)
{
    BeEnv *env = g_new0(BeEnv, 1);
    char *tmpl = g_strdup_printf("seaftier-%s", prefix);
    env->dir = s3test_tmpdir(tmpl);
    g_free(tmpl);
    env->conf_path = s3test_write_seafile_conf(env->dir, prefix, variant, extra_tier);
    env->kf = g_key_file_new();
    GError *err = NULL;
    if (!g_key_file_load_from_file(env->kf, env->conf_path, G_KEY_FILE_NONE, &err))
        test_fail("loading %s: %s", env->conf_path, err->message);
    return env;
}

void
beenv_open(BeEnv *env)
{
    GError *err = NULL;
    env->commits = obj_backend_tier_new(env->dir, "commits", env->kf, &err);
    if (!env->commits)
        test_fail("obj_backend_tier_new(commits): %s", err->message);
    env->fs = obj_backend_tier_new(env->dir, "fs", env->kf, &err);
    if (!env->fs)
        test_fail("obj_backend_tier_new(fs): %s", err->message);
    env->blocks = block_backend_tier_new(env->dir, env->kf, &err);
    if (!env->blocks)
        test_fail("block_backend_tier_new: %s", err->message);
    if (seaftier_obj_backend_shared(env->commits) != seaftier_obj_backend_shared(env->fs) ||
        seaftier_obj_backend_shared(env->fs) != seaftier_block_backend_shared(env->blocks))
        test_fail("the three backends of one tier directory do not share one tier");
}

void
beenv_close(BeEnv *env)
{
    obj_backend_tier_free(env->commits);
    obj_backend_tier_free(env->fs);
    block_backend_tier_free(env->blocks);
    env->commits = env->fs = NULL;
    env->blocks = NULL;
}

typedef struct {
    GPtrArray *keys;
} AllKeys;

static gboolean
collect_key(const SeaftierS3ListEntry *entry, void *user_data)
{
    g_ptr_array_add(((AllKeys *)user_data)->keys, g_strdup(entry->key));
    return TRUE;
}

/* Empties the env's three buckets: the test server keeps everything in RAM
 * (memstore), and a full OSD stalls every test that shares it. */
static void
empty_buckets(BeEnv *env)
{
    if (!env->commits)
        beenv_open(env);
    SeaftierBackendShared *sh = beenv_shared(env);
    for (int t = 0; t < SEAFTIER_N_TYPES; t++) {
        AllKeys all = { g_ptr_array_new_with_free_func(g_free) };
        GError *err = NULL;
        if (!seaftier_s3_list(sh->site->s3[t], "", 0, collect_key, &all, &err) ||
            (all.keys->len > 0 &&
             !seaftier_s3_delete_many(sh->site->s3[t], (const char *const *)all.keys->pdata,
                                      all.keys->len, NULL, &err))) {
            /* Not a test failure: the server may be the thing under test
             * (unreachable hosts); the bucket just stays. */
            fprintf(stderr, "# could not empty bucket %s: %s\n", seaftier_s3_bucket(sh->site->s3[t]),
                    err ? err->message : "?");
            g_clear_error(&err);
        }
        g_ptr_array_free(all.keys, TRUE);
    }
}

void
beenv_free(BeEnv *env)
{
    if (!env)
        return;
    empty_buckets(env);
    beenv_close(env);
    g_key_file_free(env->kf);
    s3test_rm_rf(env->dir);
    g_free(env->dir);
    g_free(env->conf_path);
    g_free(env);
}

SeaftierBackendShared *
beenv_shared(BeEnv *env)
{
    return seaftier_obj_backend_shared(env->commits);
}

void
beenv_flush(BeEnv *env)
{
    SeaftierBackendShared *sh = beenv_shared(env);
    GError *err = NULL;
    /* The production engine, as seaftierd and `seaftier-admin flush` run it. */
    if (!seaftier_sync_flush_all(sh->sync, &err))
        test_fail("flush of dirty objects and pending deletes: %s", err ? err->message : "?");
}

const char *
store_name(StoreKind kind)
{
    static const char *const names[] = { "commits", "fs", "blocks" };
    return names[kind];
}

SeaftierObjType
store_type(StoreKind kind)
{
    return kind == STORE_COMMITS ? SEAFTIER_TYPE_COMMITS
           : kind == STORE_FS    ? SEAFTIER_TYPE_FS
                                 : SEAFTIER_TYPE_BLOCKS;
}

static ObjBackend *
obj_of(BeEnv *env, StoreKind kind)
{
    return kind == STORE_COMMITS ? env->commits : env->fs;
}

int
store_write(BeEnv *env, StoreKind kind, const char *repo, const char *id, const void *data,
            gsize len, gboolean need_sync)
{
    if (kind != STORE_BLOCKS) {
        ObjBackend *b = obj_of(env, kind);
        return b->write(b, repo, 1, id, (void *)data, (int)len, need_sync);
    }
    BlockBackend *b = env->blocks;
    BHandle *h = b->open_block(b, repo, 1, id, BLOCK_WRITE);
    if (!h)
        return -1;
    /* Seafile writes a block in one call; pieces exercise the buffering. */
    gsize off = 0;
    int ret = 0;
    while (off < len && ret == 0) {
        gsize n = MIN(len - off, (gsize)300007);
        if (b->write_block(b, h, (const guint8 *)data + off, (int)n) != (int)n)
            ret = -1;
        off += n;
    }
    if (ret == 0 && b->close_block(b, h) < 0)
        ret = -1;
    if (ret == 0 && b->commit_block(b, h) < 0)
        ret = -1;
    b->block_handle_free(b, h);
    return ret;
}

int
store_read(BeEnv *env, StoreKind kind, const char *repo, const char *id, void **data,
           gsize *len)
{
    if (kind != STORE_BLOCKS) {
        ObjBackend *b = obj_of(env, kind);
        int n = -1;
        if (b->read(b, repo, 1, id, data, &n) < 0)
            return -1;
        if (n < 0)
            test_fail("read answered 0 with a negative length");
        *len = (gsize)n;
        return 0;
    }
    BlockBackend *b = env->blocks;
    BHandle *h = b->open_block(b, repo, 1, id, BLOCK_READ);
    if (!h)
        return -1;
    BMetadata *md = b->stat_block_by_handle(b, h);
    if (!md)
        test_fail("stat_block_by_handle on a read handle failed");
    GByteArray *out = g_byte_array_new();
    guint8 chunk[65536 + 3];
    int n;
    while ((n = b->read_block(b, h, chunk, (int)sizeof chunk)) > 0)
        g_byte_array_append(out, chunk, (guint)n);
    int ret = n < 0 ? -1 : 0;
    if (b->close_block(b, h) < 0)
        ret = -1;
    b->block_handle_free(b, h);
    if (ret == 0 && md->size != out->len)
        test_fail("stat_block_by_handle says %u bytes, read_block gave %u", md->size, out->len);
    g_free(md);
    if (ret != 0) {
        /* (a read that fails midway has served some bytes: none are handed out) */
        g_byte_array_free(out, TRUE);
        return ret;
    }
    *len = out->len;
    *data = g_byte_array_free(out, FALSE);
    return ret;
}

gboolean
store_exists(BeEnv *env, StoreKind kind, const char *repo, const char *id)
{
    if (kind != STORE_BLOCKS) {
        ObjBackend *b = obj_of(env, kind);
        return b->exists(b, repo, 1, id);
    }
    return env->blocks->exists(env->blocks, repo, 1, id) != 0;
}

int
store_delete(BeEnv *env, StoreKind kind, const char *repo, const char *id)
{
    if (kind != STORE_BLOCKS) {
        ObjBackend *b = obj_of(env, kind);
        b->delete(b, repo, 1, id);
        return 0;
    }
    return env->blocks->remove_block(env->blocks, repo, 1, id);
}

int
store_copy(BeEnv *env, StoreKind kind, const char *src, const char *dst, const char *id)
{
    if (kind != STORE_BLOCKS) {
        ObjBackend *b = obj_of(env, kind);
        return b->copy(b, src, 1, dst, 1, id);
    }
    return env->blocks->copy(env->blocks, src, 1, dst, 1, id);
}

typedef struct {
    const char *repo;
    guint64 last;
    guint calls;
    gboolean bad;
} Progress;

static void
progress_cb(const char *store_id, guint64 removed, void *user_data)
{
    Progress *p = user_data;
    if (strcmp(store_id, p->repo) != 0 || removed < p->last)
        p->bad = TRUE;
    p->last = removed;
    p->calls++;
}

int
store_remove_store(BeEnv *env, StoreKind kind, const char *repo, guint64 *last_progress,
                   guint *progress_calls)
{
    Progress p = { repo, 0, 0, FALSE };
    int ret;
    if (kind != STORE_BLOCKS) {
        ObjBackend *b = obj_of(env, kind);
        ret = b->remove_store(b, repo, progress_cb, &p);
    } else {
        ret = env->blocks->remove_store(env->blocks, repo, progress_cb, &p);
    }
    if (p.bad)
        test_fail("remove_store progress went backwards or named another store");
    if (last_progress)
        *last_progress = p.last;
    if (progress_calls)
        *progress_calls = p.calls;
    return ret;
}

typedef struct {
    const char *repo;
    GHashTable *ids;
    guint calls;
    gboolean bad;
} Collect;

static gboolean
collect_obj(const char *repo_id, int version, const char *obj_id, void *user_data)
{
    Collect *c = user_data;
    if (strcmp(repo_id, c->repo) != 0 || version != 1 || !seaftier_valid_obj_id(obj_id))
        c->bad = TRUE;
    g_hash_table_add(c->ids, g_strdup(obj_id));
    c->calls++;
    return TRUE;
}

int
store_foreach(BeEnv *env, StoreKind kind, const char *repo, GHashTable **ids, guint *calls)
{
    Collect c = { repo, g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL), 0, FALSE };
    int ret;
    if (kind != STORE_BLOCKS) {
        ObjBackend *b = obj_of(env, kind);
        ret = b->foreach_obj(b, repo, 1, collect_obj, &c);
    } else {
        ret = env->blocks->foreach_block(env->blocks, repo, 1, collect_obj, &c);
    }
    if (c.bad)
        test_fail("foreach passed a wrong repo id, version or object id");
    *ids = c.ids;
    if (calls)
        *calls = c.calls;
    return ret;
}

char *
rand_repo_id(GRand *rng)
{
    return g_strdup_printf("%08x-%04x-%04x-%04x-%04x%08x", g_rand_int(rng),
                           g_rand_int(rng) & 0xffff, g_rand_int(rng) & 0xffff,
                           g_rand_int(rng) & 0xffff, g_rand_int(rng) & 0xffff, g_rand_int(rng));
}

char *
rand_obj_id(GRand *rng)
{
    return g_strdup_printf("%08x%08x%08x%08x%08x", g_rand_int(rng), g_rand_int(rng),
                           g_rand_int(rng), g_rand_int(rng), g_rand_int(rng));
}

void
fill_random(GRand *rng, guint8 *buf, gsize len)
{
    gsize i = 0;
    for (; i + 4 <= len; i += 4) {
        guint32 v = g_rand_int(rng);
        memcpy(buf + i, &v, 4);
    }
    for (; i < len; i++)
        buf[i] = (guint8)g_rand_int(rng);
}

void
fill_compressible(GRand *rng, guint8 *buf, gsize len)
{
    static const char *const words[] = { "seafile ", "block ", "commit ", "tier ", "object ",
                                         "{\"type\": 1, ", "\"size\": 4096}\n" };
    gsize i = 0;
    while (i < len) {
        const char *w = words[g_rand_int_range(rng, 0, G_N_ELEMENTS(words))];
        gsize n = MIN(strlen(w), len - i);
        memcpy(buf + i, w, n);
        i += n;
    }
}

void
assert_same(const char *what, const void *a, gsize alen, const void *b, gsize blen)
{
    if (alen != blen)
        test_fail("%s: %" G_GSIZE_FORMAT " bytes, expected %" G_GSIZE_FORMAT, what, alen, blen);
    if (alen && memcmp(a, b, alen) != 0) {
        gsize i = 0;
        while (((const guint8 *)a)[i] == ((const guint8 *)b)[i])
            i++;
        test_fail("%s: contents differ at byte %" G_GSIZE_FORMAT, what, i);
    }
}

gboolean
tier_row(BeEnv *env, StoreKind kind, const char *repo, const char *id, SeaftierTierEntry *entry)
{
    GError *err = NULL;
    gboolean found = seaftier_tier_lookup(beenv_shared(env)->site->tier, store_type(kind), repo, id,
                                          entry, &err);
    if (err)
        test_fail("tier lookup %s/%s: %s", repo, id, err->message);
    return found;
}

GBytes *
s3_object(BeEnv *env, StoreKind kind, const char *repo, const char *id)
{
    char *key = g_strconcat(repo, "/", id, NULL);
    void *data = NULL;
    gsize len = 0;
    GError *err = NULL;
    GBytes *out = NULL;
    if (seaftier_s3_get(beenv_shared(env)->site->s3[store_type(kind)], key, &data, &len, &err))
        out = g_bytes_new_take(data, len);
    else if (!g_error_matches(err, SEAFTIER_S3_ERROR, SEAFTIER_S3_ERROR_NOT_FOUND))
        test_fail("S3 GET %s: %s", key, err->message);
    g_clear_error(&err);
    g_free(key);
    return out;
}

static gboolean
count_key(const SeaftierS3ListEntry *entry, void *user_data)
{
    (*(guint *)user_data)++;
    return TRUE;
}

guint
s3_count(BeEnv *env, StoreKind kind, const char *repo)
{
    char *prefix = g_strconcat(repo, "/", NULL);
    guint n = 0;
    GError *err = NULL;
    if (!seaftier_s3_list(beenv_shared(env)->site->s3[store_type(kind)], prefix, 0, count_key, &n,
                          &err))
        test_fail("S3 list %s: %s", prefix, err->message);
    g_free(prefix);
    return n;
}
