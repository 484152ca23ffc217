/* lib/tier/crc32c.c — see crc32c.h.
 *
 * The hardware path follows Mark Adler's public-domain crc32c.c: three
 * independent crc32 streams hide the instruction's 3-cycle latency, and the
 * partial CRCs are combined with precomputed "append N zero bytes" operators
 * (GF(2) matrices expanded to byte tables). */
#include "config.h"

#include "tier/crc32c.h"

#include <string.h>
#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

#define POLY 0x82f63b78u   /* CRC-32C, reflected */
#define LONG_BLOCK 8192
#define SHORT_BLOCK 256

static guint32 sw_table[8][256];
static guint32 zeros_long[4][256];
static guint32 zeros_short[4][256];
static gboolean hw_ok;

static guint32
gf2_matrix_times(const guint32 *mat, guint32 vec)
{
    guint32 sum = 0;
    while (vec) {
        if (vec & 1)
            sum ^= *mat;
        vec >>= 1;
        mat++;
    }
    return sum;
}

static void
gf2_matrix_square(guint32 *square, const guint32 *mat)
{
    for (int n = 0; n < 32; n++)
        square[n] = gf2_matrix_times(mat, mat[n]);
}

/* The operator that appends `len` zero bytes (len a power of two) to a CRC. */
static void
zeros_op(guint32 *even, gsize len)
{
    guint32 odd[32];
    guint32 row = 1;
    odd[0] = POLY;
    for (int n = 1; n < 32; n++) {
        odd[n] = row;
        row <<= 1;
    }
    gf2_matrix_square(even, odd);   /* 2 zero bits */
    gf2_matrix_square(odd, even);   /* 4 zero bits */
    do {
        gf2_matrix_square(even, odd);
        len >>= 1;
        if (len == 0)
            return;
        gf2_matrix_square(odd, even);
        len >>= 1;
    } while (len);
    memcpy(even, odd, sizeof(odd));
}

static void
zeros_table(guint32 zeros[4][256], gsize len)
{
    guint32 op[32];
    zeros_op(op, len);
    for (guint32 n = 0; n < 256; n++) {
        zeros[0][n] = gf2_matrix_times(op, n);
        zeros[1][n] = gf2_matrix_times(op, n << 8);
        zeros[2][n] = gf2_matrix_times(op, n << 16);
        zeros[3][n] = gf2_matrix_times(op, n << 24);
    }
}

static inline guint32
shift(guint32 zeros[4][256], guint32 crc)
{
    return zeros[0][crc & 0xff] ^ zeros[1][(crc >> 8) & 0xff] ^
           zeros[2][(crc >> 16) & 0xff] ^ zeros[3][crc >> 24];
}

static gpointer
init_tables(gpointer unused)
{
    for (guint32 n = 0; n < 256; n++) {
        guint32 crc = n;
        for (int k = 0; k < 8; k++)
            crc = (crc & 1) ? (crc >> 1) ^ POLY : crc >> 1;
        sw_table[0][n] = crc;
    }
    for (guint32 n = 0; n < 256; n++) {
        guint32 crc = sw_table[0][n];
        for (int k = 1; k < 8; k++) {
            crc = sw_table[0][crc & 0xff] ^ (crc >> 8);
            sw_table[k][n] = crc;
        }
    }
    zeros_table(zeros_long, LONG_BLOCK);
    zeros_table(zeros_short, SHORT_BLOCK);
#if defined(__x86_64__)
    __builtin_cpu_init();
    hw_ok = __builtin_cpu_supports("sse4.2") && g_getenv("SEAFTIER_NO_SSE42") == NULL;
#endif
    return NULL;
}

static inline void
ensure_init(void)
{
    static GOnce once = G_ONCE_INIT;
    g_once(&once, init_tables, NULL);
}

static inline guint64
load64(const unsigned char *p)
{
    guint64 v;
    memcpy(&v, p, sizeof(v));
    return GUINT64_FROM_LE(v);
}

guint32
seaftier_crc32c_sw(guint32 crc, const void *buf, gsize len)
{
    ensure_init();
    const unsigned char *next = buf;
    guint64 c = crc ^ 0xffffffffu;
    while (len && ((guintptr)next & 7) != 0) {
        c = sw_table[0][(c ^ *next++) & 0xff] ^ (c >> 8);
        len--;
    }
    while (len >= 8) {
        c ^= load64(next);
        c = sw_table[7][c & 0xff] ^ sw_table[6][(c >> 8) & 0xff] ^
            sw_table[5][(c >> 16) & 0xff] ^ sw_table[4][(c >> 24) & 0xff] ^
            sw_table[3][(c >> 32) & 0xff] ^ sw_table[2][(c >> 40) & 0xff] ^
            sw_table[1][(c >> 48) & 0xff] ^ sw_table[0][c >> 56];
        next += 8;
        len -= 8;
    }
    while (len) {
        c = sw_table[0][(c ^ *next++) & 0xff] ^ (c >> 8);
        len--;
    }
    return (guint32)c ^ 0xffffffffu;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static guint32
crc32c_hw(guint32 crc, const void *buf, gsize len)
{
    const unsigned char *next = buf;
    guint64 crc0 = crc ^ 0xffffffffu, crc1, crc2;

    while (len && ((guintptr)next & 7) != 0) {
        crc0 = _mm_crc32_u8((guint32)crc0, *next++);
        len--;
    }
    while (len >= LONG_BLOCK * 3) {
        crc1 = 0;
        crc2 = 0;
        const unsigned char *end = next + LONG_BLOCK;
        do {
            crc0 = _mm_crc32_u64(crc0, load64(next));
            crc1 = _mm_crc32_u64(crc1, load64(next + LONG_BLOCK));
            crc2 = _mm_crc32_u64(crc2, load64(next + 2 * LONG_BLOCK));
            next += 8;
        } while (next < end);
        crc0 = shift(zeros_long, (guint32)crc0) ^ crc1;
        crc0 = shift(zeros_long, (guint32)crc0) ^ crc2;
        next += 2 * LONG_BLOCK;
        len -= 3 * LONG_BLOCK;
    }
    while (len >= SHORT_BLOCK * 3) {
        crc1 = 0;
        crc2 = 0;
        const unsigned char *end = next + SHORT_BLOCK;
        do {
            crc0 = _mm_crc32_u64(crc0, load64(next));
            crc1 = _mm_crc32_u64(crc1, load64(next + SHORT_BLOCK));
            crc2 = _mm_crc32_u64(crc2, load64(next + 2 * SHORT_BLOCK));
            next += 8;
        } while (next < end);
        crc0 = shift(zeros_short, (guint32)crc0) ^ crc1;
        crc0 = shift(zeros_short, (guint32)crc0) ^ crc2;
        next += 2 * SHORT_BLOCK;
        len -= 3 * SHORT_BLOCK;
    }
    while (len >= 8) {
        crc0 = _mm_crc32_u64(crc0, load64(next));
        next += 8;
        len -= 8;
    }
    while (len) {
        crc0 = _mm_crc32_u8((guint32)crc0, *next++);
        len--;
    }
    return (guint32)crc0 ^ 0xffffffffu;
}
#endif

gboolean
seaftier_crc32c_hw_available(void)
{
    ensure_init();
    return hw_ok;
}

guint32
seaftier_crc32c(guint32 crc, const void *buf, gsize len)
{
    ensure_init();
#if defined(__x86_64__)
    if (hw_ok)
        return crc32c_hw(crc, buf, len);
#endif
    return seaftier_crc32c_sw(crc, buf, len);
}
