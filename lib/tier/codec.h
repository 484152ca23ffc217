/*
 * lib/tier/codec.h — how the bytes of an inline object are stored: raw
 * (codec 0) or one lz4 block (codec 1, LZ4_compress_default /
 * LZ4_decompress_safe). Object files hold 64 KiB pieces instead (codec 2,
 * pieces.h), each raw or lz4 under the same rule, applied per piece.
 *
 * The block API is used instead of the lz4 frame format because the index
 * row already records the original size, codec and CRC32C of the original
 * bytes: a frame header and its (slow) XXH32 content checksum would only
 * repeat them.
 *
 * Compression is kept only when it saves at least 1/SEAFTIER_CODEC_MIN_SAVING
 * (a quarter) of the object. A hit on an lz4 copy runs at lz4's decode speed
 * (1 MiB text: ~3.5 GB/s here) where a raw one runs at memory speed (~17 GB/s,
 * CRC32C included), and real data either compresses well or hardly at all:
 * on 2.4 GB of binaries, libraries, headers, documentation and tarballs cut
 * into 1 MiB / 8 MiB blocks, requiring a quarter instead of 1/16 stored
 * 49.1% / 48.9% of the bytes instead of 48.9% / 48.8%, and 1/3 would store
 * 51.5% / 49.5%. The blocks between 1/16 and 1/4 are read at memory speed
 * for 0.1–0.2% more disk.
 */
#ifndef SEAFTIER_TIER_CODEC_H
#define SEAFTIER_TIER_CODEC_H

#include <glib.h>

#define SEAFTIER_CODEC_RAW 0
#define SEAFTIER_CODEC_LZ4 1
/* Object files only: the piece format (pieces.h), each piece raw or lz4. */
#define SEAFTIER_CODEC_PIECES 2

/* lz4 is kept when it saves at least 1/this of the object. */
#define SEAFTIER_CODEC_MIN_SAVING 4

/* Chooses a codec for `data`. Returns SEAFTIER_CODEC_LZ4 with *out a new
 * buffer (g_free) of *out_len bytes, or SEAFTIER_CODEC_RAW with *out NULL
 * (store `data` itself). `compress` FALSE always gives raw. */
int seaftier_codec_encode(const void *data, gsize len, gboolean compress,
                          void **out, gsize *out_len);

/* Decodes `stored_len` bytes into `out`, which holds exactly `size` bytes.
 * FALSE (and a description in *problem, static) when the stored bytes do not
 * decode to exactly `size` bytes. */
gboolean seaftier_codec_decode(int codec, const void *stored, gsize stored_len,
                               void *out, gsize size, const char **problem);

#endif
