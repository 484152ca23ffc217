/*
 * lib/backend/list.c — the whole-repo operations: foreach (the union of S3's
 * listing and the tier's rows) and remove_store.
 *
 * Callbacks are never called while a tier iteration or an S3 listing call is
 * in progress: Seafile's GC deletes objects from inside foreach callbacks.
 * So the tier's rows are collected first and S3 is listed page by page.
 */
#include "seaftier-build.h"

#include "backend/common.h"

#include <seaftier/log.h>

#include <string.h>

typedef struct {
    GHashTable *states;     /* obj_id -> GINT_TO_POINTER(state + 1) */
} LocalRows;

static gboolean
collect_row(const SeaftierTierEntry *entry, void *user_data)
{
    LocalRows *rows = user_data;
    g_hash_table_insert(rows->states, g_strdup(entry->obj_id),
                        GINT_TO_POINTER((int)entry->state + 1));
    return TRUE;
}

/* Every row of the repo for `type`, by object id. NULL on error (logged). */
static GHashTable *
collect_local(SeaftierBackendShared *sh, SeaftierObjType type, const char *repo_id,
              const char *op)
{
    LocalRows rows = { g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL) };
    GError *err = NULL;
    unsigned mask = (1u << SEAFTIER_STATE_CLEAN) | (1u << SEAFTIER_STATE_DIRTY) |
                    (1u << SEAFTIER_STATE_DELETED);
    if (!seaftier_tier_foreach(sh->site->tier, type, repo_id, mask, collect_row, &rows, &err)) {
        seaftier_error("%s %s %s: reading the tier index failed: %s", op,
                       seaftier_type_name(type), repo_id, err->message);
        g_error_free(err);
        g_hash_table_destroy(rows.states);
        return NULL;
    }
    return rows.states;
}

static int
local_state(GHashTable *states, const char *obj_id)
{
    return GPOINTER_TO_INT(g_hash_table_lookup(states, obj_id)) - 1;   /* -1: no row */
}

/* Calls `func(id, page_user_data)` for each valid object id of one listing
 * page, stopping when it returns FALSE. Returns FALSE when stopped. */
typedef gboolean (*PageFunc)(const char *obj_id, void *user_data);

typedef struct {
    SeaftierRemote *remote;
    const char *prefix;
    gsize plen;
    PageFunc func;
    void *user_data;
    gboolean stopped;
} ListCtx;

static gboolean
list_one(const char *key, guint64 size, void *user_data)
{
    (void)size;
    ListCtx *lc = user_data;
    const char *id = key + (strncmp(key, lc->prefix, lc->plen) == 0 ? lc->plen : 0);
    if (!seaftier_valid_obj_id(id)) {
        char buf[256];
        seaftier_debug("listing %s: ignoring key %s that is not an object id",
                       seaftier_remote_name(lc->remote), seaftier_be_id_for_log(key, buf));
        return TRUE;
    }
    if (!lc->func(id, lc->user_data))
        lc->stopped = TRUE;
    return !lc->stopped;
}

/* Lists "<repo_id>/" in the type's remote. FALSE with `error` when the
 * remote fails; *stopped tells whether `func` ended it early. */
static gboolean
list_repo(SeaftierBackendShared *sh, SeaftierObjType type, const char *repo_id, PageFunc func,
          void *user_data, gboolean *stopped, GError **error)
{
    char *prefix = g_strconcat(repo_id, "/", NULL);
    ListCtx lc = { seaftier_sync_remote(sh->sync, type), prefix, strlen(prefix), func, user_data,
                   FALSE };
    gboolean ok = seaftier_remote_list(lc.remote, prefix, list_one, &lc, error);
    *stopped = lc.stopped;
    g_free(prefix);
    return ok;
}

/* ---- foreach ---- */

typedef struct {
    GHashTable *local;
    const char *repo_id;
    SeaftierBeForeachFunc func;
    void *user_data;
} ForeachCtx;

