/* hark-window.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "hark-application.h"

G_BEGIN_DECLS

#define HARK_TYPE_WINDOW (hark_window_get_type ())

G_DECLARE_FINAL_TYPE (HarkWindow, hark_window, HARK, WINDOW, AdwApplicationWindow)

HarkWindow *hark_window_new                (HarkApplication *application);
HarkClient *hark_window_get_client         (HarkWindow      *self);
void        hark_window_save_state         (HarkWindow      *self);
void        hark_window_show_calls         (HarkWindow      *self);
void        hark_window_open_uri           (HarkWindow      *self,
                                            const char      *uri);
void        hark_window_show_incoming_call (HarkWindow      *self,
                                            const char      *call_path);
void        hark_window_add_toast          (HarkWindow      *self,
                                            const char      *message);
void        hark_show_error                (GtkWidget       *widget,
                                            const char      *what,
                                            const GError    *error);
void        hark_fix_button_names          (GtkWidget       *widget);

G_END_DECLS
