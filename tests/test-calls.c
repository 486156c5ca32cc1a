/* test-calls.c — calls and dialogs over D-Bus against SIPp peers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Each test starts hark-daemon on a private bus and one SIPp scenario from
 * tests/sipp/ on a free loopback port; SIPp's exit status says whether the
 * peer saw the messages it expected, the D-Bus side is checked here.
 */

/* prlimit() */
#define _GNU_SOURCE

#include "config.h"

#include <sys/resource.h>
#include <sys/wait.h>

#include "hark-error.h"
#include "hark-test-bus.h"
#include "hark-test-calls.h"
#include "hark-test-kamailio.h"
#include "hark-test-sipp.h"

#define CALL1   "io.github.hark.Hark.Call1"
#define DIALOG1 "io.github.hark.Hark.Dialog1"

typedef struct {
  HarkTestBus      *bus;
  HarkTestCalls     calls;    /* states, traces and incoming calls seen */
  HarkTestKamailio *kamailio; /* for the tests through a proxy */
  char             *password; /* Kamailio's password */
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
  /* The daemon first: it may still be talking to Kamailio. */
  g_clear_pointer (&fixture->bus, hark_test_bus_free);
  g_clear_pointer (&fixture->kamailio, hark_test_kamailio_free);
  g_clear_pointer (&fixture->password, g_free);
  hark_test_calls_clear (&fixture->calls);
}

/* Helpers */

static void
assert_invalid_state (GError *error)
{
  g_assert_error (error, HARK_ERROR, HARK_ERROR_INVALID_STATE);
}

/* Kamailio */

static void
start_kamailio (Fixture  *fixture,
                gboolean  challenge_invites)
{
  g_autofree char *uuid = g_uuid_string_random ();
  HarkTestKamailioOptions options = { 0 };
  g_autoptr(GError) error = NULL;

  fixture->password = g_strdup_printf ("kam-%s", uuid);
  options.password = fixture->password;
  options.challenge_invites = challenge_invites;
  fixture->kamailio = hark_test_kamailio_start (&options, &error);
  g_assert_no_error (error);
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

  sipp = hark_test_sipp_start (fixture->bus, "uas-answer.xml", 0, &port);
  uri = g_strdup_printf ("sip:bob@127.0.0.1:%u", port);

  path = hark_test_calls_dial (fixture->bus, "/", uri, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_variant_is_object_path (path));

  call = hark_test_calls_get_call (&fixture->calls, path);
  dialog = hark_test_calls_get_dialog (&fixture->calls, call);
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
  hark_test_sipp_assert_passed (fixture->bus, sipp, "uas-answer.xml");

  states = hark_test_calls_describe_states (fixture->calls.states);
  g_test_message ("States: %s", states);
  g_assert_true (hark_test_calls_states_contain_in_order (fixture->calls.states, expected));

  g_assert_true (hark_test_calls_traces_contain (fixture->calls.traces, "in SIP/2.0 180 Ringing"));
  g_assert_true (hark_test_calls_traces_contain (fixture->calls.traces, "in SIP/2.0 200 OK"));
  g_assert_true (hark_test_calls_traces_contain (fixture->calls.traces, "out BYE "));

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

  hark_test_calls_assert_leaves_bus (fixture->bus, path);
  hark_test_calls_assert_leaves_bus (fixture->bus, dialog_path);
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

  sipp = hark_test_sipp_start (fixture->bus, "uas-cancel.xml", 0, &port);
  /* user@host is completed to a SIP URI */
  uri = g_strdup_printf ("bob@127.0.0.1:%u", port);

  path = hark_test_calls_dial (fixture->bus, "/", uri, NULL, &error);
  g_assert_no_error (error);
  call = hark_test_calls_get_call (&fixture->calls, path);

  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (call), "State", "ringing", 10000));

  hark_dbus_call1_call_hangup_sync (call, g_variant_new_parsed ("{'reason': <'Q.850;cause=16'>}"),
                                    NULL, &error);
  g_assert_no_error (error);

  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (call), "State", "terminated",
                                                 10000));
  g_assert_cmpstr (hark_dbus_call1_get_state_reason (call), ==, "cancelled");
  g_assert_cmpuint (hark_dbus_call1_get_status_code (call), ==, 487);
  hark_test_sipp_assert_passed (fixture->bus, sipp, "uas-cancel.xml");
  hark_test_calls_assert_leaves_bus (fixture->bus, path);
}

static void
test_incoming_accept (Fixture       *fixture,
                      gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HarkDBusCall1) call = NULL;
  g_autoptr(HarkDBusDialog1) dialog = NULL;
  g_autofree char *profile = hark_test_sipp_dup_local_profile_path (fixture->bus);
  HarkTestProcess *sipp;

  call = hark_test_calls_sipp_calls_in (&fixture->calls, "uac-call.xml", &sipp);
  dialog = hark_test_calls_get_dialog (&fixture->calls, call);
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
  g_assert_true (hark_test_calls_states_contain_in_order (
    fixture->calls.states, (const char * const []) { "active", "terminated", NULL }));
  g_assert_cmpstr (hark_dbus_dialog1_get_local_tag (dialog), !=, "");
  g_assert_cmpstr (hark_dbus_dialog1_get_remote_tag (dialog), !=, "");
  g_assert_true (hark_test_calls_traces_contain (fixture->calls.traces, "in ACK "));
  g_assert_true (hark_test_calls_traces_contain (fixture->calls.traces, "in BYE "));
  hark_test_sipp_assert_passed (fixture->bus, sipp, "uac-call.xml");

  hark_dbus_call1_call_reject_sync (call, 0, g_variant_new ("a{sv}", NULL), NULL, &error);
  assert_invalid_state (error);
  g_clear_error (&error);

  hark_test_calls_assert_leaves_bus (fixture->bus, fixture->calls.incoming);
}

static void
test_incoming_reject (Fixture       *fixture,
                      gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HarkDBusCall1) call = NULL;
  HarkTestProcess *sipp;

  call = hark_test_calls_sipp_calls_in (&fixture->calls, "uac-reject.xml", &sipp);
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
  hark_test_sipp_assert_passed (fixture->bus, sipp, "uac-reject.xml");

  hark_dbus_call1_call_accept_sync (call, g_variant_new ("a{sv}", NULL), NULL, &error);
  assert_invalid_state (error);
  g_clear_error (&error);

  hark_test_calls_assert_leaves_bus (fixture->bus, fixture->calls.incoming);
}

