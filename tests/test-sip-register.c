/* test-sip-register.c
 *
 * HarkSipRegister and HarkSipAgent against a real Kamailio, without D-Bus.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/soa_tag.h>

#include "hark-error.h"
#include "hark-sip-agent.h"
#include "hark-sip-register.h"
#include "hark-test-kamailio.h"

#define PASSWORD "secret"

typedef struct {
  HarkTestKamailio *kamailio;
  HarkSipAgent     *agent;
  HarkSipRegister  *reg;
} Fixture;

static double
timeout_scale (void)
{
  const char *env = g_getenv ("HARK_TEST_TIMEOUT_SCALE");
  double scale = env != NULL ? g_ascii_strtod (env, NULL) : 1.0;

  return scale >= 1.0 ? scale : 1.0;
}

static gboolean
flag_cb (gpointer user_data)
{
  gboolean *flag = user_data;

  *flag = TRUE;
  return G_SOURCE_REMOVE;
}

typedef gboolean (*ConditionFunc) (gpointer user_data);

/* Runs the main loop until @condition holds or @seconds pass */
static gboolean
wait_until (ConditionFunc condition,
            gpointer      user_data,
            double        seconds)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add ((guint) (seconds * 1000 * timeout_scale ()), flag_cb, &timed_out);

  while (!condition (user_data) && !timed_out)
    g_main_context_iteration (NULL, TRUE);

  if (!timed_out)
    g_source_remove (id);

  return condition (user_data);
}

/* Runs the main loop for @seconds */
static void
spin (double seconds)
{
  gboolean done = FALSE;

  g_timeout_add ((guint) (seconds * 1000), flag_cb, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
}

typedef struct {
  HarkSipRegister *reg;
  const char      *state;
} StateWait;

static gboolean
state_reached (gpointer user_data)
{
  StateWait *wait = user_data;

  return g_strcmp0 (hark_sip_register_get_state (wait->reg), wait->state) == 0;
}

static void
assert_state_within (HarkSipRegister *reg,
                     const char      *state,
                     double           seconds)
{
  StateWait wait = { reg, state };

  if (!wait_until (state_reached, &wait, seconds))
    g_error ("%s: state %s (%s, %u), expected %s within %.1f s",
             hark_sip_register_get_aor (reg),
             hark_sip_register_get_state (reg),
             hark_sip_register_get_state_reason (reg),
             hark_sip_register_get_status_code (reg),
             state, seconds);
}

static void
start_kamailio (Fixture                       *fixture,
                const HarkTestKamailioOptions *options)
{
  g_autoptr(GError) error = NULL;

  fixture->kamailio = hark_test_kamailio_start (options, &error);
  g_assert_no_error (error);
}

static void
make_agent (Fixture    *fixture,
            const char *transport,
            const char *ca_file)
{
  HarkSipAgentConfig config = {
    .transport = transport,
    .ca_file = ca_file,
  };
  g_autoptr(GError) error = NULL;

  fixture->agent = hark_sip_agent_new (&config, &error);
  g_assert_no_error (error);
  g_assert_nonnull (fixture->agent);
  g_assert_cmpuint (hark_sip_agent_get_port (fixture->agent), >, 0);
}

static HarkSipRegister *
make_register (Fixture    *fixture,
               const char *user,
               const char *transport,
               const char *password,
               guint       expires)
{
  g_autofree char *aor = g_strdup_printf ("sip:%s@127.0.0.1", user);
  g_autofree char *registrar = hark_test_kamailio_dup_uri (fixture->kamailio, transport);
  HarkSipRegisterConfig config = {
    .aor = aor,
    .registrar = registrar,
    .expires = expires,
    .password = password,
  };
  g_autoptr(GError) error = NULL;
  HarkSipRegister *reg;

  reg = hark_sip_register_new (fixture->agent, &config, &error);
  g_assert_no_error (error);
  g_assert_nonnull (reg);
  g_assert_cmpstr (hark_sip_register_get_state (reg), ==, "unregistered");

  return reg;
}

static void
shutdown_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  gboolean *done = user_data;
  g_autoptr(GError) error = NULL;

  hark_sip_agent_shutdown_finish (HARK_SIP_AGENT (object), result, &error);
  g_assert_no_error (error);
  *done = TRUE;
}

