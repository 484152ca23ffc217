/* lib/tier/stream.c — streaming reads (tier.h: seaftier_tier_stream_*).
 *
 * A stream over a piece file (pieces.h) keeps the file open (an eviction or
 * a new version renames or unlinks the name, never the inode) and its
 * checked piece table. A read puts a raw piece straight into the caller's
 * buffer when the buffer holds the whole piece from its start, and checks
 * the piece's CRC32C there, while it is in the CPU cache; an lz4 piece is
 * decoded right after its dictionary (the previous piece) in the stream's
 * window, checked there and copied; so is any piece the caller reads only
 * part of. A piece's bytes are handed over only after its check. Objects in another form (the
 * RAM tier, inline in the index, files of the first format) are read whole
 * at open, checked as tier_read checks them, and served from memory.
 */
#include "seaftier-build.h"

#include "tier/tier-private.h"
#include "tier/crc32c.h"
#include "tier/pieces.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

/* Slots of the decode window: a piece is moved back to slot 0 once every
 * WINDOW_SLOTS - 1 lz4 pieces, to stay right before the next one. */
#define WINDOW_SLOTS 4
/* At most this many stored bytes of consecutive lz4 pieces are read with
 * one pread. */
#define READAHEAD (2 * SEAFTIER_PIECE_SIZE)

struct _SeaftierTierStream {
    SeaftierTier *tier;
    SeaftierObjType type;
    char repo_id[37];
    char obj_id[41];
    guint64 size;
    guint64 pos;            /* next byte to hand over */
    guint8 *data;           /* memory mode: the whole object */
    /* file mode (fd >= 0) */
    int fd;
    char *path;
    TierRow row;
    SeaftierPieceFile pf;
    /* WINDOW_SLOTS pieces: an lz4 piece is decoded in the slot right after
     * the one holding its dictionary, the previous piece (lz4's fast prefix
     * case); so is a piece the caller reads only part of, and it is served
     * from there. */
    guint8 *win;
    guint64 win_index;      /* the last piece put in the window (G_MAXUINT64: none) */
    int win_slot;           /* … and its slot */
    /* stored bytes of consecutive lz4 pieces, read at once */
    guint8 *ra;
    guint64 ra_off, ra_len; /* the range of the file they are */
    GError *failure;        /* a piece failed: every later read fails with this */
};

static SeaftierTierStream *
stream_new(SeaftierTier *tier, SeaftierObjType type, const char *repo_id, const char *obj_id)
{
    SeaftierTierStream *s = g_new0(SeaftierTierStream, 1);
    s->tier = tier;
    s->type = type;
    g_strlcpy(s->repo_id, repo_id, sizeof(s->repo_id));
    g_strlcpy(s->obj_id, obj_id, sizeof(s->obj_id));
    s->fd = -1;
    s->win_index = G_MAXUINT64;
    return s;
}

int
seaftier_tier_stream_open_file(SeaftierTier *tier, SeaftierObjType type, const char *repo_id,
                               const char *obj_id, const TierRow *row,
                               SeaftierTierStream **stream, const char **problem,
                               GError **error)
{
    char *path = seaftier_tier_file_path(tier, type, repo_id, obj_id, row->generation);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int err = errno;
        if (err != ENOENT)
            g_set_error(error, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_IO, "cannot open %s: %s",
                        path, g_strerror(err));
        g_free(path);
        return err == ENOENT ? 0 : -2;
    }
    SeaftierTierStream *s = stream_new(tier, type, repo_id, obj_id);
    int r = seaftier_piece_file_open(&s->pf, fd, path, row->size, row->checksum,
                                     row->stored_size, problem, error);
    s->fd = fd;
    s->path = path;
    s->row = *row;
    s->size = row->size;
    if (r != 1) {
        seaftier_tier_stream_close(s);
        return r;
    }
    *stream = s;
    return 1;
}

SeaftierTierStream *
seaftier_tier_stream_open(SeaftierTier *tier, SeaftierObjType type, const char *repo_id,
                          const char *obj_id, GError **error)
{
    SeaftierTierStream *s = NULL;
    void *data = NULL;
    gsize len = 0;
    if (!seaftier_tier_read_or_stream(tier, type, repo_id, obj_id, &data, &len, &s, error))
        return NULL;
    if (s)
        return s;
    s = stream_new(tier, type, repo_id, obj_id);
    s->data = data;
    s->size = len;
    return s;
}

