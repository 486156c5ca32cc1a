/* test-profiles.c — Manager1.CreateProfile and the Profile1 objects: their
 * settings, validation, the default profile, persistence across kill -9,
 * and passwords (Secret Service, never in a file, a log or a property).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <signal.h>
#include <string.h>

#include "hark-error.h"
#include "hark-test-bus.h"

/* Properties that are settings (as opposed to run-time state). */
static const char * const setting_properties[] = {
  "Id", "Name", "Kind", "Aors", "Registrar", "OutboundProxy", "Username", "Realm",
  "PrivateId", "AutoRegister", "Default", "Transport", "NetworkInterface",
  "SecurityNegotiation", "SigComp", "Expires", "CaFile", "HasPassword",
};

typedef struct {
  HarkTestBus *bus;
  GPtrArray   *added;     /* object paths seen in InterfacesAdded */
  GPtrArray   *removed;   /* object paths seen in InterfacesRemoved */
} Fixture;

static void
on_object_added (GDBusObjectManager *manager,
                 GDBusObject        *object,
                 Fixture            *fixture)
{
  g_ptr_array_add (fixture->added, g_strdup (g_dbus_object_get_object_path (object)));
}

static void
on_object_removed (GDBusObjectManager *manager,
                   GDBusObject        *object,
                   Fixture            *fixture)
{
  g_ptr_array_add (fixture->removed, g_strdup (g_dbus_object_get_object_path (object)));
}

/* (Re)connect to the object manager of the daemon that runs now. */
static void
fixture_watch (Fixture *fixture)
{
  GDBusObjectManager *manager = hark_test_bus_get_object_manager (fixture->bus);

  g_signal_connect (manager, "object-added", G_CALLBACK (on_object_added), fixture);
  g_signal_connect (manager, "object-removed", G_CALLBACK (on_object_removed), fixture);
}

static void
fixture_setup_flags (Fixture          *fixture,
                     HarkTestBusFlags  flags)
{
  fixture->bus = hark_test_bus_new (flags);
  fixture->added = g_ptr_array_new_with_free_func (g_free);
  fixture->removed = g_ptr_array_new_with_free_func (g_free);
  fixture_watch (fixture);
}

/* user_data: the HarkTestBusFlags */
static void
fixture_setup (Fixture       *fixture,
               gconstpointer  user_data)
{
  fixture_setup_flags (fixture, GPOINTER_TO_UINT (user_data));
}

/* user_data: a test case, not flags */
static void
fixture_setup_case (Fixture       *fixture,
                    gconstpointer  user_data)
{
  fixture_setup_flags (fixture, HARK_TEST_BUS_FLAGS_NONE);
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  user_data)
{
  g_clear_pointer (&fixture->bus, hark_test_bus_free);
  g_clear_pointer (&fixture->added, g_ptr_array_unref);
  g_clear_pointer (&fixture->removed, g_ptr_array_unref);
}

static void
fixture_restart (Fixture *fixture)
{
  hark_test_bus_restart_daemon (fixture->bus);
  fixture_watch (fixture);
}

/* Helpers */

static gboolean
strv_has (GPtrArray  *array,
          const char *value)
{
  for (guint i = 0; i < array->len; i++)
    if (g_strcmp0 (g_ptr_array_index (array, i), value) == 0)
      return TRUE;
  return FALSE;
}

typedef struct {
  GPtrArray  *array;
  const char *value;
} InArray;

static gboolean
in_array_cb (gpointer user_data)
{
  InArray *data = user_data;

  return strv_has (data->array, data->value);
}

static gboolean
wait_in_array (GPtrArray  *array,
               const char *value,
               guint       timeout_ms)
{
  InArray data = { array, value };

  return hark_test_wait_for (in_array_cb, &data, timeout_ms);
}

static GVariantDict *
good_settings (const char *name)
{
  const char *aors[] = { "sip:alice@127.0.0.1", NULL };
  GVariantDict *dict = g_variant_dict_new (NULL);

  g_variant_dict_insert (dict, "name", "s", name);
  g_variant_dict_insert_value (dict, "aors", g_variant_new_strv (aors, -1));
  g_variant_dict_insert (dict, "registrar", "s", "sip:127.0.0.1:5099");
  g_variant_dict_insert (dict, "username", "s", "alice");
  g_variant_dict_insert (dict, "transport", "s", "tcp");
  g_variant_dict_insert (dict, "expires", "u", 120);
  g_variant_dict_insert (dict, "auto-register", "b", FALSE);

  return dict;
}

static GVariant *
one_setting (const char *key,
             GVariant   *value)
{
  GVariantDict dict;

  g_variant_dict_init (&dict, NULL);
  g_variant_dict_insert_value (&dict, key, value);
  return g_variant_dict_end (&dict);
}

static char *
create_profile (Fixture   *fixture,
                GVariant  *settings,
                GError   **error)
{
  HarkDBusManager1 *manager = hark_test_bus_get_manager (fixture->bus);
  char *path = NULL;

  if (!hark_dbus_manager1_call_create_profile_sync (manager, settings, &path, NULL, error))
    return NULL;
  return path;
}

/* Creates the profile and waits for its object, announced by InterfacesAdded. */
static HarkDBusProfile1 *
create_profile_ok (Fixture      *fixture,
                   GVariantDict *dict)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  HarkDBusProfile1 *profile;

  path = create_profile (fixture, g_variant_dict_end (dict), &error);
  g_assert_no_error (error);
  g_assert_nonnull (path);
  g_assert_true (g_str_has_prefix (path, HARK_TEST_OBJECT_PATH "/Profile/"));

  g_assert_true (wait_in_array (fixture->added, path, 5000));
  profile = hark_test_bus_get_profile (fixture->bus, path);
  g_assert_nonnull (profile);
  return profile;
}

static const char *
profile_path (HarkDBusProfile1 *profile)
{
  return g_dbus_proxy_get_object_path (G_DBUS_PROXY (profile));
}

static guint
count_profiles (Fixture *fixture)
{
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) objects = NULL;
  g_autoptr(GError) error = NULL;
  GVariantIter iter;
  GVariant *interfaces;
  guint n = 0;

  /* Ask the daemon, not the client's cache. */
  reply = g_dbus_connection_call_sync (hark_test_bus_get_connection (fixture->bus),
                                       HARK_TEST_BUS_NAME, HARK_TEST_OBJECT_PATH,
                                       "org.freedesktop.DBus.ObjectManager", "GetManagedObjects",
                                       NULL, G_VARIANT_TYPE ("(a{oa{sa{sv}}})"),
                                       G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  g_assert_no_error (error);
  objects = g_variant_get_child_value (reply, 0);
  g_variant_iter_init (&iter, objects);
  while (g_variant_iter_next (&iter, "{&o@a{sa{sv}}}", NULL, &interfaces))
    {
      g_autoptr(GVariant) profile = g_variant_lookup_value (interfaces, HARK_TEST_PROFILE1, NULL);

      if (profile != NULL)
        n++;
      g_variant_unref (interfaces);
    }

  return n;
}

