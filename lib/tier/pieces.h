/*
 * lib/tier/pieces.h — the piece file format ("STF2") of object files.
 *
 * An object is cut into pieces of SEAFTIER_PIECE_SIZE original bytes (the
 * last one shorter); each piece is stored raw or as an lz4 block (whose
 * dictionary is the previous piece's original bytes) and has its own
 * CRC32C, so a reader checks each piece while it is still in the CPU cache,
 * before handing it over. The byte layout is in lib/tier/README.md ("Object
 * files"). The CRC32C of the whole object (the index's checksum) is the
 * pieces' CRCs combined; a reader checks that at open, so a table that
 * passes names exactly the object the index row names.
 */
#ifndef SEAFTIER_TIER_PIECES_H
#define SEAFTIER_TIER_PIECES_H

#include <glib.h>
#include <sys/uio.h>

#define SEAFTIER_PIECE_SHIFT 16
#define SEAFTIER_PIECE_SIZE ((gsize)1 << SEAFTIER_PIECE_SHIFT)
/* Both file formats start with a header of this many bytes. */
#define SEAFTIER_FILE_HEADER_LEN 24
/* A table entry: le32 stored length (bit 31 set: lz4), le32 CRC32C. */
#define SEAFTIER_PIECE_ENTRY_LEN 8

/* The number of pieces of an object of `size` bytes. */
static inline guint64
seaftier_pieces_count(guint64 size)
{
    return (size + SEAFTIER_PIECE_SIZE - 1) >> SEAFTIER_PIECE_SHIFT;
}

/* An encoded object file, ready for writev: `iov` covers the header and
 * table, then the stored pieces (raw ones point into the caller's data,
 * which must outlive this; consecutive raw pieces share one iovec). */
typedef struct {
    struct iovec *iov;
    int iov_n;
    guint64 file_len;       /* bytes of the whole file */
    guint64 pieces, lz4_pieces;
    guint8 *head;           /* header + table (owned) */
    guint8 *packed;         /* the lz4 pieces, in order (owned) */
} SeaftierPiecesOut;

/* Encodes `len` bytes whose CRC32C is `checksum` (`len` >= 1). Each piece is
 * lz4-compressed (with the previous piece as dictionary) when `compress` and
 * lz4 saves at least 1/SEAFTIER_CODEC_MIN_SAVING of it, raw otherwise. FALSE (error set, out
 * cleared) when the pieces' CRCs do not combine to `checksum`: the data
 * changed while it was being stored. */
gboolean seaftier_pieces_encode(const void *data, gsize len, guint32 checksum, gboolean compress,
                                SeaftierPiecesOut *out, GError **error);
void seaftier_pieces_out_clear(SeaftierPiecesOut *out);

/* One piece's place in the file. */
typedef struct {
    guint64 offset;         /* of its stored bytes in the file */
    guint32 stored;         /* stored length */
    guint32 crc;            /* CRC32C of its original bytes */
    gboolean lz4;
} SeaftierPiece;

/* The checked table of an open piece file. */
typedef struct {
    int fd;                 /* not owned */
    guint64 size;           /* original bytes */
    guint64 n;              /* pieces */
    SeaftierPiece *pieces;
} SeaftierPieceFile;

/* Reads and checks the header and table of the piece file open on `fd`
 * against the index row: original `size`, `checksum` (CRC32C) and
 * `stored_size` (the file's length without its header). 1 when they agree,
 * -1 when the file is damaged (*problem: static text), -2 on an I/O error
 * (error set, naming `path`). */
int seaftier_piece_file_open(SeaftierPieceFile *pf, int fd, const char *path, guint64 size,
                             guint32 checksum, guint64 stored_size, const char **problem,
                             GError **error);
void seaftier_piece_file_clear(SeaftierPieceFile *pf);

/* The original length of piece `p`. */
static inline gsize
seaftier_piece_len(const SeaftierPieceFile *pf, guint64 p)
{
    guint64 start = p << SEAFTIER_PIECE_SHIFT;
    return (gsize)MIN(SEAFTIER_PIECE_SIZE, pf->size - start);
}

/* Whether piece `p` is decoded with the previous piece's original bytes as
 * its dictionary (every lz4 piece but the first). */
static inline gboolean
seaftier_piece_needs_dict(const SeaftierPieceFile *pf, guint64 p)
{
    return p > 0 && pf->pieces[p].lz4;
}

/* Reads piece `p` into `dst` (seaftier_piece_len bytes), decoding it through
 * `scratch` (SEAFTIER_PIECE_SIZE bytes) when it is lz4 with `dict`, the
 * original bytes of piece p - 1, when seaftier_piece_needs_dict (fastest
 * when they end right where `dst` starts), and checks its CRC32C. 1 when it
 * matches; -1 when the piece is damaged (*problem); -2 on an I/O error
 * (error set, naming `path`). On failure `dst` holds garbage. */
int seaftier_piece_file_read(const SeaftierPieceFile *pf, guint64 p, void *dst, const void *dict,
                             void *scratch, const char *path, const char **problem,
                             GError **error);

/* The parts of seaftier_piece_file_read, for readers that fetch stored
 * bytes their own way: exactly `len` bytes at `offset` of the file (codes as
 * above; a short file is damage); decoding lz4 piece `p` from its stored
 * bytes in memory, then checking it; checking the original bytes of piece
 * `p`. */
int seaftier_piece_pread(const SeaftierPieceFile *pf, void *buf, gsize len, guint64 offset,
                         const char *path, const char **problem, GError **error);
int seaftier_piece_decode(const SeaftierPieceFile *pf, guint64 p, const void *stored, void *dst,
                          const void *dict, const char **problem);
int seaftier_piece_check(const SeaftierPieceFile *pf, guint64 p, const void *piece,
                         const char **problem);

#endif
