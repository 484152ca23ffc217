/*
 * lib/backend/block.c — Seafile's BlockBackend over the tier.
 *
 * A write handle buffers the block in memory (Seafile blocks are at most a
 * few MiB — 8 MiB by default, larger with a custom block size; the tier
 * takes an object as one buffer anyway) and stores it at commit, durably:
 * Seafile treats a committed block as safe. A read handle streams a block
 * the tier holds (seaftier_tier_stream_*: each 64 KiB piece decoded into
 * seaf-server's buffer and checked there), or holds the whole block fetched
 * from S3 at open. A piece of a tier copy that fails its check mid-stream is
 * repaired like a damaged copy at open — fetched from S3 (the tier drops
 * the bad copy and keeps the new one) — and the read goes on at the same
 * offset from the fetched bytes, once they prove to be the same block (size
 * and CRC32C); a block S3 does not hold (dirty) fails instead.
 *
 * Seafile's call orders: open(WRITE) → write_block… → close_block →
 * commit_block → block_handle_free (commit comes after close, as in
 * seaf-server's do_write_chunk), and open(READ) → read_block until 0 →
 * close_block → block_handle_free. Anything else that makes no sense (read
 * on a write handle, write after close or commit, commit twice, commit of a
 * read handle) fails with -1 and a log line.
 */
#include "seaftier-build.h"

#include "backend/common.h"

#include <seaftier/log.h>

#include <limits.h>
#include <string.h>

/* BMetadata.size is a uint32_t: no block may be larger. */
#define BLOCK_MAX_SIZE ((gsize)UINT32_MAX)

struct _BHandle {
    int rw_type;
    gboolean closed;
    gboolean committed;
    char store_id[37];
    char block_id[41];
    SeaftierTierStream *stream; /* read from the tier (else: data) */
    guint8 *data;           /* write: the buffer; read: the block fetched from S3 */
    gsize len;              /* bytes in data (read: the block's size) */
    gsize cap;              /* write: allocated bytes */
    gsize pos;              /* read: next byte to return */
};

#define SHARED(bend) ((SeaftierBackendShared *)(bend)->be_priv)
#define BLOCKS SEAFTIER_TYPE_BLOCKS

static gboolean
handle_ok(BHandle *h, int rw_type, const char *op)
{
    if (!h) {
        seaftier_error("%s: NULL block handle", op);
        return FALSE;
    }
    if (h->rw_type != rw_type) {
        seaftier_error("%s %s/%s: the handle was opened for %s", op, h->store_id, h->block_id,
                       h->rw_type == BLOCK_READ ? "reading" : "writing");
        return FALSE;
    }
    return TRUE;
}

static BHandle *
block_open(BlockBackend *bend, const char *store_id, int version, const char *block_id,
           int rw_type)
{
    if (!seaftier_be_check_ids("open_block", store_id, block_id))
        return NULL;
    if (rw_type != BLOCK_READ && rw_type != BLOCK_WRITE) {
        seaftier_error("open_block %s/%s: unknown mode %d", store_id, block_id, rw_type);
        return NULL;
    }
    BHandle *h = g_new0(BHandle, 1);
    h->rw_type = rw_type;
    memcpy(h->store_id, store_id, 36);
    memcpy(h->block_id, block_id, 40);
    if (rw_type == BLOCK_READ) {
        SeaftierBackendShared *sh = SHARED(bend);
        GError *err = NULL;
        h->stream = seaftier_tier_stream_open(sh->site->tier, BLOCKS, store_id, block_id, &err);
        if (h->stream) {
            h->len = seaftier_tier_stream_size(h->stream);
        } else {
            void *data = NULL;
            if (!seaftier_be_read_after_miss(sh, BLOCKS, store_id, block_id, err, &data,
                                             &h->len)) {
                g_free(h);
                return NULL;
            }
            h->data = data;
        }
    }
    return h;
}

/* A read of the tier's copy failed (`err`, taken over): go on from the
 * same offset with the block fetched from S3 when S3 holds the very same
 * bytes; FALSE (logged) otherwise. */
