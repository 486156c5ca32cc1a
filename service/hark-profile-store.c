/* hark-profile-store.c — the set of profiles, on the bus and on disk
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "Hark"

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "hark-error.h"
#include "hark-profile.h"
#include "hark-profile-store.h"
#include "hark-secret-store.h"

/*
 * All profiles live in one key file, rewritten whole on every change with
 * g_file_set_contents_full(): a temporary file, fsync, rename. A kill -9 at
 * any moment leaves either the old or the new file, never half of one, and
 * a D-Bus method that changes a profile only replies once its change is on
 * disk. The write itself runs in a worker thread so a slow disk never
 * stalls the bus.
 */
struct _HarkProfileStore
{
  GObject                   parent_instance;

  GDBusObjectManagerServer *server;
  HarkSecretStore          *secrets;
  char                     *path;
  GPtrArray                *profiles;     /* HarkProfile, the local one first */
  HarkProfile              *default_profile;

  GMutex                    write_lock;
  guint64                   generation;   /* of the newest snapshot taken */
  guint64                   written;      /* of the newest snapshot on disk */
};

G_DEFINE_FINAL_TYPE (HarkProfileStore, hark_profile_store, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_DEFAULT_PROFILE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

#define GROUP_HARK "Hark"
#define KEY_DEFAULT_ID "default"
#define PROFILE_GROUP_PREFIX "Profile "

static void
export_profile (HarkProfileStore *self,
                HarkProfile      *profile)
{
  g_ptr_array_add (self->profiles, g_object_ref (profile));
  g_dbus_object_manager_server_export (self->server,
                                       G_DBUS_OBJECT_SKELETON (hark_profile_get_object (profile)));
}

static HarkProfile *
find_by_id (HarkProfileStore *self,
            const char       *id)
{
  for (guint i = 0; i < self->profiles->len; i++)
    {
      HarkProfile *profile = g_ptr_array_index (self->profiles, i);

      if (g_str_equal (hark_profile_get_id (profile), id))
        return profile;
    }
  return NULL;
}

static void
hark_profile_store_dispose (GObject *object)
{
  HarkProfileStore *self = (HarkProfileStore *) object;

  g_clear_pointer (&self->profiles, g_ptr_array_unref);
  self->default_profile = NULL;
  g_clear_object (&self->server);
  g_clear_object (&self->secrets);

  G_OBJECT_CLASS (hark_profile_store_parent_class)->dispose (object);
}

static void
hark_profile_store_finalize (GObject *object)
{
  HarkProfileStore *self = (HarkProfileStore *) object;

  g_free (self->path);
  g_mutex_clear (&self->write_lock);

  G_OBJECT_CLASS (hark_profile_store_parent_class)->finalize (object);
}

static void
hark_profile_store_get_property (GObject    *object,
                                 guint       prop_id,
                                 GValue     *value,
                                 GParamSpec *pspec)
{
  HarkProfileStore *self = HARK_PROFILE_STORE (object);

  switch (prop_id)
    {
    case PROP_DEFAULT_PROFILE:
      g_value_set_object (value, self->default_profile);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hark_profile_store_class_init (HarkProfileStoreClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = hark_profile_store_dispose;
  object_class->finalize = hark_profile_store_finalize;
  object_class->get_property = hark_profile_store_get_property;

  /**
   * HarkProfileStore:default-profile:
   *
   * The default profile; there is always exactly one.
   */
  properties[PROP_DEFAULT_PROFILE] =
    g_param_spec_object ("default-profile", NULL, NULL,
                         HARK_TYPE_PROFILE,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
hark_profile_store_init (HarkProfileStore *self)
{
  self->profiles = g_ptr_array_new_with_free_func (g_object_unref);
  g_mutex_init (&self->write_lock);
}

/**
 * hark_profile_store_new:
 * @server: where profiles are exported
 * @secrets: where their passwords are kept
 * @path: the key file, e.g. `$XDG_CONFIG_HOME/hark/profiles.conf`
 */
HarkProfileStore *
hark_profile_store_new (GDBusObjectManagerServer *server,
                        HarkSecretStore          *secrets,
                        const char               *path)
{
  HarkProfileStore *self;

  g_return_val_if_fail (G_IS_DBUS_OBJECT_MANAGER_SERVER (server), NULL);
  g_return_val_if_fail (HARK_IS_SECRET_STORE (secrets), NULL);
  g_return_val_if_fail (path != NULL, NULL);

  self = g_object_new (HARK_TYPE_PROFILE_STORE, NULL);
  self->server = g_object_ref (server);
  self->secrets = g_object_ref (secrets);
  self->path = g_strdup (path);
  return self;
}

static void
load_profiles (HarkProfileStore *self,
               GKeyFile         *keyfile)
{
  g_auto(GStrv) groups = g_key_file_get_groups (keyfile, NULL);

  for (guint i = 0; groups[i] != NULL; i++)
    {
      g_autoptr(HarkProfile) profile = NULL;
      g_autoptr(GError) error = NULL;
      const char *id;

      if (!g_str_has_prefix (groups[i], PROFILE_GROUP_PREFIX))
        continue;

      id = groups[i] + strlen (PROFILE_GROUP_PREFIX);
      profile = (g_str_equal (id, HARK_LOCAL_PROFILE_ID) ? g_object_ref (find_by_id (self, id))
                                                         : hark_profile_new (self, id));
      if (!hark_profile_load (profile, keyfile, &error))
        {
          g_warning ("Skipping profile %s in %s: %s", id, self->path, error->message);
          continue;
        }

      if (!hark_profile_is_local (profile))
        export_profile (self, profile);
    }
}

/**
 * hark_profile_store_load:
 *
 * Creates the built-in local profile and reads the key file, if any.
 * Run once at start-up, before the main loop serves requests.
 */
gboolean
hark_profile_store_load (HarkProfileStore  *self,
                         GError           **error)
{
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();
  g_autoptr(HarkProfile) local = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *default_id = NULL;
  HarkProfile *default_profile;

  g_return_val_if_fail (HARK_IS_PROFILE_STORE (self), FALSE);

  local = hark_profile_new (self, HARK_LOCAL_PROFILE_ID);
  export_profile (self, local);

  if (!g_key_file_load_from_file (keyfile, self->path, G_KEY_FILE_KEEP_COMMENTS, &local_error))
    {
      if (!g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        {
          g_set_error (error, HARK_ERROR, HARK_ERROR_FAILED,
                       "Cannot read the profiles from %s: %s", self->path, local_error->message);
          return FALSE;
        }
    }
  else
    {
      load_profiles (self, keyfile);
      default_id = g_key_file_get_string (keyfile, GROUP_HARK, KEY_DEFAULT_ID, NULL);
    }

  default_profile = default_id ? find_by_id (self, default_id) : NULL;
  hark_profile_store_set_default (self, default_profile ? default_profile : local);
  return TRUE;
}

/**
 * hark_profile_store_start:
 *
 * Lets every profile look its password up and auto-register.
 */
void
hark_profile_store_start (HarkProfileStore *self)
{
  g_return_if_fail (HARK_IS_PROFILE_STORE (self));

  for (guint i = 0; i < self->profiles->len; i++)
    hark_profile_start (g_ptr_array_index (self->profiles, i));
}

GDBusObjectManagerServer *
hark_profile_store_get_server (HarkProfileStore *self)
{
  g_return_val_if_fail (HARK_IS_PROFILE_STORE (self), NULL);
  return self->server;
}

HarkSecretStore *
hark_profile_store_get_secrets (HarkProfileStore *self)
{
  g_return_val_if_fail (HARK_IS_PROFILE_STORE (self), NULL);
  return self->secrets;
}

/**
 * hark_profile_store_get_profiles:
 *
 * Returns: (transfer none) (element-type HarkProfile): all profiles
 */
GPtrArray *
hark_profile_store_get_profiles (HarkProfileStore *self)
{
  g_return_val_if_fail (HARK_IS_PROFILE_STORE (self), NULL);
  return self->profiles;
}

HarkProfile *
hark_profile_store_get_default (HarkProfileStore *self)
{
  g_return_val_if_fail (HARK_IS_PROFILE_STORE (self), NULL);
  return self->default_profile;
}

void
hark_profile_store_set_default (HarkProfileStore *self,
                                HarkProfile      *profile)
{
  g_return_if_fail (HARK_IS_PROFILE_STORE (self));
  g_return_if_fail (HARK_IS_PROFILE (profile));

  if (self->default_profile == profile)
    return;

  if (self->default_profile != NULL)
    hark_profile_set_default (self->default_profile, FALSE);
  self->default_profile = profile;
  hark_profile_set_default (profile, TRUE);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DEFAULT_PROFILE]);
}

HarkProfile *
hark_profile_store_find_by_name (HarkProfileStore *self,
                                 const char       *name)
{
  g_return_val_if_fail (HARK_IS_PROFILE_STORE (self), NULL);

  for (guint i = 0; i < self->profiles->len; i++)
    {
      HarkProfile *profile = g_ptr_array_index (self->profiles, i);

      if (g_strcmp0 (hark_profile_get_name (profile), name) == 0)
        return profile;
    }
  return NULL;
}

/**
 * hark_profile_store_lookup:
 * @object_path: a profile's object path, or "/" for the default profile
 *
 * Returns: (transfer none): the profile, or %NULL with %HARK_ERROR_NOT_FOUND
 */
HarkProfile *
hark_profile_store_lookup (HarkProfileStore  *self,
                           const char        *object_path,
                           GError           **error)
{
  g_return_val_if_fail (HARK_IS_PROFILE_STORE (self), NULL);

  if (g_str_equal (object_path, "/"))
    return self->default_profile;

  for (guint i = 0; i < self->profiles->len; i++)
    {
      HarkProfile *profile = g_ptr_array_index (self->profiles, i);

      if (g_str_equal (hark_profile_get_object_path (profile), object_path))
        return profile;
    }

  g_set_error (error, HARK_ERROR, HARK_ERROR_NOT_FOUND,
               "No profile at %s (use “/” for the default profile, or list them with "
               "GetManagedObjects)", object_path);
  return NULL;
}

/**
 * hark_profile_store_remove:
 *
 * Takes @profile off the bus and out of the store; the default falls back
 * to the local profile. Call hark_profile_store_save_async() afterwards.
 */
void
hark_profile_store_remove (HarkProfileStore *self,
                           HarkProfile      *profile)
{
  g_autoptr(HarkProfile) hold = NULL;

  g_return_if_fail (HARK_IS_PROFILE_STORE (self));
  g_return_if_fail (HARK_IS_PROFILE (profile));
  g_return_if_fail (!hark_profile_is_local (profile));

  hold = g_object_ref (profile);
  if (!g_ptr_array_remove (self->profiles, profile))
    return;

  g_dbus_object_manager_server_unexport (self->server, hark_profile_get_object_path (profile));
  if (self->default_profile == profile)
    {
      self->default_profile = NULL;
      hark_profile_store_set_default (self, find_by_id (self, HARK_LOCAL_PROFILE_ID));
    }
}

static GKeyFile *
snapshot (HarkProfileStore *self)
{
  GKeyFile *keyfile = g_key_file_new ();

  g_key_file_set_comment (keyfile, NULL, NULL,
                          " Hark SIP profiles. Written by hark-daemon; passwords are in the "
                          "Secret Service,\n never here.", NULL);
  g_key_file_set_integer (keyfile, GROUP_HARK, "version", 1);
  g_key_file_set_string (keyfile, GROUP_HARK, KEY_DEFAULT_ID,
                         hark_profile_get_id (self->default_profile));

  for (guint i = 0; i < self->profiles->len; i++)
    hark_profile_save (g_ptr_array_index (self->profiles, i), keyfile);

  return keyfile;
}

typedef struct
{
  char    *contents;
  gsize    length;
  guint64  generation;
} SaveData;

static void
save_data_free (SaveData *data)
{
  g_free (data->contents);
  g_free (data);
}

static void
save_in_thread (GTask        *task,
                gpointer      source_object,
                gpointer      task_data,
                GCancellable *cancellable)
{
  HarkProfileStore *self = source_object;
  SaveData *data = task_data;
  g_autofree char *dir = g_path_get_dirname (self->path);
  g_autoptr(GError) error = NULL;
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->write_lock);

  /* A newer snapshot already reached the disk: writing this one would undo it. */
  if (data->generation <= self->written)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved_errno = errno;

      g_task_return_new_error (task, HARK_ERROR, HARK_ERROR_FAILED,
                               "Cannot create %s: %s", dir, g_strerror (saved_errno));
      return;
    }

  if (!g_file_set_contents_full (self->path, data->contents, data->length,
                                 G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                 0600, &error))
    {
      g_task_return_new_error (task, HARK_ERROR, HARK_ERROR_FAILED,
                               "Cannot save the profiles: %s", error->message);
      return;
    }

  self->written = data->generation;
  g_task_return_boolean (task, TRUE);
}

/**
 * hark_profile_store_save_async:
 *
 * Writes the current state of every profile. The snapshot is taken now,
 * so later changes don't leak into this write.
 */
void
hark_profile_store_save_async (HarkProfileStore    *self,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GKeyFile) keyfile = NULL;
  SaveData *data;

  g_return_if_fail (HARK_IS_PROFILE_STORE (self));

  keyfile = snapshot (self);
  data = g_new0 (SaveData, 1);
  data->contents = g_key_file_to_data (keyfile, &data->length, NULL);
  data->generation = ++self->generation;

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, hark_profile_store_save_async);
  g_task_set_task_data (task, data, (GDestroyNotify) save_data_free);
  g_task_run_in_thread (task, save_in_thread);
}

