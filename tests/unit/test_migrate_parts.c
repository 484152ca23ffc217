/*
 * tests/unit/test_migrate_parts.c — the parts of migrate/export that need no
 * S3 server: the object id checks (against two commits written by a real
 * Seafile server, and fs objects and blocks built as seaf-server builds
 * them), Seafile's fs layout as a remote (list, get, head, atomic put,
 * read-only refusal), and the resume state (confirmed objects survive a
 * reopen; a state file refuses another job).
 */
#include "seaftier-build.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <glib/gstdio.h>
#include <string.h>
#include <zlib.h>

#include "sync/migrate-state.h"
#include "sync/objid.h"
#include "sync/remote-fs.h"

#define REPO "15e66809-7593-4eb8-a182-31cc40c66a54"

/* Two commits of a real Seafile library, as seaf-server stores them (the
 * ids are the ones that server computed). */
static const char commit_a_id[] = "42e32ba5bea1277eb38e9e29855bf631cc97b73e";
static const char commit_a[] =
    "{\"commit_id\": \"42e32ba5bea1277eb38e9e29855bf631cc97b73e\", \"root_id\": "
    "\"9643c57118b2c4c8070fdf32ff7a5693a538defa\", \"repo_id\": \"15e66809-7593-4eb8-a182-31cc40c66a54\", "
    "\"creator_name\": \"baixiangcpp@gmail.com\", \"creator\": \"0000000000000000000000000000000000000000\", "
    "\"description\": \"Added \\\"event.png\\\".\", \"ctime\": 1551531508, \"parent_id\": "
    "\"6640b0c8a32bb4bef41a01c0abcdef7e98f5603d\", \"second_parent_id\": null, \"repo_name\": "
    "\"baixiangcpp\", \"repo_desc\": \"\", \"repo_category\": null, \"no_local_history\": 1, \"version\": 1}";
static const char commit_b_id[] = "6640b0c8a32bb4bef41a01c0abcdef7e98f5603d";
static const char commit_b[] =
    "{\n    \"commit_id\": \"6640b0c8a32bb4bef41a01c0abcdef7e98f5603d\",\n    \"root_id\": "
    "\"13d2e21b7d100264f498e846fe236cf68ca65717\",\n    \"repo_id\": \"15e66809-7593-4eb8-a182-31cc40c66a54\",\n"
    "    \"creator_name\": \"baixiangcpp@gmail.com\",\n    \"creator\": \"0000000000000000000000000000000000000000\",\n"
    "    \"description\": \"Added directory \\\"pic\\\"\",\n    \"ctime\": 1551531502,\n    \"parent_id\": "
    "\"b82f5bf248aad640c3a5d5821228d3dc543b7448\",\n    \"second_parent_id\": null,\n    \"repo_name\": "
    "\"baixiangcpp\",\n    \"repo_desc\": \"\",\n    \"repo_category\": null,\n    \"no_local_history\": 1,\n"
    "    \"version\": 1\n}";

static void
test_commit_ids(void **state)
{
    GError *err = NULL;
    assert_true(seaftier_obj_id_check(SEAFTIER_TYPE_COMMITS, commit_a_id, commit_a, strlen(commit_a), &err));
    assert_true(seaftier_obj_id_check(SEAFTIER_TYPE_COMMITS, commit_b_id, commit_b, strlen(commit_b), &err));
    /* One character of the description changed: another id. */
    char *edited = g_strdup(commit_a);
    strstr(edited, "event")[0] = 'E';
    assert_false(seaftier_obj_id_check(SEAFTIER_TYPE_COMMITS, commit_a_id, edited, strlen(edited), &err));
    assert_true(g_error_matches(err, SEAFTIER_OBJ_ID_ERROR, SEAFTIER_OBJ_ID_ERROR_MISMATCH));
    assert_non_null(strstr(err->message, commit_a_id));
    g_clear_error(&err);
    /* Truncated JSON is not a commit. */
    assert_false(seaftier_obj_id_check(SEAFTIER_TYPE_COMMITS, commit_a_id, commit_a, 100, &err));
    assert_true(g_error_matches(err, SEAFTIER_OBJ_ID_ERROR, SEAFTIER_OBJ_ID_ERROR_MALFORMED));
    g_clear_error(&err);
    /* The right bytes under another id. */
    assert_false(seaftier_obj_id_check(SEAFTIER_TYPE_COMMITS, commit_b_id, commit_a, strlen(commit_a), &err));
    g_clear_error(&err);
    g_free(edited);
}

