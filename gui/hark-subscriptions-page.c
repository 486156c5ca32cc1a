/* hark-subscriptions-page.c: voicemail, presence and other subscriptions
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "hark"

#include "config.h"

#include <glib/gi18n.h>

#include "hark-subscriptions-page.h"
#include "hark-window.h"

/**
 * HarkSubscriptionsPage:
 *
 * The Subscription1 objects in four lists: message-summary (voicemail
 * waiting, with counts and a Call Voicemail button), presence watches (open or
 * closed and the note; add a URI, remove one), the people who asked to see
 * the user's presence (incoming presence SUBSCRIBEs: Allow / Deny while
 * pending, Stop Sharing after) and every other subscription with its last
 * notification. Also the user's own presence, sent to every profile with
 * Profile1.SetPresence().
 */
struct _HarkSubscriptionsPage
{
  AdwBin          parent_instance;

  HarkClient     *client;
  GListModel     *voicemail;
  GListModel     *presence;
  GListModel     *watchers;
  GListModel     *others;
  guint           new_messages;

  GtkListBox     *voicemail_list;
  GtkListBox     *presence_list;
  GtkListBox     *watchers_list;
  GtkListBox     *others_list;
  AdwEntryRow    *watch_row;
  GtkSwitch      *available_switch;
  AdwEntryRow    *note_row;
  GtkWidget      *watchers_group;
  GtkWidget      *others_group;
};

G_DEFINE_FINAL_TYPE (HarkSubscriptionsPage, hark_subscriptions_page, ADW_TYPE_BIN)

enum {
  PROP_0,
  PROP_NEW_MESSAGES,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

typedef enum {
  KIND_VOICEMAIL,
  KIND_PRESENCE,
  KIND_WATCHER,
  KIND_OTHER,
} Kind;

static HarkDBusSubscription1 *
row_subscription (GtkWidget *row)
{
  return g_object_get_data (G_OBJECT (row), "subscription");
}

static Kind
kind_of (HarkDBusSubscription1 *sub)
{
  gboolean subscriber = g_strcmp0 (hark_dbus_subscription1_get_role (sub), "subscriber") == 0;
  const char *event = hark_dbus_subscription1_get_event (sub);

  if (subscriber && g_strcmp0 (event, "message-summary") == 0)
    return KIND_VOICEMAIL;
  if (subscriber && g_strcmp0 (event, "presence") == 0)
    return KIND_PRESENCE;
  if (!subscriber && g_strcmp0 (event, "presence") == 0)
    return KIND_WATCHER;
  return KIND_OTHER;
}

static gboolean
filter_kind (gpointer item,
             gpointer user_data)
{
  g_autoptr(HarkDBusSubscription1) sub = hark_dbus_object_get_subscription1 (item);

  return sub != NULL && kind_of (sub) == (Kind) GPOINTER_TO_INT (user_data);
}

static char *
profile_name (HarkSubscriptionsPage *self,
              const char            *path)
{
  g_autoptr(HarkDBusObject) object = hark_client_lookup (self->client, path);
  g_autoptr(HarkDBusProfile1) profile = object ? hark_dbus_object_get_profile1 (object) : NULL;

  return profile != NULL ? g_strdup (hark_dbus_profile1_get_name (profile)) : NULL;
}

/* Pending, ended, or NULL when it is active and the row says more. */
static char *
describe_state (HarkDBusSubscription1 *sub)
{
  const char *state = hark_dbus_subscription1_get_state (sub);
  const char *reason = hark_dbus_subscription1_get_state_reason (sub);

  if (g_strcmp0 (state, "pending") == 0)
    return g_strdup (_("Waiting for an answer…"));
  if (g_strcmp0 (state, "terminated") == 0)
    {
      if (reason != NULL && *reason != '\0')
        /* Translators: %s is the daemon's reason, e.g. "rejected" or "timeout" */
        return g_strdup_printf (_("Ended: %s"), reason);
      return g_strdup (_("Ended"));
    }
  if (g_strcmp0 (reason, "auth-required") == 0)
    return g_strdup (_("The server asks for a password"));
  return NULL;
}

static void
update_new_messages (HarkSubscriptionsPage *self)
{
  guint n = g_list_model_get_n_items (self->voicemail);
  guint total = 0;

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(HarkDBusObject) object = g_list_model_get_item (self->voicemail, i);
      g_autoptr(HarkDBusSubscription1) sub = hark_dbus_object_get_subscription1 (object);
      GVariant *counts = sub ? hark_dbus_subscription1_get_voice_messages (sub) : NULL;
      guint new_messages = 0;

      if (counts != NULL && g_variant_is_of_type (counts, G_VARIANT_TYPE ("(uuuu)")))
        g_variant_get (counts, "(uuuu)", &new_messages, NULL, NULL, NULL);
      /* "yes" without counts still means something waits. */
      if (sub != NULL && hark_dbus_subscription1_get_messages_waiting (sub))
        total += MAX (new_messages, 1);
    }

