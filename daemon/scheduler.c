/* daemon/scheduler.c — decides what the sync engine uploads next, on the main loop.
 *
 * A fill asks the index for the oldest dirty objects of every bucket that
 * passed its probe (respecting upload_delay and each row's retry_at) and
 * submits them until the uploader's slots are full. Fills run on a nudge
 * from the library (a datagram on the tier's nudge socket), after every
 * finished upload, and once a second for objects whose delay or backoff
 * just ran out. Objects already in flight come back in the batch; asking
 * for `in flight + free slots` rows leaves room to skip them. */
#include "seaftier-build.h"

#include "daemon.h"
#include "sync/remote-s3.h"

#include <seaftier/log.h>

#include <errno.h>
#include <glib-unix.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static gint
by_created(gconstpointer a, gconstpointer b)
{
    const SeaftierTierEntry *x = *(const SeaftierTierEntry *const *)a;
    const SeaftierTierEntry *y = *(const SeaftierTierEntry *const *)b;
    return (x->created > y->created) - (x->created < y->created);
}

static void
fill(SeaftierDaemon *d)
{
    if (g_atomic_int_get(&d->stopping))
        return;
    guint slots = seaftier_sync_upload_slots(d->sync);
    if (slots == 0)
        return;
    guint active = seaftier_sync_uploads_active(d->sync);
    gint64 now_us = g_get_real_time();
    gint64 created_before = (now_us - (gint64)d->site->cfg->tier.upload_delay_ms * 1000) / G_USEC_PER_SEC;
    GPtrArray *all = g_ptr_array_new();
    GPtrArray *batches[SEAFTIER_N_TYPES] = { NULL };
    /* Every bucket healthy (the usual case): one batch of all types, one
     * read transaction. Otherwise one per healthy type, so that the rows of
     * a failing bucket cannot fill the batch and starve the others. */
    gboolean all_ok = TRUE;
    for (int t = 0; t < SEAFTIER_N_TYPES; t++)
        all_ok = all_ok && seaftier_metrics_get_backend(d->metrics, t, NULL) == SEAFTIER_BACKEND_OK;
    for (int t = 0; t < SEAFTIER_N_TYPES; t++) {
        if (all_ok ? t > 0
                   : seaftier_metrics_get_backend(d->metrics, t, NULL) != SEAFTIER_BACKEND_OK)
            continue;
        GError *err = NULL;
        batches[t] = seaftier_tier_dirty_batch(d->site->tier, all_ok ? -1 : t, NULL,
                                               (int)(active + slots + 8), created_before, &err);
        if (!batches[t]) {
            seaftier_error("uploader: cannot read dirty %s%sobjects from the index: %s",
                           all_ok ? "" : seaftier_type_name(t), all_ok ? "" : " ", err->message);
            g_error_free(err);
            continue;
        }
        for (guint i = 0; i < batches[t]->len; i++)
            g_ptr_array_add(all, g_ptr_array_index(batches[t], i));
    }
    g_ptr_array_sort(all, by_created);
    for (guint i = 0; i < all->len && slots > 0; i++) {
        SeaftierSubmitResult r = seaftier_sync_submit_upload(d->sync, g_ptr_array_index(all, i),
                                                             FALSE, NULL, NULL);
        if (r == SEAFTIER_SUBMIT_OK)
            slots--;
        else if (r != SEAFTIER_SUBMIT_KEY_BUSY)
            break;
    }
    g_ptr_array_free(all, TRUE);
    for (int t = 0; t < SEAFTIER_N_TYPES; t++)
        if (batches[t])
            g_ptr_array_free(batches[t], TRUE);
}

static gboolean
fill_idle(gpointer data)
{
    SeaftierDaemon *d = data;
    g_atomic_int_set(&d->fill_pending, 0);
    fill(d);
    return G_SOURCE_REMOVE;
}

void
seaftier_scheduler_kick(SeaftierDaemon *d)
{
    if (g_atomic_int_compare_and_exchange(&d->fill_pending, 0, 1))
        g_idle_add(fill_idle, d);
}

