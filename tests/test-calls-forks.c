/* test-calls-forks.c — a forked INVITE: one Dialog1 per fork, CANCEL for
 * all, the answer that wins, and the late one (ACK, then BYE)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Real forking: Kamailio holds two bindings for "bob" (two SIPp phones on
 * their own ports) and forks our INVITE to both. The late second answer,
 * which a proxy makes only by chance (it CANCELs the other phones once one
 * answers), comes from one SIPp that plays the forking proxy and its two
 * phones, with To-tags a-N and b-N. The SIPp scenarios check what reached
 * each phone, and in which dialog (To-tag, Request-URI); the bus is
 * checked here.
 */

#include "config.h"

#include "hark-error.h"
#include "hark-test-bus.h"
#include "hark-test-calls.h"
#include "hark-test-kamailio.h"
#include "hark-test-sipp.h"

#define DIALOG1 "io.github.hark.Hark.Dialog1"

typedef struct {
  HarkTestBus      *bus;
  HarkTestCalls     calls;
  HarkTestKamailio *kamailio;
  GHashTable       *traces;     /* dialog path → GPtrArray of "in|out start line" */
} Fixture;

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  user_data)
{
  /* 64*T1 is how long the other forks may still answer after the first
   * answer: 4 s instead of 32 s. */
  const char * const env[] = { "HARK_SIP_T1X64_MS=4000", NULL };

  fixture->bus = hark_test_bus_new_full (HARK_TEST_BUS_FLAGS_NONE, env);
  hark_test_calls_init (&fixture->calls, fixture->bus);
  fixture->traces = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                           (GDestroyNotify) g_ptr_array_unref);
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  user_data)
{
  g_clear_pointer (&fixture->bus, hark_test_bus_free);
  g_clear_pointer (&fixture->kamailio, hark_test_kamailio_free);
  hark_test_calls_clear (&fixture->calls);
  g_clear_pointer (&fixture->traces, g_hash_table_unref);
}

/* Helpers */

/* The "in|out start line" of every Trace of @dialog so far */
static GPtrArray *
traces_of (Fixture         *fixture,
           HarkDBusDialog1 *dialog)
{
  const char *path = g_dbus_proxy_get_object_path (G_DBUS_PROXY (dialog));
  GPtrArray *traces = g_hash_table_lookup (fixture->traces, path);

  if (traces == NULL)
    {
      traces = g_ptr_array_new_with_free_func (g_free);
      g_hash_table_insert (fixture->traces, g_strdup (path), traces);
    }
  return traces;
}

static void
on_dialog_trace (HarkDBusDialog1 *dialog,
                 const char      *direction,
                 const char      *start_line,
                 GVariant        *headers,
                 Fixture         *fixture)
{
  g_ptr_array_add (traces_of (fixture, dialog), g_strdup_printf ("%s %s", direction, start_line));
}

/* Every Dialog1 on the bus whose Usages name @call_path, tracing into
 * fixture->traces from the moment it appears. */
static GPtrArray *
dialogs_of_call (Fixture    *fixture,
                 const char *call_path)
{
  GDBusObjectManager *manager = hark_test_bus_get_object_manager (fixture->bus);
  GList *objects = g_dbus_object_manager_get_objects (manager);
  GPtrArray *dialogs = g_ptr_array_new_with_free_func (g_object_unref);

  for (GList *l = objects; l != NULL; l = l->next)
    {
      HarkDBusDialog1 *dialog = hark_dbus_object_peek_dialog1 (HARK_DBUS_OBJECT (l->data));
      const char * const *usages = dialog ? hark_dbus_dialog1_get_usages (dialog) : NULL;

      if (usages != NULL && g_strv_contains (usages, call_path))
        g_ptr_array_add (dialogs, g_object_ref (dialog));
    }
  g_list_free_full (objects, g_object_unref);
  return dialogs;
}

static void
on_object_added (GDBusObjectManager *manager,
                 GDBusObject        *object,
                 Fixture            *fixture)
{
  HarkDBusDialog1 *dialog = hark_dbus_object_peek_dialog1 (HARK_DBUS_OBJECT (object));

  if (dialog != NULL)
    g_signal_connect (dialog, "trace", G_CALLBACK (on_dialog_trace), fixture);
}

