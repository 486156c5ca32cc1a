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

/**
 * HarkCallRow:
 *
 * A call: who, its state with a timer and codec, an encryption indicator when
 * the daemon says, and while talking the in-call controls (mute, hold, a DTMF
 * keypad, blind transfer, and the codec, encryption and live MediaStats under
 * "Call Details"). Every control calls the Call1 method of the same
 * name and shows the daemon's error, if any, in a toast.
 */
struct _HarkCallRow
{
  GtkListBoxRow    parent_instance;

  HarkClient      *client;
  HarkDBusCall1   *call;
  char            *last_state;
  GString         *dtmf_sent;
  gint64           active_since;
  guint            timer_id;
  gboolean         updating;

  GtkImage        *direction_icon;
  GtkLabel        *title_label;
  GtkLabel        *subtitle_label;
  GtkImage        *encryption_icon;
  GtkButton       *accept_button;
  GtkButton       *hangup_button;
  GtkWidget       *controls_box;
  GtkToggleButton *mute_button;
  GtkButton       *hold_button;
  GtkMenuButton   *keypad_button;
  GtkLabel        *dtmf_label;
  GtkGrid         *keypad_grid;
  GtkButton       *transfer_button;
  GtkMenuButton   *details_button;
  GtkLabel        *details_label;
};

G_DEFINE_FINAL_TYPE (HarkCallRow, hark_call_row, GTK_TYPE_LIST_BOX_ROW)

static const char *dtmf_keys[] = {
  "1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#",
};

static gboolean
state_is (HarkCallRow *self,
          const char  *state)
{
  return g_strcmp0 (hark_dbus_call1_get_state (self->call), state) == 0;
}

static gboolean
is_incoming (HarkCallRow *self)
{
  return g_strcmp0 (hark_dbus_call1_get_direction (self->call), "incoming") == 0;
}

/* "PCMU/8000" → "PCMU": the clock rate says nothing to a person. */
static char *
codec_name (HarkDBusCall1 *call)
{
  const char *codec = hark_dbus_call1_get_codec (call);
  const char *slash;

  if (codec == NULL || *codec == '\0')
    return NULL;

  slash = strchr (codec, '/');
  return slash != NULL ? g_strndup (codec, slash - codec) : g_strdup (codec);
}

static void
update_subtitle (HarkCallRow *self)
{
  const char *state = hark_dbus_call1_get_state (self->call);
  g_autofree char *words = hark_call_describe (state, hark_dbus_call1_get_state_reason (self->call),
                                               hark_dbus_call1_get_status_code (self->call));
  g_autofree char *codec = codec_name (self->call);
  GString *subtitle = g_string_new (words);

  if (self->active_since != 0 && !state_is (self, "terminated"))
    {
      gint64 seconds = (g_get_monotonic_time () - self->active_since) / G_USEC_PER_SEC;
      g_autofree char *duration = hark_format_duration (seconds);

      /* Translators: a separator between parts of a call's state, e.g. "Active · 01:23" */
      g_string_append_printf (subtitle, _(" · %s"), duration);
      if (codec != NULL)
        g_string_append_printf (subtitle, _(" · %s"), codec);
    }

  gtk_label_set_label (self->subtitle_label, subtitle->str);
  g_string_free (subtitle, TRUE);
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

/* Only when the daemon has an Encrypted property: no property, no indicator. */
static void
update_encryption (HarkCallRow *self,
                   gboolean     talking)
{
  g_autoptr(GVariant) encrypted = NULL;
  gboolean secure;
  const char *words;

  encrypted = g_dbus_proxy_get_cached_property (G_DBUS_PROXY (self->call), "Encrypted");
  if (encrypted == NULL || !g_variant_is_of_type (encrypted, G_VARIANT_TYPE_BOOLEAN) || !talking)
    {
      gtk_widget_set_visible (GTK_WIDGET (self->encryption_icon), FALSE);
      return;
    }

  secure = g_variant_get_boolean (encrypted);
  words = secure ? _("Encrypted") : _("Not encrypted");
  gtk_image_set_from_icon_name (self->encryption_icon,
                                secure ? "channel-secure-symbolic" : "channel-insecure-symbolic");
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->encryption_icon), words);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->encryption_icon),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, words, -1);
  gtk_widget_set_visible (GTK_WIDGET (self->encryption_icon), TRUE);
}

