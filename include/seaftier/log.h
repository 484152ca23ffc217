/*
 * seaftier/log.h — leveled logging to stderr, a file, syslog or the host
 * process's GLib log handler, shared by the library, the daemon and the admin
 * tool.
 *
 * Messages must never contain secrets: callers pass bucket names, keys of
 * objects and error codes, never credentials or SSE-C keys. As a last line
 * of defence, seaftier_log_add_secret() registers strings that are masked
 * out of every message before it is written.
 */
#ifndef SEAFTIER_LOG_H
#define SEAFTIER_LOG_H

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
    SEAFTIER_LOG_ERROR = 0,
    SEAFTIER_LOG_WARNING = 1,
    SEAFTIER_LOG_INFO = 2,
    SEAFTIER_LOG_DEBUG = 3,
} SeaftierLogLevel;

/* Parses "error", "warning", "info", "debug". FALSE for anything else. */
gboolean seaftier_log_level_from_name(const char *name, SeaftierLogLevel *level);

/* Messages above `level` are dropped. Default: SEAFTIER_LOG_INFO, or the
 * level named by the SEAFTIER_LOG_LEVEL environment variable. */
void seaftier_log_set_level(SeaftierLogLevel level);
SeaftierLogLevel seaftier_log_get_level(void);

/* Sends messages to syslog (ident, LOG_DAEMON) instead of stderr. */
void seaftier_log_use_syslog(const char *ident);

/* Sends messages to `path` (appended; reopened by seaftier_log_reopen()).
 * NULL sends them to stderr (the default until a destination is chosen). FALSE with `error` when the file cannot be opened. */
gboolean seaftier_log_to_file(const char *path, GError **error);

/* Sends messages through GLib's log (g_log with the default domain): a host
 * process such as seaf-server installs its handler there and writes them to
 * its own log file (seafile.log). Levels map to CRITICAL, WARNING, INFO and
 * DEBUG (never G_LOG_LEVEL_ERROR, which aborts); each message starts with
 * "seaftier: " (unless it already names seaftier) and ends in "\n"
 * as seaf-server's handler expects. Without a handler GLib prints warnings
 * and errors on stderr and drops the rest unless G_MESSAGES_DEBUG says so. */
void seaftier_log_use_glib(void);

/* Called by the backend constructors (obj_backend_tier_new,
 * block_backend_tier_new), i.e. when the library runs inside a host process:
 * switches to seaftier_log_use_glib() unless the program already chose a
 * destination (stderr through seaftier_log_to_file(NULL), a file, syslog). */
void seaftier_log_attach_to_host(void);

/* Reopens the log file after rotation (SIGHUP). */
void seaftier_log_reopen(void);

/* Registers a secret that is replaced by "***" in every later message.
 * Strings shorter than 4 bytes are ignored. Thread-safe. */
void seaftier_log_add_secret(const char *secret);

/* Writes one message. Thread-safe. */
void seaftier_log(SeaftierLogLevel level, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

#define seaftier_error(...)   seaftier_log(SEAFTIER_LOG_ERROR, __VA_ARGS__)
#define seaftier_warning(...) seaftier_log(SEAFTIER_LOG_WARNING, __VA_ARGS__)
#define seaftier_info(...)    seaftier_log(SEAFTIER_LOG_INFO, __VA_ARGS__)
#define seaftier_debug(...)   do { if (seaftier_log_get_level() >= SEAFTIER_LOG_DEBUG) \
                                       seaftier_log(SEAFTIER_LOG_DEBUG, __VA_ARGS__); } while (0)

G_END_DECLS

#endif
