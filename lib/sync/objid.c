/* lib/sync/objid.c — see objid.h. */
#include "seaftier-build.h"

#include "sync/objid.h"

#include <string.h>
#include <zlib.h>

G_DEFINE_QUARK(seaftier-obj-id-error-quark, seaftier_obj_id_error)

static gboolean
sha1_matches(const char *obj_id, GChecksum *sum, char out[41])
{
    g_strlcpy(out, g_checksum_get_string(sum), 41);
    return g_ascii_strcasecmp(out, obj_id) == 0;
}

static gboolean
mismatch(SeaftierObjType type, const char *obj_id, const char *what, const char *got,
         GError **error)
{
    g_set_error(error, SEAFTIER_OBJ_ID_ERROR, SEAFTIER_OBJ_ID_ERROR_MISMATCH,
                "%s object %s: %s is %s, not the object id: the bytes are corrupt or stored "
                "under the wrong name", seaftier_type_name(type), obj_id, what, got);
    return FALSE;
}

static gboolean
malformed(SeaftierObjType type, const char *obj_id, const char *why, GError **error)
{
    g_set_error(error, SEAFTIER_OBJ_ID_ERROR, SEAFTIER_OBJ_ID_ERROR_MALFORMED,
                "%s object %s: %s", seaftier_type_name(type), obj_id, why);
    return FALSE;
}

static gboolean
check_block(const char *obj_id, const void *data, gsize len, GError **error)
{
    GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA1);
    g_checksum_update(sum, data, len);
    char hex[41];
    gboolean ok = sha1_matches(obj_id, sum, hex);
    g_checksum_free(sum);
    return ok || mismatch(SEAFTIER_TYPE_BLOCKS, obj_id, "SHA-1 of the bytes", hex, error);
}

/* zlib-inflates a whole buffer; NULL when it is not one complete zlib stream. */
static GByteArray *
inflate_all(const void *data, gsize len)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (len == 0 || len > G_MAXUINT || inflateInit(&zs) != Z_OK)
        return NULL;
    GByteArray *out = g_byte_array_new();
    guint8 buf[16384];
    zs.next_in = (Bytef *)data;
    zs.avail_in = (uInt)len;
    int rc;
    do {
        zs.next_out = buf;
        zs.avail_out = sizeof buf;
        rc = inflate(&zs, Z_NO_FLUSH);
        if (rc != Z_OK && rc != Z_STREAM_END)
            break;
        g_byte_array_append(out, buf, (guint)(sizeof buf - zs.avail_out));
    } while (rc != Z_STREAM_END && (zs.avail_in > 0 || zs.avail_out == 0));
    inflateEnd(&zs);
    if (rc != Z_STREAM_END || zs.avail_in != 0) {
        g_byte_array_free(out, TRUE);
        return NULL;
    }
    return out;
}

static guint32
get_be32(const guint8 *p)
{
    return ((guint32)p[0] << 24) | ((guint32)p[1] << 16) | ((guint32)p[2] << 8) | p[3];
}

/* A version-0 directory: a type word (3) then entries (mode, 40-char id,
 * name length, name), all big-endian; the id hashes id, name and the mode
 * as little-endian (seafile-server verify_seafdir_v0). */
static gboolean
check_dir_v0(const char *obj_id, const guint8 *p, gsize len, GError **error)
{
    const gsize base = 2 * 4 + 40;
    gsize remain = len - 4;
    p += 4;
    GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA1);
    while (remain > base) {
        guint32 mode = get_be32(p);
        const guint8 *id = p + 4;
        guint32 name_len = get_be32(p + 44);
        p += base;
        remain -= base;
        if (remain < name_len) {
            g_checksum_free(sum);
            return malformed(SEAFTIER_TYPE_FS, obj_id, "a version-0 directory entry runs past the "
                             "end of the object", error);
        }
        guint8 mode_le[4] = { mode & 0xff, (mode >> 8) & 0xff, (mode >> 16) & 0xff, mode >> 24 };
        g_checksum_update(sum, id, 40);
        g_checksum_update(sum, p, MIN(name_len, 255u));
        g_checksum_update(sum, mode_le, 4);
        p += name_len;
        remain -= name_len;
    }
    char hex[41];
    gboolean ok = sha1_matches(obj_id, sum, hex);
    g_checksum_free(sum);
    return ok || mismatch(SEAFTIER_TYPE_FS, obj_id, "the version-0 directory hash", hex, error);
}