static char *
dump_managed_objects (Fixture *fixture)
{
  g_autoptr(GVariant) objects = NULL;
  g_autoptr(GVariant) manager = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *objects_str = NULL;
  g_autofree char *manager_str = NULL;

  objects = g_dbus_connection_call_sync (hark_test_bus_get_connection (fixture->bus),
                                         HARK_TEST_BUS_NAME, HARK_TEST_OBJECT_PATH,
                                         "org.freedesktop.DBus.ObjectManager", "GetManagedObjects",
                                         NULL, NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  g_assert_no_error (error);
  manager = hark_test_bus_get_all_properties (fixture->bus, HARK_TEST_OBJECT_PATH,
                                              HARK_TEST_MANAGER1, &error);
  g_assert_no_error (error);

  objects_str = g_variant_print (objects, TRUE);
  manager_str = g_variant_print (manager, TRUE);
  return g_strdup_printf ("%s\n%s", objects_str, manager_str);
}

/* GetAll of a profile, less the run-time state, for comparing runs. */
static GVariant *
settings_snapshot (Fixture    *fixture,
                   const char *path)
{
  g_autoptr(GVariant) all = NULL;
  g_autoptr(GError) error = NULL;
  GVariantDict dict;

  all = hark_test_bus_get_all_properties (fixture->bus, path, HARK_TEST_PROFILE1, &error);
  g_assert_no_error (error);

  g_variant_dict_init (&dict, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (setting_properties); i++)
    {
      g_autoptr(GVariant) value = g_variant_lookup_value (all, setting_properties[i], NULL);

      if (value == NULL)
        g_error ("%s has no property %s", path, setting_properties[i]);
      g_variant_dict_insert_value (&dict, setting_properties[i], value);
    }

  return g_variant_ref_sink (g_variant_dict_end (&dict));
}

/* Order-insensitive: a{sv} made in another order is still the same settings. */
static void
assert_snapshots_equal (GVariant *before,
                        GVariant *after)
{
  gboolean equal = TRUE;

  for (guint i = 0; i < G_N_ELEMENTS (setting_properties); i++)
    {
      g_autoptr(GVariant) b = g_variant_lookup_value (before, setting_properties[i], NULL);
      g_autoptr(GVariant) a = g_variant_lookup_value (after, setting_properties[i], NULL);

      if (a == NULL || b == NULL || !g_variant_equal (a, b))
        {
          g_autofree char *bs = b != NULL ? g_variant_print (b, TRUE) : g_strdup ("(none)");
          g_autofree char *as = a != NULL ? g_variant_print (a, TRUE) : g_strdup ("(none)");

          g_test_message ("%s: expected %s, got %s", setting_properties[i], bs, as);
          equal = FALSE;
        }
    }

  g_assert_true (equal);
}

static GVariant *
get_property_fresh (Fixture    *fixture,
                    const char *path,
                    const char *property)
{
  g_autoptr(GVariant) all = NULL;
  g_autoptr(GError) error = NULL;

  all = hark_test_bus_get_all_properties (fixture->bus, path, HARK_TEST_PROFILE1, &error);
  g_assert_no_error (error);
  return g_variant_lookup_value (all, property, NULL);
}

static gboolean
keyfile_has_value (GKeyFile   *keyfile,
                   const char *value)
{
  g_auto(GStrv) groups = g_key_file_get_groups (keyfile, NULL);

  for (guint i = 0; groups[i] != NULL; i++)
    {
      g_auto(GStrv) keys = g_key_file_get_keys (keyfile, groups[i], NULL, NULL);

      for (guint j = 0; keys != NULL && keys[j] != NULL; j++)
        {
          g_autofree char *v = g_key_file_get_string (keyfile, groups[i], keys[j], NULL);

          if (g_strcmp0 (v, value) == 0)
            return TRUE;
        }
    }

  return FALSE;
}

static GKeyFile *
load_keyfile (Fixture *fixture)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  GKeyFile *keyfile;

  keyfile = hark_test_bus_load_profiles_keyfile (fixture->bus, &path, &error);
  g_assert_no_error (error);
  g_test_message ("profiles keyfile: %s", path);
  return keyfile;
}

static void
assert_error_names_key (GError     *error,
                        int         code,
                        const char *key)
{
  g_assert_nonnull (error);
  g_dbus_error_strip_remote_error (error);
  g_test_message ("error: %s", error->message);
  g_assert_error (error, HARK_ERROR, code);
  if (key != NULL && strstr (error->message, key) == NULL)
    g_error ("error message “%s” does not name the key “%s”", error->message, key);
}

static gboolean
contains_casefold (const char *haystack,
                   const char *needle)
{
  g_autofree char *h = g_utf8_casefold (haystack, -1);
  g_autofree char *n = g_utf8_casefold (needle, -1);

  return strstr (h, n) != NULL;
}

/* Fails if @secret is anywhere a person or another program could read it. */
static void
assert_secret_nowhere (Fixture    *fixture,
                       const char *secret)
{
  g_autofree char *found = NULL;
  g_autofree char *log = NULL;
  g_autofree char *objects = NULL;

  /* Positive control: the search does find what is there. */
  found = hark_test_find_in_files (hark_test_bus_get_config_home (fixture->bus), "[");
  g_assert_nonnull (found);
  g_clear_pointer (&found, g_free);

  found = hark_test_find_in_files (hark_test_bus_get_config_home (fixture->bus), secret);
  if (found != NULL)
    g_error ("the password is in %s", found);
  found = hark_test_find_in_files (hark_test_bus_get_cache_home (fixture->bus), secret);
  if (found != NULL)
    g_error ("the password is in %s", found);
  found = hark_test_find_in_files (hark_test_bus_get_runtime_dir (fixture->bus), secret);
  if (found != NULL)
    g_error ("the password is in %s", found);

  log = hark_test_bus_read_log (fixture->bus);
  /* Positive control: this is the log the harness writes its banners to. */
  g_assert_nonnull (strstr (log, "=== hark-test-bus: starting hark-daemon"));
  if (strstr (log, secret) != NULL)
    g_error ("the password is in the daemon's log %s", hark_test_bus_get_log_path (fixture->bus));

  objects = dump_managed_objects (fixture);
  g_assert_nonnull (strstr (objects, "'local'"));
  if (strstr (objects, secret) != NULL)
    g_error ("the password is in a D-Bus property:\n%s", objects);
}

typedef struct {
  Fixture    *fixture;
  const char *secret;
  gboolean    present;
} SecretIs;

static gboolean
secret_is_cb (gpointer user_data)
{
  SecretIs *data = user_data;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) secrets = hark_test_bus_dup_secrets (data->fixture->bus, &error);

  g_assert_no_error (error);
  return g_strv_contains ((const char * const *) secrets, data->secret) == data->present;
}

static gboolean
wait_secret_stored (Fixture    *fixture,
                    const char *secret,
                    gboolean    present)
{
  SecretIs data = { fixture, secret, present };

  return hark_test_wait_for (secret_is_cb, &data, 5000);
}

typedef struct {
  Fixture    *fixture;
  const char *needle;
} LogHas;

