/* daemon/control-socket.c — the daemon's control and metrics endpoints.
 *
 * A unix stream socket ([tier] socket) takes one request line per
 * connection:
 *   "metrics"              → Prometheus text, then close
 *   "status"               → one line of JSON, then close
 *   "ping"                 → "pong <pid>"
 *   "reprobe"              → probes failed buckets again now
 *   "flush [TYPE|-] [REPO]" → runs a flush job and streams
 *        "progress DONE TOTAL DONE_BYTES TOTAL_BYTES FAILED ELAPSED_MS"
 *        "failed TYPE REPO_ID OBJ_ID MESSAGE"
 *        "done DONE TOTAL FAILED" (or "error MESSAGE")
 * Optionally, 127.0.0.1:PORT answers "GET /metrics" over plain HTTP for
 * Prometheus. Each client gets a thread: clients are few (the admin tool, a
 * scraper), and a flush stream may last minutes. */
#include "seaftier-build.h"

#include "daemon.h"

#include <seaftier/log.h>

#include <errno.h>
#include <glib-unix.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

struct SeaftierControl {
    SeaftierDaemon *d;
    char *path;
    int unix_fd, http_fd;
    guint unix_watch, http_watch;
    GMutex lock;
    GHashTable *clients;        /* Client* set */
    GCond changed;
    gboolean stopping;
};

typedef struct {
    SeaftierControl *c;
    int fd;
    gboolean http;
    gint cancel;                /* atomic: stop a flush job */
    GThread *thread;
} Client;

static gboolean
send_all(int fd, const char *buf, gsize len)
{
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return FALSE;
        }
        buf += n;
        len -= (gsize)n;
    }
    return TRUE;
}

/* Reads up to a newline (or, for HTTP, the end of the headers). */
static char *
read_request(int fd, gboolean http)
{
    GString *in = g_string_new(NULL);
    char buf[512];
    while (in->len < 8192) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        g_string_append_len(in, buf, n);
        if (http ? strstr(in->str, "\r\n\r\n") || strstr(in->str, "\n\n") : strchr(in->str, '\n') != NULL)
            break;
    }
    char *nl = strchr(in->str, '\n');
    if (nl)
        g_string_truncate(in, (gsize)(nl - in->str));
    g_strchomp(in->str);
    return g_string_free(in, FALSE);
}

typedef struct {
    Client *cl;
    gboolean broken;
} FlushStream;

static void
stream_line(FlushStream *fs, const char *line)
{
    if (fs->broken)
        return;
    if (!send_all(fs->cl->fd, line, strlen(line))) {
        fs->broken = TRUE;
        g_atomic_int_set(&fs->cl->cancel, 1);
    }
}

static void
flush_progress(const SeaftierFlushProgress *p, void *user_data)
{
    char line[256];
    g_snprintf(line, sizeof line,
               "progress %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %"
               G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GINT64_FORMAT "\n",
               p->done_objects, p->total_objects, p->done_bytes, p->total_bytes, p->failed_objects,
               (g_get_monotonic_time() - p->started_us) / 1000);
    stream_line(user_data, line);
}

static void
flush_failed(SeaftierObjType type, const char *repo_id, const char *obj_id, const char *message,
             void *user_data)
{
    char *flat = g_strdup(message);
    g_strdelimit(flat, "\r\n", ' ');
    char *line = g_strdup_printf("failed %s %s %s %s\n", seaftier_type_name(type), repo_id, obj_id,
                                 flat);
    stream_line(user_data, line);
    g_free(line);
    g_free(flat);
}

