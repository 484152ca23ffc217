/*
 * lib/s3/xml.c — see xml.h.
 *
 * One small driver over GMarkup (XmlDoc) keeps the element path and the text
 * of the element being closed; each document type plugs in a start and an
 * end handler that look only at the paths they know. Everything else —
 * unknown elements, attributes, namespaces, comments, processing
 * instructions — is ignored, so richer answers (AWS adds fields over time,
 * Ceph RGW adds <Owner>, <Type>, <Marker> …) parse the same way.
 *
 * Invariant: a parser either returns success with every output filled, or
 * fails with one SEAFTIER_S3_ERROR_BAD_RESPONSE error and leaves its outputs
 * as they were (no partial results escape, nothing leaks).
 */
#include "seaftier-build.h"

#include "s3/xml.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

#define S3_XMLNS "http://s3.amazonaws.com/doc/2006-03-01/"

typedef struct XmlDoc XmlDoc;

/* Handlers report a problem with xml_fail(), which stops the parse.
 * `depth` counts the root as 1. */
typedef void (*XmlStartFunc)(XmlDoc *d, const char *name, guint depth);
typedef void (*XmlEndFunc)(XmlDoc *d, const char *name, guint depth, const char *text,
                           gsize text_len);

struct XmlDoc {
    const char *what;           /* document name for messages, "ListObjectsV2 response" */
    const char *root;           /* expected root element */
    XmlStartFunc on_start;      /* may be NULL */
    XmlEndFunc on_end;          /* may be NULL */
    void *user;

    GPtrArray *path;            /* local names of the open elements, root first */
    GString *text;              /* text seen since the last tag */
    char *root_found;           /* name of the first top-level element */
    gboolean root_closed;
    gboolean wrong_root;        /* stopped because root_found != root */
    GError *error;              /* semantic error raised by a handler */
};

