/* hark-client.c: the app's view of hark-daemon
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "hark-client"

#include "config.h"

#include <glib/gi18n.h>
#include <gtk/gtk.h>

#include "hark-client.h"

/**
 * HarkClient:
 *
 * Wraps the ObjectManager client of `io.github.hark.Hark.Daemon`. It starts the
 * daemon by D-Bus activation, says why when that fails, and follows the name:
 * when the daemon comes back, its objects come back in the same list models.
 */
struct _HarkClient
{
  GObject             parent_instance;

  GCancellable       *cancellable;
  GDBusConnection    *connection;
  GDBusObjectManager *object_manager;
  HarkDBusManager1   *manager;

  GListStore         *objects;
  GtkFilter          *profile_filter;
  GtkFilter          *call_filter;
  GtkFilter          *subscription_filter;
  GListModel         *profiles;
  GListModel         *calls;
  GListModel         *subscriptions;

  HarkClientState     state;
  char               *error_message;
};

G_DEFINE_FINAL_TYPE (HarkClient, hark_client, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_STATE,
  PROP_ERROR_MESSAGE,
  PROP_MANAGER,
  N_PROPS
};

enum {
  INCOMING_CALL,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void
set_state (HarkClient      *self,
           HarkClientState  state,
           const char      *error_message)
{
  if (g_strcmp0 (self->error_message, error_message) != 0)
    {
      g_free (self->error_message);
      self->error_message = g_strdup (error_message);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ERROR_MESSAGE]);
    }

  if (self->state != state)
    {
      self->state = state;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
    }
}

static void
set_error (HarkClient   *self,
           const GError *error)
{
  g_autoptr(GError) copy = g_error_copy (error);

  g_dbus_error_strip_remote_error (copy);
  set_state (self, HARK_CLIENT_STATE_OFFLINE, copy->message);
}

static guint64
object_path_number (gpointer item)
{
  const char *path = g_dbus_object_get_object_path (G_DBUS_OBJECT (item));
  const char *slash = strrchr (path, '/');

  return g_ascii_strtoull (slash ? slash + 1 : path, NULL, 10);
}

static int
compare_objects (gconstpointer a,
                 gconstpointer b,
                 gpointer      user_data)
{
  guint64 na = object_path_number ((gpointer) a);
  guint64 nb = object_path_number ((gpointer) b);

  return na < nb ? -1 : na > nb;
}

static gboolean
object_has_interface (gpointer item,
                      gpointer user_data)
{
  g_autoptr(GDBusInterface) iface = NULL;

  iface = g_dbus_object_get_interface (G_DBUS_OBJECT (item), user_data);
  return iface != NULL;
}

static GListModel *
filtered_model (HarkClient  *self,
                const char  *interface_name,
                GtkFilter  **filter_out)
{
  GtkCustomFilter *filter;
  GtkCustomSorter *sorter;
  GtkFilterListModel *filtered;

  filter = gtk_custom_filter_new (object_has_interface, (gpointer) interface_name, NULL);
  *filter_out = g_object_ref (GTK_FILTER (filter));
  filtered = gtk_filter_list_model_new (g_object_ref (G_LIST_MODEL (self->objects)),
                                        GTK_FILTER (filter));
  sorter = gtk_custom_sorter_new (compare_objects, NULL, NULL);

  return G_LIST_MODEL (gtk_sort_list_model_new (G_LIST_MODEL (filtered), GTK_SORTER (sorter)));
}

static void
on_manager_incoming_call (HarkClient       *self,
                          const char       *call_path,
                          HarkDBusManager1 *manager)
{
  g_signal_emit (self, signals[INCOMING_CALL], 0, call_path);
}

static void
on_object_added (HarkClient         *self,
                 GDBusObject        *object,
                 GDBusObjectManager *object_manager)
{
  g_list_store_append (self->objects, object);
}

