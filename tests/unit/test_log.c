/* tests/unit/test_log.c — lib/log.c's destinations: inside a host process
 * (the backend constructors call seaftier_log_attach_to_host()) messages go
 * to the GLib handler the host installed, masked and at the mapped level;
 * a destination the program chose is kept. The log state is process-global,
 * so the tests run in the order listed and each relies on the previous. */
#include "seaftier-build.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <seaftier/log.h>

typedef struct {
    GLogLevelFlags level;
    char *message;
} Captured;

static GPtrArray *captured;     /* Captured*, in order */

static void
capture_handler(const gchar *domain, GLogLevelFlags level, const gchar *message, gpointer data)
{
    (void)data;
    assert_null(domain);        /* seaf-server's handler is installed for the default domain */
    Captured *c = g_new0(Captured, 1);
    c->level = level & G_LOG_LEVEL_MASK;
    c->message = g_strdup(message);
    g_ptr_array_add(captured, c);
}

static void
captured_free(gpointer p)
{
    Captured *c = p;
    g_free(c->message);
    g_free(c);
}

static const Captured *
last_captured(void)
{
    assert_true(captured->len > 0);
    return captured->pdata[captured->len - 1];
}

/* Until a host attaches, messages do not reach the GLib handler. */
static void
test_unset_is_not_glib(void **state)
{
    (void)state;
    seaftier_warning("before attaching");
    assert_int_equal(captured->len, 0);
}

static void
test_host_gets_masked_lines_at_mapped_levels(void **state)
{
    (void)state;
    seaftier_log_add_secret("s3cr3t-sse-c-key-value");
    seaftier_log_attach_to_host();

    seaftier_error("put of %s failed with key s3cr3t-sse-c-key-value", "repo/obj");
    const Captured *c = last_captured();
    assert_int_equal(c->level, G_LOG_LEVEL_CRITICAL);       /* never G_LOG_LEVEL_ERROR: it aborts */
    assert_string_equal(c->message, "seaftier: put of repo/obj failed with key ***\n");

    seaftier_warning("w");
    assert_int_equal(last_captured()->level, G_LOG_LEVEL_WARNING);
    assert_string_equal(last_captured()->message, "seaftier: w\n");

    seaftier_info("i");
    assert_int_equal(last_captured()->level, G_LOG_LEVEL_INFO);

    /* a message that names seaftier itself is not prefixed twice */
    seaftier_info("seaftier: tier %s opened", "/t");
    assert_string_equal(last_captured()->message, "seaftier: tier /t opened\n");

    guint before = captured->len;
    seaftier_log_set_level(SEAFTIER_LOG_INFO);
    seaftier_debug("dropped below the level");
    assert_int_equal(captured->len, before);
    seaftier_log_set_level(SEAFTIER_LOG_DEBUG);
    seaftier_debug("d");
    assert_int_equal(last_captured()->level, G_LOG_LEVEL_DEBUG);
}

/* A program that chose a file keeps it when it later opens backends. */
static void
test_chosen_destination_is_kept(void **state)
{
    (void)state;
    char path[] = "/tmp/seaftier-test-log-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    GError *err = NULL;
    assert_true(seaftier_log_to_file(path, &err));
    seaftier_log_attach_to_host();
    guint before = captured->len;
    seaftier_warning("to the file s3cr3t-sse-c-key-value");
    assert_int_equal(captured->len, before);

    char *text = NULL;
    assert_true(g_file_get_contents(path, &text, NULL, NULL));
    assert_non_null(strstr(text, "warning: to the file ***\n"));
    assert_null(strstr(text, "s3cr3t"));
    g_free(text);

    /* back to stderr, explicitly: attaching does not switch either */
    assert_true(seaftier_log_to_file(NULL, &err));
    seaftier_log_attach_to_host();
    seaftier_info("on stderr");
    assert_int_equal(captured->len, before);

    /* an explicit switch to GLib works at any time */
    seaftier_log_use_glib();
    seaftier_info("again");
    assert_string_equal(last_captured()->message, "seaftier: again\n");
    unlink(path);
}

int
main(void)
{
    captured = g_ptr_array_new_with_free_func(captured_free);
    guint id = g_log_set_handler(NULL, G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL | G_LOG_FLAG_RECURSION,
                                 capture_handler, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unset_is_not_glib),
        cmocka_unit_test(test_host_gets_masked_lines_at_mapped_levels),
        cmocka_unit_test(test_chosen_destination_is_kept),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    g_log_remove_handler(NULL, id);
    g_ptr_array_free(captured, TRUE);
    return rc;
}
