/* test-trace.c — Dialog1.Trace shows the messages as they went over the wire
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * hark-daemon on a private bus, one SIPp scenario from tests/sipp/ on a free
 * loopback port (tests/hark-test-sipp.h). Every Trace of every dialog is
 * recorded from before the call starts, so that none is missed while the
 * test builds its proxies; SIPp's -trace_msg file says what it received.
 */

#include "config.h"

#include <string.h>

#include "hark-test-bus.h"
#include "hark-test-calls.h"
#include "hark-test-sipp.h"

#define DIALOG1 "io.github.hark.Hark.Dialog1"

typedef struct {
  char     *path;
  char     *line;      /* "in|out start line" */
  GVariant *headers;   /* a{ss} */
} Trace;

typedef struct {
  HarkTestBus   *bus;
  HarkTestCalls  calls;
  GPtrArray     *traces;        /* of Trace, every dialog's */
  guint          trace_sub;
} Fixture;

static void
trace_free (gpointer data)
{
  Trace *trace = data;

  g_free (trace->path);
  g_free (trace->line);
  g_variant_unref (trace->headers);
  g_free (trace);
}

static void
on_trace (GDBusConnection *connection,
          const char      *sender,
          const char      *path,
          const char      *interface,
          const char      *signal,
          GVariant        *parameters,
          gpointer         user_data)
{
  Fixture *fixture = user_data;
  const char *direction, *start_line;
  Trace *trace = g_new0 (Trace, 1);

  g_variant_get (parameters, "(&s&s@a{ss})", &direction, &start_line, &trace->headers);
  trace->path = g_strdup (path);
  trace->line = g_strdup_printf ("%s %s", direction, start_line);
  g_ptr_array_add (fixture->traces, trace);
}

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  user_data)
{
  fixture->bus = hark_test_bus_new (HARK_TEST_BUS_FLAGS_NONE);
  hark_test_calls_init (&fixture->calls, fixture->bus);
  fixture->traces = g_ptr_array_new_with_free_func (trace_free);
  fixture->trace_sub =
    g_dbus_connection_signal_subscribe (hark_test_bus_get_connection (fixture->bus),
                                        NULL, DIALOG1, "Trace", NULL, NULL,
                                        G_DBUS_SIGNAL_FLAGS_NONE, on_trace, fixture, NULL);
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  user_data)
{
  g_dbus_connection_signal_unsubscribe (hark_test_bus_get_connection (fixture->bus),
                                        fixture->trace_sub);
  g_clear_pointer (&fixture->bus, hark_test_bus_free);
  hark_test_calls_clear (&fixture->calls);
  g_clear_pointer (&fixture->traces, g_ptr_array_unref);
}

/* Helpers */

/* The first trace of @dialog at or after @from whose line starts with
 * @prefix, or -1 */
static gssize
find_trace (Fixture    *fixture,
            const char *dialog,
            gssize      from,
            const char *prefix)
{
  for (guint i = MAX (from, 0); i < fixture->traces->len; i++)
    {
      Trace *trace = g_ptr_array_index (fixture->traces, i);

      if (g_str_equal (trace->path, dialog) && g_str_has_prefix (trace->line, prefix))
        return i;
    }
  return -1;
}

static char *
describe_traces (Fixture    *fixture,
                 const char *dialog)
{
  GString *text = g_string_new (NULL);

  for (guint i = 0; i < fixture->traces->len; i++)
    {
      Trace *trace = g_ptr_array_index (fixture->traces, i);

      if (g_str_equal (trace->path, dialog))
        g_string_append_printf (text, "  %s\n", trace->line);
    }
  return g_string_free (text, FALSE);
}

/* Asserts that @dialog's traces hold @expected in this order (other
 * messages may come between), and returns their indexes in @out. */
static void
assert_traces_in_order (Fixture            *fixture,
                        const char         *dialog,
                        const char * const *expected,
                        gssize             *out)
{
  gssize at = 0;

  for (guint i = 0; expected[i] != NULL; i++)
    {
      at = find_trace (fixture, dialog, at, expected[i]);
      if (at < 0)
        {
          g_autofree char *seen = describe_traces (fixture, dialog);

          g_error ("No trace “%s” after the previous one; traces:\n%s", expected[i], seen);
        }
      if (out != NULL)
        out[i] = at;
      at++;
    }
}

static const char *
header (Fixture    *fixture,
        gssize      index,
        const char *name)
{
  Trace *trace = g_ptr_array_index (fixture->traces, index);
  const char *value = NULL;

  if (!g_variant_lookup (trace->headers, name, "&s", &value))
    g_error ("Trace “%s” has no %s header", trace->line, name);
  return value;
}

/* The branch parameter of the first Via value */
static char *
via_branch (const char *via)
{
  const char *start = strstr (via, "branch=");
  gsize len;

  g_assert_nonnull (start);
  start += strlen ("branch=");
  len = strcspn (start, ";, ");
  return g_strndup (start, len);
}

static gboolean
traces_contain_cb (gpointer user_data)
{
  gpointer *args = user_data;

  return find_trace (args[0], args[1], 0, args[2]) >= 0;
}

