/*
 * cmd_admin.c - `happyhorse admin`, the operator's commands of contract
 * section 7: users, API keys, credits and plans, straight on the store.
 *
 *   admin user create     --email E [--plan P] [--credits N] [--password-stdin] [--no-api-access]
 *   admin user show       --email E
 *   admin user api-access --email E --on|--off
 *   admin user ledger     --email E [--limit N] [--before ID]
 *   admin user list       [--plan P] [--limit N] [--after ID]
 *   admin user password   --email E                 (the password on stdin)
 *   admin user disable    --email E [--message TEXT]
 *   admin user enable     --email E
 *   admin key create      --email E [--name NAME]
 *   admin key list        --email E
 *   admin key delete      --email E --id KEYID
 *   admin credits grant   --email E --amount N [--note TEXT]
 *   admin credits adjust  --email E --amount N [--note TEXT]   (N may be negative)
 *   admin plan set        --email E --plan P
 *   admin plan list
 *   admin video list      [--email E] [--status S] [--limit N] [--before ID] [--public-url URL]
 *   admin video show      --id VIDEO [--public-url URL]
 *   admin video fail      --id VIDEO [--message TEXT]
 *   admin video refund    --id VIDEO [--note TEXT]
 *   admin stats           [--days N]
 *   admin audit list      [--limit N] [--before ID]
 *   admin migrate         --to LOCATION [--s3] [--batch N]   (cli/migrate.c does the work)
 *
 * Every command takes --data DIR and --help; those that name a plan take
 * --plans FILE. Reads print JSON on stdout; `user create` prints the new
 * id and `key create` the full key, alone; videos are shown as the API
 * shows them, their URLs under the server's public base (--public-url, as
 * `serve` makes it). Exit status 0 / 1 (runtime: unknown email,
 * duplicate, store failure) / 2 (bad usage: unknown flag, missing or
 * malformed value, unknown plan), with one line on stderr.
 *
 * Order of checks: the command line and its values first (2), then the
 * store (1), so a typo never touches the database.
 *
 * Every command that changes something (all but show, list, ledger and
 * stats) and succeeds is written to the store's audit log afterwards: who
 * ran it (the OS user; SUDO_USER under sudo), the command, its target
 * (--email or --id) and its options as JSON. `admin audit list` reads it.
 */
#include "auth/apikey.h"
#include "api/video_json.h"
#include "blob/blob.h"
#include "store/store_json.h"
#include "cli/cli.h"
#include "cli/migrate.h"
#include "cli/options.h"
#include "domain/plans.h"
#include "store/store.h"
#include "util/log.h"
#include "util/password.h"
#include "util/timeutil.h"
#include "util/uuid.h"

#include <getopt.h>
#include <pwd.h>
#include <stddef.h>
#include <unistd.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#define GRANT_MAX   1000000000000LL /* the largest single grant: a ceiling against typos */
#define LEDGER_PAGE 50              /* default --limit of user ledger */
#define USER_PAGE   100             /* default --limit of user list */
#define STATS_DAYS  30              /* default --days of stats */

/* Option ids: every option of every admin command, in one table. */
enum {
    O_HELP = 'h',
    O_DATA = 256,
    O_PLANS,
    O_EMAIL,
    O_PLAN,
    O_CREDITS,
    O_PASSWORD_STDIN,
    O_NO_API_ACCESS,
    O_ON,
    O_OFF,
    O_NAME,
    O_ID,
    O_AMOUNT,
    O_NOTE,
    O_LIMIT,
    O_BEFORE,
    O_MESSAGE,
    O_AFTER,
    O_DAYS,
    O_EMAIL_OPTIONAL, /* --email as a filter, where it is not required */
    O_STATUS,
    O_PUBLIC_URL,
    O_TO, /* admin migrate's options */
    O_S3,
    O_BATCH,
};

/* The parsed command line of one admin command. Strings are borrowed from argv. */
typedef struct admin_args {
    const char *data, *plans, *email, *plan, *credits, *name, *id, *amount, *note, *limit, *before,
        *message, *after, *days, *status, *public_url, *to, *batch;
    int password_stdin, no_api_access, on, off, s3;
} admin_args;

/* Every option of every admin command, and the admin_args field it sets. */
typedef struct admin_option {
    struct option opt;
    size_t field; /* offsetof: a const char * for options with a value, an int flag otherwise */
} admin_option;

#define VALUE(name, id, f)                                                                         \
    {                                                                                              \
        {name, required_argument, NULL, id}, offsetof(admin_args, f)                               \
    }
#define FLAG(name, id, f)                                                                          \
    {                                                                                              \
        {name, no_argument, NULL, id}, offsetof(admin_args, f)                                     \
    }

static const admin_option all_options[] = {
    FLAG("help", O_HELP, on), /* answered before any field is set */
    VALUE("data", O_DATA, data),
    VALUE("plans", O_PLANS, plans),
    VALUE("email", O_EMAIL, email),
    VALUE("plan", O_PLAN, plan),
    VALUE("credits", O_CREDITS, credits),
    FLAG("password-stdin", O_PASSWORD_STDIN, password_stdin),
    FLAG("no-api-access", O_NO_API_ACCESS, no_api_access),
    FLAG("on", O_ON, on),
    FLAG("off", O_OFF, off),
    VALUE("name", O_NAME, name),
    VALUE("id", O_ID, id),
    VALUE("amount", O_AMOUNT, amount),
    VALUE("note", O_NOTE, note),
    VALUE("limit", O_LIMIT, limit),
    VALUE("before", O_BEFORE, before),
    VALUE("message", O_MESSAGE, message),
    VALUE("after", O_AFTER, after),
    VALUE("days", O_DAYS, days),
    VALUE("email", O_EMAIL_OPTIONAL, email),
    VALUE("status", O_STATUS, status),
    VALUE("public-url", O_PUBLIC_URL, public_url),
    VALUE("to", O_TO, to),
    FLAG("s3", O_S3, s3),
    VALUE("batch", O_BATCH, batch),
};
#define N_OPTIONS (sizeof all_options / sizeof all_options[0])

/* One admin command: its name in messages, its options (0-terminated) and its help text. */
typedef struct admin_cmd {
    const char *prog;
    const int *options;
    const char *help;
} admin_cmd;

#define COMMON_HELP "  --data DIR       data directory (env HAPPYHORSE_DATA, default ./data)\n"
#define PLANS_HELP  "  --plans FILE     plans file (env HAPPYHORSE_PLANS, default built-in plans)\n"

/* 1 when cmd takes option id. */
static int takes(const admin_cmd *cmd, int id)
{
    for (const int *o = cmd->options; *o; o++)
        if (*o == id)
            return 1;
    return 0;
}

/* Prints "usage: prog <first line of help>", a blank line, the rest, then the common options. */
static void print_help(const admin_cmd *cmd)
{
    const char *nl = strchr(cmd->help, '\n');
    int first = nl ? (int)(nl - cmd->help) : (int)strlen(cmd->help);
    printf("usage: %s %.*s\n\n%s%s" COMMON_HELP "  --help           this text\n", cmd->prog, first,
           cmd->help, nl ? nl + 1 : "", takes(cmd, O_PLANS) ? PLANS_HELP : "");
}

/* A plausible address: 3..254 bytes, one '@' with text on both sides, no spaces or controls. */
static int email_ok(const char *e)
{
    size_t len = strnlen(e, 256), at = 0, ats = 0;
    if (len < 3 || len > 254)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)e[i];
        if (ch <= ' ' || ch == 0x7f)
            return 0;
        if (ch == '@') {
            ats++;
            at = i;
        }
    }
    return ats == 1 && at > 0 && at < len - 1;
}

