/* Unit tests of the tier's piece files (lib/tier/pieces.c) and streaming
 * reads (lib/tier/stream.c): round trips at piece boundaries through whole
 * and streamed reads with odd buffer sizes, damaged pieces and tables, files
 * of the first format ("STF1"), eviction while a stream is open, and the
 * CRC32C combination the format relies on. Real SQLite index and files in a
 * temporary directory; no network. */
#include "seaftier-build.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "tier/codec.h"
#include "tier/crc32c.h"
#include "tier-testutil.h"

#define REPO "0ad8b22f-5a1b-4d3c-9a2e-3f1c2b4d5e6f"
#define PIECE 65536
#define HEADER 24

static const TuFixtureSpec fixture = {
    .name = "test_tier_pieces",
    .ram_cache_size = 0,
    .inline_max = 0,            /* every object of 1 byte or more is a file */
};

/* The one file of `id` (blocks of REPO). */
static char *
file_of(TuFixture *fx, const char *id)
{
    char fan[3] = { id[0], id[1], 0 };
    char *dir = g_build_filename(fx->dir, "objects", "blocks", REPO, fan, NULL);
    GDir *d = g_dir_open(dir, 0, NULL);
    char *found = NULL;
    const char *name;
    while (d && (name = g_dir_read_name(d)))
        if (strncmp(name, id + 2, 38) == 0)
            found = g_build_filename(dir, name, NULL);
    if (d)
        g_dir_close(d);
    g_free(dir);
    if (!found)
        fail_msg("no file for %s", id);
    return found;
}

static void
flip_byte(const char *path, goffset at)
{
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    unsigned char b;
    assert_int_equal(pread(fd, &b, 1, at), 1);
    b ^= 0x5a;
    assert_int_equal(pwrite(fd, &b, 1, at), 1);
    close(fd);
}

static gsize
pieces_of(gsize n)
{
    return (n + PIECE - 1) / PIECE;
}

/* Streams `id` in reads of `chunk` bytes, checking every count, and
 * compares the result with `data`. */
static void
stream_expect(SeaftierTier *t, const char *id, const guint8 *data, gsize n, gsize chunk)
{
    GError *err = NULL;
    SeaftierTierStream *s = seaftier_tier_stream_open(t, SEAFTIER_TYPE_BLOCKS, REPO, id, &err);
    if (!s)
        fail_msg("stream_open %s: %s", id, err->message);
    assert_int_equal(seaftier_tier_stream_size(s), n);
    guint8 *buf = g_malloc(chunk);
    gsize total = 0;
    for (;;) {
        gssize got = seaftier_tier_stream_read(s, buf, chunk, &err);
        if (got < 0)
            fail_msg("stream_read %s at %" G_GSIZE_FORMAT " (chunk %" G_GSIZE_FORMAT "): %s", id,
                     total, chunk, err->message);
        if (got == 0)
            break;
        assert_int_equal((gsize)got, MIN(chunk, n - total));
        if (memcmp(buf, data + total, (gsize)got) != 0)
            fail_msg("%s: bytes %" G_GSIZE_FORMAT "+%" G_GSSIZE_FORMAT " differ (chunk %"
                     G_GSIZE_FORMAT ")", id, total, got, chunk);
        total += (gsize)got;
        assert_int_equal(seaftier_tier_stream_pos(s), total);
    }
    assert_int_equal(total, n);
    /* at the end it stays at the end */
    assert_int_equal(seaftier_tier_stream_read(s, buf, chunk, &err), 0);
    seaftier_tier_stream_close(s);
    g_free(buf);
}

/* 0 rand, 1 text, 2 text then rand, 3 text with every third piece rand
 * (raw pieces before and after lz4 ones) */
