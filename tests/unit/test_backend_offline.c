/*
 * tests/unit/test_backend_offline.c — the backends' local behaviour with no
 * S3 server at all (every section points at a closed port): id checks and
 * their log escaping, the block handle state machine, write-back round
 * trips from the tier, the shared registry, constructor errors, and the
 * "absent" answer of exists() when S3 cannot be asked.
 */
#include "seaftier-build.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include <seaftier/backend.h>
#include <seaftier/log.h>

#include "backend/common.h"

#define REPO "0b8f6e0c-1f3e-4c5a-9a8b-7c6d5e4f3a2b"
#define OBJ1 "0123456789abcdef0123456789abcdef01234567"
#define OBJ2 "89abcdef0123456789abcdef0123456789abcdef"

typedef struct {
    char *dir;
    GKeyFile *kf;
} Fixture;

static GKeyFile *
offline_config(const char *dir, gboolean with_tier_dir)
{
    static const char *const sections[] = { "commit_object_backend", "fs_object_backend",
                                            "block_backend" };
    static const char *const buckets[] = { "seaftier-commits", "seaftier-fs", "seaftier-blocks" };
    GKeyFile *kf = g_key_file_new();
    for (int i = 0; i < 3; i++) {
        g_key_file_set_string(kf, sections[i], "name", "s3");
        g_key_file_set_string(kf, sections[i], "bucket", buckets[i]);
        g_key_file_set_string(kf, sections[i], "key_id", "offlinekeyid");
        g_key_file_set_string(kf, sections[i], "key", "offlinesecretkey");
        g_key_file_set_string(kf, sections[i], "host", "127.0.0.1:9");
        g_key_file_set_string(kf, sections[i], "path_style_request", "true");
        g_key_file_set_string(kf, sections[i], "use_v4_signature", "true");
        g_key_file_set_string(kf, sections[i], "max_retries", "0");
        g_key_file_set_string(kf, sections[i], "connect_timeout", "1");
    }
    if (with_tier_dir) {
        char *tier = g_build_filename(dir, "tier", NULL);
        g_key_file_set_string(kf, "tier", "dir", tier);
        g_free(tier);
    }
    g_key_file_set_string(kf, "tier", "min_free_space", "0");
    return kf;
}

static int
setup(void **state)
{
    Fixture *f = g_new0(Fixture, 1);
    f->dir = g_dir_make_tmp("seaftier-offline-XXXXXX", NULL);
    assert_non_null(f->dir);
    f->kf = offline_config(f->dir, TRUE);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    Fixture *f = *state;
    char *argv[] = { "rm", "-rf", "--", f->dir, NULL };
    g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
    g_key_file_free(f->kf);
    g_free(f->dir);
    g_free(f);
    return 0;
}

static void
test_id_for_log(void **state)
{
    char buf[256];
    assert_string_equal(seaftier_be_id_for_log(NULL, buf), "(null)");
    assert_string_equal(seaftier_be_id_for_log("abc", buf), "abc");
    assert_string_equal(seaftier_be_id_for_log("a\nb\"c\\\x01\xff", buf),
                        "a\\x0ab\\x22c\\x5c\\x01\\xff");
    /* Long input: 48 bytes kept, then "...". */
    char longid[200];
    memset(longid, 'x', sizeof longid - 1);
    longid[sizeof longid - 1] = '\0';
    seaftier_be_id_for_log(longid, buf);
    assert_int_equal(strlen(buf), 48 + 3);
    assert_true(g_str_has_suffix(buf, "..."));
    /* Worst case: every byte escaped still fits. */
    memset(longid, '\x80', sizeof longid - 1);
    seaftier_be_id_for_log(longid, buf);
    assert_int_equal(strlen(buf), 48 * 4 + 3);
    assert_true(seaftier_be_check_ids("test", REPO, OBJ1));
    assert_false(seaftier_be_check_ids("test", REPO, "0123456789ABCDEF0123456789abcdef01234567"));
    assert_false(seaftier_be_check_ids("test", "../" REPO, OBJ1));
    assert_false(seaftier_be_check_ids("test", NULL, NULL));
}