/* Checks --email: present (2 if not) and plausible (2 if not). Returns -1 when fine. */
static int need_email(const admin_cmd *cmd, const admin_args *a)
{
    if (!a->email)
        return cli_usage_error(cmd->prog, "--email is required (see --help)");
    if (!email_ok(a->email))
        return cli_usage_error(cmd->prog, "'%s' is not an email address", a->email);
    return -1;
}

/*
 * Parses argv (argv[0] is the command's name) for cmd into a, and checks
 * the --email of the commands that take one (all but those naming a video). Returns -1 to go on, or
 * the exit status to return now (0 after --help, 2 on a bad command line, with its message
 * printed).
 */
static int parse(const admin_cmd *cmd, int argc, char **argv, admin_args *a)
{
    struct option opts[N_OPTIONS + 1];
    size_t field[N_OPTIONS];
    size_t n = 0;
    memset(a, 0, sizeof *a);
    memset(opts, 0, sizeof opts);
    for (size_t i = 0; i < N_OPTIONS; i++) {
        int id = all_options[i].opt.val, allowed = id == O_HELP || id == O_DATA;
        for (const int *o = cmd->options; *o && !allowed; o++)
            allowed = *o == id;
        if (allowed) {
            field[n] = all_options[i].field;
            opts[n++] = all_options[i].opt;
        }
    }
    optind = 0; /* glibc: full re-initialisation, for a second parse in one process */
    opterr = 0;
    int c, index = -1;
    while ((c = getopt_long(argc, argv, ":h", opts, &index)) != -1) {
        if (c == O_HELP) {
            print_help(cmd);
            return CLI_OK;
        }
        if (c == ':')
            return cli_usage_error(cmd->prog, "option '%s' needs a value (see --help)",
                                   argv[optind - 1]);
        if (c == '?' || index < 0)
            return cli_usage_error(cmd->prog, "unknown option '%s' (see --help)", argv[optind - 1]);
        char *slot = (char *)a + field[index];
        if (opts[index].has_arg)
            memcpy(slot, &optarg, sizeof optarg);
        else
            *(int *)(void *)slot = 1;
        index = -1;
    }
    if (optind < argc)
        return cli_usage_error(cmd->prog, "unexpected argument '%s' (see --help)", argv[optind]);
    for (const int *o = cmd->options; *o; o++)
        if (*o == O_EMAIL)
            return need_email(cmd, a);
    return -1;
}

/* Checks that plan names a plan of the loaded plans: 2 if not, 1 if they cannot be loaded. */
static int need_plan(const admin_cmd *cmd, const admin_args *a, const char *plan)
{
    char err[320];
    hh_plans *plans = NULL;
    if (cli_plans_load(a->plans, &plans, err, sizeof err))
        return cli_fail(cmd->prog, "%s", err);
    int found = plans_find(plans, plan) != NULL;
    char names[HH_PLANS_MAX * 34] = "";
    for (size_t i = 0, off = 0; i < plans->count && off < sizeof names; i++) {
        int w =
            snprintf(names + off, sizeof names - off, "%s%s", i ? ", " : "", plans->plan[i].name);
        off += w > 0 ? (size_t)w : 0;
    }
    plans_free(plans);
    if (!found)
        return cli_usage_error(cmd->prog, "unknown plan '%s' (plans: %s)", plan, names);
    return -1;
}

/* Opens the store of --data / the environment: 1 with a message on failure, else -1. */
static int open_store(const admin_cmd *cmd, const admin_args *a, hh_store **st)
{
    const char *loc = cli_store_location(a->data);
    hh_status rc = store_open(loc, st);
    if (rc == HH_ERR_INVALID && strstr(loc, "://"))
        return cli_fail(cmd->prog, "%s: PostgreSQL is not built yet", cli_store_label(loc));
    if (rc)
        return cli_fail(cmd->prog, "cannot open the store at %s: %s", cli_store_label(loc),
                        hh_status_str(rc));
    return -1;
}

/* Opens the store and finds the user of --email: 1 with a message on failure, else -1. */
static int open_user(const admin_cmd *cmd, const admin_args *a, hh_store **st, hh_user *u)
{
    int ex = open_store(cmd, a, st);
    if (ex >= 0)
        return ex;
    hh_status rc = store_user_by_email(*st, a->email, u);
    if (rc == HH_ERR_NOTFOUND)
        return cli_fail(cmd->prog, "no user with email %s", a->email);
    if (rc)
        return cli_fail(cmd->prog, "cannot read user %s: %s", a->email, hh_status_str(rc));
    return -1;
}

