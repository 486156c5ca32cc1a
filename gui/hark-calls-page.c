/* hark-calls-page.c: the dialer and the list of calls
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "hark"

#include "config.h"

#include <glib/gi18n.h>

#include "hark-call-row.h"
#include "hark-calls-page.h"
#include "hark-window.h"

struct _HarkCallsPage
{
  AdwBin                parent_instance;

  HarkClient           *client;
  gboolean              profile_chosen;
  gboolean              updating;

  AdwPreferencesGroup  *calls_group;
  GtkListBox           *calls_list;
  AdwEntryRow          *uri_row;
  AdwComboRow          *profile_row;
  GtkGrid              *keypad;
  AdwPreferencesGroup  *recent_group;
  GtkListBox           *recent_list;

  HarkRecentCalls      *recent_calls;
};

G_DEFINE_FINAL_TYPE (HarkCallsPage, hark_calls_page, ADW_TYPE_BIN)

static const struct {
  const char *digit;
  const char *letters;
} keys[] = {
  { "1", "" }, { "2", "ABC" }, { "3", "DEF" },
  { "4", "GHI" }, { "5", "JKL" }, { "6", "MNO" },
  { "7", "PQRS" }, { "8", "TUV" }, { "9", "WXYZ" },
  { "*", "" }, { "0", "+" }, { "#", "" },
};

static char *
profile_display_name (HarkDBusObject *object)
{
  g_autoptr(HarkDBusProfile1) profile = NULL;

  if (object == NULL)
    return NULL;

  profile = hark_dbus_object_get_profile1 (object);
  return profile != NULL ? g_strdup (hark_dbus_profile1_get_name (profile)) : NULL;
}

static void
select_default_profile (HarkCallsPage *self)
{
  HarkDBusManager1 *manager = hark_client_get_manager (self->client);
  GListModel *profiles = hark_client_get_profiles (self->client);
  const char *default_path;
  guint n;

  if (manager == NULL || self->profile_chosen)
    return;

  default_path = hark_dbus_manager1_get_default_profile (manager);
  n = g_list_model_get_n_items (profiles);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GDBusObject) object = g_list_model_get_item (profiles, i);

      if (g_strcmp0 (g_dbus_object_get_object_path (object), default_path) == 0)
        {
          self->updating = TRUE;
          adw_combo_row_set_selected (self->profile_row, i);
          self->updating = FALSE;
          break;
        }
    }
}

static void
on_profile_row_selected (HarkCallsPage *self)
{
  if (!self->updating)
    self->profile_chosen = TRUE;
}

static void
on_manager_changed (HarkCallsPage *self)
{
  HarkDBusManager1 *manager = hark_client_get_manager (self->client);

  if (manager != NULL)
    g_signal_connect_object (manager, "notify::default-profile",
                             G_CALLBACK (select_default_profile), self, G_CONNECT_SWAPPED);
  select_default_profile (self);
}

static void
on_calls_changed (HarkCallsPage *self)
{
  GListModel *calls = hark_client_get_calls (self->client);

  gtk_widget_set_visible (GTK_WIDGET (self->calls_group), g_list_model_get_n_items (calls) > 0);
}

static GtkWidget *
create_call_row (gpointer item,
                 gpointer user_data)
{
  HarkCallsPage *self = user_data;

  return hark_call_row_new (self->client, HARK_DBUS_OBJECT (item));
}

static void
dial_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(HarkCallsPage) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *call_path = NULL;

  if (!hark_dbus_manager1_call_dial_finish (HARK_DBUS_MANAGER1 (source), &call_path, result, &error))
    {
      hark_show_error (GTK_WIDGET (self), _("Could not call"), error);
      return;
    }

  gtk_editable_set_text (GTK_EDITABLE (self->uri_row), "");
}

static void
dial_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  HarkCallsPage *self = HARK_CALLS_PAGE (widget);
  HarkDBusManager1 *manager = hark_client_get_manager (self->client);
  g_autoptr(GDBusObject) profile = NULL;
  g_autofree char *uri = NULL;

  uri = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->uri_row))));
  if (manager == NULL || *uri == '\0')
    {
      gtk_widget_grab_focus (GTK_WIDGET (self->uri_row));
      return;
    }

  profile = adw_combo_row_get_selected_item (self->profile_row);
  if (profile != NULL)
    g_object_ref (profile);

  hark_dbus_manager1_call_dial (manager,
                                profile != NULL ? g_dbus_object_get_object_path (profile) : "/",
                                uri, g_variant_new ("a{sv}", NULL), NULL,
                                dial_cb, g_object_ref (self));
}

static void
on_uri_row_activated (HarkCallsPage *self)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "calls.dial", NULL);
}

static void
on_key_clicked (HarkCallsPage *self,
                GtkButton     *button)
{
  const char *digit = g_object_get_data (G_OBJECT (button), "digit");
  int position = -1;

  gtk_editable_insert_text (GTK_EDITABLE (self->uri_row), digit, -1, &position);
}

static GtkWidget *
create_key (HarkCallsPage *self,
            guint          i)
{
  GtkWidget *button = gtk_button_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *digit = gtk_label_new (keys[i].digit);
  GtkWidget *letters = gtk_label_new (keys[i].letters);

  gtk_widget_add_css_class (digit, "digit");
  gtk_widget_add_css_class (letters, "letters");
  gtk_widget_add_css_class (letters, "dim-label");
  gtk_box_append (GTK_BOX (box), digit);
  gtk_box_append (GTK_BOX (box), letters);
  gtk_widget_set_valign (box, GTK_ALIGN_CENTER);
  gtk_button_set_child (GTK_BUTTON (button), box);
  gtk_widget_add_css_class (button, "circular");
  gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  keys[i].digit, -1);
  g_object_set_data (G_OBJECT (button), "digit", (gpointer) keys[i].digit);
  g_signal_connect_object (button, "clicked", G_CALLBACK (on_key_clicked), self, G_CONNECT_SWAPPED);

  return button;
}

/* Puts a recent call's address in the dialer, on the profile it went through
 * when that profile still exists. */
