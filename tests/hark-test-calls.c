/* hark-test-calls.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "hark-test-calls.h"
#include "hark-test-sipp.h"

/* Calls come in and leave the bus within this, however slow the machine
 * (scaled by $HARK_TEST_TIMEOUT_SCALE) */
#define WAIT_MS 10000

/**
 * hark_test_calls_init:
 * @self: the watcher, uninitialized
 * @bus: the bus to watch, which must outlive the watcher's proxies
 *
 * Starts @self with nothing seen.
 */
void
hark_test_calls_init (HarkTestCalls *self,
                      HarkTestBus   *bus)
{
  self->bus = bus;
  self->states = g_ptr_array_new_with_free_func (g_free);
  self->traces = g_ptr_array_new_with_free_func (g_free);
  self->trace_times = g_array_new (FALSE, FALSE, sizeof (gint64));
  self->incoming = NULL;
  self->incomings = g_ptr_array_new_with_free_func (g_free);
}

/**
 * hark_test_calls_clear:
 * @self: a watcher of hark_test_calls_init()
 *
 * Frees what @self saw; it may be cleared twice.
 */
void
hark_test_calls_clear (HarkTestCalls *self)
{
  self->bus = NULL;
  g_clear_pointer (&self->incomings, g_ptr_array_unref);
  g_clear_pointer (&self->states, g_ptr_array_unref);
  g_clear_pointer (&self->traces, g_ptr_array_unref);
  g_clear_pointer (&self->trace_times, g_array_unref);
  g_clear_pointer (&self->incoming, g_free);
}

static void
on_properties_changed (GDBusProxy     *proxy,
                       GVariant       *changed,
                       const char    **invalidated,
                       HarkTestCalls  *self)
{
  const char *state;

  if (g_variant_lookup (changed, "State", "&s", &state))
    g_ptr_array_add (self->states, g_strdup (state));
}

static void
on_trace (HarkDBusDialog1 *dialog,
          const char      *direction,
          const char      *start_line,
          GVariant        *headers,
          HarkTestCalls   *self)
{
  gint64 now = g_get_monotonic_time ();

  g_ptr_array_add (self->traces, g_strdup_printf ("%s %s", direction, start_line));
  g_array_append_val (self->trace_times, now);
}

/**
 * hark_test_calls_get_call:
 * @self: the watcher
 * @path: a Call1 object's path
 *
 * Returns: (transfer full): a proxy of the call, whose State changes go to
 *   @self->states
 */
HarkDBusCall1 *
hark_test_calls_get_call (HarkTestCalls *self,
                          const char    *path)
{
  g_autoptr(GError) error = NULL;
  HarkDBusCall1 *call;

  call = hark_dbus_call1_proxy_new_sync (hark_test_bus_get_connection (self->bus),
                                         G_DBUS_PROXY_FLAGS_NONE, HARK_TEST_BUS_NAME, path,
                                         NULL, &error);
  g_assert_no_error (error);
  g_signal_connect (call, "g-properties-changed", G_CALLBACK (on_properties_changed), self);
  return call;
}

/**
 * hark_test_calls_get_dialog:
 * @self: the watcher
 * @call: a proxy of a call
 *
 * Returns: (transfer full): a proxy of @call's dialog, whose Trace signals
 *   go to @self->traces and @self->trace_times
 */
HarkDBusDialog1 *
hark_test_calls_get_dialog (HarkTestCalls *self,
                            HarkDBusCall1 *call)
{
  g_autoptr(GError) error = NULL;
  HarkDBusDialog1 *dialog;

  dialog = hark_dbus_dialog1_proxy_new_sync (hark_test_bus_get_connection (self->bus),
                                             G_DBUS_PROXY_FLAGS_NONE, HARK_TEST_BUS_NAME,
                                             hark_dbus_call1_get_dialog (call), NULL, &error);
  g_assert_no_error (error);
  g_signal_connect (dialog, "trace", G_CALLBACK (on_trace), self);
  return dialog;
}

