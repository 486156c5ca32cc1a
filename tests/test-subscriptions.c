/* test-subscriptions.c — SUBSCRIBE/NOTIFY in both roles over D-Bus against SIPp
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Each test starts hark-daemon on a private bus and one SIPp scenario from
 * tests/sipp/ (sub-*.xml: SIPp is the notifier; notify-*.xml: SIPp is the
 * subscriber or sends unsolicited NOTIFYs) on a free loopback port. SIPp's
 * exit status says whether the wire carried what RFC 6665 asks for; the
 * D-Bus side is checked here.
 */

#include "config.h"

#include <signal.h>
#include <sys/wait.h>

#include <string.h>

#include "hark-error.h"
#include "hark-test-bus.h"
#include "hark-test-sipp.h"

#define SUBSCRIPTION1 "io.github.hark.Hark.Subscription1"

/* Unanswered incoming SUBSCRIBEs get 480 after this long in these tests
 * (30 s in real life): long enough for a test to Accept() under load. */
#define ANSWER_TIMEOUT_MS 4000

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HarkDBusSubscription1, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HarkDBusDialog1, g_object_unref)

typedef struct {
  HarkTestBus *bus;
  GPtrArray   *reasons;       /* StateReason values seen in PropertiesChanged */
  GPtrArray   *notified;      /* "content-type|subscription-state|body" of Notified */
  GPtrArray   *incoming;      /* paths from IncomingSubscription */
  guint        notified_id;
} Fixture;

static void on_notified (GDBusConnection *connection,
                         const char      *sender_name,
                         const char      *object_path,
                         const char      *interface_name,
                         const char      *signal_name,
                         GVariant        *parameters,
                         gpointer         user_data);

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  user_data)
{
  fixture->bus = hark_test_bus_new (HARK_TEST_BUS_FLAGS_NONE);
  fixture->reasons = g_ptr_array_new_with_free_func (g_free);
  fixture->notified = g_ptr_array_new_with_free_func (g_free);
  fixture->incoming = g_ptr_array_new_with_free_func (g_free);
  fixture->notified_id =
    g_dbus_connection_signal_subscribe (hark_test_bus_get_connection (fixture->bus), NULL,
                                        SUBSCRIPTION1, "Notified", NULL, NULL,
                                        G_DBUS_SIGNAL_FLAGS_NONE, on_notified, fixture, NULL);
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  user_data)
{
  if (fixture->notified_id != 0)
    g_dbus_connection_signal_unsubscribe (hark_test_bus_get_connection (fixture->bus),
                                          fixture->notified_id);
  g_clear_pointer (&fixture->bus, hark_test_bus_free);
  g_clear_pointer (&fixture->reasons, g_ptr_array_unref);
  g_clear_pointer (&fixture->notified, g_ptr_array_unref);
  g_clear_pointer (&fixture->incoming, g_ptr_array_unref);
}

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */

static HarkDBusProfile1 *
local_profile (Fixture *fixture)
{
  HarkDBusProfile1 *profile = hark_test_bus_find_profile (fixture->bus, "local");

  g_assert_nonnull (profile);
  return profile;
}

/* SIPp gives up after this long in these tests: a subscription's
 * refreshes take a while */
#define SIPP_TIMEOUT_S 25

/* Starts SIPp with @scenario on a free port: a notifier (UAS) when
 * @target_port is 0, else a client of 127.0.0.1:@target_port. @keys are
 * "-key" pairs (name, value, …, NULL). */
static HarkTestProcess *
start_sipp (Fixture            *fixture,
            const char         *scenario,
            guint               target_port,
            guint              *out_port,
            const char * const *keys)
{
  HarkTestSippOptions options = { .timeout_s = SIPP_TIMEOUT_S, .keys = keys };

  return hark_test_sipp_start_full (fixture->bus, scenario, target_port, &options, out_port);
}

static void
assert_sipp_passed (Fixture         *fixture,
                    HarkTestProcess *sipp,
                    const char      *scenario)
{
  hark_test_sipp_assert_passed_full (fixture->bus, sipp, scenario, (SIPP_TIMEOUT_S + 5) * 1000);
}

static guint
count_occurrences (const char *haystack,
                   const char *needle)
{
  guint n = 0;

  for (const char *p = strstr (haystack, needle); p != NULL; p = strstr (p + 1, needle))
    n++;
  return n;
}

static void
on_properties_changed (GDBusProxy  *proxy,
                       GVariant    *changed,
                       const char **invalidated,
                       Fixture     *fixture)
{
  const char *reason;

  if (g_variant_lookup (changed, "StateReason", "&s", &reason))
    g_ptr_array_add (fixture->reasons, g_strdup (reason));
}

/* Subscribed on the connection from the start: a proxy made after
 * Subscribe() returns could miss the first NOTIFY. */
