/* daemon/main.c — seaftierd: the write-back uploader of seaftier.
 *
 * Start-up order matters: the configuration is checked while stderr is
 * still the operator's terminal; then the process detaches (unless -f) and
 * only then starts threads (fork and threads do not mix); the parent waits
 * on a pipe until the child reports "ready" or why it failed, so a broken
 * start never looks like a success. One daemon per tier: an flock on
 * <tier>/seaftierd.lock. */
#include "seaftier-build.h"

#include "daemon.h"

#include <seaftier/log.h>
#include <seaftier/secrets.h>

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define SHUTDOWN_GRACE_US (4 * G_USEC_PER_SEC)

static char *opt_config_dir, *opt_seafile_dir, *opt_pid_file, *opt_log_file, *opt_log_level;
static gboolean opt_foreground, opt_syslog, opt_version;
static int opt_metrics_port;

static const GOptionEntry options[] = {
    { "config-dir", 'c', 0, G_OPTION_ARG_FILENAME, &opt_config_dir,
      "Directory holding seafile.conf (default: $SEAFILE_CENTRAL_CONF_DIR)", "DIR" },
    { "seafile-dir", 'd', 0, G_OPTION_ARG_FILENAME, &opt_seafile_dir,
      "Seafile data dir; the tier is DIR/seaftier when [tier] dir is unset", "DIR" },
    { "foreground", 'f', 0, G_OPTION_ARG_NONE, &opt_foreground, "Stay in the foreground", NULL },
    { "pid-file", 'P', 0, G_OPTION_ARG_FILENAME, &opt_pid_file, "Write the process id to FILE", "FILE" },
    { "log-file", 'l', 0, G_OPTION_ARG_FILENAME, &opt_log_file,
      "Log to FILE (reopened on SIGHUP) instead of stderr", "FILE" },
    { "syslog", 's', 0, G_OPTION_ARG_NONE, &opt_syslog, "Log to syslog (LOG_DAEMON)", NULL },
    { "log-level", 'L', 0, G_OPTION_ARG_STRING, &opt_log_level,
      "error, warning, info or debug (default: [tier] log_level, else info)", "LEVEL" },
    { "metrics-port", 'm', 0, G_OPTION_ARG_INT, &opt_metrics_port,
      "Also serve GET /metrics on 127.0.0.1:PORT", "PORT" },
    { "version", 'V', 0, G_OPTION_ARG_NONE, &opt_version, "Print the version and exit", NULL },
    { NULL, 0, 0, 0, NULL, NULL, NULL },
};

static int ready_fd = -1;

/* Tells the waiting parent how start-up went (no-op in the foreground). */
static void
report_startup(const char *error_message)
{
    if (ready_fd < 0)
        return;
    const char *msg = error_message ? error_message : "";
    gsize len = strlen(msg);
    if (write(ready_fd, error_message ? "E" : "R", 1) == 1 && len)
        (void)!write(ready_fd, msg, len);
    close(ready_fd);
    ready_fd = -1;
}

/* Forks into the background; the parent exits with the child's verdict. */
static void
daemonize(void)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        fprintf(stderr, "seaftierd: pipe: %s\n", g_strerror(errno));
        exit(1);
    }
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "seaftierd: fork: %s\n", g_strerror(errno));
        exit(1);
    }
    if (pid > 0) {
        close(fds[1]);
        GString *msg = g_string_new(NULL);
        char buf[512];
        ssize_t n;
        while ((n = read(fds[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
            if (n > 0)
                g_string_append_len(msg, buf, n);
        if (msg->len > 0 && msg->str[0] == 'R')
            _exit(0);
        fprintf(stderr, "seaftierd: start-up failed: %s\n",
                msg->len > 1 ? msg->str + 1 : "the daemon exited (see its log)");
        _exit(1);
    }
    close(fds[0]);
    ready_fd = fds[1];
    setsid();
    pid = fork();
    if (pid < 0)
        _exit(1);
    if (pid > 0)
        _exit(0);
    if (chdir("/") != 0) {
        /* "/" always exists; nothing sensible to do otherwise. */
    }
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
        dup2(null, STDIN_FILENO);
        dup2(null, STDOUT_FILENO);
        dup2(null, STDERR_FILENO);
        if (null > STDERR_FILENO)
            close(null);
    }
}

static int
take_tier_lock(const char *tier_dir, GError **error)
{
    char *path = g_build_filename(tier_dir, "seaftierd.lock", NULL);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e), "%s: %s", path,
                    e == EWOULDBLOCK ? "another seaftierd already serves this tier" : g_strerror(e));
        if (fd >= 0)
            close(fd);
        g_free(path);
        return -1;
    }
    g_free(path);
    return fd;
}

