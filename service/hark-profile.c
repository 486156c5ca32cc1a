/* hark-profile.c — one SIP account, exported as io.github.hark.Hark.Profile1
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "Hark"

#include "config.h"

#include <ifaddrs.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <string.h>

#include "hark-error.h"
#include "hark-paths.h"
#include "hark-profile.h"
#include "hark-profile-store.h"
#include "hark-registration.h"
#include "hark-secret-store.h"
#include "hark-sip-agent.h"
#include "hark-subscription-manager.h"
#include "hark-uri.h"

/*
 * The generated Profile1 skeleton is where the settings live: its GObject
 * properties are the D-Bus properties, so every change is announced with
 * PropertiesChanged without a second copy to keep in sync. This file adds
 * validation, persistence and the method handlers.
 */
struct _HarkProfile
{
  GObject                 parent_instance;

  HarkProfileStore       *store;          /* unowned: the store owns us */
  char                   *id;
  char                   *object_path;
  HarkDBusObjectSkeleton *object;
  HarkDBusProfile1       *iface;
  HarkRegistration       *registration;
  HarkSipAgent           *agent;
  GCancellable           *cancellable;
  guint                   password_serial;  /* bumped by every password change */
};

G_DEFINE_FINAL_TYPE (HarkProfile, hark_profile, G_TYPE_OBJECT)

enum {
  SIGNAL_AGENT_CREATED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

typedef enum {
  VALUE_NAME,
  VALUE_CHOICE,
  VALUE_URI,
  VALUE_AORS,
  VALUE_CREDENTIAL,
  VALUE_BOOL,
  VALUE_UINT,
  VALUE_IFNAME,
  VALUE_PATH,
} ValueKind;

typedef struct
{
  const char         *key;       /* a{sv} key and key file key */
  const char         *property;  /* property of the Profile1 skeleton */
  const char         *type;      /* GVariant type string */
  ValueKind           kind;
  const char * const *choices;
  guint               min;
  guint               max;
} Setting;

static const char * const kinds[] = { "ietf", "ims", "other", NULL };
static const char * const transports[] = { "udp", "tcp", "tls", NULL };
static const char * const negotiations[] = { "none", "digest", "tls", "ipsec-3gpp", NULL };
static const char * const encryptions[] = { "none", "optional", "required", NULL };

static const Setting settings_table[] = {
  { "name", "name", "s", VALUE_NAME },
  { "kind", "kind", "s", VALUE_CHOICE, kinds },
  { "aors", "aors", "as", VALUE_AORS },
  { "registrar", "registrar", "s", VALUE_URI },
  { "outbound-proxy", "outbound-proxy", "s", VALUE_URI },
  { "username", "username", "s", VALUE_CREDENTIAL },
  { "realm", "realm", "s", VALUE_CREDENTIAL },
  { "private-id", "private-id", "s", VALUE_CREDENTIAL },
  { "auto-register", "auto-register", "b", VALUE_BOOL },
  { "transport", "transport", "s", VALUE_CHOICE, transports },
  { "network-interface", "network-interface", "s", VALUE_IFNAME },
  { "security-negotiation", "security-negotiation", "s", VALUE_CHOICE, negotiations },
  { "sigcomp", "sig-comp", "b", VALUE_BOOL },
  { "expires", "expires", "u", VALUE_UINT, NULL, 60, 86400 },
  { "ca-file", "ca-file", "s", VALUE_PATH },
  { "auto-answer", "auto-answer", "u", VALUE_UINT, NULL, 0, 60000 },
  { "mwi-uri", "mwi-uri", "s", VALUE_URI },
  { "media-encryption", "media-encryption", "s", VALUE_CHOICE, encryptions },
};

/* Keys handled outside the table: never stored as properties. */
#define KEY_PASSWORD "password"
#define KEY_DEFAULT "default"

/* What the built-in profile lets a user change: it has no registrar. */
static const char * const local_keys[] = {
  KEY_DEFAULT, "username", "auto-answer", "media-encryption", NULL
};

static const Setting *
find_setting (const char *key)
{
  for (guint i = 0; i < G_N_ELEMENTS (settings_table); i++)
    if (g_str_equal (settings_table[i].key, key))
      return &settings_table[i];
  return NULL;
}

static char *
describe_keys (void)
{
  g_autoptr(GString) keys = g_string_new (NULL);

  for (guint i = 0; i < G_N_ELEMENTS (settings_table); i++)
    g_string_append_printf (keys, "%s, ", settings_table[i].key);
  g_string_append (keys, KEY_DEFAULT ", " KEY_PASSWORD);

  return g_string_free (g_steal_pointer (&keys), FALSE);
}

static gboolean
invalid (GError    **error,
         const char *key,
         const char *format,
         ...) G_GNUC_PRINTF (3, 4);

static gboolean
invalid (GError    **error,
         const char *key,
         const char *format,
         ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT,
               "Setting “%s”: %s", key, message);
  return FALSE;
}

