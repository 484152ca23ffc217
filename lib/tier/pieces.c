/* lib/tier/pieces.c — see pieces.h: encoding an object into a piece file,
 * checking a piece file's table, reading one piece. */
#include "seaftier-build.h"

#include "tier/pieces.h"
#include "tier/codec.h"
#include "tier/crc32c.h"
#include "tier/tier.h"

#include <errno.h>
#include <lz4.h>
#include <string.h>
#include <unistd.h>

static const char piece_magic[4] = { 'S', 'T', 'F', '2' };
#define PIECE_FORMAT_VERSION 2
#define STORED_LZ4 0x80000000u
/* One pread at open covers the header and the table of objects up to
 * (4096 - 24) / 8 pieces (31.8 MiB); larger tables take a second read. */
#define HEAD_READ 4096

static void
put_le32(guint8 *p, guint32 v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (guint8)(v >> (8 * i));
}

static void
put_le64(guint8 *p, guint64 v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (guint8)(v >> (8 * i));
}

static guint32
get_le32(const guint8 *p)
{
    return (guint32)p[0] | (guint32)p[1] << 8 | (guint32)p[2] << 16 | (guint32)p[3] << 24;
}

static guint64
get_le64(const guint8 *p)
{
    return (guint64)get_le32(p) | (guint64)get_le32(p + 4) << 32;
}

/* The CRC32C of a whole object from its pieces' CRCs. */
static guint32
combine_pieces(const guint32 *crcs, guint64 n, guint64 size)
{
    static gsize once;
    static guint32 full_op;
    if (g_once_init_enter(&once)) {
        full_op = seaftier_crc32c_shift_op(SEAFTIER_PIECE_SIZE);
        g_once_init_leave(&once, 1);
    }
    guint32 crc = 0;
    for (guint64 p = 0; p < n; p++) {
        guint64 plen = MIN(SEAFTIER_PIECE_SIZE, size - (p << SEAFTIER_PIECE_SHIFT));
        crc = plen == SEAFTIER_PIECE_SIZE ? seaftier_crc32c_combine_op(crc, crcs[p], full_op)
                                          : seaftier_crc32c_combine(crc, crcs[p], plen);
    }
    return crc;
}

