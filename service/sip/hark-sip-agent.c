/* hark-sip-agent.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One Sofia-SIP user agent (nua_t) bound to one local transport, running on
 * the GLib main loop. Everything above it (registrations, calls,
 * subscriptions) creates nua handles through the agent and gets the events of
 * those handles back through a HarkSipEventFunc.
 */

#define G_LOG_DOMAIN "hark-sip"

#include "config.h"

#include <errno.h>
#include <string.h>
#include <glib/gstdio.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <sofia-sip/su_glib.h>
#include <sofia-sip/su_log.h>
#include <sofia-sip/nua.h>
#include <sofia-sip/nua_tag.h>
#include <sofia-sip/msg.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_tag.h>
#include <sofia-sip/su_tagarg.h>
#include <sofia-sip/tport_tag.h>

#include "hark-env.h"
#include "hark-error.h"
#include "hark-sip-agent.h"

#define SYSTEM_CA_BUNDLE "/etc/ssl/certs/ca-certificates.crt"
/* How long shutdown waits for nua to un-REGISTER and close its transports */
#define SHUTDOWN_TIMEOUT_MS 3000
/* …and after that, how long once the remaining handles are destroyed */
#define SHUTDOWN_GRACE_MS 1000

/*
 * The nua callback's magic is this core rather than the agent itself, so that
 * a nua being shut down after its agent was disposed still has somewhere to
 * deliver nua_r_shutdown; the core is freed once nua_destroy() has run.
 */
typedef struct {
  HarkSipAgent *agent;        /* (nullable) (unowned): NULL once disposed */
  nua_t        *nua;
  GHashTable   *bindings;     /* nua_handle_t* → HandleBinding* (owned) */
  gboolean      shutdown_started;
  gboolean      shutdown_done;
  guint         destroy_idle_id;
  guint         timeout_id;
  gboolean      grace;        /* handles were force-destroyed already */
} Core;

typedef struct {
  HarkSipEventFunc func;
  gpointer         user_data;
} HandleBinding;

struct _HarkSipAgent
{
  GObject       parent_instance;

  /* construct-only configuration */
  char         *transport;
  char         *bind_address;
  guint         requested_port;
  gboolean      port_fallback;
  char         *outbound_proxy;
  char         *ca_file;
  char         *user_agent;

  Core         *core;
  guint         port;
  char         *address;
  char         *contact;
  char         *cert_dir;
  char         *ca_bundle;

  GTask        *shutdown_task;
};

static void hark_sip_agent_initable_iface_init (GInitableIface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (HarkSipAgent, hark_sip_agent, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE,
                                                      hark_sip_agent_initable_iface_init))

enum {
  PROP_0,
  PROP_TRANSPORT,
  PROP_BIND_ADDRESS,
  PROP_REQUESTED_PORT,
  PROP_PORT_FALLBACK,
  PROP_OUTBOUND_PROXY,
  PROP_CA_FILE,
  PROP_USER_AGENT,
  PROP_PORT,
  PROP_CONTACT,
  N_PROPS
};

enum {
  SIGNAL_INCOMING_REQUEST,
  SIGNAL_SHUTDOWN,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static su_root_t *sip_root;
static GSource *sip_root_source;
/* Cores whose agent is gone and whose nua is still shutting down */
static GList *orphan_cores;

/* ------------------------------------------------------------------------ */
/* The wire: every message our transports send and receive                   */

/*
 * nua hands the application no copy of what it sends (nor of what nta
 * answers or ACKs by itself), but Sofia's transport layer logs every message
 * it sends or receives when TPTAG_LOG is set on the nua (tport_log_msg()).
 * That log goes to su_log_default, one su_log() call per fragment: a stamp
 * line "send 441 bytes to udp/[127.0.0.1]:5060 at 04:36:12.523920:", a
 * dashed separator, every line of the message indented by three spaces, and
 * the separator again. The stamp names the peer, not the local transport,
 * so messages are told apart by Call-ID, process-wide.
 *
 * Cost when nobody watches: the lines are collected until the blank line
 * after the headers (the body is dropped), the Call-ID is picked out, and
 * the header text is kept in a short ring for a watcher that comes a moment
 * later (an incoming INVITE is received and answered 100 before its call
 * knows its Call-ID). Only messages of a watched Call-ID are parsed.
 */

#define WIRE_SEPARATOR "------------------------------------------------------------------------"
/* How many unwatched messages are kept, and for how long: enough for a
 * first response that comes seconds after its INVITE, at hundreds of calls
 * a second */
#define WIRE_RING_SIZE 4096
#define WIRE_RING_AGE_US (5 * G_USEC_PER_SEC)

typedef enum {
  WIRE_IDLE,        /* between messages: lines are Sofia's diagnostics */
  WIRE_STAMPED,     /* stamp seen, waiting for the opening separator */
  WIRE_HEADERS,     /* collecting the start line and headers */
  WIRE_BODY,        /* past the blank line: dropping the body */
} WireState;

typedef struct {
  const char *direction;   /* "in" or "out" */
  char       *call_id;
  char       *text;        /* start line and headers, CRLF-terminated */
  gint64      time;
  GList      *link;        /* in wire.ring */
} WireMessage;

typedef struct {
  guint           id;
  char           *call_id;
  HarkSipWireFunc func;
  gpointer        user_data;
} WireWatch;

static struct {
  GString     *pending;      /* fragments of the line being logged */
  WireState    state;
  const char  *direction;
  GString     *text;
  char        *call_id;
  GQueue       ring;         /* of WireMessage, oldest first */
  GHashTable  *ring_by_id;   /* call_id → GQueue of the ring's WireMessage (unowned) */
  GHashTable  *watches;      /* call_id → GPtrArray of WireWatch (owned) */
  GHashTable  *watch_by_id;  /* id → its WireWatch (unowned): unwatching stays O(1) with
                              * hundreds of calls up */
  guint        last_id;
} wire;

static void
wire_message_free (WireMessage *message)
{
  g_free (message->call_id);
  g_free (message->text);
  g_free (message);
}

static void
wire_watch_free (gpointer data)
{
  WireWatch *watch = data;

  g_free (watch->call_id);
  g_free (watch);
}

static void
wire_deliver (const char *direction,
              const char *call_id,
              const char *text)
{
  GPtrArray *watches = wire.watches ? g_hash_table_lookup (wire.watches, call_id) : NULL;
  g_autoptr(GPtrArray) snapshot = NULL;
  msg_t *msg;
  const sip_t *sip;

  if (watches == NULL || watches->len == 0)
    return;

  msg = msg_make (sip_default_mclass (), 0, text, strlen (text));
  sip = msg != NULL ? sip_object (msg) : NULL;
  if (sip == NULL || (sip->sip_request == NULL && sip->sip_status == NULL))
    {
      g_debug ("Could not parse a logged %s message of %s", direction, call_id);
      msg_destroy (msg);
      return;
    }

  /* A watcher may unwatch (or watch) from its callback */
  snapshot = g_ptr_array_new ();
  for (guint i = 0; i < watches->len; i++)
    g_ptr_array_add (snapshot, GUINT_TO_POINTER (((WireWatch *) g_ptr_array_index (watches, i))->id));
  for (guint i = 0; i < snapshot->len; i++)
    {
      guint id = GPOINTER_TO_UINT (g_ptr_array_index (snapshot, i));

      watches = g_hash_table_lookup (wire.watches, call_id);
      for (guint j = 0; watches != NULL && j < watches->len; j++)
        {
          WireWatch *watch = g_ptr_array_index (watches, j);

          if (watch->id == id)
            {
              watch->func (direction, sip, watch->user_data);
              break;
            }
        }
    }
  msg_destroy (msg);
}

static void
wire_ring_expire (gint64 now)
{
  WireMessage *oldest;

  while ((oldest = g_queue_peek_head (&wire.ring)) != NULL &&
         (wire.ring.length > WIRE_RING_SIZE || now - oldest->time > WIRE_RING_AGE_US))
    {
      GQueue *same = g_hash_table_lookup (wire.ring_by_id, oldest->call_id);

      /* The oldest of the ring is the oldest of its Call-ID too */
      g_queue_pop_head (same);
      if (g_queue_is_empty (same))
        g_hash_table_remove (wire.ring_by_id, oldest->call_id);
      wire_message_free (g_queue_pop_head (&wire.ring));
    }
}

static void
wire_ring_push (WireMessage *message)
{
  GQueue *same;

  if (wire.ring_by_id == NULL)
    wire.ring_by_id = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                             (GDestroyNotify) g_queue_free);
  same = g_hash_table_lookup (wire.ring_by_id, message->call_id);
  if (same == NULL)
    {
      same = g_queue_new ();
      g_hash_table_insert (wire.ring_by_id, g_strdup (message->call_id), same);
    }
  g_queue_push_tail (same, message);
  g_queue_push_tail (&wire.ring, message);
  message->link = wire.ring.tail;
  wire_ring_expire (message->time);
}

