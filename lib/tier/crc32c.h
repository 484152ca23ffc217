/*
 * lib/tier/crc32c.h — CRC32C (Castagnoli), the integrity check of every
 * stored object.
 *
 * Why CRC32C and not the lz4 frame's XXH32: in hardware it runs at or above
 * memory speed, while the lz4 content checksum was measured at 1–1.7 GB/s
 * here. Chosen at run time: AVX-512 VPCLMULQDQ carry-less folding for
 * buffers of 256 bytes and more, the SSE4.2 crc32 instruction (three
 * interleaved streams) otherwise, and a slicing-by-8 table without SSE4.2. All give identical results.
 */
#ifndef SEAFTIER_TIER_CRC32C_H
#define SEAFTIER_TIER_CRC32C_H

#include <glib.h>

/* CRC32C of `len` bytes, continuing from `crc` (0 to start). */
guint32 seaftier_crc32c(guint32 crc, const void *buf, gsize len);

/* The CRC32C of A followed by B, from crc1 = CRC32C of A and crc2 =
 * CRC32C of B (`len2` bytes), without the bytes. */
guint32 seaftier_crc32c_combine(guint32 crc1, guint32 crc2, guint64 len2);
/* The same in two steps, for many pieces of one length: the operator for
 * `len2` bytes is computed once (~32 multiplications) and applied to each. */
guint32 seaftier_crc32c_shift_op(guint64 len2);
guint32 seaftier_crc32c_combine_op(guint32 crc1, guint32 crc2, guint32 shift_op);

/* The portable table-driven implementation (for tests and old CPUs). */
guint32 seaftier_crc32c_sw(guint32 crc, const void *buf, gsize len);

/* TRUE when the SSE4.2 instruction is used. */
gboolean seaftier_crc32c_hw_available(void);

/* The implementations, for tests and benchmarks. */
typedef enum {
    SEAFTIER_CRC32C_TABLE,      /* slicing-by-8 */
    SEAFTIER_CRC32C_SSE42,      /* crc32 instruction, three streams */
    SEAFTIER_CRC32C_VPCLMUL,    /* AVX-512 carry-less folding (+ SSE4.2) */
} SeaftierCrc32cImpl;
/* Computes with one implementation; FALSE when this CPU lacks it. */
gboolean seaftier_crc32c_impl(SeaftierCrc32cImpl impl, guint32 crc, const void *buf, gsize len,
                              guint32 *out);
/* What seaftier_crc32c() uses for big buffers here, e.g. "vpclmulqdq+sse4.2". */
const char *seaftier_crc32c_impl_name(void);

#endif