static gboolean
check_fs(const char *obj_id, const void *data, gsize len, GError **error)
{
    if (strspn(obj_id, "0") == 40)
        return TRUE;                            /* the empty directory: no content */
    GByteArray *json = inflate_all(data, len);
    if (json) {
        GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA1);
        g_checksum_update(sum, json->data, json->len);
        char hex[41];
        gboolean ok = sha1_matches(obj_id, sum, hex);
        g_checksum_free(sum);
        g_byte_array_free(json, TRUE);
        return ok || mismatch(SEAFTIER_TYPE_FS, obj_id, "SHA-1 of the uncompressed JSON", hex,
                              error);
    }
    const guint8 *p = data;
    if (len >= 4 && get_be32(p) == 3)
        return check_dir_v0(obj_id, p, len, error);
    if (len >= 12 && get_be32(p) == 1 && (len - 12) % 20 == 0)
        return TRUE;                            /* version-0 file: no hash of its own bytes */
    return malformed(SEAFTIER_TYPE_FS, obj_id, "not a zlib-compressed JSON object nor a "
                     "version-0 object: the bytes are corrupt", error);
}

/* ---- the few JSON fields of a commit ---- */

typedef struct {
    const char *p, *end;
} Json;

static void
json_ws(Json *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

static int
hexval(char c)
{
    return g_ascii_xdigit_value(c);
}

static gboolean
json_hex4(Json *j, gunichar *out)
{
    if (j->end - j->p < 4)
        return FALSE;
    *out = 0;
    for (int i = 0; i < 4; i++) {
        int v = hexval(j->p[i]);
        if (v < 0)
            return FALSE;
        *out = *out * 16 + (gunichar)v;
    }
    j->p += 4;
    return TRUE;
}

/* A string literal at j->p; appended decoded to `out` when not NULL. */
static gboolean
json_string(Json *j, GString *out)
{
    if (j->p >= j->end || *j->p != '"')
        return FALSE;
    j->p++;
    while (j->p < j->end && *j->p != '"') {
        char c = *j->p++;
        if (c != '\\') {
            if (out)
                g_string_append_c(out, c);
            continue;
        }
        if (j->p >= j->end)
            return FALSE;
        char e = *j->p++;
        gunichar u;
        switch (e) {
        case '"': case '\\': case '/': u = (gunichar)e; break;
        case 'b': u = '\b'; break;
        case 'f': u = '\f'; break;
        case 'n': u = '\n'; break;
        case 'r': u = '\r'; break;
        case 't': u = '\t'; break;
        case 'u':
            if (!json_hex4(j, &u))
                return FALSE;
            if (u >= 0xd800 && u < 0xdc00 && j->end - j->p >= 6 && j->p[0] == '\\' && j->p[1] == 'u') {
                gunichar lo;
                j->p += 2;
                if (!json_hex4(j, &lo) || lo < 0xdc00 || lo > 0xdfff)
                    return FALSE;
                u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
            }
            break;
        default:
            return FALSE;
        }
        if (out)
            g_string_append_unichar(out, u);
    }
    if (j->p >= j->end)
        return FALSE;
    j->p++;
    return TRUE;
}

/* Skips any value (nested ones included). */
static gboolean
json_skip(Json *j)
{
    json_ws(j);
    if (j->p >= j->end)
        return FALSE;
    if (*j->p == '"')
        return json_string(j, NULL);
    if (*j->p == '{' || *j->p == '[') {
        char close = *j->p == '{' ? '}' : ']';
        j->p++;
        json_ws(j);
        if (j->p < j->end && *j->p == close) {
            j->p++;
            return TRUE;
        }
        for (;;) {
            if (close == '}') {
                json_ws(j);
                if (!json_string(j, NULL))
                    return FALSE;
                json_ws(j);
                if (j->p >= j->end || *j->p++ != ':')
                    return FALSE;
            }
            if (!json_skip(j))
                return FALSE;
            json_ws(j);
            if (j->p >= j->end)
                return FALSE;
            char c = *j->p++;
            if (c == close)
                return TRUE;
            if (c != ',')
                return FALSE;
        }
    }
    const char *start = j->p;
    while (j->p < j->end && (g_ascii_isalnum(*j->p) || *j->p == '-' || *j->p == '+' || *j->p == '.'))
        j->p++;
    return j->p > start;
}

typedef struct {
    GString *root_id, *creator, *creator_name, *description;
    gboolean has_creator_name, has_ctime;
    gint64 ctime;
} CommitFields;

static gboolean
parse_commit(const char *text, gsize len, CommitFields *f)
{
    Json j = { text, text + len };
    json_ws(&j);
    if (j.p >= j.end || *j.p++ != '{')
        return FALSE;
    GString *key = g_string_new(NULL);
    gboolean ok = FALSE;
    json_ws(&j);
    if (j.p < j.end && *j.p == '}')
        goto out;
    for (;;) {
        json_ws(&j);
        g_string_truncate(key, 0);
        if (!json_string(&j, key))
            goto out;
        json_ws(&j);
        if (j.p >= j.end || *j.p++ != ':')
            goto out;
        json_ws(&j);
        GString *target = NULL;
        if (strcmp(key->str, "root_id") == 0)
            target = f->root_id;
        else if (strcmp(key->str, "creator") == 0)
            target = f->creator;
        else if (strcmp(key->str, "creator_name") == 0)
            target = f->creator_name;
        else if (strcmp(key->str, "description") == 0)
            target = f->description;
        if (target && j.p < j.end && *j.p == '"') {
            g_string_truncate(target, 0);
            if (!json_string(&j, target))
                goto out;
            if (target == f->creator_name)
                f->has_creator_name = TRUE;
        } else if (strcmp(key->str, "ctime") == 0 && j.p < j.end &&
                   (g_ascii_isdigit(*j.p) || *j.p == '-')) {
            char *endp = NULL;
            char *num = g_strndup(j.p, (gsize)MIN(j.end - j.p, 32));
            f->ctime = g_ascii_strtoll(num, &endp, 10);
            j.p += endp - num;
            g_free(num);
            f->has_ctime = TRUE;
        } else if (!json_skip(&j)) {
            goto out;
        }
        json_ws(&j);
        if (j.p >= j.end)
            goto out;
        char c = *j.p++;
        if (c == '}') {
            ok = TRUE;
            break;
        }
        if (c != ',')
            goto out;
    }
out:
    g_string_free(key, TRUE);
    return ok;
}

static gboolean
check_commit(const char *obj_id, const void *data, gsize len, GError **error)
{
    CommitFields f = { g_string_new(NULL), g_string_new(NULL), g_string_new(NULL),
                       g_string_new(NULL), FALSE, FALSE, 0 };
    gboolean ok;
    if (!parse_commit(data, len, &f) || !f.has_ctime || f.root_id->len != 40 ||
        f.creator->len != 40) {
        ok = malformed(SEAFTIER_TYPE_COMMITS, obj_id, "not a commit (JSON with root_id, creator, "
                       "description and ctime): the bytes are corrupt", error);
    } else {
        GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA1);
        g_checksum_update(sum, (const guchar *)f.root_id->str, 41);
        g_checksum_update(sum, (const guchar *)f.creator->str, 41);
        if (f.has_creator_name)
            g_checksum_update(sum, (const guchar *)f.creator_name->str, f.creator_name->len + 1);
        g_checksum_update(sum, (const guchar *)f.description->str, f.description->len + 1);
        guint64 be = GUINT64_TO_BE((guint64)f.ctime);
        g_checksum_update(sum, (const guchar *)&be, sizeof be);
        char hex[41];
        ok = sha1_matches(obj_id, sum, hex) ||
             mismatch(SEAFTIER_TYPE_COMMITS, obj_id, "the commit hash of its fields", hex, error);
        g_checksum_free(sum);
    }
    g_string_free(f.root_id, TRUE);
    g_string_free(f.creator, TRUE);
    g_string_free(f.creator_name, TRUE);
    g_string_free(f.description, TRUE);
    return ok;
}

gboolean
seaftier_obj_id_check(SeaftierObjType type, const char *obj_id, const void *data, gsize len,
                      GError **error)
{
    switch (type) {
    case SEAFTIER_TYPE_BLOCKS:
        return check_block(obj_id, data, len, error);
    case SEAFTIER_TYPE_FS:
        return check_fs(obj_id, data, len, error);
    case SEAFTIER_TYPE_COMMITS:
        return check_commit(obj_id, data, len, error);
    default:
        return malformed(type, obj_id, "unknown object type", error);
    }
}