/* Takes @call_id's messages out of the ring, oldest first */
static GQueue *
wire_ring_take (const char *call_id)
{
  gpointer key = NULL;
  GQueue *same = NULL;

  if (wire.ring_by_id == NULL ||
      !g_hash_table_steal_extended (wire.ring_by_id, call_id, &key, (gpointer *) &same))
    return NULL;
  g_free (key);
  for (GList *l = same->head; l != NULL; l = l->next)
    g_queue_delete_link (&wire.ring, ((WireMessage *) l->data)->link);
  return same;
}

/* At the end of the process, for leak checkers */
static void
wire_clear (void)
{
  g_queue_clear_full (&wire.ring, (GDestroyNotify) wire_message_free);
  g_clear_pointer (&wire.ring_by_id, g_hash_table_unref);
  g_clear_pointer (&wire.watch_by_id, g_hash_table_unref);
  g_clear_pointer (&wire.watches, g_hash_table_unref);
  if (wire.pending != NULL)
    g_string_free (g_steal_pointer (&wire.pending), TRUE);
  if (wire.text != NULL)
    g_string_free (g_steal_pointer (&wire.text), TRUE);
  g_clear_pointer (&wire.call_id, g_free);
  wire.state = WIRE_IDLE;
}

static void
wire_message_done (void)
{
  g_autofree char *text = NULL;
  g_autofree char *call_id = NULL;
  WireMessage *message;

  call_id = g_steal_pointer (&wire.call_id);
  text = g_string_free (g_steal_pointer (&wire.text), FALSE);
  if (call_id == NULL)
    return;

  if (wire.watches != NULL && g_hash_table_contains (wire.watches, call_id))
    {
      wire_deliver (wire.direction, call_id, text);
      return;
    }

  message = g_new0 (WireMessage, 1);
  message->direction = wire.direction;
  message->call_id = g_steal_pointer (&call_id);
  message->text = g_steal_pointer (&text);
  message->time = g_get_monotonic_time ();
  wire_ring_push (message);
}

/* "send 441 bytes to udp/[…]:5060 at 04:36:12.523920:" */
static const char *
wire_stamp_direction (const char *line)
{
  const char *direction;
  const char *rest;

  if (g_str_has_prefix (line, "send "))
    direction = "out", rest = line + 5;
  else if (g_str_has_prefix (line, "recv "))
    direction = "in", rest = line + 5;
  else
    return NULL;

  if (!g_ascii_isdigit (*rest))
    return NULL;
  while (g_ascii_isdigit (*rest))
    rest++;
  if (!g_str_has_prefix (rest, " bytes to ") && !g_str_has_prefix (rest, " bytes from "))
    return NULL;
  if (!g_str_has_suffix (rest, ":") || strstr (rest, " at ") == NULL)
    return NULL;
  return direction;
}

/* The Call-ID of a header line ("Call-ID: x" or compact "i: x"), or NULL */
static char *
wire_call_id (const char *line)
{
  const char *colon = strchr (line, ':');
  gsize name_len;

  if (colon == NULL)
    return NULL;
  name_len = colon - line;
  while (name_len > 0 && g_ascii_isspace (line[name_len - 1]))
    name_len--;
  if (!(name_len == 7 && g_ascii_strncasecmp (line, "Call-ID", 7) == 0) &&
      !(name_len == 1 && g_ascii_tolower (line[0]) == 'i'))
    return NULL;
  return g_strstrip (g_strdup (colon + 1));
}

static void
wire_line (const char *line)
{
  const char *indented = g_str_has_prefix (line, "   ") ? line + 3 : NULL;

  switch (wire.state)
    {
    case WIRE_IDLE:
      wire.direction = wire_stamp_direction (line);
      if (wire.direction != NULL)
        {
          wire.state = WIRE_STAMPED;
          return;
        }
      break;

    case WIRE_STAMPED:
      if (indented != NULL && g_str_equal (indented, WIRE_SEPARATOR))
        {
          wire.state = WIRE_HEADERS;
          wire.text = g_string_new (NULL);
          return;
        }
      wire.state = WIRE_IDLE;
      break;

    case WIRE_HEADERS:
    case WIRE_BODY:
      if (indented != NULL && g_str_equal (indented, WIRE_SEPARATOR))
        {
          wire.state = WIRE_IDLE;
          wire_message_done ();
          return;
        }
      if (wire.state == WIRE_BODY)
        return;
      /* A line of the message: never logged, it is what Trace is for */
      if (indented == NULL || *indented == '\0')
        {
          wire.state = WIRE_BODY;
          g_string_append (wire.text, "\r\n");
          return;
        }
      if (wire.call_id == NULL)
        wire.call_id = wire_call_id (indented);
      g_string_append (wire.text, indented);
      g_string_append (wire.text, "\r\n");
      return;
    }

  /* Sofia's own diagnostics are for developers: never warnings of ours */
  if (*line != '\0')
    g_debug ("sofia: %s", line);
}

