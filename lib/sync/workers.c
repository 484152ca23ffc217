/* lib/sync/workers.c — see workers.h. */
#include "seaftier-build.h"

#include "sync/workers.h"

struct SeaftierWorkers {
    GAsyncQueue *queue;
    GFunc func;
    gpointer user_data;
    GPtrArray *threads;
};

/* Queued once per thread by free(): the queue is FIFO, so every real item
 * pushed before it is handled first. */
static int stop_marker;

static gpointer
worker_main(gpointer data)
{
    SeaftierWorkers *w = data;
    for (;;) {
        gpointer item = g_async_queue_pop(w->queue);
        if (item == &stop_marker)
            break;
        w->func(item, w->user_data);
    }
    return NULL;
}

SeaftierWorkers *
seaftier_workers_new(const char *name, GFunc func, gpointer user_data, int n)
{
    SeaftierWorkers *w = g_new0(SeaftierWorkers, 1);
    w->queue = g_async_queue_new();
    w->func = func;
    w->user_data = user_data;
    w->threads = g_ptr_array_new();
    for (int i = 0; i < MAX(n, 1); i++)
        g_ptr_array_add(w->threads, g_thread_new(name, worker_main, w));
    return w;
}

void
seaftier_workers_push(SeaftierWorkers *w, gpointer item)
{
    g_async_queue_push(w->queue, item);
}

void
seaftier_workers_free(SeaftierWorkers *w)
{
    if (!w)
        return;
    for (guint i = 0; i < w->threads->len; i++)
        g_async_queue_push(w->queue, &stop_marker);
    for (guint i = 0; i < w->threads->len; i++)
        g_thread_join(g_ptr_array_index(w->threads, i));
    g_ptr_array_free(w->threads, TRUE);
    g_async_queue_unref(w->queue);
    g_free(w);
}