static void
handle_flush(Client *cl, char **args)
{
    SeaftierDaemon *d = cl->c->d;
    SeaftierFlushOptions opts = { .type = -1 };
    if (args[0] && strcmp(args[0], "-") != 0) {
        SeaftierObjType t;
        if (!seaftier_type_from_name(args[0], &t)) {
            char *line = g_strdup_printf("error unknown object type \"%s\" (commits, fs, blocks)\n",
                                         args[0]);
            send_all(cl->fd, line, strlen(line));
            g_free(line);
            return;
        }
        opts.type = (int)t;
    }
    if (args[0] && args[1]) {
        if (!seaftier_valid_repo_id(args[1])) {
            send_all(cl->fd, "error invalid repo id\n", 22);
            return;
        }
        opts.repo_id = args[1];
    }
    char *msgs[SEAFTIER_N_TYPES] = { NULL };
    for (int t = 0; t < SEAFTIER_N_TYPES; t++) {
        char *m = NULL;
        if (seaftier_metrics_get_backend(d->metrics, t, &m) == SEAFTIER_BACKEND_REFUSED) {
            msgs[t] = g_strdup_printf("bucket %s refused by seaftierd's write probe: %s",
                                      d->site->cfg->s3[t].bucket, m ? m : "");
            opts.refused[t] = msgs[t];
        }
        g_free(m);
    }
    FlushStream fs = { .cl = cl };
    opts.cancel = &cl->cancel;
    opts.progress = flush_progress;
    opts.failed = flush_failed;
    opts.user_data = &fs;
    SeaftierFlushProgress res = { 0 };
    GError *err = NULL;
    seaftier_info("flush requested (type %s, repo %s)",
                  opts.type >= 0 ? seaftier_type_name(opts.type) : "all",
                  opts.repo_id ? opts.repo_id : "all");
    if (!seaftier_sync_flush(d->sync, &opts, &res, &err)) {
        char *line = g_strdup_printf("error %s\n", err->message);
        stream_line(&fs, line);
        g_free(line);
        g_error_free(err);
    } else {
        char line[128];
        g_snprintf(line, sizeof line, "done %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %"
                   G_GUINT64_FORMAT "\n", res.done_objects, res.total_objects, res.failed_objects);
        stream_line(&fs, line);
        seaftier_info("flush finished: %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
                      " objects uploaded or already clean, %" G_GUINT64_FORMAT " failed%s",
                      res.done_objects, res.total_objects, res.failed_objects,
                      g_atomic_int_get(&cl->cancel) ? " (cancelled)" : "");
    }
    for (int t = 0; t < SEAFTIER_N_TYPES; t++)
        g_free(msgs[t]);
}

static void
handle_unix(Client *cl, const char *req)
{
    SeaftierDaemon *d = cl->c->d;
    char **args = g_strsplit_set(req, " \t", -1);
    /* Drop empty fields from repeated spaces. */
    guint n = 0;
    for (guint i = 0; args[i]; i++) {
        if (*args[i])
            args[n++] = args[i];
        else
            g_free(args[i]);
    }
    args[n] = NULL;
    const char *cmd = args[0] ? args[0] : "";
    if (strcmp(cmd, "metrics") == 0) {
        char *text = seaftier_metrics_prometheus(d->metrics, d->site,
                                                 seaftier_sync_uploads_active(d->sync));
        send_all(cl->fd, text, strlen(text));
        g_free(text);
    } else if (strcmp(cmd, "status") == 0) {
        char *json = seaftier_metrics_status_json(d->metrics, d->site,
                                                  seaftier_sync_uploads_active(d->sync));
        send_all(cl->fd, json, strlen(json));
        send_all(cl->fd, "\n", 1);
        g_free(json);
    } else if (strcmp(cmd, "ping") == 0) {
        char line[64];
        g_snprintf(line, sizeof line, "pong %d\n", (int)getpid());
        send_all(cl->fd, line, strlen(line));
    } else if (strcmp(cmd, "reprobe") == 0) {
        seaftier_prober_reprobe(d);
        send_all(cl->fd, "ok\n", 3);
    } else if (strcmp(cmd, "flush") == 0) {
        handle_flush(cl, args + 1);
    } else {
        char *line = g_strdup_printf("error unknown request \"%.40s\" (metrics, status, ping, "
                                     "reprobe, flush)\n", cmd);
        send_all(cl->fd, line, strlen(line));
        g_free(line);
    }
    g_strfreev(args);
}

static void
handle_http(Client *cl, const char *req)
{
    SeaftierDaemon *d = cl->c->d;
    if (g_str_has_prefix(req, "GET /metrics ") || strcmp(req, "GET /metrics") == 0) {
        char *text = seaftier_metrics_prometheus(d->metrics, d->site,
                                                 seaftier_sync_uploads_active(d->sync));
        char *head = g_strdup_printf("HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
                                     "Content-Length: %zu\r\nConnection: close\r\n\r\n", strlen(text));
        if (send_all(cl->fd, head, strlen(head)))
            send_all(cl->fd, text, strlen(text));
        g_free(head);
        g_free(text);
    } else {
        static const char nf[] = "HTTP/1.0 404 Not Found\r\nContent-Type: text/plain\r\n"
                                 "Content-Length: 24\r\nConnection: close\r\n\r\nonly /metrics is served\n";
        send_all(cl->fd, nf, sizeof nf - 1);
    }
}

