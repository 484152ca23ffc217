/* lib/tier/crc32c.c — see crc32c.h.
 *
 * The hardware path follows Mark Adler's public-domain crc32c.c: three
 * independent crc32 streams hide the instruction's 3-cycle latency, and the
 * partial CRCs are combined with precomputed "append N zero bytes" operators
 * (GF(2) matrices expanded to byte tables). */
#include "seaftier-build.h"

#include "tier/crc32c.h"

#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
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

#if defined(__x86_64__)
static guint32
xn_mod_p(int n)
{
    guint64 r = 1;
    for (int i = 0; i < n; i++) {
        r <<= 1;
        if (r & (G_GUINT64_CONSTANT(1) << 32))
            r ^= G_GUINT64_CONSTANT(0x11EDC6F41);   /* CRC-32C, normal form */
    }
    guint32 v = (guint32)r, rev = 0;
    for (int i = 0; i < 32; i++)
        if (v & (1u << i))
            rev |= 1u << (31 - i);
    return rev;
}

static guint32 k_fold128[2], k_fold512[2], k_fold2048[2];
static gboolean vpclmul_ok;

static void
fold_constants(guint32 k[2], int bits)
{
    k[0] = xn_mod_p(bits + 31);
    k[1] = xn_mod_p(bits - 33);
}

#endif

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
    /* SEAFTIER_CRC32C=table|sse4.2 limits the choice (tests, diagnosis). */
    const char *force = g_getenv("SEAFTIER_CRC32C");
    gboolean table_only = force && strcmp(force, "table") == 0;
    gboolean no_fold = force && (table_only || strcmp(force, "sse4.2") == 0);
    hw_ok = !table_only && __builtin_cpu_supports("sse4.2");
    vpclmul_ok = hw_ok && !no_fold && __builtin_cpu_supports("pclmul") &&
                 __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("vpclmulqdq");
    fold_constants(k_fold128, 128);
    fold_constants(k_fold512, 512);
    fold_constants(k_fold2048, 2048);
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

/* ---- carry-less multiplication (PCLMULQDQ / VPCLMULQDQ) ----
 *
 * For big buffers the crc32 instruction (8 bytes per cycle at best) is
 * slower than copying the data; folding 128-bit lanes with AVX-512
 * VPCLMULQDQ carry-less multiplies (four lanes per instruction, 16 lanes in
 * flight) runs at about twice its speed. (A 4-lane SSE PCLMULQDQ variant was
 * measured slower than the crc32 instruction here, so without AVX-512 the
 * crc32 instruction is used.) A lane at bit distance D before its successor
 * folds as clmul(lo, x^(D+31) mod P) ^ clmul(hi, x^(D-33) mod P) in the
 * bit-reflected domain (exponents checked against the table-driven CRC by
 * the unit tests); the last lane is reduced to 32 bits with two crc32
 * instructions. */
#if defined(__x86_64__)
#define FOLD_ATTR __attribute__((target("sse4.2,pclmul")))
#define FOLD512_ATTR __attribute__((target("sse4.2,pclmul,avx512f,vpclmulqdq")))

FOLD_ATTR static inline __m128i
fold128(__m128i x, __m128i k, __m128i next)
{
    return _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00),
                                       _mm_clmulepi64_si128(x, k, 0x11)), next);
}

/* Finishes from one 128-bit lane: remaining 16-byte blocks, reduction,
 * then the tail bytes. */
FOLD_ATTR static guint32
fold_finish(__m128i x, const unsigned char *next, gsize len)
{
    __m128i k = _mm_setr_epi32((int)k_fold128[0], 0, (int)k_fold128[1], 0);
    while (len >= 16) {
        x = fold128(x, k, _mm_loadu_si128((const __m128i *)next));
        next += 16;
        len -= 16;
    }
    guint64 c = _mm_crc32_u64(0, (guint64)_mm_cvtsi128_si64(x));
    c = _mm_crc32_u64(c, (guint64)_mm_extract_epi64(x, 1));
    while (len >= 8) {
        c = _mm_crc32_u64(c, load64(next));
        next += 8;
        len -= 8;
    }
    while (len--)
        c = _mm_crc32_u8((guint32)c, *next++);
    return (guint32)c ^ 0xffffffffu;
}

FOLD512_ATTR static inline __m512i
fold512(__m512i x, __m512i k, __m512i next)
{
    return _mm512_ternarylogic_epi64(_mm512_clmulepi64_epi128(x, k, 0x00),
                                     _mm512_clmulepi64_epi128(x, k, 0x11), next, 0x96);
}