/* Traces of every dialog from now on, the ones already there included */
static void
watch_dialogs (Fixture *fixture)
{
  GDBusObjectManager *manager = hark_test_bus_get_object_manager (fixture->bus);
  GList *objects = g_dbus_object_manager_get_objects (manager);

  g_signal_connect (manager, "object-added", G_CALLBACK (on_object_added), fixture);
  for (GList *l = objects; l != NULL; l = l->next)
    on_object_added (manager, l->data, fixture);
  g_list_free_full (objects, g_object_unref);
}

static HarkDBusDialog1 *
find_by_tag_prefix (GPtrArray  *dialogs,
                    const char *prefix)
{
  for (guint i = 0; i < dialogs->len; i++)
    if (g_str_has_prefix (hark_dbus_dialog1_get_remote_tag (g_ptr_array_index (dialogs, i)),
                          prefix))
      return g_ptr_array_index (dialogs, i);
  return NULL;
}

typedef struct {
  Fixture    *fixture;
  const char *call_path;
} EarlyForks;

static gboolean
two_early_forks_cb (gpointer user_data)
{
  EarlyForks *args = user_data;
  g_autoptr(GPtrArray) dialogs = dialogs_of_call (args->fixture, args->call_path);
  HarkDBusDialog1 *a = find_by_tag_prefix (dialogs, "a-");
  HarkDBusDialog1 *b = find_by_tag_prefix (dialogs, "b-");

  return dialogs->len == 2 && a != NULL && b != NULL &&
         g_str_equal (hark_dbus_dialog1_get_state (a), "early") &&
         g_str_equal (hark_dbus_dialog1_get_state (b), "early");
}

/* Both phones ring: two early dialogs of the call, one per To-tag, on one
 * Call-ID and our one tag. */
static void
wait_two_early_forks (Fixture          *fixture,
                      const char       *call_path,
                      HarkDBusDialog1 **out_a,
                      HarkDBusDialog1 **out_b)
{
  EarlyForks args = { fixture, call_path };
  g_autoptr(GPtrArray) dialogs = NULL;
  HarkDBusDialog1 *a, *b;

  g_assert_true (hark_test_wait_for (two_early_forks_cb, &args, 15000));
  dialogs = dialogs_of_call (fixture, call_path);
  a = find_by_tag_prefix (dialogs, "a-");
  b = find_by_tag_prefix (dialogs, "b-");
  g_assert_cmpstr (hark_dbus_dialog1_get_call_id (a), !=, "");
  g_assert_cmpstr (hark_dbus_dialog1_get_call_id (a), ==, hark_dbus_dialog1_get_call_id (b));
  g_assert_cmpstr (hark_dbus_dialog1_get_local_tag (a), !=, "");
  g_assert_cmpstr (hark_dbus_dialog1_get_local_tag (a), ==, hark_dbus_dialog1_get_local_tag (b));
  *out_a = g_object_ref (a);
  *out_b = g_object_ref (b);
}

static gboolean
traces_contain (GPtrArray  *traces,
                const char *prefix)
{
  return hark_test_calls_traces_contain (traces, prefix);
}

static guint
count_traces (GPtrArray  *traces,
              const char *prefix)
{
  guint n = 0;

  for (guint i = 0; i < traces->len; i++)
    if (g_str_has_prefix (g_ptr_array_index (traces, i), prefix))
      n++;
  return n;
}

typedef struct {
  GPtrArray  *traces;
  const char *prefix;
  guint       n;
} TraceCount;

static gboolean
trace_count_reached_cb (gpointer user_data)
{
  TraceCount *count = user_data;

  return count_traces (count->traces, count->prefix) >= count->n;
}

/* Traces follow their dialog's properties by a moment: wait for @n of
 * @prefix, and no more. */

