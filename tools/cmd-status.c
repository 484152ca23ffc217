/* tools/cmd-status.c — `seaftier-admin status`: the tier at a glance.
 *
 * Counts come straight from the index (no daemon needed); upload rate,
 * in-flight uploads and the buckets' probe results come from seaftierd when
 * it runs. Hits, misses and bytes read/written are the totals of every
 * process that opened the tier (each persists its counts in the index every
 * few seconds), so seaf-server's reads show here too. */
#include "seaftier-build.h"

#include "admin.h"

#include <stdio.h>
#include <string.h>

#define MAX_RECENT_ERRORS 10

typedef struct {
    GPtrArray *rows;            /* SeaftierTierEntry* */
} ErrorScan;

static gboolean
collect_errors(const SeaftierTierEntry *e, void *user_data)
{
    ErrorScan *scan = user_data;
    if (!e->last_error[0])
        return TRUE;
    SeaftierTierEntry *copy = g_new(SeaftierTierEntry, 1);
    *copy = *e;
    g_ptr_array_add(scan->rows, copy);
    return scan->rows->len < MAX_RECENT_ERRORS;
}

static void
json_u64(GString *out, const char *key, guint64 v, gboolean first)
{
    seaftier_json_key(out, key, first);
    g_string_append_printf(out, "%" G_GUINT64_FORMAT, v);
}