static void
xml_fail(XmlDoc *d, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void
xml_fail(XmlDoc *d, const char *fmt, ...)
{
    if (d->error)
        return;
    va_list ap;
    va_start(ap, fmt);
    char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    /* GMarkup quotes the offending bytes of a broken document verbatim. */
    char *valid = g_utf8_make_valid(msg, -1);
    d->error = g_error_new(SEAFTIER_S3_ERROR, SEAFTIER_S3_ERROR_BAD_RESPONSE, "%s: %s", d->what, valid);
    g_free(valid);
    g_free(msg);
}

/* Drops a namespace prefix ("s3:Key" → "Key"): S3 uses a default namespace,
 * but a proxy re-serialising the document may use a prefixed one. */
static const char *
local_name(const char *name)
{
    const char *colon = strrchr(name, ':');
    return colon ? colon + 1 : name;
}

/* TRUE if the open elements below the root are exactly the NULL-terminated
 * list of names. */
static gboolean
xml_at(const XmlDoc *d, ...) G_GNUC_NULL_TERMINATED;

static gboolean
xml_at(const XmlDoc *d, ...)
{
    va_list ap;
    va_start(ap, d);
    guint i = 1;
    const char *want;
    gboolean match = TRUE;
    while ((want = va_arg(ap, const char *)) != NULL) {
        if (i >= d->path->len || strcmp(g_ptr_array_index(d->path, i), want) != 0) {
            match = FALSE;
            break;
        }
        i++;
    }
    va_end(ap);
    return match && i == d->path->len;
}

static void
on_start_element(GMarkupParseContext *ctx, const char *element_name, const char **attr_names,
                 const char **attr_values, gpointer user_data, GError **error)
{
    (void)ctx;
    (void)attr_names;
    (void)attr_values;
    XmlDoc *d = user_data;
    const char *name = local_name(element_name);

    if (d->path->len == 0) {
        if (d->root_found) {
            xml_fail(d, "a second top-level element <%s> after <%s>", element_name, d->root_found);
        } else {
            d->root_found = g_strdup(name);
            if (strcmp(name, d->root) != 0) {
                d->wrong_root = TRUE;
                xml_fail(d, "root element is <%s>, expected <%s>", element_name, d->root);
            }
        }
    }
    if (!d->error) {
        g_ptr_array_add(d->path, g_strdup(name));
        g_string_truncate(d->text, 0);
        if (d->on_start)
            d->on_start(d, name, d->path->len);
    }
    if (d->error)
        g_set_error_literal(error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT, d->error->message);
}

static void
on_end_element(GMarkupParseContext *ctx, const char *element_name, gpointer user_data,
               GError **error)
{
    (void)ctx;
    (void)element_name;
    XmlDoc *d = user_data;
    /* GMarkup checks that end tags match start tags, so the top is this one. */
    g_assert(d->path->len > 0);
    const char *name = g_ptr_array_index(d->path, d->path->len - 1);
    if (d->on_end)
        d->on_end(d, name, d->path->len, d->text->str, d->text->len);
    g_string_truncate(d->text, 0);
    g_ptr_array_set_size(d->path, d->path->len - 1);
    if (d->path->len == 0)
        d->root_closed = TRUE;
    if (d->error)
        g_set_error_literal(error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT, d->error->message);
}

static void
on_text(GMarkupParseContext *ctx, const char *text, gsize text_len, gpointer user_data,
        GError **error)
{
    (void)ctx;
    XmlDoc *d = user_data;
    if (d->path->len > 0) {
        g_string_append_len(d->text, text, (gssize)text_len);
        return;
    }
    /* Outside the root only whitespace is XML (GMarkup lets trailing text through). */
    for (gsize i = 0; i < text_len; i++) {
        if (!g_ascii_isspace(text[i])) {
            xml_fail(d, "text outside the root element <%s>", d->root_found ? d->root_found : d->root);
            g_set_error_literal(error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT,
                                d->error->message);
            return;
        }
    }
}

static const GMarkupParser xml_parser = {
    .start_element = on_start_element,
    .end_element = on_end_element,
    .text = on_text,
    .passthrough = NULL,
    .error = NULL,
};

static void
xml_doc_init(XmlDoc *d, const char *what, const char *root, XmlStartFunc on_start,
             XmlEndFunc on_end, void *user)
{
    memset(d, 0, sizeof(*d));
    d->what = what;
    d->root = root;
    d->on_start = on_start;
    d->on_end = on_end;
    d->user = user;
    d->path = g_ptr_array_new_with_free_func(g_free);
    d->text = g_string_new(NULL);
}

static void
xml_doc_clear(XmlDoc *d)
{
    g_ptr_array_unref(d->path);
    g_string_free(d->text, TRUE);
    g_free(d->root_found);
    g_clear_error(&d->error);
}

/* Parses the whole document; on failure d->error holds the reason. */
static gboolean
xml_doc_parse(XmlDoc *d, const char *xml, gsize len)
{
    if (xml == NULL && len > 0) {
        xml_fail(d, "no body");
        return FALSE;
    }
    if (len == 0) {
        xml_fail(d, "empty body, expected an XML document with root <%s>", d->root);
        return FALSE;
    }
    if (len > G_MAXSSIZE) {
        xml_fail(d, "body too large (%" G_GSIZE_FORMAT " bytes)", len);
        return FALSE;
    }
    /* GMarkup lets a NUL through in text, where g_strndup would cut it short. */
    const char *nul = memchr(xml, '\0', len);
    if (nul) {
        xml_fail(d, "malformed XML: NUL byte at offset %" G_GSIZE_FORMAT, (gsize)(nul - xml));
        return FALSE;
    }
    GMarkupParseContext *ctx = g_markup_parse_context_new(
        &xml_parser, G_MARKUP_TREAT_CDATA_AS_TEXT | G_MARKUP_PREFIX_ERROR_POSITION, d, NULL);
    GError *markup_error = NULL;
    gboolean ok = g_markup_parse_context_parse(ctx, xml, (gssize)len, &markup_error) &&
                  g_markup_parse_context_end_parse(ctx, &markup_error);
    g_markup_parse_context_free(ctx);
    if (!ok && !d->error)
        xml_fail(d, "malformed XML: %s", markup_error ? markup_error->message : "unknown error");
    g_clear_error(&markup_error);
    if (ok && !d->root_found)
        xml_fail(d, "no root element, expected <%s>", d->root);
    else if (ok && !d->root_closed)
        xml_fail(d, "document ends inside <%s>", d->root_found);
    return !d->error;
}

static void
xml_doc_propagate(XmlDoc *d, GError **error)
{
    g_assert(d->error);
    g_propagate_error(error, d->error);
    d->error = NULL;
}

/* Replaces *slot with a copy of the text (a repeated element: the last wins). */
static void
take_text(char **slot, const char *text, gsize len)
{
    g_free(*slot);
    *slot = g_strndup(text, len);
}

/* The text must be exactly one or more ASCII digits fitting in 64 bits:
 * g_ascii_strtoull alone would accept leading blanks, a sign and trailing junk. */
static gboolean
parse_u64(const char *text, gsize len, guint64 *out)
{
    if (len == 0)
        return FALSE;
    for (gsize i = 0; i < len; i++) {
        if (!g_ascii_isdigit(text[i]))
            return FALSE;
    }
    char *end = NULL;
    errno = 0;
    guint64 v = g_ascii_strtoull(text, &end, 10);
    if (errno != 0 || end != text + len)
        return FALSE;
    *out = v;
    return TRUE;
}

/* For messages: a bounded, printable, ASCII rendition of a value from the
 * document (g_strescape turns control and non-ASCII bytes into escapes, so
 * cutting at any byte keeps the message valid UTF-8). */
static char *
quote_value(const char *text, gsize len)
{
    gsize shown = MIN(len, 64);
    char *part = g_strndup(text, shown);
    char *escaped = g_strescape(part, NULL);
    char *quoted = g_strdup_printf("\"%s\"%s", escaped, shown < len ? "..." : "");
    g_free(part);
    g_free(escaped);
    return quoted;
}

/* ---- <Error> -------------------------------------------------------------- */

static void
error_on_end(XmlDoc *d, const char *name, guint depth, const char *text, gsize len)
{
    S3XmlError *e = d->user;
    if (depth != 2)
        return;
    if (strcmp(name, "Code") == 0)
        take_text(&e->code, text, len);
    else if (strcmp(name, "Message") == 0)
        take_text(&e->message, text, len);
    else if (strcmp(name, "Resource") == 0)
        take_text(&e->resource, text, len);
    else if (strcmp(name, "RequestId") == 0)
        take_text(&e->request_id, text, len);
}

gboolean
s3_xml_parse_error(const char *xml, gsize len, S3XmlError *out, GError **error)
{
    g_return_val_if_fail(out != NULL, FALSE);
    S3XmlError e = { 0 };
    XmlDoc d;
    xml_doc_init(&d, "S3 error response", "Error", NULL, error_on_end, &e);
    gboolean ok = xml_doc_parse(&d, xml, len);
    if (ok) {
        *out = e;
    } else {
        s3_xml_error_clear(&e);
        xml_doc_propagate(&d, error);
    }
    xml_doc_clear(&d);
    return ok;
}

void
s3_xml_error_clear(S3XmlError *e)
{
    if (!e)
        return;
    g_clear_pointer(&e->code, g_free);
    g_clear_pointer(&e->message, g_free);
    g_clear_pointer(&e->resource, g_free);
    g_clear_pointer(&e->request_id, g_free);
}

/* ---- <ListBucketResult> (ListObjectsV2) ------------------------------------ */

typedef struct {
    GPtrArray *entries;         /* SeaftierS3ListEntry* */
    SeaftierS3ListEntry *cur;   /* the open <Contents>, not yet in entries */
    gboolean cur_has_size;
    char *token;
    char *encoding_type;
    int truncated;              /* -1: no <IsTruncated> seen */
} ListState;

static void
list_entry_free(gpointer p)
{
    SeaftierS3ListEntry *entry = p;
    if (entry) {
        g_free(entry->key);
        g_free(entry);
    }
}

static void
list_on_start(XmlDoc *d, const char *name, guint depth)
{
    ListState *st = d->user;
    if (depth == 2 && strcmp(name, "Contents") == 0) {
        list_entry_free(st->cur);
        st->cur = g_new0(SeaftierS3ListEntry, 1);
        st->cur_has_size = FALSE;
    }
}

static void
list_on_end(XmlDoc *d, const char *name, guint depth, const char *text, gsize len)
{
    ListState *st = d->user;
    guint n = st->entries->len + 1;

    if (depth == 3 && st->cur && xml_at(d, "Contents", "Key", NULL)) {
        if (len == 0) {
            xml_fail(d, "<Contents> #%u has an empty <Key>", n);
            return;
        }
        take_text(&st->cur->key, text, len);
    } else if (depth == 3 && st->cur && xml_at(d, "Contents", "Size", NULL)) {
        if (!parse_u64(text, len, &st->cur->size)) {
            char *v = quote_value(text, len);
            xml_fail(d, "<Contents> #%u has an invalid <Size> %s (expected a decimal byte count)",
                     n, v);
            g_free(v);
            return;
        }
        st->cur_has_size = TRUE;
    } else if (depth == 2 && strcmp(name, "Contents") == 0 && st->cur) {
        if (!st->cur->key) {
            xml_fail(d, "<Contents> #%u has no <Key>", n);
            return;
        }
        if (!st->cur_has_size) {
            char *k = quote_value(st->cur->key, strlen(st->cur->key));
            xml_fail(d, "<Contents> #%u (key %s) has no <Size>", n, k);
            g_free(k);
            return;
        }
        g_ptr_array_add(st->entries, st->cur);
        st->cur = NULL;
    } else if (depth == 2 && strcmp(name, "IsTruncated") == 0) {
        if (len == 4 && memcmp(text, "true", 4) == 0) {
            st->truncated = 1;
        } else if (len == 5 && memcmp(text, "false", 5) == 0) {
            st->truncated = 0;
        } else {
            char *v = quote_value(text, len);
            xml_fail(d, "invalid <IsTruncated> %s (expected true or false)", v);
            g_free(v);
            return;
        }
    } else if (depth == 2 && strcmp(name, "NextContinuationToken") == 0) {
        take_text(&st->token, text, len);
    } else if (depth == 2 && strcmp(name, "EncodingType") == 0) {
        take_text(&st->encoding_type, text, len);
    }
}

/* With encoding-type=url S3 percent-encodes the keys it returns. */
static gboolean
list_decode_keys(XmlDoc *d, ListState *st)
{
    if (!st->encoding_type)
        return TRUE;
    if (g_ascii_strcasecmp(st->encoding_type, "url") != 0) {
        char *v = quote_value(st->encoding_type, strlen(st->encoding_type));
        xml_fail(d, "unsupported <EncodingType> %s", v);
        g_free(v);
        return FALSE;
    }
    for (guint i = 0; i < st->entries->len; i++) {
        SeaftierS3ListEntry *entry = g_ptr_array_index(st->entries, i);
        char *decoded = g_uri_unescape_string(entry->key, NULL);
        if (!decoded || !*decoded || !g_utf8_validate(decoded, -1, NULL)) {
            char *k = quote_value(entry->key, strlen(entry->key));
            xml_fail(d, "<Contents> #%u has a <Key> %s that is not valid URL encoding", i + 1, k);
            g_free(k);
            g_free(decoded);
            return FALSE;
        }
        g_free(entry->key);
        entry->key = decoded;
    }
    return TRUE;
}

/* The page owns its entries: `entries` frees them (key and struct) itself,
 * so releasing a page is g_ptr_array_unref(entries) + g_free(next_token) +
 * g_free(page). */
gboolean
s3_xml_parse_list_v2(const char *xml, gsize len, SeaftierS3ListPage **page, GError **error)
{
    g_return_val_if_fail(page != NULL, FALSE);
    ListState st = { .entries = g_ptr_array_new_with_free_func(list_entry_free), .truncated = -1 };
    XmlDoc d;
    xml_doc_init(&d, "ListObjectsV2 response", "ListBucketResult", list_on_start, list_on_end, &st);

    gboolean ok = xml_doc_parse(&d, xml, len);
    if (ok && st.truncated < 0) {
        xml_fail(&d, "no <IsTruncated>");
        ok = FALSE;
    }
    if (ok && st.truncated == 1 && (!st.token || !*st.token)) {
        xml_fail(&d, "IsTruncated=true but no NextContinuationToken");
        ok = FALSE;
    }
    if (ok)
        ok = list_decode_keys(&d, &st);

    if (ok) {
        SeaftierS3ListPage *p = g_new0(SeaftierS3ListPage, 1);
        p->entries = st.entries;
        /* A last page may still echo a token; only a truncated one continues. */
        p->next_token = st.truncated == 1 ? g_steal_pointer(&st.token) : NULL;
        *page = p;
    } else {
        g_ptr_array_unref(st.entries);
        xml_doc_propagate(&d, error);
    }
    list_entry_free(st.cur);
    g_free(st.token);
    g_free(st.encoding_type);
    xml_doc_clear(&d);
    return ok;
}

/* ---- <InitiateMultipartUploadResult> --------------------------------------- */

static void
upload_id_on_end(XmlDoc *d, const char *name, guint depth, const char *text, gsize len)
{
    char **upload_id = d->user;
    if (depth == 2 && strcmp(name, "UploadId") == 0)
        take_text(upload_id, text, len);
}

char *
s3_xml_parse_upload_id(const char *xml, gsize len, GError **error)
{
    char *upload_id = NULL;
    XmlDoc d;
    xml_doc_init(&d, "InitiateMultipartUpload response", "InitiateMultipartUploadResult", NULL,
                 upload_id_on_end, &upload_id);
    gboolean ok = xml_doc_parse(&d, xml, len);
    if (ok && (!upload_id || !*upload_id)) {
        xml_fail(&d, upload_id ? "empty <UploadId>" : "no <UploadId>");
        ok = FALSE;
    }
    if (!ok) {
        g_clear_pointer(&upload_id, g_free);
        xml_doc_propagate(&d, error);
    }
    xml_doc_clear(&d);
    return upload_id;
}

/* ---- root check (CopyObject, CompleteMultipartUpload) ---------------------- */

gboolean
s3_xml_check_root(const char *xml, gsize len, const char *root, GError **error)
{
    g_return_val_if_fail(root != NULL, FALSE);
    /* "CopyObjectResult" → "CopyObject response" */
    gsize root_len = strlen(root);
    char *what = g_str_has_suffix(root, "Result") && root_len > 6
                     ? g_strdup_printf("%.*s response", (int)(root_len - 6), root)
                     : g_strdup_printf("%s response", root);
    XmlDoc d;
    xml_doc_init(&d, what, root, NULL, NULL, NULL);
    gboolean ok = xml_doc_parse(&d, xml, len);
    if (!ok && d.wrong_root && strcmp(d.root_found, "Error") == 0) {
        /* A 200 with an <Error> body: the operation failed after the headers
         * went out; say why in S3's own words. */
        S3XmlError e = { 0 };
        if (s3_xml_parse_error(xml, len, &e, NULL)) {
            g_clear_error(&d.error);
            xml_fail(&d, "S3 answered with an <Error> instead of <%s>: %s%s%s", root,
                     e.code ? e.code : "(no code)", e.message ? ": " : "",
                     e.message ? e.message : "");
            s3_xml_error_clear(&e);
        }
    }
    if (!ok)
        xml_doc_propagate(&d, error);
    xml_doc_clear(&d);
    g_free(what);
    return ok;
}

/* ---- <DeleteResult> -------------------------------------------------------- */

typedef struct {
    GPtrArray *keys;            /* char*, failed keys in document order */
    char *first_code;
    gboolean have_first;        /* first_code belongs to the first <Error> */
    char *cur_key;
    char *cur_code;
    gboolean in_error;
} DeleteState;

static void
delete_on_start(XmlDoc *d, const char *name, guint depth)
{
    DeleteState *st = d->user;
    if (depth == 2 && strcmp(name, "Error") == 0) {
        g_clear_pointer(&st->cur_key, g_free);
        g_clear_pointer(&st->cur_code, g_free);
        st->in_error = TRUE;
    }
}

static void
delete_on_end(XmlDoc *d, const char *name, guint depth, const char *text, gsize len)
{
    DeleteState *st = d->user;
    if (!st->in_error)
        return;
    if (depth == 3 && xml_at(d, "Error", "Key", NULL)) {
        take_text(&st->cur_key, text, len);
    } else if (depth == 3 && xml_at(d, "Error", "Code", NULL)) {
        take_text(&st->cur_code, text, len);
    } else if (depth == 2 && strcmp(name, "Error") == 0) {
        st->in_error = FALSE;
        if (!st->cur_key || !*st->cur_key) {
            char *code = st->cur_code ? quote_value(st->cur_code, strlen(st->cur_code)) : NULL;
            xml_fail(d, "<Error> #%u has no <Key> (code %s)", st->keys->len + 1,
                     code ? code : "missing");
            g_free(code);
            return;
        }
        if (!st->have_first) {
            st->first_code = g_steal_pointer(&st->cur_code);
            st->have_first = TRUE;
        }
        g_ptr_array_add(st->keys, g_steal_pointer(&st->cur_key));
        g_clear_pointer(&st->cur_code, g_free);
    }
}

gboolean
s3_xml_parse_delete_result(const char *xml, gsize len, GPtrArray *failed, char **first_code,
                           GError **error)
{
    DeleteState st = { .keys = g_ptr_array_new_with_free_func(g_free) };
    XmlDoc d;
    xml_doc_init(&d, "DeleteObjects response", "DeleteResult", delete_on_start, delete_on_end, &st);
    gboolean ok = xml_doc_parse(&d, xml, len);
    if (ok) {
        for (guint i = 0; i < st.keys->len; i++) {
            if (failed)
                g_ptr_array_add(failed, g_steal_pointer(&g_ptr_array_index(st.keys, i)));
        }
        if (first_code)
            *first_code = g_steal_pointer(&st.first_code);
    } else {
        xml_doc_propagate(&d, error);
    }
    g_ptr_array_unref(st.keys);
    g_free(st.first_code);
    g_free(st.cur_key);
    g_free(st.cur_code);
    xml_doc_clear(&d);
    return ok;
}

/* ---- request bodies -------------------------------------------------------- */

/* g_markup_escape_text reads past the end of a string that is not UTF-8, and
 * XML cannot carry such bytes anyway; S3 keys and ETags are UTF-8 by
 * definition, so anything else is a caller's bug. */
static gboolean
all_utf8(const char *const *strs, guint n)
{
    for (guint i = 0; i < n; i++) {
        if (!strs[i] || !g_utf8_validate(strs[i], -1, NULL))
            return FALSE;
    }
    return TRUE;
}

/* Quiet mode: S3 lists only the keys it failed to delete, which keeps the
 * answer to a 1000-key batch small. */
char *
s3_xml_build_delete(const char *const *keys, guint n_keys)
{
    g_return_val_if_fail(n_keys == 0 || keys != NULL, NULL);
    g_return_val_if_fail(all_utf8(keys, n_keys), NULL);
    GString *s = g_string_new("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                              "<Delete xmlns=\"" S3_XMLNS "\"><Quiet>true</Quiet>");
    for (guint i = 0; i < n_keys; i++) {
        char *escaped = g_markup_escape_text(keys[i], -1);
        g_string_append_printf(s, "<Object><Key>%s</Key></Object>", escaped);
        g_free(escaped);
    }
    g_string_append(s, "</Delete>");
    return g_string_free(s, FALSE);
}

char *
s3_xml_build_complete(const char *const *etags, guint n_parts)
{
    g_return_val_if_fail(n_parts == 0 || etags != NULL, NULL);
    g_return_val_if_fail(all_utf8(etags, n_parts), NULL);
    GString *s = g_string_new("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                              "<CompleteMultipartUpload xmlns=\"" S3_XMLNS "\">");
    for (guint i = 0; i < n_parts; i++) {
        char *escaped = g_markup_escape_text(etags[i], -1);
        g_string_append_printf(s, "<Part><PartNumber>%u</PartNumber><ETag>%s</ETag></Part>", i + 1,
                               escaped);
        g_free(escaped);
    }
    g_string_append(s, "</CompleteMultipartUpload>");
    return g_string_free(s, FALSE);
}