static gboolean
foreach_remote(const char *obj_id, void *user_data)
{
    ForeachCtx *ctx = user_data;
    /* Listed locally already, or deleted (pending remote delete). */
    if (local_state(ctx->local, obj_id) >= 0)
        return TRUE;
    return ctx->func(ctx->repo_id, obj_id, ctx->user_data);
}

gboolean
seaftier_be_foreach(SeaftierBackendShared *sh, SeaftierObjType type, const char *repo_id,
                    SeaftierBeForeachFunc func, void *user_data)
{
    if (!seaftier_be_check_repo_id("foreach", "repo", repo_id))
        return FALSE;
    GHashTable *local = collect_local(sh, type, repo_id, "foreach");
    if (!local)
        return FALSE;

    /* Local live rows first: dirty ones exist nowhere else, and a clean one
     * may not be in the listing yet on an eventually consistent store. */
    GPtrArray *ids = g_ptr_array_new();
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, local);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        if (GPOINTER_TO_INT(v) - 1 != SEAFTIER_STATE_DELETED)
            g_ptr_array_add(ids, k);
    }
    gboolean stopped = FALSE;
    for (guint i = 0; i < ids->len && !stopped; i++)
        stopped = !func(repo_id, g_ptr_array_index(ids, i), user_data);
    g_ptr_array_free(ids, TRUE);

    gboolean ok = TRUE;
    if (!stopped) {
        ForeachCtx ctx = { local, repo_id, func, user_data };
        GError *err = NULL;
        ok = list_repo(sh, type, repo_id, foreach_remote, &ctx, &stopped, &err);
        if (!ok) {
            seaftier_error("foreach %s %s: listing S3 failed: %s", seaftier_type_name(type),
                           repo_id, err->message);
            g_error_free(err);
        }
    }
    g_hash_table_destroy(local);
    return ok;
}

/* ---- remove_store ---- */

typedef struct {
    SeaftierBackendShared *sh;
    SeaftierObjType type;
    const char *store_id;
    GHashTable *local;
    GPtrArray *keys;        /* char*: keys of the current batch */
    guint64 removed;
    SeaftierBeProgressFunc progress;
    void *user_data;
    GError *error;
} RemoveCtx;

static void
report(RemoveCtx *ctx)
{
    if (ctx->progress)
        ctx->progress(ctx->store_id, ctx->removed, ctx->user_data);
}

static gboolean
delete_batch(RemoveCtx *ctx)
{
    if (ctx->keys->len == 0)
        return TRUE;
    GPtrArray *failed = g_ptr_array_new_with_free_func(g_free);
    gboolean ok = seaftier_remote_delete_many(seaftier_sync_remote(ctx->sh->sync, ctx->type),
                                              (const char *const *)ctx->keys->pdata,
                                              ctx->keys->len, failed, &ctx->error);
    if (ok)
        ctx->removed += ctx->keys->len;
    g_ptr_array_set_size(ctx->keys, 0);
    g_ptr_array_free(failed, TRUE);
    if (ok)
        report(ctx);
    return ok;
}

static gboolean
remove_remote(const char *obj_id, void *user_data)
{
    RemoveCtx *ctx = user_data;
    g_ptr_array_add(ctx->keys, seaftier_remote_key(ctx->store_id, obj_id));
    /* Objects we deleted locally were counted already. */
    if (local_state(ctx->local, obj_id) == SEAFTIER_STATE_CLEAN ||
        local_state(ctx->local, obj_id) == SEAFTIER_STATE_DIRTY)
        ctx->removed--;
    if (ctx->keys->len >= 1000)
        return delete_batch(ctx);
    return TRUE;
}

typedef struct {
    GPtrArray *entries;     /* SeaftierTierEntry* */
} DeletedRows;

static gboolean
collect_deleted(const SeaftierTierEntry *entry, void *user_data)
{
    DeletedRows *rows = user_data;
    g_ptr_array_add(rows->entries, g_memdup2(entry, sizeof *entry));
    return TRUE;
}

