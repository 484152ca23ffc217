/*
 * lib/backend/obj.c — Seafile's ObjBackend (commits and fs objects) over the
 * tier: thin adapters from the vtable's int/void* conventions to
 * common.c.
 */
#include "seaftier-build.h"

#include "backend/common.h"

#include <seaftier/log.h>

#include <limits.h>
#include <string.h>

typedef struct {
    SeaftierBackendShared *sh;
    SeaftierObjType type;
} ObjPriv;

#define PRIV(bend) ((ObjPriv *)(bend)->priv)

static int
obj_read(ObjBackend *bend, const char *repo_id, int version, const char *obj_id, void **data,
         int *len)
{
    ObjPriv *p = PRIV(bend);
    void *buf = NULL;
    gsize n = 0;
    if (!data || !len)
        return -1;
    if (!seaftier_be_read(p->sh, p->type, repo_id, obj_id, &buf, &n))
        return -1;
    if (n > INT_MAX) {
        seaftier_error("read %s %s/%s: %" G_GSIZE_FORMAT " bytes do not fit Seafile's int length",
                       seaftier_type_name(p->type), repo_id, obj_id, n);
        g_free(buf);
        return -1;
    }
    /* Seafile g_free()s the buffer even for empty objects. */
    *data = buf ? buf : g_malloc0(1);
    *len = (int)n;
    return 0;
}

static int
obj_write(ObjBackend *bend, const char *repo_id, int version, const char *obj_id, void *data,
          int len, gboolean need_sync)
{
    ObjPriv *p = PRIV(bend);
    if (len < 0 || (!data && len > 0)) {
        seaftier_error("write %s: invalid buffer (length %d)", seaftier_type_name(p->type), len);
        return -1;
    }
    return seaftier_be_write(p->sh, p->type, repo_id, obj_id, data, (gsize)len, need_sync) ? 0
                                                                                          : -1;
}

static gboolean
obj_exists(ObjBackend *bend, const char *repo_id, int version, const char *obj_id)
{
    ObjPriv *p = PRIV(bend);
    return seaftier_be_exists(p->sh, p->type, repo_id, obj_id);
}

static void
obj_delete(ObjBackend *bend, const char *repo_id, int version, const char *obj_id)
{
    ObjPriv *p = PRIV(bend);
    seaftier_be_delete(p->sh, p->type, repo_id, obj_id);
}

typedef struct {
    SeafObjFunc process;
    int version;
    void *user_data;
} ObjForeach;

static gboolean
obj_foreach_cb(const char *repo_id, const char *obj_id, void *user_data)
{
    ObjForeach *f = user_data;
    return f->process(repo_id, f->version, obj_id, f->user_data);
}

static int
obj_foreach(ObjBackend *bend, const char *repo_id, int version, SeafObjFunc process,
            void *user_data)
{
    ObjPriv *p = PRIV(bend);
    if (!process)
        return -1;
    ObjForeach f = { process, version, user_data };
    return seaftier_be_foreach(p->sh, p->type, repo_id, obj_foreach_cb, &f) ? 0 : -1;
}

static int
obj_copy(ObjBackend *bend, const char *src_repo_id, int src_version, const char *dst_repo_id,
         int dst_version, const char *obj_id)
{
    ObjPriv *p = PRIV(bend);
    return seaftier_be_copy(p->sh, p->type, src_repo_id, dst_repo_id, obj_id) ? 0 : -1;
}

static int
obj_remove_store(ObjBackend *bend, const char *store_id, SeafObjProgressFunc progress_cb,
                 void *user_data)
{
    ObjPriv *p = PRIV(bend);
    return seaftier_be_remove_store(p->sh, p->type, store_id, progress_cb, user_data) ? 0 : -1;
}

ObjBackend *
obj_backend_tier_new(const char *seaf_dir, const char *obj_type, GKeyFile *config,
                     GError **error)
{
    SeaftierObjType type;
    if (!obj_type || !seaftier_type_from_name(obj_type, &type) || type == SEAFTIER_TYPE_BLOCKS) {
        char buf[256];
        g_set_error(error, SEAFTIER_CONFIG_ERROR, SEAFTIER_CONFIG_ERROR_INVALID,
                    "obj_backend_tier_new: object type \"%s\" is not \"commits\" or \"fs\"",
                    seaftier_be_id_for_log(obj_type, buf));
        return NULL;
    }
    SeaftierBackendShared *sh = seaftier_backend_shared_get(seaf_dir, config, error);
    if (!sh)
        return NULL;
    ObjBackend *bend = g_new0(ObjBackend, 1);
    ObjPriv *p = g_new0(ObjPriv, 1);
    p->sh = sh;
    p->type = type;
    bend->read = obj_read;
    bend->write = obj_write;
    bend->exists = obj_exists;
    bend->delete = obj_delete;
    bend->foreach_obj = obj_foreach;
    bend->copy = obj_copy;
    bend->remove_store = obj_remove_store;
    bend->priv = p;
    return bend;
}

void
obj_backend_tier_free(ObjBackend *bend)
{
    if (!bend)
        return;
    ObjPriv *p = PRIV(bend);
    seaftier_backend_shared_unref(p->sh);
    g_free(p);
    g_free(bend);
}

SeaftierBackendShared *
seaftier_obj_backend_shared(ObjBackend *bend)
{
    return PRIV(bend)->sh;
}

SeaftierObjType
seaftier_obj_backend_type(ObjBackend *bend)
{
    return PRIV(bend)->type;
}