static void
on_notified (GDBusConnection *connection,
             const char      *sender_name,
             const char      *object_path,
             const char      *interface_name,
             const char      *signal_name,
             GVariant        *parameters,
             gpointer         user_data)
{
  Fixture *fixture = user_data;
  const char *content_type;
  const char *subscription_state;
  g_autoptr(GVariant) body = NULL;
  gsize len;
  const char *data;
  g_autofree char *text = NULL;

  if (!g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(says)")))
    return;
  g_variant_get (parameters, "(&s@ay&s)", &content_type, &body, &subscription_state);
  data = g_variant_get_fixed_array (body, &len, 1);
  text = data != NULL ? g_strndup (data, len) : g_strdup ("");

  g_ptr_array_add (fixture->notified,
                   g_strdup_printf ("%s|%s|%s", content_type, subscription_state, text));
}

static HarkDBusSubscription1 *
get_subscription (Fixture    *fixture,
                  const char *path)
{
  g_autoptr(GError) error = NULL;
  HarkDBusSubscription1 *subscription;

  subscription = hark_dbus_subscription1_proxy_new_sync (hark_test_bus_get_connection (fixture->bus),
                                                         G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START,
                                                         HARK_TEST_BUS_NAME, path, NULL, &error);
  g_assert_no_error (error);
  g_signal_connect (subscription, "g-properties-changed", G_CALLBACK (on_properties_changed),
                    fixture);
  return subscription;
}

static char *
subscribe (Fixture     *fixture,
           const char  *profile,
           const char  *uri,
           const char  *event,
           GVariant    *options,
           GError     **error)
{
  char *path = NULL;

  hark_dbus_manager1_call_subscribe_sync (hark_test_bus_get_manager (fixture->bus), profile, uri,
                                          event, options ? options : g_variant_new ("a{sv}", NULL),
                                          &path, NULL, error);
  return path;
}

typedef struct {
  Fixture *fixture;
  guint    count;
} WaitNotified;

static gboolean
notified_cb (gpointer user_data)
{
  WaitNotified *wait = user_data;

  return wait->fixture->notified->len >= wait->count;
}

/* Notified is sent at once, PropertiesChanged from an idle: usually in
 * that order, but do not count on it. */
static void
wait_notified (Fixture *fixture,
               guint    count)
{
  WaitNotified wait = { fixture, count };

  g_assert_true (hark_test_wait_for (notified_cb, &wait, 5000));
}

static gboolean
has_incoming_cb (gpointer user_data)
{
  Fixture *fixture = user_data;

  return fixture->incoming->len > 0;
}

static void
on_incoming_subscription (HarkDBusManager1 *manager,
                          const char       *path,
                          Fixture          *fixture)
{
  g_ptr_array_add (fixture->incoming, g_strdup (path));
}

static HarkDBusSubscription1 *
wait_incoming (Fixture *fixture)
{
  g_assert_true (hark_test_wait_for (has_incoming_cb, fixture, 10000));
  return get_subscription (fixture, g_ptr_array_index (fixture->incoming, 0));
}

static void
watch_incoming (Fixture *fixture)
{
  g_signal_connect (hark_test_bus_get_manager (fixture->bus), "incoming-subscription",
                    G_CALLBACK (on_incoming_subscription), fixture);
}

static gboolean
reasons_contain (Fixture    *fixture,
                 const char *reason)
{
  for (guint i = 0; i < fixture->reasons->len; i++)
    if (g_str_equal (g_ptr_array_index (fixture->reasons, i), reason))
      return TRUE;
  return FALSE;
}

static void
assert_invalid_state (GError *error)
{
  g_autofree char *remote = NULL;

  g_assert_error (error, HARK_ERROR, HARK_ERROR_INVALID_STATE);
  g_assert_true (g_dbus_error_is_remote_error (error));
  remote = g_dbus_error_get_remote_error (error);
  g_assert_cmpstr (remote, ==, "io.github.hark.Hark.Error.InvalidState");
}

/* Every method of a terminated subscription: InvalidState. */
static void
assert_all_invalid (HarkDBusSubscription1 *subscription)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) empty_body = g_variant_ref_sink (g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE,
                                                                                   "", 0, 1));

  hark_dbus_subscription1_call_unsubscribe_sync (subscription, NULL, &error);
  assert_invalid_state (error);
  g_clear_error (&error);
  hark_dbus_subscription1_call_refresh_sync (subscription, NULL, &error);
  assert_invalid_state (error);
  g_clear_error (&error);
  hark_dbus_subscription1_call_accept_sync (subscription, NULL, &error);
  assert_invalid_state (error);
  g_clear_error (&error);
  hark_dbus_subscription1_call_reject_sync (subscription, 0, NULL, &error);
  assert_invalid_state (error);
  g_clear_error (&error);
  hark_dbus_subscription1_call_notify_sync (subscription, "", empty_body, NULL, &error);
  assert_invalid_state (error);
  g_clear_error (&error);
  hark_dbus_subscription1_call_terminate_sync (subscription, g_variant_new ("a{sv}", NULL), NULL,
                                               &error);
  assert_invalid_state (error);
  g_clear_error (&error);
  hark_dbus_subscription1_call_authenticate_sync (subscription, "u", "p", NULL, &error);
  assert_invalid_state (error);
}

