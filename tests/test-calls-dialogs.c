/* test-calls-dialogs.c — dialog rules of calls: pending requests, RFC 5407
 * races, a peer that vanishes
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Same harness as test-calls.c (hark-daemon on a private bus, one SIPp
 * scenario from tests/sipp/ on a free loopback port); kept apart so that
 * each program stays well inside its meson timeout.
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
  GArray      *trace_times;   /* g_get_monotonic_time() of each trace */
  char        *incoming;      /* path from IncomingCall */
  GPtrArray   *incomings;     /* every path from IncomingCall */
} Fixture;

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  user_data)
{
  fixture->bus = hark_test_bus_new (HARK_TEST_BUS_FLAGS_NONE);
  fixture->states = g_ptr_array_new_with_free_func (g_free);
  fixture->traces = g_ptr_array_new_with_free_func (g_free);
  fixture->trace_times = g_array_new (FALSE, FALSE, sizeof (gint64));
  fixture->incomings = g_ptr_array_new_with_free_func (g_free);
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  user_data)
{
  g_clear_pointer (&fixture->bus, hark_test_bus_free);
  g_clear_pointer (&fixture->incomings, g_ptr_array_unref);
  g_clear_pointer (&fixture->states, g_ptr_array_unref);
  g_clear_pointer (&fixture->traces, g_ptr_array_unref);
  g_clear_pointer (&fixture->trace_times, g_array_unref);
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

/* Starts SIPp with @scenario on a free port: a UAS when @target_port is 0,
 * else a UAC calling 127.0.0.1:@target_port. */
static HarkTestProcess *
start_sipp_to (Fixture    *fixture,
               const char *scenario,
               guint       target_port,
               const char *service,
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
      g_ptr_array_add (argv, (gpointer) service);
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

static HarkTestProcess *
start_sipp (Fixture    *fixture,
            const char *scenario,
            guint       target_port,
            guint      *out_port)
{
  return start_sipp_to (fixture, scenario, target_port, "hark", out_port);
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
  gint64 now = g_get_monotonic_time ();

  g_ptr_array_add (fixture->traces, g_strdup_printf ("%s %s", direction, start_line));
  g_array_append_val (fixture->trace_times, now);
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
  g_ptr_array_add (fixture->incomings, g_strdup (path));
}

/* Tests */

static HarkDBusCall1 *
wait_incoming (Fixture *fixture)
{
  g_assert_true (hark_test_wait_for (incoming_seen_cb, fixture, 10000));
  return get_call (fixture, fixture->incoming);
}

static gssize
trace_index (GPtrArray  *traces,
             const char *prefix)
{
  for (guint i = 0; i < traces->len; i++)
    if (g_str_has_prefix (g_ptr_array_index (traces, i), prefix))
      return i;
  return -1;
}

static gboolean
trace_seen_cb (gpointer user_data)
{
  gpointer *args = user_data;

  return trace_index (args[0], args[1]) >= 0;
}

static void
wait_trace (Fixture    *fixture,
            const char *prefix)
{
  gpointer args[] = { fixture->traces, (gpointer) prefix };

  if (!hark_test_wait_for (trace_seen_cb, args, 10000))
    g_test_fail_printf ("No trace “%s”", prefix);
}

/* The daemon of these tests keeps every INFO 30 s before answering it. */
static void
fixture_setup_slow_info (Fixture       *fixture,
                         gconstpointer  user_data)
{
  g_setenv ("HARK_INFO_ANSWER_DELAY_MS", "30000", TRUE);
  fixture_setup (fixture, user_data);
  g_unsetenv ("HARK_INFO_ANSWER_DELAY_MS");
}

static void
on_dtmf_received (HarkDBusCall1 *call,
                  const char    *digit,
                  GString       *digits)
{
  g_string_append (digits, digit);
}

/* An answered incoming call from @scenario; returns with the INFO seen. */
static HarkDBusCall1 *
answer_and_wait_info (Fixture          *fixture,
                      const char       *scenario,
                      HarkTestProcess **out_sipp,
                      HarkDBusDialog1 **out_dialog,
                      GString          *digits)
{
  g_autoptr(GError) error = NULL;
  HarkDBusCall1 *call;

  g_signal_connect (hark_test_bus_get_manager (fixture->bus), "incoming-call",
                    G_CALLBACK (on_incoming_call), fixture);
  *out_sipp = start_sipp (fixture, scenario, local_profile_port (fixture), NULL);
  call = wait_incoming (fixture);
  *out_dialog = get_dialog (fixture, call);
  g_signal_connect (call, "dtmf-received", G_CALLBACK (on_dtmf_received), digits);

  hark_dbus_call1_call_accept_sync (call, g_variant_new ("a{sv}", NULL), NULL, &error);
  g_assert_no_error (error);
  wait_trace (fixture, "in INFO ");
  return call;
}

/* Hangup while an INFO of the peer waits for our answer: the INFO gets 487
 * (with the Hangup's Reason) before the BYE goes. SIPp checks the order. */
static void
test_pending_info_hangup (Fixture       *fixture,
                          gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HarkDBusCall1) call = NULL;
  g_autoptr(HarkDBusDialog1) dialog = NULL;
  g_autoptr(GString) digits = g_string_new (NULL);
  HarkTestProcess *sipp;
  gssize i487, ibye;

  call = answer_and_wait_info (fixture, "uac-info-hangup.xml", &sipp, &dialog, digits);
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (call), "State", "active", 5000));
  hark_test_iterate (200);
  g_assert_cmpstr (digits->str, ==, "5");

  hark_dbus_call1_call_hangup_sync (call,
                                    g_variant_new_parsed ("{'reason': "
                                                          "<'SIP;cause=200;text=\"Done\"'>}"),
                                    NULL, &error);
  g_assert_no_error (error);
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (call), "State", "terminated",
                                                 10000));
  g_assert_cmpstr (hark_dbus_call1_get_state_reason (call), ==, "local-hangup");
  assert_sipp_passed (fixture, sipp, "uac-info-hangup.xml");

  i487 = trace_index (fixture->traces, "out SIP/2.0 487 ");
  ibye = trace_index (fixture->traces, "out BYE ");
  g_assert_cmpint (i487, >=, 0);
  g_assert_cmpint (ibye, >, i487);
  assert_leaves_bus (fixture, fixture->incoming);
}

