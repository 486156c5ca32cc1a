/* hark-recent-calls.h: the calls a person made and received, kept across restarts
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "hark-client.h"

G_BEGIN_DECLS

#define HARK_TYPE_RECENT_CALL (hark_recent_call_get_type ())

G_DECLARE_FINAL_TYPE (HarkRecentCall, hark_recent_call, HARK, RECENT_CALL, GObject)

gboolean    hark_recent_call_is_incoming  (HarkRecentCall *self);
const char *hark_recent_call_get_uri      (HarkRecentCall *self);
const char *hark_recent_call_get_name     (HarkRecentCall *self);
const char *hark_recent_call_get_profile  (HarkRecentCall *self);
gint64      hark_recent_call_get_time     (HarkRecentCall *self);
const char *hark_recent_call_get_outcome  (HarkRecentCall *self);
char       *hark_recent_call_describe     (HarkRecentCall *self);

#define HARK_TYPE_RECENT_CALLS (hark_recent_calls_get_type ())

G_DECLARE_FINAL_TYPE (HarkRecentCalls, hark_recent_calls, HARK, RECENT_CALLS, GObject)

HarkRecentCalls *hark_recent_calls_new       (const char      *path,
                                              GSettings       *settings);
GListModel      *hark_recent_calls_get_model (HarkRecentCalls *self);
void             hark_recent_calls_watch     (HarkRecentCalls *self,
                                              HarkClient      *client);
void             hark_recent_calls_clear     (HarkRecentCalls *self);

G_END_DECLS
