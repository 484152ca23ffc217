/* lib/tier/dbid.c — ids as the index stores them (schema 4).
 *
 * A canonical id is stored as the bytes its hex digits spell: an object id
 * of 40 lowercase hex digits as a 20-byte BLOB, a repo id in the canonical
 * lowercase UUID form (8-4-4-4-12) as a 16-byte BLOB. Anything else (an
 * uppercase digit, another length, an id Seafile hands in that the tier's
 * checks would refuse) is stored as the TEXT it is. SQLite columns are
 * typeless, so both live in the same column.
 *
 * Invariants every statement relies on:
 *  - the encoding is a pure function of the string, so a lookup of an id
 *    encodes it and finds the row its store encoded the same way;
 *  - it is injective and decoding gives back exactly the original string:
 *    a 20-byte blob only ever comes from 40 lowercase hex digits, a 16-byte
 *    blob only from a lowercase UUID, and SQLite never takes a BLOB for the
 *    TEXT it would spell;
 *  - it keeps the order of canonical ids (lowercase hex digits sort as the
 *    nibbles they stand for), so `ORDER BY obj_id` with a cursor `obj_id > ?`
 *    visits every row once. Text ids sort before every blob (SQLite's type
 *    order), which a cursor encoded the same way also respects.
 * Every bind of an id and every id column read back goes through here; the
 * SQL functions tier_id() and tier_id_text() do the same for SQL text (the
 * schema upgrade, and tests that look into the index).
 */
#include "seaftier-build.h"

#include "tier/tier-private.h"

#include <string.h>

static const char hex_digits[] = "0123456789abcdef";

#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/* Bit 7 of each byte of `w` (all bytes < 0x80) set when that byte is in
 * [lo, hi]: x + (0x80 - lo) reaches bit 7 when x >= lo, x + (0x7f - hi)
 * when x > hi, and neither carries into the next byte. */
static inline guint64
bytes_in_range(guint64 w, unsigned lo, unsigned hi)
{
    return (w + ONES * (0x80 - lo)) & ~(w + ONES * (0x7f - hi)) & HIGHS;
}

/* Decodes 8 lowercase hex digits at `hex` into 4 bytes at `out`; FALSE when
 * any is not one. Every lookup encodes two ids, so this works on 8
 * characters at once (SWAR) with no branch per character, where a loop
 * over random digits mispredicted and cost more than the shorter keys
 * saved (measured: ~2 400 instructions per read). */
static inline gboolean
hex8(const char *hex, unsigned char out[4])
{
    guint64 w;
    memcpy(&w, hex, 8);
    w = GUINT64_FROM_LE(w);        /* byte i = character i */
    guint64 ok = (bytes_in_range(w, '0', '9') | bytes_in_range(w, 'a', 'f')) & ~w;
    /* '0'-'9' -> low nibble 0-9; 'a'-'f' (0x61-0x66) -> 1-6, + 9 for bit 6 */
    guint64 nib = (w & (ONES * 0x0f)) + 9 * ((w >> 6) & ONES);
    /* byte 2j = digit 2j << 4 | digit 2j+1; then the even bytes, in order */
    guint64 t = ((nib << 4) | (nib >> 8)) & 0x00ff00ff00ff00ffULL;
    t = (t | (t >> 8)) & 0x0000ffff0000ffffULL;
    t = (t | (t >> 16)) & 0x00000000ffffffffULL;
    guint32 packed = GUINT32_TO_LE((guint32)t);
    memcpy(out, &packed, 4);
    return ok == HIGHS;
}

static void
hex_encode(const unsigned char *in, int n, char *out)
{
    for (int i = 0; i < n; i++) {
        out[2 * i] = hex_digits[in[i] >> 4];
        out[2 * i + 1] = hex_digits[in[i] & 15];
    }
}

/* Byte offsets of the UUID's groups in its text form, and their lengths in
 * bytes: 8-4-4-4-12 hex digits. */
static const int uuid_group_at[5] = { 0, 9, 14, 19, 24 };
static const int uuid_group_bytes[5] = { 4, 2, 2, 2, 6 };

