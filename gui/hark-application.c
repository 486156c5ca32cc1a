/* hark-application.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "hark"

#include "config.h"

#include <glib/gi18n.h>

#include "hark-application.h"
#include "hark-window.h"

struct _HarkApplication
{
  AdwApplication  parent_instance;

  HarkClient     *client;
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
  { "about", about_action },
  { "quit", quit_action },
};

static void
hark_application_startup (GApplication *app)
{
  HarkApplication *self = HARK_APPLICATION (app);
  static const char *quit_accels[] = { "<Control>q", NULL };
  static const char *close_accels[] = { "<Control>w", NULL };

  G_APPLICATION_CLASS (hark_application_parent_class)->startup (app);

  g_action_map_add_action_entries (G_ACTION_MAP (self), app_actions,
                                   G_N_ELEMENTS (app_actions), self);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.quit", quit_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "window.close", close_accels);

  self->client = hark_client_new ();
  g_signal_connect_object (self->client, "incoming-call",
                           G_CALLBACK (on_client_incoming_call), self, G_CONNECT_SWAPPED);

  /* Calls ring while the window is closed: stay around to notify. */
  g_application_hold (app);
}

static void
hark_application_shutdown (GApplication *app)
{
  HarkApplication *self = HARK_APPLICATION (app);

  g_clear_object (&self->client);

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
