/* hark-auth-dialog.c: asks for a password the registrar refused
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "hark"

#include "config.h"

#include <glib/gi18n.h>

#include "hark-auth-dialog.h"
#include "hark-window.h"

static void
authenticate_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GtkWidget) parent = user_data;
  g_autoptr(GError) error = NULL;

  if (!hark_dbus_registration1_call_authenticate_finish (HARK_DBUS_REGISTRATION1 (source), result,
                                                         &error))
    hark_show_error (parent, _("Could not register"), error);
}

static void
on_response (AdwMessageDialog *dialog,
             const char       *response,
             GtkWidget        *parent)
{
  HarkDBusRegistration1 *registration = g_object_get_data (G_OBJECT (dialog), "registration");
  GtkEditable *entry = g_object_get_data (G_OBJECT (dialog), "entry");

  if (g_strcmp0 (response, "register") != 0)
    return;

  /* The password goes to the daemon for this registration only; the app keeps no copy. */
  hark_dbus_registration1_call_authenticate (registration, "", gtk_editable_get_text (entry),
                                             NULL, authenticate_cb, g_object_ref (parent));
  gtk_editable_set_text (entry, "");
}

static void
on_entry_changed (GtkEditable      *entry,
                  AdwMessageDialog *dialog)
{
  adw_message_dialog_set_response_enabled (dialog, "register",
                                           *gtk_editable_get_text (entry) != '\0');
}

/**
 * hark_auth_dialog_present:
 * @parent: the widget asking; the dialog is transient for its window
 *
 * Asks for the password after StateReason "auth-failed", and passes it to
 * Registration1.Authenticate().
 */
void
hark_auth_dialog_present (GtkWidget             *parent,
                          HarkDBusRegistration1 *registration,
                          const char            *profile_name)
{
  GtkWidget *dialog;
  GtkWidget *entry;

  g_return_if_fail (GTK_IS_WIDGET (parent));
  g_return_if_fail (HARK_DBUS_IS_REGISTRATION1 (registration));

  dialog = adw_message_dialog_new (GTK_WINDOW (gtk_widget_get_root (parent)),
                                   _("Password Required"), NULL);
  adw_message_dialog_format_body (ADW_MESSAGE_DIALOG (dialog),
                                  _("The server refused the password of “%s”. Enter the right "
                                    "one to register."), profile_name);
  entry = gtk_password_entry_new ();
  gtk_password_entry_set_show_peek_icon (GTK_PASSWORD_ENTRY (entry), TRUE);
  g_object_set (entry, "activates-default", TRUE, NULL);
  gtk_accessible_update_property (GTK_ACCESSIBLE (entry), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Password"), -1);
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), entry);

  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "register", _("_Register"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "register",
                                              ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_response_enabled (ADW_MESSAGE_DIALOG (dialog), "register", FALSE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "register");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");

  hark_fix_button_names (dialog);
  g_object_set_data_full (G_OBJECT (dialog), "registration", g_object_ref (registration),
                          g_object_unref);
  g_object_set_data (G_OBJECT (dialog), "entry", entry);
  g_signal_connect (entry, "changed", G_CALLBACK (on_entry_changed), dialog);
  g_signal_connect_object (dialog, "response", G_CALLBACK (on_response), parent, 0);

  gtk_window_present (GTK_WINDOW (dialog));
}
