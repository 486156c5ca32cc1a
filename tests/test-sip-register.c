/* test-sip-register.c
 *
 * HarkSipRegister and HarkSipAgent against a real Kamailio, without D-Bus.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

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
G_GNUC_UNUSED static void
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

  ret = g_test_run ();

  hark_sip_root_shutdown ();

  return ret;
}
