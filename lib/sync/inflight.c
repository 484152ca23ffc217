/* lib/sync/inflight.c — see inflight.h. */
#include "seaftier-build.h"

#include "sync/inflight.h"

struct SeaftierInflight {
    GMutex lock;
    GCond changed;
    GHashTable *keys;       /* "t/repo/obj" -> GINT_TO_POINTER(op) */
};

static char *
inflight_key(SeaftierObjType type, const char *repo_id, const char *obj_id)
{
    return g_strdup_printf("%d/%s/%s", (int)type, repo_id, obj_id);
}

SeaftierInflight *
seaftier_inflight_new(void)
{
    SeaftierInflight *set = g_new0(SeaftierInflight, 1);
    g_mutex_init(&set->lock);
    g_cond_init(&set->changed);
    set->keys = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    return set;
}

void
seaftier_inflight_free(SeaftierInflight *set)
{
    if (!set)
        return;
    g_hash_table_destroy(set->keys);
    g_cond_clear(&set->changed);
    g_mutex_clear(&set->lock);
    g_free(set);
}

gboolean
seaftier_inflight_claim(SeaftierInflight *set, SeaftierObjType type, const char *repo_id,
                        const char *obj_id, SeaftierInflightOp op)
{
    char *key = inflight_key(type, repo_id, obj_id);
    g_mutex_lock(&set->lock);
    gboolean free_now = !g_hash_table_contains(set->keys, key);
    if (free_now)
        g_hash_table_insert(set->keys, key, GINT_TO_POINTER(op));
    g_mutex_unlock(&set->lock);
    if (!free_now)
        g_free(key);
    return free_now;
}

void
seaftier_inflight_release(SeaftierInflight *set, SeaftierObjType type, const char *repo_id,
                          const char *obj_id)
{
    char *key = inflight_key(type, repo_id, obj_id);
    g_mutex_lock(&set->lock);
    g_hash_table_remove(set->keys, key);
    g_cond_broadcast(&set->changed);
    g_mutex_unlock(&set->lock);
    g_free(key);
}

gboolean
seaftier_inflight_contains(SeaftierInflight *set, SeaftierObjType type, const char *repo_id,
                           const char *obj_id)
{
    char *key = inflight_key(type, repo_id, obj_id);
    g_mutex_lock(&set->lock);
    gboolean found = g_hash_table_contains(set->keys, key);
    g_mutex_unlock(&set->lock);
    g_free(key);
    return found;
}

gboolean
seaftier_inflight_wait(SeaftierInflight *set, SeaftierObjType type, const char *repo_id,
                       const char *obj_id, gint64 deadline_us)
{
    char *key = inflight_key(type, repo_id, obj_id);
    g_mutex_lock(&set->lock);
    gboolean free_now;
    while (!(free_now = !g_hash_table_contains(set->keys, key))) {
        if (!g_cond_wait_until(&set->changed, &set->lock, deadline_us)) {
            free_now = !g_hash_table_contains(set->keys, key);
            break;
        }
    }
    g_mutex_unlock(&set->lock);
    g_free(key);
    return free_now;
}