/* A number from MediaStats, whatever its integer or double type; FALSE when absent. */
static gboolean
lookup_number (GVariant   *stats,
               const char *key,
               double     *out)
{
  g_autoptr(GVariant) value = g_variant_lookup_value (stats, key, NULL);

  if (value == NULL)
    return FALSE;
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_DOUBLE))
    *out = g_variant_get_double (value);
  else if (g_variant_is_of_type (value, G_VARIANT_TYPE_UINT64))
    *out = g_variant_get_uint64 (value);
  else if (g_variant_is_of_type (value, G_VARIANT_TYPE_INT64))
    *out = g_variant_get_int64 (value);
  else if (g_variant_is_of_type (value, G_VARIANT_TYPE_UINT32))
    *out = g_variant_get_uint32 (value);
  else if (g_variant_is_of_type (value, G_VARIANT_TYPE_INT32))
    *out = g_variant_get_int32 (value);
  else
    return FALSE;
  return TRUE;
}

/* "Call Details": codec, encryption and the daemon's MediaStats (a{sv}), which
 * it updates about once a second while the audio runs. */
static void
update_details (HarkCallRow *self)
{
  g_autoptr(GVariant) stats = NULL;
  g_autoptr(GVariant) encrypted = NULL;
  const char *codec = hark_dbus_call1_get_codec (self->call);
  GString *text = g_string_new (NULL);
  double sent = 0, received = 0, lost = 0, loss = 0, jitter = 0, rtt = 0, playout = 0;
  gboolean fec = FALSE;

  const char *media_error = hark_dbus_call1_get_media_error (self->call);

  g_string_append_printf (text, _("Codec: %s"),
                          codec != NULL && *codec != '\0' ? codec : _("not negotiated yet"));
  g_string_append_c (text, '\n');

  /* The call goes on without its audio: say why, rather than a silent call */
  if (media_error != NULL && *media_error != '\0')
    {
      /* Translators: %s is the daemon's reason, e.g. a missing GStreamer element */
      g_string_append_printf (text, _("No audio: %s"), media_error);
      g_string_append_c (text, '\n');
    }

  encrypted = g_dbus_proxy_get_cached_property (G_DBUS_PROXY (self->call), "Encrypted");
  if (encrypted != NULL && g_variant_is_of_type (encrypted, G_VARIANT_TYPE_BOOLEAN))
    {
      g_string_append (text, g_variant_get_boolean (encrypted) ? _("Audio encrypted (SRTP)")
                                                               : _("Audio not encrypted"));
      g_string_append_c (text, '\n');
    }

  stats = g_dbus_proxy_get_cached_property (G_DBUS_PROXY (self->call), "MediaStats");
  if (stats == NULL || !g_variant_is_of_type (stats, G_VARIANT_TYPE_VARDICT) ||
      g_variant_n_children (stats) == 0)
    g_string_append (text, _("No statistics yet"));
  else
    {
      if (lookup_number (stats, "packets-sent", &sent))
        g_string_append_printf (text, _("Packets sent: %.0f\n"), sent);
      if (lookup_number (stats, "packets-received", &received))
        g_string_append_printf (text, _("Packets received: %.0f\n"), received);
      if (lookup_number (stats, "packets-lost", &lost))
        {
          lookup_number (stats, "loss-percent", &loss);
          /* Translators: packets lost and the share of them, e.g. "Lost: 3 (0.5 %)" */
          g_string_append_printf (text, _("Lost: %.0f (%.1f %%)\n"), lost, loss);
        }
      if (lookup_number (stats, "jitter-ms", &jitter))
        g_string_append_printf (text, _("Jitter: %.1f ms\n"), jitter);
      if (lookup_number (stats, "rtt-ms", &rtt))
        g_string_append_printf (text, _("Round trip: %.0f ms\n"), rtt);
      if (lookup_number (stats, "playout-delay-ms", &playout))
        g_string_append_printf (text, _("Jitter buffer: %.0f ms\n"), playout);
      if (g_variant_lookup (stats, "fec", "b", &fec) && fec)
        g_string_append (text, _("Recovering lost packets (Opus FEC)\n"));
      if (text->len > 0 && text->str[text->len - 1] == '\n')
        g_string_truncate (text, text->len - 1);
    }

  gtk_label_set_label (self->details_label, text->str);
  g_string_free (text, TRUE);
}

/* A call that ends for a reason worth telling says so in a toast too: the row
 * itself leaves with the call object a few seconds later. */