  if (total != self->new_messages)
    {
      self->new_messages = total;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NEW_MESSAGES]);
    }
}

static void
update_voicemail_row (GtkWidget *row)
{
  HarkSubscriptionsPage *self = g_object_get_data (G_OBJECT (row), "page");
  HarkDBusSubscription1 *sub = row_subscription (row);
  GtkWidget *icon = g_object_get_data (G_OBJECT (row), "icon");
  GVariant *counts = hark_dbus_subscription1_get_voice_messages (sub);
  gboolean waiting = hark_dbus_subscription1_get_messages_waiting (sub);
  g_autofree char *name = profile_name (self, hark_dbus_subscription1_get_profile (sub));
  g_autofree char *state = describe_state (sub);
  g_autofree char *subtitle = NULL;
  guint new_messages = 0, old_messages = 0;

  if (counts != NULL && g_variant_is_of_type (counts, G_VARIANT_TYPE ("(uuuu)")))
    g_variant_get (counts, "(uuuu)", &new_messages, &old_messages, NULL, NULL);

  if (state != NULL)
    subtitle = g_steal_pointer (&state);
  else if (new_messages > 0 || old_messages > 0)
    {
      g_autofree char *new_words = g_strdup_printf (ngettext ("%u new message", "%u new messages",
                                                              new_messages), new_messages);
      g_autofree char *old_words = g_strdup_printf (ngettext ("%u old", "%u old", old_messages),
                                                    old_messages);

      /* Translators: "2 new messages, 8 old" */
      subtitle = g_strdup_printf (_("%s, %s"), new_words, old_words);
    }
  else
    subtitle = g_strdup (waiting ? _("New messages are waiting") : _("No new messages"));

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row),
                                 name != NULL ? name : hark_dbus_subscription1_get_uri (sub));
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  gtk_image_set_from_icon_name (GTK_IMAGE (icon), waiting ? "mail-unread-symbolic"
                                                          : "mail-read-symbolic");
  if (waiting)
    gtk_widget_add_css_class (icon, "accent");
  else
    gtk_widget_remove_css_class (icon, "accent");

  update_new_messages (self);
}

