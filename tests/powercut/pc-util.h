/*
 * tests/powercut/pc-util.h — running the power-cut file system (pcfs) from
 * a test: mount, control commands, power cuts, clean-up after a failure.
 */
#ifndef SEAFTIER_PC_UTIL_H
#define SEAFTIER_PC_UTIL_H

#include <glib.h>

typedef struct {
    GPid pid;
    char *backing;      /* the "disk" */
    char *live;         /* pcfs's live tree (tmpfs) */
    char *mnt;
    char *ctl;          /* control socket */
    char *log;          /* pcfs's stderr */
} PcMount;

/* Mounts `backing` at `mnt` (both created if needed); the live tree and the
 * control socket live in `scratch`. NULL with the reason in *why when pcfs
 * does not come up within 15 s (no /dev/fuse, not root, ...). */
PcMount *pc_mount(const char *backing, const char *mnt, const char *scratch, char **why);
/* Sends one control command; the answer line (NULL when pcfs cannot be reached). */
char *pc_ctl(const PcMount *m, const char *cmd);
/* Ends the mount with "cut", "reorder SEED" or "unmount": the answer (the
 * counters), after pcfs exited with status 0 (else NULL, with *why). Frees m. */
char *pc_end(PcMount *m, const char *cmd, char **why);
/* After a failure: kills pcfs, detaches the mount, frees m. NULL is a no-op. */
void pc_abort(PcMount *m);
/* A counter from a stats/end answer ("lost_pages", ...); -1 when absent. */
gint64 pc_stat(const char *answer, const char *name);
/* Removes the live tree of a scratch directory's mounts (tmpfs memory). */
void pc_scratch_cleanup(const char *scratch);

#endif