static gboolean
check_credential (const char  *key,
                  const char  *value,
                  GError     **error)
{
  /* These end up inside Digest credentials ("realm":user:password). */
  for (const char *p = value; *p != '\0'; p++)
    if (g_ascii_iscntrl (*p) || *p == '"' || (*p == ':' && !g_str_equal (key, "realm")))
      return invalid (error, key, "must not contain control characters, quotes%s",
                      g_str_equal (key, "realm") ? "" : " or colons");

  if (strlen (value) > 256)
    return invalid (error, key, "is longer than 256 characters");

  return TRUE;
}

static gboolean
is_blank (const char *text)
{
  for (; *text != '\0'; text++)
    if (!g_ascii_isspace (*text))
      return FALSE;
  return TRUE;
}

static gboolean
check_ifname (const char  *value,
              GError     **error)
{
  if (*value == '\0')
    return TRUE;

  /* IFNAMSIZ is 16 including the terminator. */
  if (strlen (value) > 15)
    return invalid (error, "network-interface", "“%s” is longer than 15 characters", value);

  for (const char *p = value; *p != '\0'; p++)
    if (!g_ascii_isgraph (*p) || *p == '/' || *p == ':')
      return invalid (error, "network-interface",
                      "“%s” is not an interface name (expected e.g. “eth0”)", value);

  return TRUE;
}

