/* hark-profile-row.h: one profile and its registration
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "hark-client.h"

G_BEGIN_DECLS

#define HARK_TYPE_PROFILE_ROW (hark_profile_row_get_type ())

G_DECLARE_FINAL_TYPE (HarkProfileRow, hark_profile_row, HARK, PROFILE_ROW, AdwActionRow)

GtkWidget *hark_profile_row_new (HarkClient     *client,
                                 HarkDBusObject *object);

G_END_DECLS
