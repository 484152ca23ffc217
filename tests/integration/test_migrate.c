/*
 * tests/integration/test_migrate.c — `seaftier-admin migrate` and `export`
 * against the real test S3 server, with objects whose ids are real Seafile
 * ids (blocks: SHA-1 of the bytes; fs objects: zlib-compressed JSON named by
 * the SHA-1 of the JSON; commits: JSON named by Seafile's commit hash):
 *
 *  - a storage dir migrated with SSE-C, every object then read through the
 *    Seafile backends byte-identical, and unreadable without the key;
 *  - a migration SIGKILLed at random points (>= 10 times) that resumes, ends
 *    identical and never re-sends an object its state had confirmed;
 *  - plain -> SSE-C re-encryption of a populated bucket, killed midway, with
 *    no object lost and every one encrypted at the end;
 *  - export of the buckets (dirty objects from the tier) to the fs layout,
 *    byte-identical, resumable;
 *  - bad input: a corrupt block, fs object and commit, unreadable entries
 *    and a missing bucket, each reported by name, skipped or stopping.
 */
#include "seaftier-build.h"

#include "daemon-testutil.h"
#include "../common/s3test.h"

#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

typedef struct {
    SeaftierObjType type;
    char repo[37];
    char id[41];
    guint8 *data;
    gsize len;
} Obj;

static void
obj_free(gpointer p)
{
    Obj *o = p;
    g_free(o->data);
    g_free(o);
}

static void
sha1_hex(const void *data, gsize len, char out[41])
{
    char *s = g_compute_checksum_for_data(G_CHECKSUM_SHA1, data, len);
    g_strlcpy(out, s, 41);
    g_free(s);
}

static Obj *
make_block(const char *repo, gsize len)
{
    Obj *o = g_new0(Obj, 1);
    o->type = SEAFTIER_TYPE_BLOCKS;
    g_strlcpy(o->repo, repo, sizeof o->repo);
    o->data = dt_random_bytes(len);
    o->len = len;
    sha1_hex(o->data, len, o->id);
    return o;
}

/* A version-1 file object as seaf-server writes it: JSON with sorted keys,
 * zlib-compressed; the id is SHA-1 of the JSON. */
static Obj *
make_fs(const char *repo)
{
    Obj *o = g_new0(Obj, 1);
    o->type = SEAFTIER_TYPE_FS;
    g_strlcpy(o->repo, repo, sizeof o->repo);
    char blk[41];
    dt_random_obj(blk);
    char *json = g_strdup_printf("{\"block_ids\": [\"%s\"], \"size\": %d, \"type\": 1, \"version\": 1}",
                                 blk, g_random_int_range(1, 1 << 20));
    sha1_hex(json, strlen(json), o->id);
    uLongf clen = compressBound(strlen(json));
    o->data = g_malloc(clen);
    DT_CHECK(compress2(o->data, &clen, (const Bytef *)json, strlen(json), Z_DEFAULT_COMPRESSION) == Z_OK);
    o->len = clen;
    g_free(json);
    return o;
}

/* A commit as seaf-server writes it (json_dumps without flags: raw UTF-8,
 * escaped quotes); the id hashes root_id, creator, creator_name,
 * description (NUL-terminated) and ctime (big-endian). */