static void
assert_voice_messages (HarkDBusSubscription1 *subscription,
                       guint                  new_messages,
                       guint                  old_messages,
                       guint                  new_urgent,
                       guint                  old_urgent)
{
  GVariant *voice = hark_dbus_subscription1_get_voice_messages (subscription);
  guint32 counts[4];

  g_assert_nonnull (voice);
  g_variant_get (voice, "(uuuu)", &counts[0], &counts[1], &counts[2], &counts[3]);
  g_assert_cmpuint (counts[0], ==, new_messages);
  g_assert_cmpuint (counts[1], ==, old_messages);
  g_assert_cmpuint (counts[2], ==, new_urgent);
  g_assert_cmpuint (counts[3], ==, old_urgent);
}

/* ------------------------------------------------------------------------ */
/* Subscriber                                                                */

/* message-summary: 200, NOTIFY → Notified and the parsed summary; the
 * refresh before expiry; Unsubscribe() puts Expires: 0 on the wire and the
 * subscription ends on the final NOTIFY only. */
static void
test_subscriber_mwi (Fixture       *fixture,
                     gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HarkDBusSubscription1) subscription = NULL;
  g_autoptr(HarkDBusDialog1) dialog = NULL;
  g_autofree char *profile = hark_test_sipp_dup_local_profile_path (fixture->bus);
  g_autofree char *uri = NULL;
  g_autofree char *path = NULL;
  g_autofree char *messages = NULL;
  HarkTestProcess *sipp;
  GVariant *last_body;
  const char *body;
  gsize len;
  guint port;

  sipp = start_sipp (fixture, "sub-mwi.xml", 0, &port, NULL);
  uri = g_strdup_printf ("sip:mwi@127.0.0.1:%u", port);
  path = subscribe (fixture, profile, uri, "message-summary",
                    g_variant_new_parsed ("{'expires': <uint32 4>}"), &error);
  g_assert_no_error (error);
  subscription = get_subscription (fixture, path);

  g_assert_cmpstr (hark_dbus_subscription1_get_role (subscription), ==, "subscriber");
  g_assert_cmpstr (hark_dbus_subscription1_get_event (subscription), ==, "message-summary");
  g_assert_cmpstr (hark_dbus_subscription1_get_uri (subscription), ==, uri);
  g_assert_cmpstr (hark_dbus_subscription1_get_profile (subscription), ==, profile);
  g_assert_true (hark_dbus_subscription1_get_auto_refresh (subscription));
  g_assert_cmpstrv (hark_dbus_subscription1_get_accept (subscription),
                    ((const char * const []) { "application/simple-message-summary", NULL }));

  g_assert_true (hark_test_wait_property_boolean (G_DBUS_PROXY (subscription), "MessagesWaiting",
                                                  TRUE, 10000));
  g_assert_cmpstr (hark_dbus_subscription1_get_state (subscription), ==, "active");
  assert_voice_messages (subscription, 2, 8, 0, 2);
  g_assert_cmpstr (hark_dbus_subscription1_get_last_content_type (subscription), ==,
                   "application/simple-message-summary");
  last_body = hark_dbus_subscription1_get_last_body (subscription);
  body = g_variant_get_fixed_array (last_body, &len, 1);
  g_assert_true (len > 0 && g_str_has_prefix (body, "Messages-Waiting: yes"));
  wait_notified (fixture, 1);
  g_test_message ("Notified: %s", (const char *) g_ptr_array_index (fixture->notified, 0));
  g_assert_cmpuint (fixture->notified->len, ==, 1);
  g_assert_true (g_str_has_prefix (g_ptr_array_index (fixture->notified, 0),
                                   "application/simple-message-summary|active;expires=4|"));

  /* A dialog of its own, confirmed, naming the subscription as its usage */
  dialog = hark_dbus_dialog1_proxy_new_sync (hark_test_bus_get_connection (fixture->bus),
                                             G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START,
                                             HARK_TEST_BUS_NAME,
                                             hark_dbus_subscription1_get_dialog (subscription),
                                             NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (hark_dbus_dialog1_get_state (dialog), ==, "confirmed");
  g_assert_cmpstrv (hark_dbus_dialog1_get_usages (dialog),
                    ((const char * const []) { path, NULL }));

  /* The refresh (SIPp grants 60 s to it) within the 4 s */
  g_assert_true (hark_test_wait_property (G_DBUS_PROXY (subscription), "Expires",
                                          g_variant_new_uint32 (60), 6000));

  hark_dbus_subscription1_call_unsubscribe_sync (subscription, NULL, &error);
  g_assert_no_error (error);
  /* Not ended by our own say-so: SIPp waits 1 s before its NOTIFY. (No
   * fixed sleep here: waits stretch with HARK_TEST_TIMEOUT_SCALE.) */
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (subscription), "StateReason",
                                                 "unsubscribing", 1000));
  g_assert_cmpstr (hark_dbus_subscription1_get_state (subscription), ==, "active");
  /* A second Unsubscribe() while waiting */
  hark_dbus_subscription1_call_unsubscribe_sync (subscription, NULL, &error);
  assert_invalid_state (error);
  g_clear_error (&error);

  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (subscription), "State",
                                                 "terminated", 10000));
  g_assert_cmpstr (hark_dbus_subscription1_get_state_reason (subscription), ==, "unsubscribed");
  wait_notified (fixture, 2);
  g_assert_cmpuint (fixture->notified->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (fixture->notified, 1), ==, "|terminated|");
  assert_sipp_passed (fixture, sipp, "sub-mwi.xml");

  messages = hark_test_sipp_read_messages (fixture->bus, "sub-mwi.xml");
  g_assert_cmpuint (count_occurrences (messages, "SUBSCRIBE sip:"), ==, 3);
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (dialog), "State", "terminated",
                                                 5000));
  assert_all_invalid (subscription);
}

