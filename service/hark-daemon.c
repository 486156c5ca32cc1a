/* hark-daemon.c — the bus name, the root object and io.github.hark.Hark.Manager1
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "Hark"

#include "config.h"

#include "hark-call-manager.h"
#include "hark-daemon.h"
#include "hark-dbus-generated.h"
#include "hark-error.h"
#include "hark-paths.h"
#include "hark-profile.h"
#include "hark-profile-store.h"
#include "hark-secret-store.h"
#include "hark-subscription-manager.h"
#include "hark-uri.h"

/* How long SIGTERM waits for registrations to be removed. */
#define SHUTDOWN_TIMEOUT_MS 4000

struct _HarkDaemon
{
  GObject                   parent_instance;

  gboolean                  replace;
  int                       exit_code;
  GMainLoop                *loop;
  GDBusConnection          *connection;
  guint                     owner_id;
  gboolean                  name_acquired;
  gboolean                  quitting;

  GDBusObjectManagerServer *server;
  HarkDBusManager1         *manager;
  HarkSecretStore          *secrets;
  HarkProfileStore         *profiles;
  HarkCallManager          *calls;
  HarkSubscriptionManager  *subscriptions;
  GNetworkMonitor          *network_monitor;
  guint                     pending_shutdowns;
  guint                     shutdown_timeout_id;
};

G_DEFINE_FINAL_TYPE (HarkDaemon, hark_daemon, G_TYPE_OBJECT)

static void
on_default_profile_changed (HarkProfileStore *store,
                            GParamSpec       *pspec,
                            HarkDaemon       *self)
{
  HarkProfile *profile = hark_profile_store_get_default (store);

  hark_dbus_manager1_set_default_profile (self->manager, hark_profile_get_object_path (profile));
}

static void
create_profile_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  GDBusMethodInvocation *invocation = user_data;  /* ours to complete */
  HarkDaemon *self = g_object_get_data (G_OBJECT (invocation), "hark-daemon");
  g_autoptr(HarkProfile) profile = NULL;
  g_autoptr(GError) error = NULL;

  profile = hark_profile_store_create_finish (HARK_PROFILE_STORE (source), result, &error);
  if (profile == NULL)
    {
      g_dbus_method_invocation_return_gerror (invocation, error);
      return;
    }

  hark_dbus_manager1_complete_create_profile (self->manager, invocation,
                                              hark_profile_get_object_path (profile));
  hark_profile_start (profile);
}