static void
wait_trace (Fixture    *fixture,
            const char *dialog,
            const char *prefix)
{
  gpointer args[] = { fixture, (gpointer) dialog, (gpointer) prefix };

  if (!hark_test_wait_for (traces_contain_cb, args, 10000))
    {
      g_autofree char *seen = describe_traces (fixture, dialog);

      g_error ("No trace “%s”; traces:\n%s", prefix, seen);
    }
}

/* Tests */

/* An outgoing call answered by SIPp and hung up by Hark: INVITE, ACK and
 * BYE out, 100, 180 and both 200s in, in wire order, with the Via branch
 * and CSeq that SIPp received. */
static void
test_outgoing_answered (Fixture       *fixture,
                        gconstpointer  user_data)
{
  static const char * const expected[] = {
    "out INVITE sip:bob@127.0.0.1:",
    "in SIP/2.0 100 Trying",
    "in SIP/2.0 180 Ringing",
    "in SIP/2.0 200 OK",
    "out ACK sip:",
    "out BYE sip:",
    "in SIP/2.0 200 OK",
    NULL
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(HarkDBusCall1) call = NULL;
  g_autofree char *uri = NULL;
  g_autofree char *path = NULL;
  g_autofree char *dialog = NULL;
  g_autofree char *received = NULL;
  g_autofree char *invite_branch = NULL;
  g_autofree char *bye_branch = NULL;
  g_autofree char *invite_cseq = NULL;
  g_autofree char *bye_cseq = NULL;
  g_autofree char *seen = NULL;
  gssize at[G_N_ELEMENTS (expected) - 1];
  HarkTestProcess *sipp;
  guint port;

  sipp = hark_test_sipp_start (fixture->bus, "uas-trace.xml", 0, &port);
  uri = g_strdup_printf ("sip:bob@127.0.0.1:%u", port);
  path = hark_test_calls_dial (fixture->bus, "/", uri, NULL, &error);
  g_assert_no_error (error);
  call = hark_test_calls_get_call (&fixture->calls, path);
  dialog = g_strdup (hark_dbus_call1_get_dialog (call));

  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (call), "State", "active", 10000));
  hark_dbus_call1_call_hangup_sync (call, g_variant_new ("a{sv}", NULL), NULL, &error);
  g_assert_no_error (error);
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (call), "State", "terminated",
                                                 10000));
  hark_test_sipp_assert_passed (fixture->bus, sipp, "uas-trace.xml");
  wait_trace (fixture, dialog, "in SIP/2.0 200 OK");
  hark_test_iterate (200);

  seen = describe_traces (fixture, dialog);
  g_test_message ("Traces:\n%s", seen);
  assert_traces_in_order (fixture, dialog, expected, at);
  /* The 200 that answers the BYE is the BYE's */
  g_assert_cmpstr (header (fixture, at[6], "CSeq"), ==,
                   header (fixture, at[5], "CSeq"));

  /* Real headers, as SIPp got them: the branch Sofia chose, the CSeq
   * numbers it counted, one Call-ID for all */
  received = hark_test_sipp_read_messages (fixture->bus, "uas-trace.xml");
  invite_branch = via_branch (header (fixture, at[0], "Via"));
  bye_branch = via_branch (header (fixture, at[5], "Via"));
  invite_cseq = g_strdup_printf ("CSeq: %s", header (fixture, at[0], "CSeq"));
  bye_cseq = g_strdup_printf ("CSeq: %s", header (fixture, at[5], "CSeq"));
  g_assert_true (g_str_has_prefix (invite_branch, "z9hG4bK"));
  g_assert_cmpstr (invite_branch, !=, bye_branch);
  g_assert_nonnull (strstr (received, invite_branch));
  g_assert_nonnull (strstr (received, bye_branch));
  g_assert_nonnull (strstr (received, invite_cseq));
  g_assert_nonnull (strstr (received, bye_cseq));
  g_assert_true (g_str_has_suffix (invite_cseq, " INVITE"));
  g_assert_true (g_str_has_suffix (bye_cseq, " BYE"));
  for (guint i = 0; expected[i] != NULL; i++)
    g_assert_cmpstr (header (fixture, at[i], "Call-ID"), ==, header (fixture, at[0], "Call-ID"));
  g_assert_nonnull (strstr (received, header (fixture, at[0], "Call-ID")));
  /* The body is not traced, only its headers */
  g_assert_cmpstr (header (fixture, at[0], "Content-Type"), ==, "application/sdp");

  hark_test_calls_assert_leaves_bus (fixture->bus, path);
}

/* Hangup of a ringing outgoing call: our CANCEL gets 200, the INVITE 487,
 * and the 487 is ACKed by Sofia itself (RFC 3261 section 17.1.1.3), in the
 * INVITE's transaction: same branch. Hark's code never sends that ACK. */