static void
wait_traces (Fixture         *fixture,
             HarkDBusDialog1 *dialog,
             const char      *prefix,
             guint            n)
{
  TraceCount count = { traces_of (fixture, dialog), prefix, n };

  g_assert_true (hark_test_wait_for (trace_count_reached_cb, &count, 5000));
  hark_test_iterate (100);
  g_assert_cmpuint (count_traces (count.traces, prefix), ==, n);
}

/* …or for one at least */
static void
wait_trace (Fixture         *fixture,
            HarkDBusDialog1 *dialog,
            const char      *prefix)
{
  TraceCount count = { traces_of (fixture, dialog), prefix, 1 };

  if (!hark_test_wait_for (trace_count_reached_cb, &count, 5000))
    g_test_fail_printf ("%s traced no “%s”",
                        g_dbus_proxy_get_object_path (G_DBUS_PROXY (dialog)), prefix);
}

/* A phone of "bob" at Kamailio: SIPp on a port of its own, bound as a
 * contact of bob. */
static HarkTestProcess *
start_phone (Fixture    *fixture,
             const char *scenario,
             const char *fork)
{
  const char * const keys[] = { "fork", fork, NULL };
  /* Not 127.0.0.1: Kamailio takes every port of it for itself (its alias),
   * and would loose-route in-dialog requests back to itself. */
  HarkTestSippOptions options = {
    .address = "127.0.0.2", .keys = keys, .timeout_s = 40, .name = fork,
  };
  g_autoptr(GError) error = NULL;
  g_autofree char *contact = NULL;
  HarkTestProcess *sipp;
  guint port;

  sipp = hark_test_sipp_start_full (fixture->bus, scenario, 0, &options, &port);
  contact = g_strdup_printf ("sip:%s@127.0.0.2:%u", fork, port);
  hark_test_kamailio_add_binding (fixture->kamailio, "bob", contact, &error);
  g_assert_no_error (error);
  return sipp;
}

static char *
dial_bob_at_kamailio (Fixture *fixture)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *uri = NULL;
  char *path;

  uri = g_strdup_printf ("sip:bob@127.0.0.1:%u",
                         hark_test_kamailio_get_port (fixture->kamailio, "udp"));
  path = hark_test_calls_dial (fixture->bus, "/", uri, NULL, &error);
  g_assert_no_error (error);
  return path;
}

static void
start_kamailio (Fixture *fixture)
{
  HarkTestKamailioOptions options = { 0 };
  g_autoptr(GError) error = NULL;

  fixture->kamailio = hark_test_kamailio_start (&options, &error);
  g_assert_no_error (error);
}

/* Tests */

/* Hangup while both phones ring: one CANCEL, which Kamailio takes to both
 * (each gets its CANCEL, answers 487, gets its ACK); both early dialogs end
 * with the call and leave the bus. */
static void
test_fork_cancel_all (Fixture       *fixture,
                      gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HarkDBusCall1) call = NULL;
  g_autoptr(HarkDBusDialog1) a = NULL;
  g_autoptr(HarkDBusDialog1) b = NULL;
  g_autofree char *path = NULL;
  g_autofree char *a_path = NULL;
  g_autofree char *b_path = NULL;
  HarkTestProcess *phone_a, *phone_b;

  start_kamailio (fixture);
  phone_a = start_phone (fixture, "uas-fork-ring.xml", "a");
  phone_b = start_phone (fixture, "uas-fork-ring.xml", "b");
  watch_dialogs (fixture);

  path = dial_bob_at_kamailio (fixture);
  call = hark_test_calls_get_call (&fixture->calls, path);
  wait_two_early_forks (fixture, path, &a, &b);
  a_path = g_strdup (g_dbus_proxy_get_object_path (G_DBUS_PROXY (a)));
  b_path = g_strdup (g_dbus_proxy_get_object_path (G_DBUS_PROXY (b)));
  g_assert_cmpstr (a_path, !=, b_path);
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (call), "State", "ringing", 5000));
  /* The call's dialog is one of them (the first to ring) */
  g_assert_true (g_str_equal (hark_dbus_call1_get_dialog (call), a_path) ||
                 g_str_equal (hark_dbus_call1_get_dialog (call), b_path));

  /* Each dialog traces its own phone's ringing, not the other's */
  wait_traces (fixture, a, "in SIP/2.0 180 Ringing", 1);
  wait_traces (fixture, b, "in SIP/2.0 180 Ringing", 1);

  /* Terminate() on a fork before any answer hangs up the call: CANCEL */
  hark_dbus_dialog1_call_terminate_sync (b, g_variant_new_parsed ("{'reason': <'Q.850;cause=16'>}"),
                                         NULL, &error);
  g_assert_no_error (error);

  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (call), "State", "terminated",
                                                 15000));
  g_assert_cmpstr (hark_dbus_call1_get_state_reason (call), ==, "cancelled");
  g_assert_cmpuint (hark_dbus_call1_get_status_code (call), ==, 487);
  hark_test_sipp_assert_passed (fixture->bus, phone_a, "a");
  hark_test_sipp_assert_passed (fixture->bus, phone_b, "b");
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (a), "State", "terminated", 5000));
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (b), "State", "terminated", 5000));
  wait_trace (fixture, a, "out CANCEL ");
  wait_trace (fixture, b, "out CANCEL ");

  hark_test_calls_assert_leaves_bus (fixture->bus, path);
  hark_test_calls_assert_leaves_bus (fixture->bus, a_path);
  hark_test_calls_assert_leaves_bus (fixture->bus, b_path);
}

