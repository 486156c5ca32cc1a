/* hark-profile-row.c: one profile and its registration
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "hark"

#include "config.h"

#include <glib/gi18n.h>

#include "hark-auth-dialog.h"
#include "hark-profile-editor.h"
#include "hark-profile-row.h"
#include "hark-strings.h"
#include "hark-window.h"

struct _HarkProfileRow
{
  AdwActionRow           parent_instance;

  HarkClient            *client;
  HarkDBusObject        *object;
  HarkDBusProfile1      *profile;
  HarkDBusRegistration1 *registration;
  gboolean               auth_prompted;

  GtkLabel              *default_label;
  GtkSwitch             *register_switch;
};

G_DEFINE_FINAL_TYPE (HarkProfileRow, hark_profile_row, ADW_TYPE_ACTION_ROW)

static gboolean
registration_state_is (HarkProfileRow *self,
                       const char     *state)
{
  return self->registration != NULL &&
         g_strcmp0 (hark_dbus_registration1_get_state (self->registration), state) == 0;
}

static gboolean
auth_failed (HarkProfileRow *self)
{
  return registration_state_is (self, "failed") &&
         g_strcmp0 (hark_dbus_registration1_get_state_reason (self->registration),
                    "auth-failed") == 0;
}

static char *
describe (HarkProfileRow *self)
{
  const char *const *aors = hark_dbus_profile1_get_aors (self->profile);
  const char *identity = aors != NULL && aors[0] != NULL ? aors[0]
                                                         : hark_dbus_profile1_get_contact (self->profile);
  g_autofree char *state = NULL;

  if (self->registration == NULL)
    return g_strdup (identity != NULL ? identity : "");

  state = hark_registration_describe (hark_dbus_registration1_get_state (self->registration),
                                      hark_dbus_registration1_get_state_reason (self->registration),
                                      hark_dbus_registration1_get_status_code (self->registration));
  if (identity == NULL || *identity == '\0')
    return g_steal_pointer (&state);

  /* Translators: a profile's address and its registration state, e.g. "sip:a@b · Registered" */
  return g_strdup_printf (_("%s · %s"), identity, state);
}

static void
update (HarkProfileRow *self)
{
  const char *const *aors = hark_dbus_profile1_get_aors (self->profile);
  gboolean can_register = aors != NULL && aors[0] != NULL;
  gboolean on = registration_state_is (self, "registered") || registration_state_is (self, "registering");
  g_autofree char *subtitle = describe (self);

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self), hark_dbus_profile1_get_name (self->profile));
  adw_action_row_set_subtitle (ADW_ACTION_ROW (self), subtitle);
  gtk_widget_set_visible (GTK_WIDGET (self->default_label), hark_dbus_profile1_get_default (self->profile));
  gtk_widget_set_visible (GTK_WIDGET (self->register_switch), can_register);
  gtk_switch_set_state (self->register_switch, on);
  gtk_switch_set_active (self->register_switch, on);

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "profile.make-default",
                                 !hark_dbus_profile1_get_default (self->profile));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "profile.authenticate", auth_failed (self));

  if (auth_failed (self) && !self->auth_prompted)
    {
      self->auth_prompted = TRUE;
      hark_auth_dialog_present (GTK_WIDGET (self), self->registration,
                                hark_dbus_profile1_get_name (self->profile));
    }
  else if (!auth_failed (self))
    self->auth_prompted = FALSE;
}

static void find_registration (HarkProfileRow *self);

static void
on_object_added (HarkProfileRow *self)
{
  if (self->registration == NULL)
    find_registration (self);
}

static void
find_registration (HarkProfileRow *self)
{
  const char *path = hark_dbus_profile1_get_registration (self->profile);
  g_autoptr(HarkDBusObject) object = hark_client_lookup (self->client, path);
  g_autoptr(HarkDBusRegistration1) registration = NULL;

  if (object != NULL)
    registration = hark_dbus_object_get_registration1 (object);

  if (registration != self->registration)
    {
      if (self->registration != NULL)
        g_signal_handlers_disconnect_by_data (self->registration, self);
      g_set_object (&self->registration, registration);
      if (registration != NULL)
        g_signal_connect_object (registration, "g-properties-changed", G_CALLBACK (update), self,
                                 G_CONNECT_SWAPPED);
    }

  update (self);
}

static void
method_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(HarkProfileRow) self = user_data;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;

  reply = g_dbus_proxy_call_finish (G_DBUS_PROXY (source), result, &error);
  if (reply == NULL)
    {
      hark_show_error (GTK_WIDGET (self), hark_dbus_profile1_get_name (self->profile), error);
      update (self);
    }
}

static void
call (HarkProfileRow *self,
      gpointer        proxy,
      const char     *method,
      GVariant       *parameters)
{
  g_dbus_proxy_call (G_DBUS_PROXY (proxy), method, parameters, G_DBUS_CALL_FLAGS_NONE, -1, NULL,
                     method_cb, g_object_ref (self));
}

