/* hark-window.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "hark"

#include "config.h"

#include <glib/gi18n.h>

#include "hark-calls-page.h"
#include "hark-profiles-page.h"
#include "hark-subscriptions-page.h"
#include "hark-window.h"

struct _HarkWindow
{
  AdwApplicationWindow  parent_instance;

  HarkClient           *client;

  AdwToastOverlay      *toast_overlay;
  GtkStack             *main_stack;
  AdwViewStack         *view_stack;
  AdwStatusPage        *offline_page;
  HarkCallsPage        *calls_page;
  HarkProfilesPage     *profiles_page;
  HarkSubscriptionsPage *subscriptions_page;
};

G_DEFINE_FINAL_TYPE (HarkWindow, hark_window, ADW_TYPE_APPLICATION_WINDOW)

static void
on_client_state_changed (HarkWindow *self)
{
  const char *page = "connecting";

  switch (hark_client_get_state (self->client))
    {
    case HARK_CLIENT_STATE_CONNECTING:
      page = "connecting";
      break;
    case HARK_CLIENT_STATE_CONNECTED:
      page = "main";
      break;
    case HARK_CLIENT_STATE_OFFLINE:
      page = "offline";
      break;
    }

  adw_status_page_set_description (self->offline_page, hark_client_get_error_message (self->client));
  gtk_stack_set_visible_child_name (self->main_stack, page);
}

static void
retry_action (GtkWidget  *widget,
              const char *action_name,
              GVariant   *parameter)
{
  hark_client_start_daemon (HARK_WINDOW (widget)->client);
}

static void
page_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  HarkWindow *self = HARK_WINDOW (widget);

  adw_view_stack_set_visible_child_name (self->view_stack, g_variant_get_string (parameter, NULL));
}

static void
new_profile_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  HarkWindow *self = HARK_WINDOW (widget);

  adw_view_stack_set_visible_child_name (self->view_stack, "profiles");
  gtk_widget_activate_action (GTK_WIDGET (self->profiles_page), "profiles.add", NULL);
}

static void
show_message_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  const char *heading, *body;
  GtkWidget *dialog;

  g_variant_get (parameter, "(&s&s)", &heading, &body);
  dialog = adw_message_dialog_new (GTK_WINDOW (widget), heading, body);
  gtk_window_set_title (GTK_WINDOW (dialog), heading);
  adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", _("_Close"));
  hark_fix_button_names (dialog);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
dial_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  hark_window_open_uri (HARK_WINDOW (widget), NULL);
}

/* Voicemail waiting shows on the Subscriptions view's switcher, wherever one is. */
static void
on_new_messages_changed (HarkWindow *self)
{
  AdwViewStackPage *page = adw_view_stack_get_page (self->view_stack,
                                                    GTK_WIDGET (self->subscriptions_page));
  guint n = hark_subscriptions_page_get_new_messages (self->subscriptions_page);

  adw_view_stack_page_set_badge_number (page, n);
  adw_view_stack_page_set_needs_attention (page, n > 0);
}

static gboolean
on_close_request (HarkWindow *self)
{
  hark_window_save_state (self);
  return FALSE;
}

static void
restore_state (HarkWindow *self)
{
  GtkApplication *app = gtk_window_get_application (GTK_WINDOW (self));
  GSettings *settings = app ? hark_application_get_settings (HARK_APPLICATION (app)) : NULL;
  int width, height;

  if (settings == NULL)
    return;

  width = g_settings_get_int (settings, "window-width");
  height = g_settings_get_int (settings, "window-height");
  /* Never smaller than the narrowest layout the window is made for. */
  gtk_window_set_default_size (GTK_WINDOW (self), MAX (width, 360), MAX (height, 294));
  if (g_settings_get_boolean (settings, "window-maximized"))
    gtk_window_maximize (GTK_WINDOW (self));
}

static void
hark_window_dispose (GObject *object)
{
  HarkWindow *self = HARK_WINDOW (object);

  gtk_widget_dispose_template (GTK_WIDGET (self), HARK_TYPE_WINDOW);
  g_clear_object (&self->client);

  G_OBJECT_CLASS (hark_window_parent_class)->dispose (object);
}