static gboolean
log_has_warning_cb (gpointer user_data)
{
  LogHas *data = user_data;
  g_autofree char *log = hark_test_bus_read_log (data->fixture->bus);

  return contains_casefold (log, data->needle);
}

static char *
random_password (void)
{
  g_autofree char *uuid = g_uuid_string_random ();

  return g_strdup_printf ("Pw-%s", uuid);
}

/* Tests: creating */

static void
test_create_good (Fixture       *fixture,
                  gconstpointer  user_data)
{
  g_autoptr(GVariantDict) dict = good_settings ("Alice at work");
  g_autoptr(HarkDBusProfile1) profile = NULL;
  g_autoptr(HarkDBusProfile1) local = NULL;
  HarkDBusManager1 *manager = hark_test_bus_get_manager (fixture->bus);
  const char * const *aors;

  profile = create_profile_ok (fixture, dict);

  /* All of it came with InterfacesAdded: these are the client's cache. */
  g_assert_cmpstr (hark_dbus_profile1_get_name (profile), ==, "Alice at work");
  g_assert_cmpstr (hark_dbus_profile1_get_kind (profile), ==, "ietf");
  aors = hark_dbus_profile1_get_aors (profile);
  g_assert_nonnull (aors);
  g_assert_cmpuint (g_strv_length ((GStrv) aors), ==, 1);
  g_assert_cmpstr (aors[0], ==, "sip:alice@127.0.0.1");
  g_assert_cmpstr (hark_dbus_profile1_get_registrar (profile), ==, "sip:127.0.0.1:5099");
  g_assert_cmpstr (hark_dbus_profile1_get_outbound_proxy (profile), ==, "");
  g_assert_cmpstr (hark_dbus_profile1_get_username (profile), ==, "alice");
  g_assert_cmpstr (hark_dbus_profile1_get_realm (profile), ==, "");
  g_assert_cmpstr (hark_dbus_profile1_get_private_id (profile), ==, "");
  g_assert_false (hark_dbus_profile1_get_auto_register (profile));
  g_assert_false (hark_dbus_profile1_get_default (profile));
  g_assert_cmpstr (hark_dbus_profile1_get_transport (profile), ==, "tcp");
  g_assert_cmpstr (hark_dbus_profile1_get_network_interface (profile), ==, "");
  g_assert_cmpstr (hark_dbus_profile1_get_security_negotiation (profile), ==, "none");
  g_assert_false (hark_dbus_profile1_get_sig_comp (profile));
  g_assert_cmpuint (hark_dbus_profile1_get_expires (profile), ==, 120);
  g_assert_cmpstr (hark_dbus_profile1_get_ca_file (profile), ==, "");
  g_assert_false (hark_dbus_profile1_get_has_password (profile));
  g_assert_cmpstr (hark_dbus_profile1_get_registration (profile), ==, "/");
  g_assert_nonnull (hark_dbus_profile1_get_id (profile));
  g_assert_cmpstr (hark_dbus_profile1_get_id (profile), !=, "");
  g_assert_nonnull (hark_dbus_profile1_get_contact (profile));

  /* Creating a profile does not make it the default. */
  local = hark_test_bus_find_profile (fixture->bus, "local");
  g_assert_nonnull (local);
  g_assert_true (hark_dbus_profile1_get_default (local));
  g_assert_cmpstr (hark_dbus_manager1_get_default_profile (manager), ==, profile_path (local));
  g_assert_cmpuint (count_profiles (fixture), ==, 2);
}

static void
test_create_defaults (Fixture       *fixture,
                      gconstpointer  user_data)
{
  const char *aors[] = { "sip:bob@127.0.0.1", "sip:+15550100@127.0.0.1", NULL };
  g_autoptr(GVariantDict) dict = g_variant_dict_new (NULL);
  g_autoptr(HarkDBusProfile1) profile = NULL;
  const char * const *got;

  g_variant_dict_insert (dict, "name", "s", "bob");
  g_variant_dict_insert_value (dict, "aors", g_variant_new_strv (aors, -1));
  profile = create_profile_ok (fixture, dict);

  got = hark_dbus_profile1_get_aors (profile);
  g_assert_cmpstrv (got, aors);
  g_assert_cmpstr (hark_dbus_profile1_get_kind (profile), ==, "ietf");
  g_assert_cmpstr (hark_dbus_profile1_get_transport (profile), ==, "udp");
  g_assert_cmpuint (hark_dbus_profile1_get_expires (profile), ==, 600);
  g_assert_cmpstr (hark_dbus_profile1_get_security_negotiation (profile), ==, "none");
  g_assert_false (hark_dbus_profile1_get_auto_register (profile));
  g_assert_false (hark_dbus_profile1_get_default (profile));
  g_assert_false (hark_dbus_profile1_get_sig_comp (profile));
  g_assert_cmpstr (hark_dbus_profile1_get_registrar (profile), ==, "");
  g_assert_cmpstr (hark_dbus_profile1_get_username (profile), ==, "");
  g_assert_cmpstr (hark_dbus_profile1_get_outbound_proxy (profile), ==, "");
  g_assert_false (hark_dbus_profile1_get_has_password (profile));
}

static void
test_create_all_settings (Fixture       *fixture,
                          gconstpointer  user_data)
{
  g_autoptr(GVariantDict) dict = good_settings ("ims-account");
  g_autoptr(HarkDBusProfile1) profile = NULL;

  g_variant_dict_insert (dict, "kind", "s", "ims");
  g_variant_dict_insert (dict, "outbound-proxy", "s", "sip:127.0.0.1:5098;lr");
  g_variant_dict_insert (dict, "realm", "s", "ims.example.org");
  g_variant_dict_insert (dict, "private-id", "s", "alice@ims.example.org");
  g_variant_dict_insert (dict, "network-interface", "s", "lo");
  g_variant_dict_insert (dict, "security-negotiation", "s", "none");
  g_variant_dict_insert (dict, "sigcomp", "b", TRUE);
  g_variant_dict_insert (dict, "transport", "s", "udp");
  g_variant_dict_insert (dict, "expires", "u", 86400);
  profile = create_profile_ok (fixture, dict);

  g_assert_cmpstr (hark_dbus_profile1_get_kind (profile), ==, "ims");
  g_assert_cmpstr (hark_dbus_profile1_get_outbound_proxy (profile), ==, "sip:127.0.0.1:5098;lr");
  g_assert_cmpstr (hark_dbus_profile1_get_realm (profile), ==, "ims.example.org");
  g_assert_cmpstr (hark_dbus_profile1_get_private_id (profile), ==, "alice@ims.example.org");
  g_assert_cmpstr (hark_dbus_profile1_get_network_interface (profile), ==, "lo");
  g_assert_cmpstr (hark_dbus_profile1_get_security_negotiation (profile), ==, "none");
  g_assert_true (hark_dbus_profile1_get_sig_comp (profile));
  g_assert_cmpstr (hark_dbus_profile1_get_transport (profile), ==, "udp");
  g_assert_cmpuint (hark_dbus_profile1_get_expires (profile), ==, 86400);
}

