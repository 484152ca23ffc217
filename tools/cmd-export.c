/* tools/cmd-export.c — `seaftier-admin export DIR`: the way back out. Every
 * object of the configured buckets is written to DIR in Seafile's fs layout
 * (DIR/{commits,fs,blocks}/<repo_id>/<id[0:2]>/<id[2:]>), so seaf-server's
 * plain fs backend can serve DIR as its `storage` directory.
 *
 * Objects are read through the tier: a dirty object (not yet in S3) comes
 * from the tier, as does any local copy; the rest from S3 through the sync
 * engine (checked against the recorded size and CRC32C). Objects with a
 * pending delete are not exported. Each object is checked against its id
 * before it is written, written atomically (temporary file, fsync, rename),
 * and with --verify read back. Resumable: the state (DIR/.seaftier-export.db
 * unless --state) records every confirmed object. */
#include "seaftier-build.h"

#include "admin.h"
#include "copy-run.h"
#include "sync/remote-fs.h"
#include "sync/transfer.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    SeaftierSite *site;
    SeaftierRemote *dst[SEAFTIER_N_TYPES];
    gboolean verify;
} Export;

typedef struct {
    GArray *items;
    GHashTable *seen;           /* "<repo>/<obj>" of this type already listed */
    SeaftierObjType type;
} ListCtx;

static void
add_item(ListCtx *lc, const char *repo_id, const char *obj_id, guint64 size)
{
    char *key = g_strconcat(repo_id, "/", obj_id, NULL);
    if (!g_hash_table_add(lc->seen, key))
        return;
    CopyItem it = { .type = lc->type, .size = size };
    g_strlcpy(it.repo_id, repo_id, sizeof it.repo_id);
    g_strlcpy(it.obj_id, obj_id, sizeof it.obj_id);
    g_array_append_val(lc->items, it);
}

static gboolean
list_remote(const char *key, guint64 size, void *user_data)
{
    ListCtx *lc = user_data;
    CopyItem it;
    if (copy_item_from_key(lc->type, key, size, &it))
        add_item(lc, it.repo_id, it.obj_id, size);
    return TRUE;
}

static gboolean
list_tier(const SeaftierTierEntry *e, void *user_data)
{
    add_item(user_data, e->repo_id, e->obj_id, e->size);
    return TRUE;
}

static gboolean
drop_deleted(const SeaftierTierEntry *e, void *user_data)
{
    char *key = g_strconcat(e->repo_id, "/", e->obj_id, NULL);
    g_hash_table_add(user_data, key);
    return TRUE;
}

static CopyOutcome
export_one(const CopyItem *it, guint64 *bytes, GError **error, void *user_data)
{
    Export *x = user_data;
    void *data = NULL;
    gsize len = 0;
    GError *err = NULL;
    if (!seaftier_tier_read(x->site->tier, it->type, it->repo_id, it->obj_id, &data, &len, &err)) {
        gboolean deleted = g_error_matches(err, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_DELETED);
        g_clear_error(&err);
        if (deleted)
            return COPY_GONE;           /* deleted by Seafile since the listing */
        if (!seaftier_sync_fetch(seaftier_site_sync(x->site), it->type, it->repo_id, it->obj_id,
                                 &data, &len, &err)) {
            gboolean gone = seaftier_remote_classify(x->site->remote[it->type], err) ==
                            SEAFTIER_REMOTE_ERR_NOT_FOUND;
            if (!gone)
                g_set_error(error, err->domain, err->code, "cannot read it: %s", err->message);
            g_error_free(err);
            return gone ? COPY_GONE : COPY_FAILED;
        }
    }
    gboolean ok = seaftier_transfer_put(x->dst[it->type], it->type, it->repo_id, it->obj_id, data,
                                        len, 0, x->verify, error);
    g_free(data);
    if (!ok)
        return COPY_FAILED;
    *bytes = len;
    return COPY_COPIED;
}