static void
test_dial_errors (Fixture       *fixture,
                  gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;

  path = hark_test_calls_dial (fixture->bus, "/", "not a uri", NULL, &error);
  g_assert_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  path = hark_test_calls_dial (fixture->bus, "/", "http://example.org/", NULL, &error);
  g_assert_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* The local profile has no domain to complete a number with. */
  path = hark_test_calls_dial (fixture->bus, "/", "+1 555 0100", NULL, &error);
  g_assert_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  path = hark_test_calls_dial (fixture->bus, "/io/github/hark/Hark/Profile/999",
                               "sip:bob@127.0.0.1", NULL, &error);
  g_assert_error (error, HARK_ERROR, HARK_ERROR_NOT_FOUND);
  g_clear_error (&error);

  path = hark_test_calls_dial (fixture->bus, "/", "sip:bob@127.0.0.1",
                               g_variant_new_parsed ("{'colour': <'red'>}"), &error);
  g_assert_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "colour"));
  g_clear_error (&error);

  path = hark_test_calls_dial (fixture->bus, "/", "sip:bob@127.0.0.1",
                               g_variant_new_parsed ("{'to': <42>}"), &error);
  g_assert_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  path = hark_test_calls_dial (fixture->bus, "/", "sip:bob@127.0.0.1",
                               g_variant_new_parsed ("{'headers': <{'Call-ID': 'mine'}>}"), &error);
  g_assert_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  path = hark_test_calls_dial (fixture->bus, "/", "sip:bob@127.0.0.1",
                               g_variant_new_parsed ("{'headers': <{'X-A': 'b\\r\\nVia: evil'}>}"),
                               &error);
  g_assert_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  path = hark_test_calls_dial (fixture->bus, "/", "sip:bob@127.0.0.1",
                               g_variant_new_parsed ("{'request-uri': <'mailto:x@y'>}"), &error);
  g_assert_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* Nothing was left behind. */
  g_assert_null (g_dbus_object_manager_get_object (hark_test_bus_get_object_manager (fixture->bus),
                                                   "/io/github/hark/Hark/Call/1"));
}

/* Kamailio challenges every INVITE (407): the caller's profile answers
 * with its own credentials, from the Secret Service. */
static void
test_auth_profile (Fixture       *fixture,
                   gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HarkDBusProfile1) alice = NULL;
  g_autoptr(HarkDBusProfile1) bob = NULL;
  g_autoptr(HarkDBusCall1) call = NULL;
  g_autoptr(HarkDBusCall1) incoming = NULL;
  g_autoptr(HarkDBusDialog1) dialog = NULL;
  g_autofree char *uri = NULL;
  g_autofree char *path = NULL;
  g_autofree char *log = NULL;

  start_kamailio (fixture, TRUE);
  hark_test_calls_watch_incoming (&fixture->calls);
  bob = hark_test_kamailio_create_profile (fixture->kamailio, fixture->bus,
                                           "bob", fixture->password, NULL);
  hark_test_kamailio_register (fixture->kamailio, fixture->bus, bob, "bob");
  alice = hark_test_kamailio_create_profile (fixture->kamailio, fixture->bus,
                                             "alice", fixture->password, NULL);
  g_assert_true (hark_test_wait_property_boolean (G_DBUS_PROXY (alice), "HasPassword",
                                                  TRUE, 5000));

  uri = g_strdup_printf ("sip:bob@127.0.0.1:%u",
                         hark_test_kamailio_get_port (fixture->kamailio, "udp"));
  path = hark_test_calls_dial (fixture->bus, g_dbus_proxy_get_object_path (G_DBUS_PROXY (alice)),
                               uri, NULL, &error);
  g_assert_no_error (error);
  call = hark_test_calls_get_call (&fixture->calls, path);
  dialog = hark_test_calls_get_dialog (&fixture->calls, call);

  incoming = hark_test_calls_wait_incoming (&fixture->calls);
  g_assert_cmpstr (hark_dbus_call1_get_profile (incoming), ==,
                   g_dbus_proxy_get_object_path (G_DBUS_PROXY (bob)));
  hark_dbus_call1_call_accept_sync (incoming, g_variant_new ("a{sv}", NULL), NULL, &error);
  g_assert_no_error (error);

  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (call), "State", "active", 10000));
  g_assert_cmpstr (hark_dbus_call1_get_state_reason (call), ==, "answered");
  /* The first INVITE was challenged, the second one carried credentials */
  g_assert_cmpuint (hark_test_kamailio_count_requests (fixture->kamailio, "INVITE"), >=, 2);
  /* Authenticate() only continues a call that waits for credentials */
  hark_dbus_call1_call_authenticate_sync (call, "alice", "x", NULL, &error);
  assert_invalid_state (error);
  g_clear_error (&error);

  hark_dbus_call1_call_hangup_sync (call, g_variant_new ("a{sv}", NULL), NULL, &error);
  g_assert_no_error (error);
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (call), "State", "terminated",
                                                 10000));
  g_assert_cmpstr (hark_dbus_call1_get_state_reason (call), ==, "local-hangup");
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (incoming), "State", "terminated",
                                                 10000));
  g_assert_cmpstr (hark_dbus_call1_get_state_reason (incoming), ==, "remote-hangup");

  /* The password never reaches the log. */
  log = hark_test_bus_read_log (fixture->bus);
  g_assert_null (strstr (log, fixture->password));
}

/* A wrong password: the call waits with StateReason auth-failed until
 * Authenticate() brings the right one. */
static void
test_auth_retry (Fixture       *fixture,
                 gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HarkDBusProfile1) alice = NULL;
  g_autoptr(HarkDBusProfile1) bob = NULL;
  g_autoptr(HarkDBusCall1) call = NULL;
  g_autoptr(HarkDBusCall1) call2 = NULL;
  g_autoptr(HarkDBusCall1) incoming = NULL;
  g_autofree char *uri = NULL;
  g_autofree char *path = NULL;
  g_autofree char *path2 = NULL;

  start_kamailio (fixture, TRUE);
  hark_test_calls_watch_incoming (&fixture->calls);
  bob = hark_test_kamailio_create_profile (fixture->kamailio, fixture->bus,
                                           "bob", fixture->password, NULL);
  hark_test_kamailio_register (fixture->kamailio, fixture->bus, bob, "bob");
  alice = hark_test_kamailio_create_profile (fixture->kamailio, fixture->bus,
                                             "alice", "wrong", NULL);
  g_assert_true (hark_test_wait_property_boolean (G_DBUS_PROXY (alice), "HasPassword",
                                                  TRUE, 5000));

  uri = g_strdup_printf ("sip:bob@127.0.0.1:%u",
                         hark_test_kamailio_get_port (fixture->kamailio, "udp"));
  path = hark_test_calls_dial (fixture->bus, g_dbus_proxy_get_object_path (G_DBUS_PROXY (alice)),
                               uri, NULL, &error);
  g_assert_no_error (error);
  call = hark_test_calls_get_call (&fixture->calls, path);

  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (call), "StateReason",
                                                 "auth-failed", 10000));
  g_assert_cmpstr (hark_dbus_call1_get_state (call), ==, "calling");
  g_assert_cmpuint (hark_dbus_call1_get_status_code (call), ==, 407);
  g_assert_null (fixture->calls.incoming);

  hark_dbus_call1_call_authenticate_sync (call, "al:ice", "x", NULL, &error);
  g_assert_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  hark_dbus_call1_call_authenticate_sync (call, "alice", fixture->password, NULL, &error);
  g_assert_no_error (error);

  incoming = hark_test_calls_wait_incoming (&fixture->calls);
  hark_dbus_call1_call_reject_sync (incoming, 603, g_variant_new ("a{sv}", NULL), NULL, &error);
  g_assert_no_error (error);
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (call), "State", "terminated",
                                                 10000));
  g_assert_cmpstr (hark_dbus_call1_get_state_reason (call), ==, "declined");
  g_assert_cmpuint (hark_dbus_call1_get_status_code (call), ==, 603);

  /* The "auth" option is tried before the profile's password; giving up
   * while the call waits for credentials sends nothing more. */
  path2 = hark_test_calls_dial (
    fixture->bus, g_dbus_proxy_get_object_path (G_DBUS_PROXY (alice)), uri,
    g_variant_new_parsed ("{'auth': <{'username': 'alice', 'password': 'bad'}>}"), &error);
  g_assert_no_error (error);
  call2 = hark_test_calls_get_call (&fixture->calls, path2);
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (call2), "StateReason",
                                                 "auth-failed", 10000));
  hark_dbus_call1_call_hangup_sync (call2, g_variant_new ("a{sv}", NULL), NULL, &error);
  g_assert_no_error (error);
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (call2), "State", "terminated",
                                                 5000));
  g_assert_cmpstr (hark_dbus_call1_get_state_reason (call2), ==, "auth-failed");
  g_assert_cmpuint (fixture->calls.incomings->len, ==, 1);
}