static void
test_fs_and_block_ids(void **state)
{
    const char *json = "{\"block_ids\": [\"3f786850e387550fdab836ed7e6dc881de23001b\"], \"size\": 2, "
                       "\"type\": 1, \"version\": 1}";
    char *id = g_compute_checksum_for_string(G_CHECKSUM_SHA1, json, -1);
    guint8 z[512];
    uLongf zlen = sizeof z;
    assert_int_equal(compress2(z, &zlen, (const Bytef *)json, strlen(json), 6), Z_OK);
    GError *err = NULL;
    assert_true(seaftier_obj_id_check(SEAFTIER_TYPE_FS, id, z, zlen, &err));
    /* The uncompressed JSON is not what seaf-server stores for version 1. */
    assert_false(seaftier_obj_id_check(SEAFTIER_TYPE_FS, id, json, strlen(json), &err));
    assert_true(g_error_matches(err, SEAFTIER_OBJ_ID_ERROR, SEAFTIER_OBJ_ID_ERROR_MALFORMED));
    g_clear_error(&err);
    /* A flipped bit inside the stream (zlib's Adler-32 catches it, or the hash). */
    z[zlen / 2] ^= 0x10;
    assert_false(seaftier_obj_id_check(SEAFTIER_TYPE_FS, id, z, zlen, &err));
    g_clear_error(&err);
    /* Truncated. */
    z[zlen / 2] ^= 0x10;
    assert_false(seaftier_obj_id_check(SEAFTIER_TYPE_FS, id, z, zlen - 3, &err));
    g_clear_error(&err);
    /* The empty directory has no content to hash. */
    assert_true(seaftier_obj_id_check(SEAFTIER_TYPE_FS, "0000000000000000000000000000000000000000", "", 0, &err));

    /* A version-0 directory with one entry: hash of id, name, mode (LE). */
    guint8 v0[4 + 48 + 3];
    const char *child = "3f786850e387550fdab836ed7e6dc881de23001b";
    guint32 mode = 0100644;
    v0[0] = 0; v0[1] = 0; v0[2] = 0; v0[3] = 3;
    v0[4] = mode >> 24; v0[5] = (mode >> 16) & 0xff; v0[6] = (mode >> 8) & 0xff; v0[7] = mode & 0xff;
    memcpy(v0 + 8, child, 40);
    v0[48] = 0; v0[49] = 0; v0[50] = 0; v0[51] = 3;
    memcpy(v0 + 52, "a.c", 3);
    GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA1);
    guint8 mode_le[4] = { mode & 0xff, (mode >> 8) & 0xff, (mode >> 16) & 0xff, mode >> 24 };
    g_checksum_update(sum, (const guchar *)child, 40);
    g_checksum_update(sum, (const guchar *)"a.c", 3);
    g_checksum_update(sum, mode_le, 4);
    char *v0id = g_strdup(g_checksum_get_string(sum));
    g_checksum_free(sum);
    assert_true(seaftier_obj_id_check(SEAFTIER_TYPE_FS, v0id, v0, sizeof v0, &err));
    v0[52] = 'b';
    assert_false(seaftier_obj_id_check(SEAFTIER_TYPE_FS, v0id, v0, sizeof v0, &err));
    g_clear_error(&err);

    /* Blocks: SHA-1 of the bytes. */
    assert_true(seaftier_obj_id_check(SEAFTIER_TYPE_BLOCKS, "3f786850e387550fdab836ed7e6dc881de23001b",
                                      "a\n", 2, &err));
    assert_false(seaftier_obj_id_check(SEAFTIER_TYPE_BLOCKS, "3f786850e387550fdab836ed7e6dc881de23001b",
                                       "b\n", 2, &err));
    assert_non_null(strstr(err->message, "3f786850e387550fdab836ed7e6dc881de23001b"));
    g_clear_error(&err);
    g_free(v0id);
    g_free(id);
}

static gboolean
collect(const char *key, guint64 size, void *user_data)
{
    g_ptr_array_add(user_data, g_strdup_printf("%s:%" G_GUINT64_FORMAT, key, size));
    return TRUE;
}