/* The peer's BYE while its INFO is pending: 200 for the BYE, 487 for the
 * INFO, and the call ends "remote-hangup". */
static void
test_pending_info_remote_bye (Fixture       *fixture,
                              gconstpointer  user_data)
{
  g_autoptr(HarkDBusCall1) call = NULL;
  g_autoptr(HarkDBusDialog1) dialog = NULL;
  g_autoptr(GString) digits = g_string_new (NULL);
  HarkTestProcess *sipp;

  call = answer_and_wait_info (fixture, "uac-info-bye.xml", &sipp, &dialog, digits);
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (call), "State", "terminated",
                                                 10000));
  g_assert_cmpstr (hark_dbus_call1_get_state_reason (call), ==, "remote-hangup");
  assert_sipp_passed (fixture, sipp, "uac-info-bye.xml");
  g_assert_cmpint (trace_index (fixture->traces, "out SIP/2.0 487 "), >,
                   trace_index (fixture->traces, "in BYE "));
  assert_leaves_bus (fixture, fixture->incoming);
}

/* RFC 5407 section 3.1.2: our CANCEL crosses the callee's 200. Hark ACKs
 * the 200 and sends BYE with the Hangup's Reason; the call ends
 * "cancelled" (the user hung up before any conversation) with StatusCode
 * 200. */
