/*
 * lib/sync/objid.h — does an object's bytes match its id? Seafile's ids are
 * content hashes, each of a different thing (seafile-server common/fs-mgr.c,
 * commit-mgr.c):
 *
 *  - blocks: SHA-1 of the stored bytes (for an encrypted library, of the
 *    encrypted bytes — still what is stored);
 *  - fs objects of version-1 libraries: the stored bytes are zlib-compressed
 *    JSON and the id is SHA-1 of the uncompressed JSON (Seafile's own
 *    verify_fs_object_json does the same); version-0 directories are checked
 *    as seafile-server's verify_seafdir_v0 does; version-0 file objects and
 *    the empty directory (all zeros) carry no checkable hash and pass;
 *  - commits: JSON, and the id is SHA-1 of root_id, creator, creator_name,
 *    description (each NUL-terminated) and ctime (64-bit big-endian), not of
 *    the stored bytes (compute_commit_id).
 *
 * Migration and export check every object with this before writing it
 * anywhere, so a corrupt source file is reported instead of copied.
 */
#ifndef SEAFTIER_SYNC_OBJID_H
#define SEAFTIER_SYNC_OBJID_H

#include <glib.h>
#include <seaftier/config.h>

#define SEAFTIER_OBJ_ID_ERROR (seaftier_obj_id_error_quark())
GQuark seaftier_obj_id_error_quark(void);
typedef enum {
    SEAFTIER_OBJ_ID_ERROR_MISMATCH,    /* the bytes hash to another id */
    SEAFTIER_OBJ_ID_ERROR_MALFORMED,   /* not an object of this type (bad zlib, bad JSON) */
} SeaftierObjIdErrorCode;

/* TRUE when `data` is a valid object of `type` whose id is `obj_id`; else
 * FALSE with an error naming the type, the object and what differs. */
gboolean seaftier_obj_id_check(SeaftierObjType type, const char *obj_id, const void *data,
                               gsize len, GError **error);

#endif