/* Prints v (consumed) as indented JSON and a newline on stdout: 0, or 1 if it cannot. */
static int print_json(const admin_cmd *cmd, json_t *v)
{
    int rc = v ? json_dumpf(v, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : -1;
    json_decref(v);
    if (rc != 0 || fputc('\n', stdout) == EOF || fflush(stdout) != 0)
        return cli_fail(cmd->prog, "cannot write the answer");
    return CLI_OK;
}

/* Reads one line of stdin as the password into buf: -1 when fine, else 2 with a message. */
static int read_password(const admin_cmd *cmd, char *buf, size_t size)
{
    if (!fgets(buf, (int)size, stdin))
        return cli_usage_error(cmd->prog, "no password on stdin");
    size_t len = strlen(buf);
    int newline = len > 0 && buf[len - 1] == '\n';
    if (!newline && !feof(stdin))
        return cli_usage_error(cmd->prog, "password longer than %d bytes", PASSWORD_MAX_LEN);
    if (newline)
        buf[--len] = '\0';
    if (len > 0 && buf[len - 1] == '\r')
        buf[--len] = '\0';
    if (len < PASSWORD_MIN_LEN)
        return cli_usage_error(cmd->prog, "password shorter than %d characters", PASSWORD_MIN_LEN);
    return -1;
}

/* Reads the optional --limit (1..STORE_PAGE_MAX) into *limit: -1 when fine, else 2 with a message.
 */
static int need_limit(const admin_cmd *cmd, const char *s, int64_t *limit)
{
    if (s && !cli_parse_i64(s, 1, STORE_PAGE_MAX, limit))
        return cli_usage_error(cmd->prog, "--limit must be a whole number from 1 to %d",
                               STORE_PAGE_MAX);
    return -1;
}

/* ---- admin user ---- */

static const int user_create_opts[] = {O_EMAIL,          O_PLAN,          O_CREDITS, O_PLANS,
                                       O_PASSWORD_STDIN, O_NO_API_ACCESS, 0};
static const admin_cmd user_create_cmd = {
    "happyhorse admin user create", user_create_opts,
    "--email E [--plan P] [--credits N] [--password-stdin] [--no-api-access]\n"
    "Creates a user (API access on unless --no-api-access) and prints its id.\n"
    "  --plan P         plan name (default free)\n"
    "  --credits N      initial credits, recorded as a grant in the ledger\n"
    "  --password-stdin read a dashboard password (>= 8 characters) from one line of stdin\n"};

static int user_create(int argc, char **argv)
{
    const admin_cmd *cmd = &user_create_cmd;
    admin_args a;
    hh_store *st = NULL;
    hh_user u;
    char pw[PASSWORD_MAX_LEN + 2];
    char hash[PASSWORD_HASH_MAX];
    int64_t credits = 0;
    int ex = parse(cmd, argc, argv, &a);
    if (ex < 0 && !a.plan)
        a.plan = "free";
    if (ex < 0)
        ex = need_plan(cmd, &a, a.plan);
    if (ex < 0 && a.credits && !cli_parse_i64(a.credits, 0, GRANT_MAX, &credits))
        ex = cli_usage_error(cmd->prog, "--credits must be a whole number from 0 to %lld",
                             GRANT_MAX);
    if (ex < 0 && a.password_stdin) {
        ex = read_password(cmd, pw, sizeof pw);
        if (ex < 0) {
            hh_status rc = password_hash(pw, hash, sizeof hash);
            if (rc)
                ex = cli_fail(cmd->prog, "cannot hash the password: %s", hh_status_str(rc));
        }
        OPENSSL_cleanse(pw, sizeof pw);
    }
    if (ex < 0)
        ex = open_store(cmd, &a, &st);
    if (ex >= 0)
        goto done;

    hh_status rc = store_user_create(st, a.email, a.password_stdin ? hash : NULL, a.plan,
                                     !a.no_api_access, &u);
    if (rc == HH_ERR_EXISTS) {
        ex = cli_fail(cmd->prog, "a user with email %s already exists", a.email);
        goto done;
    }
    if (rc) {
        ex = cli_fail(cmd->prog, "cannot create user: %s", hh_status_str(rc));
        goto done;
    }
    if (credits > 0) {
        rc = store_ledger_append(st, u.id, credits, HH_LEDGER_GRANT, NULL, "initial credits", NULL);
        if (rc) {
            ex = cli_fail(cmd->prog, "user %s created, but the grant failed: %s", u.id,
                          hh_status_str(rc));
            goto done;
        }
    }
    printf("%s\n", u.id);
    ex = CLI_OK;
done:
    store_close(st);
    return ex;
}

static const int email_only_opts[] = {O_EMAIL, 0};
static const admin_cmd user_show_cmd = {"happyhorse admin user show", email_only_opts,
                                        "--email E\n"
                                        "Prints the user as JSON: id, email, plan, credits, "
                                        "apiAccess, createdAt.\n"};

static int user_show(int argc, char **argv)
{
    const admin_cmd *cmd = &user_show_cmd;
    admin_args a;
    hh_store *st = NULL;
    hh_user u;
    int ex = parse(cmd, argc, argv, &a);
    if (ex < 0)
        ex = open_user(cmd, &a, &st, &u);
    if (ex < 0)
        ex = print_json(cmd, store_user_json(&u));
    store_close(st);
    return ex;
}

static const int api_access_opts[] = {O_EMAIL, O_ON, O_OFF, 0};
static const admin_cmd user_api_access_cmd = {
    "happyhorse admin user api-access", api_access_opts,
    "--email E --on|--off\n"
    "Allows (--on) or stops (--off) the user creating and using API keys.\n"};

static int user_api_access(int argc, char **argv)
{
    const admin_cmd *cmd = &user_api_access_cmd;
    admin_args a;
    hh_store *st = NULL;
    hh_user u;
    int ex = parse(cmd, argc, argv, &a);
    if (ex < 0 && a.on == a.off)
        ex = cli_usage_error(cmd->prog, "give exactly one of --on and --off");
    if (ex < 0)
        ex = open_user(cmd, &a, &st, &u);
    if (ex < 0) {
        hh_status rc = store_user_set_api_access(st, u.id, a.on);
        ex = rc ? cli_fail(cmd->prog, "cannot change API access: %s", hh_status_str(rc)) : CLI_OK;
    }
    store_close(st);
    return ex;
}

/*
 * Reads --limit (1..STORE_PAGE_MAX) and --before (what names its id) into
 * *limit and *before when given; -1 when fine, else the usage error's exit.
 */
static int parse_page(const admin_cmd *cmd, const admin_args *a, const char *what, int64_t *limit,
                      int64_t *before)
{
    int ex = need_limit(cmd, a->limit, limit);
    if (ex >= 0)
        return ex;
    if (a->before && !cli_parse_i64(a->before, 1, INT64_MAX, before))
        return cli_usage_error(cmd->prog, "--before must be %s", what);
    return -1;
}

static const int ledger_opts[] = {O_EMAIL, O_LIMIT, O_BEFORE, 0};
static const admin_cmd user_ledger_cmd = {
    "happyhorse admin user ledger", ledger_opts,
    "--email E [--limit N] [--before ID]\n"
    "Prints the user's ledger as a JSON array, newest first.\n"
    "  --limit N        entries per page, 1..1000 (default 50)\n"
    "  --before ID      only entries older than this entry id (the next page)\n"};

static int user_ledger(int argc, char **argv)
{
    const admin_cmd *cmd = &user_ledger_cmd;
    admin_args a;
    hh_store *st = NULL;
    hh_user u;
    hh_ledger_entry *e = NULL;
    size_t n = 0;
    int64_t limit = LEDGER_PAGE, before = 0;
    int ex = parse(cmd, argc, argv, &a);
    if (ex < 0)
        ex = parse_page(cmd, &a, "a ledger entry id", &limit, &before);
    if (ex < 0)
        ex = open_user(cmd, &a, &st, &u);
    if (ex >= 0)
        goto done;
    hh_status rc = store_ledger_list(st, u.id, before, (int)limit, &e, &n);
    if (rc) {
        ex = cli_fail(cmd->prog, "cannot read the ledger: %s", hh_status_str(rc));
        goto done;
    }
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++)
        json_array_append_new(arr, store_ledger_entry_json(&e[i]));
    ex = print_json(cmd, arr);
done:
    free(e);
    store_close(st);
    return ex;
}

static const int user_list_opts[] = {O_PLAN, O_LIMIT, O_AFTER, 0};
static const admin_cmd user_list_cmd = {
    "happyhorse admin user list", user_list_opts,
    "[--plan P] [--limit N] [--after ID]\n"
    "Prints users as a JSON array, oldest first, as `user show` prints one.\n"
    "  --plan P         only users on plan P (any name: also finds users of a plan\n"
    "                   the plans file no longer has)\n"
    "  --limit N        users per page, 1..1000 (default 100)\n"
    "  --after ID       only users created after the user with this id (the next page)\n"};

/* A plan name as the plans file allows: 1..31 of a-z 0-9 _ -. */
static int plan_name_ok(const char *p)
{
    size_t n = strlen(p);
    return n > 0 && n < STORE_PLAN_MAX && strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

static int user_list(int argc, char **argv)
{
    const admin_cmd *cmd = &user_list_cmd;
    admin_args a;
    hh_store *st = NULL;
    hh_user *u = NULL;
    size_t n = 0;
    int64_t limit = USER_PAGE;
    int ex = parse(cmd, argc, argv, &a);
    if (ex < 0 && a.plan && !plan_name_ok(a.plan))
        ex = cli_usage_error(cmd->prog, "'%s' is not a plan name", a.plan);
    if (ex < 0)
        ex = need_limit(cmd, a.limit, &limit);
    if (ex < 0 && a.after && !uuid_is_valid(a.after))
        ex = cli_usage_error(cmd->prog, "--after must be a user id");
    if (ex < 0)
        ex = open_store(cmd, &a, &st);
    if (ex >= 0)
        goto done;
    hh_status rc = store_user_list(st, a.plan, a.after, (int)limit, &u, &n);
    if (rc) {
        ex = cli_fail(cmd->prog, "cannot list users: %s", hh_status_str(rc));
        goto done;
    }
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++)
        json_array_append_new(arr, store_user_json(&u[i]));
    ex = print_json(cmd, arr);
done:
    free(u);
    store_close(st);
    return ex;
}

static const int disable_opts[] = {O_EMAIL, O_MESSAGE, 0};
static const admin_cmd user_disable_cmd = {
    "happyhorse admin user disable", disable_opts,
    "--email E [--message TEXT]\n"
    "Suspends the user at once: its API keys stop working, its dashboard sessions end,\n"
    "it cannot sign in, and each of its videos that is queued or running fails with a\n"
    "full refund. Prints what was done as JSON. `user enable` reinstates it.\n"
    "  --message TEXT   the errorMessage of those videos (default: the account was\n"
    "                   suspended)\n"};
static const admin_cmd user_enable_cmd = {"happyhorse admin user enable", email_only_opts,
                                          "--email E\n"
                                          "Reinstates a suspended user: its keys work again and "
                                          "it may sign in.\n"};

