/* test-calls.c — calls and dialogs over D-Bus against SIPp peers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Each test starts hark-daemon on a private bus and one SIPp scenario from
 * tests/sipp/ on a free loopback port; SIPp's exit status says whether the
 * peer saw the messages it expected, the D-Bus side is checked here.
 */

#include "config.h"

#include <sys/wait.h>

#include "hark-error.h"
#include "hark-test-bus.h"

#define CALL1   "io.github.hark.Hark.Call1"
#define DIALOG1 "io.github.hark.Hark.Dialog1"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HarkDBusCall1, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HarkDBusDialog1, g_object_unref)

typedef struct {
  HarkTestBus *bus;
  GPtrArray   *states;        /* State values seen in PropertiesChanged */
  GPtrArray   *traces;        /* "in|out start line" of Dialog1.Trace */
  char        *incoming;      /* path from IncomingCall */
} Fixture;

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  user_data)
{
  fixture->bus = hark_test_bus_new (HARK_TEST_BUS_FLAGS_NONE);
  fixture->states = g_ptr_array_new_with_free_func (g_free);
  fixture->traces = g_ptr_array_new_with_free_func (g_free);
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  user_data)
{
  g_clear_pointer (&fixture->bus, hark_test_bus_free);
  g_clear_pointer (&fixture->states, g_ptr_array_unref);
  g_clear_pointer (&fixture->traces, g_ptr_array_unref);
  g_clear_pointer (&fixture->incoming, g_free);
}

/* Helpers */

static char *
scenario_path (const char *name)
{
  return g_build_filename (HARK_TEST_SRCDIR, "sipp", name, NULL);
}

/* The local profile's SIP port, from its Contact (sip:user@host:port). */
static guint
local_profile_port (Fixture *fixture)
{
  g_autoptr(HarkDBusProfile1) profile = hark_test_bus_find_profile (fixture->bus, "local");
  const char *contact;
  const char *colon;

  g_assert_nonnull (profile);
  contact = hark_dbus_profile1_get_contact (profile);
  g_assert_nonnull (contact);
  colon = strrchr (contact, ':');
  g_assert_nonnull (colon);
  return (guint) g_ascii_strtoull (colon + 1, NULL, 10);
}

static char *
local_profile_path (Fixture *fixture)
{
  g_autoptr(HarkDBusProfile1) profile = hark_test_bus_find_profile (fixture->bus, "local");

  return g_strdup (g_dbus_proxy_get_object_path (G_DBUS_PROXY (profile)));
}

/* Starts SIPp with @scenario on a free port: a UAS when @target_port is 0,
 * else a UAC calling 127.0.0.1:@target_port. */
static HarkTestProcess *
start_sipp (Fixture    *fixture,
            const char *scenario,
            guint       target_port,
            guint      *out_port)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = scenario_path (scenario);
  g_autofree char *port = NULL;
  g_autofree char *target = NULL;
  g_autofree char *messages = NULL;
  g_autofree char *output = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  HarkTestProcess *process;
  guint16 p = hark_test_get_free_port (TRUE);

  port = g_strdup_printf ("%u", p);
  messages = g_strdup_printf ("%s/%s.messages", hark_test_bus_get_tmpdir (fixture->bus),
                              scenario);
  output = g_strdup_printf ("%s/%s.out", hark_test_bus_get_tmpdir (fixture->bus), scenario);

  g_ptr_array_add (argv, "sipp");
  g_ptr_array_add (argv, "-sf");
  g_ptr_array_add (argv, path);
  g_ptr_array_add (argv, "-i");
  g_ptr_array_add (argv, "127.0.0.1");
  g_ptr_array_add (argv, "-p");
  g_ptr_array_add (argv, port);
  g_ptr_array_add (argv, "-m");
  g_ptr_array_add (argv, "1");
  g_ptr_array_add (argv, "-timeout");
  g_ptr_array_add (argv, "20");
  g_ptr_array_add (argv, "-timeout_error");
  g_ptr_array_add (argv, "-nostdin");
  g_ptr_array_add (argv, "-trace_msg");
  g_ptr_array_add (argv, "-message_file");
  g_ptr_array_add (argv, messages);
  if (target_port != 0)
    {
      target = g_strdup_printf ("127.0.0.1:%u", target_port);
      g_ptr_array_add (argv, "-s");
      g_ptr_array_add (argv, "hark");
      g_ptr_array_add (argv, target);
    }
  g_ptr_array_add (argv, NULL);

  process = hark_test_bus_spawn (fixture->bus, (const char * const *) argv->pdata, output, &error);
  g_assert_no_error (error);

  /* SIPp binds its port at start; give it a moment before Hark calls it. */
  if (target_port == 0)
    hark_test_iterate (300);

  if (out_port != NULL)
    *out_port = p;
  return process;
}

