/* hark-application.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "hark"

#include "config.h"

#include <glib/gi18n.h>

#include "hark-application.h"
#include "hark-preferences-window.h"
#include "hark-recent-calls.h"
#include "hark-ringer.h"
#include "hark-window.h"

struct _HarkApplication
{
  AdwApplication  parent_instance;

  HarkClient     *client;
  GSettings      *settings;
  HarkRinger     *ringer;
  HarkRecentCalls *recent_calls;
};

G_DEFINE_FINAL_TYPE (HarkApplication, hark_application, ADW_TYPE_APPLICATION)

static HarkWindow *
get_window (HarkApplication *self,
            gboolean         create)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));

  if (window == NULL && create)
    window = GTK_WINDOW (hark_window_new (self));

  return HARK_WINDOW (window);
}

static char *
notification_id (const char *call_path)
{
  return g_strdup_printf ("call:%s", call_path);
}

static void
on_call_state_changed (HarkApplication *self,
                       GParamSpec      *pspec,
                       HarkDBusCall1   *call)
{
  g_autofree char *id = NULL;

  if (g_strcmp0 (hark_dbus_call1_get_state (call), "ringing") == 0)
    return;

  id = notification_id (g_dbus_proxy_get_object_path (G_DBUS_PROXY (call)));
  g_application_withdraw_notification (G_APPLICATION (self), id);
  g_signal_handlers_disconnect_by_func (call, on_call_state_changed, self);
}

static void
send_call_notification (HarkApplication *self,
                        const char      *call_path)
{
  g_autoptr(GNotification) notification = NULL;
  g_autoptr(HarkDBusObject) object = hark_client_lookup (self->client, call_path);
  g_autoptr(HarkDBusCall1) call = object ? hark_dbus_object_get_call1 (object) : NULL;
  g_autofree char *id = notification_id (call_path);
  g_autofree char *body = NULL;

  if (call != NULL)
    {
      const char *name = hark_dbus_call1_get_remote_name (call);
      const char *uri = hark_dbus_call1_get_remote_uri (call);

      body = name != NULL && *name != '\0' ? g_strdup_printf ("%s\n%s", name, uri) : g_strdup (uri);
      g_signal_connect_object (call, "notify::state", G_CALLBACK (on_call_state_changed), self,
                               G_CONNECT_SWAPPED);
    }

  notification = g_notification_new (_("Incoming Call"));
  g_notification_set_body (notification, body);
  g_notification_set_priority (notification, G_NOTIFICATION_PRIORITY_URGENT);
  g_notification_set_category (notification, "call.incoming");
  g_notification_add_button_with_target (notification, _("Decline"), "app.decline-call",
                                         "s", call_path);
  g_notification_add_button_with_target (notification, _("Accept"), "app.accept-call",
                                         "s", call_path);
  g_application_send_notification (G_APPLICATION (self), id, notification);
}

static gboolean
call_rings_here (HarkDBusObject *object)
{
  g_autoptr(HarkDBusCall1) call = hark_dbus_object_get_call1 (object);

  return call != NULL &&
         g_strcmp0 (hark_dbus_call1_get_direction (call), "incoming") == 0 &&
         g_strcmp0 (hark_dbus_call1_get_state (call), "ringing") == 0;
}

/* Ring while any incoming call rings: answering, declining, the caller giving
 * up and the call leaving the bus all stop it, whoever did it. */
static void
update_ringing (HarkApplication *self)
{
  GListModel *calls = hark_client_get_calls (self->client);
  guint n = g_list_model_get_n_items (calls);
  gboolean ringing = FALSE;

  for (guint i = 0; i < n && !ringing; i++)
    {
      g_autoptr(HarkDBusObject) object = g_list_model_get_item (calls, i);

      ringing = call_rings_here (object);
    }

  hark_ringer_set_ringing (self->ringer, ringing);
}

static void
on_calls_changed (HarkApplication *self,
                  guint            position,
                  guint            removed,
                  guint            added,
                  GListModel      *calls)
{
  for (guint i = position; i < position + added; i++)
    {
      g_autoptr(HarkDBusObject) object = g_list_model_get_item (calls, i);
      g_autoptr(HarkDBusCall1) call = hark_dbus_object_get_call1 (object);

      if (call != NULL && g_object_get_data (G_OBJECT (call), "hark-ringer-watch") == NULL)
        {
          g_object_set_data (G_OBJECT (call), "hark-ringer-watch", GINT_TO_POINTER (TRUE));
          g_signal_connect_object (call, "g-properties-changed", G_CALLBACK (update_ringing),
                                   self, G_CONNECT_SWAPPED);
        }
    }

  update_ringing (self);
}