/* Phone b rings first, phone a a moment later and then answers: Kamailio
 * CANCELs b; the call moves to a's dialog (Call1.Dialog changes), b's
 * early dialog ends 64*T1 after the answer; Hangup's BYE goes to a. */
static void
test_fork_answer_moves_dialog (Fixture       *fixture,
                               gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HarkDBusCall1) call = NULL;
  g_autoptr(HarkDBusDialog1) a = NULL;
  g_autoptr(HarkDBusDialog1) b = NULL;
  g_autofree char *path = NULL;
  g_autofree char *a_path = NULL;
  g_autofree char *b_path = NULL;
  HarkTestProcess *phone_a, *phone_b;
  gint64 answered, b_ended;

  start_kamailio (fixture);
  phone_b = start_phone (fixture, "uas-fork-ring.xml", "b");
  phone_a = start_phone (fixture, "uas-fork-answer.xml", "a");
  watch_dialogs (fixture);

  path = dial_bob_at_kamailio (fixture);
  call = hark_test_calls_get_call (&fixture->calls, path);
  wait_two_early_forks (fixture, path, &a, &b);
  a_path = g_strdup (g_dbus_proxy_get_object_path (G_DBUS_PROXY (a)));
  b_path = g_strdup (g_dbus_proxy_get_object_path (G_DBUS_PROXY (b)));
  g_assert_cmpstr (hark_dbus_call1_get_dialog (call), ==, b_path);

  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (call), "State", "active", 15000));
  answered = g_get_monotonic_time ();
  g_assert_cmpstr (hark_dbus_call1_get_dialog (call), ==, a_path);
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (a), "State", "confirmed", 5000));
  g_assert_cmpstr (hark_dbus_dialog1_get_state (b), ==, "early");
  /* Ending b's early dialog sends nothing, but bad options are still refused */
  hark_dbus_dialog1_call_terminate_sync (b, g_variant_new_parsed ("{'reason': <'\\r\\nX: y'>}"),
                                         NULL, &error);
  g_assert_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_cmpstr (hark_dbus_dialog1_get_state (b), ==, "early");
  hark_test_sipp_assert_passed (fixture->bus, phone_b, "b");

  /* No fork can answer 64*T1 after the first answer */
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (b), "State", "terminated", 15000));
  b_ended = g_get_monotonic_time ();
  g_assert_cmpint (b_ended - answered, >=, 3 * G_USEC_PER_SEC);
  hark_test_calls_assert_leaves_bus (fixture->bus, b_path);
  g_assert_cmpstr (hark_dbus_call1_get_state (call), ==, "active");

  wait_trace (fixture, a, "in SIP/2.0 200 OK");
  wait_trace (fixture, a, "out ACK ");
  g_assert_false (traces_contain (traces_of (fixture, b), "in SIP/2.0 200 OK"));

  hark_dbus_call1_call_hangup_sync (call, g_variant_new ("a{sv}", NULL), NULL, &error);
  g_assert_no_error (error);
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (call), "State", "terminated",
                                                 10000));
  g_assert_cmpstr (hark_dbus_call1_get_state_reason (call), ==, "local-hangup");
  wait_trace (fixture, a, "out BYE ");
  g_assert_false (traces_contain (traces_of (fixture, b), "out BYE "));
  hark_test_sipp_assert_passed (fixture->bus, phone_a, "a");
  hark_test_calls_assert_leaves_bus (fixture->bus, a_path);
}