/* Hold()/Resume() as re-INVITEs (a=sendonly, then sendrecv again); then
 * the peer holds us (a=sendonly in its re-INVITE): State "held" too, and
 * only the peer can resume. */
static void
test_hold_resume (Fixture       *fixture,
                  gconstpointer  user_data)
{
  /* The first "active" is waited for below: the proxy may only appear once
   * the call is already active, so no change of it is seen. */
  const char * const expected[] = { "held", "active", "held", "active", "terminated", NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(HarkDBusCall1) call = NULL;
  g_autofree char *states = NULL;
  HarkTestProcess *sipp;

  call = hark_test_calls_dial_sipp (&fixture->calls, "uas-hold.xml", &sipp, NULL);

  /* Not before the call is answered */
  hark_dbus_call1_call_resume_sync (call, NULL, &error);
  assert_invalid_state (error);
  g_clear_error (&error);

  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (call), "State", "active", 10000));
  hark_dbus_call1_call_resume_sync (call, NULL, &error);
  assert_invalid_state (error);
  g_clear_error (&error);

  hark_dbus_call1_call_hold_sync (call, NULL, &error);
  g_assert_no_error (error);
  /* One re-INVITE at a time */
  hark_dbus_call1_call_hold_sync (call, NULL, &error);
  assert_invalid_state (error);
  g_clear_error (&error);
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (call), "State", "held", 10000));

  hark_dbus_call1_call_resume_sync (call, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (call), "State", "active", 10000));

  /* The peer holds us */
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (call), "State", "held", 10000));
  hark_dbus_call1_call_resume_sync (call, NULL, &error);
  assert_invalid_state (error);
  g_clear_error (&error);
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (call), "State", "active", 10000));

  hark_dbus_call1_call_hangup_sync (call, g_variant_new ("a{sv}", NULL), NULL, &error);
  g_assert_no_error (error);
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (call), "State", "terminated",
                                                 10000));
  hark_test_sipp_assert_passed (fixture->bus, sipp, "uas-hold.xml");

  states = hark_test_calls_describe_states (fixture->calls.states);
  g_test_message ("States: %s", states);
  g_assert_true (hark_test_calls_states_contain_in_order (fixture->calls.states, expected));
}

/* A caller (uac-held.xml) that this test answers; it expects to be held,
 * then hung up. Watches IncomingCall from now on. */
static HarkDBusCall1 *
accept_held_caller (Fixture          *fixture,
                    HarkTestProcess **out_sipp,
                    char            **out_path)
{
  g_autoptr(GError) error = NULL;
  HarkDBusCall1 *call;

  hark_test_calls_watch_incoming (&fixture->calls);
  *out_sipp = hark_test_sipp_start (fixture->bus, "uac-held.xml",
                                    hark_test_sipp_get_local_profile_port (fixture->bus), NULL);
  call = hark_test_calls_wait_incoming (&fixture->calls);
  *out_path = g_strdup (fixture->calls.incoming);
  hark_dbus_call1_call_accept_sync (call, g_variant_new ("a{sv}", NULL), NULL, &error);
  g_assert_no_error (error);
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (call), "State", "active", 5000));
  return call;
}

/* Call waiting: a second call rings while the first is active; Hold the
 * first, Accept the second. */
static void
test_call_waiting (Fixture       *fixture,
                   gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HarkDBusCall1) first = NULL;
  g_autoptr(HarkDBusCall1) second = NULL;
  g_autofree char *first_path = NULL;
  HarkTestProcess *sipp_first;
  HarkTestProcess *sipp_second;
  guint port = hark_test_sipp_get_local_profile_port (fixture->bus);

  first = accept_held_caller (fixture, &sipp_first, &first_path);
  /* Hold needs the ACK of our 2xx first */
  hark_test_iterate (300);

  g_clear_pointer (&fixture->calls.incoming, g_free);
  sipp_second = hark_test_sipp_start (fixture->bus, "uac-call.xml", port, NULL);
  second = hark_test_calls_wait_incoming (&fixture->calls);
  g_assert_cmpstr (fixture->calls.incoming, !=, first_path);
  g_assert_cmpstr (hark_dbus_call1_get_state (second), ==, "ringing");
  g_assert_cmpstr (hark_dbus_call1_get_state (first), ==, "active");

  hark_dbus_call1_call_hold_sync (first, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (first), "State", "held", 5000));
  hark_dbus_call1_call_accept_sync (second, g_variant_new ("a{sv}", NULL), NULL, &error);
  g_assert_no_error (error);
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (second), "State", "active", 5000));

  /* The second caller hangs up; the first is still held */
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (second), "State", "terminated",
                                                 10000));
  g_assert_cmpstr (hark_dbus_call1_get_state_reason (second), ==, "remote-hangup");
  g_assert_cmpstr (hark_dbus_call1_get_state (first), ==, "held");
  hark_test_sipp_assert_passed (fixture->bus, sipp_second, "uac-call.xml");

  hark_dbus_call1_call_hangup_sync (first, g_variant_new ("a{sv}", NULL), NULL, &error);
  g_assert_no_error (error);
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (first), "State", "terminated",
                                                 10000));
  g_assert_cmpstr (hark_dbus_call1_get_state_reason (first), ==, "local-hangup");
  hark_test_sipp_assert_passed (fixture->bus, sipp_first, "uac-held.xml");
}

