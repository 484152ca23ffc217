/*
 * tests/powercut/pcfs-main.c — the power-cut file system's program:
 *
 *   pcfs --backing DIR --live DIR --ctl SOCKET MOUNTPOINT
 *
 * Mounts MOUNTPOINT (foreground) showing the state of DIR (the disk); the
 * live state is kept in the --live directory (emptied at start; tmpfs is
 * fastest). Controlled through SOCKET (pcfs-ctl.c). See README.md.
 */
#include "seaftier-build.h"

#include "pcfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static void
usage(void)
{
    fprintf(stderr, "usage: pcfs --backing DIR --live DIR --ctl SOCKET [--debug] MOUNTPOINT\n");
    exit(2);
}

int
main(int argc, char **argv)
{
    const char *ctl = NULL;
    gboolean debug = FALSE;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--backing") && i + 1 < argc)
            pc.backing = argv[++i];
        else if (!strcmp(argv[i], "--live") && i + 1 < argc)
            pc.live = argv[++i];
        else if (!strcmp(argv[i], "--ctl") && i + 1 < argc)
            ctl = argv[++i];
        else if (!strcmp(argv[i], "--debug"))
            debug = TRUE;
        else if (argv[i][0] != '-' && !pc.mountpoint)
            pc.mountpoint = argv[i];
        else
            usage();
    }
    if (!pc.backing || !pc.live || !ctl || !pc.mountpoint)
        usage();
    /* one kept descriptor per file with pending data, per directory */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    pc.dfd = open(pc.backing, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    pc.lfd = open(pc.live, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (pc.dfd < 0 || pc.lfd < 0) {
        fprintf(stderr, "pcfs: cannot open %s or %s: %s\n", pc.backing, pc.live, g_strerror(errno));
        return 1;
    }
    if (!pc_load())
        return 1;

    char *fargv[] = { argv[0], "-o", "fsname=pcfs,subtype=pcfs", debug ? "-d" : NULL, NULL };
    struct fuse_args args = FUSE_ARGS_INIT(debug ? 4 : 3, fargv);
    pc.fuse = fuse_new(&args, &pc_ops, sizeof pc_ops, NULL);
    fuse_opt_free_args(&args);
    if (!pc.fuse || fuse_mount(pc.fuse, pc.mountpoint) != 0) {
        fprintf(stderr, "pcfs: cannot mount %s (is /dev/fuse there, are we root?)\n", pc.mountpoint);
        return 1;
    }
    struct fuse_session *se = fuse_get_session(pc.fuse);
    fuse_set_signal_handlers(se);
    if (!pc_ctl_start(ctl))
        return 1;
    struct fuse_loop_config lc = { .clone_fd = 0, .max_idle_threads = 16 };
    int rc = fuse_loop_mt(pc.fuse, &lc);
    fuse_remove_signal_handlers(se);
    fuse_unmount(pc.fuse);
    fuse_destroy(pc.fuse);
    /* a signal ended us: unmount cleanly, as a clean shutdown would */
    if (!g_atomic_int_get(&pc.dead)) {
        g_mutex_lock(&pc.lock);
        pc_sync_all();
        pc_drop_area();
        g_mutex_unlock(&pc.lock);
    }
    pc_ctl_finish();
    unlink(ctl);
    return rc < 0 ? 1 : 0;
}