static gboolean
handle_create_profile (HarkDBusManager1      *manager,
                       GDBusMethodInvocation *invocation,
                       GVariant              *settings,
                       HarkDaemon            *self)
{
  g_object_set_data (G_OBJECT (invocation), "hark-daemon", self);
  hark_profile_store_create_async (self->profiles, settings, NULL, create_profile_cb,
                                   invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
check_profile_and_uri (HarkDaemon            *self,
                       GDBusMethodInvocation *invocation,
                       const char            *profile_path,
                       const char            *uri)
{
  g_autoptr(GError) error = NULL;

  if (hark_profile_store_lookup (self->profiles, profile_path, &error) == NULL ||
      !hark_uri_check (uri, 0, "Argument “uri”", &error))
    {
      g_dbus_method_invocation_return_gerror (invocation, error);
      return FALSE;
    }
  return TRUE;
}

static gboolean
handle_dial (HarkDBusManager1      *manager,
             GDBusMethodInvocation *invocation,
             const char            *profile_path,
             const char            *uri,
             GVariant              *options,
             HarkDaemon            *self)
{
  hark_call_manager_dial (self->calls, invocation, profile_path, uri, options);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_subscribe (HarkDBusManager1      *manager,
                  GDBusMethodInvocation *invocation,
                  const char            *profile_path,
                  const char            *uri,
                  const char            *event,
                  GVariant              *options,
                  HarkDaemon            *self)
{
  if (check_profile_and_uri (self, invocation, profile_path, uri))
    hark_subscription_manager_subscribe (self->subscriptions, invocation, profile_path, uri, event,
                                         options);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
on_network_changed (GNetworkMonitor *monitor,
                    gboolean         available,
                    HarkDaemon      *self)
{
  GPtrArray *profiles = hark_profile_store_get_profiles (self->profiles);

  g_debug ("Network changed (available: %d)", available);
  for (guint i = 0; i < profiles->len; i++)
    hark_profile_network_changed (g_ptr_array_index (profiles, i));
}

static void
on_name_acquired (GDBusConnection *connection,
                  const char      *name,
                  gpointer         user_data)
{
  HarkDaemon *self = user_data;

  self->name_acquired = TRUE;
  g_debug ("Owning %s", name);
}

static void
on_name_lost (GDBusConnection *connection,
              const char      *name,
              gpointer         user_data)
{
  HarkDaemon *self = user_data;

  if (!self->name_acquired)
    {
      if (connection == NULL)
        g_printerr ("hark-daemon: cannot connect to the session bus\n");
      else
        g_printerr ("hark-daemon: %s is already owned by another hark-daemon; "
                    "stop it first or start this one with --replace\n", name);
      self->exit_code = 1;
      g_main_loop_quit (self->loop);
      return;
    }

  if (connection == NULL || g_dbus_connection_is_closed (connection))
    g_message ("The session bus went away, exiting");
  else
    g_message ("Lost %s (replaced by another hark-daemon), exiting", name);
  hark_daemon_quit (self);
}

static gboolean
export_objects (HarkDaemon  *self,
                GError     **error)
{
  g_autofree char *config_path = NULL;

  self->server = g_dbus_object_manager_server_new (HARK_ROOT_PATH);
  self->manager = hark_dbus_manager1_skeleton_new ();
  hark_dbus_manager1_set_version (self->manager, PACKAGE_VERSION);
  hark_dbus_manager1_set_default_profile (self->manager, "/");
  g_signal_connect (self->manager, "handle-create-profile",
                    G_CALLBACK (handle_create_profile), self);
  g_signal_connect (self->manager, "handle-dial", G_CALLBACK (handle_dial), self);
  g_signal_connect (self->manager, "handle-subscribe", G_CALLBACK (handle_subscribe), self);

  config_path = g_build_filename (g_get_user_config_dir (), "hark", "profiles.conf", NULL);
  self->secrets = hark_secret_store_new ();
  self->profiles = hark_profile_store_new (self->server, self->secrets, config_path);
  g_signal_connect (self->profiles, "notify::default-profile",
                    G_CALLBACK (on_default_profile_changed), self);
  /* Before the profiles start, so the local profile's agent is hooked. */
  self->calls = hark_call_manager_new (self->server, self->manager, self->profiles);
  self->subscriptions = hark_subscription_manager_new (self->server, self->manager,
                                                       self->profiles);
  if (!hark_profile_store_load (self->profiles, error))
    return FALSE;

  g_dbus_object_manager_server_set_connection (self->server, self->connection);
  return g_dbus_interface_skeleton_export (G_DBUS_INTERFACE_SKELETON (self->manager),
                                           self->connection, HARK_ROOT_PATH, error);
}

static void
hark_daemon_dispose (GObject *object)
{
  HarkDaemon *self = (HarkDaemon *) object;

  g_clear_handle_id (&self->owner_id, g_bus_unown_name);
  g_clear_handle_id (&self->shutdown_timeout_id, g_source_remove);
  if (self->network_monitor != NULL)
    g_signal_handlers_disconnect_by_data (self->network_monitor, self);
  if (self->manager != NULL)
    g_dbus_interface_skeleton_unexport (G_DBUS_INTERFACE_SKELETON (self->manager));
  g_clear_object (&self->manager);
  if (self->profiles != NULL)
    g_signal_handlers_disconnect_by_data (self->profiles, self);
  g_clear_object (&self->subscriptions);
  g_clear_object (&self->calls);
  g_clear_object (&self->profiles);
  g_clear_object (&self->secrets);
  g_clear_object (&self->server);
  g_clear_object (&self->connection);
  g_clear_pointer (&self->loop, g_main_loop_unref);

  G_OBJECT_CLASS (hark_daemon_parent_class)->dispose (object);
}

static void
hark_daemon_class_init (HarkDaemonClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = hark_daemon_dispose;
}

static void
hark_daemon_init (HarkDaemon *self)
{
  self->loop = g_main_loop_new (NULL, FALSE);
}

/**
 * hark_daemon_new:
 * @replace: take the bus name over from a running daemon
 */
HarkDaemon *
hark_daemon_new (gboolean replace)
{
  HarkDaemon *self = g_object_new (HARK_TYPE_DAEMON, NULL);

  self->replace = replace;
  return self;
}

/**
 * hark_daemon_run:
 *
 * Exports the objects, owns the bus name and serves until
 * hark_daemon_quit() or the name is lost.
 *
 * Returns: the process exit code
 */
int
hark_daemon_run (HarkDaemon *self)
{
  g_autoptr(GError) error = NULL;
  GBusNameOwnerFlags flags = G_BUS_NAME_OWNER_FLAGS_ALLOW_REPLACEMENT;

  g_return_val_if_fail (HARK_IS_DAEMON (self), 1);

  /* Registered up front so every error that reaches the bus has its name. */
  (void) hark_error_quark ();

  self->connection = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &error);
  if (self->connection == NULL)
    {
      g_printerr ("hark-daemon: cannot connect to the session bus: %s\n", error->message);
      return 1;
    }
  g_dbus_connection_set_exit_on_close (self->connection, FALSE);

  if (!export_objects (self, &error))
    {
      g_printerr ("hark-daemon: %s\n", error->message);
      return 1;
    }

  if (self->replace)
    flags |= G_BUS_NAME_OWNER_FLAGS_REPLACE;
  self->owner_id = g_bus_own_name_on_connection (self->connection, HARK_DAEMON_BUS_NAME, flags,
                                                 on_name_acquired, on_name_lost, self, NULL);

  self->network_monitor = g_network_monitor_get_default ();
  g_signal_connect (self->network_monitor, "network-changed",
                    G_CALLBACK (on_network_changed), self);

  hark_profile_store_start (self->profiles);

  g_main_loop_run (self->loop);
  return self->exit_code;
}

static void
finish_quit (HarkDaemon *self)
{
  g_clear_handle_id (&self->shutdown_timeout_id, g_source_remove);
  g_main_loop_quit (self->loop);
}

static gboolean
on_shutdown_timeout (gpointer user_data)
{
  HarkDaemon *self = user_data;

  self->shutdown_timeout_id = 0;
  g_message ("Registrars did not answer in time; exiting anyway");
  finish_quit (self);
  return G_SOURCE_REMOVE;
}

static void
profile_shut_down_cb (GObject      *source,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  g_autoptr(HarkDaemon) self = user_data;

  hark_profile_shutdown_finish (HARK_PROFILE (source), result, NULL);
  if (--self->pending_shutdowns == 0 && self->quitting)
    finish_quit (self);
}

/**
 * hark_daemon_quit:
 *
 * Unregisters every profile (bounded wait) and leaves the main loop.
 */
void
hark_daemon_quit (HarkDaemon *self)
{
  GPtrArray *profiles;

  g_return_if_fail (HARK_IS_DAEMON (self));

  if (self->quitting)
    return;
  self->quitting = TRUE;

  if (self->profiles == NULL)
    {
      finish_quit (self);
      return;
    }

  profiles = hark_profile_store_get_profiles (self->profiles);
  self->pending_shutdowns = profiles->len;
  self->shutdown_timeout_id = g_timeout_add (SHUTDOWN_TIMEOUT_MS, on_shutdown_timeout, self);
  for (guint i = 0; i < profiles->len; i++)
    hark_profile_shutdown_async (g_ptr_array_index (profiles, i), NULL,
                                 profile_shut_down_cb, g_object_ref (self));
  if (profiles->len == 0)
    finish_quit (self);
}