static Obj *
make_commit(const char *repo)
{
    Obj *o = g_new0(Obj, 1);
    o->type = SEAFTIER_TYPE_COMMITS;
    g_strlcpy(o->repo, repo, sizeof o->repo);
    char root[41], creator[41];
    dt_random_obj(root);
    memset(creator, '0', 40);
    creator[40] = 0;
    gint64 ctime = 1700000000 + g_random_int_range(0, 1000000);
    const char *name = "user@example.com";
    char *desc = g_strdup_printf("Added \"r\u00e9sum\u00e9 %u.txt\"", g_random_int());
    GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA1);
    g_checksum_update(sum, (const guchar *)root, 41);
    g_checksum_update(sum, (const guchar *)creator, 41);
    g_checksum_update(sum, (const guchar *)name, strlen(name) + 1);
    g_checksum_update(sum, (const guchar *)desc, strlen(desc) + 1);
    guint64 be = GUINT64_TO_BE((guint64)ctime);
    g_checksum_update(sum, (const guchar *)&be, 8);
    g_strlcpy(o->id, g_checksum_get_string(sum), sizeof o->id);
    g_checksum_free(sum);
    GString *esc = g_string_new(NULL);
    for (const char *p = desc; *p; p++) {
        if (*p == '"')
            g_string_append(esc, "\\\"");
        else
            g_string_append_c(esc, *p);
    }
    char *json = g_strdup_printf(
        "{\"commit_id\": \"%s\", \"root_id\": \"%s\", \"repo_id\": \"%s\", \"creator_name\": \"%s\", "
        "\"creator\": \"%s\", \"description\": \"%s\", \"ctime\": %" G_GINT64_FORMAT ", "
        "\"parent_id\": null, \"second_parent_id\": null, \"repo_name\": \"My Library\", "
        "\"repo_desc\": \"\", \"repo_category\": null, \"no_local_history\": 1, \"version\": 1}",
        o->id, root, repo, name, creator, esc->str, ctime);
    o->data = (guint8 *)json;
    o->len = strlen(json);
    g_string_free(esc, TRUE);
    g_free(desc);
    return o;
}

static char *
obj_path(const char *storage, const Obj *o)
{
    char sub[3] = { o->id[0], o->id[1], 0 };
    return g_build_filename(storage, seaftier_type_name(o->type), o->repo, sub, o->id + 2, NULL);
}

static void
write_file(const char *storage, const Obj *o)
{
    char *path = obj_path(storage, o);
    char *dir = g_path_get_dirname(path);
    DT_CHECK(g_mkdir_with_parents(dir, 0755) == 0);
    DT_CHECK(g_file_set_contents(path, (const char *)o->data, (gssize)o->len, NULL));
    g_free(dir);
    g_free(path);
}

/* `repos` libraries with `blocks`, `fs` and `commits` objects each. */
static GPtrArray *
make_objects(int repos, int blocks, int fs, int commits, gsize block_max)
{
    GPtrArray *objs = g_ptr_array_new_with_free_func(obj_free);
    for (int r = 0; r < repos; r++) {
        char repo[37];
        dt_random_repo(repo);
        for (int i = 0; i < blocks; i++)
            g_ptr_array_add(objs, make_block(repo, (gsize)g_random_int_range(1, (gint32)block_max)));
        for (int i = 0; i < fs; i++)
            g_ptr_array_add(objs, make_fs(repo));
        for (int i = 0; i < commits; i++)
            g_ptr_array_add(objs, make_commit(repo));
    }
    return objs;
}

static char *
make_storage(GPtrArray *objs)
{
    char *dir = s3test_tmpdir("seaftier-storage");
    for (guint i = 0; i < objs->len; i++)
        write_file(dir, objs->pdata[i]);
    return dir;
}

static char *
key_of(const Obj *o)
{
    return g_strconcat(o->repo, "/", o->id, NULL);
}

/* Reads an object as seaf-server does: through the Seafile backends. */
static gboolean
backend_read(DT *dt, const Obj *o, void **data, gsize *len)
{
    if (o->type == SEAFTIER_TYPE_BLOCKS) {
        BHandle *h = dt->block->open_block(dt->block, o->repo, 1, o->id, BLOCK_READ);
        if (!h)
            return FALSE;
        GByteArray *b = g_byte_array_new();
        guint8 buf[65536];
        int n;
        while ((n = dt->block->read_block(dt->block, h, buf, sizeof buf)) > 0)
            g_byte_array_append(b, buf, (guint)n);
        dt->block->close_block(dt->block, h);
        dt->block->block_handle_free(dt->block, h);
        *len = b->len;
        *data = g_byte_array_free(b, FALSE);
        return n == 0;
    }
    int ilen = 0;
    if (dt->obj[o->type]->read(dt->obj[o->type], o->repo, 1, o->id, data, &ilen) != 0)
        return FALSE;
    *len = (gsize)ilen;
    return TRUE;
}

static gboolean
same_bytes(const Obj *o, const void *data, gsize len)
{
    return len == o->len && memcmp(data, o->data, len) == 0;
}