/* user disable and user enable: on says which. */
static int user_set_disabled(const admin_cmd *cmd, int on, int argc, char **argv)
{
    admin_args a;
    hh_store *st = NULL;
    hh_user u;
    hh_suspension done = {0, 0, 0};
    int ex = parse(cmd, argc, argv, &a);
    if (ex < 0 && a.message && strnlen(a.message, 256) > 255)
        ex = cli_usage_error(cmd->prog, "--message is longer than 255 bytes");
    if (ex < 0)
        ex = open_user(cmd, &a, &st, &u);
    if (ex >= 0)
        goto done;
    hh_status rc = store_user_set_disabled(st, u.id, on, a.message, &done);
    if (rc == HH_ERR_CONFLICT)
        ex = cli_fail(cmd->prog, "user %s is %s already", a.email, on ? "suspended" : "active");
    else if (rc)
        ex = cli_fail(cmd->prog, "cannot %s user %s: %s", on ? "suspend" : "reinstate", a.email,
                      hh_status_str(rc));
    else
        ex = print_json(cmd, json_pack("{s:s, s:s, s:b, s:I, s:I, s:I}", "id", u.id, "email",
                                       u.email, "disabled", on, "videosCanceled",
                                       (json_int_t)done.videos_canceled, "creditsRefunded",
                                       (json_int_t)done.credits_refunded, "sessionsEnded",
                                       (json_int_t)done.sessions_ended));
done:
    store_close(st);
    return ex;
}

static const admin_cmd user_password_cmd = {
    "happyhorse admin user password", email_only_opts,
    "--email E\n"
    "Sets or resets the user's dashboard password, read from one line of stdin\n"
    "(>= 8 characters), and signs the user out of every dashboard session.\n"};

static int user_password(int argc, char **argv)
{
    const admin_cmd *cmd = &user_password_cmd;
    admin_args a;
    hh_store *st = NULL;
    hh_user u;
    char pw[PASSWORD_MAX_LEN + 2];
    char hash[PASSWORD_HASH_MAX];
    int ex = parse(cmd, argc, argv, &a);
    if (ex < 0)
        ex = read_password(cmd, pw, sizeof pw);
    if (ex < 0) {
        hh_status rc = password_hash(pw, hash, sizeof hash);
        if (rc)
            ex = cli_fail(cmd->prog, "cannot hash the password: %s", hh_status_str(rc));
    }
    OPENSSL_cleanse(pw, sizeof pw);
    if (ex < 0)
        ex = open_user(cmd, &a, &st, &u);
    if (ex < 0) {
        hh_status rc = store_user_set_password(st, u.id, hash);
        ex = rc ? cli_fail(cmd->prog, "cannot set the password: %s", hh_status_str(rc)) : CLI_OK;
    }
    OPENSSL_cleanse(hash, sizeof hash);
    store_close(st);
    return ex;
}

static int user_disable(int argc, char **argv)
{
    return user_set_disabled(&user_disable_cmd, 1, argc, argv);
}

static int user_enable(int argc, char **argv)
{
    return user_set_disabled(&user_enable_cmd, 0, argc, argv);
}

static const cli_command user_table[] = {
    {"create", user_create, "create a user; prints its id"},
    {"show", user_show, "print a user as JSON"},
    {"api-access", user_api_access, "turn API access --on or --off"},
    {"ledger", user_ledger, "print a user's credit ledger as JSON"},
    {"list", user_list, "print users as JSON, a page at a time, by plan"},
    {"password", user_password, "set or reset a dashboard password from stdin"},
    {"disable", user_disable, "suspend a user: keys and sessions stop, queued jobs refunded"},
    {"enable", user_enable, "reinstate a suspended user"},
    {NULL, NULL, NULL},
};

/* ---- admin key ---- */

static const int key_create_opts[] = {O_EMAIL, O_NAME, O_PLANS, 0};
static const admin_cmd key_create_cmd = {
    "happyhorse admin key create", key_create_opts,
    "--email E [--name NAME] [--plans FILE]\n"
    "Creates an API key and prints it, alone, on stdout. It is shown only this once.\n"
    "A user holds at most its plan's maxApiKeys live keys (docs/plans.md).\n"
    "  --name NAME      a label for the key, up to 127 bytes (default \"default\")\n"};

/* The most live keys user u may hold: its plan's maxApiKeys. -1 when fine, else the exit status. */
static int max_keys_of(const admin_cmd *cmd, const admin_args *a, const hh_user *u, int *max)
{
    char err[320];
    hh_plans *plans = NULL;
    if (cli_plans_load(a->plans, &plans, err, sizeof err))
        return cli_fail(cmd->prog, "%s", err);
    const hh_plan *p = plans_find(plans, u->plan);
    *max = p ? p->max_api_keys : HH_PLAN_DEFAULT_MAX_KEYS;
    plans_free(plans);
    return -1;
}

static int key_create(int argc, char **argv)
{
    const admin_cmd *cmd = &key_create_cmd;
    admin_args a;
    hh_store *st = NULL;
    hh_user u;
    char key[APIKEY_BUF] = "";
    int ex = parse(cmd, argc, argv, &a);
    if (ex < 0 && !a.name)
        a.name = "default";
    if (ex < 0 && (strnlen(a.name, 128) > 127))
        ex = cli_usage_error(cmd->prog, "--name is longer than 127 bytes");
    int max_keys = 0;
    if (ex < 0)
        ex = open_user(cmd, &a, &st, &u);
    if (ex < 0)
        ex = max_keys_of(cmd, &a, &u, &max_keys);
    if (ex >= 0)
        goto done;
    if (!u.api_access) {
        ex = cli_fail(cmd->prog,
                      "user %s has no API access (enable it with: admin user api-access --on)",
                      a.email);
        goto done;
    }
    uint8_t hash[CRYPTO_SHA256_LEN];
    char prefix[APIKEY_PREFIX_BUF];
    hh_status rc = apikey_generate(key);
    if (!rc) {
        apikey_hash(key, hash);
        apikey_prefix(key, prefix);
        rc = store_key_insert_capped(st, u.id, a.name, hash, prefix, max_keys, NULL);
    }
    if (rc == HH_ERR_LIMIT) {
        ex = cli_fail(cmd->prog,
                      "user %s holds %d live keys, the most its plan \"%s\" allows (maxApiKeys); "
                      "delete one first",
                      a.email, max_keys, u.plan);
        goto done;
    }
    if (rc) {
        ex = cli_fail(cmd->prog, "cannot create the key: %s", hh_status_str(rc));
        goto done;
    }
    printf("%s\n", key);
    ex = fflush(stdout) == 0 ? CLI_OK : cli_fail(cmd->prog, "cannot write the key");
done:
    OPENSSL_cleanse(key, sizeof key);
    store_close(st);
    return ex;
}

static const admin_cmd key_list_cmd = {
    "happyhorse admin key list", email_only_opts,
    "--email E\n"
    "Prints the user's live keys as a JSON array, newest first: id, name, prefix,\n"
    "createdAt, lastUsedAt (null when never used).\n"};

static int key_list(int argc, char **argv)
{
    const admin_cmd *cmd = &key_list_cmd;
    admin_args a;
    hh_store *st = NULL;
    hh_user u;
    hh_api_key *keys = NULL;
    size_t n = 0;
    int ex = parse(cmd, argc, argv, &a);
    if (ex < 0)
        ex = open_user(cmd, &a, &st, &u);
    if (ex >= 0)
        goto done;
    /* Every live key, page after page: none can hide past the first thousand. */
    json_t *arr = json_array();
    char before[HH_ID_LEN] = "";
    hh_status rc = HH_OK;
    do {
        free(keys);
        keys = NULL;
        rc = store_key_list_page(st, u.id, before, STORE_KEYS_MAX, &keys, &n);
        for (size_t i = 0; !rc && arr && i < n; i++)
            json_array_append_new(arr, store_key_json(&keys[i]));
        if (!rc && n)
            memcpy(before, keys[n - 1].id, HH_ID_LEN);
    } while (!rc && n == STORE_KEYS_MAX);
    if (rc) {
        json_decref(arr);
        ex = cli_fail(cmd->prog, "cannot list keys: %s", hh_status_str(rc));
        goto done;
    }
    ex = print_json(cmd, arr);
done:
    free(keys);
    store_close(st);
    return ex;
}

