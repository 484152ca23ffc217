/*
 * tests/unit/test_tier_loc.c — the location cache (lib/tier/loc.c) and the
 * reads through it (tier.c): the cache keeps what it is given within its
 * bound and forgets it when the shared delete epoch moves; a hit through it
 * skips the key lookup, and never answers what the index would not —
 * another handle's delete or eviction, a damaged copy, a row id freed and
 * given to another object. Two tier handles on one directory stand for two
 * processes. Real SQLite index in a temporary directory; no network.
 */
#include "seaftier-build.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "tier/tier.h"
#include "tier-testutil.h"
#include "tier/tier-private.h"     /* the cache itself, the bad-copy SQL */

#define REPO "0ad8b22f-5a1b-4d3c-9a2e-3f1c2b4d5e6f"
#define OTHER_REPO "7c1d2e3f-4a5b-4c6d-8e7f-a0b1c2d3e4f5"
#define ENTRY_BYTES 72
#define WAYS 8
#define STRIPES 16

/* fx->tier reads (RAM tier off: every hit is a disk hit); fx->second is
 * the other process. Objects above 4 KiB are files. */
static const TuFixtureSpec fixture = {
    .name = "test_tier_loc",
    .ram_cache_size = 0,
    .inline_max = 4096,
    .second_handle = TRUE,
};

static TierLocation
location(gint64 rowid)
{
    return (TierLocation){ .rowid = rowid, .generation = rowid * 7, .size = 100 + rowid,
                           .stored_size = 90 + rowid, .checksum = 0xc0ffee, .codec = 1,
                           .location = 0, .atime_mark = 1700000000 };
}

static void
assert_location_equal(const TierLocation *got, const TierLocation *want)
{
    assert_int_equal(got->rowid, want->rowid);
    assert_int_equal(got->generation, want->generation);
    assert_int_equal(got->size, want->size);
    assert_int_equal(got->stored_size, want->stored_size);
    assert_int_equal(got->checksum, want->checksum);
    assert_int_equal(got->codec, want->codec);
    assert_int_equal(got->location, want->location);
    assert_int_equal(got->atime_mark, want->atime_mark);
}

static guint64
cached_entries(TierLoc *loc)
{
    guint64 entries, slots;
    seaftier_loc_usage(loc, &entries, &slots);
    return entries;
}

/* Put and get give back every field; ids that are not canonical, sizes
 * beyond 32 bits and another type or repo are not mixed up or kept. */
static void
test_cache_round_trip(void **state)
{
    (void)state;
    TierLoc *loc = seaftier_loc_new(64 * 1024);
    char id[41];
    tu_make_id(1, id);
    TierLocation want = location(5), got;
    assert_false(seaftier_loc_get(loc, SEAFTIER_TYPE_FS, REPO, id, 0, &got));
    seaftier_loc_put(loc, SEAFTIER_TYPE_FS, REPO, id, 0, &want);
    assert_true(seaftier_loc_get(loc, SEAFTIER_TYPE_FS, REPO, id, 0, &got));
    assert_location_equal(&got, &want);
    assert_false(seaftier_loc_get(loc, SEAFTIER_TYPE_BLOCKS, REPO, id, 0, &got));
    assert_false(seaftier_loc_get(loc, SEAFTIER_TYPE_FS, OTHER_REPO, id, 0, &got));

    seaftier_loc_touch(loc, SEAFTIER_TYPE_FS, REPO, id, 1700000100);
    assert_true(seaftier_loc_get(loc, SEAFTIER_TYPE_FS, REPO, id, 0, &got));
    assert_int_equal(got.atime_mark, 1700000100);

    char upper[41];
    g_strlcpy(upper, id, sizeof upper);
    upper[0] = 'A';
    seaftier_loc_put(loc, SEAFTIER_TYPE_FS, REPO, upper, 0, &want);
    TierLocation huge = location(6);
    huge.size = (guint64)G_MAXUINT32 + 1;
    char id2[41];
    tu_make_id(2, id2);
    seaftier_loc_put(loc, SEAFTIER_TYPE_FS, REPO, id2, 0, &huge);
    assert_false(seaftier_loc_get(loc, SEAFTIER_TYPE_FS, REPO, upper, 0, &got));
    assert_false(seaftier_loc_get(loc, SEAFTIER_TYPE_FS, REPO, id2, 0, &got));
    assert_int_equal(cached_entries(loc), 1);

    seaftier_loc_remove(loc, SEAFTIER_TYPE_FS, REPO, id);
    assert_false(seaftier_loc_get(loc, SEAFTIER_TYPE_FS, REPO, id, 0, &got));
    assert_int_equal(cached_entries(loc), 0);
    seaftier_loc_free(loc);
    assert_null(seaftier_loc_new(0));
}

