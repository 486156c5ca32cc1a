/* test-subscriptions-hark.c — subscriptions with a registrar, a profile's end, Hark ↔ Hark
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The automatic voicemail subscription of a profile registered at Kamailio
 * (which relays message-summary SUBSCRIBEs to a SIPp notifier), what
 * deleting a profile and stopping the daemon do to its subscriptions, and
 * two daemons, each on its private bus, subscribing to each other's
 * presence.
 */

#include "config.h"

#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "hark-error.h"
#include "hark-test-bus.h"
#include "hark-test-calls.h"
#include "hark-test-kamailio.h"
#include "hark-test-sipp.h"

#define SUBSCRIPTION1 "io.github.hark.Hark.Subscription1"
#define REGISTER_TIMEOUT_MS 10000

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HarkDBusSubscription1, g_object_unref)

typedef struct {
  HarkTestBus      *bus;
  HarkTestBus      *peer;      /* the second daemon of the Hark ↔ Hark tests */
  HarkTestKamailio *kamailio;
  char             *password;
  GPtrArray        *notified;  /* "content-type|subscription-state|body" of Notified */
  GPtrArray        *incoming;  /* paths from the peer's IncomingSubscription */
} Fixture;

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  user_data)
{
  fixture->notified = g_ptr_array_new_with_free_func (g_free);
  fixture->incoming = g_ptr_array_new_with_free_func (g_free);
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  user_data)
{
  /* The daemons first: they may still be talking to Kamailio. */
  g_clear_pointer (&fixture->bus, hark_test_bus_free);
  g_clear_pointer (&fixture->peer, hark_test_bus_free);
  g_clear_pointer (&fixture->kamailio, hark_test_kamailio_free);
  g_clear_pointer (&fixture->password, g_free);
  g_clear_pointer (&fixture->notified, g_ptr_array_unref);
  g_clear_pointer (&fixture->incoming, g_ptr_array_unref);
}

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */

/* SIPp gives up after this long in these tests: Kamailio and a second
 * daemon take their time */
#define SIPP_TIMEOUT_S 40

/* Starts SIPp with tests/sipp/@scenario as a UAS on @address, a free port. */
static HarkTestProcess *
start_sipp_uas (HarkTestBus *bus,
                const char  *scenario,
                const char  *address,
                guint       *out_port)
{
  HarkTestSippOptions options = { .address = address, .timeout_s = SIPP_TIMEOUT_S };

  return hark_test_sipp_start_full (bus, scenario, 0, &options, out_port);
}

/* Starts SIPp with tests/sipp/@scenario as a client of 127.0.0.1:@target_port,
 * asking for user "hark". */
static HarkTestProcess *
start_sipp_uac (HarkTestBus *bus,
                const char  *scenario,
                guint        target_port)
{
  HarkTestSippOptions options = { .timeout_s = SIPP_TIMEOUT_S };

  return hark_test_sipp_start_full (bus, scenario, target_port, &options, NULL);
}

static void
assert_sipp_passed (HarkTestBus     *bus,
                    HarkTestProcess *sipp,
                    const char      *scenario)
{
  hark_test_sipp_assert_passed_full (bus, sipp, scenario, 30000);
}

static void
on_notified (HarkDBusSubscription1 *subscription,
             const char            *content_type,
             GVariant              *body,
             const char            *subscription_state,
             Fixture               *fixture)
{
  gsize len;
  const char *data = g_variant_get_fixed_array (body, &len, 1);
  g_autofree char *text = data != NULL ? g_strndup (data, len) : g_strdup ("");

  g_ptr_array_add (fixture->notified,
                   g_strdup_printf ("%s|%s|%s", content_type, subscription_state, text));
}

