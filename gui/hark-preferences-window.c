/* hark-preferences-window.c: the app's settings
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "hark"

#include "config.h"

#include <glib/gi18n.h>

#include "hark-preferences-window.h"
#include "hark-window.h"

/**
 * HarkPreferencesWindow:
 *
 * Ringing and the audio elements of calls, straight from and to GSettings
 * (hark-daemon reads the audio keys when it builds a call's pipeline).
 */
struct _HarkPreferencesWindow
{
  AdwPreferencesWindow  parent_instance;

  GSettings            *settings;
  GtkFileChooserNative *chooser;

  AdwActionRow         *ringtone_row;
  GtkButton            *ringtone_reset_button;
  GtkSwitch            *ring_switch;
  AdwEntryRow          *source_row;
  AdwEntryRow          *sink_row;
  GtkSwitch            *echo_switch;
  GtkSpinButton        *jitter_spin;
  GtkSpinButton        *rtp_timeout_spin;
};

G_DEFINE_FINAL_TYPE (HarkPreferencesWindow, hark_preferences_window, ADW_TYPE_PREFERENCES_WINDOW)

static void
update_ringtone_row (HarkPreferencesWindow *self)
{
  g_autofree char *ringtone = g_settings_get_string (self->settings, "ringtone");
  g_autofree char *name = NULL;

  if (*ringtone != '\0')
    {
      g_autoptr(GFile) file = g_str_has_prefix (ringtone, "file:") ? g_file_new_for_uri (ringtone)
                                                                   : g_file_new_for_path (ringtone);

      name = g_file_get_basename (file);
    }

  adw_action_row_set_subtitle (self->ringtone_row, name != NULL ? name : _("Default"));
  gtk_widget_set_visible (GTK_WIDGET (self->ringtone_reset_button), name != NULL);
  gtk_widget_set_sensitive (GTK_WIDGET (self->ringtone_row),
                            g_settings_get_boolean (self->settings, "ring-enabled"));
}

static void
apply_entry (HarkPreferencesWindow *self,
             AdwEntryRow           *row,
             const char            *key)
{
  g_autofree char *text = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (row))));

  if (*text == '\0')
    {
      /* Empty means "the default", not "no element". */
      g_settings_reset (self->settings, key);
      g_free (text);
      text = g_settings_get_string (self->settings, key);
      gtk_editable_set_text (GTK_EDITABLE (row), text);
      return;
    }

  g_settings_set_string (self->settings, key, text);
}

static void
on_source_row_apply (HarkPreferencesWindow *self)
{
  apply_entry (self, self->source_row, "audio-source");
}

static void
on_sink_row_apply (HarkPreferencesWindow *self)
{
  apply_entry (self, self->sink_row, "audio-sink");
}

/* The key is a uint32, the spin button's value a double: GSettings maps neither way. */
static gboolean
uint_to_double (GValue   *value,
                GVariant *variant,
                gpointer  user_data)
{
  g_value_set_double (value, g_variant_get_uint32 (variant));
  return TRUE;
}

static GVariant *
double_to_uint (const GValue       *value,
                const GVariantType *expected_type,
                gpointer            user_data)
{
  return g_variant_new_uint32 ((guint32) CLAMP (g_value_get_double (value), 0, G_MAXUINT32));
}

static void
on_chooser_response (HarkPreferencesWindow *self,
                     int                    response,
                     GtkNativeDialog       *chooser)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
      g_autofree char *path = file != NULL ? g_file_get_path (file) : NULL;

      if (path != NULL)
        g_settings_set_string (self->settings, "ringtone", path);
    }

  g_clear_object (&self->chooser);
}

static void
choose_ringtone_action (GtkWidget  *widget,
                        const char *action_name,
                        GVariant   *parameter)
{
  HarkPreferencesWindow *self = HARK_PREFERENCES_WINDOW (widget);
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();

  if (self->chooser != NULL)
    return;

  gtk_file_filter_set_name (filter, _("Sounds"));
  gtk_file_filter_add_mime_type (filter, "audio/*");

  self->chooser = gtk_file_chooser_native_new (_("Choose a Ringtone"), GTK_WINDOW (self),
                                               GTK_FILE_CHOOSER_ACTION_OPEN, _("_Choose"),
                                               _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (self->chooser), TRUE);
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->chooser), filter);
  g_signal_connect_object (self->chooser, "response", G_CALLBACK (on_chooser_response), self,
                           G_CONNECT_SWAPPED);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