static gboolean
write_pid_file(const char *path, GError **error)
{
    char *text = g_strdup_printf("%d\n", (int)getpid());
    gboolean ok = g_file_set_contents(path, text, -1, error);
    g_free(text);
    return ok;
}

static gboolean
on_term(gpointer data)
{
    SeaftierDaemon *d = data;
    if (!g_atomic_int_get(&d->stopping))
        seaftier_info("shutting down: no new uploads, waiting up to %d s for those in flight",
                      (int)(SHUTDOWN_GRACE_US / G_USEC_PER_SEC));
    g_atomic_int_set(&d->stopping, 1);
    seaftier_sync_stop(d->sync);
    g_main_loop_quit(d->loop);
    return G_SOURCE_CONTINUE;
}

static gboolean
on_hup(gpointer data)
{
    seaftier_log_reopen();
    seaftier_info("SIGHUP: log reopened");
    return G_SOURCE_CONTINUE;
}

static int
fail_startup(const char *what, GError *err)
{
    char *msg = g_strdup_printf("%s: %s", what, err ? err->message : "unknown error");
    seaftier_error("%s", msg);
    if (ready_fd < 0 && (opt_log_file || opt_syslog))
        fprintf(stderr, "seaftierd: %s\n", msg);
    report_startup(msg);
    g_free(msg);
    g_clear_error(&err);
    return 1;
}

