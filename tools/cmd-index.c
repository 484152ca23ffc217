/* tools/cmd-index.c — `seaftier-admin index-remote`: imports the listing of
 * each bucket into the tier's index (a REMOTE row for every object the tier
 * has no row for), then marks the index of that type complete, so that
 * exists() of an id the tier does not know answers "absent" without asking
 * S3 (see lib/site-index.c).
 *
 * Resumable: after every page the last key imported is noted in the index
 * (`import/<type>`, with the bucket), and a new run starts after it with
 * ListObjectsV2 start-after. Each page is requested after a fill ticket was
 * taken, so a key whose delete seaftierd carried out and forgot while the
 * page was on its way is not recorded as present. */
#include "seaftier-build.h"

#include "admin.h"

#include <seaftier/log.h>

#include <stdio.h>
#include <string.h>

#define IMPORT_PAGE 1000

/* The note's key (static storage). */
static const char *
import_key(SeaftierObjType type)
{
    static const char *const keys[SEAFTIER_N_TYPES] = {
        "import/commits", "import/fs", "import/blocks",
    };
    return keys[type];
}

/* The key to resume after, from a note "<bucket>\n<key>" of this bucket. */
static char *
resume_after(const char *note, const char *bucket)
{
    if (!note)
        return NULL;
    const char *nl = strchr(note, '\n');
    if (!nl || (gsize)(nl - note) != strlen(bucket) || strncmp(note, bucket, strlen(bucket)) != 0)
        return NULL;
    return g_strdup(nl + 1);
}

typedef struct {
    guint64 listed, added, ignored;
} ImportCounts;

/* One page: its valid keys become REMOTE rows (one transaction). */
static gboolean
import_page(SeaftierSite *env, SeaftierObjType type, const SeaftierS3ListPage *page,
            const SeaftierTierFillTicket *ticket, ImportCounts *n, GError **error)
{
    GArray *objs = g_array_new(FALSE, FALSE, sizeof(SeaftierTierRemoteObject));
    GPtrArray *parts = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
    for (guint i = 0; i < page->entries->len; i++) {
        const SeaftierS3ListEntry *e = page->entries->pdata[i];
        n->listed++;
        char **kv = g_strsplit(e->key, "/", 3);
        if (g_strv_length(kv) != 2 || !seaftier_valid_repo_id(kv[0]) ||
            !seaftier_valid_obj_id(kv[1])) {
            n->ignored++;       /* not a Seafile object key */
            g_strfreev(kv);
            continue;
        }
        g_ptr_array_add(parts, kv);
        SeaftierTierRemoteObject o = { kv[0], kv[1], e->size };
        g_array_append_val(objs, o);
    }
    guint added = 0;
    gboolean ok = seaftier_tier_remember_remote_batch(env->tier, type,
                                                      (SeaftierTierRemoteObject *)objs->data,
                                                      objs->len, ticket, &added, error);
    n->added += added;
    g_array_free(objs, TRUE);
    g_ptr_array_free(parts, TRUE);
    return ok;
}

static gboolean
import_type(SeaftierSite *env, SeaftierObjType type, gboolean restart, ImportCounts *n,
            GError **error)
{
    const char *bucket = env->cfg->s3[type].bucket;
    char *note = NULL;
    if (!seaftier_tier_meta_get(env->tier, import_key(type), &note, error))
        return FALSE;
    char *after = restart ? NULL : resume_after(note, bucket);
    g_free(note);
    char *token = NULL;
    gboolean ok = TRUE;
    for (;;) {
        SeaftierTierFillTicket ticket;
        SeaftierS3ListPage *page = NULL;
        ok = seaftier_tier_fill_ticket(env->tier, &ticket, error) &&
             seaftier_s3_list_page_after(env->s3[type], NULL, after, token, IMPORT_PAGE, &page,
                                         error);
        if (!ok)
            break;
        ok = import_page(env, type, page, &ticket, n, error);
        if (ok && page->entries->len) {
            const SeaftierS3ListEntry *last = page->entries->pdata[page->entries->len - 1];
            g_free(after);
            after = g_strdup(last->key);
            char *v = g_strdup_printf("%s\n%s", bucket, after);
            ok = seaftier_tier_meta_set(env->tier, import_key(type), v, error);
            g_free(v);
        }
        g_free(token);
        token = ok ? g_strdup(page->next_token) : NULL;
        seaftier_s3_list_page_free(page);
        if (!ok || !token)
            break;
    }
    g_free(token);
    g_free(after);
    /* Complete last: its durable commit makes every page's rows durable. */
    ok = ok && seaftier_tier_set_complete(env->tier, type, bucket, TRUE, error) &&
         seaftier_tier_meta_set(env->tier, import_key(type), NULL, error);
    if (!ok)
        g_prefix_error(error, "%s bucket %s: ", seaftier_type_name(type), bucket);
    return ok;
}

