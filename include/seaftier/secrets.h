/*
 * seaftier/secrets.h — keeping the S3 secrets (`key`, `sse_c_key`) of this
 * process out of core files.
 *
 * seaftierd calls seaftier_secrets_protect_process() at start. The Seafile
 * backends call it when seaf-server opens them, unless seafile.conf says
 * `[tier] dumpable = true` (for an operator who needs seaf-server's core
 * files while debugging, and accepts that they hold the secrets).
 */
#ifndef SEAFTIER_SECRETS_H
#define SEAFTIER_SECRETS_H

#include <glib.h>

/* Makes this process write no core file (RLIMIT_CORE 0) and non-dumpable
 * (prctl PR_SET_DUMPABLE 0: no core even if the limit is raised again, no
 * ptrace or /proc/<pid>/mem by other processes of the same user). Affects
 * the whole process. FALSE with a GError naming the call that failed. */
gboolean seaftier_secrets_protect_process(GError **error);

#endif
