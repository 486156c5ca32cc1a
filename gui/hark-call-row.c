/* hark-call-row.c: one call in the list, with its controls
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "hark"

#include "config.h"

#include <glib/gi18n.h>

#include "hark-call-row.h"
#include "hark-strings.h"
#include "hark-window.h"

struct _HarkCallRow
{
  AdwActionRow     parent_instance;

  HarkDBusCall1   *call;
  gint64           active_since;
  guint            timer_id;
  gboolean         updating;

  GtkImage        *direction_icon;
  GtkToggleButton *mute_button;
  GtkButton       *hold_button;
  GtkButton       *accept_button;
  GtkButton       *hangup_button;
};

G_DEFINE_FINAL_TYPE (HarkCallRow, hark_call_row, ADW_TYPE_ACTION_ROW)

static gboolean
state_is (HarkCallRow *self,
          const char  *state)
{
  return g_strcmp0 (hark_dbus_call1_get_state (self->call), state) == 0;
}

static void
update_subtitle (HarkCallRow *self)
{
  const char *state = hark_dbus_call1_get_state (self->call);
  g_autofree char *words = hark_call_describe (state, hark_dbus_call1_get_state_reason (self->call),
                                               hark_dbus_call1_get_status_code (self->call));
  g_autofree char *subtitle = NULL;

  if (self->active_since != 0 && !state_is (self, "terminated"))
    {
      gint64 seconds = (g_get_monotonic_time () - self->active_since) / G_USEC_PER_SEC;
      g_autofree char *duration = hark_format_duration (seconds);

      /* Translators: call state and duration, e.g. "Active · 01:23" */
      subtitle = g_strdup_printf (_("%s · %s"), words, duration);
    }
  else
    subtitle = g_steal_pointer (&words);

  adw_action_row_set_subtitle (ADW_ACTION_ROW (self), subtitle);
}

static gboolean
on_timer (gpointer user_data)
{
  update_subtitle (HARK_CALL_ROW (user_data));
  return G_SOURCE_CONTINUE;
}

static void
update_timer (HarkCallRow *self)
{
  gboolean talking = state_is (self, "active") || state_is (self, "held");

  if (talking && self->active_since == 0)
    self->active_since = g_get_monotonic_time ();

  if (talking && self->timer_id == 0)
    self->timer_id = g_timeout_add_seconds (1, on_timer, self);
  else if (!talking)
    g_clear_handle_id (&self->timer_id, g_source_remove);
}

static void
update (HarkCallRow *self)
{
  const char *name = hark_dbus_call1_get_remote_name (self->call);
  const char *uri = hark_dbus_call1_get_remote_uri (self->call);
  gboolean incoming = g_strcmp0 (hark_dbus_call1_get_direction (self->call), "incoming") == 0;
  gboolean ringing_in = incoming && state_is (self, "ringing");
  gboolean talking = state_is (self, "active") || state_is (self, "held");
  gboolean ended = state_is (self, "terminated") || state_is (self, "terminating");
  gboolean held = state_is (self, "held");
  const char *hold_label = held ? _("Resume") : _("Hold");

  self->updating = TRUE;

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self),
                                 name != NULL && *name != '\0' ? name : uri);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self), uri);
  gtk_image_set_from_icon_name (self->direction_icon,
                                incoming ? "call-incoming-symbolic" : "call-outgoing-symbolic");

  gtk_widget_set_visible (GTK_WIDGET (self->accept_button), ringing_in);
  gtk_widget_set_visible (GTK_WIDGET (self->mute_button), talking);
  gtk_widget_set_visible (GTK_WIDGET (self->hold_button), talking);
  gtk_widget_set_visible (GTK_WIDGET (self->hangup_button), !ended);

  gtk_toggle_button_set_active (self->mute_button, hark_dbus_call1_get_muted (self->call));
  gtk_button_set_icon_name (self->hold_button,
                            held ? "media-playback-start-symbolic" : "media-playback-pause-symbolic");
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->hold_button), hold_label);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->hold_button),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, hold_label, -1);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->hangup_button),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  ringing_in ? _("Decline") : _("Hang Up"), -1);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->hangup_button),
                               ringing_in ? _("Decline") : _("Hang Up"));

  update_timer (self);
  update_subtitle (self);

  self->updating = FALSE;
}

