/* hark-test-sipp.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>
#include <sys/wait.h>

#include "hark-test-sipp.h"

#define DEFAULT_ADDRESS   "127.0.0.1"
#define DEFAULT_SERVICE   "hark"
#define DEFAULT_TIMEOUT_S 20

/* hark_test_sipp_assert_passed() waits SIPp's default -timeout and a bit */
#define DEFAULT_WAIT_MS   25000

/* How much of hark-daemon's log a failed scenario shows */
#define LOG_TAIL_BYTES    6000

static char *
dup_tmp_file (HarkTestBus *bus,
              const char  *scenario,
              const char  *suffix)
{
  return g_strdup_printf ("%s/%s.%s", hark_test_bus_get_tmpdir (bus), scenario, suffix);
}

/**
 * hark_test_sipp_found:
 *
 * Whether sipp is on $PATH; if not, marks the test program skipped (call it
 * after g_test_init(), and return g_test_run() without adding any test).
 *
 * Returns: %TRUE when SIPp can be run
 */
gboolean
hark_test_sipp_found (void)
{
  g_autofree char *path = g_find_program_in_path ("sipp");

  if (path == NULL)
    g_test_skip ("sipp is not installed");
  return path != NULL;
}

/**
 * hark_test_sipp_scenario_path:
 * @scenario: a file name in tests/sipp/, e.g. "uas-answer.xml"
 *
 * Returns: (transfer full): the scenario's path in the source tree
 */
char *
hark_test_sipp_scenario_path (const char *scenario)
{
  return g_build_filename (HARK_TEST_SRCDIR, "sipp", scenario, NULL);
}

/**
 * hark_test_sipp_start:
 * @bus: the test's bus: SIPp's files go to its temp dir
 * @scenario: a file name in tests/sipp/
 * @target_port: 0 for a UAS; else the UDP port on 127.0.0.1 a UAC sends to
 * @out_port: (out) (optional): the port SIPp listens on
 *
 * hark_test_sipp_start_full() with the default options: SIPp on 127.0.0.1,
 * a UAC asks for user "hark", SIPp gives up after 20 s.
 *
 * Returns: (transfer none): the SIPp process, killed at the bus's teardown
 *   if still running
 */
HarkTestProcess *
hark_test_sipp_start (HarkTestBus *bus,
                      const char  *scenario,
                      guint        target_port,
                      guint       *out_port)
{
  return hark_test_sipp_start_full (bus, scenario, target_port, NULL, out_port);
}

/**
 * hark_test_sipp_start_full:
 * @bus: the test's bus: SIPp's files go to its temp dir
 * @scenario: a file name in tests/sipp/
 * @target_port: 0 for a UAS; else the UDP port on 127.0.0.1 a UAC sends to
 * @options: (nullable): the knobs; %NULL for the defaults
 * @out_port: (out) (optional): the port SIPp listens on
 *
 * Starts SIPp with @scenario, once (-m 1), on a free port. Every message
 * goes to `<tmpdir>/<scenario>.messages` (see hark_test_sipp_read_messages())
 * and SIPp's output to `<tmpdir>/<scenario>.out`. A UAS gets 300 ms to bind
 * its port before this returns, so that the daemon can send to it at once.
 *
 * Returns: (transfer none): the SIPp process, killed at the bus's teardown
 *   if still running
 */
HarkTestProcess *
hark_test_sipp_start_full (HarkTestBus               *bus,
                           const char                *scenario,
                           guint                      target_port,
                           const HarkTestSippOptions *options,
                           guint                     *out_port)
{
  static const HarkTestSippOptions defaults = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *path = hark_test_sipp_scenario_path (scenario);
  g_autofree char *port = NULL;
  g_autofree char *timeout = NULL;
  g_autofree char *target = NULL;
  g_autofree char *messages = NULL;
  g_autofree char *output = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  HarkTestProcess *process;
  guint16 p = hark_test_get_free_port (TRUE);

  if (options == NULL)
    options = &defaults;
  messages = dup_tmp_file (bus, options->name ? options->name : scenario, "messages");
  output = dup_tmp_file (bus, options->name ? options->name : scenario, "out");
  port = g_strdup_printf ("%u", p);
  timeout = g_strdup_printf ("%u", options->timeout_s != 0 ? options->timeout_s
                                                          : DEFAULT_TIMEOUT_S);

  g_ptr_array_add (argv, "sipp");
  g_ptr_array_add (argv, "-sf");
  g_ptr_array_add (argv, path);
  g_ptr_array_add (argv, "-i");
  g_ptr_array_add (argv, (gpointer) (options->address ? options->address : DEFAULT_ADDRESS));
  g_ptr_array_add (argv, "-p");
  g_ptr_array_add (argv, port);
  g_ptr_array_add (argv, "-m");
  g_ptr_array_add (argv, "1");
  g_ptr_array_add (argv, "-timeout");
  g_ptr_array_add (argv, timeout);
  g_ptr_array_add (argv, "-timeout_error");
  g_ptr_array_add (argv, "-nostdin");
  g_ptr_array_add (argv, "-trace_msg");
  g_ptr_array_add (argv, "-message_file");
  g_ptr_array_add (argv, messages);
  for (guint i = 0;
       options->keys != NULL && options->keys[i] != NULL && options->keys[i + 1] != NULL;
       i += 2)
    {
      g_ptr_array_add (argv, "-key");
      g_ptr_array_add (argv, (gpointer) options->keys[i]);
      g_ptr_array_add (argv, (gpointer) options->keys[i + 1]);
    }
  if (target_port != 0)
    {
      target = g_strdup_printf ("127.0.0.1:%u", target_port);
      g_ptr_array_add (argv, "-s");
      g_ptr_array_add (argv, (gpointer) (options->service ? options->service : DEFAULT_SERVICE));
      g_ptr_array_add (argv, target);
    }
  g_ptr_array_add (argv, NULL);

  process = hark_test_bus_spawn (bus, (const char * const *) argv->pdata, output, &error);
  g_assert_no_error (error);

  /* SIPp binds its port at start; give it a moment before Hark sends. */
  if (target_port == 0)
    hark_test_iterate (300);

  if (out_port != NULL)
    *out_port = p;
  return process;
}

