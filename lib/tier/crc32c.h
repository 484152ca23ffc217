/*
 * lib/tier/crc32c.h — CRC32C (Castagnoli), the integrity check of every
 * stored object.
 *
 * Why CRC32C and not the lz4 frame's XXH32: with the SSE4.2 instruction and
 * three interleaved streams it runs near memory speed, while the lz4 content
 * checksum was measured at 1–1.7 GB/s here. Without SSE4.2 a slicing-by-8
 * table is used; both give identical results.
 */
#ifndef SEAFTIER_TIER_CRC32C_H
#define SEAFTIER_TIER_CRC32C_H

#include <glib.h>

/* CRC32C of `len` bytes, continuing from `crc` (0 to start). */
guint32 seaftier_crc32c(guint32 crc, const void *buf, gsize len);

/* The portable table-driven implementation (for tests and old CPUs). */
guint32 seaftier_crc32c_sw(guint32 crc, const void *buf, gsize len);

/* TRUE when the SSE4.2 instruction is used. */
gboolean seaftier_crc32c_hw_available(void);

#endif
