/*
 * tier-cat.c — writes objects as libseaftier's backends return them to seaf-server,
 * for tests/seafile/check-s3.py to compare with what S3 holds.
 *
 * Usage: tier-cat CONF_DIR SEAF_DIR OUT_DIR < LIST
 * LIST has one "TYPE REPO_ID OBJ_ID" line per object (TYPE: commits, fs, blocks);
 * each object is written to OUT_DIR/TYPE-REPO_ID-OBJ_ID (the same id may name other bytes in
 * another library: commits of one second with the same root, creator and description). Exits 1 if any object could not be read.
 * The caller makes sure the objects are in the local tier (a miss would be filled from S3,
 * which is what the comparison must not rely on).
 */
#include <seaftier/backend.h>

#include <stdio.h>
#include <string.h>

static gboolean
write_out(const char *out_dir, const char *type, const char *repo_id, const char *obj_id,
          const void *data, gsize len)
{
    char *name = g_strdup_printf("%s-%s-%s", type, repo_id, obj_id);
    char *path = g_build_filename(out_dir, name, NULL);
    GError *err = NULL;
    gboolean ok = g_file_set_contents(path, data, (gssize)len, &err);
    if (!ok) {
        fprintf(stderr, "tier-cat: %s\n", err->message);
        g_error_free(err);
    }
    g_free(path);
    g_free(name);
    return ok;
}

static gboolean
cat_block(BlockBackend *bb, const char *repo_id, const char *block_id, const char *out_dir)
{
    BHandle *h = bb->open_block(bb, repo_id, 1, block_id, BLOCK_READ);
    if (!h)
        return FALSE;
    GByteArray *buf = g_byte_array_new();
    char chunk[65536];
    int n;
    while ((n = bb->read_block(bb, h, chunk, sizeof chunk)) > 0)
        g_byte_array_append(buf, (const guint8 *)chunk, (guint)n);
    bb->close_block(bb, h);
    bb->block_handle_free(bb, h);
    gboolean ok = n == 0 && write_out(out_dir, "blocks", repo_id, block_id, buf->data, buf->len);
    g_byte_array_free(buf, TRUE);
    return ok;
}

int
main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: tier-cat CONF_DIR SEAF_DIR OUT_DIR < LIST\n");
        return 2;
    }
    GKeyFile *config = g_key_file_new();
    char *conf = g_build_filename(argv[1], "seafile.conf", NULL);
    GError *err = NULL;
    if (!g_key_file_load_from_file(config, conf, G_KEY_FILE_NONE, &err)) {
        fprintf(stderr, "tier-cat: %s: %s\n", conf, err->message);
        return 2;
    }
    ObjBackend *commits = obj_backend_tier_new(argv[2], "commits", config, &err);
    ObjBackend *fs = commits ? obj_backend_tier_new(argv[2], "fs", config, &err) : NULL;
    BlockBackend *blocks = fs ? block_backend_tier_new(argv[2], config, &err) : NULL;
    if (!blocks) {
        fprintf(stderr, "tier-cat: %s\n", err->message);
        return 2;
    }
    int failed = 0;
    char line[256];
    while (fgets(line, sizeof line, stdin)) {
        char type[16], repo_id[64], obj_id[64];
        if (sscanf(line, "%15s %63s %63s", type, repo_id, obj_id) != 3)
            continue;
        gboolean ok;
        if (strcmp(type, "blocks") == 0) {
            ok = cat_block(blocks, repo_id, obj_id, argv[3]);
        } else {
            ObjBackend *ob = strcmp(type, "commits") == 0 ? commits : fs;
            void *data = NULL;
            int len = 0;
            ok = ob->read(ob, repo_id, 1, obj_id, &data, &len) == 0 &&
                 write_out(argv[3], type, repo_id, obj_id, data, (gsize)len);
            g_free(data);
        }
        if (!ok) {
            fprintf(stderr, "tier-cat: cannot read %s %s/%s\n", type, repo_id, obj_id);
            failed++;
        }
    }
    block_backend_tier_free(blocks);
    obj_backend_tier_free(fs);
    obj_backend_tier_free(commits);
    g_key_file_free(config);
    g_free(conf);
    return failed ? 1 : 0;
}
