/* tools/copy-run.c — see copy-run.h. */
#include "seaftier-build.h"

#include "copy-run.h"
#include "admin.h"
#include "progress.h"
#include "sync/workers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const CopyRun *run;
    CopyResult *res;
    GMutex lock;                /* guards res, the pacing and the bar */
    AdminProgress bar;
    guint64 total, total_bytes;
    gint64 started_us;
    gint64 next_object_us;      /* pacing: earliest start of the next object */
    gint64 next_bytes_us;
    volatile gint stop;
} Runner;

static int
type_order(SeaftierObjType t)
{
    return t == SEAFTIER_TYPE_BLOCKS ? 0 : t == SEAFTIER_TYPE_FS ? 1 : 2;
}

static gint
item_cmp(gconstpointer a, gconstpointer b)
{
    const CopyItem *x = a, *y = b;
    int d = type_order(x->type) - type_order(y->type);
    if (d)
        return d;
    d = strcmp(x->repo_id, y->repo_id);
    return d ? d : strcmp(x->obj_id, y->obj_id);
}

/* Waits for this object's turn under --rate. */
static void
pace(Runner *r, const CopyItem *it)
{
    if (r->run->rate_objects <= 0 && r->run->rate_bytes <= 0)
        return;
    g_mutex_lock(&r->lock);
    gint64 now = g_get_monotonic_time();
    gint64 start = now;
    if (r->run->rate_objects > 0) {
        start = MAX(start, r->next_object_us);
        r->next_object_us = MAX(now, r->next_object_us) + (gint64)(G_USEC_PER_SEC / r->run->rate_objects);
    }
    if (r->run->rate_bytes > 0) {
        start = MAX(start, r->next_bytes_us);
        r->next_bytes_us = MAX(now, r->next_bytes_us) +
                           (gint64)((double)it->size * G_USEC_PER_SEC / r->run->rate_bytes);
    }
    g_mutex_unlock(&r->lock);
    if (start > now)
        g_usleep((gulong)(start - now));
}

static void
progress_locked(Runner *r, gboolean final)
{
    CopyResult *s = r->res;
    admin_progress_update(&r->bar, s->copied + s->already_in_target + s->gone, r->total,
                          s->copied_bytes, r->total_bytes, s->failed,
                          (g_get_monotonic_time() - r->started_us) / 1000, final);
}

static void
copy_one(gpointer data, gpointer user_data)
{
    const CopyItem *it = data;
    Runner *r = user_data;
    if (g_atomic_int_get(&r->stop))
        return;
    pace(r, it);
    guint64 bytes = 0;
    GError *err = NULL;
    CopyOutcome outcome = r->run->copy(it, &bytes, &err, r->run->user_data);
    char *key = g_strconcat(it->repo_id, "/", it->obj_id, NULL);
    if (outcome != COPY_FAILED && outcome != COPY_FAILED_ALL && outcome != COPY_GONE &&
        !seaftier_migrate_state_mark_done(r->run->state, it->type, key, bytes ? bytes : it->size,
                                          &err))
        outcome = COPY_FAILED;
    g_mutex_lock(&r->lock);
    switch (outcome) {
    case COPY_COPIED:
        r->res->copied++;
        r->res->copied_bytes += bytes;
        break;
    case COPY_ALREADY:
        r->res->already_in_target++;
        break;
    case COPY_GONE:
        r->res->gone++;
        break;
    case COPY_FAILED:
    case COPY_FAILED_ALL: {
        char *line = g_strdup_printf("%s %s: %s", seaftier_type_name(it->type), key,
                                     err ? err->message : "failed");
        r->res->failed++;
        g_ptr_array_add(r->res->failures, line);
        if (!r->run->json) {
            char *msg = g_strdup_printf("FAILED %s", line);
            admin_progress_message(&r->bar, msg);
            g_free(msg);
        }
        if (r->run->stop_on_error || outcome == COPY_FAILED_ALL) {
            g_atomic_int_set(&r->stop, 1);
            r->res->stopped = TRUE;
        }
        break;
    }
    }
    progress_locked(r, FALSE);
    g_mutex_unlock(&r->lock);
    g_clear_error(&err);
    g_free(key);
}