static void
announce_end (HarkCallRow *self)
{
  const char *reason = hark_dbus_call1_get_state_reason (self->call);
  const char *words;
  const char *name = hark_dbus_call1_get_remote_name (self->call);
  const char *who = name != NULL && *name != '\0' ? name : hark_dbus_call1_get_remote_uri (self->call);
  g_autofree char *message = NULL;
  GtkRoot *root;

  if (g_strcmp0 (reason, "local-hangup") == 0 || g_strcmp0 (reason, "remote-hangup") == 0 ||
      g_strcmp0 (reason, "answered") == 0)
    return;

  /* Declining an incoming call ourselves needs no news. */
  if (is_incoming (self) && (g_strcmp0 (reason, "declined") == 0 ||
                             g_strcmp0 (reason, "rejected") == 0 ||
                             g_strcmp0 (reason, "busy") == 0))
    return;

  words = hark_call_reason_to_string (reason);
  if (words == NULL)
    return;

  root = gtk_widget_get_root (GTK_WIDGET (self));
  if (!HARK_IS_WINDOW (root))
    return;

  /* Translators: "Call with sip:bob@example.org ended: Busy" */
  message = g_strdup_printf (_("Call with %s ended: %s"), who, words);
  hark_window_add_toast (HARK_WINDOW (root), message);
}

static void
update (HarkCallRow *self)
{
  const char *name = hark_dbus_call1_get_remote_name (self->call);
  const char *uri = hark_dbus_call1_get_remote_uri (self->call);
  const char *state = hark_dbus_call1_get_state (self->call);
  gboolean incoming = is_incoming (self);
  gboolean ringing_in = incoming && state_is (self, "ringing");
  gboolean talking = state_is (self, "active") || state_is (self, "held");
  gboolean ended = state_is (self, "terminated") || state_is (self, "terminating");
  gboolean held = state_is (self, "held");
  const char *hold_label = held ? _("Resume") : _("Hold");
  const char *hangup_label = ringing_in ? _("Decline") : _("Hang Up");
  const char *title = name != NULL && *name != '\0' ? name : uri;

  self->updating = TRUE;

  gtk_label_set_label (self->title_label, title);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->title_label), uri);
  gtk_image_set_from_icon_name (self->direction_icon,
                                incoming ? "call-incoming-symbolic" : "call-outgoing-symbolic");

  gtk_widget_set_visible (GTK_WIDGET (self->accept_button), ringing_in);
  gtk_widget_set_visible (GTK_WIDGET (self->hangup_button), !ended);
  gtk_widget_set_visible (self->controls_box, talking);
  if (!talking)
    gtk_menu_button_popdown (self->keypad_button);

  gtk_toggle_button_set_active (self->mute_button, hark_dbus_call1_get_muted (self->call));
  gtk_button_set_icon_name (self->hold_button,
                            held ? "media-playback-start-symbolic" : "media-playback-pause-symbolic");
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->hold_button), hold_label);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->hold_button),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, hold_label, -1);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->hangup_button),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, hangup_label, -1);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->hangup_button), hangup_label);
  /* Holding a call keeps it; the keypad and transfer need it talking. */
  gtk_widget_set_sensitive (GTK_WIDGET (self->keypad_button), !held);

  update_encryption (self, talking);
  update_details (self);
  if (!talking)
    gtk_menu_button_popdown (self->details_button);
  update_timer (self);
  update_subtitle (self);

  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL, title, -1);

  if (g_strcmp0 (state, self->last_state) != 0)
    {
      if (g_strcmp0 (state, "terminated") == 0 && self->last_state != NULL)
        announce_end (self);
      g_free (self->last_state);
      self->last_state = g_strdup (state);
    }

  self->updating = FALSE;
}

typedef struct {
  GtkWidget  *widget;
  const char *what;
} MethodData;

static void
method_data_free (MethodData *data)
{
  g_object_unref (data->widget);
  g_free (data);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MethodData, method_data_free)

static void
method_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(MethodData) data = user_data;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;

  reply = g_dbus_proxy_call_finish (G_DBUS_PROXY (source), result, &error);
  if (reply == NULL)
    hark_show_error (data->widget, data->what, error);
}

/* @what: (nullable): what failed, in words (a static, translated string), for the toast */
static void
call_method (HarkCallRow *self,
             const char  *method,
             GVariant    *parameters,
             const char  *what)
{
  MethodData *data = g_new0 (MethodData, 1);

  data->widget = g_object_ref (GTK_WIDGET (self));
  data->what = what;
  g_dbus_proxy_call (G_DBUS_PROXY (self->call), method, parameters, G_DBUS_CALL_FLAGS_NONE, -1,
                     NULL, method_cb, data);
}