static gboolean
on_register_switch_state_set (HarkProfileRow *self,
                              gboolean        state)
{
  gboolean on = registration_state_is (self, "registered") || registration_state_is (self, "registering");

  if (state == on)
    return FALSE;

  if (state)
    call (self, self->profile, "Register", NULL);
  else if (self->registration != NULL)
    call (self, self->registration, "Unregister", NULL);

  /* The switch follows the Registration's State, not the click. */
  return TRUE;
}

static void
edit_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  HarkProfileRow *self = HARK_PROFILE_ROW (widget);
  GtkWidget *editor;

  editor = hark_profile_editor_new (GTK_WINDOW (gtk_widget_get_root (widget)), self->client,
                                    self->object);
  gtk_window_present (GTK_WINDOW (editor));
}

static void
on_activated (HarkProfileRow *self)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "profile.edit", NULL);
}

static void
make_default_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  HarkProfileRow *self = HARK_PROFILE_ROW (widget);
  GVariantBuilder settings;

  g_variant_builder_init (&settings, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&settings, "{sv}", "default", g_variant_new_boolean (TRUE));
  call (self, self->profile, "Update", g_variant_new ("(a{sv})", &settings));
}

static void
authenticate_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  HarkProfileRow *self = HARK_PROFILE_ROW (widget);

  if (self->registration != NULL)
    hark_auth_dialog_present (widget, self->registration, hark_dbus_profile1_get_name (self->profile));
}

static void
on_delete_response (HarkProfileRow *self,
                    const char     *response)
{
  if (g_strcmp0 (response, "delete") == 0)
    call (self, self->profile, "Delete", NULL);
}

static void
delete_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  HarkProfileRow *self = HARK_PROFILE_ROW (widget);
  GtkWidget *dialog;

  dialog = adw_message_dialog_new (GTK_WINDOW (gtk_widget_get_root (widget)), NULL,
                                   _("The profile is unregistered and its password is forgotten. "
                                     "This cannot be undone."));
  adw_message_dialog_format_heading (ADW_MESSAGE_DIALOG (dialog), _("Delete “%s”?"),
                                     hark_dbus_profile1_get_name (self->profile));
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "delete", _("_Delete"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "delete",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  hark_fix_button_names (dialog);
  g_signal_connect_object (dialog, "response", G_CALLBACK (on_delete_response), self,
                           G_CONNECT_SWAPPED);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
hark_profile_row_dispose (GObject *object)
{
  HarkProfileRow *self = HARK_PROFILE_ROW (object);

  if (self->registration != NULL)
    g_signal_handlers_disconnect_by_data (self->registration, self);
  g_clear_object (&self->registration);
  g_clear_object (&self->profile);
  g_clear_object (&self->object);
  g_clear_object (&self->client);
  gtk_widget_dispose_template (GTK_WIDGET (self), HARK_TYPE_PROFILE_ROW);

  G_OBJECT_CLASS (hark_profile_row_parent_class)->dispose (object);
}

static void
hark_profile_row_class_init (HarkProfileRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = hark_profile_row_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/hark/Hark/hark-profile-row.ui");
  gtk_widget_class_bind_template_child (widget_class, HarkProfileRow, default_label);
  gtk_widget_class_bind_template_child (widget_class, HarkProfileRow, register_switch);
  gtk_widget_class_bind_template_callback (widget_class, on_register_switch_state_set);
  gtk_widget_class_bind_template_callback (widget_class, on_activated);

  gtk_widget_class_install_action (widget_class, "profile.edit", NULL, edit_action);
  gtk_widget_class_install_action (widget_class, "profile.make-default", NULL, make_default_action);
  gtk_widget_class_install_action (widget_class, "profile.authenticate", NULL, authenticate_action);
  gtk_widget_class_install_action (widget_class, "profile.delete", NULL, delete_action);
}

static void
hark_profile_row_init (HarkProfileRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
hark_profile_row_new (HarkClient     *client,
                      HarkDBusObject *object)
{
  HarkProfileRow *self;

  g_return_val_if_fail (HARK_IS_CLIENT (client), NULL);
  g_return_val_if_fail (HARK_DBUS_IS_OBJECT (object), NULL);

  self = g_object_new (HARK_TYPE_PROFILE_ROW, NULL);
  self->client = g_object_ref (client);
  self->object = g_object_ref (object);
  self->profile = hark_dbus_object_get_profile1 (object);

  g_signal_connect_object (self->profile, "g-properties-changed",
                           G_CALLBACK (find_registration), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (hark_client_get_object_manager (client), "object-added",
                           G_CALLBACK (on_object_added), self, G_CONNECT_SWAPPED);
  find_registration (self);

  return GTK_WIDGET (self);
}