/* One bad value each; @value is GVariant text, NULL to leave the key out. */
typedef struct {
  const char *test;
  const char *key;
  const char *value;
  gboolean    create_only;
} BadSetting;

static const BadSetting bad_settings[] = {
  { "unknown-key", "no-such-key", "'x'", FALSE },
  { "name-wrong-type", "name", "int32 7", FALSE },
  { "name-empty", "name", "''", FALSE },
  { "name-missing", "name", NULL, TRUE },
  { "aors-not-uri", "aors", "['not a uri']", FALSE },
  { "aors-http", "aors", "['http://x']", FALSE },
  { "aors-wrong-type", "aors", "'sip:alice@127.0.0.1'", FALSE },
  { "registrar-not-uri", "registrar", "'not a uri'", FALSE },
  { "registrar-http", "registrar", "'http://x'", FALSE },
  { "outbound-proxy-not-uri", "outbound-proxy", "'not a uri'", FALSE },
  { "outbound-proxy-http", "outbound-proxy", "'http://x'", FALSE },
  { "kind-foo", "kind", "'foo'", FALSE },
  { "transport-sctp", "transport", "'sctp'", FALSE },
  { "expires-zero", "expires", "uint32 0", FALSE },
  { "expires-huge", "expires", "uint32 10000000", FALSE },
  { "security-negotiation-bogus", "security-negotiation", "'bogus'", FALSE },
  { "network-interface-slash", "network-interface", "'eth0/1'", FALSE },
  { "auto-register-wrong-type", "auto-register", "'yes'", FALSE },
};

static GVariant *
parse_value (const char *text)
{
  g_autoptr(GError) error = NULL;
  GVariant *value = g_variant_parse (NULL, text, NULL, NULL, &error);

  g_assert_no_error (error);
  return value;
}

static guint
count_new_objects (Fixture *fixture)
{
  g_autoptr(HarkDBusProfile1) local = hark_test_bus_find_profile (fixture->bus, "local");
  const char *local_path = g_dbus_proxy_get_object_path (G_DBUS_PROXY (local));
  guint n = 0;

  for (guint i = 0; i < fixture->added->len; i++)
    {
      const char *path = g_ptr_array_index (fixture->added, i);

      g_test_message ("object added: %s", path);
      if (!g_str_equal (path, local_path))
        n++;
    }
  return n;
}

static void
test_create_invalid (Fixture       *fixture,
                     gconstpointer  user_data)
{
  const BadSetting *bad = user_data;
  g_autoptr(GVariantDict) dict = good_settings ("bad-profile-name");
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  g_autofree char *config_dir = hark_test_bus_dup_hark_config_dir (fixture->bus);
  g_autofree char *found = NULL;

  if (bad->value != NULL)
    g_variant_dict_insert_value (dict, bad->key, parse_value (bad->value));
  else
    g_variant_dict_remove (dict, bad->key);

  path = create_profile (fixture, g_variant_dict_end (dict), &error);
  assert_error_names_key (error, HARK_ERROR_INVALID_ARGUMENT, bad->key);
  g_assert_null (path);

  /* Nothing was made, on the bus or on disk. (Under load the client may
   * still announce objects that existed before the call: only paths that
   * are not the built-in profile's count.) */
  hark_test_iterate (200);
  g_assert_cmpuint (count_new_objects (fixture), ==, 0);
  g_assert_cmpuint (count_profiles (fixture), ==, 1);
  found = hark_test_find_in_files (config_dir, "bad-profile-name");
  g_assert_null (found);
}

static void
test_create_duplicate_name (Fixture       *fixture,
                            gconstpointer  user_data)
{
  g_autoptr(GVariantDict) first = good_settings ("twice");
  g_autoptr(GVariantDict) second = good_settings ("twice");
  g_autoptr(HarkDBusProfile1) profile = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;

  profile = create_profile_ok (fixture, first);

  path = create_profile (fixture, g_variant_dict_end (second), &error);
  assert_error_names_key (error, HARK_ERROR_INVALID_ARGUMENT, "name");
  g_assert_cmpuint (count_profiles (fixture), ==, 2);
  g_clear_error (&error);

  /* "local" is taken too. */
  g_clear_pointer (&second, g_variant_dict_unref);
  second = good_settings ("local");
  path = create_profile (fixture, g_variant_dict_end (second), &error);
  assert_error_names_key (error, HARK_ERROR_INVALID_ARGUMENT, "name");
  g_assert_cmpuint (count_profiles (fixture), ==, 2);
}

/* Tests: updating */

static void
on_properties_changed (GDBusProxy         *proxy,
                       GVariant           *changed,
                       const char * const *invalidated,
                       GHashTable         *seen)
{
  GVariantIter iter;
  const char *name;

  g_variant_iter_init (&iter, changed);
  while (g_variant_iter_next (&iter, "{&sv}", &name, NULL))
    g_hash_table_add (seen, g_strdup (name));
  for (guint i = 0; invalidated != NULL && invalidated[i] != NULL; i++)
    g_hash_table_add (seen, g_strdup (invalidated[i]));
}

static void
test_update (Fixture       *fixture,
             gconstpointer  user_data)
{
  g_autoptr(GVariantDict) dict = good_settings ("to-update");
  g_autoptr(HarkDBusProfile1) profile = NULL;
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GVariant) before = NULL;
  g_autoptr(GVariant) after = NULL;
  g_autoptr(GKeyFile) keyfile = NULL;
  g_autoptr(GError) error = NULL;
  GVariantDict update;
  GVariantDict expected;

  profile = create_profile_ok (fixture, dict);
  before = settings_snapshot (fixture, profile_path (profile));
  g_signal_connect (profile, "g-properties-changed", G_CALLBACK (on_properties_changed), seen);

  g_variant_dict_init (&update, NULL);
  g_variant_dict_insert (&update, "username", "s", "updated-user-7f3");
  g_variant_dict_insert (&update, "expires", "u", 300);
  hark_dbus_profile1_call_update_sync (profile, g_variant_dict_end (&update), NULL, &error);
  g_assert_no_error (error);

  /* On disk before the reply. */
  keyfile = load_keyfile (fixture);
  g_assert_true (keyfile_has_value (keyfile, "updated-user-7f3"));

  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (profile), "Username",
                                                 "updated-user-7f3", 2000));
  g_assert_true (hark_test_wait_property (G_DBUS_PROXY (profile), "Expires",
                                          g_variant_new_uint32 (300), 2000));
  g_assert_true (g_hash_table_contains (seen, "Username"));
  g_assert_true (g_hash_table_contains (seen, "Expires"));

  /* Nothing else changed, nor said it did. */
  hark_test_iterate (200);
  for (guint i = 0; i < G_N_ELEMENTS (setting_properties); i++)
    {
      const char *p = setting_properties[i];

      if (!g_str_equal (p, "Username") && !g_str_equal (p, "Expires") &&
          g_hash_table_contains (seen, p))
        g_error ("Update(username, expires) also announced a change of %s", p);
    }

  after = settings_snapshot (fixture, profile_path (profile));
  g_variant_dict_init (&expected, before);
  g_variant_dict_insert (&expected, "Username", "s", "updated-user-7f3");
  g_variant_dict_insert (&expected, "Expires", "u", 300);
  {
    g_autoptr(GVariant) expected_v = g_variant_ref_sink (g_variant_dict_end (&expected));

    assert_snapshots_equal (expected_v, after);
  }
}

