/* tools/cmd-objects.c — `seaftier-admin ls` and `inspect`: rows of the
 * tier's index, as a table or JSON. */
#include "seaftier-build.h"

#include "admin.h"

#include <stdio.h>
#include <string.h>

static void
entry_json(GString *out, const SeaftierTierEntry *e)
{
    g_string_append_c(out, '{');
    seaftier_json_key(out, "type", TRUE);
    seaftier_json_string(out, seaftier_type_name(e->type));
    seaftier_json_key(out, "repo_id", FALSE);
    seaftier_json_string(out, e->repo_id);
    seaftier_json_key(out, "obj_id", FALSE);
    seaftier_json_string(out, e->obj_id);
    seaftier_json_key(out, "state", FALSE);
    seaftier_json_string(out, seaftier_state_name(e->state));
    seaftier_json_key(out, "size", FALSE);
    g_string_append_printf(out, "%" G_GUINT64_FORMAT, e->size);
    seaftier_json_key(out, "stored_size", FALSE);
    g_string_append_printf(out, "%" G_GUINT64_FORMAT, e->stored_size);
    seaftier_json_key(out, "codec", FALSE);
    seaftier_json_string(out, e->codec == 1 ? "lz4" : e->codec == 2 ? "pieces" : "raw");
    seaftier_json_key(out, "checksum", FALSE);
    g_string_append_printf(out, "\"%08x\"", e->checksum);
    seaftier_json_key(out, "created", FALSE);
    g_string_append_printf(out, "%" G_GINT64_FORMAT, e->created);
    seaftier_json_key(out, "atime", FALSE);
    g_string_append_printf(out, "%" G_GINT64_FORMAT, e->atime);
    seaftier_json_key(out, "attempts", FALSE);
    g_string_append_printf(out, "%d", e->attempts);
    seaftier_json_key(out, "retry_at", FALSE);
    g_string_append_printf(out, "%" G_GINT64_FORMAT, e->retry_at);
    seaftier_json_key(out, "uploaded", FALSE);
    g_string_append(out, e->uploaded ? "true" : "false");
    seaftier_json_key(out, "last_error", FALSE);
    seaftier_json_string(out, e->last_error[0] ? e->last_error : NULL);
    g_string_append_c(out, '}');
}

typedef struct {
    gboolean json;
    guint64 count;
    guint64 limit;
    GString *out;
} LsCtx;

static gboolean
ls_row(const SeaftierTierEntry *e, void *user_data)
{
    LsCtx *ls = user_data;
    if (ls->json) {
        if (ls->count)
            g_string_append_c(ls->out, ',');
        entry_json(ls->out, e);
        /* Keep memory flat on big tiers. */
        if (ls->out->len > 65536) {
            fputs(ls->out->str, stdout);
            g_string_truncate(ls->out, 0);
        }
    } else {
        char t[32];
        printf("%-7s %-7s %s/%s %10" G_GUINT64_FORMAT " %10" G_GUINT64_FORMAT " %s%s%s\n",
               seaftier_type_name(e->type), seaftier_state_name(e->state), e->repo_id, e->obj_id,
               e->size, e->stored_size, admin_time(e->created, t),
               e->last_error[0] ? "  error: " : "", e->last_error);
    }
    ls->count++;
    return ls->limit == 0 || ls->count < ls->limit;
}

