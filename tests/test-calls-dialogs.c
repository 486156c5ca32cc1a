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

#include "hark-error.h"
#include "hark-test-bus.h"
#include "hark-test-calls.h"
#include "hark-test-sipp.h"

#define CALL1   "io.github.hark.Hark.Call1"
#define DIALOG1 "io.github.hark.Hark.Dialog1"

typedef struct {
  HarkTestBus   *bus;
  HarkTestCalls  calls;       /* states, traces and incoming calls seen */
} Fixture;

/* @env: (nullable): "NAME=VALUE" for the daemon (its test knobs) */
static void
fixture_setup_with_env (Fixture            *fixture,
                        const char * const *env)
{
  fixture->bus = hark_test_bus_new_full (HARK_TEST_BUS_FLAGS_NONE, env);
  hark_test_calls_init (&fixture->calls, fixture->bus);
}

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  user_data)
{
  fixture_setup_with_env (fixture, NULL);
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  user_data)
{
  g_clear_pointer (&fixture->bus, hark_test_bus_free);
  hark_test_calls_clear (&fixture->calls);
}

/* Helpers */

static gboolean
trace_seen_cb (gpointer user_data)
{
  gpointer *args = user_data;

  return hark_test_calls_trace_index (args[0], args[1]) >= 0;
}

static void
wait_trace (Fixture    *fixture,
            const char *prefix)
{
  gpointer args[] = { fixture->calls.traces, (gpointer) prefix };

  if (!hark_test_wait_for (trace_seen_cb, args, 10000))
    g_test_fail_printf ("No trace “%s”", prefix);
}

/* The daemon of these tests keeps every INFO 30 s before answering it. */
static void
fixture_setup_slow_info (Fixture       *fixture,
                         gconstpointer  user_data)
{
  const char *env[] = { "HARK_INFO_ANSWER_DELAY_MS=30000", NULL };

  fixture_setup_with_env (fixture, env);
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

  call = hark_test_calls_sipp_calls_in (&fixture->calls, scenario, out_sipp);
  *out_dialog = hark_test_calls_get_dialog (&fixture->calls, call);
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
  hark_test_sipp_assert_passed (fixture->bus, sipp, "uac-info-hangup.xml");

  i487 = hark_test_calls_trace_index (fixture->calls.traces, "out SIP/2.0 487 ");
  ibye = hark_test_calls_trace_index (fixture->calls.traces, "out BYE ");
  g_assert_cmpint (i487, >=, 0);
  g_assert_cmpint (ibye, >, i487);
  hark_test_calls_assert_leaves_bus (fixture->bus, fixture->calls.incoming);
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
  hark_test_sipp_assert_passed (fixture->bus, sipp, "uac-info-bye.xml");
  g_assert_cmpint (hark_test_calls_trace_index (fixture->calls.traces, "out SIP/2.0 487 "), >,
                   hark_test_calls_trace_index (fixture->calls.traces, "in BYE "));
  hark_test_calls_assert_leaves_bus (fixture->bus, fixture->calls.incoming);
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
  g_autofree char *path = NULL;
  HarkTestProcess *sipp;

  call = hark_test_calls_dial_sipp (&fixture->calls, "uas-cancel-crossing-200.xml", &sipp, &path);
  dialog = hark_test_calls_get_dialog (&fixture->calls, call);

  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (call), "State", "ringing", 10000));
  hark_dbus_call1_call_hangup_sync (call, g_variant_new_parsed ("{'reason': <'Q.850;cause=16'>}"),
                                    NULL, &error);
  g_assert_no_error (error);

  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (call), "State", "terminated",
                                                 10000));
  g_assert_cmpstr (hark_dbus_call1_get_state_reason (call), ==, "cancelled");
  g_assert_cmpuint (hark_dbus_call1_get_status_code (call), ==, 200);
  hark_test_sipp_assert_passed (fixture->bus, sipp, "uas-cancel-crossing-200.xml");
  g_assert_cmpint (hark_test_calls_trace_index (fixture->calls.traces, "out CANCEL "), >=, 0);
  g_assert_cmpint (hark_test_calls_trace_index (fixture->calls.traces, "out BYE "), >,
                   hark_test_calls_trace_index (fixture->calls.traces, "out CANCEL "));
  /* A call that ended is never "active" on the way */
  g_assert_false (hark_test_calls_states_contain_in_order (fixture->calls.states,
                                                           (const char * const []) { "active",
                                                                                     NULL }));
  hark_test_calls_assert_leaves_bus (fixture->bus, path);
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
  g_autofree char *path = NULL;
  HarkTestProcess *sipp;

  call = hark_test_calls_dial_sipp (&fixture->calls, "uas-bye-crossing-reinvite.xml", &sipp, &path);

  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (call), "State", "active", 10000));
  hark_dbus_call1_call_hold_sync (call, NULL, &error);
  g_assert_no_error (error);

  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (call), "State", "terminated",
                                                 10000));
  g_assert_cmpstr (hark_dbus_call1_get_state_reason (call), ==, "remote-hangup");
  hark_test_sipp_assert_passed (fixture->bus, sipp, "uas-bye-crossing-reinvite.xml");
  hark_test_calls_assert_leaves_bus (fixture->bus, path);
  g_assert_true (hark_test_bus_wait_name_owner (fixture->bus, HARK_TEST_BUS_NAME, TRUE, 1000));
}

