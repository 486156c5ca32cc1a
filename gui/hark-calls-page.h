/* hark-calls-page.h: the dialer and the list of calls
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "hark-client.h"
#include "hark-recent-calls.h"

G_BEGIN_DECLS

#define HARK_TYPE_CALLS_PAGE (hark_calls_page_get_type ())

G_DECLARE_FINAL_TYPE (HarkCallsPage, hark_calls_page, HARK, CALLS_PAGE, AdwBin)

void hark_calls_page_set_client         (HarkCallsPage *self,
                                         HarkClient    *client);
void hark_calls_page_set_recent_calls  (HarkCallsPage   *self,
                                         HarkRecentCalls *recent_calls);
void hark_calls_page_focus_dialer       (HarkCallsPage *self,
                                         const char    *uri);
void hark_calls_page_show_incoming_call (HarkCallsPage *self,
                                         const char    *call_path);

G_END_DECLS