static void
fill_dialer (HarkCallsPage  *self,
             HarkRecentCall *recent)
{
  GListModel *profiles = self->client ? hark_client_get_profiles (self->client) : NULL;
  guint n = profiles ? g_list_model_get_n_items (profiles) : 0;

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GDBusObject) object = g_list_model_get_item (profiles, i);

      if (g_strcmp0 (g_dbus_object_get_object_path (object),
                     hark_recent_call_get_profile (recent)) == 0)
        {
          adw_combo_row_set_selected (self->profile_row, i);
          break;
        }
    }

  gtk_editable_set_text (GTK_EDITABLE (self->uri_row), hark_recent_call_get_uri (recent));
  gtk_editable_set_position (GTK_EDITABLE (self->uri_row), -1);
  gtk_widget_grab_focus (GTK_WIDGET (self->uri_row));
}

static void
on_recent_row_activated (HarkCallsPage *self,
                         GtkListBoxRow *row)
{
  HarkRecentCall *recent = g_object_get_data (G_OBJECT (row), "recent");

  if (recent != NULL)
    fill_dialer (self, recent);
}

static void
on_call_back_clicked (GtkWidget *button)
{
  HarkCallsPage *self = g_object_get_data (G_OBJECT (button), "page");
  HarkRecentCall *recent = g_object_get_data (G_OBJECT (button), "recent");

  fill_dialer (self, recent);
  gtk_widget_activate_action (GTK_WIDGET (self), "calls.dial", NULL);
}

static GtkWidget *
create_recent_row (gpointer item,
                   gpointer user_data)
{
  HarkCallsPage *self = user_data;
  HarkRecentCall *recent = item;
  const char *name = hark_recent_call_get_name (recent);
  const char *uri = hark_recent_call_get_uri (recent);
  const char *outcome = hark_recent_call_get_outcome (recent);
  g_autofree char *subtitle = hark_recent_call_describe (recent);
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *icon;
  GtkWidget *button;
  const char *icon_name;

  if (g_strcmp0 (outcome, "missed") == 0)
    icon_name = "call-missed-symbolic";
  else
    icon_name = hark_recent_call_is_incoming (recent) ? "call-incoming-symbolic"
                                                       : "call-outgoing-symbolic";
  icon = gtk_image_new_from_icon_name (icon_name);
  gtk_accessible_update_property (GTK_ACCESSIBLE (icon), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  hark_recent_call_is_incoming (recent) ? _("Incoming")
                                                                        : _("Outgoing"), -1);
  if (g_strcmp0 (outcome, "missed") == 0)
    gtk_widget_add_css_class (icon, "error");

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), *name != '\0' ? name : uri);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  adw_action_row_add_prefix (ADW_ACTION_ROW (row), icon);
  gtk_widget_set_tooltip_text (row, uri);
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);
  g_object_set_data_full (G_OBJECT (row), "recent", g_object_ref (recent), g_object_unref);

  button = gtk_button_new_from_icon_name ("call-start-symbolic");
  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (button, "flat");
  gtk_widget_set_tooltip_text (button, _("Call Back"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Call Back"), -1);
  g_object_set_data (G_OBJECT (button), "page", self);
  g_object_set_data_full (G_OBJECT (button), "recent", g_object_ref (recent), g_object_unref);
  g_signal_connect (button, "clicked", G_CALLBACK (on_call_back_clicked), NULL);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);

  return row;
}

static void
on_recent_changed (HarkCallsPage *self)
{
  GListModel *model = hark_recent_calls_get_model (self->recent_calls);

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "calls.clear-recent",
                                 g_list_model_get_n_items (model) > 0);
}

