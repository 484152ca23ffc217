/*
 * lib/tier/codec.h — how object bytes are stored: raw (codec 0) or one lz4
 * block (codec 1, LZ4_compress_default / LZ4_decompress_safe).
 *
 * The block API is used instead of the lz4 frame format because the index
 * row already records the original size, codec and CRC32C of the original
 * bytes: a frame header and its (slow) XXH32 content checksum would only
 * repeat them. Compression is kept only when it saves at least 1/16 of the
 * object; otherwise decoding would cost more than the disk space it saves.
 */
#ifndef SEAFTIER_TIER_CODEC_H
#define SEAFTIER_TIER_CODEC_H

#include <glib.h>

#define SEAFTIER_CODEC_RAW 0
#define SEAFTIER_CODEC_LZ4 1

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
