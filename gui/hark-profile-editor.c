/* hark-profile-editor.c: the form that creates or edits a profile
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "hark"

#include "config.h"

#include <glib/gi18n.h>

#include "hark-profile-editor.h"
#include "hark-strings.h"
#include "hark-window.h"

typedef enum {
  FIELD_TEXT,
  FIELD_LIST,
  FIELD_CHOICE,
  FIELD_SWITCH,
  FIELD_UINT,
  FIELD_PASSWORD,
} FieldKind;

typedef struct {
  const char        *key;       /* in CreateProfile()/Update() */
  const char        *property;  /* of HarkDBusProfile1; NULL when write-only */
  FieldKind          kind;
  const char *const *choices;
  const char        *row;       /* template children */
  const char        *control;
} Field;

static const char *const kinds[] = { "ietf", "ims", "other", NULL };
static const char *const transports[] = { "udp", "tcp", "tls", NULL };
static const char *const mechanisms[] = { "none", "digest", "tls", "ipsec-3gpp", NULL };
static const char *const encryptions[] = { "none", "optional", "required", NULL };

static const Field fields[] = {
  { "name", "name", FIELD_TEXT, NULL, "name_row", NULL },
  { "aors", "aors", FIELD_LIST, NULL, "aors_row", NULL },
  { "password", NULL, FIELD_PASSWORD, NULL, "password_row", NULL },
  { "kind", "kind", FIELD_CHOICE, kinds, "kind_row", NULL },
  { "default", "default", FIELD_SWITCH, NULL, "default_row", "default_switch" },
  { "auto-register", "auto-register", FIELD_SWITCH, NULL, "auto_register_row", "auto_register_switch" },
  { "registrar", "registrar", FIELD_TEXT, NULL, "registrar_row", NULL },
  { "outbound-proxy", "outbound-proxy", FIELD_TEXT, NULL, "outbound_proxy_row", NULL },
  { "transport", "transport", FIELD_CHOICE, transports, "transport_row", NULL },
  { "network-interface", "network-interface", FIELD_TEXT, NULL, "network_interface_row", NULL },
  { "ca-file", "ca-file", FIELD_TEXT, NULL, "ca_file_row", NULL },
  { "username", "username", FIELD_TEXT, NULL, "username_row", NULL },
  { "realm", "realm", FIELD_TEXT, NULL, "realm_row", NULL },
  { "private-id", "private-id", FIELD_TEXT, NULL, "private_id_row", NULL },
  { "security-negotiation", "security-negotiation", FIELD_CHOICE, mechanisms,
    "security_negotiation_row", NULL },
  { "sigcomp", "sig-comp", FIELD_SWITCH, NULL, "sigcomp_row", "sigcomp_switch" },
  { "expires", "expires", FIELD_UINT, NULL, "expires_row", "expires_spin" },
  { "media-encryption", "media-encryption", FIELD_CHOICE, encryptions,
    "media_encryption_row", NULL },
  { "mwi-uri", "mwi-uri", FIELD_TEXT, NULL, "mwi_uri_row", NULL },
  { "auto-answer", "auto-answer", FIELD_UINT, NULL, "auto_answer_row", "auto_answer_spin" },
};

struct _HarkProfileEditor
{
  AdwWindow         parent_instance;

  HarkClient       *client;
  HarkDBusProfile1 *profile;     /* NULL when creating */
  GVariant         *initial[G_N_ELEMENTS (fields)];
  GtkWidget        *error_rows[G_N_ELEMENTS (fields)];
  gboolean          saving;

  AdwWindowTitle   *window_title;
  AdwToastOverlay  *toast_overlay;
  GtkWidget        *save_button;
};

G_DEFINE_FINAL_TYPE (HarkProfileEditor, hark_profile_editor, ADW_TYPE_WINDOW)

static GtkWidget *
child (HarkProfileEditor *self,
       const char        *name)
{
  return GTK_WIDGET (gtk_widget_get_template_child (GTK_WIDGET (self), HARK_TYPE_PROFILE_EDITOR, name));
}

static GtkWidget *
control (HarkProfileEditor *self,
         const Field       *field)
{
  return child (self, field->control != NULL ? field->control : field->row);
}

static GVariant *
read_field (HarkProfileEditor *self,
            const Field       *field)
{
  GtkWidget *widget = control (self, field);
  g_autofree char *text = NULL;

  switch (field->kind)
    {
    case FIELD_TEXT:
    case FIELD_PASSWORD:
      text = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (widget))));
      return g_variant_new_string (text);
    case FIELD_LIST:
      {
        g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func (g_free);
        g_auto(GStrv) parts = g_regex_split_simple ("[\\s,]+", gtk_editable_get_text (GTK_EDITABLE (widget)),
                                                    0, 0);

        for (guint i = 0; parts[i] != NULL; i++)
          if (*parts[i] != '\0')
            g_ptr_array_add (list, g_strdup (parts[i]));
        g_ptr_array_add (list, NULL);
        return g_variant_new_strv ((const char *const *) list->pdata, -1);
      }
    case FIELD_CHOICE:
      return g_variant_new_string (field->choices[adw_combo_row_get_selected (ADW_COMBO_ROW (widget))]);
    case FIELD_SWITCH:
      return g_variant_new_boolean (gtk_switch_get_active (GTK_SWITCH (widget)));
    case FIELD_UINT:
      return g_variant_new_uint32 (gtk_spin_button_get_value_as_int (GTK_SPIN_BUTTON (widget)));
    default:
      g_assert_not_reached ();
    }
}

