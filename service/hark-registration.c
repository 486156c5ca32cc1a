/* hark-registration.c — a profile's binding, exported as io.github.hark.Hark.Registration1
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "Hark"

#include "config.h"

#include <string.h>

#include "hark-dbus-generated.h"
#include "hark-error.h"
#include "hark-paths.h"
#include "hark-profile.h"
#include "hark-profile-store.h"
#include "hark-registration.h"
#include "hark-secret-store.h"
#include "hark-sip-agent.h"
#include "hark-sip-register.h"

/*
 * The SIP work (REGISTER, digest, refresh, back-off) is HarkSipRegister's;
 * this object puts it on the bus. Its D-Bus properties are bound to the SIP
 * client's, so the bus shows exactly what the SIP layer knows. Settings
 * are read from the profile each time a client is made, so Update() and a
 * re-register always agree.
 */
struct _HarkRegistration
{
  GObject                 parent_instance;

  HarkProfile            *profile;      /* unowned: the profile owns us */
  HarkProfileStore       *store;        /* unowned */
  char                   *object_path;
  HarkDBusObjectSkeleton *object;
  HarkDBusRegistration1  *iface;
  HarkSipRegister        *client;
  GCancellable           *cancellable;
};

G_DEFINE_FINAL_TYPE (HarkRegistration, hark_registration, G_TYPE_OBJECT)

static const char *
get_state (HarkRegistration *self)
{
  return hark_dbus_registration1_get_state (self->iface);
}

static void
unbind_client (HarkRegistration *self)
{
  if (self->client == NULL)
    return;

  /* Bindings end with either object; drop ours by finalizing our ref. */
  g_object_set_data (G_OBJECT (self->client), "hark-bindings", NULL);
  g_clear_object (&self->client);
}

static void
free_bindings (gpointer data)
{
  GPtrArray *bindings = data;

  for (guint i = 0; i < bindings->len; i++)
    g_binding_unbind (g_ptr_array_index (bindings, i));
  g_ptr_array_unref (bindings);
}

static void
bind_client (HarkRegistration *self)
{
  static const char * const props[] = { "state", "state-reason", "status-code", "expires",
                                        "contact" };
  GPtrArray *bindings = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < G_N_ELEMENTS (props); i++)
    g_ptr_array_add (bindings,
                     g_object_ref (g_object_bind_property (self->client, props[i],
                                                           self->iface, props[i],
                                                           G_BINDING_SYNC_CREATE)));
  g_object_set_data_full (G_OBJECT (self->client), "hark-bindings", bindings, free_bindings);
}

static const char *
nonempty (const char *s)
{
  return (s != NULL && *s != '\0') ? s : NULL;
}

static const char *
auth_username (HarkDBusProfile1 *settings)
{
  /* IMS authenticates with the private identity (3GPP TS 24.229). */
  if (g_str_equal (hark_dbus_profile1_get_kind (settings), "ims") &&
      nonempty (hark_dbus_profile1_get_private_id (settings)))
    return hark_dbus_profile1_get_private_id (settings);

  return nonempty (hark_dbus_profile1_get_username (settings));
}

static void
set_failed (HarkRegistration *self,
            const char       *reason)
{
  g_object_set (self->iface, "state", "failed", "state-reason", reason, "status-code", 0,
                "expires", 0, NULL);
}

static void
start_client (HarkRegistration *self,
              const char       *password)
{
  HarkDBusProfile1 *settings = hark_profile_get_iface (self->profile);
  HarkSipRegisterConfig config = { 0 };
  g_autoptr(GError) error = NULL;
  HarkSipAgent *agent;

  unbind_client (self);

  agent = hark_profile_ensure_agent (self->profile, &error);
  if (agent == NULL)
    {
      g_warning ("Cannot register profile “%s”: %s",
                 hark_profile_get_name (self->profile), error->message);
      set_failed (self, "network");
      return;
    }

  config.aor = hark_dbus_profile1_get_aors (settings)[0];
  config.registrar = nonempty (hark_dbus_profile1_get_registrar (settings));
  config.expires = hark_dbus_profile1_get_expires (settings);
  config.username = auth_username (settings);
  config.password = password;
  config.realm = nonempty (hark_dbus_profile1_get_realm (settings));

  self->client = hark_sip_register_new (agent, &config, &error);
  if (self->client == NULL)
    {
      g_warning ("Cannot register profile “%s”: %s",
                 hark_profile_get_name (self->profile), error->message);
      set_failed (self, "rejected");
      return;
    }

  bind_client (self);
  if (!hark_sip_register_start (self->client, &error))
    {
      g_warning ("Cannot register profile “%s”: %s",
                 hark_profile_get_name (self->profile), error->message);
      unbind_client (self);
      set_failed (self, "network");
    }
}