static void
hark_window_class_init (HarkWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = hark_window_dispose;

  g_type_ensure (HARK_TYPE_CALLS_PAGE);
  g_type_ensure (HARK_TYPE_PROFILES_PAGE);
  g_type_ensure (HARK_TYPE_SUBSCRIPTIONS_PAGE);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/hark/Hark/hark-window.ui");
  gtk_widget_class_bind_template_child (widget_class, HarkWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, HarkWindow, main_stack);
  gtk_widget_class_bind_template_child (widget_class, HarkWindow, view_stack);
  gtk_widget_class_bind_template_child (widget_class, HarkWindow, offline_page);
  gtk_widget_class_bind_template_child (widget_class, HarkWindow, calls_page);
  gtk_widget_class_bind_template_child (widget_class, HarkWindow, profiles_page);
  gtk_widget_class_bind_template_child (widget_class, HarkWindow, subscriptions_page);

  gtk_widget_class_install_action (widget_class, "win.retry", NULL, retry_action);
  gtk_widget_class_install_action (widget_class, "win.page", "s", page_action);
  gtk_widget_class_install_action (widget_class, "win.new-profile", NULL, new_profile_action);
  gtk_widget_class_install_action (widget_class, "win.dial", NULL, dial_action);
  gtk_widget_class_install_action (widget_class, "win.show-message", "(ss)", show_message_action);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_1, GDK_ALT_MASK, "win.page", "s", "calls");
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_2, GDK_ALT_MASK, "win.page", "s", "profiles");
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_3, GDK_ALT_MASK, "win.page", "s",
                                       "subscriptions");
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_n, GDK_CONTROL_MASK, "win.new-profile", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_l, GDK_CONTROL_MASK, "win.dial", NULL);
}

static void
hark_window_init (HarkWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  hark_fix_button_names (GTK_WIDGET (self));
}

HarkWindow *
hark_window_new (HarkApplication *application)
{
  HarkWindow *self;

  g_return_val_if_fail (HARK_IS_APPLICATION (application), NULL);

  self = g_object_new (HARK_TYPE_WINDOW, "application", application, NULL);
  restore_state (self);
  g_signal_connect (self, "close-request", G_CALLBACK (on_close_request), NULL);
  self->client = g_object_ref (hark_application_get_client (application));
  hark_calls_page_set_client (self->calls_page, self->client);
  hark_calls_page_set_recent_calls (self->calls_page,
                                    hark_application_get_recent_calls (application));
  hark_profiles_page_set_client (self->profiles_page, self->client);
  hark_subscriptions_page_set_client (self->subscriptions_page, self->client);
  g_signal_connect_object (self->subscriptions_page, "notify::new-messages",
                           G_CALLBACK (on_new_messages_changed), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->client, "notify::state",
                           G_CALLBACK (on_client_state_changed), self, G_CONNECT_SWAPPED);
  on_client_state_changed (self);

  return self;
}

HarkClient *
hark_window_get_client (HarkWindow *self)
{
  g_return_val_if_fail (HARK_IS_WINDOW (self), NULL);

  return self->client;
}

/**
 * hark_window_save_state:
 *
 * Saves the window's size and whether it is maximized, restored by the next window.
 */
void
hark_window_save_state (HarkWindow *self)
{
  GtkApplication *app;
  GSettings *settings;
  int width, height;

  g_return_if_fail (HARK_IS_WINDOW (self));

  app = gtk_window_get_application (GTK_WINDOW (self));
  settings = app ? hark_application_get_settings (HARK_APPLICATION (app)) : NULL;
  if (settings == NULL)
    return;

  /* GTK 4 keeps the default size in step with the unmaximized size. */
  gtk_window_get_default_size (GTK_WINDOW (self), &width, &height);
  if (width > 0 && height > 0)
    {
      g_settings_set_int (settings, "window-width", width);
      g_settings_set_int (settings, "window-height", height);
    }
  g_settings_set_boolean (settings, "window-maximized", gtk_window_is_maximized (GTK_WINDOW (self)));
}

