/* hark-sip-agent.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>
#include <sofia-sip/nua.h>
#include <sofia-sip/su_wait.h>

G_BEGIN_DECLS

#define HARK_TYPE_SIP_AGENT (hark_sip_agent_get_type ())

G_DECLARE_FINAL_TYPE (HarkSipAgent, hark_sip_agent, HARK, SIP_AGENT, GObject)

/**
 * HarkSipAgentConfig:
 * @transport: "udp", "tcp" or "tls"; %NULL means "udp"
 * @bind_address: (nullable): local IPv4 address to bind; %NULL for all
 * @port: local port; 0 for any free port
 * @port_fallback: if @port is taken, use any free port instead of failing
 *   (the built-in local profile prefers 5060)
 * @outbound_proxy: (nullable): SIP URI every request is sent through
 * @ca_file: (nullable): extra trusted CAs (PEM) besides the system store
 * @user_agent: (nullable): User-Agent header; %NULL for "Hark/<version>"
 */
typedef struct {
  const char *transport;
  const char *bind_address;
  guint port;
  gboolean port_fallback;
  const char *outbound_proxy;
  const char *ca_file;
  const char *user_agent;
} HarkSipAgentConfig;

/**
 * HarkSipEventFunc:
 * @agent: the agent the handle belongs to
 * @event: the nua event
 * @status: status code (responses) or 0/100-ish for indications
 * @phrase: status phrase, never %NULL
 * @nh: the handle
 * @sip: (nullable): the message that caused the event
 * @tags: (nullable): the event's tags
 * @user_data: what was given to hark_sip_agent_create_handle()
 *
 * Receives every nua event of one handle.
 */
typedef void (*HarkSipEventFunc) (HarkSipAgent  *agent,
                                  nua_event_t    event,
                                  int            status,
                                  const char    *phrase,
                                  nua_handle_t  *nh,
                                  const sip_t   *sip,
                                  tagi_t         tags[],
                                  gpointer       user_data);

/**
 * HarkSipWireFunc:
 * @direction: "in" (received) or "out" (sent)
 * @sip: the message's start line and headers, parsed (no body)
 * @user_data: what was given to hark_sip_wire_watch()
 *
 * Receives a message as it went over the wire.
 */
typedef void (*HarkSipWireFunc) (const char  *direction,
                                 const sip_t *sip,
                                 gpointer     user_data);

/* RFC 3261's 64*T1: how long a transaction waits for its answer */
#define HARK_SIP_T1X64_MS 32000

su_root_t      *hark_sip_root_get              (void);
guint           hark_sip_get_t1x64_ms          (void);
guint           hark_sip_wire_watch            (const char                *call_id,
                                                HarkSipWireFunc            func,
                                                gpointer                   user_data);
void            hark_sip_wire_unwatch          (guint                      id);
void            hark_sip_root_shutdown         (void);

HarkSipAgent   *hark_sip_agent_new             (const HarkSipAgentConfig  *config,
                                                GError                   **error);

nua_t          *hark_sip_agent_get_nua         (HarkSipAgent              *self);
const char     *hark_sip_agent_get_transport   (HarkSipAgent              *self);
guint           hark_sip_agent_get_port        (HarkSipAgent              *self);
const char     *hark_sip_agent_get_address     (HarkSipAgent              *self);
const char     *hark_sip_agent_get_contact     (HarkSipAgent              *self);
char           *hark_sip_agent_get_contact_uri (HarkSipAgent              *self,
                                                const char                *user);
const char     *hark_sip_agent_get_outbound_proxy (HarkSipAgent           *self);
const char     *hark_sip_agent_get_ca_bundle   (HarkSipAgent              *self);
gboolean        hark_sip_agent_is_shut_down    (HarkSipAgent              *self);

nua_handle_t   *hark_sip_agent_create_handle   (HarkSipAgent              *self,
                                                HarkSipEventFunc           func,
                                                gpointer                   user_data,
                                                tag_type_t                 tag,
                                                tag_value_t                value,
                                                ...);
void            hark_sip_agent_bind_handle     (HarkSipAgent              *self,
                                                nua_handle_t              *nh,
                                                HarkSipEventFunc           func,
                                                gpointer                   user_data);
void            hark_sip_agent_destroy_handle  (HarkSipAgent              *self,
                                                nua_handle_t              *nh);

void            hark_sip_agent_shutdown_async  (HarkSipAgent              *self,
                                                GCancellable              *cancellable,
                                                GAsyncReadyCallback        callback,
                                                gpointer                   user_data);
gboolean        hark_sip_agent_shutdown_finish (HarkSipAgent              *self,
                                                GAsyncResult              *result,
                                                GError                   **error);

G_END_DECLS