static guint8 *
make_bytes(gsize n, int kind, guint32 seed)
{
    if (kind == 0)
        return tu_random_bytes(n, seed);
    guint8 *d = tu_text_bytes(n, seed);
    if (kind == 2 && n > 1) {
        guint8 *r = tu_random_bytes(n - n / 2, seed);
        memcpy(d + n / 2, r, n - n / 2);
        g_free(r);
    }
    if (kind == 3) {
        guint8 *r = tu_random_bytes(n, seed);
        for (gsize at = PIECE; at < n; at += 3 * PIECE)
            memcpy(d + at, r + at, MIN(PIECE, n - at));
        g_free(r);
    }
    return d;
}

static void
test_round_trip_boundaries(void **state)
{
    TuFixture *fx = *state;
    static const gsize sizes[] = {
        1, 63, 64, PIECE - 1, PIECE, PIECE + 1, 2 * PIECE, 3 * PIECE + 17, 1000003, 8 << 20,
    };
    static const gsize chunks[] = { 1, 4095, PIECE, PIECE + 1, 3 * PIECE };
    char id[41];
    int k = 0;
    for (gsize i = 0; i < G_N_ELEMENTS(sizes); i++) {
        for (int kind = 0; kind < 4; kind++) {
            gsize n = sizes[i];
            guint8 *data = make_bytes(n, kind, (guint32)(i * 4 + (gsize)kind));
            tu_make_id(k++, id);
            tu_store_ok(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, id, data, n, SEAFTIER_STATE_DIRTY,
                        TRUE);
            SeaftierTierEntry e;
            assert_true(seaftier_tier_lookup(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, id, &e, NULL));
            assert_int_equal(e.codec, SEAFTIER_CODEC_PIECES);
            assert_int_equal(e.checksum, seaftier_crc32c(0, data, n));
            char *path = file_of(fx, id);
            GStatBuf st;
            assert_int_equal(g_stat(path, &st), 0);
            assert_int_equal((guint64)st.st_size, e.stored_size + HEADER);
            g_free(path);
            gsize table = 8 * pieces_of(n);
            if (kind == 0 || n < 64)
                assert_int_equal(e.stored_size, n + table);     /* every piece raw */
            else if (kind == 1 && n >= 4096)
                assert_true(e.stored_size < n / 2 + table);     /* every piece lz4 */
            else if (kind == 2 && n >= 4 * PIECE)
                assert_true(e.stored_size > n / 2 && e.stored_size < n * 3 / 4);
            else if (kind == 3 && n >= 6 * PIECE)
                assert_true(e.stored_size > n / 3 && e.stored_size < n * 2 / 3);
            tu_read_expect(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, id, data, n);
            for (gsize c = 0; c < G_N_ELEMENTS(chunks); c++)
                if (chunks[c] > 1 || n <= 4 * PIECE)    /* (byte by byte: small ones) */
                    stream_expect(fx->tier, id, data, n, chunks[c]);
            stream_expect(fx->tier, id, data, n, n);
            g_free(data);
        }
    }
    /* every copy passes verify */
    guint64 checked = 0, problems = 0;
    GError *err = NULL;
    assert_true(seaftier_tier_verify(fx->tier, NULL, NULL, &checked, &problems, &err));
    assert_int_equal(checked, (guint64)k);
    assert_int_equal(problems, 0);
}

/* Reads `s` in `chunk`s until it fails; returns the bytes served, which
 * must match `data`, and checks the failure's code. */
static gsize
stream_until_failure(SeaftierTierStream *s, const guint8 *data, gsize chunk, int code)
{
    guint8 *buf = g_malloc(chunk);
    gsize total = 0;
    GError *err = NULL;
    for (;;) {
        gssize got = seaftier_tier_stream_read(s, buf, chunk, &err);
        if (got < 0)
            break;
        assert_true(got > 0);
        assert_memory_equal(buf, data + total, (gsize)got);
        total += (gsize)got;
    }
    if (!g_error_matches(err, SEAFTIER_TIER_ERROR, code))
        fail_msg("expected code %d, got %s", code, err ? err->message : "none");
    g_clear_error(&err);
    /* and it keeps failing */
    assert_int_equal(seaftier_tier_stream_read(s, buf, chunk, &err), -1);
    assert_true(g_error_matches(err, SEAFTIER_TIER_ERROR, code));
    g_clear_error(&err);
    g_free(buf);
    return total;
}