int
admin_cmd_status(int argc, char **argv)
{
    AdminCommon common = { 0 };
    int rc = ADMIN_EXIT_USAGE;
    SeaftierSite *env = NULL;
    char *metrics = NULL, *daemon_json = NULL;
    ErrorScan scan = { g_ptr_array_new_with_free_func(g_free) };
    if (!admin_parse(&argc, &argv, "status", NULL,
                     "Per type: objects and bytes by state, compression ratio; tier use against\n"
                     "its limit, free space, upload backlog and rate, oldest dirty object, recent\n"
                     "errors, and whether seaftierd runs.", NULL, TRUE, &common))
        goto out;
    if (argc > 1) {
        admin_error("status", "unexpected argument \"%s\"", argv[1]);
        goto out;
    }
    env = admin_open(&common, TRUE, FALSE, &rc);
    if (!env)
        goto out;
    SeaftierTierStats st;
    GError *err = NULL;
    if (!seaftier_tier_stats(env->tier, &st, &err)) {
        admin_error("status", "%s", err->message);
        g_error_free(err);
        rc = ADMIN_EXIT_PROBLEMS;
        goto out;
    }
    for (int t = 0; t < SEAFTIER_N_TYPES && scan.rows->len < MAX_RECENT_ERRORS; t++) {
        if (!seaftier_tier_foreach(env->tier, t, NULL,
                                   (1u << SEAFTIER_STATE_DIRTY) | (1u << SEAFTIER_STATE_DELETED),
                                   collect_errors, &scan, &err)) {
            admin_error("status", "%s", err->message);
            g_clear_error(&err);
            break;
        }
    }
    metrics = admin_daemon_request(env->socket_path, "metrics");
    daemon_json = metrics ? admin_daemon_request(env->socket_path, "status") : NULL;
    if (daemon_json)
        g_strchomp(daemon_json);
    gboolean daemon_up = metrics && g_str_has_prefix(metrics, "# HELP");
    double rate_bps = 0, rate_ops = 0, in_flight = 0;
    if (daemon_up) {
        admin_metric(metrics, "seaftier_upload_bytes_per_second", NULL, &rate_bps);
        admin_metric(metrics, "seaftier_upload_objects_per_second", NULL, &rate_ops);
        admin_metric(metrics, "seaftier_uploads_in_flight", NULL, &in_flight);
    }
    gint64 now = g_get_real_time() / G_USEC_PER_SEC;
    gint64 oldest_age = st.oldest_dirty ? MAX(now - st.oldest_dirty, 0) : 0;
    guint64 dirty_objects = 0, dirty_bytes = 0;
    for (int t = 0; t < SEAFTIER_N_TYPES; t++) {
        dirty_objects += st.objects[t][SEAFTIER_STATE_DIRTY];
        dirty_bytes += st.bytes[t][SEAFTIER_STATE_DIRTY];
    }

    if (common.json) {
        GString *out = g_string_new("{");
        seaftier_json_key(out, "tier_dir", TRUE);
        seaftier_json_string(out, env->tier_dir);
        seaftier_json_key(out, "types", FALSE);
        g_string_append_c(out, '{');
        for (int t = 0; t < SEAFTIER_N_TYPES; t++) {
            seaftier_json_key(out, seaftier_type_name(t), t == 0);
            g_string_append_c(out, '{');
            guint64 orig = 0, stored = 0;
            for (int s = 0; s < SEAFTIER_N_STATES; s++) {
                seaftier_json_key(out, seaftier_state_name(s), s == 0);
                g_string_append_c(out, '{');
                json_u64(out, "objects", st.objects[t][s], TRUE);
                json_u64(out, "bytes", st.bytes[t][s], FALSE);
                json_u64(out, "stored_bytes", st.stored_bytes[t][s], FALSE);
                g_string_append_c(out, '}');
                if (s == SEAFTIER_STATE_REMOTE)
                    continue;       /* no local bytes: not part of the ratio */
                orig += st.bytes[t][s];
                stored += st.stored_bytes[t][s];
            }
            seaftier_json_key(out, "compression_ratio", FALSE);
            g_string_append_printf(out, "%.3f", stored ? (double)orig / (double)stored : 1.0);
            seaftier_json_key(out, "bucket", FALSE);
            seaftier_json_string(out, env->cfg->s3[t].bucket);
            g_string_append_c(out, '}');
        }
        g_string_append_c(out, '}');
        json_u64(out, "used_bytes", st.used_bytes, FALSE);
        json_u64(out, "max_size", st.max_size, FALSE);
        json_u64(out, "fs_free_bytes", st.fs_free_bytes, FALSE);
        json_u64(out, "dirty_objects", dirty_objects, FALSE);
        json_u64(out, "dirty_bytes", dirty_bytes, FALSE);
        seaftier_json_key(out, "oldest_dirty_age_seconds", FALSE);
        g_string_append_printf(out, "%" G_GINT64_FORMAT, oldest_age);
        json_u64(out, "ram_hits", st.ram_hits, FALSE);
        json_u64(out, "disk_hits", st.disk_hits, FALSE);
        json_u64(out, "located_hits", st.located_hits, FALSE);
        json_u64(out, "misses", st.misses, FALSE);
        json_u64(out, "bytes_read", st.bytes_read, FALSE);
        json_u64(out, "bytes_written", st.bytes_written, FALSE);
        seaftier_json_key(out, "daemon_running", FALSE);
        g_string_append(out, daemon_up ? "true" : "false");
        seaftier_json_key(out, "daemon", FALSE);
        g_string_append(out, daemon_up && daemon_json && daemon_json[0] == '{' ? daemon_json : "null");
        seaftier_json_key(out, "recent_errors", FALSE);
        g_string_append_c(out, '[');
        for (guint i = 0; i < scan.rows->len; i++) {
            const SeaftierTierEntry *e = g_ptr_array_index(scan.rows, i);
            g_string_append(out, i ? ",{" : "{");
            seaftier_json_key(out, "type", TRUE);
            seaftier_json_string(out, seaftier_type_name(e->type));
            seaftier_json_key(out, "repo_id", FALSE);
            seaftier_json_string(out, e->repo_id);
            seaftier_json_key(out, "obj_id", FALSE);
            seaftier_json_string(out, e->obj_id);
            seaftier_json_key(out, "state", FALSE);
            seaftier_json_string(out, seaftier_state_name(e->state));
            seaftier_json_key(out, "attempts", FALSE);
            g_string_append_printf(out, "%d", e->attempts);
            seaftier_json_key(out, "error", FALSE);
            seaftier_json_string(out, e->last_error);
            g_string_append_c(out, '}');
        }
        g_string_append(out, "]}");
        printf("%s\n", out->str);
        g_string_free(out, TRUE);
        rc = ADMIN_EXIT_OK;
        goto out;
    }

    char b1[32], b2[32], b3[32], b4[32];
    printf("tier %s\n", env->tier_dir);
    if (daemon_up) {
        double pid = 0;
        const char *p = daemon_json ? strstr(daemon_json, "\"pid\":") : NULL;
        if (p)
            pid = g_ascii_strtod(p + 6, NULL);
        printf("seaftierd: running (pid %.0f), %.0f uploads in flight, %.1f objects/s, %s/s\n", pid,
               in_flight, rate_ops, admin_bytes((guint64)rate_bps, b1));
    } else {
        printf("seaftierd: NOT running (no answer on %s): dirty objects are not being uploaded\n",
               env->socket_path);
    }
    printf("used %s of %s (%.0f%%), %s free on the file system\n", admin_bytes(st.used_bytes, b1),
           admin_bytes(st.max_size, b2), st.max_size ? 100.0 * (double)st.used_bytes / (double)st.max_size : 0,
           admin_bytes(st.fs_free_bytes, b3));
    printf("\n%-8s %22s %22s %10s %10s %7s\n", "type", "clean", "dirty", "deleted", "in S3 only",
           "ratio");
    for (int t = 0; t < SEAFTIER_N_TYPES; t++) {
        guint64 orig = 0, stored = 0;
        for (int s = 0; s < 3; s++) {
            orig += st.bytes[t][s];
            stored += st.stored_bytes[t][s];
        }
        char c[48], d[48];
        g_snprintf(c, sizeof c, "%" G_GUINT64_FORMAT " (%s)", st.objects[t][SEAFTIER_STATE_CLEAN],
                   admin_bytes(st.bytes[t][SEAFTIER_STATE_CLEAN], b1));
        g_snprintf(d, sizeof d, "%" G_GUINT64_FORMAT " (%s)", st.objects[t][SEAFTIER_STATE_DIRTY],
                   admin_bytes(st.bytes[t][SEAFTIER_STATE_DIRTY], b2));
        printf("%-8s %22s %22s %10" G_GUINT64_FORMAT " %10" G_GUINT64_FORMAT " %6.2fx\n",
               seaftier_type_name(t), c, d, st.objects[t][SEAFTIER_STATE_DELETED],
               st.objects[t][SEAFTIER_STATE_REMOTE], stored ? (double)orig / (double)stored : 1.0);
    }
    printf("\nupload backlog: %" G_GUINT64_FORMAT " objects, %s; oldest dirty: %s\n", dirty_objects,
           admin_bytes(dirty_bytes, b1), st.oldest_dirty ? admin_duration(oldest_age, b4) : "-");
    if (st.ram_hits + st.disk_hits + st.misses > 0)
        printf("hit ratio: %.1f%% (%" G_GUINT64_FORMAT " RAM hits, %" G_GUINT64_FORMAT " disk hits"
               " of which %" G_GUINT64_FORMAT " through the location cache, %" G_GUINT64_FORMAT
               " misses)\n",
               100.0 * (double)(st.ram_hits + st.disk_hits) / (double)(st.ram_hits + st.disk_hits + st.misses),
               st.ram_hits, st.disk_hits, st.located_hits, st.misses);
    else
        printf("hit ratio: n/a (no read recorded yet)\n");
    printf("read from the tier: %s; written to it: %s (all processes)\n",
           admin_bytes(st.bytes_read, b1), admin_bytes(st.bytes_written, b2));
    if (daemon_up) {
        printf("\nbuckets:\n");
        for (int t = 0; t < SEAFTIER_N_TYPES; t++) {
            static const char *const states[] = { "unknown", "ok", "unreachable", "refused" };
            const char *state = "unknown";
            char labels[256];
            for (gsize s = 0; s < G_N_ELEMENTS(states); s++) {
                double v;
                g_snprintf(labels, sizeof labels, "type=\"%s\",bucket=\"%s\",state=\"%s\"",
                           seaftier_type_name(t), env->cfg->s3[t].bucket, states[s]);
                if (admin_metric(metrics, "seaftier_backend_up", labels, &v))
                    state = states[s];
            }
            printf("  %-8s %-40s %s%s\n", seaftier_type_name(t), env->cfg->s3[t].bucket, state,
                   strcmp(state, "refused") == 0 ? "  (NOT uploading: run `seaftier-admin check`)" : "");
        }
    }
    if (scan.rows->len) {
        printf("\nrecent errors:\n");
        for (guint i = 0; i < scan.rows->len; i++) {
            const SeaftierTierEntry *e = g_ptr_array_index(scan.rows, i);
            printf("  %s %s/%s (%s, %d attempts): %s\n", seaftier_type_name(e->type), e->repo_id,
                   e->obj_id, seaftier_state_name(e->state), e->attempts, e->last_error);
        }
    }
    rc = ADMIN_EXIT_OK;
out:
    g_ptr_array_free(scan.rows, TRUE);
    g_free(metrics);
    g_free(daemon_json);
    seaftier_site_free(env);
    admin_common_clear(&common);
    return rc;
}