static void
update_presence_row (GtkWidget *row)
{
  HarkDBusSubscription1 *sub = row_subscription (row);
  GtkWidget *icon = g_object_get_data (G_OBJECT (row), "icon");
  GVariant *presence = hark_dbus_subscription1_get_presence (sub);
  g_autofree char *state = describe_state (sub);
  const char *basic = "", *note = "";
  const char *words;
  g_autofree char *subtitle = NULL;

  if (presence != NULL && g_variant_is_of_type (presence, G_VARIANT_TYPE ("(ss)")))
    g_variant_get (presence, "(&s&s)", &basic, &note);

  if (g_strcmp0 (basic, "open") == 0)
    words = _("Available");
  else if (g_strcmp0 (basic, "closed") == 0)
    words = _("Not available");
  else
    words = _("Unknown");

  if (state != NULL)
    subtitle = g_steal_pointer (&state);
  else if (*note != '\0')
    /* Translators: presence and note, e.g. "Available — In a meeting" */
    subtitle = g_strdup_printf (_("%s — %s"), words, note);
  else
    subtitle = g_strdup (words);

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), hark_dbus_subscription1_get_uri (sub));
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  gtk_image_set_from_icon_name (GTK_IMAGE (icon), g_strcmp0 (basic, "open") == 0
                                                  ? "user-available-symbolic"
                                                  : "user-offline-symbolic");
}

/* The last NOTIFY's body, as one short line of text, or NULL. */
static char *
body_preview (HarkDBusSubscription1 *sub)
{
  GVariant *body = hark_dbus_subscription1_get_last_body (sub);
  gsize len = 0;
  const char *data;
  g_autofree char *text = NULL;

  if (body == NULL || !g_variant_is_of_type (body, G_VARIANT_TYPE_BYTESTRING))
    return NULL;

  data = g_variant_get_fixed_array (body, &len, 1);
  if (len == 0)
    return NULL;

  text = g_utf8_make_valid (data, MIN (len, 200));
  g_strdelimit (text, "\r\n\t", ' ');
  g_strstrip (text);
  if (g_utf8_strlen (text, -1) > 60)
    {
      g_autofree char *head = g_utf8_substring (text, 0, 60);

      return g_strconcat (head, "…", NULL);
    }

  return g_steal_pointer (&text);
}

static void
update_other_row (GtkWidget *row)
{
  HarkDBusSubscription1 *sub = row_subscription (row);
  GtkWidget *button = g_object_get_data (G_OBJECT (row), "button");
  gboolean subscriber = g_strcmp0 (hark_dbus_subscription1_get_role (sub), "subscriber") == 0;
  gboolean ended = g_strcmp0 (hark_dbus_subscription1_get_state (sub), "terminated") == 0;
  g_autofree char *state = describe_state (sub);
  g_autofree char *preview = body_preview (sub);
  g_autofree char *title = NULL;
  const char *content_type = hark_dbus_subscription1_get_last_content_type (sub);
  g_autofree char *subtitle = NULL;

  if (subscriber)
    /* Translators: event package and resource, e.g. "dialog: sip:bob@example.org" */
    title = g_strdup_printf (_("%s: %s"), hark_dbus_subscription1_get_event (sub),
                             hark_dbus_subscription1_get_uri (sub));
  else
    /* Translators: someone subscribed to us, e.g. "sip:bob@example.org watches your presence" */
    title = g_strdup_printf (_("%s watches your %s"), hark_dbus_subscription1_get_uri (sub),
                             hark_dbus_subscription1_get_event (sub));

  if (state != NULL)
    subtitle = g_steal_pointer (&state);
  else if (preview != NULL)
    /* Translators: the last notification: its content type and the start of its body */
    subtitle = g_strdup_printf (_("Last notification (%s): %s"), content_type, preview);
  else
    subtitle = g_strdup (_("No notification yet"));

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  gtk_widget_set_visible (button, subscriber && !ended);
}

