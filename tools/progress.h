/*
 * tools/progress.h — progress of a long operation (flush, warmup): a
 * one-line bar redrawn in place on a terminal (objects, bytes, rate, ETA),
 * plain lines every few seconds otherwise (logs, pipes, tests).
 */
#ifndef SEAFTIER_ADMIN_PROGRESS_H
#define SEAFTIER_ADMIN_PROGRESS_H

#include <glib.h>
#include <stdio.h>

typedef struct {
    const char *what;       /* "flush", "warmup" */
    FILE *out;
    gboolean tty;
    gboolean quiet;         /* --json: no progress at all */
    gint64 last_us;
    gboolean drawn;
} AdminProgress;

void admin_progress_init(AdminProgress *p, const char *what, gboolean quiet);
/* Shows the state; rate-limited unless `final`. */
void admin_progress_update(AdminProgress *p, guint64 done, guint64 total, guint64 done_bytes,
                           guint64 total_bytes, guint64 failed, gint64 elapsed_ms, gboolean final);
/* Prints a message above the bar (failures). */
void admin_progress_message(AdminProgress *p, const char *line);

#endif
