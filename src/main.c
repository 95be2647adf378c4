/*
 * main.c - entry point of the single happyhorse binary: hands argv to the
 * command table of cli/.
 */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

static int cli_version(int argc, char **argv)
{
    printf("happyhorse %s\n", HH_VERSION);
    return CLI_OK;
}

const cli_command cli_commands[] = {
    {"version", cli_version, "print the version"},
    {"serve", cli_serve, "serve the Customer API and the dashboard"},
    {"worker", cli_worker, "run render workers only (scale-out beside serve)"},
    {"admin", cli_admin, "operator commands: users, API keys, credits, plans"},
    {"render", cli_render, "render a job file to an MP4 and a thumbnail"},
    {NULL, NULL, NULL},
};

int main(int argc, char **argv)
{
    return cli_dispatch("happyhorse", cli_commands, argc - 1, argv + 1);
}