static void
load_field (HarkProfileEditor *self,
            const Field       *field)
{
  GtkWidget *widget = control (self, field);
  g_auto(GValue) value = G_VALUE_INIT;
  GParamSpec *pspec;

  if (field->property == NULL)
    return;

  pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (self->profile), field->property);
  g_return_if_fail (pspec != NULL);
  g_value_init (&value, pspec->value_type);
  g_object_get_property (G_OBJECT (self->profile), field->property, &value);

  switch (field->kind)
    {
    case FIELD_TEXT:
      gtk_editable_set_text (GTK_EDITABLE (widget), g_value_get_string (&value) ?: "");
      break;
    case FIELD_LIST:
      {
        g_autofree char *joined = g_strjoinv (", ", g_value_get_boxed (&value) ?: (char *[]) { NULL });

        gtk_editable_set_text (GTK_EDITABLE (widget), joined);
        break;
      }
    case FIELD_CHOICE:
      {
        const char *id = g_value_get_string (&value);

        for (guint i = 0; field->choices[i] != NULL; i++)
          if (g_strcmp0 (field->choices[i], id) == 0)
            adw_combo_row_set_selected (ADW_COMBO_ROW (widget), i);
        break;
      }
    case FIELD_SWITCH:
      gtk_switch_set_active (GTK_SWITCH (widget), g_value_get_boolean (&value));
      break;
    case FIELD_UINT:
      gtk_spin_button_set_value (GTK_SPIN_BUTTON (widget), g_value_get_uint (&value));
      break;
    case FIELD_PASSWORD:
    default:
      g_assert_not_reached ();
    }
}

static void
clear_errors (HarkProfileEditor *self)
{
  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    {
      gtk_widget_set_visible (self->error_rows[i], FALSE);
      gtk_widget_remove_css_class (child (self, fields[i].row), "error");
      gtk_accessible_reset_state (GTK_ACCESSIBLE (child (self, fields[i].row)),
                                  GTK_ACCESSIBLE_STATE_INVALID);
    }
}

static gboolean
show_field_error (HarkProfileEditor *self,
                  const char        *message)
{
  g_autofree char *rest = NULL;
  g_autofree char *key = hark_error_key (message, &rest);

  for (guint i = 0; key != NULL && i < G_N_ELEMENTS (fields); i++)
    {
      GtkWidget *row = child (self, fields[i].row);
      GtkWidget *label;

      if (g_strcmp0 (fields[i].key, key) != 0)
        continue;

      label = gtk_list_box_row_get_child (GTK_LIST_BOX_ROW (self->error_rows[i]));
      gtk_label_set_text (GTK_LABEL (label), rest);
      gtk_widget_set_visible (self->error_rows[i], TRUE);
      gtk_widget_add_css_class (row, "error");
      gtk_accessible_update_state (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_STATE_INVALID,
                                   GTK_ACCESSIBLE_INVALID_TRUE, -1);
      gtk_widget_grab_focus (row);
      return TRUE;
    }

  return FALSE;
}

static void
save_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(HarkProfileEditor) self = user_data;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;

  self->saving = FALSE;
  gtk_widget_set_sensitive (self->save_button, TRUE);

  reply = g_dbus_proxy_call_finish (G_DBUS_PROXY (source), result, &error);
  if (reply != NULL)
    {
      gtk_window_destroy (GTK_WINDOW (self));
      return;
    }

  g_dbus_error_strip_remote_error (error);
  g_debug ("Saving the profile failed: %s", error->message);
  if (!show_field_error (self, error->message))
    adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (error->message));
}

static GVariant *
collect_settings (HarkProfileEditor *self)
{
  GVariantBuilder settings;

  g_variant_builder_init (&settings, G_VARIANT_TYPE_VARDICT);
  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    {
      g_autoptr(GVariant) value = g_variant_ref_sink (read_field (self, &fields[i]));
      gboolean always = self->profile == NULL && g_str_equal (fields[i].key, "name");

      if (fields[i].kind == FIELD_PASSWORD)
        {
          if (*g_variant_get_string (value, NULL) != '\0')
            g_variant_builder_add (&settings, "{sv}", fields[i].key, value);
        }
      else if (always || !g_variant_equal (value, self->initial[i]))
        g_variant_builder_add (&settings, "{sv}", fields[i].key, value);
    }

  return g_variant_builder_end (&settings);
}