static gpointer
client_main(gpointer data)
{
    Client *cl = data;
    struct timeval tv = { .tv_sec = 10 };
    setsockopt(cl->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char *req = read_request(cl->fd, cl->http);
    if (cl->http)
        handle_http(cl, req);
    else
        handle_unix(cl, req);
    g_free(req);
    SeaftierControl *c = cl->c;
    g_mutex_lock(&c->lock);
    shutdown(cl->fd, SHUT_RDWR);
    close(cl->fd);
    cl->fd = -1;
    g_hash_table_remove(c->clients, cl);
    g_cond_broadcast(&c->changed);
    g_mutex_unlock(&c->lock);
    return NULL;
}

static gboolean
on_accept(gint fd, GIOCondition cond, gpointer data)
{
    SeaftierControl *c = data;
    int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
    if (cfd < 0)
        return G_SOURCE_CONTINUE;
    Client *cl = g_new0(Client, 1);
    cl->c = c;
    cl->fd = cfd;
    cl->http = fd == c->http_fd;
    g_mutex_lock(&c->lock);
    if (c->stopping) {
        g_mutex_unlock(&c->lock);
        close(cfd);
        g_free(cl);
        return G_SOURCE_CONTINUE;
    }
    g_hash_table_add(c->clients, cl);
    /* Detached: the thread removes itself from `clients`; stop waits for that. */
    cl->thread = g_thread_new("seaftierd-client", client_main, cl);
    g_thread_unref(cl->thread);
    g_mutex_unlock(&c->lock);
    return G_SOURCE_CONTINUE;
}

static int
listen_unix(const char *path, GError **error)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    g_strlcpy(addr.sun_path, path, sizeof addr.sun_path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        goto fail;
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0) {
        close(fd);
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_EXIST,
                    "control socket %s: another seaftierd answers there", path);
        return -1;
    }
    close(fd);
    unlink(path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(fd, 16) != 0)
        goto fail;
    chmod(path, 0660);
    return fd;
fail:;
    int e = errno;
    if (fd >= 0)
        close(fd);
    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e), "cannot listen on control socket %s: %s",
                path, g_strerror(e));
    return -1;
}

static int
listen_http(int port, GError **error)
{
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int one = 1;
    if (fd >= 0)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(fd, 16) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e),
                    "cannot listen on 127.0.0.1:%d for metrics: %s", port, g_strerror(e));
        return -1;
    }
    return fd;
}

SeaftierControl *
seaftier_control_start(SeaftierDaemon *d, const char *socket_path, int http_port, GError **error)
{
    SeaftierControl *c = g_new0(SeaftierControl, 1);
    c->d = d;
    c->http_fd = -1;
    g_mutex_init(&c->lock);
    g_cond_init(&c->changed);
    c->clients = g_hash_table_new_full(g_direct_hash, g_direct_equal, g_free, NULL);
    c->unix_fd = listen_unix(socket_path, error);
    if (c->unix_fd < 0) {
        seaftier_control_stop(c, 0);
        return NULL;
    }
    c->path = g_strdup(socket_path);
    c->unix_watch = g_unix_fd_add(c->unix_fd, G_IO_IN, on_accept, c);
    if (http_port > 0) {
        c->http_fd = listen_http(http_port, error);
        if (c->http_fd < 0) {
            seaftier_control_stop(c, 0);
            return NULL;
        }
        c->http_watch = g_unix_fd_add(c->http_fd, G_IO_IN, on_accept, c);
    }
    return c;
}

gboolean
seaftier_control_stop(SeaftierControl *c, gint64 deadline_us)
{
    if (!c)
        return TRUE;
    if (c->unix_watch)
        g_source_remove(c->unix_watch);
    if (c->http_watch)
        g_source_remove(c->http_watch);
    if (c->unix_fd >= 0) {
        close(c->unix_fd);
        if (c->path)
            unlink(c->path);
    }
    if (c->http_fd >= 0)
        close(c->http_fd);
    g_mutex_lock(&c->lock);
    c->stopping = TRUE;
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, c->clients);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        Client *cl = key;
        g_atomic_int_set(&cl->cancel, 1);
        /* Unblocks a client thread waiting in recv(). */
        if (cl->fd >= 0)
            shutdown(cl->fd, SHUT_RD);
    }
    while (g_hash_table_size(c->clients) > 0) {
        if (!g_cond_wait_until(&c->changed, &c->lock, deadline_us))
            break;
    }
    if (g_hash_table_size(c->clients) > 0) {
        /* A flush job still waits for its uploads: the caller exits without it. */
        g_mutex_unlock(&c->lock);
        return FALSE;
    }
    g_mutex_unlock(&c->lock);
    g_hash_table_destroy(c->clients);
    g_cond_clear(&c->changed);
    g_mutex_clear(&c->lock);
    g_free(c->path);
    g_free(c);
    return TRUE;
}