static const int key_delete_opts[] = {O_EMAIL, O_ID, 0};
static const admin_cmd key_delete_cmd = {"happyhorse admin key delete", key_delete_opts,
                                         "--email E --id KEYID\n"
                                         "Deletes one of the user's keys; it stops working at "
                                         "once.\n"};

static int key_delete(int argc, char **argv)
{
    const admin_cmd *cmd = &key_delete_cmd;
    admin_args a;
    hh_store *st = NULL;
    hh_user u;
    int ex = parse(cmd, argc, argv, &a);
    if (ex < 0 && !a.id)
        ex = cli_usage_error(cmd->prog, "--id is required (see --help)");
    if (ex < 0 && !uuid_is_valid(a.id))
        ex = cli_usage_error(cmd->prog, "'%s' is not a key id", a.id);
    if (ex < 0)
        ex = open_user(cmd, &a, &st, &u);
    if (ex < 0) {
        hh_status rc = store_key_delete(st, u.id, a.id);
        if (rc == HH_ERR_NOTFOUND)
            ex = cli_fail(cmd->prog, "user %s has no live key %s", a.email, a.id);
        else if (rc)
            ex = cli_fail(cmd->prog, "cannot delete the key: %s", hh_status_str(rc));
        else
            ex = CLI_OK;
    }
    store_close(st);
    return ex;
}

static const cli_command key_table[] = {
    {"create", key_create, "create an API key; prints it once"},
    {"list", key_list, "list a user's live keys as JSON"},
    {"delete", key_delete, "delete a key"},
    {NULL, NULL, NULL},
};

/* ---- admin credits ---- */

static const int grant_opts[] = {O_EMAIL, O_AMOUNT, O_NOTE, 0};
static const admin_cmd credits_grant_cmd = {
    "happyhorse admin credits grant", grant_opts,
    "--email E --amount N [--note TEXT]\n"
    "Adds N credits (a whole number > 0) as a grant in the ledger; prints the new\n"
    "balance as JSON.\n"
    "  --note TEXT      why, kept in the ledger (up to 255 bytes)\n"};

static int credits_move(const admin_cmd *cmd, hh_ledger_kind kind, int argc, char **argv);

static int credits_grant(int argc, char **argv)
{
    return credits_move(&credits_grant_cmd, HH_LEDGER_GRANT, argc, argv);
}

static const admin_cmd credits_adjust_cmd = {
    "happyhorse admin credits adjust", grant_opts,
    "--email E --amount N [--note TEXT]\n"
    "Moves the balance by N (a whole number, not 0; negative takes credits away) as an\n"
    "adjustment in the ledger; prints the new balance as JSON. A negative N may take\n"
    "the balance down to zero, never below: that is refused and nothing changes.\n"
    "  --note TEXT      why, kept in the ledger (up to 255 bytes)\n"};

static int credits_adjust(int argc, char **argv)
{
    return credits_move(&credits_adjust_cmd, HH_LEDGER_ADJUSTMENT, argc, argv);
}

/* Checks --amount for kind: a grant is 1..GRANT_MAX, an adjustment any non-zero within +-GRANT_MAX.
 */
static int need_amount(const admin_cmd *cmd, hh_ledger_kind kind, const char *s, int64_t *amount)
{
    int grant = kind == HH_LEDGER_GRANT;
    if (!s)
        return cli_usage_error(cmd->prog, "--amount is required (see --help)");
    if (!cli_parse_i64(s, grant ? 1 : -GRANT_MAX, GRANT_MAX, amount) || *amount == 0)
        return grant ? cli_usage_error(cmd->prog, "--amount must be a whole number from 1 to %lld",
                                       GRANT_MAX)
                     : cli_usage_error(cmd->prog,
                                       "--amount must be a whole number from %lld to %lld, not 0",
                                       -GRANT_MAX, GRANT_MAX);
    return -1;
}

/* `credits grant` and `credits adjust`: one ledger row of kind, the new balance as JSON. */
static int credits_move(const admin_cmd *cmd, hh_ledger_kind kind, int argc, char **argv)
{
    admin_args a;
    hh_store *st = NULL;
    hh_user u;
    int64_t amount = 0, balance = 0;
    int ex = parse(cmd, argc, argv, &a);
    if (ex < 0)
        ex = need_amount(cmd, kind, a.amount, &amount);
    if (ex < 0 && a.note && strnlen(a.note, 256) > 255)
        ex = cli_usage_error(cmd->prog, "--note is longer than 255 bytes");
    if (ex < 0)
        ex = open_user(cmd, &a, &st, &u);
    if (ex >= 0)
        goto done;
    hh_status rc = store_ledger_append(st, u.id, amount, kind, NULL, a.note, &balance);
    if (rc == HH_ERR_CREDITS)
        ex = cli_fail(cmd->prog,
                      "the balance is %lld; an adjustment of %lld would take it below zero",
                      (long long)balance, (long long)amount);
    else if (rc)
        ex = cli_fail(cmd->prog, "cannot %s credits: %s",
                      kind == HH_LEDGER_GRANT ? "grant" : "adjust", hh_status_str(rc));
    else
        ex = print_json(cmd, json_pack("{s:s, s:s, s:I, s:I}", "id", u.id, "email", u.email,
                                       kind == HH_LEDGER_GRANT ? "granted" : "adjusted",
                                       (json_int_t)amount, "credits", (json_int_t)balance));
done:
    store_close(st);
    return ex;
}

static const cli_command credits_table[] = {
    {"grant", credits_grant, "add credits to a user (a ledger grant)"},
    {"adjust", credits_adjust, "correct a balance up or down (a ledger adjustment)"},
    {NULL, NULL, NULL},
};

/* ---- admin plan ---- */

static const int plan_set_opts[] = {O_EMAIL, O_PLAN, O_PLANS, 0};
static const admin_cmd plan_set_cmd = {"happyhorse admin plan set", plan_set_opts,
                                       "--email E --plan P\n"
                                       "Moves the user to plan P.\n"};

static int plan_set(int argc, char **argv)
{
    const admin_cmd *cmd = &plan_set_cmd;
    admin_args a;
    hh_store *st = NULL;
    hh_user u;
    int ex = parse(cmd, argc, argv, &a);
    if (ex < 0 && !a.plan)
        ex = cli_usage_error(cmd->prog, "--plan is required (see --help)");
    if (ex < 0)
        ex = need_plan(cmd, &a, a.plan);
    if (ex < 0)
        ex = open_user(cmd, &a, &st, &u);
    if (ex < 0) {
        hh_status rc = store_user_set_plan(st, u.id, a.plan);
        ex = rc ? cli_fail(cmd->prog, "cannot set the plan: %s", hh_status_str(rc)) : CLI_OK;
    }
    store_close(st);
    return ex;
}

static const int plan_list_opts[] = {O_PLANS, 0};
static const admin_cmd plan_list_cmd = {
    "happyhorse admin plan list", plan_list_opts,
    "\n"
    "Prints the plans as a JSON array, cheapest first: limits, gated features, prices,\n"
    "publish, watermark and engine (as the plans file says them).\n"};