static guint
count_objects (Fixture    *fixture,
               const char *kind)
{
  GList *objects = g_dbus_object_manager_get_objects (
                     hark_test_bus_get_object_manager (fixture->bus));
  g_autofree char *infix = g_strdup_printf ("/%s/", kind);
  guint n = 0;

  for (GList *l = objects; l != NULL; l = l->next)
    if (strstr (g_dbus_object_get_object_path (l->data), infix) != NULL)
      n++;
  g_list_free_full (objects, g_object_unref);
  return n;
}

static guint
count_calls (Fixture *fixture)
{
  return count_objects (fixture, "Call");
}

static gboolean
no_calls_cb (gpointer user_data)
{
  return count_calls (user_data) == 0;
}

static gboolean
no_calls_or_dialogs_cb (gpointer user_data)
{
  return count_calls (user_data) == 0 && count_objects (user_data, "Dialog") == 0;
}

/* A profile with AutoAnswer answers by itself, through Kamailio. */
static void
test_auto_answer (Fixture       *fixture,
                  gconstpointer  user_data)
{
  g_autoptr(HarkDBusProfile1) bob = NULL;
  g_autoptr(HarkDBusCall1) call = NULL;
  g_autoptr(GError) error = NULL;
  HarkTestProcess *sipp;
  guint delay_ms;

  start_kamailio (fixture, FALSE);
  hark_test_calls_watch_incoming (&fixture->calls);

  /* Out of range */
  {
    g_autofree char *path = NULL;
    HarkDBusManager1 *manager = hark_test_bus_get_manager (fixture->bus);

    hark_dbus_manager1_call_create_profile_sync (manager,
                                                 g_variant_new_parsed ("{'name': <'x'>, "
                                                                       "'auto-answer': <uint32 60001>}"),
                                                 &path, NULL, &error);
    g_assert_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
  }

  /* Long enough that the call is still ringing when this test, slowed by a
   * sanitizer and a busy machine, first looks at it. */
  delay_ms = hark_test_timeout (1000);
  bob = hark_test_kamailio_create_profile (fixture->kamailio, fixture->bus,
                                           "bob", fixture->password,
                                           g_variant_new_parsed ("{'auto-answer': <%u>}",
                                                                 delay_ms));
  g_assert_cmpuint (hark_dbus_profile1_get_auto_answer (bob), ==, delay_ms);
  hark_test_kamailio_register (fixture->kamailio, fixture->bus, bob, "bob");

  sipp = hark_test_sipp_start_full (fixture->bus, "uac-call.xml",
                                    hark_test_kamailio_get_port (fixture->kamailio, "udp"),
                                    &(HarkTestSippOptions) { .service = "bob" }, NULL);
  call = hark_test_calls_wait_incoming (&fixture->calls);
  g_assert_cmpstr (hark_dbus_call1_get_state (call), ==, "ringing");
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (call), "State", "active",
                                                 delay_ms + 5000));
  g_assert_cmpstr (hark_dbus_call1_get_state_reason (call), ==, "answered");
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (call), "State", "terminated",
                                                 10000));
  g_assert_cmpstr (hark_dbus_call1_get_state_reason (call), ==, "remote-hangup");
  hark_test_sipp_assert_passed (fixture->bus, sipp, "uac-call.xml");
}

/* SIPp's built-in caller to @target: 10 calls/s, 50 calls; none fails and
 * no Call or Dialog object is left. */
static void
run_small_load (Fixture    *fixture,
                const char *target)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *port = g_strdup_printf ("%u", hark_test_get_free_port (TRUE));
  g_autofree char *output_path = NULL;
  HarkTestProcess *sipp;

  output_path = g_strdup_printf ("%s/load.out", hark_test_bus_get_tmpdir (fixture->bus));
  {
    const char * const argv[] = {
      "sipp", "-sn", "uac", "-s", "bob", "-i", "127.0.0.1", "-p", port, "-r", "10", "-m", "50",
      "-d", "200", "-timeout", "60", "-timeout_error", "-nostdin", "-trace_err",
      "-error_file", output_path, target, NULL
    };

    sipp = hark_test_bus_spawn (fixture->bus, argv, NULL, &error);
    g_assert_no_error (error);
  }

  if (!hark_test_process_wait (sipp, 60000) || !WIFEXITED (sipp->wait_status) ||
      WEXITSTATUS (sipp->wait_status) != 0)
    {
      g_autofree char *errors = NULL;
      g_autofree char *log = hark_test_bus_dup_log_tail (fixture->bus, 4000);

      g_file_get_contents (output_path, &errors, NULL, NULL);
      g_test_message ("SIPp errors:\n%s\nhark-daemon log:\n%s", errors ? errors : "(none)", log);
      g_test_fail_printf ("SIPp load failed (wait status 0x%x)", sipp->wait_status);
      return;
    }

  /* Every call and its dialog ended, and leave the bus */
  g_assert_true (hark_test_wait_for (no_calls_or_dialogs_cb, fixture, 15000));
  g_assert_true (hark_test_bus_wait_name_owner (fixture->bus, HARK_TEST_BUS_NAME, TRUE, 1000));
}

/* Load at a small scale through Kamailio, answered by AutoAnswer. The full
 * run (200 calls/s for 60 s, this path and the next) is bench/calls-load. */
static void
test_load (Fixture       *fixture,
           gconstpointer  user_data)
{
  g_autoptr(HarkDBusProfile1) bob = NULL;
  g_autofree char *target = NULL;

  start_kamailio (fixture, FALSE);
  bob = hark_test_kamailio_create_profile (fixture->kamailio, fixture->bus,
                                           "bob", fixture->password,
                                           g_variant_new_parsed ("{'auto-answer': <uint32 10>}"));
  hark_test_kamailio_register (fixture->kamailio, fixture->bus, bob, "bob");

  target = g_strdup_printf ("127.0.0.1:%u", hark_test_kamailio_get_port (fixture->kamailio, "udp"));
  run_small_load (fixture, target);
}

/* The same load straight to the built-in "local" profile. */
static void
test_load_local (Fixture       *fixture,
                 gconstpointer  user_data)
{
  g_autoptr(HarkDBusProfile1) local = hark_test_bus_find_profile (fixture->bus, "local");
  g_autoptr(GError) error = NULL;
  g_autofree char *target = NULL;

  g_assert_nonnull (local);
  hark_dbus_profile1_call_update_sync (local,
                                       g_variant_new_parsed ("{'auto-answer': <uint32 10>}"),
                                       NULL, &error);
  g_assert_no_error (error);

  target = g_strdup_printf ("127.0.0.1:%u", hark_test_sipp_get_local_profile_port (fixture->bus));
  run_small_load (fixture, target);
}

