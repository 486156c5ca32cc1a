/* test-registration-dbus.c — Profile1.Register() and the Registration1
 * objects, end to end: hark-daemon on a private bus registering at a real
 * Kamailio on loopback.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <signal.h>
#include <string.h>

#include "hark-error.h"
#include "hark-test-bus.h"
#include "hark-test-kamailio.h"

#define REGISTRATION1 "io.github.hark.Hark.Registration1"
#define REGISTER_TIMEOUT_MS 15000

typedef struct {
  HarkTestBus      *bus;
  HarkTestKamailio *kamailio;
  char             *password;    /* Kamailio's, random: must never show up */
  GPtrArray        *added;
  GPtrArray        *removed;
} Fixture;

typedef struct {
  HarkTestBusFlags flags;
  const char      *algorithm;
  gboolean         tls;
  guint            max_expires;
} Setup;

static const Setup setup_plain = { HARK_TEST_BUS_FLAGS_NONE, NULL };
static const Setup setup_keyring = { HARK_TEST_BUS_FLAGS_KEYRING, NULL };
static const Setup setup_sha256 = { HARK_TEST_BUS_FLAGS_NONE, "SHA-256" };
static const Setup setup_tls = { HARK_TEST_BUS_FLAGS_NONE, NULL, TRUE };
/* Kamailio grants at most 10 s, so a refresh happens within the test. */
static const Setup setup_short = { HARK_TEST_BUS_FLAGS_NONE, NULL, FALSE, 10 };

/* For diagnostics in helpers that only get a proxy. */
static HarkTestBus *current_bus;

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

static void
on_any_signal (GDBusConnection *connection,
               const char      *sender,
               const char      *path,
               const char      *interface_name,
               const char      *signal_name,
               GVariant        *parameters,
               gpointer         user_data)
{
  g_autofree char *text = g_variant_print (parameters, FALSE);

  if (strstr (path, "Registration") != NULL || strstr (text, "Registration/") != NULL)
    g_test_message ("signal %s %s.%s %s: %s", sender, interface_name, signal_name, path, text);
}

static void
fixture_watch (Fixture *fixture)
{
  GDBusObjectManager *manager = hark_test_bus_get_object_manager (fixture->bus);

  g_signal_connect (manager, "object-added", G_CALLBACK (on_object_added), fixture);
  g_signal_connect (manager, "object-removed", G_CALLBACK (on_object_removed), fixture);
}

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  user_data)
{
  const Setup *setup = user_data;
  g_autofree char *uuid = g_uuid_string_random ();
  HarkTestKamailioOptions options = { 0 };
  g_autoptr(GError) error = NULL;

  fixture->password = g_strdup_printf ("kam-%s", uuid);
  options.password = fixture->password;
  options.algorithm = setup->algorithm;
  options.tls = setup->tls;
  options.max_expires = setup->max_expires;
  fixture->kamailio = hark_test_kamailio_start (&options, &error);
  g_assert_no_error (error);

  fixture->bus = hark_test_bus_new (setup->flags);
  current_bus = fixture->bus;
  if (g_getenv ("HARK_TEST_TRACE_SIGNALS") != NULL)
    g_dbus_connection_signal_subscribe (hark_test_bus_get_connection (fixture->bus), NULL, NULL,
                                        NULL, NULL, NULL, G_DBUS_SIGNAL_FLAGS_NONE,
                                        on_any_signal, NULL, NULL);
  fixture->added = g_ptr_array_new_with_free_func (g_free);
  fixture->removed = g_ptr_array_new_with_free_func (g_free);
  fixture_watch (fixture);
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  user_data)
{
  /* The daemon first: it may still be talking to Kamailio. */
  g_clear_pointer (&fixture->bus, hark_test_bus_free);
  current_bus = NULL;
  g_clear_pointer (&fixture->kamailio, hark_test_kamailio_free);
  g_clear_pointer (&fixture->added, g_ptr_array_unref);
  g_clear_pointer (&fixture->removed, g_ptr_array_unref);
  g_clear_pointer (&fixture->password, g_free);
}