void
copy_run(const CopyRun *run, GArray *items, CopyResult *result)
{
    memset(result, 0, sizeof *result);
    result->failures = g_ptr_array_new_with_free_func(g_free);
    g_array_sort(items, item_cmp);
    GPtrArray *todo = g_ptr_array_new();
    Runner r = { .run = run, .res = result };
    for (guint i = 0; i < items->len; i++) {
        CopyItem *it = &g_array_index(items, CopyItem, i);
        result->listed++;
        result->listed_bytes += it->size;
        char *key = g_strconcat(it->repo_id, "/", it->obj_id, NULL);
        if (seaftier_migrate_state_is_done(run->state, it->type, key)) {
            result->already_done++;
        } else {
            g_ptr_array_add(todo, it);
            r.total++;
            r.total_bytes += it->size;
        }
        g_free(key);
    }
    gint64 t0 = g_get_monotonic_time();
    if (!run->dry_run && todo->len > 0) {
        g_mutex_init(&r.lock);
        admin_progress_init(&r.bar, run->what, run->json);
        r.started_us = t0;
        SeaftierWorkers *pool = seaftier_workers_new("seaftier-copy", copy_one, &r,
                                                     MAX(run->jobs, 1));
        for (guint i = 0; i < todo->len; i++)
            seaftier_workers_push(pool, todo->pdata[i]);
        seaftier_workers_free(pool);
        g_mutex_lock(&r.lock);
        progress_locked(&r, TRUE);
        g_mutex_unlock(&r.lock);
        g_mutex_clear(&r.lock);
    }
    result->seconds = (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC;
    g_ptr_array_free(todo, TRUE);
}

int
copy_result_report(const CopyRun *run, const CopyResult *s, const char *extra_json)
{
    guint64 to_copy = s->listed - s->already_done;
    double secs = s->seconds > 0 ? s->seconds : 0;
    double ops = secs > 0 ? s->copied / secs : 0;
    double mbs = secs > 0 ? s->copied_bytes / secs / 1e6 : 0;
    if (run->json) {
        GString *j = g_string_new("{");
        g_string_append_printf(j, "%s\"dry_run\":%s,\"listed\":%" G_GUINT64_FORMAT
                               ",\"listed_bytes\":%" G_GUINT64_FORMAT ",\"already_done\":%"
                               G_GUINT64_FORMAT ",\"to_copy\":%" G_GUINT64_FORMAT ",\"copied\":%"
                               G_GUINT64_FORMAT ",\"copied_bytes\":%" G_GUINT64_FORMAT
                               ",\"already_in_target\":%" G_GUINT64_FORMAT ",\"gone\":%"
                               G_GUINT64_FORMAT ",\"failed\":%" G_GUINT64_FORMAT
                               ",\"stopped\":%s,\"seconds\":%.3f,\"objects_per_second\":%.1f,"
                               "\"mb_per_second\":%.2f,\"failures\":[",
                               extra_json ? extra_json : "", run->dry_run ? "true" : "false",
                               s->listed, s->listed_bytes, s->already_done, to_copy, s->copied,
                               s->copied_bytes, s->already_in_target, s->gone, s->failed,
                               s->stopped ? "true" : "false", secs, ops, mbs);
        for (guint i = 0; i < s->failures->len; i++) {
            if (i)
                g_string_append_c(j, ',');
            seaftier_json_string(j, s->failures->pdata[i]);
        }
        g_string_append(j, "]}");
        printf("%s\n", j->str);
        g_string_free(j, TRUE);
    } else if (run->dry_run) {
        char b[32];
        printf("%s (dry run): %" G_GUINT64_FORMAT " objects listed, %" G_GUINT64_FORMAT
               " already done by an earlier run, %" G_GUINT64_FORMAT " to copy (%s)\n", run->what,
               s->listed, s->already_done, to_copy, admin_bytes(s->listed_bytes, b));
    } else {
        char b[32];
        printf("%s: %" G_GUINT64_FORMAT " objects listed, %" G_GUINT64_FORMAT " already done by "
               "an earlier run, %" G_GUINT64_FORMAT " copied (%s, %.1f objects/s, %.2f MB/s), %"
               G_GUINT64_FORMAT " already in the target, %" G_GUINT64_FORMAT " gone, %"
               G_GUINT64_FORMAT " failed%s\n", run->what, s->listed, s->already_done, s->copied,
               admin_bytes(s->copied_bytes, b), ops, mbs, s->already_in_target, s->gone,
               s->failed, s->stopped ? " (stopped early: see the first failure)" : "");
    }
    return s->failed ? ADMIN_EXIT_PROBLEMS : ADMIN_EXIT_OK;
}

void
copy_result_clear(CopyResult *result)
{
    if (result->failures)
        g_ptr_array_free(result->failures, TRUE);
    result->failures = NULL;
}

gboolean
copy_parse_rate(const char *text, double *objects, double *bytes)
{
    *objects = *bytes = 0;
    if (!text)
        return TRUE;
    char *end = NULL;
    double v = g_ascii_strtod(text, &end);
    if (end == text || v <= 0)
        return FALSE;
    while (*end == ' ')
        end++;
    if (*end == 0 || g_ascii_strcasecmp(end, "/s") == 0 || g_ascii_strcasecmp(end, "objects/s") == 0)
        *objects = v;
    else if (g_ascii_strcasecmp(end, "MB/s") == 0 || g_ascii_strcasecmp(end, "MB") == 0)
        *bytes = v * 1e6;
    else
        return FALSE;
    return TRUE;
}