static void
sofia_logger (void       *stream,
              char const *fmt,
              va_list     ap)
{
  char *newline;

  if (wire.pending == NULL)
    wire.pending = g_string_new (NULL);
  g_string_append_vprintf (wire.pending, fmt, ap);

  /* A line can come in several calls; handle the complete ones */
  while ((newline = strchr (wire.pending->str, '\n')) != NULL)
    {
      *newline = '\0';
      if (newline > wire.pending->str && newline[-1] == '\r')
        newline[-1] = '\0';
      wire_line (wire.pending->str);
      g_string_erase (wire.pending, 0, newline - wire.pending->str + 1);
    }

  /* Diagnostics without a final newline: Sofia's one-liners */
  if (wire.state == WIRE_IDLE && wire.pending->len > 0 &&
      !g_str_has_prefix (wire.pending->str, "send ") &&
      !g_str_has_prefix (wire.pending->str, "recv "))
    {
      wire_line (wire.pending->str);
      g_string_truncate (wire.pending, 0);
    }
}

/**
 * hark_sip_wire_watch:
 * @call_id: the Call-ID whose messages to receive
 * @func: called for each message sent or received with that Call-ID
 * @user_data: for @func
 *
 * Receives, parsed, every message of @call_id that any agent sends or
 * receives from now on, and first those of the last seconds (a dialog
 * learns its Call-ID from the first message it gets, after Sofia answered
 * or sent some). Sofia does not log a retransmission again when the same
 * message was the last one logged on its transport.
 *
 * Returns: an id for hark_sip_wire_unwatch()
 */
guint
hark_sip_wire_watch (const char      *call_id,
                     HarkSipWireFunc  func,
                     gpointer         user_data)
{
  GQueue *replay;
  WireMessage *message;
  WireWatch *watch;
  GPtrArray *watches;
  guint id;

  g_return_val_if_fail (call_id != NULL && *call_id != '\0', 0);
  g_return_val_if_fail (func != NULL, 0);

  if (wire.watches == NULL)
    {
      wire.watches = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                            (GDestroyNotify) g_ptr_array_unref);
      wire.watch_by_id = g_hash_table_new (NULL, NULL);
    }

  watch = g_new0 (WireWatch, 1);
  watch->id = id = ++wire.last_id;
  watch->call_id = g_strdup (call_id);
  watch->func = func;
  watch->user_data = user_data;

  watches = g_hash_table_lookup (wire.watches, call_id);
  if (watches == NULL)
    {
      watches = g_ptr_array_new_with_free_func (wire_watch_free);
      g_hash_table_insert (wire.watches, g_strdup (call_id), watches);
    }
  g_ptr_array_add (watches, watch);
  g_hash_table_insert (wire.watch_by_id, GUINT_TO_POINTER (id), watch);

  /* What went by before: they are this Call-ID's and nobody else's now */
  wire_ring_expire (g_get_monotonic_time ());
  replay = wire_ring_take (call_id);
  while (replay != NULL && (message = g_queue_pop_head (replay)) != NULL)
    {
      wire_deliver (message->direction, message->call_id, message->text);
      wire_message_free (message);
    }
  g_clear_pointer (&replay, g_queue_free);

  return id;
}

/**
 * hark_sip_wire_unwatch:
 * @id: what hark_sip_wire_watch() returned; 0 does nothing
 */
void
hark_sip_wire_unwatch (guint id)
{
  WireWatch *watch;
  GPtrArray *watches;

  if (id == 0 || wire.watches == NULL ||
      !g_hash_table_steal_extended (wire.watch_by_id, GUINT_TO_POINTER (id), NULL,
                                    (gpointer *) &watch))
    return;

  watches = g_hash_table_lookup (wire.watches, watch->call_id);
  if (watches->len == 1)
    g_hash_table_remove (wire.watches, watch->call_id);
  else
    g_ptr_array_remove (watches, watch);
}

/* ------------------------------------------------------------------------ */
/* Sofia on the GLib main loop                                               */

/**
 * hark_sip_root_get:
 *
 * The process-wide Sofia root, created on first use and attached to the
 * thread-default main context of that moment (the daemon's main context).
 *
 * Returns: (transfer none): the root
 */
su_root_t *
hark_sip_root_get (void)
{
  if (sip_root != NULL)
    return sip_root;

  su_init ();
  su_log_redirect (NULL, sofia_logger, NULL);

  sip_root = su_glib_root_create (NULL);
  g_assert (sip_root != NULL);

  /* By default nua_create() starts its stack in a thread of its own and
   * posts events back; keeping it on our thread makes every nua call and
   * event ordered with the rest of the main loop. */
  su_root_threading (sip_root, 0);

  sip_root_source = su_glib_root_gsource (sip_root);
  g_source_attach (sip_root_source, NULL);

  return sip_root;
}

/**
 * hark_sip_root_shutdown:
 *
 * Ends Sofia at the end of the process. Every agent must be gone; agents
 * disposed without hark_sip_agent_shutdown_async() are given a bounded time
 * to finish shutting down first.
 */
void
hark_sip_root_shutdown (void)
{
  gint64 deadline = g_get_monotonic_time () + SHUTDOWN_TIMEOUT_MS * 1000 + SHUTDOWN_GRACE_MS * 1000;

  if (sip_root == NULL)
    return;

  while (orphan_cores != NULL && g_get_monotonic_time () < deadline)
    {
      if (!g_main_context_iteration (g_source_get_context (sip_root_source), FALSE))
        g_usleep (1000);
    }

  if (orphan_cores != NULL)
    {
      g_debug ("%u Sofia stacks did not finish shutting down; leaking them",
               g_list_length (orphan_cores));
      return;
    }

  g_source_destroy (sip_root_source);
  su_root_destroy (sip_root);
  wire_clear ();
  sip_root = NULL;
  sip_root_source = NULL;
  su_deinit ();
}

/* ------------------------------------------------------------------------ */
/* Core                                                                      */

static void
handle_binding_free (gpointer data)
{
  g_free (data);
}

static Core *
core_new (HarkSipAgent *agent)
{
  Core *core = g_new0 (Core, 1);

  core->agent = agent;
  core->bindings = g_hash_table_new_full (NULL, NULL, NULL, handle_binding_free);

  return core;
}

static void
core_free (Core *core)
{
  g_clear_handle_id (&core->destroy_idle_id, g_source_remove);
  g_clear_handle_id (&core->timeout_id, g_source_remove);
  g_hash_table_unref (core->bindings);
  g_free (core);
}

static void complete_shutdown (HarkSipAgent *self, GError *error);

/* nua_destroy() must not run inside the nua callback, hence an idle */
static gboolean
core_destroy_nua_cb (gpointer user_data)
{
  Core *core = user_data;

  core->destroy_idle_id = 0;
  g_clear_handle_id (&core->timeout_id, g_source_remove);

  if (core->nua != NULL)
    {
      /* nua_destroy() frees the remaining handles itself */
      g_hash_table_remove_all (core->bindings);
      nua_destroy (core->nua);
      core->nua = NULL;
    }

  if (core->agent != NULL)
    {
      complete_shutdown (core->agent, NULL);
    }
  else
    {
      orphan_cores = g_list_remove (orphan_cores, core);
      core_free (core);
    }

  return G_SOURCE_REMOVE;
}

static void
core_destroy_all_handles (Core *core)
{
  GHashTableIter iter;
  gpointer key;

  g_hash_table_iter_init (&iter, core->bindings);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      nua_handle_destroy (key);
      g_hash_table_iter_remove (&iter);
    }
}

