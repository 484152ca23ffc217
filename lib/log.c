/* lib/log.c — see seaftier/log.h. */
#include "seaftier-build.h"

#include <seaftier/log.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

typedef enum {
    LOG_DEST_UNSET,                 /* stderr, until the program or a host chooses */
    LOG_DEST_STDERR,
    LOG_DEST_FILE,
    LOG_DEST_SYSLOG,
    LOG_DEST_GLIB,
} LogDest;

static GMutex log_lock;
static int log_level = -1;          /* -1: not yet read from the environment */
static LogDest log_dest = LOG_DEST_UNSET;
static FILE *log_file;              /* set iff log_dest == LOG_DEST_FILE */
static char *log_path;
static GPtrArray *log_secrets;      /* char*, longest first is not needed: masking is iterative */

static const char *const level_names[] = { "error", "warning", "info", "debug" };

gboolean
seaftier_log_level_from_name(const char *name, SeaftierLogLevel *level)
{
    for (int i = 0; name && i < (int)G_N_ELEMENTS(level_names); i++) {
        if (g_ascii_strcasecmp(name, level_names[i]) == 0) {
            *level = (SeaftierLogLevel)i;
            return TRUE;
        }
    }
    return FALSE;
}

void
seaftier_log_set_level(SeaftierLogLevel level)
{
    g_atomic_int_set(&log_level, (int)level);
}

SeaftierLogLevel
seaftier_log_get_level(void)
{
    int level = g_atomic_int_get(&log_level);
    if (level < 0) {
        SeaftierLogLevel from_env = SEAFTIER_LOG_INFO;
        seaftier_log_level_from_name(g_getenv("SEAFTIER_LOG_LEVEL"), &from_env);
        level = (int)from_env;
        g_atomic_int_set(&log_level, level);
    }
    return (SeaftierLogLevel)level;
}

void
seaftier_log_use_syslog(const char *ident)
{
    g_mutex_lock(&log_lock);
    openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
    if (log_file)
        fclose(log_file);
    log_file = NULL;
    log_dest = LOG_DEST_SYSLOG;
    g_mutex_unlock(&log_lock);
}

void
seaftier_log_use_glib(void)
{
    g_mutex_lock(&log_lock);
    if (log_file)
        fclose(log_file);
    log_file = NULL;
    log_dest = LOG_DEST_GLIB;
    g_mutex_unlock(&log_lock);
}

void
seaftier_log_attach_to_host(void)
{
    g_mutex_lock(&log_lock);
    if (log_dest == LOG_DEST_UNSET)
        log_dest = LOG_DEST_GLIB;
    g_mutex_unlock(&log_lock);
}

/* Opens the log for appending, created 0600: it names buckets, repos and
 * objects. An existing file readable by others is narrowed to 0600 too. */
static FILE *
open_log(const char *path)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return NULL;
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 077))
        (void)fchmod(fd, st.st_mode & 0700);
    FILE *f = fdopen(fd, "a");
    if (!f) {
        int saved = errno;
        close(fd);
        errno = saved;
    }
    return f;
}

gboolean
seaftier_log_to_file(const char *path, GError **error)
{
    FILE *f = NULL;
    if (path) {
        f = open_log(path);
        if (!f) {
            g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno),
                        "cannot open log file %s: %s", path, g_strerror(errno));
            return FALSE;
        }
        setvbuf(f, NULL, _IOLBF, 0);
    }
    g_mutex_lock(&log_lock);
    if (log_file)
        fclose(log_file);
    log_file = f;
    log_dest = f ? LOG_DEST_FILE : LOG_DEST_STDERR;
    g_free(log_path);
    log_path = g_strdup(path);
    g_mutex_unlock(&log_lock);
    return TRUE;
}

void
seaftier_log_reopen(void)
{
    g_mutex_lock(&log_lock);
    if (log_dest == LOG_DEST_FILE && log_path) {
        FILE *f = open_log(log_path);
        if (f) {
            setvbuf(f, NULL, _IOLBF, 0);
            fclose(log_file);
            log_file = f;
        }
    }
    g_mutex_unlock(&log_lock);
}

void
seaftier_log_add_secret(const char *secret)
{
    if (!secret || strlen(secret) < 4)
        return;
    g_mutex_lock(&log_lock);
    if (!log_secrets)
        log_secrets = g_ptr_array_new_with_free_func(g_free);
    gboolean known = FALSE;
    for (guint i = 0; i < log_secrets->len; i++)
        known = known || strcmp(log_secrets->pdata[i], secret) == 0;
    if (!known)
        g_ptr_array_add(log_secrets, g_strdup(secret));
    g_mutex_unlock(&log_lock);
}

/* Called with log_lock held. */
static void
mask_secrets(GString *msg)
{
    for (guint i = 0; log_secrets && i < log_secrets->len; i++) {
        const char *secret = log_secrets->pdata[i];
        gsize slen = strlen(secret);
        char *hit;
        while ((hit = strstr(msg->str, secret)) != NULL) {
            gssize pos = hit - msg->str;
            g_string_erase(msg, pos, (gssize)slen);
            g_string_insert(msg, pos, "***");
        }
    }
}

void
seaftier_log(SeaftierLogLevel level, const char *fmt, ...)
{
    if ((int)level > (int)seaftier_log_get_level())
        return;

    va_list ap;
    va_start(ap, fmt);
    GString *msg = g_string_new(NULL);
    g_string_vprintf(msg, fmt, ap);
    va_end(ap);

    g_mutex_lock(&log_lock);
    mask_secrets(msg);
    LogDest dest = log_dest;
    if (dest == LOG_DEST_SYSLOG) {
        static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
        syslog(prio[level], "%s", msg->str);
    } else if (dest != LOG_DEST_GLIB) {
        char stamp[32];
        struct tm tm;
        time_t now = time(NULL);
        localtime_r(&now, &tm);
        strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
        fprintf(log_file ? log_file : stderr, "[%s] %s: %s\n", stamp, level_names[level], msg->str);
    }
    g_mutex_unlock(&log_lock);
    /* Outside the lock: the host's handler may take its own locks, and a
     * handler that logs through seaftier again must not deadlock. */
    if (dest == LOG_DEST_GLIB) {
        static const GLogLevelFlags glib_level[] = {
            G_LOG_LEVEL_CRITICAL, G_LOG_LEVEL_WARNING, G_LOG_LEVEL_INFO, G_LOG_LEVEL_DEBUG,
        };
        /* the host's log mixes many sources: name ours (once) */
        g_log(NULL, glib_level[level], "%s%s\n",
              g_str_has_prefix(msg->str, "seaftier") ? "" : "seaftier: ", msg->str);
    }
    g_string_free(msg, TRUE);
}