static gboolean
check_value (const Setting *setting,
             GVariant      *value,
             GError       **error)
{
  const char *text = NULL;

  if (!g_variant_is_of_type (value, G_VARIANT_TYPE (setting->type)))
    return invalid (error, setting->key, "expected type “%s”, got “%s”",
                    setting->type, g_variant_get_type_string (value));

  if (g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
    text = g_variant_get_string (value, NULL);

  switch (setting->kind)
    {
    case VALUE_NAME:
      if (is_blank (text))
        return invalid (error, setting->key, "must not be empty");
      if (g_utf8_strlen (text, -1) > 128)
        return invalid (error, setting->key, "is longer than 128 characters");
      for (const char *p = text; *p != '\0'; p++)
        if (g_ascii_iscntrl (*p))
          return invalid (error, setting->key, "must not contain control characters");
      return TRUE;

    case VALUE_CHOICE:
      if (!g_strv_contains (setting->choices, text))
        {
          g_autofree char *choices = g_strjoinv (", ", (char **) setting->choices);

          return invalid (error, setting->key, "“%s” is not one of %s", text, choices);
        }
      return TRUE;

    case VALUE_URI:
      {
        g_autofree char *what = g_strdup_printf ("Setting “%s”", setting->key);

        return *text == '\0' || hark_uri_check (text, 0, what, error);
      }

    case VALUE_AORS:
      {
        g_autofree const char **aors = g_variant_get_strv (value, NULL);

        for (guint i = 0; aors[i] != NULL; i++)
          if (!hark_uri_check (aors[i], HARK_URI_NEED_USER, "Setting “aors”", error))
            return FALSE;
        return TRUE;
      }

    case VALUE_CREDENTIAL:
      return check_credential (setting->key, text, error);

    case VALUE_BOOL:
      return TRUE;

    case VALUE_UINT:
      {
        guint32 n = g_variant_get_uint32 (value);

        if (n < setting->min || n > setting->max)
          return invalid (error, setting->key, "%u is out of range (%u to %u)",
                          n, setting->min, setting->max);
        return TRUE;
      }

    case VALUE_IFNAME:
      return check_ifname (text, error);

    case VALUE_PATH:
      if (*text == '\0')
        return TRUE;
      if (!g_path_is_absolute (text))
        return invalid (error, setting->key, "“%s” is not an absolute path", text);
      if (!g_file_test (text, G_FILE_TEST_IS_REGULAR))
        return invalid (error, setting->key, "“%s” does not exist or is not a file", text);
      return TRUE;

    default:
      g_assert_not_reached ();
    }
}

/**
 * hark_profile_check_settings:
 * @settings: an `a{sv}` of profile settings
 * @local: whether they are meant for the built-in local profile
 *
 * Checks every key and value without changing anything, so that a bad
 * value leaves a profile exactly as it was.
 */
gboolean
hark_profile_check_settings (GVariant  *settings,
                             gboolean   local,
                             GError   **error)
{
  GVariantIter iter;
  const char *key;
  GVariant *value;

  g_return_val_if_fail (g_variant_is_of_type (settings, G_VARIANT_TYPE_VARDICT), FALSE);

  g_variant_iter_init (&iter, settings);
  while (g_variant_iter_loop (&iter, "{&sv}", &key, &value))
    {
      const Setting *setting = find_setting (key);

      if (local && !g_strv_contains (local_keys, key))
        {
          g_variant_unref (value);
          return invalid (error, key, "the built-in “local” profile has no registrar; "
                          "only “default”, “username”, “auto-answer” and "
                          "“media-encryption” can be changed");
        }

      if (g_str_equal (key, KEY_DEFAULT))
        {
          if (!g_variant_is_of_type (value, G_VARIANT_TYPE_BOOLEAN))
            {
              g_variant_unref (value);
              return invalid (error, key, "expected type “b”, got “%s”",
                              g_variant_get_type_string (value));
            }
          continue;
        }

      if (g_str_equal (key, KEY_PASSWORD))
        {
          if (!g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
            {
              g_variant_unref (value);
              return invalid (error, key, "expected type “s”, got “%s”",
                              g_variant_get_type_string (value));
            }
          continue;
        }

      if (setting == NULL)
        {
          g_autofree char *known = describe_keys ();

          g_variant_unref (value);
          return invalid (error, key, "unknown key (known keys: %s)", known);
        }

      if (!check_value (setting, value, error))
        {
          g_variant_unref (value);
          return FALSE;
        }
    }

  return TRUE;
}

/**
 * hark_profile_apply_settings:
 * @settings: settings already accepted by hark_profile_check_settings()
 *
 * Applies everything but "password" and "default", which need the secret
 * store and the profile store.
 */
void
hark_profile_apply_settings (HarkProfile *self,
                             GVariant    *settings)
{
  GVariantIter iter;
  const char *key;
  GVariant *value;

  g_return_if_fail (HARK_IS_PROFILE (self));

  g_variant_iter_init (&iter, settings);
  while (g_variant_iter_loop (&iter, "{&sv}", &key, &value))
    {
      const Setting *setting = find_setting (key);
      g_auto(GValue) gvalue = G_VALUE_INIT;

      if (setting == NULL)
        continue;

      g_dbus_gvariant_to_gvalue (value, &gvalue);
      g_object_set_property (G_OBJECT (self->iface), setting->property, &gvalue);
    }
}

static char *
group_name (HarkProfile *self)
{
  return g_strdup_printf ("Profile %s", self->id);
}

/**
 * hark_profile_save:
 *
 * Writes the profile's settings into its group of @keyfile.
 */
void
hark_profile_save (HarkProfile *self,
                   GKeyFile    *keyfile)
{
  g_autofree char *group = group_name (self);

  g_return_if_fail (HARK_IS_PROFILE (self));

  g_key_file_remove_group (keyfile, group, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (settings_table); i++)
    {
      const Setting *setting = &settings_table[i];
      g_auto(GValue) gvalue = G_VALUE_INIT;

      if (hark_profile_is_local (self) && !g_strv_contains (local_keys, setting->key))
        continue;

      g_value_init (&gvalue, g_object_class_find_property (G_OBJECT_GET_CLASS (self->iface),
                                                           setting->property)->value_type);
      g_object_get_property (G_OBJECT (self->iface), setting->property, &gvalue);

      if (G_VALUE_HOLDS_STRING (&gvalue))
        g_key_file_set_string (keyfile, group, setting->key,
                               g_value_get_string (&gvalue) ? g_value_get_string (&gvalue) : "");
      else if (G_VALUE_HOLDS_BOOLEAN (&gvalue))
        g_key_file_set_boolean (keyfile, group, setting->key, g_value_get_boolean (&gvalue));
      else if (G_VALUE_HOLDS_UINT (&gvalue))
        g_key_file_set_uint64 (keyfile, group, setting->key, g_value_get_uint (&gvalue));
      else if (G_VALUE_HOLDS (&gvalue, G_TYPE_STRV))
        {
          const char * const *strv = g_value_get_boxed (&gvalue);
          const char * const empty[] = { NULL };

          strv = strv ? strv : empty;
          g_key_file_set_string_list (keyfile, group, setting->key, strv, g_strv_length ((char **) strv));
        }
    }
}

static GVariant *
read_key (GKeyFile      *keyfile,
          const char    *group,
          const Setting *setting,
          GError       **error)
{
  if (g_str_equal (setting->type, "s"))
    {
      g_autofree char *s = g_key_file_get_string (keyfile, group, setting->key, error);

      return s ? g_variant_new_string (s) : NULL;
    }
  if (g_str_equal (setting->type, "b"))
    {
      gboolean b = g_key_file_get_boolean (keyfile, group, setting->key, error);

      return (error && *error) ? NULL : g_variant_new_boolean (b);
    }
  if (g_str_equal (setting->type, "u"))
    {
      guint64 u = g_key_file_get_uint64 (keyfile, group, setting->key, error);

      return (error && *error) ? NULL : g_variant_new_uint32 ((guint32) MIN (u, G_MAXUINT32));
    }
  if (g_str_equal (setting->type, "as"))
    {
      g_auto(GStrv) strv = g_key_file_get_string_list (keyfile, group, setting->key, NULL, error);

      return strv ? g_variant_new_strv ((const char * const *) strv, -1) : NULL;
    }

  g_assert_not_reached ();
}

/**
 * hark_profile_load:
 *
 * Reads the profile's group of @keyfile. A value that no longer passes
 * validation (edited by hand, say) is skipped with a warning rather than
 * losing the whole profile.
 */
gboolean
hark_profile_load (HarkProfile *self,
                   GKeyFile    *keyfile,
                   GError     **error)
{
  g_autofree char *group = group_name (self);
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  g_autoptr(GVariant) settings = NULL;

  g_return_val_if_fail (HARK_IS_PROFILE (self), FALSE);

  if (!g_key_file_has_group (keyfile, group))
    {
      g_set_error (error, HARK_ERROR, HARK_ERROR_NOT_FOUND, "No group “%s”", group);
      return FALSE;
    }

  for (guint i = 0; i < G_N_ELEMENTS (settings_table); i++)
    {
      const Setting *setting = &settings_table[i];
      g_autoptr(GError) local_error = NULL;
      g_autoptr(GVariant) value = NULL;

      if (!g_key_file_has_key (keyfile, group, setting->key, NULL))
        continue;

      value = read_key (keyfile, group, setting, &local_error);
      if (value != NULL)
        g_variant_ref_sink (value);
      if (value == NULL || !check_value (setting, value, &local_error))
        {
          g_warning ("Ignoring “%s” of profile %s in the configuration: %s",
                     setting->key, self->id, local_error ? local_error->message : "unreadable");
          continue;
        }

      g_variant_builder_add (&builder, "{sv}", setting->key, value);
    }

  settings = g_variant_ref_sink (g_variant_builder_end (&builder));
  hark_profile_apply_settings (self, settings);
  return TRUE;
}

/* Completing an invocation consumes the reference the handler was given. */
static void
complete_with_error (GDBusMethodInvocation *invocation,
                     const GError          *error)
{
  g_dbus_method_invocation_return_gerror (invocation, error);
}

static gboolean
check_name_free (HarkProfile  *self,
                 GVariant     *settings,
                 GError      **error)
{
  const char *name = NULL;
  HarkProfile *other;

  if (!g_variant_lookup (settings, "name", "&s", &name))
    return TRUE;

  other = hark_profile_store_find_by_name (self->store, name);
  if (other != NULL && other != self)
    return invalid (error, "name", "a profile named “%s” already exists", name);

  return TRUE;
}

static void
update_contact (HarkProfile *self)
{
  g_autofree char *contact = NULL;

  contact = hark_sip_agent_get_contact_uri (self->agent,
                                            hark_dbus_profile1_get_username (self->iface));
  hark_profile_set_contact (self, contact);
}

static gboolean
interface_address (const char  *name,
                   char        *address,
                   GError     **error)
{
  struct ifaddrs *addrs = NULL;
  gboolean found = FALSE;

  if (getifaddrs (&addrs) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, HARK_ERROR, HARK_ERROR_FAILED, "Cannot list network interfaces: %s",
                   g_strerror (saved_errno));
      return FALSE;
    }

  for (struct ifaddrs *a = addrs; a != NULL && !found; a = a->ifa_next)
    if (a->ifa_addr != NULL && a->ifa_addr->sa_family == AF_INET &&
        g_str_equal (a->ifa_name, name))
      found = inet_ntop (AF_INET, &((struct sockaddr_in *) a->ifa_addr)->sin_addr,
                         address, INET_ADDRSTRLEN) != NULL;
  freeifaddrs (addrs);

  if (!found)
    g_set_error (error, HARK_ERROR, HARK_ERROR_FAILED,
                 "Network interface “%s” does not exist or has no IPv4 address", name);
  return found;
}

/* The built-in profile listens on 5060 unless HARK_LOCAL_SIP_PORT names
 * another port (0: any free one), e.g. for a second daemon on one machine. */
static guint
local_sip_port (void)
{
  const char *env = g_getenv ("HARK_LOCAL_SIP_PORT");
  guint64 port;

  if (env == NULL || !g_ascii_string_to_unsigned (env, 10, 0, 65535, &port, NULL))
    return 5060;
  return (guint) port;
}

/**
 * hark_profile_ensure_agent:
 *
 * The profile's SIP stack, made on first use so an idle daemon stays small:
 * the local profile's listens on 5060 (or any free port when that is taken),
 * the others on a free port of the interface they name, or of all of them.
 *
 * Returns: (transfer none) (nullable): the agent
 */
HarkSipAgent *
hark_profile_ensure_agent (HarkProfile  *self,
                           GError      **error)
{
  g_autofree char *user_agent = g_strdup_printf ("Hark/%s", PACKAGE_VERSION);
  const char *ifname = hark_dbus_profile1_get_network_interface (self->iface);
  char address[INET_ADDRSTRLEN] = "";
  HarkSipAgentConfig config = { 0 };

  g_return_val_if_fail (HARK_IS_PROFILE (self), NULL);

  if (self->agent != NULL)
    return self->agent;

  if (*ifname != '\0' && !interface_address (ifname, address, error))
    return NULL;

  config.transport = hark_dbus_profile1_get_transport (self->iface);
  config.bind_address = *address ? address : NULL;
  config.port = hark_profile_is_local (self) ? local_sip_port () : 0;
  config.port_fallback = hark_profile_is_local (self);
  config.outbound_proxy = *hark_dbus_profile1_get_outbound_proxy (self->iface)
                          ? hark_dbus_profile1_get_outbound_proxy (self->iface) : NULL;
  config.ca_file = *hark_dbus_profile1_get_ca_file (self->iface)
                   ? hark_dbus_profile1_get_ca_file (self->iface) : NULL;
  config.user_agent = user_agent;

  self->agent = hark_sip_agent_new (&config, error);
  if (self->agent == NULL)
    return NULL;

  update_contact (self);
  g_signal_emit (self, signals[SIGNAL_AGENT_CREATED], 0, self->agent);
  return self->agent;
}

static gboolean
registration_keys_changed (GVariant *settings)
{
  static const char * const keys[] = {
    "aors", "registrar", "outbound-proxy", "username", "realm", "private-id", "transport",
    "network-interface", "expires", "ca-file", NULL
  };

  for (guint i = 0; keys[i] != NULL; i++)
    {
      g_autoptr(GVariant) value = g_variant_lookup_value (settings, keys[i], NULL);

      if (value != NULL)
        return TRUE;
    }
  return FALSE;
}

typedef struct
{
  HarkProfile           *profile;
  GDBusMethodInvocation *invocation;  /* the handler's reference, until completed */
  char                  *password;    /* NULL: leave the password alone */
} UpdateData;

static void
update_data_free (UpdateData *data)
{
  g_assert (data->invocation == NULL);
  g_clear_object (&data->profile);
  if (data->password != NULL)
    explicit_bzero (data->password, strlen (data->password));
  g_free (data->password);
  g_free (data);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (UpdateData, update_data_free)

static void
update_password_stored_cb (GObject      *source,
                           GAsyncResult *result,
                           gpointer      user_data)
{
  g_autoptr(UpdateData) data = user_data;
  g_autoptr(GError) error = NULL;

  if (!hark_secret_store_store_finish (HARK_SECRET_STORE (source), result, &error))
    {
      complete_with_error (g_steal_pointer (&data->invocation), error);
      return;
    }

  hark_profile_set_has_password (data->profile, *data->password != '\0');
  g_dbus_method_invocation_return_value (g_steal_pointer (&data->invocation), NULL);
}

static void
update_saved_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(UpdateData) data = user_data;
  HarkProfile *self = data->profile;
  g_autoptr(GError) error = NULL;

  if (!hark_profile_store_save_finish (HARK_PROFILE_STORE (source), result, &error))
    {
      complete_with_error (g_steal_pointer (&data->invocation), error);
      return;
    }

  if (data->password != NULL)
    {
      g_autofree char *label = g_strdup_printf ("Hark SIP password for %s",
                                                hark_profile_get_name (self));

      const char *password = data->password;  /* data moves into the call below */

      hark_secret_store_store_async (hark_profile_store_get_secrets (self->store),
                                     self->id, label, password, self->cancellable,
                                     update_password_stored_cb, g_steal_pointer (&data));
      return;
    }

  hark_dbus_profile1_complete_update (self->iface, g_steal_pointer (&data->invocation));
}

static gboolean
handle_update (HarkDBusProfile1      *iface,
               GDBusMethodInvocation *invocation,
               GVariant              *settings,
               HarkProfile           *self)
{
  g_autoptr(GError) error = NULL;
  UpdateData *data;
  gboolean is_default;

  if (!hark_profile_check_settings (settings, hark_profile_is_local (self), &error) ||
      !check_name_free (self, settings, &error))
    {
      complete_with_error (invocation, error);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }

  if (g_variant_lookup (settings, KEY_DEFAULT, "b", &is_default) && !is_default &&
      hark_dbus_profile1_get_default (self->iface))
    {
      g_dbus_method_invocation_return_error (invocation, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT,
                                             "Setting “default”: there is always one default "
                                             "profile; make another profile the default instead");
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }

  hark_profile_apply_settings (self, settings);
  if (g_variant_lookup (settings, KEY_DEFAULT, "b", &is_default) && is_default)
    hark_profile_store_set_default (self->store, self);

  if (registration_keys_changed (settings))
    {
      /* Transport, proxy and interface are fixed when a Sofia stack is made. */
      g_clear_object (&self->agent);
      if (self->registration != NULL)
        hark_registration_reconfigure (self->registration);
    }
  if (hark_profile_is_local (self) && self->agent != NULL)
    update_contact (self);

  data = g_new0 (UpdateData, 1);
  data->profile = g_object_ref (self);
  data->invocation = invocation;
  g_variant_lookup (settings, KEY_PASSWORD, "s", &data->password);

  hark_profile_store_save_async (self->store, self->cancellable, update_saved_cb, data);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_set_password (HarkDBusProfile1      *iface,
                     GDBusMethodInvocation *invocation,
                     const char            *password,
                     HarkProfile           *self)
{
  g_autofree char *label = NULL;
  UpdateData *data;

  if (hark_profile_is_local (self))
    return hark_error_return_new (invocation, HARK_ERROR_INVALID_STATE,
                                  "The built-in “local” profile has no registrar "
                                  "and no password");

  data = g_new0 (UpdateData, 1);
  data->profile = g_object_ref (self);
  data->invocation = invocation;
  data->password = g_strdup (password);

  label = g_strdup_printf ("Hark SIP password for %s", hark_profile_get_name (self));
  hark_secret_store_store_async (hark_profile_store_get_secrets (self->store),
                                 self->id, label, password, self->cancellable,
                                 update_password_stored_cb, data);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
delete_saved_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  GDBusMethodInvocation *invocation = user_data;  /* ours to complete */
  g_autoptr(GError) error = NULL;

  if (!hark_profile_store_save_finish (HARK_PROFILE_STORE (source), result, &error))
    {
      complete_with_error (invocation, error);
      return;
    }

  g_dbus_method_invocation_return_value (invocation, NULL);
}

static void
delete_password_cleared_cb (GObject      *source,
                            GAsyncResult *result,
                            gpointer      user_data)
{
  g_autoptr(UpdateData) data = user_data;
  HarkProfile *self = data->profile;

  /* Only cancellation can fail this, and the profile goes regardless. */
  hark_secret_store_store_finish (HARK_SECRET_STORE (source), result, NULL);

  hark_profile_store_remove (self->store, self);
  hark_profile_store_save_async (self->store, NULL, delete_saved_cb,
                                 g_steal_pointer (&data->invocation));
}

static void
delete_unregistered_cb (GObject      *source,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  g_autoptr(UpdateData) data = user_data;
  HarkProfile *self = data->profile;

  hark_profile_shutdown_finish (self, result, NULL);
  hark_secret_store_store_async (hark_profile_store_get_secrets (self->store),
                                 self->id, "", "", NULL,
                                 delete_password_cleared_cb, g_steal_pointer (&data));
}

static gboolean
handle_delete (HarkDBusProfile1      *iface,
               GDBusMethodInvocation *invocation,
               HarkProfile           *self)
{
  UpdateData *data;

  if (hark_profile_is_local (self))
    return hark_error_return_new (invocation, HARK_ERROR_INVALID_STATE,
                                  "The built-in “local” profile cannot be deleted");

  data = g_new0 (UpdateData, 1);
  data->profile = g_object_ref (self);
  data->invocation = invocation;
  hark_profile_shutdown_async (self, NULL, delete_unregistered_cb, data);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
check_can_register (HarkProfile  *self,
                    GError      **error)
{
  const char * const *aors = hark_dbus_profile1_get_aors (self->iface);

  if (hark_profile_is_local (self))
    {
      g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_STATE,
                   "The built-in “local” profile has no registrar to register with");
      return FALSE;
    }

  if (aors == NULL || aors[0] == NULL)
    {
      g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_STATE,
                   "Profile “%s” has no address of record; set “aors” with Update() first",
                   hark_profile_get_name (self));
      return FALSE;
    }

  if (hark_dbus_profile1_get_sig_comp (self->iface))
    {
      g_set_error (error, HARK_ERROR, HARK_ERROR_NOT_SUPPORTED,
                   "Profile “%s” asks for SigComp (signalling compression), which the "
                   "Sofia-SIP library this Hark is built with does not implement; "
                   "set “sigcomp” to false", hark_profile_get_name (self));
      return FALSE;
    }

  if (!g_str_equal (hark_dbus_profile1_get_security_negotiation (self->iface), "none"))
    {
      g_set_error (error, HARK_ERROR, HARK_ERROR_NOT_SUPPORTED,
                   "Profile “%s” asks for security negotiation “%s” (RFC 3329), which the "
                   "Sofia-SIP library this Hark is built with does not implement; "
                   "set “security-negotiation” to “none”", hark_profile_get_name (self),
                   hark_dbus_profile1_get_security_negotiation (self->iface));
      return FALSE;
    }

  return TRUE;
}

static gboolean
ensure_registration (HarkProfile  *self,
                     GError      **error)
{
  if (!check_can_register (self, error))
    return FALSE;

  if (self->registration == NULL)
    {
      self->registration = hark_registration_new (self, self->store);
      hark_dbus_profile1_set_registration (self->iface,
                                           hark_registration_get_object_path (self->registration));
    }

  return TRUE;
}

static gboolean
handle_register (HarkDBusProfile1      *iface,
                 GDBusMethodInvocation *invocation,
                 HarkProfile           *self)
{
  g_autoptr(GError) error = NULL;

  if (!ensure_registration (self, &error))
    {
      complete_with_error (invocation, error);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }

  hark_registration_register (self->registration);
  hark_dbus_profile1_complete_register (iface, invocation,
                                        hark_registration_get_object_path (self->registration));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
hark_profile_dispose (GObject *object)
{
  HarkProfile *self = (HarkProfile *) object;

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->registration);
  g_clear_object (&self->agent);
  if (self->iface != NULL)
    g_signal_handlers_disconnect_by_data (self->iface, self);
  g_clear_object (&self->iface);
  g_clear_object (&self->object);
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (hark_profile_parent_class)->dispose (object);
}

static void
hark_profile_finalize (GObject *object)
{
  HarkProfile *self = (HarkProfile *) object;

  g_free (self->id);
  g_free (self->object_path);

  G_OBJECT_CLASS (hark_profile_parent_class)->finalize (object);
}

static void
hark_profile_class_init (HarkProfileClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = hark_profile_dispose;
  object_class->finalize = hark_profile_finalize;

  /**
   * HarkProfile::agent-created:
   * @agent: the new SIP agent
   *
   * The profile made a SIP stack; the call manager takes its INVITEs.
   */
  signals[SIGNAL_AGENT_CREATED] =
    g_signal_new ("agent-created", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, HARK_TYPE_SIP_AGENT);
}

static void
hark_profile_init (HarkProfile *self)
{
  const char * const no_aors[] = { NULL };

  self->cancellable = g_cancellable_new ();
  self->iface = hark_dbus_profile1_skeleton_new ();
  g_object_set (self->iface,
                "id", "", "name", "", "kind", "ietf", "aors", no_aors,
                "registrar", "", "outbound-proxy", "", "username", "", "realm", "",
                "private-id", "", "auto-register", FALSE, "default", FALSE,
                "transport", "udp", "network-interface", "", "security-negotiation", "none",
                "sig-comp", FALSE, "expires", 600, "ca-file", "", "has-password", FALSE,
                "contact", "", "registration", "/", "mwi-uri", "",
                "media-encryption", "optional",
                NULL);

  g_signal_connect (self->iface, "handle-update", G_CALLBACK (handle_update), self);
  g_signal_connect (self->iface, "handle-set-password", G_CALLBACK (handle_set_password), self);
  g_signal_connect (self->iface, "handle-delete", G_CALLBACK (handle_delete), self);
  g_signal_connect (self->iface, "handle-register", G_CALLBACK (handle_register), self);
}

/**
 * hark_profile_new:
 * @store: the store the profile belongs to
 * @id: its stable identifier, %HARK_LOCAL_PROFILE_ID for the built-in one
 *
 * Returns: (transfer full): a profile with default settings, not yet exported
 */
HarkProfile *
hark_profile_new (HarkProfileStore *store,
                  const char       *id)
{
  HarkProfile *self;

  g_return_val_if_fail (HARK_IS_PROFILE_STORE (store), NULL);
  g_return_val_if_fail (id != NULL, NULL);

  self = g_object_new (HARK_TYPE_PROFILE, NULL);
  self->store = store;
  self->id = g_strdup (id);
  self->object_path = hark_path_next ("Profile");
  self->object = hark_dbus_object_skeleton_new (self->object_path);
  hark_dbus_object_skeleton_set_profile1 (self->object, self->iface);
  hark_dbus_profile1_set_id (self->iface, id);

  if (hark_profile_is_local (self))
    g_object_set (self->iface, "name", "local", "kind", "other", "username", g_get_user_name (),
                  NULL);

  hark_subscription_manager_watch_profile (self);
  return self;
}

const char *
hark_profile_get_id (HarkProfile *self)
{
  g_return_val_if_fail (HARK_IS_PROFILE (self), NULL);
  return self->id;
}

const char *
hark_profile_get_name (HarkProfile *self)
{
  g_return_val_if_fail (HARK_IS_PROFILE (self), NULL);
  return hark_dbus_profile1_get_name (self->iface);
}

const char *
hark_profile_get_object_path (HarkProfile *self)
{
  g_return_val_if_fail (HARK_IS_PROFILE (self), NULL);
  return self->object_path;
}

gboolean
hark_profile_is_local (HarkProfile *self)
{
  g_return_val_if_fail (HARK_IS_PROFILE (self), FALSE);
  return g_str_equal (self->id, HARK_LOCAL_PROFILE_ID);
}

HarkDBusObjectSkeleton *
hark_profile_get_object (HarkProfile *self)
{
  g_return_val_if_fail (HARK_IS_PROFILE (self), NULL);
  return self->object;
}

HarkDBusProfile1 *
hark_profile_get_iface (HarkProfile *self)
{
  g_return_val_if_fail (HARK_IS_PROFILE (self), NULL);
  return self->iface;
}

void
hark_profile_set_default (HarkProfile *self,
                          gboolean     is_default)
{
  g_return_if_fail (HARK_IS_PROFILE (self));

  if (hark_dbus_profile1_get_default (self->iface) != !!is_default)
    hark_dbus_profile1_set_default (self->iface, !!is_default);
}

static void
show_has_password (HarkProfile *self,
                   gboolean     has_password)
{
  if (hark_dbus_profile1_get_has_password (self->iface) != !!has_password)
    hark_dbus_profile1_set_has_password (self->iface, !!has_password);
}

/**
 * hark_profile_set_has_password:
 *
 * Called once a password was stored or forgotten; it outranks whatever an
 * earlier lookup still in flight will find.
 */
void
hark_profile_set_has_password (HarkProfile *self,
                               gboolean     has_password)
{
  g_return_if_fail (HARK_IS_PROFILE (self));

  self->password_serial++;
  show_has_password (self, has_password);
}

void
hark_profile_set_contact (HarkProfile *self,
                          const char  *contact)
{
  g_return_if_fail (HARK_IS_PROFILE (self));

  if (g_strcmp0 (hark_dbus_profile1_get_contact (self->iface), contact) != 0)
    hark_dbus_profile1_set_contact (self->iface, contact ? contact : "");
}

typedef struct
{
  HarkProfile *profile;
  guint        serial;   /* password_serial when the lookup started */
} LookupData;

static void
password_known_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  LookupData *data = user_data;
  g_autoptr(HarkProfile) self = data->profile;
  g_autofree char *password = NULL;

  password = hark_secret_store_lookup_finish (HARK_SECRET_STORE (source), result, NULL);
  if (data->serial == self->password_serial)
    show_has_password (self, password != NULL);
  if (password != NULL)
    explicit_bzero (password, strlen (password));
  g_free (data);
}