/* presence: PIDF parsed (only PIDF's own note), a malformed document gives
 * StateReason malformed-body and keeps the view, the notifier's
 * terminated;reason=noresource ends it. */
static void
test_subscriber_presence (Fixture       *fixture,
                          gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HarkDBusSubscription1) subscription = NULL;
  g_autofree char *profile = hark_test_sipp_dup_local_profile_path (fixture->bus);
  g_autofree char *uri = NULL;
  g_autofree char *path = NULL;
  g_autofree char *owner = NULL;
  HarkTestProcess *sipp;
  const char *basic;
  const char *note;
  guint port;

  sipp = start_sipp (fixture, "sub-presence.xml", 0, &port, NULL);
  uri = g_strdup_printf ("sip:bob@127.0.0.1:%u", port);
  path = subscribe (fixture, "/", uri, "presence", NULL, &error);
  g_assert_no_error (error);
  subscription = get_subscription (fixture, path);
  g_assert_cmpstr (hark_dbus_subscription1_get_profile (subscription), ==, profile);

  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (subscription), "State",
                                                 "terminated", 15000));
  assert_sipp_passed (fixture, sipp, "sub-presence.xml");

  g_assert_cmpstr (hark_dbus_subscription1_get_state_reason (subscription), ==, "noresource");
  g_variant_get (hark_dbus_subscription1_get_presence (subscription), "(&s&s)", &basic, &note);
  g_assert_cmpstr (basic, ==, "open");
  g_assert_cmpstr (note, ==, "In a meeting");
  g_assert_true (reasons_contain (fixture, "malformed-body"));
  wait_notified (fixture, 3);
  g_assert_cmpuint (fixture->notified->len, ==, 3);
  g_assert_true (g_str_has_prefix (g_ptr_array_index (fixture->notified, 0),
                                   "application/pidf+xml|active;expires=600|"));
  g_assert_cmpstr (g_ptr_array_index (fixture->notified, 2), ==,
                   "|terminated;reason=noresource|");
  g_assert_cmpstr (hark_dbus_subscription1_get_last_content_type (subscription), ==, "");
  g_assert_cmpuint (hark_dbus_subscription1_get_status_code (subscription), ==, 202);

  /* The daemon is still fine. */
  owner = hark_test_bus_dup_name_owner (fixture->bus, HARK_TEST_BUS_NAME);
  g_assert_nonnull (owner);
  assert_all_invalid (subscription);
}

/* A challenged SUBSCRIBE: the "auth" option is tried once, then the
 * subscription waits ("auth-required") for Authenticate(), whose user goes
 * out in the challenge's realm; it is never retried in a loop. */
static void
test_subscriber_auth (Fixture       *fixture,
                      gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HarkDBusSubscription1) subscription = NULL;
  g_autofree char *uri = NULL;
  g_autofree char *path = NULL;
  HarkTestProcess *sipp;
  guint port;

  sipp = start_sipp (fixture, "sub-auth.xml", 0, &port, NULL);
  uri = g_strdup_printf ("sip:bob@127.0.0.1:%u", port);
  path = subscribe (fixture, "/", uri, "presence",
                    g_variant_new_parsed ("{'auth': <{'username': 'opt', 'password': 'nope'}>}"),
                    &error);
  g_assert_no_error (error);
  subscription = get_subscription (fixture, path);

  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (subscription), "StateReason",
                                                 "auth-required", 10000));
  g_assert_cmpuint (hark_dbus_subscription1_get_status_code (subscription), ==, 401);

  hark_dbus_subscription1_call_authenticate_sync (subscription, "carol", "secret", NULL, &error);
  g_assert_no_error (error);
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (subscription), "State",
                                                 "terminated", 15000));
  assert_sipp_passed (fixture, sipp, "sub-auth.xml");
  g_assert_cmpstr (hark_dbus_subscription1_get_state_reason (subscription), ==, "noresource");

  /* Not waiting any more. */
  hark_dbus_subscription1_call_authenticate_sync (subscription, "carol", "secret", NULL, &error);
  g_assert_error (error, HARK_ERROR, HARK_ERROR_INVALID_STATE);
}

