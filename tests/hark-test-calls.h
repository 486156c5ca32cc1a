/* hark-test-calls.h
 *
 * What the call tests watch on the bus: the states a Call1 went through,
 * the SIP messages of its Dialog1 (Trace), the calls that came in
 * (IncomingCall), and waits on them.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "hark-test-bus.h"

G_BEGIN_DECLS

/**
 * HarkTestCalls:
 * @bus: the bus watched (not owned)
 * @states: (element-type utf8): State values seen in PropertiesChanged of
 *   the proxies of hark_test_calls_get_call()
 * @traces: (element-type utf8): "in|out start line" of each Dialog1.Trace of
 *   the proxies of hark_test_calls_get_dialog()
 * @trace_times: (element-type gint64): g_get_monotonic_time() of each trace
 * @incoming: (nullable): the path of the last IncomingCall, once
 *   hark_test_calls_watch_incoming() was called
 * @incomings: (element-type utf8): the path of every IncomingCall
 *
 * A watcher of calls, usually a member of the test's fixture. The proxies
 * it made must not outlive it (they hold it as signal data).
 */
typedef struct {
  HarkTestBus *bus;
  GPtrArray   *states;
  GPtrArray   *traces;
  GArray      *trace_times;
  char        *incoming;
  GPtrArray   *incomings;
} HarkTestCalls;

void             hark_test_calls_init                    (HarkTestCalls      *self,
                                                          HarkTestBus        *bus);
void             hark_test_calls_clear                   (HarkTestCalls      *self);

HarkDBusCall1   *hark_test_calls_get_call                (HarkTestCalls      *self,
                                                          const char         *path);
HarkDBusDialog1 *hark_test_calls_get_dialog              (HarkTestCalls      *self,
                                                          HarkDBusCall1      *call);
char            *hark_test_calls_dial                    (HarkTestBus        *bus,
                                                          const char         *profile,
                                                          const char         *uri,
                                                          GVariant           *options,
                                                          GError            **error);
HarkDBusCall1   *hark_test_calls_dial_sipp               (HarkTestCalls      *self,
                                                          const char         *scenario,
                                                          HarkTestProcess   **out_sipp,
                                                          char              **out_path);

void             hark_test_calls_watch_incoming          (HarkTestCalls      *self);
HarkDBusCall1   *hark_test_calls_wait_incoming           (HarkTestCalls      *self);
HarkDBusCall1   *hark_test_calls_sipp_calls_in           (HarkTestCalls      *self,
                                                          const char         *scenario,
                                                          HarkTestProcess   **out_sipp);

gboolean         hark_test_calls_states_contain_in_order (GPtrArray          *states,
                                                          const char * const *expected);
char            *hark_test_calls_describe_states         (GPtrArray          *states);
gboolean         hark_test_calls_traces_contain          (GPtrArray          *traces,
                                                          const char         *prefix);
gssize           hark_test_calls_trace_index             (GPtrArray          *traces,
                                                          const char         *prefix);

void             hark_test_calls_assert_leaves_bus       (HarkTestBus        *bus,
                                                          const char         *path);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HarkDBusCall1, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HarkDBusDialog1, g_object_unref)

G_END_DECLS