/* Every object readable with SSE-C byte-identical, refused without it. */
static void
check_in_buckets(DT *dt, GPtrArray *objs)
{
    for (guint i = 0; i < objs->len; i++) {
        const Obj *o = objs->pdata[i];
        char *key = key_of(o);
        void *data = NULL;
        gsize len = 0;
        GError *err = NULL;
        DT_CHECK_MSG(seaftier_s3_get(dt->s3[o->type], key, &data, &len, &err), "%s %s: %s",
                     seaftier_type_name(o->type), key, err ? err->message : "");
        DT_CHECK_MSG(same_bytes(o, data, len), "%s differs", key);
        g_free(data);
        data = NULL;
        DT_CHECK_MSG(!seaftier_s3_get(dt->plain[o->type], key, &data, &len, NULL),
                     "%s readable without the SSE-C key", key);
        g_free(key);
    }
}

/* The tier's index is complete for the buckets and every migrated object has
 * a row there (a REMOTE one): a complete index without it would make exists()
 * answer "absent" without asking S3. */
static void
check_indexed(DT *dt, GPtrArray *objs)
{
    for (guint i = 0; i < objs->len; i++) {
        const Obj *o = objs->pdata[i];
        gboolean complete = FALSE;
        DT_CHECK_MSG(seaftier_tier_is_complete(dt->tier, o->type, dt->cfg->s3[o->type].bucket,
                                               &complete, NULL) && complete,
                     "the %s index is not complete", seaftier_type_name(o->type));
        SeaftierTierEntry e;
        DT_CHECK_MSG(seaftier_tier_lookup(dt->tier, o->type, o->repo, o->id, &e, NULL) &&
                         e.state == SEAFTIER_STATE_REMOTE && e.size == o->len,
                     "migrated %s/%s has no REMOTE row in the tier", o->repo, o->id);
    }
}

static char *
state_file(DT *dt, const char *name)
{
    return g_build_filename(dt->dir, name, NULL);
}

/* Keys ("<type>/<repo>/<obj>") the state file has confirmed. */
static GHashTable *
confirmed(const char *state_path)
{
    GHashTable *set = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(state_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        sqlite3_close(db);
        return set;
    }
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(db, "SELECT type, key FROM done", -1, &s, NULL) == SQLITE_OK)
        while (sqlite3_step(s) == SQLITE_ROW)
            g_hash_table_add(set, g_strdup_printf("%d/%s", sqlite3_column_int(s, 0),
                                                  (const char *)sqlite3_column_text(s, 1)));
    sqlite3_finalize(s);
    sqlite3_close(db);
    return set;
}