/**
 * hark_profile_start:
 *
 * Called once the profile is exported at daemon start: learns whether a
 * password is stored and registers auto-register profiles.
 */
void
hark_profile_start (HarkProfile *self)
{
  g_autoptr(GError) error = NULL;
  LookupData *lookup;

  g_return_if_fail (HARK_IS_PROFILE (self));

  if (hark_profile_is_local (self))
    {
      /* The built-in profile must be reachable from the start. */
      if (hark_profile_ensure_agent (self, &error) == NULL)
        g_warning ("The local profile cannot listen for calls: %s", error->message);
      return;
    }

  lookup = g_new0 (LookupData, 1);
  lookup->profile = g_object_ref (self);
  lookup->serial = self->password_serial;
  hark_secret_store_lookup_async (hark_profile_store_get_secrets (self->store), self->id,
                                  self->cancellable, password_known_cb, lookup);

  if (!hark_dbus_profile1_get_auto_register (self->iface))
    return;

  if (!ensure_registration (self, &error))
    {
      g_warning ("Not registering profile “%s” automatically: %s",
                 hark_profile_get_name (self), error->message);
      return;
    }

  hark_registration_register (self->registration);
}

void
hark_profile_network_changed (HarkProfile *self)
{
  g_return_if_fail (HARK_IS_PROFILE (self));

  if (self->registration != NULL)
    hark_registration_network_changed (self->registration);
}