static gboolean
flag_set (gpointer user_data)
{
  return *(gboolean *) user_data;
}

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  data)
{
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  data)
{
  if (fixture->reg != NULL)
    g_assert_finalize_object (g_steal_pointer (&fixture->reg));

  if (fixture->agent != NULL)
    {
      gboolean done = FALSE;

      hark_sip_agent_shutdown_async (fixture->agent, NULL, shutdown_cb, &done);
      g_assert_true (wait_until (flag_set, &done, 6));
      g_assert_finalize_object (g_steal_pointer (&fixture->agent));
    }

  g_clear_pointer (&fixture->kamailio, hark_test_kamailio_free);
}

/* ------------------------------------------------------------------------ */

static void
check_registered (Fixture    *fixture,
                  const char *user)
{
  HarkSipRegister *reg = fixture->reg;
  g_autofree char *contact_user = g_strdup_printf ("sip:%s@", user);

  g_assert_cmpstr (hark_sip_register_get_state_reason (reg), ==, "");
  g_assert_cmpuint (hark_sip_register_get_status_code (reg), ==, 200);
  g_assert_cmpuint (hark_sip_register_get_expires (reg), >, 0);
  g_assert_true (g_str_has_prefix (hark_sip_register_get_contact (reg), contact_user));
  g_assert_true (hark_test_kamailio_has_binding (fixture->kamailio, user));
}

