/* test-daemon.c — hark-daemon as a process: its bus name, its root object,
 * the built-in "local" profile, its command line and its signals.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "hark-env.h"
#include "hark-error.h"
#include "hark-linger.h"
#include "hark-test-bus.h"

typedef struct {
  HarkTestBus *bus;
} Fixture;

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  user_data)
{
  fixture->bus = hark_test_bus_new (GPOINTER_TO_UINT (user_data));
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  user_data)
{
  g_clear_pointer (&fixture->bus, hark_test_bus_free);
}

/* Helpers */

static char *
describe_wait_status (int status)
{
  if (WIFEXITED (status))
    return g_strdup_printf ("exit status %d", WEXITSTATUS (status));
  if (WIFSIGNALED (status))
    return g_strdup_printf ("killed by signal %d (%s)", WTERMSIG (status),
                            g_strsignal (WTERMSIG (status)));
  return g_strdup_printf ("wait status 0x%x", status);
}

static gboolean
contains_casefold (const char *haystack,
                   const char *needle)
{
  g_autofree char *h = g_utf8_casefold (haystack, -1);
  g_autofree char *n = g_utf8_casefold (needle, -1);

  return strstr (h, n) != NULL;
}

static gboolean
contact_is_reachable_uri (const char *contact)
{
  /* sip:user@host:port with an IPv4/IPv6 literal or a name, and a port. */
  return g_regex_match_simple ("^sips?:[^@\\s]+@(\\[[0-9a-fA-F:.]+\\]|[^:;\\[\\]\\s]+):"
                               "([1-9][0-9]{0,4})([;>].*)?$",
                               contact, 0, 0);
}

static gboolean
contact_is_set_cb (gpointer user_data)
{
  HarkDBusProfile1 *profile = user_data;
  const char *contact = hark_dbus_profile1_get_contact (profile);

  return contact != NULL && *contact != '\0';
}

/* Tests */

static void
test_name_owned (Fixture       *fixture,
                 gconstpointer  user_data)
{
  HarkTestProcess *daemon = hark_test_bus_get_daemon (fixture->bus);
  g_autofree char *owner = NULL;

  owner = hark_test_bus_dup_name_owner (fixture->bus, HARK_TEST_BUS_NAME);
  g_assert_nonnull (owner);
  g_assert_true (g_dbus_is_unique_name (owner));
  g_assert_cmpuint (hark_test_bus_get_name_owner_pid (fixture->bus, HARK_TEST_BUS_NAME), ==,
                    (guint) hark_test_process_get_pid (daemon));
  g_assert_false (daemon->exited);
}

/* GLib < 2.76's GSlice never gives memory back: the daemon restarts itself
 * (same process) with G_SLICE=always-malloc unless G_SLICE is set. */
static void
test_plain_malloc (Fixture       *fixture,
                   gconstpointer  user_data)
{
  HarkTestProcess *daemon = hark_test_bus_get_daemon (fixture->bus);
  g_autofree char *path = NULL;
  g_autofree char *environ_text = NULL;
  gsize length;
  g_autoptr(GError) error = NULL;
  gboolean found = FALSE;

  if (glib_check_version (2, 76, 0) == NULL || g_getenv ("G_SLICE") != NULL)
    {
      g_test_skip ("GSlice uses malloc already, or G_SLICE is set");
      return;
    }

  path = g_strdup_printf ("/proc/%d/environ", hark_test_process_get_pid (daemon));
  g_assert_true (g_file_get_contents (path, &environ_text, &length, &error));
  g_assert_no_error (error);
  for (gsize i = 0; i < length; i += strlen (environ_text + i) + 1)
    found = found || g_str_equal (environ_text + i, "G_SLICE=always-malloc");
  g_assert_true (found);
  /* Named as before (ps, pgrep, systemd), not after /proc/self/exe. */
  g_free (path);
  path = g_strdup_printf ("/proc/%d/comm", hark_test_process_get_pid (daemon));
  g_free (environ_text);
  g_assert_true (g_file_get_contents (path, &environ_text, NULL, &error));
  g_assert_cmpstr (g_strstrip (environ_text), ==, "hark-daemon");
  /* Still the process that was started, serving. */
  g_assert_cmpuint (hark_test_bus_get_name_owner_pid (fixture->bus, HARK_TEST_BUS_NAME), ==,
                    (guint) hark_test_process_get_pid (daemon));
}