static int plan_list(int argc, char **argv)
{
    const admin_cmd *cmd = &plan_list_cmd;
    admin_args a;
    char err[320];
    hh_plans *plans = NULL;
    int ex = parse(cmd, argc, argv, &a);
    if (ex < 0 && cli_plans_load(a.plans, &plans, err, sizeof err))
        ex = cli_fail(cmd->prog, "%s", err);
    if (ex < 0)
        ex = print_json(cmd, plans_to_json(plans));
    plans_free(plans);
    return ex;
}

static const cli_command plan_table[] = {
    {"set", plan_set, "move a user to another plan"},
    {"list", plan_list, "print the plans as JSON"},
    {NULL, NULL, NULL},
};

/* ---- admin video ---- */

#define PUBLIC_URL_HELP                                                                            \
    "  --public-url URL base of the URLs shown, as serve's (env HAPPYHORSE_PUBLIC_URL,\n"          \
    "                   default http://HAPPYHORSE_LISTEN or http://127.0.0.1:8080)\n"

static const int video_list_opts[] = {O_EMAIL_OPTIONAL, O_STATUS,     O_LIMIT,
                                      O_BEFORE,         O_PUBLIC_URL, 0};
static const admin_cmd video_list_cmd = {
    "happyhorse admin video list", video_list_opts,
    "[--email E] [--status S] [--limit N] [--before ID] [--public-url URL]\n"
    "Prints videos as a JSON array, newest first, every user's or one user's: each as\n"
    "GET /api/v1/videos/{id} shows it (videoUrl and thumbnailUrl full URLs) with its\n"
    "owner's userId and email and its plan.\n"
    "  --email E        only the videos of this user\n"
    "  --status S       only videos of this status: queued, processing, ready, failed,\n"
    "                   canceled\n"
    "  --limit N        at most N videos, 1..1000 (default 100)\n"
    "  --before ID      only videos older than video ID (the next page)\n" PUBLIC_URL_HELP};

/*
 * Opens object storage with the public base of --public-url, for the URLs
 * of videos: -1 when fine, else the exit status with a message.
 */
static int open_urls(const admin_cmd *cmd, const admin_args *a, blob_store **blob)
{
    char err[320], url[512];
    int rc = cli_blob_open(a->data, blob, err, sizeof err);
    if (rc)
        return rc < 0 ? cli_usage_error(cmd->prog, "%s", err) : cli_fail(cmd->prog, "%s", err);
    cli_public_url(a->public_url, url, sizeof url);
    blob_set_public_url(*blob, url);
    return -1;
}

/* A video as the operator sees it: the API's object, its owner and plan. New reference. */
static json_t *video_out(const hh_video *v, const blob_store *blob, const char *email)
{
    json_t *j = video_json(v, blob);
    json_object_set_new(j, "userId", json_string(v->user_id));
    if (email)
        json_object_set_new(j, "email", json_string(email));
    json_object_set_new(j, "plan", json_string(v->plan));
    return j;
}

/* The videos v[0..n) as a JSON array, each with its owner's email (looked up once per owner). */
static json_t *videos_out(hh_store *st, const blob_store *blob, const hh_video *v, size_t n)
{
    json_t *arr = json_array();
    hh_user u = {0};
    for (size_t i = 0; arr && i < n; i++) {
        if (strcmp(u.id, v[i].user_id) && store_user_by_id(st, v[i].user_id, &u))
            memset(&u, 0, sizeof u);
        json_array_append_new(arr, video_out(&v[i], blob, u.id[0] ? u.email : NULL));
    }
    return arr;
}

/* Checks --email (when given) and --status of video list into *status: -1 when fine, else 2. */
static int need_filter(const admin_cmd *cmd, const admin_args *a, int *status)
{
    *status = HH_VIDEO_ANY;
    if (a->email && !email_ok(a->email))
        return cli_usage_error(cmd->prog, "'%s' is not an email address", a->email);
    if (a->status && (*status = hh_video_status_parse(a->status)) < 0)
        return cli_usage_error(cmd->prog,
                               "--status must be queued, processing, ready, failed or canceled");
    return -1;
}

static int video_list(int argc, char **argv)
{
    const admin_cmd *cmd = &video_list_cmd;
    admin_args a;
    hh_store *st = NULL;
    blob_store *blob = NULL;
    hh_user u;
    hh_video *v = NULL;
    size_t n = 0;
    int64_t limit = 100;
    int status = HH_VIDEO_ANY;
    int ex = parse(cmd, argc, argv, &a);
    if (ex < 0)
        ex = need_limit(cmd, a.limit, &limit);
    if (ex < 0)
        ex = need_filter(cmd, &a, &status);
    if (ex < 0 && a.before && !uuid_is_valid(a.before))
        ex = cli_usage_error(cmd->prog, "--before must be a video id");
    if (ex < 0)
        ex = a.email ? open_user(cmd, &a, &st, &u) : open_store(cmd, &a, &st);
    if (ex < 0)
        ex = open_urls(cmd, &a, &blob);
    if (ex >= 0)
        goto done;
    hh_video_filter f = {a.before, status, NULL, 0};
    hh_status rc = store_video_find(st, a.email ? u.id : NULL, &f, (int)limit, &v, &n);
    if (rc) {
        ex = cli_fail(cmd->prog, "cannot read the videos: %s", hh_status_str(rc));
        goto done;
    }
    ex = print_json(cmd, videos_out(st, blob, v, n));
done:
    store_video_list_free(v, n);
    blob_free(blob);
    store_close(st);
    return ex;
}

/* Parses a command naming a video with --id and opens the store: -1 to go on, else the exit status.
 */
static int parse_video_cmd(const admin_cmd *cmd, int argc, char **argv, admin_args *a,
                           hh_store **st)
{
    int ex = parse(cmd, argc, argv, a);
    if (ex < 0 && (!a->id || !uuid_is_valid(a->id)))
        ex = cli_usage_error(cmd->prog, "--id must be a video id");
    if (ex < 0 && a->note && strnlen(a->note, 256) > 255)
        ex = cli_usage_error(cmd->prog, "--note is longer than 255 bytes");
    if (ex < 0)
        ex = open_store(cmd, a, st);
    return ex;
}

static const int video_fail_opts[] = {O_ID, O_MESSAGE, 0};
static const admin_cmd video_fail_cmd = {
    "happyhorse admin video fail", video_fail_opts,
    "--id VIDEO [--message TEXT]\n"
    "Fails a video that is queued or stuck processing and refunds its credits (once).\n"
    "  --message TEXT   the errorMessage the customer sees (default: cancelled by an operator)\n"};

static int video_fail(int argc, char **argv)
{
    const admin_cmd *cmd = &video_fail_cmd;
    admin_args a;
    hh_store *st = NULL;
    int ex = parse_video_cmd(cmd, argc, argv, &a, &st);
    if (ex >= 0)
        goto done;
    hh_status rc =
        store_job_fail(st, a.id, NULL, a.message ? a.message : "Cancelled by an operator.", 0);
    if (rc == HH_ERR_NOTFOUND)
        ex = cli_fail(cmd->prog, "no video %s", a.id);
    else if (rc == HH_ERR_CONFLICT)
        ex = cli_fail(cmd->prog, "video %s has already finished", a.id);
    else if (rc)
        ex = cli_fail(cmd->prog, "cannot fail video %s: %s", a.id, hh_status_str(rc));
    else
        ex = CLI_OK;
done:
    store_close(st);
    return ex;
}

static const int video_show_opts[] = {O_ID, O_PUBLIC_URL, 0};
static const admin_cmd video_show_cmd = {
    "happyhorse admin video show", video_show_opts,
    "--id VIDEO [--public-url URL]\n"
    "Prints one video as JSON, with its owner and plan, and for a video a provider\n"
    "made (upstream engines) \"remote\": the provider's task, its phase, creates and\n"
    "polls answered, the provider's usage, the operator's cost figure and last "
    "error.\n" PUBLIC_URL_HELP};