static void
on_client_incoming_call (HarkApplication *self,
                         const char      *call_path,
                         HarkClient      *client)
{
  HarkWindow *window = get_window (self, FALSE);

  if (window != NULL && gtk_widget_get_visible (GTK_WIDGET (window)))
    hark_window_show_incoming_call (window, call_path);

  if (window == NULL || !gtk_window_is_active (GTK_WINDOW (window)))
    send_call_notification (self, call_path);
}

static void
answer_call (HarkApplication *self,
             GVariant        *parameter,
             gboolean         accept)
{
  const char *path = g_variant_get_string (parameter, NULL);
  GDBusConnection *connection = g_application_get_dbus_connection (G_APPLICATION (self));
  g_autofree char *id = notification_id (path);

  if (!g_variant_is_object_path (path) || connection == NULL)
    return;

  g_application_withdraw_notification (G_APPLICATION (self), id);
  /* By path, not proxy: a notification may activate us before the objects are known. */
  g_dbus_connection_call (connection, HARK_DAEMON_BUS_NAME, path, "io.github.hark.Hark.Call1",
                          accept ? "Accept" : "Reject",
                          accept ? g_variant_new ("(a{sv})", NULL)
                                 : g_variant_new ("(ua{sv})", 603, NULL),
                          NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL, NULL);

  if (accept)
    {
      HarkWindow *window = get_window (self, TRUE);

      hark_window_show_calls (window);
      gtk_window_present (GTK_WINDOW (window));
    }
}

static void
accept_call_action (GSimpleAction *action,
                    GVariant      *parameter,
                    gpointer       user_data)
{
  answer_call (HARK_APPLICATION (user_data), parameter, TRUE);
}

static void
decline_call_action (GSimpleAction *action,
                     GVariant      *parameter,
                     gpointer       user_data)
{
  answer_call (HARK_APPLICATION (user_data), parameter, FALSE);
}

static void
preferences_action (GSimpleAction *action,
                    GVariant      *parameter,
                    gpointer       user_data)
{
  HarkApplication *self = HARK_APPLICATION (user_data);
  HarkWindow *window = get_window (self, TRUE);
  GtkWidget *preferences;

  if (self->settings == NULL)
    {
      hark_window_add_toast (window, _("Preferences are not available: Hark’s settings schema "
                                       "is not installed"));
      return;
    }

  preferences = hark_preferences_window_new (self->settings);
  gtk_window_set_transient_for (GTK_WINDOW (preferences), GTK_WINDOW (window));
  gtk_window_present (GTK_WINDOW (preferences));
}

static void
quit_action (GSimpleAction *action,
             GVariant      *parameter,
             gpointer       user_data)
{
  g_application_quit (G_APPLICATION (user_data));
}

static void
about_action (GSimpleAction *action,
              GVariant      *parameter,
              gpointer       user_data)
{
  static const char *developers[] = { "The Hark developers", NULL };
  HarkWindow *window = get_window (HARK_APPLICATION (user_data), FALSE);

  adw_show_about_window (GTK_WINDOW (window),
                         "application-name", _("Hark"),
                         "application-icon", HARK_APP_ID,
                         "developer-name", _("The Hark developers"),
                         "version", PACKAGE_VERSION,
                         "comments", _("Make and receive internet phone calls over SIP"),
                         "developers", developers,
                         /* Translators: put your names here, one per line */
                         "translator-credits", _("translator-credits"),
                         "license-type", GTK_LICENSE_GPL_3_0,
                         NULL);
}

static const GActionEntry app_actions[] = {
  { "accept-call", accept_call_action, "s" },
  { "decline-call", decline_call_action, "s" },
  { "preferences", preferences_action },
  { "about", about_action },
  { "quit", quit_action },
};