/* A newer epoch drops what was filled under an older one; a fill made
 * after reading an older epoch than the cache has seen is not kept. */
static void
test_cache_epoch(void **state)
{
    (void)state;
    TierLoc *loc = seaftier_loc_new(64 * 1024);
    char id[41];
    TierLocation want = location(1), got;
    for (int i = 0; i < 50; i++) {
        tu_make_id(i, id);
        seaftier_loc_put(loc, SEAFTIER_TYPE_FS, REPO, id, 3, &want);
    }
    assert_int_equal(cached_entries(loc), 50);
    tu_make_id(7, id);
    assert_true(seaftier_loc_get(loc, SEAFTIER_TYPE_FS, REPO, id, 3, &got));
    assert_false(seaftier_loc_get(loc, SEAFTIER_TYPE_FS, REPO, id, 2, &got));
    /* (every stripe looked at with the new epoch drops its entries) */
    for (int i = 0; i < 50; i++) {
        tu_make_id(i, id);
        assert_false(seaftier_loc_get(loc, SEAFTIER_TYPE_FS, REPO, id, 4, &got));
    }
    assert_int_equal(cached_entries(loc), 0);
    tu_make_id(1, id);
    seaftier_loc_put(loc, SEAFTIER_TYPE_FS, REPO, id, 3, &want);
    assert_false(seaftier_loc_get(loc, SEAFTIER_TYPE_FS, REPO, id, 4, &got));
    seaftier_loc_put(loc, SEAFTIER_TYPE_FS, REPO, id, 4, &want);
    assert_true(seaftier_loc_get(loc, SEAFTIER_TYPE_FS, REPO, id, 4, &got));
    seaftier_loc_free(loc);
}

/* One set: the ninth object pushes out the least recently used, and a get
 * makes an entry recently used. */
static void
test_cache_bound(void **state)
{
    (void)state;
    TierLoc *loc = seaftier_loc_new(1);
    guint64 entries, slots;
    seaftier_loc_usage(loc, &entries, &slots);
    assert_int_equal(slots, WAYS);
    char id[41];
    TierLocation got;
    for (int i = 0; i < WAYS; i++) {
        tu_make_id(i, id);
        TierLocation l = location(i + 1);
        seaftier_loc_put(loc, SEAFTIER_TYPE_FS, REPO, id, 0, &l);
    }
    tu_make_id(0, id);
    assert_true(seaftier_loc_get(loc, SEAFTIER_TYPE_FS, REPO, id, 0, &got));   /* 1 is oldest now */
    tu_make_id(WAYS, id);
    TierLocation l = location(WAYS + 1);
    seaftier_loc_put(loc, SEAFTIER_TYPE_FS, REPO, id, 0, &l);
    assert_int_equal(cached_entries(loc), WAYS);
    tu_make_id(1, id);
    assert_false(seaftier_loc_get(loc, SEAFTIER_TYPE_FS, REPO, id, 0, &got));
    for (int i = 0; i <= WAYS; i++) {
        if (i == 1)
            continue;
        tu_make_id(i, id);
        assert_true(seaftier_loc_get(loc, SEAFTIER_TYPE_FS, REPO, id, 0, &got));
        assert_int_equal(got.rowid, i + 1);
    }
    seaftier_loc_free(loc);
    /* The configured bytes bound the slots (whole sets, as many per stripe). */
    loc = seaftier_loc_new(1024 * 1024);
    seaftier_loc_usage(loc, &entries, &slots);
    assert_true(slots * ENTRY_BYTES <= 1024 * 1024);
    assert_true(slots * ENTRY_BYTES > 1024 * 1024 - STRIPES * WAYS * ENTRY_BYTES);
    seaftier_loc_free(loc);

    /* Objects filling 60% of the slots are all kept (each has two sets). */
    loc = seaftier_loc_new(1024 * 1024);
    seaftier_loc_usage(loc, &entries, &slots);
    guint64 n = slots * 6 / 10;
    for (guint64 i = 0; i < n; i++) {
        tu_make_id((int)i, id);
        TierLocation li = location((gint64)i + 1);
        seaftier_loc_put(loc, SEAFTIER_TYPE_FS, REPO, id, 0, &li);
    }
    guint64 kept = 0;
    for (guint64 i = 0; i < n; i++) {
        tu_make_id((int)i, id);
        kept += seaftier_loc_get(loc, SEAFTIER_TYPE_FS, REPO, id, 0, &got) && got.rowid == (gint64)i + 1;
    }
    assert_int_equal(cached_entries(loc), kept);
    assert_true(kept >= n - n / 1000);
    seaftier_loc_free(loc);
}