static void
check_unregister (Fixture    *fixture,
                  const char *user)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (hark_sip_register_stop (fixture->reg, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (hark_sip_register_get_state (fixture->reg), ==, "unregistering");
  assert_state_within (fixture->reg, "unregistered", 5);
  g_assert_cmpstr (hark_sip_register_get_state_reason (fixture->reg), ==, "requested");
  g_assert_cmpuint (hark_sip_register_get_expires (fixture->reg), ==, 0);
  g_assert_cmpstr (hark_sip_register_get_contact (fixture->reg), ==, "");
  g_assert_false (hark_test_kamailio_has_binding (fixture->kamailio, user));

  /* a second stop is an error the D-Bus layer reports as InvalidState */
  g_assert_false (hark_sip_register_stop (fixture->reg, &error));
  g_assert_error (error, HARK_ERROR, HARK_ERROR_INVALID_STATE);
}

static void
test_register_md5 (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  start_kamailio (fixture, NULL);
  make_agent (fixture, "udp", NULL);
  fixture->reg = make_register (fixture, "alice", "udp", PASSWORD, 0);

  g_assert_true (hark_sip_register_start (fixture->reg, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (hark_sip_register_get_state (fixture->reg), ==, "registering");
  assert_state_within (fixture->reg, "registered", 5);
  check_registered (fixture, "alice");
  g_assert_cmpuint (hark_sip_register_get_expires (fixture->reg), <=, 3600);

  check_unregister (fixture, "alice");
}

static void
test_register_sha256 (Fixture       *fixture,
                      gconstpointer  data)
{
  HarkTestKamailioOptions options = { .algorithm = "SHA-256" };
  g_autoptr(GError) error = NULL;

  start_kamailio (fixture, &options);
  make_agent (fixture, "udp", NULL);
  fixture->reg = make_register (fixture, "bob", "udp", PASSWORD, 0);

  g_assert_true (hark_sip_register_start (fixture->reg, &error));
  assert_state_within (fixture->reg, "registered", 5);
  check_registered (fixture, "bob");

  /* the un-REGISTER is challenged too and needs a fresh answer */
  check_unregister (fixture, "bob");
}


static void
test_wrong_password (Fixture       *fixture,
                     gconstpointer  data)
{
  HarkTestKamailioOptions options = { .algorithm = data };
  g_autoptr(GError) error = NULL;

  start_kamailio (fixture, &options);
  make_agent (fixture, "udp", NULL);
  fixture->reg = make_register (fixture, "carol", "udp", "wrong", 0);

  /* authenticate() is only for a registration waiting for credentials */
  g_assert_false (hark_sip_register_authenticate (fixture->reg, NULL, PASSWORD, &error));
  g_assert_error (error, HARK_ERROR, HARK_ERROR_INVALID_STATE);
  g_clear_error (&error);

  g_assert_true (hark_sip_register_start (fixture->reg, &error));
  assert_state_within (fixture->reg, "failed", 5);
  g_assert_cmpstr (hark_sip_register_get_state_reason (fixture->reg), ==, "auth-failed");
  g_assert_cmpuint (hark_sip_register_get_status_code (fixture->reg), ==, 401);
  g_assert_cmpuint (hark_sip_register_get_expires (fixture->reg), ==, 0);

  /* one REGISTER, one answer to the challenge, and then nothing: no loop,
   * no back-off retry with credentials known to be wrong */
  spin (1.5);
  g_assert_cmpstr (hark_sip_register_get_state (fixture->reg), ==, "failed");
  g_assert_cmpuint (hark_sip_register_get_requests_sent (fixture->reg), ==, 2);
  g_assert_cmpuint (hark_test_kamailio_count_requests (fixture->kamailio, "REGISTER"), ==, 2);
  g_assert_false (hark_test_kamailio_has_binding (fixture->kamailio, "carol"));

  g_assert_false (hark_sip_register_authenticate (fixture->reg, NULL, "", &error));
  g_assert_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  g_assert_true (hark_sip_register_authenticate (fixture->reg, NULL, PASSWORD, &error));
  g_assert_no_error (error);
  assert_state_within (fixture->reg, "registered", 5);
  check_registered (fixture, "carol");
}

static void
test_no_password (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  start_kamailio (fixture, NULL);
  make_agent (fixture, "udp", NULL);
  fixture->reg = make_register (fixture, "dave", "udp", NULL, 0);

  g_assert_true (hark_sip_register_start (fixture->reg, &error));
  assert_state_within (fixture->reg, "failed", 5);
  g_assert_cmpstr (hark_sip_register_get_state_reason (fixture->reg), ==, "auth-failed");
  g_assert_cmpuint (hark_sip_register_get_status_code (fixture->reg), ==, 401);

  spin (1.0);
  g_assert_cmpuint (hark_test_kamailio_count_requests (fixture->kamailio, "REGISTER"), ==, 1);

  g_assert_true (hark_sip_register_authenticate (fixture->reg, "dave", PASSWORD, &error));
  assert_state_within (fixture->reg, "registered", 5);
  check_registered (fixture, "dave");
}

static void
test_register_tcp (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  start_kamailio (fixture, NULL);
  make_agent (fixture, "tcp", NULL);
  fixture->reg = make_register (fixture, "erin", "tcp", PASSWORD, 0);

  g_assert_true (hark_sip_register_start (fixture->reg, &error));
  assert_state_within (fixture->reg, "registered", 5);
  check_registered (fixture, "erin");
  g_assert_nonnull (strstr (hark_sip_register_get_contact (fixture->reg), ";transport=tcp"));

  check_unregister (fixture, "erin");
}

static void
test_register_tls (Fixture       *fixture,
                   gconstpointer  data)
{
  HarkTestKamailioOptions options = { .tls = TRUE };
  g_autoptr(GError) error = NULL;

  start_kamailio (fixture, &options);
  make_agent (fixture, "tls", hark_test_kamailio_get_ca_file (fixture->kamailio));
  fixture->reg = make_register (fixture, "frank", "tls", PASSWORD, 0);

  g_assert_true (hark_sip_register_start (fixture->reg, &error));
  assert_state_within (fixture->reg, "registered", 5);
  check_registered (fixture, "frank");
  g_assert_nonnull (strstr (hark_sip_register_get_contact (fixture->reg), ";transport=tls"));

  check_unregister (fixture, "frank");
}

static void
test_tls_unknown_ca (Fixture       *fixture,
                     gconstpointer  data)
{
  HarkTestKamailioOptions options = { .tls = TRUE };
  g_autoptr(GError) error = NULL;
  gint64 start;

  start_kamailio (fixture, &options);
  make_agent (fixture, "tls", hark_test_kamailio_get_other_ca_file (fixture->kamailio));
  fixture->reg = make_register (fixture, "grace", "tls", PASSWORD, 0);

  start = g_get_monotonic_time ();
  g_assert_true (hark_sip_register_start (fixture->reg, &error));
  assert_state_within (fixture->reg, "failed", 3);
  g_assert_cmpstr (hark_sip_register_get_state_reason (fixture->reg), ==, "tls-verify-failed");
  g_assert_cmpint (g_get_monotonic_time () - start, <, 3 * G_USEC_PER_SEC * timeout_scale ());

  /* needs the user: no retry */
  spin (1.0);
  g_assert_cmpstr (hark_sip_register_get_state (fixture->reg), ==, "failed");
  g_assert_cmpuint (hark_test_kamailio_count_requests (fixture->kamailio, "REGISTER"), ==, 0);
}

static void
test_registrar_down (Fixture       *fixture,
                     gconstpointer  data)
{
  const char *transport = data;
  g_autoptr(GError) error = NULL;
  const char *reason;

  start_kamailio (fixture, NULL);
  g_assert_true (hark_test_kamailio_stop (fixture->kamailio, &error));
  g_assert_no_error (error);

  make_agent (fixture, transport, NULL);
  fixture->reg = make_register (fixture, "heidi", transport, PASSWORD, 0);
  g_object_set (fixture->reg, "retry-base", 500, NULL);

  g_assert_true (hark_sip_register_start (fixture->reg, &error));
  assert_state_within (fixture->reg, "failed", 5);
  reason = hark_sip_register_get_state_reason (fixture->reg);
  g_assert_true (g_str_equal (reason, "network") || g_str_equal (reason, "timeout"));
  g_test_message ("registrar down over %s: %s, %u", transport, reason,
                  hark_sip_register_get_status_code (fixture->reg));

  /* back-off retries find it again once it is back */
  spin (1.0);
  g_assert_true (hark_test_kamailio_restart (fixture->kamailio, &error));
  g_assert_no_error (error);
  assert_state_within (fixture->reg, "registered", 10);
  check_registered (fixture, "heidi");
}

typedef struct {
  HarkTestKamailio *kamailio;
  guint             count;
} CountWait;

static gboolean
registers_reached (gpointer user_data)
{
  CountWait *wait = user_data;

  return hark_test_kamailio_count_requests (wait->kamailio, "REGISTER") >= wait->count;
}

static void
on_notify_state (HarkSipRegister *reg,
                 GParamSpec      *pspec,
                 guint           *changes)
{
  (*changes)++;
}

/* nua refreshes the binding itself; with one-time nonces each refresh is
 * challenged again, which SHA-256 (computed by us) must answer afresh */
static void
test_refresh (Fixture       *fixture,
              gconstpointer  data)
{
  HarkTestKamailioOptions options = {
    .algorithm = data,
    .max_expires = 4,
    .one_time_nonce = TRUE,
  };
  g_autoptr(GError) error = NULL;
  CountWait wait;
  guint state_changes = 0;

  start_kamailio (fixture, &options);
  make_agent (fixture, "udp", NULL);
  fixture->reg = make_register (fixture, "ivan", "udp", PASSWORD, 60);

  g_assert_true (hark_sip_register_start (fixture->reg, &error));
  assert_state_within (fixture->reg, "registered", 5);
  check_registered (fixture, "ivan");
  /* the registrar's word, not what we asked for */
  g_assert_cmpuint (hark_sip_register_get_expires (fixture->reg), ==, 4);

  g_signal_connect (fixture->reg, "notify::state", G_CALLBACK (on_notify_state), &state_changes);

  wait.kamailio = fixture->kamailio;
  wait.count = hark_test_kamailio_count_requests (fixture->kamailio, "REGISTER") + 2;
  g_assert_true (wait_until (registers_reached, &wait, 8));
  spin (0.5);

  g_assert_cmpstr (hark_sip_register_get_state (fixture->reg), ==, "registered");
  g_assert_cmpuint (state_changes, ==, 0);
  g_assert_cmpuint (hark_sip_register_get_expires (fixture->reg), ==, 4);
  g_assert_true (hark_test_kamailio_has_binding (fixture->kamailio, "ivan"));

  /* a second refresh round still works, and outlives the first binding */
  wait.count += 2;
  g_assert_true (wait_until (registers_reached, &wait, 8));
  spin (0.5);
  g_assert_cmpstr (hark_sip_register_get_state (fixture->reg), ==, "registered");
  g_assert_true (hark_test_kamailio_has_binding (fixture->kamailio, "ivan"));

  check_unregister (fixture, "ivan");
}

static void
stop_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  gboolean *done = user_data;
  g_autoptr(GError) error = NULL;

  g_assert_true (hark_sip_register_stop_finish (HARK_SIP_REGISTER (object), result, &error));
  g_assert_no_error (error);
  *done = TRUE;
}

static void
test_stop_async (Fixture       *fixture,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  gboolean done = FALSE;
  gint64 start;

  start_kamailio (fixture, NULL);
  make_agent (fixture, "udp", NULL);
  fixture->reg = make_register (fixture, "judy", "udp", PASSWORD, 0);

  g_assert_true (hark_sip_register_start (fixture->reg, &error));
  assert_state_within (fixture->reg, "registered", 5);

  hark_sip_register_stop_async (fixture->reg, NULL, stop_cb, &done);
  g_assert_true (wait_until (flag_set, &done, 3));
  g_assert_cmpstr (hark_sip_register_get_state (fixture->reg), ==, "unregistered");
  g_assert_cmpstr (hark_sip_register_get_state_reason (fixture->reg), ==, "requested");
  g_assert_false (hark_test_kamailio_has_binding (fixture->kamailio, "judy"));

  /* with the registrar gone, it still ends, in about 2 s */
  g_assert_true (hark_sip_register_start (fixture->reg, &error));
  assert_state_within (fixture->reg, "registered", 5);
  g_assert_true (hark_test_kamailio_stop (fixture->kamailio, &error));

  done = FALSE;
  start = g_get_monotonic_time ();
  hark_sip_register_stop_async (fixture->reg, NULL, stop_cb, &done);
  g_assert_true (wait_until (flag_set, &done, 4));
  g_assert_cmpint (g_get_monotonic_time () - start, <, 3 * G_USEC_PER_SEC * timeout_scale ());
  g_assert_cmpstr (hark_sip_register_get_state (fixture->reg), ==, "unregistered");

  /* already unregistered: at once */
  done = FALSE;
  hark_sip_register_stop_async (fixture->reg, NULL, stop_cb, &done);
  g_assert_true (wait_until (flag_set, &done, 1));
}

static void
test_agent_port_in_use (void)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GInetAddress) any = g_inet_address_new_any (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (any, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(HarkSipAgent) agent = NULL;
  g_autoptr(GError) error = NULL;
  HarkSipAgentConfig config = { .transport = "udp" };

  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
                         G_SOCKET_PROTOCOL_UDP, &error);
  g_assert_no_error (error);
  g_assert_true (g_socket_bind (socket, address, FALSE, &error));
  bound = g_socket_get_local_address (socket, &error);
  config.port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));

  agent = hark_sip_agent_new (&config, &error);
  g_assert_error (error, HARK_ERROR, HARK_ERROR_FAILED);
  g_assert_null (agent);
  g_clear_error (&error);

  config.port_fallback = TRUE;
  agent = hark_sip_agent_new (&config, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (hark_sip_agent_get_port (agent), !=, config.port);
  g_assert_cmpuint (hark_sip_agent_get_port (agent), !=, 0);

  config.transport = "carrier-pigeon";
  g_assert_null (hark_sip_agent_new (&config, &error));
  g_assert_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT);
  /* disposed without shutdown_async(): must still be clean */
}