static HarkDBusSubscription1 *
get_subscription (Fixture     *fixture,
                  HarkTestBus *bus,
                  const char  *path)
{
  g_autoptr(GError) error = NULL;
  HarkDBusSubscription1 *subscription;

  subscription = hark_dbus_subscription1_proxy_new_sync (hark_test_bus_get_connection (bus),
                                                         G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START,
                                                         HARK_TEST_BUS_NAME, path, NULL, &error);
  g_assert_no_error (error);
  if (bus == fixture->bus)
    g_signal_connect (subscription, "notified", G_CALLBACK (on_notified), fixture);
  return subscription;
}

typedef struct {
  HarkTestBus *bus;
  const char  *event;
  char        *path;
} FindSubscription;

static gboolean
find_subscription_cb (gpointer user_data)
{
  FindSubscription *find = user_data;
  GList *objects = g_dbus_object_manager_get_objects (hark_test_bus_get_object_manager (find->bus));

  for (GList *l = objects; l != NULL && find->path == NULL; l = l->next)
    {
      g_autoptr(GDBusInterface) iface = g_dbus_object_get_interface (l->data, SUBSCRIPTION1);
      g_autoptr(GVariant) event = NULL;

      if (iface == NULL)
        continue;
      event = g_dbus_proxy_get_cached_property (G_DBUS_PROXY (iface), "Event");
      if (event != NULL && g_str_equal (g_variant_get_string (event, NULL), find->event))
        find->path = g_strdup (g_dbus_object_get_object_path (l->data));
    }
  g_list_free_full (objects, g_object_unref);
  return find->path != NULL;
}

/* The path of a Subscription1 object of @event on @bus, once there is one. */
static char *
wait_subscription_object (HarkTestBus *bus,
                          const char  *event,
                          guint        timeout_ms)
{
  FindSubscription find = { bus, event, NULL };

  hark_test_wait_for (find_subscription_cb, &find, timeout_ms);
  return find.path;
}

static HarkDBusProfile1 *
create_profile (HarkTestBus *bus,
                GVariant    *settings)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  HarkDBusProfile1 *profile = NULL;
  gint64 deadline = g_get_monotonic_time () + hark_test_timeout (5000) * G_TIME_SPAN_MILLISECOND;

  hark_dbus_manager1_call_create_profile_sync (hark_test_bus_get_manager (bus), settings, &path,
                                               NULL, &error);
  g_assert_no_error (error);
  while (profile == NULL && g_get_monotonic_time () < deadline)
    {
      profile = hark_test_bus_get_profile (bus, path);
      if (profile == NULL)
        hark_test_iterate (50);
    }
  g_assert_nonnull (profile);
  return profile;
}

