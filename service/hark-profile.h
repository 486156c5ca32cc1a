/* hark-profile.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "hark-types.h"
#include "hark-dbus-generated.h"

G_BEGIN_DECLS

#define HARK_TYPE_PROFILE (hark_profile_get_type ())
G_DECLARE_FINAL_TYPE (HarkProfile, hark_profile, HARK, PROFILE, GObject)

#define HARK_LOCAL_PROFILE_ID "local"

HarkProfile      *hark_profile_new               (HarkProfileStore  *store,
                                                  const char        *id);
const char       *hark_profile_get_id            (HarkProfile       *self);
const char       *hark_profile_get_name          (HarkProfile       *self);
const char       *hark_profile_get_object_path   (HarkProfile       *self);
gboolean          hark_profile_is_local          (HarkProfile       *self);
HarkDBusObjectSkeleton *hark_profile_get_object  (HarkProfile       *self);
HarkDBusProfile1 *hark_profile_get_iface         (HarkProfile       *self);

gboolean          hark_profile_check_settings    (GVariant          *settings,
                                                  gboolean           local,
                                                  GError           **error);
void              hark_profile_apply_settings    (HarkProfile       *self,
                                                  GVariant          *settings);
void              hark_profile_save              (HarkProfile       *self,
                                                  GKeyFile          *keyfile);
gboolean          hark_profile_load              (HarkProfile       *self,
                                                  GKeyFile          *keyfile,
                                                  GError           **error);
void              hark_profile_set_default       (HarkProfile       *self,
                                                  gboolean           is_default);
void              hark_profile_set_has_password  (HarkProfile       *self,
                                                  gboolean           has_password);
void              hark_profile_set_contact       (HarkProfile       *self,
                                                  const char        *contact);
struct _HarkSipAgent *hark_profile_ensure_agent (HarkProfile      *self,
                                                GError          **error);
void              hark_profile_start             (HarkProfile       *self);
void              hark_profile_network_changed   (HarkProfile       *self);
void              hark_profile_shutdown_async    (HarkProfile       *self,
                                                  GCancellable      *cancellable,
                                                  GAsyncReadyCallback callback,
                                                  gpointer           user_data);
gboolean          hark_profile_shutdown_finish   (HarkProfile       *self,
                                                  GAsyncResult      *result,
                                                  GError           **error);

G_END_DECLS
