/*
 * tests/fuzz/fuzz_config.c — libFuzzer target: the input is a seafile.conf,
 * parsed as a key file and handed to seaftier_config_load_keyfile(); every
 * finding (warning or error) is checked not to leak the secrets.
 *
 * libFuzzer build (what tests/fuzz/run-fuzz.sh does for each target):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Ilib -I<builddir> \
 *     tests/fuzz/fuzz_config.c lib/config/config.c lib/config/config-values.c \
 *     lib/config/config-s3.c lib/config/config-tier.c lib/config/config-env.c \
 *     lib/config/bucket-name.c lib/log.c $(pkg-config --cflags --libs glib-2.0)
 *   ./a.out tests/fuzz/corpus/config
 * With -DSEAFTIER_FUZZ_REPLAY it gets a main() that replays the seed corpus
 * (or the files named on the command line) once: `make check` runs that.
 */
#include "seaftier-build.h"

#include <seaftier/config.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* The S3_* variables would override the input: fuzz the file path only. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    g_unsetenv("SEAF_SERVER_STORAGE_TYPE");
    g_unsetenv("USE_S3_STORAGE");
    return 0;
}

static void
check_no_secret(const char *msg, const char *secret)
{
    if (secret && strlen(secret) >= 4 && strstr(msg, secret)) {
        fprintf(stderr, "secret leaked into: %s\n", msg);
        abort();
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    GKeyFile *kf = g_key_file_new();
    if (!g_key_file_load_from_data(kf, (const char *)data, size, G_KEY_FILE_NONE, NULL)) {
        g_key_file_free(kf);
        return 0;
    }

    /* The secrets as the loader will see them: raw values, trimmed. */
    char *secrets[2 * SEAFTIER_N_TYPES] = { NULL };
    for (int t = 0; t < SEAFTIER_N_TYPES; t++) {
        const char *section = seaftier_type_section((SeaftierObjType)t);
        secrets[2 * t] = g_key_file_get_value(kf, section, "key", NULL);
        secrets[2 * t + 1] = g_key_file_get_value(kf, section, "sse_c_key", NULL);
        for (int i = 0; i < 2; i++)
            if (secrets[2 * t + i])
                g_strstrip(secrets[2 * t + i]);
    }

    GError *error = NULL;
    SeaftierConfig *cfg = seaftier_config_load_keyfile(kf, &error);
    if (!cfg && (!error || error->domain != SEAFTIER_CONFIG_ERROR || !*error->message))
        abort();    /* every failure must say what is wrong */

    for (size_t i = 0; i < G_N_ELEMENTS(secrets); i++) {
        if (error)
            check_no_secret(error->message, secrets[i]);
        for (guint w = 0; cfg && w < cfg->warnings->len; w++)
            check_no_secret(cfg->warnings->pdata[w], secrets[i]);
    }
    if (cfg) {
        /* The invariant of config.h: a returned config passed every check. */
        for (int t = 0; t < SEAFTIER_N_TYPES; t++) {
            const SeaftierS3Config *s3 = &cfg->s3[t];
            if (!s3->bucket || !s3->key_id || !s3->key || !s3->aws_region ||
                (s3->sse_c_key && (strlen(s3->sse_c_key) != 32 || !s3->use_v4_signature ||
                                   !s3->use_https)) ||
                s3->port < 0 || s3->port > 65535 || s3->multipart_part_size < (5u << 20))
                abort();
        }
        if (cfg->tier.low_watermark >= cfg->tier.high_watermark)
            abort();
    }

    seaftier_config_free(cfg);
    g_clear_error(&error);
    for (size_t i = 0; i < G_N_ELEMENTS(secrets); i++)
        g_free(secrets[i]);
    g_key_file_free(kf);
    return 0;
}

#ifdef SEAFTIER_FUZZ_REPLAY
static int
replay_file(const char *path)
{
    char *data = NULL;
    gsize len = 0;
    GError *error = NULL;
    if (!g_file_get_contents(path, &data, &len, &error)) {
        fprintf(stderr, "%s\n", error->message);
        g_error_free(error);
        return 1;
    }
    LLVMFuzzerTestOneInput((const uint8_t *)data, len);
    g_free(data);
    return 0;
}

int
main(int argc, char **argv)
{
    LLVMFuzzerInitialize(&argc, &argv);
    int failures = 0, count = 0;
    if (argc > 1) {
        for (int i = 1; i < argc; i++, count++)
            failures += replay_file(argv[i]);
    } else {
        const char *dir_path = SEAFTIER_SRCDIR "/tests/fuzz/corpus/config";
        GError *error = NULL;
        GDir *dir = g_dir_open(dir_path, 0, &error);
        if (!dir) {
            fprintf(stderr, "%s\n", error->message);
            g_error_free(error);
            return 1;
        }
        const char *name;
        while ((name = g_dir_read_name(dir)) != NULL) {
            char *path = g_build_filename(dir_path, name, NULL);
            failures += replay_file(path);
            count++;
            g_free(path);
        }
        g_dir_close(dir);
    }
    printf("replayed %d inputs, %d unreadable\n", count, failures);
    return failures || count == 0 ? 1 : 0;
}
#endif