/* Someone who subscribed to our presence: asking (pending), seeing it, or gone. */
static void
update_watcher_row (GtkWidget *row)
{
  HarkSubscriptionsPage *self = g_object_get_data (G_OBJECT (row), "page");
  HarkDBusSubscription1 *sub = row_subscription (row);
  GtkWidget *allow = g_object_get_data (G_OBJECT (row), "allow");
  GtkWidget *deny = g_object_get_data (G_OBJECT (row), "deny");
  GtkWidget *stop = g_object_get_data (G_OBJECT (row), "button");
  const char *state = hark_dbus_subscription1_get_state (sub);
  const char *reason = hark_dbus_subscription1_get_state_reason (sub);
  const char *uri = hark_dbus_subscription1_get_uri (sub);
  gboolean pending = g_strcmp0 (state, "pending") == 0;
  gboolean active = g_strcmp0 (state, "active") == 0;
  g_autofree char *name = profile_name (self, hark_dbus_subscription1_get_profile (sub));
  g_autofree char *title = NULL;
  g_autofree char *subtitle = NULL;

  if (pending)
    /* Translators: %s is a SIP address, e.g. "sip:bob@example.org wants to see your status" */
    title = g_strdup_printf (_("%s wants to see your status"), uri);
  else
    /* Translators: %s is a SIP address */
    title = g_strdup_printf (_("%s sees your status"), uri);

  if (pending)
    subtitle = name != NULL
      /* Translators: %s is the name of a profile (account) */
      ? g_strdup_printf (_("Asked on your profile “%s”"), name)
      : g_strdup (_("Waiting for your answer"));
  else if (active)
    subtitle = g_strdup (_("Allowed"));
  else if (g_strcmp0 (reason, "rejected") == 0)
    subtitle = g_strdup (_("Denied"));
  else
    subtitle = describe_state (sub);

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle != NULL ? subtitle : "");
  gtk_widget_set_visible (allow, pending);
  gtk_widget_set_visible (deny, pending);
  gtk_widget_set_visible (stop, active);
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
on_unsubscribe_clicked (GtkWidget *row)
{
  g_dbus_proxy_call (G_DBUS_PROXY (row_subscription (row)), "Unsubscribe", NULL,
                     G_DBUS_CALL_FLAGS_NONE, -1, NULL, method_cb, g_object_ref (row));
}

static void
on_allow_clicked (GtkWidget *row)
{
  g_dbus_proxy_call (G_DBUS_PROXY (row_subscription (row)), "Accept", NULL,
                     G_DBUS_CALL_FLAGS_NONE, -1, NULL, method_cb, g_object_ref (row));
}

static void
on_deny_clicked (GtkWidget *row)
{
  /* 603 Decline: the person said no. */
  g_dbus_proxy_call (G_DBUS_PROXY (row_subscription (row)), "Reject", g_variant_new ("(u)", 603),
                     G_DBUS_CALL_FLAGS_NONE, -1, NULL, method_cb, g_object_ref (row));
}

static void
on_stop_sharing_clicked (GtkWidget *row)
{
  g_autoptr(GVariantDict) options = g_variant_dict_new (NULL);

  /* "rejected" (RFC 6665): not allowed, so the watcher should not try again. */
  g_variant_dict_insert (options, "reason", "s", "rejected");
  g_dbus_proxy_call (G_DBUS_PROXY (row_subscription (row)), "Terminate",
                     g_variant_new ("(@a{sv})", g_variant_dict_end (options)),
                     G_DBUS_CALL_FLAGS_NONE, -1, NULL, method_cb, g_object_ref (row));
}

static GtkWidget *
row_button (GtkWidget  *row,
            const char *mnemonic,
            GCallback   clicked)
{
  GtkWidget *button = gtk_button_new_with_mnemonic (mnemonic);

  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  g_signal_connect_swapped (button, "clicked", clicked, row);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);

  return button;
}

static void
dial_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GtkWidget) widget = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *call = NULL;
  GtkRoot *root;

  if (!hark_dbus_manager1_call_dial_finish (HARK_DBUS_MANAGER1 (source), &call, result, &error))
    {
      hark_show_error (widget, _("Could not call"), error);
      return;
    }

  root = gtk_widget_get_root (widget);
  if (HARK_IS_WINDOW (root))
    hark_window_show_calls (HARK_WINDOW (root));
}

