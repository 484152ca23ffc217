/* tests/powercut/pc-util.c — see pc-util.h. */
#include "seaftier-build.h"

#include "pc-util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static char *
ask(const char *ctl, const char *cmd, int timeout_s)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(ctl) >= sizeof sa.sun_path)
        return NULL;
    strcpy(sa.sun_path, ctl);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return NULL;
    struct timeval tv = { .tv_sec = timeout_s };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    GString *out = g_string_new(NULL);
    /* one send: pcfs answers after one read and closes */
    char *line = g_strdup_printf("%s\n", cmd);
    gboolean ok = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
                  send(fd, line, strlen(line), MSG_NOSIGNAL) == (ssize_t)strlen(line);
    g_free(line);
    char buf[1024];
    ssize_t n;
    while (ok && (n = read(fd, buf, sizeof buf)) > 0)
        g_string_append_len(out, buf, n);
    close(fd);
    if (!ok || out->len == 0 || out->str[out->len - 1] != '\n') {
        g_string_free(out, TRUE);
        return NULL;
    }
    g_string_truncate(out, out->len - 1);
    return g_string_free(out, FALSE);
}

static gboolean
is_mountpoint(const char *mnt)
{
    struct stat a, b;
    char *parent = g_path_get_dirname(mnt);
    gboolean yes = stat(mnt, &a) == 0 && stat(parent, &b) == 0 && a.st_dev != b.st_dev;
    g_free(parent);
    return yes;
}

PcMount *
pc_mount(const char *backing, const char *mnt, const char *scratch, char **why)
{
    static int n;
    PcMount *m = g_new0(PcMount, 1);
    m->backing = g_strdup(backing);
    m->mnt = g_strdup(mnt);
    char *tag = g_path_get_basename(scratch);
    /* tmpfs for the live tree: the disk-speed part of the model is not tested */
    m->live = g_strdup_printf("/dev/shm/pcfs-live-%s", tag);
    m->ctl = g_strdup_printf("%s/pcfs%d.sock", scratch, ++n);
    m->log = g_strdup_printf("%s/pcfs.log", scratch);
    g_free(tag);
    g_mkdir_with_parents(backing, 0700);
    g_mkdir_with_parents(mnt, 0700);
    g_mkdir_with_parents(m->live, 0700);
    char *argv[] = { SEAFTIER_BUILDDIR "/tests/powercut/pcfs", "--backing", m->backing, "--live", m->live,
                     "--ctl", m->ctl, m->mnt, NULL };
    int logfd = open(m->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    GError *err = NULL;
    if (!g_spawn_async_with_fds(NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &m->pid, -1,
                                logfd, logfd, &err)) {
        *why = g_strdup_printf("cannot start pcfs: %s", err->message);
        g_error_free(err);
        close(logfd);
        pc_abort(m);
        return NULL;
    }
    close(logfd);
    gint64 deadline = g_get_monotonic_time() + 15 * G_USEC_PER_SEC;
    while (g_get_monotonic_time() < deadline) {
        char *pong = ask(m->ctl, "ping", 2);
        gboolean up = pong && strcmp(pong, "pong") == 0 && is_mountpoint(mnt);
        g_free(pong);
        if (up)
            return m;
        int status;
        if (waitpid(m->pid, &status, WNOHANG) == m->pid) {
            m->pid = 0;
            char *log = NULL;
            g_file_get_contents(m->log, &log, NULL, NULL);
            *why = g_strdup_printf("pcfs exited at start (status 0x%x; FUSE needs root and /dev/fuse): %s",
                                   status, log ? log : "");
            g_free(log);
            pc_abort(m);
            return NULL;
        }
        g_usleep(20000);
    }
    *why = g_strdup_printf("pcfs did not mount %s within 15 s (see %s)", mnt, m->log);
    pc_abort(m);
    return NULL;
}

char *
pc_ctl(const PcMount *m, const char *cmd)
{
    return ask(m->ctl, cmd, 60);
}

static void
pc_free(PcMount *m)
{
    g_free(m->backing);
    g_free(m->live);
    g_free(m->mnt);
    g_free(m->ctl);
    g_free(m->log);
    g_free(m);
}

char *
pc_end(PcMount *m, const char *cmd, char **why)
{
    char *answer = ask(m->ctl, cmd, 120);
    int status = -1;
    gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
    while (g_get_monotonic_time() < deadline) {
        if (waitpid(m->pid, &status, WNOHANG) == m->pid) {
            m->pid = 0;
            break;
        }
        g_usleep(5000);
    }
    if (!answer || m->pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        *why = g_strdup_printf("pcfs \"%s\": answer %s, exit status 0x%x (see %s)", cmd,
                               answer ? answer : "(none)", status, m->log);
        g_free(answer);
        pc_abort(m);
        return NULL;
    }
    pc_free(m);
    return answer;
}

void
pc_abort(PcMount *m)
{
    if (!m)
        return;
    if (m->pid > 0) {
        kill(m->pid, SIGKILL);
        waitpid(m->pid, NULL, 0);
    }
    umount2(m->mnt, MNT_DETACH);
    pc_free(m);
}

gint64
pc_stat(const char *answer, const char *name)
{
    char *key = g_strdup_printf("%s=", name);
    const char *p = answer;
    gint64 v = -1;
    while (p && (p = strstr(p, key))) {
        if (p == answer || p[-1] == ' ') {
            v = g_ascii_strtoll(p + strlen(key), NULL, 10);
            break;
        }
        p++;
    }
    g_free(key);
    return v;
}

void
pc_scratch_cleanup(const char *scratch)
{
    char *tag = g_path_get_basename(scratch);
    char *live = g_strdup_printf("/dev/shm/pcfs-live-%s", tag);
    char *argv[] = { "rm", "-rf", "--", live, NULL };
    g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
    g_free(live);
    g_free(tag);
}