static void
on_mute_toggled (HarkCallRow *self)
{
  if (self->updating)
    return;

  call_method (self, "SetMuted", g_variant_new ("(b)", gtk_toggle_button_get_active (self->mute_button)),
               _("Could not mute"));
}

static void
hold_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  HarkCallRow *self = HARK_CALL_ROW (widget);
  gboolean held = state_is (self, "held");

  call_method (self, held ? "Resume" : "Hold", NULL,
               held ? _("Could not resume the call") : _("Could not hold the call"));
}

static void
accept_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GtkWidget) widget = user_data;
  g_autoptr(GError) error = NULL;

  if (!hark_client_accept_call_finish (HARK_CLIENT (source), result, &error))
    hark_show_error (widget, _("Could not accept the call"), error);
}

static void
accept_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  HarkCallRow *self = HARK_CALL_ROW (widget);

  /* Another call that is talking goes on hold first, as with "Hold and Accept". */
  hark_client_accept_call (self->client, self->call, TRUE, NULL, accept_cb, g_object_ref (self));
}

static void
hangup_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  HarkCallRow *self = HARK_CALL_ROW (widget);

  if (is_incoming (self) && state_is (self, "ringing"))
    call_method (self, "Reject", g_variant_new ("(ua{sv})", 603, NULL), _("Could not decline"));
  else
    call_method (self, "Hangup", g_variant_new ("(a{sv})", NULL), _("Could not hang up"));
}

static void
on_dtmf_key_clicked (HarkCallRow *self,
                     GtkButton   *button)
{
  const char *digit = gtk_button_get_label (button);

  g_string_append (self->dtmf_sent, digit);
  gtk_label_set_label (self->dtmf_label, self->dtmf_sent->str);
  call_method (self, "SendDtmf", g_variant_new ("(s)", digit), _("Could not send the tone"));
}

static void
on_transfer_response (AdwMessageDialog *dialog,
                      const char       *response,
                      HarkCallRow      *self)
{
  GtkEditable *entry = g_object_get_data (G_OBJECT (dialog), "entry");
  g_autofree char *uri = NULL;

  if (g_strcmp0 (response, "transfer") != 0)
    return;

  uri = g_strstrip (g_strdup (gtk_editable_get_text (entry)));
  call_method (self, "Transfer", g_variant_new ("(s)", uri), _("Could not transfer the call"));
}

static void
on_transfer_entry_changed (GtkEditable      *entry,
                           AdwMessageDialog *dialog)
{
  g_autofree char *text = g_strstrip (g_strdup (gtk_editable_get_text (entry)));

  adw_message_dialog_set_response_enabled (dialog, "transfer", *text != '\0');
}

static void
transfer_action (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *parameter)
{
  HarkCallRow *self = HARK_CALL_ROW (widget);
  const char *name = hark_dbus_call1_get_remote_name (self->call);
  const char *who = name != NULL && *name != '\0' ? name : hark_dbus_call1_get_remote_uri (self->call);
  GtkWidget *dialog;
  GtkWidget *entry;

  dialog = adw_message_dialog_new (GTK_WINDOW (gtk_widget_get_root (widget)),
                                   _("Transfer Call"), NULL);
  gtk_window_set_title (GTK_WINDOW (dialog), _("Transfer Call"));
  /* Translators: %s is the other party of the call */
  adw_message_dialog_format_body (ADW_MESSAGE_DIALOG (dialog),
                                  _("Whom should %s talk to instead? Your part in the call ends "
                                    "when the transfer is under way."), who);

  entry = gtk_entry_new ();
  gtk_entry_set_placeholder_text (GTK_ENTRY (entry), _("Number or SIP address"));
  gtk_entry_set_input_purpose (GTK_ENTRY (entry), GTK_INPUT_PURPOSE_URL);
  gtk_entry_set_activates_default (GTK_ENTRY (entry), TRUE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (entry), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Transfer To"), -1);
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), entry);

  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "transfer", _("_Transfer"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "transfer",
                                              ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_response_enabled (ADW_MESSAGE_DIALOG (dialog), "transfer", FALSE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "transfer");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");

  hark_fix_button_names (dialog);
  g_object_set_data (G_OBJECT (dialog), "entry", entry);
  g_signal_connect (entry, "changed", G_CALLBACK (on_transfer_entry_changed), dialog);
  g_signal_connect_object (dialog, "response", G_CALLBACK (on_transfer_response), self, 0);
  /* The dialog has nothing to transfer once the call is over. */
  g_signal_connect_object (self, "destroy", G_CALLBACK (gtk_window_destroy), dialog,
                           G_CONNECT_SWAPPED);

  gtk_window_present (GTK_WINDOW (dialog));
}