static void
on_call_voicemail_clicked (GtkWidget *row)
{
  HarkSubscriptionsPage *self = g_object_get_data (G_OBJECT (row), "page");
  HarkDBusSubscription1 *sub = row_subscription (row);
  HarkDBusManager1 *manager = hark_client_get_manager (self->client);

  if (manager == NULL)
    return;

  /* The summary's resource is the mailbox: calling it reaches the voicemail. */
  hark_dbus_manager1_call_dial (manager, hark_dbus_subscription1_get_profile (sub),
                                hark_dbus_subscription1_get_uri (sub),
                                g_variant_new ("a{sv}", NULL), NULL, dial_cb, g_object_ref (row));
}

static GtkWidget *
new_row (HarkSubscriptionsPage *self,
         gpointer               item,
         Kind                   kind)
{
  g_autoptr(HarkDBusSubscription1) sub = hark_dbus_object_get_subscription1 (item);
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *icon = NULL;
  GtkWidget *button = NULL;
  GCallback update = NULL;

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  g_object_set_data (G_OBJECT (row), "page", self);
  g_object_set_data_full (G_OBJECT (row), "subscription", g_object_ref (sub), g_object_unref);

  if (kind != KIND_OTHER)
    {
      icon = gtk_image_new ();
      adw_action_row_add_prefix (ADW_ACTION_ROW (row), icon);
      g_object_set_data (G_OBJECT (row), "icon", icon);
    }

  switch (kind)
    {
    case KIND_VOICEMAIL:
      button = gtk_button_new_from_icon_name ("call-start-symbolic");
      gtk_widget_set_tooltip_text (button, _("Call Voicemail"));
      gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      _("Call Voicemail"), -1);
      g_signal_connect_swapped (button, "clicked", G_CALLBACK (on_call_voicemail_clicked), row);
      update = G_CALLBACK (update_voicemail_row);
      break;
    case KIND_PRESENCE:
      button = gtk_button_new_from_icon_name ("user-trash-symbolic");
      gtk_widget_set_tooltip_text (button, _("Stop Watching"));
      gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      _("Stop Watching"), -1);
      g_signal_connect_swapped (button, "clicked", G_CALLBACK (on_unsubscribe_clicked), row);
      update = G_CALLBACK (update_presence_row);
      break;
    case KIND_WATCHER:
      {
        GtkWidget *deny = row_button (row, _("_Deny"), G_CALLBACK (on_deny_clicked));
        GtkWidget *allow = row_button (row, _("_Allow"), G_CALLBACK (on_allow_clicked));

        gtk_widget_add_css_class (allow, "suggested-action");
        g_object_set_data (G_OBJECT (row), "allow", allow);
        g_object_set_data (G_OBJECT (row), "deny", deny);
        button = gtk_button_new_with_mnemonic (_("_Stop Sharing"));
        g_signal_connect_swapped (button, "clicked", G_CALLBACK (on_stop_sharing_clicked), row);
        update = G_CALLBACK (update_watcher_row);
      }
      break;
    case KIND_OTHER:
    default:
      button = gtk_button_new_with_mnemonic (_("_Unsubscribe"));
      g_signal_connect_swapped (button, "clicked", G_CALLBACK (on_unsubscribe_clicked), row);
      update = G_CALLBACK (update_other_row);
      break;
    }

  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (button, "flat");
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);
  g_object_set_data (G_OBJECT (row), "button", button);
  hark_fix_button_names (row);

  g_signal_connect_object (sub, "g-properties-changed", update, row, G_CONNECT_SWAPPED);
  ((void (*) (GtkWidget *)) update) (row);

  return row;
}

static GtkWidget *
create_voicemail_row (gpointer item,
                      gpointer user_data)
{
  return new_row (user_data, item, KIND_VOICEMAIL);
}

static GtkWidget *
create_presence_row (gpointer item,
                     gpointer user_data)
{
  return new_row (user_data, item, KIND_PRESENCE);
}

static GtkWidget *
create_watcher_row (gpointer item,
                    gpointer user_data)
{
  return new_row (user_data, item, KIND_WATCHER);
}