static void
agent_shut_down_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;

  hark_sip_agent_shutdown_finish (HARK_SIP_AGENT (source), result, NULL);
  g_task_return_boolean (task, TRUE);
}

static void
shut_down_agent (GTask *task)
{
  HarkProfile *self = g_task_get_source_object (task);
  g_autoptr(HarkSipAgent) agent = g_steal_pointer (&self->agent);

  if (agent == NULL)
    {
      g_task_return_boolean (task, TRUE);
      g_object_unref (task);
      return;
    }

  hark_profile_set_contact (self, "");
  hark_sip_agent_shutdown_async (agent, NULL, agent_shut_down_cb, task);
}

static void
registration_stopped_cb (GObject      *source,
                         GAsyncResult *result,
                         gpointer      user_data)
{
  hark_registration_stop_finish (HARK_REGISTRATION (source), result, NULL);
  shut_down_agent (user_data);
}

static void
subscriptions_ended_cb (GObject      *source,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  HarkProfile *self = g_task_get_source_object (task);
  GCancellable *cancellable;

  hark_subscription_manager_end_profile_finish (self, result, NULL);

  if (self->registration == NULL)
    {
      shut_down_agent (g_steal_pointer (&task));
      return;
    }

  /* Not in the call's arguments: their order of evaluation is not the
   * order they are written in */
  cancellable = g_task_get_cancellable (task);
  hark_registration_stop_async (self->registration, cancellable, registration_stopped_cb,
                                g_steal_pointer (&task));
}

/**
 * hark_profile_shutdown_async:
 *
 * Ends the profile's subscriptions and unregisters (with bounded waits),
 * then shuts the profile's SIP stack down cleanly before the profile is
 * deleted or the daemon exits.
 */
void
hark_profile_shutdown_async (HarkProfile         *self,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (HARK_IS_PROFILE (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, hark_profile_shutdown_async);

  hark_subscription_manager_end_profile_async (self, cancellable, subscriptions_ended_cb,
                                               g_steal_pointer (&task));
}

gboolean
hark_profile_shutdown_finish (HarkProfile   *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