static void
assert_sipp_passed (Fixture         *fixture,
                    HarkTestProcess *sipp,
                    const char      *scenario)
{
  g_autofree char *output_path = g_strdup_printf ("%s/%s.out",
                                                  hark_test_bus_get_tmpdir (fixture->bus),
                                                  scenario);
  g_autofree char *messages_path = g_strdup_printf ("%s/%s.messages",
                                                    hark_test_bus_get_tmpdir (fixture->bus),
                                                    scenario);

  if (!hark_test_process_wait (sipp, 25000) ||
      !WIFEXITED (sipp->wait_status) || WEXITSTATUS (sipp->wait_status) != 0)
    {
      g_autofree char *output = NULL;
      g_autofree char *messages = NULL;
      g_autofree char *log = hark_test_bus_dup_log_tail (fixture->bus, 4000);

      g_file_get_contents (output_path, &output, NULL, NULL);
      g_file_get_contents (messages_path, &messages, NULL, NULL);
      g_test_message ("SIPp output:\n%s\nSIPp messages:\n%s\nhark-daemon log:\n%s",
                      output ? output : "(none)", messages ? messages : "(none)", log);
      g_test_fail_printf ("SIPp scenario %s failed (wait status 0x%x)", scenario,
                          sipp->wait_status);
    }
}

static void
on_properties_changed (GDBusProxy  *proxy,
                       GVariant    *changed,
                       const char **invalidated,
                       Fixture     *fixture)
{
  const char *state;

  if (g_variant_lookup (changed, "State", "&s", &state))
    g_ptr_array_add (fixture->states, g_strdup (state));
}

static void
on_trace (HarkDBusDialog1 *dialog,
          const char      *direction,
          const char      *start_line,
          GVariant        *headers,
          Fixture         *fixture)
{
  g_ptr_array_add (fixture->traces, g_strdup_printf ("%s %s", direction, start_line));
}

static HarkDBusCall1 *
get_call (Fixture    *fixture,
          const char *path)
{
  g_autoptr(GError) error = NULL;
  HarkDBusCall1 *call;

  call = hark_dbus_call1_proxy_new_sync (hark_test_bus_get_connection (fixture->bus),
                                         G_DBUS_PROXY_FLAGS_NONE, HARK_TEST_BUS_NAME, path,
                                         NULL, &error);
  g_assert_no_error (error);
  g_signal_connect (call, "g-properties-changed", G_CALLBACK (on_properties_changed), fixture);
  return call;
}

static HarkDBusDialog1 *
get_dialog (Fixture       *fixture,
            HarkDBusCall1 *call)
{
  g_autoptr(GError) error = NULL;
  HarkDBusDialog1 *dialog;

  dialog = hark_dbus_dialog1_proxy_new_sync (hark_test_bus_get_connection (fixture->bus),
                                             G_DBUS_PROXY_FLAGS_NONE, HARK_TEST_BUS_NAME,
                                             hark_dbus_call1_get_dialog (call), NULL, &error);
  g_assert_no_error (error);
  g_signal_connect (dialog, "trace", G_CALLBACK (on_trace), fixture);
  return dialog;
}