/* 481, 489 and 603 to the SUBSCRIBE end it with the reason that says so. */
static void
test_subscriber_refused (Fixture       *fixture,
                         gconstpointer  user_data)
{
  static const struct { const char *code; const char *reason; } cases[] = {
    { "489", "bad-event" },
    { "481", "no-subscription" },
    { "603", "rejected" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(HarkDBusSubscription1) subscription = NULL;
      g_autofree char *scenario = g_strdup_printf ("sub-reject-%s.xml", cases[i].code);
      g_autofree char *uri = NULL;
      g_autofree char *path = NULL;
      HarkTestProcess *sipp;
      guint port;

      g_test_message ("SUBSCRIBE answered %s", cases[i].code);
      sipp = start_sipp (fixture, scenario, 0, &port, NULL);
      uri = g_strdup_printf ("sip:svc@127.0.0.1:%u", port);
      path = subscribe (fixture, "/", uri, "x-hark-test", NULL, &error);
      g_assert_no_error (error);
      subscription = get_subscription (fixture, path);
      g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (subscription), "State",
                                                     "terminated", 10000));
      g_assert_cmpstr (hark_dbus_subscription1_get_state_reason (subscription), ==,
                       cases[i].reason);
      g_assert_cmpuint (hark_dbus_subscription1_get_status_code (subscription), ==,
                        g_ascii_strtoull (cases[i].code, NULL, 10));
      /* An opaque event has no Accept of its own */
      g_assert_cmpuint (g_strv_length ((char **) hark_dbus_subscription1_get_accept (subscription)),
                        ==, 0);
      assert_sipp_passed (fixture, sipp, scenario);
      assert_all_invalid (subscription);
    }
}

/* AutoRefresh off: the lifetime lapses and the subscription ends "timeout". */
static void
test_subscriber_no_refresh (Fixture       *fixture,
                            gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HarkDBusSubscription1) subscription = NULL;
  g_autofree char *uri = NULL;
  g_autofree char *path = NULL;
  HarkTestProcess *sipp;
  gint64 start;
  guint port;

  sipp = start_sipp (fixture, "sub-no-refresh.xml", 0, &port, NULL);
  uri = g_strdup_printf ("sip:svc@127.0.0.1:%u", port);
  path = subscribe (fixture, "/", uri, "x-hark-test",
                    g_variant_new_parsed ("{'expires': <uint32 3>, 'auto-refresh': <false>}"),
                    &error);
  g_assert_no_error (error);
  subscription = get_subscription (fixture, path);
  g_assert_false (hark_dbus_subscription1_get_auto_refresh (subscription));

  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (subscription), "State", "active",
                                                 10000));
  start = g_get_monotonic_time ();
  wait_notified (fixture, 1);
  g_assert_cmpuint (fixture->notified->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (fixture->notified, 0), ==,
                   "text/plain|active;expires=3|opaque\r\n");
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (subscription), "State",
                                                 "terminated", 10000));
  g_assert_cmpstr (hark_dbus_subscription1_get_state_reason (subscription), ==, "timeout");
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 1000 * 1000);
  assert_sipp_passed (fixture, sipp, "sub-no-refresh.xml");
}

/* Bad input on the bus: named errors, nothing sent. */
static void
test_subscribe_errors (Fixture       *fixture,
                       gconstpointer  user_data)
{
  static const struct { const char *uri; const char *event; const char *options; int code; } cases[] = {
    { "sip:a@127.0.0.1", "", "@a{sv} {}", HARK_ERROR_INVALID_ARGUMENT },
    { "sip:a@127.0.0.1", "bad event", "@a{sv} {}", HARK_ERROR_INVALID_ARGUMENT },
    { "sip:a@127.0.0.1", "refer", "@a{sv} {}", HARK_ERROR_INVALID_ARGUMENT },
    { "not a uri", "presence", "@a{sv} {}", HARK_ERROR_INVALID_ARGUMENT },
    { "sip:a@127.0.0.1", "presence", "{'colour': <'red'>}", HARK_ERROR_INVALID_ARGUMENT },
    { "sip:a@127.0.0.1", "presence", "{'expires': <'60'>}", HARK_ERROR_INVALID_ARGUMENT },
    { "sip:a@127.0.0.1", "presence", "{'expires': <uint32 100000>}", HARK_ERROR_INVALID_ARGUMENT },
    { "sip:a@127.0.0.1", "presence", "{'accept': <['pidf']>}", HARK_ERROR_INVALID_ARGUMENT },
    { "sip:a@127.0.0.1", "presence", "{'headers': <{'Event': 'x'}>}", HARK_ERROR_INVALID_ARGUMENT },
    { "sip:a@127.0.0.1", "presence", "{'headers': <{'X-A': 'a\r\nB: c'}>}",
      HARK_ERROR_INVALID_ARGUMENT },
    { "sip:a@127.0.0.1", "presence", "{'auth': <{'user': 'x'}>}", HARK_ERROR_INVALID_ARGUMENT },
    { "sip:a@127.0.0.1", "presence", "{'auth': <{'username': 'x'}>}", HARK_ERROR_INVALID_ARGUMENT },
  };
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  g_autofree char *remote = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GVariant) options = g_variant_ref_sink (g_variant_new_parsed (cases[i].options));

      g_test_message ("Subscribe(%s, %s, %s)", cases[i].uri, cases[i].event, cases[i].options);
      path = subscribe (fixture, "/", cases[i].uri, cases[i].event, g_variant_ref (options),
                        &error);
      g_assert_null (path);
      g_assert_error (error, HARK_ERROR, cases[i].code);
      remote = g_dbus_error_get_remote_error (error);
      g_assert_cmpstr (remote, ==, "io.github.hark.Hark.Error.InvalidArgument");
      g_clear_pointer (&remote, g_free);
      g_clear_error (&error);
    }

  path = subscribe (fixture, "/io/github/hark/Hark/Profile/999", "sip:a@127.0.0.1", "presence",
                    NULL, &error);
  g_assert_null (path);
  g_assert_error (error, HARK_ERROR, HARK_ERROR_NOT_FOUND);
}