static void
test_agent_contact (void)
{
  g_autoptr(HarkSipAgent) agent = NULL;
  g_autoptr(GError) error = NULL;
  HarkSipAgentConfig config = { .transport = "tcp", .bind_address = "127.0.0.1" };
  g_autofree char *expected = NULL;
  g_autofree char *contact = NULL;

  agent = hark_sip_agent_new (&config, &error);
  g_assert_no_error (error);

  expected = g_strdup_printf ("sip:alice@127.0.0.1:%u;transport=tcp",
                              hark_sip_agent_get_port (agent));
  contact = hark_sip_agent_get_contact_uri (agent, "alice");
  g_assert_cmpstr (contact, ==, expected);
}

typedef struct {
  nua_event_t event;
  int         status;
} Response;

static void
response_cb (HarkSipAgent *agent,
             nua_event_t   event,
             int           status,
             const char   *phrase,
             nua_handle_t *nh,
             const sip_t  *sip,
             tagi_t        tags[],
             gpointer      user_data)
{
  Response *response = user_data;

  if ((event == nua_r_invite || event == nua_r_subscribe) && status >= 200)
    {
      response->event = event;
      response->status = status;
    }
}

static gboolean
response_arrived (gpointer user_data)
{
  Response *response = user_data;

  return response->status != 0;
}