/* The operator's view of a video's provider task, or NULL when it has none. New reference. */
static json_t *remote_json(hh_store *st, const char *video_id)
{
    hh_remote_task t;
    if (store_remote_get(st, video_id, &t))
        return NULL;
    json_t *task = t.task ? json_loads(t.task, 0, NULL) : NULL;
    json_t *usage = t.usage ? json_loads(t.usage, 0, NULL) : NULL;
    json_t *j =
        json_pack("{s:s, s:s, s:O?, s:O?, s:s?, s:i, s:i, s:i, s:f}", "engine", t.engine, "phase",
                  hh_remote_phase_str(t.phase), "taskId", json_object_get(task, "id"), "usage",
                  usage, "lastError", t.detail, "creates", t.creates, "polls", t.polls, "errors",
                  t.errors, "cost", t.cost);
    json_decref(task);
    json_decref(usage);
    store_remote_clear(&t);
    return j;
}

static int video_show(int argc, char **argv)
{
    const admin_cmd *cmd = &video_show_cmd;
    admin_args a;
    hh_store *st = NULL;
    blob_store *blob = NULL;
    hh_video v;
    int ex = parse_video_cmd(cmd, argc, argv, &a, &st);
    if (ex < 0)
        ex = open_urls(cmd, &a, &blob);
    if (ex >= 0)
        goto done;
    hh_status rc = store_video_get_any(st, a.id, &v);
    if (rc) {
        ex = rc == HH_ERR_NOTFOUND ? cli_fail(cmd->prog, "no video %s", a.id)
                                   : cli_fail(cmd->prog, "cannot read video %s", a.id);
        goto done;
    }
    json_t *j = video_out(&v, blob, NULL);
    json_object_set_new(j, "attempts", json_integer(v.attempts));
    json_t *remote = remote_json(st, v.id);
    if (remote)
        json_object_set_new(j, "remote", remote);
    store_video_clear(&v);
    ex = print_json(cmd, j);
done:
    blob_free(blob);
    store_close(st);
    return ex;
}

static const int video_refund_opts[] = {O_ID, O_NOTE, 0};
static const admin_cmd video_refund_cmd = {
    "happyhorse admin video refund", video_refund_opts,
    "--id VIDEO [--note TEXT]\n"
    "Refunds a ready video's charge to its owner (once); the video stays ready.\n"
    "Prints {\"refunded\": N}.\n"
    "  --note TEXT      why, for the ledger (up to 255 bytes)\n"};

static int video_refund(int argc, char **argv)
{
    const admin_cmd *cmd = &video_refund_cmd;
    admin_args a;
    hh_store *st = NULL;
    int64_t refunded = 0;
    int ex = parse_video_cmd(cmd, argc, argv, &a, &st);
    if (ex >= 0)
        goto done;
    hh_status rc = store_video_refund(st, a.id, a.note, &refunded);
    if (rc == HH_ERR_NOTFOUND)
        ex = cli_fail(cmd->prog, "no video %s", a.id);
    else if (rc == HH_ERR_CONFLICT)
        ex = cli_fail(cmd->prog, "video %s is not ready or was refunded already", a.id);
    else if (rc)
        ex = cli_fail(cmd->prog, "cannot refund video %s: %s", a.id, hh_status_str(rc));
    else
        ex = print_json(cmd, json_pack("{s:I}", "refunded", (json_int_t)refunded));
done:
    store_close(st);
    return ex;
}

static const cli_command video_table[] = {
    {"list", video_list, "print videos as JSON, every user's or one user's"},
    {"show", video_show, "print one video as JSON"},
    {"fail", video_fail, "fail a queued or stuck video and refund it"},
    {"refund", video_refund, "refund a ready video's charge (once)"},
    {NULL, NULL, NULL},
};

/* ---- admin stats ---- */

static const int stats_opts[] = {O_DAYS, 0};
static const admin_cmd stats_cmd = {
    "happyhorse admin stats", stats_opts,
    "[--days N]\n"
    "Prints the service's numbers as JSON: \"videos\" (how many in each status),\n"
    "\"queue\" (queued, running, leases expired, users waiting, oldest queued job) and\n"
    "\"credits\" (per UTC day with ledger rows, newest first: credits charged, refunded,\n"
    "granted and adjusted).\n"
    "  --days N         days of \"credits\", 1..1000 (default 30)\n"};

/* The "credits" member of stats: the per-day sums. New reference or NULL. */
static json_t *credit_days_json(hh_store *st, int days)
{
    hh_credit_day *d = NULL;
    size_t n = 0;
    if (store_credit_days(st, days, &d, &n))
        return NULL;
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++)
        json_array_append_new(arr, json_pack("{s:s, s:I, s:I, s:I, s:I}", "day", d[i].day,
                                             "charged", (json_int_t)d[i].charged, "refunded",
                                             (json_int_t)d[i].refunded, "granted",
                                             (json_int_t)d[i].granted, "adjusted",
                                             (json_int_t)d[i].adjusted));
    free(d);
    return arr;
}

static int stats(int argc, char **argv)
{
    const admin_cmd *cmd = &stats_cmd;
    admin_args a;
    hh_store *st = NULL;
    int64_t days = STATS_DAYS, counts[HH_VIDEO_STATUS_COUNT];
    hh_queue_stats q;
    int ex = parse(cmd, argc, argv, &a);
    if (ex < 0 && a.days && !cli_parse_i64(a.days, 1, STORE_PAGE_MAX, &days))
        ex = cli_usage_error(cmd->prog, "--days must be a whole number from 1 to %d",
                             STORE_PAGE_MAX);
    if (ex < 0)
        ex = open_store(cmd, &a, &st);
    if (ex >= 0)
        goto done;
    json_t *credits = NULL;
    if (store_job_counts(st, counts) || store_queue_stats(st, &q) ||
        !(credits = credit_days_json(st, (int)days))) {
        ex = cli_fail(cmd->prog, "cannot read the statistics");
        goto done;
    }
    json_t *videos = json_object();
    for (int i = 0; videos && i < HH_VIDEO_STATUS_COUNT; i++)
        json_object_set_new(videos, hh_video_status_str((hh_video_status)i),
                            json_integer(counts[i]));
    ex = print_json(cmd,
                    json_pack("{s:o, s:{s:I, s:I, s:I, s:I, s:o}, s:o}", "videos", videos, "queue",
                              "queued", (json_int_t)q.queued, "running", (json_int_t)q.running,
                              "leaseExpired", (json_int_t)q.lease_expired, "waitingUsers",
                              (json_int_t)q.waiting_users, "oldestQueuedAt",
                              store_time_json(q.oldest_enqueued_at), "credits", credits));
done:
    store_close(st);
    return ex;
}

/* ---- admin audit ---- */

static const int audit_list_opts[] = {O_LIMIT, O_BEFORE, 0};
static const admin_cmd audit_list_cmd = {
    "happyhorse admin audit list", audit_list_opts,
    "[--limit N] [--before ID]\n"
    "Prints the audit log of operator actions as a JSON array, newest first: id, at,\n"
    "actor, action, target, options.\n"
    "  --limit N        entries per page, 1..1000 (default 50)\n"
    "  --before ID      only entries older than this entry id (the next page)\n"};