static gboolean
core_shutdown_timeout_cb (gpointer user_data)
{
  Core *core = user_data;

  if (!core->grace)
    {
      /* Pending un-REGISTERs and BYEs keep nua from finishing: give up on
       * them and let it close what is left. */
      g_debug ("nua shutdown slow; destroying %u handles",
               g_hash_table_size (core->bindings));
      core->grace = TRUE;
      core_destroy_all_handles (core);
      return G_SOURCE_CONTINUE;
    }

  core->timeout_id = 0;

  /* nua_destroy() refuses a nua that has not finished shutting down, so
   * it has to be leaked; the process is usually about to end anyway. */
  g_debug ("nua did not finish shutting down in time; leaking it");
  core->nua = NULL;
  g_hash_table_remove_all (core->bindings);

  if (core->agent != NULL)
    {
      complete_shutdown (core->agent, NULL);
    }
  else
    {
      orphan_cores = g_list_remove (orphan_cores, core);
      core_free (core);
    }

  return G_SOURCE_REMOVE;
}

static void
core_start_shutdown (Core *core)
{
  g_assert (core->timeout_id == 0);

  core->shutdown_started = TRUE;
  core->timeout_id = g_timeout_add (SHUTDOWN_TIMEOUT_MS, core_shutdown_timeout_cb, core);
  nua_shutdown (core->nua);
}

/* ------------------------------------------------------------------------ */
/* Event dispatch                                                            */

static gboolean
event_is_incoming_request (nua_event_t event)
{
  switch (event)
    {
    case nua_i_invite:
    case nua_i_subscribe:
    case nua_i_message:
    case nua_i_chat:
    case nua_i_options:
    case nua_i_info:
    case nua_i_refer:
    case nua_i_notify:
    case nua_i_publish:
    case nua_i_method:
    case nua_i_register:
    case nua_i_update:
    case nua_i_prack:
    case nua_i_bye:
      return TRUE;
    default:
      return FALSE;
    }
}

static void
handle_incoming_request (HarkSipAgent *self,
                         nua_t        *nua,
                         nua_event_t   event,
                         nua_handle_t *nh,
                         const sip_t  *sip)
{
  gboolean handled = FALSE;

  if (self != NULL)
    g_signal_emit (self, signals[SIGNAL_INCOMING_REQUEST], 0, (int) event, nh, sip, &handled);

  if (handled)
    return;

  g_debug ("nobody takes incoming %s", nua_event_name (event));

  /* nua answers the other methods on its own; these wait for us. Only
   * INVITE can be answered without naming the request (NUTAG_WITH). */
  if (event == nua_i_invite || event == nua_i_subscribe)
    nua_respond (nh, SIP_480_TEMPORARILY_UNAVAILABLE,
                 TAG_IF (nua != NULL, NUTAG_WITH_THIS (nua)),
                 TAG_END ());
  else if (event == nua_i_info && nua != NULL)
    /* INFO is ours to answer (NUTAG_APPL_METHOD); outside a call it has
     * no dialog to belong to. */
    nua_respond (nh, SIP_481_NO_TRANSACTION, NUTAG_WITH_THIS (nua), TAG_END ());

  nua_handle_destroy (nh);
}

static void
agent_callback (nua_event_t   event,
                int           status,
                char const   *phrase,
                nua_t        *nua,
                nua_magic_t  *magic,
                nua_handle_t *nh,
                nua_hmagic_t *hmagic,
                sip_t const  *sip,
                tagi_t        tags[])
{
  Core *core = (Core *) magic;
  HarkSipAgent *self = core->agent;
  HandleBinding *binding = NULL;

  if (phrase == NULL)
    phrase = "";

  g_debug ("nua event %s %03d %s (handle %p)", nua_event_name (event), status, phrase, nh);

  if (event == nua_r_shutdown)
    {
      if (status >= 200 && !core->shutdown_done)
        {
          core->shutdown_done = TRUE;
          if (core->destroy_idle_id == 0)
            core->destroy_idle_id = g_idle_add (core_destroy_nua_cb, core);
        }
      return;
    }

  if (nh != NULL && hmagic != NULL)
    {
      /* hmagic could outlive its binding if a handle were destroyed behind
       * our back; only trust what the table still has */
      binding = g_hash_table_lookup (core->bindings, nh);
      if (binding != (HandleBinding *) hmagic)
        binding = NULL;
    }

  if (binding != NULL)
    {
      if (self != NULL)
        binding->func (self, event, status, phrase, nh, sip, tags, binding->user_data);
      return;
    }

  if (nh != NULL && hmagic == NULL && event_is_incoming_request (event) && !core->shutdown_started)
    {
      handle_incoming_request (self, nua, event, nh, sip);
      return;
    }

  if (event == nua_i_error)
    g_debug ("nua error: %03d %s", status, phrase);
}

/* ------------------------------------------------------------------------ */
/* Setting up                                                                */

static gboolean
is_any_address (const char *address)
{
  return address == NULL || *address == '\0' || g_strcmp0 (address, "0.0.0.0") == 0;
}

/* The address other hosts reach us at: the one of the default route.
 * Connecting a UDP socket sends nothing, it only asks the kernel for the
 * route (192.0.2.0/24 etc. are documentation ranges: any global address
 * would do). */
static char *
default_route_address (void)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GInetAddress) target = NULL;
  g_autoptr(GSocketAddress) remote = NULL;
  g_autoptr(GSocketAddress) local = NULL;
  GInetAddress *inet;

  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
                         G_SOCKET_PROTOCOL_UDP, NULL);
  if (socket == NULL)
    return g_strdup ("127.0.0.1");

  target = g_inet_address_new_from_string ("203.0.113.1");
  remote = g_inet_socket_address_new (target, 9);
  if (!g_socket_connect (socket, remote, NULL, NULL))
    return g_strdup ("127.0.0.1");

  local = g_socket_get_local_address (socket, NULL);
  if (local == NULL)
    return g_strdup ("127.0.0.1");

  inet = g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (local));
  if (g_inet_address_get_is_any (inet))
    return g_strdup ("127.0.0.1");

  return g_inet_address_to_string (inet);
}

/* A free port, found by binding port 0 and letting it go again: nua has no
 * synchronous way to tell which port it picked for itself. */
static guint
probe_free_port (const char  *bind_address,
                 gboolean     stream,
                 GError     **error)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GInetAddress) inet = NULL;
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GSocketAddress) bound = NULL;

  socket = g_socket_new (G_SOCKET_FAMILY_IPV4,
                         stream ? G_SOCKET_TYPE_STREAM : G_SOCKET_TYPE_DATAGRAM,
                         stream ? G_SOCKET_PROTOCOL_TCP : G_SOCKET_PROTOCOL_UDP,
                         error);
  if (socket == NULL)
    return 0;

  if (is_any_address (bind_address))
    inet = g_inet_address_new_any (G_SOCKET_FAMILY_IPV4);
  else
    inet = g_inet_address_new_from_string (bind_address);
  if (inet == NULL)
    {
      g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT,
                   "“%s” is not an IPv4 address", bind_address);
      return 0;
    }

  address = g_inet_socket_address_new (inet, 0);
  if (!g_socket_bind (socket, address, FALSE, error))
    return 0;

  bound = g_socket_get_local_address (socket, error);
  if (bound == NULL)
    return 0;

  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