static void
test_cancel_crossing_200 (Fixture       *fixture,
                          gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HarkDBusCall1) call = NULL;
  g_autoptr(HarkDBusDialog1) dialog = NULL;
  g_autofree char *uri = NULL;
  g_autofree char *path = NULL;
  HarkTestProcess *sipp;
  guint port;

  sipp = start_sipp (fixture, "uas-cancel-crossing-200.xml", 0, &port);
  uri = g_strdup_printf ("sip:bob@127.0.0.1:%u", port);
  path = dial (fixture, "/", uri, NULL, &error);
  g_assert_no_error (error);
  call = get_call (fixture, path);
  dialog = get_dialog (fixture, call);

  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (call), "State", "ringing", 10000));
  hark_dbus_call1_call_hangup_sync (call, g_variant_new_parsed ("{'reason': <'Q.850;cause=16'>}"),
                                    NULL, &error);
  g_assert_no_error (error);

  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (call), "State", "terminated",
                                                 10000));
  g_assert_cmpstr (hark_dbus_call1_get_state_reason (call), ==, "cancelled");
  g_assert_cmpuint (hark_dbus_call1_get_status_code (call), ==, 200);
  assert_sipp_passed (fixture, sipp, "uas-cancel-crossing-200.xml");
  g_assert_cmpint (trace_index (fixture->traces, "out CANCEL "), >=, 0);
  g_assert_cmpint (trace_index (fixture->traces, "out BYE "), >,
                   trace_index (fixture->traces, "out CANCEL "));
  /* A call that ended is never "active" on the way */
  g_assert_false (states_contain_in_order (fixture->states,
                                           (const char * const []) { "active", NULL }));
  assert_leaves_bus (fixture, path);
}

/* RFC 5407 section 3.3.1: the peer's BYE crosses our hold re-INVITE. The
 * BYE wins, the re-INVITE's 487 is ACKed and ignored; the call ends
 * "remote-hangup" and the daemon goes on. */
static void
test_bye_crossing_reinvite (Fixture       *fixture,
                            gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HarkDBusCall1) call = NULL;
  g_autofree char *uri = NULL;
  g_autofree char *path = NULL;
  HarkTestProcess *sipp;
  guint port;

  sipp = start_sipp (fixture, "uas-bye-crossing-reinvite.xml", 0, &port);
  uri = g_strdup_printf ("sip:bob@127.0.0.1:%u", port);
  path = dial (fixture, "/", uri, NULL, &error);
  g_assert_no_error (error);
  call = get_call (fixture, path);

  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (call), "State", "active", 10000));
  hark_dbus_call1_call_hold_sync (call, NULL, &error);
  g_assert_no_error (error);

  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (call), "State", "terminated",
                                                 10000));
  g_assert_cmpstr (hark_dbus_call1_get_state_reason (call), ==, "remote-hangup");
  assert_sipp_passed (fixture, sipp, "uas-bye-crossing-reinvite.xml");
  assert_leaves_bus (fixture, path);
  g_assert_true (hark_test_bus_wait_name_owner (fixture->bus, HARK_TEST_BUS_NAME, TRUE, 1000));
}

static gboolean
two_reinvites_cb (gpointer user_data)
{
  Fixture *fixture = user_data;
  guint n = 0;

  for (guint i = 0; i < fixture->traces->len; i++)
    if (g_str_has_prefix (g_ptr_array_index (fixture->traces, i), "out INVITE "))
      n++;
  return n >= 2;
}

/* Re-INVITE glare: both sides' re-INVITEs cross and each gets 491. Hark
 * owns the Call-ID (it called), so it retries after 2.1-4 s (RFC 3261
 * section 14.1) and the hold goes through. */
static void
test_reinvite_glare (Fixture       *fixture,
                     gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HarkDBusCall1) call = NULL;
  g_autoptr(HarkDBusDialog1) dialog = NULL;
  g_autofree char *uri = NULL;
  g_autofree char *path = NULL;
  HarkTestProcess *sipp;
  gint64 first = 0, retry = 0;
  guint invites = 0;
  guint port;

  sipp = start_sipp (fixture, "uas-reinvite-glare.xml", 0, &port);
  uri = g_strdup_printf ("sip:bob@127.0.0.1:%u", port);
  path = dial (fixture, "/", uri, NULL, &error);
  g_assert_no_error (error);
  call = get_call (fixture, path);
  dialog = get_dialog (fixture, call);

  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (call), "State", "active", 10000));
  hark_dbus_call1_call_hold_sync (call, NULL, &error);
  g_assert_no_error (error);
  /* The two re-INVITEs Hark sent (the INVITE went before the test
   * watched the dialog): the first and its retry */
  g_assert_true (hark_test_wait_for (two_reinvites_cb, fixture, 8000));
  for (guint i = 0; i < fixture->traces->len; i++)
    if (g_str_has_prefix (g_ptr_array_index (fixture->traces, i), "out INVITE "))
      {
        invites++;
        if (invites == 1)
          first = g_array_index (fixture->trace_times, gint64, i);
        else if (invites == 2)
          retry = g_array_index (fixture->trace_times, gint64, i);
      }
  g_test_message ("re-INVITE retried after %" G_GINT64_FORMAT " ms", (retry - first) / 1000);
  g_assert_cmpuint (invites, ==, 2);
  g_assert_cmpint (retry - first, >=, 2100 * 1000);
  g_assert_cmpint (retry - first, <=, 4000 * 1000 + 300 * 1000);
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (call), "State", "held", 5000));
  hark_test_iterate (300);

  hark_dbus_call1_call_hangup_sync (call, g_variant_new ("a{sv}", NULL), NULL, &error);
  g_assert_no_error (error);
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (call), "State", "terminated",
                                                 10000));
  g_assert_cmpstr (hark_dbus_call1_get_state_reason (call), ==, "local-hangup");
  assert_sipp_passed (fixture, sipp, "uas-reinvite-glare.xml");
  assert_leaves_bus (fixture, path);
}

