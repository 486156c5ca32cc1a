/* hark-test-sipp.h
 *
 * SIPp peers of the D-Bus tests: one scenario of tests/sipp/ at a time, on a
 * free loopback port, its messages and output in the test bus's temp dir,
 * and the local profile of hark-daemon (the one SIPp calls or subscribes
 * to).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "hark-test-bus.h"

G_BEGIN_DECLS

/**
 * HarkTestSippOptions:
 * @address: (nullable): the address SIPp binds (-i); %NULL for 127.0.0.1
 * @service: (nullable): the user a UAC asks for (-s); %NULL for "hark"
 * @timeout_s: SIPp's own overall timeout (-timeout); 0 for 20 s
 * @keys: (nullable) (array zero-terminated=1): "-key" name, value pairs:
 *   name, value, name, value, …, %NULL
 * @name: (nullable): the name of its files in the temp dir, when two SIPps
 *   play one scenario; %NULL for the scenario's. hark_test_sipp_assert_passed()
 *   then takes this name.
 *
 * The knobs of hark_test_sipp_start_full(); a zeroed struct gives the
 * arguments of hark_test_sipp_start().
 */
typedef struct {
  const char         *address;
  const char         *service;
  guint               timeout_s;
  const char * const *keys;
  const char         *name;
} HarkTestSippOptions;

gboolean         hark_test_sipp_found                  (void);
char            *hark_test_sipp_scenario_path          (const char                *scenario);

HarkTestProcess *hark_test_sipp_start                  (HarkTestBus               *bus,
                                                        const char                *scenario,
                                                        guint                      target_port,
                                                        guint                     *out_port);
HarkTestProcess *hark_test_sipp_start_full             (HarkTestBus               *bus,
                                                        const char                *scenario,
                                                        guint                      target_port,
                                                        const HarkTestSippOptions *options,
                                                        guint                     *out_port);

void             hark_test_sipp_assert_passed          (HarkTestBus               *bus,
                                                        HarkTestProcess           *sipp,
                                                        const char                *scenario);
void             hark_test_sipp_assert_passed_full     (HarkTestBus               *bus,
                                                        HarkTestProcess           *sipp,
                                                        const char                *scenario,
                                                        guint                      timeout_ms);
char            *hark_test_sipp_read_messages          (HarkTestBus               *bus,
                                                        const char                *scenario);

guint            hark_test_sipp_get_local_profile_port (HarkTestBus               *bus);
char            *hark_test_sipp_dup_local_profile_path (HarkTestBus               *bus);

G_END_DECLS