/**
 * hark_test_sipp_assert_passed:
 * @bus: the bus @sipp was started on
 * @sipp: a process of hark_test_sipp_start()
 * @scenario: its scenario
 *
 * hark_test_sipp_assert_passed_full() with 25 s: enough for SIPp's default
 * timeout.
 */
void
hark_test_sipp_assert_passed (HarkTestBus     *bus,
                              HarkTestProcess *sipp,
                              const char      *scenario)
{
  hark_test_sipp_assert_passed_full (bus, sipp, scenario, DEFAULT_WAIT_MS);
}

/**
 * hark_test_sipp_assert_passed_full:
 * @bus: the bus @sipp was started on
 * @sipp: a process of hark_test_sipp_start_full()
 * @scenario: its scenario
 * @timeout_ms: how long to wait for SIPp to exit (scaled like every wait)
 *
 * Waits for SIPp to exit and fails the test (without aborting it) unless it
 * exited 0, that is unless the peer saw every message the scenario expects.
 * On failure the test's log gets SIPp's output, its messages and the tail
 * of hark-daemon's log.
 */
void
hark_test_sipp_assert_passed_full (HarkTestBus     *bus,
                                   HarkTestProcess *sipp,
                                   const char      *scenario,
                                   guint            timeout_ms)
{
  g_autofree char *output_path = dup_tmp_file (bus, scenario, "out");
  g_autofree char *output = NULL;
  g_autofree char *messages = NULL;
  g_autofree char *log = NULL;

  if (hark_test_process_wait (sipp, timeout_ms) &&
      WIFEXITED (sipp->wait_status) && WEXITSTATUS (sipp->wait_status) == 0)
    return;

  log = hark_test_bus_dup_log_tail (bus, LOG_TAIL_BYTES);
  g_file_get_contents (output_path, &output, NULL, NULL);
  messages = hark_test_sipp_read_messages (bus, scenario);
  g_test_message ("SIPp output:\n%s\nSIPp messages:\n%s\nhark-daemon log:\n%s",
                  output ? output : "(none)", messages[0] ? messages : "(none)", log);
  g_test_fail_printf ("SIPp scenario %s failed (wait status 0x%x)", scenario,
                      sipp->wait_status);
}

/**
 * hark_test_sipp_read_messages:
 * @bus: the bus SIPp was started on
 * @scenario: its scenario
 *
 * Returns: (transfer full): every message SIPp sent and received so far
 *   (-trace_msg), as text; "" when there is none
 */
char *
hark_test_sipp_read_messages (HarkTestBus *bus,
                              const char  *scenario)
{
  g_autofree char *path = dup_tmp_file (bus, scenario, "messages");
  char *messages = NULL;

  g_file_get_contents (path, &messages, NULL, NULL);
  return messages ? messages : g_strdup ("");
}

static HarkDBusProfile1 *
find_local_profile (HarkTestBus *bus)
{
  HarkDBusProfile1 *profile = hark_test_bus_find_profile (bus, "local");

  g_assert_nonnull (profile);
  return profile;
}

/**
 * hark_test_sipp_get_local_profile_port:
 * @bus: a bus with hark-daemon running
 *
 * Returns: the SIP port of the daemon's "local" profile, from its Contact
 *   (sip:user@host:port): where a SIPp UAC sends
 */
guint
hark_test_sipp_get_local_profile_port (HarkTestBus *bus)
{
  g_autoptr(HarkDBusProfile1) profile = find_local_profile (bus);
  const char *contact = hark_dbus_profile1_get_contact (profile);
  const char *colon;

  g_assert_nonnull (contact);
  colon = strrchr (contact, ':');
  g_assert_nonnull (colon);
  return (guint) g_ascii_strtoull (colon + 1, NULL, 10);
}

/**
 * hark_test_sipp_dup_local_profile_path:
 * @bus: a bus with hark-daemon running
 *
 * Returns: (transfer full): the object path of the daemon's "local" profile
 */
char *
hark_test_sipp_dup_local_profile_path (HarkTestBus *bus)
{
  g_autoptr(HarkDBusProfile1) profile = find_local_profile (bus);

  return g_strdup (g_dbus_proxy_get_object_path (G_DBUS_PROXY (profile)));
}