static HarkDBusRegistration1 *
get_registration (HarkTestBus *bus,
                  const char  *path)
{
  g_autoptr(GError) error = NULL;
  HarkDBusRegistration1 *registration;

  registration = hark_dbus_registration1_proxy_new_sync (hark_test_bus_get_connection (bus),
                                                         G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START,
                                                         HARK_TEST_BUS_NAME, path, NULL, &error);
  g_assert_no_error (error);
  return registration;
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

static void
on_incoming_subscription (HarkDBusManager1 *manager,
                          const char       *path,
                          Fixture          *fixture)
{
  g_ptr_array_add (fixture->incoming, g_strdup (path));
}

static gboolean
has_incoming_cb (gpointer user_data)
{
  Fixture *fixture = user_data;

  return fixture->incoming->len > 0;
}

static gboolean
contact_port_known_cb (gpointer user_data)
{
  const char *contact = hark_dbus_profile1_get_contact (user_data);

  return contact != NULL && strrchr (contact, ':') != NULL;
}

static guint
contact_port (HarkDBusProfile1 *profile)
{
  const char *contact = hark_dbus_profile1_get_contact (profile);
  const char *colon;

  g_assert_nonnull (contact);
  colon = strrchr (contact, ':');
  g_assert_nonnull (colon);
  return (guint) g_ascii_strtoull (colon + 1, NULL, 10);
}

/* ------------------------------------------------------------------------ */
/* A profile's end                                                           */

typedef struct {
  HarkDBusProfile1      *profile;
  HarkDBusSubscription1 *subscriber;
  HarkDBusSubscription1 *notifier;
  HarkTestProcess       *notifier_sipp;    /* SIPp notifying Hark */
  HarkTestProcess       *subscriber_sipp;  /* SIPp subscribed to Hark */
} Ending;

/* A profile of its own (no registrar) with one active subscription in each
 * role, both with SIPp. */
static void
ending_setup (Fixture *fixture,
              Ending  *ending)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *uri = NULL;
  g_autofree char *path = NULL;
  const char * const aors[] = { "sip:carol@127.0.0.1", NULL };
  GVariantDict settings;
  guint port;

  fixture->bus = hark_test_bus_new (HARK_TEST_BUS_FLAGS_NONE);
  g_signal_connect (hark_test_bus_get_manager (fixture->bus), "incoming-subscription",
                    G_CALLBACK (on_incoming_subscription), fixture);

  g_variant_dict_init (&settings, NULL);
  g_variant_dict_insert (&settings, "name", "s", "carol");
  g_variant_dict_insert_value (&settings, "aors", g_variant_new_strv (aors, -1));
  ending->profile = create_profile (fixture->bus, g_variant_dict_end (&settings));

  ending->notifier_sipp = start_sipp_uas (fixture->bus, "sub-end.xml", "127.0.0.1", &port);
  uri = g_strdup_printf ("sip:vm@127.0.0.1:%u", port);
  hark_dbus_manager1_call_subscribe_sync (hark_test_bus_get_manager (fixture->bus),
                                          g_dbus_proxy_get_object_path (
                                            G_DBUS_PROXY (ending->profile)),
                                          uri, "message-summary",
                                          g_variant_new ("a{sv}", NULL), &path, NULL, &error);
  g_assert_no_error (error);
  ending->subscriber = get_subscription (fixture, fixture->bus, path);
  g_assert_true (hark_test_wait_property_boolean (G_DBUS_PROXY (ending->subscriber),
                                                  "MessagesWaiting", TRUE, 10000));

  /* The profile's SIP agent is up now: SIPp subscribes to it */
  g_assert_true (hark_test_wait_for (contact_port_known_cb,
                                     ending->profile, 5000));
  ending->subscriber_sipp = start_sipp_uac (fixture->bus, "notify-end.xml",
                                            contact_port (ending->profile));
  g_assert_true (hark_test_wait_for (has_incoming_cb, fixture, 10000));
  ending->notifier = get_subscription (fixture, fixture->bus,
                                       g_ptr_array_index (fixture->incoming, 0));
  g_assert_cmpstr (hark_dbus_subscription1_get_profile (ending->notifier), ==,
                   g_dbus_proxy_get_object_path (G_DBUS_PROXY (ending->profile)));
  hark_dbus_subscription1_call_accept_sync (ending->notifier, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (ending->notifier), "State",
                                                 "active", 5000));
  /* Let SIPp answer the first NOTIFY */
  hark_test_iterate (300);
}

static void
ending_clear (Ending *ending)
{
  g_clear_object (&ending->profile);
  g_clear_object (&ending->subscriber);
  g_clear_object (&ending->notifier);
}

/* Profile1.Delete(): the subscriber's un-SUBSCRIBE and the notifier's
 * terminated;reason=noresource go out (SIPp checks), within a bounded
 * wait, and both subscriptions leave the bus. */
