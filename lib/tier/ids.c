/* lib/tier/ids.c — id validation, state names, the tier's error domain.
 * Every path, SQL parameter and S3 key built from an id is built only after
 * these checks passed. */
#include "seaftier-build.h"

#include "tier/tier-private.h"

#include <string.h>
#include <time.h>

G_DEFINE_QUARK(seaftier-tier-error-quark, seaftier_tier_error)

static const char *const state_names[] = { "clean", "dirty", "deleted", "remote" };
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

/* The id checks run on every read, RAM hits included (twice: the backend
 * and the tier), so they have no branch per character: the length is found
 * first (memchr stops at the first NUL, so a short string is never read
 * past its end), then every character is tested and the results combined,
 * which the compiler turns into a few vector compares. */
static inline unsigned
not_lower_hex(unsigned char c)
{
    return !((unsigned char)(c - '0') < 10 || (unsigned char)(c - 'a') < 6);
}

static inline unsigned
not_hex(unsigned char c)
{
    return not_lower_hex(c) & !((unsigned char)(c - 'A') < 6);
}

gboolean
seaftier_valid_repo_id(const char *repo_id)
{
    if (!repo_id || memchr(repo_id, '\0', 36) != NULL || repo_id[36] != '\0')
        return FALSE;
    const unsigned char *p = (const unsigned char *)repo_id;
    unsigned bad = 0;
    for (int i = 0; i < 36; i++) {
        gboolean dash_here = i == 8 || i == 13 || i == 18 || i == 23;
        bad |= dash_here ? p[i] != '-' : not_hex(p[i]);
    }
    return bad == 0;
}

gboolean
seaftier_valid_obj_id(const char *obj_id)
{
    if (!obj_id || memchr(obj_id, '\0', 40) != NULL || obj_id[40] != '\0')
        return FALSE;
    const unsigned char *p = (const unsigned char *)obj_id;
    unsigned bad = 0;
    for (int i = 0; i < 40; i++)
        bad |= not_lower_hex(p[i]);
    return bad == 0;
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

/* Seconds are all the tier keeps (access and creation times, tickets), so
 * the coarse clock does: it is read without the TSC, and a RAM hit reads it. */
gint64
seaftier_tier_now(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME_COARSE, &ts) != 0)
        return g_get_real_time() / G_USEC_PER_SEC;
    return (gint64)ts.tv_sec;
}