static void
password_found_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(HarkRegistration) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *password = NULL;

  password = hark_secret_store_lookup_finish (HARK_SECRET_STORE (source), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  start_client (self, password);
  if (password != NULL)
    explicit_bzero (password, strlen (password));
}

/**
 * hark_registration_register:
 *
 * Starts registering with the profile's current settings and password,
 * unless a registration is already under way or in place.
 */
void
hark_registration_register (HarkRegistration *self)
{
  const char *state;

  g_return_if_fail (HARK_IS_REGISTRATION (self));

  state = get_state (self);
  if (g_str_equal (state, "registering") || g_str_equal (state, "registered"))
    return;

  g_object_set (self->iface, "state", "registering", "state-reason", "", NULL);
  hark_secret_store_lookup_async (hark_profile_store_get_secrets (self->store),
                                  hark_profile_get_id (self->profile), self->cancellable,
                                  password_found_cb, g_object_ref (self));
}

/**
 * hark_registration_reconfigure:
 *
 * The profile's settings changed: an active binding is removed and made
 * again with the new settings.
 */
void
hark_registration_reconfigure (HarkRegistration *self)
{
  g_return_if_fail (HARK_IS_REGISTRATION (self));

  if (g_str_equal (get_state (self), "unregistered"))
    return;

  if (self->client != NULL)
    hark_sip_register_stop (self->client, NULL);
  unbind_client (self);
  g_object_set (self->iface, "state", "unregistered", NULL);
  hark_registration_register (self);
}

void
hark_registration_network_changed (HarkRegistration *self)
{
  g_return_if_fail (HARK_IS_REGISTRATION (self));

  if (self->client != NULL)
    hark_sip_register_network_changed (self->client);
}