static gboolean
port_is_free (const char *bind_address,
              guint       port,
              gboolean    stream)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GInetAddress) inet = NULL;
  g_autoptr(GSocketAddress) address = NULL;

  socket = g_socket_new (G_SOCKET_FAMILY_IPV4,
                         stream ? G_SOCKET_TYPE_STREAM : G_SOCKET_TYPE_DATAGRAM,
                         stream ? G_SOCKET_PROTOCOL_TCP : G_SOCKET_PROTOCOL_UDP,
                         NULL);
  if (socket == NULL)
    return FALSE;

  if (is_any_address (bind_address))
    inet = g_inet_address_new_any (G_SOCKET_FAMILY_IPV4);
  else
    inet = g_inet_address_new_from_string (bind_address);
  if (inet == NULL)
    return FALSE;

  address = g_inet_socket_address_new (inet, port);
  if (!g_socket_bind (socket, address, FALSE, NULL))
    return FALSE;
  /* a listening TCP socket is what conflicts with Sofia's */
  return !stream || g_socket_listen (socket, NULL);
}

static char *
make_private_dir (GError **error)
{
  const char *base = g_get_user_runtime_dir ();
  g_autofree char *tmpl = NULL;
  char *dir;

  if (base == NULL || !g_file_test (base, G_FILE_TEST_IS_DIR))
    base = g_get_tmp_dir ();

  tmpl = g_build_filename (base, "hark-sip-XXXXXX", NULL);
  /* g_mkdtemp() creates the directory with mode 0700 */
  dir = g_mkdtemp (tmpl);
  if (dir == NULL)
    {
      int saved = errno;

      g_set_error (error, HARK_ERROR, HARK_ERROR_FAILED,
                   "Cannot create a private directory for TLS in %s: %s",
                   base, g_strerror (saved));
      return NULL;
    }

  return g_steal_pointer (&tmpl);
}

/* Sofia will not start TLS without a key and certificate of its own, even
 * as a client that never shows them: a throw-away self-signed one does. */
static gboolean
write_throwaway_identity (const char  *path,
                          GError     **error)
{
  EVP_PKEY *pkey = NULL;
  X509 *x509 = NULL;
  X509_NAME *name;
  BIO *bio = NULL;
  char *data = NULL;
  long len;
  gboolean ok = FALSE;

  pkey = EVP_EC_gen ("P-256");
  if (pkey == NULL)
    goto out;

  x509 = X509_new ();
  if (x509 == NULL ||
      !X509_set_version (x509, 2) ||
      !ASN1_INTEGER_set (X509_get_serialNumber (x509), (long) (g_random_int () & 0x7fffffff)) ||
      X509_gmtime_adj (X509_getm_notBefore (x509), -3600) == NULL ||
      X509_gmtime_adj (X509_getm_notAfter (x509), 60L * 60 * 24 * 365) == NULL ||
      !X509_set_pubkey (x509, pkey))
    goto out;

  name = X509_get_subject_name (x509);
  if (!X509_NAME_add_entry_by_txt (name, "CN", MBSTRING_ASC,
                                   (const unsigned char *) "hark", -1, -1, 0) ||
      !X509_set_issuer_name (x509, name) ||
      X509_sign (x509, pkey, EVP_sha256 ()) == 0)
    goto out;

  bio = BIO_new (BIO_s_mem ());
  if (bio == NULL ||
      !PEM_write_bio_PrivateKey (bio, pkey, NULL, NULL, 0, NULL, NULL) ||
      !PEM_write_bio_X509 (bio, x509))
    goto out;

  len = BIO_get_mem_data (bio, &data);
  ok = g_file_set_contents_full (path, data, len, G_FILE_SET_CONTENTS_CONSISTENT, 0600, error);
  if (!ok)
    goto done;

out:
  if (!ok)
    g_set_error (error, HARK_ERROR, HARK_ERROR_FAILED,
                 "Cannot create a TLS client certificate with OpenSSL");
done:
  BIO_free (bio);
  X509_free (x509);
  EVP_PKEY_free (pkey);

  return ok;
}

static gboolean
write_ca_bundle (const char  *path,
                 const char  *extra_ca_file,
                 GError     **error)
{
  g_autoptr(GString) bundle = g_string_new (NULL);
  g_autofree char *system = NULL;
  gsize len;

  if (g_file_get_contents (SYSTEM_CA_BUNDLE, &system, &len, NULL))
    {
      g_string_append_len (bundle, system, len);
      g_string_append_c (bundle, '\n');
    }

  if (extra_ca_file != NULL && *extra_ca_file != '\0')
    {
      g_autofree char *extra = NULL;
      g_autoptr(GError) local_error = NULL;

      if (!g_file_get_contents (extra_ca_file, &extra, &len, &local_error))
        {
          g_set_error (error, HARK_ERROR, HARK_ERROR_FAILED,
                       "Cannot read the CA file: %s", local_error->message);
          return FALSE;
        }
      if (strstr (extra, "-----BEGIN CERTIFICATE-----") == NULL)
        {
          g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT,
                       "The CA file %s holds no PEM certificate", extra_ca_file);
          return FALSE;
        }
      g_string_append_len (bundle, extra, len);
      g_string_append_c (bundle, '\n');
    }

  if (bundle->len == 0)
    {
      g_set_error (error, HARK_ERROR, HARK_ERROR_FAILED,
                   "No trusted CA certificates: %s is missing and no CA file is set",
                   SYSTEM_CA_BUNDLE);
      return FALSE;
    }

  return g_file_set_contents_full (path, bundle->str, bundle->len,
                                   G_FILE_SET_CONTENTS_CONSISTENT, 0600, error);
}

static gboolean
prepare_tls (HarkSipAgent  *self,
             GError       **error)
{
  g_autofree char *agent_pem = NULL;

  self->cert_dir = make_private_dir (error);
  if (self->cert_dir == NULL)
    return FALSE;

  agent_pem = g_build_filename (self->cert_dir, "agent.pem", NULL);
  self->ca_bundle = g_build_filename (self->cert_dir, "cafile.pem", NULL);

  return write_throwaway_identity (agent_pem, error) &&
         write_ca_bundle (self->ca_bundle, self->ca_file, error);
}

static void
remove_cert_dir (HarkSipAgent *self)
{
  const char *names[] = { "agent.pem", "cafile.pem" };

  if (self->cert_dir == NULL)
    return;

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *path = g_build_filename (self->cert_dir, names[i], NULL);

      g_unlink (path);
    }
  g_rmdir (self->cert_dir);
  g_clear_pointer (&self->cert_dir, g_free);
}

