/*
 * janitor.h - the serve process's housekeeping thread: pending uploads
 * whose URL has expired are forgotten, with whatever an interrupted body
 * of theirs left in storage, so presigns and crashes cannot pile up rows
 * and temporary files. At start it also sweeps the temporary files a
 * crash left behind, whatever their upload. It reads app->body_grace_s
 * and app->body_min_rate (serve's --timeout and --upload-min-rate).
 */
#ifndef HH_JANITOR_H
#define HH_JANITOR_H

#include "api/app.h"

typedef struct janitor janitor;

/*
 * Sweeps storage once, then starts the thread, which looks every period_s
 * seconds (1..60). The app is borrowed and must outlive the janitor.
 */
hh_status janitor_start(hh_app *app, int period_s, janitor **out);

/* One pass, as the thread makes it: returns how many uploads it forgot. */
unsigned janitor_pass(hh_app *app);

/* Stops and frees (waits for a pass in progress). NULL-safe. */
void janitor_stop(janitor *j);

#endif