/* The callee hangs up right after Accept(): the BYE waits for the ACK. */
static void
test_bye_after_ack (Fixture       *fixture,
                    gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HarkDBusCall1) call = NULL;
  g_autoptr(HarkDBusDialog1) dialog = NULL;
  HarkTestProcess *sipp;
  gssize ack;
  gssize bye;

  call = hark_test_calls_sipp_calls_in (&fixture->calls, "uac-late-ack.xml", &sipp);
  dialog = hark_test_calls_get_dialog (&fixture->calls, call);

  hark_dbus_call1_call_accept_sync (call, g_variant_new ("a{sv}", NULL), NULL, &error);
  g_assert_no_error (error);
  hark_dbus_call1_call_hangup_sync (call, g_variant_new ("a{sv}", NULL), NULL, &error);
  g_assert_no_error (error);
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (call), "State", "terminating",
                                                 2000));
  /* Hangup again while it waits: the call is already ending */
  hark_dbus_call1_call_hangup_sync (call, g_variant_new ("a{sv}", NULL), NULL, &error);
  assert_invalid_state (error);
  g_clear_error (&error);

  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (call), "State", "terminated",
                                                 15000));
  g_assert_cmpstr (hark_dbus_call1_get_state_reason (call), ==, "local-hangup");
  hark_test_sipp_assert_passed (fixture->bus, sipp, "uac-late-ack.xml");

  ack = hark_test_calls_trace_index (fixture->calls.traces, "in ACK ");
  bye = hark_test_calls_trace_index (fixture->calls.traces, "out BYE ");
  g_assert_cmpint (ack, >=, 0);
  g_assert_cmpint (bye, >, ack);
}

/* Sends @text to 127.0.0.1:@port over UDP; returns the first reply within
 * @timeout_ms, or NULL. */
static char *
send_raw_udp (guint       port,
              const char *text,
              gsize       length,
              guint       timeout_ms)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) local = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) remote = g_inet_socket_address_new (loopback, port);
  char buffer[8192];
  gssize n;

  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
                         G_SOCKET_PROTOCOL_UDP, &error);
  g_assert_no_error (error);
  g_socket_bind (socket, local, FALSE, &error);
  g_assert_no_error (error);
  g_socket_send_to (socket, remote, text, length, NULL, &error);
  g_assert_no_error (error);

  g_socket_set_timeout (socket, 0);
  if (!g_socket_condition_timed_wait (socket, G_IO_IN, (gint64) hark_test_timeout (timeout_ms) * 1000,
                                      NULL, NULL))
    return NULL;
  n = g_socket_receive (socket, buffer, sizeof buffer - 1, NULL, &error);
  if (n <= 0)
    return NULL;
  buffer[n] = '\0';
  return g_strdup (buffer);
}

static char *
raw_request (const char *method,
             guint       port,
             const char *call_id,
             const char *to_tag,
             const char *extra)
{
  return g_strdup_printf ("%s sip:hark@127.0.0.1:%u SIP/2.0\r\n"
                          "Via: SIP/2.0/UDP 127.0.0.1:9;rport;branch=z9hG4bK-%s-%08x\r\n"
                          "From: <sip:evil@127.0.0.1>;tag=evil1\r\n"
                          "To: <sip:hark@127.0.0.1:%u>%s%s\r\n"
                          "%s%s%s"
                          "CSeq: 1 %s\r\n"
                          "Max-Forwards: 70\r\n"
                          "%s"
                          "Content-Length: 0\r\n\r\n",
                          method, port, method, g_str_hash (call_id ? call_id : ""), port,
                          to_tag ? ";tag=" : "", to_tag ? to_tag : "",
                          call_id ? "Call-ID: " : "", call_id ? call_id : "", call_id ? "\r\n" : "",
                          method, extra ? extra : "");
}

/* Hostile datagrams on the SIP port never crash the daemon: garbage is
 * dropped, a BYE for no dialog gets 481, broken requests 400. */
static void
test_malformed (Fixture       *fixture,
                gconstpointer  user_data)
{
  guint port = hark_test_sipp_get_local_profile_port (fixture->bus);
  g_autofree char *reply = NULL;
  g_autofree char *request = NULL;
  g_autofree char *huge = NULL;
  g_autoptr(GString) big = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) properties = NULL;
  static const char binary[] = "\x00\x01\xff\xfeINVITE\r\n\r\n\x80";

  /* A BYE for a dialog that does not exist */
  request = raw_request ("BYE", port, "no-such-dialog@evil", "nope", NULL);
  reply = send_raw_udp (port, request, strlen (request), 3000);
  g_assert_nonnull (reply);
  g_test_message ("BYE → %.40s", reply);
  g_assert_true (g_str_has_prefix (reply, "SIP/2.0 481 "));
  g_clear_pointer (&reply, g_free);
  g_clear_pointer (&request, g_free);

  /* Garbage: nothing to answer */
  g_free (send_raw_udp (port, "hello world\r\n\r\n", 15, 300));
  g_free (send_raw_udp (port, binary, sizeof binary - 1, 300));
  g_free (send_raw_udp (port, "\r\n\r\n", 4, 300));
  g_free (send_raw_udp (port, "SIP/2.0 200 OK\r\nVia: x\r\n\r\n", 26, 300));

  /* An INVITE without Call-ID */
  request = raw_request ("INVITE", port, NULL, NULL, NULL);
  reply = send_raw_udp (port, request, strlen (request), 1000);
  g_test_message ("INVITE without Call-ID → %.40s", reply ? reply : "(dropped)");
  if (reply != NULL)
    g_assert_true (g_str_has_prefix (reply, "SIP/2.0 4"));
  g_clear_pointer (&reply, g_free);
  g_clear_pointer (&request, g_free);

  /* A huge header (60 kB), and very many headers */
  huge = g_strnfill (60000, 'A');
  g_string_append_printf (big, "X-Huge: %s\r\n", huge);
  request = raw_request ("OPTIONS", port, "huge@evil", NULL, big->str);
  reply = send_raw_udp (port, request, strlen (request), 1000);
  g_test_message ("huge header → %.40s", reply ? reply : "(dropped)");
  g_clear_pointer (&reply, g_free);
  g_clear_pointer (&request, g_free);
  g_string_truncate (big, 0);
  for (guint i = 0; i < 1000; i++)
    g_string_append_printf (big, "Via: SIP/2.0/UDP 10.0.0.%u:5060;branch=z9hG4bK%u\r\n", i % 250,
                            i);
  request = raw_request ("OPTIONS", port, "many@evil", NULL, big->str);
  reply = send_raw_udp (port, request, strlen (request), 1000);
  g_test_message ("many headers → %.40s", reply ? reply : "(dropped)");
  g_clear_pointer (&reply, g_free);
  g_clear_pointer (&request, g_free);

  /* A re-INVITE for an unknown dialog: 481, no call */
  request = raw_request ("INVITE", port, "reinvite@evil", "nope", NULL);
  reply = send_raw_udp (port, request, strlen (request), 3000);
  g_assert_nonnull (reply);
  g_assert_true (g_str_has_prefix (reply, "SIP/2.0 481 "));
  g_clear_pointer (&reply, g_free);

  /* Still alive, still serving the bus, no call left behind */
  g_assert_true (hark_test_process_wait (hark_test_bus_get_daemon (fixture->bus), 1) == FALSE);
  properties = hark_test_bus_get_all_properties (fixture->bus, HARK_TEST_OBJECT_PATH,
                                                 HARK_TEST_MANAGER1, &error);
  g_assert_no_error (error);
  g_assert_nonnull (properties);
  g_assert_true (hark_test_wait_for (no_calls_cb, fixture, 10000));
  g_assert_cmpuint (hark_test_sipp_get_local_profile_port (fixture->bus), ==, port);
}