static nua_t *
create_nua (HarkSipAgent *self,
            guint         port)
{
  gboolean tls = g_str_equal (self->transport, "tls");
  const char *host = is_any_address (self->bind_address) ? "0.0.0.0" : self->bind_address;
  g_autofree char *url = NULL;
  g_autofree char *user_agent = NULL;

  if (tls)
    url = g_strdup_printf ("sips:%s:%u", host, port);
  else
    url = g_strdup_printf ("sip:%s:%u;transport=%s", host, port, self->transport);

  if (self->user_agent != NULL && *self->user_agent != '\0')
    user_agent = g_strdup (self->user_agent);
  else
    user_agent = g_strdup ("Hark/" PACKAGE_VERSION);

  return nua_create (hark_sip_root_get (), agent_callback, (nua_magic_t *) self->core,
                     /* One transport per agent: NUTAG_URL defaults to
                      * "sip:*:*" (UDP and TCP on 5060), so a TLS agent
                      * switches it off explicitly. */
                     TAG_IF (!tls, NUTAG_URL (url)),
                     TAG_IF (tls, NUTAG_URL (NULL)),
                     TAG_IF (tls, NUTAG_SIPS_URL (url)),
                     TAG_IF (tls, TPTAG_CERTIFICATE (self->cert_dir)),
                     /* Sofia checks the chain only; the registrar's name is
                      * checked by hark_tls_check_async() beforehand because
                      * Sofia cannot match IP-address subjectAltNames. */
                     TAG_IF (tls, TPTAG_TLS_VERIFY_POLICY (TPTLS_VERIFY_OUT)),
                     SIPTAG_USER_AGENT_STR (user_agent),
                     TAG_IF (self->outbound_proxy != NULL, NUTAG_PROXY (self->outbound_proxy)),
                     /* no-validate: nua would otherwise probe its own
                      * Contact with OPTIONS after each REGISTER and log
                      * failures when nothing answers there.
                      * no-natify: we register the Contact we built
                      * ourselves; rewriting it from the registrar's view
                      * would send a second REGISTER whenever the registrar
                      * sees us on another interface (e.g. loopback).
                      * use-rport: ask for rport so that responses over UDP
                      * find their way back through NATs.
                      * no-outbound: RFC 5626 flows need registrar support
                      * and an instance id we do not keep yet. */
                     NUTAG_OUTBOUND ("no-outbound no-validate no-natify use-rport"),
                     /* Incoming SUBSCRIBEs reach ::incoming-request instead
                      * of nua's built-in notifier, which would answer 489.
                      * INFO is answered by the call (DTMF relay), so that a
                      * pending one gets its 487 before our BYE. */
                     NUTAG_APPL_METHOD ("SUBSCRIBE, INFO"),
                     /* nua's default Allow lacks INFO: it would answer 405 */
                     NUTAG_ALLOW ("INFO"),
                     /* Log what the transports send and receive: the
                      * only copy of what nua and nta send (Dialog1.Trace,
                      * see hark_sip_wire_watch()). Per nua, whatever the
                      * TPORT_LOG environment variable says. */
                     TPTAG_LOG (1),
                     TAG_END ());
}

static gboolean
hark_sip_agent_initable_init (GInitable     *initable,
                              GCancellable  *cancellable,
                              GError       **error)
{
  HarkSipAgent *self = HARK_SIP_AGENT (initable);
  gboolean stream;
  guint port = self->requested_port;
  nua_t *nua = NULL;

  if (self->transport == NULL)
    self->transport = g_strdup ("udp");

  if (!g_str_equal (self->transport, "udp") &&
      !g_str_equal (self->transport, "tcp") &&
      !g_str_equal (self->transport, "tls"))
    {
      g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT,
                   "Unknown transport “%s” (expected udp, tcp or tls)", self->transport);
      return FALSE;
    }

  if (port > G_MAXUINT16)
    {
      g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT, "Port %u out of range", port);
      return FALSE;
    }

  if (!is_any_address (self->bind_address))
    {
      g_autoptr(GInetAddress) inet = g_inet_address_new_from_string (self->bind_address);

      if (inet == NULL || g_inet_address_get_family (inet) != G_SOCKET_FAMILY_IPV4)
        {
          g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT,
                       "“%s” is not an IPv4 address", self->bind_address);
          return FALSE;
        }
    }

  if (g_str_equal (self->transport, "tls") && !prepare_tls (self, error))
    return FALSE;

  stream = !g_str_equal (self->transport, "udp");
  self->core = core_new (self);

  if (port != 0)
    {
      /* A nua_create() that fails leaks memory inside Sofia: look first */
      if (port_is_free (self->bind_address, port, stream))
        nua = create_nua (self, port);
      if (nua == NULL && !self->port_fallback)
        {
          g_set_error (error, HARK_ERROR, HARK_ERROR_FAILED,
                       "Cannot listen for SIP on %s port %u: the port is in use or the "
                       "address is not local",
                       self->transport, port);
          return FALSE;
        }
    }

  /* nua binds its port right inside nua_create(): a free port found just
   * before is taken at once; try a few in case another process was faster. */
  for (guint attempt = 0; nua == NULL && attempt < 5; attempt++)
    {
      port = probe_free_port (self->bind_address, stream, error);
      if (port == 0)
        return FALSE;
      nua = create_nua (self, port);
    }

  if (nua == NULL)
    {
      g_set_error (error, HARK_ERROR, HARK_ERROR_FAILED,
                   "Cannot start the SIP stack on %s (%s)",
                   is_any_address (self->bind_address) ? "all addresses" : self->bind_address,
                   g_str_equal (self->transport, "tls")
                   ? "TLS setup failed"
                   : "no usable port");
      return FALSE;
    }

  self->core->nua = nua;
  self->port = port;

  if (is_any_address (self->bind_address))
    self->address = default_route_address ();
  else
    self->address = g_strdup (self->bind_address);

  if (g_str_equal (self->transport, "udp"))
    self->contact = g_strdup_printf ("sip:%s:%u", self->address, self->port);
  else
    self->contact = g_strdup_printf ("sip:%s:%u;transport=%s",
                                     self->address, self->port, self->transport);

  g_debug ("SIP agent on %s port %u, contact %s", self->transport, self->port, self->contact);

  return TRUE;
}

static void
hark_sip_agent_initable_iface_init (GInitableIface *iface)
{
  iface->init = hark_sip_agent_initable_init;
}

/* ------------------------------------------------------------------------ */
/* GObject                                                                   */

static void
hark_sip_agent_dispose (GObject *object)
{
  HarkSipAgent *self = HARK_SIP_AGENT (object);

  if (self->core != NULL)
    {
      Core *core = g_steal_pointer (&self->core);

      core->agent = NULL;

      if (core->nua == NULL)
        {
          core_free (core);
        }
      else
        {
          /* Not shut down (or still shutting down): let nua finish on its
           * own; the core outlives us until then. */
          orphan_cores = g_list_prepend (orphan_cores, core);
          if (!core->shutdown_started)
            core_start_shutdown (core);
        }
    }

  remove_cert_dir (self);

  G_OBJECT_CLASS (hark_sip_agent_parent_class)->dispose (object);
}

static void
hark_sip_agent_finalize (GObject *object)
{
  HarkSipAgent *self = HARK_SIP_AGENT (object);

  g_assert (self->shutdown_task == NULL);

  g_free (self->transport);
  g_free (self->bind_address);
  g_free (self->outbound_proxy);
  g_free (self->ca_file);
  g_free (self->user_agent);
  g_free (self->address);
  g_free (self->contact);
  g_free (self->ca_bundle);

  G_OBJECT_CLASS (hark_sip_agent_parent_class)->finalize (object);
}