static char *
dial (Fixture    *fixture,
      const char *profile,
      const char *uri,
      GVariant   *options,
      GError    **error)
{
  HarkDBusManager1 *manager = hark_test_bus_get_manager (fixture->bus);
  char *path = NULL;

  if (options == NULL)
    options = g_variant_new ("a{sv}", NULL);
  if (!hark_dbus_manager1_call_dial_sync (manager, profile, uri, options, &path, NULL, error))
    return NULL;
  return path;
}

static gboolean
states_contain_in_order (GPtrArray          *states,
                         const char * const *expected)
{
  guint j = 0;

  for (guint i = 0; i < states->len && expected[j] != NULL; i++)
    if (g_str_equal (g_ptr_array_index (states, i), expected[j]))
      j++;
  return expected[j] == NULL;
}

static char *
describe_states (GPtrArray *states)
{
  g_autoptr(GString) text = g_string_new (NULL);

  for (guint i = 0; i < states->len; i++)
    g_string_append_printf (text, "%s%s", i ? " → " : "", (char *) g_ptr_array_index (states, i));
  return g_string_free (g_steal_pointer (&text), FALSE);
}

static gboolean
traces_contain (GPtrArray  *traces,
                const char *prefix)
{
  for (guint i = 0; i < traces->len; i++)
    if (g_str_has_prefix (g_ptr_array_index (traces, i), prefix))
      return TRUE;
  return FALSE;
}

static gboolean
object_gone_cb (gpointer user_data)
{
  gpointer *args = user_data;
  HarkTestBus *bus = args[0];
  const char *path = args[1];
  g_autoptr(GDBusObject) object = NULL;

  object = g_dbus_object_manager_get_object (hark_test_bus_get_object_manager (bus), path);
  return object == NULL;
}

static void
assert_leaves_bus (Fixture    *fixture,
                   const char *path)
{
  gpointer args[] = { fixture->bus, (gpointer) path };

  g_assert_true (hark_test_wait_for (object_gone_cb, args, 10000));
}

static void
assert_invalid_state (GError *error)
{
  g_assert_error (error, HARK_ERROR, HARK_ERROR_INVALID_STATE);
}

static gboolean
incoming_seen_cb (gpointer user_data)
{
  Fixture *fixture = user_data;

  return fixture->incoming != NULL;
}

static void
on_incoming_call (HarkDBusManager1 *manager,
                  const char       *path,
                  Fixture          *fixture)
{
  g_free (fixture->incoming);
  fixture->incoming = g_strdup (path);
}

/* Tests */