static void
test_remote_fs(void **state)
{
    char *dir = g_dir_make_tmp("seaftier-rfs-XXXXXX", NULL);
    char *blocks = g_build_filename(dir, "blocks", NULL);
    GError *err = NULL;
    SeaftierRemote *ro = seaftier_remote_fs_new(blocks, FALSE, &err);
    assert_null(ro);                                    /* read-only: must exist */
    g_clear_error(&err);
    SeaftierRemote *rw = seaftier_remote_fs_new(blocks, TRUE, &err);
    assert_non_null(rw);
    const char *key = REPO "/3f786850e387550fdab836ed7e6dc881de23001b";
    SeaftierRemoteMeta meta = { .ctime = 1551531508 };
    assert_true(seaftier_remote_put(rw, key, "a\n", 2, &meta, &err));
    char *path = g_build_filename(blocks, REPO, "3f", "786850e387550fdab836ed7e6dc881de23001b", NULL);
    assert_true(g_file_test(path, G_FILE_TEST_IS_REGULAR));
    /* No temporary file is left beside it. */
    char *sub = g_path_get_dirname(path);
    GDir *d = g_dir_open(sub, 0, NULL);
    int entries = 0;
    while (g_dir_read_name(d))
        entries++;
    g_dir_close(d);
    assert_int_equal(entries, 1);
    /* Something that is not an object is not listed. */
    char *junk = g_build_filename(sub, "not-an-object", NULL);
    assert_true(g_file_set_contents(junk, "x", 1, NULL));

    ro = seaftier_remote_fs_new(blocks, FALSE, &err);
    assert_non_null(ro);
    void *data = NULL;
    gsize len = 0;
    SeaftierRemoteMeta got;
    assert_true(seaftier_remote_get(ro, key, &data, &len, &got, &err));
    assert_int_equal(len, 2);
    assert_memory_equal(data, "a\n", 2);
    assert_int_equal(got.ctime, 1551531508);           /* the object's age is kept */
    g_free(data);
    SeaftierRemoteInfo info;
    assert_true(seaftier_remote_head(ro, key, &info, &err));
    assert_int_equal(info.size, 2);
    GPtrArray *keys = g_ptr_array_new_with_free_func(g_free);
    assert_true(seaftier_remote_list(ro, "", collect, keys, &err));
    assert_int_equal(keys->len, 1);
    assert_string_equal(keys->pdata[0], REPO "/3f786850e387550fdab836ed7e6dc881de23001b:2");
    g_ptr_array_set_size(keys, 0);
    assert_true(seaftier_remote_list(ro, REPO "/", collect, keys, &err));
    assert_int_equal(keys->len, 1);
    g_ptr_array_set_size(keys, 0);
    assert_true(seaftier_remote_list(ro, "b82f5bf2-48aa-4d64-8b2f-5bf248aad640/", collect, keys, &err));
    assert_int_equal(keys->len, 0);
    g_ptr_array_free(keys, TRUE);

    /* Missing: NOT_FOUND; read-only: no writes; bad keys refused. */
    assert_false(seaftier_remote_get(ro, REPO "/0000000000000000000000000000000000000001", &data, &len,
                                     NULL, &err));
    assert_int_equal(seaftier_remote_classify(ro, err), SEAFTIER_REMOTE_ERR_NOT_FOUND);
    g_clear_error(&err);
    assert_false(seaftier_remote_put(ro, key, "b\n", 2, NULL, &err));
    assert_non_null(strstr(err->message, "read-only"));
    g_clear_error(&err);
    assert_false(seaftier_remote_get(ro, "../../etc/passwd", &data, &len, NULL, &err));
    g_clear_error(&err);

    seaftier_remote_free(ro);
    seaftier_remote_free(rw);
    g_unlink(junk);
    g_unlink(path);
    g_rmdir(sub);
    char *rdir = g_path_get_dirname(sub);
    g_rmdir(rdir);
    g_rmdir(blocks);
    g_rmdir(dir);
    g_free(rdir);
    g_free(junk);
    g_free(sub);
    g_free(path);
    g_free(blocks);
    g_free(dir);
}

static void
test_state(void **state)
{
    char *dir = g_dir_make_tmp("seaftier-mst-XXXXXX", NULL);
    char *path = g_build_filename(dir, "state.db", NULL);
    GError *err = NULL;
    SeaftierMigrateState *st = seaftier_migrate_state_open(path, "job A", &err);
    assert_non_null(st);
    for (int i = 0; i < 100; i++) {
        char *key = g_strdup_printf(REPO "/%040d", i);
        assert_true(seaftier_migrate_state_mark_done(st, SEAFTIER_TYPE_BLOCKS, key, 4096, &err));
        g_free(key);
    }
    assert_true(seaftier_migrate_state_is_done(st, SEAFTIER_TYPE_BLOCKS, REPO "/" "0000000000000000000000000000000000000042"));
    assert_false(seaftier_migrate_state_is_done(st, SEAFTIER_TYPE_FS, REPO "/" "0000000000000000000000000000000000000042"));
    assert_true(seaftier_migrate_state_close(st, &err));

    /* Reopened: everything confirmed is still there. */
    st = seaftier_migrate_state_open(path, "job A", &err);
    assert_non_null(st);
    assert_int_equal(seaftier_migrate_state_count(st), 100);
    assert_true(seaftier_migrate_state_is_done(st, SEAFTIER_TYPE_BLOCKS, REPO "/" "0000000000000000000000000000000000000099"));
    assert_true(seaftier_migrate_state_close(st, &err));

    /* Another job refuses the file, naming both. */
    assert_null(seaftier_migrate_state_open(path, "job B", &err));
    assert_non_null(strstr(err->message, "job A"));
    assert_non_null(strstr(err->message, "job B"));
    g_clear_error(&err);

    char *wal = g_strconcat(path, "-wal", NULL), *shm = g_strconcat(path, "-shm", NULL);
    g_unlink(wal);
    g_unlink(shm);
    g_unlink(path);
    g_rmdir(dir);
    g_free(wal);
    g_free(shm);
    g_free(path);
    g_free(dir);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_commit_ids),
        cmocka_unit_test(test_fs_and_block_ids),
        cmocka_unit_test(test_remote_fs),
        cmocka_unit_test(test_state),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