/* ------------------------------------------------------------------------ */
/* Notifier                                                                  */

/* SIPp subscribes to presence: IncomingSubscription; Accept() sends 200
 * and a PIDF NOTIFY; SetPresence() and Notify() send NOTIFYs with their
 * bodies; Terminate() sends terminated;reason=noresource. */
static void
test_notifier_presence (Fixture       *fixture,
                        gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HarkDBusSubscription1) subscription = NULL;
  g_autoptr(HarkDBusProfile1) profile = local_profile (fixture);
  g_autoptr(GVariant) body = g_variant_ref_sink (g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE,
                                                                             "hello from hark",
                                                                             15, 1));
  HarkTestProcess *sipp;
  const char *basic;
  const char *note;

  watch_incoming (fixture);
  sipp = start_sipp (fixture, "notify-presence.xml",
                     hark_test_sipp_get_local_profile_port (fixture->bus), NULL, NULL);
  subscription = wait_incoming (fixture);

  g_assert_cmpstr (hark_dbus_subscription1_get_role (subscription), ==, "notifier");
  g_assert_cmpstr (hark_dbus_subscription1_get_state (subscription), ==, "pending");
  g_assert_cmpstr (hark_dbus_subscription1_get_event (subscription), ==, "presence");
  g_assert_true (g_str_has_prefix (hark_dbus_subscription1_get_uri (subscription),
                                   "sip:sipp@127.0.0.1"));
  g_assert_cmpstrv (hark_dbus_subscription1_get_accept (subscription),
                    ((const char * const []) { "application/pidf+xml", NULL }));
  g_assert_cmpuint (hark_dbus_subscription1_get_expires (subscription), ==, 120);
  g_assert_cmpstr (hark_dbus_subscription1_get_profile (subscription), ==,
                   g_dbus_proxy_get_object_path (G_DBUS_PROXY (profile)));

  /* Subscriber methods on a notifier; Notify before Accept */
  hark_dbus_subscription1_call_unsubscribe_sync (subscription, NULL, &error);
  assert_invalid_state (error);
  g_clear_error (&error);
  hark_dbus_subscription1_call_notify_sync (subscription, "text/plain", body, NULL, &error);
  assert_invalid_state (error);
  g_clear_error (&error);
  hark_dbus_subscription1_call_reject_sync (subscription, 200, NULL, &error);
  g_assert_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  hark_dbus_subscription1_call_accept_sync (subscription, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (subscription), "State", "active",
                                                 5000));
  hark_dbus_subscription1_call_accept_sync (subscription, NULL, &error);
  assert_invalid_state (error);
  g_clear_error (&error);

  /* Let SIPp answer the first NOTIFY before the next one. */
  hark_test_iterate (300);
  hark_dbus_profile1_call_set_presence_sync (profile, "away", "", NULL, &error);
  g_assert_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  hark_dbus_profile1_call_set_presence_sync (profile, "closed", "Gone fishing", NULL, &error);
  g_assert_no_error (error);
  g_assert_true (hark_test_wait_property (G_DBUS_PROXY (subscription), "Presence",
                                          g_variant_new ("(ss)", "closed", "Gone fishing"),
                                          5000));

  hark_test_iterate (300);
  hark_dbus_subscription1_call_notify_sync (subscription, "not a type", body, NULL, &error);
  g_assert_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  hark_dbus_subscription1_call_notify_sync (subscription, "text/plain", body, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (subscription), "LastContentType",
                                                 "text/plain", 5000));

  hark_test_iterate (300);
  hark_dbus_subscription1_call_terminate_sync (subscription,
                                               g_variant_new_parsed ("{'reason': <'no resource'>}"),
                                               NULL, &error);
  g_assert_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  hark_dbus_subscription1_call_terminate_sync (subscription,
                                               g_variant_new_parsed ("{'reason': <'noresource'>}"),
                                               NULL, &error);
  g_assert_no_error (error);
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (subscription), "State",
                                                 "terminated", 10000));
  g_assert_cmpstr (hark_dbus_subscription1_get_state_reason (subscription), ==, "noresource");
  g_variant_get (hark_dbus_subscription1_get_presence (subscription), "(&s&s)", &basic, &note);
  g_assert_cmpstr (basic, ==, "closed");
  assert_sipp_passed (fixture, sipp, "notify-presence.xml");
  assert_all_invalid (subscription);
}

