/* Unit tests of the tier's building blocks: CRC32C, the codec, id checks,
 * state names and the RAM tier. */
#include "seaftier-build.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "tier/codec.h"
#include "tier/crc32c.h"
#include "tier/ram.h"
#include "tier/tier.h"

static void
test_crc32c_vectors(void **state)
{
    /* RFC 3720 (iSCSI) B.4 and the common check value. */
    assert_int_equal(seaftier_crc32c(0, "123456789", 9), 0xe3069283u);
    assert_int_equal(seaftier_crc32c_sw(0, "123456789", 9), 0xe3069283u);
    unsigned char zeros[32] = { 0 }, ones[32], inc[32], dec[32];
    memset(ones, 0xff, sizeof(ones));
    for (int i = 0; i < 32; i++) {
        inc[i] = (unsigned char)i;
        dec[i] = (unsigned char)(31 - i);
    }
    assert_int_equal(seaftier_crc32c(0, zeros, 32), 0x8a9136aau);
    assert_int_equal(seaftier_crc32c(0, ones, 32), 0x62a8ab43u);
    assert_int_equal(seaftier_crc32c(0, inc, 32), 0x46dd794eu);
    assert_int_equal(seaftier_crc32c(0, dec, 32), 0x113fdb5cu);
    assert_int_equal(seaftier_crc32c(0, "", 0), 0);
}

static void
test_crc32c_hw_matches_sw(void **state)
{
    gsize max = 3 * 8192 * 2 + 1000;
    unsigned char *buf = g_malloc(max + 8);
    GRand *r = g_rand_new_with_seed(42);
    for (gsize i = 0; i < max + 8; i++)
        buf[i] = (unsigned char)g_rand_int(r);
    static const gsize lens[] = { 0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 79, 255, 256, 257, 300,
                                  511, 512, 513, 767, 768, 769, 1000, 1023, 1024, 1025, 4096,
                                  4111, 24575, 24576, 24577, 49152 + 1000 };
    static const SeaftierCrc32cImpl impls[] = { SEAFTIER_CRC32C_SSE42, SEAFTIER_CRC32C_VPCLMUL };
    for (gsize li = 0; li < G_N_ELEMENTS(lens); li++)
        for (gsize off = 0; off < 8; off++) {
            guint32 a = seaftier_crc32c(0, buf + off, lens[li]);
            guint32 b = seaftier_crc32c_sw(0, buf + off, lens[li]);
            assert_int_equal(a, b);
            /* Every implementation this CPU has, including the folding
             * ones on lengths that leave every kind of remainder. */
            for (gsize k = 0; k < G_N_ELEMENTS(impls); k++) {
                guint32 c = 0;
                if (seaftier_crc32c_impl(impls[k], 0x12345678u, buf + off, lens[li], &c))
                    assert_int_equal(c, seaftier_crc32c_sw(0x12345678u, buf + off, lens[li]));
            }
            /* Continuation equals one pass. */
            gsize half = lens[li] / 3;
            guint32 c = seaftier_crc32c(seaftier_crc32c(0, buf + off, half), buf + off + half,
                                        lens[li] - half);
            assert_int_equal(a, c);
        }
    g_rand_free(r);
    g_free(buf);
    /* A CPU that offers the instructions gets them used (unless the
     * SEAFTIER_CRC32C override restricts the choice). */
    guint32 v;
    gboolean forced = g_getenv("SEAFTIER_CRC32C") != NULL;
    if (!forced && __builtin_cpu_supports("sse4.2"))
        assert_true(seaftier_crc32c_impl(SEAFTIER_CRC32C_SSE42, 0, "x", 1, &v));
    if (!forced && __builtin_cpu_supports("sse4.2") && __builtin_cpu_supports("pclmul") &&
        __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("vpclmulqdq"))
        assert_true(seaftier_crc32c_impl(SEAFTIER_CRC32C_VPCLMUL, 0, "x", 1, &v));
    assert_non_null(seaftier_crc32c_impl_name());
}

