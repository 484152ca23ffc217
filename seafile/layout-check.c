/*
 * layout-check.c — compile-time proof that seaftier/backend.h lays out
 * ObjBackend, BlockBackend and BMetadata exactly as seafile-server's
 * common/obj-backend.h, common/block-backend.h and common/block.h do.
 *
 * scripts/build-seaf-server.sh compiles it (-fsyntax-only) with
 * -I<seafile-server>/common before building seaf-server; a mismatch fails
 * the build there. seafile-server's headers come first under their own names;
 * seaftier's copies are then renamed by the macros below so both sets of
 * types exist side by side in one translation unit.
 */
#include <stddef.h>
#include <stdint.h>
#include <glib.h>

#include "obj-backend.h"
#include "block-backend.h"

#define ObjBackend             SeaftierCopyObjBackend
#define BlockBackend           SeaftierCopyBlockBackend
#define SeafObjFunc            SeaftierCopySeafObjFunc
#define SeafObjProgressFunc    SeaftierCopySeafObjProgressFunc
#define SeafBlockFunc          SeaftierCopySeafBlockFunc
#define SeafBlockProgressFunc  SeaftierCopySeafBlockProgressFunc
#define _BMetadata             SeaftierCopy_BMetadata
#define BMetadata              SeaftierCopyBMetadata
#define BlockMetadata          SeaftierCopyBlockMetadata
#define _BHandle               SeaftierCopy_BHandle
#define BHandle                SeaftierCopyBHandle
#define BlockHandle            SeaftierCopyBlockHandle
#define BLOCK_READ             SEAFTIER_COPY_BLOCK_READ
#define BLOCK_WRITE            SEAFTIER_COPY_BLOCK_WRITE
/* The prototypes of seaftier's constructors would clash with nothing, but
 * they name the renamed structs: rename them too. */
#define obj_backend_tier_new   seaftier_copy_obj_backend_tier_new
#define obj_backend_tier_free  seaftier_copy_obj_backend_tier_free
#define block_backend_tier_new seaftier_copy_block_backend_tier_new
#define block_backend_tier_free seaftier_copy_block_backend_tier_free
#include <seaftier/backend.h>
#undef ObjBackend
#undef BlockBackend
#undef _BMetadata
#undef BMetadata
#undef BLOCK_READ
#undef BLOCK_WRITE

#define SAME_SIZE(seafile, ours) \
    _Static_assert(sizeof(seafile) == sizeof(ours), "sizeof " #seafile " differs")
#define SAME_MEMBER(seafile, ours, member)                                       \
    _Static_assert(offsetof(seafile, member) == offsetof(ours, member),          \
                   "offset of " #seafile "." #member " differs");                \
    _Static_assert(sizeof(((seafile *)0)->member) == sizeof(((ours *)0)->member), \
                   "size of " #seafile "." #member " differs")

SAME_SIZE(struct ObjBackend, struct SeaftierCopyObjBackend);
SAME_MEMBER(struct ObjBackend, struct SeaftierCopyObjBackend, read);
SAME_MEMBER(struct ObjBackend, struct SeaftierCopyObjBackend, write);
SAME_MEMBER(struct ObjBackend, struct SeaftierCopyObjBackend, exists);
SAME_MEMBER(struct ObjBackend, struct SeaftierCopyObjBackend, delete);
SAME_MEMBER(struct ObjBackend, struct SeaftierCopyObjBackend, foreach_obj);
SAME_MEMBER(struct ObjBackend, struct SeaftierCopyObjBackend, copy);
SAME_MEMBER(struct ObjBackend, struct SeaftierCopyObjBackend, remove_store);
SAME_MEMBER(struct ObjBackend, struct SeaftierCopyObjBackend, priv);

SAME_SIZE(struct BlockBackend, struct SeaftierCopyBlockBackend);
SAME_MEMBER(struct BlockBackend, struct SeaftierCopyBlockBackend, open_block);
SAME_MEMBER(struct BlockBackend, struct SeaftierCopyBlockBackend, read_block);
SAME_MEMBER(struct BlockBackend, struct SeaftierCopyBlockBackend, write_block);
SAME_MEMBER(struct BlockBackend, struct SeaftierCopyBlockBackend, commit_block);
SAME_MEMBER(struct BlockBackend, struct SeaftierCopyBlockBackend, close_block);
SAME_MEMBER(struct BlockBackend, struct SeaftierCopyBlockBackend, exists);
SAME_MEMBER(struct BlockBackend, struct SeaftierCopyBlockBackend, remove_block);
SAME_MEMBER(struct BlockBackend, struct SeaftierCopyBlockBackend, stat_block);
SAME_MEMBER(struct BlockBackend, struct SeaftierCopyBlockBackend, stat_block_by_handle);
SAME_MEMBER(struct BlockBackend, struct SeaftierCopyBlockBackend, block_handle_free);
SAME_MEMBER(struct BlockBackend, struct SeaftierCopyBlockBackend, foreach_block);
SAME_MEMBER(struct BlockBackend, struct SeaftierCopyBlockBackend, copy);
SAME_MEMBER(struct BlockBackend, struct SeaftierCopyBlockBackend, remove_store);
SAME_MEMBER(struct BlockBackend, struct SeaftierCopyBlockBackend, be_priv);

SAME_SIZE(struct _BMetadata, struct SeaftierCopy_BMetadata);
SAME_MEMBER(struct _BMetadata, struct SeaftierCopy_BMetadata, id);
SAME_MEMBER(struct _BMetadata, struct SeaftierCopy_BMetadata, size);

_Static_assert((int)BLOCK_READ == (int)SEAFTIER_COPY_BLOCK_READ, "BLOCK_READ differs");
_Static_assert((int)BLOCK_WRITE == (int)SEAFTIER_COPY_BLOCK_WRITE, "BLOCK_WRITE differs");

/* The callback types must take the same arguments: a function of seafile's
 * type is assignable to ours only if they are compatible. */
_Static_assert(__builtin_types_compatible_p(SeafObjFunc, SeaftierCopySeafObjFunc),
               "SeafObjFunc differs");
_Static_assert(__builtin_types_compatible_p(SeafObjProgressFunc, SeaftierCopySeafObjProgressFunc),
               "SeafObjProgressFunc differs");
_Static_assert(__builtin_types_compatible_p(SeafBlockFunc, SeaftierCopySeafBlockFunc),
               "SeafBlockFunc differs");
_Static_assert(__builtin_types_compatible_p(SeafBlockProgressFunc,
                                            SeaftierCopySeafBlockProgressFunc),
               "SeafBlockProgressFunc differs");
