/*
 * store.c - what the store's backends share that does not depend on the
 * database: the names of the enums stored as text and their parsing,
 * freeing what a call returned, and the calling thread's lock wait. The
 * calls on a handle are dispatched in store_dispatch.c.
 */
#include "store/store.h"
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>

/* This thread's wait for a lock (store_thread_busy_ms); 0: the backend's default. */
static _Thread_local int thread_busy_ms;

static const char *const status_names[HH_VIDEO_STATUS_COUNT] = {"queued", "processing", "ready",
                                                                "failed", "canceled"};

const char *hh_video_status_str(hh_video_status s)
{
    return (unsigned)s < HH_VIDEO_STATUS_COUNT ? status_names[s] : "failed";
}

int hh_video_status_parse(const char *s)
{
    for (int i = 0; s && i < HH_VIDEO_STATUS_COUNT; i++)
        if (!strcmp(status_names[i], s))
            return i;
    return -1;
}

/* A status read from a database: its CHECK allows no other, "failed" is a safe floor. */
int store_video_ended(hh_video_status s)
{
    return s == HH_VIDEO_READY || s == HH_VIDEO_FAILED || s == HH_VIDEO_CANCELED;
}

hh_video_status store_status_parse(const char *s)
{
    int i = hh_video_status_parse(s);
    return i < 0 ? HH_VIDEO_FAILED : (hh_video_status)i;
}

void store_video_clear(hh_video *v)
{
    if (!v)
        return;
    free(v->prompt);
    free(v->style);
    free(v->request);
    free(v->error_message);
    v->prompt = v->style = v->request = v->error_message = NULL;
}

void store_video_list_free(hh_video *videos, size_t n)
{
    for (size_t i = 0; videos && i < n; i++)
        store_video_clear(&videos[i]);
    free(videos);
}

void store_audit_list_free(hh_audit_entry *entries, size_t n)
{
    for (size_t i = 0; entries && i < n; i++)
        free(entries[i].detail);
    free(entries);
}

static const char *const phase_names[HH_REMOTE_PHASE_COUNT] = {"submit", "wait",   "collect",
                                                               "done",   "failed", "cancel"};

const char *hh_remote_phase_str(hh_remote_phase phase)
{
    return (unsigned)phase < HH_REMOTE_PHASE_COUNT ? phase_names[phase] : "";
}

hh_remote_phase store_phase_parse(const char *s)
{
    for (int i = 0; i < HH_REMOTE_PHASE_COUNT; i++)
        if (!strcmp(s, phase_names[i]))
            return (hh_remote_phase)i;
    return HH_REMOTE_FAILED;
}

void store_remote_clear(hh_remote_task *t)
{
    free(t->task);
    free(t->usage);
    free(t->detail);
    t->task = t->usage = t->detail = NULL;
}

void store_remote_list_free(hh_remote_task *tasks, size_t n)
{
    for (size_t i = 0; i < n; i++)
        store_remote_clear(&tasks[i]);
    free(tasks);
}

static const char *const event_names[] = {"video.ready", "video.failed", "video.canceled"};
static const char *const outcome_names[] = {"delivered", "retrying", "failed", "disabled"};

const char *hh_hook_event_str(hh_hook_event event)
{
    for (unsigned i = 0; i < 3; i++)
        if ((unsigned)event == 1u << i)
            return event_names[i];
    return "";
}

hh_hook_event hh_hook_event_parse(const char *name)
{
    for (unsigned i = 0; name && i < 3; i++)
        if (!strcmp(name, event_names[i]))
            return (hh_hook_event)(1u << i);
    return (hh_hook_event)0;
}

const char *hh_hook_outcome_str(hh_hook_outcome outcome)
{
    return (unsigned)outcome < 4 ? outcome_names[outcome] : "";
}

hh_hook_outcome store_outcome_parse(const char *s)
{
    for (unsigned i = 0; i < 4; i++)
        if (!strcmp(s, outcome_names[i]))
            return (hh_hook_outcome)i;
    return HH_HOOK_FAILED;
}

static const char *const kind_names[] = {"grant", "charge", "refund", "adjustment"};

const char *hh_ledger_kind_str(hh_ledger_kind kind)
{
    if ((unsigned)kind < sizeof kind_names / sizeof kind_names[0])
        return kind_names[kind];
    return "unknown";
}

hh_ledger_kind store_ledger_kind_parse(const char *s)
{
    for (size_t i = 0; i < sizeof kind_names / sizeof kind_names[0]; i++)
        if (s && !strcmp(s, kind_names[i]))
            return (hh_ledger_kind)i;
    return HH_LEDGER_ADJUSTMENT;
}

void store_thread_busy_ms(int ms)
{
    thread_busy_ms = ms > 0 ? ms : 0;
}

int store_thread_busy(void)
{
    return thread_busy_ms;
}