int
admin_cmd_ls(int argc, char **argv)
{
    AdminCommon common = { 0 };
    char *type_name = NULL, *repo_id = NULL, *state_name = NULL;
    gint64 limit = 0;
    const GOptionEntry entries[] = {
        { "type", 't', 0, G_OPTION_ARG_STRING, &type_name, "Only this type (commits, fs, blocks)", "T" },
        { "repo", 'r', 0, G_OPTION_ARG_STRING, &repo_id, "Only this library (repo id)", "R" },
        { "state", 's', 0, G_OPTION_ARG_STRING, &state_name, "Only this state (clean, dirty, deleted)", "S" },
        { "limit", 'n', 0, G_OPTION_ARG_INT64, &limit, "At most N rows", "N" },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    int rc = ADMIN_EXIT_USAGE;
    SeaftierSite *env = NULL;
    if (!admin_parse(&argc, &argv, "ls", NULL,
                     "Lists the objects in the tier's index: type, state, repo/object id, size,\n"
                     "stored size, creation time (UTC) and the last upload error.", entries, TRUE, &common))
        goto out;
    int type = -1;
    unsigned mask = 7;
    if (!admin_type_filter("ls", type_name, &type))
        goto out;
    if (state_name) {
        SeaftierState s;
        if (!seaftier_state_from_name(state_name, &s)) {
            admin_error("ls", "unknown state \"%s\" (clean, dirty, deleted)", state_name);
            goto out;
        }
        mask = 1u << s;
    }
    if (!admin_repo_filter("ls", repo_id))
        goto out;
    if (argc > 1 || limit < 0) {
        admin_error("ls", argc > 1 ? "unexpected argument \"%s\"" : "--limit must be >= 0%s",
                    argc > 1 ? argv[1] : "");
        goto out;
    }
    env = admin_open(&common, TRUE, FALSE, &rc);
    if (!env)
        goto out;
    LsCtx ls = { .json = common.json, .limit = (guint64)limit, .out = g_string_new(NULL) };
    if (ls.json)
        g_string_append_c(ls.out, '[');
    rc = ADMIN_EXIT_OK;
    for (int t = 0; t < SEAFTIER_N_TYPES; t++) {
        if (type >= 0 && t != type)
            continue;
        if (ls.limit && ls.count >= ls.limit)
            break;
        GError *err = NULL;
        if (!seaftier_tier_foreach(env->tier, t, repo_id, mask, ls_row, &ls, &err)) {
            admin_error("ls", "%s", err->message);
            g_error_free(err);
            rc = ADMIN_EXIT_PROBLEMS;
            break;
        }
    }
    if (ls.json) {
        g_string_append(ls.out, "]\n");
        fputs(ls.out->str, stdout);
    }
    g_string_free(ls.out, TRUE);
out:
    seaftier_site_free(env);
    admin_common_clear(&common);
    g_free(type_name);
    g_free(repo_id);
    g_free(state_name);
    return rc;
}

int
admin_cmd_inspect(int argc, char **argv)
{
    AdminCommon common = { 0 };
    gboolean remote = FALSE;
    const GOptionEntry entries[] = {
        { "remote", 'R', 0, G_OPTION_ARG_NONE, &remote, "Also HEAD the object in S3", NULL },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    int rc = ADMIN_EXIT_USAGE;
    SeaftierSite *env = NULL;
    if (!admin_parse(&argc, &argv, "inspect", "TYPE REPO_ID OBJ_ID",
                     "Shows what the index knows about one object (state, sizes, codec, checksum,\n"
                     "times, upload attempts, last error); --remote adds S3's HEAD.\n"
                     "Exits 1 when the object is neither in the tier nor (with --remote) in S3.",
                     entries, TRUE, &common))
        goto out;
    if (argc != 4) {
        admin_error("inspect", "expected TYPE REPO_ID OBJ_ID (see --help)");
        goto out;
    }
    SeaftierObjType type;
    if (!seaftier_type_from_name(argv[1], &type)) {
        admin_error("inspect", "unknown type \"%s\" (commits, fs, blocks)", argv[1]);
        goto out;
    }
    if (!seaftier_valid_repo_id(argv[2]) || !seaftier_valid_obj_id(argv[3])) {
        admin_error("inspect", "%s", !seaftier_valid_repo_id(argv[2])
                    ? "REPO_ID is not a UUID" : "OBJ_ID is not 40 lowercase hex characters");
        goto out;
    }
    env = admin_open(&common, TRUE, remote, &rc);
    if (!env)
        goto out;
    SeaftierTierEntry e;
    GError *err = NULL;
    gboolean found = seaftier_tier_lookup(env->tier, type, argv[2], argv[3], &e, &err);
    if (err) {
        admin_error("inspect", "%s", err->message);
        g_error_free(err);
        rc = ADMIN_EXIT_PROBLEMS;
        goto out;
    }
    SeaftierS3ObjectInfo info = { 0 };
    gboolean in_s3 = FALSE;
    char *remote_error = NULL;
    if (remote) {
        char *key = seaftier_remote_key(argv[2], argv[3]);
        in_s3 = seaftier_s3_head(env->s3[type], key, &info, &err);
        if (!in_s3) {
            remote_error = g_strdup(err->message);
            g_clear_error(&err);
        }
        g_free(key);
    }
    if (common.json) {
        GString *out = g_string_new("{");
        seaftier_json_key(out, "local", TRUE);
        if (found)
            entry_json(out, &e);
        else
            g_string_append(out, "null");
        if (remote) {
            seaftier_json_key(out, "remote", FALSE);
            if (in_s3) {
                g_string_append_c(out, '{');
                seaftier_json_key(out, "size", TRUE);
                g_string_append_printf(out, "%" G_GUINT64_FORMAT, info.size);
                seaftier_json_key(out, "mtime", FALSE);
                g_string_append_printf(out, "%" G_GINT64_FORMAT, info.mtime);
                seaftier_json_key(out, "ctime", FALSE);
                g_string_append_printf(out, "%" G_GINT64_FORMAT, info.ctime);
                seaftier_json_key(out, "etag", FALSE);
                seaftier_json_string(out, info.etag);
                seaftier_json_key(out, "sse_c", FALSE);
                g_string_append(out, info.sse_c ? "true" : "false");
                g_string_append_c(out, '}');
            } else {
                g_string_append(out, "null");
            }
            seaftier_json_key(out, "remote_error", FALSE);
            seaftier_json_string(out, remote_error);
        }
        g_string_append_c(out, '}');
        printf("%s\n", out->str);
        g_string_free(out, TRUE);
    } else {
        char t1[32];
        printf("%s %s/%s\n", seaftier_type_name(type), argv[2], argv[3]);
        if (found) {
            printf("  state:       %s\n", seaftier_state_name(e.state));
            printf("  size:        %" G_GUINT64_FORMAT " bytes\n", e.size);
            printf("  stored size: %" G_GUINT64_FORMAT " bytes (%s)\n", e.stored_size,
                   e.codec == 1 ? "lz4" : e.codec == 2 ? "pieces" : "raw");
            printf("  checksum:    %08x (CRC32C)\n", e.checksum);
            printf("  created:     %s UTC\n", admin_time(e.created, t1));
            printf("  last access: %s UTC\n", admin_time(e.atime, t1));
            printf("  uploaded:    %s\n", e.uploaded ? "yes (a copy is or was in S3)" : "no");
            printf("  attempts:    %d failed\n", e.attempts);
            if (e.retry_at)
                printf("  next try:    %s UTC\n", admin_time(e.retry_at, t1));
            if (e.last_error[0])
                printf("  last error:  %s\n", e.last_error);
        } else {
            printf("  not in the tier\n");
        }
        if (remote) {
            if (in_s3)
                printf("  S3 (%s):    %" G_GUINT64_FORMAT " bytes, modified %s UTC, etag %s, %s\n",
                       env->cfg->s3[type].bucket, info.size, admin_time(info.mtime, t1), info.etag,
                       info.sse_c ? "SSE-C" : "not SSE-C");
            else
                printf("  S3 (%s): %s\n", env->cfg->s3[type].bucket, remote_error);
        }
    }
    rc = found || in_s3 ? ADMIN_EXIT_OK : ADMIN_EXIT_PROBLEMS;
    g_free(remote_error);
out:
    seaftier_site_free(env);
    admin_common_clear(&common);
    return rc;
}
