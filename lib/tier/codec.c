/* lib/tier/codec.c — see codec.h. */
#include "seaftier-build.h"

#include "tier/codec.h"

#include <lz4.h>
#include <string.h>

int
seaftier_codec_encode(const void *data, gsize len, gboolean compress, void **out, gsize *out_len)
{
    *out = NULL;
    *out_len = len;
    /* Tiny objects cannot save a quarter worth the decode call. */
    if (!compress || len < 64 || len > (gsize)LZ4_MAX_INPUT_SIZE)
        return SEAFTIER_CODEC_RAW;

    gsize limit = len - len / SEAFTIER_CODEC_MIN_SAVING;
    /* lz4 stops and returns 0 as soon as the output would exceed `limit`,
     * so incompressible data costs little. */
    char *buf = g_malloc(limit);
    int n = LZ4_compress_default(data, buf, (int)len, (int)limit);
    if (n <= 0) {
        g_free(buf);
        return SEAFTIER_CODEC_RAW;
    }
    *out = g_realloc(buf, (gsize)n);
    *out_len = (gsize)n;
    return SEAFTIER_CODEC_LZ4;
}

gboolean
seaftier_codec_decode(int codec, const void *stored, gsize stored_len, void *out, gsize size,
                      const char **problem)
{
    switch (codec) {
    case SEAFTIER_CODEC_RAW:
        if (stored_len != size) {
            *problem = "stored size differs from the original size";
            return FALSE;
        }
        if (size)
            memcpy(out, stored, size);
        return TRUE;
    case SEAFTIER_CODEC_LZ4:
        if (stored_len > (gsize)LZ4_MAX_INPUT_SIZE || size > (gsize)LZ4_MAX_INPUT_SIZE) {
            *problem = "lz4 data too large";
            return FALSE;
        }
        if (LZ4_decompress_safe(stored, out, (int)stored_len, (int)size) != (int)size) {
            *problem = "lz4 data does not decode to the original size";
            return FALSE;
        }
        return TRUE;
    default:
        *problem = "unknown codec";
        return FALSE;
    }
}