int
main(int argc, char **argv)
{
    GError *err = NULL;
    /* Before the configuration (and its S3 secrets) is read: no core file
     * and no ptrace peeking may ever see them. */
    if (!seaftier_secrets_protect_process(&err)) {
        fprintf(stderr, "seaftierd: %s\n", err->message);
        g_error_free(err);
        return 2;
    }
    GOptionContext *ctx = g_option_context_new("- seaftier's write-back uploader");
    g_option_context_set_summary(ctx,
        "Uploads the tier's dirty objects to S3, carries remote deletes, evicts clean objects,\n"
        "and serves metrics/status/flush on the control socket ([tier] socket).");
    g_option_context_add_main_entries(ctx, options, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
        fprintf(stderr, "seaftierd: %s (see --help)\n", err->message);
        return 2;
    }
    g_option_context_free(ctx);
    if (opt_version) {
        printf("seaftierd %s\n", PACKAGE_VERSION);
        return 0;
    }
    if (argc > 1) {
        fprintf(stderr, "seaftierd: unexpected argument \"%s\" (see --help)\n", argv[1]);
        return 2;
    }
    if (opt_metrics_port < 0 || opt_metrics_port > 65535) {
        fprintf(stderr, "seaftierd: --metrics-port %d is not a port\n", opt_metrics_port);
        return 2;
    }

    SeaftierSite *site = seaftier_site_load(opt_config_dir, opt_seafile_dir, &err);
    if (!site) {
        fprintf(stderr, "seaftierd: %s\n", err->message);
        g_error_free(err);
        return 2;
    }
    const char *level_name = opt_log_level ? opt_log_level : site->cfg->tier.log_level;
    if (level_name) {
        SeaftierLogLevel level;
        if (!seaftier_log_level_from_name(level_name, &level)) {
            fprintf(stderr, "seaftierd: unknown log level \"%s\" (error, warning, info, debug)\n",
                    level_name);
            seaftier_site_free(site);
            return 2;
        }
        seaftier_log_set_level(level);
    }
    if (opt_log_file && !seaftier_log_to_file(opt_log_file, &err)) {
        fprintf(stderr, "seaftierd: %s\n", err->message);
        g_error_free(err);
        seaftier_site_free(site);
        return 2;
    }
    if (opt_syslog || (!opt_foreground && !opt_log_file))
        seaftier_log_use_syslog("seaftierd");
    if (!opt_foreground)
        daemonize();
    signal(SIGPIPE, SIG_IGN);

    for (guint i = 0; site->cfg->warnings && i < site->cfg->warnings->len; i++)
        seaftier_warning("%s: %s", site->conf_path, (const char *)g_ptr_array_index(site->cfg->warnings, i));

    if (g_mkdir_with_parents(site->tier_dir, 0700) != 0) {
        int e = errno;
        g_set_error(&err, G_FILE_ERROR, g_file_error_from_errno(e), "cannot create %s: %s",
                    site->tier_dir, g_strerror(e));
        return fail_startup("tier directory", err);
    }
    int lock_fd = take_tier_lock(site->tier_dir, &err);
    if (lock_fd < 0)
        return fail_startup("lock", err);
    if (!seaftier_site_open_tier(site, FALSE, &err))
        return fail_startup("cannot open the tier", err);
    if (!seaftier_site_open_remotes(site, &err))
        return fail_startup("cannot create the S3 clients", err);

    SeaftierDaemon *d = g_new0(SeaftierDaemon, 1);
    d->site = site;
    d->sync = seaftier_site_sync(site);
    d->nudge_fd = -1;
    d->metrics = seaftier_metrics_new();
    d->loop = g_main_loop_new(NULL, FALSE);
    d->metrics_port = opt_metrics_port;
    g_mutex_init(&d->hk_lock);
    g_cond_init(&d->hk_cond);

    if (!seaftier_scheduler_start(d, &err))
        return fail_startup("nudge socket", err);
    d->control = seaftier_control_start(d, site->socket_path, opt_metrics_port, &err);
    if (!d->control)
        return fail_startup("control socket", err);
    if (opt_pid_file && !write_pid_file(opt_pid_file, &err))
        return fail_startup("pid file", err);
    seaftier_prober_start(d);
    seaftier_housekeeping_start(d);
    guint term_src = g_unix_signal_add(SIGTERM, on_term, d);
    guint int_src = g_unix_signal_add(SIGINT, on_term, d);
    guint hup_src = g_unix_signal_add(SIGHUP, on_hup, d);

    seaftier_info("seaftierd %s started: tier %s, control socket %s, %d uploads in flight, "
                  "upload_delay %d ms%s", PACKAGE_VERSION, site->tier_dir, site->socket_path,
                  site->cfg->tier.upload_concurrency, site->cfg->tier.upload_delay_ms,
                  site->cfg->tier.write_through ? ", mode write_through" : "");
    report_startup(NULL);

    g_main_loop_run(d->loop);

    /* Shutdown: nothing new starts; what runs gets a few seconds. An upload
     * abandoned now stays dirty (its row is only marked clean after S3
     * confirmed it), so the next start uploads it again. */
    gint64 deadline = g_get_monotonic_time() + SHUTDOWN_GRACE_US;
    seaftier_scheduler_stop(d);
    gboolean clean_exit = seaftier_control_stop(d->control, deadline);
    clean_exit = seaftier_threads_stop(d, deadline) && clean_exit;
    clean_exit = seaftier_sync_drain(d->sync, deadline) && clean_exit;
    if (opt_pid_file)
        unlink(opt_pid_file);
    if (!clean_exit) {
        seaftier_warning("exiting with %u uploads still in flight: they stay dirty and are "
                         "uploaded after the next start", seaftier_sync_uploads_active(d->sync));
        _exit(0);
    }
    seaftier_info("seaftierd stopped");
    g_source_remove(term_src);
    g_source_remove(int_src);
    g_source_remove(hup_src);
    /* The site first: freeing it joins the engine's workers, whose observer
     * uses the metrics and the daemon state. */
    seaftier_site_free(site);
    seaftier_metrics_free(d->metrics);
    g_main_loop_unref(d->loop);
    g_cond_clear(&d->hk_cond);
    g_mutex_clear(&d->hk_lock);
    g_free(d);
    close(lock_fd);
    g_free(opt_config_dir);
    g_free(opt_seafile_dir);
    g_free(opt_pid_file);
    g_free(opt_log_file);
    g_free(opt_log_level);
    return 0;
}
