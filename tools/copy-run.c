/* tools/copy-run.c — see copy-run.h. */
#include "seaftier-build.h"

#include "copy-run.h"
#include "progress.h"
#include "sync/workers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    guint64 listed, listed_bytes;
    guint64 already_done;       /* confirmed by an earlier run (skipped) */
    guint64 copied, copied_bytes;
    guint64 already_in_target;
    guint64 gone;
    guint64 failed;
    GPtrArray *failures;        /* "TYPE REPO/OBJ: message" */
    gboolean stopped;           /* --on-error=stop ended the run early */
    double seconds;
} CopyResult;

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

static void
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

static int
copy_result_report(const CopyRun *run, const CopyResult *s, const char *extra_json)
{
    guint64 to_copy = s->listed - s->already_done;
    double secs = s->seconds > 0 ? s->seconds : 0;
    double ops = secs > 0 ? s->copied / secs : 0;
    double mbs = secs > 0 ? s->copied_bytes / secs / 1e6 : 0;
    if (run->json) {
        GString *j = g_string_new("{");
        if (extra_json && *extra_json)
            g_string_append_printf(j, "%s,", extra_json);
        g_string_append_printf(j, "\"verified\":%s,\"dry_run\":%s,\"listed\":%" G_GUINT64_FORMAT
                               ",\"listed_bytes\":%" G_GUINT64_FORMAT ",\"already_done\":%"
                               G_GUINT64_FORMAT ",\"to_copy\":%" G_GUINT64_FORMAT ",\"copied\":%"
                               G_GUINT64_FORMAT ",\"copied_bytes\":%" G_GUINT64_FORMAT
                               ",\"already_in_target\":%" G_GUINT64_FORMAT ",\"gone\":%"
                               G_GUINT64_FORMAT ",\"failed\":%" G_GUINT64_FORMAT
                               ",\"stopped\":%s,\"seconds\":%.3f,\"objects_per_second\":%.1f,"
                               "\"mb_per_second\":%.2f,\"failures\":[",
                               run->verified ? "true" : "false", run->dry_run ? "true" : "false",
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

int
copy_run_report(const CopyRun *run, GArray *items, const char *extra_json)
{
    CopyResult res;
    copy_run(run, items, &res);
    gboolean finished = run->dry_run || !run->finish || run->finish(run->user_data);
    int rc = copy_result_report(run, &res, extra_json);
    g_ptr_array_free(res.failures, TRUE);
    return finished ? rc : ADMIN_EXIT_PROBLEMS;
}

/* ---- options, tier, state ---- */

/* Parses --rate: "N" objects/s, or "N MB/s"/"NMB" (MB = 10^6 bytes). */
static gboolean
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

gboolean
copy_options_parse(int *argc, char ***argv, const char *what, const char *params,
                   const char *summary, const GOptionEntry *entries, const char *state_help,
                   CopyOptions *o, AdminCommon *common)
{
    const GOptionEntry copy_entries[] = {
        { "state", 0, 0, G_OPTION_ARG_FILENAME, &o->state_path, state_help, "FILE" },
        { "jobs", 'J', 0, G_OPTION_ARG_INT, &o->jobs, "Objects in flight (default: upload_concurrency)", "N" },
        { "rate", 0, 0, G_OPTION_ARG_STRING, &o->rate, "At most N objects/s, or \"N MB/s\"", "RATE" },
        { "dry-run", 'n', 0, G_OPTION_ARG_NONE, &o->dry_run, "List and count, copy nothing", NULL },
        { "verify", 0, 0, G_OPTION_ARG_NONE, &o->verify,
          "Read every object back from the target and compare (bytes and id)", NULL },
        { "on-error", 0, 0, G_OPTION_ARG_STRING, &o->on_error,
          "skip (report and go on, the default) or stop (at the first bad object)", "skip|stop" },
        { "type", 't', 0, G_OPTION_ARG_STRING, &o->type_name, "Only this type (commits, fs, blocks)", "T" },
        { "repo", 'r', 0, G_OPTION_ARG_STRING, &o->repo, "Only this library", "REPO_ID" },
    };
    /* the command's own options first (--help lists them first), then these */
    GArray *all = g_array_new(TRUE, TRUE, sizeof(GOptionEntry));
    for (const GOptionEntry *e = entries; e && e->long_name; e++)
        g_array_append_val(all, *e);
    g_array_append_vals(all, copy_entries, G_N_ELEMENTS(copy_entries));
    gboolean ok = admin_parse(argc, argv, what, params, summary, (GOptionEntry *)(void *)all->data,
                              TRUE, common);
    g_array_free(all, TRUE);
    if (!ok)
        return FALSE;
    if (o->on_error && strcmp(o->on_error, "skip") != 0 && strcmp(o->on_error, "stop") != 0) {
        admin_error(what, "--on-error is skip or stop, not \"%s\"", o->on_error);
        return FALSE;
    }
    if (!copy_parse_rate(o->rate, &o->rate_objects, &o->rate_bytes)) {
        admin_error(what, "--rate \"%s\": give objects/s (\"200\") or \"N MB/s\"", o->rate);
        return FALSE;
    }
    return o->jobs >= 0 && admin_type_filter(what, o->type_name, &o->type) &&
           admin_repo_filter(what, o->repo);
}

void
copy_options_clear(CopyOptions *o)
{
    g_free(o->state_path);
    g_free(o->type_name);
    g_free(o->repo);
    g_free(o->rate);
    g_free(o->on_error);
    memset(o, 0, sizeof *o);
}

void
copy_run_init(CopyRun *run, const char *what, const CopyOptions *o, gboolean json,
              const SeaftierSite *site, SeaftierMigrateState *state, CopyFunc copy,
              void *user_data)
{
    *run = (CopyRun){
        .what = what, .jobs = o->jobs > 0 ? o->jobs : MAX(site->cfg->tier.upload_concurrency, 1),
        .rate_objects = o->rate_objects, .rate_bytes = o->rate_bytes,
        .stop_on_error = o->on_error && strcmp(o->on_error, "stop") == 0,
        .dry_run = o->dry_run, .json = json, .verified = o->verify, .state = state,
        .copy = copy, .user_data = user_data,
    };
}

gboolean
copy_item_from_key(SeaftierObjType type, const char *key, guint64 size, CopyItem *item)
{
    const char *slash = strchr(key, '/');
    if (!slash || slash - key != 36 || !seaftier_valid_obj_id(slash + 1))
        return FALSE;
    *item = (CopyItem){ .type = type, .size = size };
    memcpy(item->repo_id, key, 36);
    g_strlcpy(item->obj_id, slash + 1, sizeof item->obj_id);
    return seaftier_valid_repo_id(item->repo_id);
}

gboolean
copy_open_tier(const char *what, SeaftierSite *site)
{
    GError *err = NULL;
    if (g_mkdir_with_parents(site->tier_dir, 0700) == 0 &&
        seaftier_site_open_tier(site, FALSE, &err))
        return TRUE;
    admin_error(what, "cannot open the tier %s: %s", site->tier_dir,
                err ? err->message : g_strerror(errno));
    g_clear_error(&err);
    return FALSE;
}

SeaftierMigrateState *
copy_state_open(const char *what, const char *path, const char *job)
{
    GError *err = NULL;
    SeaftierMigrateState *state = seaftier_migrate_state_open(path, job, &err);
    if (!state) {
        admin_error(what, "%s", err->message);
        g_error_free(err);
    }
    return state;
}

int
copy_state_close(const char *what, SeaftierMigrateState *state, int rc)
{
    GError *err = NULL;
    if (!state || seaftier_migrate_state_close(state, &err))
        return rc;
    admin_error(what, "%s", err->message);
    g_error_free(err);
    return ADMIN_EXIT_PROBLEMS;
}
