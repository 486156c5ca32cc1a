/* hark-call-row.h: one call in the list, with its controls
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "hark-client.h"

G_BEGIN_DECLS

#define HARK_TYPE_CALL_ROW (hark_call_row_get_type ())

G_DECLARE_FINAL_TYPE (HarkCallRow, hark_call_row, HARK, CALL_ROW, GtkListBoxRow)

GtkWidget *hark_call_row_new (HarkClient     *client,
                              HarkDBusObject *object);

G_END_DECLS