static void
reset_ringtone_action (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *parameter)
{
  g_settings_reset (HARK_PREFERENCES_WINDOW (widget)->settings, "ringtone");
}

static void
hark_preferences_window_dispose (GObject *object)
{
  HarkPreferencesWindow *self = HARK_PREFERENCES_WINDOW (object);

  if (self->chooser != NULL)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
  g_clear_object (&self->chooser);
  gtk_widget_dispose_template (GTK_WIDGET (self), HARK_TYPE_PREFERENCES_WINDOW);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (hark_preferences_window_parent_class)->dispose (object);
}

static void
hark_preferences_window_class_init (HarkPreferencesWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = hark_preferences_window_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/hark/Hark/hark-preferences-window.ui");
  gtk_widget_class_bind_template_child (widget_class, HarkPreferencesWindow, ringtone_row);
  gtk_widget_class_bind_template_child (widget_class, HarkPreferencesWindow,
                                        ringtone_reset_button);
  gtk_widget_class_bind_template_child (widget_class, HarkPreferencesWindow, ring_switch);
  gtk_widget_class_bind_template_child (widget_class, HarkPreferencesWindow, source_row);
  gtk_widget_class_bind_template_child (widget_class, HarkPreferencesWindow, sink_row);
  gtk_widget_class_bind_template_child (widget_class, HarkPreferencesWindow, echo_switch);
  gtk_widget_class_bind_template_child (widget_class, HarkPreferencesWindow, jitter_spin);
  gtk_widget_class_bind_template_child (widget_class, HarkPreferencesWindow, rtp_timeout_spin);
  gtk_widget_class_bind_template_callback (widget_class, on_source_row_apply);
  gtk_widget_class_bind_template_callback (widget_class, on_sink_row_apply);

  gtk_widget_class_install_action (widget_class, "prefs.choose-ringtone", NULL,
                                   choose_ringtone_action);
  gtk_widget_class_install_action (widget_class, "prefs.reset-ringtone", NULL,
                                   reset_ringtone_action);
}

static void
hark_preferences_window_init (HarkPreferencesWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  hark_fix_button_names (GTK_WIDGET (self));
}

GtkWidget *
hark_preferences_window_new (GSettings *settings)
{
  HarkPreferencesWindow *self;
  g_autofree char *source = NULL;
  g_autofree char *sink = NULL;

  g_return_val_if_fail (G_IS_SETTINGS (settings), NULL);

  self = g_object_new (HARK_TYPE_PREFERENCES_WINDOW, NULL);
  self->settings = g_object_ref (settings);

  g_settings_bind (settings, "ring-enabled", self->ring_switch, "active", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "echo-cancellation", self->echo_switch, "active",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind_with_mapping (settings, "jitter-buffer-latency", self->jitter_spin, "value",
                                G_SETTINGS_BIND_DEFAULT, uint_to_double, double_to_uint,
                                NULL, NULL);
  g_settings_bind_with_mapping (settings, "rtp-timeout", self->rtp_timeout_spin, "value",
                                G_SETTINGS_BIND_DEFAULT, uint_to_double, double_to_uint,
                                NULL, NULL);

  source = g_settings_get_string (settings, "audio-source");
  sink = g_settings_get_string (settings, "audio-sink");
  gtk_editable_set_text (GTK_EDITABLE (self->source_row), source);
  gtk_editable_set_text (GTK_EDITABLE (self->sink_row), sink);

  g_signal_connect_object (settings, "changed::ringtone", G_CALLBACK (update_ringtone_row), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (settings, "changed::ring-enabled", G_CALLBACK (update_ringtone_row),
                           self, G_CONNECT_SWAPPED);
  update_ringtone_row (self);

  return GTK_WIDGET (self);
}