static gboolean
switch_to_fetched(BlockBackend *bend, BHandle *h, GError *err)
{
    if (!seaftier_tier_stream_refetchable(h->stream)) {
        seaftier_error("read_block %s/%s: %s", h->store_id, h->block_id, err->message);
        g_error_free(err);
        return FALSE;
    }
    void *data = NULL;
    gsize len = 0;
    if (!seaftier_be_read_after_miss(SHARED(bend), BLOCKS, h->store_id, h->block_id, err, &data,
                                     &len)) {
        seaftier_error("read_block %s/%s: the local copy is damaged and could not be fetched "
                       "again", h->store_id, h->block_id);
        return FALSE;
    }
    if (!seaftier_tier_stream_matches(h->stream, data, len)) {
        seaftier_error("read_block %s/%s: the copy fetched from S3 (%" G_GSIZE_FORMAT " bytes) "
                       "is not the block being read (size or CRC32C differ)", h->store_id,
                       h->block_id, len);
        g_free(data);
        return FALSE;
    }
    h->pos = (gsize)seaftier_tier_stream_pos(h->stream);
    seaftier_tier_stream_close(h->stream);
    h->stream = NULL;
    h->data = data;
    h->len = len;
    return TRUE;
}

static int
block_read(BlockBackend *bend, BHandle *h, void *buf, int len)
{
    if (!handle_ok(h, BLOCK_READ, "read_block"))
        return -1;
    if (h->closed || len < 0 || (!buf && len > 0)) {
        seaftier_error("read_block %s/%s: %s", h->store_id, h->block_id,
                       h->closed ? "handle already closed" : "invalid buffer");
        return -1;
    }
    if (h->stream) {
        GError *err = NULL;
        gssize got = seaftier_tier_stream_read(h->stream, buf, (gsize)len, &err);
        if (got >= 0)
            return (int)got;
        if (!switch_to_fetched(bend, h, err))
            return -1;
    }
    gsize n = MIN((gsize)len, h->len - h->pos);
    if (n > 0)
        memcpy(buf, h->data + h->pos, n);
    h->pos += n;
    return (int)n;
}

static int
block_write(BlockBackend *bend, BHandle *h, const void *buf, int len)
{
    if (!handle_ok(h, BLOCK_WRITE, "write_block"))
        return -1;
    if (h->closed || h->committed || len < 0 || (!buf && len > 0)) {
        seaftier_error("write_block %s/%s: %s", h->store_id, h->block_id,
                       h->committed ? "block already committed"
                       : h->closed  ? "handle already closed"
                                    : "invalid buffer");
        return -1;
    }
    if ((gsize)len > BLOCK_MAX_SIZE - h->len) {
        seaftier_error("write_block %s/%s: a block cannot exceed %" G_GSIZE_FORMAT " bytes",
                       h->store_id, h->block_id, BLOCK_MAX_SIZE);
        return -1;
    }
    if (h->len + (gsize)len > h->cap) {
        gsize cap = MAX(h->cap, 64 * 1024);
        while (cap < h->len + (gsize)len)
            cap *= 2;
        h->data = g_realloc(h->data, cap);
        h->cap = cap;
    }
    if (len > 0)
        memcpy(h->data + h->len, buf, (gsize)len);
    h->len += (gsize)len;
    return len;
}

static int
block_commit(BlockBackend *bend, BHandle *h)
{
    if (!handle_ok(h, BLOCK_WRITE, "commit_block"))
        return -1;
    if (h->committed) {
        seaftier_error("commit_block %s/%s: already committed", h->store_id, h->block_id);
        return -1;
    }
    if (!seaftier_be_write(SHARED(bend), BLOCKS, h->store_id, h->block_id, h->data, h->len,
                           TRUE))
        return -1;
    h->committed = TRUE;
    /* The tier has the bytes now; keep only the length for stat. */
    g_free(h->data);
    h->data = NULL;
    h->cap = 0;
    return 0;
}

static int
block_close(BlockBackend *bend, BHandle *h)
{
    if (!h) {
        seaftier_error("close_block: NULL block handle");
        return -1;
    }
    if (h->closed) {
        seaftier_error("close_block %s/%s: already closed", h->store_id, h->block_id);
        return -1;
    }
    h->closed = TRUE;
    /* (the file and buffers of a read are not needed any more) */
    seaftier_tier_stream_close(h->stream);
    h->stream = NULL;
    return 0;
}