static void
test_update_invalid (Fixture       *fixture,
                     gconstpointer  user_data)
{
  const BadSetting *bad = user_data;
  g_autoptr(GVariantDict) dict = good_settings ("update-me");
  g_autoptr(HarkDBusProfile1) profile = NULL;
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GVariant) before = NULL;
  g_autoptr(GVariant) after = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *config_dir = hark_test_bus_dup_hark_config_dir (fixture->bus);
  g_autofree char *found = NULL;
  GVariantDict update;

  profile = create_profile_ok (fixture, dict);
  before = settings_snapshot (fixture, profile_path (profile));
  g_signal_connect (profile, "g-properties-changed", G_CALLBACK (on_properties_changed), seen);

  /* One good key and one bad: neither may change. */
  g_variant_dict_init (&update, NULL);
  g_variant_dict_insert (&update, "username", "s", "must-not-stick");
  g_variant_dict_insert_value (&update, bad->key, parse_value (bad->value));
  hark_dbus_profile1_call_update_sync (profile, g_variant_dict_end (&update), NULL, &error);
  assert_error_names_key (error, HARK_ERROR_INVALID_ARGUMENT, bad->key);

  hark_test_iterate (200);
  g_assert_cmpuint (g_hash_table_size (seen), ==, 0);
  after = settings_snapshot (fixture, profile_path (profile));
  assert_snapshots_equal (before, after);
  found = hark_test_find_in_files (config_dir, "must-not-stick");
  g_assert_null (found);
}

static void
test_update_duplicate_name (Fixture       *fixture,
                            gconstpointer  user_data)
{
  g_autoptr(GVariantDict) a = good_settings ("first");
  g_autoptr(GVariantDict) b = good_settings ("second");
  g_autoptr(HarkDBusProfile1) pa = NULL;
  g_autoptr(HarkDBusProfile1) pb = NULL;
  g_autoptr(GVariant) name = NULL;
  g_autoptr(GError) error = NULL;

  pa = create_profile_ok (fixture, a);
  pb = create_profile_ok (fixture, b);

  hark_dbus_profile1_call_update_sync (pb, one_setting ("name", g_variant_new_string ("first")),
                                       NULL, &error);
  assert_error_names_key (error, HARK_ERROR_INVALID_ARGUMENT, "name");
  name = get_property_fresh (fixture, profile_path (pb), "Name");
  g_assert_cmpstr (g_variant_get_string (name, NULL), ==, "second");
  g_clear_error (&error);

  /* Renaming to its own name is no conflict; to a free one works. */
  hark_dbus_profile1_call_update_sync (pb, one_setting ("name", g_variant_new_string ("second")),
                                       NULL, &error);
  g_assert_no_error (error);
  hark_dbus_profile1_call_update_sync (pb, one_setting ("name", g_variant_new_string ("third")),
                                       NULL, &error);
  g_assert_no_error (error);
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (pb), "Name", "third", 2000));
}

/* Tests: deleting */

static void
test_delete (Fixture       *fixture,
             gconstpointer  user_data)
{
  g_autoptr(GVariantDict) dict = good_settings ("short-lived");
  g_autoptr(HarkDBusProfile1) profile = NULL;
  g_autoptr(GKeyFile) keyfile = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;

  profile = create_profile_ok (fixture, dict);
  path = g_strdup (profile_path (profile));
  keyfile = load_keyfile (fixture);
  g_assert_true (keyfile_has_value (keyfile, "short-lived"));
  g_clear_pointer (&keyfile, g_key_file_unref);

  hark_dbus_profile1_call_delete_sync (profile, NULL, &error);
  g_assert_no_error (error);

  g_assert_true (wait_in_array (fixture->removed, path, 5000));
  g_assert_cmpuint (count_profiles (fixture), ==, 1);
  keyfile = load_keyfile (fixture);
  g_assert_false (keyfile_has_value (keyfile, "short-lived"));

  /* The old path answers with an error: D-Bus's or Hark's NotFound. */
  reply = g_dbus_connection_call_sync (hark_test_bus_get_connection (fixture->bus),
                                       HARK_TEST_BUS_NAME, path, HARK_TEST_PROFILE1, "Delete",
                                       NULL, NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  g_assert_null (reply);
  g_assert_nonnull (error);
  g_test_message ("second Delete: %s", error->message);
  if (error->domain == HARK_ERROR)
    g_assert_error (error, HARK_ERROR, HARK_ERROR_NOT_FOUND);
  else
    g_assert_true (g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_OBJECT) ||
                   g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD) ||
                   g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_INTERFACE));

  /* The name is free again. */
  g_clear_pointer (&dict, g_variant_dict_unref);
  g_clear_object (&profile);
  dict = good_settings ("short-lived");
  profile = create_profile_ok (fixture, dict);
}

static void
test_delete_local (Fixture       *fixture,
                   gconstpointer  user_data)
{
  g_autoptr(HarkDBusProfile1) local = hark_test_bus_find_profile (fixture->bus, "local");
  g_autoptr(GError) error = NULL;

  g_assert_nonnull (local);
  hark_dbus_profile1_call_delete_sync (local, NULL, &error);
  assert_error_names_key (error, HARK_ERROR_INVALID_STATE, NULL);

  hark_test_iterate (200);
  g_assert_cmpuint (fixture->removed->len, ==, 0);
  g_assert_cmpuint (count_profiles (fixture), ==, 1);
}

/* Tests: the default profile */

static guint
count_defaults (Fixture *fixture)
{
  g_autolist(HarkDBusProfile1) profiles = hark_test_bus_list_profiles (fixture->bus);
  guint n = 0;

  for (GList *l = profiles; l != NULL; l = l->next)
    {
      g_autoptr(GVariant) is_default = get_property_fresh (fixture, profile_path (l->data),
                                                           "Default");

      if (g_variant_get_boolean (is_default))
        n++;
    }
  return n;
}

