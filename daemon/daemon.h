/*
 * daemon/daemon.h — seaftierd's shared state, and the parts main.c wires
 * together: the scheduler (main loop: nudges, timers, filling the
 * uploader), housekeeping (remote deletes and eviction, own thread), the
 * backend prober (own thread) and the control socket (a thread per client).
 *
 * Threads: the GMainLoop thread owns scheduling; upload workers only touch
 * the tier, S3, the in-flight set and metrics; every cross-thread wake-up
 * goes through g_idle_add (to the loop) or a GCond (to the threads).
 */
#ifndef SEAFTIERD_DAEMON_H
#define SEAFTIERD_DAEMON_H

#include <glib.h>
#include "env.h"
#include "inflight.h"
#include "metrics.h"
#include "uploader.h"

typedef struct SeaftierControl SeaftierControl;

typedef struct {
    SeaftierEnv *env;
    SeaftierMetrics *metrics;
    SeaftierInflight *inflight;
    SeaftierUploader *uploader;
    GMainLoop *loop;
    gint stopping;                  /* atomic: SIGTERM seen */
    gint fill_pending;              /* atomic: an idle fill is queued */

    int nudge_fd;
    guint nudge_watch;
    guint tick_source;

    GThread *hk_thread;             /* housekeeping: deletes + eviction */
    GThread *probe_thread;
    GMutex hk_lock;
    GCond hk_cond;
    gboolean hk_wake;               /* guarded by hk_lock */
    gboolean probe_wake;            /* guarded by hk_lock */
    gboolean threads_stop;          /* guarded by hk_lock */
    int threads_running;            /* guarded by hk_lock */

    SeaftierControl *control;
    int metrics_port;               /* 0 = no HTTP listener */
} SeaftierDaemon;

/* scheduler.c */
/* Binds the nudge socket and starts the timers; uploads follow. */
gboolean seaftier_scheduler_start(SeaftierDaemon *d, GError **error);
void seaftier_scheduler_stop(SeaftierDaemon *d);
/* Thread-safe: queues a fill of the uploader on the main loop. */
void seaftier_scheduler_kick(SeaftierDaemon *d);

/* housekeeping.c */
void seaftier_housekeeping_start(SeaftierDaemon *d);
/* Thread-safe: run deletes/eviction soon. */
void seaftier_housekeeping_wake(SeaftierDaemon *d);
/* Thread-safe: probe backends that are not OK again now. */
void seaftier_housekeeping_reprobe(SeaftierDaemon *d);
/* Stops both threads, waiting until the monotonic `deadline_us`. FALSE if
 * one is still inside an S3 request then (the caller exits without them). */
gboolean seaftier_housekeeping_stop(SeaftierDaemon *d, gint64 deadline_us);

/* evictor.c: one eviction run, counted in the metrics. */
void seaftier_evictor_run(SeaftierDaemon *d);

/* control-socket.c */
SeaftierControl *seaftier_control_start(SeaftierDaemon *d, const char *socket_path, int http_port,
                                        GError **error);
/* Closes the listeners, cancels flush jobs and waits for client threads
 * until the monotonic `deadline_us`. FALSE if some are still busy then
 * (the caller exits without them; nothing is freed). */
gboolean seaftier_control_stop(SeaftierControl *c, gint64 deadline_us);

#endif