/**
 * hark_test_calls_dial:
 * @bus: the test's bus
 * @profile: a profile's path, or "/" for the default one
 * @uri: whom to call
 * @options: (nullable): Dial()'s options (a{sv}, floating); %NULL for none
 * @error: where Dial()'s error goes
 *
 * Returns: (transfer full) (nullable): the new call's path, %NULL with
 *   @error set if Dial() failed
 */
char *
hark_test_calls_dial (HarkTestBus  *bus,
                      const char   *profile,
                      const char   *uri,
                      GVariant     *options,
                      GError      **error)
{
  HarkDBusManager1 *manager = hark_test_bus_get_manager (bus);
  char *path = NULL;

  if (options == NULL)
    options = g_variant_new ("a{sv}", NULL);
  if (!hark_dbus_manager1_call_dial_sync (manager, profile, uri, options, &path, NULL, error))
    return NULL;
  return path;
}

/**
 * hark_test_calls_dial_sipp:
 * @self: the watcher
 * @scenario: a UAS scenario in tests/sipp/
 * @out_sipp: (out): the SIPp process (see hark_test_sipp_start())
 * @out_path: (out) (optional): the call's path
 *
 * Starts SIPp as a UAS with @scenario and calls it, sip:bob@127.0.0.1:port,
 * from the default profile; fails the test if Dial() fails.
 *
 * Returns: (transfer full): a proxy of the call, as of
 *   hark_test_calls_get_call()
 */
HarkDBusCall1 *
hark_test_calls_dial_sipp (HarkTestCalls     *self,
                           const char        *scenario,
                           HarkTestProcess  **out_sipp,
                           char             **out_path)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *uri = NULL;
  g_autofree char *path = NULL;
  HarkDBusCall1 *call;
  guint port;

  *out_sipp = hark_test_sipp_start (self->bus, scenario, 0, &port);
  uri = g_strdup_printf ("sip:bob@127.0.0.1:%u", port);
  path = hark_test_calls_dial (self->bus, "/", uri, NULL, &error);
  g_assert_no_error (error);
  call = hark_test_calls_get_call (self, path);
  if (out_path != NULL)
    *out_path = g_steal_pointer (&path);
  return call;
}

static void
on_incoming_call (HarkDBusManager1 *manager,
                  const char       *path,
                  HarkTestCalls    *self)
{
  g_free (self->incoming);
  self->incoming = g_strdup (path);
  g_ptr_array_add (self->incomings, g_strdup (path));
}

/**
 * hark_test_calls_watch_incoming:
 * @self: the watcher
 *
 * From now on, the IncomingCall signals of the bus's current manager proxy
 * go to @self->incoming and @self->incomings. Call it again after
 * hark_test_bus_restart_daemon(), which replaces that proxy.
 */
void
hark_test_calls_watch_incoming (HarkTestCalls *self)
{
  g_signal_connect (hark_test_bus_get_manager (self->bus), "incoming-call",
                    G_CALLBACK (on_incoming_call), self);
}

static gboolean
incoming_seen_cb (gpointer user_data)
{
  HarkTestCalls *self = user_data;

  return self->incoming != NULL;
}

/**
 * hark_test_calls_wait_incoming:
 * @self: a watcher of incoming calls (hark_test_calls_watch_incoming())
 *
 * Waits until @self->incoming is set (clear it to wait for the next call)
 * and fails the test if no call comes in.
 *
 * Returns: (transfer full): a proxy of that call, as of
 *   hark_test_calls_get_call()
 */
HarkDBusCall1 *
hark_test_calls_wait_incoming (HarkTestCalls *self)
{
  g_assert_true (hark_test_wait_for (incoming_seen_cb, self, WAIT_MS));
  return hark_test_calls_get_call (self, self->incoming);
}