static void
test_object_manager (Fixture       *fixture,
                     gconstpointer  user_data)
{
  GDBusConnection *connection = hark_test_bus_get_connection (fixture->bus);
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) objects = NULL;
  g_autoptr(GVariant) interfaces = NULL;
  g_autoptr(GVariant) default_profile = NULL;
  g_autoptr(GError) error = NULL;
  GVariantIter iter;
  const char *path;
  GVariant *value;
  guint n_profiles = 0;

  /* Raw GetManagedObjects, not the generated client: the reply itself must
   * carry the root and the profile with its properties. */
  reply = g_dbus_connection_call_sync (connection, HARK_TEST_BUS_NAME, HARK_TEST_OBJECT_PATH,
                                       "org.freedesktop.DBus.ObjectManager", "GetManagedObjects",
                                       NULL, G_VARIANT_TYPE ("(a{oa{sa{sv}}})"),
                                       G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  g_assert_no_error (error);
  objects = g_variant_get_child_value (reply, 0);

  g_variant_iter_init (&iter, objects);
  while (g_variant_iter_next (&iter, "{&o@a{sa{sv}}}", &path, &value))
    {
      g_autoptr(GVariant) profile = NULL;

      g_assert_true (g_str_has_prefix (path, HARK_TEST_OBJECT_PATH "/"));
      profile = g_variant_lookup_value (value, HARK_TEST_PROFILE1, G_VARIANT_TYPE ("a{sv}"));
      if (profile != NULL)
        {
          const char *name = NULL;

          n_profiles++;
          g_assert_true (g_variant_lookup (profile, "Name", "&s", &name));
          g_assert_cmpstr (name, ==, "local");
        }
      g_variant_unref (value);
    }
  g_assert_cmpuint (n_profiles, ==, 1);

  /* The root itself answers Manager1 (it is not one of its managed objects). */
  interfaces = hark_test_bus_get_all_properties (fixture->bus, HARK_TEST_OBJECT_PATH,
                                                 HARK_TEST_MANAGER1, &error);
  g_assert_no_error (error);
  default_profile = g_variant_lookup_value (interfaces, "DefaultProfile",
                                            G_VARIANT_TYPE_OBJECT_PATH);
  g_assert_nonnull (default_profile);
}

static void
test_local_profile (Fixture       *fixture,
                    gconstpointer  user_data)
{
  HarkDBusManager1 *manager = hark_test_bus_get_manager (fixture->bus);
  g_autoptr(HarkDBusProfile1) local = NULL;
  g_autolist(HarkDBusProfile1) profiles = NULL;
  const char *path;
  const char *contact;

  profiles = hark_test_bus_list_profiles (fixture->bus);
  g_assert_cmpuint (g_list_length (profiles), ==, 1);

  local = hark_test_bus_find_profile (fixture->bus, "local");
  g_assert_nonnull (local);
  path = g_dbus_proxy_get_object_path (G_DBUS_PROXY (local));
  g_assert_true (g_str_has_prefix (path, HARK_TEST_OBJECT_PATH "/Profile/"));

  g_assert_cmpstr (hark_dbus_profile1_get_name (local), ==, "local");
  g_assert_cmpstr (hark_dbus_profile1_get_kind (local), ==, "other");
  g_assert_true (hark_dbus_profile1_get_default (local));
  g_assert_cmpstr (hark_dbus_profile1_get_registrar (local), ==, "");
  g_assert_false (hark_dbus_profile1_get_has_password (local));
  g_assert_cmpstr (hark_dbus_profile1_get_registration (local), ==, "/");
  g_assert_nonnull (hark_dbus_profile1_get_id (local));
  g_assert_cmpstr (hark_dbus_profile1_get_id (local), !=, "");

  /* Contact is "" until the SIP stack listens; then a URI others can call. */
  g_assert_true (hark_test_wait_for (contact_is_set_cb, local, 5000));
  contact = hark_dbus_profile1_get_contact (local);
  g_test_message ("local Contact: %s", contact);
  g_assert_true (contact_is_reachable_uri (contact));

  g_assert_cmpstr (hark_dbus_manager1_get_default_profile (manager), ==, path);
}