static void
hark_sip_agent_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  HarkSipAgent *self = HARK_SIP_AGENT (object);

  switch (prop_id)
    {
    case PROP_TRANSPORT:
      g_value_set_string (value, self->transport);
      break;
    case PROP_BIND_ADDRESS:
      g_value_set_string (value, self->bind_address);
      break;
    case PROP_REQUESTED_PORT:
      g_value_set_uint (value, self->requested_port);
      break;
    case PROP_PORT_FALLBACK:
      g_value_set_boolean (value, self->port_fallback);
      break;
    case PROP_OUTBOUND_PROXY:
      g_value_set_string (value, self->outbound_proxy);
      break;
    case PROP_CA_FILE:
      g_value_set_string (value, self->ca_file);
      break;
    case PROP_USER_AGENT:
      g_value_set_string (value, self->user_agent);
      break;
    case PROP_PORT:
      g_value_set_uint (value, self->port);
      break;
    case PROP_CONTACT:
      g_value_set_string (value, self->contact);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static char *
dup_nonempty (const GValue *value)
{
  const char *str = g_value_get_string (value);

  return (str != NULL && *str != '\0') ? g_strdup (str) : NULL;
}

static void
hark_sip_agent_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  HarkSipAgent *self = HARK_SIP_AGENT (object);

  switch (prop_id)
    {
    case PROP_TRANSPORT:
      g_free (self->transport);
      self->transport = g_ascii_strdown (g_value_get_string (value) ?: "udp", -1);
      break;
    case PROP_BIND_ADDRESS:
      g_free (self->bind_address);
      self->bind_address = dup_nonempty (value);
      break;
    case PROP_REQUESTED_PORT:
      self->requested_port = g_value_get_uint (value);
      break;
    case PROP_PORT_FALLBACK:
      self->port_fallback = g_value_get_boolean (value);
      break;
    case PROP_OUTBOUND_PROXY:
      g_free (self->outbound_proxy);
      self->outbound_proxy = dup_nonempty (value);
      break;
    case PROP_CA_FILE:
      g_free (self->ca_file);
      self->ca_file = dup_nonempty (value);
      break;
    case PROP_USER_AGENT:
      g_free (self->user_agent);
      self->user_agent = dup_nonempty (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hark_sip_agent_class_init (HarkSipAgentClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = hark_sip_agent_dispose;
  object_class->finalize = hark_sip_agent_finalize;
  object_class->get_property = hark_sip_agent_get_property;
  object_class->set_property = hark_sip_agent_set_property;

  properties[PROP_TRANSPORT] =
    g_param_spec_string ("transport", NULL, NULL, "udp",
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                         G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_BIND_ADDRESS] =
    g_param_spec_string ("bind-address", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                         G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_REQUESTED_PORT] =
    g_param_spec_uint ("requested-port", NULL, NULL, 0, G_MAXUINT16, 0,
                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                       G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_PORT_FALLBACK] =
    g_param_spec_boolean ("port-fallback", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                          G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_OUTBOUND_PROXY] =
    g_param_spec_string ("outbound-proxy", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                         G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_CA_FILE] =
    g_param_spec_string ("ca-file", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                         G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_USER_AGENT] =
    g_param_spec_string ("user-agent", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                         G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  /**
   * HarkSipAgent:port:
   *
   * The local port actually bound; known as soon as the agent exists.
   */
  properties[PROP_PORT] =
    g_param_spec_uint ("port", NULL, NULL, 0, G_MAXUINT16, 0,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  /**
   * HarkSipAgent:contact:
   *
   * "sip:<address>:<port>[;transport=…]" without a user part.
   */
  properties[PROP_CONTACT] =
    g_param_spec_string ("contact", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * HarkSipAgent::incoming-request:
   * @self: the agent
   * @event: the #nua_event_t (nua_i_invite, nua_i_subscribe, …)
   * @nh: (type gpointer): the new nua handle
   * @sip: (type gpointer) (nullable): the request
   *
   * A request that belongs to no handle of ours. A handler that takes it
   * binds @nh with hark_sip_agent_bind_handle() (or answers and destroys
   * it) and returns %TRUE. Answers to anything but INVITE must name the
   * request: nua_respond (nh, …, NUTAG_WITH_THIS (nua), …) while still in
   * the handler, NUTAG_WITH_SAVED() later. Unhandled INVITEs and SUBSCRIBEs are answered
   * 480 Temporarily Unavailable.
   *
   * Returns: %TRUE if handled
   */
  signals[SIGNAL_INCOMING_REQUEST] =
    g_signal_new ("incoming-request",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0,
                  g_signal_accumulator_true_handled, NULL,
                  NULL,
                  G_TYPE_BOOLEAN, 3, G_TYPE_INT, G_TYPE_POINTER, G_TYPE_POINTER);

  /**
   * HarkSipAgent::shutdown:
   *
   * The agent is about to shut nua down: users must forget (not destroy)
   * their handles, which nua ends on its own (un-REGISTER, BYE…) and frees.
   */
  signals[SIGNAL_SHUTDOWN] =
    g_signal_new ("shutdown",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);
}

static void
hark_sip_agent_init (HarkSipAgent *self)
{
  self->transport = g_strdup ("udp");
}

/* ------------------------------------------------------------------------ */
/* Public API                                                                */

/**
 * hark_sip_agent_new:
 * @config: the agent's configuration
 * @error: return location for a #GError
 *
 * Creates a nua bound to one transport. Fails with %HARK_ERROR_FAILED when
 * the port is in use or TLS cannot be set up.
 *
 * Returns: (transfer full) (nullable): a new agent
 */
HarkSipAgent *
hark_sip_agent_new (const HarkSipAgentConfig  *config,
                    GError                   **error)
{
  g_return_val_if_fail (config != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return g_initable_new (HARK_TYPE_SIP_AGENT, NULL, error,
                         "transport", config->transport ? config->transport : "udp",
                         "bind-address", config->bind_address,
                         "requested-port", config->port,
                         "port-fallback", config->port_fallback,
                         "outbound-proxy", config->outbound_proxy,
                         "ca-file", config->ca_file,
                         "user-agent", config->user_agent,
                         NULL);
}

/**
 * hark_sip_agent_get_nua:
 *
 * Returns: (transfer none) (nullable): the nua, %NULL once shut down
 */
nua_t *
hark_sip_agent_get_nua (HarkSipAgent *self)
{
  g_return_val_if_fail (HARK_IS_SIP_AGENT (self), NULL);

  if (self->core == NULL || self->core->shutdown_started)
    return NULL;

  return self->core->nua;
}

const char *
hark_sip_agent_get_transport (HarkSipAgent *self)
{
  g_return_val_if_fail (HARK_IS_SIP_AGENT (self), NULL);

  return self->transport;
}

guint
hark_sip_agent_get_port (HarkSipAgent *self)
{
  g_return_val_if_fail (HARK_IS_SIP_AGENT (self), 0);

  return self->port;
}

/**
 * hark_sip_agent_get_address:
 *
 * Returns: the local address put in Contact headers
 */
const char *
hark_sip_agent_get_address (HarkSipAgent *self)
{
  g_return_val_if_fail (HARK_IS_SIP_AGENT (self), NULL);

  return self->address;
}

const char *
hark_sip_agent_get_contact (HarkSipAgent *self)
{
  g_return_val_if_fail (HARK_IS_SIP_AGENT (self), NULL);

  return self->contact;
}

/**
 * hark_sip_agent_get_contact_uri:
 * @user: (nullable): user part
 *
 * Returns: (transfer full): "sip:user@address:port[;transport=tcp|tls]"
 */
char *
hark_sip_agent_get_contact_uri (HarkSipAgent *self,
                                const char   *user)
{
  g_autofree char *escaped = NULL;

  g_return_val_if_fail (HARK_IS_SIP_AGENT (self), NULL);

  if (user == NULL || *user == '\0')
    return g_strdup (self->contact);

  /* RFC 3261 user part: unreserved and a few marks stay as they are */
  escaped = g_uri_escape_string (user, "-_.!~*'()&=+$,;?/", FALSE);

  return g_strdup_printf ("sip:%s@%s", escaped, self->contact + strlen ("sip:"));
}

const char *
hark_sip_agent_get_outbound_proxy (HarkSipAgent *self)
{
  g_return_val_if_fail (HARK_IS_SIP_AGENT (self), NULL);

  return self->outbound_proxy;
}

/**
 * hark_sip_agent_get_ca_bundle:
 *
 * Returns: (nullable): the PEM file of trusted CAs (system + ca-file) for a
 *   TLS agent, %NULL otherwise
 */
const char *
hark_sip_agent_get_ca_bundle (HarkSipAgent *self)
{
  g_return_val_if_fail (HARK_IS_SIP_AGENT (self), NULL);

  return self->ca_bundle;
}

/**
 * hark_sip_get_t1x64_ms:
 *
 * For tests only, HARK_SIP_T1X64_MS (1000 to 32000) shortens the transaction
 * timeout, so that a peer that vanishes ends its call within a test's time.
 * Not a setting for users: RFC 3261 fixes the value.
 *
 * Returns: 64*T1 in milliseconds: %HARK_SIP_T1X64_MS unless a test says otherwise
 */
guint
hark_sip_get_t1x64_ms (void)
{
  return hark_env_get_ms ("HARK_SIP_T1X64_MS", 1000, HARK_SIP_T1X64_MS, HARK_SIP_T1X64_MS);
}

gboolean
hark_sip_agent_is_shut_down (HarkSipAgent *self)
{
  g_return_val_if_fail (HARK_IS_SIP_AGENT (self), TRUE);

  return self->core == NULL || self->core->shutdown_started;
}

/**
 * hark_sip_agent_create_handle:
 * @func: receives every event of the new handle
 * @user_data: for @func
 * @tag: tags for nua_handle(), ending with TAG_END()
 *
 * Returns: (transfer none) (nullable): the handle, to be destroyed with
 *   hark_sip_agent_destroy_handle(); %NULL once the agent is shutting down
 */
nua_handle_t *
hark_sip_agent_create_handle (HarkSipAgent     *self,
                              HarkSipEventFunc  func,
                              gpointer          user_data,
                              tag_type_t        tag,
                              tag_value_t       value,
                              ...)
{
  HandleBinding *binding;
  nua_handle_t *nh;
  ta_list ta;

  g_return_val_if_fail (HARK_IS_SIP_AGENT (self), NULL);
  g_return_val_if_fail (func != NULL, NULL);

  if (hark_sip_agent_is_shut_down (self))
    return NULL;

  binding = g_new0 (HandleBinding, 1);
  binding->func = func;
  binding->user_data = user_data;

  ta_start (ta, tag, value);
  nh = nua_handle (self->core->nua, (nua_hmagic_t *) binding, ta_tags (ta));
  ta_end (ta);

  if (nh == NULL)
    {
      g_free (binding);
      return NULL;
    }

  g_hash_table_insert (self->core->bindings, nh, binding);

  return nh;
}

/**
 * hark_sip_agent_bind_handle:
 * @nh: a handle nua created for an incoming request
 *
 * Routes the events of @nh to @func from now on.
 */
void
hark_sip_agent_bind_handle (HarkSipAgent     *self,
                            nua_handle_t     *nh,
                            HarkSipEventFunc  func,
                            gpointer          user_data)
{
  HandleBinding *binding;

  g_return_if_fail (HARK_IS_SIP_AGENT (self));
  g_return_if_fail (nh != NULL);
  g_return_if_fail (func != NULL);
  g_return_if_fail (self->core != NULL);

  binding = g_new0 (HandleBinding, 1);
  binding->func = func;
  binding->user_data = user_data;

  g_hash_table_replace (self->core->bindings, nh, binding);
  nua_handle_bind (nh, (nua_hmagic_t *) binding);
}

/**
 * hark_sip_agent_destroy_handle:
 * @nh: (nullable): a handle of this agent
 *
 * Destroys @nh; no event reaches its function afterwards. Safe from inside
 * that function.
 */
void
hark_sip_agent_destroy_handle (HarkSipAgent *self,
                               nua_handle_t *nh)
{
  g_return_if_fail (HARK_IS_SIP_AGENT (self));

  if (nh == NULL || self->core == NULL)
    return;

  /* Once nua is shutting down it owns the handles (it un-REGISTERs and
   * frees them); destroying one now would cut that short. */
  if (!g_hash_table_remove (self->core->bindings, nh))
    return;
  if (self->core->shutdown_started)
    return;

  nua_handle_bind (nh, NULL);
  nua_handle_destroy (nh);
}

static void
complete_shutdown (HarkSipAgent *self,
                   GError       *error)
{
  g_autoptr(GTask) task = g_steal_pointer (&self->shutdown_task);

  if (task == NULL)
    return;

  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

/**
 * hark_sip_agent_shutdown_async:
 *
 * Shuts nua down (it un-REGISTERs and ends dialogs), waits a bounded time
 * for it to finish (at most about 4 s), then destroys it. The stack goes
 * down even if @cancellable is cancelled; the result is then
 * %G_IO_ERROR_CANCELLED.
 */
void
hark_sip_agent_shutdown_async (HarkSipAgent        *self,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (HARK_IS_SIP_AGENT (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, hark_sip_agent_shutdown_async);

  if (self->core == NULL || self->core->nua == NULL)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }

  if (self->shutdown_task != NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_PENDING,
                               "The SIP agent is already shutting down");
      return;
    }

  self->shutdown_task = g_steal_pointer (&task);

  if (!self->core->shutdown_started)
    {
      /* Flag first: handles "destroyed" from ::shutdown handlers are only
       * forgotten, so that nua can still un-REGISTER them */
      self->core->shutdown_started = TRUE;
      g_signal_emit (self, signals[SIGNAL_SHUTDOWN], 0);
      core_start_shutdown (self->core);
    }
}

gboolean
hark_sip_agent_shutdown_finish (HarkSipAgent  *self,
                                GAsyncResult  *result,
                                GError       **error)
{
  g_return_val_if_fail (HARK_IS_SIP_AGENT (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == hark_sip_agent_shutdown_async,
                        FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
