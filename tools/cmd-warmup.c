/* tools/cmd-warmup.c — `seaftier-admin warmup REPO_ID`: prefetches a
 * library's objects from S3 into the tier as clean copies, before users ask
 * for them (after a migration, or ahead of a known busy time).
 *
 * Objects the tier already knows are skipped, deleted ones included: a
 * pending remote delete must not be undone by a prefetch. */
#include "seaftier-build.h"

#include "admin.h"
#include "sync/workers.h"
#include "progress.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    SeaftierObjType type;
    char obj_id[41];
    guint64 size;
} WarmItem;

typedef struct {
    SeaftierSite *env;
    const char *repo_id;
    GMutex lock;
    AdminProgress bar;
    guint64 total, total_bytes, done, done_bytes, skipped, failed;
    gint64 started_us;
    gboolean json;
    gboolean tier_full;
} Warmup;

typedef struct {
    GArray *items;
    SeaftierObjType type;
    const char *repo_id;
} ListCtx;

static gboolean
list_entry(const char *key, guint64 size, void *user_data)
{
    ListCtx *lc = user_data;
    const char *slash = strchr(key, '/');
    if (!slash || (gsize)(slash - key) != strlen(lc->repo_id) ||
        !seaftier_valid_obj_id(slash + 1))
        return TRUE;
    WarmItem it = { .type = lc->type, .size = size };
    g_strlcpy(it.obj_id, slash + 1, sizeof it.obj_id);
    g_array_append_val(lc->items, it);
    return TRUE;
}

static void
item_done(Warmup *w, const WarmItem *it, gboolean fetched, gboolean skipped, const char *error)
{
    g_mutex_lock(&w->lock);
    if (error) {
        w->failed++;
        if (!w->json) {
            char *line = g_strdup_printf("FAILED %s %s/%s: %s", seaftier_type_name(it->type),
                                         w->repo_id, it->obj_id, error);
            admin_progress_message(&w->bar, line);
            g_free(line);
        }
    } else {
        w->done++;
        if (skipped)
            w->skipped++;
        if (fetched)
            w->done_bytes += it->size;
    }
    admin_progress_update(&w->bar, w->done, w->total, w->done_bytes, w->total_bytes, w->failed,
                          (g_get_monotonic_time() - w->started_us) / 1000, FALSE);
    g_mutex_unlock(&w->lock);
}

static void
warm_one(gpointer data, gpointer user_data)
{
    WarmItem *it = data;
    Warmup *w = user_data;
    SeaftierTierEntry e;
    GError *err = NULL;
    if (g_atomic_int_get(&w->tier_full)) {
        item_done(w, it, FALSE, FALSE, "skipped: the tier is full");
        return;
    }
    if (seaftier_tier_lookup(w->env->tier, it->type, w->repo_id, it->obj_id, &e, &err)) {
        item_done(w, it, FALSE, TRUE, NULL);
        return;
    }
    if (err) {
        item_done(w, it, FALSE, FALSE, err->message);
        g_error_free(err);
        return;
    }
    /* Taken before the GET, so a delete carried out meanwhile wins. */
    SeaftierTierFillTicket ticket;
    if (!seaftier_tier_fill_ticket(w->env->tier, &ticket, &err)) {
        item_done(w, it, FALSE, FALSE, err->message);
        g_error_free(err);
        return;
    }
    void *data_buf = NULL;
    gsize len = 0;
    if (!seaftier_sync_fetch(seaftier_site_sync(w->env), it->type, w->repo_id, it->obj_id,
                             &data_buf, &len, &err)) {
        item_done(w, it, FALSE, FALSE, err->message);
        g_error_free(err);
    } else if (!seaftier_tier_store_fill(w->env->tier, it->type, w->repo_id, it->obj_id, data_buf,
                                         len, &ticket, &err)) {
        if (g_error_matches(err, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_FULL))
            g_atomic_int_set(&w->tier_full, TRUE);
        item_done(w, it, FALSE, FALSE, err->message);
        g_error_free(err);
    } else {
        item_done(w, it, TRUE, FALSE, NULL);
    }
    g_free(data_buf);
}