/* Transfer, timers, 100rel */

typedef struct {
  Fixture    *fixture;
  const char *exclude;
  char       *found;
} OtherCall;

static gboolean
other_call_cb (gpointer user_data)
{
  OtherCall *other = user_data;
  GList *objects = g_dbus_object_manager_get_objects (
                     hark_test_bus_get_object_manager (other->fixture->bus));

  for (GList *l = objects; l != NULL && other->found == NULL; l = l->next)
    {
      const char *path = g_dbus_object_get_object_path (l->data);

      if (strstr (path, "/Call/") != NULL && g_strcmp0 (path, other->exclude) != 0)
        other->found = g_strdup (path);
    }
  g_list_free_full (objects, g_object_unref);
  return other->found != NULL;
}

/* The first Call object on the bus that is not @exclude. */
static char *
wait_other_call (Fixture    *fixture,
                 const char *exclude)
{
  OtherCall other = { fixture, exclude, NULL };

  g_assert_true (hark_test_wait_for (other_call_cb, &other, 10000));
  return other.found;
}

static gboolean
strv_has_refer_usage (const char * const *usages)
{
  for (guint i = 0; usages != NULL && usages[i] != NULL; i++)
    if (strstr (usages[i], "/Refer/") != NULL)
      return TRUE;
  return FALSE;
}

static gboolean
dialog_has_refer_usage_cb (gpointer user_data)
{
  return strv_has_refer_usage (hark_dbus_dialog1_get_usages (user_data));
}

/* The peer REFERs Hark to a third party: Hark answers 202, NOTIFYs 100
 * Trying, places the new call (no IncomingCall), NOTIFYs 200 OK once it is
 * answered, and ends the old call "transferred" with BYE. */
static void
test_transfer_incoming_refer (Fixture       *fixture,
                              gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HarkDBusCall1) call = NULL;
  g_autoptr(HarkDBusCall1) target = NULL;
  g_autoptr(HarkDBusDialog1) dialog = NULL;
  g_autofree char *uri = NULL;
  g_autofree char *path = NULL;
  g_autofree char *target_path = NULL;
  g_autofree char *refer_to = NULL;
  HarkTestProcess *sipp_target;
  HarkTestProcess *sipp;
  guint target_port;
  guint port;

  hark_test_calls_watch_incoming (&fixture->calls);
  sipp_target = hark_test_sipp_start (fixture->bus, "uas-answer.xml", 0, &target_port);
  refer_to = g_strdup_printf ("sip:carol@127.0.0.1:%u", target_port);
  sipp = hark_test_sipp_start_full (fixture->bus, "uas-refer.xml", 0,
                                    &(HarkTestSippOptions) {
                                      .keys = (const char * const []) { "refer_to", refer_to,
                                                                        NULL },
                                    },
                                    &port);

  uri = g_strdup_printf ("sip:bob@127.0.0.1:%u", port);
  path = hark_test_calls_dial (fixture->bus, "/", uri, NULL, &error);
  g_assert_no_error (error);
  call = hark_test_calls_get_call (&fixture->calls, path);
  dialog = hark_test_calls_get_dialog (&fixture->calls, call);

  target_path = wait_other_call (fixture, path);
  target = hark_test_calls_get_call (&fixture->calls, target_path);
  g_assert_cmpstr (hark_dbus_call1_get_direction (target), ==, "outgoing");
  g_assert_cmpstr (hark_dbus_call1_get_remote_uri (target), ==, refer_to);
  g_assert_cmpstr (hark_dbus_call1_get_profile (target), ==, hark_dbus_call1_get_profile (call));
  g_assert_true (hark_test_wait_for (dialog_has_refer_usage_cb, dialog, 5000));

  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (target), "State", "active", 10000));
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (call), "State", "terminated",
                                                 10000));
  g_assert_cmpstr (hark_dbus_call1_get_state_reason (call), ==, "transferred");
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (dialog), "State", "terminated",
                                                 5000));
  hark_test_sipp_assert_passed (fixture->bus, sipp, "uas-refer.xml");
  g_assert_true (hark_test_calls_traces_contain (fixture->calls.traces, "out NOTIFY "));
  g_assert_true (hark_test_calls_traces_contain (fixture->calls.traces, "out BYE "));
  /* A call Hark placed itself is not an incoming one */
  g_assert_null (fixture->calls.incoming);

  /* uas-answer.xml wants a Reason and a header of ours on the BYE */
  hark_dbus_call1_call_hangup_sync (target,
                                    g_variant_new_parsed ("{'reason': <'SIP;cause=200;text=\"Bye\"'>,"
                                                          " 'headers': <{'X-Hark-Test': 'yes'}>}"),
                                    NULL, &error);
  g_assert_no_error (error);
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (target), "State", "terminated",
                                                 10000));
  hark_test_sipp_assert_passed (fixture->bus, sipp_target, "uas-answer.xml");
  hark_test_calls_assert_leaves_bus (fixture->bus, path);
}

/* Transfer(): REFER on the call's dialog, a subscriber usage listed in
 * Usages; the NOTIFY with 200 OK ends the call "transferred" (BYE). */
static void
test_transfer_blind (Fixture       *fixture,
                     gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HarkDBusCall1) call = NULL;
  g_autoptr(HarkDBusDialog1) dialog = NULL;
  g_autofree char *path = NULL;
  HarkTestProcess *sipp;

  call = hark_test_calls_dial_sipp (&fixture->calls, "uas-transferee.xml", &sipp, &path);
  dialog = hark_test_calls_get_dialog (&fixture->calls, call);

  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (call), "State", "active", 10000));

  hark_dbus_call1_call_transfer_sync (call, "not a uri", NULL, &error);
  g_assert_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  hark_dbus_call1_call_transfer_sync (call, "sip:carol@127.0.0.1:5999", NULL, &error);
  g_assert_no_error (error);
  g_assert_true (hark_test_wait_for (dialog_has_refer_usage_cb, dialog, 5000));
  g_assert_cmpuint (g_strv_length ((char **) hark_dbus_dialog1_get_usages (dialog)), ==, 2);

  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (call), "State", "terminated",
                                                 10000));
  g_assert_cmpstr (hark_dbus_call1_get_state_reason (call), ==, "transferred");
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (dialog), "State", "terminated",
                                                 5000));
  hark_test_sipp_assert_passed (fixture->bus, sipp, "uas-transferee.xml");
  g_assert_true (hark_test_calls_traces_contain (fixture->calls.traces, "out REFER "));
  g_assert_true (hark_test_calls_traces_contain (fixture->calls.traces, "in SIP/2.0 202 "));
  g_assert_true (hark_test_calls_traces_contain (fixture->calls.traces, "in NOTIFY "));
  hark_test_calls_assert_leaves_bus (fixture->bus, path);
}