static void
test_version_property (Fixture       *fixture,
                       gconstpointer  user_data)
{
  HarkDBusManager1 *manager = hark_test_bus_get_manager (fixture->bus);
  const char *version = hark_dbus_manager1_get_version (manager);

  g_assert_nonnull (version);
  g_assert_cmpstr (version, !=, "");
  g_assert_cmpstr (version, ==, PACKAGE_VERSION);
}

static void
test_sigterm (Fixture       *fixture,
              gconstpointer  user_data)
{
  g_autofree char *how = NULL;
  int status = 0;

  g_assert_true (hark_test_bus_kill_daemon (fixture->bus, SIGTERM, 3000, &status));
  how = describe_wait_status (status);
  g_test_message ("hark-daemon after SIGTERM: %s", how);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 0);
  g_assert_true (hark_test_bus_wait_name_owner (fixture->bus, HARK_TEST_BUS_NAME, FALSE, 1000));
}

static void
test_sigint (Fixture       *fixture,
             gconstpointer  user_data)
{
  g_autofree char *how = NULL;
  int status = 0;

  g_assert_true (hark_test_bus_kill_daemon (fixture->bus, SIGINT, 3000, &status));
  how = describe_wait_status (status);
  g_test_message ("hark-daemon after SIGINT: %s", how);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 0);
}

static void
test_help (Fixture       *fixture,
           gconstpointer  user_data)
{
  const char *argv[] = { HARK_DAEMON_PATH, "--help", NULL };
  g_autofree char *output = NULL;
  int status = 0;

  g_assert_true (hark_test_bus_run (fixture->bus, argv, 5000, &output, &status));
  g_test_message ("hark-daemon --help:\n%s", output);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 0);
  g_assert_true (strstr (output, "Usage:") != NULL);
  g_assert_true (strstr (output, "--replace") != NULL);
  g_assert_true (strstr (output, "--version") != NULL);
  /* --help only prints. */
  g_assert_null (hark_test_bus_dup_name_owner (fixture->bus, HARK_TEST_BUS_NAME));
}

static void
test_version_option (Fixture       *fixture,
                     gconstpointer  user_data)
{
  const char *argv[] = { HARK_DAEMON_PATH, "--version", NULL };
  g_autofree char *output = NULL;
  int status = 0;

  g_assert_true (hark_test_bus_run (fixture->bus, argv, 5000, &output, &status));
  g_test_message ("hark-daemon --version: %s", output);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 0);
  g_assert_true (strstr (output, PACKAGE_VERSION) != NULL);
  g_assert_null (hark_test_bus_dup_name_owner (fixture->bus, HARK_TEST_BUS_NAME));
}

static void
test_bad_option (Fixture       *fixture,
                 gconstpointer  user_data)
{
  const char *argv[] = { HARK_DAEMON_PATH, "--no-such-option", NULL };
  g_autofree char *output = NULL;
  int status = 0;

  g_assert_true (hark_test_bus_run (fixture->bus, argv, 5000, &output, &status));
  g_test_message ("hark-daemon --no-such-option: %s", output);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), !=, 0);
  g_assert_true (strstr (output, "--no-such-option") != NULL);
  g_assert_null (hark_test_bus_dup_name_owner (fixture->bus, HARK_TEST_BUS_NAME));
}

