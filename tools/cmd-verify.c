/* tools/cmd-verify.c — `seaftier-admin verify [--remote]`: checks every
 * local copy against its checksum (the tier drops corrupt clean copies,
 * which S3 still holds, and reports corrupt dirty ones loudly), and with
 * --remote that every clean object exists in S3 with the right size —
 * the promise "clean means S3 has it" checked end to end. */
#include "seaftier-build.h"

#include "admin.h"
#include "sync/workers.h"

#include <stdio.h>

typedef struct {
    SeaftierSite *env;
    gboolean json;
    GMutex lock;
    GString *problems_json;
    guint64 problems;
    guint64 remote_checked;
    guint64 remote_problems;
} Verify;

static void
problem(Verify *v, const char *kind, SeaftierObjType type, const char *repo_id, const char *obj_id,
        const char *what)
{
    g_mutex_lock(&v->lock);
    if (v->json) {
        g_string_append(v->problems_json, v->problems ? ",{" : "{");
        seaftier_json_key(v->problems_json, "check", TRUE);
        seaftier_json_string(v->problems_json, kind);
        seaftier_json_key(v->problems_json, "type", FALSE);
        seaftier_json_string(v->problems_json, seaftier_type_name(type));
        seaftier_json_key(v->problems_json, "repo_id", FALSE);
        seaftier_json_string(v->problems_json, repo_id);
        seaftier_json_key(v->problems_json, "obj_id", FALSE);
        seaftier_json_string(v->problems_json, obj_id);
        seaftier_json_key(v->problems_json, "problem", FALSE);
        seaftier_json_string(v->problems_json, what);
        g_string_append_c(v->problems_json, '}');
    } else {
        printf("PROBLEM (%s) %s %s/%s: %s\n", kind, seaftier_type_name(type), repo_id, obj_id, what);
    }
    v->problems++;
    g_mutex_unlock(&v->lock);
}

static void
local_problem(const SeaftierTierEntry *e, const char *what, void *user_data)
{
    problem(user_data, "local", e->type, e->repo_id, e->obj_id, what);
}

static gboolean
collect_clean(const SeaftierTierEntry *e, void *user_data)
{
    SeaftierTierEntry *copy = g_new(SeaftierTierEntry, 1);
    *copy = *e;
    g_ptr_array_add(user_data, copy);
    return TRUE;
}

static void
head_one(gpointer data, gpointer user_data)
{
    SeaftierTierEntry *e = data;
    Verify *v = user_data;
    char *key = seaftier_remote_key(e->repo_id, e->obj_id);
    SeaftierRemoteInfo info;
    GError *err = NULL;
    if (!seaftier_remote_head(v->env->remote[e->type], key, &info, &err)) {
        char *what = g_strdup_printf("clean here but not readable in S3: %s", err->message);
        problem(v, "remote", e->type, e->repo_id, e->obj_id, what);
        g_free(what);
        g_error_free(err);
        g_mutex_lock(&v->lock);
        v->remote_problems++;
        g_mutex_unlock(&v->lock);
    } else if (info.size != e->size) {
        char *what = g_strdup_printf("size in S3 is %" G_GUINT64_FORMAT ", the tier has %"
                                     G_GUINT64_FORMAT, info.size, e->size);
        problem(v, "remote", e->type, e->repo_id, e->obj_id, what);
        g_free(what);
        g_mutex_lock(&v->lock);
        v->remote_problems++;
        g_mutex_unlock(&v->lock);
    } else if (info.meta.has_crc32c && info.meta.crc32c != e->checksum) {
        /* Recorded at upload (x-amz-meta-seaftier-crc32c): S3 holds other bytes. */
        char *what = g_strdup_printf("CRC32C recorded in S3 is %08x, the tier's copy has %08x",
                                     info.meta.crc32c, e->checksum);
        problem(v, "remote", e->type, e->repo_id, e->obj_id, what);
        g_free(what);
        g_mutex_lock(&v->lock);
        v->remote_problems++;
        g_mutex_unlock(&v->lock);
    }
    g_mutex_lock(&v->lock);
    v->remote_checked++;
    g_mutex_unlock(&v->lock);
    g_free(key);
}

