/*
 * cli.c - command dispatch and the shared error-message helpers of the CLI.
 */
#include "cli/cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void print_table(FILE *out, const char *prog, const cli_command *table)
{
    fprintf(out, "usage: %s <command> [options]\n\ncommands:\n", prog);
    for (const cli_command *c = table; c->name; c++)
        fprintf(out, "  %-12s %s\n", c->name, c->summary);
    fprintf(out, "\nRun '%s <command> --help' for a command's options.\n", prog);
}

int cli_dispatch(const char *prog, const cli_command *table, int argc, char **argv)
{
    if (argc < 1) {
        print_table(stderr, prog, table);
        return CLI_USAGE;
    }
    if (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h") || !strcmp(argv[0], "help")) {
        print_table(stdout, prog, table);
        return CLI_OK;
    }
    for (const cli_command *c = table; c->name; c++)
        if (!strcmp(c->name, argv[0]))
            return c->run(argc, argv);
    return cli_usage_error(prog, "unknown command '%s' (see --help)", argv[0]);
}

static void vmessage(const char *prog, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void vmessage(const char *prog, const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    fprintf(stderr, "%s: %s\n", prog, msg);
}

int cli_usage_error(const char *prog, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmessage(prog, fmt, ap);
    va_end(ap);
    return CLI_USAGE;
}

int cli_fail(const char *prog, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmessage(prog, fmt, ap);
    va_end(ap);
    return CLI_FAIL;
}