static void
method_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GtkWidget) widget = user_data;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;

  reply = g_dbus_proxy_call_finish (G_DBUS_PROXY (source), result, &error);
  if (reply == NULL)
    hark_show_error (widget, NULL, error);
}

static void
call_method (HarkCallRow *self,
             const char  *method,
             GVariant    *parameters)
{
  g_dbus_proxy_call (G_DBUS_PROXY (self->call), method, parameters, G_DBUS_CALL_FLAGS_NONE, -1,
                     NULL, method_cb, g_object_ref (self));
}

static void
on_mute_toggled (HarkCallRow *self)
{
  if (self->updating)
    return;

  call_method (self, "SetMuted", g_variant_new ("(b)", gtk_toggle_button_get_active (self->mute_button)));
}

static void
hold_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  HarkCallRow *self = HARK_CALL_ROW (widget);

  call_method (self, state_is (self, "held") ? "Resume" : "Hold", NULL);
}

static void
accept_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  call_method (HARK_CALL_ROW (widget), "Accept", g_variant_new ("(a{sv})", NULL));
}

static void
hangup_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  HarkCallRow *self = HARK_CALL_ROW (widget);
  gboolean incoming = g_strcmp0 (hark_dbus_call1_get_direction (self->call), "incoming") == 0;

  if (incoming && state_is (self, "ringing"))
    call_method (self, "Reject", g_variant_new ("(ua{sv})", 603, NULL));
  else
    call_method (self, "Hangup", g_variant_new ("(a{sv})", NULL));
}

static void
hark_call_row_dispose (GObject *object)
{
  HarkCallRow *self = HARK_CALL_ROW (object);

  g_clear_handle_id (&self->timer_id, g_source_remove);
  g_clear_object (&self->call);
  gtk_widget_dispose_template (GTK_WIDGET (self), HARK_TYPE_CALL_ROW);

  G_OBJECT_CLASS (hark_call_row_parent_class)->dispose (object);
}

static void
hark_call_row_class_init (HarkCallRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = hark_call_row_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/hark/Hark/hark-call-row.ui");
  gtk_widget_class_bind_template_child (widget_class, HarkCallRow, direction_icon);
  gtk_widget_class_bind_template_child (widget_class, HarkCallRow, mute_button);
  gtk_widget_class_bind_template_child (widget_class, HarkCallRow, hold_button);
  gtk_widget_class_bind_template_child (widget_class, HarkCallRow, accept_button);
  gtk_widget_class_bind_template_child (widget_class, HarkCallRow, hangup_button);
  gtk_widget_class_bind_template_callback (widget_class, on_mute_toggled);

  gtk_widget_class_install_action (widget_class, "call.hold", NULL, hold_action);
  gtk_widget_class_install_action (widget_class, "call.accept", NULL, accept_action);
  gtk_widget_class_install_action (widget_class, "call.hangup", NULL, hangup_action);
}

static void
hark_call_row_init (HarkCallRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
hark_call_row_new (HarkDBusObject *object)
{
  HarkCallRow *self;

  g_return_val_if_fail (HARK_DBUS_IS_OBJECT (object), NULL);

  self = g_object_new (HARK_TYPE_CALL_ROW, NULL);
  self->call = hark_dbus_object_get_call1 (object);
  g_signal_connect_object (self->call, "g-properties-changed", G_CALLBACK (update), self,
                           G_CONNECT_SWAPPED);
  update (self);

  return GTK_WIDGET (self);
}