static void
test_constructors(void **state)
{
    Fixture *f = *state;
    GError *err = NULL;
    ObjBackend *commits = obj_backend_tier_new(f->dir, "commits", f->kf, &err);
    assert_non_null(commits);
    ObjBackend *fs = obj_backend_tier_new(NULL, "fs", f->kf, &err);
    assert_non_null(fs);
    BlockBackend *blocks = block_backend_tier_new(f->dir, f->kf, &err);
    assert_non_null(blocks);
    /* One tier and one set of clients for the three. */
    assert_ptr_equal(seaftier_obj_backend_shared(commits), seaftier_obj_backend_shared(fs));
    assert_ptr_equal(seaftier_obj_backend_shared(fs), seaftier_block_backend_shared(blocks));
    assert_int_equal(seaftier_obj_backend_type(commits), SEAFTIER_TYPE_COMMITS);
    assert_int_equal(seaftier_obj_backend_type(fs), SEAFTIER_TYPE_FS);

    assert_null(obj_backend_tier_new(f->dir, "blocks", f->kf, &err));
    assert_non_null(err);
    assert_non_null(strstr(err->message, "blocks"));
    g_clear_error(&err);
    assert_null(obj_backend_tier_new(f->dir, "commits", NULL, &err));
    assert_non_null(err);
    g_clear_error(&err);

    /* Without [tier] dir the tier lives in <seaf_dir>/seaftier ... */
    GKeyFile *nodir = offline_config(f->dir, FALSE);
    ObjBackend *in_seaf = obj_backend_tier_new(f->dir, "commits", nodir, &err);
    assert_non_null(in_seaf);
    char *expect = g_build_filename(f->dir, "seaftier", NULL);
    assert_string_equal(seaftier_obj_backend_shared(in_seaf)->site->tier_dir, expect);
    assert_ptr_not_equal(seaftier_obj_backend_shared(in_seaf), seaftier_obj_backend_shared(fs));
    g_free(expect);
    obj_backend_tier_free(in_seaf);
    /* ... and without either it is an error that says so. */
    assert_null(obj_backend_tier_new(NULL, "commits", nodir, &err));
    assert_non_null(err);
    assert_non_null(strstr(err->message, "[tier] dir"));
    g_clear_error(&err);
    g_key_file_free(nodir);

    /* A broken config names what is wrong. */
    GKeyFile *bad = offline_config(f->dir, TRUE);
    g_key_file_set_string(bad, "block_backend", "bucket", "Bad_Bucket");
    assert_null(block_backend_tier_new(f->dir, bad, &err));
    assert_non_null(err);
    assert_non_null(strstr(err->message, "bucket"));
    g_clear_error(&err);
    g_key_file_free(bad);

    obj_backend_tier_free(commits);
    obj_backend_tier_free(fs);
    block_backend_tier_free(blocks);
    obj_backend_tier_free(NULL);
    block_backend_tier_free(NULL);
}

static void
test_offline_objects(void **state)
{
    Fixture *f = *state;
    GError *err = NULL;
    ObjBackend *b = obj_backend_tier_new(f->dir, "fs", f->kf, &err);
    assert_non_null(b);
    char payload[] = "{\"type\": 3, \"entries\": []}";
    assert_int_equal(b->write(b, REPO, 1, OBJ1, payload, (int)sizeof payload, TRUE), 0);
    assert_int_equal(b->write(b, REPO, 1, OBJ1, payload, (int)sizeof payload, FALSE), 0);
    void *data = NULL;
    int len = 0;
    assert_int_equal(b->read(b, REPO, 1, OBJ1, &data, &len), 0);
    assert_int_equal(len, sizeof payload);
    assert_memory_equal(data, payload, sizeof payload);
    g_free(data);
    assert_true(b->exists(b, REPO, 1, OBJ1));
    /* Empty objects come back as a freeable buffer of length 0. */
    assert_int_equal(b->write(b, REPO, 1, OBJ2, NULL, 0, TRUE), 0);
    assert_int_equal(b->read(b, REPO, 1, OBJ2, &data, &len), 0);
    assert_int_equal(len, 0);
    assert_non_null(data);
    g_free(data);
    assert_int_equal(b->write(b, REPO, 1, OBJ2, NULL, 5, TRUE), -1);
    assert_int_equal(b->write(b, REPO, 1, OBJ2, payload, -1, TRUE), -1);
    assert_int_equal(b->read(b, REPO, 1, OBJ1, NULL, &len), -1);

    /* Unknown object, S3 unreachable: "absent", never an error or a TRUE. */
    const char *other = "fedcba9876543210fedcba9876543210fedcba98";
    assert_false(b->exists(b, REPO, 1, other));
    assert_int_equal(b->read(b, REPO, 1, other, &data, &len), -1);

    /* A delete works offline and is final for reads. */
    b->delete(b, REPO, 1, OBJ1);
    assert_false(b->exists(b, REPO, 1, OBJ1));
    assert_int_equal(b->read(b, REPO, 1, OBJ1, &data, &len), -1);
    SeaftierTierEntry e;
    assert_true(seaftier_tier_lookup(seaftier_obj_backend_shared(b)->site->tier, SEAFTIER_TYPE_FS, REPO,
                                     OBJ1, &e, NULL));
    assert_int_equal(e.state, SEAFTIER_STATE_DELETED);
    /* Copy of a dirty object needs no S3. */
    const char *repo2 = "1b8f6e0c-1f3e-4c5a-9a8b-7c6d5e4f3a2b";
    assert_int_equal(b->copy(b, REPO, 1, repo2, 1, OBJ2), 0);
    assert_true(b->exists(b, repo2, 1, OBJ2));
    /* foreach needs S3's listing: it fails rather than give half a list. */
    assert_int_equal(b->foreach_obj(b, REPO, 1, NULL, NULL), -1);
    obj_backend_tier_free(b);
}

