/* lib/secrets.c — see seaftier/secrets.h. */
#include "seaftier-build.h"

#include <seaftier/secrets.h>

#include <errno.h>
#include <sys/prctl.h>
#include <sys/resource.h>

gboolean
seaftier_secrets_protect_process(GError **error)
{
    struct rlimit none = { 0, 0 };
    if (setrlimit(RLIMIT_CORE, &none) != 0) {
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno),
                    "cannot disable core files (setrlimit RLIMIT_CORE): %s", g_strerror(errno));
        return FALSE;
    }
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno),
                    "cannot make the process non-dumpable (prctl PR_SET_DUMPABLE): %s",
                    g_strerror(errno));
        return FALSE;
    }
    return TRUE;
}