/* The transferee hangs up before its final NOTIFY: the Call ends, but the
 * dialog lives on for the REFER usage and ends with it (RFC 5057). */
static void
test_transfer_bye_first (Fixture       *fixture,
                         gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HarkDBusCall1) call = NULL;
  g_autoptr(HarkDBusDialog1) dialog = NULL;
  g_autofree char *path = NULL;
  HarkTestProcess *sipp;
  gssize bye;

  call = hark_test_calls_dial_sipp (&fixture->calls, "uas-transferee-bye-first.xml", &sipp,
                                    &path);
  dialog = hark_test_calls_get_dialog (&fixture->calls, call);
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (call), "State", "active", 10000));

  hark_dbus_call1_call_transfer_sync (call, "sip:carol@127.0.0.1:5999", NULL, &error);
  g_assert_no_error (error);

  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (call), "State", "terminated",
                                                 10000));
  g_assert_cmpstr (hark_dbus_call1_get_state_reason (call), ==, "remote-hangup");
  /* The REFER usage still runs */
  hark_test_iterate (200);
  g_assert_cmpstr (hark_dbus_dialog1_get_state (dialog), !=, "terminated");

  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (dialog), "State", "terminated",
                                                 10000));
  hark_test_sipp_assert_passed (fixture->bus, sipp, "uas-transferee-bye-first.xml");
  bye = hark_test_calls_trace_index (fixture->calls.traces, "in BYE ");
  g_assert_cmpint (bye, >=, 0);
  /* the final NOTIFY came after the BYE and was answered */
  {
    gssize last_notify = -1;

    for (guint i = 0; i < fixture->calls.traces->len; i++)
      if (g_str_has_prefix (g_ptr_array_index (fixture->calls.traces, i), "in NOTIFY "))
        last_notify = i;
    g_assert_cmpint (last_notify, >, bye);
  }
  hark_test_calls_assert_leaves_bus (fixture->bus, path);
}

/* Our INVITE offers session timers and 100rel; a 183 that requires
 * 100rel is PRACKed. */
static void
test_100rel_timer (Fixture       *fixture,
                   gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HarkDBusCall1) call = NULL;
  HarkTestProcess *sipp;

  call = hark_test_calls_dial_sipp (&fixture->calls, "uas-100rel-timer.xml", &sipp, NULL);

  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (call), "State", "active", 10000));
  g_assert_true (hark_test_calls_states_contain_in_order (
    fixture->calls.states, (const char * const []) { "early", "active", NULL }));
  hark_dbus_call1_call_hangup_sync (call, g_variant_new ("a{sv}", NULL), NULL, &error);
  g_assert_no_error (error);
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (call), "State", "terminated",
                                                 10000));
  hark_test_sipp_assert_passed (fixture->bus, sipp, "uas-100rel-timer.xml");
}

/* The daemon of these tests lets incoming calls ring 1.5 s only. */
static void
fixture_setup_short_ring (Fixture       *fixture,
                          gconstpointer  user_data)
{
  const char *env[] = { "HARK_RING_TIMEOUT_MS=1500", NULL };

  fixture_setup_with_env (fixture, env);
}

/* The daemon of these tests hangs up answered calls after 2 s without RTP
 * or RTCP. */
static void
fixture_setup_short_rtp_timeout (Fixture       *fixture,
                                 gconstpointer  user_data)
{
  const char *env[] = { "HARK_RTP_TIMEOUT_MS=2000", NULL };

  fixture_setup_with_env (fixture, env);
}

static gboolean
media_error_set_cb (gpointer user_data)
{
  return *hark_dbus_call1_get_media_error (user_data) != '\0';
}

static gboolean
hark_test_wait_for_media_error (HarkDBusCall1 *call,
                                guint          timeout_ms)
{
  return hark_test_wait_for (media_error_set_cb, call, timeout_ms);
}

static void
fixture_setup_broken_sink (Fixture       *fixture,
                           gconstpointer  user_data)
{
  const char *env[] = { "HARK_AUDIO_SINK=hark-no-such-element", NULL };

  fixture_setup_with_env (fixture, env);
}

/* An audio sink that cannot be built: the call is answered and goes on,
 * and MediaError says why there is no audio, instead of a silent call. */
static void
test_media_error (Fixture       *fixture,
                  gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HarkDBusCall1) call = NULL;
  HarkTestProcess *sipp;

  /* A caller that stays until we hang up: the audio may take a while to
   * fail, the first call of a daemon loading GStreamer */
  call = hark_test_calls_sipp_calls_in (&fixture->calls, "uac-rtp-silent.xml", &sipp);
  g_assert_cmpstr (hark_dbus_call1_get_media_error (call), ==, "");
  hark_dbus_call1_call_accept_sync (call, g_variant_new ("a{sv}", NULL), NULL, &error);
  g_assert_no_error (error);
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (call), "State", "active", 5000));

  g_assert_true (hark_test_wait_for_media_error (call, 15000));
  g_assert_nonnull (strstr (hark_dbus_call1_get_media_error (call),
                            "Cannot build the audio sink “hark-no-such-element”"));
  g_assert_cmpstr (hark_dbus_call1_get_state (call), ==, "active");

  /* The scenario wants the Reason of an RTP timeout */
  hark_dbus_call1_call_hangup_sync (call, g_variant_new_parsed ("{'reason': <'SIP;cause=408'>}"),
                                    NULL, &error);
  g_assert_no_error (error);
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (call), "State", "terminated",
                                                 10000));
  g_assert_cmpstr (hark_dbus_call1_get_state_reason (call), ==, "local-hangup");
  hark_test_sipp_assert_passed (fixture->bus, sipp, "uac-rtp-silent.xml");
}

/* The caller vanishes after the ACK (no RTP, no RTCP, no BYE): Hark hangs
 * up once its RTP timeout has passed, with a Reason SIPp checks, and the
 * call ends "timeout". */
static void
test_rtp_timeout (Fixture       *fixture,
                  gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HarkDBusCall1) call = NULL;
  HarkTestProcess *sipp;
  gint64 active_at;

  call = hark_test_calls_sipp_calls_in (&fixture->calls, "uac-rtp-silent.xml", &sipp);
  hark_dbus_call1_call_accept_sync (call, g_variant_new ("a{sv}", NULL), NULL, &error);
  g_assert_no_error (error);
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (call), "State", "active",
                                                 10000));
  active_at = g_get_monotonic_time ();

  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (call), "State", "terminated",
                                                 15000));
  g_assert_cmpint (g_get_monotonic_time () - active_at, >=, 2 * G_USEC_PER_SEC);
  g_assert_cmpstr (hark_dbus_call1_get_state_reason (call), ==, "timeout");
  hark_test_sipp_assert_passed (fixture->bus, sipp, "uac-rtp-silent.xml");
}