static guint64
located_hits(SeaftierTier *t, guint64 *disk_hits)
{
    SeaftierTierStats st;
    GError *err = NULL;
    assert_true(seaftier_tier_stats(t, &st, &err));
    *disk_hits = st.disk_hits;
    return st.located_hits;
}

/* The second read of an object goes through the cache, not the key
 * lookup: with the row's key changed behind the tier's back (no epoch
 * moved), the cache still finds the blob by its row id, and the key lookup
 * of a reader without the cache finds nothing. The stats count the hits
 * through the cache among the disk hits. */
static void
test_hit_skips_key_lookup(void **state)
{
    TuFixture *fx = *state;
    char id[41], sql[256];
    tu_make_id(1, id);
    unsigned char *data = tu_text_bytes(1000, 1);
    tu_store_ok(fx->second, SEAFTIER_TYPE_FS, REPO, id, data, 1000, SEAFTIER_STATE_CLEAN, TRUE);
    guint64 disk0, disk1;
    guint64 located0 = located_hits(fx->tier, &disk0);
    tu_read_expect(fx->tier, SEAFTIER_TYPE_FS, REPO, id, data, 1000);
    assert_int_equal(cached_entries(fx->tier->loc), 1);
    tu_read_expect(fx->tier, SEAFTIER_TYPE_FS, REPO, id, data, 1000);
    assert_int_equal(located_hits(fx->tier, &disk1) - located0, 1);
    assert_int_equal(disk1 - disk0, 2);
    g_snprintf(sql, sizeof sql, "UPDATE objects SET obj_id = tier_id('%040d') WHERE obj_id = tier_id('%s')",
               0, id);
    tu_sql_exec(fx->dir, sql);
    tu_read_expect(fx->tier, SEAFTIER_TYPE_FS, REPO, id, data, 1000);
    tu_read_fails(fx->second, SEAFTIER_TYPE_FS, REPO, id, SEAFTIER_TIER_ERROR_NOT_FOUND);
    g_free(data);
}

/* What another process does is seen by the next read through the cache:
 * a delete (DELETED), an eviction (of an inline object and of a file: a
 * miss), a new version of a file. */
static void
test_other_process_changes(void **state)
{
    TuFixture *fx = *state;
    char gone[41], evicted[41], file[41];
    tu_make_id(1, gone);
    tu_make_id(2, evicted);
    tu_make_id(3, file);
    unsigned char *small = tu_text_bytes(500, 2);
    unsigned char *big = tu_random_bytes(20000, 3);
    tu_store_ok(fx->second, SEAFTIER_TYPE_FS, REPO, gone, small, 500, SEAFTIER_STATE_CLEAN, TRUE);
    tu_store_ok(fx->second, SEAFTIER_TYPE_FS, REPO, evicted, small, 500, SEAFTIER_STATE_CLEAN,
                TRUE);
    tu_store_ok(fx->second, SEAFTIER_TYPE_FS, REPO, file, big, 20000, SEAFTIER_STATE_CLEAN, TRUE);
    for (int round = 0; round < 2; round++) {
        tu_read_expect(fx->tier, SEAFTIER_TYPE_FS, REPO, gone, small, 500);
        tu_read_expect(fx->tier, SEAFTIER_TYPE_FS, REPO, evicted, small, 500);
        tu_read_expect(fx->tier, SEAFTIER_TYPE_FS, REPO, file, big, 20000);
    }
    assert_int_equal(cached_entries(fx->tier->loc), 3);

    GError *err = NULL;
    assert_true(seaftier_tier_delete(fx->second, SEAFTIER_TYPE_FS, REPO, gone, &err));
    tu_read_fails(fx->tier, SEAFTIER_TYPE_FS, REPO, gone, SEAFTIER_TIER_ERROR_DELETED);

    tu_read_expect(fx->tier, SEAFTIER_TYPE_FS, REPO, evicted, small, 500);   /* cached again */
    tu_read_expect(fx->tier, SEAFTIER_TYPE_FS, REPO, file, big, 20000);
    assert_true(seaftier_tier_evict_one(fx->second, SEAFTIER_TYPE_FS, REPO, evicted, &err));
    assert_true(seaftier_tier_evict_one(fx->second, SEAFTIER_TYPE_FS, REPO, file, &err));
    assert_null(err);
    tu_read_fails(fx->tier, SEAFTIER_TYPE_FS, REPO, evicted, SEAFTIER_TIER_ERROR_NOT_FOUND);
    tu_read_fails(fx->tier, SEAFTIER_TYPE_FS, REPO, file, SEAFTIER_TIER_ERROR_NOT_FOUND);

    /* Filled again (a new generation: a file of another name). */
    tu_store_ok(fx->second, SEAFTIER_TYPE_FS, REPO, file, big, 20000, SEAFTIER_STATE_CLEAN, TRUE);
    tu_read_expect(fx->tier, SEAFTIER_TYPE_FS, REPO, file, big, 20000);
    tu_read_expect(fx->tier, SEAFTIER_TYPE_FS, REPO, file, big, 20000);
    tu_assert_usage_matches_rows(fx->dir);
    g_free(small);
    g_free(big);
}