static void
test_damaged_piece_dirty(void **state)
{
    TuFixture *fx = *state;
    char id[41];
    tu_make_id(1, id);
    gsize n = 5 * PIECE + 100;
    guint8 *data = tu_random_bytes(n, 7);
    tu_store_ok(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, id, data, n, SEAFTIER_STATE_DIRTY, TRUE);
    char *path = file_of(fx, id);
    /* a byte of piece 2 (raw: its stored bytes are its original bytes) */
    flip_byte(path, HEADER + 8 * (goffset)pieces_of(n) + 2 * PIECE + 10);
    tu_fixture_reopen(fx);

    static const gsize chunks[] = { 1, 4095, PIECE, PIECE + 1, 200000, 8 << 20 };
    for (gsize c = 0; c < G_N_ELEMENTS(chunks); c++) {
        GError *err = NULL;
        SeaftierTierStream *s = seaftier_tier_stream_open(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO,
                                                          id, &err);
        assert_non_null(s);     /* the table is intact */
        gsize served = stream_until_failure(s, data, chunks[c], SEAFTIER_TIER_ERROR_CORRUPT);
        /* everything before piece 2, and nothing of it */
        assert_true(served <= 2 * PIECE);
        assert_true(served > 2 * PIECE - chunks[c] || served == 2 * PIECE);
        /* S3 never had it: no fetch can repair it */
        assert_false(seaftier_tier_stream_refetchable(s));
        seaftier_tier_stream_close(s);
    }
    /* Kept for an operator, and a whole read fails the same way. */
    SeaftierTierEntry e;
    assert_true(seaftier_tier_lookup(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, id, &e, NULL));
    assert_int_equal(e.state, SEAFTIER_STATE_DIRTY);
    tu_read_fails(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, id, SEAFTIER_TIER_ERROR_CORRUPT);
    /* A rewrite of the same bytes repairs it. */
    tu_store_ok(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, id, data, n, SEAFTIER_STATE_DIRTY, TRUE);
    stream_expect(fx->tier, id, data, n, PIECE);
    g_free(path);
    g_free(data);
}

static void
test_damaged_piece_clean(void **state)
{
    TuFixture *fx = *state;
    char id[41];
    tu_make_id(2, id);
    gsize n = 4 * PIECE;
    guint8 *data = tu_text_bytes(n, 8);     /* lz4 pieces */
    tu_store_ok(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, id, data, n, SEAFTIER_STATE_CLEAN, FALSE);
    char *path = file_of(fx, id);
    GStatBuf st;
    assert_int_equal(g_stat(path, &st), 0);
    flip_byte(path, st.st_size - 5);        /* inside the last piece */
    tu_fixture_reopen(fx);

    GError *err = NULL;
    SeaftierTierStream *s = seaftier_tier_stream_open(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, id,
                                                      &err);
    assert_non_null(s);
    assert_int_equal(stream_until_failure(s, data, PIECE, SEAFTIER_TIER_ERROR_CORRUPT), 3 * PIECE);
    /* S3 holds it: the caller may go on with a fetched copy, if it is this one */
    assert_true(seaftier_tier_stream_refetchable(s));
    assert_int_equal(seaftier_tier_stream_pos(s), 3 * PIECE);
    assert_true(seaftier_tier_stream_matches(s, data, n));
    assert_false(seaftier_tier_stream_matches(s, data, n - 1));
    data[0] ^= 1;
    assert_false(seaftier_tier_stream_matches(s, data, n));
    data[0] ^= 1;
    seaftier_tier_stream_close(s);
    /* The bad copy was dropped (and its file), as a whole read drops one. */
    assert_false(seaftier_tier_lookup(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, id, NULL, NULL));
    assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
    assert_null(seaftier_tier_stream_open(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, id, &err));
    assert_true(g_error_matches(err, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_NOT_FOUND));
    g_clear_error(&err);
    g_free(path);
    g_free(data);
}

