/* hark-profiles-page.c: the list of profiles
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "hark"

#include "config.h"

#include <glib/gi18n.h>

#include "hark-profile-editor.h"
#include "hark-profile-row.h"
#include "hark-profiles-page.h"

struct _HarkProfilesPage
{
  AdwBin      parent_instance;

  HarkClient *client;

  GtkListBox *profiles_list;
};

G_DEFINE_FINAL_TYPE (HarkProfilesPage, hark_profiles_page, ADW_TYPE_BIN)

static GtkWidget *
create_profile_row (gpointer item,
                    gpointer user_data)
{
  HarkProfilesPage *self = user_data;

  return hark_profile_row_new (self->client, HARK_DBUS_OBJECT (item));
}

static void
add_action (GtkWidget  *widget,
            const char *action_name,
            GVariant   *parameter)
{
  HarkProfilesPage *self = HARK_PROFILES_PAGE (widget);
  GtkWidget *editor;

  editor = hark_profile_editor_new (GTK_WINDOW (gtk_widget_get_root (widget)), self->client, NULL);
  gtk_window_present (GTK_WINDOW (editor));
}

static void
hark_profiles_page_dispose (GObject *object)
{
  HarkProfilesPage *self = HARK_PROFILES_PAGE (object);

  gtk_widget_dispose_template (GTK_WIDGET (self), HARK_TYPE_PROFILES_PAGE);
  g_clear_object (&self->client);

  G_OBJECT_CLASS (hark_profiles_page_parent_class)->dispose (object);
}

static void
hark_profiles_page_class_init (HarkProfilesPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = hark_profiles_page_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/hark/Hark/hark-profiles-page.ui");
  gtk_widget_class_bind_template_child (widget_class, HarkProfilesPage, profiles_list);

  gtk_widget_class_install_action (widget_class, "profiles.add", NULL, add_action);
}

static void
hark_profiles_page_init (HarkProfilesPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

void
hark_profiles_page_set_client (HarkProfilesPage *self,
                               HarkClient       *client)
{
  g_return_if_fail (HARK_IS_PROFILES_PAGE (self));
  g_return_if_fail (HARK_IS_CLIENT (client));
  g_return_if_fail (self->client == NULL);

  self->client = g_object_ref (client);
  gtk_list_box_bind_model (self->profiles_list, hark_client_get_profiles (client),
                           create_profile_row, self, NULL);
}