int
admin_cmd_export(int argc, char **argv)
{
    AdminCommon common = { 0 };
    CopyOptions opt = { 0 };
    int rc = ADMIN_EXIT_USAGE;
    Export x = { 0 };
    SeaftierMigrateState *state = NULL;
    GArray *items = g_array_new(FALSE, FALSE, sizeof(CopyItem));
    char *dir = NULL, *job = NULL;
    GError *err = NULL;
    if (!copy_options_parse(&argc, &argv, "export", "DIR",
                            "Writes every object of the configured buckets (dirty ones from the tier)\n"
                            "to DIR in Seafile's fs layout (DIR/{commits,fs,blocks}/...), usable as\n"
                            "seaf-server's storage directory. Interrupted runs resume. Exits 1 if any\n"
                            "object failed (each is named).",
                            NULL, "Resume state (default: DIR/.seaftier-export.db)", &opt, &common))
        goto out;
    if (argc != 2) {
        admin_error("export", "expected one DIR");
        goto out;
    }
    x.site = admin_open(&common, FALSE, TRUE, &rc);
    if (!x.site)
        goto out;
    rc = ADMIN_EXIT_PROBLEMS;
    x.verify = opt.verify;
    if (!copy_open_tier("export", x.site))
        goto out;
    dir = g_canonicalize_filename(argv[1], NULL);
    for (int t = 0; t < SEAFTIER_N_TYPES; t++) {
        if (opt.type >= 0 && t != opt.type)
            continue;
        char *tdir = g_build_filename(dir, seaftier_type_name(t), NULL);
        x.dst[t] = seaftier_remote_fs_new(tdir, !opt.dry_run, &err);
        g_free(tdir);
        if (!x.dst[t] && !opt.dry_run) {
            admin_error("export", "%s", err->message);
            goto out;
        }
        g_clear_error(&err);
    }
    job = g_strdup_printf("export buckets %s, %s, %s -> storage %s", x.site->cfg->s3[0].bucket,
                          x.site->cfg->s3[1].bucket, x.site->cfg->s3[2].bucket, dir);
    if (!opt.dry_run && g_mkdir_with_parents(dir, 0755) != 0) {
        admin_error("export", "cannot create %s: %s", dir, g_strerror(errno));
        goto out;
    }
    if (!opt.state_path)
        opt.state_path = g_build_filename(dir, ".seaftier-export.db", NULL);
    if (opt.dry_run && !g_file_test(opt.state_path, G_FILE_TEST_EXISTS)) {
        g_free(opt.state_path);
        opt.state_path = g_strdup(":memory:");
    }
    state = copy_state_open("export", opt.state_path, job);
    if (!state)
        goto out;

    char *prefix = opt.repo ? g_strconcat(opt.repo, "/", NULL) : g_strdup("");
    gboolean listed = TRUE;
    for (int t = 0; t < SEAFTIER_N_TYPES && listed; t++) {
        if (opt.type >= 0 && t != opt.type)
            continue;
        ListCtx lc = { items, g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL), t };
        GHashTable *deleted = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        if (!seaftier_remote_list(x.site->remote[t], prefix, list_remote, &lc, &err)) {
            admin_error("export", "cannot list %s: %s (%s)", seaftier_remote_name(x.site->remote[t]),
                        err->message, seaftier_remote_advice(x.site->remote[t], err, "list"));
            listed = FALSE;
        } else if (!seaftier_tier_foreach(x.site->tier, t, opt.repo,
                                          (1u << SEAFTIER_STATE_DIRTY) | (1u << SEAFTIER_STATE_CLEAN),
                                          list_tier, &lc, &err) ||
                   !seaftier_tier_foreach(x.site->tier, t, opt.repo, 1u << SEAFTIER_STATE_DELETED,
                                          drop_deleted, deleted, &err)) {
            admin_error("export", "cannot read the tier's index: %s", err->message);
            listed = FALSE;
        }
        /* A pending delete: Seafile deleted the object; S3 may still hold it. */
        for (guint i = 0; listed && i < items->len; ) {
            CopyItem *it = &g_array_index(items, CopyItem, i);
            char *key = g_strconcat(it->repo_id, "/", it->obj_id, NULL);
            gboolean drop = it->type == (SeaftierObjType)t && g_hash_table_contains(deleted, key);
            g_free(key);
            if (drop)
                g_array_remove_index_fast(items, i);
            else
                i++;
        }
        g_hash_table_destroy(deleted);
        g_hash_table_destroy(lc.seen);
    }
    g_free(prefix);
    if (!listed)
        goto out;

    CopyRun run;
    copy_run_init(&run, "export", &opt, common.json, x.site, state, export_one, &x);
    GString *extra = g_string_new("\"target\":");
    seaftier_json_string(extra, dir);
    rc = copy_run_report(&run, items, extra->str);
    g_string_free(extra, TRUE);
out:
    g_clear_error(&err);
    rc = copy_state_close("export", state, rc);
    g_array_free(items, TRUE);
    for (int t = 0; t < SEAFTIER_N_TYPES; t++)
        seaftier_remote_free(x.dst[t]);
    seaftier_site_free(x.site);
    admin_common_clear(&common);
    copy_options_clear(&opt);
    g_free(dir);
    g_free(job);
    return rc;
}