static void
hark_call_row_dispose (GObject *object)
{
  HarkCallRow *self = HARK_CALL_ROW (object);

  g_clear_handle_id (&self->timer_id, g_source_remove);
  gtk_widget_dispose_template (GTK_WIDGET (self), HARK_TYPE_CALL_ROW);
  g_clear_object (&self->call);
  g_clear_object (&self->client);

  G_OBJECT_CLASS (hark_call_row_parent_class)->dispose (object);
}

static void
hark_call_row_finalize (GObject *object)
{
  HarkCallRow *self = HARK_CALL_ROW (object);

  g_free (self->last_state);
  g_string_free (self->dtmf_sent, TRUE);

  G_OBJECT_CLASS (hark_call_row_parent_class)->finalize (object);
}

static void
hark_call_row_class_init (HarkCallRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = hark_call_row_dispose;
  object_class->finalize = hark_call_row_finalize;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/hark/Hark/hark-call-row.ui");
  gtk_widget_class_bind_template_child (widget_class, HarkCallRow, direction_icon);
  gtk_widget_class_bind_template_child (widget_class, HarkCallRow, title_label);
  gtk_widget_class_bind_template_child (widget_class, HarkCallRow, subtitle_label);
  gtk_widget_class_bind_template_child (widget_class, HarkCallRow, encryption_icon);
  gtk_widget_class_bind_template_child (widget_class, HarkCallRow, accept_button);
  gtk_widget_class_bind_template_child (widget_class, HarkCallRow, hangup_button);
  gtk_widget_class_bind_template_child (widget_class, HarkCallRow, controls_box);
  gtk_widget_class_bind_template_child (widget_class, HarkCallRow, mute_button);
  gtk_widget_class_bind_template_child (widget_class, HarkCallRow, hold_button);
  gtk_widget_class_bind_template_child (widget_class, HarkCallRow, keypad_button);
  gtk_widget_class_bind_template_child (widget_class, HarkCallRow, dtmf_label);
  gtk_widget_class_bind_template_child (widget_class, HarkCallRow, keypad_grid);
  gtk_widget_class_bind_template_child (widget_class, HarkCallRow, transfer_button);
  gtk_widget_class_bind_template_child (widget_class, HarkCallRow, details_button);
  gtk_widget_class_bind_template_child (widget_class, HarkCallRow, details_label);
  gtk_widget_class_bind_template_callback (widget_class, on_mute_toggled);

  gtk_widget_class_install_action (widget_class, "call.hold", NULL, hold_action);
  gtk_widget_class_install_action (widget_class, "call.accept", NULL, accept_action);
  gtk_widget_class_install_action (widget_class, "call.hangup", NULL, hangup_action);
  gtk_widget_class_install_action (widget_class, "call.transfer", NULL, transfer_action);
}

static void
hark_call_row_init (HarkCallRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->dtmf_sent = g_string_new (NULL);

  for (guint i = 0; i < G_N_ELEMENTS (dtmf_keys); i++)
    {
      GtkWidget *button = gtk_button_new_with_label (dtmf_keys[i]);

      gtk_widget_add_css_class (button, "circular");
      gtk_widget_add_css_class (button, "dtmf-key");
      g_signal_connect_object (button, "clicked", G_CALLBACK (on_dtmf_key_clicked), self,
                               G_CONNECT_SWAPPED);
      gtk_grid_attach (self->keypad_grid, button, i % 3, i / 3, 1, 1);
    }

  hark_fix_button_names (GTK_WIDGET (self));
}

GtkWidget *
hark_call_row_new (HarkClient     *client,
                   HarkDBusObject *object)
{
  HarkCallRow *self;

  g_return_val_if_fail (HARK_IS_CLIENT (client), NULL);
  g_return_val_if_fail (HARK_DBUS_IS_OBJECT (object), NULL);

  self = g_object_new (HARK_TYPE_CALL_ROW, NULL);
  self->client = g_object_ref (client);
  self->call = hark_dbus_object_get_call1 (object);
  g_signal_connect_object (self->call, "g-properties-changed", G_CALLBACK (update), self,
                           G_CONNECT_SWAPPED);
  update (self);

  return GTK_WIDGET (self);
}