/* The engine's observer: counts in the metrics and wakes what follows. */
static void
upload_done(SeaftierObjType type, SeaftierUploadOutcome outcome, guint64 bytes,
            gboolean will_retry, void *data)
{
    (void)type;
    SeaftierDaemon *d = data;
    if (outcome != SEAFTIER_UPLOAD_SKIPPED)
        seaftier_metrics_upload_done(d->metrics, bytes, outcome == SEAFTIER_UPLOAD_OK, will_retry);
    seaftier_scheduler_kick(d);
    seaftier_housekeeping_wake(d);
}

static void
delete_done(SeaftierObjType type, gboolean ok, void *data)
{
    (void)type;
    SeaftierDaemon *d = data;
    seaftier_metrics_add(ok ? &d->metrics->deletes_ok : &d->metrics->deletes_failed, 1);
}

static void
bucket_failed(SeaftierObjType type, const GError *error, void *data)
{
    SeaftierDaemon *d = data;
    if (seaftier_metrics_get_backend(d->metrics, type, NULL) != SEAFTIER_BACKEND_OK)
        return;
    const SeaftierS3Config *cfg = &d->site->cfg->s3[type];
    char *msg = g_strdup_printf("an upload failed for the whole bucket: %s; what to do: %s",
                                error->message, seaftier_remote_s3_advice(error, cfg->sse_c_key != NULL, "PUT"));
    seaftier_error("[%s] bucket %s: %s; pausing %s uploads until the bucket passes its probe again",
                   cfg->section, cfg->bucket, msg, seaftier_type_name(type));
    seaftier_metrics_set_backend(d->metrics, type, SEAFTIER_BACKEND_REFUSED, msg);
    g_free(msg);
    seaftier_prober_reprobe(d);
}

static gboolean
on_tick(gpointer data)
{
    fill(data);
    return G_SOURCE_CONTINUE;
}

static gboolean
on_nudge(gint fd, GIOCondition cond, gpointer data)
{
    SeaftierDaemon *d = data;
    char buf[64];
    int n = 0;
    while (recv(fd, buf, sizeof buf, MSG_DONTWAIT) >= 0)
        n++;
    if (n) {
        seaftier_metrics_add(&d->metrics->nudges, (guint64)n);
        fill(d);
        /* A nudge also follows deletes: let housekeeping carry them. */
        seaftier_housekeeping_wake(d);
    }
    return G_SOURCE_CONTINUE;
}

gboolean
seaftier_scheduler_start(SeaftierDaemon *d, GError **error)
{
    SeaftierSyncObserver obs = { .upload_done = upload_done, .delete_done = delete_done,
                                 .bucket_failed = bucket_failed, .user_data = d };
    seaftier_sync_set_observer(d->sync, &obs);

    char *path = seaftier_tier_nudge_path(d->site->tier);
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof addr.sun_path) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_NAMETOOLONG,
                    "nudge socket path %s is too long for a unix socket", path);
        g_free(path);
        return FALSE;
    }
    g_strlcpy(addr.sun_path, path, sizeof addr.sun_path);
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    /* We hold the daemon lock of this tier: a socket file left there is stale. */
    unlink(path);
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        int e = errno;
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e), "cannot bind nudge socket %s: %s",
                    path, g_strerror(e));
        if (fd >= 0)
            close(fd);
        g_free(path);
        return FALSE;
    }
    /* Writers (seaf-server) may run under another user of the same group. */
    chmod(path, 0660);
    g_free(path);
    d->nudge_fd = fd;
    d->nudge_watch = g_unix_fd_add(fd, G_IO_IN, on_nudge, d);
    d->tick_source = g_timeout_add_seconds(1, on_tick, d);
    seaftier_scheduler_kick(d);
    return TRUE;
}

void
seaftier_scheduler_stop(SeaftierDaemon *d)
{
    if (d->nudge_watch)
        g_source_remove(d->nudge_watch);
    if (d->tick_source)
        g_source_remove(d->tick_source);
    d->nudge_watch = d->tick_source = 0;
    if (d->nudge_fd >= 0) {
        char *path = seaftier_tier_nudge_path(d->site->tier);
        unlink(path);
        g_free(path);
        close(d->nudge_fd);
        d->nudge_fd = -1;
    }
}