static void
test_migrate_storage(void)
{
    DT *dt = dt_setup("mig", TRUE, NULL);
    GPtrArray *objs = make_objects(2, 10, 6, 4, 40000);
    char *storage = make_storage(objs);
    char *out = NULL, *expr;

    DT_CHECK(dt_admin(dt, &out, NULL, "migrate", "--from-storage", storage, "--dry-run", "--json", NULL) == 0);
    expr = g_strdup_printf("d[\"dry_run\"] and d[\"to_copy\"] == %u and d[\"copied\"] == 0", objs->len);
    DT_CHECK(dt_json(out, expr));
    g_free(expr);
    g_free(out);

    DT_CHECK(dt_admin(dt, &out, NULL, "migrate", "--from-storage", storage, "--verify", "--jobs", "4",
                      "--json", NULL) == 0);
    expr = g_strdup_printf("d[\"copied\"] == %u and d[\"failed\"] == 0 and d[\"verified\"] and "
                           "d[\"already_done\"] == 0", objs->len);
    DT_CHECK(dt_json(out, expr));
    g_free(expr);
    g_free(out);
    check_in_buckets(dt, objs);
    /* The buckets were empty when the backends opened them. */
    check_indexed(dt, objs);

    /* Through the Seafile backends (read-through from S3: nothing is in the tier). */
    for (guint i = 0; i < objs->len; i++) {
        const Obj *o = objs->pdata[i];
        void *data = NULL;
        gsize len = 0;
        DT_CHECK_MSG(backend_read(dt, o, &data, &len), "backend read of %s/%s", o->repo, o->id);
        DT_CHECK_MSG(same_bytes(o, data, len), "backend read of %s/%s differs", o->repo, o->id);
        g_free(data);
    }

    /* A second run has nothing left to send. */
    DT_CHECK(dt_admin(dt, &out, NULL, "migrate", "--from-storage", storage, "--json", NULL) == 0);
    expr = g_strdup_printf("d[\"already_done\"] == %u and d[\"copied\"] == 0", objs->len);
    DT_CHECK(dt_json(out, expr));
    g_free(expr);
    g_free(out);

    /* From these buckets (another seafile.conf) into new ones, before
     * anything else opened their tier: how an installation starts. */
    char *dir2 = s3test_tmpdir("seaftier-mig2");
    S3TestVariant v2 = { .v4 = TRUE, .path_style = TRUE, .https = TRUE, .sse_c = TRUE };
    g_free(s3test_write_seafile_conf(dir2, "mig2", &v2, NULL));
    DT *dt2 = dt_setup_conf(dir2, FALSE);
    DT_CHECK(dt_admin(dt2, &out, NULL, "migrate", "--from-config", dt->dir, "--verify", "--json", NULL) == 0);
    expr = g_strdup_printf("d[\"copied\"] == %u and d[\"failed\"] == 0", objs->len);
    DT_CHECK(dt_json(out, expr));
    g_free(expr);
    g_free(out);
    check_in_buckets(dt2, objs);
    /* seaf-server's first start: the buckets are full, but migrate found them
     * empty, so the index is complete without `seaftier-admin index-remote`. */
    dt_open_backends(dt2);
    check_indexed(dt2, objs);
    dt_teardown(dt2);
    /* A configuration naming the target buckets themselves is refused. */
    char *err = NULL;
    DT_CHECK(dt_admin(dt, &out, &err, "migrate", "--from-config", dt->dir, NULL) == 1);
    DT_CHECK(strstr(err, "--reencrypt") != NULL);
    g_free(out);
    g_free(err);

    s3test_rm_rf(storage);
    g_free(storage);
    g_ptr_array_free(objs, TRUE);
    dt_teardown(dt);
}

static GPid
spawn_admin(DT *dt, const char *const *args)
{
    GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(argv, g_build_filename(SEAFTIER_BUILDDIR, "tools", "seaftier-admin", NULL));
    g_ptr_array_add(argv, g_strdup(args[0]));
    g_ptr_array_add(argv, g_strdup("-c"));
    g_ptr_array_add(argv, g_strdup(dt->dir));
    for (int i = 1; args[i]; i++)
        g_ptr_array_add(argv, g_strdup(args[i]));
    g_ptr_array_add(argv, NULL);
    GPid pid = 0;
    GError *err = NULL;
    DT_CHECK_MSG(g_spawn_async(NULL, (char **)argv->pdata, NULL,
                               G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL |
                               G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &pid, &err),
                 "%s", err ? err->message : "");
    g_ptr_array_free(argv, TRUE);
    return pid;
}

/* Runs `args` and SIGKILLs it after `ms`; TRUE when it was killed (not done yet). */
static gboolean
run_and_kill(DT *dt, const char *const *args, int ms)
{
    GPid pid = spawn_admin(dt, args);
    gint64 deadline = g_get_monotonic_time() + (gint64)ms * 1000;
    int status = 0;
    while (g_get_monotonic_time() < deadline) {
        if (waitpid(pid, &status, WNOHANG) == pid)
            return FALSE;
        g_usleep(5000);
    }
    kill(pid, SIGKILL);
    DT_CHECK(waitpid(pid, &status, 0) == pid);
    return WIFSIGNALED(status);
}

static const Obj *
find_obj(GPtrArray *objs, const char *tkey)
{
    for (guint i = 0; i < objs->len; i++) {
        const Obj *o = objs->pdata[i];
        char *k = g_strdup_printf("%d/%s/%s", (int)o->type, o->repo, o->id);
        gboolean eq = strcmp(k, tkey) == 0;
        g_free(k);
        if (eq)
            return o;
    }
    return NULL;
}