/* SIP transactions of the daemon of these tests time out after 2 s. */
static void
fixture_setup_short_timers (Fixture       *fixture,
                            gconstpointer  user_data)
{
  g_setenv ("HARK_SIP_T1X64_MS", "2000", TRUE);
  fixture_setup (fixture, user_data);
  g_unsetenv ("HARK_SIP_T1X64_MS");
}

/* The caller vanishes after our 200 (no ACK, nothing answered): once the
 * 2xx transaction times out the call ends "timeout", and leaves the bus. */
static void
test_vanished_no_ack (Fixture       *fixture,
                      gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HarkDBusCall1) call = NULL;
  g_autoptr(HarkDBusDialog1) dialog = NULL;
  HarkTestProcess *sipp;
  gint64 start;

  g_signal_connect (hark_test_bus_get_manager (fixture->bus), "incoming-call",
                    G_CALLBACK (on_incoming_call), fixture);
  sipp = start_sipp (fixture, "uac-no-ack.xml", local_profile_port (fixture), NULL);
  call = wait_incoming (fixture);
  dialog = get_dialog (fixture, call);

  start = g_get_monotonic_time ();
  hark_dbus_call1_call_accept_sync (call, g_variant_new ("a{sv}", NULL), NULL, &error);
  g_assert_no_error (error);
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (call), "State", "terminated",
                                                 12000));
  g_test_message ("Ended after %" G_GINT64_FORMAT " ms", (g_get_monotonic_time () - start) / 1000);
  g_assert_cmpstr (hark_dbus_call1_get_state_reason (call), ==, "timeout");
  g_assert_false (traces_contain (fixture->traces, "in ACK "));
  assert_sipp_passed (fixture, sipp, "uac-no-ack.xml");
  assert_leaves_bus (fixture, fixture->incoming);
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *sipp_path = NULL;

  g_test_init (&argc, &argv, NULL);
  (void) hark_error_quark ();

  sipp_path = g_find_program_in_path ("sipp");
  if (sipp_path == NULL)
    {
      g_test_skip ("sipp is not installed");
      return g_test_run ();
    }

  g_test_add ("/hark/calls/pending/info-hangup", Fixture, NULL, fixture_setup_slow_info,
              test_pending_info_hangup, fixture_teardown);
  g_test_add ("/hark/calls/pending/info-remote-bye", Fixture, NULL, fixture_setup_slow_info,
              test_pending_info_remote_bye, fixture_teardown);
  g_test_add ("/hark/calls/faults/vanished-no-ack", Fixture, NULL, fixture_setup_short_timers,
              test_vanished_no_ack, fixture_teardown);
  g_test_add ("/hark/calls/races/cancel-crossing-200", Fixture, NULL, fixture_setup,
              test_cancel_crossing_200, fixture_teardown);
  g_test_add ("/hark/calls/races/bye-crossing-reinvite", Fixture, NULL, fixture_setup,
              test_bye_crossing_reinvite, fixture_teardown);
  g_test_add ("/hark/calls/races/reinvite-glare", Fixture, NULL, fixture_setup,
              test_reinvite_glare, fixture_teardown);

  return g_test_run ();
}
