/*
 * tests/fuzz/fuzz_xml.c — libFuzzer target for lib/s3/xml.c.
 *
 * Every input goes to every parser, which must either succeed with sane
 * output or fail with a SEAFTIER_S3_ERROR_BAD_RESPONSE error whose message is
 * valid UTF-8; ASan/UBSan/LSan catch the rest. The input is also cut into
 * lines that serve as keys and ETags for the request-body builders, whose
 * output must read back (GMarkup) to exactly the same strings.
 *
 * Built by tests/fuzz/run-fuzz.sh from this file and lib/s3/xml.c only.
 */
#include "seaftier-build.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3/xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The S3 client (lib/s3/client.c) owns this quark; the target is built
 * without the client so that curl and OpenSSL stay out of the harness. The
 * value only has to be stable within this process. */
GQuark
seaftier_s3_error_quark(void)
{
    return g_quark_from_static_string("seaftier-s3-error-quark");
}

#define CHECK(cond)                                                                      \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);    \
            abort();                                                                     \
        }                                                                                \
    } while (0)

static void
check_failure(GError *e)
{
    CHECK(e != NULL);
    CHECK(e->domain == SEAFTIER_S3_ERROR);
    CHECK(e->code == SEAFTIER_S3_ERROR_BAD_RESPONSE);
    CHECK(e->message != NULL && g_utf8_validate(e->message, -1, NULL));
    g_error_free(e);
}

static int accepted;

static void
fuzz_parsers(const char *xml, size_t len)
{
    GError *e = NULL;
    accepted = 0;

    S3XmlError xe = { 0 };
    if (s3_xml_parse_error(xml, len, &xe, &e)) {
        CHECK(e == NULL);
        s3_xml_error_clear(&xe);
        accepted++;
    } else {
        CHECK(xe.code == NULL && xe.message == NULL);
        check_failure(e);
        e = NULL;
    }

    SeaftierS3ListPage *page = NULL;
    if (s3_xml_parse_list_v2(xml, len, &page, &e)) {
        CHECK(e == NULL && page != NULL && page->entries != NULL);
        for (guint i = 0; i < page->entries->len; i++) {
            SeaftierS3ListEntry *entry = g_ptr_array_index(page->entries, i);
            CHECK(entry->key != NULL && entry->key[0] != '\0');
            CHECK(g_utf8_validate(entry->key, -1, NULL));
        }
        CHECK(page->next_token == NULL || page->next_token[0] != '\0');
        g_ptr_array_unref(page->entries);
        g_free(page->next_token);
        g_free(page);
        accepted++;
    } else {
        CHECK(page == NULL);
        check_failure(e);
        e = NULL;
    }

    char *id = s3_xml_parse_upload_id(xml, len, &e);
    if (id) {
        CHECK(e == NULL && id[0] != '\0');
        g_free(id);
        accepted++;
    } else {
        check_failure(e);
        e = NULL;
    }

    static const char *const roots[] = { "CopyObjectResult", "CompleteMultipartUploadResult" };
    for (size_t r = 0; r < G_N_ELEMENTS(roots); r++) {
        if (s3_xml_check_root(xml, len, roots[r], &e)) {
            CHECK(e == NULL);
            accepted++;
        } else {
            check_failure(e);
            e = NULL;
        }
    }

    GPtrArray *failed = g_ptr_array_new_with_free_func(g_free);
    char *code = NULL;
    if (s3_xml_parse_delete_result(xml, len, failed, &code, &e)) {
        CHECK(e == NULL);
        for (guint i = 0; i < failed->len; i++)
            CHECK(((char *)g_ptr_array_index(failed, i))[0] != '\0');
        g_free(code);
        accepted++;
    } else {
        CHECK(failed->len == 0 && code == NULL);
        check_failure(e);
        e = NULL;
    }
    g_ptr_array_unref(failed);

    /* Each parser wants a different root element. */
    CHECK(accepted <= 1);
}

/* ---- builders: output must read back to the input strings ----------------- */

typedef struct {
    GString *text;
    GPtrArray *got;     /* text of each element named `want` */
    const char *want;
} ReadBack;

static void
rb_start(GMarkupParseContext *c, const char *name, const char **an, const char **av, gpointer u,
         GError **error)
{
    (void)c;
    (void)name;
    (void)an;
    (void)av;
    (void)error;
    g_string_truncate(((ReadBack *)u)->text, 0);
}

static void
rb_end(GMarkupParseContext *c, const char *name, gpointer u, GError **error)
{
    (void)c;
    (void)error;
    ReadBack *rb = u;
    if (strcmp(name, rb->want) == 0)
        g_ptr_array_add(rb->got, g_strdup(rb->text->str));
    g_string_truncate(rb->text, 0);
}

static void
rb_text(GMarkupParseContext *c, const char *text, gsize len, gpointer u, GError **error)
{
    (void)c;
    (void)error;
    g_string_append_len(((ReadBack *)u)->text, text, (gssize)len);
}

static void
check_read_back(const char *body, const char *element, char **values, guint n)
{
    static const GMarkupParser parser = { rb_start, rb_end, rb_text, NULL, NULL };
    ReadBack rb = { g_string_new(NULL), g_ptr_array_new_with_free_func(g_free), element };
    GMarkupParseContext *ctx = g_markup_parse_context_new(&parser, 0, &rb, NULL);
    GError *e = NULL;
    gboolean ok = g_markup_parse_context_parse(ctx, body, -1, &e) &&
                  g_markup_parse_context_end_parse(ctx, &e);
    if (!ok)
        fprintf(stderr, "builder output does not parse: %s\n", e->message);
    CHECK(ok);
    CHECK(rb.got->len == n);
    for (guint i = 0; i < n; i++)
        CHECK(strcmp(g_ptr_array_index(rb.got, i), values[i]) == 0);
    g_markup_parse_context_free(ctx);
    g_string_free(rb.text, TRUE);
    g_ptr_array_unref(rb.got);
}

/* S3 keys are UTF-8; XML 1.0 cannot carry most control characters and
 * normalises CR, so only keys without them are expected to survive. */
static gboolean
usable_key(const char *s)
{
    if (!*s || !g_utf8_validate(s, -1, NULL))
        return FALSE;
    for (const char *p = s; *p; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);
        if ((c < 0x20 && c != '\t' && c != '\n') || (c >= 0x7f && c <= 0x9f))
            return FALSE;
    }
    return TRUE;
}

static void
fuzz_builders(const char *input, size_t len)
{
    char *copy = g_strndup(input, len);
    char **lines = g_strsplit(copy, "\n", 64);
    GPtrArray *keys = g_ptr_array_new();
    for (guint i = 0; lines[i]; i++) {
        if (usable_key(lines[i]))
            g_ptr_array_add(keys, lines[i]);
    }
    char *body = s3_xml_build_delete((const char *const *)keys->pdata, keys->len);
    check_read_back(body, "Key", (char **)keys->pdata, keys->len);
    g_free(body);
    body = s3_xml_build_complete((const char *const *)keys->pdata, keys->len);
    check_read_back(body, "ETag", (char **)keys->pdata, keys->len);
    g_free(body);
    g_ptr_array_unref(keys);
    g_strfreev(lines);
    g_free(copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_parsers((const char *)data, size);
    fuzz_builders((const char *)data, size);
    return 0;
}
