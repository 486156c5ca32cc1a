/* hark-secret-store.c — passwords in the Secret Service, or in memory
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "Hark"

#include "config.h"

#include <libsecret/secret.h>

#include "hark-secret-store.h"

/*
 * Passwords never touch the disk through Hark. They go to the Secret
 * Service; when none is reachable they are kept in this process's memory
 * for the current run only, and the user is warned once.
 */
struct _HarkSecretStore
{
  GObject     parent_instance;

  GHashTable *memory;          /* profile id → password, when no Secret Service */
  gboolean    service_missing;
};

G_DEFINE_FINAL_TYPE (HarkSecretStore, hark_secret_store, G_TYPE_OBJECT)

static const SecretSchema *
get_schema (void)
{
  static const SecretSchema schema = {
    "io.github.hark.Hark.Password", SECRET_SCHEMA_NONE,
    {
      { "profile", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { NULL, 0 },
    }
  };

  return &schema;
}

static void
wipe_password (gpointer data)
{
  char *password = data;

  if (password != NULL)
    {
      explicit_bzero (password, strlen (password));
      g_free (password);
    }
}

static void
remember_in_memory (HarkSecretStore *self,
                    const char      *profile_id,
                    const char      *password)
{
  if (password == NULL || *password == '\0')
    g_hash_table_remove (self->memory, profile_id);
  else
    g_hash_table_insert (self->memory, g_strdup (profile_id), g_strdup (password));
}

static void
note_service_missing (HarkSecretStore *self,
                      const GError    *error)
{
  if (self->service_missing)
    return;

  self->service_missing = TRUE;
  g_warning ("No Secret Service available (%s): passwords are kept in memory "
             "for this run only and must be entered again after a restart",
             error->message);
}

static void
hark_secret_store_finalize (GObject *object)
{
  HarkSecretStore *self = (HarkSecretStore *) object;

  g_clear_pointer (&self->memory, g_hash_table_unref);

  G_OBJECT_CLASS (hark_secret_store_parent_class)->finalize (object);
}

static void
hark_secret_store_class_init (HarkSecretStoreClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = hark_secret_store_finalize;
}

static void
hark_secret_store_init (HarkSecretStore *self)
{
  self->memory = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, wipe_password);
}

HarkSecretStore *
hark_secret_store_new (void)
{
  return g_object_new (HARK_TYPE_SECRET_STORE, NULL);
}

typedef struct
{
  char *profile_id;
  char *password;
} StoreData;

static void
store_data_free (StoreData *data)
{
  g_free (data->profile_id);
  wipe_password (data->password);
  g_free (data);
}

static void
store_done_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  HarkSecretStore *self = g_task_get_source_object (task);
  StoreData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  gboolean is_clear = (*data->password == '\0');
  gboolean ok;

  if (is_clear)
    ok = secret_password_clear_finish (result, &error) || error == NULL;
  else
    ok = secret_password_store_finish (result, &error);

  if (!ok && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  if (!ok)
    {
      note_service_missing (self, error);
      remember_in_memory (self, data->profile_id, data->password);
    }
  else
    {
      /* The Secret Service has it now; an older in-memory copy is stale. */
      g_hash_table_remove (self->memory, data->profile_id);
    }

  g_task_return_boolean (task, TRUE);
}

/**
 * hark_secret_store_store_async:
 * @password: the password, or "" to forget it
 *
 * Stores (or forgets) a profile's password. Falls back to memory when the
 * Secret Service cannot be reached, so this only fails when cancelled.
 */
void
hark_secret_store_store_async (HarkSecretStore     *self,
                               const char          *profile_id,
                               const char          *label,
                               const char          *password,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  StoreData *data;

  g_return_if_fail (HARK_IS_SECRET_STORE (self));
  g_return_if_fail (profile_id != NULL);
  g_return_if_fail (password != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, hark_secret_store_store_async);
  data = g_new0 (StoreData, 1);
  data->profile_id = g_strdup (profile_id);
  data->password = g_strdup (password);
  g_task_set_task_data (task, data, (GDestroyNotify) store_data_free);

  if (self->service_missing)
    {
      remember_in_memory (self, profile_id, password);
      g_task_return_boolean (task, TRUE);
      return;
    }

  if (*password == '\0')
    secret_password_clear (get_schema (), cancellable, store_done_cb, g_steal_pointer (&task),
                           "profile", profile_id, NULL);
  else
    secret_password_store (get_schema (), SECRET_COLLECTION_DEFAULT, label, password,
                           cancellable, store_done_cb, g_steal_pointer (&task),
                           "profile", profile_id, NULL);
}

gboolean
hark_secret_store_store_finish (HarkSecretStore  *self,
                                GAsyncResult     *result,
                                GError          **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
lookup_done_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  HarkSecretStore *self = g_task_get_source_object (task);
  g_autoptr(GError) error = NULL;
  char *password;

  password = secret_password_lookup_finish (result, &error);
  if (error != NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  if (error != NULL)
    note_service_missing (self, error);

  if (password != NULL)
    {
      char *copy = g_strdup (password);

      secret_password_free (password);
      g_task_return_pointer (task, copy, wipe_password);
      return;
    }

  g_task_return_pointer (task, NULL, NULL);
}

/**
 * hark_secret_store_lookup_async:
 *
 * Looks a profile's password up: memory first, then the Secret Service.
 * Finishes with %NULL (and no error) when there is none.
 */
void
hark_secret_store_lookup_async (HarkSecretStore     *self,
                                const char          *profile_id,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  const char *in_memory;

  g_return_if_fail (HARK_IS_SECRET_STORE (self));
  g_return_if_fail (profile_id != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, hark_secret_store_lookup_async);

  in_memory = g_hash_table_lookup (self->memory, profile_id);
  if (in_memory != NULL || self->service_missing)
    {
      g_task_return_pointer (task, g_strdup (in_memory), wipe_password);
      return;
    }

  secret_password_lookup (get_schema (), cancellable, lookup_done_cb, g_steal_pointer (&task),
                          "profile", profile_id, NULL);
}

/**
 * hark_secret_store_lookup_finish:
 *
 * Returns: (transfer full) (nullable): the password; wipe it with
 *   explicit_bzero() before freeing.
 */
char *
hark_secret_store_lookup_finish (HarkSecretStore  *self,
                                 GAsyncResult     *result,
                                 GError          **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