static void
test_offline_block_handles(void **state)
{
    Fixture *f = *state;
    GError *err = NULL;
    BlockBackend *b = block_backend_tier_new(f->dir, f->kf, &err);
    assert_non_null(b);
    guint8 data[70000], buf[4096];
    for (gsize i = 0; i < sizeof data; i++)
        data[i] = (guint8)(i * 7 + i / 251);

    BHandle *w = b->open_block(b, REPO, 1, OBJ1, BLOCK_WRITE);
    assert_non_null(w);
    for (gsize off = 0; off < sizeof data; off += 1000)
        assert_int_equal(b->write_block(b, w, data + off, (int)MIN(1000, sizeof data - off)),
                         (int)MIN(1000, sizeof data - off));
    assert_int_equal(b->write_block(b, w, NULL, 0), 0);
    assert_int_equal(b->read_block(b, w, buf, 1), -1);
    assert_int_equal(b->close_block(b, w), 0);
    assert_int_equal(b->commit_block(b, w), 0);
    assert_int_equal(b->commit_block(b, w), -1);
    BMetadata *md = b->stat_block_by_handle(b, w);
    assert_non_null(md);
    assert_int_equal(md->size, sizeof data);
    g_free(md);
    b->block_handle_free(b, w);

    md = b->stat_block(b, REPO, 1, OBJ1);
    assert_non_null(md);
    assert_int_equal(md->size, sizeof data);
    assert_string_equal(md->id, OBJ1);
    g_free(md);
    assert_int_equal(b->exists(b, REPO, 1, OBJ1), 1);

    BHandle *r = b->open_block(b, REPO, 1, OBJ1, BLOCK_READ);
    assert_non_null(r);
    assert_int_equal(b->write_block(b, r, data, 1), -1);
    assert_int_equal(b->commit_block(b, r), -1);
    gsize got = 0;
    int n;
    while ((n = b->read_block(b, r, buf, sizeof buf)) > 0) {
        assert_memory_equal(buf, data + got, (gsize)n);
        got += (gsize)n;
    }
    assert_int_equal(n, 0);
    assert_int_equal(got, sizeof data);
    assert_int_equal(b->read_block(b, r, buf, sizeof buf), 0);
    assert_int_equal(b->read_block(b, r, buf, -5), -1);
    assert_int_equal(b->close_block(b, r), 0);
    b->block_handle_free(b, r);

    /* Uncommitted: discarded. */
    w = b->open_block(b, REPO, 1, OBJ2, BLOCK_WRITE);
    assert_non_null(w);
    assert_int_equal(b->write_block(b, w, data, 100), 100);
    b->block_handle_free(b, w);
    assert_int_equal(b->exists(b, REPO, 1, OBJ2), 0);
    assert_null(b->open_block(b, REPO, 1, OBJ2, BLOCK_READ));
    assert_null(b->stat_block(b, REPO, 1, OBJ2));

    assert_int_equal(b->remove_block(b, REPO, 1, OBJ1), 0);
    assert_int_equal(b->exists(b, REPO, 1, OBJ1), 0);
    assert_null(b->open_block(b, REPO, 1, OBJ1, BLOCK_READ));
    assert_int_equal(b->remove_block(b, "nope", 1, OBJ1), -1);
    block_backend_tier_free(b);
}

int
main(void)
{
    g_setenv("SEAFTIER_LOG_LEVEL", "error", FALSE);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_id_for_log),
        cmocka_unit_test_setup_teardown(test_constructors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_offline_objects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_offline_block_handles, setup, teardown),
    };
    return cmocka_run_group_tests_name("backend (no S3)", tests, NULL, NULL);
}