static void
test_damaged_table(void **state)
{
    TuFixture *fx = *state;
    char dirty[41], clean[41];
    tu_make_id(3, dirty);
    tu_make_id(4, clean);
    gsize n = 3 * PIECE;
    guint8 *data = tu_random_bytes(n, 9);
    tu_store_ok(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, dirty, data, n, SEAFTIER_STATE_DIRTY, TRUE);
    tu_store_ok(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, clean, data, n, SEAFTIER_STATE_CLEAN, FALSE);
    char *dpath = file_of(fx, dirty), *cpath = file_of(fx, clean);
    flip_byte(dpath, HEADER + 8 + 4 + 1);   /* piece 1's CRC */
    flip_byte(cpath, HEADER + 8 + 1);       /* piece 1's stored length */
    tu_fixture_reopen(fx);
    GError *err = NULL;
    /* Nothing is served from a table that does not add up. */
    assert_null(seaftier_tier_stream_open(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, dirty, &err));
    assert_true(g_error_matches(err, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_CORRUPT));
    g_clear_error(&err);
    tu_read_fails(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, dirty, SEAFTIER_TIER_ERROR_CORRUPT);
    assert_null(seaftier_tier_stream_open(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, clean, &err));
    assert_true(g_error_matches(err, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_CORRUPT));
    g_clear_error(&err);
    assert_false(seaftier_tier_lookup(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, clean, NULL, NULL));
    g_free(dpath);
    g_free(cpath);
    g_free(data);
}

/* Replaces `id`'s file and row by a file of the first format (24-byte
 * header "STF1", then the object raw or as one lz4 block), as older
 * versions wrote them. The tier is closed meanwhile. */
static void
make_stf1(TuFixture *fx, const char *id, const guint8 *data, gsize n)
{
    void *lz = NULL;
    gsize lz_len = n;
    int codec = seaftier_codec_encode(data, n, TRUE, &lz, &lz_len);
    tu_fixture_close(fx);
    char *path = file_of(fx, id);
    guint8 hdr[HEADER] = { 'S', 'T', 'F', '1', 1, (guint8)codec };
    guint32 crc = seaftier_crc32c(0, data, n);
    for (int i = 0; i < 4; i++)
        hdr[8 + i] = (guint8)(crc >> (8 * i));
    for (int i = 0; i < 8; i++)
        hdr[16 + i] = (guint8)((guint64)n >> (8 * i));
    GByteArray *file = g_byte_array_new();
    g_byte_array_append(file, hdr, HEADER);
    g_byte_array_append(file, lz ? lz : data, (guint)lz_len);
    assert_true(g_file_set_contents(path, (const char *)file->data, file->len, NULL));
    g_byte_array_unref(file);
    char *sql = g_strdup_printf("UPDATE objects SET codec = %d, stored_size = %" G_GSIZE_FORMAT
                                " WHERE obj_id = tier_id('%s')", codec, lz_len, id);
    tu_sql_int(fx->dir, sql);
    g_free(sql);
    g_free(lz);
    g_free(path);
    tu_fixture_open(fx);
}