static void
clear_recent_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  HarkCallsPage *self = HARK_CALLS_PAGE (widget);

  if (self->recent_calls != NULL)
    hark_recent_calls_clear (self->recent_calls);
}

static void
hark_calls_page_dispose (GObject *object)
{
  HarkCallsPage *self = HARK_CALLS_PAGE (object);

  gtk_widget_dispose_template (GTK_WIDGET (self), HARK_TYPE_CALLS_PAGE);
  g_clear_object (&self->recent_calls);
  g_clear_object (&self->client);

  G_OBJECT_CLASS (hark_calls_page_parent_class)->dispose (object);
}

static void
hark_calls_page_class_init (HarkCallsPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = hark_calls_page_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/hark/Hark/hark-calls-page.ui");
  gtk_widget_class_bind_template_child (widget_class, HarkCallsPage, calls_group);
  gtk_widget_class_bind_template_child (widget_class, HarkCallsPage, calls_list);
  gtk_widget_class_bind_template_child (widget_class, HarkCallsPage, uri_row);
  gtk_widget_class_bind_template_child (widget_class, HarkCallsPage, profile_row);
  gtk_widget_class_bind_template_child (widget_class, HarkCallsPage, keypad);
  gtk_widget_class_bind_template_child (widget_class, HarkCallsPage, recent_group);
  gtk_widget_class_bind_template_child (widget_class, HarkCallsPage, recent_list);
  gtk_widget_class_bind_template_callback (widget_class, on_uri_row_activated);
  gtk_widget_class_bind_template_callback (widget_class, on_recent_row_activated);
  gtk_widget_class_bind_template_callback (widget_class, on_profile_row_selected);

  gtk_widget_class_install_action (widget_class, "calls.dial", NULL, dial_action);
  gtk_widget_class_install_action (widget_class, "calls.clear-recent", NULL, clear_recent_action);
}

static void
hark_calls_page_init (HarkCallsPage *self)
{
  g_autoptr(GtkExpression) expression = NULL;
  GtkWidget *placeholder;

  gtk_widget_init_template (GTK_WIDGET (self));

  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    gtk_grid_attach (self->keypad, create_key (self, i), i % 3, i / 3, 1, 1);

  expression = gtk_cclosure_expression_new (G_TYPE_STRING, NULL, 0, NULL,
                                            G_CALLBACK (profile_display_name), NULL, NULL);
  adw_combo_row_set_expression (self->profile_row, expression);

  placeholder = gtk_label_new (_("No recent calls"));
  gtk_widget_set_margin_top (placeholder, 18);
  gtk_widget_set_margin_bottom (placeholder, 18);
  gtk_widget_add_css_class (placeholder, "dim-label");
  gtk_list_box_set_placeholder (self->recent_list, placeholder);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "calls.clear-recent", FALSE);
}

/**
 * hark_calls_page_set_recent_calls:
 * @recent_calls: (nullable): the call history to show
 */
void
hark_calls_page_set_recent_calls (HarkCallsPage   *self,
                                  HarkRecentCalls *recent_calls)
{
  g_return_if_fail (HARK_IS_CALLS_PAGE (self));
  g_return_if_fail (self->recent_calls == NULL);

  gtk_widget_set_visible (GTK_WIDGET (self->recent_group), recent_calls != NULL);
  if (recent_calls == NULL)
    return;

  self->recent_calls = g_object_ref (recent_calls);
  gtk_list_box_bind_model (self->recent_list, hark_recent_calls_get_model (recent_calls),
                           create_recent_row, self, NULL);
  g_signal_connect_object (hark_recent_calls_get_model (recent_calls), "items-changed",
                           G_CALLBACK (on_recent_changed), self, G_CONNECT_SWAPPED);
  on_recent_changed (self);
}

void
hark_calls_page_set_client (HarkCallsPage *self,
                            HarkClient    *client)
{
  GListModel *calls;

  g_return_if_fail (HARK_IS_CALLS_PAGE (self));
  g_return_if_fail (HARK_IS_CLIENT (client));
  g_return_if_fail (self->client == NULL);

  self->client = g_object_ref (client);
  calls = hark_client_get_calls (client);

  adw_combo_row_set_model (self->profile_row, hark_client_get_profiles (client));
  gtk_list_box_bind_model (self->calls_list, calls, create_call_row, self, NULL);

  g_signal_connect_object (calls, "items-changed", G_CALLBACK (on_calls_changed), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (hark_client_get_profiles (client), "items-changed",
                           G_CALLBACK (select_default_profile), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (client, "notify::manager", G_CALLBACK (on_manager_changed), self,
                           G_CONNECT_SWAPPED);
  on_manager_changed (self);
  on_calls_changed (self);
}

/**
 * hark_calls_page_focus_dialer:
 * @uri: (nullable): what to put in the dialer
 */
void
hark_calls_page_focus_dialer (HarkCallsPage *self,
                              const char    *uri)
{
  g_return_if_fail (HARK_IS_CALLS_PAGE (self));

  if (uri != NULL)
    gtk_editable_set_text (GTK_EDITABLE (self->uri_row), uri);
  gtk_widget_grab_focus (GTK_WIDGET (self->uri_row));
}

static void
answer_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(HarkCallsPage) self = user_data;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;

  reply = g_dbus_proxy_call_finish (G_DBUS_PROXY (source), result, &error);
  if (reply == NULL)
    hark_show_error (GTK_WIDGET (self), _("Could not decline the call"), error);
}

static void
accept_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(HarkCallsPage) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!hark_client_accept_call_finish (HARK_CLIENT (source), result, &error))
    hark_show_error (GTK_WIDGET (self), _("Could not accept the call"), error);
}