/* A damaged copy read through the cache is found damaged by the index path,
 * which drops it and says so, as without the cache. */
static void
test_damage_goes_to_index_path(void **state)
{
    TuFixture *fx = *state;
    char id[41], sql[256];
    tu_make_id(1, id);
    unsigned char *data = tu_text_bytes(800, 4);
    tu_store_ok(fx->tier, SEAFTIER_TYPE_FS, REPO, id, data, 800, SEAFTIER_STATE_CLEAN, TRUE);
    tu_read_expect(fx->tier, SEAFTIER_TYPE_FS, REPO, id, data, 800);
    g_snprintf(sql, sizeof sql, "UPDATE blobs SET data = randomblob(800) WHERE id ="
               " (SELECT id FROM objects WHERE obj_id = tier_id('%s'))", id);
    tu_sql_exec(fx->dir, sql);
    /* (a commit of the tier's own, which a raw SQL one is not, makes the
     * kept read snapshot see the change) */
    char other[41];
    tu_make_id(2, other);
    tu_store_ok(fx->second, SEAFTIER_TYPE_FS, REPO, other, data, 10, SEAFTIER_STATE_CLEAN, TRUE);
    tu_read_fails(fx->tier, SEAFTIER_TYPE_FS, REPO, id, SEAFTIER_TIER_ERROR_CORRUPT);
    tu_read_fails(fx->tier, SEAFTIER_TYPE_FS, REPO, id, SEAFTIER_TIER_ERROR_NOT_FOUND);
    g_free(data);
}

/* A row id freed by another process (its damaged copy dropped) and given to
 * another object with the same bytes (neither size nor CRC tells them
 * apart): the entry naming it is never read through — the first object is
 * not found, as the index says, and the second reads as itself. */
static void
test_reused_row_id(void **state)
{
    TuFixture *fx = *state;
    char first[41], second[41], sql[256];
    tu_make_id(1, first);
    tu_make_id(2, second);
    unsigned char *a = tu_text_bytes(600, 5);
    tu_store_ok(fx->second, SEAFTIER_TYPE_FS, REPO, first, a, 600, SEAFTIER_STATE_CLEAN, TRUE);
    g_snprintf(sql, sizeof sql, "SELECT id FROM objects WHERE obj_id = tier_id('%s')", first);
    gint64 rowid = tu_sql_int(fx->dir, sql);
    tu_read_expect(fx->tier, SEAFTIER_TYPE_FS, REPO, first, a, 600);

    g_snprintf(sql, sizeof sql, "UPDATE blobs SET data = randomblob(600) WHERE id = %" G_GINT64_FORMAT,
               rowid);
    tu_sql_exec(fx->dir, sql);
    tu_read_fails(fx->second, SEAFTIER_TYPE_FS, REPO, first, SEAFTIER_TIER_ERROR_CORRUPT);
    tu_store_ok(fx->second, SEAFTIER_TYPE_FS, REPO, second, a, 600, SEAFTIER_STATE_CLEAN, TRUE);
    g_snprintf(sql, sizeof sql, "SELECT id FROM objects WHERE obj_id = tier_id('%s')", second);
    assert_int_equal(tu_sql_int(fx->dir, sql), rowid);      /* (SQLite gave the id again) */

    tu_read_fails(fx->tier, SEAFTIER_TYPE_FS, REPO, first, SEAFTIER_TIER_ERROR_NOT_FOUND);
    tu_read_expect(fx->tier, SEAFTIER_TYPE_FS, REPO, second, a, 600);
    g_free(a);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cache_round_trip),
        cmocka_unit_test(test_cache_epoch),
        cmocka_unit_test(test_cache_bound),
        TU_FIXTURE_TEST(test_hit_skips_key_lookup, &fixture),
        TU_FIXTURE_TEST(test_other_process_changes, &fixture),
        TU_FIXTURE_TEST(test_damage_goes_to_index_path, &fixture),
        TU_FIXTURE_TEST(test_reused_row_id, &fixture),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