/**
 * hark_test_calls_sipp_calls_in:
 * @self: the watcher
 * @scenario: a UAC scenario in tests/sipp/
 * @out_sipp: (out): the SIPp process (see hark_test_sipp_start())
 *
 * The other way round from hark_test_calls_dial_sipp(): SIPp calls the
 * daemon's local profile with @scenario; fails the test unless the call
 * comes in (IncomingCall, whose path is then @self's incoming).
 *
 * Returns: (transfer full): a proxy of the incoming call
 */
HarkDBusCall1 *
hark_test_calls_sipp_calls_in (HarkTestCalls     *self,
                               const char        *scenario,
                               HarkTestProcess  **out_sipp)
{
  hark_test_calls_watch_incoming (self);
  *out_sipp = hark_test_sipp_start (self->bus, scenario,
                                    hark_test_sipp_get_local_profile_port (self->bus), NULL);
  return hark_test_calls_wait_incoming (self);
}

/**
 * hark_test_calls_states_contain_in_order:
 * @states: (element-type utf8): states seen
 * @expected: (array zero-terminated=1): states to find
 *
 * Returns: whether @expected is a subsequence of @states: each of them
 *   seen, in that order, whatever came in between
 */
gboolean
hark_test_calls_states_contain_in_order (GPtrArray          *states,
                                         const char * const *expected)
{
  guint j = 0;

  for (guint i = 0; i < states->len && expected[j] != NULL; i++)
    if (g_str_equal (g_ptr_array_index (states, i), expected[j]))
      j++;
  return expected[j] == NULL;
}

/**
 * hark_test_calls_describe_states:
 * @states: (element-type utf8): states seen
 *
 * Returns: (transfer full): @states as "a → b → c", for the test's log
 */
char *
hark_test_calls_describe_states (GPtrArray *states)
{
  g_autoptr(GString) text = g_string_new (NULL);

  for (guint i = 0; i < states->len; i++)
    g_string_append_printf (text, "%s%s", i ? " → " : "", (char *) g_ptr_array_index (states, i));
  return g_string_free (g_steal_pointer (&text), FALSE);
}

/**
 * hark_test_calls_trace_index:
 * @traces: (element-type utf8): traces seen ("in|out start line")
 * @prefix: the start of the trace looked for, e.g. "out BYE "
 *
 * Returns: the index of the first trace that starts with @prefix, -1 if
 *   none does
 */
gssize
hark_test_calls_trace_index (GPtrArray  *traces,
                             const char *prefix)
{
  for (guint i = 0; i < traces->len; i++)
    if (g_str_has_prefix (g_ptr_array_index (traces, i), prefix))
      return i;
  return -1;
}

/**
 * hark_test_calls_traces_contain:
 * @traces: (element-type utf8): traces seen ("in|out start line")
 * @prefix: the start of the trace looked for
 *
 * Returns: whether a trace starts with @prefix
 */
gboolean
hark_test_calls_traces_contain (GPtrArray  *traces,
                                const char *prefix)
{
  return hark_test_calls_trace_index (traces, prefix) >= 0;
}

typedef struct {
  HarkTestBus *bus;
  const char  *path;
} ObjectGone;

static gboolean
object_gone_cb (gpointer user_data)
{
  ObjectGone *gone = user_data;
  g_autoptr(GDBusObject) object = NULL;

  object = g_dbus_object_manager_get_object (hark_test_bus_get_object_manager (gone->bus),
                                             gone->path);
  return object == NULL;
}

/**
 * hark_test_calls_assert_leaves_bus:
 * @bus: the test's bus
 * @path: an object's path
 *
 * Fails the test unless the object at @path leaves the bus's object
 * manager within 10 s.
 */
void
hark_test_calls_assert_leaves_bus (HarkTestBus *bus,
                                   const char  *path)
{
  ObjectGone gone = { bus, path };

  g_assert_true (hark_test_wait_for (object_gone_cb, &gone, WAIT_MS));
}
