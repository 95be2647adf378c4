/*
 * cli.h - the operator's commands (contract section 7). Each command is a
 * function taking the arguments after its name and returning the process
 * exit status: 0 success, 1 runtime failure, 2 bad usage. Reads print JSON
 * on stdout; failures print one line on stderr.
 */
#ifndef HH_CLI_H
#define HH_CLI_H

enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

typedef struct cli_command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} cli_command;

/* The top-level command table, terminated by a NULL name. */
extern const cli_command cli_commands[];

int cli_serve(int argc, char **argv);
int cli_worker(int argc, char **argv);
int cli_admin(int argc, char **argv);
int cli_render(int argc, char **argv);

/*
 * Runs the subcommand of table named by argv[0] (after shifting), printing
 * usage built from the table on --help or a bad name. prog is the prefix
 * shown in messages ("happyhorse admin").
 */
int cli_dispatch(const char *prog, const cli_command *table, int argc, char **argv);

/* Prints "prog: message" and returns CLI_USAGE / CLI_FAIL. */
int cli_usage_error(const char *prog, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int cli_fail(const char *prog, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