/* Runs `args` until the state file shows more than `before` confirmed
 * objects, then lets it run `extra_ms` more and SIGKILLs it: kills land
 * midway however loaded the machine is. TRUE when it was killed (not done). */
static gboolean
run_and_kill_after_progress(DT *dt, const char *const *args, const char *state, guint before,
                            int extra_ms)
{
    GPid pid = spawn_admin(dt, args);
    gint64 give_up = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
    int status = 0;
    while (g_get_monotonic_time() < give_up) {
        if (waitpid(pid, &status, WNOHANG) == pid)
            return FALSE;
        GHashTable *done = confirmed(state);
        guint n = g_hash_table_size(done);
        g_hash_table_destroy(done);
        if (n > before)
            break;
        g_usleep(5000);
    }
    g_usleep((gulong)extra_ms * 1000);
    kill(pid, SIGKILL);
    DT_CHECK(waitpid(pid, &status, 0) == pid);
    return WIFSIGNALED(status);
}

static void
test_kill_resume(void)
{
    DT *dt = dt_setup("migk", TRUE, NULL);
    GPtrArray *objs = make_objects(3, 40, 25, 15, 8000);
    char *storage = make_storage(objs);
    char *state = state_file(dt, "kill.db");
    const char *args[] = { "migrate", "--from-storage", storage, "--state", state, "--jobs", "4",
                           "--rate", "60", NULL };
    /* Objects confirmed before a kill are marked in S3: rewritten with the
     * same bytes and x-amz-meta-ctime = 1. A resumed run that sent one of
     * them again would replace the mark. */
    GHashTable *marked = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    int kills = 0, midway = 0;
    for (int round = 0; round < 14 && kills < 12; round++) {
        if (!run_and_kill_after_progress(dt, args, state, g_hash_table_size(marked),
                                         g_random_int_range(0, 100)))
            break;
        kills++;
        GHashTable *done = confirmed(state);
        guint n = g_hash_table_size(done);
        if (n > 0 && n < objs->len)
            midway++;
        GHashTableIter it;
        gpointer k;
        g_hash_table_iter_init(&it, done);
        while (g_hash_table_iter_next(&it, &k, NULL)) {
            if (g_hash_table_contains(marked, k))
                continue;
            const Obj *o = find_obj(objs, k);
            DT_CHECK(o);
            char *key = key_of(o);
            GError *err = NULL;
            DT_CHECK_MSG(seaftier_s3_put(dt->s3[o->type], key, o->data, o->len, 1, &err), "%s",
                         err ? err->message : "");
            g_free(key);
            g_hash_table_add(marked, g_strdup(k));
        }
        g_hash_table_destroy(done);
    }
    g_printerr("kill/resume: %d kills, %d midway, %u objects confirmed before the last kill\n",
               kills, midway, g_hash_table_size(marked));
    DT_CHECK(kills >= 10 && midway >= 5);
    char *out = NULL;
    DT_CHECK(dt_admin(dt, &out, NULL, "migrate", "--from-storage", storage, "--state", state,
                      "--jobs", "4", "--json", NULL) == 0);
    char *expr = g_strdup_printf("d[\"failed\"] == 0 and d[\"already_done\"] + d[\"copied\"] == %u and "
                                 "d[\"already_done\"] >= %u", objs->len, g_hash_table_size(marked));
    DT_CHECK(dt_json(out, expr));
    g_free(expr);
    g_free(out);
    check_in_buckets(dt, objs);
    GHashTableIter it;
    gpointer k;
    g_hash_table_iter_init(&it, marked);
    while (g_hash_table_iter_next(&it, &k, NULL)) {
        const Obj *o = find_obj(objs, k);
        char *key = key_of(o);
        SeaftierS3ObjectInfo info;
        DT_CHECK(seaftier_s3_head(dt->s3[o->type], key, &info, NULL));
        DT_CHECK_MSG(info.ctime == 1, "%s was sent again after its state confirmed it", key);
        g_free(key);
    }
    g_hash_table_destroy(marked);
    g_free(state);
    s3test_rm_rf(storage);
    g_free(storage);
    g_ptr_array_free(objs, TRUE);
    dt_teardown(dt);
}