static void
test_outgoing_answer_hangup (Fixture       *fixture,
                             gconstpointer  user_data)
{
  const char * const expected[] = { "ringing", "active", "terminated", NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(HarkDBusCall1) call = NULL;
  g_autoptr(HarkDBusDialog1) dialog = NULL;
  g_autofree char *uri = NULL;
  g_autofree char *path = NULL;
  g_autofree char *states = NULL;
  g_autofree char *dialog_path = NULL;
  HarkTestProcess *sipp;
  guint port;

  sipp = start_sipp (fixture, "uas-answer.xml", 0, &port);
  uri = g_strdup_printf ("sip:bob@127.0.0.1:%u", port);

  path = dial (fixture, "/", uri, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_variant_is_object_path (path));

  call = get_call (fixture, path);
  dialog = get_dialog (fixture, call);
  dialog_path = g_strdup (hark_dbus_call1_get_dialog (call));
  g_assert_cmpstr (hark_dbus_call1_get_direction (call), ==, "outgoing");
  g_assert_cmpstr (hark_dbus_call1_get_state (call), ==, "calling");
  g_assert_cmpstr (hark_dbus_call1_get_remote_uri (call), ==, uri);

  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (call), "State", "active", 10000));
  g_assert_cmpstr (hark_dbus_call1_get_state_reason (call), ==, "answered");
  g_assert_cmpuint (hark_dbus_call1_get_status_code (call), ==, 200);
  g_assert_cmpstr (hark_dbus_call1_get_codec (call), ==, "PCMU/8000");
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (dialog), "State", "confirmed",
                                                 5000));
  g_assert_cmpstr (hark_dbus_dialog1_get_call_id (dialog), !=, "");
  g_assert_cmpstr (hark_dbus_dialog1_get_local_tag (dialog), !=, "");
  g_assert_cmpstr (hark_dbus_dialog1_get_remote_tag (dialog), !=, "");
  g_assert_cmpstrv (hark_dbus_dialog1_get_usages (dialog), ((const char * const []) { path, NULL }));

  /* An outgoing call cannot be accepted or rejected. */
  hark_dbus_call1_call_accept_sync (call, g_variant_new ("a{sv}", NULL), NULL, &error);
  assert_invalid_state (error);
  g_clear_error (&error);
  hark_dbus_call1_call_reject_sync (call, 603, g_variant_new ("a{sv}", NULL), NULL, &error);
  assert_invalid_state (error);
  g_clear_error (&error);
  /* Media is another issue. */
  hark_dbus_call1_call_hold_sync (call, NULL, &error);
  g_assert_error (error, HARK_ERROR, HARK_ERROR_NOT_SUPPORTED);
  g_clear_error (&error);

  /* A Reason that is not one fails before anything is sent. */
  hark_dbus_call1_call_hangup_sync (call, g_variant_new_parsed ("{'reason': <'\\r\\nX: y'>}"),
                                    NULL, &error);
  g_assert_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  hark_dbus_call1_call_hangup_sync (call,
                                    g_variant_new_parsed ("{'reason': <'SIP;cause=200;text=\"Bye\"'>,"
                                                          " 'headers': <{'X-Hark-Test': 'yes'}>}"),
                                    NULL, &error);
  g_assert_no_error (error);

  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (call), "State", "terminated",
                                                 10000));
  g_assert_cmpstr (hark_dbus_call1_get_state_reason (call), ==, "local-hangup");
  assert_sipp_passed (fixture, sipp, "uas-answer.xml");

  states = describe_states (fixture->states);
  g_test_message ("States: %s", states);
  g_assert_true (states_contain_in_order (fixture->states, expected));

  g_assert_true (traces_contain (fixture->traces, "in SIP/2.0 180 Ringing"));
  g_assert_true (traces_contain (fixture->traces, "in SIP/2.0 200 OK"));
  g_assert_true (traces_contain (fixture->traces, "out BYE "));

  /* After the end every method is InvalidState. */
  hark_dbus_call1_call_hangup_sync (call, g_variant_new ("a{sv}", NULL), NULL, &error);
  assert_invalid_state (error);
  g_clear_error (&error);
  hark_dbus_call1_call_accept_sync (call, g_variant_new ("a{sv}", NULL), NULL, &error);
  assert_invalid_state (error);
  g_clear_error (&error);
  hark_dbus_call1_call_send_dtmf_sync (call, "1", NULL, &error);
  assert_invalid_state (error);
  g_clear_error (&error);
  hark_dbus_dialog1_call_terminate_sync (dialog, g_variant_new ("a{sv}", NULL), NULL, &error);
  assert_invalid_state (error);
  g_clear_error (&error);

  assert_leaves_bus (fixture, path);
  assert_leaves_bus (fixture, dialog_path);
}