static void
save_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  HarkProfileEditor *self = HARK_PROFILE_EDITOR (widget);
  HarkDBusManager1 *manager = hark_client_get_manager (self->client);
  GDBusProxy *proxy = self->profile ? G_DBUS_PROXY (self->profile) : G_DBUS_PROXY (manager);

  if (self->saving || proxy == NULL)
    return;

  g_debug ("Saving the profile");
  clear_errors (self);
  self->saving = TRUE;
  gtk_widget_set_sensitive (self->save_button, FALSE);

  g_dbus_proxy_call (proxy, self->profile ? "Update" : "CreateProfile",
                     g_variant_new ("(@a{sv})", collect_settings (self)),
                     G_DBUS_CALL_FLAGS_NONE, -1, NULL, save_cb, g_object_ref (self));
}

static void
add_error_rows (HarkProfileEditor *self)
{
  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    {
      GtkWidget *row = child (self, fields[i].row);
      GtkWidget *list = gtk_widget_get_parent (row);
      GtkWidget *error_row = adw_preferences_row_new ();
      GtkWidget *label = gtk_label_new (NULL);

      gtk_label_set_wrap (GTK_LABEL (label), TRUE);
      gtk_label_set_xalign (GTK_LABEL (label), 0.0);
      gtk_widget_add_css_class (label, "error");
      gtk_widget_add_css_class (label, "caption");
      gtk_widget_add_css_class (error_row, "error-row");
      gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (error_row), label);
      gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (error_row), FALSE);
      gtk_widget_set_visible (error_row, FALSE);
      gtk_list_box_insert (GTK_LIST_BOX (list), error_row,
                           gtk_list_box_row_get_index (GTK_LIST_BOX_ROW (row)) + 1);
      gtk_accessible_update_relation (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_RELATION_DESCRIBED_BY,
                                      label, NULL, -1);
      self->error_rows[i] = error_row;
    }
}

static void
hark_profile_editor_dispose (GObject *object)
{
  HarkProfileEditor *self = HARK_PROFILE_EDITOR (object);

  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    g_clear_pointer (&self->initial[i], g_variant_unref);
  g_clear_object (&self->profile);
  g_clear_object (&self->client);
  gtk_widget_dispose_template (GTK_WIDGET (self), HARK_TYPE_PROFILE_EDITOR);

  G_OBJECT_CLASS (hark_profile_editor_parent_class)->dispose (object);
}

static void
hark_profile_editor_class_init (HarkProfileEditorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = hark_profile_editor_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/hark/Hark/hark-profile-editor.ui");
  gtk_widget_class_bind_template_child (widget_class, HarkProfileEditor, window_title);
  gtk_widget_class_bind_template_child (widget_class, HarkProfileEditor, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, HarkProfileEditor, save_button);
  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    {
      gtk_widget_class_bind_template_child_full (widget_class, fields[i].row, FALSE, 0);
      if (fields[i].control != NULL)
        gtk_widget_class_bind_template_child_full (widget_class, fields[i].control, FALSE, 0);
    }

  gtk_widget_class_install_action (widget_class, "editor.save", NULL, save_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_s, GDK_CONTROL_MASK, "editor.save", NULL);
}

static void
hark_profile_editor_init (HarkProfileEditor *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  add_error_rows (self);
  hark_fix_button_names (GTK_WIDGET (self));
}

/**
 * hark_profile_editor_new:
 * @profile: (nullable): the profile to edit, or %NULL for a new one
 *
 * Only the settings that were changed are sent; the password only when typed.
 */
GtkWidget *
hark_profile_editor_new (GtkWindow      *parent,
                         HarkClient     *client,
                         HarkDBusObject *profile)
{
  HarkProfileEditor *self;

  g_return_val_if_fail (HARK_IS_CLIENT (client), NULL);

  self = g_object_new (HARK_TYPE_PROFILE_EDITOR, "transient-for", parent, NULL);
  self->client = g_object_ref (client);
  if (profile != NULL)
    self->profile = hark_dbus_object_get_profile1 (profile);

  gtk_window_set_title (GTK_WINDOW (self), self->profile ? _("Edit Profile") : _("New Profile"));
  adw_window_title_set_title (self->window_title, gtk_window_get_title (GTK_WINDOW (self)));
  if (self->profile != NULL)
    adw_window_title_set_subtitle (self->window_title, hark_dbus_profile1_get_name (self->profile));

  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    {
      if (self->profile != NULL)
        load_field (self, &fields[i]);
      self->initial[i] = g_variant_ref_sink (read_field (self, &fields[i]));
    }

  gtk_window_set_default_widget (GTK_WINDOW (self), self->save_button);
  gtk_widget_grab_focus (child (self, "name_row"));

  return GTK_WIDGET (self);
}
