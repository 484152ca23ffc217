/*
 * lib/sync/workers.h — a fixed set of worker threads fed from a queue.
 *
 * Like a GThreadPool, but every thread is joined when the set is freed.
 * That matters here: workers make S3 requests, so libcurl and OpenSSL keep
 * per-thread state in them; a pool thread still winding down while the
 * process exits leaves that state half torn down (and LeakSanitizer
 * reports it). Joined threads have finished their thread-exit handlers.
 */
#ifndef SEAFTIER_SYNC_WORKERS_H
#define SEAFTIER_SYNC_WORKERS_H

#include <glib.h>

typedef struct SeaftierWorkers SeaftierWorkers;

/* Starts `n` (>= 1) threads named `name` that call func(item, user_data)
 * for every pushed item, in push order across the set. */
SeaftierWorkers *seaftier_workers_new(const char *name, GFunc func, gpointer user_data, int n);

/* Queues an item (not NULL). */
void seaftier_workers_push(SeaftierWorkers *w, gpointer item);

/* Lets the threads finish every queued item, joins them, frees the set. */
void seaftier_workers_free(SeaftierWorkers *w);

#endif
