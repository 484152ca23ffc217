/* tools/admin.c — seaftier-admin: the operator's tool. Dispatches to one
 * subcommand; each lives in its own cmd-*.c file. */
#include "seaftier-build.h"

#include "admin.h"

#include <seaftier/log.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} commands[] = {
    { "status", admin_cmd_status, "objects and bytes by state, tier use, upload backlog, daemon" },
    { "flush", admin_cmd_flush, "upload every dirty object now" },
    { "ls", admin_cmd_ls, "list objects in the tier" },
    { "inspect", admin_cmd_inspect, "everything known about one object" },
    { "evict", admin_cmd_evict, "evict clean objects" },
    { "warmup", admin_cmd_warmup, "prefetch a library's objects into the tier" },
    { "verify", admin_cmd_verify, "check local copies (and with --remote, S3)" },
    { "check", admin_cmd_check, "validate the configuration and probe every bucket" },
    { "migrate", admin_cmd_migrate, "copy a Seafile storage dir or buckets into the buckets" },
    { "export", admin_cmd_export, "write the buckets to a directory in Seafile's fs layout" },
};

static void
usage(FILE *out)
{
    fprintf(out, "Usage: seaftier-admin COMMAND [OPTIONS]\n\nCommands:\n");
    for (gsize i = 0; i < G_N_ELEMENTS(commands); i++)
        fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nEvery command takes -c/--config-dir DIR (the directory holding seafile.conf)\n"
                 "and -d/--seafile-dir DIR, and --help. Exit codes: 0 ok, 1 problems found or\n"
                 "the operation failed, 2 usage or configuration error.\n");
}

int
main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (!g_getenv("SEAFTIER_LOG_LEVEL"))
        seaftier_log_set_level(SEAFTIER_LOG_WARNING);
    if (argc < 2) {
        usage(stderr);
        return ADMIN_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return ADMIN_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("seaftier-admin %s\n", PACKAGE_VERSION);
        return ADMIN_EXIT_OK;
    }
    for (gsize i = 0; i < G_N_ELEMENTS(commands); i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "seaftier-admin: unknown command \"%s\"\n\n", argv[1]);
    usage(stderr);
    return ADMIN_EXIT_USAGE;
}