static void
test_codec_choice(void **state)
{
    gsize n = 100000;
    char *text = g_malloc(n);
    for (gsize i = 0; i < n; i++)
        text[i] = "seafile block of repeated text "[i % 31];
    void *out = NULL;
    gsize out_len = 0;
    assert_int_equal(seaftier_codec_encode(text, n, TRUE, &out, &out_len), SEAFTIER_CODEC_LZ4);
    assert_non_null(out);
    assert_true(out_len < n / 4);
    char *back = g_malloc(n);
    const char *problem = NULL;
    assert_true(seaftier_codec_decode(SEAFTIER_CODEC_LZ4, out, out_len, back, n, &problem));
    assert_memory_equal(back, text, n);
    /* A wrong expected size is caught. */
    assert_false(seaftier_codec_decode(SEAFTIER_CODEC_LZ4, out, out_len, back, n - 1, &problem));
    assert_non_null(problem);
    /* Truncated lz4 data is refused. */
    assert_false(seaftier_codec_decode(SEAFTIER_CODEC_LZ4, out, out_len / 2, back, n, &problem));
    g_free(out);

    /* Compression off, and incompressible data, give raw. */
    assert_int_equal(seaftier_codec_encode(text, n, FALSE, &out, &out_len), SEAFTIER_CODEC_RAW);
    assert_null(out);
    GRand *r = g_rand_new_with_seed(7);
    for (gsize i = 0; i < n; i++)
        text[i] = (char)g_rand_int(r);
    g_rand_free(r);
    assert_int_equal(seaftier_codec_encode(text, n, TRUE, &out, &out_len), SEAFTIER_CODEC_RAW);
    assert_null(out);
    assert_int_equal(out_len, n);
    assert_false(seaftier_codec_decode(7, text, n, back, n, &problem));

    /* lz4 is kept only when it saves at least a quarter: random bytes
     * followed by zeros save about as much as the zeros' share. */
    memset(text + n - n * 15 / 100, 0, n * 15 / 100);
    assert_int_equal(seaftier_codec_encode(text, n, TRUE, &out, &out_len), SEAFTIER_CODEC_RAW);
    assert_null(out);
    memset(text + n - n * 40 / 100, 0, n * 40 / 100);
    assert_int_equal(seaftier_codec_encode(text, n, TRUE, &out, &out_len), SEAFTIER_CODEC_LZ4);
    assert_true(out_len <= n - n / 4);
    assert_true(seaftier_codec_decode(SEAFTIER_CODEC_LZ4, out, out_len, back, n, &problem));
    assert_memory_equal(back, text, n);
    g_free(out);
    g_free(back);
    g_free(text);
}

static void
test_ids_and_states(void **state)
{
    assert_true(seaftier_valid_repo_id("0ad8b22f-5a1b-4d3c-9a2e-3f1c2b4d5e6f"));
    assert_true(seaftier_valid_repo_id("0AD8B22F-5A1B-4D3C-9A2E-3F1C2B4D5E6F"));
    assert_false(seaftier_valid_repo_id(NULL));
    assert_false(seaftier_valid_repo_id(""));
    assert_false(seaftier_valid_repo_id("0ad8b22f-5a1b-4d3c-9a2e-3f1c2b4d5e6"));
    assert_false(seaftier_valid_repo_id("0ad8b22f-5a1b-4d3c-9a2e-3f1c2b4d5e6f0"));
    assert_false(seaftier_valid_repo_id("0ad8b22f05a1b-4d3c-9a2e-3f1c2b4d5e6f"));
    assert_false(seaftier_valid_repo_id("../../../etc/passwd-aaaa-bbbb-cccccccc"));
    assert_false(seaftier_valid_repo_id("0ad8b22g-5a1b-4d3c-9a2e-3f1c2b4d5e6f"));
    assert_true(seaftier_valid_obj_id("da39a3ee5e6b4b0d3255bfef95601890afd80709"));
    assert_false(seaftier_valid_obj_id("DA39A3EE5E6B4B0D3255BFEF95601890AFD80709"));
    assert_false(seaftier_valid_obj_id("da39a3ee5e6b4b0d3255bfef95601890afd8070"));
    assert_false(seaftier_valid_obj_id("da39a3ee5e6b4b0d3255bfef95601890afd807090"));
    assert_false(seaftier_valid_obj_id("da39a3ee5e6b4b0d3255bfef95601890afd8070/"));
    assert_false(seaftier_valid_obj_id(NULL));

    SeaftierState s;
    for (int i = 0; i < 3; i++) {
        assert_true(seaftier_state_from_name(seaftier_state_name((SeaftierState)i), &s));
        assert_int_equal(s, i);
    }
    assert_string_equal(seaftier_state_name(SEAFTIER_STATE_DIRTY), "dirty");
    assert_false(seaftier_state_from_name("Dirty", &s));
    assert_false(seaftier_state_from_name(NULL, &s));
}

static const char *repo = "0ad8b22f-5a1b-4d3c-9a2e-3f1c2b4d5e6f";