/* Nobody answers: after the ring timeout the caller gets 480 and the call
 * ends "timeout". */
static void
test_ring_timeout (Fixture       *fixture,
                   gconstpointer  user_data)
{
  g_autoptr(HarkDBusCall1) call = NULL;
  HarkTestProcess *sipp;

  call = hark_test_calls_sipp_calls_in (&fixture->calls, "uac-unanswered.xml", &sipp);
  g_assert_cmpstr (hark_dbus_call1_get_state (call), ==, "ringing");
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (call), "State", "terminated",
                                                 10000));
  g_assert_cmpstr (hark_dbus_call1_get_state_reason (call), ==, "timeout");
  g_assert_cmpuint (hark_dbus_call1_get_status_code (call), ==, 480);
  hark_test_sipp_assert_passed (fixture->bus, sipp, "uac-unanswered.xml");
}

/* hark-daemon's budget of open files for a call's audio, and what it keeps
 * for itself (service/media/hark-media-types.c) */
#define DAEMON_FDS_PER_CALL 32
#define DAEMON_FDS_RESERVED 256

/* Out of open files, a process aborts in GLib. With a limit that has room
 * for one call's audio, a second caller gets 503 at once and never rings,
 * Dial() says why, and once the first call's audio is gone calls come in
 * again. */
static void
test_open_files_limit (Fixture       *fixture,
                       gconstpointer  user_data)
{
  g_autoptr(HarkDBusCall1) first = NULL;
  g_autoptr(HarkDBusCall1) third = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *first_path = NULL;
  g_autofree char *dialled = NULL;
  g_autofree char *log = NULL;
  g_autofree char *uri = NULL;
  g_autofree char *profile = NULL;
  struct rlimit limit;
  HarkTestProcess *sipp_first, *sipp_second, *sipp_third;
  guint port = hark_test_sipp_get_local_profile_port (fixture->bus);
  guint32 pid = hark_test_bus_get_name_owner_pid (fixture->bus, "io.github.hark.Hark.Daemon");

  /* The daemon raised its soft limit to the hard one at start */
  g_assert_cmpint (prlimit ((pid_t) pid, RLIMIT_NOFILE, NULL, &limit), ==, 0);
  g_assert_cmpuint (limit.rlim_cur, ==, limit.rlim_max);

  limit.rlim_cur = limit.rlim_max = DAEMON_FDS_RESERVED + DAEMON_FDS_PER_CALL * 3 / 2;
  g_assert_cmpint (prlimit ((pid_t) pid, RLIMIT_NOFILE, &limit, NULL), ==, 0);

  first = accept_held_caller (fixture, &sipp_first, &first_path);

  sipp_second = hark_test_sipp_start_full (fixture->bus, "uac-refused-503.xml", port,
                                           &(HarkTestSippOptions) { .name = "second" }, NULL);
  hark_test_sipp_assert_passed (fixture->bus, sipp_second, "second");
  g_assert_cmpuint (fixture->calls.incomings->len, ==, 1);

  uri = g_strdup_printf ("sip:nobody@127.0.0.1:%u", hark_test_get_free_port (FALSE));
  profile = hark_test_sipp_dup_local_profile_path (fixture->bus);
  dialled = hark_test_calls_dial (fixture->bus, profile, uri, NULL, &error);
  g_assert_error (error, HARK_ERROR, HARK_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "Too many calls at once"));
  g_assert_nonnull (strstr (error->message, "ulimit -n"));
  g_assert_null (dialled);
  g_clear_error (&error);

  log = hark_test_bus_read_log (fixture->bus);
  g_assert_nonnull (strstr (log, "Refusing incoming calls with 503"));

  /* The first call goes on as if nothing happened: hold, then hang up */
  hark_test_iterate (300);
  hark_dbus_call1_call_hold_sync (first, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (first), "State", "held", 5000));
  hark_dbus_call1_call_hangup_sync (first, g_variant_new ("a{sv}", NULL), NULL, &error);
  g_assert_no_error (error);
  hark_test_sipp_assert_passed (fixture->bus, sipp_first, "uac-held.xml");
  /* Its audio has long gone when it leaves the bus */
  hark_test_calls_assert_leaves_bus (fixture->bus, first_path);

  g_clear_pointer (&fixture->calls.incoming, g_free);
  third = hark_test_calls_sipp_calls_in (&fixture->calls, "uac-call.xml", &sipp_third);
  hark_dbus_call1_call_accept_sync (third, g_variant_new ("a{sv}", NULL), NULL, &error);
  g_assert_no_error (error);
  hark_test_sipp_assert_passed (fixture->bus, sipp_third, "uac-call.xml");
  g_free (log);
  log = hark_test_bus_read_log (fixture->bus);
  g_assert_nonnull (strstr (log, "Taking incoming calls again"));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  /* Registers the D-Bus error names, so replies map back to HARK_ERROR. */
  (void) hark_error_quark ();

  if (!hark_test_sipp_found ())
    return g_test_run ();

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)

  ADD ("/hark/calls/outgoing/answer-hangup", test_outgoing_answer_hangup);
  ADD ("/hark/calls/outgoing/cancel", test_outgoing_cancel);
  ADD ("/hark/calls/incoming/accept-remote-bye", test_incoming_accept);
  ADD ("/hark/calls/incoming/reject-decline", test_incoming_reject);
  ADD ("/hark/calls/dial/errors", test_dial_errors);
  ADD ("/hark/calls/auth/profile", test_auth_profile);
  ADD ("/hark/calls/auth/retry", test_auth_retry);
  ADD ("/hark/calls/hold/resume", test_hold_resume);
  ADD ("/hark/calls/incoming/call-waiting", test_call_waiting);
  ADD ("/hark/calls/incoming/auto-answer", test_auto_answer);
  ADD ("/hark/calls/load/small", test_load);
  ADD ("/hark/calls/load/local", test_load_local);
  ADD ("/hark/calls/load/open-files-limit", test_open_files_limit);
  ADD ("/hark/calls/incoming/bye-after-ack", test_bye_after_ack);
  ADD ("/hark/calls/faults/malformed", test_malformed);
  ADD ("/hark/calls/transfer/incoming-refer", test_transfer_incoming_refer);
  ADD ("/hark/calls/transfer/blind", test_transfer_blind);
  ADD ("/hark/calls/transfer/bye-first", test_transfer_bye_first);
  ADD ("/hark/calls/outgoing/100rel-timer", test_100rel_timer);
  g_test_add ("/hark/calls/incoming/ring-timeout", Fixture, NULL, fixture_setup_short_ring,
              test_ring_timeout, fixture_teardown);
  g_test_add ("/hark/calls/faults/rtp-timeout", Fixture, NULL, fixture_setup_short_rtp_timeout,
              test_rtp_timeout, fixture_teardown);
  g_test_add ("/hark/calls/faults/media-error", Fixture, NULL, fixture_setup_broken_sink,
              test_media_error, fixture_teardown);

#undef ADD

  return g_test_run ();
}