static void
test_cancel_ack (Fixture       *fixture,
                 gconstpointer  user_data)
{
  static const char * const expected[] = {
    "out INVITE ",
    "in SIP/2.0 180 ",
    "out CANCEL ",
    "in SIP/2.0 487 ",
    "out ACK ",
    NULL
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(HarkDBusCall1) call = NULL;
  g_autofree char *uri = NULL;
  g_autofree char *path = NULL;
  g_autofree char *dialog = NULL;
  g_autofree char *received = NULL;
  g_autofree char *invite_branch = NULL;
  g_autofree char *ack_branch = NULL;
  gssize at[G_N_ELEMENTS (expected) - 1];
  HarkTestProcess *sipp;
  guint port;

  sipp = hark_test_sipp_start (fixture->bus, "uas-cancel.xml", 0, &port);
  uri = g_strdup_printf ("sip:bob@127.0.0.1:%u", port);
  path = hark_test_calls_dial (fixture->bus, "/", uri, NULL, &error);
  g_assert_no_error (error);
  call = hark_test_calls_get_call (&fixture->calls, path);
  dialog = g_strdup (hark_dbus_call1_get_dialog (call));

  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (call), "State", "ringing", 10000));
  hark_dbus_call1_call_hangup_sync (call, g_variant_new_parsed ("{'reason': <'Q.850;cause=16'>}"),
                                    NULL, &error);
  g_assert_no_error (error);
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (call), "State", "terminated",
                                                 10000));
  hark_test_sipp_assert_passed (fixture->bus, sipp, "uas-cancel.xml");
  wait_trace (fixture, dialog, "out ACK ");

  assert_traces_in_order (fixture, dialog, expected, at);
  g_assert_cmpstr (header (fixture, at[2], "Reason"), ==, "Q.850;cause=16");
  invite_branch = via_branch (header (fixture, at[0], "Via"));
  ack_branch = via_branch (header (fixture, at[4], "Via"));
  g_assert_cmpstr (ack_branch, ==, invite_branch);
  g_assert_true (g_str_has_suffix (header (fixture, at[4], "CSeq"), " ACK"));

  received = hark_test_sipp_read_messages (fixture->bus, "uas-cancel.xml");
  g_assert_nonnull (strstr (received, "ACK sip:"));
  g_assert_nonnull (strstr (received, invite_branch));
  hark_test_calls_assert_leaves_bus (fixture->bus, path);
}

/* An incoming INVITE is answered "100 Trying" by Sofia before the call
 * exists on the bus: its trace comes right after the INVITE's, then our
 * 180 and, once accepted, 200; the caller's ACK and BYE come in. */
static void
test_incoming_trying (Fixture       *fixture,
                      gconstpointer  user_data)
{
  static const char * const expected[] = {
    "in INVITE ",
    "out SIP/2.0 100 Trying",
    "out SIP/2.0 180 Ringing",
    "out SIP/2.0 200 OK",
    "in ACK ",
    "in BYE ",
    "out SIP/2.0 200 OK",
    NULL
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(HarkDBusCall1) call = NULL;
  g_autofree char *dialog = NULL;
  g_autofree char *received = NULL;
  gssize at[G_N_ELEMENTS (expected) - 1];
  HarkTestProcess *sipp;

  hark_test_calls_watch_incoming (&fixture->calls);
  sipp = hark_test_sipp_start (fixture->bus, "uac-call.xml",
                               hark_test_sipp_get_local_profile_port (fixture->bus), NULL);
  call = hark_test_calls_wait_incoming (&fixture->calls);
  dialog = g_strdup (hark_dbus_call1_get_dialog (call));
  wait_trace (fixture, dialog, "out SIP/2.0 180 ");

  hark_dbus_call1_call_accept_sync (call, g_variant_new ("a{sv}", NULL), NULL, &error);
  g_assert_no_error (error);
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (call), "State", "terminated",
                                                 15000));
  hark_test_sipp_assert_passed (fixture->bus, sipp, "uac-call.xml");
  wait_trace (fixture, dialog, "out SIP/2.0 200 OK");
  hark_test_iterate (300);

  assert_traces_in_order (fixture, dialog, expected, at);
  /* Nothing of ours between the INVITE and Sofia's 100 */
  g_assert_cmpint (at[1], ==, find_trace (fixture, dialog, at[0] + 1, ""));
  g_assert_cmpstr (header (fixture, at[1], "CSeq"), ==, "1 INVITE");
  g_assert_cmpstr (header (fixture, at[1], "Via"), ==, header (fixture, at[0], "Via"));

  received = hark_test_sipp_read_messages (fixture->bus, "uac-call.xml");
  g_assert_nonnull (strstr (received, "SIP/2.0 100 Trying"));
  hark_test_calls_assert_leaves_bus (fixture->bus, fixture->calls.incoming);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/hark/trace/outgoing-answered", Fixture, NULL,
              fixture_setup, test_outgoing_answered, fixture_teardown);
  g_test_add ("/hark/trace/cancel-ack", Fixture, NULL,
              fixture_setup, test_cancel_ack, fixture_teardown);
  g_test_add ("/hark/trace/incoming-trying", Fixture, NULL,
              fixture_setup, test_incoming_trying, fixture_teardown);

  return g_test_run ();
}