/* The subscriber's Expires: 0 is answered with the final NOTIFY by itself. */
static void
test_notifier_unsubscribed (Fixture       *fixture,
                            gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HarkDBusSubscription1) subscription = NULL;
  static const char summary[] = "Messages-Waiting: yes\r\nVoice-Message: 1/0\r\n";
  HarkTestProcess *sipp;

  watch_incoming (fixture);
  sipp = start_sipp (fixture, "notify-unsubscribe.xml",
                     hark_test_sipp_get_local_profile_port (fixture->bus), NULL, NULL);
  subscription = wait_incoming (fixture);
  g_assert_cmpstr (hark_dbus_subscription1_get_event (subscription), ==, "message-summary");

  hark_dbus_subscription1_call_accept_sync (subscription, NULL, &error);
  g_assert_no_error (error);
  hark_test_iterate (300);
  hark_dbus_subscription1_call_notify_sync (subscription, "application/simple-message-summary",
                                            g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE,
                                                                       summary,
                                                                       sizeof summary - 1, 1),
                                            NULL, &error);
  g_assert_no_error (error);

  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (subscription), "State",
                                                 "terminated", 10000));
  g_assert_cmpstr (hark_dbus_subscription1_get_state_reason (subscription), ==, "unsubscribed");
  assert_sipp_passed (fixture, sipp, "notify-unsubscribe.xml");
}

/* Reject() sends 603; an unanswered SUBSCRIBE gets 480; an event Hark does
 * not take gets 489 from nua without reaching the bus. */
static void
test_notifier_refused (Fixture       *fixture,
                       gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HarkDBusSubscription1) rejected = NULL;
  g_autoptr(HarkDBusSubscription1) unanswered = NULL;
  const char * const presence[] = { "event", "presence", NULL };
  const char * const unknown[] = { "event", "x-no-such-package", NULL };
  guint port = hark_test_sipp_get_local_profile_port (fixture->bus);
  HarkTestProcess *sipp;

  watch_incoming (fixture);

  sipp = start_sipp (fixture, "notify-refused-603.xml", port, NULL, presence);
  rejected = wait_incoming (fixture);
  hark_dbus_subscription1_call_reject_sync (rejected, 0, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (rejected), "State", "terminated",
                                                 5000));
  g_assert_cmpstr (hark_dbus_subscription1_get_state_reason (rejected), ==, "rejected");
  g_assert_cmpuint (hark_dbus_subscription1_get_status_code (rejected), ==, 603);
  assert_sipp_passed (fixture, sipp, "notify-refused-603.xml");
  assert_all_invalid (rejected);

  g_ptr_array_set_size (fixture->incoming, 0);
  sipp = start_sipp (fixture, "notify-refused-480.xml", port, NULL, presence);
  unanswered = wait_incoming (fixture);
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (unanswered), "State", "terminated",
                                                 ANSWER_TIMEOUT_MS + 5000));
  g_assert_cmpstr (hark_dbus_subscription1_get_state_reason (unanswered), ==, "unanswered");
  assert_sipp_passed (fixture, sipp, "notify-refused-480.xml");

  g_ptr_array_set_size (fixture->incoming, 0);
  sipp = start_sipp (fixture, "notify-refused-489.xml", port, NULL, unknown);
  assert_sipp_passed (fixture, sipp, "notify-refused-489.xml");
  g_assert_cmpuint (fixture->incoming->len, ==, 0);
}

static gboolean
find_unsolicited_cb (gpointer user_data)
{
  Fixture *fixture = user_data;
  GList *objects = g_dbus_object_manager_get_objects (hark_test_bus_get_object_manager (fixture->bus));
  gboolean found = FALSE;

  for (GList *l = objects; l != NULL; l = l->next)
    {
      g_autoptr(GDBusInterface) iface = g_dbus_object_get_interface (l->data, SUBSCRIPTION1);

      if (iface != NULL && !found)
        {
          g_ptr_array_add (fixture->incoming,
                           g_strdup (g_dbus_object_get_object_path (l->data)));
          found = TRUE;
        }
    }
  g_list_free_full (objects, g_object_unref);
  return found;
}

/* A PBX's unsolicited message-summary NOTIFY is answered 200 and shown on
 * a subscriber-role Subscription of the profile; other events get 481. */