static gboolean
on_incoming_request (HarkSipAgent *agent,
                     int           event,
                     gpointer      nh,
                     gpointer      sip,
                     guint        *seen)
{
  (*seen)++;

  if (event != nua_i_subscribe || GPOINTER_TO_INT (g_object_get_data (G_OBJECT (agent), "decline")) == 0)
    return FALSE;

  /* taken: answered by us */
  nua_respond (nh, SIP_486_BUSY_HERE,
               NUTAG_WITH_THIS (hark_sip_agent_get_nua (agent)), TAG_END ());
  nua_handle_destroy (nh);
  return TRUE;
}

static void
shutdown_agent (HarkSipAgent *agent)
{
  gboolean done = FALSE;

  hark_sip_agent_shutdown_async (agent, NULL, shutdown_cb, &done);
  g_assert_true (wait_until (flag_set, &done, 6));
}

/* Requests for no handle of ours go to ::incoming-request; unhandled
 * INVITEs get 480, and nothing leaks or crashes */
static void
test_agent_incoming (void)
{
  HarkSipAgentConfig config = { .transport = "udp", .bind_address = "127.0.0.1" };
  g_autoptr(HarkSipAgent) callee = NULL;
  g_autoptr(HarkSipAgent) caller = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *target = NULL;
  Response response = { 0 };
  nua_handle_t *nh;
  guint seen = 0;

  callee = hark_sip_agent_new (&config, &error);
  g_assert_no_error (error);
  caller = hark_sip_agent_new (&config, &error);
  g_assert_no_error (error);
  g_signal_connect (callee, "incoming-request", G_CALLBACK (on_incoming_request), &seen);
  /* nua itself answers 489 to events not in Allow-Events */
  nua_set_params (hark_sip_agent_get_nua (callee), SIPTAG_ALLOW_EVENTS_STR ("presence"), TAG_END ());

  target = hark_sip_agent_get_contact_uri (callee, "bob");

  nh = hark_sip_agent_create_handle (caller, response_cb, &response,
                                     NUTAG_URL (target), SIPTAG_TO_STR (target), TAG_END ());
  g_assert_nonnull (nh);
  nua_invite (nh,
              SOATAG_USER_SDP_STR ("v=0\r\n"
                                   "o=- 1 1 IN IP4 127.0.0.1\r\n"
                                   "s=-\r\n"
                                   "c=IN IP4 127.0.0.1\r\n"
                                   "t=0 0\r\n"
                                   "m=audio 5004 RTP/AVP 0\r\n"),
              TAG_END ());
  g_assert_true (wait_until (response_arrived, &response, 5));
  g_assert_cmpint (response.event, ==, nua_r_invite);
  g_assert_cmpint (response.status, ==, 480);
  g_assert_cmpuint (seen, ==, 1);
  hark_sip_agent_destroy_handle (caller, nh);

  /* unhandled SUBSCRIBE: 480 too */
  memset (&response, 0, sizeof response);
  nh = hark_sip_agent_create_handle (caller, response_cb, &response,
                                     NUTAG_URL (target), SIPTAG_TO_STR (target), TAG_END ());
  nua_subscribe (nh, SIPTAG_EVENT_STR ("presence"), TAG_END ());
  g_assert_true (wait_until (response_arrived, &response, 5));
  g_assert_cmpint (response.event, ==, nua_r_subscribe);
  g_assert_cmpint (response.status, ==, 480);
  g_assert_cmpuint (seen, ==, 2);
  hark_sip_agent_destroy_handle (caller, nh);

  /* a handler that takes the request answers it itself */
  g_object_set_data (G_OBJECT (callee), "decline", GINT_TO_POINTER (1));
  memset (&response, 0, sizeof response);
  nh = hark_sip_agent_create_handle (caller, response_cb, &response,
                                     NUTAG_URL (target), SIPTAG_TO_STR (target), TAG_END ());
  nua_subscribe (nh, SIPTAG_EVENT_STR ("presence"), TAG_END ());
  g_assert_true (wait_until (response_arrived, &response, 5));
  g_assert_cmpint (response.event, ==, nua_r_subscribe);
  g_assert_cmpint (response.status, ==, 486);
  g_assert_cmpuint (seen, ==, 3);
  hark_sip_agent_destroy_handle (caller, nh);

  shutdown_agent (caller);
  shutdown_agent (callee);
  g_assert_true (hark_sip_agent_is_shut_down (caller));
  g_assert_null (hark_sip_agent_create_handle (caller, response_cb, NULL, TAG_END ()));
}