static void
hark_application_startup (GApplication *app)
{
  HarkApplication *self = HARK_APPLICATION (app);
  static const char *quit_accels[] = { "<Control>q", NULL };
  static const char *close_accels[] = { "<Control>w", NULL };
  static const char *preferences_accels[] = { "<Control>comma", NULL };
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr(GSettingsSchema) schema = NULL;
  g_autofree char *recent_path = NULL;

  G_APPLICATION_CLASS (hark_application_parent_class)->startup (app);

  g_action_map_add_action_entries (G_ACTION_MAP (self), app_actions,
                                   G_N_ELEMENTS (app_actions), self);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.quit", quit_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "window.close", close_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.preferences",
                                         preferences_accels);

  /* g_settings_new() aborts without the schema: run uninstalled without it, with defaults. */
  if (source != NULL)
    schema = g_settings_schema_source_lookup (source, HARK_APP_ID, TRUE);
  if (schema != NULL)
    self->settings = g_settings_new_full (schema, NULL, NULL);
  else
    g_message ("The settings schema %s is not installed; using defaults", HARK_APP_ID);

  self->ringer = hark_ringer_new (self->settings);

  self->client = hark_client_new ();
  recent_path = g_build_filename (g_get_user_data_dir (), "hark", "recent-calls", NULL);
  self->recent_calls = hark_recent_calls_new (recent_path, self->settings);
  hark_recent_calls_watch (self->recent_calls, self->client);
  g_signal_connect_object (self->client, "incoming-call",
                           G_CALLBACK (on_client_incoming_call), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (hark_client_get_calls (self->client), "items-changed",
                           G_CALLBACK (on_calls_changed), self, G_CONNECT_SWAPPED);

  /* Calls ring while the window is closed: stay around to notify. */
  g_application_hold (app);
}

static void
hark_application_shutdown (GApplication *app)
{
  HarkApplication *self = HARK_APPLICATION (app);
  GList *windows = gtk_application_get_windows (GTK_APPLICATION (app));

  for (GList *l = windows; l != NULL; l = l->next)
    if (HARK_IS_WINDOW (l->data))
      hark_window_save_state (l->data);

  g_clear_object (&self->ringer);
  g_clear_object (&self->recent_calls);
  g_clear_object (&self->client);
  g_clear_object (&self->settings);

  G_APPLICATION_CLASS (hark_application_parent_class)->shutdown (app);
}

static void
hark_application_activate (GApplication *app)
{
  gtk_window_present (GTK_WINDOW (get_window (HARK_APPLICATION (app), TRUE)));
}

static void
hark_application_open (GApplication  *app,
                       GFile        **files,
                       int            n_files,
                       const char    *hint)
{
  HarkWindow *window = get_window (HARK_APPLICATION (app), TRUE);

  for (int i = 0; i < n_files; i++)
    {
      g_autofree char *uri = g_file_get_uri (files[i]);

      if (g_str_has_prefix (uri, "sip:") || g_str_has_prefix (uri, "sips:") ||
          g_str_has_prefix (uri, "tel:"))
        {
          hark_window_open_uri (window, uri);
          break;
        }

      g_message ("Not a sip:, sips: or tel: URI, ignored: %s", uri);
    }

  gtk_window_present (GTK_WINDOW (window));
}

static void
hark_application_class_init (HarkApplicationClass *klass)
{
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  app_class->startup = hark_application_startup;
  app_class->shutdown = hark_application_shutdown;
  app_class->activate = hark_application_activate;
  app_class->open = hark_application_open;
}

static void
hark_application_init (HarkApplication *self)
{
}

HarkApplication *
hark_application_new (void)
{
  return g_object_new (HARK_TYPE_APPLICATION,
                       "application-id", HARK_APP_ID,
                       "flags", G_APPLICATION_HANDLES_OPEN,
                       "resource-base-path", "/io/github/hark/Hark",
                       NULL);
}

/**
 * hark_application_get_client:
 *
 * Returns: (transfer none): the client of hark-daemon shared by every window
 */
HarkClient *
hark_application_get_client (HarkApplication *self)
{
  g_return_val_if_fail (HARK_IS_APPLICATION (self), NULL);

  return self->client;
}

/**
 * hark_application_get_settings:
 *
 * Returns: (nullable) (transfer none): the app's settings, or %NULL when the
 *   schema is not installed
 */
GSettings *
hark_application_get_settings (HarkApplication *self)
{
  g_return_val_if_fail (HARK_IS_APPLICATION (self), NULL);

  return self->settings;
}

/**
 * hark_application_get_ringer:
 *
 * Returns: (transfer none): the ringer, ringing while an incoming call rings
 */
HarkRinger *
hark_application_get_ringer (HarkApplication *self)
{
  g_return_val_if_fail (HARK_IS_APPLICATION (self), NULL);

  return self->ringer;
}

/**
 * hark_application_get_recent_calls:
 *
 * Returns: (nullable) (transfer none): the call history, %NULL before startup
 */
HarkRecentCalls *
hark_application_get_recent_calls (HarkApplication *self)
{
  g_return_val_if_fail (HARK_IS_APPLICATION (self), NULL);

  return self->recent_calls;
}