static void
test_default_switch (Fixture       *fixture,
                     gconstpointer  user_data)
{
  HarkDBusManager1 *manager = hark_test_bus_get_manager (fixture->bus);
  g_autoptr(HarkDBusProfile1) local = hark_test_bus_find_profile (fixture->bus, "local");
  g_autoptr(GVariantDict) a_settings = good_settings ("A");
  g_autoptr(GVariantDict) b_settings = good_settings ("B");
  g_autoptr(HarkDBusProfile1) a = NULL;
  g_autoptr(HarkDBusProfile1) b = NULL;
  g_autoptr(GError) error = NULL;

  /* Created as the default. */
  g_variant_dict_insert (a_settings, "default", "b", TRUE);
  a = create_profile_ok (fixture, a_settings);
  g_assert_true (hark_test_wait_property_boolean (G_DBUS_PROXY (a), "Default", TRUE, 2000));
  g_assert_true (hark_test_wait_property_boolean (G_DBUS_PROXY (local), "Default", FALSE, 2000));
  g_assert_true (hark_test_wait_property (G_DBUS_PROXY (manager), "DefaultProfile",
                                          g_variant_new_object_path (profile_path (a)), 2000));
  g_assert_cmpuint (count_defaults (fixture), ==, 1);

  /* Made the default by Update. */
  b = create_profile_ok (fixture, b_settings);
  g_assert_false (hark_dbus_profile1_get_default (b));
  hark_dbus_profile1_call_update_sync (b, one_setting ("default", g_variant_new_boolean (TRUE)),
                                       NULL, &error);
  g_assert_no_error (error);
  g_assert_true (hark_test_wait_property_boolean (G_DBUS_PROXY (b), "Default", TRUE, 2000));
  g_assert_true (hark_test_wait_property_boolean (G_DBUS_PROXY (a), "Default", FALSE, 2000));
  g_assert_true (hark_test_wait_property (G_DBUS_PROXY (manager), "DefaultProfile",
                                          g_variant_new_object_path (profile_path (b)), 2000));
  g_assert_false (hark_dbus_profile1_get_default (local));
  g_assert_cmpuint (count_defaults (fixture), ==, 1);
}