int
seaftier_tier_id_encode(const char *id, gsize len, unsigned char out[TIER_ID_MAX_BYTES])
{
    if (len == 40) {
        gboolean ok = TRUE;
        for (int i = 0; i < 5; i++)
            ok &= hex8(id + 8 * i, out + 4 * i);
        return ok ? 20 : 0;
    }
    if (len == 36) {
        if (id[8] != '-' || id[13] != '-' || id[18] != '-' || id[23] != '-')
            return 0;
        char digits[32];
        for (int g = 0, at = 0; g < 5; g++) {
            memcpy(digits + at, id + uuid_group_at[g], 2 * uuid_group_bytes[g]);
            at += 2 * uuid_group_bytes[g];
        }
        gboolean ok = TRUE;
        for (int i = 0; i < 4; i++)
            ok &= hex8(digits + 8 * i, out + 4 * i);
        return ok ? 16 : 0;
    }
    return 0;
}

gboolean
seaftier_tier_id_decode(const unsigned char *bytes, gsize len, char *out, gsize out_size)
{
    if (len == 20 && out_size >= 41) {
        hex_encode(bytes, 20, out);
        out[40] = '\0';
        return TRUE;
    }
    if (len == 16 && out_size >= 37) {
        const unsigned char *p = bytes;
        for (int g = 0; g < 5; g++) {
            if (g > 0)
                out[uuid_group_at[g] - 1] = '-';
            hex_encode(p, uuid_group_bytes[g], out + uuid_group_at[g]);
            p += uuid_group_bytes[g];
        }
        out[36] = '\0';
        return TRUE;
    }
    return FALSE;
}

int
seaftier_tier_bind_id(sqlite3_stmt *stmt, int param, const char *id, TierIdKey *key)
{
    gsize len = strlen(id);
    int n = seaftier_tier_id_encode(id, len, key->bytes);
    if (n > 0)
        return sqlite3_bind_blob(stmt, param, key->bytes, n, SQLITE_STATIC);
    return sqlite3_bind_text(stmt, param, id, (int)len, SQLITE_STATIC);
}

gboolean
seaftier_tier_column_id(sqlite3_stmt *stmt, int col, char *out, gsize out_size)
{
    if (sqlite3_column_type(stmt, col) == SQLITE_BLOB) {
        const void *b = sqlite3_column_blob(stmt, col);
        int n = sqlite3_column_bytes(stmt, col);
        if (seaftier_tier_id_decode(b, (gsize)n, out, out_size))
            return TRUE;
        out[0] = '\0';
        return FALSE;
    }
    const unsigned char *t = sqlite3_column_text(stmt, col);
    g_strlcpy(out, t ? (const char *)t : "", out_size);
    return t != NULL;
}

/* tier_id(x): x in the index's form (a blob for a canonical text id,
 * anything else unchanged). */
static void
sql_tier_id(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    sqlite3_value *v = argv[0];
    if (sqlite3_value_type(v) == SQLITE_TEXT) {
        const char *t = (const char *)sqlite3_value_text(v);
        unsigned char bytes[TIER_ID_MAX_BYTES];
        int n = t ? seaftier_tier_id_encode(t, (gsize)sqlite3_value_bytes(v), bytes) : 0;
        if (n > 0) {
            sqlite3_result_blob(ctx, bytes, n, SQLITE_TRANSIENT);
            return;
        }
    }
    sqlite3_result_value(ctx, v);
}

/* tier_id_text(x): the id string x stands for (a blob of 20 or 16 bytes
 * decoded, anything else unchanged). */
static void
sql_tier_id_text(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    sqlite3_value *v = argv[0];
    if (sqlite3_value_type(v) == SQLITE_BLOB) {
        char text[41];
        if (seaftier_tier_id_decode(sqlite3_value_blob(v), (gsize)sqlite3_value_bytes(v), text,
                                    sizeof(text))) {
            sqlite3_result_text(ctx, text, -1, SQLITE_TRANSIENT);
            return;
        }
    }
    sqlite3_result_value(ctx, v);
}

int
seaftier_tier_register_id_sql(sqlite3 *db)
{
    const int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
    int rc = sqlite3_create_function_v2(db, "tier_id", 1, flags, NULL, sql_tier_id, NULL, NULL,
                                        NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function_v2(db, "tier_id_text", 1, flags, NULL, sql_tier_id_text,
                                        NULL, NULL, NULL);
    return rc;
}
