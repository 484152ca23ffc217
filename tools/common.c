/* tools/common.c — see admin.h. */
#include "seaftier-build.h"

#include "admin.h"

#include <seaftier/log.h>

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

gboolean
admin_parse(int *argc, char ***argv, const char *name, const char *params, const char *summary,
            const GOptionEntry *entries, gboolean with_json, AdminCommon *common)
{
    const GOptionEntry common_entries[] = {
        { "config-dir", 'c', 0, G_OPTION_ARG_FILENAME, &common->config_dir,
          "Directory holding seafile.conf (default: $SEAFILE_CENTRAL_CONF_DIR)", "DIR" },
        { "seafile-dir", 'd', 0, G_OPTION_ARG_FILENAME, &common->seafile_dir,
          "Seafile data dir (the tier is DIR/seaftier when [tier] dir is unset)", "DIR" },
        { "json", 'j', 0, G_OPTION_ARG_NONE, &common->json, "Print JSON", NULL },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    GOptionEntry plain[G_N_ELEMENTS(common_entries)];
    memcpy(plain, common_entries, sizeof common_entries);
    if (!with_json)
        memset(&plain[2], 0, sizeof plain[2]);

    GOptionContext *ctx = g_option_context_new(params ? params : "");
    g_option_context_set_summary(ctx, summary);
    g_option_context_add_main_entries(ctx, plain, NULL);
    if (entries)
        g_option_context_add_main_entries(ctx, entries, NULL);
    char *prgname = g_strdup_printf("seaftier-admin %s", name);
    g_set_prgname(prgname);
    g_free(prgname);
    GError *err = NULL;
    gboolean ok = g_option_context_parse(ctx, argc, argv, &err);
    if (!ok) {
        fprintf(stderr, "seaftier-admin %s: %s (see --help)\n", name, err->message);
        g_error_free(err);
    }
    g_option_context_free(ctx);
    return ok;
}

void
admin_common_clear(AdminCommon *common)
{
    g_free(common->config_dir);
    g_free(common->seafile_dir);
    common->config_dir = common->seafile_dir = NULL;
}

void
admin_error(const char *name, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    fprintf(stderr, "seaftier-admin %s: %s\n", name, msg);
    g_free(msg);
}

gboolean
admin_type_filter(const char *name, const char *type_name, int *type)
{
    SeaftierObjType t;
    *type = -1;
    if (!type_name)
        return TRUE;
    if (!seaftier_type_from_name(type_name, &t)) {
        admin_error(name, "unknown type \"%s\" (commits, fs, blocks)", type_name);
        return FALSE;
    }
    *type = (int)t;
    return TRUE;
}

gboolean
admin_repo_filter(const char *name, const char *repo_id)
{
    if (repo_id && !seaftier_valid_repo_id(repo_id)) {
        admin_error(name, "\"%s\" is not a repo id (a UUID)", repo_id);
        return FALSE;
    }
    return TRUE;
}

SeaftierSite *
admin_open(const AdminCommon *common, gboolean tier, gboolean s3, int *exit_code)
{
    GError *err = NULL;
    SeaftierSite *env = seaftier_site_load(common->config_dir, common->seafile_dir, &err);
    if (!env) {
        fprintf(stderr, "seaftier-admin: %s\n", err->message);
        g_error_free(err);
        *exit_code = ADMIN_EXIT_USAGE;
        return NULL;
    }
    for (int t = 0; t < SEAFTIER_N_TYPES; t++) {
        seaftier_log_add_secret(env->cfg->s3[t].key);
        seaftier_log_add_secret(env->cfg->s3[t].sse_c_key);
    }
    if (tier && !g_file_test(env->tier_dir, G_FILE_TEST_IS_DIR)) {
        fprintf(stderr, "seaftier-admin: the tier directory %s does not exist (nothing was ever "
                        "written through seaftier with this configuration?)\n", env->tier_dir);
        seaftier_site_free(env);
        *exit_code = ADMIN_EXIT_PROBLEMS;
        return NULL;
    }
    if ((tier && !seaftier_site_open_tier(env, FALSE, &err)) || (s3 && !seaftier_site_open_remotes(env, &err))) {
        fprintf(stderr, "seaftier-admin: %s\n", err->message);
        g_error_free(err);
        seaftier_site_free(env);
        *exit_code = ADMIN_EXIT_PROBLEMS;
        return NULL;
    }
    *exit_code = ADMIN_EXIT_OK;
    return env;
}

const char *
admin_bytes(guint64 bytes, char buf[32])
{
    static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
    double v = (double)bytes;
    int u = 0;
    while (v >= 1024 && u < (int)G_N_ELEMENTS(units) - 1) {
        v /= 1024;
        u++;
    }
    if (u == 0)
        g_snprintf(buf, 32, "%" G_GUINT64_FORMAT " B", bytes);
    else
        g_snprintf(buf, 32, "%.1f %s", v, units[u]);
    return buf;
}

const char *
admin_duration(gint64 s, char buf[32])
{
    if (s < 0)
        s = 0;
    if (s >= 86400)
        g_snprintf(buf, 32, "%" G_GINT64_FORMAT "d %" G_GINT64_FORMAT "h", s / 86400, s % 86400 / 3600);
    else if (s >= 3600)
        g_snprintf(buf, 32, "%" G_GINT64_FORMAT "h %02" G_GINT64_FORMAT "m", s / 3600, s % 3600 / 60);
    else if (s >= 60)
        g_snprintf(buf, 32, "%" G_GINT64_FORMAT "m %02" G_GINT64_FORMAT "s", s / 60, s % 60);
    else
        g_snprintf(buf, 32, "%" G_GINT64_FORMAT "s", s);
    return buf;
}

const char *
admin_time(gint64 t, char buf[32])
{
    if (t <= 0) {
        g_strlcpy(buf, "-", 32);
        return buf;
    }
    GDateTime *dt = g_date_time_new_from_unix_utc(t);
    char *s = dt ? g_date_time_format(dt, "%Y-%m-%d %H:%M:%S") : NULL;
    g_strlcpy(buf, s ? s : "?", 32);
    g_free(s);
    if (dt)
        g_date_time_unref(dt);
    return buf;
}

int
admin_daemon_connect(const char *socket_path)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    if (strlen(socket_path) >= sizeof addr.sun_path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    g_strlcpy(addr.sun_path, socket_path, sizeof addr.sun_path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

char *
admin_read_line(int fd, GString *buf, gint64 deadline_us, gboolean *timed_out)
{
    if (timed_out)
        *timed_out = FALSE;
    for (;;) {
        char *nl = memchr(buf->str, '\n', buf->len);
        if (nl) {
            char *line = g_strndup(buf->str, (gsize)(nl - buf->str));
            g_string_erase(buf, 0, (gssize)(nl - buf->str + 1));
            return line;
        }
        int timeout_ms = -1;
        if (deadline_us > 0) {
            gint64 left = deadline_us - g_get_monotonic_time();
            if (left <= 0) {
                if (timed_out)
                    *timed_out = TRUE;
                return NULL;
            }
            timeout_ms = (int)MIN(left / 1000 + 1, G_MAXINT);
        }
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        int r = poll(&pfd, 1, timeout_ms);
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0)
            continue;
        if (r < 0)
            return NULL;
        char tmp[4096];
        ssize_t n = recv(fd, tmp, sizeof tmp, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (buf->len > 0) {
                char *line = g_strndup(buf->str, buf->len);
                g_string_truncate(buf, 0);
                return line;
            }
            return NULL;
        }
        g_string_append_len(buf, tmp, n);
    }
}

char *
admin_daemon_request(const char *socket_path, const char *request)
{
    int fd = admin_daemon_connect(socket_path);
    if (fd < 0)
        return NULL;
    char *line = g_strconcat(request, "\n", NULL);
    gsize len = strlen(line);
    gboolean sent = send(fd, line, len, MSG_NOSIGNAL) == (ssize_t)len;
    g_free(line);
    if (!sent) {
        close(fd);
        return NULL;
    }
    struct timeval tv = { .tv_sec = 10 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    GString *out = g_string_new(NULL);
    char buf[4096];
    ssize_t n;
    while ((n = recv(fd, buf, sizeof buf, 0)) > 0 || (n < 0 && errno == EINTR))
        if (n > 0)
            g_string_append_len(out, buf, n);
    close(fd);
    return g_string_free(out, FALSE);
}

gboolean
admin_metric(const char *text, const char *name, const char *labels, double *value)
{
    if (!text)
        return FALSE;
    gsize nlen = strlen(name);
    for (const char *line = text; line && *line; ) {
        const char *end = strchr(line, '\n');
        if (strncmp(line, name, nlen) == 0) {
            const char *p = line + nlen;
            gboolean match = FALSE;
            if (*p == ' ' && !labels) {
                match = TRUE;
            } else if (*p == '{' && labels) {
                gsize llen = strlen(labels);
                match = strncmp(p + 1, labels, llen) == 0 && p[1 + llen] == '}';
                if (match)
                    p += llen + 2;
            }
            if (match && *p == ' ') {
                *value = g_ascii_strtod(p + 1, NULL);
                return TRUE;
            }
        }
        line = end ? end + 1 : NULL;
    }
    return FALSE;
}