static void
on_object_removed (HarkClient         *self,
                   GDBusObject        *object,
                   GDBusObjectManager *object_manager)
{
  guint position;

  if (g_list_store_find (self->objects, object, &position))
    g_list_store_remove (self->objects, position);
}

static void
on_interfaces_changed (HarkClient *self)
{
  gtk_filter_changed (self->profile_filter, GTK_FILTER_CHANGE_DIFFERENT);
  gtk_filter_changed (self->call_filter, GTK_FILTER_CHANGE_DIFFERENT);
  gtk_filter_changed (self->subscription_filter, GTK_FILTER_CHANGE_DIFFERENT);
}

static void
on_name_owner_changed (HarkClient *self)
{
  g_autofree char *owner = NULL;

  owner = g_dbus_object_manager_client_get_name_owner (
    G_DBUS_OBJECT_MANAGER_CLIENT (self->object_manager));

  if (owner != NULL)
    set_state (self, HARK_CLIENT_STATE_CONNECTED, NULL);
  else if (self->state == HARK_CLIENT_STATE_CONNECTED)
    set_state (self, HARK_CLIENT_STATE_OFFLINE,
               _("The service stopped. Start it again to make and receive calls."));

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MANAGER]);
}

static void
object_manager_ready_cb (GObject      *source,
                         GAsyncResult *result,
                         gpointer      user_data)
{
  g_autoptr(HarkClient) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autolist(GDBusObject) objects = NULL;
  GDBusObjectManager *om;

  om = hark_dbus_object_manager_client_new_finish (result, &error);
  if (om == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        set_error (self, error);
      return;
    }

  self->object_manager = om;
  g_signal_connect_object (om, "object-added", G_CALLBACK (on_object_added), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (om, "object-removed", G_CALLBACK (on_object_removed), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (om, "interface-added", G_CALLBACK (on_interfaces_changed), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (om, "interface-removed", G_CALLBACK (on_interfaces_changed), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (om, "notify::name-owner", G_CALLBACK (on_name_owner_changed), self,
                           G_CONNECT_SWAPPED);

  objects = g_dbus_object_manager_get_objects (om);
  for (GList *l = objects; l != NULL; l = l->next)
    g_list_store_append (self->objects, l->data);

  on_name_owner_changed (self);
  if (self->state != HARK_CLIENT_STATE_CONNECTED)
    hark_client_start_daemon (self);
}

static void manager_ready_cb (GObject      *source,
                              GAsyncResult *result,
                              gpointer      user_data);

static void
bus_ready_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(HarkClient) self = user_data;
  g_autoptr(GError) error = NULL;

  self->connection = g_bus_get_finish (result, &error);
  if (self->connection == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        set_error (self, error);
      return;
    }

  /* Manager1 lives on the root object itself, beside the ObjectManager, not in it.
   * A proxy for the well-known name follows the daemon across restarts. */
  hark_dbus_manager1_proxy_new (self->connection, G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START,
                                HARK_DAEMON_BUS_NAME, HARK_OBJECT_PATH, self->cancellable,
                                manager_ready_cb, g_object_ref (self));
}

static void
manager_ready_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(HarkClient) self = user_data;
  g_autoptr(GError) error = NULL;

  self->manager = hark_dbus_manager1_proxy_new_finish (result, &error);
  if (self->manager == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        set_error (self, error);
      return;
    }

  g_signal_connect_object (self->manager, "incoming-call",
                           G_CALLBACK (on_manager_incoming_call), self, G_CONNECT_SWAPPED);

  hark_dbus_object_manager_client_new (self->connection,
                                       G_DBUS_OBJECT_MANAGER_CLIENT_FLAGS_DO_NOT_AUTO_START,
                                       HARK_DAEMON_BUS_NAME,
                                       HARK_OBJECT_PATH,
                                       self->cancellable,
                                       object_manager_ready_cb,
                                       g_object_ref (self));
}

static void
start_service_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(HarkClient) self = user_data;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  if (reply == NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_message ("Could not start %s: %s", HARK_DAEMON_BUS_NAME, error->message);
      set_error (self, error);
    }
}

static void
hark_client_dispose (GObject *object)
{
  HarkClient *self = HARK_CLIENT (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->manager);
  g_clear_object (&self->object_manager);
  g_clear_object (&self->profiles);
  g_clear_object (&self->calls);
  g_clear_object (&self->subscriptions);
  g_clear_object (&self->profile_filter);
  g_clear_object (&self->call_filter);
  g_clear_object (&self->subscription_filter);
  g_clear_object (&self->objects);
  g_clear_object (&self->connection);
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (hark_client_parent_class)->dispose (object);
}

static void
hark_client_finalize (GObject *object)
{
  HarkClient *self = HARK_CLIENT (object);

  g_free (self->error_message);

  G_OBJECT_CLASS (hark_client_parent_class)->finalize (object);
}

static void
hark_client_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  HarkClient *self = HARK_CLIENT (object);

  switch (prop_id)
    {
    case PROP_STATE:
      g_value_set_int (value, self->state);
      break;
    case PROP_ERROR_MESSAGE:
      g_value_set_string (value, self->error_message);
      break;
    case PROP_MANAGER:
      g_value_set_object (value, self->manager);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hark_client_class_init (HarkClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = hark_client_dispose;
  object_class->finalize = hark_client_finalize;
  object_class->get_property = hark_client_get_property;

  properties[PROP_STATE] =
    g_param_spec_int ("state", NULL, NULL,
                      HARK_CLIENT_STATE_CONNECTING, HARK_CLIENT_STATE_OFFLINE,
                      HARK_CLIENT_STATE_CONNECTING,
                      G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_ERROR_MESSAGE] =
    g_param_spec_string ("error-message", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_MANAGER] =
    g_param_spec_object ("manager", NULL, NULL, HARK_DBUS_TYPE_MANAGER1,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * HarkClient::incoming-call:
   * @call_path: the new Call1 object's path
   */
  signals[INCOMING_CALL] =
    g_signal_new ("incoming-call", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
hark_client_init (HarkClient *self)
{
  self->cancellable = g_cancellable_new ();
  self->objects = g_list_store_new (HARK_DBUS_TYPE_OBJECT_PROXY);
  self->profiles = filtered_model (self, "io.github.hark.Hark.Profile1", &self->profile_filter);
  self->calls = filtered_model (self, "io.github.hark.Hark.Call1", &self->call_filter);
  self->subscriptions = filtered_model (self, "io.github.hark.Hark.Subscription1",
                                        &self->subscription_filter);

  g_bus_get (G_BUS_TYPE_SESSION, self->cancellable, bus_ready_cb, g_object_ref (self));
}

HarkClient *
hark_client_new (void)
{
  return g_object_new (HARK_TYPE_CLIENT, NULL);
}

HarkClientState
hark_client_get_state (HarkClient *self)
{
  g_return_val_if_fail (HARK_IS_CLIENT (self), HARK_CLIENT_STATE_OFFLINE);

  return self->state;
}

/**
 * hark_client_get_error_message:
 *
 * Returns: (nullable): why the daemon is not there, in words
 */
const char *
hark_client_get_error_message (HarkClient *self)
{
  g_return_val_if_fail (HARK_IS_CLIENT (self), NULL);

  return self->error_message;
}

GDBusConnection *
hark_client_get_connection (HarkClient *self)
{
  g_return_val_if_fail (HARK_IS_CLIENT (self), NULL);

  return self->connection;
}

GDBusObjectManager *
hark_client_get_object_manager (HarkClient *self)
{
  g_return_val_if_fail (HARK_IS_CLIENT (self), NULL);

  return self->object_manager;
}

/**
 * hark_client_get_manager:
 *
 * Returns: (nullable) (transfer none): the Manager1 proxy while the daemon runs
 */
HarkDBusManager1 *
hark_client_get_manager (HarkClient *self)
{
  g_return_val_if_fail (HARK_IS_CLIENT (self), NULL);

  return self->state == HARK_CLIENT_STATE_CONNECTED ? self->manager : NULL;
}

/**
 * hark_client_get_profiles:
 *
 * Returns: (transfer none): a list of #HarkDBusObject with a Profile1 interface,
 *   in the order the daemon created them
 */
GListModel *
hark_client_get_profiles (HarkClient *self)
{
  g_return_val_if_fail (HARK_IS_CLIENT (self), NULL);

  return self->profiles;
}

/**
 * hark_client_get_calls:
 *
 * Returns: (transfer none): a list of #HarkDBusObject with a Call1 interface
 */
GListModel *
hark_client_get_calls (HarkClient *self)
{
  g_return_val_if_fail (HARK_IS_CLIENT (self), NULL);

  return self->calls;
}

/**
 * hark_client_get_subscriptions:
 *
 * Returns: (transfer none): a list of #HarkDBusObject with a Subscription1 interface
 */
GListModel *
hark_client_get_subscriptions (HarkClient *self)
{
  g_return_val_if_fail (HARK_IS_CLIENT (self), NULL);

  return self->subscriptions;
}

/**
 * hark_client_lookup:
 *
 * Returns: (nullable) (transfer full): the object at @object_path
 */
HarkDBusObject *
hark_client_lookup (HarkClient *self,
                    const char *object_path)
{
  g_return_val_if_fail (HARK_IS_CLIENT (self), NULL);

  if (self->object_manager == NULL || object_path == NULL || !g_variant_is_object_path (object_path))
    return NULL;

  return HARK_DBUS_OBJECT (g_dbus_object_manager_get_object (self->object_manager, object_path));
}

/**
 * hark_client_start_daemon:
 *
 * Asks the bus to start hark-daemon (D-Bus activation). Success shows as
 * #HarkClient:state becoming connected; failure as offline with the reason.
 */
void
hark_client_start_daemon (HarkClient *self)
{
  g_return_if_fail (HARK_IS_CLIENT (self));

  if (self->connection == NULL)
    return;

  set_state (self, HARK_CLIENT_STATE_CONNECTING, NULL);
  g_dbus_connection_call (self->connection,
                          "org.freedesktop.DBus", "/org/freedesktop/DBus",
                          "org.freedesktop.DBus", "StartServiceByName",
                          g_variant_new ("(su)", HARK_DAEMON_BUS_NAME, 0),
                          G_VARIANT_TYPE ("(u)"), G_DBUS_CALL_FLAGS_NONE, -1,
                          self->cancellable, start_service_cb, g_object_ref (self));
}

static void
call_method_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  if (reply == NULL)
    g_message ("%s failed: %s", (const char *) user_data, error->message);
}

/**
 * hark_client_call_method:
 *
 * Calls a method by path, without a proxy: for notification actions, which may
 * arrive before the object manager knows the object.
 */
void
hark_client_call_method (HarkClient *self,
                         const char *object_path,
                         const char *interface_name,
                         const char *method,
                         GVariant   *parameters)
{
  g_return_if_fail (HARK_IS_CLIENT (self));
  g_return_if_fail (g_variant_is_object_path (object_path));

  if (self->connection == NULL)
    {
      g_message ("%s failed: not connected to the session bus", method);
      if (parameters != NULL)
        g_variant_unref (g_variant_ref_sink (parameters));
      return;
    }

  g_dbus_connection_call (self->connection, HARK_DAEMON_BUS_NAME, object_path,
                          interface_name, method, parameters, NULL,
                          G_DBUS_CALL_FLAGS_NONE, -1, NULL,
                          call_method_cb, (gpointer) method);
}

typedef struct {
  HarkDBusCall1 *call;
  guint          pending_holds;
} AcceptData;

static void
accept_data_free (AcceptData *data)
{
  g_clear_object (&data->call);
  g_free (data);
}

static void
accept_done_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;

  if (!hark_dbus_call1_call_accept_finish (HARK_DBUS_CALL1 (source), result, &error))
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_boolean (task, TRUE);
}

static void
accept_now (GTask *task)
{
  AcceptData *data = g_task_get_task_data (task);

  hark_dbus_call1_call_accept (data->call, g_variant_new ("a{sv}", NULL),
                               g_task_get_cancellable (task), accept_done_cb, task);
}

static void
hold_done_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  AcceptData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  /* A call that could not be held stays as it is: the new one is answered all the same. */
  if (!hark_dbus_call1_call_hold_finish (HARK_DBUS_CALL1 (source), result, &error))
    g_message ("Could not hold %s: %s", g_dbus_proxy_get_object_path (G_DBUS_PROXY (source)),
               error->message);

  if (--data->pending_holds == 0)
    accept_now (g_steal_pointer (&task));
}

/**
 * hark_client_accept_call:
 * @call: an incoming call that rings
 * @hold_others: put every other active call on hold first
 *
 * Answers @call; with @hold_others, only once the other calls are held
 * ("Hold and Accept"), so that no two calls talk at once.
 */
void
hark_client_accept_call (HarkClient          *self,
                         HarkDBusCall1       *call,
                         gboolean             hold_others,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  AcceptData *data;
  guint n;

  g_return_if_fail (HARK_IS_CLIENT (self));
  g_return_if_fail (HARK_DBUS_IS_CALL1 (call));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, hark_client_accept_call);
  data = g_new0 (AcceptData, 1);
  data->call = g_object_ref (call);
  g_task_set_task_data (task, data, (GDestroyNotify) accept_data_free);

  n = hold_others ? g_list_model_get_n_items (self->calls) : 0;
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(HarkDBusObject) object = g_list_model_get_item (self->calls, i);
      g_autoptr(HarkDBusCall1) other = hark_dbus_object_get_call1 (object);

      if (other == NULL || other == call ||
          g_strcmp0 (g_dbus_proxy_get_object_path (G_DBUS_PROXY (other)),
                     g_dbus_proxy_get_object_path (G_DBUS_PROXY (call))) == 0 ||
          g_strcmp0 (hark_dbus_call1_get_state (other), "active") != 0)
        continue;

      data->pending_holds++;
      hark_dbus_call1_call_hold (other, cancellable, hold_done_cb, g_object_ref (task));
    }

  if (data->pending_holds == 0)
    accept_now (g_steal_pointer (&task));
}

gboolean
hark_client_accept_call_finish (HarkClient    *self,
                                GAsyncResult  *result,
                                GError       **error)
{
  g_return_val_if_fail (HARK_IS_CLIENT (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * hark_client_count_active_calls:
 * @except: (nullable): a call not to count
 *
 * Returns: how many calls are talking ("active"), other than @except
 */
guint
hark_client_count_active_calls (HarkClient    *self,
                                HarkDBusCall1 *except)
{
  guint n, count = 0;

  g_return_val_if_fail (HARK_IS_CLIENT (self), 0);

  n = g_list_model_get_n_items (self->calls);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(HarkDBusObject) object = g_list_model_get_item (self->calls, i);
      g_autoptr(HarkDBusCall1) other = hark_dbus_object_get_call1 (object);

      if (other != NULL && g_strcmp0 (hark_dbus_call1_get_state (other), "active") == 0 &&
          (except == NULL || g_strcmp0 (g_dbus_proxy_get_object_path (G_DBUS_PROXY (other)),
                                        g_dbus_proxy_get_object_path (G_DBUS_PROXY (except))) != 0))
        count++;
    }

  return count;
}