static int audit_list(int argc, char **argv)
{
    const admin_cmd *cmd = &audit_list_cmd;
    admin_args a;
    hh_store *st = NULL;
    hh_audit_entry *e = NULL;
    size_t n = 0;
    int64_t limit = LEDGER_PAGE, before = 0;
    int ex = parse(cmd, argc, argv, &a);
    if (ex < 0)
        ex = parse_page(cmd, &a, "an audit entry id", &limit, &before);
    if (ex < 0)
        ex = open_store(cmd, &a, &st);
    if (ex >= 0)
        goto done;
    hh_status rc = store_audit_list(st, before, (int)limit, &e, &n);
    if (rc) {
        ex = cli_fail(cmd->prog, "cannot read the audit log: %s", hh_status_str(rc));
        goto done;
    }
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++) {
        json_t *opts = e[i].detail ? json_loads(e[i].detail, 0, NULL) : NULL;
        json_array_append_new(arr, json_pack("{s:I, s:o, s:s, s:s, s:s?, s:o}", "id",
                                             (json_int_t)e[i].id, "at", store_time_json(e[i].at),
                                             "actor", e[i].actor, "action", e[i].action, "target",
                                             e[i].target[0] ? e[i].target : NULL, "options",
                                             opts ? opts : json_object()));
    }
    ex = print_json(cmd, arr);
done:
    store_audit_list_free(e, n);
    store_close(st);
    return ex;
}

static const cli_command audit_table[] = {
    {"list", audit_list, "print the audit log of operator actions as JSON"},
    {NULL, NULL, NULL},
};

/* Whether a command only reads (it is not written to the audit log). */
static int reads_only(const char *command)
{
    static const char *const reads[] = {"show", "list", "ledger", "stats"};
    for (size_t i = 0; i < sizeof reads / sizeof reads[0]; i++)
        if (!strcmp(command, reads[i]))
            return 1;
    return 0;
}

/* Who runs the command: the user sudo ran it for, else the effective user. */
static void actor_name(char *out, size_t size)
{
    const char *sudo = getenv("SUDO_USER");
    const struct passwd *pw = getpwuid(geteuid());
    if (sudo && *sudo)
        snprintf(out, size, "%s (sudo)", sudo);
    else if (pw && pw->pw_name)
        snprintf(out, size, "%s", pw->pw_name);
    else
        snprintf(out, size, "uid %u", (unsigned)geteuid());
}

/*
 * Writes `admin <group> <command> <options>` (argv[0] the command) to the
 * audit log, after it succeeded: the options as {"--flag": value or true},
 * the target the value of --email or --id. A failure to write is reported
 * on stderr but does not change the command's exit status: what it did is
 * done, and a script that retried would do it twice.
 */
static void audit(const char *group, int argc, char **argv)
{
    const char *data = NULL, *target = NULL;
    json_t *opts = json_object();
    for (int i = 1; opts && i < argc; i++) {
        if (strncmp(argv[i], "--", 2))
            continue;
        const char *eq = strchr(argv[i], '=');
        char name[64];
        snprintf(name, sizeof name, "%.*s", eq ? (int)(eq - argv[i]) : (int)strlen(argv[i]),
                 argv[i]);
        const char *value = eq ? eq + 1 : NULL;
        int takes = 0;
        for (size_t k = 0; k < N_OPTIONS; k++)
            if (!strcmp(all_options[k].opt.name, name + 2))
                takes = all_options[k].opt.has_arg == required_argument;
        if (!value && takes && i + 1 < argc)
            value = argv[++i];
        json_object_set_new(opts, name, value ? hh_log_text(value) : json_true());
        if (value && !strcmp(name, "--data"))
            data = value;
        if (value && (!strcmp(name, "--email") || !strcmp(name, "--id")) && !target)
            target = value;
    }
    char action[64], actor[64];
    snprintf(action, sizeof action, "%s %s", group, argv[0]);
    actor_name(actor, sizeof actor);
    char *detail = opts ? json_dumps(opts, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(opts);
    hh_store *st = NULL;
    hh_status rc = store_open(cli_store_location(data), &st);
    if (!rc)
        rc = store_audit_append(st, actor, action, target, detail);
    store_close(st);
    free(detail);
    if (rc)
        fprintf(stderr, "happyhorse admin %s: done, but the audit log could not be written: %s\n",
                action, hh_status_str(rc));
}

/* ---- admin migrate (the work is cli/migrate.c's) ---- */

static const int migrate_opts[] = {O_TO, O_S3, O_BATCH, 0};
static const admin_cmd migrate_cmd = {
    "happyhorse admin migrate", migrate_opts,
    "--to LOCATION [--s3] [--batch N]\n"
    "Copies this node's store (the SQLite database under --data) to LOCATION, a\n"
    "postgres:// URL or another data directory, table by table, and its objects\n"
    "with it; then compares rows, sums and objects and prints a JSON summary.\n"
    "Stop serve and worker first. Resumable: run it again after a failure; rows and\n"
    "objects already copied are skipped. LOCATION must be empty or an earlier copy.\n"
    "  --to LOCATION    the store to copy to (a URL may hold a password: it is never\n"
    "                   printed)\n"
    "  --s3             copy the objects to the S3 bucket serve is configured with\n"
    "                   (else to LOCATION's directory, or left in place for a URL)\n"
    "  --batch N        rows per transaction, 1..10000 (default 500)\n"};

static int migrate(int argc, char **argv)
{
    const admin_cmd *cmd = &migrate_cmd;
    admin_args a;
    int64_t batch = CLI_MIGRATE_BATCH;
    int ex = parse(cmd, argc, argv, &a);
    if (ex < 0 && !a.to)
        ex = cli_usage_error(cmd->prog, "--to is required (see --help)");
    if (ex < 0 && a.batch && !cli_parse_i64(a.batch, 1, STORE_COPY_BATCH_MAX, &batch))
        ex = cli_usage_error(cmd->prog, "--batch must be a whole number from 1 to %d",
                             STORE_COPY_BATCH_MAX);
    if (ex >= 0)
        return ex;
    cli_migrate_opts o = {.data = a.data, .to = a.to, .s3 = a.s3, .batch = (int)batch};
    return cli_migrate(cmd->prog, &o);
}

/* ---- admin ---- */

static const struct {
    const char *name;
    const cli_command *table;
} groups[] = {
    {"user", user_table}, {"key", key_table},     {"credits", credits_table},
    {"plan", plan_table}, {"video", video_table}, {"audit", audit_table},
};

/* 1 when argv asks for help rather than an action. */
static int asks_help(int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h") || !strcmp(argv[i], "help"))
            return 1;
    return 0;
}

/* Runs `admin <group> <command>`: argv[0] names the group. */
static int admin_group(int argc, char **argv)
{
    for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++) {
        if (strcmp(groups[i].name, argv[0]) != 0)
            continue;
        char prog[64];
        snprintf(prog, sizeof prog, "happyhorse admin %s", groups[i].name);
        int ex = cli_dispatch(prog, groups[i].table, argc - 1, argv + 1);
        if (ex == CLI_OK && argc >= 2 && !reads_only(argv[1]) && !asks_help(argc, argv))
            audit(groups[i].name, argc - 1, argv + 1);
        return ex;
    }
    return cli_usage_error("happyhorse admin", "unknown command '%s'", argv[0]);
}

static const cli_command admin_table[] = {
    {"user", admin_group, "create, show, api-access, ledger, list, password, disable, enable"},
    {"key", admin_group, "create, list, delete API keys"},
    {"credits", admin_group, "grant or adjust credits"},
    {"plan", admin_group, "set a user's plan, list the plans"},
    {"video", admin_group, "list, show, fail, refund videos"},
    {"stats", stats, "videos by status, the queue, credits per day"},
    {"audit", admin_group, "list the audit log of operator actions"},
    {"migrate", migrate, "copy the store and objects to PostgreSQL (and S3) or another directory"},
    {NULL, NULL, NULL},
};

int cli_admin(int argc, char **argv)
{
    /* Routine store messages (migrations applied) would clutter an operator's terminal. */
    hh_log_set_level(HH_LOG_WARN);
    return cli_dispatch("happyhorse admin", admin_table, argc - 1, argv + 1);
}
