/* hark-profile-editor.h: the form that creates or edits a profile
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "hark-client.h"

G_BEGIN_DECLS

#define HARK_TYPE_PROFILE_EDITOR (hark_profile_editor_get_type ())

G_DECLARE_FINAL_TYPE (HarkProfileEditor, hark_profile_editor, HARK, PROFILE_EDITOR, AdwWindow)

GtkWidget *hark_profile_editor_new (GtkWindow      *parent,
                                    HarkClient     *client,
                                    HarkDBusObject *profile);

G_END_DECLS
