/* hark-application.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "hark-client.h"
#include "hark-recent-calls.h"
#include "hark-ringer.h"

G_BEGIN_DECLS

#define HARK_TYPE_APPLICATION (hark_application_get_type ())

G_DECLARE_FINAL_TYPE (HarkApplication, hark_application, HARK, APPLICATION, AdwApplication)

HarkApplication *hark_application_new          (void);
HarkClient      *hark_application_get_client   (HarkApplication *self);
GSettings       *hark_application_get_settings (HarkApplication *self);
HarkRinger      *hark_application_get_ringer   (HarkApplication *self);
HarkRecentCalls *hark_application_get_recent_calls (HarkApplication *self);

G_END_DECLS