static gboolean
two_reinvites_cb (gpointer user_data)
{
  Fixture *fixture = user_data;
  guint n = 0;

  for (guint i = 0; i < fixture->calls.traces->len; i++)
    if (g_str_has_prefix (g_ptr_array_index (fixture->calls.traces, i), "out INVITE "))
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
  g_autofree char *path = NULL;
  HarkTestProcess *sipp;
  gint64 first = 0, retry = 0;
  guint invites = 0;

  call = hark_test_calls_dial_sipp (&fixture->calls, "uas-reinvite-glare.xml", &sipp, &path);
  dialog = hark_test_calls_get_dialog (&fixture->calls, call);

  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (call), "State", "active", 10000));
  /* Traces are of the wire, the first INVITE's too: count from here */
  g_ptr_array_set_size (fixture->calls.traces, 0);
  g_array_set_size (fixture->calls.trace_times, 0);
  hark_dbus_call1_call_hold_sync (call, NULL, &error);
  g_assert_no_error (error);
  /* The two re-INVITEs Hark sent: the first and its retry */
  g_assert_true (hark_test_wait_for (two_reinvites_cb, fixture, 8000));
  for (guint i = 0; i < fixture->calls.traces->len; i++)
    if (g_str_has_prefix (g_ptr_array_index (fixture->calls.traces, i), "out INVITE "))
      {
        invites++;
        if (invites == 1)
          first = g_array_index (fixture->calls.trace_times, gint64, i);
        else if (invites == 2)
          retry = g_array_index (fixture->calls.trace_times, gint64, i);
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
  hark_test_sipp_assert_passed (fixture->bus, sipp, "uas-reinvite-glare.xml");
  hark_test_calls_assert_leaves_bus (fixture->bus, path);
}

/* SIP transactions of the daemon of these tests time out after 2 s. */
static void
fixture_setup_short_timers (Fixture       *fixture,
                            gconstpointer  user_data)
{
  const char *env[] = { "HARK_SIP_T1X64_MS=2000", NULL };

  fixture_setup_with_env (fixture, env);
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

  call = hark_test_calls_sipp_calls_in (&fixture->calls, "uac-no-ack.xml", &sipp);
  dialog = hark_test_calls_get_dialog (&fixture->calls, call);

  start = g_get_monotonic_time ();
  hark_dbus_call1_call_accept_sync (call, g_variant_new ("a{sv}", NULL), NULL, &error);
  g_assert_no_error (error);
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (call), "State", "terminated",
                                                 12000));
  g_test_message ("Ended after %" G_GINT64_FORMAT " ms", (g_get_monotonic_time () - start) / 1000);
  g_assert_cmpstr (hark_dbus_call1_get_state_reason (call), ==, "timeout");
  g_assert_false (hark_test_calls_traces_contain (fixture->calls.traces, "in ACK "));
  hark_test_sipp_assert_passed (fixture->bus, sipp, "uac-no-ack.xml");
  hark_test_calls_assert_leaves_bus (fixture->bus, fixture->calls.incoming);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  (void) hark_error_quark ();

  if (!hark_test_sipp_found ())
    return g_test_run ();

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
