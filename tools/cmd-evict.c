/* tools/cmd-evict.c — `seaftier-admin evict`: frees tier space by dropping
 * clean objects (S3 holds them). Dirty objects are never evicted. */
#include "seaftier-build.h"

#include "admin.h"

#include <stdio.h>

int
admin_cmd_evict(int argc, char **argv)
{
    AdminCommon common = { 0 };
    gboolean all_clean = FALSE;
    char *repo_id = NULL;
    const GOptionEntry entries[] = {
        { "all-clean", 'a', 0, G_OPTION_ARG_NONE, &all_clean, "Evict every clean object", NULL },
        { "repo", 'r', 0, G_OPTION_ARG_STRING, &repo_id, "Evict the clean objects of this library", "R" },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    int rc = ADMIN_EXIT_USAGE;
    SeaftierSite *env = NULL;
    if (!admin_parse(&argc, &argv, "evict", NULL,
                     "Without options, evicts least-recently-used clean objects until the tier is\n"
                     "under its watermarks and free-space floor (what seaftierd does continuously).\n"
                     "--all-clean evicts every clean object, --repo those of one library.",
                     entries, TRUE, &common))
        goto out;
    if (argc > 1 || (all_clean && repo_id)) {
        admin_error("evict", argc > 1 ? "unexpected argument \"%s\"" : "--all-clean and --repo "
                    "exclude each other%s", argc > 1 ? argv[1] : "");
        goto out;
    }
    if (!admin_repo_filter("evict", repo_id))
        goto out;
    env = admin_open(&common, TRUE, FALSE, &rc);
    if (!env)
        goto out;
    guint64 objects = 0, bytes = 0;
    gboolean have_bytes = FALSE;
    GError *err = NULL;
    gboolean ok;
    if (all_clean || repo_id) {
        ok = seaftier_tier_evict_clean(env->tier, repo_id, &objects, &err);
    } else {
        ok = seaftier_tier_evict(env->tier, &objects, &bytes, &err);
        have_bytes = TRUE;
    }
    if (!ok) {
        admin_error("evict", "%s", err->message);
        g_error_free(err);
        rc = ADMIN_EXIT_PROBLEMS;
        goto out;
    }
    if (common.json) {
        printf("{\"evicted_objects\":%" G_GUINT64_FORMAT, objects);
        if (have_bytes)
            printf(",\"evicted_bytes\":%" G_GUINT64_FORMAT, bytes);
        printf("}\n");
    } else {
        char b[32];
        printf("evicted %" G_GUINT64_FORMAT " clean objects%s%s%s\n", objects,
               have_bytes ? " (" : "", have_bytes ? admin_bytes(bytes, b) : "", have_bytes ? ")" : "");
    }
    rc = ADMIN_EXIT_OK;
out:
    seaftier_site_free(env);
    admin_common_clear(&common);
    g_free(repo_id);
    return rc;
}