guint64
seaftier_tier_stream_size(const SeaftierTierStream *s)
{
    return s->size;
}

guint64
seaftier_tier_stream_pos(const SeaftierTierStream *s)
{
    return s->pos;
}

gboolean
seaftier_tier_stream_refetchable(const SeaftierTierStream *s)
{
    return s->fd >= 0 && (s->row.state == SEAFTIER_STATE_CLEAN || s->row.uploaded);
}

gboolean
seaftier_tier_stream_matches(const SeaftierTierStream *s, const void *data, gsize len)
{
    if (s->fd < 0)
        return FALSE;
    return len == s->size && seaftier_crc32c(0, data, len) == s->row.checksum;
}

/* A piece failed (-1: damaged, -2: I/O error in *err): logged naming the
 * piece; a damaged copy is handled as a whole read handles one (a clean copy
 * dropped, a dirty one kept and reported). Every later read fails too. */
static void
piece_failed(SeaftierTierStream *s, guint64 p, int r, const char *problem, GError *err)
{
    guint64 start = p << SEAFTIER_PIECE_SHIFT;
    const char *tname = seaftier_tier_type_dir(s->type);
    if (r == -2) {
        seaftier_error("%s/%s/%s: piece %" G_GUINT64_FORMAT " (bytes %" G_GUINT64_FORMAT "-%"
                       G_GUINT64_FORMAT ") unreadable: %s", tname, s->repo_id, s->obj_id, p,
                       start, start + seaftier_piece_len(&s->pf, p) - 1, err->message);
        s->failure = err;
        return;
    }
    seaftier_log(s->row.state == SEAFTIER_STATE_CLEAN ? SEAFTIER_LOG_WARNING : SEAFTIER_LOG_ERROR,
                 "%s %s/%s/%s: piece %" G_GUINT64_FORMAT " (bytes %" G_GUINT64_FORMAT "-%"
                 G_GUINT64_FORMAT ") of the local copy is damaged (%s); none of its bytes "
                 "were served", seaftier_state_name(s->row.state), tname, s->repo_id, s->obj_id,
                 p, start, start + seaftier_piece_len(&s->pf, p) - 1, problem);
    seaftier_tier_bad_copy(s->tier, s->type, s->repo_id, s->obj_id, &s->row, FALSE, problem,
                           &s->failure);
    if (!s->failure)
        g_set_error(&s->failure, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_CORRUPT,
                    "%s/%s/%s: piece %" G_GUINT64_FORMAT " of the local copy is damaged (%s)",
                    tname, s->repo_id, s->obj_id, p, problem);
}

static guint8 *
slot(SeaftierTierStream *s, int k)
{
    if (!s->win)
        s->win = g_malloc(WINDOW_SLOTS * SEAFTIER_PIECE_SIZE);
    return s->win + (gsize)k * SEAFTIER_PIECE_SIZE;
}

/* The stored bytes of lz4 piece `p`, from the read-ahead buffer (filled
 * from `p` on over the lz4 pieces that follow it, up to READAHEAD bytes).
 * NULL when the read failed (*r, *problem or *err set). */
static const guint8 *
stored_bytes(SeaftierTierStream *s, guint64 p, int *r, const char **problem, GError **err)
{
    const SeaftierPiece *pc = &s->pf.pieces[p];
    if (pc->offset >= s->ra_off && pc->offset + pc->stored <= s->ra_off + s->ra_len)
        return s->ra + (pc->offset - s->ra_off);
    if (!s->ra)
        s->ra = g_malloc(READAHEAD);
    guint64 end = pc->offset + pc->stored;
    for (guint64 q = p + 1; q < s->pf.n && s->pf.pieces[q].lz4 &&
                            end + s->pf.pieces[q].stored - pc->offset <= READAHEAD; q++)
        end += s->pf.pieces[q].stored;
    s->ra_len = 0;
    *r = seaftier_piece_pread(&s->pf, s->ra, end - pc->offset, pc->offset, s->path, problem,
                              err);
    if (*r != 1)
        return NULL;
    s->ra_off = pc->offset;
    s->ra_len = end - pc->offset;
    return s->ra;
}

/* Reads and checks piece `p` into `direct` (the caller's buffer, which holds
 * the whole piece; raw pieces only) or else into the window; FALSE when it
 * failed (s->failure). A stream moves forward only, and each piece is read
 * once, so an lz4 piece finds the previous one in the window: put there when
 * it was read into the window, copied there when it went to the caller. */
