/* lib/tier/ids.c — id validation, state names, the tier's error domain.
 * Every path, SQL parameter and S3 key built from an id is built only after
 * these checks passed. */
#include "seaftier-build.h"

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

/* Character classes for the id checks (they run on every read, RAM hits
 * included): 1 lowercase hex, 2 uppercase hex. NUL is 0, so a short string
 * stops the loops. */
static const guint8 hex_class[256] = {
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
    ['8'] = 1, ['9'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
    ['A'] = 2, ['B'] = 2, ['C'] = 2, ['D'] = 2, ['E'] = 2, ['F'] = 2,
};

gboolean
seaftier_valid_repo_id(const char *repo_id)
{
    if (!repo_id)
        return FALSE;
    const unsigned char *p = (const unsigned char *)repo_id;
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (p[i] != '-')
                return FALSE;
        } else if (!hex_class[p[i]]) {
            return FALSE;
        }
    }
    return p[36] == '\0';
}

gboolean
seaftier_valid_obj_id(const char *obj_id)
{
    if (!obj_id)
        return FALSE;
    const unsigned char *p = (const unsigned char *)obj_id;
    for (int i = 0; i < 40; i++)
        if (hex_class[p[i]] != 1)
            return FALSE;
    return p[40] == '\0';
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