static void
test_outgoing_cancel (Fixture       *fixture,
                      gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HarkDBusCall1) call = NULL;
  g_autofree char *uri = NULL;
  g_autofree char *path = NULL;
  HarkTestProcess *sipp;
  guint port;

  sipp = start_sipp (fixture, "uas-cancel.xml", 0, &port);
  /* user@host is completed to a SIP URI */
  uri = g_strdup_printf ("bob@127.0.0.1:%u", port);

  path = dial (fixture, "/", uri, NULL, &error);
  g_assert_no_error (error);
  call = get_call (fixture, path);

  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (call), "State", "ringing", 10000));

  hark_dbus_call1_call_hangup_sync (call, g_variant_new_parsed ("{'reason': <'Q.850;cause=16'>}"),
                                    NULL, &error);
  g_assert_no_error (error);

  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (call), "State", "terminated",
                                                 10000));
  g_assert_cmpstr (hark_dbus_call1_get_state_reason (call), ==, "cancelled");
  g_assert_cmpuint (hark_dbus_call1_get_status_code (call), ==, 487);
  assert_sipp_passed (fixture, sipp, "uas-cancel.xml");
  assert_leaves_bus (fixture, path);
}

static HarkDBusCall1 *
wait_incoming (Fixture *fixture)
{
  g_assert_true (hark_test_wait_for (incoming_seen_cb, fixture, 10000));
  return get_call (fixture, fixture->incoming);
}

static void
test_incoming_accept (Fixture       *fixture,
                      gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HarkDBusCall1) call = NULL;
  g_autoptr(HarkDBusDialog1) dialog = NULL;
  HarkDBusManager1 *manager = hark_test_bus_get_manager (fixture->bus);
  g_autofree char *profile = local_profile_path (fixture);
  HarkTestProcess *sipp;

  g_signal_connect (manager, "incoming-call", G_CALLBACK (on_incoming_call), fixture);
  sipp = start_sipp (fixture, "uac-call.xml", local_profile_port (fixture), NULL);

  call = wait_incoming (fixture);
  dialog = get_dialog (fixture, call);
  g_assert_cmpstr (hark_dbus_call1_get_direction (call), ==, "incoming");
  g_assert_cmpstr (hark_dbus_call1_get_state (call), ==, "ringing");
  g_assert_cmpstr (hark_dbus_call1_get_remote_name (call), ==, "SIPp Caller");
  g_assert_true (g_str_has_prefix (hark_dbus_call1_get_remote_uri (call), "sip:sipp@127.0.0.1"));
  g_assert_cmpstr (hark_dbus_call1_get_profile (call), ==, profile);
  g_assert_cmpstr (hark_dbus_dialog1_get_call_id (dialog), !=, "");

  hark_dbus_call1_call_accept_sync (call, g_variant_new ("a{sv}", NULL), NULL, &error);
  g_assert_no_error (error);

  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (call), "State", "terminated",
                                                 15000));
  g_assert_cmpstr (hark_dbus_call1_get_state_reason (call), ==, "remote-hangup");
  g_assert_cmpuint (hark_dbus_call1_get_status_code (call), ==, 200);
  g_assert_cmpstr (hark_dbus_call1_get_codec (call), ==, "PCMA/8000");
  g_assert_true (states_contain_in_order (fixture->states,
                                          (const char * const []) { "active", "terminated",
                                                                    NULL }));
  g_assert_cmpstr (hark_dbus_dialog1_get_local_tag (dialog), !=, "");
  g_assert_cmpstr (hark_dbus_dialog1_get_remote_tag (dialog), !=, "");
  g_assert_true (traces_contain (fixture->traces, "in ACK "));
  g_assert_true (traces_contain (fixture->traces, "in BYE "));
  assert_sipp_passed (fixture, sipp, "uac-call.xml");

  hark_dbus_call1_call_reject_sync (call, 0, g_variant_new ("a{sv}", NULL), NULL, &error);
  assert_invalid_state (error);
  g_clear_error (&error);

  assert_leaves_bus (fixture, fixture->incoming);
}