static gboolean
read_piece(SeaftierTierStream *s, guint64 p, guint8 *direct)
{
    const SeaftierPiece *pc = &s->pf.pieces[p];
    const char *problem = NULL;
    GError *err = NULL;
    int r = -1;
    if (direct) {
        r = seaftier_piece_pread(&s->pf, direct, pc->stored, pc->offset, s->path, &problem, &err);
        if (r == 1)
            r = seaftier_piece_check(&s->pf, p, direct, &problem);
        if (r == 1 && p + 1 < s->pf.n && seaftier_piece_needs_dict(&s->pf, p + 1)) {
            /* the next piece's dictionary, before the caller owns its buffer again */
            memcpy(slot(s, 0), direct, SEAFTIER_PIECE_SIZE);
            s->win_index = p;
            s->win_slot = 0;
        }
    } else {
        gboolean have_prev = p > 0 && s->win_index == p - 1;
        g_assert(have_prev || !seaftier_piece_needs_dict(&s->pf, p));
        int t = 0;
        if (have_prev && s->win_slot + 1 < WINDOW_SLOTS) {
            t = s->win_slot + 1;
        } else if (have_prev && pc->lz4) {
            memcpy(slot(s, 0), slot(s, s->win_slot), SEAFTIER_PIECE_SIZE);
            t = 1;
        }
        guint8 *dst = slot(s, t);
        s->win_index = G_MAXUINT64;
        if (pc->lz4) {
            const guint8 *stored = stored_bytes(s, p, &r, &problem, &err);
            if (stored)
                r = seaftier_piece_decode(&s->pf, p, stored, dst,
                                          p ? dst - SEAFTIER_PIECE_SIZE : NULL, &problem);
        } else {
            r = seaftier_piece_pread(&s->pf, dst, pc->stored, pc->offset, s->path, &problem,
                                     &err);
            if (r == 1)
                r = seaftier_piece_check(&s->pf, p, dst, &problem);
        }
        if (r == 1) {
            s->win_index = p;
            s->win_slot = t;
        }
    }
    if (r != 1) {
        piece_failed(s, p, r, problem, err);
        return FALSE;
    }
    return TRUE;
}

gssize
seaftier_tier_stream_read(SeaftierTierStream *s, void *buf, gsize len, GError **error)
{
    if (s->failure) {
        g_propagate_error(error, g_error_copy(s->failure));
        return -1;
    }
    guint8 *out = buf;
    gsize done = 0;
    len = MIN(len, (gsize)G_MAXSSIZE);
    if (s->fd < 0) {
        done = (gsize)MIN((guint64)len, s->size - s->pos);
        if (done)
            memcpy(out, s->data + s->pos, done);
        s->pos += done;
        return (gssize)done;
    }
    while (done < len && s->pos < s->size) {
        guint64 p = s->pos >> SEAFTIER_PIECE_SHIFT;
        gsize in = (gsize)(s->pos & (SEAFTIER_PIECE_SIZE - 1));
        gsize plen = seaftier_piece_len(&s->pf, p);
        if (s->win_index != p) {
            /* A raw piece the caller's buffer holds whole goes straight
             * there and is checked there. An lz4 piece is decoded next to
             * its dictionary (decoding with a dictionary elsewhere was
             * slower than decoding there and copying the checked piece). */
            if (in == 0 && len - done >= plen && !s->pf.pieces[p].lz4) {
                if (!read_piece(s, p, out + done)) {
                    memset(out + done, 0, plen);    /* (never served, but leave no trace) */
                    break;
                }
                done += plen;
                s->pos += plen;
                continue;
            }
            if (!read_piece(s, p, NULL))
                break;
        }
        gsize n = MIN(plen - in, len - done);
        memcpy(out + done, slot(s, s->win_slot) + in, n);
        done += n;
        s->pos += n;
    }
    if (s->failure && done == 0) {
        g_propagate_error(error, g_error_copy(s->failure));
        return -1;
    }
    /* (a failure after some checked bytes: those are returned now, the
     * failure with the next read) */
    return (gssize)done;
}

void
seaftier_tier_stream_close(SeaftierTierStream *s)
{
    if (!s)
        return;
    if (s->fd >= 0)
        close(s->fd);
    seaftier_piece_file_clear(&s->pf);
    g_free(s->path);
    g_free(s->win);
    g_free(s->ra);
    g_free(s->data);
    if (s->failure)
        g_error_free(s->failure);
    g_free(s);
}
