/* hark-ringer.h: plays the ringtone while a call rings
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define HARK_TYPE_RINGER (hark_ringer_get_type ())

G_DECLARE_FINAL_TYPE (HarkRinger, hark_ringer, HARK, RINGER, GObject)

HarkRinger *hark_ringer_new         (GSettings  *settings);
void        hark_ringer_set_ringing (HarkRinger *self,
                                     gboolean    ringing);
gboolean    hark_ringer_get_ringing (HarkRinger *self);
gboolean    hark_ringer_get_playing (HarkRinger *self);

G_END_DECLS