static void
test_delete_profile (Fixture       *fixture,
                     gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  Ending ending = { 0 };
  g_autofree char *subscriber_path = NULL;
  g_autofree char *notifier_path = NULL;
  gint64 start;

  ending_setup (fixture, &ending);
  subscriber_path = g_strdup (g_dbus_proxy_get_object_path (G_DBUS_PROXY (ending.subscriber)));
  notifier_path = g_strdup (g_dbus_proxy_get_object_path (G_DBUS_PROXY (ending.notifier)));

  start = g_get_monotonic_time ();
  hark_dbus_profile1_call_delete_sync (ending.profile, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_get_monotonic_time () - start, <, hark_test_timeout (10000) * 1000);

  assert_sipp_passed (fixture->bus, ending.notifier_sipp, "sub-end.xml");
  assert_sipp_passed (fixture->bus, ending.subscriber_sipp, "notify-end.xml");
  hark_test_calls_assert_leaves_bus (fixture->bus, subscriber_path);
  hark_test_calls_assert_leaves_bus (fixture->bus, notifier_path);
  g_assert_cmpstr (hark_dbus_subscription1_get_state (ending.subscriber), ==, "terminated");
  g_assert_cmpstr (hark_dbus_subscription1_get_state (ending.notifier), ==, "terminated");

  /* The daemon is still fine */
  g_assert_nonnull (hark_test_bus_find_profile (fixture->bus, "local"));
  ending_clear (&ending);
}

/* SIGTERM: the same on the wire, and the daemon exits within its bound. */
static void
test_daemon_sigterm (Fixture       *fixture,
                     gconstpointer  user_data)
{
  Ending ending = { 0 };
  int wait_status = 0;

  ending_setup (fixture, &ending);

  g_assert_true (hark_test_bus_kill_daemon (fixture->bus, SIGTERM, 10000, &wait_status));
  g_assert_true (WIFEXITED (wait_status));
  g_assert_cmpint (WEXITSTATUS (wait_status), ==, 0);

  assert_sipp_passed (fixture->bus, ending.notifier_sipp, "sub-end.xml");
  assert_sipp_passed (fixture->bus, ending.subscriber_sipp, "notify-end.xml");
  ending_clear (&ending);
}

/* ------------------------------------------------------------------------ */
/* Voicemail of a registered profile                                         */

/* alice registers at Kamailio; Hark subscribes to message-summary at her
 * mwi-uri (the registrar, which relays it to the SIPp voicemail server) by
 * itself; the summary shows on the Subscription; Unregister() ends it with
 * SUBSCRIBE Expires: 0 through the registrar. */