gboolean
hark_profile_store_save_finish (HarkProfileStore  *self,
                                GAsyncResult      *result,
                                GError           **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

typedef struct
{
  HarkProfile *profile;
  char        *password;
} CreateData;

static void
create_data_free (CreateData *data)
{
  g_clear_object (&data->profile);
  if (data->password != NULL)
    explicit_bzero (data->password, strlen (data->password));
  g_free (data->password);
  g_free (data);
}

static void
create_password_stored_cb (GObject      *source,
                           GAsyncResult *result,
                           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  CreateData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  if (!hark_secret_store_store_finish (HARK_SECRET_STORE (source), result, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  hark_profile_set_has_password (data->profile, TRUE);
  g_task_return_pointer (task, g_object_ref (data->profile), g_object_unref);
}

static void
create_saved_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  HarkProfileStore *self = HARK_PROFILE_STORE (source);
  CreateData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autofree char *label = NULL;
  GCancellable *cancellable;

  if (!hark_profile_store_save_finish (self, result, &error))
    {
      /* Not on disk means not created: take it back off the bus. */
      hark_profile_store_remove (self, data->profile);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  if (data->password == NULL || *data->password == '\0')
    {
      g_task_return_pointer (task, g_object_ref (data->profile), g_object_unref);
      return;
    }

  label = g_strdup_printf ("Hark SIP password for %s", hark_profile_get_name (data->profile));
  cancellable = g_task_get_cancellable (task);
  hark_secret_store_store_async (self->secrets, hark_profile_get_id (data->profile), label,
                                 data->password, cancellable,
                                 create_password_stored_cb, g_steal_pointer (&task));
}

/**
 * hark_profile_store_create_async:
 * @settings: an `a{sv}` of profile settings; "name" is required
 *
 * Validates @settings, creates and exports the profile, and finishes once
 * it is on disk and its password (if any) is stored.
 */
void
hark_profile_store_create_async (HarkProfileStore    *self,
                                 GVariant            *settings,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;
  const char *name = NULL;
  gboolean is_default = FALSE;
  CreateData *data;

  g_return_if_fail (HARK_IS_PROFILE_STORE (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, hark_profile_store_create_async);

  if (!hark_profile_check_settings (settings, FALSE, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  if (!g_variant_lookup (settings, "name", "&s", &name))
    {
      g_task_return_new_error (task, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT,
                               "Setting “name”: required, e.g. {'name': <'Work'>}");
      return;
    }

  if (hark_profile_store_find_by_name (self, name) != NULL)
    {
      g_task_return_new_error (task, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT,
                               "Setting “name”: a profile named “%s” already exists", name);
      return;
    }

  id = g_uuid_string_random ();
  data = g_new0 (CreateData, 1);
  data->profile = hark_profile_new (self, id);
  g_variant_lookup (settings, "password", "s", &data->password);
  g_task_set_task_data (task, data, (GDestroyNotify) create_data_free);

  hark_profile_apply_settings (data->profile, settings);
  export_profile (self, data->profile);
  if (g_variant_lookup (settings, "default", "b", &is_default) && is_default)
    hark_profile_store_set_default (self, data->profile);

  hark_profile_store_save_async (self, cancellable, create_saved_cb, g_steal_pointer (&task));
}

/**
 * hark_profile_store_create_finish:
 *
 * Returns: (transfer full): the new profile
 */
HarkProfile *
hark_profile_store_create_finish (HarkProfileStore  *self,
                                  GAsyncResult      *result,
                                  GError           **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