gboolean
seaftier_pieces_encode(const void *data, gsize len, guint32 checksum, gboolean compress,
                       SeaftierPiecesOut *out, GError **error)
{
    memset(out, 0, sizeof(*out));
    const guint8 *src = data;
    guint64 n = seaftier_pieces_count(len);
    gsize head_len = SEAFTIER_FILE_HEADER_LEN + (gsize)n * SEAFTIER_PIECE_ENTRY_LEN;
    out->head = g_malloc0(head_len);
    out->pieces = n;
    guint32 *crcs = g_new(guint32, n ? n : 1);
    /* iovecs: the head, then at most one per piece */
    out->iov = g_new(struct iovec, n + 1);
    out->iov[0] = (struct iovec){ out->head, head_len };
    out->iov_n = 1;
    /* lz4 output goes to scratch first: a piece that does not save enough
     * costs no growth of `packed`. `packed` never outgrows `len`. The pieces
     * go through one lz4 stream over the contiguous data, so each piece is
     * compressed with the previous piece's original bytes as its dictionary
     * (lz4's window is 64 KiB: one piece), whether that one ends up stored
     * raw or lz4. The output is never limited: a limited call that fails
     * leaves the stream unusable, and the choice is made from the size. */
    int bound = LZ4_compressBound((int)SEAFTIER_PIECE_SIZE);
    char *scratch = compress ? g_malloc((gsize)bound) : NULL;
    LZ4_stream_t *lz = compress ? LZ4_createStream() : NULL;
    gsize packed_len = 0;
    /* Where each lz4 piece lands in `packed`, to point the iovecs at it once
     * `packed` has stopped moving. */
    gsize *packed_at = g_new(gsize, n ? n : 1);
    guint32 *stored = g_new(guint32, n ? n : 1);
    for (guint64 p = 0; p < n; p++) {
        gsize start = (gsize)p << SEAFTIER_PIECE_SHIFT;
        gsize plen = MIN(SEAFTIER_PIECE_SIZE, len - start);
        crcs[p] = seaftier_crc32c(0, src + start, plen);
        stored[p] = (guint32)plen;
        if (!lz)
            continue;
        int z = LZ4_compress_fast_continue(lz, (const char *)src + start, scratch, (int)plen,
                                           bound, 1);
        /* Tiny pieces cannot save a quarter worth the decode call. */
        if (plen >= 64 && z > 0 && (gsize)z <= plen - plen / SEAFTIER_CODEC_MIN_SAVING) {
            if (!out->packed)
                out->packed = g_malloc(len);
            memcpy(out->packed + packed_len, scratch, (gsize)z);
            packed_at[p] = packed_len;
            packed_len += (gsize)z;
            stored[p] = (guint32)z | STORED_LZ4;
            out->lz4_pieces++;
        }
    }
    if (lz)
        LZ4_freeStream(lz);
    g_free(scratch);
    guint64 file_len = head_len;
    for (guint64 p = 0; p < n; p++) {
        gsize start = (gsize)p << SEAFTIER_PIECE_SHIFT;
        guint32 slen = stored[p] & ~STORED_LZ4;
        guint8 *entry = out->head + SEAFTIER_FILE_HEADER_LEN + p * SEAFTIER_PIECE_ENTRY_LEN;
        put_le32(entry, stored[p]);
        put_le32(entry + 4, crcs[p]);
        struct iovec *last = &out->iov[out->iov_n - 1];
        const guint8 *at = stored[p] & STORED_LZ4 ? out->packed + packed_at[p] : src + start;
        if (out->iov_n > 1 && (const guint8 *)last->iov_base + last->iov_len == at)
            last->iov_len += slen;      /* contiguous with the previous piece */
        else
            out->iov[out->iov_n++] = (struct iovec){ (void *)at, slen };
        file_len += slen;
    }
    out->file_len = file_len;
    memcpy(out->head, piece_magic, 4);
    out->head[4] = PIECE_FORMAT_VERSION;
    out->head[5] = SEAFTIER_CODEC_PIECES;
    out->head[6] = SEAFTIER_PIECE_SHIFT;
    put_le32(out->head + 8, checksum);
    put_le32(out->head + 12, (guint32)n);
    put_le64(out->head + 16, len);
    gboolean ok = combine_pieces(crcs, n, len) == checksum;
    g_free(crcs);
    g_free(packed_at);
    g_free(stored);
    if (!ok) {
        seaftier_pieces_out_clear(out);
        g_set_error(error, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_IO,
                    "the object's bytes changed while they were being stored");
    }
    return ok;
}

void
seaftier_pieces_out_clear(SeaftierPiecesOut *out)
{
    g_free(out->iov);
    g_free(out->head);
    g_free(out->packed);
    memset(out, 0, sizeof(*out));
}

/* pread of exactly `len` bytes: 1, 0 when the file ends first, -1 on an
 * error (errno). */