static void
test_first_format_still_read(void **state)
{
    TuFixture *fx = *state;
    char raw[41], lz[41];
    tu_make_id(5, raw);
    tu_make_id(6, lz);
    gsize n = 3 * PIECE + 123;
    guint8 *rdata = tu_random_bytes(n, 10), *tdata = tu_text_bytes(n, 11);
    tu_store_ok(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, raw, rdata, n, SEAFTIER_STATE_DIRTY, TRUE);
    tu_store_ok(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, lz, tdata, n, SEAFTIER_STATE_CLEAN, FALSE);
    make_stf1(fx, raw, rdata, n);
    make_stf1(fx, lz, tdata, n);
    SeaftierTierEntry e;
    assert_true(seaftier_tier_lookup(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, raw, &e, NULL));
    assert_int_equal(e.codec, SEAFTIER_CODEC_RAW);
    assert_true(seaftier_tier_lookup(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, lz, &e, NULL));
    assert_int_equal(e.codec, SEAFTIER_CODEC_LZ4);

    tu_read_expect(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, raw, rdata, n);
    tu_read_expect(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, lz, tdata, n);
    stream_expect(fx->tier, raw, rdata, n, 4095);
    stream_expect(fx->tier, lz, tdata, n, PIECE);
    guint64 checked = 0, problems = 0;
    GError *err = NULL;
    assert_true(seaftier_tier_verify(fx->tier, NULL, NULL, &checked, &problems, &err));
    assert_int_equal(checked, 2);
    assert_int_equal(problems, 0);
    /* A damaged one of the first format is still caught (at open: whole). */
    char *path = file_of(fx, raw);
    flip_byte(path, HEADER + 70000);
    g_free(path);
    assert_null(seaftier_tier_stream_open(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, raw, &err));
    assert_true(g_error_matches(err, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_CORRUPT));
    g_clear_error(&err);
    g_free(rdata);
    g_free(tdata);
}

static void
test_evicted_while_open(void **state)
{
    TuFixture *fx = *state;
    char id[41];
    tu_make_id(7, id);
    gsize n = 6 * PIECE + 1;
    guint8 *data = make_bytes(n, 2, 12);
    tu_store_ok(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, id, data, n, SEAFTIER_STATE_CLEAN, FALSE);
    GError *err = NULL;
    SeaftierTierStream *s = seaftier_tier_stream_open(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, id,
                                                      &err);
    assert_non_null(s);
    guint8 *buf = g_malloc(n);
    assert_int_equal(seaftier_tier_stream_read(s, buf, PIECE + 3, &err), PIECE + 3);
    char *path = file_of(fx, id);
    assert_true(seaftier_tier_evict_one(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, id, &err));
    assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
    gsize total = PIECE + 3;
    gssize got;
    while ((got = seaftier_tier_stream_read(s, buf + total, n - total, &err)) > 0)
        total += (gsize)got;
    assert_int_equal(got, 0);
    assert_int_equal(total, n);
    assert_memory_equal(buf, data, n);
    seaftier_tier_stream_close(s);
    /* and now it is a miss */
    assert_null(seaftier_tier_stream_open(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, id, &err));
    assert_true(g_error_matches(err, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_NOT_FOUND));
    g_clear_error(&err);
    g_free(path);
    g_free(buf);
    g_free(data);
}

static void
test_crc32c_combine(void **state)
{
    (void)state;
    gsize n = 300000;
    guint8 *d = tu_random_bytes(n, 13);
    static const gsize cuts[] = { 0, 1, 7, 4096, 65536, 65537, 299999, 300000 };
    guint32 whole = seaftier_crc32c(0, d, n);
    for (gsize i = 0; i < G_N_ELEMENTS(cuts); i++) {
        gsize a = cuts[i];
        guint32 c1 = seaftier_crc32c(0, d, a), c2 = seaftier_crc32c(0, d + a, n - a);
        assert_int_equal(seaftier_crc32c_combine(c1, c2, n - a), whole);
        assert_int_equal(seaftier_crc32c_combine_op(c1, c2, seaftier_crc32c_shift_op(n - a)),
                         whole);
    }
    g_free(d);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32c_combine),
        TU_FIXTURE_TEST(test_round_trip_boundaries, &fixture),
        TU_FIXTURE_TEST(test_damaged_piece_dirty, &fixture),
        TU_FIXTURE_TEST(test_damaged_piece_clean, &fixture),
        TU_FIXTURE_TEST(test_damaged_table, &fixture),
        TU_FIXTURE_TEST(test_first_format_still_read, &fixture),
        TU_FIXTURE_TEST(test_evicted_while_open, &fixture),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