static void
on_incoming_response (HarkCallsPage    *self,
                      const char       *response,
                      AdwMessageDialog *dialog)
{
  HarkDBusCall1 *call = g_object_get_data (G_OBJECT (dialog), "call");

  if (g_strcmp0 (response, "accept") == 0 || g_strcmp0 (response, "hold-accept") == 0)
    hark_client_accept_call (self->client, call, g_strcmp0 (response, "hold-accept") == 0, NULL,
                             accept_cb, g_object_ref (self));
  else if (g_strcmp0 (response, "decline") == 0)
    g_dbus_proxy_call (G_DBUS_PROXY (call), "Reject", g_variant_new ("(ua{sv})", 603, NULL),
                       G_DBUS_CALL_FLAGS_NONE, -1, NULL, answer_cb, g_object_ref (self));
}

static void
on_incoming_call_state (GtkWindow     *dialog,
                        GParamSpec    *pspec,
                        HarkDBusCall1 *call)
{
  if (g_strcmp0 (hark_dbus_call1_get_state (call), "ringing") != 0)
    gtk_window_destroy (dialog);
}

static char *
describe_caller (HarkCallsPage *self,
                 HarkDBusCall1 *call)
{
  g_autoptr(HarkDBusObject) object = hark_client_lookup (self->client,
                                                         hark_dbus_call1_get_profile (call));
  g_autofree char *profile_name = object ? profile_display_name (object) : NULL;
  const char *name = hark_dbus_call1_get_remote_name (call);
  const char *uri = hark_dbus_call1_get_remote_uri (call);
  GString *text = g_string_new (NULL);

  if (name != NULL && *name != '\0')
    g_string_append_printf (text, "%s\n", name);
  g_string_append (text, uri != NULL ? uri : "");
  if (profile_name != NULL)
    {
      g_string_append (text, "\n\n");
      /* Translators: %s is the name of the profile (account) the call came in on */
      g_string_append_printf (text, _("On your profile “%s”"), profile_name);
    }

  return g_string_free (text, FALSE);
}

/**
 * hark_calls_page_show_incoming_call:
 *
 * Asks, in a dialog over the window, whether to accept the call.
 */
void
hark_calls_page_show_incoming_call (HarkCallsPage *self,
                                    const char    *call_path)
{
  g_autoptr(HarkDBusObject) object = NULL;
  g_autoptr(HarkDBusCall1) call = NULL;
  g_autofree char *body = NULL;
  const char *accept;
  gboolean busy;
  GtkWidget *dialog;

  g_return_if_fail (HARK_IS_CALLS_PAGE (self));

  object = hark_client_lookup (self->client, call_path);
  call = object ? hark_dbus_object_get_call1 (object) : NULL;
  if (call == NULL)
    return;

  /* Call waiting: answering while talking holds the other call first. */
  busy = hark_client_count_active_calls (self->client, call) > 0;
  accept = busy ? "hold-accept" : "accept";

  body = describe_caller (self, call);
  dialog = adw_message_dialog_new (GTK_WINDOW (gtk_widget_get_root (GTK_WIDGET (self))),
                                   _("Incoming Call"), body);
  /* A title of its own, for window lists and screen readers. */
  gtk_window_set_title (GTK_WINDOW (dialog), _("Incoming Call"));
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "decline", _("_Decline"),
                                    accept, busy ? _("_Hold and Accept") : _("_Accept"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "decline",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), accept,
                                              ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), accept);
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "dismiss");

  hark_fix_button_names (dialog);
  g_object_set_data_full (G_OBJECT (dialog), "call", g_object_ref (call), g_object_unref);
  g_signal_connect_object (dialog, "response", G_CALLBACK (on_incoming_response), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (call, "notify::state", G_CALLBACK (on_incoming_call_state), dialog,
                           G_CONNECT_SWAPPED);

  gtk_window_present (GTK_WINDOW (dialog));
}