void
hark_window_show_calls (HarkWindow *self)
{
  g_return_if_fail (HARK_IS_WINDOW (self));

  adw_view_stack_set_visible_child_name (self->view_stack, "calls");
}

/**
 * hark_window_open_uri:
 * @uri: (nullable): a sip:, sips: or tel: URI to put in the dialer
 *
 * Shows the dialer, focused.
 */
void
hark_window_open_uri (HarkWindow *self,
                      const char *uri)
{
  g_return_if_fail (HARK_IS_WINDOW (self));

  hark_window_show_calls (self);
  hark_calls_page_focus_dialer (self->calls_page, uri);
}

void
hark_window_show_incoming_call (HarkWindow *self,
                                const char *call_path)
{
  g_return_if_fail (HARK_IS_WINDOW (self));

  hark_window_show_calls (self);
  hark_calls_page_show_incoming_call (self->calls_page, call_path);
}

void
hark_window_add_toast (HarkWindow *self,
                       const char *message)
{
  AdwToast *toast;

  g_return_if_fail (HARK_IS_WINDOW (self));

  toast = adw_toast_new (message);
  adw_toast_set_timeout (toast, 5);
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

/**
 * hark_show_error:
 * @widget: any widget in a #HarkWindow
 * @what: (nullable): what failed, e.g. "Could not call"
 * @error: the error, often a remote one
 *
 * Shows the daemon's message (without the D-Bus error name) in a toast. A
 * toast has one line: its Details button shows the whole message.
 */
void
hark_show_error (GtkWidget    *widget,
                 const char   *what,
                 const GError *error)
{
  g_autoptr(GError) copy = NULL;
  g_autofree char *message = NULL;
  GtkRoot *root;

  g_return_if_fail (GTK_IS_WIDGET (widget));
  g_return_if_fail (error != NULL);

  copy = g_error_copy (error);
  g_dbus_error_strip_remote_error (copy);
  message = what != NULL ? g_strdup_printf ("%s: %s", what, copy->message) : g_strdup (copy->message);

  root = gtk_widget_get_root (widget);
  if (GTK_IS_WINDOW (root) && !HARK_IS_WINDOW (root))
    root = GTK_ROOT (gtk_window_get_transient_for (GTK_WINDOW (root)));

  if (HARK_IS_WINDOW (root))
    {
      HarkWindow *self = HARK_WINDOW (root);
      AdwToast *toast = adw_toast_new (message);

      adw_toast_set_timeout (toast, 8);
      adw_toast_set_button_label (toast, _("_Details"));
      adw_toast_set_action_name (toast, "win.show-message");
      adw_toast_set_action_target_value (toast, g_variant_new ("(ss)", what ? what : _("Error"),
                                                               copy->message));
      adw_toast_overlay_add_toast (self->toast_overlay, toast);
    }
  else
    g_message ("%s", message);
}

/**
 * hark_fix_button_names:
 * @widget: a widget and its descendants to fix
 *
 * GTK 4.8 names a button from the label its mnemonic label points at (the
 * labelled-by relation) followed by its accessible label, which
 * gtk_button_set_label() sets to the raw text: a "_Decline" button with
 * use-underline reads "_Decline Decline". Dropping the accessible label of
 * such buttons leaves the name to the mnemonic label alone, as in newer GTK.
 * Buttons made by libadwaita (message dialog responses) need it too; a label
 * without underline has no relation, and keeps its accessible label.
 */
void
hark_fix_button_names (GtkWidget *widget)
{
  g_return_if_fail (GTK_IS_WIDGET (widget));

  if (GTK_IS_BUTTON (widget) && gtk_button_get_label (GTK_BUTTON (widget)) != NULL &&
      gtk_button_get_use_underline (GTK_BUTTON (widget)))
    gtk_accessible_reset_property (GTK_ACCESSIBLE (widget), GTK_ACCESSIBLE_PROPERTY_LABEL);

  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    hark_fix_button_names (child);
}