static int
pread_full(int fd, void *buf, gsize len, guint64 off)
{
    guint8 *p = buf;
    while (len) {
        ssize_t r = pread(fd, p, len, (off_t)off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            return 0;
        p += r;
        off += (guint64)r;
        len -= (gsize)r;
    }
    return 1;
}

static int
io_error(const char *path, int err, GError **error)
{
    g_set_error(error, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_IO, "cannot read %s: %s", path,
                g_strerror(err));
    return -2;
}

int
seaftier_piece_file_open(SeaftierPieceFile *pf, int fd, const char *path, guint64 size,
                         guint32 checksum, guint64 stored_size, const char **problem,
                         GError **error)
{
    memset(pf, 0, sizeof(*pf));
    pf->fd = fd;
    guint8 first[HEAD_READ];
    ssize_t got;
    do
        got = pread(fd, first, sizeof(first), 0);
    while (got < 0 && errno == EINTR);
    if (got < 0)
        return io_error(path, errno, error);
    guint64 n = seaftier_pieces_count(size);
    gsize head_len = SEAFTIER_FILE_HEADER_LEN + (gsize)n * SEAFTIER_PIECE_ENTRY_LEN;
    if ((gsize)got < SEAFTIER_FILE_HEADER_LEN || memcmp(first, piece_magic, 4) != 0 ||
        first[4] != PIECE_FORMAT_VERSION || first[5] != SEAFTIER_CODEC_PIECES ||
        first[6] != SEAFTIER_PIECE_SHIFT || get_le32(first + 8) != checksum ||
        get_le32(first + 12) != n || get_le64(first + 16) != size) {
        *problem = "file header differs from the index";
        return -1;
    }
    if (stored_size < head_len - SEAFTIER_FILE_HEADER_LEN) {
        *problem = "piece table larger than the file";
        return -1;
    }
    guint8 *table = first;
    guint8 *big = NULL;
    if ((gsize)got < head_len) {
        big = g_malloc(head_len);
        int r = pread_full(fd, big, head_len, 0);
        if (r <= 0) {
            int err = errno;
            g_free(big);
            if (r < 0)
                return io_error(path, err, error);
            *problem = "file shorter than its piece table";
            return -1;
        }
        table = big;
    }
    pf->size = size;
    pf->n = n;
    pf->pieces = g_new(SeaftierPiece, n ? n : 1);
    guint32 *crcs = g_new(guint32, n ? n : 1);
    guint64 offset = head_len;
    *problem = NULL;
    for (guint64 p = 0; p < n && !*problem; p++) {
        const guint8 *entry = table + SEAFTIER_FILE_HEADER_LEN + p * SEAFTIER_PIECE_ENTRY_LEN;
        guint32 word = get_le32(entry);
        SeaftierPiece *pc = &pf->pieces[p];
        pc->lz4 = (word & STORED_LZ4) != 0;
        pc->stored = word & ~STORED_LZ4;
        pc->crc = crcs[p] = get_le32(entry + 4);
        pc->offset = offset;
        gsize plen = seaftier_piece_len(pf, p);
        if (pc->lz4 ? pc->stored == 0 || pc->stored >= plen : pc->stored != plen)
            *problem = "piece table entry with an impossible length";
        offset += pc->stored;
    }
    g_free(big);
    if (!*problem && offset != stored_size + SEAFTIER_FILE_HEADER_LEN)
        *problem = "piece table does not add up to the file size in the index";
    if (!*problem && combine_pieces(crcs, n, size) != checksum)
        *problem = "piece checksums do not combine to the object's CRC32C";
    g_free(crcs);
    if (*problem) {
        seaftier_piece_file_clear(pf);
        return -1;
    }
    return 1;
}

void
seaftier_piece_file_clear(SeaftierPieceFile *pf)
{
    g_free(pf->pieces);
    pf->pieces = NULL;
    pf->n = 0;
}

int
seaftier_piece_decode(const SeaftierPieceFile *pf, guint64 p, const void *stored, void *dst,
                      const void *dict, const char **problem)
{
    const SeaftierPiece *pc = &pf->pieces[p];
    gsize plen = seaftier_piece_len(pf, p);
    g_assert(pc->lz4 && (!seaftier_piece_needs_dict(pf, p) || dict));
    /* (a dictionary right before `dst` is lz4's fast prefix case) */
    if (LZ4_decompress_safe_usingDict(stored, dst, (int)pc->stored, (int)plen, p ? dict : NULL,
                                      p ? (int)SEAFTIER_PIECE_SIZE : 0) != (int)plen) {
        *problem = "lz4 piece does not decode to the piece's size";
        return -1;
    }
    return seaftier_piece_check(pf, p, dst, problem);
}

int
seaftier_piece_check(const SeaftierPieceFile *pf, guint64 p, const void *piece,
                     const char **problem)
{
    if (seaftier_crc32c(0, piece, seaftier_piece_len(pf, p)) != pf->pieces[p].crc) {
        *problem = "CRC32C checksum mismatch";
        return -1;
    }
    return 1;
}

int
seaftier_piece_pread(const SeaftierPieceFile *pf, void *buf, gsize len, guint64 offset,
                     const char *path, const char **problem, GError **error)
{
    int r = pread_full(pf->fd, buf, len, offset);
    if (r < 0)
        return io_error(path, errno, error);
    if (r == 0) {
        *problem = "file shorter than its piece table";
        return -1;
    }
    return 1;
}

int
seaftier_piece_file_read(const SeaftierPieceFile *pf, guint64 p, void *dst, const void *dict,
                         void *scratch, const char *path, const char **problem, GError **error)
{
    const SeaftierPiece *pc = &pf->pieces[p];
    int r = seaftier_piece_pread(pf, pc->lz4 ? scratch : dst, pc->stored, pc->offset, path,
                                 problem, error);
    if (r != 1)
        return r;
    return pc->lz4 ? seaftier_piece_decode(pf, p, scratch, dst, dict, problem)
                   : seaftier_piece_check(pf, p, dst, problem);
}