static void
test_second_instance (Fixture       *fixture,
                      gconstpointer  user_data)
{
  const char *argv[] = { HARK_DAEMON_PATH, NULL };
  HarkTestProcess *first = hark_test_bus_get_daemon (fixture->bus);
  HarkDBusManager1 *manager = NULL;
  g_autofree char *output = NULL;
  g_autofree char *how = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) version = NULL;
  int status = 0;

  g_assert_true (hark_test_bus_run (fixture->bus, argv, 10000, &output, &status));
  how = describe_wait_status (status);
  g_test_message ("second hark-daemon: %s, said:\n%s", how, output);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), !=, 0);

  /* The message names the bus name and says it is taken. */
  g_assert_true (strstr (output, HARK_TEST_BUS_NAME) != NULL);
  g_assert_true (contains_casefold (output, "taken") ||
                 contains_casefold (output, "already") ||
                 contains_casefold (output, "owned") ||
                 contains_casefold (output, "in use") ||
                 contains_casefold (output, "running"));

  /* The first one is untouched and still answers. */
  g_assert_false (first->exited);
  g_assert_cmpuint (hark_test_bus_get_name_owner_pid (fixture->bus, HARK_TEST_BUS_NAME), ==,
                    (guint) hark_test_process_get_pid (first));
  manager = hark_test_bus_get_manager (fixture->bus);
  version = g_dbus_connection_call_sync (hark_test_bus_get_connection (fixture->bus),
                                         HARK_TEST_BUS_NAME, HARK_TEST_OBJECT_PATH,
                                         "org.freedesktop.DBus.Properties", "Get",
                                         g_variant_new ("(ss)", HARK_TEST_MANAGER1, "Version"),
                                         G_VARIANT_TYPE ("(v)"), G_DBUS_CALL_FLAGS_NONE, -1,
                                         NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (manager);
}

typedef struct {
  HarkTestBus     *bus;
  HarkTestProcess *process;
} OwnerIs;

static gboolean
owner_is_cb (gpointer user_data)
{
  OwnerIs *data = user_data;

  return hark_test_bus_get_name_owner_pid (data->bus, HARK_TEST_BUS_NAME) ==
         (guint32) hark_test_process_get_pid (data->process);
}

static void
test_replace (Fixture       *fixture,
              gconstpointer  user_data)
{
  const char *argv[] = { HARK_DAEMON_PATH, "--replace", NULL };
  HarkTestProcess *first = hark_test_bus_get_daemon (fixture->bus);
  HarkTestProcess *second;
  g_autoptr(HarkDBusProfile1) local = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *how = NULL;
  OwnerIs owner_is;

  second = hark_test_bus_spawn (fixture->bus, argv, NULL, &error);
  g_assert_no_error (error);

  owner_is.bus = fixture->bus;
  owner_is.process = second;
  g_assert_true (hark_test_wait_for (owner_is_cb, &owner_is, 5000));
  g_assert_false (second->exited);

  /* The replaced daemon lets go and exits by itself, without crashing. */
  g_assert_true (hark_test_process_wait (first, 5000));
  how = describe_wait_status (first->wait_status);
  g_test_message ("replaced hark-daemon: %s", how);
  g_assert_true (WIFEXITED (first->wait_status));

  /* The new one serves the same objects. */
  g_assert_true (hark_test_bus_wait_clients (fixture->bus, 5000));
  local = hark_test_bus_find_profile (fixture->bus, "local");
  g_assert_nonnull (local);
  g_assert_true (hark_dbus_profile1_get_default (local));
}

