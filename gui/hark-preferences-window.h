/* hark-preferences-window.h: the app's settings
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define HARK_TYPE_PREFERENCES_WINDOW (hark_preferences_window_get_type ())

G_DECLARE_FINAL_TYPE (HarkPreferencesWindow, hark_preferences_window, HARK, PREFERENCES_WINDOW,
                      AdwPreferencesWindow)

GtkWidget *hark_preferences_window_new (GSettings *settings);

G_END_DECLS
