/* hark-registration.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "hark-types.h"

G_BEGIN_DECLS

#define HARK_TYPE_REGISTRATION (hark_registration_get_type ())
G_DECLARE_FINAL_TYPE (HarkRegistration, hark_registration, HARK, REGISTRATION, GObject)

HarkRegistration *hark_registration_new              (HarkProfile       *profile,
                                                      HarkProfileStore  *store);
const char       *hark_registration_get_object_path  (HarkRegistration  *self);
void              hark_registration_register         (HarkRegistration  *self);
void              hark_registration_reconfigure      (HarkRegistration  *self);
void              hark_registration_network_changed  (HarkRegistration  *self);
void              hark_registration_stop_async       (HarkRegistration  *self,
                                                      GCancellable      *cancellable,
                                                      GAsyncReadyCallback callback,
                                                      gpointer           user_data);
gboolean          hark_registration_stop_finish      (HarkRegistration  *self,
                                                      GAsyncResult      *result,
                                                      GError           **error);

G_END_DECLS