static void
on_watchers_changed (HarkSubscriptionsPage *self)
{
  gtk_widget_set_visible (self->watchers_group, g_list_model_get_n_items (self->watchers) > 0);
}

static GtkWidget *
create_other_row (gpointer item,
                  gpointer user_data)
{
  return new_row (user_data, item, KIND_OTHER);
}

static void
on_others_changed (HarkSubscriptionsPage *self)
{
  gtk_widget_set_visible (self->others_group, g_list_model_get_n_items (self->others) > 0);
}

static void
subscribe_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(HarkSubscriptionsPage) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;

  if (!hark_dbus_manager1_call_subscribe_finish (HARK_DBUS_MANAGER1 (source), &path, result,
                                                 &error))
    {
      hark_show_error (GTK_WIDGET (self), _("Could not watch"), error);
      return;
    }

  gtk_editable_set_text (GTK_EDITABLE (self->watch_row), "");
}

static void
on_watch_row_apply (HarkSubscriptionsPage *self)
{
  HarkDBusManager1 *manager = self->client ? hark_client_get_manager (self->client) : NULL;
  g_autofree char *uri = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->watch_row))));

  if (manager == NULL || *uri == '\0')
    return;

  hark_dbus_manager1_call_subscribe (manager, "/", uri, "presence", g_variant_new ("a{sv}", NULL),
                                     NULL, subscribe_cb, g_object_ref (self));
}

static void
on_presence_changed (HarkSubscriptionsPage *self)
{
  GListModel *profiles;
  const char *basic = gtk_switch_get_active (self->available_switch) ? "open" : "closed";
  g_autofree char *note = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->note_row))));
  guint n;

  if (self->client == NULL)
    return;

  profiles = hark_client_get_profiles (self->client);
  n = g_list_model_get_n_items (profiles);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(HarkDBusObject) object = g_list_model_get_item (profiles, i);
      g_autoptr(HarkDBusProfile1) profile = hark_dbus_object_get_profile1 (object);

      if (profile != NULL)
        g_dbus_proxy_call (G_DBUS_PROXY (profile), "SetPresence",
                           g_variant_new ("(ss)", basic, note), G_DBUS_CALL_FLAGS_NONE, -1, NULL,
                           method_cb, g_object_ref (self));
    }
}

static GtkWidget *
placeholder (const char *text)
{
  GtkWidget *label = gtk_label_new (text);

  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_justify (GTK_LABEL (label), GTK_JUSTIFY_CENTER);
  gtk_widget_set_margin_top (label, 18);
  gtk_widget_set_margin_bottom (label, 18);
  gtk_widget_set_margin_start (label, 12);
  gtk_widget_set_margin_end (label, 12);
  gtk_widget_add_css_class (label, "dim-label");

  return label;
}

static void
hark_subscriptions_page_dispose (GObject *object)
{
  HarkSubscriptionsPage *self = HARK_SUBSCRIPTIONS_PAGE (object);

  gtk_widget_dispose_template (GTK_WIDGET (self), HARK_TYPE_SUBSCRIPTIONS_PAGE);
  g_clear_object (&self->voicemail);
  g_clear_object (&self->presence);
  g_clear_object (&self->watchers);
  g_clear_object (&self->others);
  g_clear_object (&self->client);

  G_OBJECT_CLASS (hark_subscriptions_page_parent_class)->dispose (object);
}