static void
test_activation (Fixture       *fixture,
                 gconstpointer  user_data)
{
#ifdef HARK_TEST_SERVICES_DIR
  GDBusConnection *connection = hark_test_bus_get_connection (fixture->bus);
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) version = NULL;
  g_autoptr(GKeyFile) keyfile = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  g_autofree char *keyfile_path = NULL;
  GVariantDict settings;
  guint32 pid;

  g_assert_null (hark_test_bus_dup_name_owner (fixture->bus, HARK_TEST_BUS_NAME));

  /* The first call to the name starts the daemon. */
  reply = g_dbus_connection_call_sync (connection, HARK_TEST_BUS_NAME, HARK_TEST_OBJECT_PATH,
                                       "org.freedesktop.DBus.Properties", "Get",
                                       g_variant_new ("(ss)", HARK_TEST_MANAGER1, "Version"),
                                       G_VARIANT_TYPE ("(v)"), G_DBUS_CALL_FLAGS_NONE,
                                       hark_test_timeout (20000), NULL, &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(v)", &version);
  g_assert_cmpstr (g_variant_get_string (version, NULL), ==, PACKAGE_VERSION);
  pid = hark_test_bus_get_name_owner_pid (fixture->bus, HARK_TEST_BUS_NAME);
  g_assert_cmpuint (pid, !=, 0);
  g_test_message ("activated hark-daemon: pid %u", pid);

  /* It runs in the bus's environment: our XDG dirs. */
  g_variant_dict_init (&settings, NULL);
  g_variant_dict_insert (&settings, "name", "s", "activated");
  hark_dbus_manager1_call_create_profile_sync (hark_test_bus_get_manager (fixture->bus),
                                               g_variant_dict_end (&settings), &path,
                                               NULL, &error);
  g_assert_no_error (error);
  keyfile = hark_test_bus_load_profiles_keyfile (fixture->bus, &keyfile_path, &error);
  g_assert_no_error (error);
  g_test_message ("activated daemon wrote %s", keyfile_path);
#else
  g_test_skip ("no D-Bus service files for tests in this build (data/test-services)");
#endif
}

/* The timing knobs: in range they win, anything else is the default.
 * First of the tests, before any of them starts a thread. */