/* Helpers */

static gboolean
array_has (GPtrArray  *array,
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

  return array_has (data->array, data->value);
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
profile_settings (Fixture    *fixture,
                  const char *name,
                  const char *user,
                  const char *transport,
                  const char *password)
{
  g_autofree char *aor = g_strdup_printf ("sip:%s@127.0.0.1", user);
  g_autofree char *registrar = hark_test_kamailio_dup_uri (fixture->kamailio, transport);
  const char *aors[] = { aor, NULL };
  GVariantDict *dict = g_variant_dict_new (NULL);

  g_variant_dict_insert (dict, "name", "s", name);
  g_variant_dict_insert_value (dict, "aors", g_variant_new_strv (aors, -1));
  g_variant_dict_insert (dict, "registrar", "s", registrar);
  g_variant_dict_insert (dict, "transport", "s", transport);
  g_variant_dict_insert (dict, "expires", "u", 120);
  if (password != NULL)
    g_variant_dict_insert (dict, "password", "s", password);

  return dict;
}

static HarkDBusProfile1 *
create_profile (Fixture      *fixture,
                GVariantDict *dict)
{
  HarkDBusManager1 *manager = hark_test_bus_get_manager (fixture->bus);
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  HarkDBusProfile1 *profile;

  hark_dbus_manager1_call_create_profile_sync (manager, g_variant_dict_end (dict), &path,
                                               NULL, &error);
  g_assert_no_error (error);
  g_assert_true (wait_in_array (fixture->added, path, 5000));
  profile = hark_test_bus_get_profile (fixture->bus, path);
  g_assert_nonnull (profile);
  return profile;
}

static HarkDBusRegistration1 *
get_registration (Fixture    *fixture,
                  const char *path)
{
  GDBusObjectManager *manager = hark_test_bus_get_object_manager (fixture->bus);
  GDBusInterface *iface;

  g_assert_true (g_str_has_prefix (path, HARK_TEST_OBJECT_PATH "/Registration/"));
  g_assert_true (wait_in_array (fixture->added, path, 5000) ||
                 g_dbus_object_manager_get_object (manager, path) != NULL);
  iface = g_dbus_object_manager_get_interface (manager, path, REGISTRATION1);
  g_assert_nonnull (iface);
  return HARK_DBUS_REGISTRATION1 (iface);
}

static HarkDBusRegistration1 *
register_profile (Fixture          *fixture,
                  HarkDBusProfile1 *profile)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;

  hark_dbus_profile1_call_register_sync (profile, &path, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (path);
  g_test_message ("registration: %s", path);
  return get_registration (fixture, path);
}

static void
on_state_changed (GDBusProxy         *proxy,
                  GVariant           *changed,
                  const char * const *invalidated,
                  GPtrArray          *states)
{
  const char *state;

  if (g_variant_lookup (changed, "State", "&s", &state))
    g_ptr_array_add (states, g_strdup (state));
}

static gboolean
wait_state (HarkDBusRegistration1 *registration,
            const char            *state,
            guint                  timeout_ms)
{
  gboolean ok = hark_test_wait_property_string (G_DBUS_PROXY (registration), "State", state,
                                                timeout_ms);

  if (!ok)
    {
      const char *path = g_dbus_proxy_get_object_path (G_DBUS_PROXY (registration));
      g_autoptr(GVariant) fresh = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *fresh_str = NULL;

      g_test_message ("cached: State %s (%s, %u)",
                      hark_dbus_registration1_get_state (registration),
                      hark_dbus_registration1_get_state_reason (registration),
                      hark_dbus_registration1_get_status_code (registration));
      /* Tell a stale client cache from a daemon that did not update. */
      fresh = hark_test_bus_get_all_properties (current_bus, path, REGISTRATION1, &error);
      fresh_str = fresh != NULL ? g_variant_print (fresh, TRUE) : g_strdup (error->message);
      g_test_message ("GetAll on %s now: %s", path, fresh_str);
    }
  return ok;
}

typedef struct {
  HarkTestKamailio *kamailio;
  const char       *user;
  gboolean          present;
} BindingIs;

static gboolean
binding_is_cb (gpointer user_data)
{
  BindingIs *data = user_data;

  return hark_test_kamailio_has_binding (data->kamailio, data->user) == data->present;
}

static gboolean
wait_binding (Fixture    *fixture,
              const char *user,
              gboolean    present,
              guint       timeout_ms)
{
  BindingIs data = { fixture->kamailio, user, present };

  return hark_test_wait_for (binding_is_cb, &data, timeout_ms);
}

static gboolean
registration_set_cb (gpointer user_data)
{
  const char *path = hark_dbus_profile1_get_registration (user_data);

  return path != NULL && !g_str_equal (path, "/");
}

static void
assert_password_not_logged (Fixture *fixture)
{
  g_autofree char *log = hark_test_bus_read_log (fixture->bus);
  g_autofree char *found = NULL;

  g_assert_nonnull (strstr (log, "=== hark-test-bus: starting hark-daemon"));
  if (strstr (log, fixture->password) != NULL)
    g_error ("the password is in the daemon's log %s", hark_test_bus_get_log_path (fixture->bus));
  found = hark_test_find_in_files (hark_test_bus_get_config_home (fixture->bus),
                                   fixture->password);
  if (found != NULL)
    g_error ("the password is in %s", found);
}

static gboolean
contains_casefold (const char *haystack,
                   const char *needle)
{
  g_autofree char *h = g_utf8_casefold (haystack, -1);
  g_autofree char *n = g_utf8_casefold (needle, -1);

  return strstr (h, n) != NULL;
}

/* Tests */

static void
test_register_unregister (Fixture       *fixture,
                          gconstpointer  user_data)
{
  g_autoptr(GVariantDict) settings = profile_settings (fixture, "kam", "alice", "udp",
                                                       fixture->password);
  g_autoptr(HarkDBusProfile1) profile = NULL;
  g_autoptr(HarkDBusRegistration1) registration = NULL;
  g_autoptr(GPtrArray) states = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  g_autofree char *again = NULL;
  const char *path;
  const char *contact;
  guint registers;

  profile = create_profile (fixture, settings);
  g_assert_true (hark_test_wait_property_boolean (G_DBUS_PROXY (profile), "HasPassword",
                                                  TRUE, 5000));
  g_assert_false (hark_test_kamailio_has_binding (fixture->kamailio, "alice"));

  registration = register_profile (fixture, profile);
  g_signal_connect (registration, "g-properties-changed", G_CALLBACK (on_state_changed), states);
  path = g_dbus_proxy_get_object_path (G_DBUS_PROXY (registration));
  g_assert_cmpstr (hark_dbus_registration1_get_profile (registration), ==,
                   g_dbus_proxy_get_object_path (G_DBUS_PROXY (profile)));
  g_assert_true (hark_test_wait_property (G_DBUS_PROXY (profile), "Registration",
                                          g_variant_new_object_path (path), 2000));

  g_assert_true (wait_state (registration, "registered", REGISTER_TIMEOUT_MS));
  g_assert_cmpuint (hark_dbus_registration1_get_status_code (registration), ==, 200);
  g_assert_cmpuint (hark_dbus_registration1_get_expires (registration), >, 0);
  g_assert_cmpuint (hark_dbus_registration1_get_expires (registration), <=, 120);
  contact = hark_dbus_registration1_get_contact (registration);
  g_test_message ("Contact: %s", contact);
  g_assert_true (g_str_has_prefix (contact, "sip:") || g_str_has_prefix (contact, "<sip:"));
  g_assert_true (hark_test_kamailio_has_binding (fixture->kamailio, "alice"));
  /* It went through "registering" unless that was never visible at all. */
  if (states->len > 0 && !g_str_equal (g_ptr_array_index (states, 0), "registered"))
    g_assert_cmpstr (g_ptr_array_index (states, 0), ==, "registering");

  /* Register() again: the same object, no new REGISTER needed. */
  hark_dbus_profile1_call_register_sync (profile, &again, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (again, ==, path);

  /* Refresh sends a REGISTER now and stays registered. */
  registers = hark_test_kamailio_count_requests (fixture->kamailio, "REGISTER");
  hark_dbus_registration1_call_refresh_sync (registration, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (wait_state (registration, "registered", REGISTER_TIMEOUT_MS));
  hark_test_iterate (500);
  g_assert_cmpuint (hark_test_kamailio_count_requests (fixture->kamailio, "REGISTER"), >,
                    registers);

  /* Unregister: Expires 0 at the registrar, "unregistered"/"requested" here. */
  hark_dbus_registration1_call_unregister_sync (registration, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (wait_state (registration, "unregistered", REGISTER_TIMEOUT_MS));
  g_assert_cmpstr (hark_dbus_registration1_get_state_reason (registration), ==, "requested");
  g_assert_cmpuint (hark_dbus_registration1_get_expires (registration), ==, 0);
  g_assert_true (wait_binding (fixture, "alice", FALSE, 5000));

  hark_dbus_registration1_call_unregister_sync (registration, NULL, &error);
  g_assert_error (error, HARK_ERROR, HARK_ERROR_INVALID_STATE);
  g_clear_error (&error);

  /* Refresh registers an unregistered binding again. */
  hark_dbus_registration1_call_refresh_sync (registration, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (wait_state (registration, "registered", REGISTER_TIMEOUT_MS));
  g_assert_true (wait_binding (fixture, "alice", TRUE, 5000));

  assert_password_not_logged (fixture);
}

static void
test_tcp (Fixture       *fixture,
          gconstpointer  user_data)
{
  g_autoptr(GVariantDict) settings = profile_settings (fixture, "kam-tcp", "bob", "tcp",
                                                       fixture->password);
  g_autoptr(HarkDBusProfile1) profile = NULL;
  g_autoptr(HarkDBusRegistration1) registration = NULL;

  profile = create_profile (fixture, settings);
  registration = register_profile (fixture, profile);
  g_assert_true (wait_state (registration, "registered", REGISTER_TIMEOUT_MS));
  g_assert_true (hark_test_kamailio_has_binding (fixture->kamailio, "bob"));
  assert_password_not_logged (fixture);
}

static void
test_wrong_password (Fixture       *fixture,
                     gconstpointer  user_data)
{
  g_autoptr(GVariantDict) settings = profile_settings (fixture, "kam-wrong", "carol", "udp",
                                                       "not-the-password");
  g_autoptr(HarkDBusProfile1) profile = NULL;
  g_autoptr(HarkDBusRegistration1) registration = NULL;
  g_autoptr(GError) error = NULL;
  guint code;

  profile = create_profile (fixture, settings);
  registration = register_profile (fixture, profile);
  g_assert_true (wait_state (registration, "failed", REGISTER_TIMEOUT_MS));
  g_assert_cmpstr (hark_dbus_registration1_get_state_reason (registration), ==, "auth-failed");
  code = hark_dbus_registration1_get_status_code (registration);
  g_test_message ("StatusCode after a wrong password: %u", code);
  g_assert_true (code == 401 || code == 403 || code == 407);
  g_assert_false (hark_test_kamailio_has_binding (fixture->kamailio, "carol"));

  /* No retry loop on an authentication failure. */
  {
    guint registers = hark_test_kamailio_count_requests (fixture->kamailio, "REGISTER");

    hark_test_iterate (3000);
    g_assert_cmpuint (hark_test_kamailio_count_requests (fixture->kamailio, "REGISTER"), ==,
                      registers);
  }

  /* An empty password is refused; the right one continues. */
  hark_dbus_registration1_call_authenticate_sync (registration, "", "", NULL, &error);
  g_assert_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  hark_dbus_registration1_call_authenticate_sync (registration, "", fixture->password,
                                                  NULL, &error);
  g_assert_no_error (error);
  g_assert_true (wait_state (registration, "registered", REGISTER_TIMEOUT_MS));
  g_assert_true (hark_test_kamailio_has_binding (fixture->kamailio, "carol"));

  /* Authenticate only continues after auth-failed. */
  hark_dbus_registration1_call_authenticate_sync (registration, "", fixture->password,
                                                  NULL, &error);
  g_assert_error (error, HARK_ERROR, HARK_ERROR_INVALID_STATE);
  assert_password_not_logged (fixture);
}

static void
test_no_password (Fixture       *fixture,
                  gconstpointer  user_data)
{
  g_autoptr(GVariantDict) settings = profile_settings (fixture, "kam-none", "dave", "udp", NULL);
  g_autoptr(HarkDBusProfile1) profile = NULL;
  g_autoptr(HarkDBusRegistration1) registration = NULL;

  profile = create_profile (fixture, settings);
  g_assert_false (hark_dbus_profile1_get_has_password (profile));
  registration = register_profile (fixture, profile);
  g_assert_true (wait_state (registration, "failed", REGISTER_TIMEOUT_MS));
  g_assert_cmpstr (hark_dbus_registration1_get_state_reason (registration), ==, "auth-failed");
  g_assert_false (hark_test_kamailio_has_binding (fixture->kamailio, "dave"));
}

static void
test_connection_refused (Fixture       *fixture,
                         gconstpointer  user_data)
{
  g_autoptr(GVariantDict) settings = profile_settings (fixture, "nobody-there", "erin", "tcp",
                                                       fixture->password);
  g_autoptr(HarkDBusProfile1) profile = NULL;
  g_autoptr(HarkDBusRegistration1) registration = NULL;
  g_autofree char *registrar = NULL;
  const char *reason;

  /* TCP to a port nobody listens on: refused at once. */
  registrar = g_strdup_printf ("sip:127.0.0.1:%u;transport=tcp", hark_test_get_free_port (FALSE));
  g_variant_dict_insert (settings, "registrar", "s", registrar);
  profile = create_profile (fixture, settings);
  registration = register_profile (fixture, profile);
  g_assert_true (wait_state (registration, "failed", REGISTER_TIMEOUT_MS));
  reason = hark_dbus_registration1_get_state_reason (registration);
  g_test_message ("StateReason: %s, StatusCode: %u", reason,
                  hark_dbus_registration1_get_status_code (registration));
  g_assert_true (g_str_equal (reason, "network") || g_str_equal (reason, "timeout"));
}

static void
test_delete_registered (Fixture       *fixture,
                        gconstpointer  user_data)
{
  g_autoptr(GVariantDict) settings = profile_settings (fixture, "kam-delete", "frank", "udp",
                                                       fixture->password);
  g_autoptr(HarkDBusProfile1) profile = NULL;
  g_autoptr(HarkDBusRegistration1) registration = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;

  profile = create_profile (fixture, settings);
  registration = register_profile (fixture, profile);
  path = g_strdup (g_dbus_proxy_get_object_path (G_DBUS_PROXY (registration)));
  g_assert_true (wait_state (registration, "registered", REGISTER_TIMEOUT_MS));
  g_assert_true (hark_test_kamailio_has_binding (fixture->kamailio, "frank"));

  /* Delete unregisters (bounded) and takes the registration along. */
  hark_dbus_profile1_call_delete_sync (profile, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (wait_in_array (fixture->removed, path, 10000));
  g_assert_true (wait_binding (fixture, "frank", FALSE, 10000));
}

static void
test_register_sigcomp_state (Fixture       *fixture,
                             gconstpointer  user_data)
{
  g_autoptr(GVariantDict) settings = profile_settings (fixture, "kam-sigcomp", "gina", "udp",
                                                       fixture->password);
  g_autoptr(HarkDBusProfile1) profile = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;

  g_variant_dict_insert (settings, "sigcomp", "b", TRUE);
  profile = create_profile (fixture, settings);
  hark_dbus_profile1_call_register_sync (profile, &path, NULL, &error);
  g_assert_error (error, HARK_ERROR, HARK_ERROR_NOT_SUPPORTED);
  g_assert_true (contains_casefold (error->message, "sigcomp"));
  hark_test_iterate (500);
  g_assert_cmpuint (hark_test_kamailio_count_requests (fixture->kamailio, "REGISTER"), ==, 0);
}

static void
test_auto_register (Fixture       *fixture,
                    gconstpointer  user_data)
{
  g_autoptr(GVariantDict) settings = profile_settings (fixture, "kam-auto", "henry", "udp",
                                                       fixture->password);
  g_autoptr(HarkDBusProfile1) profile = NULL;
  g_autoptr(HarkDBusRegistration1) registration = NULL;
  const char *path;

  g_variant_dict_insert (settings, "auto-register", "b", TRUE);
  profile = create_profile (fixture, settings);
  g_assert_true (hark_test_wait_property_boolean (G_DBUS_PROXY (profile), "HasPassword",
                                                  TRUE, 5000));

  /* The next start registers it by itself, with the password from the
   * Secret Service. */
  hark_test_bus_restart_daemon (fixture->bus);
  fixture_watch (fixture);
  g_clear_object (&profile);
  profile = hark_test_bus_find_profile (fixture->bus, "kam-auto");
  g_assert_nonnull (profile);
  g_assert_true (wait_binding (fixture, "henry", TRUE, REGISTER_TIMEOUT_MS));

  g_assert_true (hark_test_wait_for (registration_set_cb, profile, 5000));
  path = hark_dbus_profile1_get_registration (profile);
  g_assert_cmpstr (path, !=, "/");
  registration = get_registration (fixture, path);
  g_assert_true (wait_state (registration, "registered", REGISTER_TIMEOUT_MS));
  assert_password_not_logged (fixture);
}

/* Registers a fresh profile for @user over @transport and waits for it. */
static HarkDBusRegistration1 *
register_user (Fixture          *fixture,
               const char       *user,
               const char       *transport,
               GVariantDict     *extra,
               HarkDBusProfile1 **out_profile)
{
  g_autoptr(GVariantDict) settings = profile_settings (fixture, user, user, transport,
                                                       fixture->password);
  g_autoptr(HarkDBusProfile1) profile = NULL;
  HarkDBusRegistration1 *registration;

  if (extra != NULL)
    {
      g_autoptr(GVariant) more = g_variant_ref_sink (g_variant_dict_end (extra));
      GVariantIter iter;
      const char *key;
      GVariant *value;

      g_variant_iter_init (&iter, more);
      while (g_variant_iter_loop (&iter, "{&sv}", &key, &value))
        g_variant_dict_insert_value (settings, key, value);
    }

  profile = create_profile (fixture, settings);
  registration = register_profile (fixture, profile);
  if (out_profile != NULL)
    *out_profile = g_steal_pointer (&profile);
  return registration;
}

static void
test_sha256 (Fixture       *fixture,
             gconstpointer  user_data)
{
  g_autoptr(HarkDBusRegistration1) registration = NULL;

  registration = register_user (fixture, "ivan", "udp", NULL, NULL);
  g_assert_true (wait_state (registration, "registered", REGISTER_TIMEOUT_MS));
  g_assert_true (hark_test_kamailio_has_binding (fixture->kamailio, "ivan"));
  assert_password_not_logged (fixture);
}

static void
test_tls (Fixture       *fixture,
          gconstpointer  user_data)
{
  g_autoptr(HarkDBusRegistration1) registration = NULL;
  g_autoptr(HarkDBusRegistration1) untrusted = NULL;
  GVariantDict *trusted_ca = g_variant_dict_new (NULL);
  GVariantDict *other_ca = g_variant_dict_new (NULL);

  /* The harness's CA, named by the profile: verified, registered. */
  g_variant_dict_insert (trusted_ca, "ca-file", "s",
                         hark_test_kamailio_get_ca_file (fixture->kamailio));
  registration = register_user (fixture, "judy", "tls", trusted_ca, NULL);
  g_assert_true (wait_state (registration, "registered", REGISTER_TIMEOUT_MS));
  g_assert_true (hark_test_kamailio_has_binding (fixture->kamailio, "judy"));

  /* A CA that did not sign Kamailio's certificate: refused at once, and
   * never a silent fall back to another transport. */
  g_variant_dict_insert (other_ca, "ca-file", "s",
                         hark_test_kamailio_get_other_ca_file (fixture->kamailio));
  untrusted = register_user (fixture, "kim", "tls", other_ca, NULL);
  g_assert_true (wait_state (untrusted, "failed", 10000));
  g_assert_cmpstr (hark_dbus_registration1_get_state_reason (untrusted), ==,
                   "tls-verify-failed");
  g_assert_false (hark_test_kamailio_has_binding (fixture->kamailio, "kim"));
  g_variant_dict_unref (trusted_ca);
  g_variant_dict_unref (other_ca);
}

static void
test_refresh_before_expiry (Fixture       *fixture,
                            gconstpointer  user_data)
{
  g_autoptr(HarkDBusRegistration1) registration = NULL;
  guint registers;

  registration = register_user (fixture, "leo", "udp", NULL, NULL);
  g_assert_true (wait_state (registration, "registered", REGISTER_TIMEOUT_MS));
  g_assert_cmpuint (hark_dbus_registration1_get_expires (registration), <=, 10);

  /* Past the granted 10 s the binding is still there: it was refreshed. */
  registers = hark_test_kamailio_count_requests (fixture->kamailio, "REGISTER");
  hark_test_iterate (12000);
  g_assert_cmpuint (hark_test_kamailio_count_requests (fixture->kamailio, "REGISTER"), >,
                    registers);
  g_assert_cmpstr (hark_dbus_registration1_get_state (registration), ==, "registered");
  g_assert_true (hark_test_kamailio_has_binding (fixture->kamailio, "leo"));
}

static void
test_registrar_down_and_up (Fixture       *fixture,
                            gconstpointer  user_data)
{
  g_autoptr(HarkDBusRegistration1) registration = NULL;
  g_autoptr(GError) error = NULL;

  registration = register_user (fixture, "mia", "udp", NULL, NULL);
  g_assert_true (wait_state (registration, "registered", REGISTER_TIMEOUT_MS));

  g_assert_true (hark_test_kamailio_stop (fixture->kamailio, &error));
  g_assert_no_error (error);
  hark_dbus_registration1_call_refresh_sync (registration, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (wait_state (registration, "failed", REGISTER_TIMEOUT_MS));
  g_test_message ("registrar down: %s/%u",
                  hark_dbus_registration1_get_state_reason (registration),
                  hark_dbus_registration1_get_status_code (registration));
  g_assert_cmpstr (hark_dbus_registration1_get_state_reason (registration), ==, "network");

  /* Back up: the back-off retries register again without anyone asking. */
  g_assert_true (hark_test_kamailio_restart (fixture->kamailio, &error));
  g_assert_no_error (error);
  g_assert_true (wait_state (registration, "registered", 20000));
  g_assert_true (hark_test_kamailio_has_binding (fixture->kamailio, "mia"));
}

static void
test_sigterm_unregisters (Fixture       *fixture,
                          gconstpointer  user_data)
{
  g_autoptr(HarkDBusRegistration1) registration = NULL;
  int status = 0;

  registration = register_user (fixture, "nina", "udp", NULL, NULL);
  g_assert_true (wait_state (registration, "registered", REGISTER_TIMEOUT_MS));
  g_assert_true (hark_test_kamailio_has_binding (fixture->kamailio, "nina"));

  g_assert_true (hark_test_bus_kill_daemon (fixture->bus, SIGTERM, 8000, &status));
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 0);
  g_assert_false (hark_test_kamailio_has_binding (fixture->kamailio, "nina"));
}

static void
test_kill9_keeps_profiles (Fixture       *fixture,
                           gconstpointer  user_data)
{
  g_autoptr(HarkDBusProfile1) profile = NULL;
  g_autoptr(HarkDBusRegistration1) registration = NULL;
  GVariantDict *auto_register = g_variant_dict_new (NULL);
  const char *path;
  guint registers;
  int status = 0;

  g_variant_dict_insert (auto_register, "auto-register", "b", TRUE);
  registration = register_user (fixture, "owen", "udp", auto_register, &profile);
  g_variant_dict_unref (auto_register);
  g_assert_true (wait_state (registration, "registered", REGISTER_TIMEOUT_MS));
  g_assert_true (hark_test_wait_property_boolean (G_DBUS_PROXY (profile), "HasPassword",
                                                  TRUE, 5000));

  /* No chance to unregister or save anything more. */
  g_assert_true (hark_test_bus_kill_daemon (fixture->bus, SIGKILL, 5000, &status));
  g_assert_true (WIFSIGNALED (status));
  g_clear_object (&registration);
  g_clear_object (&profile);

  registers = hark_test_kamailio_count_requests (fixture->kamailio, "REGISTER");
  hark_test_bus_start_daemon (fixture->bus);
  g_assert_true (hark_test_bus_wait_clients (fixture->bus, 5000));
  fixture_watch (fixture);

  profile = hark_test_bus_find_profile (fixture->bus, "owen");
  g_assert_nonnull (profile);
  g_assert_true (hark_dbus_profile1_get_auto_register (profile));
  g_assert_cmpuint (hark_dbus_profile1_get_expires (profile), ==, 120);
  g_assert_true (hark_test_wait_for (registration_set_cb, profile, 5000));
  path = hark_dbus_profile1_get_registration (profile);
  registration = get_registration (fixture, path);
  g_assert_true (wait_state (registration, "registered", REGISTER_TIMEOUT_MS));
  g_assert_cmpuint (hark_test_kamailio_count_requests (fixture->kamailio, "REGISTER"), >,
                    registers);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  hark_error_quark ();

#define ADD(path, setup, func) \
  g_test_add (path, Fixture, setup, fixture_setup, func, fixture_teardown)

  ADD ("/hark/registration/register-unregister", &setup_plain, test_register_unregister);
  ADD ("/hark/registration/tcp", &setup_plain, test_tcp);
  ADD ("/hark/registration/wrong-password", &setup_plain, test_wrong_password);
  ADD ("/hark/registration/no-password", &setup_plain, test_no_password);
  ADD ("/hark/registration/connection-refused", &setup_plain, test_connection_refused);
  ADD ("/hark/registration/delete-registered", &setup_plain, test_delete_registered);
  ADD ("/hark/registration/sigcomp", &setup_plain, test_register_sigcomp_state);
  ADD ("/hark/registration/auto-register", &setup_keyring, test_auto_register);
  ADD ("/hark/registration/sha256", &setup_sha256, test_sha256);
  ADD ("/hark/registration/tls", &setup_tls, test_tls);
  ADD ("/hark/registration/refresh-before-expiry", &setup_short, test_refresh_before_expiry);
  ADD ("/hark/registration/registrar-down-and-up", &setup_plain, test_registrar_down_and_up);
  ADD ("/hark/registration/sigterm-unregisters", &setup_plain, test_sigterm_unregisters);
  ADD ("/hark/registration/kill9-keeps-profiles", &setup_keyring, test_kill9_keeps_profiles);

#undef ADD

  return g_test_run ();
}