/* The repo's pending deletes are all carried out by the listing delete
 * above (or were never in S3): delete once more by key (idempotent) and
 * forget the rows, each only if unchanged since (generation check). */
static gboolean
forget_pending(RemoveCtx *ctx)
{
    DeletedRows rows = { g_ptr_array_new_with_free_func(g_free) };
    gboolean ok = seaftier_tier_foreach(ctx->sh->site->tier, ctx->type, ctx->store_id,
                                        1u << SEAFTIER_STATE_DELETED, collect_deleted, &rows,
                                        &ctx->error);
    for (guint i = 0; ok && i < rows.entries->len; i += 1000) {
        guint n = MIN(1000, rows.entries->len - i);
        GPtrArray *keys = g_ptr_array_new_with_free_func(g_free);
        for (guint j = 0; j < n; j++) {
            SeaftierTierEntry *e = g_ptr_array_index(rows.entries, i + j);
            g_ptr_array_add(keys, seaftier_remote_key(e->repo_id, e->obj_id));
        }
        ok = seaftier_remote_delete_many(seaftier_sync_remote(ctx->sh->sync, ctx->type),
                                         (const char *const *)keys->pdata, keys->len, NULL,
                                         &ctx->error);
        g_ptr_array_free(keys, TRUE);
        for (guint j = 0; ok && j < n; j++)
            seaftier_tier_forget_deleted(ctx->sh->site->tier, g_ptr_array_index(rows.entries, i + j),
                                         NULL);
    }
    g_ptr_array_free(rows.entries, TRUE);
    return ok;
}

/*
 * remove_store deletes in S3 directly (DeleteObjects, 1000 keys a request)
 * rather than leaving one pending-delete row per object for seaftierd: a
 * repo can hold millions of blocks, the listing is needed anyway to find
 * objects the tier never saw, and the progress callback then reports real
 * removals. Local rows are deleted first (each leaves a pending remote
 * delete, see seaftier_tier_delete), so a failure half-way leaves every
 * local object's remote delete recorded, and a retry finishes the job.
 */
gboolean
seaftier_be_remove_store(SeaftierBackendShared *sh, SeaftierObjType type, const char *store_id,
                         SeaftierBeProgressFunc progress, void *user_data)
{
    if (!seaftier_be_check_repo_id("remove_store", "store", store_id))
        return FALSE;
    GHashTable *local = collect_local(sh, type, store_id, "remove_store");
    if (!local)
        return FALSE;

    RemoveCtx ctx = { sh, type, store_id, local, g_ptr_array_new_with_free_func(g_free), 0,
                      progress, user_data, NULL };
    gboolean ok = TRUE;
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, local);
    while (ok && g_hash_table_iter_next(&it, &k, &v)) {
        if (GPOINTER_TO_INT(v) - 1 == SEAFTIER_STATE_DELETED)
            continue;
        ok = seaftier_tier_delete(sh->site->tier, type, store_id, k, &ctx.error);
        if (ok && ++ctx.removed % 100 == 0)
            report(&ctx);
    }
    if (ok) {
        report(&ctx);
        gboolean stopped;
        ok = list_repo(sh, type, store_id, remove_remote, &ctx, &stopped, &ctx.error);
        ok = ok && !stopped && delete_batch(&ctx);
    }
    if (ok)
        ok = forget_pending(&ctx);
    if (!ok) {
        seaftier_error("remove_store %s %s: failed after %" G_GUINT64_FORMAT
                       " objects: %s (local objects' remote deletes stay pending; "
                       "call remove_store again to finish)", seaftier_type_name(type), store_id,
                       ctx.removed, ctx.error ? ctx.error->message : "unknown error");
    }
    seaftier_tier_nudge(sh->site->tier);
    g_clear_error(&ctx.error);
    g_ptr_array_free(ctx.keys, TRUE);
    g_hash_table_destroy(local);
    return ok;
}