static void
test_reencrypt(void)
{
    DT *dt = dt_setup("migr", TRUE, NULL);
    GPtrArray *objs = make_objects(2, 30, 20, 10, 6000);
    for (guint i = 0; i < objs->len; i++) {
        const Obj *o = objs->pdata[i];
        char *key = key_of(o);
        DT_CHECK(seaftier_s3_put(dt->plain[o->type], key, o->data, o->len, 0, NULL));
        g_free(key);
    }
    char *state = state_file(dt, "reenc.db");
    const char *args[] = { "migrate", "--reencrypt", "--state", state, "--jobs", "2", "--rate", "80",
                           NULL };
    int midway = 0;
    for (int round = 0; round < 3; round++) {
        run_and_kill(dt, args, g_random_int_range(300, 900));
        /* None lost: every object is readable, plain or encrypted, and intact. */
        guint encrypted = 0;
        for (guint i = 0; i < objs->len; i++) {
            const Obj *o = objs->pdata[i];
            char *key = key_of(o);
            void *data = NULL;
            gsize len = 0;
            /* RGW serves a plain object to a GET with SSE-C headers; encrypted
             * means a GET without the key is refused. */
            gboolean enc = !seaftier_s3_get(dt->plain[o->type], key, &data, &len, NULL);
            if (enc)
                DT_CHECK_MSG(seaftier_s3_get(dt->s3[o->type], key, &data, &len, NULL),
                             "%s lost after a kill", key);
            DT_CHECK_MSG(same_bytes(o, data, len), "%s altered", key);
            encrypted += enc;
            g_free(data);
            g_free(key);
        }
        g_printerr("re-encryption killed: %u/%u encrypted\n", encrypted, objs->len);
        midway += encrypted > 0 && encrypted < objs->len;
    }
    DT_CHECK(midway > 0);                                   /* a kill came midway */
    char *out = NULL;
    DT_CHECK(dt_admin(dt, &out, NULL, "migrate", "--reencrypt", "--state", state, "--json", NULL) == 0);
    char *expr = g_strdup_printf("d[\"failed\"] == 0 and d[\"listed\"] == %u", objs->len);
    DT_CHECK(dt_json(out, expr));
    g_free(expr);
    g_free(out);
    check_in_buckets(dt, objs);
    /* Without the state, a new run finds every object already encrypted. */
    char *fresh = state_file(dt, "reenc2.db");
    DT_CHECK(dt_admin(dt, &out, NULL, "migrate", "--reencrypt", "--state", fresh, "--json", NULL) == 0);
    expr = g_strdup_printf("d[\"already_in_target\"] == %u and d[\"copied\"] == 0", objs->len);
    DT_CHECK(dt_json(out, expr));
    g_free(expr);
    g_free(out);
    g_free(fresh);
    g_free(state);
    g_ptr_array_free(objs, TRUE);
    dt_teardown(dt);
}