int
admin_cmd_verify(int argc, char **argv)
{
    AdminCommon common = { 0 };
    gboolean remote = FALSE;
    const GOptionEntry entries[] = {
        { "remote", 'R', 0, G_OPTION_ARG_NONE, &remote,
          "Also check that every clean object exists in S3 with the right size", NULL },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    int rc = ADMIN_EXIT_USAGE;
    SeaftierSite *env = NULL;
    Verify v = { .problems_json = g_string_new(NULL) };
    g_mutex_init(&v.lock);
    if (!admin_parse(&argc, &argv, "verify", NULL,
                     "Checks the checksum of every local copy and the index's integrity; corrupt\n"
                     "clean copies are dropped (S3 has them), corrupt dirty ones reported.\n"
                     "Exits 1 when a problem was found.", entries, TRUE, &common))
        goto out;
    if (argc > 1) {
        admin_error("verify", "unexpected argument \"%s\"", argv[1]);
        goto out;
    }
    env = admin_open(&common, TRUE, remote, &rc);
    if (!env)
        goto out;
    v.env = env;
    v.json = common.json;
    guint64 checked = 0, problems = 0;
    GError *err = NULL;
    if (!seaftier_tier_verify(env->tier, local_problem, &v, &checked, &problems, &err)) {
        admin_error("verify", "%s", err->message);
        g_error_free(err);
        rc = ADMIN_EXIT_PROBLEMS;
        goto out;
    }
    /* The tier may count problems it did not report one by one (index integrity). */
    if (problems > v.problems) {
        char *what = g_strdup_printf("%" G_GUINT64_FORMAT " problems reported by the tier",
                                     problems - v.problems);
        problem(&v, "local", SEAFTIER_TYPE_COMMITS, "-", "-", what);
        g_free(what);
    }
    if (remote) {
        GPtrArray *clean = g_ptr_array_new_with_free_func(g_free);
        for (int t = 0; t < SEAFTIER_N_TYPES && !err; t++)
            seaftier_tier_foreach(env->tier, t, NULL, 1u << SEAFTIER_STATE_CLEAN, collect_clean,
                                  clean, &err);
        if (err) {
            admin_error("verify", "%s", err->message);
            g_error_free(err);
            g_ptr_array_free(clean, TRUE);
            rc = ADMIN_EXIT_PROBLEMS;
            goto out;
        }
        SeaftierWorkers *pool = seaftier_workers_new("seaftier-verify", head_one, &v,
                                                     MAX(env->cfg->tier.upload_concurrency, 1));
        for (guint i = 0; i < clean->len; i++)
            seaftier_workers_push(pool, g_ptr_array_index(clean, i));
        seaftier_workers_free(pool);
        g_ptr_array_free(clean, TRUE);
    }
    if (common.json) {
        printf("{\"checked\":%" G_GUINT64_FORMAT ",\"remote\":%s,\"remote_checked\":%" G_GUINT64_FORMAT
               ",\"problem_count\":%" G_GUINT64_FORMAT ",\"problems\":[%s]}\n", checked,
               remote ? "true" : "false", v.remote_checked, v.problems, v.problems_json->str);
    } else {
        printf("verify: %" G_GUINT64_FORMAT " local copies checked", checked);
        if (remote)
            printf(", %" G_GUINT64_FORMAT " clean objects checked in S3", v.remote_checked);
        printf(", %" G_GUINT64_FORMAT " problems\n", v.problems);
    }
    rc = v.problems ? ADMIN_EXIT_PROBLEMS : ADMIN_EXIT_OK;
out:
    g_string_free(v.problems_json, TRUE);
    g_mutex_clear(&v.lock);
    seaftier_site_free(env);
    admin_common_clear(&common);
    return rc;
}
