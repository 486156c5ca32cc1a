/* hark-auth-dialog.h: asks for a password the registrar refused
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "hark-client.h"

G_BEGIN_DECLS

void hark_auth_dialog_present (GtkWidget               *parent,
                               HarkDBusRegistration1   *registration,
                               const char              *profile_name);

G_END_DECLS