static void
hark_subscriptions_page_get_property (GObject    *object,
                                      guint       prop_id,
                                      GValue     *value,
                                      GParamSpec *pspec)
{
  HarkSubscriptionsPage *self = HARK_SUBSCRIPTIONS_PAGE (object);

  switch (prop_id)
    {
    case PROP_NEW_MESSAGES:
      g_value_set_uint (value, self->new_messages);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hark_subscriptions_page_class_init (HarkSubscriptionsPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = hark_subscriptions_page_dispose;
  object_class->get_property = hark_subscriptions_page_get_property;

  /**
   * HarkSubscriptionsPage:new-messages:
   *
   * New voicemail messages over every profile (1 for a "yes" without counts).
   */
  properties[PROP_NEW_MESSAGES] =
    g_param_spec_uint ("new-messages", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/hark/Hark/hark-subscriptions-page.ui");
  gtk_widget_class_bind_template_child (widget_class, HarkSubscriptionsPage, voicemail_list);
  gtk_widget_class_bind_template_child (widget_class, HarkSubscriptionsPage, presence_list);
  gtk_widget_class_bind_template_child (widget_class, HarkSubscriptionsPage, watchers_list);
  gtk_widget_class_bind_template_child (widget_class, HarkSubscriptionsPage, others_list);
  gtk_widget_class_bind_template_child (widget_class, HarkSubscriptionsPage, watch_row);
  gtk_widget_class_bind_template_child (widget_class, HarkSubscriptionsPage, available_switch);
  gtk_widget_class_bind_template_child (widget_class, HarkSubscriptionsPage, note_row);
  gtk_widget_class_bind_template_child (widget_class, HarkSubscriptionsPage, watchers_group);
  gtk_widget_class_bind_template_child (widget_class, HarkSubscriptionsPage, others_group);
  gtk_widget_class_bind_template_callback (widget_class, on_watch_row_apply);
  gtk_widget_class_bind_template_callback (widget_class, on_presence_changed);
}

static void
hark_subscriptions_page_init (HarkSubscriptionsPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  gtk_list_box_set_placeholder (self->voicemail_list,
                                placeholder (_("No voicemail box has reported yet. Profiles "
                                               "subscribe to theirs once registered.")));
  gtk_list_box_set_placeholder (self->presence_list,
                                placeholder (_("You are not watching anyone.")));
}

static GListModel *
filtered (GListModel *model,
          Kind        kind)
{
  GtkCustomFilter *filter = gtk_custom_filter_new (filter_kind, GINT_TO_POINTER (kind), NULL);

  return G_LIST_MODEL (gtk_filter_list_model_new (g_object_ref (model), GTK_FILTER (filter)));
}

void
hark_subscriptions_page_set_client (HarkSubscriptionsPage *self,
                                    HarkClient            *client)
{
  GListModel *subscriptions;

  g_return_if_fail (HARK_IS_SUBSCRIPTIONS_PAGE (self));
  g_return_if_fail (HARK_IS_CLIENT (client));
  g_return_if_fail (self->client == NULL);

  self->client = g_object_ref (client);
  subscriptions = hark_client_get_subscriptions (client);
  self->voicemail = filtered (subscriptions, KIND_VOICEMAIL);
  self->presence = filtered (subscriptions, KIND_PRESENCE);
  self->watchers = filtered (subscriptions, KIND_WATCHER);
  self->others = filtered (subscriptions, KIND_OTHER);

  gtk_list_box_bind_model (self->voicemail_list, self->voicemail, create_voicemail_row, self, NULL);
  gtk_list_box_bind_model (self->presence_list, self->presence, create_presence_row, self, NULL);
  gtk_list_box_bind_model (self->watchers_list, self->watchers, create_watcher_row, self, NULL);
  gtk_list_box_bind_model (self->others_list, self->others, create_other_row, self, NULL);

  g_signal_connect_object (self->voicemail, "items-changed", G_CALLBACK (update_new_messages),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->others, "items-changed", G_CALLBACK (on_others_changed), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->watchers, "items-changed", G_CALLBACK (on_watchers_changed), self,
                           G_CONNECT_SWAPPED);
  on_watchers_changed (self);
  on_others_changed (self);
}

guint
hark_subscriptions_page_get_new_messages (HarkSubscriptionsPage *self)
{
  g_return_val_if_fail (HARK_IS_SUBSCRIPTIONS_PAGE (self), 0);

  return self->new_messages;
}