static void
test_unsolicited_mwi (Fixture       *fixture,
                      gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HarkDBusSubscription1) view = NULL;
  g_autofree char *profile = hark_test_sipp_dup_local_profile_path (fixture->bus);
  HarkTestProcess *sipp;

  sipp = start_sipp (fixture, "notify-unsolicited.xml",
                     hark_test_sipp_get_local_profile_port (fixture->bus), NULL, NULL);
  assert_sipp_passed (fixture, sipp, "notify-unsolicited.xml");

  g_assert_true (hark_test_wait_for (find_unsolicited_cb, fixture, 5000));
  view = get_subscription (fixture, g_ptr_array_index (fixture->incoming, 0));
  g_assert_cmpstr (hark_dbus_subscription1_get_role (view), ==, "subscriber");
  g_assert_cmpstr (hark_dbus_subscription1_get_event (view), ==, "message-summary");
  g_assert_cmpstr (hark_dbus_subscription1_get_profile (view), ==, profile);
  g_assert_cmpstr (hark_dbus_subscription1_get_dialog (view), ==, "/");
  g_assert_cmpstr (hark_dbus_subscription1_get_state (view), ==, "active");
  g_assert_true (g_str_has_prefix (hark_dbus_subscription1_get_uri (view),
                                   "sip:voicemail@127.0.0.1"));
  g_assert_true (hark_dbus_subscription1_get_messages_waiting (view));
  assert_voice_messages (view, 2, 8, 0, 2);

  /* The view ends when asked, sending nothing */
  hark_dbus_subscription1_call_refresh_sync (view, NULL, &error);
  assert_invalid_state (error);
  g_clear_error (&error);
  hark_dbus_subscription1_call_unsubscribe_sync (view, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (view), "State", "terminated",
                                                 5000));
  g_assert_cmpstr (hark_dbus_subscription1_get_state_reason (view), ==, "unsubscribed");
}

/* The daemon stops cleanly with a view of unsolicited NOTIFYs still
 * there: ending it ends it at once (nothing goes on the wire), which
 * completed the profile's shutdown from inside its own loop, and again
 * after it (a double free on SIGTERM). */
static void
test_unsolicited_shutdown (Fixture       *fixture,
                           gconstpointer  user_data)
{
  HarkTestProcess *sipp;
  int status = 0;

  sipp = start_sipp (fixture, "notify-unsolicited.xml",
                     hark_test_sipp_get_local_profile_port (fixture->bus), NULL, NULL);
  assert_sipp_passed (fixture, sipp, "notify-unsolicited.xml");
  g_assert_true (hark_test_wait_for (find_unsolicited_cb, fixture, 5000));

  g_assert_true (hark_test_bus_kill_daemon (fixture->bus, SIGTERM, hark_test_timeout (10000),
                                            &status));
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *timeout = g_strdup_printf ("%u", hark_test_timeout (ANSWER_TIMEOUT_MS));

  g_test_init (&argc, &argv, NULL);
  /* Registers io.github.hark.Hark.Error.* so remote errors come back as HARK_ERROR */
  (void) hark_error_quark ();

  /* hark-daemon inherits it (see the Subscription1 documentation) */
  g_setenv ("HARK_SUBSCRIPTION_ANSWER_TIMEOUT_MS", timeout, TRUE);

  g_test_add ("/hark/subscriptions/subscriber/mwi", Fixture, NULL,
              fixture_setup, test_subscriber_mwi, fixture_teardown);
  g_test_add ("/hark/subscriptions/subscriber/presence", Fixture, NULL,
              fixture_setup, test_subscriber_presence, fixture_teardown);
  g_test_add ("/hark/subscriptions/subscriber/auth", Fixture, NULL,
              fixture_setup, test_subscriber_auth, fixture_teardown);
  g_test_add ("/hark/subscriptions/subscriber/refused", Fixture, NULL,
              fixture_setup, test_subscriber_refused, fixture_teardown);
  g_test_add ("/hark/subscriptions/subscriber/no-refresh", Fixture, NULL,
              fixture_setup, test_subscriber_no_refresh, fixture_teardown);
  g_test_add ("/hark/subscriptions/subscriber/errors", Fixture, NULL,
              fixture_setup, test_subscribe_errors, fixture_teardown);
  g_test_add ("/hark/subscriptions/notifier/presence", Fixture, NULL,
              fixture_setup, test_notifier_presence, fixture_teardown);
  g_test_add ("/hark/subscriptions/notifier/unsubscribed", Fixture, NULL,
              fixture_setup, test_notifier_unsubscribed, fixture_teardown);
  g_test_add ("/hark/subscriptions/notifier/refused", Fixture, NULL,
              fixture_setup, test_notifier_refused, fixture_teardown);
  g_test_add ("/hark/subscriptions/unsolicited/mwi", Fixture, NULL,
              fixture_setup, test_unsolicited_mwi, fixture_teardown);
  g_test_add ("/hark/subscriptions/unsolicited/shutdown", Fixture, NULL,
              fixture_setup, test_unsolicited_shutdown, fixture_teardown);

  return g_test_run ();
}
