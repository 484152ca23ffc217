/* lib/tier/ids.c — id validation, state names, the tier's error domain.
 * Every path, SQL parameter and S3 key built from an id is built only after
 * these checks passed. */
#include "config.h"

#include "tier/tier-private.h"

#include <string.h>

G_DEFINE_QUARK(seaftier-tier-error-quark, seaftier_tier_error)

static const char *const state_names[] = { "clean", "dirty", "deleted" };
static const char *const type_dirs[] = { "commits", "fs", "blocks" };

const char *
seaftier_state_name(SeaftierState state)
{
    if ((unsigned)state < G_N_ELEMENTS(state_names))
        return state_names[state];
    return "unknown";
}

gboolean
seaftier_state_from_name(const char *name, SeaftierState *state)
{
    for (unsigned i = 0; name && i < G_N_ELEMENTS(state_names); i++) {
        if (strcmp(name, state_names[i]) == 0) {
            *state = (SeaftierState)i;
            return TRUE;
        }
    }
    return FALSE;
}

gboolean
seaftier_valid_repo_id(const char *repo_id)
{
    if (!repo_id)
        return FALSE;
    for (int i = 0; i < 36; i++) {
        char c = repo_id[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return FALSE;
        } else if (!g_ascii_isxdigit(c)) {
            return FALSE;   /* also stops at the terminating NUL */
        }
    }
    return repo_id[36] == '\0';
}

gboolean
seaftier_valid_obj_id(const char *obj_id)
{
    if (!obj_id)
        return FALSE;
    for (int i = 0; i < 40; i++) {
        char c = obj_id[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return FALSE;
    }
    return obj_id[40] == '\0';
}

/* Messages quote at most a bounded, escaped prefix of a bad id: it may be
 * anything a client sent. */
static char *
quote_id(const char *id)
{
    if (!id)
        return g_strdup("(null)");
    char *prefix = g_strndup(id, 64);
    char *escaped = g_strescape(prefix, NULL);
    g_free(prefix);
    return escaped;
}

gboolean
seaftier_tier_check_repo(const char *repo_id, GError **error)
{
    if (!seaftier_valid_repo_id(repo_id)) {
        char *q = quote_id(repo_id);
        g_set_error(error, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_INVALID_ID,
                    "invalid repo id \"%s\" (expected a UUID)", q);
        g_free(q);
        return FALSE;
    }
    return TRUE;
}

gboolean
seaftier_tier_check_type(int type, GError **error)
{
    if (type < 0 || type >= SEAFTIER_N_TYPES) {
        g_set_error(error, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_INVALID_ID,
                    "invalid object type %d", type);
        return FALSE;
    }
    return TRUE;
}

gboolean
seaftier_tier_check_ids(SeaftierObjType type, const char *repo_id, const char *obj_id,
                        GError **error)
{
    if (!seaftier_tier_check_type((int)type, error))
        return FALSE;
    if (!seaftier_valid_repo_id(repo_id)) {
        char *q = quote_id(repo_id);
        g_set_error(error, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_INVALID_ID,
                    "invalid repo id \"%s\" (expected a UUID)", q);
        g_free(q);
        return FALSE;
    }
    if (!seaftier_valid_obj_id(obj_id)) {
        char *q = quote_id(obj_id);
        g_set_error(error, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_INVALID_ID,
                    "invalid object id \"%s\" (expected 40 lowercase hex characters)", q);
        g_free(q);
        return FALSE;
    }
    return TRUE;
}

const char *
seaftier_tier_type_dir(SeaftierObjType type)
{
    return type_dirs[type];
}

gint64
seaftier_tier_new_generation(void)
{
    guint64 g;
    do {
        g = ((guint64)g_random_int() << 32) | g_random_int();
        g &= G_MAXINT64;
    } while (g == 0);
    return (gint64)g;
}

gint64
seaftier_tier_now(void)
{
    return g_get_real_time() / G_USEC_PER_SEC;
}