static void
test_registrar_mwi (Fixture       *fixture,
                    gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HarkDBusProfile1) profile = NULL;
  g_autoptr(HarkDBusRegistration1) registration = NULL;
  g_autoptr(HarkDBusSubscription1) subscription = NULL;
  g_autofree char *uuid = g_uuid_string_random ();
  g_autofree char *registrar = NULL;
  g_autofree char *mwi_uri = NULL;
  g_autofree char *registration_path = NULL;
  g_autofree char *path = NULL;
  HarkTestKamailioOptions options = { 0 };
  const char * const aors[] = { "sip:alice@127.0.0.1", NULL };
  GVariantDict settings;
  HarkTestProcess *sipp;
  guint notifier_port;

  fixture->bus = hark_test_bus_new (HARK_TEST_BUS_FLAGS_KEYRING);
  sipp = start_sipp_uas (fixture->bus, "sub-mwi-registrar.xml", "127.0.0.2", &notifier_port);

  fixture->password = g_strdup_printf ("kam-%s", uuid);
  options.password = fixture->password;
  options.mwi_notifier_port = notifier_port;
  fixture->kamailio = hark_test_kamailio_start (&options, &error);
  g_assert_no_error (error);

  registrar = hark_test_kamailio_dup_uri (fixture->kamailio, "udp");
  mwi_uri = g_strdup_printf ("sip:alice@127.0.0.1:%u",
                             hark_test_kamailio_get_port (fixture->kamailio, "udp"));
  g_variant_dict_init (&settings, NULL);
  g_variant_dict_insert (&settings, "name", "s", "kam-mwi");
  g_variant_dict_insert_value (&settings, "aors", g_variant_new_strv (aors, -1));
  g_variant_dict_insert (&settings, "registrar", "s", registrar);
  g_variant_dict_insert (&settings, "transport", "s", "udp");
  g_variant_dict_insert (&settings, "expires", "u", 120);
  g_variant_dict_insert (&settings, "password", "s", fixture->password);
  g_variant_dict_insert (&settings, "mwi-uri", "s", mwi_uri);
  profile = create_profile (fixture->bus, g_variant_dict_end (&settings));
  g_assert_true (hark_test_wait_property_boolean (G_DBUS_PROXY (profile), "HasPassword", TRUE,
                                                  5000));

  /* Not registered: no voicemail subscription yet */
  hark_test_iterate (200);
  g_assert_null (wait_subscription_object (fixture->bus, "message-summary", 0));

  hark_dbus_profile1_call_register_sync (profile, &registration_path, NULL, &error);
  g_assert_no_error (error);
  registration = get_registration (fixture->bus, registration_path);
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (registration), "State",
                                                 "registered", REGISTER_TIMEOUT_MS));
  g_assert_true (hark_test_kamailio_has_binding (fixture->kamailio, "alice"));

  path = wait_subscription_object (fixture->bus, "message-summary", 5000);
  g_assert_nonnull (path);
  subscription = get_subscription (fixture, fixture->bus, path);
  g_assert_cmpstr (hark_dbus_subscription1_get_role (subscription), ==, "subscriber");
  g_assert_cmpstr (hark_dbus_subscription1_get_uri (subscription), ==, mwi_uri);
  g_assert_cmpstr (hark_dbus_subscription1_get_profile (subscription), ==,
                   g_dbus_proxy_get_object_path (G_DBUS_PROXY (profile)));

  g_assert_true (hark_test_wait_property_boolean (G_DBUS_PROXY (subscription), "MessagesWaiting",
                                                  TRUE, 10000));
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (subscription), "State", "active",
                                                 5000));
  assert_voice_messages (subscription, 2, 8, 0, 2);

  /* Unregister: the un-SUBSCRIBE (SIPp checks Expires: 0), the final NOTIFY */
  hark_dbus_registration1_call_unregister_sync (registration, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (subscription), "State",
                                                 "terminated", 10000));
  g_assert_cmpstr (hark_dbus_subscription1_get_state_reason (subscription), ==, "unsubscribed");
  assert_sipp_passed (fixture->bus, sipp, "sub-mwi-registrar.xml");
  /* Both SUBSCRIBEs went through the registrar */
  g_assert_cmpuint (hark_test_kamailio_count_requests (fixture->kamailio, "SUBSCRIBE"), >=, 2);
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (registration), "State",
                                                 "unregistered", REGISTER_TIMEOUT_MS));
  /* …and it leaves the bus */
  hark_test_calls_assert_leaves_bus (fixture->bus, path);
}

/* ------------------------------------------------------------------------ */
/* Hark ↔ Hark                                                               */

static gboolean
notified_contains_cb (gpointer user_data)
{
  Fixture *fixture = user_data;

  for (guint i = 0; i < fixture->notified->len; i++)
    if (strstr (g_ptr_array_index (fixture->notified, i), "<basic>closed</basic>") != NULL)
      return TRUE;
  return FALSE;
}

/* A subscribes to B's presence; B sees IncomingSubscription and accepts;
 * B's SetPresence() reaches A as a parsed Presence and a Notified; A's
 * Unsubscribe() ends it on both sides as "unsubscribed". */