static void
test_env_ms (void)
{
  static const struct {
    const char *text;
    guint       expected;
  } cases[] = {
    { NULL, 500 },
    { "1500", 1500 },
    { "100", 100 },
    { "2000", 2000 },
    { "99", 500 },
    { "2001", 500 },
    { "", 500 },
    { "12ms", 500 },
    { "-5", 500 },
    { " 150", 500 },
    { "99999999999999999999", 500 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      if (cases[i].text == NULL)
        g_unsetenv ("HARK_TEST_KNOB_MS");
      else
        g_setenv ("HARK_TEST_KNOB_MS", cases[i].text, TRUE);
      g_assert_cmpuint (hark_env_get_ms ("HARK_TEST_KNOB_MS", 100, 2000, 500), ==,
                        cases[i].expected);
    }
  g_unsetenv ("HARK_TEST_KNOB_MS");
}

typedef struct {
  GPtrArray *over;      /* the objects whose time was up, in order */
  GMainLoop *loop;
} LingerRun;

static void
on_linger_over (gpointer object,
                gpointer user_data)
{
  LingerRun *run = user_data;

  g_ptr_array_add (run->over, object);
  if (run->over->len == 2)
    g_main_loop_quit (run->loop);
}

typedef struct {
  GMainLoop *loop;
  guint      id;
} Wait;

static gboolean
wait_over_cb (gpointer user_data)
{
  Wait *wait = user_data;

  wait->id = 0;
  g_main_loop_quit (wait->loop);
  return G_SOURCE_REMOVE;
}

/* Runs @loop for @ms, or less if something quits it */
static void
run_for_ms (GMainLoop *loop,
            guint      ms)
{
  Wait wait = { loop, 0 };

  wait.id = g_timeout_add (ms, wait_over_cb, &wait);
  g_main_loop_run (loop);
  g_clear_handle_id (&wait.id, g_source_remove);
}

/* Ended objects leave one by one, each its full time after it ended, in
 * order; what still waits at the end is dropped without the callback. */
static void
test_linger (void)
{
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr(GPtrArray) over = g_ptr_array_new ();
  LingerRun run = { over, loop };
  g_autoptr(HarkLinger) linger = hark_linger_new (1, on_linger_over, &run);
  GObject *first = g_object_new (G_TYPE_OBJECT, NULL);
  GObject *second = g_object_new (G_TYPE_OBJECT, NULL);
  GObject *third = g_object_new (G_TYPE_OBJECT, NULL);
  gint64 start = g_get_monotonic_time ();
  gint64 elapsed_ms;

  hark_linger_add (linger, first);
  run_for_ms (loop, 400);
  hark_linger_add (linger, second);
  g_assert_cmpuint (hark_linger_length (linger), ==, 2);

  run_for_ms (loop, 500);
  g_assert_cmpuint (over->len, ==, 0);

  g_main_loop_run (loop);
  elapsed_ms = (g_get_monotonic_time () - start) / 1000;
  g_assert_cmpuint (over->len, ==, 2);
  g_assert_true (g_ptr_array_index (over, 0) == first);
  g_assert_true (g_ptr_array_index (over, 1) == second);
  g_assert_cmpint (elapsed_ms, >=, 1400);
  g_assert_cmpint (elapsed_ms, <, 3000);
  g_assert_cmpuint (hark_linger_length (linger), ==, 0);

  /* The linger kept its own references, and gave them back */
  g_object_add_weak_pointer (first, (gpointer *) &first);
  g_object_unref (first);
  g_assert_null (first);
  g_object_unref (second);

  hark_linger_add (linger, third);
  g_object_add_weak_pointer (third, (gpointer *) &third);
  g_object_unref (third);
  g_assert_nonnull (third);
  g_clear_object (&linger);
  g_assert_null (third);
  g_assert_cmpuint (over->len, ==, 2);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  hark_error_quark ();

#define ADD(path, flags, func) \
  g_test_add (path, Fixture, GUINT_TO_POINTER (flags), fixture_setup, func, fixture_teardown)

  g_test_add_func ("/hark/daemon/env-ms", test_env_ms);
  g_test_add_func ("/hark/daemon/linger", test_linger);
  ADD ("/hark/daemon/name-owned", HARK_TEST_BUS_FLAGS_NONE, test_name_owned);
  ADD ("/hark/daemon/plain-malloc", HARK_TEST_BUS_FLAGS_NONE, test_plain_malloc);
  ADD ("/hark/daemon/object-manager", HARK_TEST_BUS_FLAGS_NONE, test_object_manager);
  ADD ("/hark/daemon/local-profile", HARK_TEST_BUS_FLAGS_NONE, test_local_profile);
  ADD ("/hark/daemon/version-property", HARK_TEST_BUS_FLAGS_NONE, test_version_property);
  ADD ("/hark/daemon/sigterm", HARK_TEST_BUS_FLAGS_NONE, test_sigterm);
  ADD ("/hark/daemon/sigint", HARK_TEST_BUS_FLAGS_NONE, test_sigint);
  ADD ("/hark/daemon/help", HARK_TEST_BUS_FLAGS_NO_DAEMON, test_help);
  ADD ("/hark/daemon/version-option", HARK_TEST_BUS_FLAGS_NO_DAEMON, test_version_option);
  ADD ("/hark/daemon/bad-option", HARK_TEST_BUS_FLAGS_NO_DAEMON, test_bad_option);
  ADD ("/hark/daemon/second-instance", HARK_TEST_BUS_FLAGS_NONE, test_second_instance);
  ADD ("/hark/daemon/replace", HARK_TEST_BUS_FLAGS_NONE, test_replace);
  ADD ("/hark/daemon/activation", HARK_TEST_BUS_FLAGS_NO_DAEMON, test_activation);

#undef ADD

  return g_test_run ();
}