int
admin_cmd_warmup(int argc, char **argv)
{
    AdminCommon common = { 0 };
    char *type_name = NULL;
    const GOptionEntry entries[] = {
        { "type", 't', 0, G_OPTION_ARG_STRING, &type_name, "Only this type (commits, fs, blocks)", "T" },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    int rc = ADMIN_EXIT_USAGE;
    SeaftierSite *env = NULL;
    GArray *items = g_array_new(FALSE, FALSE, sizeof(WarmItem));
    if (!admin_parse(&argc, &argv, "warmup", "REPO_ID",
                     "Fetches a library's objects from S3 into the tier (clean copies), with\n"
                     "progress. Objects already in the tier are skipped. Exits 1 if any failed.",
                     entries, TRUE, &common))
        goto out;
    if (argc != 2 || !seaftier_valid_repo_id(argv[1])) {
        admin_error("warmup", argc != 2 ? "expected one REPO_ID" : "\"%s\" is not a repo id (a UUID)",
                    argc == 2 ? argv[1] : "");
        goto out;
    }
    int type = -1;
    if (!admin_type_filter("warmup", type_name, &type))
        goto out;
    const char *repo_id = argv[1];
    env = admin_open(&common, FALSE, TRUE, &rc);
    if (!env)
        goto out;
    GError *err = NULL;
    if (g_mkdir_with_parents(env->tier_dir, 0700) != 0 || !seaftier_site_open_tier(env, FALSE, &err)) {
        admin_error("warmup", "cannot open the tier %s: %s", env->tier_dir,
                    err ? err->message : g_strerror(errno));
        g_clear_error(&err);
        rc = ADMIN_EXIT_PROBLEMS;
        goto out;
    }
    char *prefix = g_strconcat(repo_id, "/", NULL);
    for (int t = 0; t < SEAFTIER_N_TYPES; t++) {
        if (type >= 0 && t != type)
            continue;
        ListCtx lc = { items, t, repo_id };
        if (!seaftier_remote_list(env->remote[t], prefix, list_entry, &lc, &err)) {
            admin_error("warmup", "cannot list %s in bucket %s: %s", prefix, env->cfg->s3[t].bucket,
                        err->message);
            g_clear_error(&err);
            g_free(prefix);
            rc = ADMIN_EXIT_PROBLEMS;
            goto out;
        }
    }
    g_free(prefix);

    Warmup w = { .env = env, .repo_id = repo_id, .json = common.json };
    g_mutex_init(&w.lock);
    admin_progress_init(&w.bar, "warmup", common.json);
    w.total = items->len;
    for (guint i = 0; i < items->len; i++)
        w.total_bytes += g_array_index(items, WarmItem, i).size;
    w.started_us = g_get_monotonic_time();
    SeaftierWorkers *pool = seaftier_workers_new("seaftier-warmup", warm_one, &w,
                                                 MAX(env->cfg->tier.upload_concurrency, 1));
    for (guint i = 0; i < items->len; i++)
        seaftier_workers_push(pool, &g_array_index(items, WarmItem, i));
    seaftier_workers_free(pool);
    admin_progress_update(&w.bar, w.done, w.total, w.done_bytes, w.total_bytes, w.failed,
                          (g_get_monotonic_time() - w.started_us) / 1000, TRUE);
    g_mutex_clear(&w.lock);
    if (common.json)
        printf("{\"repo_id\":\"%s\",\"listed\":%" G_GUINT64_FORMAT ",\"fetched\":%" G_GUINT64_FORMAT
               ",\"already_present\":%" G_GUINT64_FORMAT ",\"failed\":%" G_GUINT64_FORMAT "}\n",
               repo_id, w.total, w.done - w.skipped, w.skipped, w.failed);
    else
        printf("warmup %s: %" G_GUINT64_FORMAT " objects in S3, %" G_GUINT64_FORMAT " fetched, %"
               G_GUINT64_FORMAT " already in the tier, %" G_GUINT64_FORMAT " failed%s\n", repo_id,
               w.total, w.done - w.skipped, w.skipped, w.failed,
               w.tier_full ? " (the tier is full: evict or raise max_size)" : "");
    rc = w.failed ? ADMIN_EXIT_PROBLEMS : ADMIN_EXIT_OK;
out:
    g_array_free(items, TRUE);
    seaftier_site_free(env);
    admin_common_clear(&common);
    g_free(type_name);
    return rc;
}