static void
test_incoming_reject (Fixture       *fixture,
                      gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HarkDBusCall1) call = NULL;
  HarkDBusManager1 *manager = hark_test_bus_get_manager (fixture->bus);
  HarkTestProcess *sipp;

  g_signal_connect (manager, "incoming-call", G_CALLBACK (on_incoming_call), fixture);
  sipp = start_sipp (fixture, "uac-reject.xml", local_profile_port (fixture), NULL);

  call = wait_incoming (fixture);
  g_assert_cmpstr (hark_dbus_call1_get_state (call), ==, "ringing");

  /* 200 is not a final error response */
  hark_dbus_call1_call_reject_sync (call, 200, g_variant_new ("a{sv}", NULL), NULL, &error);
  g_assert_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  hark_dbus_call1_call_reject_sync (call, 603, g_variant_new ("a{sv}", NULL), NULL, &error);
  g_assert_no_error (error);

  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (call), "State", "terminated",
                                                 15000));
  g_assert_cmpstr (hark_dbus_call1_get_state_reason (call), ==, "declined");
  g_assert_cmpuint (hark_dbus_call1_get_status_code (call), ==, 603);
  assert_sipp_passed (fixture, sipp, "uac-reject.xml");

  hark_dbus_call1_call_accept_sync (call, g_variant_new ("a{sv}", NULL), NULL, &error);
  assert_invalid_state (error);
  g_clear_error (&error);

  assert_leaves_bus (fixture, fixture->incoming);
}

static void
test_dial_errors (Fixture       *fixture,
                  gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;

  path = dial (fixture, "/", "not a uri", NULL, &error);
  g_assert_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  path = dial (fixture, "/", "http://example.org/", NULL, &error);
  g_assert_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* The local profile has no domain to complete a number with. */
  path = dial (fixture, "/", "+1 555 0100", NULL, &error);
  g_assert_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  path = dial (fixture, "/io/github/hark/Hark/Profile/999", "sip:bob@127.0.0.1", NULL, &error);
  g_assert_error (error, HARK_ERROR, HARK_ERROR_NOT_FOUND);
  g_clear_error (&error);

  path = dial (fixture, "/", "sip:bob@127.0.0.1", g_variant_new_parsed ("{'colour': <'red'>}"),
               &error);
  g_assert_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "colour"));
  g_clear_error (&error);

  path = dial (fixture, "/", "sip:bob@127.0.0.1", g_variant_new_parsed ("{'to': <42>}"), &error);
  g_assert_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  path = dial (fixture, "/", "sip:bob@127.0.0.1",
               g_variant_new_parsed ("{'headers': <{'Call-ID': 'mine'}>}"), &error);
  g_assert_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  path = dial (fixture, "/", "sip:bob@127.0.0.1",
               g_variant_new_parsed ("{'headers': <{'X-A': 'b\\r\\nVia: evil'}>}"), &error);
  g_assert_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  path = dial (fixture, "/", "sip:bob@127.0.0.1",
               g_variant_new_parsed ("{'request-uri': <'mailto:x@y'>}"), &error);
  g_assert_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* Nothing was left behind. */
  g_assert_null (g_dbus_object_manager_get_object (hark_test_bus_get_object_manager (fixture->bus),
                                                   "/io/github/hark/Hark/Call/1"));
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *sipp_path = NULL;

  g_test_init (&argc, &argv, NULL);
  /* Registers the D-Bus error names, so replies map back to HARK_ERROR. */
  (void) hark_error_quark ();

  sipp_path = g_find_program_in_path ("sipp");
  if (sipp_path == NULL)
    {
      g_test_skip ("sipp is not installed");
      return g_test_run ();
    }

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)

  ADD ("/hark/calls/outgoing/answer-hangup", test_outgoing_answer_hangup);
  ADD ("/hark/calls/outgoing/cancel", test_outgoing_cancel);
  ADD ("/hark/calls/incoming/accept-remote-bye", test_incoming_accept);
  ADD ("/hark/calls/incoming/reject-decline", test_incoming_reject);
  ADD ("/hark/calls/dial/errors", test_dial_errors);

#undef ADD

  return g_test_run ();
}