static void
test_export(void)
{
    DT *dt = dt_setup("mige", TRUE, NULL);
    GPtrArray *objs = make_objects(2, 8, 5, 3, 30000);
    guint half = objs->len / 2;
    /* The first half uploaded and evicted (only in S3), the rest dirty (only in the tier). */
    for (guint i = 0; i < half; i++) {
        const Obj *o = objs->pdata[i];
        dt_write(dt, o->type, o->repo, o->id, o->data, o->len);
    }
    char *out = NULL;
    DT_CHECK(dt_admin(dt, NULL, NULL, "flush", NULL) == 0);
    DT_CHECK(dt_admin(dt, NULL, NULL, "evict", "--all-clean", NULL) == 0);
    for (guint i = half; i < objs->len; i++) {
        const Obj *o = objs->pdata[i];
        dt_write(dt, o->type, o->repo, o->id, o->data, o->len);
    }
    /* One deleted object (a pending delete): not exported. */
    Obj *gone = g_ptr_array_steal_index(objs, 0);
    dt_delete(dt, gone->type, gone->repo, gone->id);

    char *dir = s3test_tmpdir("seaftier-export");
    DT_CHECK(dt_admin(dt, &out, NULL, "export", dir, "--verify", "--json", NULL) == 0);
    char *expr = g_strdup_printf("d[\"copied\"] == %u and d[\"failed\"] == 0", objs->len);
    DT_CHECK(dt_json(out, expr));
    g_free(expr);
    g_free(out);
    for (guint i = 0; i < objs->len; i++) {
        const Obj *o = objs->pdata[i];
        char *path = obj_path(dir, o), *data = NULL;
        gsize len = 0;
        DT_CHECK_MSG(g_file_get_contents(path, &data, &len, NULL), "%s missing", path);
        DT_CHECK_MSG(same_bytes(o, data, len), "%s differs", path);
        g_free(data);
        g_free(path);
    }
    char *gone_path = obj_path(dir, gone);
    DT_CHECK(!g_file_test(gone_path, G_FILE_TEST_EXISTS));
    g_free(gone_path);
    obj_free(gone);
    /* Resumable: a second run has nothing left; the export reads back as a storage dir. */
    DT_CHECK(dt_admin(dt, &out, NULL, "export", dir, "--json", NULL) == 0);
    expr = g_strdup_printf("d[\"already_done\"] == %u and d[\"copied\"] == 0", objs->len);
    DT_CHECK(dt_json(out, expr));
    g_free(expr);
    g_free(out);
    DT *back = dt_setup("migb", TRUE, NULL);
    DT_CHECK(dt_admin(back, &out, NULL, "migrate", "--from-storage", dir, "--json", NULL) == 0);
    expr = g_strdup_printf("d[\"copied\"] == %u and d[\"failed\"] == 0", objs->len);
    DT_CHECK(dt_json(out, expr));
    g_free(expr);
    g_free(out);
    check_in_buckets(back, objs);
    dt_teardown(back);
    s3test_rm_rf(dir);
    g_free(dir);
    g_ptr_array_free(objs, TRUE);
    dt_teardown(dt);
}

static gboolean
mentions(const char *text, const Obj *o)
{
    return strstr(text, o->id) != NULL;
}