int
admin_cmd_index_remote(int argc, char **argv)
{
    AdminCommon common = { 0 };
    char *type_name = NULL;
    gboolean restart = FALSE;
    const GOptionEntry entries[] = {
        { "type", 't', 0, G_OPTION_ARG_STRING, &type_name, "Only this type (commits, fs, blocks)",
          "T" },
        { "restart", 0, 0, G_OPTION_ARG_NONE, &restart,
          "List from the start, not from where an interrupted run stopped", NULL },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    int rc = ADMIN_EXIT_USAGE;
    int type = -1;
    SeaftierSite *env = NULL;
    if (!admin_parse(&argc, &argv, "index-remote", NULL,
                     "Lists each bucket and records every object the tier has no row for, then\n"
                     "marks the tier's index complete for that bucket: seaf-server's exists() of an\n"
                     "object the tier does not know then answers \"absent\" without an S3 request\n"
                     "(when [tier] authoritative_index allows it: auto in write_back mode, or on).\n"
                     "Only correct while nothing but this site writes the buckets. Safe to run while\n"
                     "seaf-server and seaftierd run; an interrupted run resumes where it stopped.",
                     entries, TRUE, &common))
        goto out;
    if (argc > 1) {
        admin_error("index-remote", "unexpected argument \"%s\"", argv[1]);
        goto out;
    }
    if (!admin_type_filter("index-remote", type_name, &type))
        goto out;
    env = admin_open(&common, TRUE, TRUE, &rc);
    if (!env)
        goto out;
    rc = ADMIN_EXIT_OK;
    if (common.json)
        printf("{");
    for (int t = 0; t < SEAFTIER_N_TYPES; t++) {
        if (type >= 0 && t != type)
            continue;
        ImportCounts n = { 0 };
        GError *err = NULL;
        gboolean ok = import_type(env, (SeaftierObjType)t, restart, &n, &err);
        if (!ok) {
            admin_error("index-remote", "%s (run it again to resume)", err->message);
            g_error_free(err);
            rc = ADMIN_EXIT_PROBLEMS;
        }
        if (common.json) {
            printf("%s\"%s\":{\"listed\":%" G_GUINT64_FORMAT ",\"added\":%" G_GUINT64_FORMAT
                   ",\"ignored\":%" G_GUINT64_FORMAT ",\"complete\":%s}",
                   type >= 0 || t == 0 ? "" : ",", seaftier_type_name(t), n.listed, n.added,
                   n.ignored, ok ? "true" : "false");
        } else {
            printf("%s: listed %" G_GUINT64_FORMAT " keys, recorded %" G_GUINT64_FORMAT
                   " objects the tier did not know, ignored %" G_GUINT64_FORMAT
                   " other keys; index %s\n", seaftier_type_name(t), n.listed, n.added, n.ignored,
                   ok ? "complete" : "NOT complete");
        }
    }
    if (common.json)
        printf("}\n");
    if (!seaftier_site_index_trusted(env) && !common.json)
        printf("note: [tier] authoritative_index / mode do not let the index answer \"absent\" "
               "alone; exists() still asks S3 for ids the tier does not know\n");
out:
    seaftier_site_free(env);
    admin_common_clear(&common);
    g_free(type_name);
    return rc;
}
