/* hark-tls-check.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Sofia-SIP reports a TLS handshake it rejected only as "408 Request
 * Timeout", half a minute later, and cannot match IP-address
 * subjectAltNames. Before a TLS REGISTER we therefore shake hands once with
 * GIO, which checks the chain and the name, and tells exactly what failed.
 */

#define G_LOG_DOMAIN "hark-sip"

#include "config.h"

#include "hark-tls-check.h"

/* A registrar that does not finish a handshake by then is as good as down */
#define CHECK_TIMEOUT_S 5

typedef struct {
  char *host;
  GTlsDatabase *database;
  GIOStream *connection;
} CheckData;

static void
check_data_free (gpointer data)
{
  CheckData *check = data;

  g_free (check->host);
  g_clear_object (&check->database);
  g_clear_object (&check->connection);
  g_free (check);
}

static void
close_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  /* The check is over; a failing close_notify changes nothing */
  g_io_stream_close_finish (G_IO_STREAM (object), result, NULL);
}

static void
handshake_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;

  if (!g_tls_connection_handshake_finish (G_TLS_CONNECTION (object), result, &error))
    {
      g_debug ("TLS check failed: %s", error->message);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  g_io_stream_close_async (G_IO_STREAM (object), G_PRIORITY_DEFAULT, NULL, close_cb, NULL);
  g_task_return_boolean (task, TRUE);
}

static void
connect_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  CheckData *check = g_task_get_task_data (task);
  g_autoptr(GSocketConnection) tcp = NULL;
  g_autoptr(GSocketConnectable) identity = NULL;
  g_autoptr(GError) error = NULL;
  GIOStream *tls;

  tcp = g_socket_client_connect_finish (G_SOCKET_CLIENT (object), result, &error);
  if (tcp == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  /* The identity is what the certificate must name: the host as written
   * in the URI, an IP literal matching an IP-address subjectAltName. */
  identity = g_network_address_new (check->host, 0);
  tls = g_tls_client_connection_new (G_IO_STREAM (tcp), identity, &error);
  if (tls == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  check->connection = tls;

  if (check->database != NULL)
    g_tls_connection_set_database (G_TLS_CONNECTION (tls), check->database);

  g_tls_connection_handshake_async (G_TLS_CONNECTION (tls), G_PRIORITY_DEFAULT,
                                    g_task_get_cancellable (task),
                                    handshake_cb, g_object_ref (task));
}

/**
 * hark_tls_check_async:
 * @host: host name or IP literal of the TLS server
 * @port: its port; 0 to look up the SRV record of `_sips._tcp.@host`
 *   (falling back to port 5061)
 * @ca_file: (nullable): PEM file with every CA to trust; %NULL for the
 *   system's trust store
 *
 * Connects, shakes hands and disconnects. Fails with a %G_TLS_ERROR (for an
 * untrusted or misnamed certificate: %G_TLS_ERROR_BAD_CERTIFICATE) or a
 * %G_IO_ERROR / %G_RESOLVER_ERROR when the server cannot be reached.
 */
void
hark_tls_check_async (const char          *host,
                      guint16              port,
                      const char          *ca_file,
                      GCancellable        *cancellable,
                      GAsyncReadyCallback  callback,
                      gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GSocketClient) client = NULL;
  g_autoptr(GError) error = NULL;
  CheckData *check;

  g_return_if_fail (host != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, hark_tls_check_async);

  check = g_new0 (CheckData, 1);
  check->host = g_strdup (host);
  g_task_set_task_data (task, check, check_data_free);

  if (ca_file != NULL)
    {
      check->database = g_tls_file_database_new (ca_file, &error);
      if (check->database == NULL)
        {
          g_task_return_error (task, g_steal_pointer (&error));
          return;
        }
    }

  client = g_socket_client_new ();
  g_socket_client_set_timeout (client, CHECK_TIMEOUT_S);

  if (port != 0 || g_hostname_is_ip_address (host))
    {
      g_socket_client_connect_to_host_async (client, host, port != 0 ? port : 5061,
                                             cancellable, connect_cb, g_steal_pointer (&task));
    }
  else
    {
      g_autoptr(GSocketConnectable) service = g_network_service_new ("sips", "tcp", host);

      g_socket_client_connect_async (client, service, cancellable,
                                     connect_cb, g_steal_pointer (&task));
    }
}

gboolean
hark_tls_check_finish (GAsyncResult  *result,
                       GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == hark_tls_check_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