static void
test_default_delete_falls_back (Fixture       *fixture,
                                gconstpointer  user_data)
{
  HarkDBusManager1 *manager = hark_test_bus_get_manager (fixture->bus);
  g_autoptr(HarkDBusProfile1) local = hark_test_bus_find_profile (fixture->bus, "local");
  g_autoptr(GVariantDict) settings = good_settings ("soon-gone-default");
  g_autoptr(HarkDBusProfile1) profile = NULL;
  g_autoptr(GError) error = NULL;

  g_variant_dict_insert (settings, "default", "b", TRUE);
  profile = create_profile_ok (fixture, settings);
  g_assert_true (hark_test_wait_property (G_DBUS_PROXY (manager), "DefaultProfile",
                                          g_variant_new_object_path (profile_path (profile)),
                                          2000));

  hark_dbus_profile1_call_delete_sync (profile, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (hark_test_wait_property (G_DBUS_PROXY (manager), "DefaultProfile",
                                          g_variant_new_object_path (profile_path (local)),
                                          2000));
  g_assert_true (hark_test_wait_property_boolean (G_DBUS_PROXY (local), "Default", TRUE, 2000));
  g_assert_cmpuint (count_defaults (fixture), ==, 1);
}

/* Tests: persistence */

static char *
path_of_named (Fixture    *fixture,
               const char *name)
{
  g_autoptr(HarkDBusProfile1) profile = hark_test_bus_find_profile (fixture->bus, name);

  if (profile == NULL)
    g_error ("no profile named “%s” after the restart", name);
  return g_strdup (profile_path (profile));
}

static void
test_persistence_kill9 (Fixture       *fixture,
                        gconstpointer  user_data)
{
  g_autoptr(GVariantDict) a_settings = good_settings ("persist-A");
  g_autoptr(GVariantDict) b_settings = good_settings ("persist-B");
  g_autoptr(HarkDBusProfile1) a = NULL;
  g_autoptr(HarkDBusProfile1) b = NULL;
  g_autoptr(GVariant) a_before = NULL;
  g_autoptr(GVariant) b_before = NULL;
  g_autoptr(GVariant) a_after = NULL;
  g_autoptr(GVariant) b_after = NULL;
  g_autoptr(GKeyFile) keyfile = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *a_path = NULL;
  g_autofree char *b_path = NULL;
  g_autofree char *b_path_after = NULL;
  const char *aors[] = { "sip:carol@127.0.0.1", "sip:carol@[::1]", NULL };
  HarkDBusManager1 *manager;

  g_variant_dict_insert (a_settings, "kind", "s", "ims");
  g_variant_dict_insert (a_settings, "outbound-proxy", "s", "sip:127.0.0.1:5098;lr");
  g_variant_dict_insert (a_settings, "realm", "s", "example.org");
  g_variant_dict_insert (a_settings, "private-id", "s", "carol@example.org");
  g_variant_dict_insert (a_settings, "network-interface", "s", "lo");
  g_variant_dict_insert (a_settings, "sigcomp", "b", TRUE);
  g_variant_dict_insert (a_settings, "auto-register", "b", FALSE);
  g_variant_dict_insert (a_settings, "transport", "s", "udp");
  g_variant_dict_insert (a_settings, "expires", "u", 3600);
  g_variant_dict_insert_value (a_settings, "aors", g_variant_new_strv (aors, -1));
  g_variant_dict_insert (b_settings, "default", "b", TRUE);

  /* Straight from the replies to kill -9: the contract says the profile is
   * on disk before CreateProfile returns. */
  a_path = create_profile (fixture, g_variant_dict_end (a_settings), &error);
  g_assert_no_error (error);
  b_path = create_profile (fixture, g_variant_dict_end (b_settings), &error);
  g_assert_no_error (error);
  g_assert_true (hark_test_bus_kill_daemon (fixture->bus, SIGKILL, 5000, NULL));

  keyfile = load_keyfile (fixture);
  g_assert_true (keyfile_has_value (keyfile, "persist-A"));
  g_assert_true (keyfile_has_value (keyfile, "persist-B"));

  /* What the first run said, for comparison. Ask a fresh daemon first,
   * then compare against what the created objects announced. */
  fixture_restart (fixture);
  g_assert_cmpuint (count_profiles (fixture), ==, 3);

  g_clear_pointer (&a_path, g_free);
  a_path = path_of_named (fixture, "persist-A");
  b_path_after = path_of_named (fixture, "persist-B");
  a_after = settings_snapshot (fixture, a_path);
  b_after = settings_snapshot (fixture, b_path_after);

  a = hark_test_bus_find_profile (fixture->bus, "persist-A");
  b = hark_test_bus_find_profile (fixture->bus, "persist-B");
  g_assert_cmpstr (hark_dbus_profile1_get_kind (a), ==, "ims");
  g_assert_cmpstrv (hark_dbus_profile1_get_aors (a), aors);
  g_assert_cmpstr (hark_dbus_profile1_get_registrar (a), ==, "sip:127.0.0.1:5099");
  g_assert_cmpstr (hark_dbus_profile1_get_outbound_proxy (a), ==, "sip:127.0.0.1:5098;lr");
  g_assert_cmpstr (hark_dbus_profile1_get_username (a), ==, "alice");
  g_assert_cmpstr (hark_dbus_profile1_get_realm (a), ==, "example.org");
  g_assert_cmpstr (hark_dbus_profile1_get_private_id (a), ==, "carol@example.org");
  g_assert_cmpstr (hark_dbus_profile1_get_network_interface (a), ==, "lo");
  g_assert_true (hark_dbus_profile1_get_sig_comp (a));
  g_assert_false (hark_dbus_profile1_get_auto_register (a));
  g_assert_cmpstr (hark_dbus_profile1_get_transport (a), ==, "udp");
  g_assert_cmpuint (hark_dbus_profile1_get_expires (a), ==, 3600);
  g_assert_false (hark_dbus_profile1_get_default (a));

  g_assert_cmpstr (hark_dbus_profile1_get_transport (b), ==, "tcp");
  g_assert_cmpuint (hark_dbus_profile1_get_expires (b), ==, 120);
  g_assert_true (hark_dbus_profile1_get_default (b));
  manager = hark_test_bus_get_manager (fixture->bus);
  g_assert_cmpstr (hark_dbus_manager1_get_default_profile (manager), ==, b_path_after);

  /* A restart with nothing new changes nothing, Id included. */
  fixture_restart (fixture);
  g_clear_pointer (&a_path, g_free);
  a_path = path_of_named (fixture, "persist-A");
  g_clear_pointer (&b_path, g_free);
  b_path = path_of_named (fixture, "persist-B");
  a_before = g_steal_pointer (&a_after);
  b_before = g_steal_pointer (&b_after);
  a_after = settings_snapshot (fixture, a_path);
  b_after = settings_snapshot (fixture, b_path);
  assert_snapshots_equal (a_before, a_after);
  assert_snapshots_equal (b_before, b_after);
}

static void
test_persistence_update_delete (Fixture       *fixture,
                                gconstpointer  user_data)
{
  g_autoptr(GVariantDict) a_settings = good_settings ("keep-me");
  g_autoptr(GVariantDict) b_settings = good_settings ("delete-me");
  g_autoptr(HarkDBusProfile1) a = NULL;
  g_autoptr(HarkDBusProfile1) b = NULL;
  g_autoptr(GKeyFile) keyfile = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *a_id = NULL;
  GVariantDict update;

  a = create_profile_ok (fixture, a_settings);
  b = create_profile_ok (fixture, b_settings);
  a_id = g_strdup (hark_dbus_profile1_get_id (a));

  g_variant_dict_init (&update, NULL);
  g_variant_dict_insert (&update, "username", "s", "renamed-user");
  g_variant_dict_insert (&update, "transport", "s", "udp");
  g_variant_dict_insert (&update, "name", "s", "kept");
  hark_dbus_profile1_call_update_sync (a, g_variant_dict_end (&update), NULL, &error);
  g_assert_no_error (error);
  hark_dbus_profile1_call_delete_sync (b, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (hark_test_bus_kill_daemon (fixture->bus, SIGKILL, 5000, NULL));

  keyfile = load_keyfile (fixture);
  g_assert_false (keyfile_has_value (keyfile, "delete-me"));
  g_assert_false (keyfile_has_value (keyfile, "keep-me"));
  g_assert_true (keyfile_has_value (keyfile, "kept"));

  fixture_restart (fixture);
  g_clear_object (&a);
  g_clear_object (&b);
  g_assert_cmpuint (count_profiles (fixture), ==, 2);
  b = hark_test_bus_find_profile (fixture->bus, "delete-me");
  g_assert_null (b);
  a = hark_test_bus_find_profile (fixture->bus, "kept");
  g_assert_nonnull (a);
  g_assert_cmpstr (hark_dbus_profile1_get_id (a), ==, a_id);
  g_assert_cmpstr (hark_dbus_profile1_get_username (a), ==, "renamed-user");
  g_assert_cmpstr (hark_dbus_profile1_get_transport (a), ==, "udp");
  g_assert_cmpuint (hark_dbus_profile1_get_expires (a), ==, 120);
}

/* Tests: passwords */

static void
test_password_keyring (Fixture       *fixture,
                       gconstpointer  user_data)
{
  g_autofree char *password = random_password ();
  g_autoptr(GVariantDict) settings = good_settings ("with-password");
  g_autoptr(HarkDBusProfile1) profile = NULL;
  g_autoptr(GVariant) all = NULL;
  g_autoptr(GError) error = NULL;

  g_variant_dict_insert (settings, "password", "s", password);
  profile = create_profile_ok (fixture, settings);

  g_assert_true (hark_test_wait_property_boolean (G_DBUS_PROXY (profile), "HasPassword",
                                                  TRUE, 5000));
  g_assert_true (wait_secret_stored (fixture, password, TRUE));
  all = hark_test_bus_get_all_properties (fixture->bus, profile_path (profile),
                                          HARK_TEST_PROFILE1, &error);
  g_assert_no_error (error);
  g_assert_null (g_variant_lookup_value (all, "Password", NULL));
  assert_secret_nowhere (fixture, password);

  /* The next run finds it in the Secret Service. */
  fixture_restart (fixture);
  g_clear_object (&profile);
  profile = hark_test_bus_find_profile (fixture->bus, "with-password");
  g_assert_nonnull (profile);
  g_assert_true (hark_test_wait_property_boolean (G_DBUS_PROXY (profile), "HasPassword",
                                                  TRUE, 5000));
  assert_secret_nowhere (fixture, password);
}

static void
test_password_set_and_forget (Fixture       *fixture,
                              gconstpointer  user_data)
{
  g_autofree char *first = random_password ();
  g_autofree char *second = random_password ();
  g_autoptr(GVariantDict) settings = good_settings ("changing-password");
  g_autoptr(HarkDBusProfile1) profile = NULL;
  g_autoptr(GError) error = NULL;

  profile = create_profile_ok (fixture, settings);
  g_assert_false (hark_dbus_profile1_get_has_password (profile));

  hark_dbus_profile1_call_set_password_sync (profile, first, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (hark_test_wait_property_boolean (G_DBUS_PROXY (profile), "HasPassword",
                                                  TRUE, 5000));
  g_assert_true (wait_secret_stored (fixture, first, TRUE));

  hark_dbus_profile1_call_set_password_sync (profile, "", NULL, &error);
  g_assert_no_error (error);
  g_assert_true (hark_test_wait_property_boolean (G_DBUS_PROXY (profile), "HasPassword",
                                                  FALSE, 5000));
  g_assert_true (wait_secret_stored (fixture, first, FALSE));

  /* Update("password") does the same. */
  hark_dbus_profile1_call_update_sync (profile,
                                       one_setting ("password", g_variant_new_string (second)),
                                       NULL, &error);
  g_assert_no_error (error);
  g_assert_true (hark_test_wait_property_boolean (G_DBUS_PROXY (profile), "HasPassword",
                                                  TRUE, 5000));
  g_assert_true (wait_secret_stored (fixture, second, TRUE));
  assert_secret_nowhere (fixture, first);
  assert_secret_nowhere (fixture, second);

  /* Deleting the profile forgets its password. */
  hark_dbus_profile1_call_delete_sync (profile, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (wait_secret_stored (fixture, second, FALSE));
}

static void
test_password_no_secret_service (Fixture       *fixture,
                                 gconstpointer  user_data)
{
  g_autofree char *password = random_password ();
  g_autofree char *created_password = random_password ();
  g_autoptr(GVariantDict) settings = good_settings ("memory-only");
  g_autoptr(GVariantDict) settings2 = good_settings ("memory-only-2");
  g_autoptr(HarkDBusProfile1) profile = NULL;
  g_autoptr(HarkDBusProfile1) profile2 = NULL;
  g_autoptr(GError) error = NULL;
  LogHas log_has = { fixture, "warning" };

  g_assert_null (hark_test_bus_dup_name_owner (fixture->bus, HARK_TEST_SECRETS_BUS_NAME));

  profile = create_profile_ok (fixture, settings);
  hark_dbus_profile1_call_set_password_sync (profile, password, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (hark_test_wait_property_boolean (G_DBUS_PROXY (profile), "HasPassword",
                                                  TRUE, 5000));

  g_variant_dict_insert (settings2, "password", "s", created_password);
  profile2 = create_profile_ok (fixture, settings2);
  g_assert_true (hark_test_wait_property_boolean (G_DBUS_PROXY (profile2), "HasPassword",
                                                  TRUE, 5000));

  /* Said so in the log, and kept nowhere but in memory. */
  g_assert_true (hark_test_wait_for (log_has_warning_cb, &log_has, 5000));
  assert_secret_nowhere (fixture, password);
  assert_secret_nowhere (fixture, created_password);

  fixture_restart (fixture);
  g_clear_object (&profile);
  g_clear_object (&profile2);
  profile = hark_test_bus_find_profile (fixture->bus, "memory-only");
  profile2 = hark_test_bus_find_profile (fixture->bus, "memory-only-2");
  g_assert_nonnull (profile);
  g_assert_nonnull (profile2);
  hark_test_iterate (500);
  g_assert_false (hark_dbus_profile1_get_has_password (profile));
  g_assert_false (hark_dbus_profile1_get_has_password (profile2));
  assert_secret_nowhere (fixture, password);
  assert_secret_nowhere (fixture, created_password);
}

static void
test_password_empty (Fixture       *fixture,
                     gconstpointer  user_data)
{
  g_autofree char *password = random_password ();
  g_autoptr(GVariantDict) settings = good_settings ("empty-password");
  g_autoptr(HarkDBusProfile1) profile = NULL;
  g_autoptr(GError) error = NULL;

  g_variant_dict_insert (settings, "password", "s", password);
  profile = create_profile_ok (fixture, settings);
  g_assert_true (hark_test_wait_property_boolean (G_DBUS_PROXY (profile), "HasPassword",
                                                  TRUE, 5000));

  hark_dbus_profile1_call_set_password_sync (profile, "", NULL, &error);
  g_assert_no_error (error);
  g_assert_true (hark_test_wait_property_boolean (G_DBUS_PROXY (profile), "HasPassword",
                                                  FALSE, 5000));
}

/* Tests: Register() refusals */

static void
test_register_sigcomp (Fixture       *fixture,
                       gconstpointer  user_data)
{
  g_autoptr(GVariantDict) settings = good_settings ("compressed");
  g_autoptr(HarkDBusProfile1) profile = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *registration = NULL;

  g_variant_dict_insert (settings, "sigcomp", "b", TRUE);
  profile = create_profile_ok (fixture, settings);
  g_assert_true (hark_dbus_profile1_get_sig_comp (profile));

  hark_dbus_profile1_call_register_sync (profile, &registration, NULL, &error);
  assert_error_names_key (error, HARK_ERROR_NOT_SUPPORTED, NULL);
  g_assert_true (contains_casefold (error->message, "sigcomp"));
  g_assert_null (registration);
}

static void
test_register_local (Fixture       *fixture,
                     gconstpointer  user_data)
{
  g_autoptr(HarkDBusProfile1) local = hark_test_bus_find_profile (fixture->bus, "local");
  g_autoptr(GError) error = NULL;
  g_autofree char *registration = NULL;

  g_assert_nonnull (local);
  hark_dbus_profile1_call_register_sync (local, &registration, NULL, &error);
  assert_error_names_key (error, HARK_ERROR_INVALID_STATE, NULL);
  g_assert_null (registration);
  g_assert_cmpstr (hark_dbus_profile1_get_registration (local), ==, "/");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  hark_error_quark ();

#define ADD(path, flags, func) \
  g_test_add (path, Fixture, GUINT_TO_POINTER (flags), fixture_setup, func, fixture_teardown)

  ADD ("/hark/profiles/create/good", HARK_TEST_BUS_FLAGS_NONE, test_create_good);
  ADD ("/hark/profiles/create/defaults", HARK_TEST_BUS_FLAGS_NONE, test_create_defaults);
  ADD ("/hark/profiles/create/all-settings", HARK_TEST_BUS_FLAGS_NONE, test_create_all_settings);
  ADD ("/hark/profiles/create/duplicate-name", HARK_TEST_BUS_FLAGS_NONE,
       test_create_duplicate_name);

  for (guint i = 0; i < G_N_ELEMENTS (bad_settings); i++)
    {
      g_autofree char *create_path = g_strdup_printf ("/hark/profiles/create/invalid/%s",
                                                      bad_settings[i].test);
      g_autofree char *update_path = g_strdup_printf ("/hark/profiles/update/invalid/%s",
                                                      bad_settings[i].test);

      g_test_add (create_path, Fixture, &bad_settings[i],
                  fixture_setup_case, test_create_invalid, fixture_teardown);
      if (!bad_settings[i].create_only)
        g_test_add (update_path, Fixture, &bad_settings[i],
                    fixture_setup_case, test_update_invalid, fixture_teardown);
    }

  ADD ("/hark/profiles/update/good", HARK_TEST_BUS_FLAGS_NONE, test_update);
  ADD ("/hark/profiles/update/duplicate-name", HARK_TEST_BUS_FLAGS_NONE,
       test_update_duplicate_name);
  ADD ("/hark/profiles/delete/good", HARK_TEST_BUS_FLAGS_NONE, test_delete);
  ADD ("/hark/profiles/delete/local", HARK_TEST_BUS_FLAGS_NONE, test_delete_local);
  ADD ("/hark/profiles/default/switch", HARK_TEST_BUS_FLAGS_NONE, test_default_switch);
  ADD ("/hark/profiles/default/delete-falls-back", HARK_TEST_BUS_FLAGS_NONE,
       test_default_delete_falls_back);
  ADD ("/hark/profiles/persistence/kill9", HARK_TEST_BUS_FLAGS_NONE, test_persistence_kill9);
  ADD ("/hark/profiles/persistence/update-delete", HARK_TEST_BUS_FLAGS_NONE,
       test_persistence_update_delete);
  ADD ("/hark/profiles/password/keyring", HARK_TEST_BUS_FLAGS_KEYRING, test_password_keyring);
  ADD ("/hark/profiles/password/set-and-forget", HARK_TEST_BUS_FLAGS_KEYRING,
       test_password_set_and_forget);
  ADD ("/hark/profiles/password/no-secret-service", HARK_TEST_BUS_FLAGS_NONE,
       test_password_no_secret_service);
  ADD ("/hark/profiles/password/empty", HARK_TEST_BUS_FLAGS_NONE, test_password_empty);
  ADD ("/hark/profiles/register/sigcomp", HARK_TEST_BUS_FLAGS_NONE, test_register_sigcomp);
  ADD ("/hark/profiles/register/local", HARK_TEST_BUS_FLAGS_NONE, test_register_local);

#undef ADD

  return g_test_run ();
}
