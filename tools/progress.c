/* tools/progress.c — see progress.h. */
#include "seaftier-build.h"

#include "progress.h"
#include "admin.h"

#include <unistd.h>

void
admin_progress_init(AdminProgress *p, const char *what, gboolean quiet)
{
    p->what = what;
    p->out = stderr;
    p->tty = isatty(fileno(stderr));
    p->quiet = quiet;
    p->last_us = 0;
    p->drawn = FALSE;
}

void
admin_progress_update(AdminProgress *p, guint64 done, guint64 total, guint64 done_bytes,
                      guint64 total_bytes, guint64 failed, gint64 elapsed_ms, gboolean final)
{
    if (p->quiet)
        return;
    gint64 now = g_get_monotonic_time();
    gint64 every = p->tty ? 100000 : 2 * G_USEC_PER_SEC;
    if (!final && p->last_us && now - p->last_us < every)
        return;
    p->last_us = now;
    double secs = elapsed_ms > 0 ? elapsed_ms / 1000.0 : 0;
    double ops = secs > 0 ? done / secs : 0;
    double bps = secs > 0 ? done_bytes / secs : 0;
    char eta[32] = "-", b1[32], b2[32], rate[32];
    guint64 finished = done + failed;
    if (ops > 0 && finished < total)
        admin_duration((gint64)((total - finished) / ops + 0.5), eta);
    admin_bytes((guint64)bps, rate);
    admin_bytes(done_bytes, b1);
    admin_bytes(total_bytes, b2);
    if (p->tty) {
        const int width = 24;
        int filled = total ? (int)((double)finished * width / (double)total) : width;
        char bar[32];
        for (int i = 0; i < width; i++)
            bar[i] = i < filled ? '#' : '.';
        bar[width] = 0;
        fprintf(p->out, "\r\033[K%s [%s] %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT " objects, %s/%s, "
                "%.0f obj/s, %s/s, ETA %s%s", p->what, bar, finished, total, b1, b2, ops, rate, eta,
                failed ? "" : "");
        if (failed)
            fprintf(p->out, ", %" G_GUINT64_FORMAT " failed", failed);
        p->drawn = TRUE;
        if (final) {
            fputc('\n', p->out);
            p->drawn = FALSE;
        }
    } else {
        fprintf(p->out, "%s: %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT " objects, %s/%s, %.0f obj/s, "
                "%s/s, %" G_GUINT64_FORMAT " failed, ETA %s\n", p->what, finished, total, b1, b2, ops,
                rate, failed, eta);
    }
    fflush(p->out);
}

void
admin_progress_message(AdminProgress *p, const char *line)
{
    if (p->tty && p->drawn) {
        fputs("\r\033[K", p->out);
        p->drawn = FALSE;
        p->last_us = 0;
    }
    fprintf(p->out, "%s\n", line);
    fflush(p->out);
}