static void
test_bad_input(void)
{
    DT *dt = dt_setup("migx", TRUE, NULL);
    GPtrArray *objs = make_objects(1, 6, 4, 3, 5000);
    char *storage = make_storage(objs);
    /* Corrupt: a block with a flipped byte, an fs object that is not zlib, a
     * commit whose description was edited; unreadable: a directory and a
     * dangling symlink where objects should be. */
    GPtrArray *bad = g_ptr_array_new_with_free_func(obj_free);
    Obj *b = make_block(((Obj *)objs->pdata[0])->repo, 3000);
    b->data[100] ^= 1;
    Obj *f = make_fs(b->repo);
    f->data[0] ^= 0xff;
    Obj *c = make_commit(b->repo);
    char *p = strstr((char *)c->data, "Added");
    p[0] = 'a';
    Obj *d = make_block(b->repo, 100);
    Obj *l = make_block(b->repo, 100);
    g_ptr_array_add(bad, b);
    g_ptr_array_add(bad, f);
    g_ptr_array_add(bad, c);
    write_file(storage, b);
    write_file(storage, f);
    write_file(storage, c);
    char *dpath = obj_path(storage, d);
    DT_CHECK(g_mkdir_with_parents(dpath, 0755) == 0);
    char *lpath = obj_path(storage, l);
    char *ldir = g_path_get_dirname(lpath);
    DT_CHECK(g_mkdir_with_parents(ldir, 0755) == 0);
    DT_CHECK(symlink("/nonexistent/seaftier-object", lpath) == 0);
    g_ptr_array_add(bad, d);
    g_ptr_array_add(bad, l);

    char *out = NULL, *err = NULL;
    DT_CHECK(dt_admin(dt, &out, &err, "migrate", "--from-storage", storage, "--json", NULL) == 1);
    char *expr = g_strdup_printf("d[\"copied\"] == %u and d[\"failed\"] == 5 and len(d[\"failures\"]) == 5",
                                 objs->len);
    DT_CHECK(dt_json(out, expr));
    g_free(expr);
    for (guint i = 0; i < bad->len; i++) {
        const Obj *o = bad->pdata[i];
        DT_CHECK_MSG(mentions(out, o), "failure of %s not named", o->id);
        char *key = key_of(o);
        GError *e = NULL;
        DT_CHECK(!seaftier_s3_head(dt->s3[o->type], key, NULL, &e));
        DT_CHECK(g_error_matches(e, SEAFTIER_S3_ERROR, SEAFTIER_S3_ERROR_NOT_FOUND));
        g_error_free(e);
        g_free(key);
    }
    DT_CHECK(strstr(out, "SHA-1 of the bytes") && strstr(out, "not a zlib-compressed JSON") &&
             strstr(out, "commit hash"));
    g_free(out);
    g_free(err);
    check_in_buckets(dt, objs);
    /* Text mode names them too, on stderr as they happen. */
    char *st2 = state_file(dt, "bad2.db");
    DT_CHECK(dt_admin(dt, &out, &err, "migrate", "--from-storage", storage, "--state", st2, NULL) == 1);
    DT_CHECK(strstr(err, "FAILED blocks") && mentions(err, b) && strstr(out, "5 failed"));
    g_free(out);
    g_free(err);
    /* --on-error=stop: the first bad object ends the run (one job: in order). */
    char *st3 = state_file(dt, "bad3.db");
    DT_CHECK(dt_admin(dt, &out, NULL, "migrate", "--from-storage", storage, "--state", st3,
                      "--on-error", "stop", "--jobs", "1", "--json", NULL) == 1);
    expr = g_strdup_printf("d[\"stopped\"] and d[\"failed\"] == 1 and d[\"copied\"] < %u", objs->len);
    DT_CHECK(dt_json(out, expr));
    g_free(expr);
    g_free(out);

    /* A missing target bucket: one error naming it, nothing read or sent. */
    char *missing = g_strdup_printf("seaftier-missing-%u", g_random_int());
    GKeyFile *kf = g_key_file_new();
    DT_CHECK(g_key_file_load_from_file(kf, dt->conf_path, G_KEY_FILE_NONE, NULL));
    g_key_file_set_string(kf, "block_backend", "bucket", missing);
    char *vdir = s3test_tmpdir("seaftier-migv");
    char *vconf = g_build_filename(vdir, "seafile.conf", NULL);
    char *vtier = g_build_filename(vdir, "tier", NULL);
    g_key_file_set_string(kf, "tier", "dir", vtier);
    DT_CHECK(g_key_file_save_to_file(kf, vconf, NULL));
    DT *v = dt_setup_conf(vdir, FALSE);
    DT_CHECK(dt_admin(v, &out, &err, "migrate", "--from-storage", storage, NULL) == 1);
    DT_CHECK(strstr(err, missing) && strstr(err, "does not exist") && *out == 0);
    g_free(out);
    g_free(err);
    /* A missing source bucket (another seafile.conf) is named too. */
    DT_CHECK(dt_admin(dt, &out, &err, "migrate", "--from-config", vdir, "--type", "blocks", NULL) == 1);
    DT_CHECK(strstr(err, missing) != NULL);
    g_free(out);
    g_free(err);
    dt_teardown(v);
    g_key_file_free(kf);
    g_free(vconf);
    g_free(vtier);
    g_free(missing);
    g_free(st2);
    g_free(st3);
    g_free(dpath);
    g_free(lpath);
    g_free(ldir);
    g_ptr_array_free(bad, TRUE);
    s3test_rm_rf(storage);
    g_free(storage);
    g_ptr_array_free(objs, TRUE);
    dt_teardown(dt);
}

int
main(int argc, char **argv)
{
    const char *only = argc > 1 ? argv[1] : NULL;
    struct { const char *name; void (*fn)(void); } tests[] = {
        { "storage", test_migrate_storage },
        { "bad", test_bad_input },
        { "export", test_export },
        { "reencrypt", test_reencrypt },
        { "kill", test_kill_resume },
    };
    for (gsize i = 0; i < G_N_ELEMENTS(tests); i++) {
        if (only && strcmp(only, tests[i].name) != 0)
            continue;
        g_printerr("== migrate: %s\n", tests[i].name);
        tests[i].fn();
    }
    g_printerr("test_migrate: all passed\n");
    return 0;
}