static void
test_hark_presence (Fixture       *fixture,
                    gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HarkDBusProfile1) b_local = NULL;
  g_autoptr(HarkDBusSubscription1) subscriber = NULL;
  g_autoptr(HarkDBusSubscription1) notifier = NULL;
  g_autofree char *uri = NULL;
  g_autofree char *path = NULL;
  const char *basic;
  const char *note;

  fixture->bus = hark_test_bus_new (HARK_TEST_BUS_FLAGS_NONE);
  fixture->peer = hark_test_bus_new (HARK_TEST_BUS_FLAGS_NONE);
  g_signal_connect (hark_test_bus_get_manager (fixture->peer), "incoming-subscription",
                    G_CALLBACK (on_incoming_subscription), fixture);

  b_local = hark_test_bus_find_profile (fixture->peer, "local");
  g_assert_nonnull (b_local);
  g_assert_true (hark_test_wait_for (contact_port_known_cb, b_local, 5000));
  uri = g_strdup_printf ("sip:bob@127.0.0.1:%u", contact_port (b_local));

  hark_dbus_manager1_call_subscribe_sync (hark_test_bus_get_manager (fixture->bus), "/", uri,
                                          "presence", g_variant_new ("a{sv}", NULL), &path, NULL,
                                          &error);
  g_assert_no_error (error);
  subscriber = get_subscription (fixture, fixture->bus, path);

  /* B: the SUBSCRIBE, pending until accepted */
  g_assert_true (hark_test_wait_for (has_incoming_cb, fixture, 10000));
  notifier = get_subscription (fixture, fixture->peer, g_ptr_array_index (fixture->incoming, 0));
  g_assert_cmpstr (hark_dbus_subscription1_get_role (notifier), ==, "notifier");
  g_assert_cmpstr (hark_dbus_subscription1_get_event (notifier), ==, "presence");
  g_assert_cmpstr (hark_dbus_subscription1_get_state (notifier), ==, "pending");
  g_assert_cmpstr (hark_dbus_subscription1_get_profile (notifier), ==,
                   g_dbus_proxy_get_object_path (G_DBUS_PROXY (b_local)));
  g_assert_cmpstr (hark_dbus_subscription1_get_role (subscriber), ==, "subscriber");

  hark_dbus_subscription1_call_accept_sync (notifier, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (notifier), "State", "active",
                                                 5000));
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (subscriber), "State", "active",
                                                 5000));

  /* Let A answer the first NOTIFY before the next one. */
  hark_test_iterate (300);
  hark_dbus_profile1_call_set_presence_sync (b_local, "closed", "Busy", NULL, &error);
  g_assert_no_error (error);
  g_assert_true (hark_test_wait_property (G_DBUS_PROXY (subscriber), "Presence",
                                          g_variant_new ("(ss)", "closed", "Busy"), 5000));
  g_variant_get (hark_dbus_subscription1_get_presence (subscriber), "(&s&s)", &basic, &note);
  g_assert_cmpstr (basic, ==, "closed");
  g_assert_cmpstr (note, ==, "Busy");
  g_assert_true (hark_test_wait_for (notified_contains_cb, fixture, 5000));
  g_assert_true (g_str_has_prefix (g_ptr_array_index (fixture->notified,
                                                      fixture->notified->len - 1),
                                   "application/pidf+xml|active"));

  hark_dbus_subscription1_call_unsubscribe_sync (subscriber, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (subscriber), "State",
                                                 "terminated", 10000));
  g_assert_cmpstr (hark_dbus_subscription1_get_state_reason (subscriber), ==, "unsubscribed");
  g_assert_true (hark_test_wait_property_string (G_DBUS_PROXY (notifier), "State",
                                                 "terminated", 10000));
  g_assert_cmpstr (hark_dbus_subscription1_get_state_reason (notifier), ==, "unsubscribed");
  /* The final NOTIFY reached A's Notified */
  g_assert_nonnull (strstr (g_ptr_array_index (fixture->notified, fixture->notified->len - 1),
                            "|terminated"));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  (void) hark_error_quark ();

  g_test_add ("/hark/subscriptions/registrar/mwi", Fixture, NULL,
              fixture_setup, test_registrar_mwi, fixture_teardown);
  g_test_add ("/hark/subscriptions/end/delete-profile", Fixture, NULL,
              fixture_setup, test_delete_profile, fixture_teardown);
  g_test_add ("/hark/subscriptions/end/sigterm", Fixture, NULL,
              fixture_setup, test_daemon_sigterm, fixture_teardown);
  g_test_add ("/hark/subscriptions/hark/presence", Fixture, NULL,
              fixture_setup, test_hark_presence, fixture_teardown);

  return g_test_run ();
}