static void
obj_id(int i, char out[41])
{
    char *h = g_compute_checksum_for_data(G_CHECKSUM_SHA1, (const guchar *)&i, sizeof(i));
    memcpy(out, h, 41);
    g_free(h);
}

static void
test_ram_lru(void **state)
{
    assert_null(seaftier_ram_new(0, 1024));
    /* 16 shards of 64 KiB: objects up to 16 KiB are kept. */
    TierRam *ram = seaftier_ram_new(16 * 65536, 65536);
    char id[41];
    char buf[4096];
    void *data;
    gsize len;
    gint64 rowid, mark;
    guint64 epoch;
    obj_id(0, id);
    memset(buf, 'a', sizeof(buf));
    seaftier_ram_put(ram, 0, repo, id, buf, sizeof(buf), 7, 3, 100);
    assert_true(seaftier_ram_get(ram, 0, repo, id, &data, &len, &rowid, &epoch, &mark));
    assert_int_equal(len, sizeof(buf));
    assert_memory_equal(data, buf, len);
    assert_int_equal(rowid, 7);
    assert_int_equal(epoch, 3);
    assert_int_equal(mark, 100);
    g_free(data);
    assert_false(seaftier_ram_get(ram, 1, repo, id, &data, &len, &rowid, &epoch, &mark));
    seaftier_ram_touch(ram, 0, repo, id, 5, 200);
    assert_true(seaftier_ram_get(ram, 0, repo, id, &data, &len, &rowid, &epoch, &mark));
    assert_int_equal(epoch, 5);
    assert_int_equal(mark, 200);
    g_free(data);

    /* Too big for a shard's quarter: not kept. */
    char *big = g_malloc0(20000);
    obj_id(1, id);
    seaftier_ram_put(ram, 0, repo, id, big, 20000, 1, 0, 0);
    assert_false(seaftier_ram_get(ram, 0, repo, id, &data, &len, &rowid, &epoch, &mark));
    g_free(big);

    /* Fill far beyond the capacity: the bound holds, recent ones stay. */
    for (int i = 0; i < 2000; i++) {
        obj_id(i, id);
        seaftier_ram_put(ram, 0, repo, id, buf, sizeof(buf), i, 0, 0);
    }
    guint64 bytes, entries;
    seaftier_ram_usage(ram, &bytes, &entries);
    assert_true(bytes <= 16 * 65536);
    assert_true(entries > 100);
    obj_id(1999, id);
    assert_true(seaftier_ram_get(ram, 0, repo, id, &data, &len, &rowid, &epoch, &mark));
    g_free(data);
    obj_id(0, id);
    assert_false(seaftier_ram_get(ram, 0, repo, id, &data, &len, &rowid, &epoch, &mark));
    seaftier_ram_remove(ram, 0, repo, (obj_id(1999, id), id));
    assert_false(seaftier_ram_get(ram, 0, repo, id, &data, &len, &rowid, &epoch, &mark));
    seaftier_ram_remove_repo(ram, repo);
    seaftier_ram_usage(ram, &bytes, &entries);
    assert_int_equal(bytes, 0);
    assert_int_equal(entries, 0);
    /* An entry hit between puts stays while far more than the capacity
     * streams through (a hit gives it another turn at eviction). */
    char hot[41];
    obj_id(100000, hot);
    seaftier_ram_put(ram, 0, repo, hot, buf, sizeof(buf), 1, 0, 0);
    for (int i = 0; i < 2000; i++) {
        obj_id(200000 + i, id);
        seaftier_ram_put(ram, 0, repo, id, buf, sizeof(buf), i, 0, 0);
        if (!seaftier_ram_get(ram, 0, repo, hot, &data, &len, &rowid, &epoch, &mark))
            fail_msg("a hot entry was evicted after %d puts", i + 1);
        g_free(data);
    }
    seaftier_ram_usage(ram, &bytes, &entries);
    assert_true(bytes <= 16 * 65536);
    seaftier_ram_remove_repo(ram, NULL);
    /* Zero-length objects are fine. */
    seaftier_ram_put(ram, 2, repo, id, "", 0, 1, 0, 0);
    assert_true(seaftier_ram_get(ram, 2, repo, id, &data, &len, &rowid, &epoch, &mark));
    assert_int_equal(len, 0);
    g_free(data);
    seaftier_ram_free(ram);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32c_vectors),
        cmocka_unit_test(test_crc32c_hw_matches_sw),
        cmocka_unit_test(test_codec_choice),
        cmocka_unit_test(test_ids_and_states),
        cmocka_unit_test(test_ram_lru),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