/* Shutting the agent down un-REGISTERs what is registered */
static void
test_agent_shutdown (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  gboolean done = FALSE;

  start_kamailio (fixture, NULL);
  make_agent (fixture, "udp", NULL);
  fixture->reg = make_register (fixture, "kim", "udp", PASSWORD, 0);

  g_assert_true (hark_sip_register_start (fixture->reg, &error));
  assert_state_within (fixture->reg, "registered", 5);
  g_assert_true (hark_test_kamailio_has_binding (fixture->kamailio, "kim"));

  hark_sip_agent_shutdown_async (fixture->agent, NULL, shutdown_cb, &done);
  g_assert_cmpstr (hark_sip_register_get_state (fixture->reg), ==, "unregistered");
  g_assert_cmpstr (hark_sip_register_get_state_reason (fixture->reg), ==, "shutdown");
  g_assert_true (wait_until (flag_set, &done, 6));
  g_assert_false (hark_test_kamailio_has_binding (fixture->kamailio, "kim"));

  g_assert_false (hark_sip_register_start (fixture->reg, &error));
  g_assert_error (error, HARK_ERROR, HARK_ERROR_INVALID_STATE);
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  g_test_init (&argc, &argv, NULL);

  g_test_add ("/hark/sip/register/md5", Fixture, NULL,
              fixture_setup, test_register_md5, fixture_teardown);
  g_test_add ("/hark/sip/register/sha256", Fixture, NULL,
              fixture_setup, test_register_sha256, fixture_teardown);

  g_test_add ("/hark/sip/register/wrong-password/md5", Fixture, "MD5",
              fixture_setup, test_wrong_password, fixture_teardown);
  g_test_add ("/hark/sip/register/wrong-password/sha256", Fixture, "SHA-256",
              fixture_setup, test_wrong_password, fixture_teardown);
  g_test_add ("/hark/sip/register/no-password", Fixture, NULL,
              fixture_setup, test_no_password, fixture_teardown);
  g_test_add ("/hark/sip/register/tcp", Fixture, NULL,
              fixture_setup, test_register_tcp, fixture_teardown);
  g_test_add ("/hark/sip/register/tls", Fixture, NULL,
              fixture_setup, test_register_tls, fixture_teardown);
  g_test_add ("/hark/sip/register/tls-unknown-ca", Fixture, NULL,
              fixture_setup, test_tls_unknown_ca, fixture_teardown);
  g_test_add ("/hark/sip/register/registrar-down/udp", Fixture, "udp",
              fixture_setup, test_registrar_down, fixture_teardown);
  g_test_add ("/hark/sip/register/registrar-down/tcp", Fixture, "tcp",
              fixture_setup, test_registrar_down, fixture_teardown);
  g_test_add ("/hark/sip/register/refresh/md5", Fixture, "MD5",
              fixture_setup, test_refresh, fixture_teardown);
  g_test_add ("/hark/sip/register/refresh/sha256", Fixture, "SHA-256",
              fixture_setup, test_refresh, fixture_teardown);
  g_test_add ("/hark/sip/register/stop-async", Fixture, NULL,
              fixture_setup, test_stop_async, fixture_teardown);
  g_test_add ("/hark/sip/agent/shutdown", Fixture, NULL,
              fixture_setup, test_agent_shutdown, fixture_teardown);
  g_test_add_func ("/hark/sip/agent/port-in-use", test_agent_port_in_use);
  g_test_add_func ("/hark/sip/agent/contact", test_agent_contact);
  g_test_add_func ("/hark/sip/agent/incoming", test_agent_incoming);

  ret = g_test_run ();

  hark_sip_root_shutdown ();

  return ret;
}