/* Both forks answer, a first: the call goes on with a, b's 2xx is ACKed and
 * BYEd in b's own dialog (SIPp checks the To-tags and Request-URIs), which
 * ends while the call stays up. */
static void
test_fork_late_answer (Fixture       *fixture,
                       gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HarkDBusCall1) call = NULL;
  g_autoptr(HarkDBusDialog1) a = NULL;
  g_autoptr(HarkDBusDialog1) b = NULL;
  g_autofree char *path = NULL;
  g_autofree char *uri = NULL;
  g_autofree char *a_path = NULL;
  g_autofree char *b_path = NULL;
  HarkTestProcess *sipp;
  GPtrArray *b_traces;
  guint port;

  sipp = hark_test_sipp_start (fixture->bus, "uas-fork-late-answer.xml", 0, &port);
  watch_dialogs (fixture);
  uri = g_strdup_printf ("sip:bob@127.0.0.1:%u", port);
  path = hark_test_calls_dial (fixture->bus, "/", uri, NULL, &error);
  g_assert_no_error (error);
  call = hark_test_calls_get_call (&fixture->calls, path);

  wait_two_early_forks (fixture, path, &a, &b);
  a_path = g_strdup (g_dbus_proxy_get_object_path (G_DBUS_PROXY (a)));
  b_path = g_strdup (g_dbus_proxy_get_object_path (G_DBUS_PROXY (b)));
  g_assert_cmpstr (hark_dbus_call1_get_dialog (call), ==, a_path);

  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (call), "State", "active", 15000));
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (b), "State", "terminated", 10000));
  g_assert_cmpstr (hark_dbus_call1_get_state (call), ==, "active");
  g_assert_cmpstr (hark_dbus_call1_get_dialog (call), ==, a_path);
  g_assert_cmpstr (hark_dbus_dialog1_get_state (a), ==, "confirmed");

  wait_trace (fixture, b, "in SIP/2.0 200 OK");
  wait_trace (fixture, b, "out ACK ");
  wait_trace (fixture, b, "out BYE ");
  b_traces = traces_of (fixture, b);
  g_assert_cmpint (hark_test_calls_trace_index (b_traces, "out ACK "), <,
                   hark_test_calls_trace_index (b_traces, "out BYE "));
  g_assert_false (traces_contain (traces_of (fixture, a), "out BYE "));
  hark_test_calls_assert_leaves_bus (fixture->bus, b_path);

  hark_dbus_call1_call_hangup_sync (call, g_variant_new ("a{sv}", NULL), NULL, &error);
  g_assert_no_error (error);
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (call), "State", "terminated",
                                                 10000));
  wait_trace (fixture, a, "out BYE ");
  hark_test_sipp_assert_passed (fixture->bus, sipp, "uas-fork-late-answer.xml");
  hark_test_calls_assert_leaves_bus (fixture->bus, a_path);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  /* Registers the error domain: D-Bus errors arrive as HARK_ERROR */
  (void) hark_error_quark ();

  if (!hark_test_sipp_found ())
    {
      g_test_skip ("sipp is not installed");
      return g_test_run ();
    }

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)

  ADD ("/hark/calls/fork/cancel-all", test_fork_cancel_all);
  ADD ("/hark/calls/fork/answer-moves-dialog", test_fork_answer_moves_dialog);
  ADD ("/hark/calls/fork/late-answer", test_fork_late_answer);

  return g_test_run ();
}