static gboolean
handle_unregister (HarkDBusRegistration1 *iface,
                   GDBusMethodInvocation *invocation,
                   HarkRegistration      *self)
{
  const char *state = get_state (self);
  g_autoptr(GError) error = NULL;

  if (g_str_equal (state, "unregistered") || g_str_equal (state, "unregistering") ||
      self->client == NULL)
    {
      g_dbus_method_invocation_return_error (invocation, HARK_ERROR, HARK_ERROR_INVALID_STATE,
                                             "Registration is %s; nothing to unregister", state);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }

  if (!hark_sip_register_stop (self->client, &error))
    return hark_error_return (invocation, error);
  hark_dbus_registration1_complete_unregister (iface, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_refresh (HarkDBusRegistration1 *iface,
                GDBusMethodInvocation *invocation,
                HarkRegistration      *self)
{
  const char *state = get_state (self);

  if (g_str_equal (state, "registering") || g_str_equal (state, "unregistering"))
    {
      g_dbus_method_invocation_return_error (invocation, HARK_ERROR, HARK_ERROR_INVALID_STATE,
                                             "Registration is %s; wait until it settles", state);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }

  if (g_str_equal (state, "registered") && self->client != NULL)
    {
      g_autoptr(GError) error = NULL;

      if (!hark_sip_register_refresh (self->client, &error))
        return hark_error_return (invocation, error);
    }
  else
    hark_registration_register (self);

  hark_dbus_registration1_complete_refresh (iface, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
check_credential_text (const char  *text,
                       const char  *what,
                       GError     **error)
{
  for (const char *p = text; *p != '\0'; p++)
    if (g_ascii_iscntrl (*p) || (*p == ':' && g_str_equal (what, "username")) || *p == '"')
      {
        g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT,
                     "Argument “%s” must not contain control characters, quotes%s",
                     what, g_str_equal (what, "username") ? " or colons" : "");
        return FALSE;
      }
  return TRUE;
}

static gboolean
handle_authenticate (HarkDBusRegistration1 *iface,
                     GDBusMethodInvocation *invocation,
                     const char            *username,
                     const char            *password,
                     HarkRegistration      *self)
{
  g_autoptr(GError) error = NULL;
  const char *user;

  if (!g_str_equal (get_state (self), "failed") ||
      !g_str_equal (hark_dbus_registration1_get_state_reason (iface), "auth-failed") ||
      self->client == NULL)
    {
      g_dbus_method_invocation_return_error (invocation, HARK_ERROR, HARK_ERROR_INVALID_STATE,
                                             "Registration is %s, not failed with auth-failed; "
                                             "Authenticate() only answers a rejected challenge",
                                             get_state (self));
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }

  if (*password == '\0')
    return hark_error_return_new (invocation, HARK_ERROR_INVALID_ARGUMENT,
                                  "Argument “password” must not be empty");

  if (!check_credential_text (username, "username", &error) ||
      !check_credential_text (password, "password", &error))
    return hark_error_return (invocation, error);

  user = *username ? username : auth_username (hark_profile_get_iface (self->profile));
  if (!hark_sip_register_authenticate (self->client, user, password, &error))
    return hark_error_return (invocation, error);
  hark_dbus_registration1_complete_authenticate (iface, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
hark_registration_dispose (GObject *object)
{
  HarkRegistration *self = (HarkRegistration *) object;

  g_cancellable_cancel (self->cancellable);
  unbind_client (self);
  if (self->object != NULL)
    g_dbus_object_manager_server_unexport (hark_profile_store_get_server (self->store),
                                           self->object_path);
  if (self->iface != NULL)
    g_signal_handlers_disconnect_by_data (self->iface, self);
  g_clear_object (&self->iface);
  g_clear_object (&self->object);
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (hark_registration_parent_class)->dispose (object);
}

static void
hark_registration_finalize (GObject *object)
{
  HarkRegistration *self = (HarkRegistration *) object;

  g_free (self->object_path);

  G_OBJECT_CLASS (hark_registration_parent_class)->finalize (object);
}

static void
hark_registration_class_init (HarkRegistrationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = hark_registration_dispose;
  object_class->finalize = hark_registration_finalize;
}

static void
hark_registration_init (HarkRegistration *self)
{
  self->cancellable = g_cancellable_new ();
  self->iface = hark_dbus_registration1_skeleton_new ();
  g_object_set (self->iface, "state", "unregistered", "state-reason", "", "status-code", 0,
                "expires", 0, "contact", "", NULL);

  g_signal_connect (self->iface, "handle-unregister", G_CALLBACK (handle_unregister), self);
  g_signal_connect (self->iface, "handle-refresh", G_CALLBACK (handle_refresh), self);
  g_signal_connect (self->iface, "handle-authenticate", G_CALLBACK (handle_authenticate), self);
}

/**
 * hark_registration_new:
 * @profile: the profile to register
 * @store: its store, through which the object is exported
 *
 * Returns: (transfer full): an exported, unregistered registration
 */
HarkRegistration *
hark_registration_new (HarkProfile      *profile,
                       HarkProfileStore *store)
{
  HarkRegistration *self;

  g_return_val_if_fail (HARK_IS_PROFILE (profile), NULL);
  g_return_val_if_fail (HARK_IS_PROFILE_STORE (store), NULL);

  self = g_object_new (HARK_TYPE_REGISTRATION, NULL);
  self->profile = profile;
  self->store = store;
  self->object_path = hark_path_next ("Registration");
  hark_dbus_registration1_set_profile (self->iface, hark_profile_get_object_path (profile));
  self->object = hark_dbus_object_skeleton_new (self->object_path);
  hark_dbus_object_skeleton_set_registration1 (self->object, self->iface);
  g_dbus_object_manager_server_export (hark_profile_store_get_server (store),
                                       G_DBUS_OBJECT_SKELETON (self->object));
  return self;
}

const char *
hark_registration_get_object_path (HarkRegistration *self)
{
  g_return_val_if_fail (HARK_IS_REGISTRATION (self), NULL);
  return self->object_path;
}

static void
client_stopped_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;

  hark_sip_register_stop_finish (HARK_SIP_REGISTER (source), result, NULL);
  g_task_return_boolean (task, TRUE);
}

/**
 * hark_registration_stop_async:
 *
 * Removes the binding, waiting a bounded time for the registrar's answer,
 * for profile deletion and daemon shutdown.
 */
void
hark_registration_stop_async (HarkRegistration    *self,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (HARK_IS_REGISTRATION (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, hark_registration_stop_async);
  g_cancellable_cancel (self->cancellable);

  if (self->client == NULL)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }

  hark_sip_register_stop_async (self->client, cancellable, client_stopped_cb,
                                g_steal_pointer (&task));
}

gboolean
hark_registration_stop_finish (HarkRegistration  *self,
                               GAsyncResult      *result,
                               GError           **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