/* len >= 256 */
FOLD512_ATTR static guint32
crc32c_vpclmul(guint32 crc, const void *buf, gsize len)
{
    const unsigned char *next = buf;
    __m512i x0 = _mm512_loadu_si512(next);
    __m512i x1 = _mm512_loadu_si512(next + 64);
    __m512i x2 = _mm512_loadu_si512(next + 128);
    __m512i x3 = _mm512_loadu_si512(next + 192);
    x0 = _mm512_xor_si512(x0, _mm512_castsi128_si512(_mm_cvtsi32_si128((int)(crc ^ 0xffffffffu))));
    next += 256;
    len -= 256;
    __m512i k = _mm512_broadcast_i32x4(_mm_setr_epi32((int)k_fold2048[0], 0,
                                                      (int)k_fold2048[1], 0));
    while (len >= 256) {
        x0 = fold512(x0, k, _mm512_loadu_si512(next));
        x1 = fold512(x1, k, _mm512_loadu_si512(next + 64));
        x2 = fold512(x2, k, _mm512_loadu_si512(next + 128));
        x3 = fold512(x3, k, _mm512_loadu_si512(next + 192));
        next += 256;
        len -= 256;
    }
    k = _mm512_broadcast_i32x4(_mm_setr_epi32((int)k_fold512[0], 0, (int)k_fold512[1], 0));
    x0 = fold512(x0, k, x1);
    x0 = fold512(x0, k, x2);
    x0 = fold512(x0, k, x3);
    __m128i k128 = _mm_setr_epi32((int)k_fold128[0], 0, (int)k_fold128[1], 0);
    __m128i a = _mm512_extracti32x4_epi32(x0, 0);
    a = fold128(a, k128, _mm512_extracti32x4_epi32(x0, 1));
    a = fold128(a, k128, _mm512_extracti32x4_epi32(x0, 2));
    a = fold128(a, k128, _mm512_extracti32x4_epi32(x0, 3));
    return fold_finish(a, next, len);
}
#endif

/* From here on folding wins (measured: 4 KiB 54 vs 17 GB/s; at 256 bytes one
 * round of folds costs less than 32 dependent crc32 instructions). */
#define FOLD_MIN 256

gboolean
seaftier_crc32c_impl(SeaftierCrc32cImpl impl, guint32 crc, const void *buf, gsize len,
                     guint32 *out)
{
    ensure_init();
    switch (impl) {
    case SEAFTIER_CRC32C_TABLE:
        *out = seaftier_crc32c_sw(crc, buf, len);
        return TRUE;
#if defined(__x86_64__)
    case SEAFTIER_CRC32C_SSE42:
        if (!hw_ok)
            return FALSE;
        *out = crc32c_hw(crc, buf, len);
        return TRUE;
    case SEAFTIER_CRC32C_VPCLMUL:
        if (!vpclmul_ok)
            return FALSE;
        *out = len >= 256 ? crc32c_vpclmul(crc, buf, len) : crc32c_hw(crc, buf, len);
        return TRUE;
#endif
    default:
        return FALSE;
    }
}

const char *
seaftier_crc32c_impl_name(void)
{
    ensure_init();
#if defined(__x86_64__)
    if (vpclmul_ok)
        return "vpclmulqdq+sse4.2";
    if (hw_ok)
        return "sse4.2";
#endif
    return "table";
}

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
    if (len >= FOLD_MIN && vpclmul_ok)
        return crc32c_vpclmul(crc, buf, len);
    if (hw_ok)
        return crc32c_hw(crc, buf, len);
#endif
    return seaftier_crc32c_sw(crc, buf, len);
}

/* ---- combining CRCs of adjacent pieces ----
 * Arithmetic modulo the CRC polynomial over GF(2), reflected (bit 31 is x^0),
 * as in zlib's crc32_combine: the CRC of A‖B is the CRC of A shifted by
 * 8·|B| zero bits, xored with the CRC of B. */

/* a·b mod P */
static guint32
multmodp(guint32 a, guint32 b)
{
    guint32 m = 1u << 31, p = 0;
    for (;;) {
        if (a & m) {
            p ^= b;
            if ((a & (m - 1)) == 0)
                break;
        }
        m >>= 1;
        b = (b & 1) ? (b >> 1) ^ POLY : b >> 1;
    }
    return p;
}

/* x^(2^k) mod P for k = 0..31 */
static guint32 x2n_table[32];

static void
x2n_init(void)
{
    static gsize once;
    if (g_once_init_enter(&once)) {
        guint32 p = 1u << 30;   /* x^1 */
        x2n_table[0] = p;
        for (int k = 1; k < 32; k++)
            x2n_table[k] = p = multmodp(p, p);
        g_once_init_leave(&once, 1);
    }
}

guint32
seaftier_crc32c_shift_op(guint64 len)
{
    x2n_init();
    guint32 p = 1u << 31;   /* x^0 */
    unsigned k = 3;         /* 8 bits per byte */
    for (guint64 n = len; n; n >>= 1, k++)
        if (n & 1)
            p = multmodp(x2n_table[k & 31], p);
    return p;
}

guint32
seaftier_crc32c_combine_op(guint32 crc1, guint32 crc2, guint32 shift_op)
{
    return multmodp(shift_op, crc1) ^ crc2;
}

guint32
seaftier_crc32c_combine(guint32 crc1, guint32 crc2, guint64 len2)
{
    return seaftier_crc32c_combine_op(crc1, crc2, seaftier_crc32c_shift_op(len2));
}
