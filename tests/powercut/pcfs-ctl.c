/*
 * tests/powercut/pcfs-ctl.c — the control socket: one command a
 * connection, one line back.
 *   ping            -> pong
 *   stats           -> counters (name=value ...)
 *   sync            -> everything pending made durable (as sync(2)); ok
 *   cut             -> power cut: all that is not durable is lost
 *   reorder SEED    -> power cut of a reordering disk: a seeded random
 *                      subset of what is not durable survives
 *   unmount         -> clean unmount: everything made durable first, then
 *                      the disk compared with the live tree
 *                      (self_check_mismatches in the answer)
 * After cut/reorder/unmount the mount is gone, the backing directory holds
 * the disk's state and the process exits; the answer (the counters) is
 * sent only then.
 */
#include "seaftier-build.h"

#include "pcfs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int listen_fd = -1;
static int final_client = -1;
static char *final_answer;

static char *
stats_line(void)
{
    guint64 pages, dir_ops;
    pc_pending(&pages, &dir_ops);
    return g_strdup_printf("file_syncs=%" G_GUINT64_FORMAT " dir_syncs=%" G_GUINT64_FORMAT
                           " pages_synced=%" G_GUINT64_FORMAT " meta_ops=%" G_GUINT64_FORMAT
                           " pending_pages=%" G_GUINT64_FORMAT " pending_dir_ops=%" G_GUINT64_FORMAT
                           " lost_pages=%" G_GUINT64_FORMAT " lost_sizes=%" G_GUINT64_FORMAT
                           " lost_dir_ops=%" G_GUINT64_FORMAT " survived_pages=%" G_GUINT64_FORMAT
                           " survived_sizes=%" G_GUINT64_FORMAT " survived_dirs=%" G_GUINT64_FORMAT
                           " self_check_mismatches=%" G_GUINT64_FORMAT "\n",
                           pc.file_syncs, pc.dir_syncs, pc.pages_synced, pc.meta_ops, pages, dir_ops,
                           pc.lost_pages, pc.lost_sizes, pc.lost_dir_ops, pc.survived_pages,
                           pc.survived_sizes, pc.survived_dirs, pc.self_check_mismatches);
}

static void
reply(int fd, const char *text)
{
    size_t len = strlen(text);
    if (write(fd, text, len) != (ssize_t)len)
        fprintf(stderr, "pcfs: control reply: %s\n", g_strerror(errno));
}

/* Ends the mount: no operation succeeds any more, the kernel connection is
 * torn down (lazily: the test killed every user before), the loop returns. */
static void
end_mount(void)
{
    fuse_exit(pc.fuse);
    if (umount2(pc.mountpoint, MNT_DETACH) != 0)
        fprintf(stderr, "pcfs: umount %s: %s\n", pc.mountpoint, g_strerror(errno));
}

static gpointer
ctl_thread(gpointer data)
{
    for (;;) {
        int c = accept(listen_fd, NULL, NULL);
        if (c < 0) {
            if (errno == EINTR)
                continue;
            return NULL;
        }
        char buf[128] = { 0 };
        ssize_t n = read(c, buf, sizeof buf - 1);
        if (n <= 0) {
            close(c);
            continue;
        }
        buf[strcspn(buf, "\r\n")] = '\0';
        if (strcmp(buf, "ping") == 0) {
            reply(c, "pong\n");
        } else if (strcmp(buf, "stats") == 0) {
            g_mutex_lock(&pc.lock);
            char *s = stats_line();
            g_mutex_unlock(&pc.lock);
            reply(c, s);
            g_free(s);
        } else if (strcmp(buf, "sync") == 0) {
            g_mutex_lock(&pc.lock);
            pc_sync_all();
            g_mutex_unlock(&pc.lock);
            reply(c, "ok\n");
        } else if (strcmp(buf, "cut") == 0 || strncmp(buf, "reorder ", 8) == 0 ||
                   strcmp(buf, "unmount") == 0) {
            g_mutex_lock(&pc.lock);
            g_atomic_int_set(&pc.dead, TRUE);
            if (buf[0] == 'c') {
                pc_cut(0);
            } else if (buf[0] == 'r') {
                guint32 seed = (guint32)strtoul(buf + 8, NULL, 10);
                pc_cut(seed ? seed : 1);
            } else {
                pc_sync_all();
                pc.self_check_mismatches = pc_self_check();
                pc_drop_area();
            }
            final_answer = stats_line();
            final_client = c;
            g_mutex_unlock(&pc.lock);
            end_mount();
            return NULL;
        } else {
            reply(c, "error: unknown command\n");
        }
        close(c);
    }
}

gboolean
pc_ctl_start(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof sa.sun_path) {
        fprintf(stderr, "pcfs: control socket path too long: %s\n", path);
        return FALSE;
    }
    strcpy(sa.sun_path, path);
    unlink(path);
    listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        listen(listen_fd, 8) != 0) {
        fprintf(stderr, "pcfs: control socket %s: %s\n", path, g_strerror(errno));
        return FALSE;
    }
    g_thread_unref(g_thread_new("pcfs-ctl", ctl_thread, NULL));
    return TRUE;
}

void
pc_ctl_finish(void)
{
    if (final_client < 0)
        return;
    reply(final_client, final_answer);
    close(final_client);
    g_free(final_answer);
    final_client = -1;
}