static int
block_exists(BlockBackend *bend, const char *store_id, int version, const char *block_id)
{
    return seaftier_be_exists(SHARED(bend), BLOCKS, store_id, block_id) ? 1 : 0;
}

static int
block_remove(BlockBackend *bend, const char *store_id, int version, const char *block_id)
{
    return seaftier_be_delete(SHARED(bend), BLOCKS, store_id, block_id) ? 0 : -1;
}

static BMetadata *
metadata_new(const char *block_id, guint64 size)
{
    if (size > BLOCK_MAX_SIZE)
        return NULL;
    BMetadata *md = g_new0(BMetadata, 1);
    memcpy(md->id, block_id, 40);
    md->size = (uint32_t)size;
    return md;
}

static BMetadata *
block_stat(BlockBackend *bend, const char *store_id, int version, const char *block_id)
{
    guint64 size;
    if (!seaftier_be_size(SHARED(bend), BLOCKS, store_id, block_id, &size))
        return NULL;
    return metadata_new(block_id, size);
}

static BMetadata *
block_stat_by_handle(BlockBackend *bend, BHandle *h)
{
    if (!h) {
        seaftier_error("stat_block_by_handle: NULL block handle");
        return NULL;
    }
    /* Like fstat() on the fs backend's temp file: the bytes written so far. */
    return metadata_new(h->block_id, h->len);
}

static void
block_handle_free(BlockBackend *bend, BHandle *h)
{
    if (!h)
        return;
    /* An uncommitted write simply vanishes: nothing reached the tier. */
    seaftier_tier_stream_close(h->stream);
    g_free(h->data);
    g_free(h);
}

typedef struct {
    SeafBlockFunc process;
    int version;
    void *user_data;
} BlockForeach;

static gboolean
block_foreach_cb(const char *store_id, const char *block_id, void *user_data)
{
    BlockForeach *f = user_data;
    return f->process(store_id, f->version, block_id, f->user_data);
}

static int
block_foreach(BlockBackend *bend, const char *store_id, int version, SeafBlockFunc process,
              void *user_data)
{
    if (!process)
        return -1;
    BlockForeach f = { process, version, user_data };
    return seaftier_be_foreach(SHARED(bend), BLOCKS, store_id, block_foreach_cb, &f) ? 0 : -1;
}

static int
block_copy(BlockBackend *bend, const char *src_store_id, int src_version,
           const char *dst_store_id, int dst_version, const char *block_id)
{
    return seaftier_be_copy(SHARED(bend), BLOCKS, src_store_id, dst_store_id, block_id) ? 0 : -1;
}

static int
block_remove_store(BlockBackend *bend, const char *store_id, SeafBlockProgressFunc progress_cb,
                   void *user_data)
{
    return seaftier_be_remove_store(SHARED(bend), BLOCKS, store_id, progress_cb, user_data) ? 0
                                                                                           : -1;
}

BlockBackend *
block_backend_tier_new(const char *seaf_dir, GKeyFile *config, GError **error)
{
    SeaftierBackendShared *sh = seaftier_backend_shared_get(seaf_dir, config, error);
    if (!sh)
        return NULL;
    BlockBackend *bend = g_new0(BlockBackend, 1);
    bend->open_block = block_open;
    bend->read_block = block_read;
    bend->write_block = block_write;
    bend->commit_block = block_commit;
    bend->close_block = block_close;
    bend->exists = block_exists;
    bend->remove_block = block_remove;
    bend->stat_block = block_stat;
    bend->stat_block_by_handle = block_stat_by_handle;
    bend->block_handle_free = block_handle_free;
    bend->foreach_block = block_foreach;
    bend->copy = block_copy;
    bend->remove_store = block_remove_store;
    bend->be_priv = sh;
    return bend;
}

void
block_backend_tier_free(BlockBackend *bend)
{
    if (!bend)
        return;
    seaftier_backend_shared_unref(SHARED(bend));
    g_free(bend);
}

SeaftierBackendShared *
seaftier_block_backend_shared(BlockBackend *bend)
{
    return SHARED(bend);
}
